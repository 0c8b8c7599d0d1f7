#!/usr/bin/env bash
# transfer.sh — exhibit packages and transfer bundles (issue 5), each against a peer that
# moves the same bytes with no custody checks, in one run. See bench/README.md.
#
#   bench/transfer.sh                 the three parts at full size (~5-10 min on 2 vCPUs)
#   QUICK=1 bench/transfer.sh         N_IMPORT=5000 N_EXPORT_VAULT=2000 SIZES="100 1000 5000"
#   PARTS=import REPS=3 bench/transfer.sh
#
# The parts:
#   export    a vault of N_EXPORT_VAULT mixed files (one ingest); `custos export` of
#             N_EXHIBITS of its files (ids from `ls --json`, evenly spaced) and
#             `custos verify-package` of the result, against `tar -cf` of the same source
#             files + `sha256sum` + `sha512sum` (a plain BagIt bag by hand), and
#             `tar -xf` + `sha256sum -c` + `sha512sum -c` of that (checking it by hand)
#   overhead  one vault grown to each size in SIZES (tiny files, batches of at most BATCH,
#             a checkpoint at each size); at each size one exhibit exported with
#             --no-content: the proof's bytes and `inclusion` lines and the package's
#             bytes, for the vault's first item (the same exhibit at every size) and its
#             newest; PASS/FAIL: inclusion hashes <= ceil(log2(tree size)), and the first
#             item's package grows < 2x from the smallest size to the largest
#   import    an origin vault of N_IMPORT tiny files (ingests of BATCH), checkpointed;
#             `custos bundle` (full) against `git bundle create --all` of custody.git +
#             `tar -cf` of objects/, and `custos import` into a fresh replica against
#             `git clone --mirror --no-local` of custody.git + `cp -a` of objects/; then,
#             untimed, `custos fsck --full` on the replica and its custody.git main equal
#             to the origin's
#
# Knobs (environment): BENCH_DIR (work files go there; default /tmp/custos-bench-transfer,
# reports then to bench/out), BUILD (/tmp/build-bench), CUSTOS (a binary instead of building
# one), QUICK (0), PARTS ("export overhead import"), TOOLS ("peer custos"), REPS (1),
# N_EXPORT_VAULT (10000; 2000 with QUICK=1), N_EXHIBITS (1000), SIZES ("100 1000 10000
# 100000"; "100 1000 5000"), N_IMPORT (100000; 5000), BATCH (20000: files per filler
# ingest), FSCK (1: fsck --full the replica after each import), KEEP (0: delete the vaults,
# packages and bundles at the end), EXPORT_TARGET, VERIFY_TARGET, BUNDLE_TARGET,
# IMPORT_TARGET (unset: none; a number: a PASS/FAIL line, peer/custos wall >= it).
set -uo pipefail
# As in archive.sh: the work directory is chosen before lib.sh gives BENCH_DIR its default
# (bench/out), since the vaults, bundles and corpus are large and live elsewhere.
WORK=${BENCH_DIR:-/tmp/custos-bench-transfer}
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
	d_import=5000 d_export=2000 d_sizes="100 1000 5000"
else
	d_import=100000 d_export=10000 d_sizes="100 1000 10000 100000"
fi
N_IMPORT=${N_IMPORT:-$d_import}
N_EXPORT_VAULT=${N_EXPORT_VAULT:-$d_export}
SIZES=${SIZES:-$d_sizes}
N_EXHIBITS=${N_EXHIBITS:-1000}
BATCH=${BATCH:-20000}
PARTS=${PARTS:-export overhead import}
TOOLS=${TOOLS:-peer custos}
REPS=${REPS:-1}
FSCK=${FSCK:-1}
KEEP=${KEEP:-0}
for v in N_IMPORT N_EXPORT_VAULT N_EXHIBITS BATCH REPS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
done
SIZES=$(tr ' ' '\n' <<<"$SIZES" | grep . | sort -n -u | paste -sd' ')
for n in $SIZES; do [[ $n =~ ^[1-9][0-9]*$ ]] || die "SIZES must be positive integers, not '$n'"; done

mkdir -p "$BENCH_DIR" "$WORK"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
WORK=$(cd "$WORK" && pwd)
"$TIME_BIN" -f '%e' true 2>/dev/null || die "GNU time ($TIME_BIN) is needed for the timing and peak RSS"
for t in git tar sha256sum sha512sum cp; do command -v "$t" >/dev/null || die "$t is needed"; done
custos_bin
isolate_home
CORP=$WORK/corpora
RUNS=$WORK/runs
KEY=$HOME/custos.key
RKEY=$HOME/replica.key
PUB=$HOME/custos.pub
STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS=$BENCH_DIR/results-transfer-$STAMP.txt
RAW=$BENCH_DIR/raw-transfer-$STAMP.tsv
mkdir -p "$CORP" "$RUNS"
printf 'step\ttool\trep\twall_s\tcpu_s\trss_mib\tsync_s\tload1\titems\tcontent_bytes\tout_bytes\tstatus\n' >"$RAW"
exec > >(tee "$RESULTS") 2>&1

