#!/usr/bin/env bash
# dkim.sh — DKIM verification of an mbox of N messages (issue 6): `custos dkim-verify`
# against python3-dkim (dkimpy, through tests/interop/dkim-reference.py) on the same
# messages in one run, and the in-vault path (`custos ingest` of the mbox, which verifies
# every message in its analysis event) against `ingest --no-analysis`. See bench/README.md.
#
#   bench/dkim.sh                 N=10000 messages (84 s on 2 vCPUs at 4977cc0, 325 s at
#                                 f2d18da, whose analysis is quadratic (bench/README.md);
#                                 the first run one more minute to generate the mbox)
#   QUICK=1 bench/dkim.sh         N=1000
#   REPS=3 bench/dkim.sh          three interleaved repetitions, medians
#
# Timed, same mbox (bench/make-dkim-mbox.py, generated once per N and SEED and reused):
#   custos      custos dkim-verify --keys KEYS.zone --mbox --json MBOX >custos.json
#   peer        /usr/bin/python3 tests/interop/dkim-reference.py KEYS.zone --mbox MBOX >ref.jsonl
#   ingest      custos ingest -q MBOX into a fresh vault holding the keys (`custos init` and
#               `custos dkim-key add KEYS.zone --obtained-from bench`, untimed): every
#               message stored as a member item, then the DKIM analysis event
#   noanalysis  the same with --no-analysis (fresh vault, keys added too)
# Checked (PASS/FAIL lines; the exit status is 1 on any FAIL or custos failure):
#   custos and dkimpy give the same verdict for every (message K, signature index i),
#   and both the verdicts the messages were built to have (make-dkim-mbox.py --expected);
#   the ingest's analysis event counts the same messages, signatures, passes and fails.
# A disagreement saves the messages concerned, the keys and both verdicts with their
# reasons to BENCH_DIR/dkim-mismatch-STAMP/; a custos dkim-verify that dies (exit status
# other than 0 or 1) is re-run on the messages one batch, then one file, at a time, and
# the messages that make it fail are saved to BENCH_DIR/dkim-crash-STAMP/.
#
# Knobs (environment): BENCH_DIR (bench/out: corpus, vaults, reports), BUILD
# (/tmp/build-bench), CUSTOS (a binary instead of building one), QUICK (0), N (10000;
# 1000 with QUICK=1), SEED (1), REPS (1), TOOLS ("custos peer ingest noanalysis"),
# KEEP (0: delete the vaults and verdict files at the end).
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then d_n=1000; else d_n=10000; fi
N=${N:-$d_n}
SEED=${SEED:-1}
REPS=${REPS:-1}
TOOLS=${TOOLS:-custos peer ingest noanalysis}
KEEP=${KEEP:-0}
for v in N SEED REPS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
done
for t in $TOOLS; do
	case $t in custos | peer | ingest | noanalysis) ;; *) die "unknown tool $t (custos peer ingest noanalysis)" ;; esac
done
# dkimpy and PyNaCl are Debian packages: only the system python sees them
PYTHON=/usr/bin/python3
"$PYTHON" -c 'import dkim, nacl' 2>/dev/null || die "$PYTHON cannot import dkim and nacl (apt install python3-dkim python3-nacl)"
command -v openssl >/dev/null || die "openssl is needed (RSA keys for the mbox)"
"$TIME_BIN" -f '%e' true 2>/dev/null || die "GNU time ($TIME_BIN) is needed for the timing and peak RSS"
REFERENCE=$TOP/tests/interop/dkim-reference.py

mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
custos_bin
isolate_home
CORP=$BENCH_DIR/corpora/dkim$N
RUNS=$BENCH_DIR/runs-dkim
KEY=$HOME/custos.key
STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS=$BENCH_DIR/results-dkim-$STAMP.txt
RAW=$BENCH_DIR/raw-dkim-$STAMP.tsv
rm -rf "$RUNS"
mkdir -p "$RUNS"
printf 'step\trep\twall_s\tcpu_s\trss_mib\tload1\tstatus\n' >"$RAW"
exec > >(tee "$RESULTS") 2>&1

