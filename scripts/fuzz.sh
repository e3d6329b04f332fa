#!/usr/bin/env bash
# Builds the libFuzzer targets (preset fuzz, Debian's clang) and runs each for
# SECONDS (default 600) on a working copy of its seed corpus, so that what a
# run discovers never changes the seeds in fuzz/corpus/. A crash, a sanitizer
# report or a leak stops the script with the input saved under
# build/fuzz/artifacts/. `bash scripts/fuzz.sh 10` is CI's smoke pass;
# `bash scripts/fuzz.sh 600 fuzz_dns_reply` runs one target.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(fuzz_target_lines fuzz_dns_reply fuzz_dns_wire_ldns fuzz_spf_record fuzz_domain_auth fuzz_desired_csv
           fuzz_plan_json fuzz_cloud_json fuzz_config)
fi

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target "${targets[@]}"

work=build/fuzz/run
mkdir -p build/fuzz/artifacts
for target in "${targets[@]}"; do
  corpus="$work/$target"
  rm -rf "$corpus"
  mkdir -p "$corpus"
  cp fuzz/corpus/"$target"/* "$corpus"/
  echo "fuzz: $target for ${seconds}s"
  # -rss_limit_mb and -timeout turn runaway memory and hangs into findings (the
  # timeout allows for a machine busy with builds).
  build/fuzz/fuzz/"$target" "$corpus" -max_total_time="$seconds" -rss_limit_mb=1024 \
    -timeout=60 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix=build/fuzz/artifacts/"$target"- 2>build/fuzz/"$target".log ||
    { tail -n 60 build/fuzz/"$target".log; echo "fuzz: $target FAILED"; exit 1; }
  grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' build/fuzz/"$target".log |
    sed "s/^/fuzz: $target /"
done
echo "fuzz: ${#targets[@]} targets ran ${seconds}s each with no crash"
