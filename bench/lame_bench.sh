#!/usr/bin/env bash
# Lame-zone benchmark: a /16 whose reverse zones resolve everywhere except one
# /24 in ten, delegated to loopback addresses where nothing listens
# (bench/gen_lame_zones.py), audited behind the lab's small, fast-failing
# unbound and behind a stock one. For each resolver and for the clean and the
# lame /16: the time at default settings (no --concurrency: the window finds
# the resolver's capacity itself) and at fixed --concurrency values, each
# with the number of verdicts that differ from the ground truth; then the
# median of each over ROUNDS rounds and the default's throughput as a share
# of the best fixed setting's (best fixed time / default time).
#
#   bash bench/lame_bench.sh [PREFIX] [extra rdnsctl audit flags...]
#
# PREFIX defaults to 16 (198.18.0.0/16). BUILD names the build directory
# (default build/release, built when rdnsctl is missing there). PROFILES
# (default "small stock"), SETS (default "clean lame"), CONCURRENCIES
# (default "100 200 400"; empty for none) and ROUNDS (default 1) choose the
# runs; a round runs every setting once, one after the other.
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

# audit SET PROFILE_FLAG LABEL [flags...]: one run in a fresh lab (cold cache);
# appends "label seconds wrong missing" to $work/times.
audit() {
  local set="$1" profile="$2" label="$3"
  shift 3
  local out="$work/$label.jsonl"
  "$build/tests/lab/rdns-dnslab" --zones "$work/$set/zones" $profile -- \
    "$build/cli/rdnsctl" audit --resolver '{resolver}' -i "$work/$set/ips.txt" --no-db \
    --format jsonl --fail-on never --max-ips 16777216 "$@" > "$out" 2> "$work/$label.err" || true
  python3 - "$work/$set/expected.csv" "$out" "$label" "$work/$label.err" "$work/times" <<'PY'
import csv, json, re, sys
expected_path, out_path, label, err_path, times_path = sys.argv[1:]
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
with open(times_path, "a") as times:
    times.write(f"{label} {seconds} {wrong} {missing}\n")
PY
}

# The medians per resolver, zone set and setting, and the default's share of
# the best fixed setting's throughput.
summarise() {
  python3 - "$work/times" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
wrong = collections.Counter()
for line in open(sys.argv[1]):
    label, seconds, bad, missing = line.split()
    profile, zone_set, setting = label.split("-", 2)
    runs[(profile, zone_set, setting)].append(float(seconds))
    wrong[(profile, zone_set)] += int(bad) + int(missing)
print("== medians (wrong or missing verdicts over every run of the row)")
for profile, zone_set in sorted({key[:2] for key in runs}):
    medians = {setting: statistics.median(times) for (p, z, setting), times in runs.items()
               if (p, z) == (profile, zone_set)}
    fixed = {setting: t for setting, t in medians.items() if setting != "default"}
    line = f"{profile:5s} {zone_set:5s}  default {medians.get('default', float('nan')):6.1f} s"
    for setting in sorted(fixed, key=lambda s: int(s.split("-")[-1])):
        line += f"  {setting.split('-')[-1]} {fixed[setting]:6.1f} s"
    if fixed and "default" in medians:
        best = min(fixed, key=fixed.get)
        line += (f"  default / best fixed ({best.split('-')[-1]}): "
                 f"{fixed[best] / medians['default']:.2f}")
    print(line + f"  wrong {wrong[(profile, zone_set)]}")
PY
}

for round in $(seq "${ROUNDS:-1}"); do
  for profile in ${PROFILES:-small stock}; do
    flag=""
    [[ "$profile" == stock ]] && flag="--stock-resolver"
    echo "== round $round: $profile unbound, 198.18.0.0/$prefix"
    for set in ${SETS:-clean lame}; do
      audit "$set" "$flag" "$profile-$set-default" "$@"
      for concurrency in ${CONCURRENCIES-100 200 400}; do
        audit "$set" "$flag" "$profile-$set-concurrency-$concurrency" --concurrency "$concurrency" "$@"
      done
    done
  done
done
summarise
