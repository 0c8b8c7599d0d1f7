#!/usr/bin/env bash
# crash.sh — kill -9 `custos ingest` at many points and check that nothing acknowledged is lost.
#
# Every kill point starts from a fresh copy (cp -a) of a template vault that already holds one
# earlier ingest, so there is prior state to protect. The ingest of a small drop is then run
# under strace with `-e inject=SYSCALL:signal=KILL:when=N`: SIGKILL is delivered on *entering*
# the N-th call of SYSCALL, so the call itself never happens. Classes swept: write, fsync,
# fdatasync, rename/renameat/renameat2, link/linkat, openat, ftruncate, unlink/unlinkat,
# mkdir/mkdirat (whichever the ingest makes). After each kill:
#
#   1. `custos fsck --full` exits 0 (a leftover tmp file is only a note, not a problem);
#   2. the log still holds the init and the prior ingest, unchanged, and every prior item is
#      listed with the same record fields; `custos verify` of every prior file exits 0;
#   3. the kill either committed the new ingest event or did not — nothing in between:
#        - committed (the log has event 2): its items are exactly the drop (path, sha256,
#          size), every drop file verifies, and `custos cat` reproduces bytes with the
#          item's SHA-256 (quick: of the loose-object item and one packed item — fsck --full
#          has already re-hashed every object; thorough: of every item);
#        - not committed: the vault lists exactly the prior items;
#   4. "reported stored": stdout goes to a file, so the JSON outcome lines are block-buffered
#      and an outcome line ("stored"/"duplicate") printed before the kill is NOT an
#      acknowledgement — the items are recorded only by the custody commit, and the summary
#      line is printed only after that commit. So an item counts as *reported stored* only
#      when the summary line appeared: then the event must be committed, the summary's
#      commit must be the log's event 2, and every reported item must be listed with its
#      sha256 and `custos cat ID` must reproduce the bytes of the file it came from (for the
#      300-file timer drop in quick mode: every reported file verifies, and cat runs on a
#      sample of 32 items).
#      Outcome lines without a summary are only counted;
#   5. the vault is still writable and unlocked: `custos ingest` of the same drop exits 0
#      with every file stored or duplicate, `custos fsck --full` exits 0 again, and every
#      drop and prior file verifies (the 300-file timer drop in quick mode: every 10th).
#      Any leftover *.lock file in the vault is listed in the point's log.
#
# A second sweep kills an ingest of a bigger drop (300 files, two of them loose objects)
# with a plain `kill -9` after a random delay (no strace), ten times, the delays spread
# over 1.5 times the length of an undisturbed ingest; same checks, except that for a
# committed event every file is verified and only the loose-object item and a packed one
# are catted.
#
# Quick mode (default) samples the occurrence numbers: every occurrence of the rare classes
# (fsync, rename, link, unlink, ftruncate, mkdir), every openat that creates a file plus 6
# more spread over the rest (most openat calls load libraries and read the vault), and 15
# writes spread over all of them. CUSTOS_THOROUGH=1 kills at every occurrence of every class.
#
# Knobs: CUSTOS_THOROUGH=1; CUSTOS_CRASH_JOBS=N parallel kill points (default: nproc + 1);
# CUSTOS_CRASH_POINTS="write:4 rename:2" only these points (and no timer runs unless
# CUSTOS_CRASH_TIMER is set);
# CUSTOS_CRASH_TIMER=N timer kills (default 10, 0 to skip); CUSTOS_CRASH_SEED=N;
# CUSTOS_CRASH_KEEP=1 keeps the scratch directory for inspection.
source "$(dirname "$0")/../lib.sh"
allow_ptrace_under_asan
need strace
need python3
# The interpreter itself, not a version-manager shim that costs a second per start.
PY=$(python3 -c 'import sys; print(sys.executable)') || skip "python3 does not run"

