// The emulator as a client meets it: real signatures over HTTP, every rule
// of the seed, publication into Knot, reclamation and billing.

#include <string>

#include <catch2/catch.hpp>
#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <provision/api_error.hpp>
#include <provision/ptr_client.hpp>
#include <provision/signing.hpp>

#include "emulator_process.hpp"

namespace {

using namespace rdns::provision;
using rdns::test::EmulatorProcess;
using Json = nlohmann::json;

std::size_t collect(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

/// An answer of a hand-made request.
struct RawAnswer {
  long status = 0;
  Json body;
};

// A V3-signed DescribePtrRecords made by hand, so a test can change the
// request after signing it.
RawAnswer raw_v3(const EmulatorProcess& emulator, const std::string& region_sent,
                 const std::string& secret, const std::string& unsigned_header = {}) {
  const std::string host = emulator.endpoint().substr(7);
  SignableRequest request;
  request.method = "POST";
  request.query = {{"RegionId", rdns::test::kRegion}};
  request.headers = {{"host", host},
                     {"x-acs-action", "DescribePtrRecords"},
                     {"x-acs-version", "2015-01-09"},
                     {"x-acs-date", iso8601_utc(std::time(nullptr))},
                     {"x-acs-signature-nonce", new_nonce()},
                     {"x-acs-content-sha256", sha256_hex("")}};
  const auto signature = sign_v3(request, rdns::test::kKeyId, secret);
  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers) {
    if (name != "host") headers = curl_slist_append(headers, (name + ": " + value).c_str());
  }
  headers = curl_slist_append(headers, ("Authorization: " + signature.authorization).c_str());
  headers = curl_slist_append(headers, "Content-Type:");
  if (!unsigned_header.empty()) headers = curl_slist_append(headers, unsigned_header.c_str());
  const std::string url = emulator.endpoint() + "/?RegionId=" + region_sent;
  std::string body;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROXY, "");
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  REQUIRE(curl_easy_perform(curl) == CURLE_OK);
  RawAnswer answer;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.status);
  curl_easy_cleanup(curl);
  curl_slist_free_all(headers);
  answer.body = Json::parse(body);
  return answer;
}

ApiErrorKind kind_of(const std::function<void()>& call, std::string* code = nullptr) {
  try {
    call();
  } catch (const ApiError& error) {
    if (code != nullptr) *code = error.api_code();
    return error.kind();
  }
  FAIL("the call succeeded");
  return ApiErrorKind::unknown;
}

// Publishes the verification TXT for value's root domain, as its owner would.
void verify_domain(PtrClient& client, const std::string& value) {
  const VerificationTxt txt = client.verification_txt(value);
  rdns::test::publish_txt(txt.fqdn(), txt.value);
}

PtrClient client_for(const EmulatorProcess& emulator, LocalValidation validation) {
  ClientConfig config = emulator.client_config();
  config.validation = validation;
  return PtrClient(config, rdns::test::test_credentials());
}

}  // namespace

TEST_CASE("emulator verifies V3 signatures", "[emulator][signing]") {
  EmulatorProcess emulator;
  const RawAnswer good = raw_v3(emulator, rdns::test::kRegion, rdns::test::kPlantedSecret);
  CHECK(good.status == 200);
  const RawAnswer tampered = raw_v3(emulator, "cn-beijing", rdns::test::kPlantedSecret);
  CHECK(tampered.status == 400);
  CHECK(tampered.body["Code"] == "SignatureDoesNotMatch");
  const RawAnswer wrong_key = raw_v3(emulator, rdns::test::kRegion, "not-the-secret");
  CHECK(wrong_key.body["Code"] == "SignatureDoesNotMatch");
  // Every x-acs-* header is signed: one slipped in after signing is refused.
  const RawAnswer smuggled = raw_v3(emulator, rdns::test::kRegion, rdns::test::kPlantedSecret,
                                    "x-acs-security-token: STS.smuggled");
  CHECK(smuggled.status == 400);
  CHECK(smuggled.body["Code"] == "IncompleteSignature");
}

