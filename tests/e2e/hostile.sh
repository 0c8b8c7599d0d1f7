#!/usr/bin/env bash
# hostile.sh — the hostile archive corpus (testdata/make-hostile-corpus.py): every file
# ingested on its own, with the outcomes each must have, every bomb refused within 10 s
# and 256 MiB (the reader children included), and no file created outside the vault.
source "$(dirname "$0")/../lib.sh"
need 7z # the corpus script makes its ordinary 7z with it
[ -x /usr/bin/time ] || skip "GNU time (/usr/bin/time) is not installed"
export TZ=UTC
setup_vault

H="$T/corpus"
python3 "$CUSTOS_SRC/testdata/make-hostile-corpus.py" "$H" >/dev/null

# An empty working directory and a marker: afterwards nothing but the vault may be newer.
W="$T/work/a/b"
mkdir -p "$W"
for p in /tmp/pwned.txt /etc/passwd-evil "$T/work/evil.txt" "$T/work/a/evil.txt" "$T/work/b.txt"; do
	[ ! -e "$p" ] || skip "$p exists before the test"
done
touch "$T/marker"
sleep 1.1 # mtimes with one-second resolution must not tie with the marker

# ingest_one FILE [OPTIONS...]: ingest from the empty directory, timed; the JSON lines
# go to $T/$FILE.json, wall seconds and peak RSS (KiB, children included) to $T/$FILE.time
ingest_one() {
	local f=$1 tag=${TAG:-$1}
	shift
	(cd "$W" && /usr/bin/time -f '%e %M' -o "$T/$tag.time" \
		"$CUSTOS" --key "$KEY" --vault "$VAULT" ingest --json "$@" "$H/$f" >"$T/$tag.json" 2>"$T/$tag.err") || true
	grep -q '"summary"' "$T/$tag.json" || {
		cat "$T/$tag.err" >&2
		fail "ingest of $f did not finish"
	}
}

for f in zip-slip.zip symlink-through.tar zbsm.zip zbsm-full-overlap.zip 42-nested.zip \
	self-containing.zip depth-20.zip lying-sizes.zip lying-sizes.tar truncated.zip truncated.7z \
	ordinary.7z empty-100k.tar.gz encrypted.zip encrypted-aes.zip encrypted.7z \
	encrypted-headers.7z names.zip devices.tar; do
	ingest_one "$f"
done
TAG=depth-20-max20 ingest_one depth-20.zip --max-depth 20
TAG=depth-20-max19 ingest_one depth-20.zip --max-depth 19
TAG=empty-max1000 ingest_one empty-100k.tar.gz --max-members 1000
for f in encrypted.zip encrypted-aes.zip encrypted.7z; do
	TAG=$f-right ingest_one "$f" --archive-passphrase-file "$H/password.txt"
	TAG=$f-wrong ingest_one "$f" --archive-passphrase-file "$H/wrong-password.txt"
done
TAG=zbsm-opaque ingest_one zbsm.zip --opaque

# The bounds (10 s, 256 MiB) are for the plain build; a sanitizer build (several times
# slower, with shadow memory) is held to the same outcomes with bounds scaled by 10 and 4.
SCALE="1 1"
if ldd "$CUSTOS" 2>/dev/null | grep -q libasan; then
	SCALE="10 4"
	note "sanitizer build: time and memory bounds scaled by $SCALE"
fi

# Outcomes, read back from the vault (show --json), not from the ingest's own output.
python3 - "$CUSTOS" "$KEY" "$VAULT" "$T" "$H" $SCALE <<'PY' || fail "hostile corpus outcomes"
import hashlib, json, os, subprocess, sys
custos, key, vault, T, H = sys.argv[1:6]
time_scale, mem_scale = int(sys.argv[6]), int(sys.argv[7])

def show(item):
    out = subprocess.run([custos, "--key", key, "--vault", vault, "show", "--json", item],
                         check=False, capture_output=True).stdout
    return json.loads(out)

def top(tag, name):
    lines = [json.loads(l) for l in open(os.path.join(T, tag + ".json"))]
    items = [o for o in lines if o.get("path") == name]
    assert len(items) == 1, (tag, name)
    return show(items[0]["id"]), lines[-1]["summary"]

def raw(s):
    return s.encode("utf-8", "surrogateescape")

def members(o):
    return o["archive"]["members"]

failures = []
def check(cond, what):
    if not cond:
        failures.append(what)

def limits(tag, secs=10.0, kib=256 * 1024):
    secs, kib = secs * time_scale, kib * mem_scale
    wall, rss = open(os.path.join(T, tag + ".time")).read().splitlines()[-1].split()
    check(float(wall) < secs, f"{tag}: {wall} s, limit {secs}")
    check(int(rss) < kib, f"{tag}: {rss} KiB peak, limit {kib}")
    print(f"  {tag}: {wall} s, peak RSS {int(rss) // 1024} MiB")

# zip slip: names kept as bytes, all five members ok
o, _ = top("zip-slip.zip", "zip-slip.zip")
check(o["archive"]["result"] == "complete", "zip-slip result")
want = [b"../../evil.txt", b"/etc/passwd-evil", b"..\\..\\win.txt", b"a/../../b.txt",
        b"ctrl\x01\x1b[31mname.txt"]
