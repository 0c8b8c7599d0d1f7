#!/usr/bin/env bash
# checkpoint.sh — the Merkle log end to end: checkpoints, a witness on "another machine"
# (its own directory and key), consistency proofs, cosignatures recorded in the log,
# exhibit proofs checked with no vault, and fsck of all of it.
. "$(dirname "$0")/../lib.sh"
setup_vault
mkdir -p "$T/drop/sub"
printf 'contract v1\n' >"$T/drop/contract.txt"
printf 'ledger\n' >"$T/drop/sub/ledger.csv"
cx ingest -q "$T/drop" >/dev/null

note "a checkpoint before any: --show says so"
expect_exit 1 cx checkpoint --show
grep_out "no checkpoint yet"

note "issue a checkpoint: a C2SP note with origin, size, root and the custodian's line"
cx checkpoint -o "$T/cp1" >/dev/null
vid=$(python3 -c 'import sys; print(open(sys.argv[1]).read().split("\n")[0])' "$T/cp1")
case "$vid" in custos.invalid/*) ;; *) fail "origin line is '$vid'" ;; esac
# 1 init + 2 records + 1 ingest event = 4 leaves
[ "$(sed -n 2p "$T/cp1")" = 4 ] || fail "tree size of cp1 is not 4"
[ "$(sed -n 4p "$T/cp1")" = "" ] || fail "no blank line after the checkpoint text"
sed -n 5p "$T/cp1" | grep -q "^— $vid " || fail "no signature line by $vid"
expect_exit 3 cx checkpoint -o "$T/cp1"
grep_out "refusing to overwrite"
[ "$(cx log --json | grep -c checkpoint)" = 1 ] || fail "a refused -o still recorded a checkpoint"

note "the note verifier key: name+keyid+key, and the key id is SHA-256(name\\n0x01 pk)[:4]"
cx key show --note-vkey >"$T/log.vkey"
python3 - "$T/log.vkey" "$KEY" "$CUSTOS" <<'PY'
import base64, hashlib, subprocess, sys
name, kid, b = open(sys.argv[1]).read().strip().split("+", 2)
raw = base64.b64decode(b)
assert raw[0] == 1 and len(raw) == 33, raw
assert hashlib.sha256(name.encode() + b"\n" + raw).hexdigest()[:8] == kid
pub = subprocess.run([sys.argv[3], "key", "show", "--ssh", sys.argv[2]], capture_output=True,
                     text=True, check=True).stdout.split()[1]
assert base64.b64decode(pub)[-32:] == raw[1:], "not the custodian key"
PY

note "witness on its own: init, follow the log, cosign the first checkpoint (no proof needed)"
W="$T/witness"
"$CUSTOS" witness init --dir "$W" --no-passphrase --name witness.example/w1 >"$T/w1.vkey" 2>/dev/null
[ "$(stat -c %a "$W/witness.key")" = 600 ] || fail "witness key is not 0600"
"$CUSTOS" witness show --dir "$W" | cmp - "$T/w1.vkey" || fail "witness show differs from init"
expect_exit 1 "$CUSTOS" witness cosign --dir "$W" "$T/cp1"
grep_out "unknown-log"
"$CUSTOS" witness add-log --dir "$W" "$T/log.vkey" >/dev/null
"$CUSTOS" witness cosign --dir "$W" "$T/cp1" -o "$T/cp1.cos" >/dev/null
head -c "$(stat -c %s "$T/cp1")" "$T/cp1.cos" | cmp - "$T/cp1" || fail "cosigned note does not start with the checkpoint"
tail -n 1 "$T/cp1.cos" | grep -q "^— witness.example/w1 " || fail "no cosignature line"
note "cosigning the same checkpoint again is fine (idempotent)"
"$CUSTOS" witness cosign --dir "$W" "$T/cp1" >/dev/null

note "record the cosignature in the vault; --show carries it"
expect_exit 1 cx checkpoint --add-cosignature "$T/cp1" --witness "$T/w1.vkey"
grep_out "no valid cosignature"
cx checkpoint --add-cosignature "$T/cp1.cos" --witness "$T/w1.vkey" >/dev/null
expect_exit 3 cx checkpoint --add-cosignature "$T/cp1.cos" --witness "$T/w1.vkey"
grep_out "already recorded"
cx checkpoint --show --json | python3 -c 'import json,sys; o=json.load(sys.stdin); assert o["cosignatures"]==1 and o["size"]==4, o'

note "an exhibit proof verifies with no vault, with and without the exhibit"
item=$(item_of_path drop/contract.txt)
cx prove "$item" -o "$T/p1" >/dev/null
mv "$VAULT" "$T/vault.away" # no vault anywhere near the verifier
expect_exit 0 "$CUSTOS" verify-proof "$T/p1" "$T/drop/contract.txt" --trust "$KEY" --witness "$T/w1.vkey"
grep_out "is this exhibit, byte for byte"
"$CUSTOS" verify-proof --json "$T/p1" --trust "$KEY" --witness "$T/w1.vkey" |
	python3 -c 'import json,sys; o=json.load(sys.stdin); assert o["ok"] and o["witnesses_ok"]==1 and o["tree_size"]==4 and o["exhibit"] is None, o'
expect_exit 1 "$CUSTOS" verify-proof "$T/p1" "$T/drop/sub/ledger.csv" --trust "$KEY"
grep_out "exhibit-mismatch"
mv "$T/vault.away" "$VAULT"

note "a later item is not in the latest checkpoint until a new one is issued"
printf 'memo\n' >"$T/memo.txt"
cx ingest -q "$T/memo.txt" >/dev/null
memo=$(item_of_path memo.txt)
expect_exit 1 cx prove "$memo"
grep_out "after the latest checkpoint"
cx checkpoint -o "$T/cp2" >/dev/null

note "the witness needs a consistency proof to move on, and checks it"
expect_exit 1 "$CUSTOS" witness cosign --dir "$W" "$T/cp2"
grep_out "proof-required"
cx checkpoint --consistency-from "$T/cp1" -o "$T/c12" >/dev/null
head -n 4 "$T/c12" | tr '\n' ' ' | grep -Eq "^custos-consistency 1 origin $vid old-size 4 new-size [0-9]+ $" ||
	fail "consistency proof header: $(head -n 4 "$T/c12")"
"$CUSTOS" witness cosign --dir "$W" "$T/cp2" --proof "$T/c12" -o "$T/cp2.cos" >/dev/null
cx checkpoint --add-cosignature "$T/cp2.cos" --witness "$T/w1.vkey" >/dev/null
cx prove "$memo" -o "$T/p2" >/dev/null
expect_exit 0 "$CUSTOS" verify-proof "$T/p2" "$T/memo.txt" --trust "$KEY" --witness "$T/w1.vkey"

note "a second witness: --min-witnesses counts only valid cosignatures by given keys"
W2="$T/witness2"
"$CUSTOS" witness init --dir "$W2" --no-passphrase >"$T/w2.vkey" 2>/dev/null
grep -q "^custos-witness-[0-9a-f]\{16\}+" "$T/w2.vkey" || fail "default witness name"
expect_exit 1 "$CUSTOS" verify-proof "$T/p2" --trust "$KEY" --witness "$T/w1.vkey" --witness "$T/w2.vkey"
grep_out "missing-cosignature"
expect_exit 0 "$CUSTOS" verify-proof "$T/p2" --trust "$KEY" --witness "$T/w1.vkey" --witness "$T/w2.vkey" --min-witnesses 1

note "fsck checks every checkpoint and cosignature, and --against an old checkpoint"
expect_exit 0 cx fsck
grep_out "ok: 7 events"
expect_exit 0 cx fsck --against "$T/cp1.cos"
grep_out "extends the checkpoint of tree size 4"

note "the tree is derived: reindex rebuilds index/merkle.dat identically"
cp "$VAULT/index/merkle.dat" "$T/merkle.before"
cx reindex >/dev/null
cmp "$VAULT/index/merkle.dat" "$T/merkle.before" || fail "merkle.dat differs after reindex"
rm -rf "$VAULT/index"
cx checkpoint --show >/dev/null
cmp "$VAULT/index/merkle.dat" "$T/merkle.before" || fail "merkle.dat differs after rebuilding the index"

note "a damaged merkle.dat is found by fsck, and proofs from it would not verify"
python3 - "$VAULT/index/merkle.dat" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[40] ^= 1
open(p, "wb").write(b)
PY
expect_exit 1 cx fsck
grep_out "index-mismatch: index/merkle.dat"
cx reindex >/dev/null
expect_exit 0 cx fsck
echo "checkpoint: ok"
