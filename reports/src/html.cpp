// The HTML report: a Mustache template (reports/templates/) rendered with
// HTML escaping on for every value; only the compiled-in style and script
// are inserted unescaped, and the CSP admits exactly those two by hash. The
// address table is no markup but a data island, a JSON array of arrays in a
// <script type="application/json"> element, escaped for that element
// (append_json_string); the page's script builds the visible rows from it
// as text. One pass over the run's records, merged in address order with
// the previous run's, yields the summary, the changes, the no-script list and the
// island's rows in their compact form; nothing holds every record, so a
// run of a million addresses is reported in bounded memory.

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include <fmt/format.h>
#include <kainjow/mustache.hpp>

#include <audit/vocabulary.hpp>
#include <reports/report.hpp>
#include <util/error.hpp>

#include "common.hpp"
#include "templates.hpp"

namespace rdns::reports {
namespace {

namespace mustache = kainjow::mustache;
using detail::shown;

/// Changes listed per section of "changes since the previous run"; the rest
/// is counted and left to `rdnsctl report diff`, so a mass regression does
/// not double the report.
constexpr std::size_t kChangeListLimit = 500;

/// Addresses the no-script and paper list shows: the page's script shows
/// every one, the CSV lists them all.
constexpr std::size_t kFallbackRows = 1000;

/// Networks listed by /24 or /64, most not passing first; a million
/// scattered IPv6 addresses would otherwise list a million networks.
constexpr std::size_t kNetworkListLimit = 2000;

std::string base64_of_hex(std::string_view hex) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t chunk = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (i + 1 < bytes.size()) chunk |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) chunk |= static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(chunk >> 18) & 63];
    out += kAlphabet[(chunk >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(chunk >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[chunk & 63] : '=';
  }
  return out;
}

std::string content_security_policy() {
  return fmt::format(
      "default-src 'none'; style-src 'sha256-{}'; script-src 'sha256-{}'; img-src 'none'; "
      "connect-src 'none'; base-uri 'none'; form-action 'none'",
      base64_of_hex(templates::kStyleSha256Hex), base64_of_hex(templates::kScriptSha256Hex));
}

std::string percent(std::int64_t part, std::int64_t total) {
  if (total == 0) return "0%";
  return fmt::format("{:.1f}%", 100.0 * static_cast<double>(part) / static_cast<double>(total));
}

std::string number(double value) {
  return fmt::format("{:.1f}", value);
}

std::string name_of(Status status) {
  return std::string(status_name(status));
}

mustache::data group_data(const Group& group) {
  mustache::data item;
  item.set("key", shown(group.key));
  item.set("total", std::to_string(group.counts.total));
  for (const Status status : kStatuses) {
    item.set(name_of(status), std::to_string(group.counts.of(status)));
  }
  item.set("pass_rate", percent(group.counts.pass, group.counts.total));
  return item;
}

mustache::data string_list(const std::vector<std::string>& values) {
  mustache::data list{mustache::data::type::list};
  for (const auto& value : values) list.push_back(shown(value));
  return list;
}

/// Horizontal bars, one per status; coordinates in SVG user units.
mustache::data status_chart(const db::RunCounts& counts) {
  constexpr double kLabel = 70, kBarMax = 260, kRow = 28, kBar = 20;
  mustache::data bars{mustache::data::type::list};
  double y = 4;
  for (const Status status : kStatuses) {
    const std::int64_t n = counts.of(status);
    const double w = counts.total == 0
                         ? 0
                         : kBarMax * static_cast<double>(n) / static_cast<double>(counts.total);
    mustache::data bar;
    bar.set("status", name_of(status));
    bar.set("count", std::to_string(n));
    bar.set("share", percent(n, counts.total));
    bar.set("x", number(kLabel));
    bar.set("y", number(y));
    bar.set("w", number(w));
    bar.set("h", number(kBar));
    bar.set("text_y", number(y + 15));
    bar.set("value_x", number(kLabel + w + 6));
    bars.push_back(bar);
    y += kRow;
  }
  mustache::data chart;
  chart.set("width", "440");
  chart.set("height", number(y + 2));
  chart.set("bars", bars);
  return chart;
}

/// 100 % stacked columns, one per run, oldest left.
mustache::data trend_chart(const std::vector<db::RunInfo>& history) {
  constexpr double kWidth = 480, kHeight = 180, kLeft = 40, kRight = 470, kTop = 8, kBottom = 150;
  const double plot = kBottom - kTop;
  const double slot =
      (kRight - kLeft) / static_cast<double>(std::max<std::size_t>(1, history.size()));
  const double w = std::min(40.0, slot * 0.7);
  mustache::data grid{mustache::data::type::list};
  for (const int share : {0, 50, 100}) {
    mustache::data line;
    const double y = kBottom - plot * share / 100.0;
    line.set("x1", number(kLeft));
    line.set("x2", number(kRight));
    line.set("y", number(y));
    line.set("label_y", number(y + 4));
    line.set("label", std::to_string(share) + "%");
    grid.push_back(line);
  }
  mustache::data columns{mustache::data::type::list};
  for (std::size_t i = 0; i < history.size(); ++i) {
    const db::RunInfo& run = history[i];
    const double x = kLeft + slot * static_cast<double>(i) + (slot - w) / 2;
    mustache::data segments{mustache::data::type::list};
    double bottom = kBottom;
    for (const Status status : {Status::pass, Status::warn, Status::unknown, Status::fail}) {
      const std::int64_t n = run.counts.of(status);
      if (run.counts.total == 0 || n == 0) continue;
      const double h = plot * static_cast<double>(n) / static_cast<double>(run.counts.total);
      mustache::data segment;
      segment.set("status", name_of(status));
      segment.set("x", number(x));
      segment.set("y", number(bottom - h));
      segment.set("w", number(w));
      segment.set("h", number(h));
      segments.push_back(segment);
      bottom -= h;
    }
    mustache::data column;
    column.set("run_id", std::to_string(run.id));
    column.set("started_at", shown(run.started_at));
    column.set("total", std::to_string(run.counts.total));
    column.set("pass_rate", percent(run.counts.pass, run.counts.total));
    column.set("segments", segments);
    column.set("label_x", number(x + w / 2));
    column.set("label_y", number(kBottom + 16));
    columns.push_back(column);
  }
  mustache::data chart;
  chart.set("width", number(kWidth));
  chart.set("height", number(kHeight));
  chart.set("runs", std::to_string(history.size()));
  chart.set("grid", grid);
  chart.set("columns", columns);
  return chart;
}

std::string codes_of(const std::optional<db::ResultRecord>& record) {
  if (!record) return "-";
  std::string text;
  for (const auto& finding : record->findings) {
    if (text.find(finding.code) == std::string::npos) detail::append(text, ", ", finding.code);
  }
  return text.empty() ? "none" : shown(text);
}

constexpr ChangeKind kChangeKinds[] = {ChangeKind::new_failure, ChangeKind::fixed,
                                       ChangeKind::ptr_changed, ChangeKind::changed,
                                       ChangeKind::appeared,    ChangeKind::disappeared};

/// Where a kind sits in kChangeKinds: its code in the data island is this + 1.
std::size_t kind_index(ChangeKind kind) {
  return static_cast<std::size_t>(
      std::find(std::begin(kChangeKinds), std::end(kChangeKinds), kind) - std::begin(kChangeKinds));
}

class CodeTable;
void append_row(std::string& out, const db::ResultRecord& record, std::uint8_t change,
                const std::string& recent, CodeTable& codes);
std::string recent_letters(std::uint32_t states, std::size_t other_runs, Status own);

/// The changes of one kind: all counted, the first kChangeListLimit kept.
struct ChangeList {
  std::size_t count = 0;
  std::vector<Change> items;

  void add(Change change) {
    if (++count <= kChangeListLimit) items.push_back(std::move(change));
  }
};

mustache::data change_list(const char* id, const char* title, const ChangeList& list) {
  mustache::data items{mustache::data::type::list};
  for (const auto& change : list.items) {
    mustache::data item;
    item.set("ip", shown(change.ip));
    item.set("before_status", change.before ? name_of(change.before->status) : "-");
    item.set("after_status", change.after ? name_of(change.after->status) : "-");
    item.set("ptr_before", change.before ? string_list(change.before->ptr) : string_list({}));
    item.set("ptr_after", change.after ? string_list(change.after->ptr) : string_list({}));
    item.set("codes_before", codes_of(change.before));
    item.set("codes_after", codes_of(change.after));
    items.push_back(item);
  }
  mustache::data data;
  data.set("id", id);
  data.set("title", title);
  data.set("count", std::to_string(list.count));
  data.set("has_items", list.count > 0);
  data.set("items", items);
  data.set("has_more", list.count > list.items.size());
  data.set("more", std::to_string(list.count - list.items.size()));
  return data;
}

/// The finding codes the island's rows refer to by number, numbered as
/// first seen.
class CodeTable {
 public:
  std::size_t number_of(const db::FindingRecord& finding) {
    const auto [at, added] = index_.emplace(finding.code, entries_.size());
    if (added) entries_.emplace_back(shown(finding.code), severity_name(finding.severity));
    return at->second;
  }
  const std::vector<std::pair<std::string, std::string_view>>& entries() const { return entries_; }

 private:
  std::map<std::string, std::size_t> index_;
  std::vector<std::pair<std::string, std::string_view>> entries_;
};

/// Everything the report shows, from one pass over the run's records:
/// the summary, the changes, the no-script list and the data island's rows.
struct Scan {
  detail::SummaryBuilder summary;
  std::map<detail::AddressKey, Group> networks;
  std::vector<detail::AddressKey> keys;    ///< the run's addresses, address order
  std::vector<std::uint8_t> change_codes;  ///< per address: 0, or kind_index + 1
  std::array<ChangeList, std::size(kChangeKinds)> changes;
  std::size_t unchanged = 0;
  /// The no-script and paper list: the first kFallbackRows addresses of
  /// each not-passing status (fail, unknown, warn).
  std::array<std::vector<mustache::data>, 3> fallback;
  /// Each address's recent states (see recent_states), address order.
  std::vector<std::uint32_t> states;
  std::size_t other_runs = 0;  ///< recent runs besides the reported one
  bool passing_listed = true;
  /// The data island's rows, comma-separated: the compact form, about 80
  /// bytes an address, is what the report holds, never the records.
  std::string island_rows;
  CodeTable codes;

  std::size_t index_of(const detail::AddressKey& key, std::size_t hint) const {
    if (hint < keys.size() && keys[hint] == key) return hint;
    return static_cast<std::size_t>(std::lower_bound(keys.begin(), keys.end(), key) - keys.begin());
  }
};

/// Rank in the address table: what needs fixing leads.
int status_rank(Status status) {
  return status == Status::fail      ? 0
         : status == Status::unknown ? 1
         : status == Status::warn    ? 2
                                     : 3;
}

mustache::data fallback_row(const db::ResultRecord& record, const std::string& change) {
  mustache::data row;
  row.set("ip", shown(record.ip));
  row.set("status", name_of(record.status));
  row.set("change", change);
  row.set("ptr", string_list(record.ptr));
  mustache::data findings{mustache::data::type::list};
  for (const auto& finding : record.findings) {
    mustache::data item;
    item.set("code", shown(finding.code));
    item.set("severity", std::string(severity_name(finding.severity)));
    item.set("detail", shown(finding.detail));
    findings.push_back(item);
  }
  row.set("findings", findings);
  return row;
}

/// The change of one address of the run, recorded in scan: `before` is the
/// previous run's record of it, null when the previous run did not audit it.
void compare_with(const db::RunInfo& previous, const db::RunInfo& run,
                  const db::ResultRecord* before, const db::ResultRecord& record, Scan& scan) {
  std::optional<ChangeKind> kind;
  if (before) {
    kind = classify_digests(comparable_digest(previous, run, *before),
                            comparable_digest(previous, run, record));
    if (!kind) ++scan.unchanged;
  } else {
    kind = record.status == Status::fail ? ChangeKind::new_failure : ChangeKind::appeared;
  }
  scan.change_codes.push_back(kind ? static_cast<std::uint8_t>(kind_index(*kind) + 1) : 0);
  if (!kind) return;
  Change change;
  change.kind = *kind;
  change.ip = record.ip;
  ChangeList& list = scan.changes[kind_index(*kind)];
  if (list.count < kChangeListLimit) {
    change.after = record;
    if (before) change.before = *before;
  }
  list.add(std::move(change));
}

/// One record of the run: its share of the summary, its network, its
/// change, and its rows.
void scan_record(const std::optional<db::RunInfo>& previous, const db::RunInfo& run,
                 const db::ResultRecord* before, const db::ResultRecord& record, Scan& scan) {
  const detail::AddressKey key = detail::address_key(record.ip);
  const std::size_t at = scan.index_of(key, scan.change_codes.size());
  scan.summary.add(record, detail::source_domains_of(record));
  detail::AddressKey network = key;
  std::fill(network.begin() + (key[0] == 4 ? 4 : 9), network.end(), 0);
  Group& group = scan.networks[network];
  if (group.key.empty()) group.key = detail::network_of(key, record.ip);
  group.counts.add(record.status);
  if (previous) {
    compare_with(*previous, run, before, record, scan);
  } else {
    scan.change_codes.push_back(0);
  }
  const int rank = status_rank(record.status);
  if (rank < 3 && scan.fallback[rank].size() < kFallbackRows) {
    const std::uint8_t code = scan.change_codes.back();
    scan.fallback[rank].push_back(
        fallback_row(record, code == 0 ? "" : std::string(change_label(kChangeKinds[code - 1]))));
  }
  if (scan.passing_listed || record.status != Status::pass) {
    if (!scan.island_rows.empty()) scan.island_rows += ",\n";
    append_row(scan.island_rows, record, scan.change_codes.back(),
               recent_letters(at < scan.states.size() ? scan.states[at] : 0, scan.other_runs,
                              record.status),
               scan.codes);
  }
}

/// One pass over the run's records, merged with the previous run's in
/// address order when there is one (Database::visit_result_pairs): one
/// record of each run in memory at a time, no map of the previous run.
void scan_run(db::Database& database, const db::RunInfo& run,
              const std::optional<db::RunInfo>& previous, Scan& scan) {
  if (!previous) {
    database.visit_results(run.id, [&](const db::ResultRecord& record) {
      scan_record(previous, run, nullptr, record, scan);
    });
    return;
  }
  ChangeList& gone = scan.changes[kind_index(ChangeKind::disappeared)];
  database.visit_result_pairs(previous->id, run.id,
                              [&](const db::ResultRecord* before, const db::ResultRecord* after) {
                                if (after) {
                                  scan_record(previous, run, before, *after, scan);
                                  return;
                                }
                                Change change;
                                change.kind = ChangeKind::disappeared;
                                change.ip = before->ip;
                                if (gone.count < kChangeListLimit) change.before = *before;
                                gone.add(std::move(change));
                              });
}

mustache::data previous_data(const db::RunInfo& previous, const Scan& scan) {
  const auto count = [&](ChangeKind kind) {
    return std::to_string(scan.changes[kind_index(kind)].count);
  };
  mustache::data data;
  data.set("run_id", std::to_string(previous.id));
  data.set("started_at", shown(previous.started_at));
  data.set("new_failures", count(ChangeKind::new_failure));
  data.set("fixed", count(ChangeKind::fixed));
  data.set("ptr_changed", count(ChangeKind::ptr_changed));
  data.set("changed", count(ChangeKind::changed));
  data.set("appeared", count(ChangeKind::appeared));
  data.set("disappeared", count(ChangeKind::disappeared));
  data.set("unchanged", std::to_string(scan.unchanged));
  const auto list = [&](const char* id, const char* title, ChangeKind kind) {
    return change_list(id, title, scan.changes[kind_index(kind)]);
  };
  mustache::data lists{mustache::data::type::list};
  lists.push_back(list("newly-failing", "Newly failing", ChangeKind::new_failure));
  lists.push_back(list("fixed", "Recovered", ChangeKind::fixed));
  lists.push_back(list("ptr-changed", "PTR changed", ChangeKind::ptr_changed));
  lists.push_back(list("disappeared", "No longer audited", ChangeKind::disappeared));
  data.set("lists", lists);
  return data;
}

/// Each address's states in the recent runs, three bits a run, oldest in
/// the lowest bits: 0 not audited, else 1 + the status rank. The reported
/// run's own state comes from its record as the rows are written.
std::vector<std::uint32_t> recent_states(db::Database& database,
                                         const std::vector<db::RunInfo>& runs, const Scan& scan) {
  std::vector<std::uint32_t> states(scan.keys.size(), 0);
  std::unordered_map<std::int64_t, std::size_t> column_of;
  std::vector<std::int64_t> ids;
  for (std::size_t i = 0; i + 1 < runs.size(); ++i) {
    column_of[runs[i].id] = i;
    ids.push_back(runs[i].id);
  }
  if (ids.empty()) return states;
  database.visit_statuses(ids, [&](std::int64_t run_id, const std::string& ip, Status status) {
    const detail::AddressKey key = detail::address_key(ip);
    const std::size_t at = scan.index_of(key, scan.keys.size());
    // Addresses the reported run did not audit have no row to show.
    if (at == scan.keys.size() || scan.keys[at] != key) return;
    states[at] |= static_cast<std::uint32_t>(1 + status_rank(status)) << (3 * column_of.at(run_id));
  });
  return states;
}

/// "pwf..", one letter per recent run, oldest first ('n': not audited).
std::string recent_letters(std::uint32_t states, std::size_t other_runs, Status own) {
  static constexpr char kLetters[] = {'n', 'f', 'u', 'w', 'p'};
  std::string letters;
  for (std::size_t run = 0; run < other_runs; ++run) letters += kLetters[(states >> (3 * run)) & 7];
  letters += status_name(own).front();
  return letters;
}

/// A JSON string for a <script type="application/json"> element: besides
/// JSON's own escapes, '<', '>' and '&' (so no "</script" or "<!--" can end
/// or bend the element) and U+2028/U+2029 are written as \u escapes.
void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f || c == '<' || c == '>' || c == '&') {
      out += fmt::format("\\u{:04x}", c);
    } else if (c == 0xe2 && i + 2 < text.size() && text[i + 1] == '\x80' &&
               (text[i + 2] == '\xa8' || text[i + 2] == '\xa9')) {
      out += text[i + 2] == '\xa8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

/// One address as the data island's array (docs/reports.md describes it):
/// [ip, status rank, change code, recent letters, [PTR...],
///  [[name or PTR index, address or 0 for the row's own...]...],
///  [code index, detail, ...]].
void append_row(std::string& out, const db::ResultRecord& record, std::uint8_t change,
                const std::string& recent, CodeTable& codes) {
  const std::string ip = shown(record.ip);
  out += '[';
  append_json_string(out, ip);
  out += fmt::format(",{},{},", status_rank(record.status), change);
  append_json_string(out, recent);
  out += ",[";
  std::vector<std::string> names;
  for (const auto& name : record.ptr) {
    if (!names.empty()) out += ',';
    names.push_back(shown(name));
    append_json_string(out, names.back());
  }
  out += "],[";
  for (std::size_t f = 0; f < record.forward.size(); ++f) {
    const auto& entry = record.forward[f];
    out += f == 0 ? "[" : ",[";
    const std::string name = shown(entry.name);
    const auto same = std::find(names.begin(), names.end(), name);
    if (same != names.end()) {
      out += std::to_string(same - names.begin());
    } else {
      append_json_string(out, name);
    }
    for (const auto& address : entry.addresses) {
      out += ',';
      if (shown(address) == ip) {
        out += '0';
      } else {
        append_json_string(out, shown(address));
      }
    }
    out += ']';
  }
  out += "],[";
  for (std::size_t f = 0; f < record.findings.size(); ++f) {
    if (f > 0) out += ',';
    out += std::to_string(codes.number_of(record.findings[f]));
    out += ',';
    append_json_string(out, shown(record.findings[f].detail));
  }
  out += "]]";
}

/// The data island, its head first: the tables its rows refer to by index.
void write_island(const Scan& scan, std::ostream& out) {
  std::string head = "{\"statuses\":[\"fail\",\"unknown\",\"warn\",\"pass\"],\"changes\":[\"\"";
  for (const ChangeKind kind : kChangeKinds) {
    head += ',';
    append_json_string(head, change_label(kind));
  }
  head += "],\"codes\":[";
  for (const auto& [code, severity] : scan.codes.entries()) {
    if (head.back() != '[') head += ',';
    head += '[';
    append_json_string(head, code);
    head += ',';
    append_json_string(head, severity);
    head += ']';
  }
  head += fmt::format("],\"passing_listed\":{},\"rows\":[\n", scan.passing_listed);
  out << head << scan.island_rows << "\n]}";
}

mustache::data network_rows(const Scan& scan, std::size_t& more) {
  std::vector<const Group*> groups;
  groups.reserve(scan.networks.size());
  for (const auto& [key, group] : scan.networks) groups.push_back(&group);
  // Most addresses that need attention first; ties in address order.
  std::stable_sort(groups.begin(), groups.end(), [](const Group* a, const Group* b) {
    return a->counts.total - a->counts.pass > b->counts.total - b->counts.pass;
  });
  more = groups.size() > kNetworkListLimit ? groups.size() - kNetworkListLimit : 0;
  groups.resize(std::min(groups.size(), kNetworkListLimit));
  mustache::data rows{mustache::data::type::list};
  for (const Group* group : groups) rows.push_back(group_data(*group));
  return rows;
}

/// The runs the cells stand for, oldest first: the hidden list the script
/// reads and the column header's tooltip.
mustache::data recent_runs_data(const std::vector<db::RunInfo>& runs) {
  mustache::data list{mustache::data::type::list};
  for (const auto& run : runs) {
    mustache::data item;
    item.set("run_id", std::to_string(run.id));
    item.set("started_at", shown(run.started_at));
    list.push_back(item);
  }
  return list;
}

mustache::data code_help_entry(const std::string& code, Severity severity,
                               const audit::CodeEntry* info) {
  mustache::data help;
  help.set("code", shown(code));
  help.set("severity", std::string(severity_name(severity)));
  help.set("title", info ? std::string(info->title) : "");
  help.set("explanation", info ? std::string(info->explanation)
                               : "This rdnsctl version has no explanation for this code; see "
                                 "the documentation of the version that wrote the run.");
  help.set("fix", info ? std::string(info->fix) : "-");
  return help;
}

/// A domain's status as the address statuses read: an error fails it.
Status domain_status(Severity worst) {
  return worst == Severity::error     ? Status::fail
         : worst == Severity::warning ? Status::warn
                                      : Status::pass;
}

void set_run_data(mustache::data& page, const db::RunInfo& run) {
  page.set("csp", content_security_policy());
  page.set("style", std::string(templates::kStyle));
  page.set("script", std::string(templates::kScript));
  page.set("run_id", std::to_string(run.id));
  page.set("started_at", shown(run.started_at));
  page.set("finished_at", run.finished_at.empty() ? "-" : shown(run.finished_at));
  page.set("state", std::string(db::to_string(run.state)));
  page.set("incomplete", run.state != db::RunState::complete);
  std::string resolvers;
  for (const auto& resolver : run.resolvers) detail::append(resolvers, ", ", shown(resolver));
  page.set("resolvers", resolvers.empty() ? "-" : resolvers);
  page.set("tool_version", shown(run.tool_version));
}

/// A named run's shards (`audit --run-name`), every index from 1 to N: those
/// that never started too, so the page says what is missing.
void set_shard_data(mustache::data& page, const db::RunInfo& run, db::Database& database) {
  page.set("named", run.parts > 0);
  if (run.parts == 0) return;
  const std::vector<db::ShardProgress> shards = database.run_shards(run.id);
  page.set("run_name", shown(run.name));
  page.set("parts", std::to_string(run.parts));
  page.set("parts_complete", std::to_string(run.parts_complete));
  mustache::data rows{mustache::data::type::list};
  auto stored = shards.begin();
  for (std::int64_t index = 1; index <= run.parts; ++index) {
    mustache::data row;
    row.set("shard", fmt::format("{}/{}", index, run.parts));
    if (stored != shards.end() && stored->index == index) {
      row.set("state", std::string(db::to_string(stored->state)));
      row.set("started_at", shown(stored->started_at));
      row.set("finished_at", stored->finished_at.empty() ? "-" : shown(stored->finished_at));
      row.set("addresses",
              stored->finished_at.empty() ? "-" : std::to_string(stored->counts.total));
      row.set("attempts", std::to_string(stored->attempts));
      ++stored;
    } else {
      row.set("state", "not started");
      row.set("started_at", "-");
      row.set("finished_at", "-");
      row.set("addresses", "-");
      row.set("attempts", "0");
    }
    rows.push_back(row);
  }
  page.set("shards", rows);
}

void set_counts_data(mustache::data& page, const Summary& summary,
                     const std::vector<db::RunInfo>& history) {
  const db::RunCounts& counts = summary.counts;
  page.set("total", std::to_string(counts.total));
  page.set("pass_rate", percent(counts.pass, counts.total));
  page.set("pass", std::to_string(counts.pass));
  page.set("fail", std::to_string(counts.fail));
  page.set("warn", std::to_string(counts.warn));
  page.set("unknown", std::to_string(counts.unknown));
  page.set("status_chart", status_chart(counts));
  page.set("has_trend", history.size() >= 2);
  page.set("trend_chart", trend_chart(history));
  mustache::data status_rows{mustache::data::type::list};
  for (const Status status : kStatuses) {
    mustache::data row;
    row.set("status", name_of(status));
    row.set("count", std::to_string(counts.of(status)));
    row.set("share", percent(counts.of(status), counts.total));
    status_rows.push_back(row);
  }
  page.set("status_rows", status_rows);
  mustache::data families{mustache::data::type::list};
  for (const auto& group : summary.by_family) families.push_back(group_data(group));
  page.set("families", families);
  mustache::data domains{mustache::data::type::list};
  for (const auto& group : summary.by_source_domain) domains.push_back(group_data(group));
  page.set("has_domains", !summary.by_source_domain.empty());
  page.set("domains", domains);
}

void set_findings_data(mustache::data& page, const Summary& summary) {
  mustache::data codes{mustache::data::type::list};
  mustache::data code_help{mustache::data::type::list};
  for (const auto& entry : summary.by_code) {
    const audit::CodeEntry* info = audit::find_code(entry.code);
    mustache::data row;
    row.set("code", shown(entry.code));
    row.set("severity", std::string(severity_name(entry.severity)));
    row.set("ips", std::to_string(entry.ips));
    row.set("share", percent(entry.ips, summary.counts.total));
    row.set("title", info ? std::string(info->title) : "not known to this rdnsctl version");
    codes.push_back(row);
    code_help.push_back(code_help_entry(entry.code, entry.severity, info));
  }
  // Domain codes get their explanations too, for the domain health links.
  std::set<std::string> explained;
  for (const auto& entry : summary.by_code) explained.insert(entry.code);
  mustache::data health{mustache::data::type::list};
  for (const DomainHealth& domain : summary.domains) {
    mustache::data findings{mustache::data::type::list};
    for (const auto& finding : domain.findings) {
      const audit::CodeEntry* info = audit::find_code(finding.code);
      mustache::data row;
      row.set("domain", shown(domain.domain));
      row.set("status", name_of(domain_status(domain.worst)));
      row.set("code", shown(finding.code));
      row.set("severity", std::string(severity_name(finding.severity)));
      row.set("detail", shown(finding.detail));
      row.set("fix", info ? std::string(info->fix) : "-");
      findings.push_back(row);
      if (info != nullptr && explained.insert(finding.code).second) {
        code_help.push_back(code_help_entry(finding.code, finding.severity, info));
      }
    }
    mustache::data entry;
    entry.set("findings", findings);
    health.push_back(entry);
  }
  page.set("has_domain_health", !summary.domains.empty());
  page.set("domain_health", health);
  page.set("codes", codes);
  page.set("code_help", code_help);
}

void set_blocklist_data(mustache::data& page, const Summary& summary) {
  mustache::data blocklisted{mustache::data::type::list};
  for (const BlocklistEntry& entry : summary.blocklisted) {
    mustache::data row;
    row.set("ip", shown(entry.ip));
    row.set("code", shown(entry.finding.code));
    row.set("severity", std::string(severity_name(entry.finding.severity)));
    row.set("detail", shown(entry.finding.detail));
    blocklisted.push_back(row);
  }
  mustache::data by_blocklist{mustache::data::type::list};
  for (const BlocklistCount& count : summary.by_blocklist) {
    mustache::data row;
    row.set("list", shown(count.list));
    row.set("listed", std::to_string(count.listed));
    by_blocklist.push_back(row);
  }
  page.set("has_blocklists", !summary.blocklisted.empty());
  page.set("has_listings", !summary.by_blocklist.empty());
  page.set("blocklisted", blocklisted);
  page.set("by_blocklist", by_blocklist);
}

/// The no-script and paper list: failures first, then unknown, then warn.
void set_fallback_data(mustache::data& page, Scan& scan, const db::RunCounts& counts) {
  mustache::data rows{mustache::data::type::list};
  std::size_t listed = 0;
  for (auto& group : scan.fallback) {
    for (auto& row : group) {
      if (listed == kFallbackRows) break;
      rows.push_back(std::move(row));
      ++listed;
    }
    group.clear();
  }
  const auto not_passing = static_cast<std::size_t>(counts.total - counts.pass);
  page.set("fallback_rows", rows);
  page.set("fallback_listed", std::to_string(listed));
  page.set("has_fallback_more", not_passing > listed);
  page.set("fallback_more", std::to_string(not_passing - listed));
}

/// Marks where the streamed data island goes in the rendered page: a
/// control byte, which no escaped value and no template text contains.
constexpr char kIslandMarker = '\x01';

}  // namespace

