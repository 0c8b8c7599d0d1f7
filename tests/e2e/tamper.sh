# tamper.sh — every kind of tampering with a vault is caught by `custos fsck` and named.
#
# One vault is built with setup_vault and two ingests (three commits; two packs of small
# objects; two loose objects > 1 MiB of equal size) and kept as a template. Each case starts
# from a fresh copy of it, damages one thing, proves the damage really happened (checksums or
# object ids differ), then requires `custos fsck` (with --full where only re-hashing can notice)
# to exit 1 and to name the right problem kind (FS §8), at the right place where fsck says
# where. Each case runs in a subshell: a failing case is reported and the others still run.
#
# Custody-log rewrites (g–k) are made with stock git plumbing. Where the point is a
# structural check, the forged commit is re-signed with the custodian's *own* key (converted
# to an OpenSSH private key), so the commit signature is valid and only the structural check
# can catch the forgery.
source "$(dirname "$0")/../lib.sh"
need git
need ssh-keygen
need sha256sum
need tar

# ------------------------------------------------------------------ helpers

CORPUS="$T/corpus"
mkdir -p "$CORPUS/one/sub" "$CORPUS/two"
printf 'alpha\n' >"$CORPUS/one/a.txt"
printf 'bravo\n' >"$CORPUS/one/sub/b.txt"
printf 'charlie\0\1\2\3' >"$CORPUS/one/c.bin"
printf 'delta\n' >"$CORPUS/two/d.txt"
# Two large objects of the same size (so that swapping them is invisible to size checks).
head -c 1572864 /dev/urandom >"$CORPUS/one/big1.bin"
head -c 1572864 /dev/urandom >"$CORPUS/two/big2.bin"

# sha FILE : its SHA-256
sha() { sha256sum "$1" | cut -d' ' -f1; }

loose_objects() { find "$VAULT/objects" -path "$VAULT/objects/packs" -prune -o -type f -print | sort; }
packs() { find "$VAULT/objects/packs" -name '*.tar' | sort; }

# The template: a vault with 3 commits (init + 2 ingests), 2 packs and 2 loose objects, made
# once with setup_vault; every case starts from a fresh copy of it (fresh_vault), so no case
# sees another's damage.
setup_vault
G="$VAULT/custody.git"
(cd "$CORPUS" && cx ingest one) >/dev/null 2>&1 || fail "ingest one failed"
(cd "$CORPUS" && cx ingest two) >/dev/null 2>&1 || fail "ingest two failed"
[ "$(git -C "$G" rev-list --count refs/heads/main)" = 3 ] || fail "expected 3 commits"
[ "$(loose_objects | wc -l)" = 2 ] || fail "expected 2 loose objects"
[ "$(packs | wc -l)" = 2 ] || fail "expected 2 packs"
TEMPLATE="$T/template"
mv "$VAULT" "$TEMPLATE"

# fresh_vault : $VAULT becomes a pristine copy of the template; $G is its custody.git
fresh_vault() {
	if [ -e "$VAULT" ]; then
		chmod -R u+w "$VAULT"
		rm -rf "$VAULT"
	fi
	cp -a "$TEMPLATE" "$VAULT"
}

# flip_bit FILE OFFSET [BIT] : flip one bit in place, and prove the file changed
flip_bit() {
	local f=$1 off=$2 bit=${3:-0} before byte
	before=$(sha "$f")
	byte=$(od -An -tu1 -j "$off" -N1 "$f" | tr -d ' ')
	[ -n "$byte" ] || fail "flip_bit: offset $off is beyond the end of $f"
	chmod u+w "$f"
	# shellcheck disable=SC2059
	printf "$(printf '\\%03o' $((byte ^ (1 << bit))))" |
		dd of="$f" bs=1 seek="$off" conv=notrunc status=none
	[ "$(sha "$f")" != "$before" ] || fail "flip_bit did not change $f"
}

# member_offset PACK NAME : byte offset of member NAME's data in the tar PACK (GNU tar -R
# gives the block of its header; the data follows in the next block)
member_offset() {
	local block
	block=$(tar -tR -f "$1" | sed -n "s/^block \([0-9]*\): $2\$/\1/p")
	[ -n "$block" ] || fail "no member $2 in $1"
	echo $(((block + 1) * 512))
}

