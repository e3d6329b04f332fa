#!/usr/bin/env bash
# Runs every test: installs what is missing, builds the given CMake preset
# (default: ci; asan-ubsan for the sanitizer build) and runs CTest. The
# tests start their own Knot DNS and Unbound on free loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-ci}"

bash scripts/install-deps.sh

# The browser tests drive Debian's Chromium through puppeteer-core, which
# never downloads a browser of its own. Install it from the lock file when it
# is missing or the lock file changed since.
if [[ ! -d tests/browser/node_modules/puppeteer-core ||
      tests/browser/package-lock.json -nt tests/browser/node_modules/.package-lock.json ]]; then
  (cd tests/browser && npm ci --no-audit --no-fund)
fi

cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
ctest --preset "$preset"
