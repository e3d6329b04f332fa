// The client's SigV4 signer against AWS's published Signature Version 4 test
// suite (aws-sig-v4-test-suite): the example key AKIDEXAMPLE, 20150830T123600Z,
// us-east-1, service "service". The expected values below are the suite's
// .creq and .authz files, not output of this code.

#include <string>

#include <catch2/catch.hpp>

#include "../../provision/src/sigv4.hpp"

namespace {

using namespace rdns::provision;

constexpr const char* kEmptyHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

sigv4::Scope suite_scope() {
  return {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1", "service"};
}

sigv4::Request suite_request(const std::string& method, sigv4::Pairs query = {}) {
  sigv4::Request request;
  request.method = method;
  request.query = std::move(query);
  request.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
  return request;
}

std::string authz(const std::string& signed_headers, const std::string& signature) {
  return "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
         "SignedHeaders=" +
         signed_headers + ", Signature=" + signature;
}

}  // namespace

TEST_CASE("get-vanilla", "[provision][sigv4]") {
  const auto signed_request = sigv4::sign(suite_request("GET"), suite_scope());
  CHECK(signed_request.canonical_request ==
        std::string("GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                    "host;x-amz-date\n") +
            kEmptyHash);
  CHECK(
      signed_request.authorization ==
      authz("host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"));
}

TEST_CASE("post-vanilla", "[provision][sigv4]") {
  CHECK(sigv4::sign(suite_request("POST"), suite_scope()).signature ==
        "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

TEST_CASE("get-vanilla-query-order-key: equal names are ordered by value", "[provision][sigv4]") {
  const auto signed_request = sigv4::sign(
      suite_request("GET", {{"Param1", "value2"}, {"Param1", "Value1"}}), suite_scope());
  CHECK(signed_request.canonical_request.find("\nParam1=Value1&Param1=value2\n") !=
        std::string::npos);
  CHECK(
      signed_request.authorization ==
      authz("host;x-amz-date", "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"));
}

TEST_CASE("get-vanilla-query-order-key-case: parameters are sorted by name", "[provision][sigv4]") {
  const auto signed_request = sigv4::sign(
      suite_request("GET", {{"Param2", "value2"}, {"Param1", "value1"}}), suite_scope());
  CHECK(signed_request.signature ==
        "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST_CASE("post-x-www-form-urlencoded: the body is hashed and content-type signed",
          "[provision][sigv4]") {
  sigv4::Request request = suite_request("POST");
  request.headers.insert(request.headers.begin(),
                         {"Content-Type", "application/x-www-form-urlencoded"});
  request.body = "Param1=value1";
  const auto signed_request = sigv4::sign(request, suite_scope());
  CHECK(signed_request.canonical_request ==
        "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n"
        "x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n"
        "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  CHECK(signed_request.authorization ==
        authz("content-type;host;x-amz-date",
              "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"));
}

TEST_CASE("SigV4 encoding, header folding and the date", "[provision][sigv4]") {
  CHECK(sigv4::uri_encode("a b*c~d/é") == "a%20b%2Ac~d%2F%C3%A9");
  CHECK(sigv4::canonical_query({{"b", "2"}, {"a", "x y"}}) == "a=x%20y&b=2");
  CHECK(sigv4::amz_date(1440938160) == "20150830T123600Z");

  // Header values are trimmed and inner runs of spaces folded (get-header-value-trim).
  sigv4::Request request = suite_request("GET");
  request.headers.emplace_back("My-Header1", "  value1  ");
  request.headers.emplace_back("My-Header2", "\"a   b   c\"");
  const auto signed_request = sigv4::sign(request, suite_scope());
  CHECK(signed_request.canonical_request.find("my-header1:value1\nmy-header2:\"a b c\"\n") !=
        std::string::npos);
  CHECK(signed_request.signed_headers == "host;my-header1;my-header2;x-amz-date");
  // The secret never appears in what the signer hands back.
  CHECK(signed_request.authorization.find("EXAMPLEKEY") == std::string::npos);
}
