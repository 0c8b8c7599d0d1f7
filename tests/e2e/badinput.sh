# badinput.sh — `custos ingest` on hostile or awkward inputs: every input ends with the exact
# outcome (stored / duplicate / refused + reason), a refusal leaves nothing half-written behind,
# and odd names, empty, huge-sparse and special files are handled.
#
# Each case runs in its own subshell with its own fresh vault (one shared custodian key) and
# scratch directory, so a failing case is reported and the others still run; the test fails if
# any case fails. Case 7 runs in the background alongside the others (see "run"). A case
# that cannot run here (no strace, no mknod, ...) is skipped with a note. After every ingest the
# case checks the vault (check_vault): `fsck --full` exits 0 with 0 problems and the expected
# item/object counts, `tmp/` is empty (no leftover temp object or pack), `ls --json` and the
# human `ls` list exactly the expected number of items.
#
# Cases:
#   1  unreadable file and directory        -> refused unreadable
#   2  file vanishing during the walk        -> refused vanished (injected and a real rm)
#   3  file changing while it is read        -> refused changed (growing big file, same-size
#                                                rewrite, rewrite with mtime put back, shrink)
#   4  names with newline, bad UTF-8, tab, ESC, leading dash, backslashes, spaces -> stored,
#      names round-trip byte for byte in JSON, human output escapes them
#   4b `custos verify` human output escapes the file name too
#   5  empty files                           -> stored size 0, then duplicate
#   6  10,000 files in one directory         -> all stored (timed)
#   7  sparse file over 4 GiB                -> stored, right SHA-256, stays sparse in the store
#   8  fifo, unix socket, device nodes       -> refused fifo/socket/device, no hang
#   9  missing input, symlink loop, symlink out of the tree -> not-found; links recorded, not
#      followed
#   9b an input path through a regular file or a symlink loop -> not-found
#   10 the same file twice on the command line -> stored + duplicate, two items
#
# Knobs: CUSTOS_BADINPUT_CASES="1 3 9b" runs only these cases.
source "$(dirname "$0")/../lib.sh"
allow_ptrace_under_asan
need python3
need sha256sum
need timeout
# The interpreter itself, not a wrapper (a pyenv shim costs over a second per call); the
# helpers only use the standard library, so they run with -S (no site import: 4x faster start).
PY=$(python3 -c 'import sys; print(sys.executable)')

ONLY=${CUSTOS_BADINPUT_CASES:-}
HAVE_STRACE=0
strace -f -qq -o /dev/null true 2>/dev/null && HAVE_STRACE=1
IS_ROOT=0
[ "$(id -u)" = 0 ] && IS_ROOT=1

KEY="$T/custodian.key"
"$CUSTOS" --key "$KEY" key new --no-passphrase >/dev/null 2>&1
EMPTY_SHA=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

# ------------------------------------------------------------------ helpers

# A JSON helper for the checks that need exact bytes (paths are passed as argv bytes and
# compared with os.fsencode of the JSON values, which is how surrogate escapes round-trip).
CHK="$T/chk.py"
cat >"$CHK" <<'PY'
import json, os, sys

def die(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)

def lines(path):
    out = []
    raw = open(path, "rb").read()
    try:
        text = raw.decode("utf-8")  # strict: JSON output must be valid UTF-8
    except UnicodeDecodeError as e:
        die("%s is not valid UTF-8: %s" % (path, e))
    for l in text.splitlines():
        if l.strip():
            try:
                out.append(json.loads(l))
            except ValueError as e:
                die("%s: not a JSON line: %r (%s)" % (path, l, e))
    return out

def b(s):
    return os.fsencode(s)

cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "outcome":
    # outcome OUT PATH: the single outcome line for PATH -> "stored ID SHA SIZE" / "refused REASON"
    want = b(args[1])
    hits = [o for o in lines(args[0]) if "summary" not in o and b(o["path"]) == want]
    if len(hits) != 1:
        die("expected exactly one outcome for %r, found %d" % (want, len(hits)))
    o = hits[0]
    if o["outcome"] == "refused":
        print("refused", o["reason"])
    else:
        print(o["outcome"], o["id"], o["sha256"], o["size"])
elif cmd == "outcomes":
    # outcomes OUT PATH: every outcome for PATH, in order, one per line
    want = b(args[1])
    for o in lines(args[0]):
        if "summary" not in o and b(o["path"]) == want:
            print(o["outcome"], o.get("id", o.get("reason")), o.get("sha256", "-"), o.get("size", "-"))
elif cmd == "summary":
    s = [o["summary"] for o in lines(args[0]) if "summary" in o]
    if len(s) != 1:
        die("expected one summary line in %s, found %d" % (args[0], len(s)))
    n = len([o for o in lines(args[0]) if "summary" not in o])
    print(s[0]["stored"], s[0]["duplicate"], s[0]["refused"], n)
elif cmd == "ls-count":
    print(len(lines(args[0])))
elif cmd == "ls-items":
    # ls-items LS PATH: every item for PATH -> "ID SHA SIZE KIND OUTCOME"
    want = b(args[1])
    for o in lines(args[0]):
        if b(o["path"]) == want:
            print(o["id"], o["sha256"], o["size"], o["kind"], o["outcome"])
elif cmd == "ls-has-sha":
    print(sum(1 for o in lines(args[0]) if o["sha256"] == args[1]))
elif cmd == "fsck-summary":
    s = [o["summary"] for o in lines(args[0]) if "summary" in o]
    if len(s) != 1:
        die("fsck --json printed %d summary lines" % len(s))
    s = s[0]
    print(s["events"], s["items"], s["objects"], s["problems"], "ok" if s["ok"] else "NOT-OK")
elif cmd == "last-event":
    e = lines(args[0])[-1]
    print(e["action"], e["stored"], e["duplicate"], e["refused"])
else:
    die("unknown command " + cmd)
PY
chk() { "$PY" -S "$CHK" "$@"; }

