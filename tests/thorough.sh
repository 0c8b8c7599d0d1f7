#!/usr/bin/env bash
# thorough.sh — run the heavy sweeps in thorough mode (not part of the default test suite).
#
#   CUSTOS=path/to/custos tests/thorough.sh [TEST...]
#
# Each test runs with CUSTOS_THOROUGH=1 (every kill point, every case) instead of the quick
# sample CI runs. With no arguments, every sweep listed below runs. Exit 0 when all passed
# (skips allowed), 1 when any failed.
set -uo pipefail

: "${CUSTOS:?set CUSTOS to the custos binary}"
here=$(cd "$(dirname "$0")" && pwd)
export CUSTOS CUSTOS_THOROUGH=1
export CUSTOS_SRC=${CUSTOS_SRC:-$(dirname "$here")}

# The heavy sweeps, relative to tests/. Add new ones here.
sweeps=(e2e/crash.sh e2e/crash-archive.sh)
[ $# -gt 0 ] && sweeps=("$@")

failed=0
for t in "${sweeps[@]}"; do
	echo "=== $t (thorough)"
	start=$(date +%s)
	bash "$here/$t"
	rc=$?
	took=$(($(date +%s) - start))
	case $rc in
	0) echo "=== $t: PASS (${took}s)" ;;
	77) echo "=== $t: SKIP (${took}s)" ;;
	*)
		echo "=== $t: FAIL, exit $rc (${took}s)"
		failed=1
		;;
	esac
done
exit $failed