TEST_CASE("emulator accepts V2 and V3 requests of the client", "[emulator][signing]") {
  EmulatorProcess emulator;
  ClientConfig config = emulator.client_config();
  SECTION("V3") {
    CHECK_NOTHROW(PtrClient(config, rdns::test::test_credentials()).describe());
  }
  SECTION("V2") {
    config.actions.describe.signature = SignatureVersion::v2;
    CHECK_NOTHROW(PtrClient(config, rdns::test::test_credentials()).describe());
  }
  SECTION("V2 with a wrong secret") {
    config.actions.describe.signature = SignatureVersion::v2;
    PtrClient client(config, rdns::test::credentials(rdns::test::kKeyId, "wrong"));
    std::string code;
    CHECK(kind_of([&] { client.describe(); }, &code) == ApiErrorKind::auth);
    CHECK(code == "SignatureDoesNotMatch");
  }
  SECTION("STS token required and checked") {
    PtrClient with_token(config,
                         rdns::test::credentials(rdns::test::kStsKeyId, rdns::test::kStsSecret,
                                                 rdns::test::kStsToken));
    CHECK_NOTHROW(with_token.describe());
    PtrClient without(config,
                      rdns::test::credentials(rdns::test::kStsKeyId, rdns::test::kStsSecret));
    CHECK(kind_of([&] { without.describe(); }) == ApiErrorKind::auth);
  }
  SECTION("unknown key") {
    PtrClient client(config, rdns::test::credentials("LTAInobody", "x"));
    std::string code;
    CHECK(kind_of([&] { client.describe(); }, &code) == ApiErrorKind::auth);
    CHECK(code == "InvalidAccessKeyId.NotFound");
  }
}

TEST_CASE("emulator rejects stale timestamps", "[emulator][signing]") {
  EmulatorProcess emulator;
  ClientConfig config = emulator.client_config();
  config.clock_offset = std::chrono::minutes(-20);
  int attempts = 0;
  config.on_attempt = [&](const AttemptEvent&) { ++attempts; };
  PtrClient client(config, rdns::test::test_credentials());
  std::string code;
  CHECK(kind_of([&] { client.describe(); }, &code) == ApiErrorKind::stale_request);
  CHECK(code == "InvalidTimeStamp.Expired");
  CHECK(attempts == 2);  // re-signed once with a fresh timestamp, still 20 minutes off
}

