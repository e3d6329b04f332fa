#!/usr/bin/env python3
"""Derives the extra signature vectors of test_emulator_signatures.cpp and
test_provision_signing.cpp straight from the documented algorithm (docs/emulator.md),
with Python's standard library only: a third implementation beside the
client's signer and the emulator's verifier."""
import base64, hashlib, hmac, urllib.parse

EMPTY = hashlib.sha256(b"").hexdigest()

def enc(text):
    return urllib.parse.quote(text, safe="-_.~")

def v3(method, path, query, headers, body, secret):
    canonical_query = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(query))
    names = sorted(headers)
    canonical_headers = "".join(f"{n}:{headers[n].strip()}\n" for n in names)
    request = "\n".join([method, path, canonical_query, canonical_headers, ";".join(names),
                         hashlib.sha256(body.encode()).hexdigest()])
    hashed = hashlib.sha256(request.encode()).hexdigest()
    return hashed, hmac.new(secret.encode(), f"ACS3-HMAC-SHA256\n{hashed}".encode(),
                            hashlib.sha256).hexdigest()

def v2(method, query, secret):
    canonical = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(query))
    to_sign = f"{method}&{enc('/')}&{enc(canonical)}"
    return base64.b64encode(hmac.new((secret + "&").encode(), to_sign.encode(),
                                     hashlib.sha1).digest()).decode()

common = {"host": "alidns.cn-hangzhou.aliyuncs.com", "x-acs-version": "2015-01-09",
          "x-acs-date": "2026-12-06T10:00:00Z",
          "x-acs-signature-nonce": "0f1e2d3c4b5a69788796a5b4c3d2e1f0"}
secret = "TestSecret/With+Reserved=Chars"

sts = dict(common, **{"x-acs-action": "DescribeDomainRecords", "x-acs-content-sha256": EMPTY,
                      "x-acs-security-token": "STS.NUgYrLnoC37mZZCNnAbez2KSm"})
print("sts", *v3("POST", "/", [("RegionId", "cn-hangzhou"), ("IpAddress", "192.0.2.10")],
                  sts, "", secret))

reserved_query = [("Description", "a b*c~d/e+f&g=h"), ("Name", "caf\u00e9"),
                  ("Tag", '["x"]'), ("RegionId", "cn-hangzhou")]
reserved = dict(common, **{"x-acs-action": "AddDomainRecord", "x-acs-content-sha256": EMPTY})
print("reserved", *v3("GET", "/", reserved_query, reserved, "", secret))

body = "IpAddress=192.0.2.10&Value=mail.example.com&TTL=600"
with_body = dict(common, **{"x-acs-action": "AddDomainRecord",
                            "content-type": "application/x-www-form-urlencoded",
                            "x-acs-content-sha256": hashlib.sha256(body.encode()).hexdigest()})
print("body", hashlib.sha256(body.encode()).hexdigest(),
      *v3("POST", "/", [("RegionId", "cn-hangzhou")], with_body, body, secret))

v2_query = [("AccessKeyId", "testid"), ("Action", "DescribeDomainRecords"), ("Format", "JSON"),
            ("KeyWord", "a b*c~d/e+f"), ("RegionId", "cn-hangzhou"),
            ("SignatureMethod", "HMAC-SHA1"), ("SignatureNonce", "0f1e2d3c4b5a6978"),
            ("SignatureVersion", "1.0"), ("Timestamp", "2026-12-06T10:00:00Z"),
            ("Version", "2015-01-09")]
print("v2", v2("GET", v2_query, "testsecret"))

# The documentation's own vectors, so this derivation is checked before it is trusted.
doc_headers = {"host": "ecs.cn-shanghai.aliyuncs.com", "x-acs-action": "RunInstances",
               "x-acs-version": "2014-05-26", "x-acs-date": "2023-10-26T10:22:32Z",
               "x-acs-signature-nonce": "3156853299f313e23d1673dc12e1703d",
               "x-acs-content-sha256": EMPTY}
assert v3("POST", "/", [("ImageId", "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"),
                        ("RegionId", "cn-shanghai")], doc_headers, "", "YourAccessKeySecret") == (
    "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259",
    "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0")
assert v2("GET", [("AccessKeyId", "testid"), ("Action", "DescribeDedicatedHosts"),
                  ("Format", "JSON"), ("RegionId", "cn-beijing"),
                  ("SignatureMethod", "HMAC-SHA1"),
                  ("SignatureNonce", "edb2b34af0af9a6d14deaf7c1a5315eb"),
                  ("SignatureVersion", "1.0"), ("Timestamp", "2023-03-13T08:34:30Z"),
                  ("Version", "2014-05-26")], "testsecret") == "9NaGiOspFP5UPcwX8Iwt2YJXXuk="
