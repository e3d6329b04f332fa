// The loopback DNS lab itself: the sample zones answer through unbound the way
// the audit tests rely on, and a lab leaves no server behind when destroyed.

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <signal.h>

#include <lab/dns_lab.hpp>
#include <lab/ldns.hpp>

#include "test_paths.hpp"

namespace {

/// Frees an ldns packet.
struct PacketDeleter {
  void operator()(ldns_pkt* packet) const { ldns_pkt_free(packet); }
};
using Packet = std::unique_ptr<ldns_pkt, PacketDeleter>;

// One recursive query to 127.0.0.1:port. The resolver is built by hand so
// /etc/resolv.conf (the system resolver) is never read or used.
Packet ask(std::uint16_t port, const std::string& name, ldns_rr_type type) {
  ldns_resolver* resolver = ldns_resolver_new();
  ldns_rdf* server = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, "127.0.0.1");
  ldns_rdf* qname = ldns_dname_new_frm_str(name.c_str());
  REQUIRE(resolver != nullptr);
  REQUIRE(server != nullptr);
  REQUIRE(qname != nullptr);
  REQUIRE(ldns_resolver_push_nameserver(resolver, server) == LDNS_STATUS_OK);
  ldns_resolver_set_port(resolver, port);
  ldns_resolver_set_retry(resolver, 2);
  ldns_resolver_set_timeout(resolver, timeval{3, 0});
  ldns_pkt* raw = nullptr;
  const ldns_status status =
      ldns_resolver_send(&raw, resolver, qname, type, LDNS_RR_CLASS_IN, LDNS_RD);
  ldns_rdf_deep_free(qname);
  ldns_rdf_deep_free(server);
  ldns_resolver_deep_free(resolver);
  INFO(name << ": " << ldns_get_errorstr_by_id(status));
  REQUIRE(status == LDNS_STATUS_OK);
  REQUIRE(raw != nullptr);
  return Packet(raw);
}

// The labels of a wire-format name exactly as sent, without any escaping, so
// hostile bytes can be compared byte for byte.
std::vector<std::string> labels(const ldns_rdf* name) {
  std::vector<std::string> out;
  const std::uint8_t* data = ldns_rdf_data(name);
  const std::size_t size = ldns_rdf_size(name);
  for (std::size_t at = 0; at < size && data[at] != 0; at += data[at] + 1u) {
    out.emplace_back(reinterpret_cast<const char*>(data + at + 1), data[at]);
  }
  return out;
}

// The answer records of one type, in answer-section order.
std::vector<const ldns_rr*> answers(const Packet& packet, ldns_rr_type type) {
  std::vector<const ldns_rr*> out;
  const ldns_rr_list* list = ldns_pkt_answer(packet.get());
  for (std::size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(list, i);
    if (ldns_rr_get_type(rr) == type) out.push_back(rr);
  }
  return out;
}

std::vector<std::string> ptr_target(const Packet& packet) {
  const auto ptrs = answers(packet, LDNS_RR_TYPE_PTR);
  REQUIRE(ptrs.size() == 1);
  return labels(ldns_rr_rdf(ptrs.front(), 0));
}

using Labels = std::vector<std::string>;

bool process_exists(pid_t pid) {
  return ::kill(pid, 0) == 0 || errno != ESRCH;
}

}  // namespace

TEST_CASE("the lab resolves a plain PTR through unbound", "[lab]") {
  const auto port = rdns::lab::shared_lab().resolver_port();
  const auto reply = ask(port, "10.2.0.192.in-addr.arpa.", LDNS_RR_TYPE_PTR);
  CHECK(ldns_pkt_get_rcode(reply.get()) == LDNS_RCODE_NOERROR);
  CHECK(ptr_target(reply) == Labels{"mail", "example", "com"});
}

TEST_CASE("the lab keeps the case of a PTR target", "[lab]") {
  const auto port = rdns::lab::shared_lab().resolver_port();
  const auto reply = ask(port, "11.2.0.192.in-addr.arpa.", LDNS_RR_TYPE_PTR);
  CHECK(ptr_target(reply) == Labels{"MX2", "Example", "COM"});
}

TEST_CASE("the lab answers NXDOMAIN for an address without records", "[lab]") {
  const auto port = rdns::lab::shared_lab().resolver_port();
  const auto reply = ask(port, "12.2.0.192.in-addr.arpa.", LDNS_RR_TYPE_PTR);
  CHECK(ldns_pkt_get_rcode(reply.get()) == LDNS_RCODE_NXDOMAIN);
}

TEST_CASE("the lab SERVFAILs for the deliberately broken zone", "[lab]") {
  const auto port = rdns::lab::shared_lab().resolver_port();
  const auto reply = ask(port, "host.broken.example.net.", LDNS_RR_TYPE_A);
  CHECK(ldns_pkt_get_rcode(reply.get()) == LDNS_RCODE_SERVFAIL);
}

TEST_CASE("the lab follows an RFC 2317 CNAME into the classless child zone", "[lab]") {
  const auto port = rdns::lab::shared_lab().resolver_port();
  const auto reply = ask(port, "65.100.51.198.in-addr.arpa.", LDNS_RR_TYPE_PTR);
  REQUIRE(ldns_pkt_get_rcode(reply.get()) == LDNS_RCODE_NOERROR);
  const auto cnames = answers(reply, LDNS_RR_TYPE_CNAME);
  REQUIRE(cnames.size() == 1);
  CHECK(labels(ldns_rr_rdf(cnames.front(), 0)) ==
        Labels{"65", "64-26", "100", "51", "198", "in-addr", "arpa"});
  CHECK(ptr_target(reply) == Labels{"relay", "example", "org"});
}

TEST_CASE("the lab delivers hostile PTR labels byte for byte", "[lab]") {
  const auto port = rdns::lab::shared_lab().resolver_port();
  CHECK(ptr_target(ask(port, "23.2.0.192.in-addr.arpa.", LDNS_RR_TYPE_PTR)) ==
        Labels{"<img src=x onerror=alert(1)>", "example", "com"});
  CHECK(ptr_target(ask(port, "31.2.0.192.in-addr.arpa.", LDNS_RR_TYPE_PTR)) ==
        Labels{"\x1b[31mred", "example", "com"});
}

TEST_CASE("a destroyed lab leaves no server process or work dir behind", "[lab]") {
  pid_t authority = -1;
  pid_t resolver = -1;
  std::filesystem::path work_dir;
  {
    rdns::lab::DnsLab lab(std::filesystem::path(rdns::test::source_dir()) / "samples" / "zones");
    authority = lab.authority_pid();
    resolver = lab.resolver_pid();
    work_dir = lab.work_dir();
    REQUIRE(authority > 0);
    REQUIRE(resolver > 0);
    CHECK(lab.resolver_port() != rdns::lab::shared_lab().resolver_port());
    CHECK(process_exists(authority));
    CHECK(process_exists(resolver));
    CHECK(std::filesystem::exists(work_dir / "knotd.log"));
    const auto reply = ask(lab.resolver_port(), "10.2.0.192.in-addr.arpa.", LDNS_RR_TYPE_PTR);
    CHECK(ptr_target(reply) == Labels{"mail", "example", "com"});
  }
  CHECK_FALSE(process_exists(authority));
  CHECK_FALSE(process_exists(resolver));
  CHECK_FALSE(std::filesystem::exists(work_dir));
}
