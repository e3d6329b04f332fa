#pragma once
/// What one audit run does: plain data, filled by the command line (flags,
/// environment, configuration file) or read back from a stored run.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <audit/shard.hpp>

namespace rdns::run {

/// The flags that shape only one process's output, verdict or connection
/// (each takes a value but --quiet): the shards of a named run may differ in
/// them, and a resumed run may be given them.
inline constexpr std::array<std::string_view, 6> kPresentationFlags = {
    "--db", "--format", "--color", "--fail-on", "--quiet", "--prometheus-textfile"};

/// Severity threshold that makes a run's verdict "reached"; `never` disables it.
enum class FailOn { info, warning, error, never };

/// How long an inventory's runs are kept (its keep-runs and keep-days keys);
/// unset: kept for ever.
struct Retention {
  std::optional<std::int64_t> keep_runs;
  std::optional<std::int64_t> keep_days;

  bool any() const { return keep_runs || keep_days; }
};

/// Every setting of an audit run; `audit` and `check` fill the same struct.
struct RunOptions {
  std::vector<std::string> targets;
  std::vector<std::string> input_files;
  std::vector<std::string> resolvers;
  std::size_t concurrency = 100;
  /// Above `concurrency`: how far the window may grow while answers come
  /// back clean (the command line sets it when --concurrency was not given);
  /// 0: `concurrency` is a hard cap.
  std::size_t concurrency_ceiling = 0;
  double qps = 0;
  double timeout_seconds = 1.0;
  int retries = 3;
  std::uint64_t max_ips = 1u << 20;
  bool skip_invalid = false;
  FailOn fail_on = FailOn::error;
  std::string database;  ///< its path; the command line settles the default
  bool no_database = false;
  std::string rules;
  std::int64_t resume = 0;  ///< a stored run to continue; 0: a new run
  std::vector<std::string> domains;
  std::vector<std::string> domain_files;
  bool smtp = false;
  /// Only the PTR step (--ptr-only): no forward lookups, FCrDNS not judged.
  bool ptr_only = false;
  bool dnsbl = false;
  std::vector<std::string> dnsbl_lists;
  std::string dnsbl_key;  ///< secret: never stored with the run
  std::uint16_t smtp_port = 25;
  std::string smtp_helo;
  double smtp_timeout_seconds = 5.0;
  std::size_t smtp_concurrency = 20;
  /// The port of https://mta-sts.DOMAIN/ (443; tests and proxies).
  std::uint16_t mta_sts_port = 443;
  /// PEM CA certificates for the TLS checks (STARTTLS, MTA-STS policy
  /// servers); empty: the system store.
  std::string ca_file;
  std::string prometheus_textfile;  ///< empty: none written
  std::string notify_webhook;       ///< empty: no notification
  int notify_retries = 3;
  std::string inventory;  ///< the configured set audited; empty: ad hoc
  Retention retention;    ///< the inventory's, applied after each complete run
  /// The part of the targets this run audits (--shard); none: all of them.
  std::optional<audit::Shard> shard;
  /// The logical run this audit is a part of (--run-name): its shards share
  /// one stored run; empty: a run of its own.
  std::string run_name;
};

}  // namespace rdns::run