check([raw(m["path"]) for m in members(o)] == want, f"zip-slip names {[m['path'] for m in members(o)]}")
check(all(m["member_outcome"] == "ok" for m in members(o)), "zip-slip outcomes")
check([m["size"] for m in members(o)] == [52, 27, 57, 49, 56], "zip-slip sizes")

# symlink followed by a file "through" it: links recorded as links, targets as data
o, _ = top("symlink-through.tar", "symlink-through.tar")
got = [(m["path"], m["kind"], m.get("target"), m["size"]) for m in members(o)]
check(got == [("link", "symlink", "/tmp", 4), ("link/pwned.txt", "file", None, 17),
              ("hardlink", "hardlink", "link/pwned.txt", 14)], f"symlink-through {got}")

# bombs: refused by the ratio, quickly, little stored
for tag in ("zbsm.zip", "zbsm-full-overlap.zip"):
    o, s = top(tag, tag)
    a = o["archive"]
    check(a["result"] == "limit:ratio", f"{tag} result {a['result']}")
    check(any(m["member_outcome"] == "limit:ratio" for m in members(o)), f"{tag} member outcome")
    check(s["bytes"] < 256 << 20, f"{tag}: {s['bytes']} bytes taken in")
    limits(tag)
o, s = top("42-nested.zip", "42-nested.zip")
check(s["containers"].get("limit:ratio", 0) >= 1, f"42-nested containers {s['containers']}")
check(set(s["containers"]) <= {"total", "complete", "limit:ratio"}, f"42-nested {s['containers']}")
check(s["bytes"] < 1 << 30, f"42-nested: {s['bytes']} bytes taken in")
limits("42-nested.zip")

# a zip that contains itself: the member is the file; opening it again is refused
o, s = top("self-containing.zip", "self-containing.zip")
whole = hashlib.sha256(open(os.path.join(H, "self-containing.zip"), "rb").read()).hexdigest()
m = members(o)
check(len(m) == 1 and m[0]["sha256"] == whole and m[0]["path"] == "self.zip", "quine member")
inner = show(m[0]["id"])
check(inner["archive"]["result"] == "cycle" and inner["archive"]["members"] == [], "quine not reopened")
limits("self-containing.zip")

# depth: 8 by default (the input is depth 1), 20 and 19 on request
def chain(tag):
    o, _ = top(tag, "depth-20.zip")
    results = []
    while True:
        results.append(o["archive"]["result"])
        ms = members(o)
        if not ms or not ms[0]["path"].endswith(".zip"):
            return results, ms
        o = show(ms[0]["id"])
r, last = chain("depth-20.zip")
check(r == ["complete"] * 8 + ["limit:depth"], f"depth default {r}")
r, last = chain("depth-20-max20")
check(r == ["complete"] * 20 and [m["path"] for m in last] == ["d0.txt"] and last[0]["size"] == 7,
      f"depth 20 {r}")
r, last = chain("depth-20-max19")
check(r == ["complete"] * 19 + ["limit:depth"], f"depth 19 {r}")

# sizes and checksums that lie: bytes counted as decoded, each disagreement named
o, _ = top("lying-sizes.zip", "lying-sizes.zip")
got = [(m["path"], m["member_outcome"], m["size"]) for m in members(o)]
check(got == [("claims-10-bytes.bin", "mismatch", 1048576), ("wrong-crc.txt", "mismatch", 36),
              ("claims-1GiB.bin", "mismatch", 5), ("honest.txt", "ok", 33)], f"lying zip {got}")
o, _ = top("lying-sizes.tar", "lying-sizes.tar")
got = [(m["path"], m["member_outcome"], m["size"]) for m in members(o)]
check(o["archive"]["result"] == "corrupt" and got[0] == ("first.txt", "ok", 23) and
      got[1][:2] == ("truncated.bin", "corrupt") and got[1][2] <= 1000 and len(got) == 2,
      f"lying tar {o['archive']['result']} {got}")

# truncated: what was read stays, the break is named
o, _ = top("truncated.zip", "truncated.zip")
got = [(m["path"], m["member_outcome"]) for m in members(o)]
check(o["archive"]["result"] == "corrupt" and
      got == [("m1-text.txt", "ok"), ("m2-binary.bin", "ok"), ("m3-text.txt", "corrupt")],
      f"truncated zip {got}")
o, _ = top("truncated.7z", "truncated.7z")
check(o["archive"]["result"] == "corrupt" and members(o) == [], "truncated 7z")
o, _ = top("ordinary.7z", "ordinary.7z")
check([(m["path"], m["member_outcome"], m["size"]) for m in members(o)] ==
      [("m1-text.txt", "ok", 2000), ("m2-binary.bin", "ok", 2048), ("m3-text.txt", "ok", 2000),
       ("m4-binary.bin", "ok", 2048), ("m5-text.txt", "ok", 2000)], "ordinary 7z")