[ -f "$KEY" ] || "$CUSTOS" --key "$KEY" key new --no-passphrase >/dev/null 2>&1 || die "custos key new failed"
[ -f "$RKEY" ] || "$CUSTOS" --key "$RKEY" key new --no-passphrase >/dev/null 2>&1 || die "custos key new (replica) failed"
"$CUSTOS" --key "$KEY" key show >"$PUB" || die "custos key show failed"

declare -A WALL CPU RSS SYNC OUTB STATUS CONTENT ITEMS
FAILURES=()

# The tools of repetition REP: in $TOOLS order on odd repetitions, reversed on even ones,
# so neither always runs first (warm caches, a busy neighbour).
tool_order() {
	if [ $(($1 % 2)) = 1 ]; then
		echo "$TOOLS"
	else
		tr ' ' '\n' <<<"$TOOLS" | tac | paste -sd' '
	fi
}

# ------------------------------------------------------------ helpers

fsize() { stat -c %s "$1" 2>/dev/null || echo 0; }
tree_bytes() { du -s --apparent-size --block-size=1 "$@" 2>/dev/null | awk '{s+=$1} END{print s+0}'; }

# rate COUNT SECONDS, mbps BYTES SECONDS: per second (a wall time of 0.00 counts as 0.01)
rate() { awk -v n="$1" -v t="$2" 'BEGIN{if (t !~ /^[0-9.]+$/) {print "n/a"; exit} if (t < 0.01) t = 0.01; printf "%.0f", n/t}'; }
mbps() { awk -v b="$1" -v t="$2" 'BEGIN{if (t !~ /^[0-9.]+$/) {print "n/a"; exit} if (t < 0.01) t = 0.01; printf "%.1f", b/1e6/t}'; }
mb() { awk -v b="$1" 'BEGIN{printf "%.1f", b/1e6}'; }
# ratio C P: C/P to two decimals ("n/a" unless both are numbers; P of 0.00 counts as 0.01)
ratio() { awk -v c="$1" -v p="$2" 'BEGIN{if (c !~ /^[0-9.]+$/ || p !~ /^[0-9.]+$/) {print "n/a"; exit} if (p < 0.01) p = 0.01; printf "%.2f", c/p}'; }

fail() { # what — a custos failure, repeated in the summary
	FAILURES+=("$1")
	echo "!! $1"
}

# fill_tiny VAULT FROM TO — ingest tiny distinct files FROM..TO-1 (gencorpus.py tiny), at most
# BATCH per ingest, each batch generated in VAULT's directory and deleted after; adds the
# bytes the ingests report to FILLED_BYTES. Untimed setup: dies on any failure.
FILLED_BYTES=0
fill_tiny() {
	local v=$1 from=$2 to=$3 n tmp log b t0
	tmp=$(dirname "$v")/batch
	log=$tmp.log
	while [ "$from" -lt "$to" ]; do
		n=$((to - from))
		[ "$n" -le "$BATCH" ] || n=$BATCH
		rm -rf "$tmp"
		t0=$(date +%s.%N)
		"$PYTHON" "$BENCH_SRC/gencorpus.py" tiny "$tmp" "$from" "$n" || die "gencorpus.py tiny failed"
		"$CUSTOS" --key "$KEY" --vault "$v" ingest -q "$tmp" >"$log" 2>&1 ||
			die "filler ingest into $v failed: $(tail -3 "$log")"
		grep -q ": $n stored, 0 duplicate, 0 refused" "$log" ||
			die "filler batch not stored as expected: $(tail -3 "$log")"
		b=$(grep -o '0 refused, [0-9]* bytes' "$log" | tail -1 | awk '{print $3}')
		FILLED_BYTES=$((FILLED_BYTES + ${b:-0}))
		note "$(basename "$(dirname "$v")"): $from + $n tiny files ingested ($(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s with generation)"
		rm -rf "$tmp"
		from=$((from + n))
	done
	rm -f "$log"
}

checkpoint() { # vault
	"$CUSTOS" --key "$KEY" --vault "$1" checkpoint >"$1.checkpoint" 2>&1 ||
		die "custos checkpoint of $1 failed: $(tail -3 "$1.checkpoint")"
}

