#!/usr/bin/env bash
# Runs every test: installs what is missing, builds the given CMake preset
# (default: ci; asan-ubsan for the sanitizer build) and runs CTest. The
# tests start their own Knot DNS and Unbound on free loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-ci}"

bash scripts/install-deps.sh

# The browser tests drive Debian's Chromium through puppeteer-core, which
# never downloads a browser of its own; the Kubernetes samples are checked
# against kubernetes-models' schemas. Install each from its lock file when it
# is missing or the lock file changed since.
for dir in tests/browser tests/kubernetes; do
  if [[ ! -f "$dir/node_modules/.package-lock.json" ||
        "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]]; then
    (cd "$dir" && npm ci --no-audit --no-fund)
  fi
done

cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
ctest --preset "$preset"
