// --notify-webhook against a real HTTP receiver on 127.0.0.1: what is sent,
// that only newly failing addresses are, and the retries.

#include <atomic>
#include <mutex>
#include <thread>

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <db/database.hpp>
#include <lab/dns_lab.hpp>

#include "run_rdnsctl.hpp"

using rdns::Severity;
using rdns::Status;
using rdns::test::ProcessResult;
using rdns::test::run_rdnsctl;
using rdns::test::TempDir;

namespace {

/// One request as the receiver got it.
struct Request {
  std::string head;  ///< request line and headers
  std::string body;
};

/// A minimal HTTP/1.1 server on a free loopback port, on its own thread:
/// answers each request with the next status of a script (then 200) and
/// closes the connection.
class LoopbackReceiver {
 public:
  explicit LoopbackReceiver(std::vector<int> statuses = {}) : statuses_(std::move(statuses)) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(listen(fd_, 16) == 0);
    socklen_t length = sizeof address;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~LoopbackReceiver() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }

  std::string url(const std::string& path = "/hooks/SECRET-TOKEN") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<Request> requests() {
    std::lock_guard<std::mutex> guard(mutex_);
    return requests_;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd ready{fd_, POLLIN, 0};
      if (poll(&ready, 1, 50) <= 0) continue;
      const int client = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      handle(client);
      close(client);
    }
  }

  void handle(int client) {
    std::string data;
    char buffer[4096];
    std::size_t body_start = std::string::npos;
    std::size_t length = 0;
    while (true) {
      pollfd ready{client, POLLIN, 0};
      if (poll(&ready, 1, 5000) <= 0) return;
      const ssize_t got = recv(client, buffer, sizeof buffer, 0);
      if (got <= 0) return;
      data.append(buffer, static_cast<std::size_t>(got));
      if (body_start == std::string::npos) {
        const auto end = data.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        body_start = end + 4;
        std::string head = data.substr(0, end);
        for (char& c : head) c = static_cast<char>(std::tolower(c));
        const auto header = head.find("content-length:");
        if (header != std::string::npos) length = std::stoul(head.substr(header + 15));
      }
      if (data.size() >= body_start + length) break;
    }
    int status = 200;
    {
      std::lock_guard<std::mutex> guard(mutex_);
      requests_.push_back({data.substr(0, body_start), data.substr(body_start, length)});
      if (next_ < statuses_.size()) status = statuses_[next_++];
    }
    const std::string answer = "HTTP/1.1 " + std::to_string(status) +
                               " Scripted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    send(client, answer.data(), answer.size(), MSG_NOSIGNAL);
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::vector<int> statuses_;
  std::size_t next_ = 0;
  std::mutex mutex_;
  std::vector<Request> requests_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

ProcessResult audit(const std::string& db, const std::string& url, std::vector<std::string> extra) {
  std::vector<std::string> args = {
      "audit",     "-q",  "--resolver",       rdns::lab::shared_lab().resolver_address(),
      "--timeout", "0.4", "--retries",        "1",
      "--db",      db,    "--notify-webhook", url};
  for (auto& e : extra) args.push_back(e);
  return run_rdnsctl(args);
}

/// Stores a complete run of run 1's identity with these statuses, as if the
/// lab's answers had been different then (its zones cannot change between
/// runs): a pass has a PTR, a fail NO_PTR, an unknown TEMPFAIL.
void store_run_like_first(const std::string& db,
                          const std::vector<std::pair<std::string, Status>>& statuses) {
  auto database = rdns::db::Database::open(db);
  const std::string identity = database.find_run(1)->identity;
  REQUIRE(identity.rfind("targets:", 0) == 0);
  const std::int64_t id =
      database.begin_run("audit", "[]", {"127.0.0.1:53"}, "test", {"", identity, "dns"});
  std::vector<rdns::db::ResultRecord> records;
  rdns::db::RunCounts counts;
  for (const auto& [ip, status] : statuses) {
    rdns::db::ResultRecord& record = records.emplace_back();
    record.ip = ip;
    record.family = "ipv4";
    record.status = status;
    if (status == Status::pass) record.ptr = {"x.example.com"};
    if (status == Status::fail) record.findings.push_back({"NO_PTR", Severity::error, "no PTR"});
    if (status == Status::unknown) {
      record.findings.push_back({"TEMPFAIL", Severity::warning, "SERVFAIL"});
    }
    counts.add(status);
  }
  database.add_results(id, records);
  database.finish_run(id, rdns::db::RunState::complete, counts);
}

/// `report history --format json`, newest run first.
nlohmann::json history_json(const std::string& db) {
  const ProcessResult history = run_rdnsctl({"report", "history", "--db", db, "--format", "json"});
  REQUIRE(history.exit_code == 0);
  return nlohmann::json::parse(history.out);
}

}  // namespace

