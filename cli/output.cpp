#include "output.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <db/result_json.hpp>
#include <db/scratch_run.hpp>
#include <util/csv.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>
#include <util/json_writer.hpp>

#include "stored_text.hpp"

namespace rdns::cli {
namespace {

using nlohmann::json;

json record_json(const db::ResultRecord& record) {
  json forward = json::array();
  for (const auto& entry : record.forward) {
    forward.push_back({{"name", entry.name}, {"addresses", entry.addresses}});
  }
  json findings = json::array();
  for (const auto& finding : record.findings) {
    findings.push_back({{"code", finding.code},
                        {"severity", severity_name(finding.severity)},
                        {"detail", finding.detail}});
  }
  json sources = json::array();
  for (const auto& source : record.sources) {
    sources.push_back(
        {{"domain", source.domain}, {"via", source.via}, {"expected", source.expected}});
  }
  json object{
      {"ip", record.ip},   {"family", record.family}, {"status", status_name(record.status)},
      {"ptr", record.ptr}, {"forward", forward},      {"findings", findings},
      {"sources", sources}};
  if (record.smtp) {
    object["smtp"] = {{"greeted", record.smtp->greeted},
                      {"greeting_name", record.smtp->greeting_name},
                      {"ehlo_name", record.smtp->ehlo_name},
                      {"failure", record.smtp->failure}};
  }
  return object;
}

/// The same object as record_json(), written directly: JSONL output writes
/// one per audited IP, and a JSON tree per line cost more than the rest of
/// the output path.
/// Appends to `line`, whose capacity a printer keeps from line to line.
void append_record_json_line(const db::ResultRecord& record, const db::ResultJson& fields,
                             std::string& line) {
  JsonWriter out("the result", record.ip, std::move(line));
  const std::size_t smtp_bytes = fields.smtp ? fields.smtp->size() + 10 : 0;
  out.reserve(record.ip.size() + fields.ptr.size() + fields.forward.size() +
              fields.findings.size() + fields.sources.size() + smtp_bytes + 100);
  out.raw("{").key("ip").string(record.ip).raw(",").key("family").string(record.family);
  out.raw(",").key("status").string(status_name(record.status));
  out.raw(",").key("ptr").raw(fields.ptr).raw(",").key("forward").raw(fields.forward);
  out.raw(",").key("findings").raw(fields.findings).raw(",").key("sources").raw(fields.sources);
  if (fields.smtp) out.raw(",").key("smtp").raw(*fields.smtp);
  line = out.raw("}\n").take();
}

json domain_finding_json(const db::DomainFindingRecord& finding) {
  return json{{"domain", finding.domain},
              {"code", finding.code},
              {"severity", severity_name(finding.severity)},
              {"detail", finding.detail}};
}

/// "example.com MX mx1.example.com; example.com SPF ip4:192.0.2.0/28".
std::string sources_text(const db::ResultRecord& record) {
  std::string text;
  for (const auto& source : record.sources) {
    // Stored escaped, but a cell must never carry a raw control byte even
    // from an older or foreign writer: every other format escapes too.
    text +=
        (text.empty() ? "" : "; ") + shown_stored(source.domain) + " " + shown_stored(source.via);
  }
  return text;
}

json counts_json(const db::RunCounts& counts) {
  json object{{"total", counts.total}};
  for (const Status status : kStatuses) {
    object[std::string(status_name(status))] = counts.of(status);
  }
  return object;
}

[[noreturn]] void output_failed(std::FILE* out) {
  const int error = errno != 0 ? errno : EIO;
  const std::string name = out == stdout ? "standard output" : "the output";
  if (error == EPIPE) {
    throw OutputClosed(Errc::io, fmt::format("output: {} was closed by its reader", name));
  }
  throw Error(Errc::io, fmt::format("output: {}: {}", name, std::strerror(error)));
}

void flush(std::FILE* out) {
  errno = 0;
  if (std::fflush(out) != 0 || std::ferror(out) != 0) output_failed(out);
}

void write(std::FILE* out, const std::string& text) {
  errno = 0;
  if (std::fwrite(text.data(), 1, text.size(), out) != text.size()) output_failed(out);
}

class JsonLinesPrinter final : public ResultPrinter {
 public:
  explicit JsonLinesPrinter(std::FILE* out) : out_(out) {}
  /// A typed line beside the address lines, which stay as they were:
  /// {"type":"domain","domain":...,"code":...,"severity":...,"detail":...}.
  void add_domain_finding(const db::DomainFindingRecord& finding) override {
    const nlohmann::ordered_json line{{"type", "domain"},
                                      {"domain", finding.domain},
                                      {"code", finding.code},
                                      {"severity", severity_name(finding.severity)},
                                      {"detail", finding.detail}};
    write(out_, line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
  }
  void add(const db::ResultRecord& record) override {
    add_encoded(record, db::result_json(record));
  }
  void add_encoded(const db::ResultRecord& record, const db::ResultJson& lists) override {
    line_.clear();
    append_record_json_line(record, lists, line_);
    write(out_, line_);
    // A reader downstream sees results promptly, without a write(2) per line.
    const auto now = std::chrono::steady_clock::now();
    if (now - last_flush_ > std::chrono::milliseconds(100)) {
      flush(out_);
      last_flush_ = now;
    }
  }
  void finish(const db::RunCounts&) override { flush(out_); }

 private:
  std::FILE* out_;
  std::string line_;
  std::chrono::steady_clock::time_point last_flush_ = std::chrono::steady_clock::now();
};

class CsvPrinter final : public ResultPrinter {
 public:
  explicit CsvPrinter(std::FILE* out) : out_(out) {
    write(out_, csv_row({"ip", "family", "status", "ptr", "forward", "code", "severity", "detail",
                         "sources"}));
  }
  /// A row with no address: the finding of the domain named in `sources`.
  void add_domain_finding(const db::DomainFindingRecord& finding) override {
    write(out_,
          csv_row({"", "", "", "", "", finding.code, std::string(severity_name(finding.severity)),
                   finding.detail, shown_stored(finding.domain)}));
  }
  void add(const db::ResultRecord& record) override {
    std::string ptr;
    for (const auto& name : record.ptr) ptr += (ptr.empty() ? "" : " ") + name;
    std::string forward;
    for (const auto& entry : record.forward) {
      std::string addresses;
      for (const auto& address : entry.addresses)
        addresses += (addresses.empty() ? "" : " ") + address;
      forward += (forward.empty() ? "" : "; ") + entry.name + "=" + addresses;
    }
    const std::string sources = sources_text(record);
    const auto row = [&](const std::string& code, std::string_view severity,
                         const std::string& detail) {
      write(out_, csv_row({record.ip, record.family, std::string(status_name(record.status)), ptr,
                           forward, code, std::string(severity), detail, sources}));
    };
    if (record.findings.empty()) row("", "", "");
    for (const auto& finding : record.findings) {
      row(finding.code, severity_name(finding.severity), finding.detail);
    }
  }
  void finish(const db::RunCounts&) override { flush(out_); }