bool lists_passing(PassingRows mode, std::int64_t addresses) {
  return mode == PassingRows::listed ||
         (mode == PassingRows::automatic && addresses <= kListPassingUpTo);
}

void write_html_report(db::Database& database, std::int64_t run_id, const HtmlOptions& options,
                       std::ostream& out) {
  std::optional<db::RunInfo> found = database.find_run(run_id);
  if (!found) {
    throw Error(Errc::usage, fmt::format("no run {} in {}", run_id, database.path().string()));
  }
  const db::RunInfo run = std::move(*found);
  // The addresses and their recent states first (neither reads a record),
  // so the one pass over the records can write the island's rows.
  Scan scan;
  database.visit_result_addresses(
      run.id, [&](const std::string& ip) { scan.keys.push_back(detail::address_key(ip)); });
  std::sort(scan.keys.begin(), scan.keys.end());
  scan.passing_listed = lists_passing(options.passing, static_cast<std::int64_t>(scan.keys.size()));
  const std::vector<db::RunInfo> recent = detail::runs_up_to(database, run, kRecentRuns);
  scan.states = recent_states(database, recent, scan);
  scan.other_runs = recent.size() - 1;
  const std::optional<db::RunInfo> previous = database.previous_comparable_run(run.id);
  scan_run(database, run, previous, scan);
  const Summary summary = scan.summary.finish(database.domain_findings(run_id));
  const bool passing_listed = scan.passing_listed;

  mustache::data page;
  set_run_data(page, run);
  set_shard_data(page, run, database);
  page.set("generated_at", detail::utc_now());
  set_counts_data(page, summary, detail::runs_up_to(database, run, options.history_runs));
  set_findings_data(page, summary);
  set_blocklist_data(page, summary);
  std::size_t more_networks = 0;
  page.set("networks", network_rows(scan, more_networks));
  page.set("has_more_networks", more_networks > 0);
  page.set("more_networks", std::to_string(more_networks));
  page.set("network_limit", std::to_string(kNetworkListLimit));
  page.set("has_previous", previous.has_value());
  if (previous) page.set("previous", previous_data(*previous, scan));
  page.set("recent_runs", recent_runs_data(recent));
  page.set("passing_counted", !passing_listed && summary.counts.pass > 0);
  page.set("passing_limit", std::to_string(kListPassingUpTo));
  page.set("island", std::string(1, kIslandMarker));
  set_fallback_data(page, scan, summary.counts);

  mustache::mustache page_template{std::string(templates::kPage)};
  if (!page_template.is_valid()) {
    throw Error(Errc::internal, "report template: " + page_template.error_message());
  }
  std::string text;
  page_template.render(page, [&text](const std::string& part) { text += part; });
  const std::size_t marker = text.find(kIslandMarker);
  out.write(text.data(), static_cast<std::streamsize>(marker));
  write_island(scan, out);
  out << std::string_view(text).substr(marker + 1);
}

}  // namespace rdns::reports
