#!/usr/bin/env python3
"""dkim-compare.py — compare custos's DKIM verdicts with python3-dkim's (dkimpy's).

Usage: dkim-compare.py CUSTOS.json REFERENCE.jsonl [--map MBOX-CASES]

CUSTOS.json: the JSON array `custos dkim-verify --json` prints ({"file", "signature"}).
REFERENCE.jsonl: dkimpy's verdicts, one JSON object a line, keyed by "case" (the corpus's
expected.jsonl) or "file" (tests/interop/dkim-reference.py). Messages are matched by name:
the file's base name without ".eml" (for an mbox, "message-K" is mapped to the K-th line of
--map, a list of case names, one a line).

Every (message, signature index) must be in both, with the same verdict, except for the
differences custos documents (vault/dkim.h, FS §13.3), each checked for what it must be:
  expired       dkimpy fails an x= in the past; custos passes it and reports expired
  weak-rsa-512  dkimpy refuses RSA keys under 1024 bits; custos verifies and names it weak
Prints one line per difference found and "N signatures agree"; exits 1 on any mismatch.
"""
import json
import os
import sys

DOCUMENTED = {
    "expired": lambda s: s["verdict"] == "pass" and s["expired"] is True,
    "weak-rsa-512": lambda s: s["verdict"] == "pass" and "rsa-512-bit" in s["weak"],
}


def name_of(path, mbox_cases):
    base = os.path.basename(path.split("!/")[-1])
    base = base[:-4] if base.endswith(".eml") else base
    if mbox_cases is not None and base.startswith("message-"):
        return mbox_cases[int(base[8:]) - 1]
    return base


def main():
    args = sys.argv[1:]
    mbox_cases = None
    if "--map" in args:
        i = args.index("--map")
        mbox_cases = [l.split()[0] for l in open(args[i + 1]) if l.strip()]
        del args[i:i + 2]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    ours = {}
    for o in json.load(open(args[0])):
        ours[(name_of(o["file"], mbox_cases), o["signature"]["index"])] = o["signature"]
    ref = {}
    for line in open(args[1]):
        o = json.loads(line)
        key = o.get("case") or name_of(o["file"], mbox_cases)
        ref[(key, o["index"])] = o["verdict"]
    bad = 0
    for k in sorted(set(ours) | set(ref)):
        if k not in ours or k not in ref:
            print(f"MISSING {k}: custos {'has' if k in ours else 'lacks'} it, dkimpy "
                  f"{'has' if k in ref else 'lacks'} it")
            bad += 1
            continue
        s, want = ours[k], ref[k]
        if k[0] in DOCUMENTED:
            if want != "fail" or not DOCUMENTED[k[0]](s):
                print(f"DOCUMENTED DIFFERENCE BROKEN {k}: dkimpy {want}, custos {s}")
                bad += 1
            else:
                print(f"documented difference {k[0]}: dkimpy fail, custos pass "
                      f"(expired={s['expired']}, weak={s['weak']!r})")
            continue
        if s["verdict"] != want:
            print(f"MISMATCH {k}: dkimpy {want}, custos {s['verdict']} ({s['reason']})")
            bad += 1
    print(f"{len(ref) - bad} of {len(ref)} signatures agree (the documented differences as documented)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
