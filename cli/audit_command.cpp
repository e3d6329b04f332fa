// rdnsctl audit: resolve and classify the reverse DNS of IPs, print the
// results and store the run.

#include <chrono>
#include <cmath>
#include <iostream>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <audit/auditor.hpp>
#include <audit/targets.hpp>
#include <db/result_writer.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>

#include "commands.hpp"
#include "output.hpp"

namespace rdns::cli {
namespace {

/// Severity threshold for exit code 1; `never` disables it.
enum class FailOn { info, warning, error, never };

struct AuditCommandOptions {
  std::vector<std::string> targets;
  std::vector<std::string> input_files;
  std::vector<std::string> resolvers;
  std::size_t concurrency = 100;
  double qps = 0;
  double timeout_seconds = 1.0;
  int retries = 3;
  std::uint64_t max_ips = 1u << 20;
  bool skip_invalid = false;
  Format format = Format::table;
  FailOn fail_on = FailOn::error;
  ColorMode color = ColorMode::automatic;
  std::string database;
  bool no_database = false;
  std::string rules;
  bool quiet = false;
};

bool reaches(const db::FindingRecord& finding, FailOn threshold) {
  switch (threshold) {
    case FailOn::never:
      return false;
    case FailOn::info:
      return true;
    case FailOn::warning:
      return finding.severity != "info";
    case FailOn::error:
      return finding.severity == "error";
  }
  return false;
}

void count(db::RunCounts& counts, const std::string& status) {
  ++counts.total;
  if (status == "pass")
    ++counts.pass;
  else if (status == "warn")
    ++counts.warn;
  else if (status == "fail")
    ++counts.fail;
  else
    ++counts.unknown;
}

audit::TargetSet collect_targets(const AuditCommandOptions& options) {
  audit::TargetSet targets(options.max_ips);
  const auto on_invalid =
      options.skip_invalid ? audit::InvalidInput::skip_with_warning : audit::InvalidInput::fail;
  const auto warn = [](const std::string& message) {
    std::fprintf(stderr, "rdnsctl: warning: %s\n", message.c_str());
  };
  bool read_stdin = false;
  for (const std::string& target : options.targets) {
    if (target == "-") {
      if (read_stdin) continue;
      read_stdin = true;
      targets.add_lines(std::cin, "stdin", on_invalid, warn);
    } else {
      const audit::ParsedRange parsed = audit::parse_range(target);
      if (!parsed.range && options.skip_invalid) {
        warn(fmt::format("argument '{}' is not an IP address or CIDR range: {} (skipped)",
                         escape_text(target), parsed.error));
        continue;
      }
      targets.add(target, "argument");
    }
  }
  for (const std::string& file : options.input_files) {
    if (file == "-") {
      if (!read_stdin) targets.add_lines(std::cin, "stdin", on_invalid, warn);
      read_stdin = true;
    } else {
      targets.add_file(file, on_invalid, warn);
    }
  }
  return targets;
}

void run_audit(const AuditCommandOptions& options, Context& context) {
  if (options.targets.empty() && options.input_files.empty()) {
    throw Error(Errc::usage, "nothing to audit: give IPs or CIDRs, -i FILE, or - for stdin");
  }
  if (!std::isfinite(options.timeout_seconds) || options.timeout_seconds <= 0) {
    throw Error(Errc::usage, "--timeout must be a positive number of seconds");
  }
  const audit::TargetSet targets = collect_targets(options);
  if (targets.empty()) throw Error(Errc::input, "no valid addresses to audit");

  audit::AuditOptions audit_options;
  audit_options.resolvers = options.resolvers;
  audit_options.timeout =
      std::chrono::milliseconds(std::max<long>(1, std::lround(options.timeout_seconds * 1000)));
  audit_options.retries = options.retries;
  audit_options.concurrency = options.concurrency;
  audit_options.qps = options.qps;
  audit::Auditor auditor(audit_options, audit::Rules::load(options.rules));

  std::optional<db::Database> database;
  std::optional<std::int64_t> run_id;
  if (!options.no_database) {
    database.emplace(db::Database::open(database_path(options.database)));
    run_id = database->begin_run("audit", nlohmann::json(context.arguments).dump(),
                                 auditor.resolvers(), RDNSCTL_VERSION);
  }
  std::optional<db::ResultWriter> writer;
  if (database) writer.emplace(*database, *run_id);

  const auto printer =
      make_printer(options.format, stdout, use_color(options.color, stdout), run_id);
  db::RunCounts counts;
  bool reached = false;
  const auto started = std::chrono::steady_clock::now();
  audit::AuditSummary summary;
  try {
    summary = auditor.run(targets, [&](audit::IpResult&& result) {
      db::ResultRecord record = audit::to_record(result);
      count(counts, record.status);
      for (const auto& finding : record.findings)
        reached = reached || reaches(finding, options.fail_on);
      printer->add(record);
      if (writer) writer->add(std::move(record));
    });
    if (writer) writer->flush();
  } catch (...) {
    if (database) {
      try {
        if (writer) writer->flush();
        database->finish_run(*run_id, db::RunState::failed, counts);
      } catch (...) {
      }
    }
    throw;
  }
  printer->finish(counts);

  const bool no_resolver_answered = summary.queries > 0 && summary.responses == 0;
  if (!options.quiet) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::fprintf(stderr,
                 "rdnsctl: audited %llu addresses with %llu queries (%llu answered) in %.2f s\n",
                 static_cast<unsigned long long>(summary.addresses),
                 static_cast<unsigned long long>(summary.queries),
                 static_cast<unsigned long long>(summary.responses), seconds);
  }
  if (database) {
    database->finish_run(
        *run_id, no_resolver_answered ? db::RunState::failed : db::RunState::complete, counts);
    std::fprintf(stderr, "rdnsctl: run %lld stored in %s\n", static_cast<long long>(*run_id),
                 escape_text(database->path().string()).c_str());
  }
  if (no_resolver_answered) {
    std::string servers;
    for (const auto& server : auditor.resolvers())
      servers += (servers.empty() ? "" : ", ") + server;
    std::fprintf(stderr, "rdnsctl: no resolver answered any of %llu queries (%s)\n",
                 static_cast<unsigned long long>(summary.queries), servers.c_str());
    context.exit_code = kExitOperational;
    return;
  }
  context.exit_code = reached ? kExitFindings : kExitOk;
}

}  // namespace

