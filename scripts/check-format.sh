#!/usr/bin/env bash
# Fails when a C++ file differs from what clang-format (.clang-format) makes of it.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files '*.cpp' '*.hpp' '*.hpp.in' | grep -v '\.in$' | xargs clang-format --dry-run --Werror
echo "check-format: all files formatted"
