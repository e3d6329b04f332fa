// The Kubernetes samples (samples/kubernetes): kubectl reads every manifest
// (a client-side dry run against a discovery server), kubernetes-models and
// the TypeScript compiler check them against the Kubernetes object schemas,
// unbound-checkconf checks the sidecar's configuration, and the Job's own
// command line, run once per index with the ConfigMap's files, one
// PostgreSQL database as the Secret names and the run name the downward API
// gives, stores one complete run that audited every target address exactly
// once.

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <lab/dns_lab.hpp>
#include <lab/pg_server.hpp>

#include "run_rdnsctl.hpp"
#include "test_paths.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using rdns::test::ProcessResult;
using rdns::test::run_command;
using rdns::test::TempDir;

namespace {

const fs::path kSamples = fs::path(rdns::test::source_dir()) / "samples" / "kubernetes";
const fs::path kChecks = fs::path(rdns::test::source_dir()) / "tests" / "kubernetes";

const std::vector<std::string> kManifests = {"configmap.yaml", "secret.yaml", "audit-job.yaml",
                                             "audit-cronjob.yaml"};

/// `kubectl create --dry-run=client -f manifest -o output` against the
/// discovery server, with a HOME of its own.
ProcessResult kubectl_create(const fs::path& manifest, const std::string& output) {
  TempDir home;
  return run_command({"env", "HOME=" + home.path().string(), "python3",
                      (kChecks / "api_discovery.py").string(), "--", "kubectl", "create",
                      "--dry-run=client", "--validate=false", "--server", "{server}", "-f",
                      manifest.string(), "-o", output});
}

/// kubectl's reading of one manifest.
json kubectl_object(const fs::path& manifest) {
  const ProcessResult result = kubectl_create(manifest, "json");
  INFO(manifest << ": " << result.err);
  REQUIRE(result.exit_code == 0);
  return json::parse(result.out);
}

std::map<std::string, json> sample_objects() {
  std::map<std::string, json> objects;
  for (const std::string& file : kManifests) objects[file] = kubectl_object(kSamples / file);
  return objects;
}

/// The value after `flag` in a container's args.
std::string argument(const json& args, const std::string& flag) {
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == flag) return args[i + 1].get<std::string>();
  }
  return {};
}

}  // namespace

