#!/usr/bin/env bash
# rss5g.sh — peak RSS of `custos ingest` on one 5 GiB file (target: < 64 MiB).
#
#   bench/rss5g.sh                 both inputs: random bytes, then a sparse file of zeros
#   MODES=random bench/rss5g.sh    only the random one (the honest one: every byte is
#                                  hashed and written; zeros become holes in the store)
#
# Knobs: BENCH_DIR (bench/out), BUILD, CUSTOS, SIZE_GIB (5), MODES ("random zeros"),
# LIMIT_MIB (64), FSCK (1: `custos fsck --full` the vault afterwards, untimed), KEEP (0).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

SIZE_GIB=${SIZE_GIB:-5}
MODES=${MODES:-random zeros}
LIMIT_MIB=${LIMIT_MIB:-64}
FSCK=${FSCK:-1}
KEEP=${KEEP:-0}

mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
custos_bin
isolate_home
W=$BENCH_DIR/rss5g
mkdir -p "$W"
KEY=$HOME/custos.key
[ -f "$KEY" ] || "$CUSTOS" --key "$KEY" key new --no-passphrase >/dev/null 2>&1

echo "custos rss5g, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "command: SIZE_GIB=$SIZE_GIB MODES=\"$MODES\" bench/rss5g.sh"
machine_info
status=0
for mode in $MODES; do
	f=$W/$mode-${SIZE_GIB}g.bin
	bytes=$((SIZE_GIB << 30))
	if [ "$(stat -c %s "$f" 2>/dev/null)" != "$bytes" ]; then
		note "generating $f"
		rm -f "$f"
		case $mode in
		random) head -c "$bytes" /dev/urandom >"$f" || die "cannot write $f" ;;
		zeros) truncate -s "$bytes" "$f" ;;
		*) die "unknown mode $mode" ;;
		esac
	fi
	v=$W/vault-$mode
	rm -rf "$v"
	"$CUSTOS" --key "$KEY" init "$v" >/dev/null 2>&1 || die "custos init failed"
	warm "$f"
	sync -f "$W"
	measure "$v.log" "$CUSTOS" --key "$KEY" --vault "$v" ingest -q "$f"
	ok=ok
	[ "$M_RC" = 0 ] || ok="FAILED rc=$M_RC (see $v.log)"
	obj=$(find "$v/objects" -type f -size +1M | head -1)
	store=$(du -k "$obj" 2>/dev/null | cut -f1)
	input=$(du -k "$f" | cut -f1)
	verdict=$(awk -v r="$M_RSS" -v l="$LIMIT_MIB" 'BEGIN{print (r<l) ? "PASS" : "FAIL"}')
	[ "$ok" = ok ] || verdict=FAIL
	[ "$verdict" = PASS ] || status=1
	echo
	echo "== $mode: ${SIZE_GIB} GiB file (input allocates $((input / 1024)) MiB on disk)"
	printf '   custos ingest: %s s wall, %s s cpu, %.0f MB/s, peak RSS %s MiB: %s (limit %s MiB), %s\n' \
		"$M_WALL" "$M_CPU" "$(awk -v b="$bytes" -v t="$M_WALL" 'BEGIN{print b/1e6/t}')" "$M_RSS" "$verdict" "$LIMIT_MIB" "$ok"
	printf '   store object allocates %s MiB on disk%s\n' "$((store / 1024))" \
		"$([ "$mode" = zeros ] && echo " (zeros are stored as holes: a sparse object)")"
	if [ "$FSCK" = 1 ] && [ "$M_RC" = 0 ]; then
		measure "$v.fsck" "$CUSTOS" --vault "$v" fsck --full
		printf '   custos fsck --full: %s s wall, peak RSS %s MiB, %s\n' "$M_WALL" "$M_RSS" \
			"$([ "$M_RC" = 0 ] && tail -1 "$v.fsck" || echo "FAILED (see $v.fsck)")"
	fi
	[ "$KEEP" = 1 ] || rm -rf "$v"
done
exit $status