# new_vault NAME: a fresh vault $T/NAME/vault owned by the shared key; cx() uses it.
new_vault() {
	CASE_DIR="$T/$1"
	VAULT="$CASE_DIR/vault"
	mkdir -p "$CASE_DIR"
	"$CUSTOS" --key "$KEY" init "$VAULT" --name "badinput $1" >/dev/null 2>&1 ||
		fail "cannot create vault $VAULT"
}

# ingest_json OUT ARGS...: cx ingest --json ARGS; stdout to OUT (stderr to OUT.err); sets RC.
ingest_json() {
	local out=$1
	shift
	set +e
	cx ingest --json "$@" >"$out" 2>"$out.err"
	RC=$?
	set -e
}

# expect_rc WANT OUT: the last ingest exited WANT.
expect_rc() {
	[ "$RC" = "$1" ] || {
		cat "$2" "$2.err" >&2
		fail "ingest exited $RC, expected $1"
	}
}

# expect_outcome OUT PATH OUTCOME [REASON]: the one JSON outcome line for PATH (the item path
# as custos labels it, e.g. "in/a.txt") is exactly OUTCOME (and REASON for a refusal).
# Sets O_ID O_SHA O_SIZE for stored/duplicate.
expect_outcome() {
	local out=$1 path=$2 want=$3 reason=${4:-} got
	got=$(chk outcome "$out" "$path") || {
		cat "$out" "$out.err" >&2
		fail "no single outcome line for path $(printf %q "$path")"
	}
	set -- $got
	if [ "$want" = refused ]; then
		[ "$1 $2" = "refused $reason" ] ||
			fail "$(printf %q "$path"): expected 'refused $reason', got '$got'"
	else
		[ "$1" = "$want" ] || fail "$(printf %q "$path"): expected '$want', got '$got'"
		O_ID=$2 O_SHA=$3 O_SIZE=$4
	fi
}

# expect_summary OUT STORED DUP REFUSED: the summary line and the number of outcome lines.
expect_summary() {
	local got
	got=$(chk summary "$1")
	[ "$got" = "$2 $3 $4 $(($2 + $3 + $4))" ] ||
		fail "summary (stored dup refused lines) is '$got', expected '$2 $3 $4 $(($2 + $3 + $4))'"
	got=$(cx log --json 2>/dev/null >"$T/log.json" && chk last-event "$T/log.json")
	[ "$got" = "ingest $2 $3 $4" ] || fail "the last custody event says '$got', expected 'ingest $2 $3 $4'"
}

# check_vault ITEMS OBJECTS: fsck --full is clean and counts ITEMS items and OBJECTS objects,
# tmp/ is empty, ls --json and the human ls list exactly ITEMS items (one line each).
check_vault() {
	local items=$1 objects=$2 got
	expect_exit 0 cx fsck --full --json
	cp "$T/out" "$T/fsck.json"
	got=$(chk fsck-summary "$T/fsck.json")
	set -- $got
	[ "$4 $5" = "0 ok" ] || {
		cat "$T/fsck.json" >&2
		fail "fsck --full: $got"
	}
	[ "$2" = "$items" ] || fail "fsck counts $2 items, expected $items"
	[ "$3" = "$objects" ] || fail "fsck counts $3 objects, expected $objects"
	if [ -n "$(ls -A "$VAULT/tmp")" ]; then
		ls -la "$VAULT/tmp" >&2
		fail "tmp/ is not empty after the ingest"
	fi
	cx ls --json >"$T/ls.json"
	got=$(chk ls-count "$T/ls.json")
	[ "$got" = "$items" ] || fail "ls --json lists $got items, expected $items"
	got=$(cx ls | wc -l)
	[ "$got" = "$items" ] || fail "human ls prints $got lines, expected $items"
}

# no_item PATH: no item in the vault has this path (a refused input leaves no record).
# no_item and not_in_vault read the listing check_vault saved: call them after it.
no_item() {
	[ -z "$(chk ls-items "$T/ls.json" "$1")" ] || fail "an item exists for refused path $(printf %q "$1")"
}

# loose_objects: the loose objects in the store (not packs), one path per line.
loose_objects() {
	find "$VAULT/objects" -path "$VAULT/objects/packs" -prune -o -type f -print
}

# not_in_vault FILE: these exact bytes are not in the vault: `custos verify` says NOT IN VAULT,
# no item has that SHA-256 and there is no loose object of that name.
not_in_vault() {
	local sha
	expect_exit 1 cx verify "$1"
	grep_out "NOT IN VAULT"
	sha=$(sha256sum <"$1" | cut -d' ' -f1)
	[ "$(chk ls-has-sha "$T/ls.json" "$sha")" = 0 ] || fail "an item holds the bytes of $1 ($sha)"
	[ ! -e "$VAULT/objects/${sha:0:2}/$sha" ] || fail "the store holds a loose object for $1 ($sha)"
}

