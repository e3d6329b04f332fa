// Fills a database with synthetic audit runs for the report benchmark:
// `rdns-bench-runs DB IPS [RUNS]` stores RUNS runs (default 3) of IPS
// addresses each, with a realistic mix of statuses, findings that change
// between runs, and a few hostile PTR names.

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <db/database.hpp>

namespace {

rdns::db::ResultRecord synthetic(std::size_t index, std::size_t run) {
  rdns::db::ResultRecord r;
  const bool v6 = index % 10 == 9;
  r.family = v6 ? "ipv6" : "ipv4";
  r.ip = v6 ? fmt::format("2001:db8::{:x}:{:x}", index >> 16, index & 0xffff)
            : fmt::format("10.{}.{}.{}", (index >> 16) & 255, (index >> 8) & 255, index & 255);
  const std::string name = fmt::format("mail{}.example.com", index);
  // Most pass; a share fails or warns, and some IPs move between runs.
  const std::size_t bucket = (index * 7 + run * 13 * (index % 3 == 0)) % 20;
  if (bucket < 13) {
    r.status = rdns::Status::pass;
    r.ptr = {name};
    r.forward = {{name, {r.ip}}};
  } else if (bucket < 15) {
    r.status = rdns::Status::fail;
    r.findings = {
        {"NO_PTR", rdns::Severity::error, fmt::format("{} does not exist (NXDOMAIN)", r.ip)}};
  } else if (bucket < 17) {
    r.status = rdns::Status::fail;
    r.ptr = {name};
    r.forward = {{name, {"192.0.2.99"}}};
    r.findings = {{"FORWARD_MISMATCH", rdns::Severity::error,
                   fmt::format("{} resolves to 192.0.2.99, not {}", name, r.ip)}};
  } else if (bucket < 19) {
    r.status = rdns::Status::warn;
    r.ptr = {fmt::format("host-{}.dynamic.example.net", index)};
    r.forward = {{r.ptr[0], {r.ip}}};
    r.findings = {{"GENERIC_PTR", rdns::Severity::warning, "the name embeds the address"}};
  } else {
    r.status = rdns::Status::unknown;
    r.findings = {{"TEMPFAIL", rdns::Severity::warning, "SERVFAIL for the PTR query"}};
  }
  if (index % 5000 == 1) {
    r.status = rdns::Status::fail;
    r.ptr = {"<img\\032src=x\\032onerror=alert\\(1\\)>.example.com",
             "</script><script>alert(2)</script>"};
    r.forward.clear();
    r.findings = {
        {"INVALID_PTR_NAME", rdns::Severity::error, r.ptr[0] + " is not a valid host name"}};
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s DB IPS [RUNS]\n", argv[0]);
    return 2;
  }
  const std::size_t ips = std::strtoul(argv[2], nullptr, 10);
  const std::size_t runs = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 3;
  rdns::db::Database database = rdns::db::Database::open(argv[1]);
  for (std::size_t run = 0; run < runs; ++run) {
    const auto id = database.begin_run("audit", "[]", {"127.0.0.1:53"}, "bench");
    rdns::db::RunCounts counts;
    std::vector<rdns::db::ResultRecord> batch;
    for (std::size_t i = 0; i < ips; ++i) {
      batch.push_back(synthetic(i, run));
      counts.add(batch.back().status);
      if (batch.size() == 5000 || i + 1 == ips) {
        database.add_results(id, batch);
        batch.clear();
      }
    }
    database.finish_run(id, rdns::db::RunState::complete, counts);
    std::printf("run %lld: %zu addresses\n", static_cast<long long>(id), ips);
  }
  return 0;
} catch (const std::exception& error) {
  std::fprintf(stderr, "rdns-bench-runs: %s\n", error.what());
  return 1;
}
