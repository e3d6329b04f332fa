#include "codec.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <util/error.hpp>
#include <util/escape.hpp>
#include <util/ipv4_text.hpp>
#include <util/json_writer.hpp>
#include <util/verdict.hpp>

#include "stored_json.hpp"

namespace rdns::db::detail {
namespace {

using nlohmann::json;
using rdns::JsonWriter;

// Strings reaching here should be escaped ASCII already; invalid UTF-8,
// which JSON cannot carry, means a caller skipped the escaping.
std::string json_text(const json& value, std::string_view what, const std::string& ip) {
  try {
    return value.dump();
  } catch (const json::exception& error) {
    throw Error(Errc::internal, fmt::format("cannot store {} of {}: {}", what, ip, error.what()));
  }
}

std::string forward_text(const std::vector<ForwardRecord>& forward, const std::string& ip) {
  if (forward.empty()) return "[]";
  JsonWriter out("the forward names", ip);
  std::size_t bytes = 2;
  for (const ForwardRecord& entry : forward) {
    bytes += entry.name.size() + 30;
    for (const std::string& address : entry.addresses) bytes += address.size() + 3;
  }
  out.reserve(bytes).raw("[");
  for (std::size_t i = 0; i < forward.size(); ++i) {
    if (i > 0) out.raw(",");
    out.raw("{").key("name").string(forward[i].name).raw(",").key("addresses");
    out.strings(forward[i].addresses).raw("}");
  }
  return out.raw("]").take();
}

std::string sources_text(const std::vector<SourceRecord>& sources, const std::string& ip) {
  if (sources.empty()) return "[]";
  JsonWriter out("the sources", ip);
  std::size_t bytes = 2;
  for (const SourceRecord& source : sources) {
    bytes += source.domain.size() + source.via.size() + source.expected.size() + 40;
  }
  out.reserve(bytes).raw("[");
  for (std::size_t i = 0; i < sources.size(); ++i) {
    if (i > 0) out.raw(",");
    out.raw("{").key("domain").string(sources[i].domain).raw(",").key("via");
    out.string(sources[i].via).raw(",").key("expected").string(sources[i].expected).raw("}");
  }
  return out.raw("]").take();
}

std::optional<std::string> smtp_text(const std::optional<SmtpRecord>& smtp, const std::string& ip) {
  if (!smtp) return std::nullopt;
  JsonWriter out("the SMTP names", ip);
  out.reserve(smtp->greeting_name.size() + smtp->ehlo_name.size() + smtp->failure.size() + 80);
  out.raw("{").key("greeted").raw(smtp->greeted ? "true" : "false").raw(",");
  out.key("greeting_name").string(smtp->greeting_name).raw(",");
  out.key("ehlo_name").string(smtp->ehlo_name).raw(",");
  out.key("failure").string(smtp->failure).raw("}");
  return out.take();
}

std::string findings_text(const std::vector<FindingRecord>& findings, const std::string& ip) {
  if (findings.empty()) return "[]";
  JsonWriter out("the findings", ip);
  std::size_t bytes = 2;
  for (const FindingRecord& finding : findings) {
    bytes += finding.code.size() + finding.detail.size() + 50;
  }
  out.reserve(bytes).raw("[");
  for (std::size_t i = 0; i < findings.size(); ++i) {
    const FindingRecord& finding = findings[i];
    if (i > 0) out.raw(",");
    out.raw("{").key("code").string(finding.code).raw(",").key("severity");
    out.string(severity_name(finding.severity)).raw(",").key("detail").string(finding.detail);
    out.raw("}");
  }
  return out.raw("]").take();
}

std::vector<std::string> parse_strings(std::string_view text) {
  JsonReader reader(text);
  std::vector<std::string> out = reader.strings();
  reader.finish();
  return out;
}

std::vector<ForwardRecord> parse_forward(std::string_view text) {
  static constexpr std::array<std::string_view, 2> kKeys = {"name", "addresses"};
  return read_objects<ForwardRecord>(
      text, kKeys, [](std::string_view key, JsonReader& reader, ForwardRecord& entry) {
        const int index = key_index(key, kKeys);
        if (index == 0) entry.name = reader.string();
        if (index == 1) entry.addresses = reader.strings();
        return index;
      });
}

std::vector<SourceRecord> parse_sources(std::string_view text) {
  static constexpr std::array<std::string_view, 3> kKeys = {"domain", "via", "expected"};
  return read_objects<SourceRecord>(
      text, kKeys, [](std::string_view key, JsonReader& reader, SourceRecord& entry) {
        const int index = key_index(key, kKeys);
        if (index >= 0) {
          std::string& field = index == 0 ? entry.domain : index == 1 ? entry.via : entry.expected;
          field = reader.string();
        }
        return index;
      });
}

/// The findings of a stored result; `severity_of` turns a stored severity
/// name into the enum (or refuses it, naming the database).
template <typename SeverityOf>
std::vector<FindingRecord> parse_findings(std::string_view text, const SeverityOf& severity_of) {
  static constexpr std::array<std::string_view, 3> kKeys = {"code", "severity", "detail"};
  return read_objects<FindingRecord>(
      text, kKeys, [&](std::string_view key, JsonReader& reader, FindingRecord& entry) {
        const int index = key_index(key, kKeys);
        if (index == 0) entry.code = reader.string();
        if (index == 1) entry.severity = severity_of(reader.string());
        if (index == 2) entry.detail = reader.string();
        return index;
      });
}

SmtpRecord parse_smtp(std::string_view text) {
  static constexpr std::array<std::string_view, 4> kKeys = {"greeted", "greeting_name", "ehlo_name",
                                                            "failure"};
  SmtpRecord smtp;
  unsigned seen = 0;
  JsonReader reader(text);
  reader.object([&](std::string_view key) {
    const int index = key_index(key, kKeys);
    if (index < 0) return false;
    seen |= 1u << index;
    if (index == 0) smtp.greeted = reader.boolean();
    if (index > 0) {
      std::string& field = index == 1   ? smtp.greeting_name
                           : index == 2 ? smtp.ehlo_name
                                        : smtp.failure;
      field = reader.string();
    }
    return true;
  });
  reader.finish();
  if (seen != 0xF) JsonReader::fail("the SMTP record lacks a member");
  return smtp;
}

constexpr std::array<RunState, 4> kRunStates = {RunState::running, RunState::complete,
                                                RunState::interrupted, RunState::failed};

std::optional<RunState> parse_run_state(std::string_view text) {
  for (const RunState state : kRunStates) {
    if (to_string(state) == text) {
      return state;
    }
  }
  return std::nullopt;
}

}  // namespace

ParsedAddress parse_address(const std::string& ip) {
  ParsedAddress parsed;
  if (inet_pton(AF_INET, ip.c_str(), parsed.bytes.data()) == 1) {
    parsed.family = "ipv4";
    parsed.size = 4;
    parsed.canonical = ipv4_text(parsed.bytes.data());
    return parsed;
  }
  if (inet_pton(AF_INET6, ip.c_str(), parsed.bytes.data()) != 1) {
    throw Error(Errc::internal, fmt::format("cannot store result: '{}' is not an IP address", ip));
  }
  parsed.family = "ipv6";
  parsed.size = 16;
  std::array<char, INET6_ADDRSTRLEN> text{};
  inet_ntop(AF_INET6, parsed.bytes.data(), text.data(), text.size());
  parsed.canonical = text.data();
  return parsed;
}

std::string resolvers_json(const std::vector<std::string>& resolvers) {
  return json_text(resolvers, "the resolver list", "a run");
}

EncodedResult encode_result(const ResultRecord& result) {
  EncodedResult encoded;
  encoded.address = parse_address(result.ip);
  if (encoded.address.family != result.family) {
    throw Error(Errc::internal, fmt::format("cannot store result: {} is {}, not {}", result.ip,
                                            encoded.address.family, result.family));
  }
  encoded.status = status_name(result.status);
  return encoded;
}

}  // namespace rdns::db::detail

