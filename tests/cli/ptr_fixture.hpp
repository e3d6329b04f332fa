#pragma once
// Runs `rdnsctl ptr ...` against a running emulator and the emulator lab's
// resolver, with account 1001's key: the flags every ptr test passes so
// nothing leaves 127.0.0.1.

#include <string>
#include <vector>

#include <lab/dns_lab.hpp>

#include "../emulator/emulator_process.hpp"
#include "run_rdnsctl.hpp"

namespace rdns::test {

inline std::vector<std::string> ptr_key_env() {
  return {std::string("ALIBABA_CLOUD_ACCESS_KEY_ID=") + kKeyId,
          std::string("ALIBABA_CLOUD_ACCESS_KEY_SECRET=") + kPlantedSecret};
}

/// `rdnsctl ptr <shared flags> args...`; --wait 5 unless args say otherwise.
inline ProcessResult run_ptr(const EmulatorProcess& emulator, const std::vector<std::string>& args,
                             const std::vector<std::string>& env = ptr_key_env()) {
  std::vector<std::string> full = {"ptr",
                                   "--endpoint",
                                   emulator.endpoint(),
                                   "--region",
                                   kRegion,
                                   "--loopback-only",
                                   "--resolver",
                                   lab::emulator_lab().resolver_address(),
                                   "--wait",
                                   "5"};
  full.insert(full.end(), args.begin(), args.end());
  return run_rdnsctl(full, {}, env);
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace rdns::test