# 100,000 empty members: all of them, in time; and the member limit
o, s = top("empty-100k.tar.gz", "empty-100k.tar.gz")
m = members(o)
check(o["archive"]["result"] == "complete" and len(m) == 100000, f"100k: {len(m)}")
check(all(x["size"] == 0 and x["member_outcome"] == "ok" and x["kind"] == "file" for x in m), "100k sizes")
check(m[0]["path"] == "e/000000" and m[-1]["path"] == "e/099999", "100k names")
limits("empty-100k.tar.gz", secs=120.0)  # not a bomb: memory bounded, time only sanity-checked
o, _ = top("empty-max1000", "empty-100k.tar.gz")
check(o["archive"]["result"] == "limit:members" and len(members(o)) == 1000, "member limit")

# encryption: locked without the password, open with it, locked with a wrong one
for f, sizes in (("encrypted.zip", [684, 46]), ("encrypted-aes.zip", [684, 46])):
    for tag, want in ((f, "encrypted"), (f + "-wrong", "encrypted"), (f + "-right", "ok")):
        o, _ = top(tag, f)
        got = [(m["path"], m["member_outcome"]) for m in members(o)]
        check(got == [("secret-1.txt", want), ("secret-2.txt", want)], f"{tag} {got}")
        if want == "ok":
            check([m["size"] for m in members(o)] == sizes, f"{tag} sizes")
# libarchive 3.6 cannot decrypt 7z: encrypted with or without the password (documented)
for tag in ("encrypted.7z", "encrypted.7z-right", "encrypted.7z-wrong"):
    o, _ = top(tag, "encrypted.7z")
    check([m["member_outcome"] for m in members(o)] == ["encrypted", "encrypted"], f"{tag}")
o, _ = top("encrypted-headers.7z", "encrypted-headers.7z")
check(o["archive"]["result"] == "encrypted" and members(o) == [], "7z with encrypted headers")

# names: invalid UTF-8, Latin-1, duplicates and NFC/NFD twins, each kept apart as bytes
o, _ = top("names.zip", "names.zip")
got = [raw(m["path"]) for m in members(o)]
check(got == [b"bad\xff\xfe.txt", b"latin1-\xdcbersicht.txt", b"dup.txt", b"dup.txt",
              b"caf\xc3\xa9.txt", b"cafe\xcc\x81.txt"], f"names {got}")
check(len({m["id"] for m in members(o)}) == 6 and members(o)[2]["sha256"] != members(o)[3]["sha256"],
      "names: six distinct items")

# devices and fifos: recorded by kind, never opened
o, _ = top("devices.tar", "devices.tar")
got = [(m["path"], m["kind"]) for m in members(o)]
check(got == [("dev/", "directory"), ("dev/block-8-0", "blockdev"), ("dev/char-1-3", "chardev"),
              ("dev/fifo", "fifo"), ("dev/regular.txt", "file")], f"devices {got}")

# --opaque: the bomb stored whole, not opened
o, _ = top("zbsm-opaque", "zbsm.zip")
check("archive" not in o, "opaque")

for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
PY

# Nothing outside the vault: no new or changed file under $T but the vault and this test's
# own outputs, and none of the names the archives aim at.
find "$T" -newer "$T/marker" ! -path "$VAULT" ! -path "$VAULT/*" ! -path "$T" \
	! -name '*.json' ! -name '*.time' ! -name '*.err' ! -path "$T/work" ! -path "$T/work/a" \
	! -path "$T/work/a/b" ! -name new-files >"$T/new-files" || true
[ ! -s "$T/new-files" ] || {
	cat "$T/new-files" >&2
	fail "files created outside the vault"
}
[ -z "$(ls -A "$W")" ] || fail "the working directory is not empty"
for p in /tmp/pwned.txt /etc/passwd-evil "$T/work/evil.txt" "$T/work/a/evil.txt" "$T/work/b.txt"; do
	[ ! -e "$p" ] || fail "$p was created"
done

# And seen from the kernel's side: every system call that creates, writes or renames a
# name during an ingest of the path-escaping archives names a path inside the vault.
if command -v strace >/dev/null 2>&1; then
	allow_ptrace_under_asan
	(cd "$W" && strace -f -qq -o "$T/strace.log" \
		-e trace=creat,open,openat,mkdir,mkdirat,link,linkat,symlink,symlinkat,rename,renameat,renameat2,unlink,unlinkat \
		"$CUSTOS" --key "$KEY" --vault "$VAULT" ingest -q "$H/zip-slip.zip" "$H/symlink-through.tar" \
		"$H/names.zip" >/dev/null 2>&1)
	grep -E '^[0-9]+ +(creat|mkdirat?|linkat?|symlinkat?|renameat2?|rename|unlinkat?)\(|O_CREAT|O_WRONLY|O_RDWR' \
		"$T/strace.log" | grep -v "\"$VAULT/" >"$T/outside" || true
	[ ! -s "$T/outside" ] || {
		cat "$T/outside" >&2
		fail "a name outside the vault was created or written"
	}
	[ "$(grep -c -E 'O_CREAT|mkdirat?\(' "$T/strace.log")" -gt 0 ] || fail "strace saw no writes at all"
fi
expect_exit 0 cx fsck --full
echo "hostile corpus: ok"
