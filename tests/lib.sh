# lib.sh — shared helpers for the shell tests (e2e, interop, crash). Source it first.
# A test exits 0 when it passes, 1 when it fails, 77 when it must be skipped.
set -euo pipefail

: "${CUSTOS:?set CUSTOS to the custos binary (meson does this)}"
CUSTOS=$(readlink -f "$CUSTOS")
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/custos-test.XXXXXX")
trap 'chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
export HOME="$T/home"
mkdir -p "$HOME"
unset CUSTOS_VAULT CUSTOS_KEY CUSTOS_PASSPHRASE_FILE XDG_CONFIG_HOME
export LC_ALL=C.UTF-8

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
skip() {
	echo "SKIP: $*"
	exit 77
}
need() {
	command -v "$1" >/dev/null 2>&1 || skip "$1 is not installed"
}
note() { echo "# $*"; }

# expect_exit CODE CMD... : run CMD, fail unless it exits with CODE. Output goes to $T/out, $T/err.
expect_exit() {
	local want=$1 got
	shift
	set +e
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	set -e
	if [ "$got" != "$want" ]; then
		echo "--- stdout" >&2
		cat "$T/out" >&2
		echo "--- stderr" >&2
		cat "$T/err" >&2
		fail "expected exit $want, got $got: $*"
	fi
}

# grep_out PATTERN : the last expect_exit's stdout+stderr must match PATTERN (grep -E)
grep_out() {
	# Not `cat | grep -q`: grep may exit at the first match while cat still writes, and
	# the SIGPIPE then fails the pipeline under pipefail (a flake seen under load).
	grep -Eq -- "$1" "$T/out" "$T/err" || {
		cat "$T/out" "$T/err" >&2
		fail "output does not match /$1/"
	}
}

# A key and a vault ready to use: $KEY, $VAULT, and cx() = custos with both.
setup_vault() {
	KEY="$T/custodian.key"
	VAULT="$T/vault"
	"$CUSTOS" --key "$KEY" key new --no-passphrase >/dev/null 2>&1
	"$CUSTOS" --key "$KEY" init "$VAULT" --name "test vault" >/dev/null
}
cx() { "$CUSTOS" --key "$KEY" --vault "$VAULT" "$@"; }

# The item id of the first item whose path equals $1 (from ls --json).
item_of_path() {
	cx ls --json | python3 -c '
import json, sys
want = sys.argv[1]
lines = sys.stdin.read().splitlines()  # all of it: ls must not meet a closed pipe
for line in lines:
    try:
        o = json.loads(line)
    except ValueError:
        sys.exit("item_of_path: not JSON: %r" % line[:300])
    if o["path"] == want:
        print(o["id"]); break
' "$1"
}

# LeakSanitizer cannot run under ptrace (strace): tests that trace custos switch it off;
# leaks are still checked by every other test of the sanitizer build.
allow_ptrace_under_asan() {
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
}

# count_calls CMD...: how many of the system calls in $SYSCALLS the command makes, as
# "name:count ..." (openat only when it creates): the kill points of a crash sweep. Run it
# on a scratch copy: the command really runs.
count_calls() {
	strace -f -qq -o "$T/count.strace" -e trace="$SYSCALLS" "$@" >/dev/null 2>&1 || true
	python3 - "$T/count.strace" <<'PY'
import collections, re, sys
c = collections.Counter()
for line in open(sys.argv[1]):
    m = re.match(r"^\d+\s+(\w+)\(", line)
    if not m:
        continue
    if m.group(1) == "openat" and "O_CREAT" not in line:
        continue # opens that read libraries and the vault: not a write point
    c[m.group(1)] += 1
print(" ".join(f"{k}:{v}" for k, v in sorted(c.items())))
PY
}
