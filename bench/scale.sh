#!/usr/bin/env bash
# scale.sh — does ingest time per item grow with the vault? Fills a vault with
# SCALE_ITEMS items (tiny distinct files, generated SCALE_BATCH at a time in a temporary
# directory, ingested, deleted), then ingests the same batch of PROBE_N new files
# (1-16 KiB, random bytes) into an empty vault and into the full one, and compares the
# time per item. PROBES distinct batches are measured that way (each into both vaults).
#
#   bench/scale.sh                       1,000,000 items (tens of minutes)
#   SCALE_ITEMS=200000 bench/scale.sh    a quicker run
#
# The full vault is kept in $BENCH_DIR/scale/vault-big and topped up on the next run
# (RESET=1 starts it again). Knobs: BENCH_DIR, BUILD, CUSTOS, SCALE_ITEMS (1000000),
# SCALE_BATCH (100000), PROBE_N (10000), PROBES (4), TOLERANCE (1.25: the largest
# full/empty per-item ratio that passes), FSCK (0; 1: time `custos fsck` on the full vault).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

SCALE_ITEMS=${SCALE_ITEMS:-1000000}
SCALE_BATCH=${SCALE_BATCH:-100000}
PROBE_N=${PROBE_N:-10000}
PROBES=${PROBES:-4}
TOLERANCE=${TOLERANCE:-1.25}
FSCK=${FSCK:-0}
RESET=${RESET:-0}

mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
custos_bin
isolate_home
S=$BENCH_DIR/scale
BIG=$S/vault-big
KEY=$HOME/custos.key
[ "$RESET" = 1 ] && rm -rf "$S"
mkdir -p "$S"
[ -f "$KEY" ] || "$CUSTOS" --key "$KEY" key new --no-passphrase >/dev/null 2>&1
STAMP=$(date +%Y%m%d-%H%M%S)
exec > >(tee "$S/results-$STAMP.txt") 2>&1

ingest() { # vault input log — timed; sets M_*; dies on failure
	measure "$3" "$CUSTOS" --key "$KEY" --vault "$1" ingest -q "$2"
	[ "$M_RC" = 0 ] || die "ingest into $1 failed (rc $M_RC): $(tail -3 "$3")"
}
per_item_ms() { awk -v t="$1" -v n="$2" 'BEGIN{printf "%.3f", 1000*t/n}'; }

echo "custos scale, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "command: SCALE_ITEMS=$SCALE_ITEMS SCALE_BATCH=$SCALE_BATCH PROBE_N=$PROBE_N PROBES=$PROBES bench/scale.sh"
machine_info

# ------------------------------------------------------------ fill the big vault
if [ ! -f "$BIG/VAULT" ]; then
	rm -rf "$BIG"
	"$CUSTOS" --key "$KEY" init "$BIG" >/dev/null 2>&1 || die "custos init failed"
	echo 0 >"$S/filled"
	echo 0 >"$S/items"
	echo 0 >"$S/round"
	printf 'items_before\tbatch\twall_s\tcpu_s\trss_mib\tper_item_ms\tgen_s\n' >"$S/fill.tsv"
fi
filled=$(cat "$S/filled")
items=$(cat "$S/items")
echo
echo "== filling $BIG to $SCALE_ITEMS items ($filled filler items there already)"
fill_start=$(date +%s)
while [ "$filled" -lt "$SCALE_ITEMS" ]; do
	n=$((SCALE_ITEMS - filled))
	[ "$n" -le "$SCALE_BATCH" ] || n=$SCALE_BATCH
	rm -rf "$S/batch"
	t0=$(date +%s.%N)
	"$PYTHON" "$BENCH_SRC/gencorpus.py" tiny "$S/batch" "$filled" "$n" || die "gencorpus failed"
	gen=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
	ingest "$BIG" "$S/batch" "$S/fill.log"
	grep -q " $n stored" "$S/fill.log" || die "filler batch not stored as expected: $(cat "$S/fill.log")"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$items" "$n" "$M_WALL" "$M_CPU" "$M_RSS" "$(per_item_ms "$M_WALL" "$n")" "$gen" >>"$S/fill.tsv"
	printf '   %9d items + %6d: %7s s (%s ms/item), %s MiB peak; generating the batch took %s s\n' \
		"$items" "$n" "$M_WALL" "$(per_item_ms "$M_WALL" "$n")" "$M_RSS" "$gen"
	rm -rf "$S/batch"
	filled=$((filled + n))
	items=$((items + n))
	echo "$filled" >"$S/filled"
	echo "$items" >"$S/items"
done
echo "   filling took $(($(date +%s) - fill_start)) s this run; the vault holds $items items"
echo "   on disk: $(du -sh "$BIG" | cut -f1) (objects $(du -sh "$BIG/objects" | cut -f1), custody.git $(du -sh "$BIG/custody.git" | cut -f1), index $(du -sh "$BIG/index" | cut -f1))"

