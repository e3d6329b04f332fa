// Configuration files (TOML) as `--config` and $RDNSCTL_CONFIG give them:
// applied, or refused with an error naming the file, never a crash or an
// exception of another kind. The commands carry options of every kind the
// real ones use: lists, ranged numbers, enumerations, flags and paths.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <util/error.hpp>

#include "config.hpp"

namespace {

struct Options {
  std::vector<std::string> targets, inputs, resolvers, domains;
  int concurrency = 100, retries = 2, warning = 1;
  double qps = 0, timeout = 2;
  std::string format, fail_on, db, config;
  bool quiet = false, smtp = false;
};

void add_options(CLI::App& command, Options& options, std::string& config_path) {
  command.add_option("targets", options.targets);
  command.add_option("-i,--input", options.inputs)->allow_extra_args(false);
  command.add_option("--resolver", options.resolvers)->allow_extra_args(false);
  command.add_option("--domain", options.domains)->allow_extra_args(false);
  command.add_option("--concurrency", options.concurrency)->check(CLI::Range(1, 10000));
  command.add_option("--retries", options.retries)->check(CLI::Range(0, 10));
  command.add_option("--qps", options.qps)->check(CLI::Range(0.0, 1e7));
  command.add_option("--timeout", options.timeout)->check(CLI::Range(0.05, 120.0));
  command.add_option("--format", options.format)
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, std::string>{{"table", "table"}, {"jsonl", "jsonl"}},
          CLI::ignore_case));
  command.add_option("--fail-on", options.fail_on)
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, std::string>{{"error", "error"}, {"warning", "warning"}},
          CLI::ignore_case));
  command.add_option("--db", options.db);
  command.add_flag("-q,--quiet", options.quiet);
  command.add_flag("--smtp", options.smtp);
  rdns::cli::add_config_support(command, config_path);
}

std::filesystem::path scratch_file() {
  static const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("rdnsctl-fuzz-config-" + std::to_string(getpid()));
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::filesystem::path file = scratch_file();
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  CLI::App app("rdnsctl");
  Options audit_options, check_options;
  std::string audit_config, check_config;
  CLI::App& audit = *app.add_subcommand("audit");
  CLI::App& check = *app.add_subcommand("check");
  add_options(audit, audit_options, audit_config);
  add_options(check, check_options, check_config);
  check.add_option("-w,--warning", check_options.warning);
  for (CLI::App* command : {&audit, &check}) {
    try {
      rdns::cli::apply_config(*command, file.string());
    } catch (const rdns::Error& error) {
      if (std::string(error.what()).find(file.string()) == std::string::npos) __builtin_trap();
    }
  }
  std::error_code ignored;
  std::filesystem::remove(file, ignored);
  return 0;
}
