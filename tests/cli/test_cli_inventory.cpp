// Named inventories: [inventory.NAME] in the configuration file, audited
// with --inventory, and every reader (runs, report, check) keeping one
// inventory's runs apart from ad-hoc runs and from other inventories.

#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <lab/dns_lab.hpp>

#include "run_rdnsctl.hpp"

using rdns::test::ProcessResult;
using rdns::test::read_file;
using rdns::test::run_rdnsctl;
using rdns::test::TempDir;
using rdns::test::write_file;

namespace {

/// A configuration with two inventories and a top-level target list that
/// neither inventory may pick up.
struct InventoryConfig {
  TempDir dir;
  std::string db = (dir.path() / "runs.db").string();
  std::filesystem::path file;

  InventoryConfig() {
    const auto everything = write_file(dir.path() / "all.txt", "192.0.2.0/28\n");
    const auto relays = write_file(dir.path() / "relays.txt", "192.0.2.10\n192.0.2.19\n");
    file = write_file(dir.path() / "rdnsctl.toml",
                      "resolver = [\"" + rdns::lab::shared_lab().resolver_address() +
                          "\"]\n"
                          "db = \"" +
                          db +
                          "\"\n"
                          "timeout = 0.4\n"
                          "retries = 1\n"
                          "input = [\"" +
                          everything.string() +
                          "\"]\n"
                          "[audit]\n"
                          "format = \"jsonl\"\n"
                          "[inventory.mail]\n"
                          "targets = [\"192.0.2.10\", \"192.0.2.12\"]\n"
                          "fail-on = \"never\"\n"
                          "critical = \"1\"\n"
                          "[inventory.relays]\n"
                          "input = [\"" +
                          relays.string() + "\"]\n");
  }

  ProcessResult rdnsctl(std::vector<std::string> args) const {
    args.insert(args.begin() + 1, {"--config", file.string()});
    return run_rdnsctl(args);
  }

