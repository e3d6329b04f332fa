#include <util/verdict.hpp>

namespace rdns {
namespace {

template <typename Value, std::size_t N>
std::optional<Value> parse_name(const std::array<Value, N>& values, std::string_view name,
                                std::string_view (*name_of)(Value)) {
  for (const Value value : values) {
    if (name_of(value) == name) return value;
  }
  return std::nullopt;
}

}  // namespace

std::string_view severity_name(Severity severity) {
  switch (severity) {
    case Severity::info:
      return "info";
    case Severity::warning:
      return "warning";
    case Severity::error:
      return "error";
  }
  return "error";
}

std::string_view status_name(Status status) {
  switch (status) {
    case Status::pass:
      return "pass";
    case Status::warn:
      return "warn";
    case Status::fail:
      return "fail";
    case Status::unknown:
      return "unknown";
  }
  return "unknown";
}

std::optional<Severity> parse_severity(std::string_view name) {
  return parse_name(kSeverities, name, severity_name);
}

std::optional<Status> parse_status(std::string_view name) {
  return parse_name(kStatuses, name, status_name);
}

}  // namespace rdns