[ -f "$KEY" ] || "$CUSTOS" --key "$KEY" key new --no-passphrase >/dev/null 2>&1 || die "custos key new failed"

FAILURES=()
fail() { # what — a custos failure or a disagreement, repeated in the summary
	FAILURES+=("$1")
	echo "!! $1"
}
rate() { awk -v n="$1" -v t="$2" 'BEGIN{if (t !~ /^[0-9.]+$/) {print "n/a"; exit} if (t < 0.01) t = 0.01; printf "%.0f", n/t}'; }
mbps() { awk -v b="$1" -v t="$2" 'BEGIN{if (t !~ /^[0-9.]+$/) {print "n/a"; exit} if (t < 0.01) t = 0.01; printf "%.1f", b/1e6/t}'; }
mb() { awk -v b="$1" 'BEGIN{printf "%.1f", b/1e6}'; }
ratio() { awk -v c="$1" -v p="$2" 'BEGIN{if (c !~ /^[0-9.]+$/ || p !~ /^[0-9.]+$/) {print "n/a"; exit} if (p < 0.01) p = 0.01; printf "%.2f", c/p}'; }

# The tools of repetition REP: in $TOOLS order on odd repetitions, reversed on even ones.
tool_order() {
	if [ $(($1 % 2)) = 1 ]; then
		echo "$TOOLS"
	else
		tr ' ' '\n' <<<"$TOOLS" | tac | paste -sd' '
	fi
}

# ------------------------------------------------------------ the mbox

MBOX=$CORP/messages.mbox
ZONE=$CORP/keys.zone
EXPECTED=$CORP/expected.tsv
# the marker names the generator's own hash: a changed generator makes a new mbox
spec="make-dkim-mbox.py $N seed $SEED ($(sha256sum "$BENCH_SRC/make-dkim-mbox.py" | cut -c1-12))"
if [ "$(cat "$CORP.complete" 2>/dev/null)" != "$spec" ] || [ ! -f "$MBOX" ] || [ ! -f "$ZONE" ] || [ ! -f "$EXPECTED" ]; then
	note "generating $MBOX ($spec)"
	rm -rf "$CORP" "$CORP.complete"
	mkdir -p "$CORP"
	t0=$SECONDS
	"$PYTHON" "$BENCH_SRC/make-dkim-mbox.py" --seed "$SEED" --expected "$EXPECTED" "$N" "$MBOX" "$ZONE" >"$CORP.log" 2>&1 ||
		die "make-dkim-mbox.py failed: $(tail -5 "$CORP.log")"
	echo "$spec" >"$CORP.complete"
	note "$(cat "$CORP.log") ($((SECONDS - t0)) s)"
fi
MBOX_BYTES=$(stat -c %s "$MBOX")
SIGS=$(awk -F'\t' '{n += split($3, a, ",")} END{print n+0}' "$EXPECTED")
[ "$(wc -l <"$EXPECTED")" = "$N" ] || die "$EXPECTED does not have $N lines: delete $CORP.complete"

# ------------------------------------------------------------ helpers

declare -A WALL CPU RSS STATUS INGEST_SUMMARY

row() { # STEP REP STATUS
	local load
	load=$(cut -d' ' -f1 /proc/loadavg)
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$M_WALL" "$M_CPU" "$M_RSS" "$load" "$3" >>"$RAW"
	note "$1 rep $2: $M_WALL s wall, $M_CPU s cpu, $M_RSS MiB, load $load: $3"
}

medians() { # STEP
	local rows
	rows=$(awk -F'\t' -v s="$1" '$1==s' "$RAW")
	[ -n "$rows" ] || return 0
	WALL[$1]=$(cut -f3 <<<"$rows" | median)
	CPU[$1]=$(cut -f4 <<<"$rows" | median)
	RSS[$1]=$(cut -f5 <<<"$rows" | sort -g | tail -1)
	STATUS[$1]=$(cut -f7 <<<"$rows" | sort -u | paste -sd';')
	[ "${STATUS[$1]}" = ok ] || WALL[$1]=FAIL
}

