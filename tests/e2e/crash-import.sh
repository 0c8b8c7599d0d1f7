#!/usr/bin/env bash
# crash-import.sh — kill -9 an import into a replica at its writes, fsyncs, renames, links
# and file-creating opens (strace -e inject=…:signal=KILL:when=N), for a replica's first
# import (which also writes its VAULT marker) and for an incremental one. After each kill:
#   - fsck --full passes on the replica;
#   - its log is either where it was or exactly the origin's (never in between);
#   - the same import run again succeeds: it completes the import, or records one that
#     moved the log but died before recording itself (or, killed after it recorded itself,
#     is refused as a replay); the replica then matches the origin, with one import event
#     per import made.
# Quick mode (CI) tries every 2nd kill point of each kind; CUSTOS_THOROUGH=1 every one.
. "$(dirname "$0")/../lib.sh"
allow_ptrace_under_asan
need strace
strace -f -qq -o /dev/null true 2>/dev/null || skip "strace cannot trace in this environment"
SYSCALLS=write,writev,fsync,fdatasync,rename,renameat,renameat2,link,linkat,openat,unlink,unlinkat,ftruncate,mkdir,mkdirat
EVERY=${CRASH_EVERY:-$([ "${CUSTOS_THOROUGH:-0}" = 1 ] && echo 1 || echo 2)}

setup_vault
mkdir -p "$T/d1" "$T/d2"
for i in $(seq 1 8); do printf 'first drop %d\n' "$i" >"$T/d1/f$i.txt"; done
head -c 1500000 /dev/urandom >"$T/d1/scan.bin" # a loose object
cx ingest -q "$T/d1" >/dev/null
cx checkpoint -o "$T/cp1" >/dev/null
cx bundle -o "$T/b1.tar" >/dev/null
head1=$(git -C "$VAULT/custody.git" rev-parse main)
for i in $(seq 1 5); do printf 'second drop %d\n' "$i" >"$T/d2/g$i.txt"; done
head -c 1200000 /dev/urandom >"$T/d2/scan2.bin"
cx ingest -q "$T/d2" >/dev/null
cx bundle --since "$T/cp1" -o "$T/b2.tar" >/dev/null
head2=$(git -C "$VAULT/custody.git" rev-parse main)
cx key show >"$T/origin.pub"

RKEY="$T/replica.key"
REP="$T/replica"
"$CUSTOS" --key "$RKEY" key new --no-passphrase >/dev/null 2>&1
rx() { "$CUSTOS" --key "$RKEY" --vault "$REP" "$@"; }
"$CUSTOS" --key "$RKEY" init --replica-of "$T/origin.pub" "$T/empty" >/dev/null
cp -a "$T/empty" "$T/with-b1"
"$CUSTOS" --key "$RKEY" --vault "$T/with-b1" import "$T/b1.tar" >/dev/null
fresh() { rm -rf "$REP"; cp -a "$1" "$REP"; chmod -R u+w "$REP"; }
main_of() { git -C "$REP/custody.git" rev-parse -q --verify main 2>/dev/null || echo none; }

# sweep TEMPLATE BUNDLE BEFORE AFTER IMPORTS: kill the import at each point.
sweep() {
	local template=$1 bundle=$2 before=$3 after=$4 imports=$5 p name n i h
	fresh "$template"
	for p in $(count_calls "$CUSTOS" --key "$RKEY" --vault "$REP" import "$bundle"); do
		name=${p%%:*}
		n=${p#*:}
		for i in $(seq 1 "$EVERY" "$n"); do
			fresh "$template"
			(strace -f -qq -o /dev/null -e trace="$name" -e inject="$name:signal=KILL:when=$i" \
				"$CUSTOS" --key "$RKEY" --vault "$REP" import "$bundle" >/dev/null 2>&1) 2>/dev/null || true
			kills=$((kills + 1))
			expect_exit 0 rx fsck --full
			h=$(main_of)
			if [ "$h" = "$before" ]; then
				echo untouched >>"$T/results"
			elif [ "$h" = "$after" ]; then
				echo moved >>"$T/results"
			else
				fail "killed at $name #$i: the log head is $h"
			fi
			# Run again: it completes the import, records an unrecorded one, or (the kill
			# came after the import was recorded) refuses a replay.
			if ! rx import "$bundle" >"$T/out" 2>&1; then
				grep -q "PROBLEM replay" "$T/out" || { cat "$T/out"; fail "after $name #$i, the import again"; }
				echo recorded >>"$T/results"
			fi
			[ "$(main_of)" = "$after" ] || fail "after $name #$i and a new import: head $(main_of)"
			[ "$(git -C "$REP/custody.git" rev-list --count imports)" = "$imports" ] ||
				fail "after $name #$i: $(git -C "$REP/custody.git" rev-list --count imports) import events, $imports expected"
			expect_exit 0 rx fsck --full
		done
	done
}
kills=0
: >"$T/results"
note "first import into an empty replica"
sweep "$T/empty" "$T/b1.tar" none "$head1" 1
note "incremental import"
sweep "$T/with-b1" "$T/b2.tar" "$head1" "$head2" 2
note "$kills kills: $(sort "$T/results" | uniq -c | tr '\n' ' ')"
[ "$kills" -ge 20 ] || fail "only $kills kill points"
grep -q untouched "$T/results" || fail "no kill left the replica as it was"
grep -q moved "$T/results" || fail "no kill came after the log moved"
[ -f "$REP/VAULT" ] && cmp "$REP/VAULT" "$VAULT/VAULT" || fail "the replica's marker"
echo "crash-import: ok"