TEST_CASE("--notify-webhook posts only the addresses that newly fail") {
  LoopbackReceiver receiver;
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();

  // First run: nothing to compare with, so every failing address is new.
  const ProcessResult first = audit(db, receiver.url(), {"192.0.2.10", "192.0.2.12"});
  INFO(first.err);
  CHECK(first.exit_code == 1);
  auto requests = receiver.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].head.rfind("POST /hooks/SECRET-TOKEN HTTP/1.1\r\n", 0) == 0);
  CHECK_THAT(requests[0].head, Catch::Contains("Content-Type: application/json"));
  const auto document = nlohmann::json::parse(requests[0].body);
  CHECK(document["event"] == "rdnsctl.newly_failing");
  CHECK(document["run"]["id"] == 1);
  CHECK(document["previous_run"].is_null());
  REQUIRE(document["newly_failing"].size() == 1);
  CHECK(document["newly_failing"][0]["ip"] == "192.0.2.12");
  CHECK(document["newly_failing"][0]["previous_status"].is_null());
  CHECK(document["newly_failing"][0]["findings"][0]["code"] == "NO_PTR");
  CHECK_THAT(document["text"].get<std::string>(),
             Catch::Contains("1 address newly fails reverse DNS: 192.0.2.12 (NO_PTR)"));

  // Same failures again: nothing new, nothing posted.
  CHECK(audit(db, receiver.url(), {"192.0.2.10", "192.0.2.12"}).exit_code == 1);
  CHECK(receiver.requests().size() == 1);

  // Other targets are another identity: compared with nothing, so both
  // failing addresses are listed, never "newly failing" against run 2.
  CHECK(audit(db, receiver.url(), {"192.0.2.12", "192.0.2.16"}).exit_code == 1);
  requests = receiver.requests();
  REQUIRE(requests.size() == 2);
  const auto second = nlohmann::json::parse(requests[1].body);
  CHECK(second["previous_run"].is_null());
  CHECK(second["newly_failing"].size() == 2);
  // The first target set again: compared with run 2, not the one-off run 3.
  CHECK(audit(db, receiver.url(), {"192.0.2.12", "192.0.2.10"}).exit_code == 1);
  CHECK(receiver.requests().size() == 2);
}

TEST_CASE("runs compare like with like: the webhook's recoveries, report diff and history") {
  LoopbackReceiver receiver;
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  REQUIRE(audit(db, receiver.url(), {"192.0.2.10", "192.0.2.12"}).exit_code == 1);  // run 1
  // Run 2: 192.0.2.10 failed and 192.0.2.12 passed.
  store_run_like_first(db, {{"192.0.2.10", Status::fail}, {"192.0.2.12", Status::pass}});
  REQUIRE(audit(db, receiver.url(), {"192.0.2.12", "192.0.2.10"}).exit_code == 1);  // run 3
  auto requests = receiver.requests();
  REQUIRE(requests.size() == 2);
  const auto document = nlohmann::json::parse(requests[1].body);
  CHECK(document["previous_run"]["id"] == 2);
  REQUIRE(document["newly_failing"].size() == 1);
  CHECK(document["newly_failing"][0]["ip"] == "192.0.2.12");
  REQUIRE(document["recovered"].size() == 1);
  CHECK(document["recovered"][0]["ip"] == "192.0.2.10");
  CHECK(document["recovered"][0]["previous_status"] == "fail");
  CHECK_THAT(document["text"].get<std::string>(),
             Catch::Contains("1 address newly fails reverse DNS: 192.0.2.12 (NO_PTR); 1 address "
                             "has recovered: 192.0.2.10"));

  // A one-off run in between (run 4), then the scheduled set (run 5).
  REQUIRE(audit(db, receiver.url(), {"192.0.2.16"}).exit_code == 1);
  REQUIRE(audit(db, receiver.url(), {"192.0.2.10", "192.0.2.12"}).exit_code == 1);
  CHECK(receiver.requests().size() == 3);  // run 5 changed nothing against run 3

  const auto runs = history_json(db);
  REQUIRE(runs.size() == 5);
  CHECK(runs[0]["id"] == 5);
  CHECK(runs[0]["since_previous"]["from_run"] == 3);
  CHECK(runs[0]["since_previous"]["unchanged"] == 2);
  CHECK(runs[1]["since_previous"].is_null());  // the one-off run
  CHECK(runs[2]["since_previous"]["from_run"] == 2);
  CHECK(runs[2]["since_previous"]["new_failures"] == 1);
  CHECK(runs[2]["since_previous"]["fixed"] == 1);

  const ProcessResult quiet =
      run_rdnsctl({"report", "diff", "3", "5", "--db", db, "--fail-on-new"});
  CHECK(quiet.exit_code == 0);
  const ProcessResult worse =
      run_rdnsctl({"report", "diff", "2", "3", "--db", db, "--fail-on-new"});
  CHECK(worse.exit_code == 1);
  CHECK(run_rdnsctl({"report", "diff", "2", "3", "--db", db}).exit_code == 0);
  const ProcessResult other = run_rdnsctl({"report", "diff", "3", "4", "--db", db});
  CHECK_THAT(other.err, Catch::Contains("different inventories or targets"));
}

