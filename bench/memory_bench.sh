#!/usr/bin/env bash
# Memory benchmark: the maximum RSS of `rdnsctl runs show` in every output
# format for a stored run of IPS synthetic addresses (default 1,048,576,
# stored with rdns-bench-runs), of the CSV report, `report diff` (table
# and JSON), `check --run` and `report history` of a second such run against
# the first, of `rdnsctl audit` in
# every format for AUDIT_IPS addresses (default 65,536) served by the loopback lab
# (rdns-dnslab: knotd on 127.0.0.1, audited directly), and of
# `audit --resume` of that run once part of its results are taken away, and
# of a second audit of the same targets, compared with the first.
# With BASELINE (another rdnsctl binary) the same commands run with it too,
# side by side.
#
#   bash bench/memory_bench.sh [IPS] [AUDIT_IPS] [PRESET] [BASELINE]   # PRESET: release
#
# Needs GNU time (/usr/bin/time, Debian package "time"), knotd and sqlite3.
set -euo pipefail
cd "$(dirname "$0")/.."
ips="${1:-1048576}"
audit_ips="${2:-65536}"
preset="${3:-release}"
baseline="${4:-}"
build="build/$preset"

[[ -x /usr/bin/time ]] || apt-get install -y -q --no-install-recommends time >/dev/null
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" --target rdnsctl rdns-bench-runs rdns-dnslab | tail -1

work="$(mktemp -d /tmp/rdnsctl-memory-XXXXXX)"
trap 'rm -rf "$work"' EXIT

binaries=("$build/cli/rdnsctl")
labels=("this build")
if [[ -n "$baseline" ]]; then
  binaries=("$baseline" "${binaries[@]}")
  labels=("baseline" "${labels[@]}")
fi

# Maximum RSS in MiB of one command (its output goes to a file).
max_rss() {
  local out="$1"
  shift
  /usr/bin/time -f %M -o "$work/rss" "$@" >"$out" 2>"$work/err" || {
    local status=$?
    # audit exits 1 when findings reach --fail-on; anything else is a failure
    ((status == 1)) || { cat "$work/err" >&2; exit "$status"; }
  }
  awk '{printf "%d", $1 / 1024}' "$work/rss"
}

echo "rdnsctl memory benchmark: preset $preset, $(nproc) cores"
"$build/bench/rdns-bench-runs" "$work/runs.db" "$ips" 2 >/dev/null
echo "== runs show of $ips stored addresses: max RSS (MiB), output size"
for i in "${!binaries[@]}"; do
  for format in table json jsonl csv; do
    rss="$(max_rss "$work/show.$format" "${binaries[$i]}" runs show 1 --db "$work/runs.db" --format "$format")"
    printf '%-10s runs show --format %-5s  %5s MiB  %8.1f MB\n' "${labels[$i]}" "$format" "$rss" \
      "$(stat -c %s "$work/show.$format" | awk '{print $1 / 1e6}')"
    # The baseline's output is the reference: the same bytes are expected.
    if ((i == 0)); then
      mv "$work/show.$format" "$work/reference.$format"
    elif [[ -n "$baseline" ]]; then
      cmp -s "$work/reference.$format" "$work/show.$format" ||
        echo "   output differs from the baseline's"
    fi
  done
done

echo "== run 2 against run 1 ($ips addresses each): max RSS (MiB), output size"
# One identity, as an inventory's runs have, so the CSV's change column
# compares run 2 with run 1; both runs are read in one merged pass.
sqlite3 "$work/runs.db" "UPDATE runs SET identity = 'inventory:bench'"
for i in "${!binaries[@]}"; do
  for what in csv diff diff.json check history; do
    case "$what" in
      check) label="check --run 2" command=(check --run 2 -w 100% -c 100% --db "$work/runs.db") ;;
      history) label="report history" command=(report history --db "$work/runs.db") ;;
      csv) label="report --format csv" command=(report --db "$work/runs.db" --run 2 --format csv) ;;
      diff) label="report diff" command=(report diff 1 2 --db "$work/runs.db") ;;
      diff.json) label="report diff --format json"
        command=(report diff 1 2 --db "$work/runs.db" --format json) ;;
    esac
    rss="$(max_rss "$work/report.$what" "${binaries[$i]}" "${command[@]}")"
    printf '%-10s %-26s %5s MiB  %8.1f MB\n' "${labels[$i]}" "$label" "$rss" \
      "$(stat -c %s "$work/report.$what" | awk '{print $1 / 1e6}')"
    if ((i == 0)); then
      mv "$work/report.$what" "$work/reference.$what"
    elif [[ -n "$baseline" ]]; then
      cmp -s "$work/reference.$what" "$work/report.$what" ||
        echo "   output differs from the baseline's"
    fi
  done
done

echo "== audit of $audit_ips addresses through the loopback lab: max RSS (MiB)"
python3 bench/gen_zones.py "$work/zones" 100.64.0.0 "$audit_ips"
mkdir -p "$work/lab"
mv "$work/zones/"*.zone "$work/lab/"
cat > "$work/audit.sh" <<'SH'
#!/usr/bin/env bash
# Runs inside rdns-dnslab: $1 rdnsctl, $2 label, $3 work dir.
set -euo pipefail
binary="$1" label="$2" work="$3"
audit() {
  /usr/bin/time -f %M -o "$work/rss" "$binary" audit --fail-on never --quiet "$@" >"$work/audit.out" 2>"$work/err" ||
    { cat "$work/err" >&2; exit 1; }
  awk '{printf "%d", $1 / 1024}' "$work/rss"
}
for format in table json jsonl csv; do
  rm -f "$work/audit.db"*
  rss="$(audit --resolver "$RDNS_LAB_AUTHORITY" --max-ips 16777216 -i "$work/zones/ips.txt" \
    --db "$work/audit.db" --format "$format")"
  printf '%-10s audit --format %-5s      %5s MiB\n' "$label" "$format" "$rss"
done
# Without a database, table and json still print in address order (through
# a temporary database when the results are many).
for format in table json; do
  rss="$(audit --resolver "$RDNS_LAB_AUTHORITY" --max-ips 16777216 -i "$work/zones/ips.txt" \
    --no-db --format "$format")"
  printf '%-10s audit --no-db --format %-5s %5s MiB\n' "$label" "$format" "$rss"
done
# An interrupted run with half its results left: --resume audits the rest
# (with the resolver stored with the run).
sqlite3 "$work/audit.db" "UPDATE runs SET state = 'interrupted';
  DELETE FROM results WHERE substr(ip, -1) IN ('0', '2', '4', '6', '8');"
rss="$(audit --resume 1 --db "$work/audit.db" --format json)"
printf '%-10s audit --resume (json)      %5s MiB\n' "$label" "$rss"
# A scheduled run: the same targets again, compared with the previous run
# (the metrics, check and the webhook read both runs in one merged pass).
rm -f "$work/audit.db"*
audit --resolver "$RDNS_LAB_AUTHORITY" --max-ips 16777216 -i "$work/zones/ips.txt" \
  --db "$work/audit.db" --format jsonl >/dev/null
rss="$(audit --resolver "$RDNS_LAB_AUTHORITY" --max-ips 16777216 -i "$work/zones/ips.txt" \
  --db "$work/audit.db" --format jsonl)"
printf '%-10s audit again (compared)     %5s MiB\n' "$label" "$rss"
SH
for i in "${!binaries[@]}"; do
  "$build/tests/lab/rdns-dnslab" --zones "$work/lab" -- \
    bash "$work/audit.sh" "$(realpath "${binaries[$i]}")" "${labels[$i]}" "$work"
done