# fsck_fails [ARGS] : `custos fsck ARGS` must exit 1 (output in $T/out)
fsck_fails() { expect_exit 1 cx fsck "$@"; }
# problem KIND [WHERE] : the last fsck named a problem of KIND (whose location starts with WHERE)
problem() { grep_out "^PROBLEM $1: ${2:-}"; }
# kinds : the problem kinds of the last fsck, for the log
kinds() { grep -o '^PROBLEM [a-z-]*' "$T/out" | sort -u | cut -d' ' -f2 | tr '\n' ' '; }

# The custodian key as an OpenSSH private key ($T/custodian.ssh), so that stock git can sign
# forged commits with the very key the vault trusts; and an intruder's ssh key ($T/other.ssh).
# openssh-key-v1, unencrypted (PROTOCOL.key): strings are a big-endian uint32 length + bytes.
# shellcheck disable=SC2059 # octal escapes built on purpose
u32() { printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)))"; }
sshstr() { u32 "$(cat "$@" | wc -c)"; cat "$@"; } # FILE... : their concatenation as a string
K="$T/sshkey"
mkdir -p "$K"
grep -qx 'kdf none' "$KEY" || fail "the custodian key must be unsealed"
sed -n 's/^public //p' "$KEY" | base64 -d >"$K/pk"
sed -n 's/^secret //p' "$KEY" | base64 -d >"$K/seed"
[ "$(wc -c <"$K/pk")" = 32 ] && [ "$(wc -c <"$K/seed")" = 32 ] || fail "unexpected custos key file layout"
printf 'ssh-ed25519' >"$K/type"
printf 'none' >"$K/none"
: >"$K/empty"
printf 'custodian' >"$K/comment"
{ sshstr "$K/type"; sshstr "$K/pk"; } >"$K/pub"
head -c 4 /dev/urandom >"$K/check"
{ cat "$K/check" "$K/check" "$K/pub"; sshstr "$K/seed" "$K/pk"; sshstr "$K/comment"; } >"$K/priv"
pad=$(((8 - $(wc -c <"$K/priv") % 8) % 8))
# shellcheck disable=SC2059
for ((i = 1; i <= pad; i++)); do printf "$(printf '\\%03o' "$i")"; done >>"$K/priv"
{
	printf 'openssh-key-v1\0'
	sshstr "$K/none"
	sshstr "$K/none"
	sshstr "$K/empty"
	u32 1
	sshstr "$K/pub"
	sshstr "$K/priv"
} >"$K/blob"
(
	umask 077
	{
		echo '-----BEGIN OPENSSH PRIVATE KEY-----'
		base64 -w 70 "$K/blob"
		echo '-----END OPENSSH PRIVATE KEY-----'
	} >"$T/custodian.ssh"
)
# The conversion is right only if ssh-keygen derives the custodian's public key from it.
[ "$(ssh-keygen -y -f "$T/custodian.ssh" | cut -d' ' -f1-2)" = "$(cx key show --ssh 2>/dev/null | cut -d' ' -f1-2)" ] ||
	fail "the converted custodian key does not match"
ssh-keygen -q -t ed25519 -N '' -C intruder -f "$T/other.ssh"

