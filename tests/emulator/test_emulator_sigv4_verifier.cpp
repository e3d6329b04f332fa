// The emulator's own SigV4 verifier against AWS's published Signature
// Version 4 test suite: each request as the suite gives it, raw, with the
// suite's Authorization header, at the suite's time (20150830T123600Z). The
// signatures below are the suite's .authz files, not output of any code here.

#include <chrono>
#include <string>

#include <catch2/catch.hpp>

#include "../../emulator/src/sigv4_verifier.hpp"

namespace {

using namespace rdns::emulator;

const Sigv4Key kSuiteKey{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};

Sigv4Policy suite_policy() {
  Sigv4Policy policy;
  policy.service = "service";
  policy.regions = {"us-east-1"};
  policy.find_key = [](const std::string& id) { return id == kSuiteKey.id ? &kSuiteKey : nullptr; };
  return policy;
}

std::chrono::system_clock::time_point suite_time() {
  return std::chrono::system_clock::time_point(std::chrono::seconds(1440938160));
}

Incoming suite_request(const std::string& method, const std::string& target,
                       const std::string& signed_headers, const std::string& signature) {
  Incoming request;
  request.method = method;
  request.target = target;
  request.headers = {{"host", "example.amazonaws.com"},
                     {"x-amz-date", "20150830T123600Z"},
                     {"authorization",
                      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                      "aws4_request, SignedHeaders=" +
                          signed_headers + ", Signature=" + signature}};
  return request;
}

std::string verdict_of(const Incoming& request) {
  const Sigv4Verdict verdict = verify_sigv4(request, suite_policy(), suite_time());
  return verdict.ok ? "ok" : verdict.code;
}

}  // namespace

TEST_CASE("the emulator's verifier accepts the suite's requests", "[emulator][sigv4]") {
  CHECK(verdict_of(suite_request(
            "GET", "/", "host;x-amz-date",
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")) == "ok");
  // get-vanilla-query-order-key-case: the query is sorted by the verifier.
  CHECK(verdict_of(suite_request(
            "GET", "/?Param2=value2&Param1=value1", "host;x-amz-date",
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")) == "ok");
  // get-vanilla-query-unreserved: unreserved characters stay as they are.
  const std::string unreserved =
      "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  CHECK(verdict_of(suite_request(
            "GET", "/?" + unreserved + "=" + unreserved, "host;x-amz-date",
            "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197")) == "ok");
  // get-vanilla-query-order-encoded: percent-encoded UTF-8 sorts by its encoding.
  CHECK(verdict_of(suite_request(
            "GET", "/?Param-3=Value3&Param=Value2&%E1%88%B4=Value1", "host;x-amz-date",
            "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac")) == "ok");
  // post-x-www-form-urlencoded: a non-empty body, hashed as received.
  Incoming form = suite_request("POST", "/", "content-type;host;x-amz-date",
                                "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
  form.headers["content-type"] = "application/x-www-form-urlencoded";
  form.body = "Param1=value1";
  CHECK(verdict_of(form) == "ok");

  SECTION("any change is refused") {
    Incoming changed = form;
    changed.body = "Param1=value2";
    CHECK(verdict_of(changed) == "SignatureDoesNotMatch");
    changed = form;
    changed.target = "/?extra=1";
    CHECK(verdict_of(changed) == "SignatureDoesNotMatch");
    changed = form;
    changed.headers["content-type"] = "text/plain";
    CHECK(verdict_of(changed) == "SignatureDoesNotMatch");
    changed = form;
    changed.headers["x-amz-date"] = "20150830T123601Z";
    CHECK(verdict_of(changed) == "SignatureDoesNotMatch");
  }
  SECTION("the date, the scope and the key are checked before the signature") {
    CHECK(verify_sigv4(form, suite_policy(), suite_time() + std::chrono::minutes(6)).code ==
          "RequestExpired");
    Sigv4Policy elsewhere = suite_policy();
    elsewhere.regions = {"eu-west-1"};
    CHECK(verify_sigv4(form, elsewhere, suite_time()).code == "AuthFailure");
    Sigv4Policy other_service = suite_policy();
    other_service.service = "ec2";
    CHECK(verify_sigv4(form, other_service, suite_time()).code == "AuthFailure");
    Incoming unsigned_date = form;
    unsigned_date.headers["authorization"] =
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=content-type;host, Signature=ff11";
    CHECK(verdict_of(unsigned_date) == "IncompleteSignature");
  }
}