 private:
  std::FILE* out_;
};

/// The base of the formats that show results in address order. With the
/// run's database (read_back_from) results are read back from it in order,
/// one at a time (a resumed run's part included); without one (--no-db)
/// they are ordered in memory, or in a temporary database when many.
class SortedPrinter : public ResultPrinter {
 public:
  void read_back_from(db::Database& database, std::int64_t run_id,
                      run::StoredResultFilter shown) override {
    database_ = &database;
    run_id_ = run_id;
    shown_ = std::move(shown);
  }
  void add(const db::ResultRecord& record) final {
    if (database_ == nullptr) unstored_.add(record);
  }

 protected:
  /// Calls visit for every result in address order; may be called again.
  void each_result(const std::function<void(const db::ResultRecord&)>& visit) {
    if (database_ != nullptr) {
      database_->visit_results(run_id_, [&](const db::ResultRecord& record) {
        if (!shown_ || shown_(record)) visit(record);
      });
      return;
    }
    unstored_.visit(visit);
  }

 private:
  db::Database* database_ = nullptr;
  std::int64_t run_id_ = 0;
  run::StoredResultFilter shown_;
  db::ScratchRun unstored_;
};

/// `text` with `indent` before each of its lines.
std::string indented(const std::string& text, std::string_view indent) {
  std::string result(indent);
  for (const char c : text) {
    result += c;
    if (c == '\n') result += indent;
  }
  return result;
}

class JsonPrinter final : public SortedPrinter {
 public:
  JsonPrinter(std::FILE* out, std::optional<std::int64_t> run_id, json shards)
      : out_(out), run_id_(run_id), shards_(std::move(shards)) {}
  void add_domain_finding(const db::DomainFindingRecord& finding) override {
    domain_findings_.push_back(domain_finding_json(finding));
  }
  /// The document json::dump(2) writes, with the results written one at a
  /// time where the dump has an empty "results" array.
  void finish(const db::RunCounts& counts) override {
    json document{{"summary", counts_json(counts)},
                  {"results", json::array()},
                  {"domain_findings", std::move(domain_findings_)}};
    document["run_id"] = run_id_ ? json(*run_id_) : json(nullptr);
    if (!shards_.empty()) document["shards"] = shards_;
    const std::string text = document.dump(2) + "\n";
    // A string value cannot hold a raw line break, so this is the member.
    const std::string_view marker = "\n  \"results\": [";
    const std::size_t cut = text.find(marker) + marker.size();
    write(out_, text.substr(0, cut));
    bool first = true;
    each_result([&](const db::ResultRecord& record) {
      write(out_, (first ? "\n" : ",\n") + indented(record_json(record).dump(2), "    "));
      first = false;
    });
    if (!first) write(out_, "\n  ");
    write(out_, text.substr(cut));
    flush(out_);
  }

