// Replies that are not answers: a scripted DNS server on loopback sends each
// kind of non-answer, and the audit must call the address TEMPFAIL (nothing
// proven), never NO_PTR.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <audit/auditor.hpp>
#include <audit/classify.hpp>
#include <lab/ldns.hpp>

#include "lab_options.hpp"

using namespace rdns::audit;

namespace {

/// How the scripted server answers a PTR question for 192.0.2.N: N picks the case.
enum Script : int {
  echo = 1,            // the query sent back unchanged: QR bit clear
  other_question = 2,  // a reply for another name
  other_owner = 3,     // a PTR record whose owner is another name
  a_for_ptr = 4,       // an A record answering the PTR question
  class_ch = 5,        // a PTR record of class CH
  truncated = 6,       // TC=1 over UDP, then over TCP a NOERROR with no records at all
  wrong_id = 7,        // a proper answer under another ID
  nxdomain = 8,        // control: NXDOMAIN with the zone's SOA
  nodata = 9,          // control: NOERROR, no PTR, the zone's SOA
  bare_nxdomain = 10,  // control: NXDOMAIN without an SOA, as some forwarders synthesise it
};

constexpr const char* kSoa =
    "2.0.192.in-addr.arpa. 300 IN SOA ns.example. admin.example. 1 3600 600 86400 300";

ldns_rr* make_rr(const std::string& text) {
  ldns_rr* rr = nullptr;
  REQUIRE(ldns_rr_new_frm_str(&rr, text.c_str(), 300, nullptr, nullptr) == LDNS_STATUS_OK);
  return rr;
}

std::string to_wire(ldns_pkt* packet) {
  std::uint8_t* wire = nullptr;
  std::size_t size = 0;
  REQUIRE(ldns_pkt2wire(&wire, packet, &size) == LDNS_STATUS_OK);
  std::string bytes(reinterpret_cast<char*>(wire), size);
  free(wire);  // NOLINT: allocated by ldns
  ldns_pkt_free(packet);
  return bytes;
}

/// The scripted reply to one query; empty for none.
std::string scripted_reply(const std::string& query, bool over_tcp) {
  ldns_pkt* parsed = nullptr;
  if (ldns_wire2pkt(&parsed, reinterpret_cast<const std::uint8_t*>(query.data()), query.size()) !=
      LDNS_STATUS_OK) {
    return {};
  }
  const ldns_rr* question = ldns_rr_list_rr(ldns_pkt_question(parsed), 0);
  char* owner_text = ldns_rdf2str(ldns_rr_owner(question));
  const std::string qname = owner_text;
  free(owner_text);  // NOLINT: allocated by ldns
  const int script = std::atoi(qname.c_str());
  // Questions about ancestors (the audit probing for a lame delegation after
  // a timeout) go unanswered, so only the scripted reply is judged.
  if (std::count(qname.begin(), qname.end(), '.') != 6) {
    ldns_pkt_free(parsed);
    return {};
  }

  if (script == echo) {
    ldns_pkt_free(parsed);
    return query;
  }
  ldns_pkt* reply = ldns_pkt_new();
  ldns_pkt_set_id(reply, ldns_pkt_id(parsed));
  ldns_pkt_set_qr(reply, true);
  ldns_pkt_set_rd(reply, true);
  ldns_pkt_set_ra(reply, true);
  ldns_rr* echoed = ldns_rr_clone(question);
  if (script == other_question) {
    ldns_rr_free(echoed);
    echoed = nullptr;
    ldns_rr_new_question_frm_str(&echoed, "99.2.0.192.in-addr.arpa. IN PTR", nullptr, nullptr);
  }
  ldns_pkt_push_rr(reply, LDNS_SECTION_QUESTION, echoed);
  ldns_pkt_free(parsed);
  switch (script) {
    case other_question:
      ldns_pkt_push_rr(reply, LDNS_SECTION_ANSWER,
                       make_rr("99.2.0.192.in-addr.arpa. 300 IN PTR mail.example.com."));
      break;
    case other_owner:
      ldns_pkt_push_rr(reply, LDNS_SECTION_ANSWER,
                       make_rr("99.2.0.192.in-addr.arpa. 300 IN PTR mail.example.com."));
      break;
    case a_for_ptr:
      ldns_pkt_push_rr(reply, LDNS_SECTION_ANSWER, make_rr(qname + " 300 IN A 192.0.2.4"));
      break;
    case class_ch:
      ldns_pkt_push_rr(reply, LDNS_SECTION_ANSWER,
                       make_rr(qname + " 300 CH PTR mail.example.com."));
      break;
    case truncated:
      if (!over_tcp) ldns_pkt_set_tc(reply, true);
      break;
    case wrong_id:
      ldns_pkt_set_id(reply, static_cast<std::uint16_t>(ldns_pkt_id(reply) + 1));
      ldns_pkt_push_rr(reply, LDNS_SECTION_AUTHORITY, make_rr(kSoa));
      ldns_pkt_set_rcode(reply, LDNS_RCODE_NXDOMAIN);
      break;
    case nxdomain:
      ldns_pkt_push_rr(reply, LDNS_SECTION_AUTHORITY, make_rr(kSoa));
      ldns_pkt_set_rcode(reply, LDNS_RCODE_NXDOMAIN);
      break;
    case bare_nxdomain:
      ldns_pkt_set_rcode(reply, LDNS_RCODE_NXDOMAIN);
      break;
    default:  // nodata
      ldns_pkt_push_rr(reply, LDNS_SECTION_AUTHORITY, make_rr(kSoa));
      break;
  }
  return to_wire(reply);
}

/// A DNS server on 127.0.0.1 (UDP and TCP on one port) that answers from the script.
class ScriptedServer {
 public:
  ScriptedServer() {
    udp_ = socket(AF_INET, SOCK_DGRAM, 0);
    tcp_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(udp_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    socklen_t length = sizeof address;
    getsockname(udp_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    const int on = 1;
    setsockopt(tcp_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    REQUIRE(bind(tcp_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(listen(tcp_, 8) == 0);
    REQUIRE(pipe(stop_) == 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedServer() {
    (void)!write(stop_[1], "x", 1);
    thread_.join();
    for (std::thread& connection : connections_) connection.join();
    for (const int fd : {udp_, tcp_, stop_[0], stop_[1]}) close(fd);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int tcp_queries() const { return tcp_queries_; }

 private:
  void serve() {
    for (;;) {
      pollfd fds[3] = {{udp_, POLLIN, 0}, {tcp_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
      if (poll(fds, 3, -1) < 0) continue;
      if (fds[2].revents != 0) return;
      if ((fds[0].revents & POLLIN) != 0) {
        char buffer[4096];
        sockaddr_in from{};
        socklen_t length = sizeof from;
        const ssize_t got =
            recvfrom(udp_, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &length);
        if (got <= 0) continue;
        const std::string reply = scripted_reply(std::string(buffer, std::size_t(got)), false);
        if (!reply.empty()) {
          sendto(udp_, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), length);
        }
      }
      if ((fds[1].revents & POLLIN) != 0) {
        const int connection = accept(tcp_, nullptr, nullptr);
        // Its own thread, so UDP queries are never held up behind a TCP one.
        if (connection >= 0)
          connections_.emplace_back([this, connection] { serve_tcp(connection); });
      }
    }
  }

  void serve_tcp(int connection) {
    std::string stream;
    char buffer[4096];
    for (;;) {
      // c-ares may keep the connection open: stop once it went quiet or
      // the server stops.
      pollfd wait[2] = {{connection, POLLIN, 0}, {stop_[0], POLLIN, 0}};
      if (poll(wait, 2, 1500) <= 0 || wait[1].revents != 0) break;
      const ssize_t got = recv(connection, buffer, sizeof buffer, 0);
      if (got <= 0) break;
      stream.append(buffer, std::size_t(got));
      while (stream.size() >= 2) {
        const std::size_t size =
            (std::size_t(std::uint8_t(stream[0])) << 8) | std::uint8_t(stream[1]);
        if (stream.size() < 2 + size) break;
        ++tcp_queries_;
        const std::string reply = scripted_reply(stream.substr(2, size), true);
        stream.erase(0, 2 + size);
        std::string framed{char(reply.size() >> 8), char(reply.size() & 0xff)};
        framed += reply;
        send(connection, framed.data(), framed.size(), MSG_NOSIGNAL);
      }
    }
    close(connection);
  }

  int udp_ = -1;
  int tcp_ = -1;
  int stop_[2] = {-1, -1};
  std::uint16_t port_ = 0;
  std::atomic<int> tcp_queries_{0};
  std::thread thread_;
  std::vector<std::thread> connections_;  // only the serving thread adds to it
};

}  // namespace

TEST_CASE("Auditor::run reports TEMPFAIL, not NO_PTR, for replies that are not answers") {
  ScriptedServer server;
  AuditOptions options;
  options.resolvers = {server.address()};
  options.timeout = std::chrono::milliseconds(300);
  options.retries = 1;
  TargetSet targets(64);
  for (int n = echo; n <= bare_nxdomain; ++n) targets.add("192.0.2." + std::to_string(n), "test");
  Auditor auditor(options, Rules::defaults());
  std::map<int, IpResult> results;
  auditor.run(targets, [&](IpResult&& result) {
    const std::string ip = result.observation.ip.to_string();
    results.emplace(std::stoi(ip.substr(ip.rfind('.') + 1)), std::move(result));
  });
  REQUIRE(results.size() == bare_nxdomain);
  CHECK(server.tcp_queries() >= 1);
  for (const auto& [script, result] : results) {
    INFO("script " << script << ": " << result.observation.ptr.failure);
    std::set<std::string> codes;
    for (const auto& finding : result.verdict.findings) codes.emplace(code_name(finding.code));
    if (script == nxdomain || script == nodata || script == bare_nxdomain) {
      CHECK(codes == std::set<std::string>{"NO_PTR"});
    } else if (script == other_question || script == wrong_id) {
      // c-ares drops these itself and waits for the real reply: a timeout.
      CHECK(codes == std::set<std::string>{"TEMPFAIL"});
      CHECK_THAT(result.observation.ptr.failure, Catch::Contains("no answer"));
    } else {
      CHECK(codes == std::set<std::string>{"TEMPFAIL"});
      CHECK(result.observation.ptr.outcome == Outcome::tempfail);
    }
  }
  CHECK(results.at(echo).observation.ptr.failure.find("QR bit clear") != std::string::npos);
  CHECK(results.at(a_for_ptr).observation.ptr.failure.find("type 1") != std::string::npos);
  CHECK(results.at(class_ch).observation.ptr.failure.find("class") != std::string::npos);
  CHECK(results.at(truncated).observation.ptr.failure.find("empty answer without an SOA") !=
        std::string::npos);
}

TEST_CASE("Auditor::run checks every one of 100 PTR values through the lab") {
  TargetSet targets(1);
  targets.add("192.0.2.40", "test");
  Auditor auditor(rdns::test::lab_options(), Rules::defaults());
  std::vector<IpResult> results;
  auditor.run(targets, [&](IpResult&& result) { results.push_back(std::move(result)); });
  REQUIRE(results.size() == 1);
  const IpResult& result = results.front();
  CHECK(result.observation.ptr.names.size() == 100);
  CHECK(result.observation.forward.size() == 100);
  CHECK(result.observation.ptr.names.back() == DnsName::from_dotted("host100.many.example.org"));
  REQUIRE(result.verdict.findings.size() == 1);
  const Finding& finding = result.verdict.findings.front();
  CHECK(code_name(finding.code) == std::string("MULTIPLE_PTR"));
  CHECK(finding.detail.rfind("100 PTR values", 0) == 0);
  CHECK(finding.detail.find("cut") == std::string::npos);
}

TEST_CASE("MULTIPLE_PTR gives the true count and says when the bound cut the list") {
  IpObservation observation;
  observation.ip = *IpAddress::parse("192.0.2.40");
  observation.ptr.outcome = Outcome::found;
  observation.ptr.ttl = 3600;
  for (int i = 1; i <= 12; ++i) {
    observation.ptr.names.push_back(DnsName::from_dotted(fmt::format("host{:03d}.example.org", i)));
    ForwardObservation forward;
    forward.name = observation.ptr.names.back();
    forward.outcome = Outcome::found;
    forward.addresses = {*IpAddress::parse(i == 12 ? "192.0.2.40" : "192.0.2.99")};
    observation.forward.push_back(forward);
  }
  observation.ptr.names_total = 5000;
  const Verdict verdict = classify(observation, Rules::defaults());
  REQUIRE(verdict.findings.size() == 1);
  const std::string& detail = verdict.findings.front().detail;
  CHECK(detail.rfind("5000 PTR values (host001.example.org, ", 0) == 0);
  CHECK_THAT(detail, Catch::Contains("host010.example.org and 2 more"));
  CHECK_THAT(detail, Catch::Contains("cut at the audit's bound: only the first 12 checked"));
  CHECK_THAT(detail, Catch::Contains("and 1 more do not resolve back to 192.0.2.40"));
}
