// Request signing against the two documentation test vectors, and the
// encoding rules both signatures rest on.

#include <catch2/catch.hpp>

#include <provision/signing.hpp>

using namespace rdns::provision;

TEST_CASE("percent_encode", "[provision][signing]") {
  CHECK(percent_encode("a b*c~d-e_f.g") == "a%20b%2Ac~d-e_f.g");
  CHECK(percent_encode("[\"1.2.3.4\"]") == "%5B%221.2.3.4%22%5D");
  CHECK(percent_encode("\xc3\xa9") == "%C3%A9");
}

TEST_CASE("canonical_query", "[provision][signing]") {
  CHECK(canonical_query({{"b", "2"}, {"a", "x y"}, {"B", "1"}}) == "B=1&a=x%20y&b=2");
  CHECK(canonical_query({}).empty());
}

TEST_CASE("sign_v3 matches the documentation vector", "[provision][signing]") {
  SignableRequest request;
  request.method = "POST";
  request.query = {{"ImageId", "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"},
                   {"RegionId", "cn-shanghai"}};
  request.headers = {{"host", "ecs.cn-shanghai.aliyuncs.com"},
                     {"x-acs-action", "RunInstances"},
                     {"x-acs-version", "2014-05-26"},
                     {"x-acs-date", "2023-10-26T10:22:32Z"},
                     {"x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"},
                     {"x-acs-content-sha256", sha256_hex("")}};
  const V3Signature signature = sign_v3(request, "YourAccessKeyId", "YourAccessKeySecret");
  CHECK(signature.hashed_canonical_request ==
        "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259");
  CHECK(signature.signature == "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0");
  CHECK(signature.signed_headers ==
        "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version");
  CHECK(signature.authorization ==
        "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=" + signature.signed_headers +
            ",Signature=" + signature.signature);
  CHECK(signature.authorization.find("YourAccessKeySecret") == std::string::npos);

  SECTION("any change to a signed part changes the signature") {
    SignableRequest tampered = request;
    tampered.query[1].second = "cn-beijing";
    CHECK(sign_v3(tampered, "YourAccessKeyId", "YourAccessKeySecret").signature !=
          signature.signature);
    CHECK(sign_v3(request, "YourAccessKeyId", "OtherSecret").signature != signature.signature);
  }
}

TEST_CASE("sign_v2 matches the documentation vector", "[provision][signing]") {
  const Params params = {{"AccessKeyId", "testid"},
                         {"Action", "DescribeDedicatedHosts"},
                         {"Format", "JSON"},
                         {"RegionId", "cn-beijing"},
                         {"SignatureMethod", "HMAC-SHA1"},
                         {"SignatureNonce", "edb2b34af0af9a6d14deaf7c1a5315eb"},
                         {"SignatureVersion", "1.0"},
                         {"Timestamp", "2023-03-13T08:34:30Z"},
                         {"Version", "2014-05-26"}};
  CHECK(sign_v2("GET", params, "testsecret") == "9NaGiOspFP5UPcwX8Iwt2YJXXuk=");
  CHECK(v2_string_to_sign("GET", params).starts_with("GET&%2F&AccessKeyId%3Dtestid%26Action"));
}

TEST_CASE("iso8601_utc", "[provision][signing]") {
  CHECK(iso8601_utc(1698315752) == "2023-10-26T10:22:32Z");
  CHECK(parse_iso8601_utc("2023-10-26T10:22:32Z") == 1698315752);
  CHECK(parse_iso8601_utc("2023-10-26 10:22:32") == -1);
}

TEST_CASE("new_nonce", "[provision][signing]") {
  const std::string a = new_nonce();
  CHECK(a.size() == 32);
  CHECK(a != new_nonce());
  CHECK(signatures_equal(a, a));
  CHECK_FALSE(signatures_equal(a, new_nonce()));
}

// Vectors derived from the documented algorithm by tests/emulator/acs_vectors.py;
// the emulator's own verifier checks the same ones.
TEST_CASE("sign_v3: STS token, reserved characters and a body", "[provision][signing]") {
  const std::string secret = "TestSecret/With+Reserved=Chars";
  const Params common = {{"host", "alidns.cn-hangzhou.aliyuncs.com"},
                         {"x-acs-version", "2015-01-09"},
                         {"x-acs-date", "2026-12-06T10:00:00Z"},
                         {"x-acs-signature-nonce", "0f1e2d3c4b5a69788796a5b4c3d2e1f0"}};
  SECTION("an STS token is signed") {
    SignableRequest request;
    request.method = "POST";
    request.query = {{"RegionId", "cn-hangzhou"}, {"IpAddress", "192.0.2.10"}};
    request.headers = common;
    request.headers.emplace_back("x-acs-action", "DescribeDomainRecords");
    request.headers.emplace_back("x-acs-content-sha256", sha256_hex(""));
    request.headers.emplace_back("x-acs-security-token", "STS.NUgYrLnoC37mZZCNnAbez2KSm");
    CHECK(sign_v3(request, "id", secret).signature ==
          "0ffef29f4ef519d2ae1cf30c330058feb2f9e90b3435af60c987feecd0200c07");
  }
  SECTION("reserved characters") {
    SignableRequest request;
    request.method = "GET";
    request.query = {{"Description", "a b*c~d/e+f&g=h"},
                     {"Name", "caf\xc3\xa9"},
                     {"Tag", "[\"x\"]"},
                     {"RegionId", "cn-hangzhou"}};
    request.headers = common;
    request.headers.emplace_back("x-acs-action", "AddDomainRecord");
    request.headers.emplace_back("x-acs-content-sha256", sha256_hex(""));
    CHECK(sign_v3(request, "id", secret).signature ==
          "2e10b263dfa36a918a05792d74e1cce5a8a0efee2e78628b5c53882283996b4c");
  }
  SECTION("a form body") {
    SignableRequest request;
    request.method = "POST";
    request.query = {{"RegionId", "cn-hangzhou"}};
    request.body = "IpAddress=192.0.2.10&Value=mail.example.com&TTL=600";
    request.headers = common;
    request.headers.emplace_back("x-acs-action", "AddDomainRecord");
    request.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
    request.headers.emplace_back("x-acs-content-sha256", sha256_hex(request.body));
    CHECK(sign_v3(request, "id", secret).signature ==
          "bb0672087b40c29d1b2c0b98a70c59524514fc232e6de910d65fb11353e972f4");
  }
}

TEST_CASE("sign_v2: reserved characters", "[provision][signing]") {
  const Params params = {{"AccessKeyId", "testid"},
                         {"Action", "DescribeDomainRecords"},
                         {"Format", "JSON"},
                         {"KeyWord", "a b*c~d/e+f"},
                         {"RegionId", "cn-hangzhou"},
                         {"SignatureMethod", "HMAC-SHA1"},
                         {"SignatureNonce", "0f1e2d3c4b5a6978"},
                         {"SignatureVersion", "1.0"},
                         {"Timestamp", "2026-12-06T10:00:00Z"},
                         {"Version", "2015-01-09"}};
  CHECK(sign_v2("GET", params, "testsecret") == "b/adCxmJhcVc1PtaefT1FIWDvJ4=");
}
