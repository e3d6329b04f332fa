#!/usr/bin/env python3
"""Converts the openspf RFC 7208 test suite (rfc7208-tests.yml) into
rfc7208-cases.json, which tests/audit/test_audit_spf_suite.cpp reads with
nlohmann-json (no YAML parser needed at build time).

Run once after replacing the YAML:  python3 convert.py > rfc7208-cases.json

The zone data is turned into what the suite's own driver (pyspf's
test/testspf.py) serves: type SPF records become TXT records unless the name
lists TXT records of its own ("TXT: NONE" means no TXT record), and TIMEOUT
marks a name whose lookups time out.

Each case is scored or not (and why), by what `rdnsctl audit --domain` can
tell: it expands a domain's SPF record into authorised addresses and reports
errors, it does not evaluate one sender.
  error: the expected result is permerror or temperror (or either of them
         among other acceptable results).
  pass:  the expected result is pass and the policy (with every record it
         includes or redirects to) has only ip4, ip6, a, mx, include and
         redirect terms, plus an "all" that does not pass: the sender
         address must be among the expanded ranges.
"""

import json
import re
import sys

import yaml

EXPANDABLE = {"ip4", "ip6", "a", "mx", "include", "redirect"}


def rdata(entries):
    """pyspf's getrdata: (type, value) pairs, SPF copied to TXT when the name has no TXT."""
    records, generated, timeout, own_txt = [], [], False, False
    for entry in entries:
        if entry == "TIMEOUT":
            timeout = True
            continue
        ((rtype, value),) = entry.items()
        if rtype in ("TXT", "SPF") and isinstance(value, str):
            value = [value]
        if rtype == "TXT":
            own_txt = True
        elif rtype == "SPF":
            generated.append(value)
            continue  # type SPF itself is obsolete (RFC 7208 section 3.1)
        if value != ["NONE"]:
            records.append({"type": rtype, "value": value})
    if not own_txt:
        records += [{"type": "TXT", "value": value} for value in generated]
    return records, timeout


def spf_record(zone, name):
    texts = ["".join(r["value"]) for r in zone.get(name.lower(), {}).get("records", [])
             if r["type"] == "TXT"]
    records = [t for t in texts if re.match(r"(?i)v=spf1( |$)", t)]
    return records[0] if len(records) == 1 else None


def pass_scored(zone, domain):
    """Whether every term reachable from `domain` can be expanded; why not otherwise."""
    todo, seen = [domain], set()
    while todo:
        name = todo.pop().lower()
        if name in seen:
            continue
        seen.add(name)
        record = spf_record(zone, name)
        if record is None:
            return "no single SPF record at " + name
        for term in record.split()[1:]:
            qualifier = term[0] if term[0] in "+-~?" else "+"
            body = term.lstrip("+-~?")
            mechanism = re.split("[:=/]", body, maxsplit=1)[0].lower()
            if "%" in body:
                return "macro " + body
            if mechanism == "all":
                if qualifier == "+":
                    return "passes by all"
                continue
            if mechanism not in EXPANDABLE:
                return "term " + body
            if mechanism in ("include", "redirect"):
                todo.append(re.split("[:=]", body, maxsplit=1)[1])
    return None


def convert(path):
    with open(path, "rb") as stream:
        documents = list(yaml.safe_load_all(stream))
    scenarios = []
    for document in documents:
        zone = {}
        for name, entries in document["zonedata"].items():
            records, timeout = rdata(entries)
            zone[name.lower()] = {"name": name, "records": records, "timeout": timeout}
        cases = []
        for name, test in document["tests"].items():
            results = test["result"] if isinstance(test["result"], list) else [test["result"]]
            domain = test["mailfrom"].rpartition("@")[2] if test["mailfrom"] else test["helo"]
            case = {"name": name, "spec": str(test.get("spec", "")), "host": test["host"],
                    "mailfrom": test["mailfrom"], "helo": test["helo"], "domain": domain,
                    "result": results}
            if "permerror" in results or "temperror" in results:
                case["scored"] = "error"
            elif "pass" in results:
                why_not = pass_scored(zone, domain)
                case["scored"] = "pass" if why_not is None else None
                if why_not:
                    case["not_scored"] = why_not
            else:
                case["scored"] = None
                case["not_scored"] = "result " + "/".join(results)
            cases.append(case)
        scenarios.append({"description": document["description"],
                          "zone": list(zone.values()), "cases": cases})
    return scenarios


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "rfc7208-tests.yml"
    scenarios = convert(path)
    out = {
        "source": "openspf.org RFC 7208 test suite, release 2014.04, as vendored by pyspf "
                  "(github.com/sdgathman/pyspf test/rfc7208-tests.yml at commit 0f7f21a); "
                  "see rfc7208-tests.LICENSE",
        "scenarios": scenarios,
    }
    json.dump(out, sys.stdout, indent=1, ensure_ascii=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
