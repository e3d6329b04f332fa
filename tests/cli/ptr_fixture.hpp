#pragma once
// Runs `rdnsctl ptr ...` against a running emulator and the emulator lab's
// resolver, with account 1001's key: the flags every ptr test passes so
// nothing leaves 127.0.0.1.

#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <stdlib.h>

#include <db/ptr_journal.hpp>
#include <lab/dns_lab.hpp>

#include "../emulator/emulator_process.hpp"
#include "run_rdnsctl.hpp"

namespace rdns::test {

inline std::vector<std::string> ptr_key_env() {
  return {std::string("ALIBABA_CLOUD_ACCESS_KEY_ID=") + kKeyId,
          std::string("ALIBABA_CLOUD_ACCESS_KEY_SECRET=") + kPlantedSecret};
}

/// `ptr` and the flags every test passes: the emulator, its lab's resolver
/// and authority, nothing off 127.0.0.1.
inline std::vector<std::string> ptr_flags(const EmulatorProcess& emulator) {
  return {"ptr",
          "--endpoint",
          emulator.endpoint(),
          "--region",
          kRegion,
          "--loopback-only",
          "--resolver",
          lab::emulator_lab().resolver_address(),
          "--authority",
          lab::emulator_lab().authority_address()};
}

/// `rdnsctl ptr <shared flags> args...`; --wait 5 unless args say otherwise.
inline ProcessResult run_ptr(const EmulatorProcess& emulator, const std::vector<std::string>& args,
                             const std::vector<std::string>& env = ptr_key_env()) {
  std::vector<std::string> full = ptr_flags(emulator);
  full.insert(full.end(), {"--wait", "5"});
  full.insert(full.end(), args.begin(), args.end());
  return run_rdnsctl(full, {}, env);
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// Starts `rdnsctl ptr <shared flags> args...` in the background with account
/// 1001's key, output to files; reap it with wait_exit().
inline pid_t spawn_ptr(const EmulatorProcess& emulator, const std::vector<std::string>& args,
                       const std::filesystem::path& out, const std::filesystem::path& err) {
  std::vector<std::string> full = ptr_flags(emulator);
  full.insert(full.end(), args.begin(), args.end());
  // The child inherits the environment: give it the key for the spawn only.
  ::setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", kKeyId, 1);
  ::setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", kPlantedSecret, 1);
  const pid_t pid = spawn_rdnsctl(full, out, err);
  ::unsetenv("ALIBABA_CLOUD_ACCESS_KEY_ID");
  ::unsetenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET");
  return pid;
}

/// The emulator, the mailcorp.test verification and a journal database.
struct ApplyFixture {
  EmulatorProcess emulator;
  TempDir dir;
  std::string db = (dir.path() / "rdnsctl.db").string();

  ApplyFixture() {
    const ProcessResult shown = ptr({"verify-domain", "mailcorp.test"});
    const std::string line = shown.out.substr(0, shown.out.find('\n'));
    const auto quote = line.find('"');
    publish_txt(line.substr(0, line.find('\t')), line.substr(quote + 1, line.size() - quote - 2));
    REQUIRE(ptr({"verify-domain", "mailcorp.test", "--poll", "10"}).exit_code == 0);
  }

  ProcessResult ptr(std::vector<std::string> args) const {
    args.insert(args.begin(), {"--db", db});
    return run_ptr(emulator, args);
  }

  /// `ptr --db DB args...` in the background, output to NAME.out and NAME.err.
  pid_t spawn(const std::string& name, std::vector<std::string> args) const {
    args.insert(args.begin(), {"--db", db});
    return spawn_ptr(emulator, args, dir.path() / (name + ".out"), dir.path() / (name + ".err"));
  }

  /// A record made outside this journal (another database): not managed.
  void foreign_record(const std::string& ip, const std::string& name) const {
    const auto other = (dir.path() / "other.db").string();
    REQUIRE(run_ptr(emulator, {"--db", other, "set", ip, name, "--ttl", "1", "--allow-unconfirmed"})
                .exit_code == 0);
  }

  std::string file(const std::string& name, const std::string& text) const {
    const auto path = dir.path() / name;
    std::ofstream(path) << text;
    return path.string();
  }

  std::vector<db::PtrOperationRecord> operations() const {
    return db::PtrJournal::open(db).list(1000);
  }
  std::vector<std::string> managed() const { return db::PtrJournal::open(db).managed(kRegion); }
};

/// The PTR targets Knot serves for 198.51.100.X.
inline std::vector<std::string> ptr_of(const std::string& ip) {
  const std::string reverse = ip.substr(ip.rfind('.') + 1) + ".100.51.198.in-addr.arpa";
  return authority_ptr(reverse);
}

inline int count_ops(const std::vector<db::PtrOperationRecord>& ops, const std::string& ip,
                     const std::string& state) {
  int n = 0;
  for (const auto& op : ops) n += (op.ip == ip && op.state == state) ? 1 : 0;
  return n;
}

/// Waits until the cloud has received `count` AddPtrRecord requests. The
/// journal says "pending" before the request is sent, so a kill right after
/// it may stop a create the cloud never saw; a re-run then rightly finds it
/// not applied, and a test of an in-flight create would test something else.
inline void wait_creates_received(const ApplyFixture& f, int count) {
  const std::string wanted = "\"AddPtrRecord\":" + std::to_string(count);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::string stats;
  while (std::chrono::steady_clock::now() < deadline) {
    stats = f.emulator.admin("GET", "stats");
    if (contains(stats, wanted)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  FAIL("the cloud never received create " << count << "; stats: " << stats);
}

inline void cleanup(const ApplyFixture& f, const std::vector<std::string>& ips) {
  for (const auto& ip : ips) f.ptr({"delete", ip, "--wait", "0"});
}

}  // namespace rdns::test
