#!/usr/bin/python3
"""make-arc-corpus.py OUTDIR — messages carrying ARC chains (RFC 8617), sealed here by
python3-dkim's arc_sign with test keys made here, and python3-dkim's arc_verify verdict on
each, for tests/e2e/dkim.sh to compare custos with.

Writes OUTDIR/keys.zone (dig answer format), OUTDIR/msgs/<case>.eml and
OUTDIR/expected.jsonl: {"case", "cv": "pass"|"fail"|"none"|"ended", "instances": N}
("ended": arc_verify returned None, its word for a chain a seal said cv=fail of).

Cases: one hop; two hops; a body changed after the only seal; an ARC field of the newest
and of the older set changed after sealing; a set with a field missing; no ARC. (A seal
with cv=fail is not made: arc_sign adds no set to a failing chain.)
Run with /usr/bin/python3 (Debian's python3-dkim, python3-authres, python3-nacl).
"""
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

import dkim

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "dkim_reference", os.path.join(HERE, "..", "tests", "interop", "dkim-reference.py"))
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)

T0 = 1704067200  # 2024-01-01, the seals' time


def rsa_key(tmp, name):
    """A 2048-bit RSA key: (private PEM bytes, the p= value)."""
    pem = os.path.join(tmp, name + ".pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                    "-out", pem], check=True, capture_output=True)
    der = subprocess.run(["openssl", "pkey", "-in", pem, "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    import base64
    return open(pem, "rb").read(), base64.b64encode(der).decode()


def txt_record(name, value):
    chunks = [value[i:i + 255] for i in range(0, len(value), 255)]
    return "%s. 3600 IN TXT %s" % (name, " ".join('"%s"' % c for c in chunks))


BASE = (b"From: Alice <alice@example.org>\r\n"
        b"To: list@lists.example.net\r\n"
        b"Subject: quarterly figures\r\n"
        b"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
        b"Message-ID: <arc-1@example.org>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"\r\n"
        b"The figures are attached in the usual place.\r\n"
        b"Alice\r\n")


def hop(msg, key, domain, srv_id, result="dkim=pass header.d=example.org"):
    """A relay: its Authentication-Results, then its ARC set on top."""
    msg = b"Authentication-Results: " + srv_id + b"; " + result.encode() + b"\r\n" + msg
    sig = dkim.arc_sign(msg, b"arc", domain, key, srv_id, timestamp=T0)
    return b"".join(sig) + msg


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(os.path.join(out, "msgs"))
    with tempfile.TemporaryDirectory() as tmp:
        k1, p1 = rsa_key(tmp, "one")
        k2, p2 = rsa_key(tmp, "two")
    zone = ["; ARC test keys made by testdata/make-arc-corpus.py (not real domains)",
            txt_record("arc._domainkey.relay.example.com", "v=DKIM1; k=rsa; p=" + p1),
            txt_record("arc._domainkey.lists.example.net", "v=DKIM1; k=rsa; p=" + p2)]
    open(os.path.join(out, "keys.zone"), "w").write("\n".join(zone) + "\n")
    one = hop(BASE, k1, b"relay.example.com", b"relay.example.com")
    two = hop(one, k2, b"lists.example.net", b"lists.example.net",
              "arc=pass smtp.remote-ip=192.0.2.1")
    cases = {
        "arc-one-hop": one,
        "arc-two-hops": two,
        "arc-body-changed": one.replace(b"usual place", b"other place"),
        "arc-field-changed": two.replace(b"arc=pass smtp.remote-ip", b"arc=fail smtp.remote-ip", 1),
        "arc-missing-field": b"".join(l + b"\r\n" for l in two.split(b"\r\n")[:-1]
                                      if not l.startswith(b"ARC-Authentication-Results: i=1")),
        "arc-no-arc": BASE,
    }
    # the newest set holds, the one below it was changed after its seal: every seal covers
    # the sets below it, so the chain fails at the seals
    cases["arc-older-set-changed"] = two.replace(b"relay.example.com; dkim=pass",
                                                 b"relay.example.com; dkim=none", 1)
    zonemap = ref.parse_zone(open(os.path.join(out, "keys.zone")).read())
    dnsfunc = ref.zone_dnsfunc(zonemap)
    with open(os.path.join(out, "expected.jsonl"), "w") as exp:
        for name in sorted(cases):
            msg = cases[name]
            open(os.path.join(out, "msgs", name + ".eml"), "wb").write(msg)
            cv, results, reason = dkim.arc_verify(msg, dnsfunc=dnsfunc)
            word = {b"pass": "pass", b"fail": "fail", b"none": "none", None: "ended"}[cv]
            exp.write(json.dumps({"case": name, "cv": word, "instances": len(results),
                                  "reason": reason}) + "\n")


if __name__ == "__main__":
    main()
