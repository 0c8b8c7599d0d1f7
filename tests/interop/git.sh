# git.sh — stock git accepts the custody log custos writes (FS §5): every commit's SSH
# signature verifies with `git verify-commit` and `git log --show-signature` against the
# allowed_signers line custos prints, `git fsck --strict` finds nothing wrong, and a commit
# whose message was edited (old gpgsig header kept verbatim) is rejected. The signature is also
# checked without git, by `ssh-keygen -Y verify` on the armor and payload taken apart by hand.
source "$(dirname "$0")/../lib.sh"
need git
need ssh-keygen

# A vault with three commits: init and two ingests.
setup_vault
G="$VAULT/custody.git"
mkdir -p "$T/in1/sub" "$T/in2"
printf 'one\n' >"$T/in1/a.txt"
printf 'two\n' >"$T/in1/sub/b.txt"
head -c 1200000 /dev/urandom >"$T/in1/big.bin"
printf 'three\n' >"$T/in2/c.txt"
cx ingest "$T/in1" >/dev/null 2>&1 || fail "first ingest failed"
cx ingest "$T/in2" >/dev/null 2>&1 || fail "second ingest failed"

cx key show --allowed-signers >"$T/allowed_signers" 2>/dev/null
PRINCIPAL=$(cut -d' ' -f1 "$T/allowed_signers")
[ -n "$PRINCIPAL" ] || fail "no principal in: $(cat "$T/allowed_signers")"
gitv() { git -C "$G" -c gpg.ssh.allowedSignersFile="$T/allowed_signers" "$@"; }

mapfile -t COMMITS < <(git -C "$G" rev-list refs/heads/main)
[ "${#COMMITS[@]}" = 3 ] || fail "expected 3 commits on refs/heads/main, found ${#COMMITS[@]}"

# 1. `git verify-commit` accepts every commit, and names the custodian's principal.
for c in "${COMMITS[@]}"; do
	git -C "$G" cat-file commit "$c" | grep -c '^gpgsig -----BEGIN SSH SIGNATURE-----$' >/dev/null ||
		fail "commit $c has no SSH gpgsig header"
	expect_exit 0 gitv verify-commit "$c"
	grep_out "Good \"git\" signature for $PRINCIPAL with ED25519 key"
done
note "verify-commit: ${#COMMITS[@]} commits good"

# 2. `git log --show-signature` shows a good signature for each commit, and nothing bad.
gitv log --show-signature --format='commit %H' refs/heads/main >"$T/log" 2>&1 || fail "git log failed"
good=$(grep -c "^Good \"git\" signature for $PRINCIPAL with ED25519 key" "$T/log" || true)
[ "$good" = "${#COMMITS[@]}" ] || {
	cat "$T/log" >&2
	fail "git log --show-signature: $good good signatures for ${#COMMITS[@]} commits"
}
! grep -Eiq 'BAD signature|No signature|could not verify|not trusted' "$T/log" || {
	cat "$T/log" >&2
	fail "git log --show-signature reports a bad signature"
}

# 3. `git fsck --strict` finds the repository sound (no errors, no warnings, nothing dangling).
expect_exit 0 git -C "$G" fsck --strict --full --no-progress
! grep -Eiq 'error|warning|dangling|missing|broken' "$T/out" "$T/err" || {
	cat "$T/out" "$T/err" >&2
	fail "git fsck --strict complained"
}

# 4. ssh-keygen -Y verify, without git: the gpgsig armor is an SSHSIG over the commit without
#    its gpgsig header, in namespace "git", by the custodian's key.
# split_commit OID : $T/sig (armor) and $T/payload (the commit without the gpgsig header)
split_commit() {
	git -C "$G" cat-file commit "$1" >"$T/raw"
	sed -n '1,/^$/{/^gpgsig /,/^ -----END SSH SIGNATURE-----$/p}' "$T/raw" |
		sed 's/^gpgsig //; s/^ //' >"$T/sig"
	sed '1,/^$/{/^gpgsig /,/^ -----END SSH SIGNATURE-----$/d}' "$T/raw" >"$T/payload"
	head -n1 "$T/sig" | grep -cx -- '-----BEGIN SSH SIGNATURE-----' >/dev/null || fail "no armor in $1"
	! grep -q '^gpgsig' "$T/payload" || fail "gpgsig left in the payload of $1"
}
head=${COMMITS[0]}
split_commit "$head"
expect_exit 0 ssh-keygen -Y verify -f "$T/allowed_signers" -I "$PRINCIPAL" -n git -s "$T/sig" <"$T/payload"
grep_out "Good \"git\" signature for $PRINCIPAL"
# The payload really is what was signed: one changed byte and ssh-keygen refuses it.
sed '$s/.$/X/' "$T/payload" >"$T/payload2"
! cmp -s "$T/payload" "$T/payload2" || fail "payload not changed"
expect_exit 255 ssh-keygen -Y verify -f "$T/allowed_signers" -I "$PRINCIPAL" -n git -s "$T/sig" <"$T/payload2"

# 5. Tampering: the head commit re-created with an edited message but its old gpgsig header
#    copied verbatim. Git stores it (it is a well-formed commit), but verify-commit fails.
git -C "$G" cat-file commit "$head" >"$T/raw"
sed '1,/^$/!s/^ingest: /ingest (edited): /' "$T/raw" >"$T/forged"
! cmp -s "$T/raw" "$T/forged" || fail "commit message not changed"
[ "$(sed -n '/^gpgsig /,/^ -----END/p' "$T/raw")" = "$(sed -n '/^gpgsig /,/^ -----END/p' "$T/forged")" ] ||
	fail "the gpgsig header was not kept verbatim"
forged=$(git -C "$G" hash-object -t commit -w --stdin <"$T/forged")
[ "$forged" != "$head" ] || fail "forged commit has the original id"
expect_exit 1 gitv verify-commit "$forged"
grep_out 'BAD signature|Could not verify signature'
gitv log -1 --show-signature --format=%H "$forged" >"$T/log" 2>&1 || true
! grep -q '^Good "git" signature' "$T/log" || fail "git log calls the forged commit good"
# ... and ssh-keygen agrees.
split_commit "$forged"
expect_exit 255 ssh-keygen -Y verify -f "$T/allowed_signers" -I "$PRINCIPAL" -n git -s "$T/sig" <"$T/payload"
# custos itself refuses the log once the branch points at the forgery.
git -C "$G" update-ref refs/heads/main "$forged" "$head"
expect_exit 1 cx fsck
grep_out '^PROBLEM bad-commit-signature: commit '"$forged"

note "stock git accepts every custos commit and rejects the forged one"
