#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <set>
#include <string_view>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <reports/diff.hpp>
#include <util/ascii.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>

#include "common.hpp"
#include "last_verdict.hpp"

namespace rdns::reports {
namespace {

using nlohmann::json;

// DNS names compare case-insensitively: MX2.Example.COM and mx2.example.com
// are the same PTR to every receiver, so a case change is not a change.
std::set<std::string> ptr_set(const db::ResultRecord& record) {
  std::set<std::string> names;
  for (const auto& name : record.ptr) names.insert(ascii_lower(name));
  return names;
}

std::set<std::pair<std::string, std::set<std::string>>> forward_set(
    const db::ResultRecord& record) {
  std::set<std::pair<std::string, std::set<std::string>>> entries;
  for (const auto& entry : record.forward) {
    entries.emplace(ascii_lower(entry.name),
                    std::set<std::string>(entry.addresses.begin(), entry.addresses.end()));
  }
  return entries;
}

std::set<std::string> code_set(const db::ResultRecord& record) {
  std::set<std::string> codes;
  for (const auto& finding : record.findings) codes.insert(finding.code);
  return codes;
}

constexpr std::string_view kSmtpCodes[] = {"HELO_MISMATCH", "HELO_INVALID", "SMTP_UNAVAILABLE"};

bool is_smtp_code(const std::string& code) {
  return std::find(std::begin(kSmtpCodes), std::end(kSmtpCodes), code) != std::end(kSmtpCodes);
}

/// The record as a run without --smtp would have stored it: its SMTP
/// findings gone and its status judged from the rest, as the classifier
/// does (an error fails, TEMPFAIL and LAME_REVERSE leave it unknown).
db::ResultRecord without_smtp(const db::ResultRecord& record) {
  db::ResultRecord kept = record;
  std::erase_if(kept.findings, [](const db::FindingRecord& f) { return is_smtp_code(f.code); });
  if (kept.findings.size() == record.findings.size()) return kept;
  const auto has = [&](auto predicate) {
    return std::any_of(kept.findings.begin(), kept.findings.end(), predicate);
  };
  const auto dns_failed = [](const db::FindingRecord& f) {
    return f.code == "TEMPFAIL" || f.code == "LAME_REVERSE";
  };
  const auto proven_error = [&](const db::FindingRecord& f) {
    return f.severity == Severity::error && !dns_failed(f);
  };
  if (has(proven_error)) {
    kept.status = Status::fail;
  } else if (has(dns_failed)) {
    kept.status = Status::unknown;
  } else if (has([](const db::FindingRecord& f) { return f.severity == Severity::warning; })) {
    kept.status = Status::warn;
  } else {
    kept.status = Status::pass;
  }
  return kept;
}

/// A 64-bit FNV-1a over the set's items, each ended by a byte no item holds
/// (stored text is printable ASCII), so {"ab"} and {"a","b"} differ.
class SetHash {
 public:
  void add(std::string_view item) {
    for (const char c : item) mix(static_cast<unsigned char>(c));
    mix(0);
  }
  void end_group() { mix(1); }
  std::uint64_t value() const { return value_; }

