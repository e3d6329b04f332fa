#!/usr/bin/env bash
# Installs the Debian 12 packages rdnsctl needs to build, test and run its
# loopback DNS lab. Safe to run again: it installs only what is missing and
# touches the package lists only then.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

# apt needs root; re-run through sudo rather than fail halfway for a developer.
if [[ "$(id -u)" -ne 0 ]]; then
  exec sudo --preserve-env=DEBIAN_FRONTEND bash "$0" "$@"
fi

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libc-ares-dev libboost-dev libcurl4-openssl-dev libsqlite3-dev sqlite3 libsqlitecpp-dev
  libcli11-dev catch2 nlohmann-json3-dev libfmt-dev libssl-dev libldns-dev
  libtomlplusplus-dev libkainjow-mustache-dev
  knot knot-dnsutils unbound
  # The root trust anchor the Kubernetes sample's Unbound sidecar validates
  # with (unbound-checkconf reads it).
  dns-root-data
  # A PowerDNS Authoritative server for the powerdns provider's tests.
  pdns-server pdns-backend-sqlite3
  # libpq for --db postgresql://…, and a PostgreSQL 15 server whose initdb,
  # pg_ctl and postgres the tests start as their own throw-away cluster.
  libpq-dev postgresql-15
  clang-format
  # libFuzzer and the sanitizer runtimes for scripts/fuzz.sh.
  clang libclang-rt-14-dev
  chromium
  # pdftotext, which reads back the report the browser test prints to PDF.
  poppler-utils
  # The shells whose completion scripts the tests load.
  zsh fish
  # systemd-analyze, which verifies the sample units.
  systemd
  # promtool, which checks the --prometheus-textfile output (only the tool is
  # used; the server is not needed).
  prometheus
)

installed() {
  # dpkg-query also knows removed-but-configured packages; only a full install counts.
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" == "installed" ]]
}

missing=()
for package in "${PACKAGES[@]}"; do
  installed "$package" || missing+=("$package")
done
# The browser tests run Node (puppeteer-core from npm). Any Node >= 18 will do,
# Debian's or one installed another way, so add Debian's only when none is there.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# kubectl checks the Kubernetes samples (client-side dry run): Debian's
# kubernetes-client unless one is installed already.
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)

if ((${#missing[@]} > 0)); then
  echo "install-deps: installing ${missing[*]}"
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all ${#PACKAGES[@]} packages and Node already installed"
fi

# The system's knot, unbound, pdns, postgresql and prometheus services are
# left as the package installed them: the lab starts its own knotd, unbound,
# pdns_server and PostgreSQL cluster (initdb in a temporary directory) on
# free loopback ports and needs nothing of theirs. initdb and postgres refuse
# to run as root; as root (CI) the tests start them as `nobody` through
# util-linux's setpriv, so no user needs to be created here.
