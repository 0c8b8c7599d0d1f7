#!/usr/bin/env bash
# package.sh — exhibit packages end to end (FS §10): export, what stock tools say about it
# (bsdtar, sha256sum -c, minisign -V -H, an RFC 8493 rule checker), verify-package with no
# vault, --no-content with the exhibits held elsewhere, and tampering of every kind, each
# refused with the right reason.
. "$(dirname "$0")/../lib.sh"
need minisign
need bsdtar
setup_vault
TAMPER="$TESTS_DIR/e2e/package-tamper.py"
mkdir -p "$T/drop"
printf '%%PDF-1.4\ncontract\n' >"$T/drop/contract.pdf"
printf 'a,b\n1,2\n' >"$T/drop/weird name % ü.csv"
printf 'memo\n' >"$T/drop/memo.txt"
(cd "$T" && mkdir zsrc && printf 'inner\n' >zsrc/inner.txt && cd zsrc && bsdtar -a -cf ../drop/bundle.zip inner.txt)
cx ingest -q "$T/drop" >/dev/null
contract=$(item_of_path drop/contract.pdf)
weird=$(item_of_path "drop/weird name % ü.csv")
member=$(item_of_path inner.txt)
[ -n "$contract" ] && [ -n "$weird" ] && [ -n "$member" ] || fail "items not found"

note "no checkpoint yet: export says what to do"
expect_exit 1 cx export "$contract" -o "$T/early.tar"
grep_out "custos checkpoint"
[ ! -e "$T/early.tar" ] || fail "a failed export left a file"

note "a checkpoint cosigned by a witness"
cx checkpoint -o "$T/cp" >/dev/null
cx key show --note-vkey >"$T/log.vkey"
W="$T/witness"
"$CUSTOS" witness init --dir "$W" --no-passphrase --name witness.example/w1 >"$T/w1.vkey" 2>/dev/null
"$CUSTOS" witness add-log --dir "$W" "$T/log.vkey" >/dev/null
"$CUSTOS" witness cosign --dir "$W" "$T/cp" -o "$T/cp.cos" >/dev/null
cx checkpoint --add-cosignature "$T/cp.cos" --witness "$T/w1.vkey" >/dev/null

note "export three exhibits (one an archive member); the output is never overwritten"
cx export "$contract" "$weird" "$member" -o "$T/pkg.tar" >"$T/export.out"
grep -q "3 exhibit(s)" "$T/export.out" || fail "export summary: $(cat "$T/export.out")"
expect_exit 3 cx export "$contract" -o "$T/pkg.tar"
grep_out "already exists"
expect_exit 1 cx export 0000000000000000 -o "$T/none.tar"
cx key show --minisign >"$T/custodian.mpub"
cx key show >"$T/custodian.pub"

note "bsdtar lists one bag; GNU tar extracts it"
bsdtar -tf "$T/pkg.tar" >"$T/list"
[ "$(cut -d/ -f1 "$T/list" | sort -u)" = pkg ] || fail "not one top-level directory: $(cut -d/ -f1 "$T/list" | sort -u)"
grep -qx "pkg/bagit.txt" "$T/list" || fail "no bagit.txt"
mkdir "$T/x" && tar -xf "$T/pkg.tar" -C "$T/x"
B="$T/x/pkg"
[ "$(ls "$B/data" | wc -l)" = 3 ] || fail "payload is not 3 files"
[ -f "$B/data/${weird}_weird_name_____.csv" ] || fail "payload name not made safe: $(ls "$B/data")"

note "sha256sum -c accepts both manifests; every minisig verifies with minisign -V -H"
(cd "$B" && sha256sum --quiet -c manifest-sha256.txt && sha256sum --quiet -c tagmanifest-sha256.txt &&
	sha512sum --quiet -c manifest-sha512.txt) || fail "sha256sum -c failed"
cmp "$B/custos/custodian.minisign.pub" "$T/custodian.mpub" || fail "minisign key differs from key show --minisign"
(cd "$B" && minisign -V -H -q -p custos/custodian.minisign.pub -x custos/package.minisig -m tagmanifest-sha256.txt) ||
	fail "minisign rejects the package signature"