# recommit OLD TREE SIGNKEY [PARENT...] : print the id of a new commit with OLD's author,
# committer, dates and message but the given tree and parents; signed with SIGNKEY (an ssh
# private key file), or unsigned if SIGNKEY is "".
recommit() {
	local old=$1 tree=$2 key=$3 raw
	shift 3
	raw=$(git -C "$G" cat-file commit "$old")
	local author committer
	author=$(printf '%s\n' "$raw" | sed -n 's/^author //p')
	committer=$(printf '%s\n' "$raw" | sed -n 's/^committer //p')
	git -C "$G" cat-file commit "$old" | sed '1,/^$/d' >"$T/msg"
	local args=() p
	for p in "$@"; do args+=(-p "$p"); done
	[ -n "$key" ] && args+=(-S)
	GIT_AUTHOR_NAME=$(id_name "$author") GIT_AUTHOR_EMAIL=$(id_email "$author") \
		GIT_AUTHOR_DATE=$(id_date "$author") \
		GIT_COMMITTER_NAME=$(id_name "$committer") GIT_COMMITTER_EMAIL=$(id_email "$committer") \
		GIT_COMMITTER_DATE=$(id_date "$committer") \
		git -C "$G" -c gpg.format=ssh -c user.signingkey="$key" commit-tree "${args[@]}" "$tree" <"$T/msg"
}
id_name() { printf '%s' "${1%% <*}"; }
id_email() { local e=${1#*<}; printf '%s' "${e%%>*}"; }
id_date() { printf '@%s' "${1#*> }"; }

# tree_with TREE PATH BLOB : TREE with PATH (top level, or items/NAME) set to BLOB
tree_with() {
	local tree=$1 path=$2 blob=$3
	case $path in
	items/*)
		local sub
		sub=$(git -C "$G" rev-parse "$tree:items")
		sub=$(tree_with "$sub" "${path#items/}" "$blob")
		tree_with "$tree" items "$sub" ;;
	*)
		local mode=100644 type=blob
		[ "$(git -C "$G" cat-file -t "$blob")" = tree ] && mode=040000 type=tree
		{
			git -C "$G" ls-tree "$tree" | awk -F'\t' -v p="$path" '$2 != p'
			printf '%s %s %s\t%s\n' "$mode" "$type" "$blob" "$path"
		} | git -C "$G" mktree ;;
	esac
}

set_head() { git -C "$G" update-ref refs/heads/main "$1"; }
commits() { git -C "$G" rev-list --reverse refs/heads/main; } # oldest first

# run_case NAME FUNC : run one case in a subshell (so a failure ends only that case); the
# script fails at the end if any case failed.
FAILED=()
run_case() {
	note "$1"
	set +e
	(
		set -e
		fresh_vault
		"$2"
	)
	local rc=$?
	set -e
	[ "$rc" = 0 ] || FAILED+=("$1")
}

# ------------------------------------------------------------------ (o) positive control

# (o) An untouched vault is sound: fsck, fsck --full and fsck --json exit 0 and name no
# problem, and --trust with the vault's own key (ssh form) agrees. Run first: without it every
# case below could pass because fsck always fails.
case_o() {
	expect_exit 0 cx fsck
	grep_out '^ok: 3 events, 6 items, 6 objects, 0 problems'
	! grep -q '^PROBLEM' "$T/out" || fail "a sound vault reported a problem"
	expect_exit 0 cx fsck --full
	grep_out '^ok: 3 events, 6 items, 6 objects \(re-hashed\), 0 problems'
	expect_exit 0 cx fsck --json
	grep_out '"ok":true'
	cx key show --ssh >"$T/own.pub" 2>/dev/null
	expect_exit 0 cx fsck --trust "$T/own.pub"
}

# ------------------------------------------------------------------ (a)–(e) the object store

# (a) One bit flipped inside a loose object: its size is unchanged, so only re-hashing sees
# it — fsck --full reports hash-mismatch at that object's file.
case_a() {
	local obj
	obj=$(loose_objects | sed -n 1p)
	flip_bit "$obj" 700000 3
	fsck_fails --full
	problem hash-mismatch "objects/${obj#"$VAULT/objects/"}"
	note "    kinds: $(kinds)"
}

# (b) One bit flipped in a pack member's data: --full reports hash-mismatch for that member
# (objects/packs/<pack>.tar:<member>), not just for the pack as a whole.
case_b() {
	local pack member
	pack=$(packs | sed -n 1p)
	member=$(tar -tf "$pack" | sed -n 1p)
	flip_bit "$pack" "$(member_offset "$pack" "$member")" 1
	fsck_fails --full
	problem hash-mismatch "objects/packs/$(basename "$pack"):$member"
	note "    kinds: $(kinds)"
}

# (c) One bit flipped in the first tar header (the first member's name, covered by the header
# checksum): the pack can no longer be read — bad-pack, even without --full; with --full also
# hash-mismatch of the pack.
case_c() {
	local pack
	pack=$(packs | sed -n 1p)
	flip_bit "$pack" 0 0
	fsck_fails
	problem bad-pack "objects/packs/$(basename "$pack")"
	fsck_fails --full
	problem hash-mismatch "objects/packs/$(basename "$pack")"
	problem bad-pack "objects/packs/$(basename "$pack")"
	note "    kinds: $(kinds)"
}

# (c2) The same in a header that is not the first (the second member's name): bad-pack.
case_c2() {
	local pack second
	pack=$(packs | sed -n 1p)
	second=$(tar -tf "$pack" | sed -n 2p)
	[ -n "$second" ] || fail "the pack has only one member"
	flip_bit "$pack" $(($(member_offset "$pack" "$second") - 512 + 10)) 0
	fsck_fails
	problem bad-pack "objects/packs/$(basename "$pack")"
	note "    kinds: $(kinds)"
}

# (d1) A loose object deleted: the item that names it reports missing-object.
case_d1() {
	local obj
	obj=$(loose_objects | sed -n 1p)
	rm -f "$obj"
	[ ! -e "$obj" ] || fail "object not deleted"
	fsck_fails
	problem missing-object "item [0-9a-f]{32} \(event [0-9]+\): object $(basename "$obj") is (missing from the store|not in its pack)"
}

# (d2) A loose object truncated by one byte: size-mismatch, without --full.
case_d2() {
	local obj size
	obj=$(loose_objects | sed -n 1p)
	size=$(stat -c %s "$obj")
	chmod u+w "$obj"
	truncate -s $((size - 1)) "$obj"
	[ "$(stat -c %s "$obj")" = $((size - 1)) ] || fail "object not truncated"
	fsck_fails
	problem size-mismatch "item [0-9a-f]{32} \(event [0-9]+\): object $(basename "$obj") has $((size - 1)) bytes"
}

# (d3) A loose object renamed to another valid-looking name (its own fan-out directory, 64
# lower-case hex digits): the item's object is missing-object, and --full also sees that the
# renamed file's bytes do not hash to its new name (hash-mismatch).
case_d3() {
	local obj sha new
	obj=$(loose_objects | sed -n 1p)
	sha=$(basename "$obj")
	new=$(printf '%s' "$sha" | tr 0-9a-f 1-9a-f0) # every digit changed, still lower hex
	mkdir -p "$VAULT/objects/${new:0:2}"
	mv "$obj" "$VAULT/objects/${new:0:2}/$new"
	[ ! -e "$obj" ] && [ -f "$VAULT/objects/${new:0:2}/$new" ] || fail "object not renamed"
	fsck_fails
	problem missing-object "item .*object $sha is (missing from the store|not in its pack)"
	fsck_fails --full
	problem missing-object "item .*object $sha is (missing from the store|not in its pack)"
	problem hash-mismatch "objects/${new:0:2}/$new"
}

# (d4) Two loose objects of the same size swapped: every name still exists with the right
# size, so only --full notices — hash-mismatch at both files.
case_d4() {
	local objs s0
	mapfile -t objs < <(loose_objects)
	[ "$(stat -c %s "${objs[0]}")" = "$(stat -c %s "${objs[1]}")" ] || fail "loose objects differ in size"
	s0=$(sha "${objs[0]}")
	chmod u+w "${objs[@]}"
	mv "${objs[0]}" "$T/swap"
	mv "${objs[1]}" "${objs[0]}"
	mv "$T/swap" "${objs[1]}"
	[ "$(sha "${objs[1]}")" = "$s0" ] && [ "$(sha "${objs[0]}")" != "$s0" ] || fail "objects not swapped"
	fsck_fails --full
	problem hash-mismatch "objects/${objs[0]#"$VAULT/objects/"}"
	problem hash-mismatch "objects/${objs[1]#"$VAULT/objects/"}"
	note "    kinds: $(kinds)"
}

# (e) A whole pack deleted: every item whose object was in it reports missing-object.
case_e() {
	local pack members m
	pack=$(packs | sed -n 1p)
	mapfile -t members < <(tar -tf "$pack")
	rm -f "$pack"
	[ ! -e "$pack" ] || fail "pack not deleted"
	fsck_fails
	for m in "${members[@]}"; do
		problem missing-object "item .*object $m is (missing from the store|not in its pack)"
	done
}

# (e2) A pack rewritten without its last member (still a well-formed tar, same file name):
# the item whose object was that member reports missing-object — the store must be checked,
# not just the derived index. (--full would also see hash-mismatch of the pack; the point here
# is that plain fsck promises every referenced object exists.)
case_e2() {
	local pack last block
	pack=$(packs | sed -n 1p)
	last=$(tar -tf "$pack" | tail -1)
	[ "$(tar -tf "$pack" | wc -l)" -ge 2 ] || fail "the pack has only one member"
	block=$(tar -tR -f "$pack" | sed -n "s/^block \([0-9]*\): $last\$/\1/p")
	chmod u+w "$pack"
	{ head -c $((block * 512)) "$pack"; head -c 1024 /dev/zero; } >"$T/pack"
	cat "$T/pack" >"$pack"
	tar -tf "$pack" >"$T/members" || fail "the rewritten pack is not a valid tar"
	! grep -qx "$last" "$T/members" || fail "member not removed"
	fsck_fails
	problem missing-object "item .*object $last is (missing from the store|not in its pack)"
}

# ------------------------------------------------------------------ (f)–(k) the custody log

# (f) One bit flipped inside a custody.git pack file, in the middle of one object's compressed
# data (found with `git verify-pack -v`, so the flip cannot land in padding or the trailer):
# the head commit (f1), its EVENT blob (f2), one of its item records (f3). fsck fails and names
# a problem; the kinds seen are logged.
flip_git_object() { # OID
	local oid=$1 idx gp='' line type insize at off
	for idx in "$G"/objects/pack/*.idx; do
		git -C "$G" show-index <"$idx" | grep -c " $oid" >/dev/null && gp=${idx%.idx}.pack
	done
	[ -n "$gp" ] || fail "no pack holds $oid"
	# verify-pack -v: <oid> <type> <size> <size-in-pack> <offset>
	line=$(git -C "$G" verify-pack -v "$gp" | grep "^$oid ")
	[ -n "$line" ] || fail "verify-pack does not list $oid"
	read -r _ type _ insize at <<<"$line"
	off=$((at + insize / 2))
	flip_bit "$gp" "$off" 2
	fsck_fails
	grep -q '^PROBLEM [a-z-]*: ' "$T/out" || fail "no problem named"
	note "    kinds ($type $oid at offset $off of $(basename "$gp")): $(kinds)"
}
case_f1() { flip_git_object "$(git -C "$G" rev-parse refs/heads/main)"; }
case_f2() { flip_git_object "$(git -C "$G" rev-parse refs/heads/main:EVENT)"; }
case_f3() {
	local item
	item=$(git -C "$G" ls-tree --name-only refs/heads/main:items | grep -v '\.sig$' | sed -n 1p)
	flip_git_object "$(git -C "$G" rev-parse "refs/heads/main:items/$item")"
}

# forge_event COMMIT SIGNKEY : re-create COMMIT (the head) with one byte of its EVENT changed
# ("input two" -> "input twO": still a well-formed event), signed with SIGNKEY; move the branch
# there and print the forged commit's id.
forge_event() {
	local c=$1 blob tree forged
	git -C "$G" cat-file blob "$c:EVENT" >"$T/event"
	sed 's/^input two$/input twO/' "$T/event" >"$T/event2"
	cmp -s "$T/event" "$T/event2" && fail "EVENT not changed"
	blob=$(git -C "$G" hash-object -w "$T/event2")
	tree=$(tree_with "$(git -C "$G" rev-parse "$c^{tree}")" EVENT "$blob")
	forged=$(recommit "$c" "$tree" "$2" "$(git -C "$G" rev-parse "$c^")")
	[ "$forged" != "$c" ] || fail "commit not rewritten"
	set_head "$forged"
	echo "$forged"
}

# (g) The last commit rewritten (one byte of its EVENT changed) and re-signed with ANOTHER ssh
# key: the commit signature is valid but a stranger's (wrong-key), and EVENT.sig no longer
# matches EVENT (bad-signature).
case_g() {
	local forged
	forged=$(forge_event "$(git -C "$G" rev-parse refs/heads/main)" "$T/other.ssh")
	git -C "$G" cat-file commit "$forged" | grep -c '^gpgsig -----BEGIN SSH SIGNATURE' >/dev/null ||
		fail "the forged commit is not signed"
	fsck_fails
	problem wrong-key "commit $forged"
	problem bad-signature "commit $forged"
	note "    kinds: $(kinds)"
}

# (g2) The same rewrite re-signed with the custodian's OWN key: the commit signature is good,
# so only the event signature catches it (bad-signature; no wrong-key/bad-commit-signature).
case_g2() {
	local forged
	forged=$(forge_event "$(git -C "$G" rev-parse refs/heads/main)" "$T/custodian.ssh")
	fsck_fails
	problem bad-signature "commit $forged"
	! grep -Eq '^PROBLEM (wrong-key|bad-commit-signature):' "$T/out" ||
		fail "the forged commit's own signature is valid, yet fsck rejects it"
}

# (g3) The same rewrite left unsigned: bad-commit-signature.
case_g3() {
	local forged
	forged=$(forge_event "$(git -C "$G" rev-parse refs/heads/main)" "")
	fsck_fails
	problem bad-commit-signature "commit $forged"
}

# (h) The middle commit dropped: the last commit re-created on top of the first, validly
# signed by the custodian. Every signature is good; the chain is not (broken-chain).
case_h() {
	local c forged
	mapfile -t c < <(commits)
	forged=$(recommit "${c[2]}" "$(git -C "$G" rev-parse "${c[2]}^{tree}")" "$T/custodian.ssh" "${c[0]}")
	set_head "$forged"
	[ "$(git -C "$G" rev-list --count refs/heads/main)" = 2 ] || fail "history not shortened"
	fsck_fails
	problem broken-chain "commit $forged"
	note "    kinds: $(kinds)"
}

# (i) Commits reordered — init, then the second ingest, then the first — each validly signed
# by the custodian: broken-chain at both moved commits.
case_i() {
	local c x y
	mapfile -t c < <(commits)
	x=$(recommit "${c[2]}" "$(git -C "$G" rev-parse "${c[2]}^{tree}")" "$T/custodian.ssh" "${c[0]}")
	y=$(recommit "${c[1]}" "$(git -C "$G" rev-parse "${c[1]}^{tree}")" "$T/custodian.ssh" "$x")
	set_head "$y"
	[ "$(git -C "$G" rev-list --count refs/heads/main)" = 3 ] || fail "history length changed"
	fsck_fails
	problem broken-chain "commit $x"
	problem broken-chain "commit $y"
	note "    kinds: $(kinds)"
}

# (j) An item record changed in the tree (the last byte of its path line: still a well-formed
# record), the commit re-signed by the custodian: the record no longer hashes to its id (bad-record) and its own signature
# fails (bad-signature), both reported for that item.
case_j() {
	local c item blob tree forged
	mapfile -t c < <(commits)
	item=$(git -C "$G" ls-tree --name-only "${c[2]}:items" | grep -v '\.sig$' | sed -n 1p)
	git -C "$G" cat-file blob "${c[2]}:items/$item" >"$T/rec"
	sed -E 's/^(path .*).$/\1~/' "$T/rec" >"$T/rec2"
	cmp -s "$T/rec" "$T/rec2" && fail "record not changed"
	blob=$(git -C "$G" hash-object -w "$T/rec2")
	tree=$(tree_with "$(git -C "$G" rev-parse "${c[2]}^{tree}")" "items/$item" "$blob")
	forged=$(recommit "${c[2]}" "$tree" "$T/custodian.ssh" "${c[1]}")
	set_head "$forged"
	fsck_fails
	problem bad-record "item $item"
	problem bad-signature "item $item"
	note "    kinds: $(kinds)"
}

# (k) An extra file added to a commit tree (custodian-signed): unlisted-entry — at the root of
# the tree (k1) and as an extra blob under items/ (k2).
add_to_tree() {
	local c blob tree forged
	mapfile -t c < <(commits)
	blob=$(printf 'planted\n' | git -C "$G" hash-object -w --stdin)
	tree=$(tree_with "$(git -C "$G" rev-parse "${c[2]}^{tree}")" "$1" "$blob")
	git -C "$G" ls-tree -r --name-only "$tree" | grep -cx "$1" >/dev/null || fail "$1 not added"
	forged=$(recommit "${c[2]}" "$tree" "$T/custodian.ssh" "${c[1]}")
	set_head "$forged"
	echo "$forged"
}
case_k1() {
	local forged
	forged=$(add_to_tree NOTES)
	fsck_fails
	problem unlisted-entry "commit $forged .*'NOTES'"
	note "    kinds: $(kinds)"
}
case_k2() {
	add_to_tree items/0123456789abcdef0123456789abcdef >/dev/null
	fsck_fails
	problem unlisted-entry "event 2"
	note "    kinds: $(kinds)"
}

# ------------------------------------------------------------------ (l)–(n) the rest

# (l) Stray files in the store — directly in objects/, in a fan-out directory, among the
# packs: each is named stray-file.
case_l() {
	local fan
	fan=$(basename "$(dirname "$(loose_objects | sed -n 1p)")")
	chmod u+w "$VAULT/objects" "$VAULT/objects/$fan" "$VAULT/objects/packs"
	echo stray >"$VAULT/objects/README"
	echo stray >"$VAULT/objects/$fan/notes.txt"
	echo stray >"$VAULT/objects/packs/extra.tar"
	fsck_fails
	problem stray-file "objects/README"
	problem stray-file "objects/$fan/notes.txt"
	problem stray-file "objects/packs/extra.tar"
}

# (m) The VAULT marker edited (the vault's name changed): it no longer agrees with the init
# event — bad-marker.
case_m() {
	local before
	before=$(sha "$VAULT/VAULT")
	chmod u+w "$VAULT/VAULT"
	sed -i 's/^name test%20vault$/name test%20vaulT/' "$VAULT/VAULT"
	[ "$(sha "$VAULT/VAULT")" != "$before" ] || fail "VAULT not changed"
	fsck_fails
	problem bad-marker "VAULT"
}

# (n) fsck --trust with a different key (a custos key file, and the same key in ssh form): the
# vault and every commit are the custodian's, not the trusted key's — wrong-key.
case_n() {
	[ -f "$T/other.key" ] || "$CUSTOS" --key "$T/other.key" key new --no-passphrase >/dev/null 2>&1
	fsck_fails --trust "$T/other.key"
	problem wrong-key "VAULT"
	problem wrong-key "commit "
	"$CUSTOS" --key "$T/other.key" key show --ssh >"$T/other.pub"
	fsck_fails --trust "$T/other.pub"
	problem wrong-key "commit "
}

run_case "(o) untampered vault: fsck and fsck --full pass" case_o
run_case "(a) bit flip in a loose object" case_a
run_case "(b) bit flip in a pack member's data" case_b
run_case "(c) bit flip in a pack's first tar header" case_c
run_case "(c2) bit flip in a pack's second tar header" case_c2
run_case "(d1) loose object deleted" case_d1
run_case "(d2) loose object truncated" case_d2
run_case "(d3) loose object renamed" case_d3
run_case "(d4) two loose objects swapped" case_d4
run_case "(e) pack deleted" case_e
run_case "(e2) pack member removed" case_e2
run_case "(f1) bit flip in custody.git: the head commit" case_f1
run_case "(f2) bit flip in custody.git: the head's EVENT blob" case_f2
run_case "(f3) bit flip in custody.git: an item record blob" case_f3
run_case "(g) last commit rewritten, signed by another key" case_g
run_case "(g2) last commit rewritten, signed by the custodian" case_g2
run_case "(g3) last commit rewritten, unsigned" case_g3
run_case "(h) middle commit dropped" case_h
run_case "(i) commits reordered" case_i
run_case "(j) item record changed" case_j
run_case "(k1) extra file at the root of a commit tree" case_k1
run_case "(k2) extra file under items/" case_k2
run_case "(l) stray files in objects/" case_l
run_case "(m) VAULT marker edited" case_m
run_case "(n) fsck --trust another key" case_n

if [ "${#FAILED[@]}" -gt 0 ]; then
	printf 'FAILED CASE: %s\n' "${FAILED[@]}" >&2
	exit 1
fi
note "all tamper cases detected"