label() {
	case $1 in
	custos) echo "custos dkim-verify --mbox --json" ;;
	peer) echo "dkimpy (dkim-reference.py --mbox)" ;;
	ingest) echo "custos ingest (DKIM analysis)" ;;
	noanalysis) echo "custos ingest --no-analysis" ;;
	esac
}

# vault_with_keys DIR — a fresh vault at DIR with the mbox's keys (untimed setup)
vault_with_keys() {
	rm -rf "$1"
	"$CUSTOS" --key "$KEY" init "$1" >"$1.init.log" 2>&1 || die "custos init $1 failed: $(tail -3 "$1.init.log")"
	"$CUSTOS" --key "$KEY" --vault "$1" dkim-key add "$ZONE" --obtained-from bench >"$1.keys.log" 2>&1 ||
		die "custos dkim-key add failed: $(tail -3 "$1.keys.log")"
}

# timed LOG CMD... — sync, the mbox into the page cache, then measure CMD
timed() {
	local log=$1
	shift
	sync -f "$RUNS"
	cat "$MBOX" >/dev/null
	measure "$log" "$@"
}

# The messages of the mbox as files message-K.eml in DIR (dkim-reference.py's mboxrd reader).
split_mbox() {
	"$PYTHON" - "$REFERENCE" "$MBOX" "$1" <<'EOF'
import importlib.util, os, sys
spec = importlib.util.spec_from_file_location('dkim_reference', sys.argv[1])
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)
os.makedirs(sys.argv[3], exist_ok=True)
for k, msg in enumerate(ref.read_mboxrd(open(sys.argv[2], 'rb').read()), 1):
    with open(os.path.join(sys.argv[3], 'message-%d.eml' % k), 'wb') as f:
        f.write(msg)
EOF
}

# hunt RC LOG — custos dkim-verify died on the mbox: find the messages that make it die
# (batches of 250 files, then the files of a failing batch one by one) and save them.
hunt() {
	local rc=$1 log=$2 dir=$BENCH_DIR/dkim-crash-$STAMP split b r f found=0
	mkdir -p "$dir"
	cp "$ZONE" "$dir/keys.zone"
	cp "$log" "$dir/mbox-run.log"
	echo "custos dkim-verify --keys KEYS.zone --mbox --json $MBOX: exit status $rc" >"$dir/README"
	split=$RUNS/split
	rm -rf "$split"
	split_mbox "$split" || { fail "could not split the mbox to look for the message"; return; }
	seq "$(find "$split" -name "message-*.eml" | wc -l)" | sed "s/.*/message-&.eml/" | split -l 250 - "$RUNS/batch."
	for b in "$RUNS"/batch.*; do
		(cd "$split" && xargs -a "$b" "$CUSTOS" dkim-verify --keys "$ZONE" --json >/dev/null 2>"$RUNS/batch.err")
		r=$?
		[ "$r" -le 1 ] && continue
		while read -r f; do
			(cd "$split" && "$CUSTOS" dkim-verify --keys "$ZONE" --json "$f" >/dev/null 2>"$RUNS/one.err")
			r=$?
			[ "$r" -le 1 ] && continue
			found=$((found + 1))
			echo "$f: exit status $r: $(tail -2 "$RUNS/one.err" | tr '\n' ' ')" | tee -a "$dir/README"
			[ "$found" -gt 20 ] || cp "$split/$f" "$dir/"
		done <"$b"
	done
	rm -f "$RUNS"/batch.*
	if [ "$found" = 0 ]; then
		echo "no single message makes custos dkim-verify fail: only the whole mbox does (kept in the mbox: $MBOX)" | tee -a "$dir/README"
	fi
	fail "custos dkim-verify exit status $rc on the mbox ($(tail -2 "$log" | tr '\n' ' ')); $found message(s) fail alone; saved in $dir"
}

# ------------------------------------------------------------ the runs

