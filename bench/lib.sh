# lib.sh — shared helpers for bench/*.sh (sourced, not run).
# shellcheck shell=bash

BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$BENCH_SRC/.." && pwd)
BENCH_DIR=${BENCH_DIR:-$BENCH_SRC/out}
BUILD=${BUILD:-/tmp/build-bench}
PYTHON=${PYTHON:-$( [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || command -v python3 )}
TIME_BIN=${TIME_BIN:-/usr/bin/time}

die() { echo "bench: $*" >&2; exit 2; }
note() { echo "-- $*" >&2; }

# The custos binary: $CUSTOS, else an optimized build in $BUILD (set up and brought up to
# date here: the sources may have changed since the last run).
custos_bin() {
	if [ -n "${CUSTOS:-}" ]; then
		[ -x "$CUSTOS" ] || die "CUSTOS=$CUSTOS is not executable"
		return
	fi
	if [ ! -f "$BUILD/build.ninja" ]; then
		note "meson setup --buildtype=release $BUILD $TOP"
		meson setup --buildtype=release "$BUILD" "$TOP" >/dev/null || die "meson setup failed"
	fi
	ninja -C "$BUILD" cli/custos >/dev/null || die "ninja -C $BUILD failed"
	CUSTOS=$BUILD/cli/custos
}

# An isolated HOME, so no user configuration (git, borg, restic) changes what is measured.
isolate_home() {
	export HOME=$BENCH_DIR/home
	mkdir -p "$HOME"
	export XDG_CONFIG_HOME=$HOME/.config XDG_CACHE_HOME=$HOME/.cache
	export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
	export BORG_BASE_DIR=$HOME/borg BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
	export BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
	export RESTIC_CACHE_DIR=$HOME/restic-cache RESTIC_PASSWORD_FILE=$HOME/restic-password
	echo bench-password >"$RESTIC_PASSWORD_FILE"
	export LC_ALL=C
}

# Read every file of a tree (or one file) so it is in the page cache.
warm() {
	if [ -d "$1" ]; then
		find "$1" -type f -print0 | xargs -0 -r cat >/dev/null
	else
		cat "$1" >/dev/null
	fi
}

# measure LOG CMD... — run CMD under GNU time; sets M_RC M_WALL M_CPU M_RSS (MiB).
measure() {
	local log=$1 tf
	shift
	tf=$(mktemp)
	"$TIME_BIN" -f '%e %U %S %M' -o "$tf" "$@" >"$log" 2>&1
	M_RC=$?
	local e u s m
	read -r e u s m < <(tail -n 1 "$tf")
	rm -f "$tf"
	M_WALL=$e
	M_CPU=$(awk -v u="$u" -v s="$s" 'BEGIN{printf "%.2f", u+s}')
	M_RSS=$(awk -v m="$m" 'BEGIN{printf "%.1f", m/1024}')
}

# Seconds taken by syncfs on the filesystem holding $1: what a command left unwritten.
sync_time() {
	local t0 t1
	t0=$(date +%s.%N)
	sync -f "$1"
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}'
}

median() { # numbers on stdin
	sort -g | awk '{a[NR]=$1} END{if(!NR){print "n/a"; exit} if(NR%2) print a[(NR+1)/2]; else printf "%.2f\n", (a[NR/2]+a[NR/2+1])/2}'
}

machine_info() {
	echo "machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/MemTotal/{printf "%.1f GiB RAM", $2/1048576}' /proc/meminfo), kernel $(uname -r)"
	local dev fs
	read -r dev fs < <(df -T "$BENCH_DIR" | awk 'NR==2{print $1, $2}')
	local blk=${dev##*/} rota="?"
	[ -r "/sys/block/$blk/queue/rotational" ] && rota=$(cat "/sys/block/$blk/queue/rotational")
	echo "disk:    $BENCH_DIR on $dev ($fs, rotational=$rota), $(df -h --output=avail "$BENCH_DIR" | tail -1 | tr -d ' ') free"
	echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) at start"
	local rev
	rev=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo "?")
	git -C "$TOP" diff --quiet HEAD -- vault cli meson.build 2>/dev/null || rev="$rev+dirty"
	[ -z "$(git -C "$TOP" ls-files --others --exclude-standard vault cli 2>/dev/null)" ] || rev="${rev%+dirty}+dirty"
	# the sources as built (another engineer may be changing them): a hash of vault/ cli/
	local src
	src=$(cd "$TOP" && cat meson.build vault/meson.build cli/meson.build vault/*.[ch] cli/*.[ch] 2>/dev/null | sha256sum | cut -c1-12)
	echo "custos:  $CUSTOS (commit $rev, sources $src)"
}

# check LABEL CORPUS PEER FACTOR [SUFFIX]: the target line, from the medians the caller keeps
# in WALL[corpus,tool]: PASS when peer/custos wall time >= FACTOR. SUFFIX is appended.
check() {
	local what=$1 name=$2 peer=$3 want=$4 suffix=${5:-} p=${WALL[$2,$3]:-} c=${WALL[$2,custos]:-}
	if ! [[ $p =~ ^[0-9.]+$ && $c =~ ^[0-9.]+$ ]]; then
		printf '%-58s n/a\n' "$what"
		return
	fi
	local ratio verdict
	ratio=$(awk -v p="$p" -v c="$c" 'BEGIN{printf "%.2f", p/c}')
	verdict=$(awk -v r="$ratio" -v w="$want" 'BEGIN{print (r>=w) ? "PASS" : "FAIL"}')
	printf '%-58s %s  (%s: %s s, custos %s s: %sx, need >= %sx)%s\n' "$what" "$verdict" "$peer" "$p" "$c" "$ratio" "$want" "$suffix"
}

# fresh_custos_vault DIR: an empty vault at DIR/vault, with the bench's key (made once).
fresh_custos_vault() {
	[ -f "$HOME/custos.key" ] || "$CUSTOS" --key "$HOME/custos.key" key new --no-passphrase >/dev/null 2>&1
	"$CUSTOS" --key "$HOME/custos.key" init "$1/vault" >/dev/null 2>&1
}
