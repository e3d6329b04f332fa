// The emulator's own signature verifier and record rules, against the
// documentation's vectors and further vectors derived from the documented
// algorithm by tests/emulator/acs_vectors.py (Python's standard library: a
// third implementation, beside the client's signer and this verifier).

#include <acs_verifier.hpp>
#include <catch2/catch.hpp>
#include <ptr_rules.hpp>

using namespace rdns::emulator;

namespace {

const std::string kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const std::string kSecret = "TestSecret/With+Reserved=Chars";

std::map<std::string, std::string> common_headers(const std::string& action) {
  return {{"host", "alidns.cn-hangzhou.aliyuncs.com"},
          {"x-acs-action", action},
          {"x-acs-version", "2015-01-09"},
          {"x-acs-date", "2026-12-06T10:00:00Z"},
          {"x-acs-signature-nonce", "0f1e2d3c4b5a69788796a5b4c3d2e1f0"},
          {"x-acs-content-sha256", kEmptySha256}};
}

std::vector<std::string> names_of(const std::map<std::string, std::string>& headers) {
  std::vector<std::string> names;
  for (const auto& [name, value] : headers) names.push_back(name);
  return names;
}

std::string v3(const std::string& method, const std::string& target,
               const std::map<std::string, std::string>& headers, const std::string& body,
               const std::string& secret, std::string* hashed = nullptr) {
  const std::string canonical =
      acs::v3_canonical_request(method, target, headers, names_of(headers), body);
  if (hashed != nullptr) *hashed = acs::hex_sha256(canonical);
  return acs::v3_signature(canonical, secret);
}

}  // namespace

TEST_CASE("emulator V3 verifier: the documentation vector", "[emulator][signing]") {
  const std::map<std::string, std::string> headers = {
      {"host", "ecs.cn-shanghai.aliyuncs.com"},
      {"x-acs-action", "RunInstances"},
      {"x-acs-version", "2014-05-26"},
      {"x-acs-date", "2023-10-26T10:22:32Z"},
      {"x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"},
      {"x-acs-content-sha256", kEmptySha256},
      {"user-agent", "not signed, not in the canonical request"}};
  std::vector<std::string> signed_names = names_of(headers);
  std::erase(signed_names, "user-agent");
  const std::string target =
      "/?ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai";
  const std::string canonical =
      acs::v3_canonical_request("POST", target, headers, signed_names, "");
  CHECK(acs::hex_sha256(canonical) ==
        "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259");
  CHECK(acs::v3_signature(canonical, "YourAccessKeySecret") ==
        "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0");
  // The query's order on the wire does not matter; its content does.
  CHECK(acs::v3_canonical_request(
            "POST",
            "/?RegionId=cn-shanghai&ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd",
            headers, signed_names, "") == canonical);
  CHECK(acs::v3_canonical_request("POST", "/?RegionId=cn-beijing&ImageId=x", headers, signed_names,
                                  "") != canonical);
}

TEST_CASE("emulator V3 verifier: an STS token is signed like any x-acs header",
          "[emulator][signing]") {
  auto headers = common_headers("DescribeDomainRecords");
  headers["x-acs-security-token"] = "STS.NUgYrLnoC37mZZCNnAbez2KSm";
  std::string hashed;
  CHECK(v3("POST", "/?RegionId=cn-hangzhou&IpAddress=192.0.2.10", headers, "", kSecret, &hashed) ==
        "0ffef29f4ef519d2ae1cf30c330058feb2f9e90b3435af60c987feecd0200c07");
  CHECK(hashed == "c5430d3421723b91273e4024404e7c70a5f38022d3615475617b08c309bced14");
  headers["x-acs-security-token"] = "STS.another";
  CHECK(v3("POST", "/?RegionId=cn-hangzhou&IpAddress=192.0.2.10", headers, "", kSecret) !=
        "0ffef29f4ef519d2ae1cf30c330058feb2f9e90b3435af60c987feecd0200c07");
}

TEST_CASE("emulator V3 verifier: reserved characters, however the client spelled them",
          "[emulator][signing]") {
  const auto headers = common_headers("AddDomainRecord");
  const std::string expected = "2e10b263dfa36a918a05792d74e1cce5a8a0efee2e78628b5c53882283996b4c";
  std::string hashed;
  // RFC 3986 on the wire, as the documentation asks.
  CHECK(v3("GET",
           "/?Description=a%20b%2Ac~d%2Fe%2Bf%26g%3Dh&Name=caf%C3%A9&Tag=%5B%22x%22%5D"
           "&RegionId=cn-hangzhou",
           headers, "", kSecret, &hashed) == expected);
  CHECK(hashed == "181977add915802bb6fed7fe6a68dfc07a0d6a723916e5f116fe3de23d43006b");
  // Lower-case hex and characters left bare where HTTP allows them decode to
  // the same values, so the server's canonical form is the same.
  CHECK(v3("GET",
           "/?RegionId=cn-hangzhou&Tag=[%22x%22]&Name=caf%c3%a9"
           "&Description=a%20b*c~d/e%2bf%26g%3dh",
           headers, "", kSecret) == expected);
  // A '+' is a plus sign, not a space: a client that sent "+" for a space
  // signed something else.
  CHECK(v3("GET",
           "/?Description=a+b%2Ac~d%2Fe%2Bf%26g%3Dh&Name=caf%C3%A9&Tag=%5B%22x%22%5D"
           "&RegionId=cn-hangzhou",
           headers, "", kSecret) != expected);
}