  nlohmann::json runs(const std::vector<std::string>& extra = {}) const {
    std::vector<std::string> args = {"runs", "list", "--db", db, "--format", "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    const ProcessResult list = run_rdnsctl(args);
    REQUIRE(list.exit_code == 0);
    return nlohmann::json::parse(list.out);
  }
};

std::set<std::string> audited(const std::string& jsonl) {
  std::set<std::string> ips;
  std::istringstream lines(jsonl);
  for (std::string line; std::getline(lines, line);) {
    ips.insert(nlohmann::json::parse(line)["ip"].get<std::string>());
  }
  return ips;
}

}  // namespace

TEST_CASE("audit --inventory audits the inventory's targets with its settings") {
  const InventoryConfig config;
  const ProcessResult mail = config.rdnsctl({"audit", "-q", "--inventory", "mail"});
  INFO(mail.err);
  // fail-on = "never" from the inventory although 192.0.2.12 has no PTR.
  CHECK(mail.exit_code == 0);
  CHECK(audited(mail.out) == std::set<std::string>{"192.0.2.10", "192.0.2.12"});

  const ProcessResult relays = config.rdnsctl({"audit", "-q", "--inventory", "relays"});
  CHECK(relays.exit_code == 0);  // 192.0.2.19 only warns
  CHECK(audited(relays.out) == std::set<std::string>{"192.0.2.10", "192.0.2.19"});

  // Without --inventory the top-level targets apply, as before.
  const ProcessResult ad_hoc = config.rdnsctl({"audit", "-q"});
  CHECK(ad_hoc.exit_code == 1);
  CHECK(audited(ad_hoc.out).size() == 16);

  const auto runs = config.runs();
  REQUIRE(runs.size() == 3);
  CHECK(runs[2]["inventory"] == "mail");
  CHECK(runs[2]["identity"] == "inventory:mail");
  CHECK(runs[1]["inventory"] == "relays");
  CHECK(runs[0]["inventory"] == "");
  CHECK(runs[0]["identity"].get<std::string>().rfind("targets:", 0) == 0);
}

TEST_CASE("runs of one inventory are listed and compared only with each other") {
  const InventoryConfig config;
  // mail, an ad-hoc run, relays, mail again, and a stored check probe of mail.
  REQUIRE(config.rdnsctl({"audit", "-q", "--inventory", "mail"}).exit_code == 0);
  REQUIRE(config.rdnsctl({"audit", "-q", "192.0.2.12", "192.0.2.13"}).exit_code == 1);
  REQUIRE(config.rdnsctl({"audit", "-q", "--inventory", "relays"}).exit_code == 0);
  REQUIRE(config.rdnsctl({"audit", "-q", "--inventory", "mail"}).exit_code == 0);
  const ProcessResult probe = config.rdnsctl({"check", "--inventory", "mail", "--store"});
  INFO(probe.out << probe.err);
  // critical = "1" from the inventory: one failing address is not above it.
  CHECK(probe.exit_code == 0);
  CHECK_THAT(probe.out, Catch::StartsWith("RDNS OK - 1 of 2 addresses fail") &&
                            Catch::Contains("(run 5; since run 4: 0 newly failing, 0 recovered)"));

  const auto mail = config.runs({"--inventory", "mail"});
  REQUIRE(mail.size() == 3);
  CHECK(mail[0]["id"] == 5);
  CHECK(mail[0]["command"] == "check");
  CHECK(mail[1]["id"] == 4);
  CHECK(mail[2]["id"] == 1);
  const ProcessResult table = run_rdnsctl({"runs", "list", "--db", config.db});
  CHECK_THAT(table.out, Catch::Contains("INVENTORY") && Catch::Contains("relays") &&
                            Catch::Contains("(audit)"));

  // Each mail run is compared with the mail run before it, never with the
  // ad-hoc or relays runs in between.
  const ProcessResult history = run_rdnsctl(
      {"report", "history", "--db", config.db, "--inventory", "mail", "--format", "json"});
  INFO(history.err);
  REQUIRE(history.exit_code == 0);
  const auto entries = nlohmann::json::parse(history.out);
  REQUIRE(entries.size() == 3);
  CHECK(entries[0]["since_previous"]["from_run"] == 4);
  CHECK(entries[1]["since_previous"]["from_run"] == 1);
  CHECK(entries[2]["since_previous"].is_null());

  // diff without run IDs: the newest complete mail run against its predecessor.
  const ProcessResult diff =
      run_rdnsctl({"report", "diff", "--db", config.db, "--inventory", "mail", "--format", "json"});
  INFO(diff.err);
  REQUIRE(diff.exit_code == 0);
  const auto changes = nlohmann::json::parse(diff.out);
  CHECK(changes["from_run"] == 4);
  CHECK(changes["to_run"] == 5);
  CHECK(run_rdnsctl({"report", "diff", "--db", config.db, "4"}).exit_code == 2);

  // "latest" within an inventory; an ID of another series is refused.
  const ProcessResult judged =
      run_rdnsctl({"check", "--db", config.db, "--run", "latest", "--inventory", "relays"});
  CHECK_THAT(judged.out, Catch::Contains("(run 3,"));
  const ProcessResult shown =
      run_rdnsctl({"runs", "show", "1", "--db", config.db, "--inventory", "relays"});
  CHECK(shown.exit_code == 2);
  CHECK_THAT(shown.err, Catch::Contains("run 1 is not a run of inventory relays (it audited "
                                        "inventory mail)"));
  const ProcessResult none =
      run_rdnsctl({"runs", "show", "latest", "--db", config.db, "--inventory", "other"});
  CHECK(none.exit_code == 2);
  CHECK_THAT(none.err, Catch::Contains("holds no runs of inventory other yet"));
  const ProcessResult report =
      run_rdnsctl({"report", "--db", config.db, "--inventory", "relays", "--format", "csv"});
  CHECK(report.exit_code == 0);
  CHECK_THAT(report.out, Catch::Contains("192.0.2.19") && !Catch::Contains("192.0.2.12"));
}

TEST_CASE("an address added to an inventory that fails is newly failing everywhere") {
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  const auto metrics = dir.path() / "rdnsctl.prom";
  const auto audit = [&](const std::string& targets) {
    const auto config = write_file(dir.path() / "rdnsctl.toml",
                                   "resolver = [\"" + rdns::lab::shared_lab().resolver_address() +
                                       "\"]\n[inventory.mail]\ntargets = [" + targets + "]\n");
    return run_rdnsctl({"audit", "-q", "--config", config.string(), "--inventory", "mail", "--db",
                        db, "--prometheus-textfile", metrics.string()});
  };
  REQUIRE(audit("\"192.0.2.10\"").exit_code == 0);
  CHECK_THAT(read_file(metrics), !Catch::Contains("rdnsctl_changed_ips"));  // nothing to compare
  REQUIRE(audit("\"192.0.2.10\", \"192.0.2.12\"").exit_code == 1);
  const std::string text = read_file(metrics);
  CHECK_THAT(text, Catch::Contains("rdnsctl_changed_ips{change=\"new_failure\"} 1\n") &&
                       Catch::Contains("rdnsctl_changed_ips{change=\"unchanged\"} 1\n") &&
                       Catch::Contains("rdnsctl_compared_run_id 1\n"));

  const ProcessResult check =
      run_rdnsctl({"check", "--db", db, "--run", "latest", "--inventory", "mail", "-c", "1"});
  INFO(check.out);
  CHECK_THAT(check.out, Catch::Contains("(run 2, ") &&
                            Catch::Contains("; since run 1: 1 newly failing, 0 recovered)") &&
                            Catch::Contains(" new_failures=1;;;0 recovered=0;;;0"));
  const ProcessResult diff =
      run_rdnsctl({"report", "diff", "--db", db, "--inventory", "mail", "--fail-on-new"});
  CHECK(diff.exit_code == 1);
  CHECK_THAT(diff.out, Catch::Contains("192.0.2.12"));
}

TEST_CASE("an inventory's retention removes its older runs after each complete run") {
  TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  const auto config =
      write_file(dir.path() / "rdnsctl.toml",
                 "resolver = [\"" + rdns::lab::shared_lab().resolver_address() +
                     "\"]\n[inventory.mail]\ntargets = [\"192.0.2.10\"]\n"
                     "keep-runs = 2\n[inventory.web]\ntargets = [\"192.0.2.10\"]\n");
  const auto audit = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"audit", "--config", config.string(), "--db", db};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_rdnsctl(args);
  };
  REQUIRE(audit({"-q", "--inventory", "mail"}).exit_code == 0);  // 1
  REQUIRE(audit({"-q", "--inventory", "web"}).exit_code == 0);   // 2
  REQUIRE(audit({"-q", "192.0.2.10"}).exit_code == 0);           // 3
  REQUIRE(audit({"-q", "--inventory", "mail"}).exit_code == 0);  // 4
  const ProcessResult third = audit({"--inventory", "mail"});    // 5
  REQUIRE(third.exit_code == 0);
  CHECK_THAT(third.err, Catch::Contains("removed 1 older runs of inventory mail (its retention)"));
  const ProcessResult list = run_rdnsctl({"runs", "list", "--db", db, "--format", "json"});
  std::vector<std::int64_t> ids;
  for (const auto& run : nlohmann::json::parse(list.out)) ids.push_back(run["id"]);
  // Only mail's oldest run went; web's and the ad-hoc run are not its to remove.
  CHECK(ids == std::vector<std::int64_t>{5, 4, 3, 2});
  // The newest run was still compared with its predecessor.
  const ProcessResult diff =
      run_rdnsctl({"report", "diff", "--db", db, "--inventory", "mail", "--format", "json"});
  CHECK(nlohmann::json::parse(diff.out)["from_run"] == 4);
}