echo "custos DKIM benchmark (issue 6), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "command: QUICK=$QUICK N=$N SEED=$SEED REPS=$REPS TOOLS=\"$TOOLS\" bench/dkim.sh"
machine_info
echo "peer:    dkimpy $(dpkg-query -W -f '${Version}' python3-dkim 2>/dev/null || echo '?') (python3-dkim), PyNaCl $(dpkg-query -W -f '${Version}' python3-nacl 2>/dev/null || echo '?'), $("$PYTHON" --version 2>&1)"
echo "mbox:    $MBOX: $N messages, $SIGS signatures, $(mb "$MBOX_BYTES") MB ($(cat "$CORP.complete"); $(cut -f2 "$EXPECTED" | cut -d: -f1 | sort | uniq -c | awk '{printf "%s%s %d", s, $2, $1; s=", "}'))"
START=$SECONDS
export CUSTOS ZONE MBOX PYTHON REFERENCE R=$RUNS
ANALYSIS_LINE=""
for rep in $(seq "$REPS"); do
	for tool in $(tool_order "$rep"); do
		case $tool in
		custos)
			rm -f "$RUNS/custos.json"
			# shellcheck disable=SC2016 # expanded by the timed bash -c
			timed "$RUNS/custos.log" bash -c 'exec "$CUSTOS" dkim-verify --keys "$ZONE" --mbox --json "$MBOX" >"$R/custos.json"'
			st=ok
			if [ "$M_RC" -gt 1 ]; then
				st="FAILED rc=$M_RC"
				row custos "$rep" "$st"
				hunt "$M_RC" "$RUNS/custos.log"
				continue
			fi
			row custos "$rep" "$st"
			;;
		peer)
			rm -f "$RUNS/ref.jsonl"
			# shellcheck disable=SC2016
			timed "$RUNS/peer.log" bash -c 'exec "$PYTHON" "$REFERENCE" "$ZONE" --mbox "$MBOX" >"$R/ref.jsonl"'
			st=ok
			[ "$M_RC" = 0 ] || st="FAILED rc=$M_RC: $(tail -2 "$RUNS/peer.log" | tr '\n' ' ')"
			row peer "$rep" "$st"
			;;
		ingest | noanalysis)
			v=$RUNS/vault-$tool
			vault_with_keys "$v"
			opt=()
			[ "$tool" = ingest ] || opt=(--no-analysis)
			timed "$RUNS/$tool.log" "$CUSTOS" --key "$KEY" --vault "$v" ingest -q "${opt[@]}" "$MBOX"
			st=ok
			[ "$M_RC" = 0 ] || st="FAILED rc=$M_RC"
			[ "$st" != ok ] || grep -q ' stored, 0 duplicate, 0 refused' "$RUNS/$tool.log" || st="FAILED: no 'stored, 0 duplicate, 0 refused' summary"
			if [ "$tool" = ingest ]; then
				ANALYSIS_LINE=$(grep '^analysis event' "$RUNS/$tool.log" | tail -1)
				[ -n "$ANALYSIS_LINE" ] || [ "$st" != ok ] || st="FAILED: no 'analysis event' line"
			fi
			if [ "$tool" = noanalysis ] && grep -q '^analysis event' "$RUNS/$tool.log"; then
				st="FAILED: an analysis event despite --no-analysis"
			fi
			[ "$st" = ok ] || fail "$(label "$tool"): $st: $(tail -3 "$RUNS/$tool.log" | tr '\n' ' ') (log: $RUNS/$tool.log)"
			row "$tool" "$rep" "$st"
			INGEST_SUMMARY[$tool]=$(grep ' stored, ' "$RUNS/$tool.log" | tail -1)
			[ "$KEEP" = 1 ] || rm -rf "$v"
			;;
		esac
	done
done
for t in custos peer ingest noanalysis; do medians "$t"; done

