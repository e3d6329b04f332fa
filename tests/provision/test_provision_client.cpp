// The client against the running emulator: typed errors, the retry policy
// under injected faults (attempt counts and measured delays), reconciliation
// of a create whose answer was lost, connection reuse and the loopback guard.

#include <chrono>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <provision/api_error.hpp>
#include <provision/ptr_client.hpp>

#include "../emulator/emulator_process.hpp"

namespace {

using namespace rdns::provision;
using namespace std::chrono_literals;
using rdns::test::EmulatorProcess;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

/// Attempts seen through ClientConfig::on_attempt.
struct Recorder {
  std::vector<AttemptEvent> events;
  void attach(ClientConfig& config) {
    config.on_attempt = [this](const AttemptEvent& event) { events.push_back(event); };
  }
};

void inject(const EmulatorProcess& emulator, const std::string& faults) {
  emulator.admin("POST", "faults", R"({"faults": )" + faults + "}");
}

/// Publishes the TXT that verifies value's domain, as its owner would.
void publish_verification(PtrClient& client, const std::string& value) {
  const auto txt = client.verification_txt(value);
  rdns::test::publish_txt(txt.fqdn(), txt.value);
}

}  // namespace

TEST_CASE("retries throttling and 5xx with growing, jittered backoff", "[provision][retry]") {
  EmulatorProcess emulator;
  ClientConfig config = emulator.client_config();  // base 40 ms, cap 400 ms, 4 attempts
  Recorder recorder;
  recorder.attach(config);
  PtrClient client(config, rdns::test::test_credentials());

  SECTION("throttled twice, then answered") {
    inject(emulator, R"([{"kind": "error", "http_status": 400, "code": "Throttling.User",
                          "count": 2}])");
    const auto start = Clock::now();
    CHECK_NOTHROW(client.describe());
    const auto elapsed = Clock::now() - start;
    REQUIRE(recorder.events.size() == 3);
    CHECK(recorder.events[0].outcome == "Throttling.User");
    CHECK(recorder.events[2].outcome == "OK");
    // Equal jitter: step/2..step, steps 40 then 80 ms.
    CHECK(recorder.events[1].waited >= 20ms);
    CHECK(recorder.events[1].waited <= 40ms);
    CHECK(recorder.events[2].waited >= 40ms);
    CHECK(recorder.events[2].waited <= 80ms);
    CHECK(elapsed >= 60ms);
    CHECK(elapsed < 2s);
  }
  SECTION("503 until attempts run out") {
    inject(emulator, R"([{"kind": "error", "http_status": 503, "code": "ServiceUnavailable",
                          "count": -1}])");
    try {
      client.describe();
      FAIL("succeeded");
    } catch (const ApiError& error) {
      CHECK(error.kind() == ApiErrorKind::unavailable);
      CHECK(error.http_status() == 503);
      CHECK(error.attempts() == 4);
      CHECK(error.code() == rdns::Errc::cloud);
      CHECK(!error.request_id().empty());
    }
    REQUIRE(recorder.events.size() == 4);
    CHECK(recorder.events[3].waited >= 80ms);  // third step: 160 ms, half fixed
    CHECK(recorder.events[3].waited <= 160ms);
    const Json stats = Json::parse(emulator.admin("GET", "stats"));
    CHECK(stats["Actions"]["DescribePtrRecords"] == 4);
  }
  SECTION("500 once") {
    inject(emulator, R"([{"kind": "error", "http_status": 500, "code": "InternalError"}])");
    CHECK_NOTHROW(client.describe());
    CHECK(recorder.events.size() == 2);
  }
  SECTION("a dropped connection is retried") {
    inject(emulator, R"([{"kind": "drop", "count": 1}])");
    CHECK_NOTHROW(client.describe());
    REQUIRE(recorder.events.size() == 2);
    CHECK(recorder.events[0].outcome == "Network.ConnectionReset");
  }
  SECTION("a slow answer within the timeout is waited for") {
    inject(emulator, R"([{"kind": "slow", "delay_ms": 300}])");
    const auto start = Clock::now();
    CHECK_NOTHROW(client.describe());
    CHECK(Clock::now() - start >= 300ms);
    CHECK(recorder.events.size() == 1);
  }
  SECTION("a slow answer past the timeout is retried") {
    inject(emulator, R"([{"kind": "slow", "delay_ms": 2500}])");  // timeout is 2 s
    const auto start = Clock::now();
    CHECK_NOTHROW(client.describe());
    REQUIRE(recorder.events.size() == 2);
    CHECK(recorder.events[0].outcome == "Network.Timeout");
    CHECK(Clock::now() - start >= 2s);
  }
}

