#!/usr/bin/env bash
# dkim.sh — DKIM verification (FS §13) against python3-dkim, the reference: a corpus of
# messages signed by test keys generated here (testdata/make-dkim-corpus.py: rsa-sha256,
# ed25519-sha256, rsa-sha1; relaxed and simple; l=; expired; double From; body and header
# tampering; mbox quoting; the RFC 8463 Appendix A example) is verified by custos with no
# vault, from an mbox, and in a vault (dkim-key store, analysis at ingest, inspect,
# --rerun); every verdict must equal dkimpy's dkim.verify with the same keys through its
# dnsfunc, except the documented differences, each checked on its own.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3 # Debian's python3-dkim imports only here
"$PY" -c 'import dkim, nacl' 2>/dev/null || fail "python3-dkim is not installed (scripts/setup.sh installs it)"
ROOT=$(cd "$TESTS_DIR/.." && pwd)
COMPARE="$PY $TESTS_DIR/interop/dkim-compare.py"
setup_vault
cd "$T"
"$PY" "$ROOT/testdata/make-dkim-corpus.py" corpus >/dev/null
Z=corpus/keys.zone
sort corpus/cases.txt | cut -d' ' -f1 >cases.sorted
[ "$(wc -l <corpus/expected.jsonl)" -ge 25 ] || fail "the corpus is too small"

