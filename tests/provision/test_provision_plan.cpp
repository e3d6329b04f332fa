// Planning as a pure function: the desired-state CSV format and its errors,
// each plan action with its reason, managed-only deletes, the states drift
// detection compares, and the plan file round trip.

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <provision/plan.hpp>
#include <util/error.hpp>

namespace {

using namespace rdns::provision;

PtrRecord record(const std::string& ip, const std::string& value, int ttl,
                 PtrStatus status = PtrStatus::enabled) {
  PtrRecord r;
  r.record_id = "ptr-" + ip.substr(ip.rfind('.') + 1);
  r.ip = ip;
  r.value = value;
  r.ttl = ttl;
  r.status = status;
  return r;
}

/// Checks that pass, except for the IPs listed as failing.
std::function<WriteCheck(const DesiredPtr&)> checks(std::vector<std::string> failing = {}) {
  return [failing](const DesiredPtr& line) {
    WriteCheck check;
    check.ip = line.ip;
    check.name = line.name;
    check.ttl = line.ttl.value_or(300);
    if (std::find(failing.begin(), failing.end(), line.ip) != failing.end()) {
      check.failures.push_back({WriteRule::ip_owned, line.ip + " IP_OWNED: not ours"});
    }
    return check;
  };
}

std::string input_error(const std::string& text) {
  try {
    parse_desired_csv(text, "d.csv");
  } catch (const rdns::Error& error) {
    CHECK(error.code() == rdns::Errc::input);
    return error.what();
  }
  FAIL("parsed: " << text);
  return {};
}

}  // namespace

TEST_CASE("desired-state CSV: lines, header, comments, TTL", "[provision][plan]") {
  const auto desired = parse_desired_csv(
      "# comment\nip,name,ttl\n\n192.0.2.1, mx1.example.com. ,600\r\n192.0.2.2,mx2.example.com",
      "d.csv");
  REQUIRE(desired.size() == 2);
  CHECK(desired[0].ip == "192.0.2.1");
  CHECK(desired[0].name == "mx1.example.com");
  CHECK(desired[0].ttl == 600);
  CHECK(desired[0].line == 4);
  CHECK_FALSE(desired[1].ttl);
  CHECK(input_error("192.0.2.1\n") == "d.csv line 1: expected ip,name[,ttl], got \"192.0.2.1\"");
  CHECK(input_error("192.0.2.1,a.example.com,ten\n") ==
        "d.csv line 1: TTL \"ten\" is not a number");
  CHECK(input_error("192.0.2.1,a.example.com\n192.0.2.1,b.example.com\n") ==
        "d.csv line 2: 192.0.2.1 already has a value on line 1 (one PTR per IP)");
  CHECK(input_error("192.0.2.1,a,b,c\n").starts_with("d.csv line 1: expected"));
}

TEST_CASE("plan: every action with its reason", "[provision][plan]") {
  PlanInputs inputs;
  inputs.remote = {record("192.0.2.2", "old.example.com", 300),
                   record("192.0.2.3", "mx3.example.com", 300),
                   record("192.0.2.4", "mx4.example.com", 300, PtrStatus::disabled),
                   record("192.0.2.5", "mx5.example.com", 300),
                   record("192.0.2.8", "gone.example.com", 300),
                   record("192.0.2.9", "other.example.com", 300)};
  inputs.managed = {"192.0.2.8"};
  inputs.check = checks({"192.0.2.6"});
  const auto desired = parse_desired_csv(
      "192.0.2.1,mx1.example.com\n"
      "192.0.2.2,mx2.example.com\n"
      "192.0.2.3,MX3.example.com\n"
      "192.0.2.4,mx4.example.com\n"
      "192.0.2.5,mx5.example.com,60\n"
      "192.0.2.6,mx6.example.com\n",
      "d.csv");
  const Plan plan = make_plan(desired, inputs);
  REQUIRE(plan.items.size() == 8);
  CHECK(plan.existing == 6);
  CHECK(plan.items[0].action == PlanAction::create);
  CHECK(plan.items[0].ttl == 300);  // from the check: the A record's TTL
  CHECK(plan.items[1].action == PlanAction::update);
  CHECK(plan.items[1].reason == "value old.example.com -> mx2.example.com");
  CHECK(plan.items[2].action == PlanAction::noop);  // names compare case-insensitively
  CHECK(plan.items[3].action == PlanAction::enable);
  CHECK(plan.items[4].action == PlanAction::update);
  CHECK(plan.items[4].reason == "TTL 300 -> 60");
  CHECK(plan.items[5].action == PlanAction::blocked);
  CHECK(plan.items[5].reason == "192.0.2.6 IP_OWNED: not ours");
  CHECK(plan.items[6].ip == "192.0.2.8");
  CHECK(plan.items[6].action == PlanAction::remove);  // managed, absent from the file
  CHECK(plan.items[7].ip == "192.0.2.9");
  CHECK(plan.items[7].action == PlanAction::noop);  // not managed: left alone

  inputs.delete_unmanaged = true;
  CHECK(make_plan(desired, inputs).items[7].action == PlanAction::remove);
}