TEST_CASE("emulator V3 verifier: a body is part of the signature", "[emulator][signing]") {
  const std::string body = "IpAddress=192.0.2.10&Value=mail.example.com&TTL=600";
  CHECK(acs::hex_sha256(body) ==
        "bd2a5e34ac6d546e738c1583579040804a651df3a2b62b4c0fb844fee9123c81");
  auto headers = common_headers("AddDomainRecord");
  headers["content-type"] = "application/x-www-form-urlencoded";
  headers["x-acs-content-sha256"] = acs::hex_sha256(body);
  std::string hashed;
  CHECK(v3("POST", "/?RegionId=cn-hangzhou", headers, body, kSecret, &hashed) ==
        "bb0672087b40c29d1b2c0b98a70c59524514fc232e6de910d65fb11353e972f4");
  CHECK(hashed == "3322d613814e48f024f723d2167a55c70075c08b8ddb055209347403e17b5736");
  CHECK(v3("POST", "/?RegionId=cn-hangzhou", headers, body + "0", kSecret) !=
        "bb0672087b40c29d1b2c0b98a70c59524514fc232e6de910d65fb11353e972f4");
}

TEST_CASE("emulator V2 verifier: the documentation vector and reserved characters",
          "[emulator][signing]") {
  CHECK(acs::v2_signature("GET",
                          "/?AccessKeyId=testid&Action=DescribeDedicatedHosts&Format=JSON"
                          "&RegionId=cn-beijing&SignatureMethod=HMAC-SHA1"
                          "&SignatureNonce=edb2b34af0af9a6d14deaf7c1a5315eb&SignatureVersion=1.0"
                          "&Timestamp=2023-03-13T08%3A34%3A30Z&Version=2014-05-26"
                          "&Signature=ignored%3D",
                          "testsecret") == "9NaGiOspFP5UPcwX8Iwt2YJXXuk=");
  CHECK(acs::v2_signature("GET",
                          "/?Version=2015-01-09&Timestamp=2026-12-06T10:00:00Z"
                          "&SignatureVersion=1.0&SignatureNonce=0f1e2d3c4b5a6978"
                          "&SignatureMethod=HMAC-SHA1&RegionId=cn-hangzhou"
                          "&KeyWord=a%20b*c~d/e%2Bf&Format=JSON&Action=DescribeDomainRecords"
                          "&AccessKeyId=testid",
                          "testsecret") == "b/adCxmJhcVc1PtaefT1FIWDvJ4=");
}

TEST_CASE("emulator verifier: signed header names and timestamps", "[emulator][signing]") {
  CHECK(acs::signed_names_canonical({"host", "x-acs-action", "x-acs-date"}));
  CHECK_FALSE(acs::signed_names_canonical({"x-acs-action", "host"}));
  CHECK_FALSE(acs::signed_names_canonical({"host", "X-Acs-Action"}));
  CHECK_FALSE(acs::signed_names_canonical({"host", "host"}));
  CHECK(acs::same_signature("abc", "abc"));
  CHECK_FALSE(acs::same_signature("abc", "abd"));
  CHECK_FALSE(acs::same_signature("abc", "abcd"));
  CHECK(acs::utc_seconds("2023-10-26T10:22:32Z") == 1698315752);
  CHECK(acs::utc_seconds("2023-10-26 10:22:32") == -1);
  CHECK(acs::utc_seconds("2023-13-26T10:22:32Z") == -1);
  CHECK(acs::utc_seconds("2023-10-26T10:22:32") == -1);
}

TEST_CASE("emulator record rules", "[emulator][rules]") {
  for (const char* accepted :
       {"mail.example.com", "mail.example.com.", "a-1.b2.example", "xn--bcher-kva.example"}) {
    INFO(accepted);
    CHECK(rules::acceptable_value(accepted));
  }
  for (const char* refused :
       {"", "localhost", "*.example.com", "mail_1.example.com", "-mail.example.com",
        "mail-.example.com", "mail..example.com", "192.0.2.1", "mail.example.123",
        "mail example.com", "caf\xc3\xa9.example"}) {
    INFO(refused);
    CHECK_FALSE(rules::acceptable_value(refused));
  }
  CHECK_FALSE(rules::acceptable_value(std::string(64, 'a') + ".example"));
  CHECK(rules::acceptable_value(std::string(63, 'a') + ".example"));
  std::string long_name;
  while (long_name.size() < 250) long_name += "abcdefghi.";
  CHECK_FALSE(rules::acceptable_value(long_name + "example"));

  CHECK(rules::root_domain("Mail.Example.COM.") == "example.com");
  CHECK(rules::root_domain("example.com") == "example.com");
  CHECK(rules::reverse_name("192.0.2.10") == "10.2.0.192.in-addr.arpa");
  CHECK(rules::reverse_name("2001:db8::1").empty());
}