# ------------------------------------------------------------ probes
round=$(cat "$S/round")
echo $((round + 1)) >"$S/round"
declare -a E B EC BC
probe_empty() {
	rm -rf "$S/vault-empty"
	"$CUSTOS" --key "$KEY" init "$S/vault-empty" >/dev/null 2>&1 || die "custos init failed"
	warm "$probe"
	sync -f "$S"
	ingest "$S/vault-empty" "$probe" "$S/probe-empty.log"
	E[p]=$M_WALL
	EC[p]=$M_CPU
	printf '   empty vault:          %6s s wall, %6s s cpu, %5s MiB peak: %s ms/item (cpu %s ms/item)\n' "$M_WALL" "$M_CPU" "$M_RSS" \
		"$(per_item_ms "$M_WALL" "$PROBE_N")" "$(per_item_ms "$M_CPU" "$PROBE_N")"
}
probe_big() {
	warm "$probe"
	sync -f "$S"
	ingest "$BIG" "$probe" "$S/probe-big.log"
	grep -q " $PROBE_N stored" "$S/probe-big.log" || die "probe not all new to the full vault: $(cat "$S/probe-big.log")"
	B[p]=$M_WALL
	BC[p]=$M_CPU
	printf '   %9d-item vault: %6s s wall, %6s s cpu, %5s MiB peak: %s ms/item (cpu %s ms/item)\n' "$items" "$M_WALL" "$M_CPU" "$M_RSS" \
		"$(per_item_ms "$M_WALL" "$PROBE_N")" "$(per_item_ms "$M_CPU" "$PROBE_N")"
	items=$((items + PROBE_N))
	echo "$items" >"$S/items"
}
for p in $(seq "$PROBES"); do
	seed=$((1000 + round * 100 + p))
	probe=$S/probe-$p
	rm -rf "$probe"
	"$PYTHON" "$BENCH_SRC/gencorpus.py" random "$probe" "$PROBE_N" "$seed" || die "gencorpus failed"
	mb=$(du -s --apparent-size --block-size=1 "$probe" | awk '{printf "%.1f", $1/1e6}')
	echo
	echo "== probe batch $p: $PROBE_N files of 1-16 KiB random bytes ($mb MB, seed $seed)"
	# the same batch into both vaults; which goes first alternates (the machine drifts)
	if [ $((p % 2)) = 1 ]; then
		probe_empty
		probe_big
	else
		probe_big
		probe_empty
	fi
	printf '   full/empty: %sx wall, %sx cpu\n' "$(awk -v b="${B[p]}" -v e="${E[p]}" 'BEGIN{printf "%.2f", b/e}')" \
		"$(awk -v b="${BC[p]}" -v e="${EC[p]}" 'BEGIN{printf "%.2f", b/e}')"
	rm -rf "$S/vault-empty" "$probe"
done

# one new file: the fixed cost of a command (open the vault, commit, update the index)
echo
echo "== one new file (fixed cost per ingest command)"
one=$S/one
for which in empty big; do
	rm -rf "$one"
	mkdir -p "$one"
	echo "custos scale single $round $which $(date +%s.%N)" >"$one/single.txt"
	if [ "$which" = empty ]; then
		rm -rf "$S/vault-empty"
		"$CUSTOS" --key "$KEY" init "$S/vault-empty" >/dev/null 2>&1
		v=$S/vault-empty
	else
		v=$BIG
	fi
	sync -f "$S"
	ingest "$v" "$one" "$S/one.log"
	[ "$which" = big ] && items=$((items + 1)) && echo "$items" >"$S/items"
	printf '   %-12s %6s s wall, %5s MiB peak\n' "$which vault:" "$M_WALL" "$M_RSS"
done
rm -rf "$one" "$S/vault-empty"

if [ "$FSCK" = 1 ]; then
	echo
	measure "$S/fsck.log" "$CUSTOS" --vault "$BIG" fsck
	echo "== custos fsck on the full vault: $M_WALL s wall, $M_RSS MiB peak: $(tail -1 "$S/fsck.log")"
fi

echo
echo "== result"
me=$(printf '%s\n' "${E[@]}" | median)
mb=$(printf '%s\n' "${B[@]}" | median)
mec=$(printf '%s\n' "${EC[@]}" | median)
mbc=$(printf '%s\n' "${BC[@]}" | median)
ratio=$(awk -v b="$mb" -v e="$me" 'BEGIN{printf "%.2f", b/e}')
cratio=$(awk -v b="$mbc" -v e="$mec" 'BEGIN{printf "%.2f", b/e}')
minr=$(awk -v b="$(printf '%s\n' "${B[@]}" | sort -g | head -1)" -v e="$(printf '%s\n' "${E[@]}" | sort -g | head -1)" 'BEGIN{printf "%.2f", b/e}')
verdict=$(awk -v r="$ratio" -v t="$TOLERANCE" 'BEGIN{print (r<=t) ? "PASS" : "FAIL"}')
printf 'per item, median of %s batches of %s: empty vault %s ms, full vault (>= %s items) %s ms: ratio %sx  %s (tolerance %sx)\n' \
	"$PROBES" "$PROBE_N" "$(per_item_ms "$me" "$PROBE_N")" "$SCALE_ITEMS" "$(per_item_ms "$mb" "$PROBE_N")" "$ratio" "$verdict" "$TOLERANCE"
printf 'cpu per item, median: empty %s ms, full %s ms: ratio %sx; fastest runs: ratio %sx\n' \
	"$(per_item_ms "$mec" "$PROBE_N")" "$(per_item_ms "$mbc" "$PROBE_N")" "$cratio" "$minr"
echo "filler batches: $S/fill.tsv"
