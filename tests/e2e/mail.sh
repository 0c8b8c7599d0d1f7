#!/usr/bin/env bash
# mail.sh — mbox files and MIME messages as containers (issue 6, FS §4.1, vault/mail.h):
# every attachment of a message a member with its transfer encoding decoded, byte for
# byte; names from RFC 2231 and 2047; inline text parts not members; attached messages
# and zips opened in turn; an mboxrd mbox split into its messages, the quoting undone;
# cut, noisy and unknown encodings; text that only looks like mail left alone.
# The inputs are written by mail-corpus.py (every byte known); they come out through the
# CLI (ls --json, show --json, cat, verify) as a user sees them.
. "$(dirname "$0")/../lib.sh"
need python3
setup_vault
python3 "$TESTS_DIR/e2e/mail-corpus.py" "$T/c"
O="$T/c/orig"
I="$T/c/in"

# ls --json, kept in a file (no pipelines into grep -q under pipefail)
refresh() { cx ls --json >"$T/ls.json"; }
# field ITEM KEY: one field of an item's ls --json line ("" when absent)
field() {
	python3 - "$T/ls.json" "$1" "$2" <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    if o["id"] == sys.argv[2]:
        v = o.get(sys.argv[3], "")
        print(v if not isinstance(v, bool) else str(v).lower())
        break
else:
    sys.exit("no item " + sys.argv[2])
PY
}
# top PATH: the id of the last item of that path that is not a member (an input)
top() {
	python3 - "$T/ls.json" "$1" <<'PY'
import json, sys
ids = [o["id"] for o in map(json.loads, open(sys.argv[1], encoding="utf-8"))
       if o["path"] == sys.argv[2] and "container" not in o]
if not ids:
    sys.exit("no input item with path %r" % sys.argv[2])
print(ids[-1])
PY
}
# members CONTAINER: the member paths of a container, in member order, one a line
members() {
	python3 - "$T/ls.json" "$1" <<'PY'
import json, sys
ms = [o for o in map(json.loads, open(sys.argv[1], encoding="utf-8"))
      if o.get("container") == sys.argv[2]]
for o in sorted(ms, key=lambda o: o["member"]):
    print(o["path"])
PY
}
# member CONTAINER PATH ORIGINAL OUTCOME: the member of CONTAINER named PATH has outcome
# OUTCOME, and its bytes (custos cat, ls sha256 and size) are ORIGINAL's exactly. Prints its id.
member() {
	local c=$1 path=$2 orig=$3 want=$4 id got sum
	id=$(python3 - "$T/ls.json" "$c" "$path" <<'PY'
import json, sys
ids = [o["id"] for o in map(json.loads, open(sys.argv[1], encoding="utf-8"))
       if o.get("container") == sys.argv[2] and o["path"] == sys.argv[3]]
if len(ids) != 1:
    sys.exit("container %s: %d members named %r" % (sys.argv[2], len(ids), sys.argv[3]))
print(ids[0])
PY
	) || fail "no member '$path' in $c: $(members "$c" | tr '\n' '|')"
	got=$(field "$id" member_outcome)
	[ "$got" = "$want" ] || fail "member '$path': outcome '$got', expected '$want'"
	sum=$(sha256sum <"$orig" | cut -c1-64)
	[ "$(field "$id" sha256)" = "$sum" ] || fail "member '$path': ls sha256 $(field "$id" sha256), the original's is $sum"
	[ "$(field "$id" size)" = "$(stat -c %s "$orig")" ] ||
		fail "member '$path': size $(field "$id" size), the original has $(stat -c %s "$orig")"
	cx cat "$id" >"$T/cat.out" || fail "cat $id ('$path') failed"
	cmp -s "$T/cat.out" "$orig" || fail "member '$path': custos cat differs from $(basename "$orig") (cmp: $(cmp "$T/cat.out" "$orig" 2>&1 || true))"
	echo "$id"
}
# expect_members CONTAINER PATH...: exactly these member paths, in this order
expect_members() {
	local c=$1
	shift
	members "$c" >"$T/members.got"
	printf '%s\n' "$@" >"$T/members.want"
	cmp -s "$T/members.got" "$T/members.want" ||
		fail "members of $c: got [$(tr '\n' '|' <"$T/members.got")], expected [$(tr '\n' '|' <"$T/members.want")]"
}
# not_container ID: show --json has no archive object and no item names it as container
not_container() {
	cx show "$1" --json >"$T/show.json"
	python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); sys.exit("archive" in o)' "$T/show.json" ||
		fail "$2 was opened as a container: $(cat "$T/show.json")"
	[ -z "$(members "$1")" ] || fail "$2 has members: $(members "$1" | tr '\n' '|')"
}

note "a multipart/mixed message: ingest stores it whole, then its attachments as members"
expect_exit 0 cx ingest "$I/mixed.eml"
grep_out "mixed\.eml!/report\.pdf"
refresh
mixed=$(top mixed.eml)
[ "$(field "$mixed" sha256)" = "$(sha256sum <"$I/mixed.eml" | cut -c1-64)" ] || fail "the message is not stored whole"
cx show "$mixed" --json >"$T/show.json"
python3 - "$T/show.json" <<'PY' || fail "show --json of the message: $(cat "$T/show.json")"
import json, sys
a = json.load(open(sys.argv[1]))["archive"]
assert a["result"] == "complete" and a["format"] == "MIME message", a
assert a["members_read"] == 6 and len(a["members"]) == 6, a
PY