TEST_CASE("never retries validation and auth errors", "[provision][retry]") {
  EmulatorProcess emulator;
  ClientConfig config = emulator.client_config();
  Recorder recorder;
  recorder.attach(config);
  SECTION("validation") {
    config.validation = LocalValidation::off;
    PtrClient client(config, rdns::test::test_credentials());
    CHECK_THROWS_AS(client.create("198.51.100.10", "mx1.mailcorp.test", 0), ApiError);
    CHECK(recorder.events.size() == 1);
  }
  SECTION("auth") {
    PtrClient client(config, rdns::test::credentials(rdns::test::kKeyId, "wrong"));
    CHECK_THROWS_AS(client.describe(), ApiError);
    CHECK(recorder.events.size() == 1);
  }
  SECTION("forbidden, injected") {
    inject(emulator, R"([{"kind": "error", "http_status": 403, "code": "Forbidden.RAM"}])");
    PtrClient client(config, rdns::test::test_credentials());
    try {
      client.describe();
      FAIL("succeeded");
    } catch (const ApiError& error) {
      CHECK(error.kind() == ApiErrorKind::auth);
    }
    CHECK(recorder.events.size() == 1);
  }
}

TEST_CASE("re-signs once on a used nonce or an expired timestamp", "[provision][retry]") {
  EmulatorProcess emulator;
  ClientConfig config = emulator.client_config();
  Recorder recorder;
  recorder.attach(config);
  PtrClient client(config, rdns::test::test_credentials());
  const char* code = GENERATE("SignatureNonceUsed", "InvalidTimeStamp.Expired");
  inject(emulator, std::string(R"([{"kind": "error", "http_status": 400, "code": ")") + code +
                       R"(", "count": 1}])");
  CHECK_NOTHROW(client.describe());
  REQUIRE(recorder.events.size() == 2);
  CHECK(recorder.events[1].waited == 0ms);
}

TEST_CASE("a create whose answer was lost is reconciled, not repeated", "[provision][retry]") {
  EmulatorProcess emulator;
  ClientConfig config = emulator.client_config();
  Recorder recorder;
  recorder.attach(config);
  PtrClient client(config, rdns::test::test_credentials());
  publish_verification(client, "mx1.mailcorp.test");
  // The emulator creates the record, then closes the connection unanswered.
  inject(emulator, R"([{"action": "AddPtrRecord", "kind": "drop_after"}])");
  const PtrRecord record = client.create("198.51.100.10", "mx1.mailcorp.test");
  CHECK(record.record_id == "ptr-1");
  const Json stats = Json::parse(emulator.admin("GET", "stats"));
  CHECK(stats["Actions"]["AddPtrRecord"] == 1);  // no second create, no duplicate error
  CHECK(stats["Records"] == 1);
}

TEST_CASE("a write whose answer was lost on a kept-alive connection is never re-sent as is",
          "[provision][retry]") {
  EmulatorProcess emulator;
  ClientConfig config = emulator.client_config();
  Recorder recorder;
  recorder.attach(config);
  PtrClient client(config, rdns::test::test_credentials());
  publish_verification(client, "mx1.mailcorp.test");
  const PtrRecord record = client.create("198.51.100.10", "mx1.mailcorp.test");
  client.describe();  // leaves a kept-alive connection for the delete to reuse
  // The emulator deletes the record, then closes the connection unanswered.
  inject(emulator, R"([{"action": "DeletePtrRecord", "kind": "drop_after"}])");
  client.remove(record.record_id);
  const Json stats = Json::parse(emulator.admin("GET", "stats"));
  // One delete: libcurl did not replay it (SignatureNonceUsed), and the
  // client found the record gone instead of deleting it again (NotFound).
  CHECK(stats["Actions"]["DeletePtrRecord"] == 1);
  CHECK(stats["Records"] == 0);
  CHECK_FALSE(emulator.output().find("SignatureNonceUsed") != std::string::npos);
  std::vector<std::string> deletes;
  for (const auto& event : recorder.events) {
    if (event.action == "DeletePtrRecord") deletes.push_back(event.outcome);
  }
  CHECK(deletes == std::vector<std::string>{"Network.ConnectionReset"});
}

