#!/usr/bin/env python3
"""Generates the benchmark's reverse and forward zones and the IP list.

A realistic mix for N addresses starting at BASE (an IPv4 /16-aligned block
from a range reserved for benchmarks or shared address space): most
addresses forward-confirmed, some without PTR, some mismatched, some with two
PTR values. Deterministic, so runs compare. expected.csv holds the verdict
each address must get (status and finding codes), for counting wrong ones.
"""
import ipaddress
import os
import sys


def verdict(kind: int) -> str:
    """The status and codes of an address of this kind (see main)."""
    if kind < 85:
        return "pass,"
    if kind < 92:
        return "fail,NO_PTR"
    if kind < 97:
        return "fail,FORWARD_MISMATCH"
    return "warn,MULTIPLE_PTR"


def main() -> None:
    out_dir, base_text, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    base = ipaddress.IPv4Address(base_text)
    os.makedirs(out_dir, exist_ok=True)
    first_octet = int(base) >> 24
    reverse_origin = f"{first_octet}.in-addr.arpa"
    forward_origin = "bench.example"
    header = "$TTL 3600\n@ SOA ns.{0}. hostmaster.{0}. 1 3600 600 86400 300\n@ NS ns.{0}.\n"
    with open(os.path.join(out_dir, f"{reverse_origin}.zone"), "w") as rev, \
         open(os.path.join(out_dir, f"{forward_origin}.zone"), "w") as fwd, \
         open(os.path.join(out_dir, "ips.txt"), "w") as ips, \
         open(os.path.join(out_dir, "ptr-queries.txt"), "w") as queries, \
         open(os.path.join(out_dir, "expected.csv"), "w") as expected:
        expected.write("ip,status,codes\n")
        rev.write(f"$ORIGIN {reverse_origin}.\n" + header.format(forward_origin))
        fwd.write(f"$ORIGIN {forward_origin}.\n" + header.format(forward_origin))
        fwd.write("ns A 127.0.0.1\n")
        for i in range(count):
            ip = base + i
            a, b, c, d = str(ip).split(".")
            owner = f"{d}.{c}.{b}"
            host = f"mta{i}"
            ips.write(f"{ip}\n")
            queries.write(f"{d}.{c}.{b}.{a}.in-addr.arpa PTR\n")
            kind = i % 100
            expected.write(f"{ip},{verdict(kind)}\n")
            if kind < 85:          # forward-confirmed
                rev.write(f"{owner} PTR {host}.{forward_origin}.\n")
                fwd.write(f"{host} A {ip}\n")
            elif kind < 92:        # no PTR at all
                continue
            elif kind < 97:        # PTR to a name that points elsewhere
                rev.write(f"{owner} PTR {host}.{forward_origin}.\n")
                fwd.write(f"{host} A {base + (i + 1) % count}\n")
            else:                  # two PTR values, one confirms
                rev.write(f"{owner} PTR {host}.{forward_origin}.\n")
                rev.write(f"{owner} PTR alt{i}.{forward_origin}.\n")
                fwd.write(f"{host} A {ip}\n")
                fwd.write(f"alt{i} A 127.0.0.1\n")


if __name__ == "__main__":
    main()