# timed STEP TOOL REP LOG ITEMS CONTENT CMD... — measure CMD (after sync -f), then record a
# row; the caller checks the outcome first via STATUS_OK (ok, or why not).
timed() {
	local step=$1 tool=$2 rep=$3 log=$4
	shift 4
	sync -f "$RUNS"
	measure "$log" "$@"
	T_SYNC=$(sync_time "$RUNS")
}
row() { # STEP TOOL REP ITEMS CONTENT OUT STATUS
	local load
	load=$(cut -d' ' -f1 /proc/loadavg)
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$M_WALL" "$M_CPU" "$M_RSS" "$T_SYNC" \
		"$load" "$4" "$5" "$6" "$7" >>"$RAW"
	note "$1 rep $3: $2 $M_WALL s wall, $M_CPU s cpu, $M_RSS MiB, sync $T_SYNC s, load $load: $7"
}

# medians STEP: WALL, CPU, SYNC (medians), RSS (largest), OUTB (median), STATUS of each tool
medians() {
	local step=$1 tool rows
	for tool in custos peer; do
		rows=$(awk -F'\t' -v s="$step" -v t="$tool" '$1==s && $2==t' "$RAW")
		[ -n "$rows" ] || continue
		WALL[$step,$tool]=$(cut -f4 <<<"$rows" | median)
		CPU[$step,$tool]=$(cut -f5 <<<"$rows" | median)
		RSS[$step,$tool]=$(cut -f6 <<<"$rows" | sort -g | tail -1)
		SYNC[$step,$tool]=$(cut -f7 <<<"$rows" | median)
		OUTB[$step,$tool]=$(cut -f11 <<<"$rows" | median)
		STATUS[$step,$tool]=$(cut -f12 <<<"$rows" | sort -u | paste -sd';')
		[ "${STATUS[$step,$tool]}" = ok ] || WALL[$step,$tool]=FAIL
	done
}

label() { # step tool
	case $1,$2 in
	export,custos) echo "custos export" ;;
	export,peer) echo "tar -cf + sha256sum + sha512sum" ;;
	verify,custos) echo "custos verify-package" ;;
	verify,peer) echo "tar -xf + sha256sum -c + sha512sum -c" ;;
	bundle,custos) echo "custos bundle" ;;
	bundle,peer) echo "git bundle --all + tar -cf objects/" ;;
	import,custos) echo "custos import" ;;
	import,peer) echo "git clone --mirror + cp -a objects/" ;;
	esac
}

print_table() { # step...
	local step tool
	printf '\n%-40s %8s %8s %8s %7s %9s %8s %9s %12s %11s\n' "step" "wall s" "cpu s" "RSS MiB" "sync s" "items/s" "MB/s" "out MB" "custos/peer" "(cpu)"
	for step in "$@"; do
		for tool in custos peer; do
			local w=${WALL[$step,$tool]:-} r="" rc=""
			[ -n "$w" ] || continue
			if [ "$w" = FAIL ]; then
				printf '%-40s %8s  %s\n' "$(label "$step" "$tool")" FAIL "${STATUS[$step,$tool]}"
				continue
			fi
			if [ "$tool" = custos ]; then
				r=$(ratio "$w" "${WALL[$step,peer]:-}")
				rc=$(ratio "${CPU[$step,custos]}" "${CPU[$step,peer]:-}")
				[ "$r" = n/a ] || r="${r}x"
				[ "$rc" = n/a ] || rc="${rc}x"
			fi
			printf '%-40s %8s %8s %8s %7s %9s %8s %9s %12s %11s\n' "$(label "$step" "$tool")" "$w" "${CPU[$step,$tool]}" \
				"${RSS[$step,$tool]}" "${SYNC[$step,$tool]}" "$(rate "${ITEMS[$step]}" "$w")" \
				"$(mbps "${CONTENT[$step]}" "$w")" "$(mb "${OUTB[$step,$tool]}")" "$r" "$rc"
		done
	done
	echo "(custos/peer > 1: custos takes that many times the peer's time; MB/s: the exhibits' or objects' content bytes per wall second, the same bytes for both; out MB: what the step wrote (export, bundle, import) or read (verify); sync s: syncfs right after, untimed)"
}

# ------------------------------------------------------------ part 1: export

# the mixed corpus, generated once (a .complete marker records its parameters)
mixed_corpus() {
	local dir=$CORP/mixed$N_EXPORT_VAULT spec="gencorpus.py mixed $N_EXPORT_VAULT seed 1"
	if [ "$(cat "$dir.complete" 2>/dev/null)" != "$spec" ] || [ ! -d "$dir" ]; then
		note "generating $dir ($spec)"
		rm -rf "$dir" "$dir.complete"
		"$PYTHON" "$BENCH_SRC/gencorpus.py" mixed "$dir" "$N_EXPORT_VAULT" 1 || die "gencorpus.py mixed failed"
		echo "$spec" >"$dir.complete"
	fi
	echo "$dir"
}