void add_audit_command(CLI::App& app, Context& context) {
  auto options = std::make_shared<AuditCommandOptions>();
  CLI::App* command =
      app.add_subcommand("audit", "Check forward-confirmed reverse DNS of IPs and CIDR ranges");
  command->add_option("targets", options->targets,
                      "IP addresses or CIDR ranges (IPv4/IPv6); '-' reads standard input");
  command
      ->add_option("-i,--input", options->input_files,
                   "File with one IP or CIDR per line ('#' comments); repeatable")
      ->allow_extra_args(false);
  command
      ->add_option("--resolver", options->resolvers,
                   "Recursive resolver IP[:PORT] or [IPv6]:PORT; repeatable (default: resolv.conf)")
      ->allow_extra_args(false);
  command->add_option("--concurrency", options->concurrency, "DNS queries in flight at most")
      ->default_val(100)
      ->check(CLI::Range(1, 10000));
  command->add_option("--qps", options->qps, "Queries per second at most (0: no cap)")
      ->default_val(0)
      ->check(CLI::Range(0.0, 1e7));
  command
      ->add_option("--timeout", options->timeout_seconds,
                   "Seconds to wait for the first try; doubled on each retry round")
      ->default_val(1.0);
  command->add_option("--retries", options->retries, "Tries after the first")
      ->default_val(3)
      ->check(CLI::Range(0, 10));
  command
      ->add_option("--max-ips", options->max_ips,
                   "Refuse to audit more addresses than this (guards against huge ranges)")
      ->default_val(1u << 20)
      ->check(CLI::PositiveNumber);
  command->add_flag("--skip-invalid", options->skip_invalid,
                    "Warn about malformed targets and go on instead of stopping");
  command->add_option("--format", options->format, "Output: table, json, jsonl or csv")
      ->transform(CLI::CheckedTransformer(std::map<std::string, Format>{{"table", Format::table},
                                                                        {"json", Format::json},
                                                                        {"jsonl", Format::jsonl},
                                                                        {"csv", Format::csv}},
                                          CLI::ignore_case))
      ->default_str("table");
  command
      ->add_option("--fail-on", options->fail_on,
                   "Exit 1 when a finding reaches this severity: error, warning, info, never")
      ->transform(
          CLI::CheckedTransformer(std::map<std::string, FailOn>{{"error", FailOn::error},
                                                                {"warning", FailOn::warning},
                                                                {"info", FailOn::info},
                                                                {"never", FailOn::never}},
                                  CLI::ignore_case))
      ->default_str("error");
  command->add_option("--color", options->color, "Colour the table: auto, always, never")
      ->transform(
          CLI::CheckedTransformer(std::map<std::string, ColorMode>{{"auto", ColorMode::automatic},
                                                                   {"always", ColorMode::always},
                                                                   {"never", ColorMode::never}},
                                  CLI::ignore_case))
      ->default_str("auto");
  add_database_option(*command, options->database);
  command->add_flag("--no-db", options->no_database, "Do not store the run");
  command->add_flag("-q,--quiet", options->quiet, "No progress or summary lines on stderr");
  command->add_option("--rules", options->rules,
                      "TOML naming rules read on top of the built-in ones (docs/rules.md)");
  command->callback([options, &context] { run_audit(*options, context); });
}

}  // namespace rdns::cli