note "no vault: custos dkim-verify agrees with dkimpy on every signature of the corpus"
expect_exit 1 "$CUSTOS" dkim-verify --keys "$Z" --json corpus/msgs/*.eml # some fail
cp "$T/out" ours.json
$COMPARE ours.json corpus/expected.jsonl >cmp.txt || { cat cmp.txt; fail "verdicts differ from dkimpy"; }
cat cmp.txt
grep -q "documented difference expired" cmp.txt && grep -q "documented difference weak-rsa-512" cmp.txt ||
	fail "the documented differences were not met"

note "the reports say what happened: weak algorithms, l=, double From, missing keys, RFC 8463"
"$PY" - ours.json <<'EOF'
import json, sys
sigs = {}
for o in json.load(open(sys.argv[1])):
    name = o["file"].rsplit("/", 1)[-1][:-4]
    sigs[(name, o["signature"]["index"])] = o["signature"]
def check(cond, what):
    if not cond:
        sys.exit("FAIL: " + what)
s = sigs[("rsa-sha1", 0)]
check(s["verdict"] == "pass" and s["weak"] == "rsa-sha1", "rsa-sha1 is named weak: %r" % s)
s = sigs[("weak-rsa-512", 0)]
check(s["key_bits"] == 512 and s["weak"] == "rsa-512-bit", "a 512-bit key is named weak: %r" % s)
s = sigs[("rsa-1024", 0)]
check(s["verdict"] == "pass" and s["weak"] == "" and s["key_bits"] == 1024, "1024 bits is not weak")
s = sigs[("length-appended", 0)]
check(s["verdict"] == "pass" and s["l"] is not None and s["l"] < s["body_length"],
      "l= covers less than the body after text was appended: %r" % s)
s = sigs[("length-tampered", 0)]
check(s["verdict"] == "fail" and "body hash" in s["reason"], "tampering inside l= fails the body hash")
s = sigs[("double-from", 0)]
check(s["verdict"] == "fail" and "double From" in s["reason"] and s["unsigned_duplicates"] == "from",
      "double From is named: %r" % s)
check("holds" in s["reason"], "the signature over the signed From itself holds")
s = sigs[("body-tampered", 0)]
check("body hash" in s["reason"], "body tampering: %r" % s["reason"])
s = sigs[("header-tampered", 0)]
check("does not verify" in s["reason"], "header tampering: %r" % s["reason"])
s = sigs[("no-key", 0)]
check(s["reason"].startswith("no key for nokey._domainkey.example.org"), "missing key: %r" % s["reason"])
s = sigs[("revoked-key", 0)]
check("revoked" in s["reason"], "revoked key: %r" % s["reason"])
s = sigs[("expired", 0)]
check(s["expired"] and s["x"] == 1600086400, "x= reported: %r" % s)
check(sigs[("two-signatures", 0)]["verdict"] == "pass" and sigs[("two-signatures", 1)]["verdict"] == "fail",
      "two signatures judged one by one")
a, b = sigs[("rfc8463-example", 0)], sigs[("rfc8463-example", 1)]
check(a["verdict"] == b["verdict"] == "pass", "RFC 8463 Appendix A verifies")
check((a["a"], a["key_type"], a["s"]) == ("ed25519-sha256", "ed25519", "brisbane"), "RFC 8463 ed25519: %r" % a)
check((b["a"], b["key_type"], b["s"]) == ("rsa-sha256", "rsa", "test"), "RFC 8463 rsa: %r" % b)
check(a["h"] == "from:to:subject:date:message-id:from:subject:date", "h= as signed: %r" % a["h"])
EOF

note "expiry and t= are judged at a given time (--at); t= in the future fails, as in dkimpy"
expect_exit 0 "$CUSTOS" dkim-verify --keys "$Z" --at 2020-09-14T00:00:00Z --json corpus/msgs/expired.eml
grep_out '"expired":false'
expect_exit 1 "$CUSTOS" dkim-verify --keys "$Z" --at 2023-06-01T00:00:00Z corpus/msgs/rsa-relaxed-relaxed.eml
grep_out "t= is after the time of analysis"
expect_exit 0 "$CUSTOS" dkim-verify --keys "$Z" corpus/msgs/unsigned.eml
grep_out "no DKIM signature"

note "an mbox: messages unquoted (mboxrd) verify as the .eml files do, and as dkimpy reads them"
expect_exit 1 "$CUSTOS" dkim-verify --keys "$Z" --mbox --json corpus/corpus.mbox
cp "$T/out" mbox.json
$COMPARE mbox.json corpus/expected.jsonl --map cases.sorted >cmp-mbox.txt || { cat cmp-mbox.txt; fail "mbox verdicts differ"; }
"$PY" "$TESTS_DIR/interop/dkim-reference.py" "$Z" --mbox corpus/corpus.mbox >ref-mbox.jsonl
$COMPARE mbox.json ref-mbox.jsonl --map cases.sorted >cmp-mbox2.txt || { cat cmp-mbox2.txt; fail "differs from dkimpy's own mbox reading"; }
tail -1 cmp-mbox2.txt

note "ARC chains (RFC 8617): custos's verdict equals python3-dkim's arc_verify on each"
"$PY" "$ROOT/testdata/make-arc-corpus.py" arc >/dev/null
for f in arc/msgs/*.eml; do
	set +e
	"$CUSTOS" dkim-verify --keys arc/keys.zone --at 2024-06-01T00:00:00Z --json "$f" >"$f.json"
	set -e
done
"$PY" - arc <<'EOF'
import json, os, sys
d = sys.argv[1]
n = 0
for line in open(os.path.join(d, "expected.jsonl")):
    want = json.loads(line)
    got = [o["arc"] for o in json.load(open(os.path.join(d, "msgs", want["case"] + ".eml.json"))) if "arc" in o]
    verdict = got[0]["verdict"] if got else "none"
    sets = got[0]["instances"] if got else 0
    if verdict != want["cv"]:
        sys.exit("FAIL: %s: custos %s (%s), python3-dkim %s (%s)" % (want["case"], verdict,
                 got[0]["reason"] if got else "", want["cv"], want["reason"]))
    if got and verdict == "pass" and len(got[0]["sets"]) != sets:
        sys.exit("FAIL: %s: %d set reports for %d sets" % (want["case"], len(got[0]["sets"]), sets))
    n += 1
if n < 7:
    sys.exit("FAIL: only %d ARC cases" % n)
print("ARC: %d chains, every verdict equals python3-dkim's" % n)
EOF
expect_exit 1 "$CUSTOS" dkim-verify --keys arc/keys.zone --at 2024-06-01T00:00:00Z arc/msgs/arc-older-set-changed.eml
grep_out "ARC chain of 2 sets: fail: ARC-Seal i=2 does not verify"

note "the vault's key store: dkim-key add records where and when; refusals name the cause"
expect_exit 2 cx dkim-key add "$Z"
printf 'www.example.org. 300 IN TXT "v=spf1 -all"\n' >notdkim.zone
expect_exit 2 cx dkim-key add notdkim.zone --obtained-from test
grep_out "www.example.org is not a DKIM key name"
printf 'a._domainkey.example.org. IN TXT "v=DKIM1; p=abc\n' >broken.zone
expect_exit 2 cx dkim-key add broken.zone --obtained-from test
grep_out "line 1: a quoted string is not closed"
expect_exit 0 cx dkim-key add "$Z" --obtained-from "dig @192.0.2.53 on the research laptop" \
	--obtained-at 2026-11-30T09:00:00Z --note "gathered for the test"
git -C "$VAULT/custody.git" show main:EVENT >key.event
grep -qx "action dkim-key" key.event && grep -qx "obtained-from dig%20@192.0.2.53%20on%20the%20research%20laptop" key.event &&
	grep -qx "obtained-at 2026-11-30T09:00:00Z" key.event || fail "dkim-key event: $(head -12 key.event)"
[ "$(grep -c '^record ' key.event)" = "$(grep -c ' TXT ' "$Z")" ] || fail "one record line per TXT record"
expect_exit 0 cx dkim-key ls --json
"$PY" -c '
import json, sys
keys = {k["name"]: k for k in json.load(open(sys.argv[1]))}
assert keys["brisbane._domainkey.football.example.com"]["type"] == "ed25519"
assert keys["sel2048._domainkey.example.org"]["bits"] == 2048
assert keys["revoked._domainkey.example.org"]["type"] == "" and "revoked" in keys["revoked._domainkey.example.org"]["problem"]
assert keys["sel1024._domainkey.example.org"]["obtained_at"] == "2026-11-30T09:00:00Z"
' "$T/out" || fail "dkim-key ls"

note "ingest analyses every message (files and mbox members) into one signed analysis event"
expect_exit 0 cx ingest --json corpus/msgs corpus/corpus.mbox
grep_out '"analysis":\{"event":[0-9]+,"messages":54,'
cx log --json >log.json
[ "$(grep -c '"action":"analysis"' log.json)" = 1 ] || fail "one analysis event"
cx ls --json >ls.json
"$PY" - ls.json ours.json mbox.json "$CUSTOS" "$VAULT" <<'EOF'
import json, subprocess, sys
ls, ours, mbox, custos, vault = sys.argv[1:]
want = {}
for kind, f in (("file", ours), ("mbox", mbox)):
    for o in json.load(open(f)):
        want[(kind, o["file"].rsplit("/", 1)[-1], o["signature"]["index"])] = o["signature"]
seen = messages = 0
for line in open(ls):
    it = json.loads(line)
    r = subprocess.run([custos, "--vault", vault, "inspect", "--json", it["id"]],
                       capture_output=True, text=True, check=True)
    runs = [a for a in json.loads(r.stdout)["analyses"] if a["kind"] == "message"]
    if not runs:
        assert not it["name"].endswith(".eml"), ("a message was not analysed", it)
        continue
    messages += 1
    assert len(runs) == 1 and runs[0]["note"] == "at ingest", runs
    # an mbox member is named by its message number, a file by its base name
    kind = "mbox" if "container" in it else "file"
    for s in runs[0]["dkim"]:
        w = dict(want[(kind, it["name"], s["index"])])
        # recorded with the key's provenance in the vault; all else is the same report
        if s["key_type"]:
            assert s["key_from"].startswith("event 1: dig @192.0.2.53"), s
        s.pop("key_from"), w.pop("key_from")
        assert s == w, (it["path"], s, w)
        seen += 1
if (messages, seen) != (54, 56):
    sys.exit("FAIL: %d messages, %d signatures analysed; want 54, 56" % (messages, seen))
print("recorded analyses equal the vault-free reports:", messages, "messages,", seen, "signatures")
EOF

note "a key gathered later: inspect --rerun records a new analysis; the first stays as it was"
VAULT2="$T/vault2"
"$CUSTOS" --key "$KEY" init "$VAULT2" >/dev/null
expect_exit 0 "$CUSTOS" --key "$KEY" --vault "$VAULT2" ingest corpus/msgs/rsa-relaxed-relaxed.eml
item=$("$CUSTOS" --vault "$VAULT2" ls --json | "$PY" -c 'import json,sys; print(json.loads(sys.stdin.readline())["id"])')
expect_exit 0 "$CUSTOS" --vault "$VAULT2" inspect "$item"
grep_out "fail: no key for sel2048._domainkey.example.org in the key store"
expect_exit 0 "$CUSTOS" --key "$KEY" --vault "$VAULT2" dkim-key add "$Z" --obtained-from "later"
expect_exit 0 "$CUSTOS" --key "$KEY" --vault "$VAULT2" inspect --rerun --json "$item"
"$PY" -c '
import json, sys
runs = json.load(open(sys.argv[1]))["analyses"]
assert [r["note"] for r in runs] == ["at ingest", "rerun"], runs
assert runs[0]["dkim"][0]["verdict"] == "fail" and runs[1]["dkim"][0]["verdict"] == "pass", runs
assert runs[1]["dkim"][0]["key_from"].startswith("event 3: later"), runs[1]
' "$T/out" || fail "rerun: $(cat "$T/out")"
expect_exit 0 "$CUSTOS" --key "$KEY" --vault "$VAULT2" ingest --no-analysis corpus/msgs/rsa-sha1.eml
[ "$("$CUSTOS" --vault "$VAULT2" log --json | grep -c '"action":"analysis"')" = 2 ] || fail "--no-analysis made an event"

note "ARC chains are recorded by the analysis too; one that fails as a whole, with no set lines"
expect_exit 0 cx dkim-key add arc/keys.zone --obtained-from "the ARC test keys"
expect_exit 0 cx ingest arc/msgs
for c in arc-two-hops:pass:2 arc-missing-field:fail:0 arc-older-set-changed:fail:2; do
	IFS=: read -r name verdict sets <<<"$c"
	id=$(item_of_path "msgs/$name.eml")
	expect_exit 0 cx inspect --json "$id"
	"$PY" -c '
import json, sys
a = json.load(open(sys.argv[1]))["analyses"][-1]["arc"]
assert (a["verdict"], len(a["sets"])) == (sys.argv[2], int(sys.argv[3])), a
' "$T/out" "$verdict" "$sets" || fail "$name: $(cat "$T/out")"
done

note "the analysis events are custody events like any: signed, chained, checked by fsck"
expect_exit 0 cx fsck --full
expect_exit 0 "$CUSTOS" --vault "$VAULT2" fsck --full
note "a log re-signed by the key holder to turn a failed signature into a pass: fsck --full redoes"
note "every analysis at its own time with the keys stored before it, and names the lie"
head=$(git -C "$VAULT/custody.git" rev-parse main)
parent=$(git -C "$VAULT/custody.git" rev-parse main~1)
git -C "$VAULT/custody.git" show main:EVENT >last.event
grep -q "^dkim 0 fail " last.event || grep -q "^arc fail " last.event || fail "no failure to forge in: $(cat last.event)"
git -C "$VAULT/custody.git" update-ref refs/heads/main "$parent"
"$FORGE" "$VAULT" "$KEY" "$parent" "$head" --analysis-replace "arc fail " "arc pass " >/dev/null
cx reindex >/dev/null
expect_exit 0 cx fsck # signed by the key: only the redone analysis can tell
expect_exit 1 cx fsck --full
grep_out "PROBLEM analysis-mismatch: .*recorded 'arc pass .*found again 'arc fail "
git -C "$VAULT/custody.git" update-ref refs/heads/main "$head"
cx reindex >/dev/null

note "a log re-signed by the key holder so that an analysis names an item nothing received"
: "${FORGE:?set FORGE to the forge helper (meson does this)}"
head=$(git -C "$VAULT/custody.git" rev-parse main)
parent=$(git -C "$VAULT/custody.git" rev-parse main~1)
git -C "$VAULT/custody.git" show main:EVENT >last.event
grep -qx "action analysis" last.event || fail "the last event is not an analysis"
git -C "$VAULT/custody.git" update-ref refs/heads/main "$parent"
"$FORGE" "$VAULT" "$KEY" "$parent" "$head" --analysis-item 0123456789abcdef0123456789abcdef >/dev/null
cx reindex >/dev/null
expect_exit 1 cx fsck
grep_out "PROBLEM bad-event: .*an analysis of item 0123456789abcdef0123456789abcdef, which no earlier event received"
echo "dkim: ok"
