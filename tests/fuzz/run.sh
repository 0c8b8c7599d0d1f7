#!/usr/bin/env bash
# run.sh — the thorough fuzzing mode: builds the libFuzzer targets with clang
# (ASan + UBSan) and runs each for FUZZ_SECONDS (default 300), growing its corpus in
# build-fuzz/corpus/<target> from the seeds in tests/fuzz/corpus/<target>.
#   tests/fuzz/run.sh [target...]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-300}
if [ ! -f build-fuzz/build.ninja ]; then
	CC=clang meson setup build-fuzz -Dfuzzers=true -Db_lundef=false -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C build-fuzz >/dev/null
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(record event sshsig pubkey marker note proof container isolate package bundle mail dkim docmeta)
for t in "${targets[@]}"; do
	mkdir -p "build-fuzz/corpus/$t"
	echo "== fuzz_$t for ${secs}s"
	# a hang is a finding (25 s, not libFuzzer's 1200 s); crash files go to build-fuzz/,
	# and the sanitizer's report is kept whole in build-fuzz/fuzz_$t.log
	"build-fuzz/tests/fuzz_$t" -max_total_time="$secs" -max_len=65536 -timeout=25 \
		-artifact_prefix="build-fuzz/$t-" "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t" \
		>"build-fuzz/fuzz_$t.log" 2>&1 || { tail -40 "build-fuzz/fuzz_$t.log"; exit 1; }
	tail -1 "build-fuzz/fuzz_$t.log"
done