TEST_CASE("emulator enforces the PTR rules", "[emulator][rules]") {
  EmulatorProcess emulator;
  PtrClient client = client_for(emulator, LocalValidation::off);
  verify_domain(client, "mx1.mailcorp.test");
  std::string code;

  SECTION("IPv4 only") {
    CHECK(kind_of([&] { client.create("2001:db8::25", "mx1.mailcorp.test"); }, &code) ==
          ApiErrorKind::validation);
    CHECK(code == "InvalidParameter.IpAddress");
  }
  SECTION("the IP must be owned in the region") {
    CHECK(kind_of([&] { client.create("198.51.100.30", "mx1.mailcorp.test"); }, &code) ==
          ApiErrorKind::ip_not_owned);  // account 2002's
    CHECK(kind_of([&] { client.create("198.51.100.40", "mx1.mailcorp.test"); }) ==
          ApiErrorKind::ip_not_owned);  // ours, but in cn-shanghai
    CHECK(code == "PtrIpInfoMismatch");
  }
  SECTION("one value per IP") {
    CHECK_NOTHROW(client.create("198.51.100.11", "mx2.mailcorp.test"));
    CHECK(kind_of([&] { client.create("198.51.100.11", "mx1.mailcorp.test"); }, &code) ==
          ApiErrorKind::duplicate);
  }
  SECTION("no wildcard, a valid domain") {
    CHECK(kind_of([&] { client.create("198.51.100.10", "*.mailcorp.test"); }, &code) ==
          ApiErrorKind::validation);
    CHECK(code == "InvalidParameter.Value");
    CHECK(kind_of([&] { client.create("198.51.100.10", "198.51.100.10"); }) ==
          ApiErrorKind::validation);
    CHECK(kind_of([&] { client.create("198.51.100.10", "bad_label.mailcorp.test"); }) ==
          ApiErrorKind::validation);
  }
  SECTION("TTL 1-86400") {
    CHECK(kind_of([&] { client.create("198.51.100.10", "mx1.mailcorp.test", 0); }, &code) ==
          ApiErrorKind::validation);
    CHECK(code == "InvalidParameter.TTL");
    CHECK(kind_of([&] { client.create("198.51.100.10", "mx1.mailcorp.test", 86401); }) ==
          ApiErrorKind::validation);
    CHECK_NOTHROW(client.create("198.51.100.10", "mx1.mailcorp.test", 86400));
    CHECK_NOTHROW(client.create("198.51.100.11", "mx1.mailcorp.test", 1));
  }
  SECTION("the value's root domain must carry the verification TXT") {
    CHECK(kind_of([&] { client.create("198.51.100.10", "mx.unverified.test"); }, &code) ==
          ApiErrorKind::verification_failed);
    CHECK(kind_of([&] { client.create("198.51.100.10", "mx.wrongtxt.test"); }) ==
          ApiErrorKind::verification_failed);
    CHECK(kind_of([&] { client.create("198.51.100.10", "mx.nosuchdomain.test"); }) ==
          ApiErrorKind::verification_failed);
    CHECK(code == "PtrTxtVerifyFailed");
  }
  SECTION("the name must be the reversed octets") {
    ClientConfig config = emulator.client_config();
    config.validation = LocalValidation::off;
    config.actions.create.params["ip"] = "RR";  // sends the IP where the name belongs
    config.actions.create.params["name"] = "IpAddress";
    PtrClient swapped(config, rdns::test::test_credentials());
    CHECK(kind_of([&] { swapped.create("198.51.100.10", "mx1.mailcorp.test"); }) ==
          ApiErrorKind::validation);
  }
  SECTION("missing parameter") {
    ClientConfig config = emulator.client_config();
    config.actions.create.params["value"] = "NotValue";
    PtrClient renamed(config, rdns::test::test_credentials());
    CHECK(kind_of([&] { renamed.create("198.51.100.10", "mx1.mailcorp.test"); }, &code) ==
          ApiErrorKind::validation);
    CHECK(code == "MissingParameter.Value");
  }
  SECTION("unknown record") {
    CHECK(kind_of([&] { client.remove("ptr-999"); }) == ApiErrorKind::not_found);
  }
}

TEST_CASE("emulator publishes enabled PTRs into Knot", "[emulator][dns]") {
  EmulatorProcess emulator;
  PtrClient client = client_for(emulator, LocalValidation::on);
  verify_domain(client, "mx3.mailcorp.test");
  const std::string name = "20.100.51.198.in-addr.arpa";

  const PtrRecord record = client.create("198.51.100.20", "mx3.mailcorp.test", 300);
  CHECK(record.name == name);
  CHECK(rdns::test::authority_ptr(name) == std::vector<std::string>{"mx3.mailcorp.test."});

  client.update(record.record_id, "mx1.mailcorp.test", 120);
  CHECK(rdns::test::authority_ptr(name) == std::vector<std::string>{"mx1.mailcorp.test."});

  client.set_status(record.record_id, PtrStatus::disabled);
  CHECK(rdns::test::authority_ptr(name).empty());
  const PtrListing listing = client.describe("198.51.100.20");
  REQUIRE(listing.records.size() == 1);
  CHECK(listing.records[0].status == PtrStatus::disabled);
  CHECK(listing.records[0].value == "mx1.mailcorp.test");
  CHECK(listing.records[0].ttl == 120);

  client.set_status(record.record_id, PtrStatus::enabled);
  CHECK(rdns::test::authority_ptr(name) == std::vector<std::string>{"mx1.mailcorp.test."});
  client.remove(record.record_id);
  CHECK(rdns::test::authority_ptr(name).empty());
  CHECK(client.describe().records.empty());
}