n=0
while read -r _ id sha size payload sig; do
	(cd "$B" && minisign -V -H -q -p "$T/custodian.mpub" -x "$sig" -m "$payload") || fail "minisign rejects $sig"
	(cd "$B" && minisign -V -H -p "$T/custodian.mpub" -x "$sig" -m "$payload" >"$T/mini.out") &&
		grep -q "custos item $id " "$T/mini.out" ||
		fail "the trusted comment of $sig does not name item $id"
	n=$((n + 1))
done < <(grep '^exhibit ' "$B/custos/exhibits.txt")
[ "$n" = 3 ] || fail "$n exhibits verified by minisign"
note "minisign accepts the spec vector (format-spec/vectors/exhibit.minisig over %PDF-1.4\\n)"
printf '%%PDF-1.4\n' >"$T/vector.pdf"
minisign -V -H -q -p "$TESTS_DIR/../format-spec/vectors/vector-key.minisign.pub" \
	-x "$TESTS_DIR/../format-spec/vectors/exhibit.minisig" -m "$T/vector.pdf" || fail "minisign rejects the spec vector"
note "minisign catches a changed exhibit by itself"
cp "$B/data/${contract}_contract.pdf" "$T/changed.pdf" && printf x >>"$T/changed.pdf"
! minisign -V -H -q -p "$T/custodian.mpub" -x "$B/custos/minisig/${contract}_contract.pdf.minisig" -m "$T/changed.pdf" 2>/dev/null ||
	fail "minisign accepted a changed exhibit"
ssh-keygen -l -f "$B/custos/custodian.ssh.pub" >/dev/null || fail "ssh-keygen cannot read the ssh key"

note "the bag meets every RFC 8493 MUST (independent checker)"
python3 "$TESTS_DIR/interop/bagit-check.py" "$T/pkg.tar" >"$T/bagit.out" || { cat "$T/bagit.out"; fail "bagit-check rejects the package"; }
grep -q "^OK: 3 payload files" "$T/bagit.out" || fail "bagit-check: $(cat "$T/bagit.out")"
# Only the SHOULD that cannot hold: the package signature is over the tag manifest.
! grep WARNING "$T/bagit.out" | grep -v "tag file 'custos/package.minisig'" || fail "bagit-check warns"
grep -q "^Payload-Oxum: $(cat "$B"/data/* | wc -c).3$" "$B/bag-info.txt" || fail "Payload-Oxum"
grep -q "^External-Identifier: $(python3 -c 'import sys;print(open(sys.argv[1]).read().split()[3])' "$VAULT/VAULT")$" "$B/bag-info.txt" ||
	fail "External-Identifier is not the vault id"
grep -q "^Source-Organization: test vault$" "$B/bag-info.txt" || fail "Source-Organization is not the vault name"
grep -q "^Bagging-Date: $(date -u +%Y-%m-%d)$" "$B/bag-info.txt" || fail "Bagging-Date"
grep -q "verify-package" "$B/custos/VERIFY.txt" || fail "VERIFY.txt does not mention verify-package"

note "verify-package with no vault: ok, with the witness; the proofs also verify one by one"
expect_exit 0 "$CUSTOS" verify-package "$T/pkg.tar" --trust "$T/custodian.pub" --witness "$T/w1.vkey"
grep_out "^ok: .*3 exhibit"
"$CUSTOS" verify-package --json "$T/pkg.tar" --trust "$T/custodian.mpub" --witness "$T/w1.vkey" |
	python3 -c 'import json,sys; o=json.load(sys.stdin); assert o["ok"] and o["exhibits"]==3 and o["witnesses_ok"]==1 and o["problems"]==[] and all(e["content_ok"] and e["proof_ok"] for e in o["exhibit_results"]), o'