 private:
  void mix(unsigned char byte) {
    value_ ^= byte;
    value_ *= 1099511628211ull;
  }
  std::uint64_t value_ = 14695981039346656037ull;
};

ResultDigest digest_of(const db::ResultRecord& record) {
  ResultDigest digest;
  digest.status = record.status;
  SetHash ptr;
  for (const auto& name : ptr_set(record)) ptr.add(name);
  digest.ptr = ptr.value();
  SetHash forward;
  for (const auto& [name, addresses] : forward_set(record)) {
    forward.add(name);
    for (const auto& address : addresses) forward.add(address);
    forward.end_group();
  }
  digest.forward = forward.value();
  SetHash codes;
  for (const auto& code : code_set(record)) codes.add(code);
  digest.codes = codes.value();
  return digest;
}

std::vector<std::string> differing_fields(const ResultDigest& a, const ResultDigest& b) {
  std::vector<std::string> fields;
  if (a.status != b.status) fields.emplace_back("status");
  if (a.ptr != b.ptr) fields.emplace_back("ptr");
  if (a.forward != b.forward) fields.emplace_back("forward");
  if (a.codes != b.codes) fields.emplace_back("codes");
  return fields;
}

/// The one classification of an address audited in both runs, from the
/// statuses and the fields that differ; none when nothing differs.
std::optional<ChangeKind> kind_of(Status before, Status after,
                                  const std::vector<std::string>& fields) {
  if (after == Status::fail && before != Status::fail) return ChangeKind::new_failure;
  if (before == Status::fail && (after == Status::pass || after == Status::warn)) {
    return ChangeKind::fixed;
  }
  if (std::find(fields.begin(), fields.end(), "ptr") != fields.end()) {
    return ChangeKind::ptr_changed;
  }
  if (!fields.empty()) return ChangeKind::changed;
  return std::nullopt;
}

/// classify() for records already masked alike.
std::optional<Change> classify(const db::ResultRecord& old, const db::ResultRecord& record) {
  Change change;
  change.ip = record.ip;
  change.fields = differing_fields(digest_of(old), digest_of(record));
  const std::optional<ChangeKind> kind = kind_of(old.status, record.status, change.fields);
  if (!kind) return std::nullopt;
  change.kind = *kind;
  change.before = old;
  change.after = record;
  return change;
}

json record_json(const db::ResultRecord& record) {
  json forward = json::array();
  for (const auto& entry : record.forward) {
    std::vector<std::string> addresses;
    for (const auto& address : entry.addresses) addresses.push_back(detail::shown(address));
    forward.push_back({{"name", detail::shown(entry.name)}, {"addresses", addresses}});
  }
  json findings = json::array();
  for (const auto& finding : record.findings) {
    findings.push_back({{"code", detail::shown(finding.code)},
                        {"severity", severity_name(finding.severity)},
                        {"detail", detail::shown(finding.detail)}});
  }
  std::vector<std::string> ptr;
  for (const auto& name : record.ptr) ptr.push_back(detail::shown(name));
  return json{{"ip", detail::shown(record.ip)},
              {"family", detail::shown(record.family)},
              {"status", status_name(record.status)},
              {"ptr", ptr},
              {"forward", forward},
              {"findings", findings}};
}

std::string plural_key(ChangeKind kind) {
  return kind == ChangeKind::new_failure ? "new_failures" : std::string(to_string(kind));
}

std::string codes_text(const std::optional<db::ResultRecord>& record) {
  if (!record) return "-";
  std::string text;
  for (const auto& code : code_set(*record)) detail::append(text, ",", code);
  return text.empty() ? "none" : detail::shown(text);
}

std::string ptr_text(const std::optional<db::ResultRecord>& record) {
  if (!record || record->ptr.empty()) return "-";
  return detail::join_ptr(*record);
}

std::string heading(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::new_failure:
      return "New failures";
    case ChangeKind::fixed:
      return "Recovered";
    case ChangeKind::ptr_changed:
      return "PTR changed";
    case ChangeKind::changed:
      return "Changed";
    case ChangeKind::appeared:
      return "Appeared (not audited before)";
    case ChangeKind::disappeared:
      return "Disappeared (not audited in the newer run)";
  }
  return "Changed";
}

/// One change as an item of diff_json's lists.
json change_json(const Change& change) {
  return {{"ip", detail::shown(change.ip)},
          {"fields", change.fields},
          {"before", change.before ? record_json(*change.before) : json(nullptr)},
          {"after", change.after ? record_json(*change.after) : json(nullptr)}};
}

/// diff_text's line of a change after its address: the statuses, codes
/// and PTR names before and after.
std::string change_tail(const Change& change) {
  const std::string_view status_before = change.before ? status_name(change.before->status) : "-";
  const std::string_view status_after = change.after ? status_name(change.after->status) : "-";
  std::string line = fmt::format("{:>7} -> {:<7}", status_before, status_after);
  const std::string codes_before = codes_text(change.before);
  const std::string codes_after = codes_text(change.after);
  line += codes_before == codes_after ? fmt::format("  codes {}", codes_after)
                                      : fmt::format("  codes {} -> {}", codes_before, codes_after);
  const std::string ptr_before = ptr_text(change.before);
  const std::string ptr_after = ptr_text(change.after);
  line += ptr_before == ptr_after || !change.before || !change.after
              ? fmt::format("  ptr {}", change.after ? ptr_after : ptr_before)
              : fmt::format("  ptr {} -> {}", ptr_before, ptr_after);
  return line;
}

/// diff_text's line of a change: the shown address padded to ip_width.
std::string change_line(std::string_view ip, std::size_t ip_width, std::string_view tail) {
  return fmt::format("  {:<{}}  {}\n", ip, ip_width, tail);
}

std::string diff_heading(const DiffCounts& counts) {
  return fmt::format(
      "run {} -> run {}: {} new failures, {} fixed, {} PTR changed, {} changed, {} appeared, {} "
      "disappeared, {} unchanged\n",
      counts.from_run, counts.to_run, counts.count(ChangeKind::new_failure),
      counts.count(ChangeKind::fixed), counts.count(ChangeKind::ptr_changed),
      counts.count(ChangeKind::changed), counts.count(ChangeKind::appeared),
      counts.count(ChangeKind::disappeared), counts.unchanged);
}

}  // namespace