part_export() {
	local src d=$RUNS/export v rep tool st t0
	src=$(mixed_corpus)
	rm -rf "$d"
	mkdir -p "$d"
	fresh_custos_vault "$d" || die "custos init $d/vault failed"
	v=$d/vault
	t0=$(date +%s.%N)
	"$CUSTOS" --key "$KEY" --vault "$v" ingest -q "$src" >"$d/ingest.log" 2>&1 ||
		die "ingest of $src failed: $(tail -3 "$d/ingest.log")"
	local ingest_s
	ingest_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
	checkpoint "$v"
	"$CUSTOS" --vault "$v" ls --json >"$d/items.jsonl" || die "custos ls --json failed"
	# N_EXHIBITS of the files (not archive members: those have no file of their own for the
	# peer), evenly spaced in log order; ids, paths (relative to $CORP) and content bytes
	local sel
	sel=$("$PYTHON" - "$d/items.jsonl" "$N_EXHIBITS" "$d/ids" "$d/paths" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
files = [o for o in rows if "container" not in o]
k = min(int(sys.argv[2]), len(files))
step = len(files) / k
sel = [files[int(i * step)] for i in range(k)]
with open(sys.argv[3], "w") as a, open(sys.argv[4], "w") as b:
    for o in sel:
        a.write(o["id"] + "\n")
        b.write(o["path"] + "\n")
print(len(rows), len(files), k, sum(o["size"] for o in sel))
EOF
	) || die "selecting the exhibits failed"
	local n_items n_files k bytes
	read -r n_items n_files k bytes <<<"$sel"
	ITEMS[export]=$k ITEMS[verify]=$k CONTENT[export]=$bytes CONTENT[verify]=$bytes
	echo
	echo "== export: $k exhibits of a vault of $n_items items ($N_EXPORT_VAULT mixed files, 1-16 KiB, and the members of its zip/docx/gz files; one ingest event, $ingest_s s, then a checkpoint); the exhibits: $k of its $n_files files, evenly spaced, $(mb "$bytes") MB"
	(cd "$CORP" && xargs -d '\n' -a "$d/paths" ls >/dev/null) || die "an exhibit's source file is missing under $CORP"
	local ids
	mapfile -t ids <"$d/ids"
	export D=$d CORP
	for rep in $(seq "$REPS"); do
		for tool in $(tool_order "$rep"); do
			case $tool in
			custos)
				rm -f "$d/pkg.tar"
				warm "$v/objects"
				timed export custos "$rep" "$d/export.log" "$CUSTOS" --key "$KEY" --vault "$v" export "${ids[@]}" -o "$d/pkg.tar"
				st=ok
				[ "$M_RC" = 0 ] || st="FAILED rc=$M_RC (see $d/export.log)"
				[ "$st" != ok ] || grep -q "package $d/pkg.tar: $k exhibit(s)" "$d/export.log" || st="FAILED: no '$k exhibit(s)' summary (see $d/export.log)"
				[ "$st" = ok ] || fail "custos export: $st: $(tail -2 "$d/export.log" | tr '\n' ' ')"
				row export custos "$rep" "$k" "$bytes" "$(fsize "$d/pkg.tar")" "$st"
				[ "$st" = ok ] || continue
				warm "$d/pkg.tar"
				timed verify custos "$rep" "$d/verify.log" "$CUSTOS" verify-package "$d/pkg.tar" --trust "$PUB"
				st=ok
				[ "$M_RC" = 0 ] || st="FAILED rc=$M_RC (see $d/verify.log)"
				[ "$st" != ok ] || grep -q "^ok: .*: $k exhibit(s)" "$d/verify.log" || st="FAILED: no 'ok: ... $k exhibit(s)' (see $d/verify.log)"
				[ "$st" = ok ] || fail "custos verify-package: $st: $(grep -v '^exhibit .*proof verifies$' "$d/verify.log" | tail -3 | tr '\n' ' ')"
				row verify custos "$rep" "$k" "$bytes" "$(fsize "$d/pkg.tar")" "$st"
				;;
			peer)
				rm -f "$d/peer.tar" "$d/peer-manifest-sha256.txt" "$d/peer-manifest-sha512.txt"
				(cd "$CORP" && xargs -d '\n' -a "$d/paths" cat >/dev/null)
				# shellcheck disable=SC2016 # expanded by the timed bash -c
				timed export peer "$rep" "$d/peer-export.log" bash -c 'cd "$CORP" && tar -cf "$D/peer.tar" -T "$D/paths" &&
					xargs -d "\n" -a "$D/paths" sha256sum >"$D/peer-manifest-sha256.txt" &&
					xargs -d "\n" -a "$D/paths" sha512sum >"$D/peer-manifest-sha512.txt"'
				st=ok
				[ "$M_RC" = 0 ] || st="FAILED rc=$M_RC (see $d/peer-export.log)"
				[ "$(wc -l <"$d/peer-manifest-sha512.txt" 2>/dev/null)" = "$k" ] || st="FAILED: manifest of $k lines expected"
				row export peer "$rep" "$k" "$bytes" "$(($(fsize "$d/peer.tar") + $(fsize "$d/peer-manifest-sha256.txt") + $(fsize "$d/peer-manifest-sha512.txt")))" "$st"
				[ "$st" = ok ] || continue
				rm -rf "$d/peer-x"
				warm "$d/peer.tar"
				# shellcheck disable=SC2016
				timed verify peer "$rep" "$d/peer-verify.log" bash -c 'mkdir "$D/peer-x" && tar -xf "$D/peer.tar" -C "$D/peer-x" &&
					cd "$D/peer-x" && sha256sum -c --quiet "$D/peer-manifest-sha256.txt" && sha512sum -c --quiet "$D/peer-manifest-sha512.txt"'
				st=ok
				[ "$M_RC" = 0 ] || st="FAILED rc=$M_RC (see $d/peer-verify.log)"
				row verify peer "$rep" "$k" "$bytes" "$(fsize "$d/peer.tar")" "$st"
				rm -rf "$d/peer-x"
				;;
			esac
		done
	done
	medians export
	medians verify
	print_table export verify
	[ ! -f "$d/pkg.tar" ] || echo "custos package: $(mb "$(fsize "$d/pkg.tar")") MB for $(mb "$bytes") MB of exhibits ($(tar -tf "$d/pkg.tar" | grep -vc '/$') files; its events: $(tar -tvf "$d/pkg.tar" | awk '$6 ~ /\/custos\/events\/[0-9]+\.event$/ {printf "%s%s %.1f MB", sep, $6, $3/1e6; sep=", "}'))"
}

