#!/usr/bin/env bash
# Audit throughput benchmark. Generates a reverse + forward zone for COUNT
# addresses (default 65536) with a realistic mix and its ground truth, serves
# it from a local knotd on 127.0.0.1, then, ROUNDS times one after the other
# against the same knotd: the bare c-ares loop (the floor, PEER's
# fcrdns-cares.c), rdnsctl's audit with storage on, and massdns (PTR only) at
# each -s of MASSDNS_SIZES, and rdnsctl's `audit --ptr-only` (the same PTR
# lookups as massdns, with storage). Prints each run, then the medians of the ratios
# taken within a round (the machine is shared: only same-run ratios mean
# anything) and the verdicts that differ from the ground truth.
#
#   bash bench/audit_bench.sh [COUNT] [extra rdnsctl audit flags...]
#
# BUILD: build directory (default build/release, built when rdnsctl is missing
# there). ROUNDS: default 3. PEER: directory of fcrdns-cares.c (default
# ../shared/peer; the bare loop is skipped without it). MASSDNS: a massdns
# binary (not a Debian package: build it from its repository for the
# benchmark; skipped when unset). MASSDNS_SIZES: default "30 100 300 1000 10000"
# (the sweep that finds massdns's best -s).
# BASELINE: another rdnsctl binary (an older build) audited the same way in
# each round, with and without --ptr-only, for before/after figures from one run. DNSPERF=1 also measures
# the server's ceiling with dnsperf.
# Everything stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-65536}"
shift || true
build="${BUILD:-build/release}"
rounds="${ROUNDS:-3}"
peer="${PEER:-../shared/peer}"
massdns="${MASSDNS:-}"
massdns_sizes="${MASSDNS_SIZES:-30 100 300 1000 10000}"
baseline="${BASELINE:-}"
if [[ ! -x "$build/cli/rdnsctl" ]]; then
  cmake --preset release >/dev/null
  cmake --build --preset release --target rdnsctl >/dev/null
fi