std::string_view to_string(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::new_failure:
      return "new_failure";
    case ChangeKind::fixed:
      return "fixed";
    case ChangeKind::ptr_changed:
      return "ptr_changed";
    case ChangeKind::changed:
      return "changed";
    case ChangeKind::appeared:
      return "appeared";
    case ChangeKind::disappeared:
      return "disappeared";
  }
  return "changed";
}

bool Change::ptr_changed() const {
  return std::find(fields.begin(), fields.end(), "ptr") != fields.end();
}

std::size_t RunDiff::count(ChangeKind kind) const {
  return static_cast<std::size_t>(std::count_if(changes.begin(), changes.end(),
                                                [&](const Change& c) { return c.kind == kind; }));
}

RunDiff diff_runs(std::int64_t from_run, const std::vector<db::ResultRecord>& from_results,
                  std::int64_t to_run, const std::vector<db::ResultRecord>& to_results,
                  bool smtp_in_both) {
  std::vector<db::ResultRecord> masked_from;
  std::vector<db::ResultRecord> masked_to;
  if (!smtp_in_both) {
    for (const auto& record : from_results) masked_from.push_back(without_smtp(record));
    for (const auto& record : to_results) masked_to.push_back(without_smtp(record));
  }
  const std::vector<db::ResultRecord>& from = smtp_in_both ? from_results : masked_from;
  const std::vector<db::ResultRecord>& to = smtp_in_both ? to_results : masked_to;
  RunDiff diff;
  diff.from_run = from_run;
  diff.to_run = to_run;
  std::unordered_map<std::string, const db::ResultRecord*> before;
  before.reserve(from.size());
  for (const auto& record : from) before.emplace(record.ip, &record);

  for (const auto& record : to) {
    const auto found = before.find(record.ip);
    if (found == before.end()) {
      Change change;
      change.ip = record.ip;
      change.after = record;
      change.kind = record.status == Status::fail ? ChangeKind::new_failure : ChangeKind::appeared;
      diff.changes.push_back(std::move(change));
      continue;
    }
    const db::ResultRecord& old = *found->second;
    before.erase(found);
    if (std::optional<Change> moved = classify(old, record)) {
      diff.changes.push_back(std::move(*moved));
    } else {
      ++diff.unchanged;
    }
  }
  for (const auto& record : from) {
    if (!before.contains(record.ip)) continue;
    Change change;
    change.kind = ChangeKind::disappeared;
    change.ip = record.ip;
    change.before = record;
    diff.changes.push_back(std::move(change));
  }
  std::stable_sort(diff.changes.begin(), diff.changes.end(), [](const Change& a, const Change& b) {
    return detail::address_less(a.ip, b.ip);
  });
  return diff;
}

