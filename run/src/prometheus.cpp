// Prometheus text exposition format 0.0.4, as node_exporter's textfile
// collector reads it; names follow https://prometheus.io/docs/practices/naming/.

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <run/prometheus.hpp>
#include <util/error.hpp>
#include <util/output_file.hpp>

namespace rdns::run {
namespace {

constexpr const char* kLastSuccess = "rdnsctl_last_success_timestamp_seconds";

/// Label values may hold any text; the format escapes backslash, quote and newline.
std::string label_value(const std::string& text) {
  std::string escaped;
  for (const char c : text) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '"') {
      escaped += "\\\"";
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

void family(std::string& out, const char* name, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", name, help, name);
}

/// The success time a previous file recorded, so a failed run does not
/// erase when the audit last worked; negative when there is none.
double previous_last_success(const std::filesystem::path& path) {
  std::ifstream file(path);
  std::string line;
  const std::string prefix = std::string(kLastSuccess) + " ";
  while (std::getline(file, line)) {
    if (line.rfind(prefix, 0) != 0) continue;
    try {
      return std::stod(line.substr(prefix.size()));
    } catch (const std::exception&) {
      return -1;
    }
  }
  return -1;
}

}  // namespace

void count_findings(RunMetrics& metrics, const std::vector<db::FindingRecord>& findings) {
  for (const db::FindingRecord& finding : findings) {
    const std::pair<std::string_view, Severity> key(finding.code, finding.severity);
    auto found = metrics.findings.find(key);
    if (found == metrics.findings.end()) {
      found = metrics.findings.emplace(std::pair(finding.code, finding.severity), 0).first;
    }
    ++found->second;
  }
}

void record_changes(RunMetrics& metrics, const reports::Comparison& comparison) {
  metrics.compared_with = comparison.previous.id;
  metrics.changes.clear();
  for (const auto kind : reports::kChangeKinds) {
    metrics.changes[std::string(reports::to_string(kind))] =
        static_cast<std::int64_t>(comparison.counts.count(kind));
  }
  metrics.changes["unchanged"] = static_cast<std::int64_t>(comparison.counts.unchanged);
}

std::string prometheus_text(const RunMetrics& metrics, double now, double last_success) {
  std::string out;
  family(out, "rdnsctl_ips", "Addresses the last rdnsctl run audited, by status.");
  for (const Status status : kStatuses) {
    out += fmt::format("rdnsctl_ips{{status=\"{}\"}} {}\n", status_name(status),
                       metrics.counts.of(status));
  }
  family(out, "rdnsctl_findings",
         "Findings of the last rdnsctl run, by code and severity (one per address).");
  for (const auto& [key, value] : metrics.findings) {
    out += fmt::format("rdnsctl_findings{{code=\"{}\",severity=\"{}\"}} {}\n",
                       label_value(key.first), severity_name(key.second), value);
  }
  if (metrics.compared_with != 0) {
    family(out, "rdnsctl_changed_ips",
           "Addresses of the last rdnsctl run by how their result changed since the previous "
           "complete run of the same inventory or targets.");
    for (const auto& [change, value] : metrics.changes) {
      out += fmt::format("rdnsctl_changed_ips{{change=\"{}\"}} {}\n", label_value(change), value);
    }
    family(out, "rdnsctl_compared_run_id",
           "The stored run the last rdnsctl run was compared with.");
    out += fmt::format("rdnsctl_compared_run_id {}\n", metrics.compared_with);
  }
  family(out, "rdnsctl_run_duration_seconds", "Wall-clock time the last rdnsctl run took.");
  out += fmt::format("rdnsctl_run_duration_seconds {:.3f}\n", metrics.duration_seconds);
  family(out, "rdnsctl_run_success",
         "1 when the last rdnsctl run completed with answers from the resolver, else 0.");
  out += fmt::format("rdnsctl_run_success {}\n", metrics.success ? 1 : 0);
  family(out, "rdnsctl_last_run_timestamp_seconds", "Unix time the last rdnsctl run ended.");
  out += fmt::format("rdnsctl_last_run_timestamp_seconds {:.3f}\n", now);
  if (last_success >= 0) {
    family(out, kLastSuccess, "Unix time the last successful rdnsctl run ended.");
    out += fmt::format("{} {:.3f}\n", kLastSuccess, last_success);
  }
  return out;
}

void write_prometheus_textfile(const std::filesystem::path& path, const RunMetrics& metrics) {
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const double last_success = metrics.success ? now : previous_last_success(path);
  const std::string text = prometheus_text(metrics, now, last_success);
  // node_exporter usually runs as another user: the file must be readable.
  // The temporary name has no .prom suffix, so the collector ignores it.
  write_output_file(path.string(), text, "the Prometheus textfile", {.mode = 0644, .sync = true});
}

}  // namespace rdns::run
