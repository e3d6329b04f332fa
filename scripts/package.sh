#!/usr/bin/env bash
# Builds the Debian package: an optimised build installed under /usr, then
# CPack. The .deb lands in build/package/; install it with
# `apt install ./build/package/rdnsctl_*.deb`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build/package -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DRDNS_BUILD_TESTS=OFF >/dev/null
cmake --build build/package
(cd build/package && cpack)
ls build/package/*.deb