THOROUGH=${CUSTOS_THOROUGH:-0}
# one more job than CPUs: part of every kill point is waiting on fsync
JOBS=${CUSTOS_CRASH_JOBS:-$(($(nproc 2>/dev/null || echo 2) + 1))}
ONLY=${CUSTOS_CRASH_POINTS:-}
if [ -n "$ONLY" ]; then TIMER_RUNS=${CUSTOS_CRASH_TIMER:-0}; else TIMER_RUNS=${CUSTOS_CRASH_TIMER:-10}; fi
SEED=${CUSTOS_CRASH_SEED:-$(($(date +%s) % 32768))}
RANDOM=$SEED
if [ "${CUSTOS_CRASH_KEEP:-0}" = 1 ]; then
	trap 'echo "# kept $T" >&2' EXIT
fi

# strace must be able to trace here (no ptrace in some containers).
strace -f -qq -o /dev/null true 2>/dev/null || skip "strace cannot trace in this environment"

SYSCALLS=write,fsync,fdatasync,rename,renameat,renameat2,link,linkat,openat,unlink,unlinkat,ftruncate,mkdir,mkdirat
# The strace sweep packs the item records of the drop in the background, a pack every
# couple of items (custody.c; the default is one per 4 MiB of records, which a small drop
# never reaches); the timer sweep keeps the default: its records go into the commit's pack.
PACK_CHUNK=1024

# ------------------------------------------------------------------ the checker (JSON side)
CHECK="$T/crashcheck.py"
cat >"$CHECK" <<'PY'
import hashlib, json, os, subprocess, sys

CUSTOS = os.environ["CUSTOS"]

def die(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)

