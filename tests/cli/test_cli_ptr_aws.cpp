// `rdnsctl ptr --provider aws` end to end: the real binary against the
// emulator's EC2 side and the lab's Knot and Unbound. A write waits for the
// PtrRecordUpdate to leave PENDING, FCrDNS shows through the resolver, and
// the secret never reaches the output or the database.

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <db/ptr_journal.hpp>
#include <lab/dns_lab.hpp>

#include "../emulator/ec2_state.hpp"
#include "../emulator/emulator_process.hpp"
#include "run_rdnsctl.hpp"

namespace {

using namespace rdns::test;

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::string> aws_key_env() {
  return {std::string("AWS_ACCESS_KEY_ID=") + kAwsKeyId,
          std::string("AWS_SECRET_ACCESS_KEY=") + kPlantedSecret};
}

/// `rdnsctl ptr --provider aws` against the emulator and the lab, nothing
/// off 127.0.0.1; --region only when region is given.
ProcessResult run_aws(const EmulatorProcess& emulator, const std::string& db,
                      const std::vector<std::string>& args,
                      const std::vector<std::string>& env = aws_key_env(),
                      const std::string& region = kAwsRegion) {
  std::vector<std::string> full = {"ptr",
                                   "--provider",
                                   "aws",
                                   "--endpoint",
                                   emulator.endpoint(),
                                   "--loopback-only",
                                   "--resolver",
                                   rdns::lab::emulator_lab().resolver_address(),
                                   "--authority",
                                   rdns::lab::emulator_lab().authority_address(),
                                   "--wait",
                                   "5",
                                   "--db",
                                   db};
  if (!region.empty()) full.insert(full.end(), {"--region", region});
  full.insert(full.end(), args.begin(), args.end());
  return run_rdnsctl(full, {}, env);
}

std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("ptr --provider aws: set waits out PENDING, FCrDNS shows, delete", "[cli][ptr][aws]") {
  EmulatorProcess emulator(ec2_state(1500));
  TempDir dir;
  const std::string db = (dir.path() / "rdnsctl.db").string();
  publish_a("aws1.mailcorp.test", {kAwsIp});

  // A requested TTL is reported, not silently dropped: AWS chooses the TTL.
  const ProcessResult set =
      run_aws(emulator, db, {"set", kAwsIp, "aws1.mailcorp.test", "--ttl", "60"});
  INFO(set.out << set.err << emulator.output());
  REQUIRE(set.exit_code == 0);
  CHECK(has(set.err, "the aws provider chooses the TTL itself; --ttl 60 is not applied"));
  CHECK(has(set.out,
            "198.51.100.50: created aws1.mailcorp.test, TTL 300 (eipalloc-0050, operation 1)"));
  CHECK(has(set.out, "198.51.100.50: visible in DNS after"));
  CHECK(has(emulator.output(), "ec2 publish: 50.100.51.198.in-addr.arpa -> aws1.mailcorp.test"));

  const ProcessResult show = run_aws(emulator, db, {"show", kAwsIp});
  CHECK(has(show.out, "198.51.100.50\taws1.mailcorp.test\t300\tenabled\teipalloc-0050"));
  CHECK(has(show.out, "dns\taws1.mailcorp.test\tFCrDNS pass"));

  // A repeat is a no-op.
  const ProcessResult again = run_aws(emulator, db, {"set", kAwsIp, "aws1.mailcorp.test"});
  CHECK(again.exit_code == 0);
  CHECK(has(again.out, "unchanged (aws1.mailcorp.test, TTL 300): nothing written"));

  const ProcessResult list = run_aws(emulator, db, {"list"});
  CHECK(has(list.out, "198.51.100.50\taws1.mailcorp.test\t300\tenabled\teipalloc-0050\tmanaged"));
  // The journal keeps AWS apart from an Alibaba region of the same name.
  CHECK(rdns::db::PtrJournal::open(db).managed("aws:us-east-1") ==
        std::vector<std::string>{kAwsIp});

  // A plan asks nothing of a line whose only difference is a TTL AWS would not apply.
  const auto desired = dir.path() / "desired.csv";
  std::ofstream(desired) << kAwsIp << ",aws1.mailcorp.test,60\n";
  const ProcessResult plan = run_aws(emulator, db, {"plan", desired.string()});
  INFO(plan.out << plan.err);
  CHECK(plan.exit_code == 0);
  CHECK(has(plan.out, "# 0 create, 0 update, 0 enable, 0 delete, 1 no-op, 0 blocked"));

  const ProcessResult disable = run_aws(emulator, db, {"disable", kAwsIp});
  CHECK(disable.exit_code == 2);
  CHECK(has(disable.err, "the aws provider cannot disable or enable a PTR record"));

  const ProcessResult removed = run_aws(emulator, db, {"delete", kAwsIp});
  INFO(removed.out << removed.err);
  CHECK(removed.exit_code == 0);
  CHECK(has(removed.out, "198.51.100.50: deleted aws1.mailcorp.test (eipalloc-0050, operation 2)"));
  CHECK(has(removed.out, "198.51.100.50: visible in DNS after"));
  CHECK(authority_ptr("50.100.51.198.in-addr.arpa").empty());

  // The secret is in none of the outputs (run_rdnsctl checks each) nor the database.
  CHECK_FALSE(has(read_bytes(db), kPlantedSecret));
  CHECK_FALSE(has(emulator.output(), kPlantedSecret));
}

TEST_CASE("ptr --provider aws refuses what AWS would refuse", "[cli][ptr][aws]") {
  EmulatorProcess emulator(ec2_state(500));
  TempDir dir;
  const std::string db = (dir.path() / "rdnsctl.db").string();

  // Another account's address: refused before any write.
  publish_a("aws3.mailcorp.test", {kAwsOtherAccountIp});
  const ProcessResult foreign =
      run_aws(emulator, db, {"set", kAwsOtherAccountIp, "aws3.mailcorp.test"});
  CHECK(foreign.exit_code == 1);
  CHECK(
      has(foreign.err, "198.51.100.53 IP_OWNED: not an Elastic IP of this account in this region"));
  CHECK_FALSE(has(emulator.output(), "ModifyAddressAttribute"));

  // No forward record: the pre-write check refuses; forced, AWS refuses.
  publish_a("aws4.mailcorp.test", {});
  const ProcessResult unconfirmed =
      run_aws(emulator, db, {"set", kAwsSecondIp, "aws4.mailcorp.test"});
  CHECK(unconfirmed.exit_code == 1);
  CHECK(has(unconfirmed.err, "FORWARD_CONFIRMED"));
  const ProcessResult forced =
      run_aws(emulator, db, {"set", kAwsSecondIp, "aws4.mailcorp.test", "--allow-unconfirmed"});
  CHECK(forced.exit_code == 3);
  CHECK(has(forced.err,
            "InvalidParameterValue: The forward DNS record of aws4.mailcorp.test does "
            "not resolve to 198.51.100.51"));

  // A wrong secret: AWS's refusal, named, with the key's origin.
  const ProcessResult wrong = run_aws(
      emulator, db, {"list"},
      {std::string("AWS_ACCESS_KEY_ID=") + kAwsKeyId, "AWS_SECRET_ACCESS_KEY=wrong-secret"});
  CHECK(wrong.exit_code == 3);
  CHECK(has(wrong.err, "SignatureDoesNotMatch"));
  CHECK(has(wrong.err, "environment (AWS_ACCESS_KEY_ID)"));
  CHECK_FALSE(has(wrong.err, "wrong-secret"));
}

TEST_CASE("ptr --provider aws takes the key and region from AWS profiles", "[cli][ptr][aws]") {
  EmulatorProcess emulator(ec2_state(500));
  TempDir dir;
  const std::string db = (dir.path() / "rdnsctl.db").string();
  const auto credentials = dir.path() / "credentials";
  const auto config = dir.path() / "config";
  std::ofstream(credentials) << "[emu]\naws_access_key_id = " << kAwsTempKeyId
                             << "\naws_secret_access_key = " << kAwsTempSecret
                             << "\naws_session_token = " << kAwsSessionToken << "\n";
  std::ofstream(config) << "[profile emu]\nregion = eu-west-1\n";
  ::chmod(credentials.c_str(), 0600);
  ::chmod(config.c_str(), 0600);
  const std::vector<std::string> env = {"AWS_SHARED_CREDENTIALS_FILE=" + credentials.string(),
                                        "AWS_CONFIG_FILE=" + config.string(), "AWS_PROFILE=emu"};

  publish_a("aws5.mailcorp.test", {kAwsOtherRegionIp});
  const ProcessResult set =
      run_aws(emulator, db, {"set", kAwsOtherRegionIp, "aws5.mailcorp.test"}, env, "");
  INFO(set.out << set.err);
  CHECK(set.exit_code == 0);
  CHECK(rdns::db::PtrJournal::open(db).managed("aws:eu-west-1") ==
        std::vector<std::string>{kAwsOtherRegionIp});
  CHECK_FALSE(has(set.out + set.err + read_bytes(db), kAwsTempSecret));
  CHECK_FALSE(has(set.out + set.err + read_bytes(db), kAwsSessionToken));

  // No region anywhere: a usage error that says where one comes from.
  const ProcessResult no_region =
      run_aws(emulator, db, {"list"},
              {"AWS_SHARED_CREDENTIALS_FILE=" + credentials.string(), "AWS_PROFILE=emu",
               "AWS_CONFIG_FILE=" + (dir.path() / "absent").string()},
              "");
  CHECK(no_region.exit_code == 2);
  CHECK(has(no_region.err, "no region: pass --region, set AWS_REGION"));
}
