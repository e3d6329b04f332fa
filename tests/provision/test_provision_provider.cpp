// The PtrProvider interface: the Alibaba-style implementation against the
// running emulator (its writes reach Knot), the --provider names, and the
// pre-write checks following a provider's capabilities.

#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <provision/plan.hpp>
#include <provision/provider.hpp>
#include <provision/write_checks.hpp>
#include <util/error.hpp>

#include "../emulator/emulator_process.hpp"

namespace {

using namespace rdns::provision;

/// A provider serving its own zone from memory: owns 192.0.2.0/24, needs no
/// domain verification, cannot disable, TTLs 60-3600.
class ZoneProvider final : public PtrProvider {
 public:
  const std::string& name() const override { return name_; }
  ProviderCapabilities capabilities() const override {
    ProviderCapabilities capabilities;
    capabilities.min_ttl = 60;
    capabilities.max_ttl = 3600;
    capabilities.fixed_ttl = fixed_ttl;
    return capabilities;
  }
  std::vector<Ownership> ownership(const std::vector<std::string>& ips) override {
    std::vector<Ownership> result;
    for (const auto& ip : ips) {
      Ownership owned;
      owned.ip = ip;
      owned.role = ip.starts_with("192.0.2.") ? IpRole::eip : IpRole::not_owned;
      result.push_back(owned);
    }
    return result;
  }
  PtrListing list() override { return {}; }
  std::vector<PtrRecord> read(const std::string&) override { return {}; }
  std::string write(const std::string&, const std::string&, int, const std::string&) override {
    return {};
  }
  void remove(const std::string&, const std::string&) override {}
  void set_status(const std::string&, const std::string&, PtrStatus) override {
    throw rdns::Error(rdns::Errc::usage, "cannot disable");
  }
  std::optional<VerificationTxt> verification_txt(const std::string&) override {
    ++verification_asked;
    return std::nullopt;
  }
  const std::string& last_request_id() const override { return name_; }

  int verification_asked = 0;
  std::optional<int> fixed_ttl;

 private:
  std::string name_ = "zone";
};

/// DNS where every name resolves to 192.0.2.1 with TTL 300 and no TXT exists.
class FixedDns final : public DnsView {
 public:
  DnsAnswer a(const std::string&) override {
    return {DnsAnswer::Outcome::answered, {"192.0.2.1"}, 300, {}};
  }
  DnsAnswer txt(const std::string& name) override {
    txt_asked.push_back(name);
    return {DnsAnswer::Outcome::nodata, {}, 0, {}};
  }
  DnsAnswer ptr(const std::string&) override { return {DnsAnswer::Outcome::nxdomain, {}, 0, {}}; }
  std::optional<std::uint32_t> zone_ttl_of_a(const std::string&) override { return 7200; }