work="$(mktemp -d /tmp/rdnsctl-bench-XXXXXX)"
knot_pid=""
cleanup() {
  [[ -n "$knot_pid" ]] && kill "$knot_pid" 2>/dev/null && wait "$knot_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

python3 bench/gen_zones.py "$work/zones" 100.64.0.0 "$count"
port="$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
cat > "$work/knot.conf" <<CONF
server:
  listen: 127.0.0.1@$port
  rundir: $work
database:
  storage: $work/db
log:
  - target: $work/knot.log
    any: warning
template:
  - id: default
    storage: $work/zones
    file: "%s.zone"
    semantic-checks: off
zone:
  - domain: 100.in-addr.arpa
  - domain: bench.example
CONF
knotd -c "$work/knot.conf" >/dev/null 2>&1 &
knot_pid=$!
for _ in $(seq 1 600); do
  kdig @127.0.0.1 -p "$port" +short +time=1 +retry=0 SOA bench.example >/dev/null 2>&1 && \
    kdig @127.0.0.1 -p "$port" +short +time=1 +retry=0 -x 100.64.0.0 2>/dev/null | grep -q mta0 && break
  sleep 0.1
done

if [[ "${DNSPERF:-0}" == 1 ]]; then
  echo "== server ceiling: dnsperf, PTR queries, -c 2 -T 2 -q 500, 10 s"
  dnsperf -s 127.0.0.1 -p "$port" -d "$work/zones/ptr-queries.txt" -c 2 -T 2 -q 500 -l 10 \
    | awk '/Queries per second:/ {print "dnsperf: " $4 " queries/s"}'
fi

bare=""
if [[ -f "$peer/fcrdns-cares.c" ]]; then
  cc -O2 -o "$work/fcrdns-cares" "$peer/fcrdns-cares.c" -lcares
  bare="$work/fcrdns-cares"
fi
awk '{print $1}' "$work/zones/ptr-queries.txt" > "$work/ptr-names.txt"
echo "127.0.0.1:$port" > "$work/resolvers.txt"

# timed LABEL ROUND COMMAND...: one run under GNU time; appends
# "round label elapsed user sys maxrss_kb" to the figures.
timed() {
  local label="$1" round="$2"
  shift 2
  /usr/bin/time -f '%e %U %S %M' -o "$work/time.txt" "$@" > "$work/$label.out" 2> "$work/$label.err" \
    || { echo "$label failed:"; cat "$work/$label.err"; exit 1; }
  echo "$round $label $(cat "$work/time.txt")" >> "$work/figures.txt"
}

# audit LABEL ROUND BINARY [flags...]: every address into a fresh database,
# default settings; keeps the JSONL for the ground-truth check.
audit() {
  local label="$1" round="$2" binary="$3"
  shift 3
  rm -f "$work/runs.db"*
  timed "$label" "$round" "$binary" audit --resolver "127.0.0.1:$port" -i "$work/zones/ips.txt" \
    --db "$work/runs.db" --format jsonl --fail-on never --max-ips 16777216 "$@"
  cp "$work/$label.out" "$work/$label-$round.jsonl"
}

for round in $(seq 1 "$rounds"); do
  [[ -n "$bare" ]] && timed bare "$round" "$bare" "$work/zones/ips.txt" 127.0.0.1 "$port" 100
  audit rdnsctl "$round" "$build/cli/rdnsctl" "$@"
  [[ -n "$baseline" ]] && audit baseline "$round" "$baseline" "$@"
  audit ptr-only "$round" "$build/cli/rdnsctl" --ptr-only "$@"
  [[ -n "$baseline" ]] && audit baseline-ptr-only "$round" "$baseline" --ptr-only "$@"
  if [[ -n "$massdns" ]]; then
    for size in $massdns_sizes; do
      timed "massdns-s$size" "$round" "$massdns" -q -r "$work/resolvers.txt" -t PTR -s "$size" \
        -o S -w "$work/massdns.txt" "$work/ptr-names.txt"
    done
  fi
done

python3 - "$count" "$rounds" "$work" <<'PY'
import csv, json, statistics, sys
count, rounds, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
runs = {}
for line in open(f"{work}/figures.txt"):
    rnd, label, elapsed, user, sys_t, rss = line.split()
    runs.setdefault(label, {})[int(rnd)] = (float(elapsed), float(user) + float(sys_t), int(rss))
print(f"== {count} addresses, {rounds} rounds; per run: elapsed, addresses/s, CPU µs per address, max RSS")
for label, by_round in runs.items():
    for rnd, (elapsed, cpu, rss) in sorted(by_round.items()):
        print(f"{label:16} round {rnd}: {elapsed:6.2f} s {count / elapsed:9,.0f}/s "
              f"{cpu * 1e6 / count:6.1f} µs {rss / 1024:6.1f} MiB")
def median_ratio(label, base, index):
    ratios = [runs[label][r][index] / runs[base][r][index] for r in runs[label] if r in runs.get(base, {})]
    return statistics.median(ratios) if ratios else None
if "bare" in runs:
    for label in runs:
        if label == "bare":
            continue
        speed = median_ratio(label, "bare", 0)
        cpu = median_ratio(label, "bare", 1)
        print(f"{label:16} vs bare loop (median of rounds): {1 / speed:.2f} × its addresses/s, "
              f"{cpu:.2f} × its CPU per address")
massdns = [label for label in runs if label.startswith("massdns-")]
if massdns and "ptr-only" in runs:
    best = max(massdns, key=lambda label: statistics.median(
        count / elapsed for elapsed, _, _ in runs[label].values()))
    speed = median_ratio("ptr-only", best, 0)
    print(f"ptr-only         vs massdns at its best ({best}, median of rounds): "
          f"{1 / speed:.2f} × its addresses/s, {median_ratio('ptr-only', best, 1):.2f} × its CPU")
expected = {row["ip"]: (row["status"], set(filter(None, row["codes"].split())))
            for row in csv.DictReader(open(f"{work}/zones/expected.csv"))}
def ptr_only_verdict(status, codes):
    # What --ptr-only must say: the findings that need no forward data, and
    # FORWARD_NOT_CHECKED (status unknown, never pass) wherever a PTR exists.
    if "NO_PTR" in codes:
        return (status, codes)
    kept = codes & {"MULTIPLE_PTR", "GENERIC_PTR", "PROVIDER_DEFAULT_PTR", "INVALID_PTR_NAME"}
    return ("fail" if "INVALID_PTR_NAME" in kept else "unknown", kept | {"FORWARD_NOT_CHECKED"})
for label in ("rdnsctl", "baseline", "ptr-only", "baseline-ptr-only"):
    truth = expected if not label.endswith("ptr-only") else {
        ip: ptr_only_verdict(*verdict) for ip, verdict in expected.items()}
    for rnd in sorted(runs.get(label, {})):
        wrong, seen = 0, set()
        for line in open(f"{work}/{label}-{rnd}.jsonl"):
            result = json.loads(line)
            seen.add(result["ip"])
            codes = {finding["code"] for finding in result["findings"]}
            wrong += truth.get(result["ip"]) != (result["status"], codes)
        print(f"{label} round {rnd}: {wrong} wrong verdicts, {len(set(expected) - seen)} missing")
PY
