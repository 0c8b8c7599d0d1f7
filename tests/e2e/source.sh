#!/usr/bin/env bash
# source.sh — sources and signed submissions (FS §12): registration as custody events,
# keys made by minisign and by ssh-keygen, detached signatures they made over a submission
# checked at ingest (good, bad, wrong key), the verdict recorded in the signed event, and
# what refuses.
. "$(dirname "$0")/../lib.sh"
need minisign
need ssh-keygen
setup_vault
cd "$T"
minisign -G -W -p src.pub -s src.key >/dev/null
ssh-keygen -q -t ed25519 -N '' -f sshsrc
ssh-keygen -q -t ed25519 -N '' -f other
printf 'leaked memo\n' >memo.txt
minisign -S -s src.key -m memo.txt >/dev/null
ssh-keygen -q -Y sign -f other -n file memo.txt && mv memo.txt.sig other.sig
ssh-keygen -q -Y sign -f sshsrc -n file memo.txt
cmp -s other.sig memo.txt.sig && fail "the two ssh signatures are the same file"
cp memo.txt changed.txt && printf 'x' >>changed.txt
cp memo.txt.minisig changed.txt.minisig

note "register sources: a name, a key (minisign or ssh), a note; each a custody event"
expect_exit 0 cx source add alpha --pubkey src.pub --note "signal contact, met twice"
expect_exit 0 cx source add beta --pubkey sshsrc.pub
expect_exit 0 cx source add gamma
expect_exit 3 cx source add alpha
grep_out "exists"
expect_exit 2 cx source add delta --pubkey memo.txt
grep_out "not a source key"
[ "$(cx log --json | grep -c '"action":"source"')" = 3 ] || fail "three source events"
git -C "$VAULT/custody.git" show main~2:EVENT >src.event
grep -qx "action source" src.event && grep -qx "name alpha" src.event || fail "source event: $(cat src.event)"
keynum=$(python3 -c 'import base64,sys; print(base64.b64decode(open(sys.argv[1]).read().split("\n")[1])[2:10].hex())' src.pub)
grep -q "^key minisign $keynum " src.event || fail "the event does not name minisign's key number $keynum"
grep -qx "note signal%20contact,%20met%20twice" src.event || fail "source note"

note "signed submissions: minisign and ssh signatures verify; the verdict is in the event"
expect_exit 0 cx ingest --source alpha --source-sig memo.txt.minisig memo.txt
grep_out "source signature: good"
cx log --json | tail -1 | python3 -c 'import json,sys; assert json.load(sys.stdin)["action"] == "ingest"'
git -C "$VAULT/custody.git" show main:EVENT >ing.event
grep -q "^source-signature good minisign $keynum " ing.event || fail "event: $(cat ing.event)"
# the recorded signature is the file the source gave, byte for byte
grep '^source-signature ' ing.event | cut -d' ' -f5 | base64 -d | cmp - memo.txt.minisig || fail "signature bytes"
expect_exit 0 cx ingest --json --source beta --source-sig memo.txt.sig memo.txt
grep_out '"source_signature":"good"'
note "a changed file, a signature by another key: recorded as bad, exit 1, bytes kept"
expect_exit 1 cx ingest --source alpha --source-sig changed.txt.minisig changed.txt
grep_out "source signature: bad"
expect_exit 0 cx verify changed.txt
expect_exit 1 cx ingest --source beta --source-sig other.sig memo.txt
grep_out "source signature: bad"
expect_exit 1 cx ingest --source beta --source-sig memo.txt.minisig memo.txt
grep_out "source signature: bad"

note "refused before anything is recorded: unknown source, no key, no source, several paths"
events=$(cx log --json | wc -l)
expect_exit 3 cx ingest --source nobody memo.txt
grep_out "no source named 'nobody'"
expect_exit 2 cx ingest --source gamma --source-sig memo.txt.sig memo.txt
grep_out "has no key"
expect_exit 2 cx ingest --source-sig memo.txt.sig memo.txt
grep_out "needs --source"
expect_exit 2 cx ingest --source alpha --source-sig memo.txt.minisig memo.txt changed.txt
grep_out "exactly one PATH"
[ "$(cx log --json | wc -l)" = "$events" ] || fail "a refused ingest recorded an event"

note "source ls / show count the ingests and verdicts, and show minisign's own key id"
cx source ls --json >ls.json
mid=$(head -1 src.pub | sed 's/.*minisign public key //')
cx source ls >ls.txt
grep -q "key minisign $mid:" ls.txt || fail "ls does not show minisign's key id $mid: $(cat ls.txt)"
python3 - ls.json "$mid" <<'PY'
import json, sys
s = {o["name"]: o for o in map(json.loads, open(sys.argv[1]))}
assert s["alpha"]["ingests"] == 2 and s["alpha"]["good"] == 1 and s["alpha"]["bad"] == 1, s
assert s["beta"]["ingests"] == 3 and s["beta"]["good"] == 1 and s["beta"]["bad"] == 2, s
assert s["beta"]["key"]["scheme"] == "ssh-ed25519" and "key" not in s["gamma"], s
assert s["alpha"]["key"]["id"] == sys.argv[2], s
assert s["alpha"]["note"] == "signal contact, met twice", s
PY
cx source show alpha >show.out
grep -q "signature good" show.out && grep -q "signature bad" show.out || fail "show: $(cat show.out)"
expect_exit 1 cx source show nobody

note "fsck passes; a log re-signed by the key holder to claim another signing key does not"
expect_exit 0 cx fsck --full
: "${FORGE:?set FORGE to the forge helper (meson does this)}"
head=$(git -C "$VAULT/custody.git" rev-parse main)
parent=$(git -C "$VAULT/custody.git" rev-parse main~1)
git -C "$VAULT/custody.git" show main:EVENT | grep -q '^source-signature ' || fail "the last event has no source signature"
git -C "$VAULT/custody.git" update-ref refs/heads/main "$parent"
"$FORGE" "$VAULT" "$KEY" "$parent" "$head" --sig-keynum 0011223344556677 >/dev/null
cx reindex >/dev/null
expect_exit 1 cx fsck
grep_out "PROBLEM bad-event: .*a source signature by a key its source did not register"

note "a minisign key id with a leading zero is shown as minisign shows it"
# minisign prints its key id without leading zeros: a key whose id starts with a zero
# nibble (one in sixteen) is shown the same way
for i in $(seq 1 200); do
	rm -f zero.pub zero.key
	minisign -G -W -p zero.pub -s zero.key >/dev/null
	zid=$(head -1 zero.pub | sed 's/.*minisign public key //')
	[ ${#zid} -lt 16 ] && break
done
[ ${#zid} -lt 16 ] || fail "no minisign key id with a leading zero in 200 keys"
expect_exit 0 cx source add zero --pubkey zero.pub
expect_exit 0 cx source show zero
grep_out "key minisign $zid:"
echo "source: ok"