  std::vector<std::string> txt_asked;
};

bool failed(const WriteCheck& check, WriteRule rule) {
  for (const auto& failure : check.failures) {
    if (failure.rule == rule) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("the alibaba provider writes through the cloud API", "[provision][provider]") {
  rdns::test::EmulatorProcess emulator;
  const auto provider =
      make_provider("alibaba", emulator.client_config(), rdns::test::test_credentials());
  CHECK(provider->name() == "alibaba");
  CHECK(provider->capabilities().supports_disable);
  CHECK(provider->capabilities().needs_domain_verification);

  const auto owned = provider->ownership({"198.51.100.10", "198.51.100.20", "198.51.100.30"});
  REQUIRE(owned.size() == 3);
  CHECK(owned[0].role == IpRole::eip);
  CHECK(owned[1].role == IpRole::ecs_public_ip);
  CHECK(owned[2].role == IpRole::not_owned);

  const auto txt = provider->verification_txt("mx3.mailcorp.test");
  REQUIRE(txt);
  CHECK(txt->domain == "mailcorp.test");
  rdns::test::publish_txt(txt->fqdn(), txt->value);

  const std::string ip = "198.51.100.20";
  const std::string reverse = "20.100.51.198.in-addr.arpa";
  CHECK(provider->read(ip).empty());
  const std::string id = provider->write(ip, "mx3.mailcorp.test", 300, "");
  CHECK(!id.empty());
  CHECK(!provider->last_request_id().empty());
  CHECK(rdns::test::authority_ptr(reverse) == std::vector<std::string>{"mx3.mailcorp.test."});

  SECTION("a replace keeps the record and changes value and TTL") {
    CHECK(provider->write(ip, "mx1.mailcorp.test", 120, id) == id);
    const auto now = state_of(provider->read(ip), ip);
    CHECK(now.value == "mx1.mailcorp.test");
    CHECK(now.ttl == 120);
    CHECK(rdns::test::authority_ptr(reverse) == std::vector<std::string>{"mx1.mailcorp.test."});
  }
  SECTION("disable stops serving, enable serves again") {
    provider->set_status(ip, id, PtrStatus::disabled);
    CHECK(rdns::test::authority_ptr(reverse).empty());
    CHECK(state_of(provider->read(ip), ip).status == PtrStatus::disabled);
    provider->set_status(ip, id, PtrStatus::enabled);
    CHECK(rdns::test::authority_ptr(reverse) == std::vector<std::string>{"mx3.mailcorp.test."});
  }
  SECTION("delete removes it from the listing and from DNS") {
    REQUIRE(provider->list().records.size() == 1);
    provider->remove(ip, id);
    CHECK(provider->list().records.empty());
    CHECK(rdns::test::authority_ptr(reverse).empty());
  }
}

TEST_CASE("an unknown provider name is a usage error naming the choices", "[provision][provider]") {
  CHECK(provider_names() == std::vector<std::string>{"alibaba", "rfc2136", "powerdns", "aws"});
  ClientConfig config;
  config.region = "cn-hangzhou";
  try {
    make_provider("bind9", config, rdns::test::test_credentials());
    FAIL("made a provider");
  } catch (const rdns::Error& error) {
    CHECK(error.code() == rdns::Errc::usage);
    CHECK(std::string(error.what()).find("expected alibaba, rfc2136") != std::string::npos);
  }
}

TEST_CASE("the pre-write checks follow the provider's capabilities", "[provision][provider]") {
  ZoneProvider provider;
  FixedDns dns;

  SECTION("no domain verification asked of a provider that needs none") {
    const WriteCheck check = check_ptr_write(provider, dns, "192.0.2.1", "mail.example.net", {});
    CHECK(check.ok());
    CHECK(dns.txt_asked.empty());
    CHECK(provider.verification_asked == 0);
    CHECK(check.ttl == 3600);  // the zone's 7200, capped at the provider's maximum
    CHECK_THROWS_AS(check_domain_verification(provider, dns, "mail.example.net"), rdns::Error);
  }
  SECTION("the TTL range is the provider's") {
    const WriteCheck low = check_ptr_write(provider, dns, "192.0.2.1", "mail.example.net", 30);
    REQUIRE(failed(low, WriteRule::ttl_range));
    CHECK(low.failures.front().message == "192.0.2.1 TTL_RANGE: TTL 30 is outside 60-3600 seconds");
    CHECK(check_ptr_write(provider, dns, "192.0.2.1", "mail.example.net", 60).ok());
  }
  SECTION("a provider that chooses the TTL: a requested one is a warning, not applied") {
    provider.fixed_ttl = 900;
    const WriteCheck given = check_ptr_write(provider, dns, "192.0.2.1", "mail.example.net", 30);
    CHECK(given.ok());
    CHECK(given.ttl == 900);
    REQUIRE(given.warnings.size() == 1);
    CHECK(given.warnings.front() ==
          "192.0.2.1 TTL: the zone provider chooses the TTL itself; --ttl 30 is not applied");
    const WriteCheck unset = check_ptr_write(provider, dns, "192.0.2.1", "mail.example.net", {});
    CHECK(unset.ttl == 900);  // not the zone's A-record TTL
    CHECK(unset.warnings.empty());
    CHECK(check_ptr_write(provider, dns, "192.0.2.1", "mail.example.net", 900).warnings.empty());
  }
  SECTION("ownership is the provider's answer") {
    const WriteCheck check = check_ptr_write(provider, dns, "198.51.100.1", "mail.example.net", {});
    CHECK(failed(check, WriteRule::ip_owned));
  }
}
