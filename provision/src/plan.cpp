#include <algorithm>
#include <limits>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <provision/plan.hpp>
#include <util/ascii.hpp>
#include <util/error.hpp>
#include <util/escape.hpp>

namespace rdns::provision {
namespace {

using Json = nlohmann::json;

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r");
  return std::string(text.substr(first, last - first + 1));
}

std::string without_dot(std::string name) {
  if (name.ends_with('.')) name.pop_back();
  return name;
}

std::string join_failures(const WriteCheck& check) {
  std::string text;
  for (const auto& failure : check.failures) text += (text.empty() ? "" : "; ") + failure.message;
  return text;
}

PlanAction action_from(const std::string& text, const std::string& source) {
  for (const PlanAction action : {PlanAction::create, PlanAction::update, PlanAction::enable,
                                  PlanAction::remove, PlanAction::noop, PlanAction::blocked}) {
    if (text == to_string(action)) return action;
  }
  throw Error(Errc::input, source + ": unknown plan action \"" + text + "\"");
}

Json state_json(const RecordState& state) {
  if (!state.exists) return nullptr;
  return {{"record_id", state.record_id},
          {"value", state.value},
          {"ttl", state.ttl},
          {"status", state.status == PtrStatus::enabled ? "enabled" : "disabled"}};
}

/// object[key] as a whole number within [low, high]: a plan file may have
/// been edited, and 1e99 or 600.5 must not reach an int silently.
long long whole_number(const Json& object, const char* key, long long low, long long high,
                       const std::string& source) {
  const Json& value = object.at(key);
  if (value.is_number_unsigned()) {
    if (value.get<unsigned long long>() <= static_cast<unsigned long long>(high)) {
      return static_cast<long long>(value.get<unsigned long long>());
    }
  } else if (value.is_number_integer()) {
    const long long number = value.get<long long>();
    if (number >= low && number <= high) return number;
  }
  throw Error(Errc::input, fmt::format("{}: \"{}\" must be a whole number from {} to {}", source,
                                       key, low, high));
}

constexpr long long kMaxInt = std::numeric_limits<int>::max();

RecordState state_from(const Json& json, const std::string& source) {
  RecordState state;
  if (json.is_null()) return state;
  state.exists = true;
  state.record_id = json.at("record_id").get<std::string>();
  state.value = json.at("value").get<std::string>();
  state.ttl = static_cast<int>(whole_number(json, "ttl", 0, kMaxInt, source));
  state.status =
      json.at("status").get<std::string>() == "disabled" ? PtrStatus::disabled : PtrStatus::enabled;
  return state;
}

}  // namespace

std::vector<DesiredPtr> parse_desired_csv(std::string_view text, const std::string& source) {
  std::vector<DesiredPtr> out;
  std::map<std::string, int> seen;
  int number = 0;
  std::size_t at = 0;
  while (at <= text.size()) {
    const auto end = std::min(text.find('\n', at), text.size());
    const std::string line = trim(text.substr(at, end - at));
    at = end + 1;
    ++number;
    if (line.empty() || line.front() == '#') {
      if (end == text.size()) break;
      continue;
    }
    std::vector<std::string> cells;
    std::size_t from = 0;
    for (;;) {
      const auto comma = line.find(',', from);
      cells.push_back(trim(std::string_view(line).substr(
          from, comma == std::string::npos ? std::string::npos : comma - from)));
      if (comma == std::string::npos) break;
      from = comma + 1;
    }
    const auto where = fmt::format("{} line {}", source, number);
    if (out.empty() && seen.empty() && ascii_lower(cells.front()) == "ip") {
      if (end == text.size()) break;
      continue;  // the header
    }
    if (cells.size() < 2 || cells.size() > 3 || cells[0].empty() || cells[1].empty()) {
      throw Error(Errc::input,
                  where + ": expected ip,name[,ttl], got \"" + escape_text(line) + "\"");
    }
    DesiredPtr desired{cells[0], without_dot(cells[1]), std::nullopt, number};
    if (cells.size() == 3 && !cells[2].empty()) {
      try {
        std::size_t used = 0;
        desired.ttl = std::stoi(cells[2], &used);
        if (used != cells[2].size()) throw std::invalid_argument("trailing");
      } catch (const std::exception&) {
        throw Error(Errc::input, where + ": TTL \"" + escape_text(cells[2]) + "\" is not a number");
      }
    }
    if (const auto [it, fresh] = seen.emplace(desired.ip, number); !fresh) {
      throw Error(Errc::input, fmt::format("{}: {} already has a value on line {} (one PTR per IP)",
                                           where, desired.ip, it->second));
    }
    out.push_back(std::move(desired));
    if (end == text.size()) break;
  }
  return out;
}

const char* to_string(PlanAction action) {
  switch (action) {
    case PlanAction::create:
      return "create";
    case PlanAction::update:
      return "update";
    case PlanAction::enable:
      return "enable";
    case PlanAction::remove:
      return "delete";
    case PlanAction::noop:
      return "no-op";
    case PlanAction::blocked:
      return "blocked";
  }
  return "no-op";
}

RecordState state_of(const std::vector<PtrRecord>& records, const std::string& ip) {
  RecordState state;
  for (const auto& record : records) {
    if (record.ip != ip) continue;
    state.exists = true;
    state.record_id = record.record_id;
    state.value = record.value;
    state.ttl = record.ttl;
    state.status = record.status;
  }
  return state;
}

RecordState state_after(const PlanItem& item) {
  RecordState after = item.before;
  switch (item.action) {
    case PlanAction::create:
    case PlanAction::update:
      after.exists = true;
      after.value = item.value;
      after.ttl = item.ttl;
      if (item.action == PlanAction::create) after.status = PtrStatus::enabled;
      break;
    case PlanAction::enable:
      after.status = PtrStatus::enabled;
      break;
    case PlanAction::remove:
      after = RecordState{};
      break;
    case PlanAction::noop:
    case PlanAction::blocked:
      break;
  }
  return after;
}

