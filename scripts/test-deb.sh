#!/usr/bin/env bash
# Installs the Debian package into a clean Debian 12 root (debootstrap
# --variant=minbase from the Debian mirror) and runs rdnsctl there: --version,
# then an audit through the loopback DNS lab running outside the root. Needs
# root and the mirror; about two minutes, so it is run by hand (and before a
# release), not by CI:
#   bash scripts/package.sh && bash scripts/test-deb.sh [build/package/rdnsctl_*.deb]
set -euo pipefail
cd "$(dirname "$0")/.."
deb="${1:-$(ls build/package/rdnsctl_*.deb 2>/dev/null | head -n 1)}"
[[ -f "$deb" ]] || { echo "test-deb: no .deb; run scripts/package.sh first" >&2; exit 2; }
lab="$(ls build/*/tests/lab/rdns-dnslab 2>/dev/null | head -n 1)"
if [[ -z "$lab" ]]; then
  cmake --preset ci >/dev/null && cmake --build --preset ci --target rdns-dnslab
  lab=build/ci/tests/lab/rdns-dnslab
fi
command -v debootstrap >/dev/null || apt-get install -y debootstrap

root="$(mktemp -d /var/tmp/rdnsctl-deb-XXXXXX)"
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >/dev/null
cp "$deb" "$root/tmp/rdnsctl.deb"
chroot "$root" apt-get -qq update
# apt resolves the package's Depends from the mirror, as on a user's machine.
DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get -qq install -y /tmp/rdnsctl.deb >/dev/null
chroot "$root" rdnsctl --version
test -f "$root/usr/share/man/man1/rdnsctl.1.gz"
test -f "$root/usr/share/man/man1/rdnsctl-audit.1.gz"
test -f "$root/usr/share/bash-completion/completions/rdnsctl"
test -f "$root/usr/lib/systemd/system/rdnsctl-audit.timer"

# The root shares this machine's network: the lab listens on 127.0.0.1.
set +e
out="$("$lab" --zones samples/zones -- chroot "$root" rdnsctl audit --resolver '{resolver}' \
  --timeout 0.4 --retries 1 --no-db --format csv 192.0.2.10 192.0.2.12)"
code=$?
set -e
echo "$out"
[[ $code -eq 1 ]] || { echo "test-deb: audit exited $code, expected 1 (NO_PTR)" >&2; exit 1; }
grep -q '^192.0.2.10,ipv4,pass,' <<<"$out"
grep -q '^192.0.2.12,ipv4,fail,.*NO_PTR' <<<"$out"
echo "test-deb: the package installs into a clean Debian 12 root and audits there"