TEST_CASE("plan: a provider that chooses the TTL gets no TTL-only updates", "[provision][plan]") {
  PlanInputs inputs;
  inputs.remote = {record("192.0.2.5", "mx5.example.com", 300)};
  inputs.check = checks();
  inputs.fixed_ttl = 300;
  const Plan plan = make_plan(
      parse_desired_csv("192.0.2.5,mx5.example.com,60\n192.0.2.7,mx7.example.com,60\n", "d.csv"),
      inputs);
  REQUIRE(plan.items.size() == 2);
  CHECK(plan.items[0].action == PlanAction::noop);
  CHECK(plan.items[1].action == PlanAction::create);
}

TEST_CASE("plan: states before and after, and the JSON round trip", "[provision][plan]") {
  PlanInputs inputs;
  inputs.remote = {record("192.0.2.2", "old.example.com", 300)};
  inputs.check = checks();
  Plan plan = make_plan(parse_desired_csv("192.0.2.1,a.example.com,60\n"
                                          "192.0.2.2,b.example.com,60\n",
                                          "d.csv"),
                        inputs);
  plan.region = "cn-hangzhou";
  plan.source = "d.csv";
  const RecordState created = state_after(plan.items[0]);
  CHECK(created.exists);
  CHECK(created.value == "a.example.com");
  CHECK(same_state(created, state_of({record("192.0.2.1", "A.example.com", 60)}, "192.0.2.1")));
  CHECK_FALSE(same_state(plan.items[1].before, state_after(plan.items[1])));
  CHECK_FALSE(
      same_state(plan.items[1].before, state_of({record("192.0.2.2", "old.example.com", 30)},
                                                "192.0.2.2")));  // drift: another TTL

  const Plan loaded = plan_from_json(plan_to_json(plan), "p.json");
  REQUIRE(loaded.items.size() == 2);
  CHECK(loaded.region == "cn-hangzhou");
  CHECK(loaded.existing == 1);
  CHECK(loaded.items[1].before == plan.items[1].before);
  CHECK(loaded.items[1].action == PlanAction::update);
  CHECK_THROWS_AS(plan_from_json("{\"rdnsctl_plan\": 2}", "p.json"), rdns::Error);
  CHECK_THROWS_AS(plan_from_json("not json", "p.json"), rdns::Error);
}

TEST_CASE("a plan file with numbers out of range is an input error naming the field",
          "[provision][plan]") {
  // A plan may have been edited by hand: 1e99 or 600.5 must not reach an int.
  const std::string item = R"({"ip": "192.0.2.1", "action": "create", "value": "a.example.com",
      "reason": "", "before": null, "ttl": TTL})";
  const auto plan_with = [&](const std::string& ttl, const std::string& format = "1") {
    std::string text = item;
    text.replace(text.find("TTL"), 3, ttl);
    return R"({"rdnsctl_plan": )" + format +
           R"(, "region": "r", "source": "s", "existing_records": 0, "items": [)" + text + "]}";
  };
  CHECK(plan_from_json(plan_with("600"), "p.json").items.at(0).ttl == 600);
  for (const std::string ttl : {"1e99", "600.5", "-1", "4294967296", "\"600\""}) {
    INFO(ttl);
    try {
      plan_from_json(plan_with(ttl), "p.json");
      FAIL("accepted");
    } catch (const rdns::Error& error) {
      CHECK(error.code() == rdns::Errc::input);
      CHECK_THAT(error.what(), Catch::Contains("p.json"));
    }
  }
  CHECK_THROWS_AS(plan_from_json(plan_with("600", "1e300"), "p.json"), rdns::Error);
}
