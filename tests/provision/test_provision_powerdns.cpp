// The PowerDNS provider against a real pdns_server (SQLite backend) on
// loopback: zone discovery (RFC 2317 child zones, prefixes), the record life
// cycle seen through the API and over DNS, and the errors a user meets.

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lab/pdns_server.hpp>
#include <provision/api_error.hpp>
#include <provision/plan.hpp>
#include <provision/powerdns_provider.hpp>
#include <util/error.hpp>

#include "../cli/run_rdnsctl.hpp"

namespace {

using namespace rdns::provision;

/// One server for the file: each test case uses addresses of its own.
rdns::lab::PdnsServer& server() {
  static rdns::lab::PdnsServer pdns({"2.0.192.in-addr.arpa.", "100.51.198.in-addr.arpa.",
                                     "64-26.100.51.198.in-addr.arpa.", "8.b.d.0.1.0.0.2.ip6.arpa.",
                                     "example.com."});
  return pdns;
}

PowerDnsConfig config_for(const rdns::lab::PdnsServer& pdns,
                          std::vector<std::string>* log = nullptr) {
  PowerDnsConfig config;
  config.url = pdns.api_url();
  config.api_key = Secret(pdns.api_key());
  config.scope = NetworkScope::loopback_only;
  config.request_timeout = std::chrono::milliseconds(5000);
  if (log != nullptr) config.log = [log](std::string_view line) { log->emplace_back(line); };
  return config;
}

bool any_contains(const std::vector<std::string>& lines, const std::string& part) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& line) { return line.find(part) != std::string::npos; });
}

/// An HTTP relay on loopback in front of pdns_server. pdns closes every
/// connection after its answer; the relay keeps the client's open instead
/// (as a proxy or another API server would), so the client has a kept-alive
/// connection to reuse. Once told, it forwards a PATCH to pdns (which
/// carries it out) and closes the client's connection without the answer.
class LossyRelay {
 public:
  explicit LossyRelay(std::uint16_t upstream) : upstream_(upstream) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address = loopback(0);
    socklen_t length = sizeof address;
    REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(listener_, 8) == 0);
    REQUIRE(::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~LossyRelay() {
    stop_ = true;
    acceptor_.join();
    const std::lock_guard lock(mutex_);
    for (auto& worker : workers_) worker.join();
    ::close(listener_);
  }
  LossyRelay(const LossyRelay&) = delete;
  LossyRelay& operator=(const LossyRelay&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void lose_patch_answers() { lose_ = true; }
  int patches() const { return patches_; }

 private:
  static sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
  }

  /// Waits up to 100 ms for fd to be readable, so the loops notice stop_.
  static bool readable(int fd) {
    pollfd entry{fd, POLLIN, 0};
    return ::poll(&entry, 1, 100) > 0;
  }

  void accept_loop() {
    while (!stop_) {
      if (!readable(listener_)) continue;
      const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      const std::lock_guard lock(mutex_);
      workers_.emplace_back([this, client] { serve(client); });
    }
  }

  /// One request from fd: the headers, then Content-Length bytes of body.
  std::optional<std::string> read_request(int fd) {
    std::string data;
    char buffer[4096];
    for (;;) {
      const auto end = data.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::string lowered = data.substr(0, end);
        std::transform(lowered.begin(), lowered.end(), lowered.begin(), ::tolower);
        const auto at = lowered.find("content-length:");
        const std::size_t body = at == std::string::npos ? 0 : std::stoul(lowered.substr(at + 15));
        if (data.size() >= end + 4 + body) return data;
      }
      if (stop_) return std::nullopt;
      if (!readable(fd)) continue;
      const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
      if (got <= 0) return std::nullopt;
      data.append(buffer, static_cast<std::size_t>(got));
    }
  }

  /// Sends request to pdns on a new connection and reads the answer to its close.
  std::string ask_upstream(const std::string& request) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const sockaddr_in address = loopback(upstream_);
    std::string answer;
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0 &&
        ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(request.size())) {
      char buffer[4096];
      for (ssize_t got; (got = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) {
        answer.append(buffer, static_cast<std::size_t>(got));
      }
    }
    ::close(fd);
    return answer;
  }

  void serve(int client) {
    while (auto request = read_request(client)) {
      const bool patch = request->starts_with("PATCH ");
      if (patch) ++patches_;
      std::string answer = ask_upstream(*request);
      if (patch && lose_) break;  // carried out; the answer is lost
      const auto close_at = answer.find("Connection: close");
      if (close_at != std::string::npos) answer.replace(close_at, 17, "Connection: keep-alive");
      ::send(client, answer.data(), answer.size(), MSG_NOSIGNAL);
    }
    ::close(client);
  }

  std::uint16_t upstream_;
  std::uint16_t port_ = 0;
  int listener_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<bool> lose_{false};
  std::atomic<int> patches_{0};
  std::mutex mutex_;
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

}  // namespace

