# sha256sum.sh — the object store can be checked with nothing but coreutils and tar (FS §6):
#   - every loose object objects/<2 hex>/<64 hex> hashes (sha256sum) to its name, and sits in
#     the fan-out directory named by its first two digits;
#   - every pack objects/packs/<64 hex>.tar hashes to its name, extracts with GNU tar (and
#     bsdtar, if installed) into plain files only, and each member hashes to its name;
#   - the store holds exactly the distinct contents ingested, each once (duplicates are not
#     stored twice), loose iff larger than 1 MiB;
#   - `custos cat ITEM | sha256sum` gives the item's sha256 (and size) for every item listed by
#     `custos ls --json`, whether its object is loose or packed.
# The corpus has several small files, duplicates (within an ingest and across ingests), an
# empty file, a file of exactly 1 MiB (the largest packed size) and two files > 1 MiB.
source "$(dirname "$0")/../lib.sh"
need sha256sum
need tar
need git

setup_vault
mkdir -p "$T/in1/sub" "$T/in2"
printf 'alpha\n' >"$T/in1/a.txt"
printf 'bravo\n' >"$T/in1/b.txt"
printf 'alpha\n' >"$T/in1/sub/a-again.txt"  # duplicate within the ingest
printf '\0\1\2\3\377binary' >"$T/in1/c.bin"
: >"$T/in1/empty"
head -c 1048576 /dev/urandom >"$T/in1/exactly-1MiB.bin"
head -c 1500000 /dev/urandom >"$T/in1/big1.bin"
head -c 3000001 /dev/urandom >"$T/in2/big2.bin"
cp "$T/in1/big1.bin" "$T/in2/big1-again.bin" # duplicate across ingests (loose)
printf 'bravo\n' >"$T/in2/b-again.txt"        # duplicate across ingests (packed)
printf 'charlie\n' >"$T/in2/c.txt"
cx ingest "$T/in1" >/dev/null 2>&1 || fail "first ingest failed"
cx ingest "$T/in2" >/dev/null 2>&1 || fail "second ingest failed"

# What should be stored: the distinct contents of the corpus.
find "$T/in1" "$T/in2" -type f -exec sha256sum {} + | cut -d' ' -f1 | sort -u >"$T/want"
[ "$(wc -l <"$T/want")" = 8 ] || fail "corpus should have 8 distinct contents"

OBJ="$VAULT/objects"
: >"$T/stored" # every object found in the store, one name a line

# 1. Loose objects: name == sha256sum, right fan-out directory, more than 1 MiB.
n_loose=0
while IFS= read -r f; do
	name=$(basename "$f")
	dir=$(basename "$(dirname "$f")")
	[[ $name =~ ^[0-9a-f]{64}$ ]] || fail "loose object with a bad name: $f"
	[ "$dir" = "${name:0:2}" ] || fail "loose object $name is in objects/$dir"
	got=$(sha256sum "$f" | cut -d' ' -f1)
	[ "$got" = "$name" ] || fail "sha256sum of objects/$dir/$name is $got"
	[ "$(stat -c %s "$f")" -gt 1048576 ] || fail "loose object $name is not larger than 1 MiB"
	echo "$name" >>"$T/stored"
	n_loose=$((n_loose + 1))
done < <(find "$OBJ" -path "$OBJ/packs" -prune -o -type f -print)
[ "$n_loose" = 2 ] || fail "expected 2 loose objects, found $n_loose"

