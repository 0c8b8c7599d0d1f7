#!/usr/bin/env python3
"""package-tamper.py — rewrite an exhibit package (a tar holding one bag) the way an
attacker would, for tests/e2e/package.sh. Stdlib only; never uses custos code.

usage: package-tamper.py IN.tar OUT.tar OP [ARGS...] [--rehash]

  flip PATH OFFSET        xor 0x01 into byte OFFSET of member PATH (bag-relative;
                          a negative OFFSET counts from the end)
  b64flip PATH OFFSET     replace the base64 character at OFFSET with another one (the
                          text still decodes: only the bytes it encodes change)
  remove PATH             drop member PATH
  add PATH TEXT           add a regular file PATH holding TEXT (at the end)
  add-before ANCHOR PATH TEXT   the same, placed just before member ANCHOR
  swap PATH1 PATH2        exchange the bytes of two members
  replace PATH FROM       make member PATH hold the bytes of the file FROM

With --rehash, the payload manifests and the tag manifest are recomputed afterwards, as a
careful forger would: only the signatures and proofs can then give the forgery away.
"""
import hashlib
import io
import sys
import tarfile


def read_members(path):
    with tarfile.open(path, "r:") as tf:
        out = []
        for m in tf.getmembers():
            data = tf.extractfile(m).read() if m.isfile() else None
            out.append((m, data))
    return out


def base_of(members):
    return members[0][0].name.split("/")[0]


def find(members, base, rel):
    for i, (m, _) in enumerate(members):
        if m.name == base + "/" + rel:
            return i
    sys.exit("no member " + rel)


def manifest(members, base, prefix_ok, alg, skip=()):
    lines = []
    for m, data in members:
        if data is None:
            continue
        rel = m.name[len(base) + 1:]
        if not prefix_ok(rel) or rel in skip:
            continue
        lines.append("%s  %s\n" % (hashlib.new(alg, data).hexdigest(), rel))
    return "".join(lines).encode()


def set_data(members, i, data):
    m, _ = members[i]
    m.size = len(data)
    members[i] = (m, data)


def rehash(members, base):
    payload = lambda rel: rel.startswith("data/")
    for alg in ("sha256", "sha512"):
        name = "manifest-%s.txt" % alg
        set_data(members, find(members, base, name), manifest(members, base, payload, alg))
    seal = ("tagmanifest-sha256.txt", "custos/package.minisig")
    tag = lambda rel: not rel.startswith("data/")
    i = find(members, base, "tagmanifest-sha256.txt")
    set_data(members, i, manifest(members, base, tag, "sha256", skip=seal))


def main(argv):
    args = [a for a in argv[1:] if a != "--rehash"]
    src, dst, op, rest = args[0], args[1], args[2], args[3:]
    members = read_members(src)
    base = base_of(members)
    if op == "flip":
        i = find(members, base, rest[0])
        data = bytearray(members[i][1])
        data[int(rest[1])] ^= 0x01
        set_data(members, i, bytes(data))
    elif op == "b64flip":
        i = find(members, base, rest[0])
        data = bytearray(members[i][1])
        at = int(rest[1])
        alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        assert data[at] in alphabet, "not a base64 character at that offset"
        data[at] = ord("A") if data[at] != ord("A") else ord("B")
        set_data(members, i, bytes(data))
    elif op == "remove":
        del members[find(members, base, rest[0])]
    elif op in ("add", "add-before"):
        at = find(members, base, rest.pop(0)) if op == "add-before" else len(members)
        m = tarfile.TarInfo(base + "/" + rest[0])
        data = rest[1].encode()
        m.size = len(data)
        members.insert(at, (m, data))
    elif op == "swap":
        i, j = find(members, base, rest[0]), find(members, base, rest[1])
        di, dj = members[i][1], members[j][1]
        set_data(members, i, dj)
        set_data(members, j, di)
    elif op == "replace":
        with open(rest[1], "rb") as f:
            set_data(members, find(members, base, rest[0]), f.read())
    else:
        sys.exit("unknown op " + op)
    if "--rehash" in argv:
        rehash(members, base)
    with tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as tf:
        for m, data in members:
            tf.addfile(m, io.BytesIO(data) if data is not None else None)


if __name__ == "__main__":
    main(sys.argv)