TEST_CASE("kubectl reads every Kubernetes sample, and the Job and CronJob agree with them") {
  const auto objects = sample_objects();
  const json& config = objects.at("configmap.yaml");
  const json& secret = objects.at("secret.yaml");
  CHECK(config["kind"] == "ConfigMap");
  CHECK(secret["kind"] == "Secret");
  CHECK(secret["stringData"].contains("RDNSCTL_DB"));
  CHECK(secret["stringData"].contains("PGPASSWORD"));

  const json& job_spec = objects.at("audit-job.yaml")["spec"];
  const json& cron_spec = objects.at("audit-cronjob.yaml")["spec"]["jobTemplate"]["spec"];
  // The CronJob runs the very same audit.
  CHECK(cron_spec == job_spec);
  CHECK(objects.at("audit-cronjob.yaml")["spec"]["concurrencyPolicy"] == "Forbid");

  CHECK(job_spec["completionMode"] == "Indexed");
  CHECK(job_spec["completions"] == job_spec["parallelism"]);
  const json& pod = job_spec["template"]["spec"];
  const json& audit = pod["containers"][0];
  const json& resolver = pod["initContainers"][0];
  CHECK(argument(audit["args"], "--shard") == "auto");
  // --shards must be the number of indexes the Job hands out.
  CHECK(argument(audit["args"], "--shards") == job_spec["completions"].dump());
  CHECK(resolver["restartPolicy"] == "Always");  // a native sidecar
  CHECK(resolver["image"] == audit["image"]);
  CHECK(audit["envFrom"][0]["secretRef"]["name"] == secret["metadata"]["name"]);
  CHECK(pod["volumes"][0]["configMap"]["name"] == config["metadata"]["name"]);

  // The files the containers name are keys of the ConfigMap, mounted there.
  const std::string mount = audit["volumeMounts"][0]["mountPath"];
  CHECK(resolver["volumeMounts"][0]["mountPath"] == mount);
  const fs::path config_file = argument(audit["args"], "--config");
  CHECK(config_file.parent_path() == mount);
  CHECK(config["data"].contains(config_file.filename().string()));
  CHECK(config["data"].contains(
      fs::path(resolver["command"].back().get<std::string>()).filename().string()));
  const std::string toml = config["data"]["rdnsctl.toml"];
  CHECK(toml.find("input = [\"" + mount + "/targets.txt\"]") != std::string::npos);
  CHECK(config["data"].contains("targets.txt"));
  // The sidecar listens where rdnsctl asks.
  CHECK(toml.find("resolver = [\"127.0.0.1:5353\"]") != std::string::npos);
  CHECK(resolver["startupProbe"]["tcpSocket"]["port"] == 5353);

  // The image's user is the pods' user, and it carries what they run.
  const std::string dockerfile = rdns::test::read_file(kSamples / "Dockerfile");
  CHECK(dockerfile.find("USER " + pod["securityContext"]["runAsUser"].dump()) != std::string::npos);
  CHECK(dockerfile.find("ENTRYPOINT [\"rdnsctl\"]") != std::string::npos);
  CHECK(dockerfile.find(" unbound ") != std::string::npos);
  CHECK(dockerfile.find("dns-root-data") != std::string::npos);
  // scripts/package.sh leaves the package where the Dockerfile copies it from.
  CHECK(dockerfile.find("COPY build/package/rdnsctl_*.deb") != std::string::npos);
  CHECK(rdns::test::read_file(fs::path(rdns::test::source_dir()) / "scripts" / "package.sh")
            .find("(cd build/package && cpack)") != std::string::npos);
}

TEST_CASE("The Kubernetes samples match the Kubernetes object schemas") {
  std::vector<std::string> check = {"node", (kChecks / "check_manifests.mjs").string()};
  for (const std::string& file : kManifests) check.push_back((kSamples / file).string());
  const ProcessResult good = run_command(check);
  INFO(good.err);
  CHECK(good.exit_code == 0);
  CHECK(static_cast<std::size_t>(std::count(good.out.begin(), good.out.end(), '\n')) ==
        kManifests.size());

  // A misspelt field and a bad quantity are both found, naming the file.
  TempDir dir;
  std::string job = rdns::test::read_file(kSamples / "audit-job.yaml");
  job = std::regex_replace(job, std::regex("ttlSecondsAfterFinished"), "ttlSecondsAfterFinish");
  job = std::regex_replace(job, std::regex("memory: 128Mi"), "memory: 128 MB");
  const fs::path bad = rdns::test::write_file(dir.path() / "bad-job.yaml", job);
  const ProcessResult refused = run_command({"node", check[1], bad.string()});
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err, Catch::Contains(bad.string()) &&
                              Catch::Contains("'\"ttlSecondsAfterFinish\"' does not exist") &&
                              Catch::Contains("requests/memory must match format \"quantity\""));

  // kubectl itself refuses a kind the API server does not have.
  job = std::regex_replace(rdns::test::read_file(kSamples / "audit-job.yaml"),
                           std::regex("kind: Job"), "kind: Jobb");
  const fs::path unknown = rdns::test::write_file(dir.path() / "unknown-kind.yaml", job);
  const ProcessResult no_kind = kubectl_create(unknown, "name");
  CHECK(no_kind.exit_code != 0);
  CHECK_THAT(no_kind.err, Catch::Contains("Jobb"));
}