note "members in tree order; the inline text parts (1, 2.1, 2.2.1) are not members"
# IMAP numbering: 2.2.2 is the unnamed inline image inside alternative/related
expect_members "$mixed" part-2.2.2 report.pdf "€-Belég.bin" "Überweisung März.txt" part-6 evidence.zip

note "each attachment's bytes are the original's exactly (base64, quoted-printable decoded)"
member "$mixed" part-2.2.2 "$O/pixel.gif" ok >/dev/null
member "$mixed" report.pdf "$O/report.pdf" ok >/dev/null
note "an RFC 2231 UTF-8 file name (filename*=utf-8''...), decoded to its bytes"
member "$mixed" "€-Belég.bin" "$O/belege.bin" ok >/dev/null
note "an RFC 2047 encoded-word file name, a quoted-printable attachment (=20, soft breaks, =3D)"
member "$mixed" "Überweisung März.txt" "$O/ueberweisung.txt" ok >/dev/null

note "an attached message/rfc822 is a member (part-6) and is opened in turn"
fwd=$(member "$mixed" part-6 "$O/forwarded.eml" ok)
[ "$(field "$fwd" container)" = "$mixed" ] || fail "part-6 does not name the message as its container"
expect_members "$fwd" nested-note.bin
nn=$(member "$fwd" nested-note.bin "$O/nested-note.bin" ok)
[ "$(field "$nn" container)" = "$fwd" ] || fail "nested-note.bin's container is not part-6"

note "an attached zip (RFC 2231 continuations name it) is a member, and its file is its member"
zip=$(member "$mixed" evidence.zip "$O/evidence.zip" ok)
expect_members "$zip" docs/inner.txt
inner=$(member "$zip" docs/inner.txt "$O/inner.txt" ok)
[ "$(field "$inner" container)" = "$zip" ] && [ "$(field "$zip" container)" = "$mixed" ] ||
	fail "the chain inner.txt -> evidence.zip -> mixed.eml is broken"
[ "$(wc -l <"$T/ls.json")" = 9 ] || fail "expected 9 items after the first ingest, got $(wc -l <"$T/ls.json")"

note "an mbox (mboxrd): three messages, the From_ lines and the separating empty lines not in them"
expect_exit 0 cx ingest "$I/box.mbox"
refresh
box=$(top box.mbox)
cx show "$box" --json >"$T/show.json"
python3 - "$T/show.json" <<'PY' || fail "show --json of the mbox: $(cat "$T/show.json")"
import json, sys
a = json.load(open(sys.argv[1]))["archive"]
assert a["result"] == "complete" and a["format"].startswith("mbox"), a
assert [m["path"] for m in a["members"]] == ["message-1.eml", "message-2.eml", "message-3.eml"], a
PY
expect_members "$box" message-1.eml message-2.eml message-3.eml
member "$box" message-1.eml "$O/message-1.eml" ok >/dev/null
note "message 2: >From lines lose one '>', an unquoted From line after a non-empty line stays in it"
m2=$(member "$box" message-2.eml "$O/message-2.eml" ok)
cx cat "$m2" >"$T/m2.out"
grep -qx 'From here' "$T/m2.out" && grep -qx '>From quoted' "$T/m2.out" &&
	grep -qx '>>From twice' "$T/m2.out" && grep -q '^From not-a-separator' "$T/m2.out" ||
	fail "message 2 is not unquoted as mboxrd: $(cat "$T/m2.out")"
note "message 3 (an mbox's last: its final empty line is the mbox's) and its attachment, nested"
m3=$(member "$box" message-3.eml "$O/message-3.eml" ok)
expect_members "$m3" mbox-att.bin
member "$m3" mbox-att.bin "$O/mbox-att.bin" ok >/dev/null
m1=$(member "$box" message-1.eml "$O/message-1.eml" ok)
[ -z "$(members "$m1")" ] || fail "message 1 (text only) has members"

note "a multipart without its closing delimiter: the last part is 'corrupt', its bytes kept; exit 1"
expect_exit 1 cx ingest "$I/cut.eml"
refresh
cut=$(top cut.eml)
expect_members "$cut" whole.bin cut.bin
member "$cut" whole.bin "$O/whole.bin" ok >/dev/null
member "$cut" cut.bin "$O/cut-kept.bin" corrupt >/dev/null

note "base64 with noise (spaces, '!', tabs, CR, 8-bit bytes) decodes; x-uuencode is 'unsupported', raw"
note "a dangling base64 character: 'corrupt', the bytes before it kept"
expect_exit 1 cx ingest "$I/odd.eml"
refresh
odd=$(top odd.eml)
expect_members "$odd" noisy.bin uu.bin dangling.bin
member "$odd" noisy.bin "$O/noisy.bin" ok >/dev/null
member "$odd" uu.bin "$O/uu-raw.txt" unsupported >/dev/null
member "$odd" dangling.bin "$O/dangling-kept.bin" corrupt >/dev/null

note "text that starts 'From here on, ...' and a header block with no From: are not containers"
expect_exit 0 cx ingest "$I/from-here.txt" "$I/subject-only.txt"
refresh
fh=$(top from-here.txt)
so=$(top subject-only.txt)
not_container "$fh" from-here.txt
not_container "$so" subject-only.txt

note "fsck --full passes; verify finds every original attachment and message by its bytes"
expect_exit 0 cx fsck --full
for f in report.pdf belege.bin ueberweisung.txt pixel.gif forwarded.eml nested-note.bin \
	evidence.zip inner.txt message-1.eml message-2.eml message-3.eml mbox-att.bin \
	whole.bin cut-kept.bin noisy.bin uu-raw.txt dangling-kept.bin; do
	expect_exit 0 cx verify "$O/$f"
done
echo "mail: ok"
