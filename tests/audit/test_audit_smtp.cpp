// The SMTP banner and EHLO check against real TCP listeners on 127.0.0.x,
// whose reverse and forward names are in the sample zones.

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <audit/auditor.hpp>
#include <lab/dns_lab.hpp>

#include "lab_options.hpp"

using namespace rdns::audit;
using rdns::Status;

namespace {

enum class Behaviour { greet, silent, close_at_once };

/// A scripted SMTP server on one loopback address: greets with `banner`,
/// answers EHLO with `ehlo_name`, QUIT with 221. One thread, one client at
/// a time, stopped and joined in the destructor.
class ScriptedSmtpServer {
 public:
  ScriptedSmtpServer(const std::string& address, std::uint16_t port, Behaviour behaviour,
                     std::string banner, std::string ehlo_name = {})
      : behaviour_(behaviour), banner_(std::move(banner)), ehlo_name_(std::move(ehlo_name)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    const int on = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    inet_pton(AF_INET, address.c_str(), &sa.sin_addr);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    socklen_t length = sizeof sa;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &length);
    port_ = ntohs(sa.sin_port);
    REQUIRE(listen(fd_, 16) == 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedSmtpServer() {
    stopping_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  std::uint16_t port() const { return port_; }
  int conversations() const { return conversations_; }
  std::string last_ehlo() const { return last_ehlo_; }

 private:
  void serve() {
    while (!stopping_) {
      const int client = accept(fd_, nullptr, nullptr);
      if (client < 0) return;
      ++conversations_;
      if (behaviour_ == Behaviour::close_at_once) {
        close(client);
        continue;
      }
      if (behaviour_ == Behaviour::silent) {
        char byte;
        timeval wait{3, 0};
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
        (void)recv(client, &byte, 1, 0);  // until the client gives up
        close(client);
        continue;
      }
      say(client, "220-" + banner_ + " ESMTP ready\r\n220 no UCE\r\n");
      std::string line = read_line(client);
      last_ehlo_ = line;
      say(client, "250-" + ehlo_name_ + " Hello\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
      read_line(client);  // QUIT
      say(client, "221 bye\r\n");
      close(client);
    }
  }
  static void say(int client, const std::string& text) {
    (void)send(client, text.data(), text.size(), MSG_NOSIGNAL);
  }
  static std::string read_line(int client) {
    std::string line;
    char c;
    while (recv(client, &c, 1, 0) == 1 && c != '\n') line += c;
    return line;
  }

  Behaviour behaviour_;
  std::string banner_;
  std::string ehlo_name_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> conversations_{0};
  std::string last_ehlo_;
};

std::set<std::string> codes(const IpResult& result) {
  std::set<std::string> out;
  for (const auto& finding : result.verdict.findings) out.emplace(code_name(finding.code));
  return out;
}

}  // namespace

TEST_CASE("Auditor checks SMTP greetings and EHLO names against the PTR") {
  ScriptedSmtpServer ok("127.0.0.20", 0, Behaviour::greet, "smtp-ok.example.com",
                        "smtp-ok.example.com");
  const std::uint16_t port = ok.port();
  ScriptedSmtpServer mismatch("127.0.0.21", port, Behaviour::greet, "other.example.net",
                              "other.example.net");
  ScriptedSmtpServer bare("127.0.0.22", port, Behaviour::greet, "[127.0.0.22]", "127.0.0.22");
  ScriptedSmtpServer silent("127.0.0.23", port, Behaviour::silent, "");
  ScriptedSmtpServer closed("127.0.0.24", port, Behaviour::close_at_once, "");
  ScriptedSmtpServer ehlo("127.0.0.25", port, Behaviour::greet, "smtp-ehlo.example.com",
                          "localhost");

  AuditOptions options = rdns::test::lab_options();
  SmtpOptions smtp;
  smtp.port = port;
  smtp.helo_name = "auditor.example.org";
  smtp.timeout = std::chrono::milliseconds(500);
  smtp.concurrency = 2;
  options.smtp = smtp;

  TargetSet targets(64);
  targets.add("127.0.0.20/30", "test");  // .20 - .23
  targets.add("127.0.0.24/31", "test");  // .24, .25
  Auditor auditor(options, Rules::defaults());
  std::map<std::string, IpResult> results;
  auditor.run(targets,
              [&](IpResult&& r) { results.emplace(r.observation.ip.to_string(), std::move(r)); });
  REQUIRE(results.size() == 6);

  const IpResult& good = results.at("127.0.0.20");
  CHECK(codes(good).empty());
  REQUIRE(good.observation.smtp);
  CHECK(good.observation.smtp->banner_name == "smtp-ok.example.com");
  CHECK(good.observation.smtp->ehlo_code == 250);
  CHECK(ok.last_ehlo() == "EHLO auditor.example.org\r");
  // What the server said is kept as data with the result, escaped.
  const auto stored = to_record(results.at("127.0.0.25")).smtp;
  REQUIRE(stored);
  CHECK(*stored == rdns::db::SmtpRecord{true, "smtp-ehlo.example.com", "localhost", ""});
  CHECK_THAT(to_record(results.at("127.0.0.23")).smtp->failure, Catch::StartsWith("timeout"));
  CHECK_FALSE(to_record(results.at("127.0.0.23")).smtp->greeted);

  CHECK(codes(results.at("127.0.0.21")) == std::set<std::string>{"HELO_MISMATCH"});
  CHECK_THAT(
      results.at("127.0.0.21").verdict.findings[0].detail,
      Catch::Contains("'other.example.net' differs from the PTR name smtp-mismatch.example.com"));
  CHECK(results.at("127.0.0.21").verdict.status == Status::warn);
  CHECK(codes(results.at("127.0.0.22")) == std::set<std::string>{"HELO_INVALID"});
  CHECK(codes(results.at("127.0.0.25")) == std::set<std::string>{"HELO_INVALID"});
  CHECK_THAT(results.at("127.0.0.25").verdict.findings[0].detail, Catch::Contains("EHLO reply"));

  const IpResult& quiet = results.at("127.0.0.23");
  CHECK(codes(quiet) == std::set<std::string>{"SMTP_UNAVAILABLE"});
  CHECK_THAT(quiet.verdict.findings[0].detail, Catch::Contains("timeout"));
  CHECK(quiet.verdict.status == Status::pass);  // outbound-only servers need not listen
  const IpResult& hung_up = results.at("127.0.0.24");
  CHECK(codes(hung_up) == std::set<std::string>{"SMTP_UNAVAILABLE"});
  CHECK_THAT(hung_up.verdict.findings[0].detail, Catch::Contains("closed"));
  CHECK(silent.conversations() == 1);
}
