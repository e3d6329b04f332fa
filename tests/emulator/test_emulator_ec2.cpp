// The emulator's EC2 side: its own SigV4 verifier refuses what AWS refuses,
// and AwsPtrProvider drives the four actions end to end: PENDING polled to
// done, the PTR published into Knot, the forward record required first.

#include <chrono>
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <curl/curl.h>

#include <provision/api_error.hpp>
#include <provision/aws_provider.hpp>
#include <provision/ptr_client.hpp>

#include "../../provision/src/sigv4.hpp"
#include "ec2_state.hpp"
#include "emulator_process.hpp"

namespace {

using namespace rdns::test;
using namespace rdns::provision;
using namespace std::chrono_literals;

constexpr const char* kDescribe = "Action=DescribeAddresses&Version=2016-11-15";

/// How a raw request is signed, and what is changed after signing.
struct Signing {
  std::string key_id = kAwsKeyId;
  std::string secret = kPlantedSecret;
  std::string region = kAwsRegion;
  std::string token;
  std::chrono::seconds skew{0};
  std::string sent_body;  ///< non-empty: the body sent instead of the signed one
  bool sign = true;
};

struct Answer {
  long status = 0;
  std::string body;
};

std::size_t collect(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

/// POSTs body to the emulator, signed with the client's SigV4 signer as told.
Answer post(const EmulatorProcess& emulator, const std::string& body, const Signing& how = {}) {
  const std::string host = emulator.endpoint().substr(7);
  sigv4::Request request;
  request.body = body;
  const auto now = std::chrono::system_clock::now() + how.skew;
  request.headers = {
      {"content-type", "application/x-www-form-urlencoded; charset=utf-8"},
      {"host", host},
      {"x-amz-date",
       sigv4::amz_date(
           std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count())}};
  if (!how.token.empty()) request.headers.emplace_back("x-amz-security-token", how.token);
  const auto signature = sigv4::sign(request, {how.key_id, how.secret, how.region, "ec2"});
  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers) {
    if (name != "host") headers = curl_slist_append(headers, (name + ": " + value).c_str());
  }
  if (how.sign) {
    headers = curl_slist_append(headers, ("Authorization: " + signature.authorization).c_str());
  }
  const std::string sent = how.sent_body.empty() ? body : how.sent_body;
  Answer answer;
  CURL* curl = curl_easy_init();
  const std::string url = emulator.endpoint() + "/";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROXY, "");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, sent.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer.body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  REQUIRE(curl_easy_perform(curl) == CURLE_OK);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.status);
  curl_easy_cleanup(curl);
  curl_slist_free_all(headers);
  return answer;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// The EC2 error Code of an answer.
std::string code_of(const Answer& answer) {
  const auto start = answer.body.find("<Code>");
  const auto end = answer.body.find("</Code>");
  if (start == std::string::npos || end == std::string::npos) return "-";
  return answer.body.substr(start + 6, end - start - 6);
}

}  // namespace