echo
echo "== DKIM verification of $N messages ($SIGS signatures, $(mb "$MBOX_BYTES") MB), medians of $REPS"
printf '\n%-36s %8s %8s %8s %9s %9s %7s %12s %9s\n' "" "wall s" "cpu s" "RSS MiB" "msgs/s" "sigs/s" "MB/s" "custos/peer" "(cpu)"
for t in custos peer ingest noanalysis; do
	w=${WALL[$t]:-}
	[ -n "$w" ] || continue
	if [ "$w" = FAIL ]; then
		printf '%-36s %8s  %s\n' "$(label "$t")" FAIL "${STATUS[$t]}"
		continue
	fi
	r="" rc=""
	if [ "$t" = custos ]; then
		r=$(ratio "$w" "${WALL[peer]:-}")
		rc=$(ratio "${CPU[custos]}" "${CPU[peer]:-}")
		[ "$r" = n/a ] || r="${r}x"
		[ "$rc" = n/a ] || rc="${rc}x"
	fi
	printf '%-36s %8s %8s %8s %9s %9s %7s %12s %9s\n' "$(label "$t")" "$w" "${CPU[$t]}" "${RSS[$t]}" \
		"$(rate "$N" "$w")" "$(rate "$SIGS" "$w")" "$(mbps "$MBOX_BYTES" "$w")" "$r" "$rc"
done
echo "(custos/peer < 1: custos takes that fraction of dkimpy's time; msgs/s, sigs/s, MB/s: the mbox's messages, signatures and bytes per wall second)"
if [[ ${WALL[custos]:-} =~ ^[0-9.]+$ && ${WALL[peer]:-} =~ ^[0-9.]+$ ]]; then
	echo "custos dkim-verify is $(ratio "${WALL[peer]}" "${WALL[custos]}")x faster than dkimpy in wall time, $(ratio "${CPU[peer]}" "${CPU[custos]}")x in CPU time"
fi
for t in ingest noanalysis; do
	[ -z "${INGEST_SUMMARY[$t]:-}" ] || echo "$(label "$t"): ${INGEST_SUMMARY[$t]}"
done
[ -z "$ANALYSIS_LINE" ] || echo "custos ingest: $ANALYSIS_LINE"
if [[ ${WALL[ingest]:-} =~ ^[0-9.]+$ && ${WALL[noanalysis]:-} =~ ^[0-9.]+$ ]]; then
	awk -v a="${WALL[ingest]}" -v b="${WALL[noanalysis]}" -v ca="${CPU[ingest]}" -v cb="${CPU[noanalysis]}" -v n="$N" 'BEGIN{
		printf "analysis share of the ingest: %.2f s of %.2f s wall (%.0f %%), %.2f s of %.2f s CPU (%.0f %%); %.3f ms wall per message\n",
			a-b, a, (a>0 ? 100*(a-b)/a : 0), ca-cb, ca, (ca>0 ? 100*(ca-cb)/ca : 0), 1000*(a-b)/n }'
fi

# ------------------------------------------------------------ agreement

echo
echo "== agreement (every message K, signature index i)"
AGREE=$RUNS/agree.txt
if [ -s "$RUNS/custos.json" ] && [ -s "$RUNS/ref.jsonl" ]; then
	"$PYTHON" - "$RUNS/custos.json" "$RUNS/ref.jsonl" "$EXPECTED" "$ANALYSIS_LINE" "$RUNS/mismatch.tsv" >"$AGREE" 2>&1 <<'EOF'
import json, re, sys
custos_json, ref_jsonl, expected, analysis, out = sys.argv[1:6]

def k_of(name):
    m = re.search(r'(?:^|!/)message-(\d+)\.eml$', name)
    if not m:
        raise SystemExit('unexpected file name %r' % name)
    return int(m.group(1))

ours, reasons = {}, {}
for o in json.load(open(custos_json)):
    key = (k_of(o['file']), o['signature']['index'])
    if key in ours:
        raise SystemExit('custos reports %s twice' % (key,))
    ours[key] = o['signature']['verdict']
    reasons[key] = o['signature'].get('reason', '')
ref = {}
for line in open(ref_jsonl):
    o = json.loads(line)
    ref[(k_of(o['file']), o['index'])] = o['verdict']
design, kinds = {}, {}
for line in open(expected):
    k, kind, verdicts = line.rstrip('\n').split('\t')
    kinds[int(k)] = kind
    for i, v in enumerate(verdicts.split(',')):
        design[(int(k), i)] = v