 private:
  std::FILE* out_;
  std::optional<std::int64_t> run_id_;
  json shards_;  ///< a named run's shards; empty otherwise
  json domain_findings_ = json::array();
};

class TablePrinter final : public SortedPrinter {
 public:
  TablePrinter(std::FILE* out, bool color) : out_(out), color_(color) {}
  void add_domain_finding(const db::DomainFindingRecord& finding) override {
    domain_findings_.push_back(finding);
  }

  void finish(const db::RunCounts& counts) override {
    // A first pass for the column widths, so no result is kept meanwhile.
    std::size_t ip_width = 2, ptr_width = 3;
    each_result([&](const db::ResultRecord& record) {
      ip_width = std::max(ip_width, record.ip.size());
      for (const auto& name : record.ptr) ptr_width = std::max(ptr_width, shown(name).size());
    });
    ptr_width = std::min<std::size_t>(ptr_width, 48);
    write(out_, fmt::format("{:<{}}  {:<7}  {:<{}}  {}\n", "IP", ip_width, "STATUS", "PTR",
                            ptr_width, "FINDINGS"));
    each_result([&](const db::ResultRecord& record) { write_result(record, ip_width, ptr_width); });
    write_tally(counts);
    flush(out_);
  }

 private:
  void write_result(const db::ResultRecord& record, std::size_t ip_width, std::size_t ptr_width) {
    // Findings first, then where the address came from.
    std::vector<std::string> notes;
    for (const auto& f : record.findings) {
      notes.push_back(paint(f.severity, f.code) + ": " + shown(f.detail));
    }
    for (const auto& source : record.sources) {
      notes.push_back("from " + shown(source.domain) + " " + shown(source.via));
    }
    const std::size_t lines = std::max<std::size_t>(1, std::max(record.ptr.size(), notes.size()));
    for (std::size_t line = 0; line < lines; ++line) {
      const std::string ip = line == 0 ? record.ip : "";
      const std::optional<Status> status =
          line == 0 ? std::optional<Status>(record.status) : std::nullopt;
      const std::string ptr =
          line < record.ptr.size() ? shown(record.ptr[line]) : (line == 0 ? "-" : "");
      const std::string finding = line < notes.size() ? notes[line] : "";
      write(out_, fmt::format("{:<{}}  {}  {:<{}}  {}\n", ip, ip_width, paint_status(status), ptr,
                              ptr_width, finding));
    }
  }

  void write_tally(const db::RunCounts& counts) {
    std::string tally;
    for (const Status status : kStatuses) {
      tally += fmt::format("{}{} {}", tally.empty() ? "" : ", ", paint_count(status, counts),
                           status_name(status));
    }
    write(out_, fmt::format("\n{} addresses: {}\n", counts.total, tally));
    if (!domain_findings_.empty()) {
      write(out_, "\nDOMAIN FINDINGS\n");
      for (const auto& f : domain_findings_) {
        write(out_, fmt::format("{}  {}: {}\n", shown(f.domain), paint(f.severity, f.code),
                                shown(f.detail)));
      }
    }
  }