expect_exit 0 "$CUSTOS" verify-proof "$B/custos/proofs/$contract.proof" "$T/drop/contract.pdf" --trust "$T/custodian.pub"
note "a file at hand is one of the exhibits, or is named as none of them"
expect_exit 1 "$CUSTOS" verify-package "$T/pkg.tar" --trust "$T/custodian.pub" --exhibit "$T/drop/memo.txt" --exhibit "$T/drop/contract.pdf"
grep_out "not-an-exhibit: .*memo.txt"
expect_exit 0 "$CUSTOS" verify-package "$T/pkg.tar" --trust "$T/custodian.pub" --exhibit "$T/drop/contract.pdf"
grep_out "contract.pdf is this exhibit"
note "another key is refused; a witness that did not cosign is missing"
"$CUSTOS" --key "$T/other.key" key new --no-passphrase >/dev/null 2>&1
expect_exit 1 "$CUSTOS" verify-package "$T/pkg.tar" --trust "$T/other.key"
grep_out "PROBLEM wrong-key"
"$CUSTOS" witness init --dir "$T/w2" --no-passphrase --name witness.example/w2 >"$T/w2.vkey" 2>/dev/null
expect_exit 1 "$CUSTOS" verify-package "$T/pkg.tar" --trust "$T/custodian.pub" --witness "$T/w2.vkey"
grep_out "PROBLEM missing-cosignature"

# tampered OP... KIND : the package rewritten by OP must fail verify-package with KIND.
tampered() {
	local kind=${*: -1}
	local args=("${@:1:$#-1}")
	python3 "$TAMPER" "$T/pkg.tar" "$T/bad.tar" "${args[@]}"
	expect_exit 1 "$CUSTOS" verify-package "$T/bad.tar" --trust "$T/custodian.pub" --witness "$T/w1.vkey"
	grep_out "PROBLEM $kind: "
	cases=$((cases + 1))
}
cases=0
P="data/${contract}_contract.pdf"
note "tamper: a flipped byte anywhere is caught, by the right check"
tampered flip "$P" 3 "manifest-mismatch: $P"
tampered flip "$P" 3 --rehash "exhibit-mismatch: $P"
tampered flip "$P" 3 --rehash "bad-minisig: custos/minisig/${contract}_contract.pdf.minisig"
tampered flip "$P" 3 --rehash "bad-package-signature"
tampered flip manifest-sha256.txt 5 "bad-manifest|manifest-mismatch"
tampered flip manifest-sha256.txt 5 "manifest-mismatch: manifest-sha256.txt"
tampered flip manifest-sha512.txt 70 "manifest-mismatch: manifest-sha512.txt"
tampered flip tagmanifest-sha256.txt 9 "bad-package-signature"
tampered flip "custos/items/$contract.record" 40 "manifest-mismatch: custos/items/$contract.record"
tampered flip "custos/items/$contract.record" 40 --rehash "bad-record|bad-signature"
tampered flip "custos/items/$contract.sig" 60 --rehash "bad-signature: custos/items/$contract.sig"
tampered flip "custos/proofs/$contract.proof" -60 --rehash "bad-checkpoint|bad-inclusion|bad-cosignature|malformed-proof"
tampered flip "custos/proofs/$contract.proof" 130 --rehash "bad-inclusion|bad-record|malformed-proof|bad-proof"
tampered flip custos/checkpoint.note 50 --rehash "bad-checkpoint: custos/checkpoint.note"
# The last line of the note is the witness's cosignature; byte -10 is inside its base64.
tampered b64flip custos/checkpoint.note -10 --rehash "bad-cosignature: witness.example/w1"
tampered flip "custos/minisig/${contract}_contract.pdf.minisig" -20 --rehash "bad-minisig"
tampered flip custos/package.minisig -20 "bad-package-signature"
tampered flip custos/events/1.event 30 --rehash "bad-signature: custos/events/1.sig|bad-event"
tampered flip custos/custodian.minisign.pub 60 --rehash "wrong-key: custos/custodian.minisign.pub"
tampered flip bag-info.txt 80 --rehash "bad-bag|bad-package-signature"
tampered flip bagit.txt 14 --rehash "bad-bag: bagit.txt"
tampered flip custos/exhibits.txt 60 --rehash "bad-package|exhibit-mismatch|bad-package-signature"
note "tamper: removed and added files"
tampered remove "$P" "missing-file: $P"
tampered remove "$P" --rehash "missing-file: $P"
tampered remove "custos/proofs/$contract.proof" "missing-file: custos/proofs/$contract.proof"
tampered remove custos/package.minisig "missing-file: custos/package.minisig"
tampered remove manifest-sha512.txt "missing-file: manifest-sha512.txt"
tampered remove custos/events/1.event "missing-file: tagmanifest-sha256.txt:[0-9]+: custos/events/1.event"
tampered add data/extra.txt "planted" "unlisted-file: data/extra.txt"
tampered add data/extra.txt "planted" --rehash "unlisted-file: data/extra.txt"
tampered add custos/note.txt "planted" "unlisted-file: custos/note.txt"
tampered add custos/note.txt "planted" --rehash "bad-package-signature"
tampered add ../escape.txt "planted" "malformed-package"
note "tamper: a swapped exhibit"
tampered swap "$P" "data/${weird}_weird_name_____.csv" --rehash "exhibit-mismatch: $P"
tampered replace "$P" "$T/drop/memo.txt" --rehash "exhibit-mismatch: $P"
note "$cases tamper cases refused"

