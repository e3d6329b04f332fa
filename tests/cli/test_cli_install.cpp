// `cmake --install` of this build: every file where Debian expects it, and
// the installed binary runs.

#include <filesystem>

#include <catch2/catch.hpp>

#include "run_rdnsctl.hpp"
#include "test_paths.hpp"

using rdns::test::run_command;
using rdns::test::TempDir;

TEST_CASE("cmake --install lays out the binary, man pages, completions, units and examples") {
  TempDir dir;
  const auto prefix = dir.path() / "usr";
  const auto install =
      run_command({"cmake", "--install", rdns::test::build_dir(), "--prefix", prefix.string()});
  INFO(install.out << install.err);
  REQUIRE(install.exit_code == 0);
  for (const char* file :
       {"bin/rdnsctl", "share/man/man1/rdnsctl.1.gz", "share/man/man1/rdnsctl-audit.1.gz",
        "share/man/man1/rdnsctl-ptr.1.gz", "share/bash-completion/completions/rdnsctl",
        "share/zsh/vendor-completions/_rdnsctl", "share/fish/vendor_completions.d/rdnsctl.fish",
        "lib/systemd/system/rdnsctl-audit.service", "lib/systemd/system/rdnsctl-audit.timer",
        "share/doc/rdnsctl/examples/rdnsctl.toml", "share/doc/rdnsctl/examples/rdnsctl.cfg",
        "share/doc/rdnsctl/README.md"}) {
    INFO(file);
    CHECK(std::filesystem::is_regular_file(prefix / file));
  }
  const auto version = run_command({(prefix / "bin/rdnsctl").string(), "--version"});
  CHECK(version.exit_code == 0);
  CHECK_THAT(version.out, Catch::StartsWith("rdnsctl "));
  // The completion installed is the one this binary prints.
  const auto bash = run_command({(prefix / "bin/rdnsctl").string(), "completion", "bash"});
  CHECK(bash.out == rdns::test::read_file(prefix / "share/bash-completion/completions/rdnsctl"));
  // So is the manual page.
  const auto manual = run_command({(prefix / "bin/rdnsctl").string(), "manual", "audit"});
  const auto installed_manual =
      run_command({"gzip", "-dc", (prefix / "share/man/man1/rdnsctl-audit.1.gz").string()});
  CHECK(!manual.out.empty());
  CHECK(manual.out == installed_manual.out);
  // The unit runs the binary where the package puts it.
  CHECK_THAT(rdns::test::read_file(prefix / "lib/systemd/system/rdnsctl-audit.service"),
             Catch::Contains("ExecStart=/usr/bin/rdnsctl "));
}