  /// Stored text is already escaped; escaping again only changes a stray
  /// control byte from an older or foreign writer, so nothing raw can pass.
  static std::string shown(const std::string& text) {
    if (std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7f; })) {
      return text;
    }
    return escape_text(text);
  }

  std::string colored(std::string_view code, const std::string& text) const {
    if (!color_ || text.empty()) return text;
    return fmt::format("\x1b[{}m{}\x1b[0m", code, text);
  }

  /// none: the blank status cell of an address's second and later lines,
  /// colored as unknown is.
  static std::string_view status_color(std::optional<Status> status) {
    switch (status.value_or(Status::unknown)) {
      case Status::pass:
        return "32";
      case Status::warn:
        return "33";
      case Status::fail:
        return "1;31";
      case Status::unknown:
        return "35";
    }
    return "35";
  }

  std::string paint_status(std::optional<Status> status) const {
    const std::string_view name = status ? status_name(*status) : "";
    return colored(status_color(status), fmt::format("{:<7}", name));
  }

  std::string paint_count(Status status, const db::RunCounts& counts) const {
    const std::int64_t count = counts.of(status);
    return count == 0 ? std::to_string(count)
                      : colored(status_color(status), std::to_string(count));
  }

  std::string paint(Severity severity, const std::string& code) const {
    const std::string_view color = severity == Severity::error     ? "31"
                                   : severity == Severity::warning ? "33"
                                                                   : "36";
    return colored(color, code);
  }

  std::FILE* out_;
  bool color_;
  std::vector<db::DomainFindingRecord> domain_findings_;
};

}  // namespace

bool use_color(ColorMode mode, std::FILE* stream) {
  if (mode == ColorMode::always) return true;
  if (mode == ColorMode::never) return false;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && *no_color != '\0') return false;
  return isatty(fileno(stream)) == 1;
}

/// A named run's shards as JSON: an array in index order.
json shards_json(const std::vector<db::ShardProgress>& shards) {
  json list = json::array();
  for (const db::ShardProgress& shard : shards) {
    list.push_back({{"shard", shard_text({shard.index, shard.count})},
                    {"state", std::string(db::to_string(shard.state))},
                    {"started_at", shard.started_at},
                    {"finished_at", shard.finished_at},
                    {"attempts", shard.attempts},
                    {"counts", counts_json(shard.counts)}});
  }
  return list;
}

std::unique_ptr<ResultPrinter> make_printer(Format format, std::FILE* out, bool color,
                                            std::optional<std::int64_t> run_id,
                                            const std::vector<db::ShardProgress>& shards) {
  switch (format) {
    case Format::table:
      return std::make_unique<TablePrinter>(out, color);
    case Format::json:
      return std::make_unique<JsonPrinter>(out, run_id,
                                           shards.empty() ? json() : shards_json(shards));
    case Format::jsonl:
      return std::make_unique<JsonLinesPrinter>(out);
    case Format::csv:
      return std::make_unique<CsvPrinter>(out);
  }
  return std::make_unique<TablePrinter>(out, color);
}

void write_output(std::FILE* out, const std::string& text) {
  write(out, text);
}

void flush_output(std::FILE* out) {
  flush(out);
}

std::string shard_text(const db::RunShard& shard) {
  return fmt::format("{}/{}", shard.index, shard.count);
}

std::string run_series(const db::RunInfo& run) {
  // Ad-hoc runs show their command instead: an `audit` and a stored `check`
  // probe of the same addresses are told apart at a glance.
  const std::string series =
      run.inventory.empty() ? "(" + escape_text(run.command) + ")" : escape_text(run.inventory);
  if (!run.name.empty()) {
    return fmt::format("{} {} ({}/{} shards complete)", series, escape_text(run.name),
                       run.parts_complete, run.parts);
  }
  return run.shard ? series + " shard " + shard_text(*run.shard) : series;
}

