#!/usr/bin/env bash
# crash-archive.sh — kill -9 an ingest of an archive (a zip holding small files, a member
# over 1 MiB and a nested tar.gz) at its writes, fsyncs, renames, links and file-creating
# opens, in custos and in its sandboxed reader alike (strace -f -e inject=…:signal=KILL:
# when=N: killed on entering the N-th such call of a process). After each kill:
#   - fsck --full passes and the earlier ingest is unchanged;
#   - either no new event, or one whose archive result is `complete` with every member,
#     or `crashed` (the reader was the one killed) with the members read before: every
#     member recorded `ok` has the SHA-256 that bsdtar -xO | sha256sum gives;
#   - the vault is unlocked and the same ingest then completes.
# Quick mode (CI) tries every 2nd kill point of each kind; CUSTOS_THOROUGH=1
# (tests/thorough.sh) every one; CRASH_EVERY=k overrides.
. "$(dirname "$0")/../lib.sh"
allow_ptrace_under_asan
need strace
need bsdtar
strace -f -qq -o /dev/null true 2>/dev/null || skip "strace cannot trace in this environment"
SYSCALLS=write,writev,fsync,fdatasync,rename,renameat,renameat2,link,linkat,openat,unlink,unlinkat,ftruncate,mkdir,mkdirat
EVERY=${CRASH_EVERY:-$([ "${CUSTOS_THOROUGH:-0}" = 1 ] && echo 1 || echo 2)}
export TZ=UTC

setup_vault
S="$T/src"
mkdir -p "$S/docs" "$S/inner"
for i in $(seq 1 12); do printf 'document %d\n' "$i" >"$S/docs/d$i.txt"; done
head -c 1500000 /dev/urandom >"$S/docs/scan.bin" # a loose object
printf 'a\n' >"$S/inner/a.txt"
printf 'b\n' >"$S/inner/b.txt"
(cd "$S/inner" && bsdtar -czf "$S/docs/nested.tar.gz" a.txt b.txt)
rm -rf "$S/inner"
(cd "$S" && bsdtar --format zip -cf "$T/drop.zip" docs)
# what each member must hash to, from bsdtar
bsdtar -tf "$T/drop.zip" | while read -r m; do
	case "$m" in */) continue ;; esac
	printf '%s %s\n' "$(bsdtar -xOf "$T/drop.zip" "$m" | sha256sum | cut -c1-64)" "$m"
done >"$T/expected"
members=$(bsdtar -tf "$T/drop.zip" | wc -l)

echo prior >"$T/prior.txt"
cx ingest -q "$T/prior.txt" >/dev/null
cp -a "$VAULT" "$T/template"
prior=$(cx ls --json)

fresh_vault() { rm -rf "$VAULT"; cp -a "$T/template" "$VAULT"; chmod -R u+w "$VAULT"; }

# check_state WHERE: the invariants after a kill
check_state() {
	local where=$1
	expect_exit 0 cx fsck --full
	cx ls --json >"$T/now"
	[ "$(head -n "$(printf '%s\n' "$prior" | wc -l)" "$T/now")" = "$prior" ] || fail "$where: the earlier ingest changed"
	python3 - "$CUSTOS" "$KEY" "$VAULT" "$T/now" "$T/expected" "$members" "$where" <<'PY' || fail "$where: state"
import json, subprocess, sys
custos, key, vault, now, expected, members, where = sys.argv[1:8]
want = {}
for l in open(expected):
    sha, path = l.rstrip("\n").split(" ", 1)
    want[path] = sha
items = [json.loads(l) for l in open(now)]
zips = [o for o in items if o["path"] == "drop.zip"]
if not zips:
    assert len(items) == 1, (where, "items without their event", len(items))
    print("none")
    sys.exit(0)
o = json.loads(subprocess.run([custos, "--key", key, "--vault", vault, "show", "--json", zips[0]["id"]],
                              check=True, capture_output=True).stdout)
a = o["archive"]
assert a["result"] in ("complete", "crashed"), (where, a["result"])
if a["result"] == "complete":
    assert len(a["members"]) == int(members), (where, len(a["members"]))
for m in a["members"]:
    if m["kind"] == "file" and m["member_outcome"] == "ok":
        assert want[m["path"]] == m["sha256"], (where, m["path"])
print(a["result"])
PY
}

fresh_vault
points=$(count_calls "$CUSTOS" --key "$KEY" --vault "$VAULT" ingest -q "$T/drop.zip")
note "kill points: $points (every $EVERY)"
kills=0
: >"$T/results"
for p in $points; do
	name=${p%%:*}
	n=${p#*:}
	for i in $(seq 1 "$EVERY" "$n"); do
		fresh_vault
		(strace -f -qq -o /dev/null -e trace="$name" -e inject="$name:signal=KILL:when=$i" \
			"$CUSTOS" --key "$KEY" --vault "$VAULT" ingest -q "$T/drop.zip" >/dev/null 2>&1) 2>/dev/null || true
		kills=$((kills + 1))
		check_state "killed at $name #$i" >>"$T/results"
		expect_exit 0 cx ingest -q "$T/drop.zip"
		check_state "re-ingest after $name #$i" >/dev/null
	done
done
note "$kills kills: $(sort "$T/results" | uniq -c | tr '\n' ' ')"
[ "$kills" -ge 20 ] || fail "only $kills kill points"
grep -q none "$T/results" || fail "no kill left the vault without the new event"
grep -q complete "$T/results" || fail "no kill came after the commit"
grep -q crashed "$T/results" || fail "no kill of the reader child was recorded as 'crashed'"
echo "crash-archive: ok"
