// A run's identity: which earlier runs it is compared with.

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <string_view>

#include <fmt/format.h>

#include <run/run.hpp>

namespace rdns::run {

/// What a new run is compared with: runs of the same targets (as given, so a
/// domain whose addresses move keeps its identity) and the same checks.
db::RunLabel run_label(const RunOptions& options, const std::vector<db::AddressRange>& targets,
                       const std::vector<std::string>& domains) {
  db::RunLabel label;
  // A --ptr-only run proves less than an FCrDNS run: it is compared only
  // with other PTR-only runs.
  label.checks = std::string(options.ptr_only ? "ptr" : "dns") + (options.smtp ? ",smtp" : "") +
                 (options.dnsbl || !options.dnsbl_lists.empty() ? ",dnsbl" : "");
  // A named run holds all of its shards, so it compares as a whole. A shard
  // stored as a run of its own is compared with the same shard of earlier
  // runs: another part holds other addresses.
  const std::string shard_suffix = options.shard && options.run_name.empty()
                                       ? " shard " + audit::to_string(*options.shard)
                                       : std::string();
  if (!options.inventory.empty()) {
    // What the inventory lists may change between runs; it stays one series.
    label.inventory = options.inventory;
    label.identity =
        "inventory:" + options.inventory + shard_suffix + (options.ptr_only ? " ptr-only" : "");
    return label;
  }
  // FNV-1a: stable across builds and platforms, unlike std::hash.
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  const auto mix = [&](std::string_view text) {
    for (const char c : text) {
      hash ^= static_cast<unsigned char>(c);
      hash *= 0x100000001b3ULL;
    }
    hash ^= 0xff;  // separator: "a" + "bc" differs from "ab" + "c"
    hash *= 0x100000001b3ULL;
  };
  for (const db::AddressRange& range : targets) {
    mix(range.first);
    mix(range.last);
  }
  std::vector<std::string> names;
  for (std::string name : domains) {
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) mix("domain:" + name);
  mix(label.checks);
  label.identity = fmt::format("targets:{:016x}{}", hash, shard_suffix);
  return label;
}

}  // namespace rdns::run