bool same_state(const RecordState& a, const RecordState& b) {
  if (a.exists != b.exists) return false;
  if (!a.exists) return true;
  const bool ids = a.record_id.empty() || b.record_id.empty() || a.record_id == b.record_id;
  return ids && ascii_lower(a.value) == ascii_lower(b.value) && a.ttl == b.ttl &&
         a.status == b.status;
}

Plan make_plan(const std::vector<DesiredPtr>& desired, const PlanInputs& inputs) {
  Plan plan;
  plan.existing = inputs.remote.size();
  std::set<std::string> wanted;
  for (const DesiredPtr& line : desired) {
    wanted.insert(line.ip);
    PlanItem item;
    item.ip = line.ip;
    item.before = state_of(inputs.remote, line.ip);
    const RecordState& before = item.before;
    const bool same_value = before.exists && ascii_lower(before.value) == ascii_lower(line.name);
    const bool ttl_asked = line.ttl && !inputs.fixed_ttl;
    if (same_value && (!ttl_asked || *line.ttl == before.ttl)) {
      item.value = before.value;
      item.ttl = before.ttl;
      if (before.status == PtrStatus::enabled) {
        item.action = PlanAction::noop;
        item.reason = "already " + before.value;
        plan.items.push_back(std::move(item));
        continue;
      }
      item.action = PlanAction::enable;
      item.reason = "the record is disabled";
    } else if (!before.exists) {
      item.action = PlanAction::create;
      item.reason = "no PTR record";
    } else {
      item.action = PlanAction::update;
      item.reason = same_value ? fmt::format("TTL {} -> {}", before.ttl, *line.ttl)
                               : fmt::format("value {} -> {}", before.value, line.name);
    }
    // Every step that writes must pass the checks a single `ptr set` would.
    const WriteCheck check = inputs.check(line);
    item.warnings = check.warnings;
    if (!check.ok()) {
      item.action = PlanAction::blocked;
      item.value = line.name;
      item.ttl = line.ttl.value_or(check.ttl);
      item.reason = join_failures(check);
    } else if (item.action != PlanAction::enable) {
      item.value = check.name;
      item.ttl = check.ttl;
    }
    plan.items.push_back(std::move(item));
  }
  std::vector<PtrRecord> rest;
  for (const auto& record : inputs.remote) {
    if (!wanted.contains(record.ip)) rest.push_back(record);
  }
  std::sort(rest.begin(), rest.end(),
            [](const PtrRecord& a, const PtrRecord& b) { return a.ip < b.ip; });
  for (const auto& record : rest) {
    PlanItem item;
    item.ip = record.ip;
    item.before = state_of(inputs.remote, record.ip);
    item.value = record.value;
    item.ttl = record.ttl;
    if (inputs.managed.contains(record.ip)) {
      item.action = PlanAction::remove;
      item.reason = "not in the desired state; managed by rdnsctl";
    } else if (inputs.delete_unmanaged) {
      item.action = PlanAction::remove;
      item.reason = "not in the desired state (--delete-unmanaged)";
    } else {
      item.action = PlanAction::noop;
      item.reason =
          "not in the desired state but not managed by rdnsctl: left alone "
          "(--delete-unmanaged deletes it)";
    }
    if (item.action == PlanAction::remove) item.value.clear();
    plan.items.push_back(std::move(item));
  }
  return plan;
}

std::string plan_to_json(const Plan& plan) {
  Json items = Json::array();
  for (const auto& item : plan.items) {
    items.push_back({{"ip", item.ip},
                     {"action", to_string(item.action)},
                     {"value", item.value},
                     {"ttl", item.ttl},
                     {"reason", item.reason},
                     {"before", state_json(item.before)},
                     {"warnings", item.warnings}});
  }
  const Json json = {{"rdnsctl_plan", plan.format},
                     {"region", plan.region},
                     {"source", plan.source},
                     {"existing_records", plan.existing},
                     {"items", items}};
  return json.dump(2) + "\n";
}

Plan plan_from_json(std::string_view text, const std::string& source) {
  try {
    const Json json = Json::parse(text);
    Plan plan;
    plan.format = static_cast<int>(whole_number(json, "rdnsctl_plan", 0, kMaxInt, source));
    if (plan.format != 1) {
      throw Error(Errc::input,
                  fmt::format("{}: plan format {} is not supported (1 is)", source, plan.format));
    }
    plan.region = json.at("region").get<std::string>();
    plan.source = json.at("source").get<std::string>();
    plan.existing = static_cast<std::size_t>(
        whole_number(json, "existing_records", 0, std::numeric_limits<long long>::max(), source));
    for (const auto& entry : json.at("items")) {
      PlanItem item;
      item.ip = entry.at("ip").get<std::string>();
      item.action = action_from(entry.at("action").get<std::string>(), source);
      item.value = entry.at("value").get<std::string>();
      item.ttl = static_cast<int>(whole_number(entry, "ttl", 0, kMaxInt, source));
      item.reason = entry.at("reason").get<std::string>();
      item.before = state_from(entry.at("before"), source);
      item.warnings = entry.value("warnings", std::vector<std::string>{});
      plan.items.push_back(std::move(item));
    }
    return plan;
  } catch (const Json::exception& error) {
    // The byte offset, not the text: a plan is ours, its content needs no echo.
    throw Error(Errc::input, source + ": not an rdnsctl plan (" + error.what() + ")");
  }
}

}  // namespace rdns::provision
