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
  libcli11-dev catch2 nlohmann-json3-dev libfmt-dev libspdlog-dev libssl-dev libldns-dev
  libtomlplusplus-dev libkainjow-mustache-dev
  knot knot-dnsutils unbound
  clang-format
  chromium
  # promtool, which checks the --prometheus-textfile output (the package's
  # server is stopped below: only the tool is wanted).
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

if ((${#missing[@]} > 0)); then
  echo "install-deps: installing ${missing[*]}"
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all ${#PACKAGES[@]} packages and Node already installed"
fi

# The tests start their own knotd and unbound on free loopback ports. A system
# instance that a package install started would only hold port 53 and muddle
# `pgrep`, so stop it. The system daemons drop privileges to their own users,
# which tells them apart from lab instances (those run as the invoking user).
stop_system_daemon() {
  local service="$1" process="$2" user="$3"
  pgrep -x -u "$user" "$process" >/dev/null 2>&1 || return 0
  echo "install-deps: stopping the system $process"
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
    systemctl stop "$service" || true
    systemctl disable "$service" >/dev/null 2>&1 || true
  elif command -v service >/dev/null 2>&1; then
    service "$service" stop || true
  fi
  # No init system (a container): end whatever is still there, by PID.
  local pid
  for pid in $(pgrep -x -u "$user" "$process" || true); do
    kill -TERM "$pid" 2>/dev/null || true
  done
}

stop_system_daemon knot knotd knot
stop_system_daemon unbound unbound unbound
stop_system_daemon prometheus prometheus prometheus