def compare(a, an, b, bn):
    bad = []
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            bad.append((key, a.get(key), b.get(key)))
    verdict = 'PASS' if not bad else 'FAIL'
    msgs = len({k for k, _ in set(a) | set(b)})
    detail = '%d of %d signatures agree (%d messages)' % (len(set(a) | set(b)) - len(bad), len(set(a) | set(b)), msgs)
    if bad:
        detail += '; first: ' + ', '.join('message-%d[%d] %s %s, %s %s' % (k, i, an, x, bn, y)
                                         for (k, i), x, y in bad[:3])
    print('%-58s %s  (%s)' % ('%s vs %s' % (an, bn), verdict, detail))
    return bad

bad = compare(ours, 'custos dkim-verify', ref, 'dkimpy')
compare(ours, 'custos dkim-verify', design, 'the design')
compare(ref, 'dkimpy', design, 'the design')
with open(out, 'w') as f:
    for (k, i), x, y in bad:
        f.write('%d\t%d\t%s\t%s\t%s\t%s\n' % (k, i, x, y, kinds.get(k, '?'), reasons.get((k, i), '')))
passes = sum(v == 'pass' for v in ours.values())
fails = len(ours) - passes
print('custos dkim-verify: %d messages, %d signatures (%d pass, %d fail); dkimpy: %d pass, %d fail'
      % (len({k for k, _ in ours}), len(ours), passes, fails,
         sum(v == 'pass' for v in ref.values()), sum(v == 'fail' for v in ref.values())))
if analysis:
    m = re.search(r'(\d+) messages, (\d+) DKIM signatures \((\d+) pass, (\d+) fail', analysis)
    got = tuple(int(x) for x in m.groups()) if m else None
    want = (len({k for k, _ in ours}), len(ours), passes, fails)
    print('%-58s %s  (analysis event: %s; dkim-verify: %d messages, %d signatures, %d pass, %d fail)'
          % ('ingest analysis counts vs custos dkim-verify', 'PASS' if got == want else 'FAIL',
             'unparsable' if got is None else '%d messages, %d signatures, %d pass, %d fail' % got, *want))
EOF
	prc=$?
	cat "$AGREE"
	[ "$prc" = 0 ] || fail "the agreement check could not run (exit status $prc): $(tail -1 "$AGREE")"
	grep -q ' FAIL  (' "$AGREE" && fail "verdicts disagree: $(grep ' FAIL  (' "$AGREE" | cut -c1-58 | sed 's/ *$//' | paste -sd';')"
	if [ -s "$RUNS/mismatch.tsv" ]; then
		dir=$BENCH_DIR/dkim-mismatch-$STAMP
		split_mbox "$RUNS/split" && mkdir -p "$dir" && cp "$ZONE" "$dir/keys.zone" && {
			echo "K	index	custos	dkimpy	kind	custos reason" >"$dir/mismatch.tsv"
			cat "$RUNS/mismatch.tsv" >>"$dir/mismatch.tsv"
			cut -f1 "$RUNS/mismatch.tsv" | sort -un | head -20 | while read -r k; do
				cp "$RUNS/split/message-$k.eml" "$dir/"
				"$PYTHON" "$REFERENCE" -v "$ZONE" "$dir/message-$k.eml" >>"$dir/dkimpy.txt" 2>&1
				"$CUSTOS" dkim-verify --keys "$ZONE" "$dir/message-$k.eml" >>"$dir/custos.txt" 2>&1
			done
		}
		echo "the disagreeing messages (up to 20), the keys, and both verdicts with reasons: $dir"
	fi
else
	echo "agreement                                                  n/a  (no verdicts: custos.json or ref.jsonl missing or empty)"
	[[ " $TOOLS " == *" custos "* && " $TOOLS " == *" peer "* ]] && fail "no verdicts to compare"
fi

if [ "${#FAILURES[@]}" -gt 0 ]; then
	echo
	echo "== failures (${#FAILURES[@]})"
	printf '%s\n' "${FAILURES[@]}"
fi
echo
echo "total: $((SECONDS - START)) s (the mbox generation, when it ran, not included)"
if [ "$KEEP" = 1 ]; then
	echo "kept: $RUNS"
else
	rm -rf "$RUNS"
fi
echo "raw figures: $RAW"
echo "this report: $RESULTS"
[ "${#FAILURES[@]}" = 0 ]
