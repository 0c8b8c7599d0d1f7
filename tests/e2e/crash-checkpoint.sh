#!/usr/bin/env bash
# crash-checkpoint.sh — kill -9 `custos checkpoint` and `custos witness cosign` at every
# write, fsync, rename, link, unlink and file-creating open (strace -e inject=…:signal=KILL,
# delivered on entering the N-th call, which therefore never happens). After each kill:
#   checkpoint: fsck --full passes; the log holds the earlier events unchanged and at most
#     one new checkpoint event; if -o FILE exists it is the complete note of that event;
#     the vault is unlocked and a new checkpoint can be issued and proven against;
#   cosign: the witness state still parses (a later cosign succeeds, or is refused only as
#     a repeat is not); a cosignature file that exists is complete and the vault accepts
#     it; the witness can always go on to cosign with the proof.
. "$(dirname "$0")/../lib.sh"
allow_ptrace_under_asan
need strace
strace -f -qq -o /dev/null true 2>/dev/null || skip "strace cannot trace in this environment"
SYSCALLS=write,fsync,fdatasync,rename,renameat,renameat2,link,linkat,openat,unlink,unlinkat,ftruncate,mkdir,mkdirat

setup_vault
W="$T/witness"
"$CUSTOS" witness init --dir "$W" --no-passphrase --name witness.example/c >"$T/w.vkey" 2>/dev/null
cx key show --note-vkey >"$T/log.vkey"
"$CUSTOS" witness add-log --dir "$W" "$T/log.vkey" >/dev/null
mkdir -p "$T/drop" && echo one >"$T/drop/one.txt" && echo two >"$T/drop/two.txt"
cx ingest -q "$T/drop" >/dev/null
cx checkpoint -o "$T/cp1" >/dev/null
"$CUSTOS" witness cosign --dir "$W" "$T/cp1" -o "$T/cp1.cos" >/dev/null
echo three >"$T/three.txt"
cx ingest -q "$T/three.txt" >/dev/null
cp -a "$VAULT" "$T/template"
cp -a "$W" "$T/witness-template"
events_before=$(cx log --json | wc -l)
log_before=$(cx log --json)

fresh_vault() { rm -rf "$VAULT"; cp -a "$T/template" "$VAULT"; chmod -R u+w "$VAULT"; }
fresh_witness() { rm -rf "$W"; cp -a "$T/witness-template" "$W"; }

# ------------------------------------------------------------------ custos checkpoint
fresh_vault
rm -f "$T/cpx"
points=$(count_calls "$CUSTOS" --key "$KEY" --vault "$VAULT" checkpoint -o "$T/cpx")
note "checkpoint: $points"
kills=0
for p in $points; do
	name=${p%%:*}
	n=${p#*:}
	for i in $(seq 1 "$n"); do
		fresh_vault
		rm -f "$T/cpx"
		inj="$name:signal=KILL:when=$i" # openat: the first n opens of any kind, a subset
		(strace -f -qq -o /dev/null -e trace="$name" -e inject="$inj" \
			"$CUSTOS" --key "$KEY" --vault "$VAULT" checkpoint -o "$T/cpx" >/dev/null 2>&1) 2>/dev/null || true
		kills=$((kills + 1))
		expect_exit 0 cx fsck --full
		now=$(cx log --json)
		[ "$(printf '%s\n' "$now" | head -n "$events_before")" = "$log_before" ] ||
			fail "checkpoint killed at $name #$i: earlier events changed"
		extra=$(($(printf '%s\n' "$now" | wc -l) - events_before))
		[ "$extra" -le 1 ] || fail "checkpoint killed at $name #$i: $extra new events"
		if [ -e "$T/cpx" ]; then
			[ "$extra" = 1 ] || fail "killed at $name #$i: a checkpoint file without its event"
			cx checkpoint --show | cmp - "$T/cpx" || fail "killed at $name #$i: partial checkpoint file"
		fi
		cx checkpoint -o "$T/cpy" >/dev/null || fail "killed at $name #$i: cannot issue again"
		rm -f "$T/cpy"
		item=$(item_of_path three.txt)
		cx prove "$item" >/dev/null || fail "killed at $name #$i: cannot prove after"
	done
done
[ "$kills" -ge 5 ] || fail "only $kills kill points for checkpoint"

# ------------------------------------------------------------------ witness cosign
fresh_vault
cx checkpoint -o "$T/cp2" >/dev/null
cx checkpoint --consistency-from "$T/cp1" -o "$T/c12" >/dev/null
rm -rf "$T/template"
cp -a "$VAULT" "$T/template"
fresh_witness
points=$(count_calls "$CUSTOS" witness cosign --dir "$W" "$T/cp2" --proof "$T/c12" -o "$T/cosx")
note "cosign: $points"
wk=0
for p in $points; do
	name=${p%%:*}
	n=${p#*:}
	for i in $(seq 1 "$n"); do
		fresh_witness
		fresh_vault
		rm -f "$T/cosx" "$T/cosy"
		(strace -f -qq -o /dev/null -e trace="$name" -e inject="$name:signal=KILL:when=$i" \
			"$CUSTOS" witness cosign --dir "$W" "$T/cp2" --proof "$T/c12" -o "$T/cosx" >/dev/null 2>&1) 2>/dev/null || true
		wk=$((wk + 1))
		for f in "$W"/logs/*; do
			case "$f" in *.tmp-*) continue ;; esac # an interrupted write's temp: never read
			grep -Eq '^custos-witness-log 1$' <(head -n 1 "$f") || fail "cosign killed at $name #$i: damaged $f"
		done
		if [ -e "$T/cosx" ]; then
			cx checkpoint --add-cosignature "$T/cosx" --witness "$T/w.vkey" >/dev/null ||
				fail "cosign killed at $name #$i: the cosignature file is not usable"
		fi
		# whatever the state (moved on or not), cosigning cp2 with the proof works now
		"$CUSTOS" witness cosign --dir "$W" "$T/cp2" --proof "$T/c12" -o "$T/cosy" >/dev/null ||
			fail "cosign killed at $name #$i: the witness cannot go on"
	done
done
[ "$wk" -ge 3 ] || fail "only $wk kill points for cosign"
echo "crash-checkpoint: $kills checkpoint and $wk cosign kill points: ok"
