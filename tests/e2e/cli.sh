#!/usr/bin/env bash
# cli.sh — the conventions every command keeps: --help and `custos help CMD`, exit codes
# (0 ok, 1 check failed / not found, 2 usage, 3 operational), global options and their
# environment fallbacks, key files (sealed, unsealed, permissions, passphrase sources),
# public key forms, and error messages that name the file and the cause.
source "$(dirname "$0")/../lib.sh"

# --- help for every command, from both spellings
for cmd in key init ingest ls show cat log verify fsck reindex help; do
	expect_exit 0 "$CUSTOS" help "$cmd"
	grep_out "usage: custos"
	[ "$cmd" = help ] && continue
	expect_exit 0 "$CUSTOS" "$cmd" --help
	grep_out "usage: custos $cmd"
done
expect_exit 0 "$CUSTOS" --help
grep_out "Commands:"
expect_exit 2 "$CUSTOS"
expect_exit 2 "$CUSTOS" frobnicate
grep_out "unknown command 'frobnicate'"
expect_exit 2 "$CUSTOS" help frobnicate

# --- keys: unsealed, sealed with a passphrase file, sealed via the environment
K="$T/k1.key"
expect_exit 0 "$CUSTOS" --key "$K" key new --no-passphrase
grep_out "NOT sealed"
[ "$(stat -c %a "$K")" = 600 ] || fail "key mode is $(stat -c %a "$K")"
expect_exit 3 "$CUSTOS" --key "$K" key new --no-passphrase # never overwrites
grep_out "already exists"
printf 'correct horse battery\n' >"$T/pass"
KS="$T/sealed.key"
expect_exit 0 "$CUSTOS" --key "$KS" key new --passphrase-file "$T/pass" --kdf interactive
grep -q '^kdf argon2id13 ' "$KS" || fail "sealed key has no argon2id line"
grep -q '^secret ' "$KS" && fail "sealed key holds a plain secret"
# The default location, created with 0700 directories.
expect_exit 0 "$CUSTOS" key new --no-passphrase
[ -f "$HOME/.config/custos/custodian.key" ] || fail "no key at the default path"
[ "$(stat -c %a "$HOME/.config/custos")" = 700 ] || fail "config dir not 0700"

# --- public key forms
expect_exit 0 "$CUSTOS" --key "$K" key show
grep_out "^custos-pubkey 1 [0-9a-f]{16} "
expect_exit 0 "$CUSTOS" --key "$K" key show --ssh
grep_out "^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"
expect_exit 0 "$CUSTOS" --key "$K" key show --allowed-signers
grep_out '^[0-9a-f]{16}@custos.invalid namespaces="git" ssh-ed25519 '
expect_exit 0 "$CUSTOS" --key "$K" key show --minisign
grep_out "^untrusted comment: minisign public key [0-9A-F]{16}$"
expect_exit 0 "$CUSTOS" --key "$K" key show --json
python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert set(o) >= {"keyid","ssh","minisign","allowed_signers","custos"}' "$T/out"
# A sealed key's public part shows without the passphrase.
expect_exit 0 "$CUSTOS" --key "$KS" key show

# --- vault creation and resolution: --vault, $CUSTOS_VAULT, the current directory
V="$T/v"
expect_exit 0 "$CUSTOS" --key "$K" init "$V" --name "Desk A"
grep_out "vault [0-9a-f]{32} created"
expect_exit 3 "$CUSTOS" --key "$K" init "$V"
grep_out "already a vault"
expect_exit 3 "$CUSTOS" --vault "$T/nowhere" ls
grep_out "$T/nowhere"
(cd "$T" && expect_exit 3 "$CUSTOS" ls && grep_out "no vault")
expect_exit 0 env CUSTOS_VAULT="$V" "$CUSTOS" ls
(cd "$V" && expect_exit 0 "$CUSTOS" log && grep_out "init")