TEST_CASE("emulator: an IP that left the account", "[emulator][rules]") {
  EmulatorProcess emulator;
  PtrClient client = client_for(emulator, LocalValidation::on);
  verify_domain(client, "mx1.mailcorp.test");
  const PtrRecord record = client.create("198.51.100.21", "mx1.mailcorp.test");
  const std::string name = "21.100.51.198.in-addr.arpa";
  CHECK(rdns::test::authority_ptr(name).size() == 1);

  emulator.admin("POST", "release-ip", R"({"ip": "198.51.100.21"})");
  std::string code;
  CHECK(kind_of([&] { client.update(record.record_id, "mx2.mailcorp.test", 600); }, &code) ==
        ApiErrorKind::ip_not_owned);
  try {
    client.set_status(record.record_id, PtrStatus::enabled);
    FAIL("enabled a record of an IP we no longer own");
  } catch (const ApiError& error) {
    CHECK(std::string(error.what()).find("PTR IP information mismatch") != std::string::npos);
  }

  const Json reclaimed = Json::parse(emulator.admin("POST", "reclaim"));
  CHECK(reclaimed["Reclaimed"] == Json::array({record.record_id}));
  CHECK(rdns::test::authority_ptr(name).empty());
  CHECK(client.describe().records.empty());
}

TEST_CASE("emulator bills every record per day, disabled ones too", "[emulator][billing]") {
  EmulatorProcess emulator;
  PtrClient client = client_for(emulator, LocalValidation::on);
  verify_domain(client, "mx1.mailcorp.test");
  client.create("198.51.100.10", "mx1.mailcorp.test");
  const PtrRecord second = client.create("198.51.100.11", "mx2.mailcorp.test");
  client.set_status(second.record_id, PtrStatus::disabled);
  emulator.admin("POST", "advance-days", R"({"days": 3})");

  PtrBilling billing = client.describe().billing;
  CHECK(billing.billable_records == 2);
  CHECK(billing.daily_fee == Approx(2.0));
  CHECK(billing.charged_total == Approx(6.0));
  CHECK(billing.currency == "CNY");

  client.remove(second.record_id);
  emulator.admin("POST", "advance-days", R"({"days": 1})");
  billing = client.describe().billing;
  CHECK(billing.billable_records == 1);
  CHECK(billing.charged_total == Approx(7.0));
}

TEST_CASE("emulator answers ownership questions", "[emulator][ownership]") {
  EmulatorProcess emulator;
  OwnershipChecker checker(emulator.client_config(), rdns::test::test_credentials());
  const auto owned = checker.check(
      {"198.51.100.10", "198.51.100.20", "198.51.100.30", "198.51.100.40", "198.51.100.99"});
  REQUIRE(owned.size() == 5);
  CHECK(owned[0].role == IpRole::eip);
  CHECK(owned[0].resource_id == "eip-10");
  CHECK(owned[0].status == "InUse");
  CHECK(owned[1].role == IpRole::ecs_public_ip);
  CHECK(owned[1].resource_id == "i-web");
  CHECK(owned[2].role == IpRole::not_owned);  // another account's
  CHECK(owned[3].role == IpRole::not_owned);  // another region
  CHECK(owned[4].role == IpRole::not_owned);

  SECTION("batched as the API allows") {
    std::vector<std::string> ips;
    for (int i = 0; i < 120; ++i)
      ips.push_back("198.18." + std::to_string(i / 250) + "." + std::to_string(i % 250));
    emulator.admin("DELETE", "faults");
    const Json before = Json::parse(emulator.admin("GET", "stats"))["Actions"];
    checker.check(ips);
    const Json after = Json::parse(emulator.admin("GET", "stats"))["Actions"];
    CHECK(after["DescribeEipAddresses"].get<int>() - before["DescribeEipAddresses"].get<int>() ==
          3);  // 50 + 50 + 20
    CHECK(after["DescribeInstances"].get<int>() - before["DescribeInstances"].get<int>() ==
          2);  // 100 + 20
  }
}