TEST_CASE("EC2 requests are verified with the emulator's own SigV4 check", "[emulator][ec2]") {
  EmulatorProcess emulator(ec2_state());

  const Answer good = post(emulator, kDescribe);
  CHECK(good.status == 200);
  CHECK(contains(good.body, "<DescribeAddressesResponse xmlns="));
  CHECK(contains(good.body, "<publicIp>198.51.100.50</publicIp>"));
  CHECK_FALSE(contains(good.body, "198.51.100.53"));  // another account's
  CHECK_FALSE(contains(good.body, "198.51.100.52"));  // another region's

  Signing wrong_secret;
  wrong_secret.secret = "not-the-secret";
  const Answer bad = post(emulator, kDescribe, wrong_secret);
  CHECK(bad.status == 403);
  CHECK(code_of(bad) == "SignatureDoesNotMatch");
  CHECK(contains(bad.body, "<RequestID>"));

  Signing modified;
  modified.sent_body = std::string(kDescribe) + "&PublicIp.1=198.51.100.53";
  CHECK(code_of(post(emulator, kDescribe, modified)) == "SignatureDoesNotMatch");

  Signing stale;
  stale.skew = -6min;
  CHECK(code_of(post(emulator, kDescribe, stale)) == "RequestExpired");
  Signing early;
  early.skew = 6min;
  CHECK(code_of(post(emulator, kDescribe, early)) == "RequestExpired");
  Signing skewed_a_little;
  skewed_a_little.skew = -4min;
  CHECK(post(emulator, kDescribe, skewed_a_little).status == 200);

  Signing wrong_region;
  wrong_region.region = "ap-east-9";
  const Answer region = post(emulator, kDescribe, wrong_region);
  CHECK(region.status == 401);
  CHECK(code_of(region) == "AuthFailure");
  CHECK(contains(region.body, "valid region, not 'ap-east-9'"));
  // A served region without addresses answers, empty.
  Signing other_region;
  other_region.region = "us-west-2";
  CHECK(contains(post(emulator, kDescribe, other_region).body, "<addressesSet></addressesSet>"));

  Signing unknown_key;
  unknown_key.key_id = "AKIANOBODY";
  CHECK(code_of(post(emulator, kDescribe, unknown_key)) == "AuthFailure");

  Signing temporary;
  temporary.key_id = kAwsTempKeyId;
  temporary.secret = kAwsTempSecret;
  CHECK(code_of(post(emulator, kDescribe, temporary)) == "AuthFailure");  // no session token
  temporary.token = "not-the-token";
  CHECK(code_of(post(emulator, kDescribe, temporary)) == "AuthFailure");
  temporary.token = kAwsSessionToken;
  CHECK(post(emulator, kDescribe, temporary).status == 200);

  Signing unsigned_request;
  unsigned_request.sign = false;
  CHECK(code_of(post(emulator, kDescribe, unsigned_request)) == "MissingAuthenticationToken");

  CHECK(code_of(post(emulator,
                     "Action=DescribeAddresses&Version=2016-11-15&PublicIp.1=198.51.100.53")) ==
        "InvalidAddress.NotFound");
  CHECK(code_of(post(emulator, "Action=RunInstances&Version=2016-11-15")) == "InvalidAction");
  CHECK_FALSE(contains(emulator.output(), kPlantedSecret));
}

TEST_CASE("AwsPtrProvider: ownership, a PENDING update polled to done, delete", "[emulator][ec2]") {
  EmulatorProcess emulator(ec2_state(1500));
  ClientConfig config = ec2_config(emulator);
  int describes = 0;
  config.on_attempt = [&describes](const AttemptEvent& event) {
    if (event.action == "DescribeAddressesAttribute") ++describes;
  };
  AwsProviderOptions options;
  options.poll_interval = 300ms;
  AwsPtrProvider provider(config, credentials(kAwsKeyId, kPlantedSecret), options);

  CHECK(provider.capabilities().fixed_ttl == kAwsPtrTtl);
  CHECK_FALSE(provider.capabilities().supports_disable);
  const auto owned =
      provider.ownership({kAwsIp, kAwsOtherAccountIp, kAwsOtherRegionIp, kAwsSecondIp});
  REQUIRE(owned.size() == 4);
  CHECK(owned[0].role == IpRole::eip);
  CHECK(owned[0].resource_id == "eipalloc-0050");
  CHECK(owned[0].status == "associated");
  CHECK(owned[1].role == IpRole::not_owned);
  CHECK(owned[2].role == IpRole::not_owned);
  CHECK(owned[3].status == "unassociated");
  CHECK(provider.read(kAwsIp).empty());

  // AWS requires the forward record first. (Each name is asked only once it
  // is in its final state: the lab resolver would keep an NXDOMAIN a while.)
  try {
    provider.write(kAwsIp, "absent.mailcorp.test", kAwsPtrTtl, "");
    FAIL("written without a forward record");
  } catch (const ApiError& error) {
    CHECK(error.api_code() == "InvalidParameterValue");
    CHECK(contains(error.what(), "does not resolve to 198.51.100.50"));
    CHECK(contains(error.what(), "RequestID ec2e"));
  }

  publish_a("aws1.mailcorp.test", {kAwsIp});
  const auto started = std::chrono::steady_clock::now();
  describes = 0;
  CHECK(provider.write(kAwsIp, "aws1.mailcorp.test", kAwsPtrTtl, "") == "eipalloc-0050");
  // The write returned only once the update left PENDING.
  CHECK(std::chrono::steady_clock::now() - started >= 1400ms);
  CHECK(describes >= 2);
  CHECK_FALSE(provider.last_request_id().empty());
  const auto records = provider.read(kAwsIp);
  REQUIRE(records.size() == 1);
  CHECK(records[0].value == "aws1.mailcorp.test");
  CHECK(records[0].record_id == "eipalloc-0050");
  CHECK(records[0].ttl == kAwsPtrTtl);
  CHECK(authority_ptr("50.100.51.198.in-addr.arpa") ==
        std::vector<std::string>{"aws1.mailcorp.test."});
  CHECK(provider.list().records.size() == 1);

  CHECK_THROWS_AS(provider.set_status(kAwsIp, "eipalloc-0050", PtrStatus::disabled), rdns::Error);
  CHECK_FALSE(provider.verification_txt("aws1.mailcorp.test"));

  provider.remove(kAwsIp, "eipalloc-0050");
  CHECK(provider.read(kAwsIp).empty());
  CHECK(authority_ptr("50.100.51.198.in-addr.arpa").empty());
  provider.remove(kAwsIp, "eipalloc-0050");  // nothing set: success

  try {
    provider.write(kAwsOtherAccountIp, "aws1.mailcorp.test", kAwsPtrTtl, "");
    FAIL("wrote another account's address");
  } catch (const ApiError& error) {
    CHECK(error.kind() == ApiErrorKind::ip_not_owned);
  }
  CHECK_FALSE(contains(emulator.output(), kPlantedSecret));
}