# --- a sealed key in use: passphrase from a file, from the environment, or refused
VS="$T/vs"
expect_exit 0 "$CUSTOS" --key "$KS" --passphrase-file "$T/pass" init "$VS"
echo data >"$T/f1"
expect_exit 0 env CUSTOS_PASSPHRASE_FILE="$T/pass" "$CUSTOS" --key "$KS" --vault "$VS" ingest "$T/f1"
printf 'wrong\n' >"$T/badpass"
expect_exit 3 "$CUSTOS" --key "$KS" --vault "$VS" --passphrase-file "$T/badpass" ingest "$T/f1"
grep_out "wrong passphrase"
# No terminal and no passphrase file: a clear error, not a hang.
expect_exit 3 setsid "$CUSTOS" --key "$KS" --vault "$VS" ingest "$T/f1" </dev/null
grep_out "passphrase"
# $CUSTOS_KEY is the fallback for --key.
expect_exit 0 env CUSTOS_KEY="$K" "$CUSTOS" --vault "$V" ingest "$T/f1"

# --- a key readable by others is refused, naming the file and the fix
chmod 644 "$K"
expect_exit 3 "$CUSTOS" --key "$K" --vault "$V" ingest "$T/f1"
grep_out "$K is accessible by group or others.*chmod 600"
chmod 600 "$K"

# --- another custodian cannot write to the vault
K2="$T/k2.key"
"$CUSTOS" --key "$K2" key new --no-passphrase >/dev/null 2>&1
expect_exit 3 "$CUSTOS" --key "$K2" --vault "$V" ingest "$T/f1"
grep_out "not the custodian of this vault"

# --- usage errors exit 2; lookups that find nothing exit 1
expect_exit 2 "$CUSTOS" --vault "$V" show
expect_exit 2 "$CUSTOS" --vault "$V" show --bogus x
expect_exit 2 "$CUSTOS" --vault "$V" show xyz
grep_out "not an item id"
expect_exit 1 "$CUSTOS" --vault "$V" show 0000000000000000
grep_out "no item matches"
expect_exit 2 "$CUSTOS" --vault "$V" ingest
expect_exit 2 "$CUSTOS" --key "$K" --vault "$V" ingest --also-hash sha3 "$T/f1"
grep_out "unknown digest 'sha3'"
expect_exit 2 "$CUSTOS" --vault "$V" verify
expect_exit 3 "$CUSTOS" --vault "$V" verify "$T/absent"
grep_out "$T/absent"

# --- ambiguous and unique prefixes
sha=$(sha256sum "$T/f1" | cut -c1-64)
expect_exit 0 "$CUSTOS" --vault "$V" show "${sha:0:12}"
grep_out "sha256      $sha"
id=$("$CUSTOS" --vault "$V" ls --json | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["id"])')
expect_exit 0 "$CUSTOS" --vault "$V" show "${id:0:10}"
expect_exit 0 "$CUSTOS" --key "$K" --vault "$V" ingest "$T/f1" # a second receipt of the same bytes
expect_exit 2 "$CUSTOS" --vault "$V" show "${sha:0:12}" # two items now share the SHA-256
grep_out "more than one item"
# cat only needs the bytes: any receipt of them will do.
"$CUSTOS" --vault "$V" cat "${sha:0:12}" | cmp - "$T/f1" || fail "cat by a shared SHA-256 prefix"

# --- JSON everywhere parses, one object per line for listings
for args in "ls --json" "log --json" "show $id --json" "verify --json $T/f1" "fsck --json"; do
	# shellcheck disable=SC2086
	"$CUSTOS" --vault "$V" $args >"$T/json" || fail "custos $args failed"
	python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert lines, "no output"
for l in lines: json.loads(l)
' "$T/json" || fail "custos $args: not one JSON object per line"
done
"$CUSTOS" --vault "$V" ls --json | python3 -c '
import json, sys
for l in sys.stdin:
    o = json.loads(l)
    for k in ("id", "sha256", "size", "name", "mime"): assert k in o, k
'

# --- verify: a file not in the vault exits 1 and says so
echo other >"$T/f2"
expect_exit 1 "$CUSTOS" --vault "$V" verify "$T/f2"
grep_out "NOT IN VAULT"
expect_exit 0 "$CUSTOS" --vault "$V" verify "$T/f1"
grep_out "VERIFIED"
echo "cli: ok"