TEST_CASE("inventory mistakes are refused with the file, line and key") {
  TempDir dir;
  const std::string resolver = rdns::lab::shared_lab().resolver_address();
  const auto audit = [&](const std::string& text, std::vector<std::string> extra = {},
                         std::vector<std::string> env = {}) {
    const auto file = write_file(dir.path() / "inventories.toml", text);
    std::vector<std::string> args = {"audit", "--config", file.string(), "--no-db", "-q"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_rdnsctl(args, {}, env);
  };
  const std::string file = (dir.path() / "inventories.toml").string();
  const std::string good = "[inventory.mail]\ntargets = [\"192.0.2.10\"]\n";

  const ProcessResult unknown = audit(good, {"--inventory", "web"});
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("--inventory web: no [inventory.web] in " + file +
                                          " (it defines: mail)"));
  const ProcessResult targets = audit(good, {"--inventory", "mail", "192.0.2.12"});
  CHECK(targets.exit_code == 2);
  CHECK_THAT(targets.err, Catch::Contains("audits the targets the inventory lists; drop targets"));
  const ProcessResult from_env =
      audit(good, {"--inventory", "mail"}, {"RDNSCTL_INPUT=" + (dir.path() / "x").string()});
  CHECK(from_env.exit_code == 2);
  CHECK_THAT(from_env.err, Catch::Contains("drop --input (set by RDNSCTL_INPUT)"));

  const ProcessResult db = audit(good + "db = \"/tmp/x.db\"\n", {"--inventory", "mail"});
  CHECK(db.exit_code == 2);
  CHECK_THAT(db.err, Catch::Contains(file + ":3: key 'db': not allowed in [inventory.mail]"));
  const ProcessResult empty = audit(good + "[inventory.web]\nsmtp = true\n", {"192.0.2.10"});
  CHECK(empty.exit_code == 2);  // checked even when another inventory, or none, is used
  CHECK_THAT(empty.err, Catch::Contains(file + ":3: key 'web': the inventory lists nothing"));
  const ProcessResult retention = audit(good + "keep-runs = 0\n", {"--inventory", "mail"});
  CHECK(retention.exit_code == 2);
  CHECK_THAT(retention.err, Catch::Contains(file + ":3: key 'keep-runs': expected a whole number"));
  const ProcessResult typo = audit(good + "timout = 2\n", {"--inventory", "mail"});
  CHECK(typo.exit_code == 2);
  CHECK_THAT(typo.err, Catch::Contains(file + ":3: key 'timout': unknown key in [inventory.mail]"));
  const ProcessResult name = audit("[inventory.\"a b\"]\ntargets = [\"192.0.2.10\"]\n");
  CHECK(name.exit_code == 2);
  CHECK_THAT(name.err, Catch::Contains("key 'a b': not an inventory name"));
  const ProcessResult top_level = audit("inventory = \"mail\"\n", {"192.0.2.10"});
  CHECK(top_level.exit_code == 2);
  CHECK_THAT(top_level.err, Catch::Contains(file + ":1: key 'inventory': expected"));

  const ProcessResult no_file =
      run_rdnsctl({"audit", "--no-db", "--inventory", "mail", "--resolver", resolver});
  CHECK(no_file.exit_code == 2);
  CHECK_THAT(no_file.err, Catch::Contains("--inventory mail: no configuration file to define it"));
  const ProcessResult bad_name = run_rdnsctl({"runs", "list", "--inventory", "../x"});
  CHECK(bad_name.exit_code == 2);
  CHECK_THAT(bad_name.err, Catch::Contains("--inventory ../x: expected an inventory name"));
}