# wait_for FILE PATTERN: wait (up to 20 s) until FILE has a line matching PATTERN.
wait_for() {
	local i
	for ((i = 0; i < 400; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	fail "timed out waiting for /$2/ in $1"
}

# elapsed T0 T1: seconds between two `date +%s.%N` stamps, one decimal.
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

need_strace() {
	[ "$HAVE_STRACE" = 1 ] || skip "strace cannot trace here"
}

# ------------------------------------------------------------------ 1: unreadable
# Proves: a file (and a directory) the ingest cannot open is refused "unreadable", the
# readable sibling is still stored, and nothing of the unreadable ones is recorded.
# As root, mode 000 does not stop reads, so custos runs as nobody (setpriv) on a vault and
# key owned by nobody; without setpriv the EACCES is injected with strace.
case_1() {
	new_vault c1
	local in="$CASE_DIR/in" how
	mkdir "$in" "$in/locked"
	echo "readable evidence" >"$in/ok.txt"
	echo "secret evidence" >"$in/secret.txt"
	echo "inside a locked directory" >"$in/locked/inner.txt"
	cp "$in/secret.txt" "$CASE_DIR/secret.copy"
	chmod 000 "$in/secret.txt" "$in/locked"
	local out="$CASE_DIR/out.json"
	if [ "$IS_ROOT" = 0 ]; then
		how="chmod 000 as uid $(id -u)"
		ingest_json "$out" "$in"
	elif command -v setpriv >/dev/null && id nobody >/dev/null 2>&1 &&
		chmod 711 "$TOP" "$T" "$CASE_DIR" && chown -R nobody "$VAULT" && cp "$KEY" "$CASE_DIR/key" &&
		chown nobody "$CASE_DIR/key" &&
		setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups true 2>/dev/null &&
		! setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups cat "$in/secret.txt" >/dev/null 2>&1; then
		how="chmod 000, custos run as nobody via setpriv"
		set +e
		setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
			"$CUSTOS" --key "$CASE_DIR/key" --vault "$VAULT" ingest --json "$in" >"$out" 2>"$out.err"
		RC=$?
		set -e
	elif [ "$HAVE_STRACE" = 1 ]; then
		how="EACCES injected into openat with strace (root ignores mode 000)"
		set +e
		strace -f -qq -o /dev/null -e trace=openat -e inject=openat:error=EACCES \
			-P "$in/secret.txt" -P locked -P secret.txt \
			"$CUSTOS" --key "$KEY" --vault "$VAULT" ingest --json "$in" >"$out" 2>"$out.err"
		RC=$?
		set -e
	else
		skip "running as root without setpriv or strace: cannot make a file unreadable"
	fi
	note "case 1: $how"
	expect_rc 1 "$out"
	expect_outcome "$out" in/secret.txt refused unreadable
	expect_outcome "$out" in/locked refused unreadable
	expect_outcome "$out" in/ok.txt stored
	expect_summary "$out" 1 0 2
	chmod 644 "$in/secret.txt"
	chmod 755 "$in/locked"
	check_vault 1 1
	no_item in/secret.txt
	no_item in/locked/inner.txt
	not_in_vault "$CASE_DIR/secret.copy"
	not_in_vault "$in/locked/inner.txt"
}

# ------------------------------------------------------------------ 2: vanished
# Proves: a file that is there when the walk stats it but gone when it is opened is refused
# "vanished" (not "not-found", which is for inputs that never existed) and leaves no item.
# (a) the open of a top-level input fails with ENOENT (injected with strace);
# (b) a real race: the directory listing is delayed after it returns, the file is deleted
#     meanwhile, so the walk finds the name but not the file.
case_2() {
	need_strace
	new_vault c2
	local out="$CASE_DIR/out-a.json" f="$CASE_DIR/gone.txt"
	echo "here for the stat, gone for the open" >"$f"
	set +e
	strace -f -qq -o /dev/null -P "$f" -e trace=openat -e inject=openat:error=ENOENT \
		"$CUSTOS" --key "$KEY" --vault "$VAULT" ingest --json "$f" >"$out" 2>"$out.err"
	RC=$?
	set -e
	expect_rc 1 "$out"
	expect_outcome "$out" gone.txt refused vanished
	expect_summary "$out" 0 0 1
	check_vault 0 0
	not_in_vault "$f"

	local d="$CASE_DIR/drop" log="$CASE_DIR/strace-b.log"
	out="$CASE_DIR/out-b.json"
	mkdir "$d"
	echo "first" >"$d/a-keep.txt"
	echo "deleted after the listing" >"$d/m-vanish.txt"
	cp "$d/m-vanish.txt" "$CASE_DIR/vanish.copy"
	echo "last" >"$d/z-keep.txt"
	strace -f -qq -o "$log" -P "$d" -e trace=getdents64 \
		-e inject=getdents64:delay_exit=1500000:when=1 \
		"$CUSTOS" --key "$KEY" --vault "$VAULT" ingest --json "$d" >"$out" 2>"$out.err" &
	local pid=$!
	wait_for "$log" DELAYED
	rm "$d/m-vanish.txt"
	set +e
	wait "$pid"
	RC=$?
	set -e
	expect_rc 1 "$out"
	expect_outcome "$out" drop/m-vanish.txt refused vanished
	expect_outcome "$out" drop/a-keep.txt stored
	expect_outcome "$out" drop/z-keep.txt stored
	expect_summary "$out" 2 0 1
	check_vault 2 2
	no_item drop/m-vanish.txt
	not_in_vault "$CASE_DIR/vanish.copy"
}

# ------------------------------------------------------------------ 3: changed while read
# Proves: a file that changes while it is read is refused "changed" and nothing of it is
# kept — no item, no object of the bytes it had before, at the open, or after, no temp file.
# (a) a 50 MiB file appended to by a background writer while a slowed-down ingest (each read
#     of that file delayed 20 ms by strace) reads it — the large, streamed path;
# (b) a small file rewritten in place with the same size (new mtime) while the ingest is
#     paused right after reading it;
# (c) as (b) but the writer puts the old mtime back (only ctime tells);
# (d) a 3 MiB file truncated to 1 MiB after its first chunk was read.
case_3() {
	need_strace
	new_vault c3
	local big="$CASE_DIR/big.bin" out="$CASE_DIR/out-a.json" log="$CASE_DIR/strace-a.log"
	head -c 50M /dev/urandom >"$big"
	cp "$big" "$CASE_DIR/big.before"
	(while :; do
		head -c 4096 /dev/urandom >>"$big"
		sleep 0.02
	done) &
	local writer=$!
	set +e
	strace -f -qq -o "$log" -P "$big" -e trace=read,%fstat \
		-e inject=read:delay_exit=20000 \
		"$CUSTOS" --key "$KEY" --vault "$VAULT" ingest --json "$big" >"$out" 2>"$out.err"
	RC=$?
	set -e
	kill "$writer"
	wait "$writer" 2>/dev/null || true
	expect_rc 1 "$out"
	expect_outcome "$out" big.bin refused changed
	expect_summary "$out" 0 0 1
	check_vault 0 0
	[ -z "$(loose_objects)" ] || fail "loose objects after a refused big file: $(loose_objects)"
	# What was there when custos opened it: the prefix of the (append-only) file of the size
	# its fstat saw.
	local at_open
	at_open=$(grep -E 'fstat(at)?\([0-9]+, (""|\{)' "$log" | grep -oE 'st_size=[0-9]+' | head -1 | cut -d= -f2)
	[ -n "$at_open" ] || fail "no fstat of the open file in the strace log"
	note "case 3a: $(stat -c %s "$CASE_DIR/big.before") bytes before, $at_open at the open, $(stat -c %s "$big") after"
	head -c "$at_open" "$big" >"$CASE_DIR/big.at-open"
	not_in_vault "$CASE_DIR/big.before"
	not_in_vault "$CASE_DIR/big.at-open"
	not_in_vault "$big"

	# (b) and (c): same size, rewritten in place during the pause after the first read.
	local variant f
	for variant in b c; do
		f="$CASE_DIR/small-$variant.txt"
		log="$CASE_DIR/strace-$variant.log"
		out="$CASE_DIR/out-$variant.json"
		printf 'original statement, page %s\n' "$variant" >"$f"
		cp "$f" "$CASE_DIR/small-$variant.before"
		touch -r "$f" "$CASE_DIR/small-$variant.mtime"
		sleep 0.01
		strace -f -qq -o "$log" -P "$f" -e trace=read \
			-e inject=read:delay_exit=1000000:when=1 \
			"$CUSTOS" --key "$KEY" --vault "$VAULT" ingest --json "$f" >"$out" 2>"$out.err" &
		local pid=$!
		wait_for "$log" DELAYED
		printf 'FORGED statement, page %s\n' "$variant" | dd of="$f" conv=notrunc status=none
		[ "$(stat -c %s "$f")" = "$(stat -c %s "$CASE_DIR/small-$variant.before")" ] ||
			fail "the rewrite changed the size (test bug)"
		if [ "$variant" = c ]; then
			touch -r "$CASE_DIR/small-$variant.mtime" "$f"
			[ "$(stat -c %y "$f")" = "$(stat -c %y "$CASE_DIR/small-$variant.mtime")" ] ||
				fail "could not put the mtime back (test bug)"
		fi
		set +e
		wait "$pid"
		RC=$?
		set -e
		expect_rc 1 "$out"
		expect_outcome "$out" "small-$variant.txt" refused changed
		expect_summary "$out" 0 0 1
		check_vault 0 0
		not_in_vault "$CASE_DIR/small-$variant.before"
		not_in_vault "$f"
	done

	# (d) shrinks while read.
	f="$CASE_DIR/shrink.bin"
	log="$CASE_DIR/strace-d.log"
	out="$CASE_DIR/out-d.json"
	head -c 3M /dev/urandom >"$f"
	cp "$f" "$CASE_DIR/shrink.before"
	strace -f -qq -o "$log" -P "$f" -e trace=read \
		-e inject=read:delay_exit=1000000:when=1 \
		"$CUSTOS" --key "$KEY" --vault "$VAULT" ingest --json "$f" >"$out" 2>"$out.err" &
	local pid=$!
	wait_for "$log" DELAYED
	truncate -s 1M "$f"
	set +e
	wait "$pid"
	RC=$?
	set -e
	expect_rc 1 "$out"
	expect_outcome "$out" shrink.bin refused changed
	expect_summary "$out" 0 0 1
	check_vault 0 0
	[ -z "$(loose_objects)" ] || fail "loose objects after a refused file: $(loose_objects)"
	not_in_vault "$CASE_DIR/shrink.before"
	not_in_vault "$f"
}

# ------------------------------------------------------------------ 4: awkward names
# Proves: names with a newline, invalid UTF-8, a tab, ESC, CR, DEL, a C1 control, a bidi
# override, a leading dash, backslashes, quotes and spaces are stored; the JSON of ingest, ls
# and show gives back the exact bytes (os.fsencode of the \udcXX-escaped value); the human
# ls, show and ingest output escape them (one line per item, no raw control bytes).
NAMES_PY='
NAMES = [b"new\nline.txt", b"bad\xff\xfe.txt", b"tab\there.txt", b"-leading-dash.txt",
         b"back\\slash\\\\.txt", b"with  spaces .txt", b" leading space", b"esc\x1b[2Jclear.txt",
         b"cr\rreturn.txt", b"del\x7f.txt", b"c1\xc2\x85nel.txt", b"rtl\xe2\x80\xaetxt.exe",
         b"quote\"s and \x27apos\x27.txt", b"caf\xc3\xa9 \xe6\x96\x87\xe4\xbb\xb6.txt", b"lone\x80.txt"]
'
case_4() {
	new_vault c4
	local in="$CASE_DIR/names" out="$CASE_DIR/out.json"
	mkdir "$in"
	"$PY" -S -c "$NAMES_PY"'
import os, sys
for n in NAMES:
    open(os.path.join(os.fsencode(sys.argv[1]), n), "wb").write(b"content of " + n + b"\n")
' "$in"
	local n
	n=$("$PY" -S -c "$NAMES_PY"'print(len(NAMES))')
	[ "$(find "$in" -mindepth 1 -printf x | wc -c)" = "$n" ] || fail "could not create the files (test bug)"
	ingest_json "$out" "$in"
	expect_rc 0 "$out"
	expect_summary "$out" "$n" 0 0
	expect_outcome "$out" "names/new"$'\n'"line.txt" stored
	expect_outcome "$out" "names/bad"$'\xff\xfe'".txt" stored
	expect_outcome "$out" "names/-leading-dash.txt" stored
	expect_outcome "$out" 'names/back\slash\\.txt' stored
	check_vault "$n" "$n"
	cx ls --json >"$T/ls.json"
	# Every name round-trips byte for byte through ingest --json, ls --json and show --json.
	"$PY" -S -c "$NAMES_PY"'
import hashlib, json, os, subprocess, sys
custos, key, vault, out, lsf = sys.argv[1:6]
def die(m):
    print("FAIL: " + m, file=sys.stderr); sys.exit(1)
want = {b"names/" + n: n for n in NAMES}
got = {}
for l in open(out, "rb").read().decode("utf-8").splitlines():
    o = json.loads(l)
    if "summary" in o: continue
    got[os.fsencode(o["path"])] = o
if set(got) != set(want):
    die("ingest --json paths %r differ from the names %r" % (sorted(got), sorted(want)))
items = [json.loads(l) for l in open(lsf, "rb").read().decode("utf-8").splitlines()]
seen = set()
for it in items:
    p = os.fsencode(it["path"])
    if p not in want: die("ls --json has unexpected path %r" % p)
    if os.fsencode(it["name"]) != want[p]: die("name %r != %r" % (os.fsencode(it["name"]), want[p]))
    data = b"content of " + want[p] + b"\n"
    if it["sha256"] != hashlib.sha256(data).hexdigest() or it["size"] != len(data):
        die("wrong sha256/size for %r" % p)
    if it["id"] != got[p]["id"]: die("ls id differs from the ingest id for %r" % p)
    s = subprocess.run([custos, "--vault", vault, "show", "--json", it["id"]], stdout=subprocess.PIPE, check=True)
    sh = json.loads(s.stdout.decode("utf-8"))
    if os.fsencode(sh["path"]) != p or os.fsencode(sh["name"]) != want[p]:
        die("show --json does not round-trip %r" % p)
    c = subprocess.run([custos, "--vault", vault, "cat", it["id"]], stdout=subprocess.PIPE, check=True)
    if c.stdout != data: die("cat of %r gives other bytes" % p)
    seen.add(p)
if seen != set(want): die("ls --json misses %r" % (set(want) - seen))
' "$CUSTOS" "$KEY" "$VAULT" "$out" "$T/ls.json"

	# Human output: ls one line per item with the names escaped, show one "key value" per line.
	cx ls >"$CASE_DIR/ls.txt"
	cx ls --json >"$T/ls.json"
	local id_nl
	id_nl=$(chk ls-items "$T/ls.json" "names/new"$'\n'"line.txt" | cut -d' ' -f1)
	cx show "$id_nl" >"$CASE_DIR/show.txt"
	(cd "$CASE_DIR" && "$CUSTOS" --key "$KEY" --vault "$VAULT" ingest names >"$CASE_DIR/ingest2.txt" 2>"$CASE_DIR/ingest2.err") ||
		fail "second (human) ingest of the names failed: $(cat "$CASE_DIR/ingest2.err")"
	"$PY" -S -c "$NAMES_PY"'
import re, sys
def die(m):
    print("FAIL: " + m, file=sys.stderr); sys.exit(1)
def clean(path, data):
    try: text = data.decode("utf-8")
    except UnicodeDecodeError as e: die("%s: raw invalid UTF-8 in human output: %s" % (path, e))
    for ch in text:
        o = ord(ch)
        if (o < 0x20 and ch != "\n") or 0x7f <= o <= 0x9f or 0x202a <= o <= 0x202e or 0x2066 <= o <= 0x2069:
            die("%s: raw control character U+%04X in human output" % (path, o))
    return text.split("\n")[:-1]
n = len(NAMES)
ls = clean("ls", open(sys.argv[1], "rb").read())
if len(ls) != n: die("human ls has %d lines for %d items" % (len(ls), n))
for frag in [r"names/new\x0aline.txt", r"names/bad\xff\xfe.txt", r"names/tab\x09here.txt",
             r"names/back\\slash\\\\.txt", r"names/esc\x1b[2Jclear.txt", r"names/-leading-dash.txt",
             r"names/with  spaces .txt"]:
    if not any(l.endswith(" " + frag) for l in ls): die("human ls has no line ending in %r" % frag)
show = clean("show", open(sys.argv[2], "rb").read())
for l in show:
    if not re.match(r"^[a-zA-Z0-9]+ +\S", l): die("show line %r is not a key-value line" % l)
if "name        new\\x0aline.txt" not in show: die("show does not print the name escaped: %r" % show)
if "path        names/new\\x0aline.txt" not in show: die("show does not print the path escaped")
ing = clean("ingest", open(sys.argv[3], "rb").read())
if len(ing) != n + 1 or not all(l.startswith("duplicate ") for l in ing[:n]):
    die("the human ingest output is not %d duplicate lines + a summary: %r" % (n, ing))
' "$CASE_DIR/ls.txt" "$CASE_DIR/show.txt" "$CASE_DIR/ingest2.txt"
	check_vault $((2 * n)) "$n"

	# A top-level input whose name starts with a dash, after "--".
	echo "dash at top level" >"$CASE_DIR/-top-dash.txt"
	(cd "$CASE_DIR" && "$CUSTOS" --key "$KEY" --vault "$VAULT" ingest --json -- -top-dash.txt >out-dash.json 2>out-dash.json.err) ||
		fail "ingest -- -top-dash.txt failed: $(cat "$CASE_DIR/out-dash.json.err")"
	expect_outcome "$CASE_DIR/out-dash.json" -top-dash.txt stored
	check_vault $((2 * n + 1)) $((n + 1))
}

# ------------------------------------------------------------------ 4b: verify's human output
# Proves: `custos verify FILE` escapes the file name in its human output like ls and show do
# (a name with a newline or ESC must not break the line or reach the terminal raw).
case_4b() {
	new_vault c4b
	local f="$CASE_DIR/evil"$'\n'"name"$'\x1b'"[2J.txt"
	echo "verify me" >"$f"
	ingest_json "$CASE_DIR/out.json" "$f"
	expect_rc 0 "$CASE_DIR/out.json"
	check_vault 1 1
	expect_exit 0 cx verify "$f"
	grep_out VERIFIED
	"$PY" -S -c '
import sys
data = open(sys.argv[1], "rb").read()
bad = [c for c in data if (c < 0x20 and c != 0x0a) or c == 0x7f]
first = data.split(b"\n")[0]
if bad or b"VERIFIED" not in first:
    print("FAIL: verify prints the file name raw: first line %r, raw control bytes %r" % (first, bytes(bad)), file=sys.stderr)
    sys.exit(1)
' "$T/out"
}

# ------------------------------------------------------------------ 5: empty files
# Proves: an empty file is stored as a real item of size 0 with the SHA-256 of the empty
# string, a second empty file is a duplicate with its own item, cat gives 0 bytes, verify
# recognises an empty file.
case_5() {
	new_vault c5
	local in="$CASE_DIR/in" out="$CASE_DIR/out.json"
	mkdir "$in"
	: >"$in/a-empty"
	: >"$in/b-empty.txt"
	ingest_json "$out" "$in"
	expect_rc 0 "$out"
	expect_outcome "$out" in/a-empty stored
	[ "$O_SIZE $O_SHA" = "0 $EMPTY_SHA" ] || fail "empty file stored as size $O_SIZE sha256 $O_SHA"
	local first=$O_ID
	expect_outcome "$out" in/b-empty.txt duplicate
	[ "$O_SIZE $O_SHA" = "0 $EMPTY_SHA" ] || fail "second empty file: size $O_SIZE sha256 $O_SHA"
	[ "$O_ID" != "$first" ] || fail "the duplicate has the same item id as the original"
	expect_summary "$out" 1 1 0
	check_vault 2 1
	[ "$(cx cat "$first" | wc -c)" = 0 ] || fail "cat of the empty item is not empty"
	[ "$(cx cat "$O_ID" | wc -c)" = 0 ] || fail "cat of the duplicate empty item is not empty"
	expect_exit 0 cx show --json "$first"
	grep_out '"size":0,'
	expect_exit 0 cx verify "$in/b-empty.txt"
	grep_out VERIFIED
}

# ------------------------------------------------------------------ 6: 10,000 files
# Proves: a directory of 10,000 files is ingested completely in one event (every file stored,
# every path listed once), and fsck --full passes. Prints how long it took.
case_6() {
	new_vault c6
	local in="$CASE_DIR/many" out="$CASE_DIR/out.json" t0 t1
	mkdir "$in"
	"$PY" -S -c '
import os, sys
d = sys.argv[1]
for i in range(10000):
    with open(os.path.join(d, "f%05d.txt" % i), "w") as f:
        f.write("document %d\n" % i)
' "$in"
	t0=$(date +%s.%N)
	ingest_json "$out" "$in"
	t1=$(date +%s.%N)
	note "case 6: ingest of 10,000 files took $(elapsed "$t0" "$t1") s"
	expect_rc 0 "$out"
	expect_summary "$out" 10000 0 0
	expect_outcome "$out" many/f00000.txt stored
	expect_outcome "$out" many/f09999.txt stored
	t0=$(date +%s.%N)
	check_vault 10000 10000
	t1=$(date +%s.%N)
	[ "$(wc -l <"$T/ls.json")" = 10000 ] || fail "ls --json | wc -l is not 10000" # saved by check_vault
	"$PY" -S -c '
import json, sys
paths = [json.loads(l)["path"] for l in open(sys.argv[1])]
want = ["many/f%05d.txt" % i for i in range(10000)]
if sorted(paths) != want:
    print("FAIL: ls --json paths are not exactly many/f00000.txt .. f09999.txt", file=sys.stderr)
    sys.exit(1)
' "$T/ls.json"
	note "case 6: fsck --full + ls took $(elapsed "$t0" "$t1") s"
}

# ------------------------------------------------------------------ 7: sparse file > 4 GiB
# Proves: a 4 GiB+ sparse file (4097 MiB hole + a tail) is stored with its exact size and
# SHA-256 (hashed independently), `custos cat` reproduces it, the loose object in the store
# is itself sparse (zero runs became holes), fsck --full re-hashes it cleanly.
# Independent hashes: the expected SHA-256 is computed from the construction (python
# hashlib, in parallel with the ingest), the output of `custos cat` is hashed by `openssl dgst`
# when present (sha256sum is 3-4x slower on 4 GiB here), else by sha256sum, in parallel with
# fsck --full. The case runs alongside the other cases (it is mostly waiting on 4 GiB reads).
hash_cmd() {
	if command -v openssl >/dev/null; then
		openssl dgst -sha256 -r | cut -d' ' -f1
	else
		sha256sum | cut -d' ' -f1
	fi
}
case_7() {
	new_vault c7
	local f="$CASE_DIR/sparse.img" out="$CASE_DIR/out.json"
	truncate -s 4097M "$f"
	printf 'END OF THE SPARSE EVIDENCE\n' >>"$f"
	local size alloc
	size=$(stat -c %s "$f")
	alloc=$(($(stat -c '%b * %B' "$f")))
	[ "$alloc" -lt $((64 << 20)) ] || skip "this filesystem does not keep the input sparse"
	# The expected SHA-256, computed from how the file was built (4097 MiB of zeros, then
	# the tail) rather than by reading 4 GiB once more; checked against the file's size.
	"$PY" -S -c '
import hashlib, sys
h, z = hashlib.sha256(), bytes(1 << 20)
for _ in range(4097):
    h.update(z)
h.update(b"END OF THE SPARSE EVIDENCE\n")
print(h.hexdigest())
' >"$CASE_DIR/expected.sha" &
	local hasher=$!
	ingest_json "$out" "$f"
	wait "$hasher" || fail "hashing the expected content failed"
	[ "$size" = $((4097 * 1048576 + 27)) ] || fail "the sparse input has $size bytes (test bug)"
	local want
	want=$(cat "$CASE_DIR/expected.sha")
	expect_rc 0 "$out"
	expect_outcome "$out" sparse.img stored
	[ "$O_SIZE" = "$size" ] || fail "stored size $O_SIZE, the file has $size bytes"
	[ "$O_SHA" = "$want" ] || fail "stored sha256 $O_SHA, the file hashes to $want"
	local obj="$VAULT/objects/${want:0:2}/$want"
	[ -f "$obj" ] || fail "no loose object $obj"
	[ "$(stat -c %s "$obj")" = "$size" ] || fail "the loose object has $(stat -c %s "$obj") bytes, not $size"
	alloc=$(($(stat -c '%b * %B' "$obj")))
	note "case 7: $size bytes, the stored object allocates $alloc bytes ($(du -k "$obj" | cut -f1) KiB by du)"
	[ "$alloc" -lt $((64 << 20)) ] || fail "the stored object is not sparse: $alloc bytes allocated"
	# cat | hash and fsck --full, in parallel
	(cx cat "$O_ID" | hash_cmd >"$CASE_DIR/cat.sha") &
	local catter=$!
	check_vault 1 1
	wait "$catter" || fail "custos cat $O_ID | hash failed"
	[ "$(cat "$CASE_DIR/cat.sha")" = "$want" ] || fail "custos cat gives bytes hashing to $(cat "$CASE_DIR/cat.sha"), not $want"
	expect_exit 0 cx show --json "$O_ID"
	grep_out "\"size\":$size,"
	rm -f "$f"
}

# ------------------------------------------------------------------ 8: special files
# Proves: a fifo (with no writer — opening it would block forever), a unix socket and device
# nodes are refused with their reason and never opened (the ingest finishes under a timeout),
# both inside a directory and as top-level inputs; the regular sibling is stored.
case_8() {
	new_vault c8
	local in="$CASE_DIR/sp" out="$CASE_DIR/out.json" dev=0
	mkdir "$in"
	echo "a plain document" >"$in/plain.txt"
	mkfifo "$in/pipe"
	mkfifo "$CASE_DIR/toppipe"
	"$PY" -S -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$in/sock"
	[ -S "$in/sock" ] || fail "could not make a unix socket (test bug)"
	if [ "$IS_ROOT" = 1 ] && mknod "$in/chardev" c 1 3 2>/dev/null && mknod "$in/blockdev" b 7 0 2>/dev/null; then
		dev=1
	else
		rm -f "$in/chardev" "$in/blockdev"
		note "case 8: cannot mknod here, the device part is skipped"
	fi
	set +e
	timeout 30 "$CUSTOS" --key "$KEY" --vault "$VAULT" ingest --json "$in" "$CASE_DIR/toppipe" >"$out" 2>"$out.err"
	RC=$?
	set -e
	[ "$RC" != 124 ] || fail "ingest hangs on a fifo (killed after 30 s)"
	expect_rc 1 "$out"
	expect_outcome "$out" sp/pipe refused fifo
	expect_outcome "$out" toppipe refused fifo
	expect_outcome "$out" sp/sock refused socket
	expect_outcome "$out" sp/plain.txt stored
	if [ "$dev" = 1 ]; then
		expect_outcome "$out" sp/chardev refused device
		expect_outcome "$out" sp/blockdev refused device
		expect_summary "$out" 1 0 5
	else
		expect_summary "$out" 1 0 3
	fi
	check_vault 1 1
	local p
	for p in sp/pipe toppipe sp/sock sp/chardev sp/blockdev; do no_item "$p"; done
	# The human form puts refusals on stderr with the reason.
	set +e
	timeout 30 "$CUSTOS" --key "$KEY" --vault "$VAULT" ingest "$in/pipe" "$in/sock" >"$T/out" 2>"$T/err"
	RC=$?
	set -e
	[ "$RC" = 1 ] || fail "human ingest of a fifo and a socket exited $RC"
	grep -Eq '^refused +fifo +pipe: ' "$T/err" || fail "no 'refused fifo pipe:' line on stderr: $(cat "$T/err")"
	grep -Eq '^refused +socket +sock: ' "$T/err" || fail "no 'refused socket sock:' line on stderr: $(cat "$T/err")"
	check_vault 1 1
}

# ------------------------------------------------------------------ 9: missing, symlinks
# Proves: a nonexistent input is refused "not-found"; symlinks (a loop, a self-link, links out
# of the tree to a file and to a directory) are recorded as kind "symlink" whose data is the
# target text, never followed: the outside file's bytes are not in the vault and nothing under
# the linked directory is listed.
case_9() {
	new_vault c9
	local out="$CASE_DIR/out.json" links="$CASE_DIR/links" outside="$CASE_DIR/outside"
	mkdir "$links" "$outside" "$outside/dir"
	echo "outside the tree: must not be read" >"$outside/secret.txt"
	echo "also outside" >"$outside/dir/inner.txt"
	echo "top-level target" >"$outside/other.txt"
	ln -s loopB "$links/loopA"
	ln -s loopA "$links/loopB"
	ln -s self "$links/self"
	ln -s "$outside/secret.txt" "$links/abs-out"
	ln -s ../outside/secret.txt "$links/rel-out"
	ln -s "$outside/dir" "$links/dir-out"
	ln -s "$outside/other.txt" "$CASE_DIR/top-link"
	ingest_json "$out" "$CASE_DIR/does-not-exist" "$links" "$CASE_DIR/top-link"
	expect_rc 1 "$out"
	expect_outcome "$out" does-not-exist refused not-found
	local name target
	for name in loopA loopB self abs-out rel-out dir-out; do
		target=$(readlink "$links/$name")
		expect_outcome "$out" "links/$name" stored
		[ "$O_SIZE" = "${#target}" ] || fail "links/$name: size $O_SIZE, the target text has ${#target} bytes"
		[ "$(cx cat "$O_ID")" = "$target" ] || fail "links/$name: cat is not the target text"
		expect_exit 0 cx show --json "$O_ID"
		"$PY" -S -c '
import json, os, sys
o = json.loads(open(sys.argv[1]).read())
if o["kind"] != "symlink" or os.fsencode(o["target"]) != os.fsencode(sys.argv[2]):
    print("FAIL: %s: kind %s target %r" % (sys.argv[3], o["kind"], o.get("target")), file=sys.stderr)
    sys.exit(1)
' "$T/out" "$target" "links/$name"
	done
	expect_outcome "$out" top-link stored
	[ "$(cx cat "$O_ID")" = "$outside/other.txt" ] || fail "top-link: cat is not the target text"
	expect_summary "$out" 7 0 1
	check_vault 7 7
	no_item does-not-exist
	not_in_vault "$outside/secret.txt"
	not_in_vault "$outside/dir/inner.txt"
	not_in_vault "$outside/other.txt"
	! grep -q 'links/dir-out/' "$T/ls.json" || fail "the walk descended into a symlinked directory"
}

# ------------------------------------------------------------------ 9b: unresolvable inputs
# Proves: an input path that cannot exist because a component is a regular file (ENOTDIR) or
# a symlink loop (ELOOP) is refused "not-found" like any other missing input — not
# "changed", which would claim the file changed while it was read.
case_9b() {
	new_vault c9b
	local out="$CASE_DIR/out.json"
	echo "a file, not a directory" >"$CASE_DIR/plain"
	ln -s loop2 "$CASE_DIR/loop1"
	ln -s loop1 "$CASE_DIR/loop2"
	ingest_json "$out" "$CASE_DIR/plain/child" "$CASE_DIR/loop1/child2"
	expect_rc 1 "$out"
	expect_summary "$out" 0 0 2
	check_vault 0 0
	expect_outcome "$out" child refused not-found
	expect_outcome "$out" child2 refused not-found
}

# ------------------------------------------------------------------ 10: the same file twice
# Proves: one file named twice on the command line gives one "stored" and one "duplicate"
# outcome, each with its own item (same sha256, distinct ids), one object — for a small
# (packed) and for a large (loose) file.
case_10() {
	new_vault c10
	local out="$CASE_DIR/out.json" s="$CASE_DIR/twice.txt" l="$CASE_DIR/twice-large.bin"
	echo "named twice" >"$s"
	head -c 3M /dev/urandom >"$l"
	ingest_json "$out" "$s" "$s" "$l" "$l"
	expect_rc 0 "$out"
	expect_summary "$out" 2 2 0
	local p got sha
	for p in twice.txt twice-large.bin; do
		sha=$(sha256sum <"$CASE_DIR/$p" | cut -d' ' -f1)
		got=$(chk outcomes "$out" "$p")
		[ "$(echo "$got" | cut -d' ' -f1 | tr '\n' ' ')" = "stored duplicate " ] ||
			fail "$p: outcomes are '$got', expected stored then duplicate"
		[ "$(echo "$got" | cut -d' ' -f3 | sort -u)" = "$sha" ] || fail "$p: wrong sha256 in '$got'"
		[ "$(echo "$got" | cut -d' ' -f2 | sort -u | wc -l)" = 2 ] || fail "$p: the two items share an id"
	done
	check_vault 4 2
	for p in twice.txt twice-large.bin; do
		sha=$(sha256sum <"$CASE_DIR/$p" | cut -d' ' -f1)
		got=$(chk ls-items "$T/ls.json" "$p")
		[ "$(echo "$got" | wc -l)" = 2 ] || fail "$p: ls lists '$got', expected two items"
		[ "$(echo "$got" | awk '{print $2, $5}' | sort | tr '\n' ' ')" = "$sha duplicate $sha stored " ] ||
			fail "$p: ls items are '$got'"
		local id
		for id in $(echo "$got" | cut -d' ' -f1); do
			[ "$(cx cat "$id" | sha256sum | cut -d' ' -f1)" = "$sha" ] || fail "cat $id is not $p"
		done
	done
	[ "$(loose_objects | wc -l)" = 1 ] || fail "expected one loose object (the large file): $(loose_objects)"
}

# ------------------------------------------------------------------ run
# Each case runs in a subshell with its own scratch $T (the helpers' $T/out, $T/ls.json, ...),
# its output kept in a log and shown when it ends. Case 7 (4 GiB of reads) runs in the
# background alongside the others; the rest run one after another.
TOP=$T
LOGS="$TOP/logs"
mkdir -p "$LOGS"
FAILED=()
SKIPPED=()
PASSED=()

run_case() {
	local c=$1 t0 t1 rc
	t0=$(date +%s.%N)
	set +e
	(
		set -e
		T="$TOP/scratch-$c"
		mkdir -p "$T"
		"case_$c"
	) >"$LOGS/$c" 2>&1 </dev/null
	rc=$?
	set -e
	t1=$(date +%s.%N)
	echo "$rc $(elapsed "$t0" "$t1")" >"$LOGS/$c.rc"
}

report_case() {
	local c=$1 rc dt
	read -r rc dt <"$LOGS/$c.rc"
	cat "$LOGS/$c"
	case $rc in
	0)
		note "case $c: ok (${dt} s)"
		PASSED+=("$c")
		;;
	77)
		note "case $c: skipped (${dt} s)"
		SKIPPED+=("$c")
		;;
	*)
		echo "# case $c: FAILED (${dt} s)"
		FAILED+=("$c")
		;;
	esac
}

selected() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }

START=$(date +%s.%N)
BG=
if selected 7; then
	run_case 7 &
	BG=$!
fi
for c in 1 2 3 4 4b 5 6 8 9 9b 10; do
	selected "$c" || continue
	run_case "$c"
	report_case "$c"
done
if [ -n "$BG" ]; then
	wait "$BG" || true
	report_case 7
fi
note "total $(elapsed "$START" "$(date +%s.%N)") s"
[ ${#SKIPPED[@]} = 0 ] || note "skipped cases: ${SKIPPED[*]}"
[ ${#FAILED[@]} = 0 ] || fail "failed cases: ${FAILED[*]}"
[ ${#PASSED[@]} -gt 0 ] || skip "every case was skipped"
exit 0
