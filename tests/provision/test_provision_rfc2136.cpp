// The rfc2136 provider against a real Knot on loopback that takes only
// updates signed with the lab's TSIG key: creates, replaces guarded by the
// value read, concurrent changes detected, deletes, refusals named, RFC 2317
// child zones, the SOA MNAME found through the resolver, and the key formats.

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <lab/dns_lab.hpp>
#include <provision/api_error.hpp>
#include <provision/provider.hpp>
#include <provision/rfc2136.hpp>
#include <util/error.hpp>

#include "rfc2136_fixture.hpp"

namespace {

using namespace rdns::provision;
using rdns::test::served_ptrs;

TsigKey lab_key() {
  return parse_tsig_key(rdns::test::lab_key_text(), "test");
}

Rfc2136Config lab_config() {
  Rfc2136Config config;
  config.server = rdns::lab::rfc2136_lab().authority_address();
  config.resolvers = {rdns::lab::rfc2136_lab().resolver_address()};
  config.key = lab_key();
  config.prefixes = {Ipv4Prefix::parse("192.0.2.0/24"), Ipv4Prefix::parse("198.51.100.0/24")};
  config.timeout = std::chrono::milliseconds(3000);
  config.scope = NetworkScope::loopback_only;
  return config;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// The ApiError provider work throws; fails the test when it throws none.
template <typename Work>
ApiError api_error_of(Work&& work) {
  try {
    work();
  } catch (const ApiError& error) {
    return error;
  }
  FAIL("no ApiError");
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("rfc2136: create, replace guarded by the value read, delete twice",
          "[provision][rfc2136]") {
  const auto provider = make_rfc2136_provider(lab_config());
  const std::string ip = "192.0.2.10";
  const std::string owner = "10.2.0.192.in-addr.arpa.";
  CHECK(provider->name() == "rfc2136");
  CHECK_FALSE(provider->capabilities().supports_disable);
  CHECK_FALSE(provider->verification_txt("mx1.rfc2136.test"));

  const auto owned = provider->ownership({ip});
  REQUIRE(owned.size() == 1);
  CHECK(owned[0].role == IpRole::reverse_zone);
  CHECK(owned[0].resource_id == "2.0.192.in-addr.arpa");
  CHECK(provider->read(ip).empty());

  const std::string id = provider->write(ip, "MX1.rfc2136.test.", 300, "");
  CHECK(id == "mx1.rfc2136.test");
  CHECK(served_ptrs(owner) == std::vector<std::string>{"mx1.rfc2136.test"});
  const auto records = provider->read(ip);
  REQUIRE(records.size() == 1);
  CHECK(records[0].record_id == id);
  CHECK(records[0].ttl == 300);
  CHECK(records[0].ip == ip);

  // A create when a record exists fails its "no RRset" prerequisite.
  const ApiError duplicate =
      api_error_of([&] { provider->write(ip, "mx1b.rfc2136.test", 60, ""); });
  CHECK(duplicate.kind() == ApiErrorKind::conflict);
  CHECK(duplicate.api_code() == "YXRRSET");
  CHECK(served_ptrs(owner) == std::vector<std::string>{"mx1.rfc2136.test"});

  // The replace: one message deleting the RRset and adding the new value.
  CHECK(provider->write(ip, "mx1b.rfc2136.test", 120, id) == "mx1b.rfc2136.test");
  CHECK(served_ptrs(owner) == std::vector<std::string>{"mx1b.rfc2136.test"});
  CHECK(provider->read(ip).front().ttl == 120);
  // The same write again (its answer lost, say) finds its value there: done.
  CHECK(provider->write(ip, "mx1b.rfc2136.test", 120, id) == "mx1b.rfc2136.test");

  provider->remove(ip, "mx1b.rfc2136.test");
  CHECK(served_ptrs(owner).empty());
  // Already gone is deleted.
  provider->remove(ip, "mx1b.rfc2136.test");
  CHECK(provider->read(ip).empty());
  CHECK(contains(provider->last_request_id(), rdns::lab::rfc2136_lab().authority_address()));

  // There is nothing to disable in DNS.
  try {
    provider->set_status(ip, "", PtrStatus::disabled);
    FAIL("disabled");
  } catch (const rdns::Error& error) {
    CHECK(error.code() == rdns::Errc::usage);
  }
}

TEST_CASE("rfc2136: a change made in between is detected, not overwritten",
          "[provision][rfc2136]") {
  const auto provider = make_rfc2136_provider(lab_config());
  const std::string ip = "192.0.2.11";
  const std::string owner = "11.2.0.192.in-addr.arpa.";
  const std::string id = provider->write(ip, "mx2.rfc2136.test", 60, "");
  // Someone else changes the PTR after rdnsctl read it.
  rdns::test::knsupdate({"zone 2.0.192.in-addr.arpa.", "update delete " + owner + " PTR",
                         "update add " + owner + " 60 PTR elsewhere.example."});
  const ApiError replaced = api_error_of([&] { provider->write(ip, "mx3.rfc2136.test", 60, id); });
  CHECK(replaced.kind() == ApiErrorKind::conflict);
  CHECK(replaced.api_code() == "NXRRSET");
  CHECK(contains(replaced.what(), "changed concurrently"));
  CHECK(contains(replaced.what(), "expected mx2.rfc2136.test"));
  CHECK(contains(replaced.what(), "now has elsewhere.example"));
  CHECK(served_ptrs(owner) == std::vector<std::string>{"elsewhere.example"});

  const ApiError removed = api_error_of([&] { provider->remove(ip, id); });
  CHECK(removed.kind() == ApiErrorKind::conflict);
  CHECK(served_ptrs(owner) == std::vector<std::string>{"elsewhere.example"});

  // Two values at one address: the record ID names both, and guards both.
  rdns::test::knsupdate(
      {"zone 2.0.192.in-addr.arpa.", "update add " + owner + " 60 PTR second.example."});
  const auto both = provider->read(ip);
  REQUIRE(both.size() == 2);
  CHECK(both[0].record_id == "elsewhere.example second.example");
  provider->write(ip, "mx2.rfc2136.test", 60, both[0].record_id);
  CHECK(served_ptrs(owner) == std::vector<std::string>{"mx2.rfc2136.test"});
  provider->remove(ip, "mx2.rfc2136.test");
}

TEST_CASE("rfc2136: a wrong key is refused by name, and nothing is written",
          "[provision][rfc2136]") {
  const std::string ip = "192.0.2.13";
  SECTION("the right name with another secret: BADSIG") {
    Rfc2136Config config = lab_config();
    config.key = parse_tsig_key(
        std::string(rdns::lab::kLabTsigKeyName) + ":c2VjcmV0LXRoYXQtaXMtbm90LXRoZS1sYWJzLWtleQ==",
        "--tsig-key");
    const auto provider = make_rfc2136_provider(config);
    // Whether the zone is served there does not depend on the key...
    CHECK(provider->ownership({ip}).front().role == IpRole::reverse_zone);
    // ...but every read and write is signed, and refused.
    const ApiError error = api_error_of([&] { provider->read(ip); });
    CHECK(error.kind() == ApiErrorKind::auth);
    CHECK(error.api_code() == "BADSIG");
    CHECK(contains(error.what(), "rdnsctl-lab."));
    CHECK_FALSE(contains(error.what(), "c2VjcmV0"));
    const ApiError write = api_error_of([&] { provider->write(ip, "mx4.rfc2136.test", 60, ""); });
    CHECK(write.api_code() == "BADSIG");
  }
  SECTION("a key the server does not know: BADKEY") {
    Rfc2136Config config = lab_config();
    config.key = parse_tsig_key(std::string("unknown-key:") + rdns::lab::kLabTsigSecret, "test");
    const auto provider = make_rfc2136_provider(config);
    const ApiError error = api_error_of([&] { provider->write(ip, "mx4.rfc2136.test", 60, ""); });
    CHECK(error.api_code() == "BADKEY");
    CHECK(contains(error.what(), "unknown-key."));
    CHECK_FALSE(contains(error.what(), rdns::lab::kLabTsigSecret));
  }
  CHECK(served_ptrs("13.2.0.192.in-addr.arpa.").empty());
}

TEST_CASE("rfc2136: addresses outside the prefixes are refused before anything is sent",
          "[provision][rfc2136]") {
  Rfc2136Config config = lab_config();
  config.prefixes = {Ipv4Prefix::parse("192.0.2.0/28")};
  int messages = 0;
  config.log = [&](std::string_view) { ++messages; };
  const auto provider = make_rfc2136_provider(config);
  const auto owned = provider->ownership({"192.0.2.20", "2001:db8::1"});
  REQUIRE(owned.size() == 2);
  CHECK(owned[0].role == IpRole::not_owned);
  CHECK(contains(owned[0].reason, "outside the networks this key may change (192.0.2.0/28)"));
  CHECK(owned[1].role == IpRole::not_owned);
  try {
    provider->write("192.0.2.20", "cli1.rfc2136.test", 60, "");
    FAIL("written");
  } catch (const rdns::Error& error) {
    CHECK(error.code() == rdns::Errc::usage);
  }
  CHECK(messages == 0);
  CHECK(served_ptrs("20.2.0.192.in-addr.arpa.").empty());
}

TEST_CASE("rfc2136: an address whose reverse zone the server does not serve is not owned",
          "[provision][rfc2136]") {
  const auto provider = make_rfc2136_provider(lab_config());
  const auto owned = provider->ownership({"198.51.100.5"});
  REQUIRE(owned.size() == 1);
  CHECK(owned[0].role == IpRole::not_owned);
  CHECK(contains(owned[0].reason, "does not serve the reverse zone of 5.100.51.198.in-addr.arpa"));
  const ApiError error =
      api_error_of([&] { provider->write("198.51.100.5", "other.rfc2136.test", 60, ""); });
  CHECK(error.kind() == ApiErrorKind::ip_not_owned);
}

TEST_CASE("rfc2136: RFC 2317 child zones are found through the CNAME and updated",
          "[provision][rfc2136]") {
  const auto provider = make_rfc2136_provider(lab_config());
  const std::string ip = "192.0.2.70";
  const auto owned = provider->ownership({ip});
  REQUIRE(owned.size() == 1);
  CHECK(owned[0].resource_id == "64-127.2.0.192.in-addr.arpa");
  provider->write(ip, "relay.rfc2136.test", 60, "");
  CHECK(served_ptrs("70.64-127.2.0.192.in-addr.arpa.") ==
        std::vector<std::string>{"relay.rfc2136.test"});
  const auto records = provider->read(ip);
  REQUIRE(records.size() == 1);
  CHECK(records[0].value == "relay.rfc2136.test");
  CHECK(records[0].name == "70.64-127.2.0.192.in-addr.arpa");

  SECTION("the listing transfers the parent and the child zone") {
    const auto listing = provider->list();
    std::vector<std::string> lines;
    for (const auto& record : listing.records) lines.push_back(record.ip + " " + record.value);
    CHECK(std::find(lines.begin(), lines.end(), "192.0.2.12 old.rfc2136.test") != lines.end());
    CHECK(std::find(lines.begin(), lines.end(), "192.0.2.70 relay.rfc2136.test") != lines.end());
    CHECK(std::find(lines.begin(), lines.end(), "192.0.2.71 old-relay.rfc2136.test") !=
          lines.end());
  }
  SECTION("a prefix wider than a /24 is listed from each /24's zone that is served") {
    Rfc2136Config config = lab_config();
    config.prefixes = {Ipv4Prefix::parse("192.0.2.0/23")};
    const auto listing = make_rfc2136_provider(config)->list();
    bool found = false;
    for (const auto& record : listing.records) {
      found = found || (record.ip == "192.0.2.12" && record.value == "old.rfc2136.test");
      CHECK(record.ip.starts_with("192.0.2."));
    }
    CHECK(found);
  }
  provider->remove(ip, "relay.rfc2136.test");
  CHECK(served_ptrs("70.64-127.2.0.192.in-addr.arpa.").empty());
}

TEST_CASE("rfc2136: a key that may not transfer the zone lists address by address",
          "[provision][rfc2136]") {
  Rfc2136Config config = lab_config();
  config.key = parse_tsig_key(
      std::string(rdns::lab::kLabUpdateOnlyKeyName) + ":" + rdns::lab::kLabUpdateOnlySecret,
      "test");
  config.prefixes = {Ipv4Prefix::parse("192.0.2.0/26")};
  std::vector<std::string> log;
  config.log = [&](std::string_view line) { log.emplace_back(line); };
  const auto provider = make_rfc2136_provider(config);
  provider->write("192.0.2.13", "mx4.rfc2136.test", 60, "");
  const auto listing = provider->list();
  std::vector<std::string> lines;
  for (const auto& record : listing.records) lines.push_back(record.ip + " " + record.value);
  CHECK(lines ==
        std::vector<std::string>{"192.0.2.12 old.rfc2136.test", "192.0.2.13 mx4.rfc2136.test"});
  CHECK(std::count_if(log.begin(), log.end(), [](const std::string& line) {
          return contains(line, "QUERY 2.0.192.in-addr.arpa. AXFR");
        }) == 1);
  provider->remove("192.0.2.13", "mx4.rfc2136.test");
}

TEST_CASE("rfc2136: without a server the primary is the SOA MNAME, found through the resolver",
          "[provision][rfc2136]") {
  Rfc2136Config config = lab_config();
  config.server.clear();
  config.primary_port = rdns::lab::rfc2136_lab().authority_port();
  CHECK(rfc2136_scope(config) == "rfc2136");
  const auto provider = make_rfc2136_provider(config);
  const auto owned = provider->ownership({"192.0.2.14"});
  REQUIRE(owned.size() == 1);
  CHECK(owned[0].role == IpRole::reverse_zone);
  CHECK(owned[0].status == rdns::lab::rfc2136_lab().authority_address());
  provider->write("192.0.2.14", "mx5.rfc2136.test", 60, "");
  CHECK(served_ptrs("14.2.0.192.in-addr.arpa.") == std::vector<std::string>{"mx5.rfc2136.test"});
  provider->remove("192.0.2.14", "mx5.rfc2136.test");
}

TEST_CASE("rfc2136: TSIG keys in the -y form and both key files", "[provision][rfc2136]") {
  const std::string secret = rdns::lab::kLabTsigSecret;
  const TsigKey plain = parse_tsig_key("Ptr-Key:" + secret, "--tsig-key");
  CHECK(plain.name == "ptr-key.");
  CHECK(plain.algorithm == "hmac-sha256");
  CHECK(plain.secret.reveal() == secret);
  CHECK(parse_tsig_key("hmac-sha256:ptr-key.:" + secret, "x").name == "ptr-key.");

  auto usage_error = [](const std::string& text) {
    try {
      parse_tsig_key(text, "--tsig-key");
    } catch (const rdns::Error& error) {
      CHECK(error.code() == rdns::Errc::usage);
      return std::string(error.what());
    }
    FAIL("accepted " << text);
    return std::string();
  };
  CHECK(contains(usage_error("hmac-md5:k:" + secret), "\"hmac-md5\" is not supported"));
  CHECK(contains(usage_error("k:not base64!"), "is not base64"));
  // Fields in the wrong order: the message must not echo the secret.
  const std::string swapped = usage_error(secret + ":k");
  CHECK_FALSE(contains(swapped, secret));
  CHECK(contains(usage_error("just-a-name"), "expected [hmac-sha256:]NAME:SECRET"));

  rdns::test::TempDir dir;
  const auto bind = rdns::test::write_file(dir.path() / "bind.key",
                                           "# made by tsig-keygen\n"
                                           "key \"ptr-key\" {\n"
                                           "\talgorithm hmac-sha256;\n"
                                           "\tsecret \"" +
                                               secret +
                                               "\";\n"
                                               "};\n");
  const TsigKey from_bind = read_tsig_key_file(bind);
  CHECK(from_bind.name == "ptr-key.");
  CHECK(from_bind.secret.reveal() == secret);
  const auto knot = rdns::test::write_file(dir.path() / "knot.key",
                                           "# knsupdate -k\nhmac-sha256:ptr-key:" + secret + "\n");
  CHECK(read_tsig_key_file(knot).name == "ptr-key.");

  auto input_error = [&](const std::string& name, const std::string& text) {
    const auto path = rdns::test::write_file(dir.path() / name, text);
    try {
      read_tsig_key_file(path);
    } catch (const rdns::Error& error) {
      CHECK(error.code() == rdns::Errc::input);
      CHECK_FALSE(contains(error.what(), secret));
      return std::string(error.what());
    }
    FAIL("accepted " << text);
    return std::string();
  };
  CHECK(contains(input_error("noalg.key", "key \"k\" {\n secret \"" + secret + "\";\n};\n"),
                 "noalg.key:1: key k has no algorithm"));
  CHECK(contains(input_error("semi.key", "key \"k\" {\n algorithm hmac-sha256\n secret \"" +
                                             secret + "\";\n};\n"),
                 "semi.key:3: expected \";\""));
  CHECK(contains(input_error("md5.key", "key \"k\" {\n algorithm hmac-md5;\n secret \"" + secret +
                                            "\";\n};\n"),
                 "md5.key:3: TSIG algorithm \"hmac-md5\" is not supported"));
  CHECK(contains(input_error("line.key", "\n\nk:bad!secret\n"), "line.key:3: the secret"));
  CHECK(contains(input_error("empty.key", "# nothing\n"), "empty.key: no key"));
  try {
    read_tsig_key_file(dir.path() / "missing.key");
    FAIL("read a missing file");
  } catch (const rdns::Error& error) {
    CHECK(error.code() == rdns::Errc::io);
    CHECK(contains(error.what(), "missing.key"));
  }
}

TEST_CASE("rfc2136: prefixes are CIDRs without host bits", "[provision][rfc2136]") {
  CHECK(Ipv4Prefix::parse("192.0.2.64/26").contains(0xC0000246));        // 192.0.2.70
  CHECK_FALSE(Ipv4Prefix::parse("192.0.2.64/26").contains(0xC000020A));  // 192.0.2.10
  CHECK(Ipv4Prefix::parse("192.0.2.7").text() == "192.0.2.7/32");
  for (const std::string bad : {"192.0.2.1/24", "192.0.2.0/33", "192.0.2.0/4", "mail", "::1/128"}) {
    try {
      Ipv4Prefix::parse(bad);
      FAIL("accepted " << bad);
    } catch (const rdns::Error& error) {
      CHECK(error.code() == rdns::Errc::usage);
    }
  }
  Rfc2136Config config = lab_config();
  config.prefixes.clear();
  CHECK_THROWS_AS(make_rfc2136_provider(config), rdns::Error);
  config = lab_config();
  config.key = TsigKey{};
  CHECK_THROWS_AS(make_rfc2136_provider(config), rdns::Error);
  config = lab_config();
  config.server = "192.0.2.53";  // not loopback
  CHECK_THROWS_AS(make_rfc2136_provider(config), rdns::Error);
}

TEST_CASE("rfc2136: a primary that never answers is a network error naming it",
          "[provision][rfc2136]") {
  // A listening socket nobody accepts from: the connection is made, no answer comes.
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&address), length) == 0);
  REQUIRE(::listen(listener, 4) == 0);
  REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  Rfc2136Config config = lab_config();
  config.server = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  config.timeout = std::chrono::milliseconds(300);
  const auto provider = make_rfc2136_provider(config);
  const ApiError silent = api_error_of([&] { provider->ownership({"192.0.2.10"}); });
  CHECK(silent.kind() == ApiErrorKind::network);
  CHECK(silent.api_code() == "Network.Timeout");
  CHECK(contains(silent.what(), config.server));
  ::close(listener);

  // Nothing listening at all.
  const auto closed = make_rfc2136_provider(config);
  const ApiError refused = api_error_of([&] { closed->read("192.0.2.10"); });
  CHECK(refused.kind() == ApiErrorKind::network);
  CHECK(refused.api_code() == "Network.Connect");
}