TEST_CASE("a lookup that failed temporarily neither starts nor ends a failure") {
  LoopbackReceiver receiver;
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  const std::vector<std::string> targets = {"192.0.2.10", "192.0.2.12"};
  REQUIRE(audit(db, receiver.url(), targets).exit_code == 1);  // run 1: .12 fails
  REQUIRE(receiver.requests().size() == 1);
  // Run 2: the resolver failed for both; run 3 sees .12 fail as before.
  store_run_like_first(db, {{"192.0.2.10", Status::unknown}, {"192.0.2.12", Status::unknown}});
  REQUIRE(audit(db, receiver.url(), targets).exit_code == 1);
  CHECK(receiver.requests().size() == 1);  // nothing new: .12 failed before the outage

  // Run 4: .10 fails; run 5: unknown again; run 6 finds it passing.
  store_run_like_first(db, {{"192.0.2.10", Status::fail}, {"192.0.2.12", Status::fail}});
  store_run_like_first(db, {{"192.0.2.10", Status::unknown}, {"192.0.2.12", Status::fail}});
  REQUIRE(audit(db, receiver.url(), targets).exit_code == 1);
  const auto requests = receiver.requests();
  REQUIRE(requests.size() == 2);
  const auto document = nlohmann::json::parse(requests[1].body);
  CHECK(document["previous_run"]["id"] == 5);
  CHECK(document["newly_failing"].empty());
  REQUIRE(document["recovered"].size() == 1);
  CHECK(document["recovered"][0]["ip"] == "192.0.2.10");
  CHECK(document["recovered"][0]["previous_status"] == "unknown");
  CHECK(document["recovered"][0]["last_verdict"]["run"] == 4);
  CHECK(document["recovered"][0]["last_verdict"]["status"] == "fail");
  CHECK_THAT(document["text"].get<std::string>(),
             Catch::Contains("1 address has recovered: 192.0.2.10"));

  // check, report history and the webhook agree; report diff compares as stored.
  const ProcessResult check = run_rdnsctl({"check", "--run", "latest", "--db", db});
  CHECK_THAT(check.out, Catch::Contains("since run 5: 0 newly failing, 1 recovered"));
  const auto runs = history_json(db);
  REQUIRE(runs.size() == 6);
  CHECK(runs[3]["id"] == 3);
  CHECK(runs[3]["since_previous"]["new_failures"] == 0);
  CHECK(runs[0]["since_previous"]["fixed"] == 1);
  CHECK(run_rdnsctl({"report", "diff", "2", "3", "--db", db, "--fail-on-new"}).exit_code == 1);
}

TEST_CASE("--notify-webhook retries server errors and gives up on refusals") {
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  SECTION("503 then 200: delivered on the second try") {
    LoopbackReceiver receiver({503});
    const ProcessResult run = audit(db, receiver.url(), {"192.0.2.12"});
    INFO(run.err);
    CHECK(run.exit_code == 1);
    CHECK(receiver.requests().size() == 2);
    CHECK(receiver.requests()[0].body == receiver.requests()[1].body);
  }
  SECTION("always 500: tries 1 + --notify-retries, then exits 3 without the token") {
    LoopbackReceiver receiver({500, 500, 500});
    const ProcessResult run = audit(db, receiver.url(), {"--notify-retries", "1", "192.0.2.12"});
    CHECK(run.exit_code == 3);
    CHECK(receiver.requests().size() == 2);
    CHECK_THAT(run.err, Catch::Contains("HTTP 500 (after 2 tries)"));
    CHECK(run.err.find("SECRET-TOKEN") == std::string::npos);
    // The run itself is stored and complete.
    const ProcessResult runs = run_rdnsctl({"runs", "list", "--db", db, "--format", "json"});
    CHECK_THAT(runs.out, Catch::Contains("\"complete\""));
  }
  SECTION("400: the receiver refused the document, no retry") {
    LoopbackReceiver receiver({400});
    const ProcessResult run = audit(db, receiver.url(), {"192.0.2.12"});
    CHECK(run.exit_code == 3);
    CHECK(receiver.requests().size() == 1);
    CHECK_THAT(run.err, Catch::Contains("HTTP 400 (after 1 try)"));
  }
  SECTION("nothing listening: connection failures are retried, then exit 3") {
    std::string url;
    {
      LoopbackReceiver closed;
      url = closed.url();
    }
    const ProcessResult run = audit(db, url, {"--notify-retries", "1", "192.0.2.12"});
    CHECK(run.exit_code == 3);
    CHECK_THAT(run.err, Catch::Contains("(after 2 tries)"));
  }
  SECTION("--no-db cannot compare runs") {
    const ProcessResult run =
        run_rdnsctl({"audit", "--no-db", "--resolver", "127.0.0.1:9", "--notify-webhook",
                     "http://127.0.0.1:9/", "192.0.2.12"});
    CHECK(run.exit_code == 2);
    CHECK_THAT(run.err, Catch::Contains("--notify-webhook"));
  }
}