def run(vault, *args):
    p = subprocess.run([CUSTOS, "--vault", vault, *args], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    return p

def jsonl(vault, *args):
    p = run(vault, *args)
    if p.returncode != 0:
        die("custos %s exited %d: %s" % (" ".join(args), p.returncode, p.stderr.decode(errors="replace")))
    return [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]

def manifest(drop):
    """Every regular file under drop as (path label, sha256, size), like ingest names it."""
    label = os.path.basename(os.path.normpath(drop))
    out = []
    for root, dirs, files in os.walk(drop):
        for f in files:
            full = os.path.join(root, f)
            data = open(full, "rb").read()
            rel = os.path.relpath(full, drop)
            out.append(("%s/%s" % (label, rel), hashlib.sha256(data).hexdigest(), len(data)))
    return sorted(out)

def cat_sha(vault, item):
    p = subprocess.run([CUSTOS, "--vault", vault, "cat", item], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    if p.returncode != 0:
        return None, "custos cat %s exited %d: %s" % (item, p.returncode,
                                                      p.stderr.decode(errors="replace").strip())
    return hashlib.sha256(p.stdout).hexdigest(), None

def cat_all(vault, pairs):
    """pairs: [(item id, expected sha256)]; every cat must reproduce the bytes."""
    if len(pairs) <= 4:
        res = [(pr, cat_sha(vault, pr[0])) for pr in pairs]
    else:
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(4) as ex:
            res = list(ex.map(lambda pr: (pr, cat_sha(vault, pr[0])), pairs))
    for (item, want), (got, err) in res:
        if err:
            die(err)
        if got != want:
            die("custos cat %s gives bytes with sha256 %s, expected %s" % (item, got, want))

def parse_outcomes(path):
    """The complete JSON lines the killed ingest printed (a cut-off last line is ignored)."""
    outcomes, summary = [], None
    try:
        text = open(path, "rb").read().decode(errors="replace")
    except FileNotFoundError:
        return outcomes, summary
    for line in text.split("\n"):
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if "summary" in o:
            summary = o["summary"]
        else:
            outcomes.append(o)
    return outcomes, summary

def cmd_snapshot(vault, out):
    """Record the template's log and items."""
    json.dump({"log": jsonl(vault, "log", "--json"), "items": jsonl(vault, "ls", "--json")},
              open(out, "w"))

def cmd_after_kill(vault, snap_path, drop, stdout_path, mode):
    snap = json.load(open(snap_path))
    want = manifest(drop)
    log = jsonl(vault, "log", "--json")
    items = jsonl(vault, "ls", "--json")
    prior_log = snap["log"]
    n0 = len(prior_log)
    # 2. the prior history is untouched
    if [e["commit"] for e in log[:n0]] != [e["commit"] for e in prior_log]:
        die("the log lost or changed prior events: %s" % [e["commit"] for e in log])
    # an ingest is one event, followed by its analysis event (FS §13.4) when the drop holds
    # documents: a kill between the two leaves the ingest without one (inspect --rerun)
    if len(log) not in (n0, n0 + 1, n0 + 2):
        die("the log has %d events after one killed ingest (prior: %d)" % (len(log), n0))
    if len(log) == n0 + 2 and log[n0 + 1]["action"] != "analysis":
        die("event %d is '%s', not the ingest's analysis" % (n0 + 1, log[n0 + 1]["action"]))
    keyf = ("id", "sha256", "size", "path", "commit", "event")
    have = {i["id"]: i for i in items}
    for p in snap["items"]:
        q = have.get(p["id"])
        if q is None:
            die("prior item %s (%s) is no longer listed" % (p["id"], p["path"]))
        if any(p[k] != q[k] for k in keyf):
            die("prior item %s changed: %s -> %s" % (p["id"], p, q))
    committed = len(log) >= n0 + 1
    new = [i for i in items if i["event"] == n0]
    # 3. all or nothing
    if committed:
        ev = log[n0]
        if ev["action"] != "ingest":
            die("event %d is '%s', not ingest" % (n0, ev["action"]))
        got = sorted((i["path"], i["sha256"], i["size"]) for i in new)
        if got != want:
            die("the committed event's items differ from the drop:\n  got  %s\n  want %s" % (got, want))
        if any(i["commit"] != ev["commit"] for i in new):
            die("items of event %d name another commit" % n0)
        if len(items) != len(snap["items"]) + len(want):
            die("%d items listed, expected %d" % (len(items), len(snap["items"]) + len(want)))
        if mode == "cat":
            # thorough: every item; quick: the largest (a loose object) and a packed one.
            # fsck --full has re-hashed every object and `verify` checks every file anyway.
            pick = sorted(new, key=lambda i: (-i["size"], i["path"]))
            if os.environ.get("CUSTOS_THOROUGH") != "1":
                rest = sorted(pick[1:], key=lambda i: i["id"])
                pick = pick[:1] + rest[:1]
            cat_all(vault, [(i["id"], i["sha256"]) for i in pick])
    else:
        if len(items) != len(snap["items"]):
            die("the ingest was not committed but %d items are listed (prior: %d)" %
                (len(items), len(snap["items"])))
    # 4. what was reported
    outcomes, summary = parse_outcomes(stdout_path)
    if summary is not None:
        if not committed:
            die("the summary was printed but the event is not in the log")
        if summary["commit"] != log[n0]["commit"] or summary["event"] != n0:
            die("the summary names commit %s event %s; the log has %s at %d" %
                (summary["commit"], summary["event"], log[n0]["commit"], n0))
        reported = [o for o in outcomes if o.get("outcome") in ("stored", "duplicate")]
        if summary["stored"] + summary["duplicate"] != len(want) or len(reported) != len(want):
            die("the summary reports %d+%d items with %d outcome lines; the drop has %d files" %
                (summary["stored"], summary["duplicate"], len(reported), len(want)))
        base = os.path.dirname(os.path.normpath(drop))
        pairs = []
        for o in reported:
            q = have.get(o["id"])
            if q is None or q["sha256"] != o["sha256"] or q["path"] != o["path"]:
                die("reported item %s (%s) is not listed as reported" % (o["id"], o["path"]))
            src = hashlib.sha256(open(os.path.join(base, o["path"]), "rb").read()).hexdigest()
            if src != o["sha256"]:
                die("reported sha256 of %s is not the file's" % o["path"])
            pairs.append((o["id"], o["sha256"], o["size"]))
        if mode == "verify" and os.environ.get("CUSTOS_THOROUGH") != "1":
            # the 300-file drop, quick: every file has been verified (see crash.sh); cat
            # the two loose objects and every 10th item
            pairs.sort(key=lambda p: (-p[2], p[0]))
            pairs = pairs[:2] + pairs[2::10]
        cat_all(vault, [(i, sha) for i, sha, _ in pairs])
    print("committed=%d outcome_lines=%d summary=%d" %
          (committed, len(outcomes), summary is not None))

def cmd_reingest(stdout_path, drop):
    outcomes, summary = parse_outcomes(stdout_path)
    n = len(manifest(drop))
    if summary is None:
        die("the re-ingest printed no summary")
    if summary["refused"] or summary["stored"] + summary["duplicate"] != n:
        die("the re-ingest summary %s does not account for the %d files" % (summary, n))
    bad = [o for o in outcomes if o.get("outcome") not in ("stored", "duplicate")]
    if bad:
        die("the re-ingest refused: %s" % bad)

def cmd_manifest(drop):
    for p, s, n in manifest(drop):
        print(s, n, p)

cmd = sys.argv[1]
{"snapshot": cmd_snapshot, "after-kill": cmd_after_kill, "reingest": cmd_reingest,
 "manifest": cmd_manifest}[cmd](*sys.argv[2:])
PY
export CUSTOS

# ------------------------------------------------------------------ corpora and the template
note "seed $SEED, $JOBS parallel kill points, thorough=$THOROUGH"
setup_vault
PRIOR="$T/in/prior"
DROP="$T/in/drop"
BIG="$T/in/bigdrop"
mkdir -p "$PRIOR" "$DROP/sub/deeper" "$BIG"

# The prior ingest: a few files the crash must never damage.
printf 'earlier evidence\n' >"$PRIOR/memo.txt"
head -c 70000 /dev/urandom >"$PRIOR/scan.bin"
head -c 1234 /dev/urandom >"$PRIOR/shared.bin" # the drop holds these bytes again
: >"$PRIOR/empty.prior"

# The drop: 13 files, sizes 0 .. 2 MiB, duplicates within the drop and of a prior object.
: >"$DROP/empty"
printf 'x' >"$DROP/one-byte"
i=0
for n in 511 512 513 4096 9000 65536 300000; do
	i=$((i + 1))
	head -c "$n" /dev/urandom >"$DROP/f$i-$n.dat"
done
printf '%%PDF-1.4\n%% a small pdf-looking file\n' >"$DROP/sub/report.pdf"
cp "$DROP/f2-512.dat" "$DROP/sub/copy-of-f2.dat"           # duplicate inside the drop
cp "$PRIOR/shared.bin" "$DROP/sub/deeper/shared-again.bin" # duplicate of a held object
# > 1 MiB: a loose object, with a 1 MiB run of zeros that becomes a hole.
{ head -c 1048576 /dev/urandom; head -c 1048576 /dev/zero; head -c 50000 /dev/urandom; } >"$DROP/big.img"

# The bigger drop of the timer sweep: 300 files, a few duplicates, two loose objects.
SEED=$SEED "$PY" -S - "$BIG" <<'PY'
import os, random, sys
d = sys.argv[1]
r = random.Random(int(os.environ.get("SEED", "1")))
for i in range(296):
    sub = os.path.join(d, "d%02d" % (i % 12))
    os.makedirs(sub, exist_ok=True)
    n = r.choice([0, 1, 100, 4096]) if i % 25 == 0 else r.randint(1, 60000)
    open(os.path.join(sub, "file%03d.bin" % i), "wb").write(os.urandom(n))
for i in range(2):
    open(os.path.join(d, "large%d.bin" % i), "wb").write(os.urandom(1536 * 1024))
src = os.path.join(d, "d00", "file012.bin")
for i in range(2):
    open(os.path.join(d, "dup%d.bin" % i), "wb").write(open(src, "rb").read())
PY

cx ingest --json "$PRIOR" >"$T/prior.json" || fail "the prior ingest failed"
TEMPLATE="$VAULT"
expect_exit 0 "$CUSTOS" --vault "$TEMPLATE" fsck --full
"$PY" -S "$CHECK" snapshot "$TEMPLATE" "$T/template.snap"
N_DROP=$("$PY" -S "$CHECK" manifest "$DROP" | wc -l)
N_BIG=$("$PY" -S "$CHECK" manifest "$BIG" | wc -l)
note "drop: $N_DROP files; timer drop: $N_BIG files; prior: $(ls "$PRIOR" | wc -l) files"

# ------------------------------------------------------------------ one kill point
# check_vault DIR VAULT DROP STDOUT MODE NFILES: the checks after a kill (see the top of the file).
# Runs in the kill point's own subshell with T=DIR, so expect_exit's scratch files are its own.
check_vault() {
	local dir=$1 v=$2 drop=$3 stdout=$4 mode=$5 nfiles=$6 res
	expect_exit 0 "$CUSTOS" --vault "$v" fsck --full
	grep -q '^ok:' "$dir/out" || fail "fsck --full did not say ok: $(cat "$dir/out")"
	grep '^note:' "$dir/out" | sed 's/^/  fsck /' || true
	res=$("$PY" -S "$CHECK" after-kill "$v" "$T_TOP/template.snap" "$drop" "$stdout" "$mode") ||
		fail "after the kill: see above"
	echo "  $res"
	# every prior file verifies; so does every file of a committed event
	if [[ $res == committed=1* ]]; then
		find "$PRIOR" "$drop" -type f -print0 | xargs -0 "$CUSTOS" --vault "$v" verify >"$dir/out" 2>"$dir/err" ||
			fail "a prior file or a file of the committed event does not verify: $(grep -v VERIFIED "$dir/out" | head -5)"
	else
		expect_exit 0 "$CUSTOS" --vault "$v" verify "$PRIOR"/*
	fi
	# still writable, the lock released: the same drop goes in again
	find "$v" -name '*.lock' | sed "s|^$v/|  leftover lock file: |"
	local st=0
	"$CUSTOS" --key "$KEY" --vault "$v" ingest --json "$drop" >"$dir/out" 2>"$dir/err" || st=$?
	[ "$st" = 0 ] || fail "after the kill the vault no longer takes an ingest (exit $st): $(cat "$dir/err")"
	grep -q '^{"summary":{.*"refused":0,' "$dir/out" || fail "the re-ingest printed no clean summary"
	[ "$(grep -c '"outcome":"\(stored\|duplicate\)"' "$dir/out")" = "$nfiles" ] ||
		fail "the re-ingest did not store or find all $nfiles files"
	expect_exit 0 "$CUSTOS" --vault "$v" fsck --full
	# every file verifies (the 300-file timer drop: every 10th file unless thorough; fsck
	# --full has just re-hashed every object and the re-ingest accounted for every file)
	{
		find "$PRIOR" -type f
		if [ "$mode" = verify ] && [ "$THOROUGH" != 1 ]; then
			find "$drop" -type f | sort | awk 'NR % 10 == 1'
		else
			find "$drop" -type f
		fi
	} | tr '\n' '\0' | xargs -0 "$CUSTOS" --vault "$v" verify >"$dir/out" 2>"$dir/err" ||
		fail "after the re-ingest a file does not verify: $(grep -v VERIFIED "$dir/out" | head -5)"
}

# kill_point CLASS N: ingest the drop into a fresh copy of the template, SIGKILLed on
# entering the N-th call of syscall CLASS.
kill_point() {
	local class=$1 n=$2 dir="$T_TOP/pt/$1-$2" rc
	T=$dir
	mkdir -p "$dir"
	cp -a "$TEMPLATE" "$dir/v"
	echo "kill point: $class #$n"
	set +e
	{ # (the braces keep bash's "Killed" job message out of the log)
		CUSTOS_PACK_CHUNK=$PACK_CHUNK strace -f -qq -o /dev/null -e trace="$class" \
			-e inject="$class":signal=KILL:when="$n" \
			"$CUSTOS" --key "$KEY" --vault "$dir/v" ingest --json "$DROP" >"$dir/ingest.json" 2>"$dir/ingest.err"
		rc=$?
	} 2>/dev/null
	set -e
	case $rc in
	137) echo "  killed" ;;
	0) echo "  not reached: the ingest finished" ;;
	*) fail "the ingest exited $rc without being killed: $(cat "$dir/ingest.err")" ;;
	esac
	check_vault "$dir" "$dir/v" "$DROP" "$dir/ingest.json" cat "$N_DROP"
}

# timer_point I DELAY_MS: ingest the bigger drop in the background, kill -9 it after DELAY_MS.
timer_point() {
	local i=$1 ms=$2 dir="$T_TOP/pt/timer-$1" pid rc
	T=$dir
	mkdir -p "$dir"
	cp -a "$TEMPLATE" "$dir/v"
	echo "timer kill #$i after ${ms} ms"
	"$CUSTOS" --key "$KEY" --vault "$dir/v" ingest --json "$BIG" >"$dir/ingest.json" 2>"$dir/ingest.err" &
	pid=$!
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -9 "$pid" 2>/dev/null || true
	set +e
	{
		wait "$pid"
		rc=$?
	} 2>/dev/null
	set -e
	case $rc in
	137) echo "  killed" ;;
	0) echo "  finished before the kill" ;;
	*) fail "the ingest exited $rc: $(cat "$dir/ingest.err")" ;;
	esac
	check_vault "$dir" "$dir/v" "$BIG" "$dir/ingest.json" verify "$N_BIG"
}

T_TOP=$T
mkdir -p "$T/pt"

# ------------------------------------------------------------------ count the calls
cp -a "$TEMPLATE" "$T/count-vault"
CUSTOS_PACK_CHUNK=$PACK_CHUNK strace -f -qq -o "$T/count.trace" -e signal=none -e trace="$SYSCALLS" \
	"$CUSTOS" --key "$KEY" --vault "$T/count-vault" ingest --json "$DROP" >"$T/count.json" 2>/dev/null ||
	fail "the uninterrupted ingest under strace failed"
"$PY" -S "$CHECK" reingest "$T/count.json" "$DROP" || fail "the uninterrupted ingest is incomplete"

# "<class> <count> <O_CREAT occurrence numbers>" per syscall seen (max over tracees: strace
# counts calls per syscall and per tracee).
"$PY" -S - "$T/count.trace" >"$T/counts" <<'PY'
import re, sys
per = {}   # (pid, name) -> count
creat = {} # name -> set of occurrence numbers that create files
for line in open(sys.argv[1]):
    m = re.match(r"^(\d+)\s+([a-z0-9_]+)\(", line)
    if not m:
        continue
    pid, name = m.groups()
    k = (pid, name)
    per[k] = per.get(k, 0) + 1
    if "O_CREAT" in line:
        creat.setdefault(name, set()).add(per[k])
counts = {}
for (pid, name), c in per.items():
    counts[name] = max(counts.get(name, 0), c)
for name in sorted(counts):
    print(name, counts[name], " ".join(str(x) for x in sorted(creat.get(name, ()))))
PY

# spread COUNT K: K occurrence numbers spread evenly over 1..COUNT (always 1 and COUNT)
spread() {
	local count=$1 k=$2 i
	if [ "$count" -le "$k" ]; then
		seq 1 "$count"
		return
	fi
	for ((i = 0; i < k; i++)); do
		echo $((1 + i * (count - 1) / (k - 1)))
	done
}

POINTS="$T/points"
: >"$POINTS"
while [ -z "$ONLY" ] && read -r class count creat; do
	if [ "$THOROUGH" = 1 ]; then
		seq 1 "$count"
	else
		case $class in
		openat) { spread "$count" 6; for c in $creat; do echo "$c"; done; } ;;
		write) spread "$count" 15 ;;
		*) seq 1 "$count" ;;
		esac
	fi | sort -n | uniq | sed "s/^/$class /" >>"$POINTS"
done <"$T/counts"
if [ -n "$ONLY" ]; then
	for p in $ONLY; do echo "${p%%:*} ${p#*:}"; done >>"$POINTS"
fi
note "calls in one ingest: $(awk '{printf "%s=%s ", $1, $2}' "$T/counts")"

# ------------------------------------------------------------------ run the points
# A small job pool: each point runs in its own subshell and directory; a failing point
# writes FAIL into its log and the sweep goes on, so one run shows every bad point.
RESULTS="$T/results"
: >"$RESULTS"
running=0
start_job() {
	local name=$1
	shift
	# "$@" must not run inside an if/||: bash would ignore set -e in the whole function.
	(
		trap 'if [ $? = 0 ]; then echo "PASS $name"; else echo "FAIL $name"; fi >>"$RESULTS"' EXIT
		"$@"
	) </dev/null >"$T/pt/$name.log" 2>&1 &
	running=$((running + 1))
	if [ "$running" -ge "$JOBS" ]; then
		wait -n || true
		running=$((running - 1))
	fi
}

while read -r class n; do
	start_job "$class-$n" kill_point "$class" "$n"
done <"$POINTS"

wait
running=0

if [ "$TIMER_RUNS" -gt 0 ]; then
	# How long does an undisturbed ingest of the bigger drop take? Kill within that span
	# (a little past it, so that the kill sometimes lands during or after the commit).
	# Measured with as many ingests side by side as the timer runs will have.
	for ((j = 0; j < JOBS; j++)); do
		(
			cp -a "$TEMPLATE" "$T/timer-vault-$j"
			t0=$(date +%s%N)
			"$CUSTOS" --key "$KEY" --vault "$T/timer-vault-$j" ingest -q "$BIG" >/dev/null ||
				fail "the uninterrupted ingest of the bigger drop failed"
			echo $((($(date +%s%N) - t0) / 1000000)) >"$T/timer-ms-$j"
			rm -rf "$T/timer-vault-$j"
		) &
	done
	wait
	dur=$(cat "$T"/timer-ms-* | sort -n | tail -n 1)
	note "an undisturbed ingest of $N_BIG files takes ${dur} ms ($JOBS side by side)"
	for ((i = 1; i <= TIMER_RUNS; i++)); do
		# one delay per slice of the run, placed at random within the slice
		lo=$(((i - 1) * dur * 3 / 2 / TIMER_RUNS)) hi=$((i * dur * 3 / 2 / TIMER_RUNS))
		ms=$((lo + RANDOM % (hi - lo + 1)))
		start_job "timer-$i" timer_point "$i" "$ms"
	done
fi
wait

# ------------------------------------------------------------------ report
n_pass=$(grep -c '^PASS' "$RESULTS" || true)
n_fail=$(grep -c '^FAIL' "$RESULTS" || true)
n_killed=$(cat "$T"/pt/*.log | grep -c '^  killed$' || true)
n_committed=$(cat "$T"/pt/*.log | grep -c 'committed=1' || true)
for f in "$T"/pt/timer-*.log; do
	[ -e "$f" ] || continue
	note "$(basename "$f" .log): $(sed -n 's/^timer kill #[0-9]* after \(.*\)/\1/p' "$f"):" \
		"$(grep -m1 '^  \(killed\|finished\)' "$f" | sed 's/^  //')," \
		"$(grep -m1 'committed=' "$f" | sed 's/^  //')"
done
per_class=$(awk '{c[$1]++} END {for (k in c) printf "%s=%d\n", k, c[k]}' "$POINTS" | sort | paste -sd' ')
if [ "$n_fail" -gt 0 ]; then
	shown=0
	for name in $(grep '^FAIL' "$RESULTS" | awk '{print $2}' | sort -V); do
		if [ "$shown" -lt 5 ]; then
			echo "=== $name" >&2
			grep -v '^\(---\|  fsck note\|{\)' "$T/pt/$name.log" | tail -n 25 >&2
		fi
		shown=$((shown + 1))
	done
	echo "failed kill points: $(grep '^FAIL' "$RESULTS" | awk '{print $2}' | sort -V | tr '\n' ' ')(seed $SEED)" >&2
	echo "repro: CUSTOS_CRASH_POINTS='$(grep '^FAIL' "$RESULTS" | awk '{print $2}' | grep -v '^timer' |
		sed 's/-\([0-9]*\)$/:\1/' | sort -V | tr '\n' ' ' | sed 's/ $//')' CUSTOS_CRASH_KEEP=1 CUSTOS=$CUSTOS bash $0" >&2
fi
echo "crash: $((n_pass + n_fail)) kill points exercised (strace: ${per_class:-none}; timer: $TIMER_RUNS;" \
	"$n_killed killed, $n_committed with the event committed), $n_fail failed"
[ "$n_fail" -eq 0 ] || exit 1
