#!/usr/bin/env bash
# bundle.sh — transfer bundles and replicas end to end (FS §11): a vault of the mixed test
# corpus bundled and imported into an empty replica on "another machine" (its own
# directory and key), identical there item for item and commit for commit; an
# incremental bundle --since a checkpoint carrying only what is new; and tampered,
# truncated, forked, replayed, rolled-back and out-of-order bundles each refused by name
# with the replica left exactly as it was.
. "$(dirname "$0")/../lib.sh"
setup_vault
TAMPER="$TESTS_DIR/e2e/package-tamper.py"
ROOT=$(cd "$TESTS_DIR/.." && pwd)
bash "$ROOT/testdata/make-sample-drop.sh" "$T/drop/sample" >/dev/null
python3 "$ROOT/bench/gencorpus.py" mixed "$T/drop/mixed" 300 7 >/dev/null
cx ingest -q "$T/drop" >/dev/null || true # the sample drop holds refusals by design
cx checkpoint -o "$T/cp1" >/dev/null
cx key show --note-vkey >"$T/log.vkey"
"$CUSTOS" witness init --dir "$T/w" --no-passphrase --name witness.example/w1 >"$T/w1.vkey" 2>/dev/null
"$CUSTOS" witness add-log --dir "$T/w" "$T/log.vkey" >/dev/null
"$CUSTOS" witness cosign --dir "$T/w" "$T/cp1" -o "$T/cp1.cos" >/dev/null
cx checkpoint --add-cosignature "$T/cp1.cos" --witness "$T/w1.vkey" >/dev/null
cx key show >"$T/origin.pub"