void print_runs(const std::vector<db::RunInfo>& runs, Format format, std::FILE* out) {
  if (format == Format::json || format == Format::jsonl) {
    json list = json::array();
    for (const auto& run : runs) {
      list.push_back({{"id", run.id},
                      {"command", run.command},
                      {"state", std::string(db::to_string(run.state))},
                      {"started_at", run.started_at},
                      {"finished_at", run.finished_at},
                      {"resolvers", run.resolvers},
                      {"inventory", run.inventory},
                      {"identity", run.identity},
                      {"checks", run.checks},
                      {"shard", run.shard ? json(shard_text(*run.shard)) : json(nullptr)},
                      {"name", run.name.empty() ? json(nullptr) : json(run.name)},
                      {"shards", run.name.empty() ? json(nullptr)
                                                  : json{{"count", run.parts},
                                                         {"complete", run.parts_complete}}},
                      {"counts", counts_json(run.counts)}});
    }
    write(out, list.dump(2) + "\n");
    return;
  }
  std::size_t width = 9;
  for (const auto& run : runs) width = std::max(width, run_series(run).size());
  write(out, fmt::format("{:>5}  {:<20}  {:<11}  {:<{}}  {:>8}  {:>6}  {:>6}  {:>6}  {:>7}\n", "ID",
                         "STARTED", "STATE", "INVENTORY", width, "TOTAL", "PASS", "WARN", "FAIL",
                         "UNKNOWN"));
  for (const auto& run : runs) {
    write(out, fmt::format("{:>5}  {:<20}  {:<11}  {:<{}}  {:>8}  {:>6}  {:>6}  {:>6}  {:>7}\n",
                           run.id, run.started_at, db::to_string(run.state), run_series(run), width,
                           run.counts.total, run.counts.pass, run.counts.warn, run.counts.fail,
                           run.counts.unknown));
  }
}

void print_run_header(const db::RunInfo& run, const std::vector<db::ShardProgress>& shards,
                      std::FILE* out) {
  std::string resolvers;
  for (const auto& resolver : run.resolvers)
    resolvers += (resolvers.empty() ? "" : ", ") + resolver;
  const std::string shard = run.shard ? "  shard " + shard_text(*run.shard) : std::string();
  const std::string name = run.name.empty()
                               ? std::string()
                               : fmt::format("  name {} ({}/{} shards complete)",
                                             escape_text(run.name), run.parts_complete, run.parts);
  write(out, fmt::format("run {}  {}{}{}  started {}  finished {}  resolvers {}\n\n", run.id,
                         db::to_string(run.state), shard, name, run.started_at,
                         run.finished_at.empty() ? "-" : run.finished_at, escape_text(resolvers)));
  if (run.name.empty()) return;
  write(out,
        fmt::format("{:<7}  {:<11}  {:>8}  {:<20}  {:<20}  {:>8}  {:>6}  {:>6}  {:>6}  {:>7}\n",
                    "SHARD", "STATE", "ATTEMPTS", "STARTED", "FINISHED", "TOTAL", "PASS", "WARN",
                    "FAIL", "UNKNOWN"));
  std::vector<bool> seen(static_cast<std::size_t>(std::max<std::int64_t>(run.parts, 0)) + 1);
  for (const db::ShardProgress& part : shards) {
    if (part.index > 0 && static_cast<std::size_t>(part.index) < seen.size()) {
      seen[static_cast<std::size_t>(part.index)] = true;
    }
    write(out,
          fmt::format("{:<7}  {:<11}  {:>8}  {:<20}  {:<20}  {:>8}  {:>6}  {:>6}  {:>6}  {:>7}\n",
                      shard_text({part.index, part.count}), db::to_string(part.state),
                      part.attempts, part.started_at,
                      part.finished_at.empty() ? "-" : part.finished_at, part.counts.total,
                      part.counts.pass, part.counts.warn, part.counts.fail, part.counts.unknown));
  }
  for (std::size_t index = 1; index < seen.size(); ++index) {
    if (!seen[index]) {
      write(out,
            fmt::format("{:<7}  {:<11}\n",
                        shard_text({static_cast<std::int64_t>(index), run.parts}), "not started"));
    }
  }
  write(out, "\n");
}

}  // namespace rdns::cli
