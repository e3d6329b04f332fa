// The HTML report: a Mustache template (reports/templates/) rendered with
// HTML escaping on for every value. Only the compiled-in style and script
// are inserted unescaped, and the CSP admits exactly those two by hash, and
// the recent-states cells, which recent_cells() builds from a fixed set of
// class names and nothing else.

#include <algorithm>
#include <functional>
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

/// Rows the script shows at once; Chromium lays out a table of 100,000 rich
/// rows in tens of seconds, 500 in milliseconds. Without script all show.
constexpr int kPageSize = 500;

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

mustache::data change_list(const char* id, const char* title, const RunDiff& diff,
                           const std::function<bool(const Change&)>& wanted) {
  mustache::data items{mustache::data::type::list};
  std::size_t count = 0;
  for (const auto& change : diff.changes) {
    if (!wanted(change)) continue;
    if (++count > kChangeListLimit) continue;
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
  mustache::data list;
  list.set("id", id);
  list.set("title", title);
  list.set("count", std::to_string(count));
  list.set("has_items", count > 0);
  list.set("items", items);
  list.set("has_more", count > kChangeListLimit);
  list.set("more", std::to_string(count > kChangeListLimit ? count - kChangeListLimit : 0));
  return list;
}

mustache::data previous_data(const db::RunInfo& previous, const RunDiff& diff) {
  mustache::data data;
  data.set("run_id", std::to_string(previous.id));
  data.set("started_at", shown(previous.started_at));
  data.set("new_failures", std::to_string(diff.count(ChangeKind::new_failure)));
  data.set("fixed", std::to_string(diff.count(ChangeKind::fixed)));
  data.set("ptr_changed", std::to_string(diff.count(ChangeKind::ptr_changed)));
  data.set("changed", std::to_string(diff.count(ChangeKind::changed)));
  data.set("appeared", std::to_string(diff.count(ChangeKind::appeared)));
  data.set("disappeared", std::to_string(diff.count(ChangeKind::disappeared)));
  data.set("unchanged", std::to_string(diff.unchanged));
  mustache::data lists{mustache::data::type::list};
  lists.push_back(change_list("newly-failing", "Newly failing", diff,
                              [](const Change& c) { return c.kind == ChangeKind::new_failure; }));
  lists.push_back(change_list("fixed", "Recovered", diff,
                              [](const Change& c) { return c.kind == ChangeKind::fixed; }));
  lists.push_back(change_list("ptr-changed", "PTR changed", diff,
                              [](const Change& c) { return c.kind == ChangeKind::ptr_changed; }));
  lists.push_back(change_list("disappeared", "No longer audited", diff,
                              [](const Change& c) { return c.kind == ChangeKind::disappeared; }));
  data.set("lists", lists);
  return data;
}

/// One empty coloured <i> per recent run, oldest first, its class the
/// state letter (p, w, f, u; n where the run did not audit the address).
/// Built as markup here, from that fixed set only, rather than as a Mustache
/// list: an object per cell would cost about a kilobyte each, ten per
/// address of a 100,000-address report. The cells carry no title of their
/// own (the report script names run and status on hover, from the
/// #recent-runs list): ten titles per address would triple the file.
std::string recent_cells(const std::string& states) {
  std::string cells;
  cells.reserve(states.size() * 17);
  for (const char state : states) {
    const bool known = state == 'p' || state == 'w' || state == 'f' || state == 'u';
    cells.append("<i class=\"").append(1, known ? state : 'n').append("\"></i>");
  }
  return cells;
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

mustache::data result_row(const db::ResultRecord& record, const std::string& change) {
  mustache::data row;
  row.set("ip", shown(record.ip));
  row.set("sort_key", detail::address_sort_key(record.ip));
  row.set("family", shown(record.family));
  row.set("status", name_of(record.status));
  row.set("change", change);
  row.set("ptr", string_list(record.ptr));
  mustache::data forward{mustache::data::type::list};
  for (const auto& entry : record.forward) {
    std::string addresses;
    for (const auto& address : entry.addresses) {
      detail::append(addresses, ", ", shown(address));
    }
    mustache::data item;
    item.set("name", shown(entry.name));
    item.set("addresses", addresses.empty() ? "no address" : addresses);
    forward.push_back(item);
  }
  row.set("forward", forward);
  mustache::data findings{mustache::data::type::list};
  std::string codes;
  for (const auto& finding : record.findings) {
    mustache::data item;
    item.set("code", shown(finding.code));
    item.set("severity", std::string(severity_name(finding.severity)));
    item.set("detail", shown(finding.detail));
    findings.push_back(item);
    detail::append(codes, " ", shown(finding.code));
  }
  row.set("findings", findings);
  row.set("code_list", codes);
  row.set("finding_count", std::to_string(record.findings.size()));
  return row;
}

}  // namespace

namespace {

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

}  // namespace

void write_html_report(const ReportData& data, std::ostream& out) {
  const Summary summary = summarize(data);
  const db::RunCounts& counts = summary.counts;

  mustache::data page;
  page.set("csp", content_security_policy());
  page.set("style", std::string(templates::kStyle));
  page.set("script", std::string(templates::kScript));
  page.set("page_size", std::to_string(kPageSize));
  page.set("run_id", std::to_string(data.run.id));
  page.set("started_at", shown(data.run.started_at));
  page.set("finished_at", data.run.finished_at.empty() ? "-" : shown(data.run.finished_at));
  page.set("state", std::string(db::to_string(data.run.state)));
  page.set("incomplete", data.run.state != db::RunState::complete);
  std::string resolvers;
  for (const auto& resolver : data.run.resolvers) {
    detail::append(resolvers, ", ", shown(resolver));
  }
  page.set("resolvers", resolvers.empty() ? "-" : resolvers);
  page.set("tool_version", shown(data.run.tool_version));
  page.set("generated_at", data.generated_at);

  page.set("total", std::to_string(counts.total));
  page.set("pass_rate", percent(counts.pass, counts.total));
  page.set("fail", std::to_string(counts.fail));
  page.set("warn", std::to_string(counts.warn));
  page.set("unknown", std::to_string(counts.unknown));
  page.set("status_chart", status_chart(counts));
  page.set("has_trend", data.history.size() >= 2);
  page.set("trend_chart", trend_chart(data.history));

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

  mustache::data codes{mustache::data::type::list};
  mustache::data code_help{mustache::data::type::list};
  for (const auto& entry : summary.by_code) {
    const audit::CodeEntry* info = audit::find_code(entry.code);
    mustache::data row;
    row.set("code", shown(entry.code));
    row.set("severity", std::string(severity_name(entry.severity)));
    row.set("ips", std::to_string(entry.ips));
    row.set("share", percent(entry.ips, counts.total));
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

  page.set("codes", codes);
  page.set("code_help", code_help);

  std::unordered_map<std::string, ChangeKind> change_of;
  page.set("has_previous", summary.since_previous.has_value());
  if (summary.since_previous) {
    page.set("previous", previous_data(*data.previous, *summary.since_previous));
    for (const auto& change : summary.since_previous->changes) change_of[change.ip] = change.kind;
  }

  // kainjow's set() and push_back() take copies; filling the list in place
  // keeps a 100,000-row report from holding its rows twice. The element is
  // a non-const member of page, so the const_cast is well defined.
  page.set("rows", mustache::data{mustache::data::type::list});
  auto& rows = const_cast<mustache::data&>(*page.get("rows"));
  page.set("recent_runs", recent_runs_data(data.recent_runs));
  // Failures first, then unknown, warn, pass, each in address order: what
  // needs fixing leads, with or without the script (which can re-sort).
  std::vector<const db::ResultRecord*> ordered;
  ordered.reserve(data.results.size());
  for (const auto& record : data.results) ordered.push_back(&record);
  const auto rank = [](Status status) {
    return status == Status::fail      ? 0
           : status == Status::unknown ? 1
           : status == Status::warn    ? 2
                                       : 3;
  };
  std::stable_sort(ordered.begin(), ordered.end(),
                   [&](const db::ResultRecord* a, const db::ResultRecord* b) {
                     return rank(a->status) < rank(b->status);
                   });
  for (const db::ResultRecord* entry : ordered) {
    const db::ResultRecord& record = *entry;
    const auto change = change_of.find(record.ip);
    mustache::data row = result_row(
        record, change == change_of.end() ? "" : std::string(change_label(change->second)));
    const auto states = data.recent_states.find(record.ip);
    row.set("recent", states == data.recent_states.end() ? "" : recent_cells(states->second));
    rows.push_back(row);
  }

  mustache::mustache page_template{std::string(templates::kPage)};
  if (!page_template.is_valid()) {
    throw Error(Errc::internal, "report template: " + page_template.error_message());
  }
  page_template.render(page, [&out](const std::string& text) { out << text; });
}

}  // namespace rdns::reports