# ------------------------------------------------------------ part 2: overhead per exhibit

ceil_log2() { awk -v n="$1" 'BEGIN{c=0; while (2^c < n) c++; print c}'; }

# one_exhibit VAULT ID OUT — export ID alone (--no-content) to OUT.tar, verify it; prints
# "tree proof_bytes inclusion events_bytes pkg_bytes wall_s cpu_s rss_mib status"
one_exhibit() {
	local v=$1 id=$2 out=$3 st=ok tree pb inc eb
	rm -f "$out.tar"
	measure "$out.log" "$CUSTOS" --key "$KEY" --vault "$v" export "$id" -o "$out.tar" --no-content
	if [ "$M_RC" != 0 ]; then
		st="export FAILED rc=$M_RC: $(tail -2 "$out.log" | tr '\n' ' ')"
		echo "n/a n/a n/a n/a n/a $M_WALL $M_CPU $M_RSS $st"
		return
	fi
	"$CUSTOS" verify-package "$out.tar" --trust "$PUB" >"$out.verify" 2>&1 ||
		st="verify-package FAILED: $(tail -2 "$out.verify" | tr '\n' ' ')"
	tree=$(tar -xOf "$out.tar" --wildcards '*/custos/exhibits.txt' | awk '$1=="tree-size"{print $2}')
	pb=$(tar -xOf "$out.tar" --wildcards '*/custos/proofs/*.proof' | wc -c)
	inc=$(tar -xOf "$out.tar" --wildcards '*/custos/proofs/*.proof' | grep -c '^inclusion ')
	eb=$(tar -xOf "$out.tar" --wildcards '*/custos/events/*.event' | wc -c)
	echo "$tree $pb $inc $eb $(fsize "$out.tar") $M_WALL $M_CPU $M_RSS $st"
}

