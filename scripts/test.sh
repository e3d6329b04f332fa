#!/usr/bin/env bash
# Runs every test: installs what is missing, builds the given CMake preset
# (default: ci; asan-ubsan for the sanitizer build) and runs CTest. The
# tests start their own Knot DNS and Unbound on free loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-ci}"

bash scripts/install-deps.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
ctest --preset "$preset"
