#!/usr/bin/env bash
# merkle.sh — the Merkle log at 1,000 and 1,000,000 leaves (issue 3): append, prove and
# verify times and peak memory of custos's store (vault/merkle.c), against the RFC 9162
# reference algorithm over the leaves in memory, in the same run.
#   bench/merkle.sh                 N="1000 1000000", REPS=1000 proofs per size
set -euo pipefail
. "$(dirname "$0")/lib.sh"
SIZES=${N:-1000 1000000}
REPS=${REPS:-1000}
if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup --buildtype=release "$BUILD" "$TOP" >/dev/null || die "meson setup failed"
fi
ninja -C "$BUILD" merkle_bench >/dev/null || die "ninja failed"
echo "custos Merkle log benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit $(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo '?'); $REPS proofs per size, random leaves"
printf '%-9s %9s %9s %9s %10s %9s %10s %9s %12s %11s\n' leaves "build s" "append ms" "prove ms" "verify ms" \
	"cons ms" "cverify ms" "RSS MiB" "peer prove" "peer RSS"
for n in $SIZES; do
	line=$("$BUILD/merkle_bench" "$n" "$REPS")
	set -- $line
	declare -A f=()
	while [ $# -ge 2 ]; do f[$1]=$2; shift 2; done
	[ "${f[bad]}" = 0 ] || die "a proof did not verify at $n leaves"
	printf '%-9s %9s %9s %9s %10s %9s %10s %9.1f %9s ms %8.1f MiB\n' "${f[leaves]}" "${f[build_s]}" \
		"${f[append_ms]}" "${f[prove_ms]}" "${f[verify_ms]}" "${f[cprove_ms]}" "${f[cverify_ms]}" \
		"$(echo "${f[rss_kib]} / 1024" | bc -l)" "${f[peer_prove_ms]}" \
		"$(echo "${f[peer_rss_kib]} / 1024" | bc -l)"
done
echo "(prove: open the store, root and inclusion proof, as custos prove does; cons: a consistency"
echo " proof between random sizes; RSS: peak of the custos part; peer: RFC 9162 PATH over the leaf"
echo " hashes held in memory, 20 proofs; targets: prove < 10 ms, verify < 1 ms, RSS flat in n)"
