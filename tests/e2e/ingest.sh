#!/usr/bin/env bash
# ingest.sh — what an ingest records: outcomes for every input, item record fields checked
# against standard tools (sha256sum, md5sum, sha1sum, sha512sum, b2sum), one command = one
# signed git commit, the event listing its items, symlinks kept as links, the custody
# trail, and a derived index that rebuilds to the same answers.
source "$(dirname "$0")/../lib.sh"
setup_vault

D="$T/drop"
mkdir -p "$D/docs/deep/er" "$D/mail"
printf '%%PDF-1.4\n%%%%EOF\n' >"$D/docs/report.pdf"
cp "$D/docs/report.pdf" "$D/docs/report-copy.pdf"
cp "$D/docs/report.pdf" "$D/docs/looks-like.docx"
printf 'From: a@example.org\nTo: b@example.org\nSubject: hi\n\nbody\n' >"$D/mail/m.eml"
printf 'a,b\n1,2\n' >"$D/docs/deep/er/t.csv"
head -c 1500000 /dev/urandom >"$D/big.bin" # > 1 MiB: a loose object
ln -s docs/report.pdf "$D/link-to-report"
ln -s /etc/passwd "$D/outside"

cx source add "Source Q" >/dev/null
expect_exit 0 cx ingest --json --source "Source Q" --note "USB stick 3" --also-hash md5,sha1,sha512,blake2b "$D"
python3 - "$T/out" "$D" <<'PY' || fail "outcomes"
import json, sys, os
lines = [json.loads(l) for l in open(sys.argv[1])]
summary = lines[-1]["summary"]
items = lines[:-1]
assert summary["stored"] == 6 and summary["duplicate"] == 2 and summary["refused"] == 0, summary
paths = [o["path"] for o in items]
assert paths == sorted(paths), paths  # walk order is byte order of names
dup = {o["path"] for o in items if o["outcome"] == "duplicate"}
assert dup == {"drop/docs/report-copy.pdf", "drop/docs/report.pdf"}, dup  # looks-like.docx sorts first
PY

# Every record field against independent tools.
cx ls --json >"$T/ls"
python3 - "$T/ls" "$D" <<'PY' || fail "record fields"
import json, sys, os, hashlib
D = sys.argv[2]
recs = {json.loads(l)["path"]: json.loads(l) for l in open(sys.argv[1])}
assert len(recs) == 8, len(recs)
for path, r in recs.items():
    fs = os.path.join(os.path.dirname(D), path)
    assert r["source"] == "Source Q"
    assert r["signature_ok"] is True
    if r["kind"] == "symlink":
        target = os.readlink(fs)
        assert r["target"] == target, (r["target"], target)
        assert r["sha256"] == hashlib.sha256(target.encode()).hexdigest()
        assert r["mime"] == "inode/symlink"
        continue
    data = open(fs, "rb").read()
    assert r["size"] == len(data)
    assert r["sha256"] == hashlib.sha256(data).hexdigest()
    assert r["md5"] == hashlib.md5(data).hexdigest()
    assert r["sha1"] == hashlib.sha1(data).hexdigest()
    assert r["sha512"] == hashlib.sha512(data).hexdigest()
    assert r["blake2b"] == hashlib.blake2b(data).hexdigest()
    assert r["name"] == os.path.basename(fs)
    assert r["mtime"] == int(os.lstat(fs).st_mtime)
assert recs["drop/docs/report.pdf"]["mime"] == "application/pdf"
assert recs["drop/docs/looks-like.docx"]["ext_mismatch"] == "docx"
assert "ext_mismatch" not in recs["drop/docs/report.pdf"]
assert recs["drop/mail/m.eml"]["mime"] in ("message/rfc822", "text/plain")
assert recs["drop/outside"]["target"] == "/etc/passwd"
PY
# The same digests through the CLI tools themselves, for one file.
f="$D/docs/deep/er/t.csv"
id=$(item_of_path drop/docs/deep/er/t.csv)
cx show "$id" --json >"$T/one"
for tool in md5sum sha1sum sha512sum b2sum sha256sum; do
	want=$($tool "$f" | cut -d' ' -f1)
	grep -q "\"$want\"" "$T/one" || fail "$tool digest not in the record"