std::optional<Change> compare_address(const db::RunInfo& from, const db::ResultRecord& before,
                                      const db::RunInfo& to, const db::ResultRecord& after) {
  if (from.ran_smtp() && to.ran_smtp()) return classify(before, after);
  return classify(without_smtp(before), without_smtp(after));
}

ResultDigest comparable_digest(const db::RunInfo& from, const db::RunInfo& to,
                               const db::ResultRecord& record) {
  return from.ran_smtp() && to.ran_smtp() ? digest_of(record) : digest_of(without_smtp(record));
}

std::optional<ChangeKind> classify_digests(const ResultDigest& before, const ResultDigest& after) {
  return kind_of(before.status, after.status, differing_fields(before, after));
}

std::string_view change_label(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::new_failure:
      return "newly failing";
    case ChangeKind::fixed:
      return "recovered";
    case ChangeKind::ptr_changed:
      return "PTR changed";
    case ChangeKind::changed:
      return "changed";
    case ChangeKind::appeared:
      return "new";
    case ChangeKind::disappeared:
      return "gone";
  }
  return "changed";
}

RunDiff compare_runs(const db::RunInfo& from, const std::vector<db::ResultRecord>& from_results,
                     const db::RunInfo& to, const std::vector<db::ResultRecord>& to_results) {
  return diff_runs(from.id, from_results, to.id, to_results, from.ran_smtp() && to.ran_smtp());
}

std::optional<Comparison> compare_with_previous(db::Database& database, const db::RunInfo& run,
                                                std::span<const ChangeKind> keep) {
  std::optional<db::RunInfo> previous = database.previous_comparable_run(run.id);
  if (!previous) return std::nullopt;
  Comparison comparison{*previous, {}, {}};
  DiffCounts& counts = comparison.counts;
  counts.from_run = previous->id;
  counts.to_run = run.id;
  const auto kept = [&](ChangeKind kind) {
    return std::find(keep.begin(), keep.end(), kind) != keep.end();
  };
  const auto count = [&](ChangeKind kind) { ++counts.of_kind[static_cast<std::size_t>(kind)]; };

  std::vector<AwaitingVerdict> awaiting;
  database.visit_result_pairs(
      previous->id, run.id, [&](const db::ResultRecord* before, const db::ResultRecord* after) {
        std::optional<Change> change = change_between(*previous, before, run, after);
        if (!change) {
          ++counts.unchanged;
        } else if (awaits_verdict(*change)) {
          awaiting.push_back({change->ip, change->after->status, change->kind, std::nullopt});
        } else {
          count(change->kind);
          if (kept(change->kind)) comparison.changes.push_back(std::move(*change));
        }
      });
  if (awaiting.empty()) return comparison;

  find_last_verdicts(database, *previous, run, awaiting);
  bool read_again = false;
  for (const AwaitingVerdict& address : awaiting) {
    count(address.kind);
    read_again = read_again || kept(address.kind);
  }
  if (!read_again) return comparison;
  // Their records were not kept (after an outage that may be every address):
  // the pairs are read once more for the changes asked for, in address order.
  comparison.changes.clear();
  database.visit_result_pairs(
      previous->id, run.id, [&](const db::ResultRecord* before, const db::ResultRecord* after) {
        std::optional<Change> change = change_between(*previous, before, run, after);
        if (!change) return;
        if (awaits_verdict(*change)) {
          const AwaitingVerdict& address = awaited(awaiting, change->ip);
          change->kind = address.kind;
          change->last_verdict = address.earlier;
        }
        if (kept(change->kind)) comparison.changes.push_back(std::move(*change));
      });
  return comparison;
}