# 2. Packs: name == sha256sum of the file; GNU tar and bsdtar extract only regular files, each
#    hashing to its member name.
extract_and_check() { # TOOL PACK DIR
	local tool=$1 pack=$2 dir=$3 m got
	mkdir -p "$dir"
	expect_exit 0 "$tool" -xf "$pack" -C "$dir"
	[ ! -s "$T/err" ] || fail "$tool warned about $(basename "$pack"): $(cat "$T/err")"
	[ -z "$(find "$dir" -mindepth 1 ! -type f)" ] || fail "$tool extracted non-files from $(basename "$pack")"
	for m in "$dir"/*; do
		[ -e "$m" ] || fail "$tool extracted nothing from $(basename "$pack")"
		got=$(sha256sum "$m" | cut -d' ' -f1)
		[ "$got" = "$(basename "$m")" ] || fail "$tool: member $(basename "$m") of $(basename "$pack") hashes to $got"
	done
	(cd "$dir" && ls) >"$dir.list"
}
n_packs=0
for pack in "$OBJ"/packs/*; do
	[ -e "$pack" ] || break
	name=$(basename "$pack")
	[[ $name =~ ^[0-9a-f]{64}\.tar$ ]] || fail "bad pack name: $name"
	got=$(sha256sum "$pack" | cut -d' ' -f1)
	[ "$got" = "${name%.tar}" ] || fail "sha256sum of pack $name is $got"
	n_packs=$((n_packs + 1))
	x="$T/x/$n_packs"
	extract_and_check tar "$pack" "$x/gnu"
	# the listing agrees with the extraction (no member extracted twice, none hidden)
	tar -tf "$pack" | sort >"$T/members"
	sort "$x/gnu.list" | cmp -s - "$T/members" || fail "tar -t and tar -x disagree on $name"
	if command -v bsdtar >/dev/null 2>&1; then
		extract_and_check bsdtar "$pack" "$x/bsd"
		cmp -s "$x/gnu.list" "$x/bsd.list" || fail "GNU tar and bsdtar extract different members of $name"
	fi
	for m in "$x"/gnu/*; do
		[ "$(stat -c %s "$m")" -le 1048576 ] || fail "packed object $(basename "$m") is larger than 1 MiB"
	done
	# FS §6.2 as tar sees it: every member a regular file, mode 0444, owner 0/0, mtime 0, under
	# a plain ustar header ("ustar\0" "00") with its data in the very next block — so no pax or
	# GNU extension headers in between — then two zero blocks and nothing after.
	next=0
	while IFS= read -r l; do
		if [[ $l =~ ^block\ ([0-9]+):\ \*\*\ Block\ of\ NULs\ \*\*$ ]]; then
			[ "${BASH_REMATCH[1]}" = "$next" ] || fail "pack $name: end of archive at block ${BASH_REMATCH[1]}, expected $next"
			[ "$(stat -c %s "$pack")" = $(((next + 2) * 512)) ] ||
				fail "pack $name: $(stat -c %s "$pack") bytes, expected two zero blocks after block $next and nothing more"
			next=end
			break
		fi
		[[ $l =~ ^block\ ([0-9]+):\ -r--r--r--\ 0/0\ +([0-9]+)\ 1970-01-01\ 00:00:00\ [0-9a-f]{64}$ ]] ||
			fail "pack $name: not a plain 0444 0/0 mtime-0 member: $l"
		[ "${BASH_REMATCH[1]}" = "$next" ] || fail "pack $name: header at block ${BASH_REMATCH[1]}, expected $next"
		[ "$(od -An -tx1 -j $((next * 512 + 257)) -N 8 "$pack" | tr -d ' \n')" = 7573746172003030 ] ||
			fail "pack $name: the header at block $next is not POSIX ustar"
		next=$((next + 1 + (BASH_REMATCH[2] + 511) / 512))
	done < <(TZ=UTC tar --numeric-owner --full-time -tvR -f "$pack")
	[ "$next" = end ] || fail "pack $name has no end-of-archive block"
	cat "$T/members" >>"$T/stored"
done
[ "$n_packs" = 2 ] || fail "expected 2 packs (one per ingest), found $n_packs"
command -v bsdtar >/dev/null 2>&1 || note "bsdtar not installed; checked with GNU tar only"

# 3. The store holds each distinct content exactly once, and nothing else.
sort "$T/stored" >"$T/stored.sorted"
dups=$(uniq -d "$T/stored.sorted")
[ -z "$dups" ] || fail "objects stored more than once: $dups"
cmp -s "$T/stored.sorted" "$T/want" || {
	diff "$T/want" "$T/stored.sorted" >&2 || true
	fail "the store does not hold exactly the distinct contents ingested"
}

# 4. custos cat reproduces every item's bytes: sha256sum and size match the record.
cx ls --json >"$T/ls.json" 2>/dev/null
n_items=0
while IFS= read -r line; do
	id=$(printf '%s' "$line" | sed -nE 's/.*"id":"([0-9a-f]{32})".*/\1/p')
	sha=$(printf '%s' "$line" | sed -nE 's/.*"sha256":"([0-9a-f]{64})".*/\1/p')
	size=$(printf '%s' "$line" | sed -nE 's/.*"size":([0-9]+).*/\1/p')
	[ -n "$id" ] && [ -n "$sha" ] && [ -n "$size" ] || fail "cannot parse ls --json line: $line"
	cx cat "$id" >"$T/cat" 2>"$T/cat.err" || fail "custos cat $id failed: $(cat "$T/cat.err")"
	got=$(sha256sum <"$T/cat" | cut -d' ' -f1)
	[ "$got" = "$sha" ] || fail "custos cat $id | sha256sum = $got, the item says $sha"
	[ "$(stat -c %s "$T/cat")" = "$size" ] || fail "custos cat $id gave $(stat -c %s "$T/cat") bytes, the item says $size"
	n_items=$((n_items + 1))
done <"$T/ls.json"
[ "$n_items" = 11 ] || fail "expected 11 items (one per corpus file), ls --json listed $n_items"
# the empty file is an item too, with the SHA-256 of nothing
grep -q '"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":0' "$T/ls.json" ||
	fail "the empty file is not listed"

# 5. Item ids are SHA-256 prefixes of the records git holds (README: "first 32 digits = id").
while IFS= read -r line; do
	id=$(printf '%s' "$line" | sed -nE 's/.*"id":"([0-9a-f]{32})".*/\1/p')
	commit=$(printf '%s' "$line" | sed -nE 's/.*"commit":"([0-9a-f]{40})".*/\1/p')
	[ -n "$commit" ] || fail "no commit in ls --json line: $line"
	got=$(git -C "$VAULT/custody.git" show "$commit:items/$id" | sha256sum | cut -d' ' -f1)
	[ "${got:0:32}" = "$id" ] || fail "the record of item $id hashes to $got"
done <"$T/ls.json"

note "$n_loose loose objects, $n_packs packs, $n_items items: all check out with sha256sum and tar"