TEST_CASE("reverse pointer names of both families", "[provision][powerdns]") {
  CHECK(reverse_pointer_name("192.0.2.10") == "10.2.0.192.in-addr.arpa.");
  CHECK(reverse_pointer_name("2001:db8::1") ==
        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.");
  CHECK_THROWS_AS(reverse_pointer_name("192.0.2"), rdns::Error);
  CHECK(powerdns_scope("http://127.0.0.1:8081/") == "powerdns:127.0.0.1:8081");
}

TEST_CASE("powerdns ownership: the longest reverse zone, RFC 2317 children, prefixes",
          "[provision][powerdns]") {
  PowerDnsPtrProvider provider(config_for(server()));
  const auto owned = provider.ownership(
      {"192.0.2.10", "198.51.100.70", "198.51.100.10", "2001:db8::5", "203.0.113.9"});
  REQUIRE(owned.size() == 5);
  CHECK(owned[0].role == IpRole::reverse_zone);
  CHECK(owned[0].resource_id == "2.0.192.in-addr.arpa");
  CHECK(owned[1].resource_id == "64-26.100.51.198.in-addr.arpa");  // .64-.127: the child zone
  CHECK(owned[2].resource_id == "100.51.198.in-addr.arpa");        // .10: the parent
  CHECK(owned[3].resource_id == "8.b.d.0.1.0.0.2.ip6.arpa");
  CHECK(owned[4].role == IpRole::not_owned);
  CHECK(owned[4].reason.find("no reverse zone on the PowerDNS server") != std::string::npos);
  CHECK(owned[4].reason.find("9.113.0.203.in-addr.arpa") != std::string::npos);

  PowerDnsConfig limited = config_for(server());
  limited.prefixes = {"192.0.2.0/25"};
  PowerDnsPtrProvider fenced(std::move(limited));
  const auto inside = fenced.ownership({"192.0.2.10", "192.0.2.200"});
  CHECK(inside[0].role == IpRole::reverse_zone);
  CHECK(inside[1].role == IpRole::not_owned);
  CHECK(inside[1].reason.find("outside the prefixes") != std::string::npos);

  PowerDnsConfig bad = config_for(server());
  bad.prefixes = {"192.0.2.0/33"};
  CHECK_THROWS_WITH(PowerDnsPtrProvider(std::move(bad)),
                    Catch::Contains("\"192.0.2.0/33\" is not an address prefix"));
}

TEST_CASE("powerdns record life cycle: create, replace, disable, enable, delete twice",
          "[provision][powerdns]") {
  rdns::lab::PdnsServer& pdns = server();
  std::vector<std::string> log;
  PowerDnsPtrProvider provider(config_for(pdns, &log));
  const std::string ip = "192.0.2.20";
  const std::string owner = "20.2.0.192.in-addr.arpa";
  REQUIRE(provider.read(ip).empty());

  const std::string id = provider.write(ip, "mx1.example.com", 300, "");
  CHECK(id == owner);
  CHECK(provider.last_request_id().starts_with("serial "));
  auto now = state_of(provider.read(ip), ip);
  CHECK(now.exists);
  CHECK(now.value == "mx1.example.com");
  CHECK(now.ttl == 300);
  CHECK(now.status == PtrStatus::enabled);
  CHECK(pdns.ptr(owner) == std::vector<std::string>{"mx1.example.com."});

  provider.write(ip, "mx2.example.com.", 600, id);  // a trailing dot is the same name
  const auto records = provider.read(ip);
  REQUIRE(records.size() == 1);  // replaced, never a second value
  CHECK(records.front().value == "mx2.example.com");
  CHECK(records.front().ttl == 600);
  CHECK(pdns.ptr(owner) == std::vector<std::string>{"mx2.example.com."});

  provider.set_status(ip, id, PtrStatus::disabled);
  CHECK(state_of(provider.read(ip), ip).status == PtrStatus::disabled);
  CHECK(pdns.ptr(owner).empty());
  provider.set_status(ip, id, PtrStatus::enabled);
  CHECK(state_of(provider.read(ip), ip).status == PtrStatus::enabled);
  CHECK(pdns.ptr(owner) == std::vector<std::string>{"mx2.example.com."});

  const auto listed = provider.list().records;
  CHECK(std::count_if(listed.begin(), listed.end(),
                      [&](const PtrRecord& record) { return record.ip == ip; }) == 1);

  provider.remove(ip, id);
  CHECK(provider.read(ip).empty());
  CHECK(pdns.ptr(owner).empty());
  CHECK_NOTHROW(provider.remove(ip, id));  // already gone: deleted
  // Every write was a PATCH; the key is never in the log.
  CHECK(any_contains(log, "PATCH zone 2.0.192.in-addr.arpa."));
  CHECK_FALSE(any_contains(log, pdns.api_key()));
}

TEST_CASE("powerdns writes into RFC 2317 child zones and ip6.arpa", "[provision][powerdns]") {
  rdns::lab::PdnsServer& pdns = server();
  PowerDnsPtrProvider provider(config_for(pdns));
  provider.write("198.51.100.70", "mail.example.com", 120, "");
  CHECK(pdns.ptr("70.64-26.100.51.198.in-addr.arpa") ==
        std::vector<std::string>{"mail.example.com."});
  provider.write("2001:db8::25", "mail.example.com", 120, "");
  const auto listed = provider.list().records;
  CHECK(state_of(listed, "198.51.100.70").value == "mail.example.com");
  CHECK(state_of(listed, "2001:db8::25").value == "mail.example.com");
  CHECK(state_of(provider.read("2001:db8::25"), "2001:db8::25").ttl == 120);
  provider.remove("198.51.100.70", "");
  provider.remove("2001:db8::25", "");
  CHECK(provider.read("198.51.100.70").empty());
}

TEST_CASE("powerdns refusals: a wrong key, an address outside its zones, an invalid value",
          "[provision][powerdns]") {
  rdns::lab::PdnsServer& pdns = server();
  SECTION("a wrong key is refused as auth, the key named nowhere") {
    std::vector<std::string> log;
    PowerDnsConfig config = config_for(pdns, &log);
    config.api_key = Secret("wrong-key-4711");
    PowerDnsPtrProvider provider(std::move(config));
    try {
      provider.ownership({"192.0.2.30"});
      FAIL("the wrong key was accepted");
    } catch (const ApiError& error) {
      CHECK(error.kind() == ApiErrorKind::auth);
      CHECK(error.http_status() == 401);
      const std::string text = error.what();
      CHECK(text.find("API key was refused") != std::string::npos);
      CHECK(text.find("wrong-key-4711") == std::string::npos);
    }
    CHECK_FALSE(any_contains(log, "wrong-key-4711"));
  }
  SECTION("an address outside the server's zones is refused before any write") {
    std::vector<std::string> log;
    PowerDnsPtrProvider provider(config_for(pdns, &log));
    CHECK_THROWS_WITH(provider.write("203.0.113.9", "mail.example.com", 300, ""),
                      Catch::Contains("no reverse zone on the PowerDNS server"));
    CHECK_FALSE(any_contains(log, "PATCH"));
  }
  SECTION("the server's 422 text reaches the message, escaped") {
    PowerDnsPtrProvider provider(config_for(pdns));
    try {
      provider.write("192.0.2.31", "not a\nname", 300, "");
      FAIL("an invalid value was written");
    } catch (const ApiError& error) {
      CHECK(error.kind() == ApiErrorKind::validation);
      CHECK(error.http_status() == 422);
      const std::string text = error.what();
      CHECK(text.find("refused the change to zone 2.0.192.in-addr.arpa.") != std::string::npos);
      CHECK(text.find('\n') == std::string::npos);
    }
    CHECK(provider.read("192.0.2.31").empty());
  }
  SECTION("a server id that does not exist is a clear 404") {
    PowerDnsConfig config = config_for(pdns);
    config.server_id = "elsewhere";
    PowerDnsPtrProvider provider(std::move(config));
    CHECK_THROWS_WITH(provider.list(), Catch::Contains("HTTP 404"));
  }
}

TEST_CASE("a powerdns write whose answer was lost is not re-sent behind the caller's back",
          "[provision][powerdns]") {
  rdns::lab::PdnsServer& pdns = server();
  LossyRelay relay(
      static_cast<std::uint16_t>(std::stoi(pdns.api_url().substr(pdns.api_url().rfind(':') + 1))));
  PowerDnsConfig config = config_for(pdns);
  config.url = relay.url();
  PowerDnsPtrProvider provider(std::move(config));
  REQUIRE(provider.read("192.0.2.40").empty());  // leaves a kept-alive connection
  relay.lose_patch_answers();
  try {
    provider.write("192.0.2.40", "mail.example.com", 300, "");
    FAIL("a write without an answer succeeded");
  } catch (const ApiError& error) {
    CHECK(error.kind() == ApiErrorKind::network);
  }
  // pdns carried the one PATCH out; libcurl did not send it a second time.
  CHECK(relay.patches() == 1);
  CHECK(pdns.ptr("40.2.0.192.in-addr.arpa") == std::vector<std::string>{"mail.example.com."});
  PowerDnsPtrProvider(config_for(pdns)).remove("192.0.2.40", "");
}

TEST_CASE("the powerdns API key comes from a private file or the environment",
          "[provision][powerdns]") {
  rdns::test::TempDir dir;
  const auto file = rdns::test::write_file(dir.path() / "pdns.key", "s3cret-key\n");
  ::chmod(file.c_str(), 0644);
  CHECK_THROWS_WITH(powerdns_api_key(file), Catch::Contains("chmod 600"));
  ::chmod(file.c_str(), 0600);
  CHECK(powerdns_api_key(file).reveal() == "s3cret-key");

  const EnvLookup with_key = [](const std::string& name) -> std::optional<std::string> {
    if (name == kPowerDnsKeyVariable) return "from-env";
    return std::nullopt;
  };
  CHECK(powerdns_api_key({}, with_key).reveal() == "from-env");
  const EnvLookup without = [](const std::string&) -> std::optional<std::string> {
    return std::nullopt;
  };
  try {
    powerdns_api_key({}, without);
    FAIL("a key from nowhere");
  } catch (const rdns::Error& error) {
    CHECK(error.code() == rdns::Errc::credentials);
    CHECK(std::string(error.what()).find(kPowerDnsKeyVariable) != std::string::npos);
  }
}
