#!/usr/bin/env bash
# Audit throughput benchmark. Generates a reverse + forward zone for COUNT
# addresses (default 65536) with a realistic mix, serves it from a local
# knotd on 127.0.0.1, measures the server's ceiling with dnsperf in the same
# run, then audits every address with rdnsctl against the same knotd and
# prints throughput, CPU, memory and storage figures.
#
#   bash bench/audit_bench.sh [COUNT] [extra rdnsctl audit flags...]
#
# Everything stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-65536}"
shift || true

command -v dnsperf >/dev/null || apt-get install -y -q --no-install-recommends dnsperf >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release --target rdnsctl >/dev/null

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

echo "== server ceiling: dnsperf, PTR queries, -c 2 -T 2 -q 500, 10 s"
dnsperf -s 127.0.0.1 -p "$port" -d "$work/zones/ptr-queries.txt" -c 2 -T 2 -q 500 -l 10 \
  > "$work/dnsperf.txt" 2>&1
ceiling="$(awk '/Queries per second:/ {print $4}' "$work/dnsperf.txt")"
echo "dnsperf: $ceiling queries/s"

echo "== rdnsctl audit of $count addresses"
/usr/bin/time -f '%e %U %S %M' -o "$work/time.txt" \
  build/release/cli/rdnsctl audit --resolver "127.0.0.1:$port" -i "$work/zones/ips.txt" \
  --db "$work/runs.db" --format jsonl --fail-on never --max-ips 16777216 "$@" \
  > "$work/results.jsonl" 2> "$work/audit.err" || { cat "$work/audit.err"; exit 1; }
read -r elapsed user sys rss_kb < "$work/time.txt"
queries="$(sed -n 's/.* \([0-9]*\) queries.*/\1/p' "$work/audit.err" | tail -1)"
results="$(wc -l < "$work/results.jsonl")"
findings="$(sqlite3 "$work/runs.db" 'select sum(json_array_length(findings)) from results')"
stored="$(sqlite3 "$work/runs.db" 'select count(*) from results')"

python3 - "$count" "$elapsed" "$user" "$sys" "$rss_kb" "$queries" "$ceiling" "$results" "$stored" "$findings" <<'PY'
import sys
count, elapsed, user, sys_t, rss_kb, queries, ceiling, results, stored, findings = sys.argv[1:]
count, elapsed, user, sys_t = int(count), float(elapsed), float(user), float(sys_t)
queries, ceiling = int(queries), float(ceiling)
ips_per_s = count / elapsed
lookups_per_ip = queries / count
target = ceiling / lookups_per_ip
print(f"addresses           {count} (printed {results}, stored {stored}, findings {findings})")
print(f"elapsed             {elapsed:.2f} s")
print(f"IPs/s               {ips_per_s:,.0f}")
print(f"DNS lookups/s       {queries / elapsed:,.0f} ({lookups_per_ip:.2f} per IP)")
print(f"ceiling / lookups   {target:,.0f} IPs/s (dnsperf {ceiling:,.0f} q/s)")
print(f"ratio               {ips_per_s / target:.2f} (target >= 0.8)")
print(f"CPU s per 1000 IPs  {(user + sys_t) * 1000 / count:.4f} (user {user:.2f} s, sys {sys_t:.2f} s)")
print(f"max RSS             {int(rss_kb) / 1024:.1f} MiB (target <= 64 MiB at 1,048,576)")
PY
