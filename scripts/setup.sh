#!/usr/bin/env bash
# setup.sh — the README's quick start on a fresh Debian 12 machine.
#   scripts/setup.sh demo   install what is needed, build, run the demo on testdata/
#   scripts/setup.sh test   install what is needed, build (plain and ASan+UBSan), run the
#                           whole test suite (under `unshare -n`: no network), print
#                           "N passed, N failed" from the real results
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
mode=${1:-}

packages=(gcc meson ninja-build pkg-config libsodium-dev libssl-dev libarchive-dev libgit2-dev
	libmagic-dev libseccomp-dev git openssh-client minisign libarchive-tools strace python3
	util-linux coreutils file p7zip-full time xz-utils zstd python3-dkim python3-authres libimage-exiftool-perl)

install_packages() {
	local missing=()
	for p in "${packages[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "== installing: ${missing[*]}"
	local sudo=()
	[ "$(id -u)" -eq 0 ] || sudo=(sudo)
	"${sudo[@]}" apt-get update -qq
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
}

build() { # build DIR [meson options...]
	local dir=$1
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" --werror "$@" >/dev/null
	fi
	ninja -C "$dir" >/dev/null
}

demo() {
	build build
	local d
	d=$(mktemp -d /tmp/custos-demo.XXXXXX)
	local c="$top/build/cli/custos"
	export HOME="$d/home"
	mkdir -p "$HOME"
	testdata/make-sample-drop.sh "$d/sample-drop"
	set -x
	"$c" key new --no-passphrase
	"$c" key show --allowed-signers
	"$c" init "$d/vault" --name "Demo newsroom"
	"$c" --vault "$d/vault" source add "demo source" --note "met at the demo"
	"$c" --vault "$d/vault" ingest --source "demo source" --note "sample drop" --also-hash md5 \
		"$d/sample-drop" || true # one input is a symlink, none are refused; exit 1 only on refusals
	"$c" --vault "$d/vault" ls
	"$c" --vault "$d/vault" verify "$d/sample-drop/contracts/side-letter.pdf"
	local item
	item=$("$c" --vault "$d/vault" verify --json "$d/sample-drop/contracts/side-letter.docx" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["receipts"][0]["item"])')
	"$c" --vault "$d/vault" show "$item"
	"$c" --vault "$d/vault" inspect "$item"
	"$c" --vault "$d/vault" log "$item"
	"$c" --vault "$d/vault" checkpoint -o "$d/checkpoint"
	"$c" --vault "$d/vault" prove "$item" -o "$d/exhibit.proof"
	"$c" verify-proof "$d/exhibit.proof" "$d/sample-drop/contracts/side-letter.docx" \
		--trust "$HOME/.config/custos/custodian.key"
	"$c" --vault "$d/vault" fsck --full --against "$d/checkpoint"
	"$c" --vault "$d/vault" export "$item" -o "$d/exhibit-package.tar"
	"$c" key show >"$d/custodian.pub"
	"$c" verify-package "$d/exhibit-package.tar" --trust "$d/custodian.pub"
	"$c" --vault "$d/vault" bundle -o "$d/transfer.tar"
	"$c" --key "$d/replica.key" key new --no-passphrase
	"$c" --key "$d/replica.key" init --replica-of "$d/custodian.pub" "$d/replica"
	"$c" --key "$d/replica.key" --vault "$d/replica" import "$d/transfer.tar"
	"$c" --vault "$d/replica" fsck --full --against "$d/checkpoint"
	"$c" key show --allowed-signers >"$d/allowed_signers"
	git -C "$d/vault/custody.git" -c gpg.ssh.allowedSignersFile="$d/allowed_signers" \
		log --show-signature -1
	set +x
	echo "== demo vault left in $d/vault"
}

run_suite() { # run_suite BUILDDIR [meson test args]
	local dir=$1
	shift
	local runner=(meson test -C "$dir" --print-errorlogs --num-processes 2 "$@")
	# No network: the whole suite must pass without it.
	if unshare -n true 2>/dev/null; then
		runner=(unshare -n "${runner[@]}")
	elif unshare -rn true 2>/dev/null; then
		runner=(unshare -rn "${runner[@]}")
	else
		echo "== warning: cannot enter a network namespace; running with the network"
	fi
	"${runner[@]}" || true
}

count_results() { # count_results testlog.json... -> "passed failed skipped"
	python3 - "$@" <<'PY'
import json, sys
p = f = s = 0
for path in sys.argv[1:]:
    with open(path) as fh:
        for line in fh:
            r = json.loads(line).get("result")
            if r in ("OK", "EXPECTEDFAIL"): p += 1
            elif r == "SKIP": s += 1
            else: f += 1
print(p, f, s)
PY
}

test_all() {
	build build
	build build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	echo "== test suite (plain build)"
	run_suite build
	echo "== test suite (ASan + UBSan build)"
	run_suite build-asan --timeout-multiplier 3
	read -r passed failed skipped < <(count_results build/meson-logs/testlog.json \
		build-asan/meson-logs/testlog.json)
	echo "($skipped skipped)"
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

case "$mode" in
demo) install_packages && demo ;;
test) install_packages && test_all ;;
*)
	echo "usage: scripts/setup.sh demo|test" >&2
	exit 2
	;;
esac