part_overhead() {
	local d=$RUNS/overhead v filled=0 n first newest which
	rm -rf "$d"
	mkdir -p "$d"
	fresh_custos_vault "$d" || die "custos init $d/vault failed"
	v=$d/vault
	echo
	echo "== overhead: one exhibit exported with --no-content from a vault grown to n = $SIZES items (tiny files, ingests of at most $BATCH, a checkpoint at each n)"
	local -a T_N T_TREE T_LOG T_PB1 T_INC1 T_EB1 T_PKG1 T_W1 T_PB2 T_INC2 T_EB2 T_PKG2 T_W2
	local i=0 res tree pb inc eb pkg w cpu rss st
	for n in $SIZES; do
		fill_tiny "$v" "$filled" "$n"
		filled=$n
		checkpoint "$v"
		"$CUSTOS" --vault "$v" ls --json >"$d/items.jsonl" || die "custos ls --json failed"
		first=$(head -n 1 "$d/items.jsonl" | grep -o '"id":"[0-9a-f]*"' | cut -d'"' -f4)
		newest=$(tail -n 1 "$d/items.jsonl" | grep -o '"id":"[0-9a-f]*"' | cut -d'"' -f4)
		T_N[i]=$n
		for which in first newest; do
			local id=$first
			[ "$which" = first ] || id=$newest
			res=$(one_exhibit "$v" "$id" "$d/pkg-$n-$which")
			read -r tree pb inc eb pkg w cpu rss st <<<"$res"
			[ "$st" = ok ] || fail "overhead n=$n, $which item $id: $st"
			T_TREE[i]=$tree
			if [ "$which" = first ]; then
				T_PB1[i]=$pb T_INC1[i]=$inc T_EB1[i]=$eb T_PKG1[i]=$pkg T_W1[i]=$w
			else
				T_PB2[i]=$pb T_INC2[i]=$inc T_EB2[i]=$eb T_PKG2[i]=$pkg T_W2[i]=$w
			fi
			M_WALL=$w M_CPU=$cpu M_RSS=$rss T_SYNC=0
			row "overhead-$n-$which" custos 1 1 0 "$pkg" "$st"
		done
		T_LOG[i]=$(ceil_log2 "${T_TREE[i]}")
		i=$((i + 1))
	done
	echo
	printf '%9s %9s %7s | %-43s | %-43s\n' "" "" "ceil" "first item (same exhibit at every n)" "newest item (arrived in the last ingest)"
	printf '%9s %9s %7s | %7s %5s %10s %10s %6s | %7s %5s %10s %10s %6s\n' "n" "tree size" "log2" "proof B" "incl" "events B" "package B" "exp s" "proof B" "incl" "events B" "package B" "exp s"
	local j
	for ((j = 0; j < i; j++)); do
		printf '%9s %9s %7s | %7s %5s %10s %10s %6s | %7s %5s %10s %10s %6s\n' "${T_N[j]}" "${T_TREE[j]}" "${T_LOG[j]}" \
			"${T_PB1[j]}" "${T_INC1[j]}" "${T_EB1[j]}" "${T_PKG1[j]}" "${T_W1[j]}" \
			"${T_PB2[j]}" "${T_INC2[j]}" "${T_EB2[j]}" "${T_PKG2[j]}" "${T_W2[j]}"
	done
	echo "(proof B: the custos/proofs/<id>.proof member; incl: its 'inclusion' lines; events B: the custos/events/*.event members (the exhibit's ingest event and the checkpoint's); package B: the whole tar; exp s: wall time of that export)"
	# the checks
	local bad=0 last=$((i - 1)) why="" most=0 most_at=""
	for ((j = 0; j < i; j++)); do
		for inc in "${T_INC1[j]}" "${T_INC2[j]}"; do
			if ! [[ $inc =~ ^[0-9]+$ ]] || [ "$inc" -gt "${T_LOG[j]}" ]; then
				bad=1
				why="$why n=${T_N[j]}: $inc > ${T_LOG[j]};"
			elif [ "$inc" -ge "$most" ]; then
				most=$inc most_at=${T_TREE[j]}
			fi
		done
	done
	echo
	if [ "$bad" = 0 ]; then
		printf '%-58s PASS  (the most: %s hashes, at tree size %s: ceil(log2) %s)\n' "overhead: inclusion hashes <= ceil(log2(tree size))" \
			"$most" "$most_at" "$(ceil_log2 "$most_at")"
	else
		printf '%-58s FAIL  (%s)\n' "overhead: inclusion hashes <= ceil(log2(tree size))" "$why"
	fi
	if [ "$i" -ge 2 ] && [[ ${T_PKG1[0]} =~ ^[0-9]+$ && ${T_PKG1[last]} =~ ^[0-9]+$ ]]; then
		local g ng verdict
		g=$(awk -v a="${T_PKG1[0]}" -v b="${T_PKG1[last]}" 'BEGIN{printf "%.2f", b/a}')
		ng=$(awk -v a="${T_N[0]}" -v b="${T_N[last]}" 'BEGIN{printf "%g", b/a}')
		verdict=$(awk -v g="$g" 'BEGIN{print (g < 2) ? "PASS" : "FAIL"}')
		printf '%-58s %s  (%s -> %s bytes: %sx while n grows %sx; need < 2x)\n' "overhead: package bytes (same exhibit) grow < 2x" "$verdict" "${T_PKG1[0]}" "${T_PKG1[last]}" "$g" "$ng"
		# The newest exhibit is the worst case: its ingest is the largest batch. Its
		# event goes into the package only up to 64 KiB (FS §10.1), so this holds too.
		g=$(awk -v a="${T_PKG2[0]}" -v b="${T_PKG2[last]}" 'BEGIN{printf "%.2f", b/a}')
		verdict=$(awk -v g="$g" 'BEGIN{print (g < 2) ? "PASS" : "FAIL"}')
		printf '%-58s %s  (%s -> %s bytes: %sx; events in it: %s bytes; need < 2x)\n' \
			"overhead: package bytes (newest exhibit) grow < 2x" "$verdict" "${T_PKG2[0]}" "${T_PKG2[last]}" "$g" "${T_EB2[last]}"
	else
		printf '%-58s n/a  (needs two sizes and packages at both)\n' "overhead: package bytes (same exhibit) grow < 2x"
	fi
}

