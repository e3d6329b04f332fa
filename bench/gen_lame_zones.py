#!/usr/bin/env python3
"""Generates a reverse zone set with lame delegations, and its ground truth.

    gen_lame_zones.py OUT_DIR BASE PREFIX [--clean]

BASE/PREFIX is an IPv4 block of /16 to /24 (use a range reserved for
benchmarks, e.g. 198.18.0.0/16). Its /16 reverse zone holds the PTR records
itself, except that one /24 in ten (third octet ending in 3) is delegated to
two name servers on loopback addresses where nothing listens (127.0.0.253 and
127.0.0.254), as lame reverse delegations are in real DNS. --clean leaves
those /24s healthy, for the time of the same set without lame zones.

The healthy addresses are a mix: forward-confirmed, no PTR, a PTR without an
address. Two names test that a failure in a healthy zone is never blamed on
a lame delegation: the first address of the second /24 is a CNAME loop and the
first of the third a CNAME chain longer than any resolver follows.

Writes OUT_DIR/zones/*.zone (for a DnsLab or rdns-dnslab --zones), the
address list OUT_DIR/ips.txt and OUT_DIR/expected.csv: ip,status,codes with
the finding codes sorted and joined by spaces. Deterministic.
"""
import ipaddress
import os
import sys

FORWARD = "hosts.example"
HEADER = "$TTL 3600\n@ SOA ns.{0}. hostmaster.{0}. 1 3600 600 86400 300\n@ NS ns.{0}.\n"
CHAIN_LENGTH = 100


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--clean"]
    clean = "--clean" in sys.argv[1:]
    out_dir, base_text, prefix = args[0], args[1], int(args[2])
    if not 16 <= prefix <= 24:
        sys.exit("gen_lame_zones.py: PREFIX must be 16 to 24")
    block = ipaddress.IPv4Network(f"{base_text}/{prefix}")
    a, b = str(block.network_address).split(".")[:2]
    reverse = f"{b}.{a}.in-addr.arpa"
    zones = os.path.join(out_dir, "zones")
    os.makedirs(zones, exist_ok=True)
    first_c = int(str(block.network_address).split(".")[2])
    with open(os.path.join(zones, f"{reverse}.zone"), "w") as rev, \
         open(os.path.join(zones, f"{FORWARD}.zone"), "w") as fwd, \
         open(os.path.join(out_dir, "ips.txt"), "w") as ips, \
         open(os.path.join(out_dir, "expected.csv"), "w") as expected:
        rev.write(f"$ORIGIN {reverse}.\n" + HEADER.format(FORWARD))
        fwd.write(f"$ORIGIN {FORWARD}.\n" + HEADER.format(FORWARD))
        fwd.write("ns A 127.0.0.1\nns1.dead A 127.0.0.254\nns2.dead A 127.0.0.253\n")
        expected.write("ip,status,codes\n")
        lame_done = set()
        for ip in block:
            _, _, c, d = str(ip).split(".")
            c, d = int(c), int(d)
            ips.write(f"{ip}\n")
            owner = f"{d}.{c}"
            if c % 10 == 3 and not clean:
                if c not in lame_done:
                    rev.write(f"{c} NS ns1.dead.{FORWARD}.\n{c} NS ns2.dead.{FORWARD}.\n")
                    lame_done.add(c)
                expected.write(f"{ip},unknown,LAME_REVERSE TEMPFAIL\n")
                continue
            host = f"mta{c}x{d}"
            if c == first_c + 1 and d == 0:
                rev.write(f"{owner} CNAME loop.{owner}\nloop.{owner} CNAME {owner}\n")
                expected.write(f"{ip},unknown,TEMPFAIL\n")
            elif c == first_c + 2 and d == 0:
                rev.write(f"{owner} CNAME chain1.{owner}\n")
                for link in range(1, CHAIN_LENGTH):
                    rev.write(f"chain{link}.{owner} CNAME chain{link + 1}.{owner}\n")
                rev.write(f"chain{CHAIN_LENGTH}.{owner} PTR {host}.{FORWARD}.\n")
                fwd.write(f"{host} A {ip}\n")
                expected.write(f"{ip},unknown,TEMPFAIL\n")
            elif d % 16 == 5:
                expected.write(f"{ip},fail,NO_PTR\n")
            elif d % 16 == 9:
                rev.write(f"{owner} PTR {host}.{FORWARD}.\n")
                expected.write(f"{ip},fail,PTR_NO_FORWARD\n")
            else:
                rev.write(f"{owner} PTR {host}.{FORWARD}.\n")
                fwd.write(f"{host} A {ip}\n")
                expected.write(f"{ip},pass,\n")


if __name__ == "__main__":
    main()