note "not a tar, empty, truncated: refused by name, never a crash"
printf 'not a tar' >"$T/junk.tar"
expect_exit 1 "$CUSTOS" verify-package "$T/junk.tar" --trust "$T/custodian.pub"
grep_out "malformed-package"
head -c 7000 "$T/pkg.tar" >"$T/trunc.tar"
expect_exit 1 "$CUSTOS" verify-package "$T/trunc.tar" --trust "$T/custodian.pub"
grep_out "PROBLEM"
expect_exit 1 "$CUSTOS" verify-package "$T/missing.tar" --trust "$T/custodian.pub"
expect_exit 2 "$CUSTOS" verify-package "$T/pkg.tar"

note "--no-content: no payload, still a valid bag; the held files prove against it"
cx export --no-content "$contract" "$weird" -o "$T/proofs.tar" >/dev/null
bsdtar -tf "$T/proofs.tar" >"$T/proofs.list"
grep -q '^proofs/data/$' "$T/proofs.list" || fail "no data/ directory"
! grep -q '^proofs/data/.' "$T/proofs.list" || fail "--no-content carries payload"
python3 "$TESTS_DIR/interop/bagit-check.py" "$T/proofs.tar" >"$T/bagit.out" || { cat "$T/bagit.out"; fail "bagit-check rejects the --no-content package"; }
expect_exit 0 "$CUSTOS" verify-package "$T/proofs.tar" --trust "$T/custodian.pub" --exhibit "$T/drop/contract.pdf"
grep_out "no content in the package; proof verifies; .*contract.pdf is this exhibit"
cp "$T/drop/contract.pdf" "$T/contract-changed.pdf" && printf 'x' >>"$T/contract-changed.pdf"
expect_exit 1 "$CUSTOS" verify-package "$T/proofs.tar" --trust "$T/custodian.pub" --exhibit "$T/contract-changed.pdf"
grep_out "not-an-exhibit"
mkdir "$T/y" && tar -xf "$T/proofs.tar" -C "$T/y"
(minisign -V -H -q -p "$T/custodian.mpub" -x "$T/y/proofs/custos/minisig/${contract}_contract.pdf.minisig" -m "$T/drop/contract.pdf") ||
	fail "minisign rejects the held exhibit against a --no-content package"
note "an exhibit of a large ingest: its event (over 64 KiB) is left out, the package stays small"
python3 "$TESTS_DIR/../bench/gencorpus.py" tiny "$T/big" 0 2000 >/dev/null
cx ingest -q "$T/big" >/dev/null
cx checkpoint >/dev/null
one=$(cx ls --json | tail -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
cx export --no-content "$one" -o "$T/one.tar" >"$T/one.out"
grep -q "1 ingest event(s) over 64 KiB left out" "$T/one.out" || fail "export: $(cat "$T/one.out")"
[ "$(stat -c %s "$T/one.tar")" -lt 65536 ] || fail "a one-exhibit package is $(stat -c %s "$T/one.tar") bytes"
expect_exit 0 "$CUSTOS" verify-package "$T/one.tar" --trust "$T/custodian.pub"
python3 "$TESTS_DIR/interop/bagit-check.py" --quiet "$T/one.tar" >/dev/null || fail "bagit-check rejects the package"
echo "package: ok"
