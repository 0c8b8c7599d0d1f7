#!/usr/bin/env bash
# bsdtar.sh — ordinary archives: every member custos records has the SHA-256, size, mode,
# mtime and type that bsdtar (another libarchive front end) and sha256sum give for it,
# with no file extracted by custos. Formats: zip (deflate and store), 7z, tar.gz, tar.bz2,
# tar.xz, tar.zst, tar.lz4, tar.lzma, tar.Z (compress), cpio (newc), iso9660, a lone .gz
# and .xz stream, and a zip inside a tar.gz inside a zip (nesting). (rar and rar5 are
# enabled but not tested here: Debian has no free program that writes them.)
source "$(dirname "$0")/../lib.sh"
need bsdtar
need sha256sum
export TZ=UTC # zip and 7z times are local times
setup_vault

S="$T/src"
mkdir -p "$S/docs/deeper" "$S/empty-dir"
printf 'contract text\n' >"$S/docs/contract.txt"
head -c 300000 /dev/urandom >"$S/docs/scan.bin"
python3 -c 'import sys; sys.stdout.write("minutes of the meeting\n" * 40000)' >"$S/docs/deeper/minutes.txt"
: >"$S/docs/empty.txt"
printf 'x' >"$S/one-byte"
ln -s docs/contract.txt "$S/link"
chmod 0600 "$S/docs/scan.bin"
touch -d '2021-03-04 05:06:07 UTC' "$S/docs/contract.txt"

A="$T/archives"
mkdir -p "$A"
(cd "$S" && bsdtar --format zip -cf "$A/deflate.zip" .)
(cd "$S" && bsdtar --format zip --options zip:compression=store -cf "$A/store.zip" .)
(cd "$S" && bsdtar --format 7zip -cf "$A/seven.7z" .)
(cd "$S" && bsdtar -czf "$A/tgz.tar.gz" .)
(cd "$S" && bsdtar -cjf "$A/tbz.tar.bz2" .)
(cd "$S" && bsdtar -cJf "$A/txz.tar.xz" .)
(cd "$S" && bsdtar --zstd -cf "$A/tzst.tar.zst" .)
(cd "$S" && bsdtar --format newc -cf "$A/newc.cpio" .)
(cd "$S" && bsdtar --lz4 -cf "$A/tlz4.tar.lz4" .)
(cd "$S" && bsdtar --lzma -cf "$A/tlzma.tar.lzma" .)
(cd "$S" && bsdtar -Z -cf "$A/tz.tar.Z" .)
(cd "$S" && bsdtar --format iso9660 -cf "$A/image.iso" docs)
gzip -c "$S/docs/deeper/minutes.txt" >"$A/lone.txt.gz"
xz -c "$S/docs/scan.bin" >"$A/lone.bin.xz"
# nesting: zip > tar.gz > zip
mkdir -p "$T/nest/in"
cp "$A/store.zip" "$T/nest/in/inner.zip"
(cd "$T/nest/in" && bsdtar -czf ../middle.tar.gz .)
(cd "$T/nest" && bsdtar --format zip -cf "$A/nested.zip" middle.tar.gz)

expect_exit 0 cx ingest --json "$A"
grep_out '"containers":\{"total":17,"complete":17\}'