std::string diff_json(const RunDiff& diff) {
  json summary{{"unchanged", diff.unchanged}};
  json document{{"from_run", diff.from_run}, {"to_run", diff.to_run}};
  for (const ChangeKind kind : kChangeKinds) {
    summary[plural_key(kind)] = diff.count(kind);
    json list = json::array();
    for (const auto& change : diff.changes) {
      if (change.kind == kind) list.push_back(change_json(change));
    }
    document[plural_key(kind)] = std::move(list);
  }
  document["summary"] = std::move(summary);
  return document.dump(2) + "\n";
}

std::string diff_text(const RunDiff& diff) {
  DiffCounts counts{diff.from_run, diff.to_run, {}, diff.unchanged};
  for (const ChangeKind kind : kChangeKinds)
    counts.of_kind[static_cast<std::size_t>(kind)] = diff.count(kind);
  std::string out = diff_heading(counts);
  std::size_t ip_width = 2;
  for (const auto& change : diff.changes) {
    ip_width = std::max(ip_width, detail::shown(change.ip).size());
  }
  for (const ChangeKind kind : kChangeKinds) {
    if (diff.count(kind) == 0) continue;
    out += fmt::format("\n{}:\n", heading(kind));
    for (const auto& change : diff.changes) {
      if (change.kind == kind)
        out += change_line(detail::shown(change.ip), ip_width, change_tail(change));
    }
  }
  return out;
}

std::optional<Change> change_between(const db::RunInfo& from, const db::ResultRecord* before,
                                     const db::RunInfo& to, const db::ResultRecord* after) {
  if (before && after) return compare_address(from, *before, to, *after);
  const bool smtp_in_both = from.ran_smtp() && to.ran_smtp();
  const db::ResultRecord& record = before ? *before : *after;
  Change change;
  change.ip = record.ip;
  (before ? change.before : change.after) = smtp_in_both ? record : without_smtp(record);
  if (before) {
    change.kind = ChangeKind::disappeared;
  } else {
    change.kind =
        change.after->status == Status::fail ? ChangeKind::new_failure : ChangeKind::appeared;
  }
  return change;
}

namespace {

/// A temporary file that holds one kind's changes until the counts that
/// lead the output are known: under TMPDIR (or /tmp), as the audit's
/// temporary database, and unlinked at once so it goes when closed.
class Spool {
 public:
  Spool() : directory_(temporary_directory()) {
    std::string pattern = (directory_ / "rdnsctl-diff-XXXXXX").string();
    const int descriptor = mkstemp(pattern.data());
    if (descriptor < 0) fail("create");
    unlink(pattern.c_str());
    file_ = fdopen(descriptor, "w+");
    if (file_ == nullptr) {
      close(descriptor);
      fail("open");
    }
  }
  ~Spool() { std::fclose(file_); }
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  void write(std::string_view text) {
    if (std::fwrite(text.data(), 1, text.size(), file_) != text.size()) fail("write");
  }

  /// Calls each(line) for every line written, without its newline.
  template <typename Each>
  void each_line(const Each& each) {
    std::rewind(file_);
    char* line = nullptr;
    std::size_t capacity = 0;
    // getline allocates the line with malloc; it is freed however each() ends.
    const std::unique_ptr<char*, void (*)(char**)> owner(&line, [](char** held) {
      std::free(*held);  // NOLINT(cppcoreguidelines-no-malloc)
    });
    ssize_t length = 0;
    while ((length = getline(&line, &capacity, file_)) > 0) {
      each(std::string_view(line, static_cast<std::size_t>(length) - 1));
    }
    if (std::ferror(file_)) fail("read");
  }

  void copy_to(std::ostream& out) {
    std::rewind(file_);
    std::array<char, 1 << 16> buffer{};
    std::size_t got = 0;
    while ((got = std::fread(buffer.data(), 1, buffer.size(), file_)) > 0) {
      out.write(buffer.data(), static_cast<std::streamsize>(got));
    }
    if (std::ferror(file_)) fail("read");
  }

