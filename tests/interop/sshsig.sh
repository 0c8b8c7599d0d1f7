# sshsig.sh — OpenSSH's ssh-keygen accepts the signatures and public keys custos makes.
#
# For every custody commit, the gpgsig armor (an SSHSIG, PROTOCOL.sshsig) over the commit without
# its gpgsig header verifies with `ssh-keygen -Y verify` (namespace "git", the principal and key
# from `custos key show --allowed-signers`) and with `ssh-keygen -Y check-novalidate`;
# `-Y find-principals` names the custodian. Negative controls: another namespace, another
# principal, another key, and a changed payload are all refused. The public key printed by
# `custos key show --ssh` is one `ssh-keygen -l -f` reads, with the same fingerprint that
# ssh-keygen reports when it verifies the signatures.
source "$(dirname "$0")/../lib.sh"
need git
need ssh-keygen

setup_vault
G="$VAULT/custody.git"
mkdir -p "$T/in1" "$T/in2"
printf 'one\n' >"$T/in1/a.txt"
head -c 1100000 /dev/urandom >"$T/in1/big.bin"
printf 'two\n' >"$T/in2/b.txt"
cx ingest "$T/in1" >/dev/null 2>&1 || fail "first ingest failed"
cx ingest "$T/in2" >/dev/null 2>&1 || fail "second ingest failed"

cx key show --allowed-signers >"$T/allowed_signers" 2>/dev/null
cx key show --ssh >"$T/custodian.pub" 2>/dev/null
PRINCIPAL=$(cut -d' ' -f1 "$T/allowed_signers")
[ -n "$PRINCIPAL" ] || fail "no principal"

# 1. The ssh public key is one ssh-keygen reads: an ED25519 key, and the same key (type and
#    base64) as in the allowed_signers line.
expect_exit 0 ssh-keygen -l -f "$T/custodian.pub"
grep_out '^256 SHA256:[A-Za-z0-9+/]{43} .*\(ED25519\)$'
FPR=$(cut -d' ' -f2 "$T/out")
# FPR and PRINCIPAL as literal text inside grep -E patterns (a fingerprint may hold '+').
re_escape() { printf '%s' "$1" | sed 's/[][\\.*^$+?(){}|]/\\&/g'; }
FPR_RE=$(re_escape "$FPR")
PRINCIPAL_RE=$(re_escape "$PRINCIPAL")
[ "$(cut -d' ' -f1-2 "$T/custodian.pub")" = "$(sed 's/^.* namespaces="git" //' "$T/allowed_signers" | cut -d' ' -f1-2)" ] ||
	fail "key show --ssh and --allowed-signers disagree"
# The allowed_signers line itself is accepted by ssh-keygen (it parses it in -Y find-principals
# below); the ssh form also converts to RFC 4716 and back unchanged.
ssh-keygen -e -f "$T/custodian.pub" >"$T/custodian.rfc4716" || fail "ssh-keygen -e refused the key"
[ "$(ssh-keygen -i -f "$T/custodian.rfc4716" | cut -d' ' -f1-2)" = "$(cut -d' ' -f1-2 "$T/custodian.pub")" ] ||
	fail "the key does not survive an RFC 4716 round trip"

# An unrelated key, for the negative controls.
ssh-keygen -q -t ed25519 -N '' -C stranger -f "$T/stranger"
printf '%s namespaces="git" %s\n' "$PRINCIPAL" "$(cut -d' ' -f1-2 "$T/stranger.pub")" >"$T/wrong_signers"

# split_commit OID : $T/sig (armor) and $T/payload (the commit without its gpgsig header)
split_commit() {
	git -C "$G" cat-file commit "$1" >"$T/raw"
	sed -n '1,/^$/{/^gpgsig /,/^ -----END SSH SIGNATURE-----$/p}' "$T/raw" |
		sed 's/^gpgsig //; s/^ //' >"$T/sig"
	sed '1,/^$/{/^gpgsig /,/^ -----END SSH SIGNATURE-----$/d}' "$T/raw" >"$T/payload"
	head -n1 "$T/sig" | grep -cx -- '-----BEGIN SSH SIGNATURE-----' >/dev/null || fail "no armor in commit $1"
	tail -n1 "$T/sig" | grep -cx -- '-----END SSH SIGNATURE-----' >/dev/null || fail "armor of commit $1 not closed"
	[ "$(wc -c <"$T/payload")" -lt "$(wc -c <"$T/raw")" ] || fail "no gpgsig removed from commit $1"
	! grep -q '^gpgsig' "$T/payload" || fail "gpgsig left in the payload of commit $1"
}

mapfile -t COMMITS < <(git -C "$G" rev-list refs/heads/main)
[ "${#COMMITS[@]}" = 3 ] || fail "expected 3 commits, found ${#COMMITS[@]}"
for c in "${COMMITS[@]}"; do
	split_commit "$c"
	# 2. -Y verify: good signature, by the custodian's principal and key.
	expect_exit 0 ssh-keygen -Y verify -f "$T/allowed_signers" -I "$PRINCIPAL" -n git \
		-s "$T/sig" <"$T/payload"
	grep_out "^Good \"git\" signature for $PRINCIPAL_RE with ED25519 key $FPR_RE\$"
	# 3. -Y check-novalidate: the signature is well-formed and valid for the payload.
	expect_exit 0 ssh-keygen -Y check-novalidate -n git -s "$T/sig" <"$T/payload"
	grep_out "^Good \"git\" signature with ED25519 key $FPR_RE\$"
	# 4. -Y find-principals: the allowed_signers line maps the signature to the custodian.
	expect_exit 0 ssh-keygen -Y find-principals -f "$T/allowed_signers" -s "$T/sig"
	grep_out "^$PRINCIPAL_RE\$"
	# Negative controls: each must be refused, or the checks above prove nothing.
	expect_exit 255 ssh-keygen -Y verify -f "$T/allowed_signers" -I "$PRINCIPAL" -n file \
		-s "$T/sig" <"$T/payload"
	expect_exit 255 ssh-keygen -Y check-novalidate -n file -s "$T/sig" <"$T/payload"
	expect_exit 255 ssh-keygen -Y verify -f "$T/allowed_signers" -I someone@else.invalid -n git \
		-s "$T/sig" <"$T/payload"
	expect_exit 255 ssh-keygen -Y verify -f "$T/wrong_signers" -I "$PRINCIPAL" -n git \
		-s "$T/sig" <"$T/payload"
	{ cat "$T/payload"; printf ' '; } >"$T/payload2"
	expect_exit 255 ssh-keygen -Y verify -f "$T/allowed_signers" -I "$PRINCIPAL" -n git \
		-s "$T/sig" <"$T/payload2"
	expect_exit 255 ssh-keygen -Y check-novalidate -n git -s "$T/sig" <"$T/payload2"
done
note "ssh-keygen verified ${#COMMITS[@]} commit signatures"