TEST_CASE("AwsPtrProvider: throttling is retried, a FAILED update is an error", "[emulator][ec2]") {
  EmulatorProcess emulator(ec2_state(2500));
  ClientConfig config = ec2_config(emulator);
  std::vector<std::string> outcomes;
  config.on_attempt = [&outcomes](const AttemptEvent& event) {
    outcomes.push_back(event.action + " " + event.outcome);
  };
  AwsProviderOptions options;
  options.poll_interval = 200ms;
  AwsPtrProvider provider(config, credentials(kAwsKeyId, kPlantedSecret), options);

  emulator.admin("POST", "ec2/faults",
                 R"({"faults": [{"action": "DescribeAddresses", "code": "RequestLimitExceeded",
                                 "http_status": 503, "count": 2}]})");
  CHECK(provider.ownership({kAwsSecondIp}).front().role == IpRole::eip);
  CHECK(outcomes == std::vector<std::string>{"DescribeAddresses RequestLimitExceeded",
                                             "DescribeAddresses RequestLimitExceeded",
                                             "DescribeAddresses OK"});

  // The A record goes away while the update is PENDING: AWS fails it. (The
  // lab resolver may keep the A record up to 2 s: the update waits longer.)
  publish_a("aws2.mailcorp.test", {kAwsSecondIp});
  std::thread remove_forward([] {
    std::this_thread::sleep_for(300ms);
    publish_a("aws2.mailcorp.test", {});
  });
  std::string failure = "no error";
  try {
    provider.write(kAwsSecondIp, "aws2.mailcorp.test", kAwsPtrTtl, "");
  } catch (const ApiError& error) {
    failure = error.api_code() + " " + error.what();
  }
  remove_forward.join();
  CHECK(failure.starts_with("PtrRecordUpdate.Failed "));
  CHECK(contains(failure, "no longer resolves to 198.51.100.51"));
  CHECK(provider.read(kAwsSecondIp).empty());

  // An update still PENDING when the wait ends is an error that says so.
  publish_a("aws6.mailcorp.test", {kAwsSecondIp});
  options.update_timeout = 300ms;
  AwsPtrProvider impatient(config, credentials(kAwsKeyId, kPlantedSecret), options);
  try {
    impatient.write(kAwsSecondIp, "aws6.mailcorp.test", kAwsPtrTtl, "");
    FAIL("a PENDING update passed");
  } catch (const ApiError& error) {
    CHECK(error.api_code() == "PtrRecordUpdate.Pending");
    CHECK(contains(error.what(), "still PENDING"));
  }
}
