// The SMTP banner and EHLO check against real TCP listeners on 127.0.0.x,
// whose reverse and forward names are in the sample zones.

#include <atomic>
#include <csignal>
#include <map>
#include <set>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <audit/auditor.hpp>
#include <lab/dns_lab.hpp>

#include "../cli/run_rdnsctl.hpp"
#include "lab_options.hpp"
#include "test_certificates.hpp"

using namespace rdns::audit;
using rdns::Status;

namespace {

enum class Behaviour { greet, silent, close_at_once };

/// A scripted SMTP server on one loopback address: greets with `banner`,
/// answers EHLO with `ehlo_name`, QUIT with 221; with a certificate it
/// offers STARTTLS and speaks TLS after it (OpenSSL, as a real MTA would).
/// One thread, one client at a time, stopped and joined in the destructor.
class ScriptedSmtpServer {
 public:
  ScriptedSmtpServer(const std::string& address, std::uint16_t port, Behaviour behaviour,
                     std::string banner, std::string ehlo_name = {},
                     std::optional<rdns::test::CertificateFiles> tls = std::nullopt)
      : behaviour_(behaviour),
        banner_(std::move(banner)),
        ehlo_name_(std::move(ehlo_name)),
        tls_(std::move(tls)) {
    // The client hangs up after its QUIT: SSL_write's EPIPE must stay an error.
    std::signal(SIGPIPE, SIG_IGN);
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
  /// Handshakes completed; waits a little for the server's side of one
  /// the client has already finished.
  int handshakes() const {
    for (int i = 0; i < 200 && handshakes_ == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return handshakes_;
  }

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
      say(client, "250-" + ehlo_name_ + " Hello\r\n250-PIPELINING\r\n" +
                      (tls_ ? "250-STARTTLS\r\n" : "") + "250 8BITMIME\r\n");
      if (read_line(client).rfind("STARTTLS", 0) == 0) {
        say(client, "220 go ahead\r\n");
        speak_tls(client);
      } else {
        say(client, "221 bye\r\n");
      }
      close(client);
    }
  }
  /// The TLS part: handshake, then QUIT and 221 inside it.
  void speak_tls(int client) {
    SSL_CTX* context = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate_file(context, tls_->certificate.c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_use_PrivateKey_file(context, tls_->key.c_str(), SSL_FILETYPE_PEM);
    SSL* ssl = SSL_new(context);
    SSL_set_fd(ssl, client);
    if (SSL_accept(ssl) == 1) {
      ++handshakes_;
      std::string line;
      char c;
      while (SSL_read(ssl, &c, 1) == 1 && c != '\n') line += c;
      const std::string bye = "221 bye\r\n";
      SSL_write(ssl, bye.data(), static_cast<int>(bye.size()));
      SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    SSL_CTX_free(context);
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
  std::optional<rdns::test::CertificateFiles> tls_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> conversations_{0};
  std::atomic<int> handshakes_{0};
  std::string last_ehlo_;
};

std::set<std::string> codes(const IpResult& result) {
  std::set<std::string> out;
  for (const auto& finding : result.verdict.findings) out.emplace(code_name(finding.code));
  return out;
}

}  // namespace

TEST_CASE("Auditor checks SMTP greetings and EHLO names against the PTR") {
  rdns::test::TempDir dir;
  rdns::test::TestCertificates certificates(dir.path());
  ScriptedSmtpServer ok("127.0.0.20", 0, Behaviour::greet, "smtp-ok.example.com",
                        "smtp-ok.example.com",
                        certificates.leaf("ok", {"smtp-ok.example.com"}, 0, 90));
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
  smtp.ca_file = certificates.ca_file().string();
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
  CHECK(codes(good).empty());  // STARTTLS with a valid certificate for its name
  CHECK(ok.handshakes() == 1);
  REQUIRE(good.observation.smtp->tls);
  CHECK(good.observation.smtp->tls->failure.empty());
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

  CHECK(codes(results.at("127.0.0.21")) ==
        std::set<std::string>{"HELO_MISMATCH", "SMTP_NO_STARTTLS"});
  CHECK_THAT(
      results.at("127.0.0.21").verdict.findings[0].detail,
      Catch::Contains("'other.example.net' differs from the PTR name smtp-mismatch.example.com"));
  CHECK(results.at("127.0.0.21").verdict.status == Status::warn);
  CHECK(codes(results.at("127.0.0.22")) ==
        std::set<std::string>{"HELO_INVALID", "SMTP_NO_STARTTLS"});
  CHECK(codes(results.at("127.0.0.25")) ==
        std::set<std::string>{"HELO_INVALID", "SMTP_NO_STARTTLS"});
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

TEST_CASE("STARTTLS certificates: expired, expiring, self-signed and for another name") {
  rdns::test::TempDir dir;
  rdns::test::TestCertificates certificates(dir.path());
  const std::vector<std::string> name = {"smtp-ok.example.com"};
  struct Case {
    const char* label;
    rdns::test::CertificateFiles files;
    std::set<std::string> expected;
  };
  const std::vector<Case> cases = {
      {"expired", certificates.leaf("expired", name, -60, -3), {"SMTP_TLS_EXPIRED"}},
      {"expiring", certificates.leaf("expiring", name, -60, 5), {"SMTP_TLS_EXPIRING"}},
      {"self-signed", certificates.leaf("self", name, 0, 90, true), {"SMTP_TLS_UNTRUSTED"}},
      {"wrong name",
       certificates.leaf("other", {"other.example.net"}, 0, 90),
       {"SMTP_TLS_NAME_MISMATCH"}},
  };
  for (const Case& c : cases) {
    INFO(c.label);
    ScriptedSmtpServer server("127.0.0.20", 0, Behaviour::greet, "smtp-ok.example.com",
                              "smtp-ok.example.com", c.files);
    AuditOptions options = rdns::test::lab_options();
    SmtpOptions smtp;
    smtp.port = server.port();
    smtp.helo_name = "auditor.example.org";
    smtp.timeout = std::chrono::milliseconds(2000);
    smtp.ca_file = certificates.ca_file().string();
    options.smtp = smtp;
    TargetSet targets(4);
    targets.add("127.0.0.20", "test");
    Auditor auditor(options, Rules::defaults());
    std::optional<IpResult> result;
    auditor.run(targets, [&](IpResult&& r) { result = std::move(r); });
    REQUIRE(result);
    CHECK(codes(*result) == c.expected);
    CHECK(server.handshakes() == 1);
    for (const auto& finding : result->verdict.findings) INFO(finding.detail);
  }
}
