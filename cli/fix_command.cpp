// rdnsctl fix --run ID: turns an audit's failing IPv4 addresses into a
// desired-state CSV for review (docs/provisioning.md). It only reads the run
// and asks DNS; nothing is written to the cloud until `ptr plan` and `apply`.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <audit/lookup.hpp>
#include <audit/vocabulary.hpp>
#include <provision/ptr_client.hpp>
#include <util/ascii.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>
#include <util/output_file.hpp>

#include "commands.hpp"
#include "number_option.hpp"
#include "stored_text.hpp"

namespace rdns::cli {
namespace {

struct FixOptions {
  std::string run;
  std::string db;
  std::string output;
  std::vector<std::string> resolvers;
  double timeout = 1.0;
  std::optional<int> ttl;
};

/// A name that might be the IP's canonical one, and why it is a candidate.
struct Candidate {
  std::string name;
  std::string why;
};

std::string lower(std::string text) {
  text = ascii_lower(std::move(text));
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

/// The names the audit tied to the address, best first: the MX hosts (or
/// implicit-MX domains) it was found through, the HELO/EHLO names its SMTP
/// server gave, then its current PTR names.
std::vector<Candidate> candidates(const db::ResultRecord& result) {
  std::vector<Candidate> out;
  std::set<std::string> seen;
  auto add = [&](const std::string& name, std::string why) {
    if (name.empty() || !seen.insert(lower(name)).second) return;
    out.push_back({lower(name), std::move(why)});
  };
  for (const auto& source : result.sources) {
    add(source.expected, fmt::format("{} of {}", source.via, source.domain));
  }
  if (result.smtp) {
    add(result.smtp->greeting_name, "the name its SMTP server greets with");
    add(result.smtp->ehlo_name, "the name its SMTP server answers EHLO with");
  }
  for (const auto& name : result.ptr) add(name, "its current PTR name");
  return out;
}

/// The findings a new PTR fixes, as the vocabulary says.
std::string codes_of(const db::ResultRecord& result) {
  std::string codes;
  for (const auto& finding : result.findings) {
    const audit::CodeEntry* entry = audit::find_code(finding.code);
    if (entry == nullptr || !entry->needs_new_ptr) continue;
    codes += (codes.empty() ? "" : ", ") + finding.code;
  }
  return codes.empty() ? std::string(status_name(Status::fail)) : codes;
}

}  // namespace

void add_fix_command(CLI::App& app, Context& context) {
  auto options = std::make_shared<FixOptions>();
  CLI::App* fix = app.add_subcommand(
      "fix", "Propose PTR names for an audit's failing IPv4 addresses as a desired-state CSV");
  fix->add_option("--run", options->run, "Audit run ID, or latest")->required();
  add_database_option(*fix, options->db);
  fix->add_option("-o,--output", options->output, "Write the CSV here (default: stdout)")
      ->type_name("FILE");
  fix->add_option("--resolver", options->resolvers,
                  "Recursive resolver IP[:PORT] to check A records; repeatable (default: "
                  "resolv.conf)")
      ->type_name("ADDR")
      ->allow_extra_args(false);
  fix->add_option("--timeout", options->timeout, "Seconds per DNS try")
      ->default_val(1.0)
      ->check(try_seconds());
  fix->add_option("--ttl", options->ttl,
                  "TTL column for every proposal (default: none, the plan uses the A record's)")
      ->check(whole_number_range(1, 86400));
  Context* ctx = &context;
  fix->callback([options, ctx] {
    db::Database database = open_existing(options->db);
    const std::int64_t run = resolve_run(database, options->run);
    audit::AuditOptions dns_options;
    dns_options.resolvers = options->resolvers;
    dns_options.timeout = std::chrono::milliseconds(static_cast<long>(options->timeout * 1000));
    dns_options.retries = 2;
    audit::LookupClient dns(dns_options);

    std::string csv = fmt::format(
        "# rdnsctl fix --run {}: proposed PTR names, for review (ip,name[,ttl]; see "
        "docs/provisioning.md)\n# then: rdnsctl ptr plan THIS_FILE -o plan.json\n",
        run);
    std::vector<std::string> unfixable;
    int proposed = 0;
    // Only the failing results are kept: a run may hold a million addresses.
    std::vector<db::ResultRecord> failing;
    database.visit_results(run, [&](const db::ResultRecord& result) {
      if (result.status == Status::fail) failing.push_back(result);
    });
    for (const auto& result : failing) {
      const std::string ip = shown_stored(result.ip);
      if (result.family != "ipv4") {
        unfixable.push_back(ip + ": IPv6; the cloud's PTR records are IPv4 only");
        continue;
      }
      std::optional<Candidate> chosen;
      std::vector<std::string> tried;
      for (const auto& candidate : candidates(result)) {
        if (!provision::is_valid_ptr_value(candidate.name)) {
          tried.push_back(shown_stored(candidate.name) + " (not a host name)");
          continue;
        }
        const auto answer = dns.ask(candidate.name, audit::LookupType::a);
        if (std::find(answer.values.begin(), answer.values.end(), result.ip) !=
            answer.values.end()) {
          chosen = candidate;
          break;
        }
        tried.push_back(shown_stored(candidate.name) +
                        (answer.outcome == audit::LookupAnswer::Outcome::failed
                             ? " (DNS failed: " + answer.failure + ")"
                             : " (its A record does not hold the IP)"));
      }
      if (!chosen) {
        std::string tried_text;
        for (const auto& name : tried) tried_text += (tried_text.empty() ? "" : ", ") + name;
        unfixable.push_back(
            tried.empty()
                ? ip + ": no name is known for it (no MX host, HELO name or PTR); publish an A "
                       "record for the server's name and add ip,name by hand"
                : ip + ": no candidate name resolves to it; tried " + tried_text);
        continue;
      }
      csv += fmt::format("# {}: {}; {} is {} and its A record holds the IP\n", ip,
                         shown_stored(codes_of(result)), shown_stored(chosen->name),
                         shown_stored(chosen->why));
      csv += ip + "," + shown_stored(chosen->name) +
             (options->ttl ? fmt::format(",{}", *options->ttl) : std::string()) + "\n";
      ++proposed;
    }
    for (const auto& line : unfixable) {
      csv += "# cannot fix " + line + "\n";
      std::fprintf(stderr, "rdnsctl: cannot fix %s\n", line.c_str());
    }
    if (options->output.empty()) {
      std::fputs(csv.c_str(), stdout);
    } else {
      write_output_file(options->output, csv, "the proposals");
      std::printf("%d proposed, %zu cannot be fixed automatically: %s\n", proposed,
                  unfixable.size(), escape_text(options->output).c_str());
    }
    ctx->exit_code = unfixable.empty() ? kExitOk : kExitFindings;
  });
}

}  // namespace rdns::cli