# custos' view: every member of every container, as JSON, by container path.
: >"$T/members.jsonl"
for f in "$A"/*; do
	id=$(item_of_path "archives/$(basename "$f")")
	[ -n "$id" ] || fail "no item for $f"
	cx show --json "$id" >"$T/show.json" || fail "show $f"
	python3 - "$T/show.json" "$(basename "$f")" >>"$T/members.jsonl" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
a = o.get("archive")
assert a and a["result"] == "complete", (sys.argv[2], a)
for m in a["members"]:
    print(json.dumps({"archive": sys.argv[2], "path": m["path"], "kind": m["kind"],
                      "sha256": m["sha256"], "size": m["size"], "mode": m["mode"],
                      "mtime": m.get("mtime"), "target": m.get("target"),
                      "outcome": m["member_outcome"], "id": m["id"]}))
PY
done

# bsdtar's view of the same members, member by member; sha256sum of what it extracts
# to stdout. Lone streams: gzip/xz -dc.
python3 - "$T/members.jsonl" "$A" <<'PY' || fail "custos and bsdtar disagree"
import json, sys, subprocess, hashlib, os
members = [json.loads(l) for l in open(sys.argv[1])]
A = sys.argv[2]
by_archive = {}
for m in members:
    by_archive.setdefault(m["archive"], []).append(m)
checked = 0
for name in sorted(os.listdir(A)):
    got = by_archive.get(name, [])
    path = os.path.join(A, name)
    if name.startswith("lone."):
        tool = ["gzip", "-dc", path] if name.endswith(".gz") else ["xz", "-dc", path]
        data = subprocess.run(tool, check=True, capture_output=True).stdout
        assert len(got) == 1 and got[0]["sha256"] == hashlib.sha256(data).hexdigest(), (name, got)
        assert got[0]["size"] == len(data), name
        checked += 1
        continue
    listing = subprocess.run(["bsdtar", "-tvf", path], check=True, capture_output=True,
                             text=True, errors="surrogateescape").stdout.splitlines()
    names = subprocess.run(["bsdtar", "-tf", path], check=True, capture_output=True).stdout.split(b"\n")[:-1]
    assert len(names) == len(got), (name, len(names), len(got), names, [m["path"] for m in got])
    for raw, long, m in zip(names, listing, got):
        assert raw == m["path"].encode("utf-8", "surrogateescape"), (name, raw, m["path"])
        assert m["outcome"] == "ok", m
        kind = {"-": "file", "d": "directory", "l": "symlink", "h": "hardlink"}[long[0]]
        if " link to " in long:
            kind = "hardlink"
        assert kind == m["kind"], (name, long, m)
        assert long[1:10] == "".join(
            c if int(m["mode"], 8) & (1 << (8 - i)) else "-" for i, c in enumerate("rwxrwxrwx")), (long, m)
        if kind == "file":
            data = subprocess.run(["bsdtar", "-xOf", path, raw], check=True, capture_output=True).stdout
            assert m["sha256"] == hashlib.sha256(data).hexdigest(), (name, raw)
            assert m["size"] == len(data), (name, raw)
        if kind == "symlink":
            assert long.endswith(" -> " + m["target"]), (long, m)
        checked += 1
print("checked", checked, "members against bsdtar")
assert checked >= 100, checked
PY
# sha256sum over bsdtar -xO, spelled out once for one member, as a reader would do it
want=$(bsdtar -xOf "$A/seven.7z" ./docs/deeper/minutes.txt | sha256sum | cut -c1-64)
grep -q "\"archive\": \"seven.7z\", \"path\": \"./docs/deeper/minutes.txt\".*\"sha256\": \"$want\"" "$T/members.jsonl" ||
	fail "7z member hash differs from bsdtar -xO | sha256sum"

# A known time: zip and tar record 2021-03-04T05:06:07Z for contract.txt (zip: 2 s steps).
python3 - "$T/members.jsonl" <<'PY' || fail "member mtime"
import json, sys
for l in open(sys.argv[1]):
    m = json.loads(l)
    if m["path"].endswith("docs/contract.txt") and m["archive"] in ("tgz.tar.gz", "deflate.zip", "seven.7z"):
        assert m["mtime"] == 1614834367, m
PY

# Nesting: the innermost zip's members are items whose container is the inner zip.
python3 - "$T/members.jsonl" <<'PY' || fail "nesting"
import json, sys
ms = [json.loads(l) for l in open(sys.argv[1])]
nested = [m for m in ms if m["archive"] == "nested.zip"]
assert [m["path"] for m in nested] == ["middle.tar.gz"], nested
PY
mid=$(cx show --json "$(item_of_path archives/nested.zip)" | python3 -c 'import json,sys; print(json.load(sys.stdin)["archive"]["members"][0]["id"])')
cx show --json "$mid" | python3 -c '
import json, sys
o = json.load(sys.stdin)
a = o["archive"]
assert a["result"] == "complete" and a["format"].startswith("GNU tar") or a["format"].startswith("POSIX"), a["format"]
inner = [m for m in a["members"] if m["path"].endswith("inner.zip")]
assert len(inner) == 1, [m["path"] for m in a["members"]]
' || fail "middle tar.gz"

# verify: a file at hand is found as a member, with the chain of archives it came out of
# (inner.zip inside middle.tar.gz inside nested.zip), innermost first.
expect_exit 0 cx verify --json "$S/docs/contract.txt"
python3 - "$T/out" <<'PY' || fail "verify does not show the archive chain"
import json, sys
o = json.loads(open(sys.argv[1]).read().splitlines()[0])
chains = [[w["path"] for w in r["within"]] for r in o["receipts"] if "within" in r]
assert ["./inner.zip", "middle.tar.gz", "archives/nested.zip"] in chains, chains
assert all(r["member_outcome"] == "ok" for r in o["receipts"] if "within" in r)
PY

# fsck: members and container lines hold together; nothing extracted by custos anywhere.
expect_exit 0 cx fsck --full
echo "bsdtar interop: ok"