namespace rdns::db {

ResultJson result_json(const ResultRecord& result) {
  ResultJson encoded;
  encoded.ptr = JsonWriter("the PTR names", result.ip).strings(result.ptr).take();
  encoded.forward = detail::forward_text(result.forward, result.ip);
  encoded.sources = detail::sources_text(result.sources, result.ip);
  encoded.findings = detail::findings_text(result.findings, result.ip);
  encoded.smtp = detail::smtp_text(result.smtp, result.ip);
  return encoded;
}

}  // namespace rdns::db

namespace rdns::db::detail {

void Decoder::damaged(std::int64_t run_id, std::string_view what) const {
  throw Error(Errc::database,
              fmt::format("database {}: run {} is damaged: {}", database_, run_id, what));
}

Status Decoder::status(const std::string& text, std::int64_t run_id, const std::string& ip) const {
  const std::optional<Status> parsed = parse_status(text);
  if (!parsed)
    damaged(run_id, fmt::format("result for {}: unknown status '{}'", ip, escape_text(text)));
  return *parsed;
}

Severity Decoder::domain_severity(const std::string& text, std::int64_t run_id,
                                  const std::string& domain) const {
  const std::optional<Severity> parsed = parse_severity(text);
  if (!parsed) {
    damaged(run_id, fmt::format("a finding of domain {}: unknown severity '{}'",
                                escape_text(domain), escape_text(text)));
  }
  return *parsed;
}

ResultRecord Decoder::result(const StoredResult& stored, std::int64_t run_id) const {
  ResultRecord result;
  result.ip = stored.ip;
  result.family = stored.family;
  result.status = status(stored.status, run_id, result.ip);
  const auto severity_of = [&](const std::string& text) {
    const std::optional<Severity> parsed = parse_severity(text);
    if (!parsed) {
      damaged(run_id,
              fmt::format("a finding of {}: unknown severity '{}'", result.ip, escape_text(text)));
    }
    return *parsed;
  };
  try {
    result.ptr = parse_strings(stored.ptr);
    result.forward = parse_forward(stored.forward);
    result.sources = parse_sources(stored.sources);
    result.findings = parse_findings(stored.findings, severity_of);
    if (stored.smtp) result.smtp = parse_smtp(*stored.smtp);
  } catch (const StoredJsonError& error) {
    damaged(run_id, fmt::format("result for {}: {}", result.ip, error.what()));
  }
  return result;
}

ShardProgress Decoder::shard(StoredShard stored, std::int64_t run_id) const {
  ShardProgress shard;
  shard.index = stored.index;
  shard.count = stored.count;
  const std::optional<RunState> state = parse_run_state(stored.state);
  if (!state) {
    damaged(run_id,
            fmt::format("shard {}: unknown state '{}'", stored.index, escape_text(stored.state)));
  }
  shard.state = *state;
  shard.started_at = std::move(stored.started_at);
  shard.finished_at = std::move(stored.finished_at);
  shard.counts = stored.counts;
  shard.attempts = stored.attempts;
  return shard;
}

Error different_shard_count(std::string_view name, std::int64_t run_id, std::int64_t stored,
                            const RunShard& given) {
  return Error(Errc::usage,
               fmt::format("run '{}' (run {}) has {} shards, not {}: shard {}/{} cannot join it "
                           "(give --shard K/{} or another --run-name)",
                           escape_text(name), run_id, stored, given.count, given.index, given.count,
                           stored));
}

RunInfo Decoder::run(StoredRun stored) const {
  RunInfo run;
  run.id = stored.id;
  run.started_at = std::move(stored.started_at);
  run.finished_at = std::move(stored.finished_at);
  const std::optional<RunState> parsed_state = parse_run_state(stored.state);
  if (!parsed_state) damaged(run.id, fmt::format("unknown state '{}'", escape_text(stored.state)));
  run.state = *parsed_state;
  run.command = std::move(stored.command);
  run.arguments_json = std::move(stored.arguments);
  try {
    run.resolvers = json::parse(stored.resolvers).get<std::vector<std::string>>();
  } catch (const json::exception& error) {
    damaged(run.id, fmt::format("resolver list: {}", error.what()));
  }
  run.tool_version = std::move(stored.tool_version);
  run.counts = stored.counts;
  run.inventory = std::move(stored.inventory);
  run.identity = std::move(stored.identity);
  run.checks = std::move(stored.checks);
  run.shard = stored.shard;
  run.name = std::move(stored.name);
  run.parts = stored.parts;
  run.parts_complete = stored.parts_complete;
  return run;
}

void validate(const PrunePolicy& policy) {
  if (!policy.keep_runs && !policy.keep_days) {
    throw Error(Errc::usage,
                "cannot prune runs: give a number of runs to keep, an age in days, or both");
  }
  if (policy.keep_runs && *policy.keep_runs < 1) {
    throw Error(Errc::usage,
                fmt::format("cannot prune runs: the number of runs to keep must be at least 1, "
                            "not {}",
                            *policy.keep_runs));
  }
  if (policy.keep_days && (*policy.keep_days < 0 || *policy.keep_days > kMaxPruneDays)) {
    throw Error(Errc::usage,
                fmt::format("cannot prune runs: the age in days must be from 0 to {}, not {}",
                            kMaxPruneDays, *policy.keep_days));
  }
}

}  // namespace rdns::db::detail
