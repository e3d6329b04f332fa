#!/usr/bin/env bash
# Lame-zone benchmark: a /16 whose reverse zones resolve everywhere except one
# /24 in ten, delegated to loopback addresses where nothing listens
# (bench/gen_lame_zones.py), audited behind the lab's small, fast-failing
# unbound and behind a stock one. For each: the time of the clean /16, of the
# lame /16 at default settings, and of the lame /16 at fixed --concurrency
# values, each with the number of verdicts that differ from the ground truth.
#
#   bash bench/lame_bench.sh [PREFIX] [extra rdnsctl audit flags...]
#
# PREFIX defaults to 16 (198.18.0.0/16). BUILD names the build directory
# (default build/release, built when rdnsctl is missing there). PROFILES
# (default "small stock") and CONCURRENCIES (default "10 20 50"; empty for
# none) narrow the runs.
# Everything stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix="${1:-16}"
shift || true
build="${BUILD:-build/release}"
if [[ ! -x "$build/cli/rdnsctl" || ! -x "$build/tests/lab/rdns-dnslab" ]]; then
  cmake --preset release >/dev/null
  cmake --build --preset release --target rdnsctl rdns-dnslab >/dev/null
fi

work="$(mktemp -d /tmp/rdnsctl-lame-bench-XXXXXX)"
trap 'rm -rf "$work"' EXIT
python3 bench/gen_lame_zones.py "$work/lame" 198.18.0.0 "$prefix"
python3 bench/gen_lame_zones.py "$work/clean" 198.18.0.0 "$prefix" --clean

# audit SET PROFILE_FLAG LABEL [flags...]: one run in a fresh lab (cold cache).
audit() {
  local set="$1" profile="$2" label="$3"
  shift 3
  local out="$work/$label.jsonl"
  "$build/tests/lab/rdns-dnslab" --zones "$work/$set/zones" $profile -- \
    "$build/cli/rdnsctl" audit --resolver '{resolver}' -i "$work/$set/ips.txt" --no-db \
    --format jsonl --fail-on never --max-ips 16777216 "$@" > "$out" 2> "$work/$label.err" || true
  python3 - "$work/$set/expected.csv" "$out" "$label" "$work/$label.err" <<'PY'
import csv, json, re, sys
expected_path, out_path, label, err_path = sys.argv[1:]
# The audit's own time and query count, from its summary line (the lab's
# start-up, loading the zones, is not part of it).
summary = re.search(r"with (\d+) queries .* in ([0-9.]+) s", open(err_path).read())
queries, seconds = (int(summary[1]), float(summary[2])) if summary else (0, float("nan"))
# How far the DNS window grew: the most queries in flight at once.
peak = re.search(r"at most (\d+) in flight", open(err_path).read())
peak = int(peak[1]) if peak else 0
expected = {}
with open(expected_path) as f:
    for row in csv.DictReader(f):
        expected[row["ip"]] = (row["status"], set(row["codes"].split()))
wrong = lame_findings = 0
seen = set()
with open(out_path) as f:
    for line in f:
        result = json.loads(line)
        codes = {finding["code"] for finding in result["findings"]} - {"TTL_NOTE"}
        seen.add(result["ip"])
        lame_findings += "LAME_REVERSE" in codes
        if expected.get(result["ip"]) != (result["status"], codes):
            wrong += 1
missing = len(set(expected) - seen)
print(f"{label:34s} {seconds:7.1f} s  {queries:7d} queries  wrong {wrong:5d}  missing {missing:5d}"
      f"  LAME_REVERSE {lame_findings:5d}  in flight {peak:4d}")
PY
}

for profile in ${PROFILES:-small stock}; do
  flag=""
  [[ "$profile" == stock ]] && flag="--stock-resolver"
  echo "== $profile unbound, 198.18.0.0/$prefix"
  audit clean "$flag" "$profile-clean-default" "$@"
  audit lame "$flag" "$profile-lame-default" "$@"
  for concurrency in ${CONCURRENCIES-10 20 50}; do
    audit lame "$flag" "$profile-lame-concurrency-$concurrency" --concurrency "$concurrency" "$@"
  done
done