# ------------------------------------------------------------ part 3: bundle and import

part_import() {
	local d=$RUNS/import o rep tool st
	rm -rf "$d"
	mkdir -p "$d/origin"
	fresh_custos_vault "$d/origin" || die "custos init $d/origin/vault failed"
	o=$d/origin/vault
	echo
	echo "== import: a bundle of an origin vault of $N_IMPORT tiny files (ingests of at most $BATCH, then a checkpoint)"
	FILLED_BYTES=0
	local t0 fill_s
	t0=$(date +%s)
	fill_tiny "$o" 0 "$N_IMPORT"
	fill_s=$(($(date +%s) - t0))
	checkpoint "$o"
	local head events
	head=$(git -C "$o/custody.git" rev-parse main) || die "no main in the origin's custody.git"
	events=$(git -C "$o/custody.git" rev-list --count main)
	ITEMS[bundle]=$N_IMPORT ITEMS[import]=$N_IMPORT CONTENT[bundle]=$FILLED_BYTES CONTENT[import]=$FILLED_BYTES
	echo "origin: $N_IMPORT items in $events events ($fill_s s to generate and ingest), objects $(mb "$FILLED_BYTES") MB of content; on disk: objects/ $(mb "$(tree_bytes "$o/objects")") MB, custody.git $(mb "$(tree_bytes "$o/custody.git")") MB"
	export D=$d O=$o
	for rep in $(seq "$REPS"); do
		for tool in $(tool_order "$rep"); do
			case $tool in
			custos)
				rm -f "$d/b.tar"
				warm "$o/objects"
				warm "$o/custody.git"
				timed bundle custos "$rep" "$d/bundle.log" "$CUSTOS" --vault "$o" bundle -o "$d/b.tar"
				st=ok
				[ "$M_RC" = 0 ] || st="FAILED rc=$M_RC (see $d/bundle.log)"
				[ "$st" != ok ] || grep -q "$N_IMPORT items" "$d/bundle.log" || st="FAILED: no '$N_IMPORT items' in the summary (see $d/bundle.log)"
				[ "$st" = ok ] || fail "custos bundle: $st: $(tail -2 "$d/bundle.log" | tr '\n' ' ')"
				row bundle custos "$rep" "$N_IMPORT" "$FILLED_BYTES" "$(fsize "$d/b.tar")" "$st"
				[ "$st" = ok ] || continue
				rm -rf "$d/replica"
				"$CUSTOS" --key "$RKEY" init --replica-of "$PUB" "$d/replica" >"$d/replica-init.log" 2>&1 ||
					{ fail "custos init --replica-of: $(tail -2 "$d/replica-init.log" | tr '\n' ' ')"; continue; }
				warm "$d/b.tar"
				timed import custos "$rep" "$d/import.log" "$CUSTOS" --key "$RKEY" --vault "$d/replica" import "$d/b.tar"
				st=ok
				[ "$M_RC" = 0 ] || st="FAILED rc=$M_RC (see $d/import.log)"
				[ "$st" != ok ] || grep -q "($N_IMPORT new items)" "$d/import.log" || st="FAILED: no '($N_IMPORT new items)' in the summary (see $d/import.log)"
				local rh
				rh=$(git -C "$d/replica/custody.git" rev-parse main 2>/dev/null)
				[ "$st" != ok ] || [ "$rh" = "$head" ] || st="FAILED: replica main $rh, origin $head"
				if [ "$st" = ok ] && [ "$FSCK" = 1 ]; then
					local f0=$SECONDS
					"$CUSTOS" --vault "$d/replica" fsck --full >"$d/fsck.log" 2>&1 ||
						st="fsck --full FAILED (see $d/fsck.log): $(tail -2 "$d/fsck.log" | tr '\n' ' ')"
					note "fsck --full of the replica: $((SECONDS - f0)) s: $(tail -1 "$d/fsck.log")"
				fi
				[ "$st" = ok ] || fail "custos import: $st: $(tail -2 "$d/import.log" | tr '\n' ' ')"
				row import custos "$rep" "$N_IMPORT" "$FILLED_BYTES" "$(tree_bytes "$d/replica")" "$st"
				;;
			peer)
				rm -f "$d/peer.bundle" "$d/peer-objects.tar"
				warm "$o/objects"
				warm "$o/custody.git"
				# shellcheck disable=SC2016
				timed bundle peer "$rep" "$d/peer-bundle.log" bash -c 'git -C "$O/custody.git" bundle create -q "$D/peer.bundle" --all &&
					tar -cf "$D/peer-objects.tar" -C "$O" objects'
				st=ok
				[ "$M_RC" = 0 ] || st="FAILED rc=$M_RC (see $d/peer-bundle.log)"
				row bundle peer "$rep" "$N_IMPORT" "$FILLED_BYTES" "$(($(fsize "$d/peer.bundle") + $(fsize "$d/peer-objects.tar")))" "$st"
				rm -rf "$d/peer-replica"
				mkdir -p "$d/peer-replica"
				# --no-local: a local clone would hardlink the objects, not move them
				# shellcheck disable=SC2016
				timed import peer "$rep" "$d/peer-import.log" bash -c 'git clone -q --mirror --no-local "$O/custody.git" "$D/peer-replica/custody.git" &&
					cp -a "$O/objects" "$D/peer-replica/objects"'
				st=ok
				[ "$M_RC" = 0 ] || st="FAILED rc=$M_RC (see $d/peer-import.log)"
				[ "$(git -C "$d/peer-replica/custody.git" rev-parse main 2>/dev/null)" = "$head" ] || st="FAILED: the clone's main is not $head"
				row import peer "$rep" "$N_IMPORT" "$FILLED_BYTES" "$(tree_bytes "$d/peer-replica")" "$st"
				;;
			esac
		done
	done
	medians bundle
	medians import
	print_table bundle import
	[ ! -f "$d/b.tar" ] || echo "custos bundle: $(mb "$(fsize "$d/b.tar")") MB ($(head -1 "$d/bundle.log"))"
	[ ! -f "$d/import.log" ] || echo "custos import: $(head -1 "$d/import.log")"
	[ "$FSCK" != 1 ] || [ ! -f "$d/fsck.log" ] || echo "replica fsck --full (untimed): $(tail -1 "$d/fsck.log"); replica main $(git -C "$d/replica/custody.git" rev-parse main 2>/dev/null), origin $head"
}