 private:
  static std::filesystem::path temporary_directory() {
    const char* set = std::getenv("TMPDIR");
    return set != nullptr && *set != '\0' ? set : "/tmp";
  }
  [[noreturn]] void fail(std::string_view action) const {
    throw Error(Errc::io, fmt::format("cannot {} a temporary file for the diff in {}: {}", action,
                                      escape_text(directory_.string()), std::strerror(errno)));
  }
  std::filesystem::path directory_;
  std::FILE* file_ = nullptr;
};

/// A JSON value as dump(2) writes it `depth` levels deep.
std::string indented_json(const json& value, int depth) {
  std::string text = value.dump(2);
  const std::string indent(static_cast<std::size_t>(depth) * 2, ' ');
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (const char c : text) {
    out += c;
    if (c == '\n') out += indent;
  }
  return out;
}

/// One spooled line of the text form: the shown address, a tab, the rest
/// of the line (shown text holds neither tab nor newline).
void spool_text(Spool& spool, const Change& change) {
  spool.write(detail::shown(change.ip));
  spool.write("\t");
  spool.write(change_tail(change));
  spool.write("\n");
}

void write_text(const DiffCounts& counts, std::size_t ip_width, std::array<Spool, 6>& spools,
                std::ostream& out) {
  out << diff_heading(counts);
  for (const ChangeKind kind : kChangeKinds) {
    if (counts.count(kind) == 0) continue;
    out << fmt::format("\n{}:\n", heading(kind));
    spools[static_cast<std::size_t>(kind)].each_line([&](std::string_view line) {
      const std::size_t tab = line.find('\t');
      out << change_line(line.substr(0, tab), ip_width, line.substr(tab + 1));
    });
  }
}

/// The document diff_json writes, with each non-empty list taken from its
/// spool: the lists stand in the dumped document as placeholders.
void write_json(const DiffCounts& counts, std::array<Spool, 6>& spools, std::ostream& out) {
  json summary{{"unchanged", counts.unchanged}};
  json document{{"from_run", counts.from_run}, {"to_run", counts.to_run}};
  for (const ChangeKind kind : kChangeKinds) {
    summary[plural_key(kind)] = counts.count(kind);
    document[plural_key(kind)] = counts.count(kind) == 0
                                     ? json::array()
                                     : json(fmt::format("@list{}@", static_cast<int>(kind)));
  }
  document["summary"] = std::move(summary);
  const std::string text = document.dump(2) + "\n";
  std::size_t done = 0;
  while (true) {
    const std::size_t placeholder = text.find("\"@list", done);
    if (placeholder == std::string::npos) break;
    out << std::string_view(text).substr(done, placeholder - done) << "[\n";
    const std::size_t end = text.find("@\"", placeholder);
    const auto kind =
        static_cast<std::size_t>(std::stoi(text.substr(placeholder + 6, end - placeholder - 6)));
    spools[kind].copy_to(out);
    out << "\n  ]";
    done = end + 2;
  }
  out << std::string_view(text).substr(done);
}

}  // namespace

DiffCounts write_diff(db::Database& database, const db::RunInfo& from, const db::RunInfo& to,
                      DiffFormat format, std::ostream& out) {
  DiffCounts counts{from.id, to.id, {}, 0};
  std::array<Spool, 6> spools;
  std::size_t ip_width = 2;
  database.visit_result_pairs(
      from.id, to.id, [&](const db::ResultRecord* before, const db::ResultRecord* after) {
        const std::optional<Change> change = change_between(from, before, to, after);
        if (!change) {
          ++counts.unchanged;
          return;
        }
        const auto kind = static_cast<std::size_t>(change->kind);
        if (format == DiffFormat::text) {
          ip_width = std::max(ip_width, detail::shown(change->ip).size());
          spool_text(spools[kind], *change);
        } else {
          // Items of a list are separated by ",\n" and sit two levels deep.
          if (counts.of_kind[kind] > 0) spools[kind].write(",\n");
          spools[kind].write("    ");
          spools[kind].write(indented_json(change_json(*change), 2));
        }
        ++counts.of_kind[kind];
      });
  if (format == DiffFormat::text) {
    write_text(counts, ip_width, spools, out);
  } else {
    write_json(counts, spools, out);
  }
  return counts;
}

}  // namespace rdns::reports