TEST_CASE("The sample's Unbound configuration passes unbound-checkconf") {
  TempDir dir;
  const json config = kubectl_object(kSamples / "configmap.yaml");
  const fs::path conf = rdns::test::write_file(dir.path() / "unbound.conf",
                                               config["data"]["unbound.conf"].get<std::string>());
  const ProcessResult checked = run_command({"unbound-checkconf", conf.string()});
  INFO(checked.out << checked.err);
  CHECK(checked.exit_code == 0);
}

TEST_CASE("The Job's command line, run at every index, audits each target once") {
  TempDir dir;
  const json config = kubectl_object(kSamples / "configmap.yaml");
  const json job = kubectl_object(kSamples / "audit-job.yaml");
  const json& spec = job["spec"];
  const json& audit = spec["template"]["spec"]["containers"][0];
  const std::string mount = audit["volumeMounts"][0]["mountPath"];
  // The ConfigMap's files, as the pod sees them but in a directory of the test's.
  const auto in_test_dir = [&](const std::string& text) {
    return std::regex_replace(text, std::regex(mount + "/"), dir.path().string() + "/");
  };
  for (const auto& [name, text] : config["data"].items()) {
    rdns::test::write_file(dir.path() / name, in_test_dir(text.get<std::string>()));
  }
  std::vector<std::string> args;
  for (const auto& arg : audit["args"]) args.push_back(in_test_dir(arg.get<std::string>()));
  // The lab's resolver stands in for the sidecar.
  args.insert(args.end(), {"--resolver", rdns::lab::shared_lab().resolver_address(), "--timeout",
                           "0.4", "--retries", "1"});

  // The Secret's database: one PostgreSQL database for every index, named
  // by RDNSCTL_DB in the environment as the pod's envFrom gives it; the
  // run's name as the downward API gives it: the Job's name label.
  CHECK(audit["env"][0]["name"] == "RDNSCTL_RUN_NAME");
  CHECK(audit["env"][0]["valueFrom"]["fieldRef"]["fieldPath"] ==
        "metadata.labels['batch.kubernetes.io/job-name']");
  const std::string job_name = "rdnsctl-audit-x7k2p";
  const std::string database = rdns::lab::shared_pg_server().create_database();
  std::set<std::string> audited;
  std::size_t lines = 0;
  const int indexes = spec["completions"].get<int>();
  for (int index = 0; index < indexes; ++index) {
    const ProcessResult run =
        rdns::test::run_rdnsctl(args, {},
                                {"JOB_COMPLETION_INDEX=" + std::to_string(index),
                                 "RDNSCTL_DB=" + database, "RDNSCTL_RUN_NAME=" + job_name});
    INFO("index " << index << ": " << run.err);
    REQUIRE(run.exit_code == 0);
    std::istringstream output(run.out);
    for (std::string line; std::getline(output, line);) {
      audited.insert(json::parse(line)["ip"].get<std::string>());
      ++lines;
    }
  }
  // 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 and 2001:db8:25::/120.
  CHECK(lines == 3 * 256 + 256);
  CHECK(audited.size() == lines);
  CHECK(audited.count("192.0.2.10") == 1);
  CHECK(audited.count("2001:db8:25::ff") == 1);

  // The database holds one run, named after the Job: complete, with every
  // shard complete and every address.
  const ProcessResult runs =
      rdns::test::run_rdnsctl({"runs", "list", "--db", database, "--format", "json"});
  INFO(runs.err);
  REQUIRE(runs.exit_code == 0);
  const json list = json::parse(runs.out);
  REQUIRE(list.size() == 1);
  CHECK(list[0]["state"] == "complete");
  CHECK(list[0]["name"] == job_name);
  CHECK(list[0]["shards"]["count"] == indexes);
  CHECK(list[0]["shards"]["complete"] == indexes);
  CHECK(list[0]["counts"]["total"] == 1024);
  CHECK(runs.out.find(rdns::lab::shared_pg_server().password()) == std::string::npos);
}