done
# The outside symlink was not followed: /etc/passwd's bytes are not in the vault.
expect_exit 1 cx verify /etc/passwd

# One command is one ingest commit, signed, whose tree holds the event and the 8 records +
# sigs (after the init and the source's registration), then the analysis of what it
# received (the drop holds office documents and PDFs: FS §13.4), a commit of its own.
[ "$(git -C "$VAULT/custody.git" rev-list --count refs/heads/main)" = 4 ] || fail "commit count"
git -C "$VAULT/custody.git" show refs/heads/main:EVENT >"$T/analysis"
grep -qx 'action analysis' "$T/analysis" && grep -qx 'note at%20ingest' "$T/analysis" ||
	fail "the ingest's analysis event: $(cat "$T/analysis")"
git -C "$VAULT/custody.git" ls-tree -r --name-only refs/heads/main >"$T/tree"
[ "$(cat "$T/tree")" = "$(printf 'EVENT\nEVENT.sig')" ] || fail "an analysis commit holds items"
git -C "$VAULT/custody.git" ls-tree -r --name-only refs/heads/main~1 >"$T/tree"
[ "$(grep -c '^items/[0-9a-f]\{32\}$' "$T/tree")" = 8 ] || fail "records in the tree"
[ "$(grep -c '^items/[0-9a-f]\{32\}\.sig$' "$T/tree")" = 8 ] || fail "signatures in the tree"
git -C "$VAULT/custody.git" show refs/heads/main~1:EVENT >"$T/event"
grep -q '^action ingest$' "$T/event" || fail "event action"
grep -q '^source Source%20Q$' "$T/event" || fail "event source"
grep -q '^note USB%20stick%203$' "$T/event" || fail "event note"
[ "$(grep -c '^item ' "$T/event")" = 8 ] || fail "event item lines"
# prev is the SHA-256 of the previous event (the source's registration).
prev=$(git -C "$VAULT/custody.git" show refs/heads/main~2:EVENT | sha256sum | cut -c1-64)
grep -q "^prev $prev$" "$T/event" || fail "event chain"
# The record's id is the first 128 bits of its SHA-256.
rec_id=$(git -C "$VAULT/custody.git" show "refs/heads/main~1:items/$id" | sha256sum | cut -c1-32)
[ "$rec_id" = "$id" ] || fail "item id is not the record hash"

# The custody trail of one item, and of the vault.
expect_exit 0 cx log "$id"
grep_out "event 2 .* ingest"
expect_exit 0 cx log
grep_out "event 0 .* init"
grep_out "note:   USB stick 3"

# A second ingest of the same tree: every file a duplicate, a new event.
expect_exit 0 cx ingest --json "$D"
python3 -c 'import json,sys; s=json.loads(open(sys.argv[1]).read().splitlines()[-1])["summary"]; assert s["stored"]==0 and s["duplicate"]==8, s' "$T/out" ||
	fail "re-ingest should be all duplicates"
sha=$(sha256sum "$D/docs/report.pdf" | cut -c1-64)
expect_exit 0 cx verify "$D/docs/report.pdf"
grep_out "6 receipts"

# cat gives the bytes back, for packed and loose objects alike.
for p in drop/big.bin drop/mail/m.eml; do
	id=$(item_of_path "$p")
	cx cat "$id" | cmp - "$T/$p" || fail "cat $p"
done

# The index is derived: removing it or rebuilding it changes no answer.
cx ls --json >"$T/before"
rm -rf "$VAULT/index"
cx ls --json >"$T/after1"
expect_exit 0 cx verify "$D/docs/report.pdf"
grep_out "6 receipts"
expect_exit 0 cx reindex
cx ls --json >"$T/after2"
cmp "$T/before" "$T/after1" && cmp "$T/before" "$T/after2" || fail "index rebuild changed answers"
expect_exit 0 cx fsck --full
echo "ingest: ok"