# ------------------------------------------------------------ main

echo "custos transfer benchmark (issue 5), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "command: QUICK=$QUICK PARTS=\"$PARTS\" TOOLS=\"$TOOLS\" REPS=$REPS N_EXPORT_VAULT=$N_EXPORT_VAULT N_EXHIBITS=$N_EXHIBITS SIZES=\"$SIZES\" N_IMPORT=$N_IMPORT BATCH=$BATCH bench/transfer.sh"
BENCH_DIR=$WORK machine_info
echo "peers:   $(tar --version | head -1); $(git --version); $(sha256sum --version | head -1)"
START=$SECONDS
for part in $PARTS; do
	case $part in
	export) part_export ;;
	overhead) part_overhead ;;
	import) part_import ;;
	*) die "unknown part $part (export, overhead, import)" ;;
	esac
done

echo
echo "== summary: custos/peer wall time (> 1: custos slower), medians of $REPS"
for step in export verify bundle import; do
	[ -n "${WALL[$step,custos]:-}" ] || continue
	printf '%-24s %8s   (custos %s s, %s; peer %s s, %s)\n' "$(label "$step" custos)" "$(ratio "${WALL[$step,custos]}" "${WALL[$step,peer]:-}")x" \
		"${WALL[$step,custos]}" "$(rate "${ITEMS[$step]}" "${WALL[$step,custos]}") items/s" \
		"${WALL[$step,peer]:-n/a}" "$(label "$step" peer)"
done
targets=0
for step in export verify bundle import; do
	tv=${step^^}_TARGET
	[ -n "${!tv:-}" ] || continue
	[ "$targets" = 1 ] || { echo; echo "== targets"; targets=1; }
	check "$step: peer/custos wall >= ${!tv}" "$step" peer "${!tv}"
done
if [ "${#FAILURES[@]}" -gt 0 ]; then
	echo
	echo "== custos failures (${#FAILURES[@]})"
	printf '%s\n' "${FAILURES[@]}"
fi
echo
echo "total: $((SECONDS - START)) s"
if [ "$KEEP" = 1 ]; then
	echo "kept: $RUNS"
else
	rm -rf "$RUNS"
fi
echo "raw figures: $RAW"
echo "this report: $RESULTS"