TEST_CASE("one connection serves many calls", "[provision][client]") {
  EmulatorProcess emulator;
  PtrClient client(emulator.client_config(), rdns::test::test_credentials());
  for (int i = 0; i < 5; ++i) client.describe();
  const Json stats = Json::parse(emulator.admin("GET", "stats"));
  CHECK(stats["Connections"] == 2);  // the client's one and this admin call's
  CHECK(stats["Requests"] == 5);
}

TEST_CASE("loopback-only clients refuse real endpoints", "[provision][client]") {
  ClientConfig config;
  config.region = "cn-hangzhou";
  config.scope = NetworkScope::loopback_only;
  PtrClient client(config, rdns::test::test_credentials());
  try {
    client.describe();
    FAIL("a loopback-only client called alidns.cn-hangzhou.aliyuncs.com");
  } catch (const rdns::Error& error) {
    CHECK(error.code() == rdns::Errc::usage);
    CHECK(std::string(error.what()).find("alidns.cn-hangzhou.aliyuncs.com") != std::string::npos);
  }
  config.endpoint = "http://localhost:1";  // a name, not a literal: could resolve anywhere
  CHECK_THROWS_AS(PtrClient(config, rdns::test::test_credentials()).describe(), rdns::Error);
}

TEST_CASE("nothing listening is a network error after retries", "[provision][retry]") {
  ClientConfig config;
  config.region = "cn-hangzhou";
  config.scope = NetworkScope::loopback_only;
  config.endpoint = "http://127.0.0.1:1";
  config.retry.base_delay = 5ms;
  config.retry.max_attempts = 3;
  PtrClient client(config, rdns::test::test_credentials());
  try {
    client.describe();
    FAIL("succeeded");
  } catch (const ApiError& error) {
    CHECK(error.kind() == ApiErrorKind::network);
    CHECK(error.api_code() == "Network.ConnectionRefused");
    CHECK(error.attempts() == 3);
    CHECK(error.http_status() == 0);
  }
}

TEST_CASE("validate_ptr_request", "[provision][rules]") {
  CHECK_NOTHROW(validate_ptr_request("198.51.100.10", "mx1.example.com", 600));
  CHECK_NOTHROW(validate_ptr_request("198.51.100.10", "mx1.example.com.", 1));
  CHECK_THROWS_AS(validate_ptr_request("2001:db8::1", "mx1.example.com", 600), rdns::Error);
  CHECK_THROWS_AS(validate_ptr_request("198.51.100.10", "*.example.com", 600), rdns::Error);
  CHECK_THROWS_AS(validate_ptr_request("198.51.100.10", "192.0.2.1", 600), rdns::Error);
  CHECK_THROWS_AS(validate_ptr_request("198.51.100.10", "localhost", 600), rdns::Error);
  CHECK_THROWS_AS(validate_ptr_request("198.51.100.10", "mx1.example.com", 86401), rdns::Error);
  CHECK(reverse_name("1.2.3.4") == "4.3.2.1.in-addr.arpa");
  CHECK(root_domain("Mail.Example.COM.") == "example.com");
}

TEST_CASE("ActionTable::from_json", "[provision][config]") {
  const ActionTable table = ActionTable::from_json(
      R"({"actions": {"create": {"action": "CreatePtr", "signature": "v2",
                                  "params": {"ip": "Ip"}}},
          "endpoints": {"alidns": "dns.{region}.example.test"}})",
      "test.json");
  CHECK(table.create.action == "CreatePtr");
  CHECK(table.create.signature == SignatureVersion::v2);
  CHECK(table.create.wire("ip") == "Ip");
  CHECK(table.create.wire("value") == "Value");
  CHECK(table.endpoint_for("alidns", "cn-x") == "https://dns.cn-x.example.test");
  CHECK(table.endpoint_for("vpc", "cn-hangzhou") == "https://vpc.aliyuncs.com");
  CHECK_THROWS_WITH(ActionTable::from_json(R"({"actions": {"frobnicate": {}}})", "t.json"),
                    Catch::Contains("t.json") && Catch::Contains("frobnicate"));
}
