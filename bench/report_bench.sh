#!/usr/bin/env bash
# Report benchmark: stores synthetic runs of IPS addresses (default 100000)
# in a temporary database, then measures `rdnsctl report` as HTML and CSV
# (time, peak memory, file size), `rdnsctl report diff`, and how long the
# HTML takes to open, sort, filter and scroll in headless Chromium.
#
#   bash bench/report_bench.sh [IPS] [PRESET]     # PRESET defaults to release
#   bash bench/report_bench.sh 1048576            # the million-address report
#
# Above 250,000 addresses the HTML lists only the addresses that do not pass
# (the default of --passing-rows). The CSV and the diff stream at every size
# (both runs merged in one pass), so they are measured at every size too.
#
# REPORT_BENCH_BROWSER=0 leaves out the Chromium part.
#
# Needs GNU time (/usr/bin/time) and what scripts/test.sh installs (Chromium,
# Node, tests/browser/node_modules).
set -euo pipefail
cd "$(dirname "$0")/.."
ips="${1:-100000}"
preset="${2:-release}"
build="build/$preset"

[[ -x /usr/bin/time ]] || apt-get install -y -q --no-install-recommends time >/dev/null
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" --target rdnsctl rdns-bench-runs | tail -1
if [[ "${REPORT_BENCH_BROWSER:-1}" == 1 && ! -d tests/browser/node_modules/puppeteer-core ]]; then
  (cd tests/browser && npm ci --no-audit --no-fund >/dev/null)
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Seconds, CPU seconds (user + system) and peak RSS of one command; the
# CPU time is the fairer figure on a machine shared with other builds.
measure() {
  local label="$1"
  shift
  /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$@"
  local elapsed user system rss
  read -r elapsed user system rss <"$work/time"
  printf '%-28s %7.2f s   cpu %6.2f s   peak RSS %5d MiB\n' "$label" "$elapsed" \
    "$(awk -v u="$user" -v s="$system" 'BEGIN {print u + s}')" $((rss / 1024))
}

echo "rdnsctl report benchmark: $ips addresses per run, 3 runs, preset $preset, $(nproc) cores"
"$build/bench/rdns-bench-runs" "$work/runs.db" "$ips" 3 >/dev/null
measure "report --format html" "$build/cli/rdnsctl" report --db "$work/runs.db" -o "$work/report.html"
printf '%-28s %7.1f MB\n' "HTML size" "$(stat -c %s "$work/report.html" | awk '{print $1 / 1e6}')"
# The generator's runs have no common identity, so the report above has no
# previous run to compare with; the same report with runs 2 and 3 made
# comparable (one identity, as an inventory's runs have) adds the changes.
cp "$work/runs.db" "$work/comparable.db"
sqlite3 "$work/comparable.db" "UPDATE runs SET identity = 'inventory:bench'"
measure "html, changes since run 2" "$build/cli/rdnsctl" report --db "$work/comparable.db" \
  -o "$work/comparable.html"
printf '%-28s %7.1f MB\n' "HTML size, with changes" "$(stat -c %s "$work/comparable.html" | awk '{print $1 / 1e6}')"
measure "report --format csv" "$build/cli/rdnsctl" report --db "$work/runs.db" --format csv \
  -o "$work/report.csv"
printf '%-28s %7.1f MB\n' "CSV size" "$(stat -c %s "$work/report.csv" | awk '{print $1 / 1e6}')"
measure "csv, changes since run 2" "$build/cli/rdnsctl" report --db "$work/comparable.db" \
  --format csv -o "$work/comparable.csv"
rm -f "$work/comparable.db" "$work/comparable.csv" "$work/comparable.html"
measure "report diff (table)" sh -c "exec '$build/cli/rdnsctl' report diff 2 3 --db '$work/runs.db' >'$work/diff.txt' 2>/dev/null"
printf '%-28s %7.1f MB\n' "diff table size" "$(stat -c %s "$work/diff.txt" | awk '{print $1 / 1e6}')"
rm -f "$work/diff.txt"
measure "report diff --format json" sh -c "exec '$build/cli/rdnsctl' report diff 2 3 --db '$work/runs.db' --format json >'$work/diff.json' 2>/dev/null"
printf '%-28s %7.1f MB\n' "diff JSON size" "$(stat -c %s "$work/diff.json" | awk '{print $1 / 1e6}')"
rm -f "$work/diff.json" "$work/report.csv"
[[ "${REPORT_BENCH_BROWSER:-1}" == 1 ]] || exit 0

# The rows the HTML's data island holds: every address up to 250,000, the
# ones that do not pass above (the generator's mix: 35 % of them).
rows=$(grep -o '"passing_listed":[a-z]*' "$work/report.html" | grep -q true && echo "$ips" || echo "")
node tests/browser/check_report.js "$work/report.html" --bench ${rows:+--rows "$rows"} >"$work/chromium.json"
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  if (!r.ok) { console.error("browser check failed:", r.failures); process.exit(1); }
  const line = (label, ms) => console.log(label.padEnd(28) + " " + (ms / 1000).toFixed(2).padStart(7) + " s");
  line("Chromium: DOMContentLoaded", r.dom_content_loaded_ms);
  line("Chromium: load event", r.load_event_ms);
  line("Chromium: goto() to load", r.load_ms);
  console.log("Chromium: rows in the table".padEnd(28) + " " + String(r.rows).padStart(7));
  line("Chromium: table first paint", r.table_first_paint_ms);
  line("Chromium: scroll to the end", r.scroll_to_end_ms);
  line("Chromium: sort by IP", r.sort_ms);
  line("Chromium: sort by status", r.status_sort_ms);
  line("Chromium: filter by status", r.filter_ms);
' "$work/chromium.json"