# The replica machine: its own key and directory.
RKEY="$T/replica.key"
REP="$T/replica"
"$CUSTOS" --key "$RKEY" key new --no-passphrase >/dev/null 2>&1
rx() { "$CUSTOS" --key "$RKEY" --vault "$REP" "$@"; }
head_of() { git -C "$1/custody.git" rev-parse "${2:-main}"; }
items_of() { "$CUSTOS" --vault "$1" ls --json | python3 -c '
import json, sys
for l in sys.stdin.read().splitlines():
    o = json.loads(l)
    print(o["id"], o["sha256"], o["size"], o["event"], o.get("container", "-"))' | sort; }
# The replica's whole state: every file's name and bytes.
state() { (cd "$REP" && find . -type f ! -path './tmp/*' -print0 | sort -z | xargs -0 sha256sum) | sha256sum; }

note "full bundle: every event and object"
cx bundle -o "$T/b1.tar" --json >"$T/b1.json"
python3 - "$T/b1.json" "$(cx log --json | wc -l)" <<'PY'
import json, sys
o = json.load(open(sys.argv[1])); n = int(sys.argv[2])
assert o["from"] == 0 and o["events"] == n and o["to"] == n - 1, (o, n)
PY
expect_exit 3 cx bundle -o "$T/b1.tar"
grep_out "already exists"
bsdtar -tf "$T/b1.tar" >"$T/b1.list"
[ "$(sed -n 1p "$T/b1.list")" = custos-bundle/BUNDLE ] || fail "BUNDLE is not first"

note "an empty replica of the origin's key; its fsck says it is empty"
"$CUSTOS" --key "$RKEY" init --replica-of "$T/origin.pub" "$REP" >/dev/null
[ ! -e "$REP/VAULT" ] || fail "an empty replica has a VAULT marker"
rx fsck >"$T/fsck0.out" || fail "fsck of an empty replica: $(cat "$T/fsck0.out")"
grep -q "empty replica" "$T/fsck0.out" || fail "fsck of an empty replica"
expect_exit 2 "$CUSTOS" --vault "$VAULT" --key "$KEY" import "$T/b1.tar"
grep_out "not a replica"

note "import into the empty replica: identical items and log head; fsck --full passes"
rx import "$T/b1.tar" >"$T/imp1.out" || { cat "$T/imp1.out"; fail "first import"; }
grep -q "import 0 recorded" "$T/imp1.out" || fail "import: $(cat "$T/imp1.out")"
[ "$(head_of "$REP")" = "$(head_of "$VAULT")" ] || fail "log heads differ"
cmp "$REP/VAULT" "$VAULT/VAULT" || fail "the replica's marker differs from the origin's"
items_of "$VAULT" >"$T/origin.items"
items_of "$REP" >"$T/replica.items"
[ "$(wc -l <"$T/origin.items")" -gt 300 ] || fail "too few items: $(wc -l <"$T/origin.items")"
cmp "$T/origin.items" "$T/replica.items" || fail "items differ"
rx fsck --full --trust "$T/origin.pub" >"$T/fsck.out" || { cat "$T/fsck.out"; fail "fsck of the replica"; }
"$CUSTOS" --vault "$REP" fsck --full --against "$T/cp1.cos" >/dev/null || fail "fsck --against the origin's checkpoint"
git -C "$REP/custody.git" fsck --strict --no-dangling >"$T/gitfsck" 2>&1 || fail "git fsck: $(cat "$T/gitfsck")"
if grep -v "^Checking" "$T/gitfsck" | grep -q .; then
	fail "git fsck of the replica: $(git -C "$REP/custody.git" fsck --strict 2>&1)"
fi
note "a replica takes no events of its own, even signed with the origin's key"
printf 'local\n' >"$T/local.txt"
expect_exit 2 "$CUSTOS" --key "$KEY" --vault "$REP" ingest "$T/local.txt"
grep_out "is a replica"
expect_exit 2 "$CUSTOS" --key "$KEY" --vault "$REP" checkpoint
grep_out "is a replica"
[ "$(head_of "$REP")" = "$(head_of "$VAULT")" ] || fail "a refused local event moved the replica"
note "the replica proves exhibits as the origin does; its import is a signed event of its own log"
f=$(find "$T/drop/mixed" -type f -name '*.txt' -print -quit)
rx verify "$f" >/dev/null || fail "verify on the replica"
# (no early exit in the filter: a closed pipe would kill the test under pipefail)
id=$(items_of "$REP" | awk -v s="$(sha256sum "$f" | cut -d' ' -f1)" '$2 == s && !n++ {print $1}')
rx prove "$id" -o "$T/p.proof" >/dev/null
"$CUSTOS" verify-proof "$T/p.proof" "$f" --trust "$T/origin.pub" --witness "$T/w1.vkey" >/dev/null ||
	fail "a proof made on the replica does not verify"
git -C "$REP/custody.git" cat-file -p imports:EVENT >"$T/imp.event"
grep -qx "action import" "$T/imp.event" && grep -qx "from 0" "$T/imp.event" && grep -qx "head $(head_of "$VAULT")" "$T/imp.event" ||
	fail "import event: $(cat "$T/imp.event")"
grep -qx "bundle $(sha256sum "$T/b1.tar" | cut -d' ' -f1)" "$T/imp.event" || fail "import event names another bundle"
"$CUSTOS" --key "$RKEY" key show --allowed-signers >"$T/rep.allowed"
git -C "$REP/custody.git" -c gpg.format=ssh -c gpg.ssh.allowedSignersFile="$T/rep.allowed" verify-commit imports 2>/dev/null ||
	fail "git verify-commit rejects the import commit"

note "incremental: new items and a duplicate, a checkpoint; bundle --since cp1 carries only what is new"
mkdir -p "$T/drop2"
printf 'second drop\n' >"$T/drop2/new.txt"
printf 'another\n' >"$T/drop2/new2.txt"
cp "$f" "$T/drop2/dup.bin"
cx ingest -q "$T/drop2" >/dev/null
cx checkpoint -o "$T/cp2" >/dev/null
cx bundle --since "$T/cp1" -o "$T/b2.tar" --json >"$T/b2.json"
cp1_event=$(cx log --json | python3 -c '
import json, sys
for l in sys.stdin:
    o = json.loads(l)
    if o["action"] == "checkpoint":
        print(o["seq"]); break')
python3 - "$T/b2.json" "$cp1_event" <<'PY'
import json, sys
o = json.load(open(sys.argv[1])); cp1 = int(sys.argv[2])
# from the first checkpoint's event: that event, the cosignature, the ingest, the checkpoint
assert o["from"] == cp1 and o["events"] == 4, o
assert o["items"] == 3, o              # new.txt, new2.txt, dup.bin
assert o["objects"] == 2, o            # dup.bin's bytes were bundled before
PY
[ "$(bsdtar -tf "$T/b2.tar" | grep -c '^custos-bundle/objects/')" = 2 ] || fail "b2 carries other objects"
[ "$(stat -c %s "$T/b2.tar")" -lt "$(( $(stat -c %s "$T/b1.tar") / 10 ))" ] || fail "the incremental bundle is not small"

note "refusals leave the replica exactly as it was"
# refused BUNDLE KIND : import must exit 1 naming KIND, and change nothing.
refused() {
	local before after
	before=$(state)
	expect_exit 1 rx import "$1"
	grep_out "PROBLEM $2"
	after=$(state)
	[ "$before" = "$after" ] || fail "a refused import ($2) changed the replica"
	cases=$((cases + 1))
}
cases=0
refused "$T/b1.tar" "replay: "
bsdtar -tf "$T/b2.tar" | sed 's|^custos-bundle/||' >"$T/b2.list"
b2obj=$(grep -m1 '^objects/' "$T/b2.list")
b2rec=$(grep -m1 '^events/.*/items/[0-9a-f]*$' "$T/b2.list")
b2ev=$(grep '^events/.*/EVENT$' "$T/b2.list" | tail -1)
b2commit=$(grep '^events/.*/commit$' "$T/b2.list" | tail -1)
python3 "$TAMPER" "$T/b2.tar" "$T/bad.tar" flip "$b2obj" 0
refused "$T/bad.tar" "bad-object: "
python3 "$TAMPER" "$T/b2.tar" "$T/bad.tar" flip "$b2rec" 30
refused "$T/bad.tar" "bad-bundle: .*the commit does not name the tree"
python3 "$TAMPER" "$T/b2.tar" "$T/bad.tar" flip "$b2ev" 20
refused "$T/bad.tar" "bad-bundle: "
python3 "$TAMPER" "$T/b2.tar" "$T/bad.tar" flip "$b2commit" 60
refused "$T/bad.tar" "bad-commit-signature|bad-bundle|broken-chain|bad-event"
python3 "$TAMPER" "$T/b2.tar" "$T/bad.tar" remove "$b2obj"
refused "$T/bad.tar" "missing-object: "
python3 "$TAMPER" "$T/b2.tar" "$T/bad.tar" add-before END "objects/$(printf 'planted' | sha256sum | cut -d' ' -f1)" "planted"
refused "$T/bad.tar" "bad-bundle: .*no record of the bundle names"
python3 "$TAMPER" "$T/b2.tar" "$T/bad.tar" add "objects/$(printf 'planted' | sha256sum | cut -d' ' -f1)" "planted"
refused "$T/bad.tar" "bad-bundle: .*not a member a bundle holds"
python3 "$TAMPER" "$T/b2.tar" "$T/bad.tar" remove END
refused "$T/bad.tar" "truncated: "
head -c $(( $(stat -c %s "$T/b2.tar") / 2 )) "$T/b2.tar" >"$T/trunc.tar"
refused "$T/trunc.tar" "truncated: |bad-bundle: "
printf 'not a bundle' >"$T/junk.tar"
refused "$T/junk.tar" "bad-bundle: "
note "a bundle from later than the replica holds: a gap"
cx checkpoint -o "$T/cp3" >/dev/null
printf 'third\n' >"$T/drop2/third.txt"
cx ingest -q "$T/drop2/third.txt" >/dev/null
cx bundle --since "$T/cp3" -o "$T/b3.tar" >/dev/null
refused "$T/b3.tar" "gap: "
note "the incremental bundle goes in; then the older ones are replays and rollbacks"
rx import "$T/b2.tar" >/dev/null
rx import "$T/b3.tar" >/dev/null
[ "$(head_of "$REP")" = "$(head_of "$VAULT")" ] || fail "log heads differ after the incremental imports"
items_of "$VAULT" >"$T/origin.items"
items_of "$REP" >"$T/replica.items"
cmp "$T/origin.items" "$T/replica.items" || fail "items differ after the incremental imports"
rx fsck --full >/dev/null || fail "fsck after the incremental imports"
refused "$T/b2.tar" "rollback: "
refused "$T/b3.tar" "replay: "
note "a fork: the key holder rewrites history after cp3 in a copy of the vault"
cp -a "$VAULT" "$T/forked"
cx checkpoint >/dev/null
printf 'rewritten\n' >"$T/rewritten.txt"
"$CUSTOS" --key "$KEY" --vault "$T/forked" ingest -q "$T/rewritten.txt" >/dev/null
"$CUSTOS" --vault "$T/forked" bundle --since "$T/cp3" -o "$T/fork.tar" >/dev/null
cx bundle --since "$T/cp3" -o "$T/b4.tar" >/dev/null
rx import "$T/b4.tar" >/dev/null
refused "$T/fork.tar" "fork: "
note "a replica of another custodian refuses the bundle"
"$CUSTOS" --key "$T/other.key" key new --no-passphrase >/dev/null 2>&1
"$CUSTOS" --key "$T/other.key" key show >"$T/other.pub"
"$CUSTOS" --key "$RKEY" init --replica-of "$T/other.pub" "$T/rep2" >/dev/null
expect_exit 1 "$CUSTOS" --key "$RKEY" --vault "$T/rep2" import "$T/b1.tar"
grep_out "PROBLEM wrong-key"
[ ! -e "$T/rep2/VAULT" ] || fail "a refused first import wrote a marker"
expect_exit 3 "$CUSTOS" --key "$T/other.key" --vault "$REP" import "$T/b4.tar"
grep_out "not this replica's custodian"
note "$cases refusals, none changed the replica; it still passes fsck --full"
rx fsck --full >/dev/null || fail "fsck at the end"
[ "$(git -C "$REP/custody.git" rev-list --count imports)" = 4 ] || fail "imports log: $(git -C "$REP/custody.git" log --oneline imports)"
rx log --imports --json | python3 -c '
import json, sys
evs = [json.loads(l) for l in sys.stdin]
assert [e["seq"] for e in evs] == [0, 1, 2, 3], evs
assert all(e["action"] == "import" for e in evs)
assert evs[0]["from"] == 0 and all(evs[i]["from"] == evs[i - 1]["to"] + 1 for i in range(1, 4)), evs
' || fail "log --imports"
echo "bundle: ok"
