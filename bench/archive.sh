#!/usr/bin/env bash
# archive.sh — archive intake (issue 4): `custos ingest ARCHIVE` against extracting the
# archive with bsdtar and hashing what it wrote with sha256sum, on the same archives, warm
# cache, in one run. See bench/README.md.
#
#   bench/archive.sh                      both archives, both tools, REPS=3
#   REPS=1 bench/archive.sh               one repetition
#   CORPORA=small30k TOOLS=custos bench/archive.sh
#
# The archives (generated once by this script, deterministic, reused; a .complete marker
# records their parameters):
#   small30k.zip   30,000 files of 1-16 KiB in 100 directories, half prose, half random
#                  bytes, deflate (Python zipfile, level 6)
#   big1g.tar.gz   one 1 GiB file, 1 MiB blocks alternating random bytes and prose, so
#                  gzip neither has it easy nor gives up (tar | gzip -6 -n)
#
# Knobs (environment): BENCH_DIR (archives and work files go there; default
# /tmp/custos-bench-archive, reports then to bench/out), BUILD (/tmp/build-bench), CUSTOS
# (a binary instead of building one), CORPORA ("small30k big1g"), TOOLS ("bsdtar custos"),
# REPS (3), TARGET (1.0: the peer/custos wall ratio that passes), SMALL_N (30000), BIG_MB
# (1024), FSCK (1: fsck the vault after each timed ingest, untimed), KEEP (0: delete
# destinations).
set -uo pipefail
# The work directory is chosen before lib.sh gives BENCH_DIR its default (bench/out): the
# archives and the extractions are large and live elsewhere unless BENCH_DIR says so.
WORK=${BENCH_DIR:-/tmp/custos-bench-archive}
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

CORPORA=${CORPORA:-small30k big1g}
TOOLS=${TOOLS:-bsdtar custos}
REPS=${REPS:-3}
TARGET=${TARGET:-1.0}
SMALL_N=${SMALL_N:-30000}
BIG_MB=${BIG_MB:-1024}
FSCK=${FSCK:-1}
KEEP=${KEEP:-0}

mkdir -p "$BENCH_DIR" "$WORK"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
WORK=$(cd "$WORK" && pwd)
"$TIME_BIN" -f '%e' true 2>/dev/null || die "GNU time ($TIME_BIN) is needed for the timing and peak RSS"
custos_bin
isolate_home
CORP=$WORK/corpora
RUNS=$WORK/runs
STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS=$BENCH_DIR/results-archive-$STAMP.txt
RAW=$BENCH_DIR/raw-archive-$STAMP.tsv
mkdir -p "$CORP" "$RUNS"
printf 'corpus\ttool\trep\twall_s\tcpu_s\trss_mib\tsync_s\tload1\titems\tstatus\n' >"$RAW"
exec > >(tee "$RESULTS") 2>&1

# ------------------------------------------------------------ archives

# small30k.zip: SMALL_N files of 1-16 KiB (uniform), each either prose (a slice of one
# pool of words, .txt) or random bytes (.bin), 50/50, 300 to a directory (d000/ ...), with
# directory entries as zip -r writes them; fixed timestamps, so the same bytes every time.
gen_zip() { # OUT N SEED
	"$PYTHON" - "$@" <<'EOF'
import random, sys, zipfile
out, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = random.Random(seed)
WORDS = """the of and to in a is that for it as was with be by on not he this are or his from
at which but have an they you were their one all we can her has there been if more when will
would who so no out up into do than its time only could new them man some these then two first
may any like now my such make over our even most me state after also made many did must before
back see through way where get much go well your know should down work year because come people
just say each those take day good how long very between government per under never three here
life both world too own public country against being while great again court police report
evidence document minister contract payment account transfer company director agreement witness
memo statement invoice budget fund bank offshore meeting confidential internal draft review
source leak journalist editor newsroom interview record data email letter attachment signed
received million billion percent total amount date number office department ministry official
senior investigation audit tax holding subsidiary board chairman shareholder trust""".split()
def prose(k):
    lines, line, w = [], [], 0
    for word in r.choices(WORDS, k=k):
        line.append(word)
        w += len(word) + 1
        if w > 68:
            lines.append(" ".join(line))
            line, w = [], 0
    return ("\n".join(lines) + "\n").encode()
pool = prose(600_000)
PER_DIR = 300
when = (2026, 1, 1, 0, 0, 0)
total = 0
with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
    for i in range(n):
        d = "d%03d/" % (i // PER_DIR)
        if i % PER_DIR == 0:
            zi = zipfile.ZipInfo(d, date_time=when)
            zi.external_attr = (0o40755 << 16) | 0x10
            z.writestr(zi, b"")
        size = r.randint(1024, 16384)
        if r.random() < 0.5:
            data, ext = r.randbytes(size), "bin"
        else:
            start = r.randrange(0, len(pool) - size)
            data, ext = pool[start:start + size], "txt"
        zi = zipfile.ZipInfo("%sf%05d.%s" % (d, i, ext), date_time=when)
        zi.compress_type = zipfile.ZIP_DEFLATED
        zi.external_attr = 0o100644 << 16
        z.writestr(zi, data)
        total += size
print("%d files (%.1f MB) in %d directories" % (n, total / 1e6, (n + PER_DIR - 1) // PER_DIR))
EOF
}

# big1g.tar: a tar stream (stdout) of one file, big.bin, of MB MiB: 1 MiB blocks alternating
# random bytes and prose (slices of an 8 MiB pool at random offsets), generated as it is
# written (never the whole file in memory, nor on disk uncompressed).
gen_bigtar() { # MB SEED
	"$PYTHON" - "$@" <<'EOF'
import io, random, sys, tarfile
mb, seed = int(sys.argv[1]), int(sys.argv[2])
r = random.Random(seed)
WORDS = """the of and to in a is that for it as was with be by on not this are or from at which
but have an they you were their one all we can has there been if more when will would who so no
out up into do than its time only could new them some these then two first may any like now such
make over even most state after also made many did must before back see through way where get
much go well know should down work year because come people just say each those take day good
how long very between government per under never three here life both world own public country
against being while great again court police report evidence document minister contract payment
account transfer company director agreement witness memo statement invoice budget fund bank
offshore meeting confidential internal draft review source leak journalist editor interview
record data email letter attachment signed received million billion percent total amount date
number office department ministry official senior investigation audit tax holding board""".split()
lines, line, w = [], [], 0
for word in r.choices(WORDS, k=1_400_000):
    line.append(word)
    w += len(word) + 1
    if w > 68:
        lines.append(" ".join(line))
        line, w = [], 0
pool = ("\n".join(lines) + "\n").encode()
assert len(pool) > 4 << 20
BLOCK = 1 << 20
class Source(io.RawIOBase):
    def __init__(self, blocks):
        self.blocks, self.i, self.buf = blocks, 0, memoryview(b"")
    def readable(self):
        return True
    def readinto(self, b):
        if not self.buf:
            if self.i == self.blocks:
                return 0
            if self.i % 2 == 0:
                blk = r.randbytes(BLOCK)
            else:
                s = r.randrange(0, len(pool) - BLOCK)
                blk = pool[s:s + BLOCK]
            self.i += 1
            self.buf = memoryview(blk)
        k = min(len(b), len(self.buf))
        b[:k] = self.buf[:k]
        self.buf = self.buf[k:]
        return k
ti = tarfile.TarInfo("big.bin")
ti.size, ti.mtime, ti.mode, ti.uid, ti.gid = mb * BLOCK, 1767225600, 0o644, 0, 0
with tarfile.open(fileobj=sys.stdout.buffer, mode="w|", format=tarfile.USTAR_FORMAT) as t:
    t.addfile(ti, io.BufferedReader(Source(mb), BLOCK))
print("1 file (%.1f MB): 1 MiB blocks alternating random bytes and prose" % (mb * BLOCK / 1e6),
      file=sys.stderr)
EOF
}

# corpus_path NAME — the archive, generated once (NAME.complete records the parameters,
# NAME.info what it holds).
corpus_path() {
	local name=$1 spec file
	case $name in
	small30k) file=$CORP/small30k.zip spec="zip deflate $SMALL_N files 1-16KiB half prose half random seed 1" ;;
	big1g) file=$CORP/big1g.tar.gz spec="tar gzip -6 one file $BIG_MB MiB alternating 1MiB random/prose seed 1" ;;
	*) die "unknown corpus $name" ;;
	esac
	if [ "$(cat "$CORP/$name.complete" 2>/dev/null)" != "$spec" ] || [ ! -f "$file" ]; then
		note "generating $file ($spec); the 1 GiB tar.gz takes a minute or two"
		rm -f "$file" "$file.tmp" "$CORP/$name.complete" "$CORP/$name.info"
		case $name in
		small30k) gen_zip "$file.tmp" "$SMALL_N" 1 >"$CORP/$name.info" || die "generating $file failed" ;;
		big1g) { gen_bigtar "$BIG_MB" 1 | gzip -6 -n >"$file.tmp"; } 2>"$CORP/$name.info" || die "generating $file failed: $(cat "$CORP/$name.info")" ;;
		esac
		mv "$file.tmp" "$file"
		echo "$spec" >"$CORP/$name.complete"
	fi
	echo "$file"
}

# members NAME — the number of regular files in the archive (what a member-wise ingest stores).
members() {
	case $1 in
	small30k) echo "$SMALL_N" ;;
	big1g) echo 1 ;;
	esac
}

describe() { # name file
	awk -v b="$(stat -c %s "$2")" -v i="$(cat "$CORP/$1.info")" \
		'BEGIN{printf "%s, archive %.1f MB (%.1f MiB)", i, b/1e6, b/1048576}'
}

# ------------------------------------------------------------ tools
# prep T D (untimed: a fresh destination D) and run_script T, timed under bash -c with A
# (the archive) and D (the destination) in the environment.

available() {
	case $1 in
	bsdtar) command -v bsdtar >/dev/null && command -v sha256sum >/dev/null ;;
	custos) [ -x "$CUSTOS" ] ;;
	*) return 1 ;;
	esac
}

prep() { # tool D
	local tool=$1 d=$2
	rm -rf "$d"
	mkdir -p "$d"
	case $tool in
	bsdtar) mkdir -p "$d/x" ;;
	custos) fresh_custos_vault "$d" ;;
	esac
}

run_script() { # tool — the timed command, in terms of $A and $D
	# shellcheck disable=SC2016 # expanded by the timed bash -c, not here
	case $1 in
	bsdtar) echo 'bsdtar -xf "$A" -C "$D/x" && find "$D/x" -type f -print0 | xargs -0 -r sha256sum >/dev/null' ;;
	custos) echo '"$CUSTOS" --key "$HOME/custos.key" --vault "$D/vault" ingest -q "$A"' ;;
	esac
}

label() {
	case $1 in
	bsdtar) echo "bsdtar -x + sha256sum" ;;
	custos) echo "custos ingest" ;;
	esac
}

# ------------------------------------------------------------ one archive

declare -A WALL CPU RSS SYNC ITEMS

bench_corpus() {
	local name=$1 a d tool rep want
	a=$(corpus_path "$name")
	want=$(members "$name")
	echo
	echo "== $name: $(basename "$a"): $(describe "$name" "$a")"
	for rep in $(seq "$REPS"); do
		for tool in $TOOLS; do
			available "$tool" || continue
			d=$RUNS/$name-$tool
			prep "$tool" "$d" || { echo "   $tool: preparation failed" >&2; continue; }
			warm "$a"
			sync -f "$RUNS"
			export A=$a D=$d CUSTOS
			measure "$d.log" bash -c "$(run_script "$tool")"
			local s ok=ok items=-
			s=$(sync_time "$d")
			# custos exits 1 when it refused some input: the outcomes are still recorded
			[ "$M_RC" = 0 ] || { [ "$tool" = custos ] && [ "$M_RC" = 1 ]; } || ok="FAILED rc=$M_RC (see $d.log)"
			case $tool in
			bsdtar)
				items=$(find "$d/x" -type f | wc -l)
				[ "$ok" != ok ] || [ "$items" = "$want" ] || ok="FAILED: extracted $items files, not $want"
				;;
			custos)
				# what the ingest stored: the vault's items, and its own summary line
				items=$("$CUSTOS" --vault "$d/vault" ls --json 2>/dev/null | grep -c '^{')
				local summary
				summary=$(grep -o '[0-9]* stored, [0-9]* duplicate, [0-9]* refused' "$d.log" | tail -1)
				[ "$M_RC" = 0 ] || ok="$ok; refused some input: $summary (see $d.log)"
				if [ "$FSCK" = 1 ] && [[ $M_RC =~ ^[01]$ ]]; then
					"$CUSTOS" --vault "$d/vault" fsck >"$d.fsck" 2>&1 || ok="fsck FAILED (see $d.fsck)"
				fi
				note "$name rep $rep: custos: $summary; items in the vault: $items"
				;;
			esac
			local load
			load=$(cut -d' ' -f1 /proc/loadavg)
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$tool" "$rep" "$M_WALL" "$M_CPU" "$M_RSS" "$s" "$load" "$items" "$ok" >>"$RAW"
			note "$name rep $rep: $tool $M_WALL s wall, $M_CPU s cpu, $M_RSS MiB, sync $s s, load $load: $ok"
			[ "$KEEP" = 1 ] || rm -rf "$d"
		done
	done
	# medians
	for tool in $TOOLS; do
		local rows
		rows=$(awk -F'\t' -v n="$name" -v t="$tool" '$1==n && $2==t' "$RAW" 2>/dev/null)
		[ -n "$rows" ] || continue
		WALL[$name,$tool]=$(cut -f4 <<<"$rows" | median)
		CPU[$name,$tool]=$(cut -f5 <<<"$rows" | median)
		RSS[$name,$tool]=$(cut -f6 <<<"$rows" | sort -g | tail -1)
		SYNC[$name,$tool]=$(cut -f7 <<<"$rows" | median)
		ITEMS[$name,$tool]=$(cut -f9 <<<"$rows" | sort -u | paste -sd/)
		grep -q FAIL <<<"$rows" && WALL[$name,$tool]="FAIL"
	done
	print_table "$name"
	if [ -n "${ITEMS[$name,custos]:-}" ]; then
		local verdict
		local m="$want file members"
		[ "$want" != 1 ] || m="1 file member"
		case ${ITEMS[$name,custos]} in
		"$((want + 1))") verdict="the archive and its $m: member-wise intake" ;;
		1) verdict="the archive alone, stored opaque: its $m not ingested, so the ratio is not yet like for like" ;;
		*) verdict="member-wise intake would give $((want + 1)): the archive and its $m" ;;
		esac
		echo "custos items in the vault after the ingest: ${ITEMS[$name,custos]} ($verdict)"
	fi
}

print_table() {
	local name=$1 tool cw=${WALL[$1,custos]:-} cc=${CPU[$1,custos]:-}
	printf '\n%-24s %8s %8s %9s %8s %8s %14s %13s\n' "tool" "wall s" "cpu s" "RSS MiB" "sync s" "items" "peer/custos" "cpu ratio"
	for tool in $TOOLS; do
		local w=${WALL[$name,$tool]:-n/a} r="" rc=""
		if [ "$w" = n/a ] || [ "$w" = FAIL ]; then
			printf '%-24s %8s %8s %9s %8s %8s %14s %13s\n' "$(label "$tool")" "$w" "n/a" "n/a" "n/a" "n/a" "" ""
			continue
		fi
		if [ "$tool" != custos ] && [[ $cw =~ ^[0-9.]+$ ]]; then
			r=$(awk -v p="$w" -v c="$cw" 'BEGIN{printf "%.2fx", p/c}')
			rc=$(awk -v p="${CPU[$name,$tool]}" -v c="$cc" 'BEGIN{if (c>0) printf "%.2fx", p/c; else printf "n/a"}')
		fi
		printf '%-24s %8s %8s %9s %8s %8s %14s %13s\n' "$(label "$tool")" "$w" "${CPU[$name,$tool]}" "${RSS[$name,$tool]}" "${SYNC[$name,$tool]}" "${ITEMS[$name,$tool]}" "$r" "$rc"
	done
	echo "(peer/custos > 1: custos is that many times faster; sync s: time for syncfs after the command to write back what it left dirty, untimed; custos fsyncs before it exits, bsdtar does not; items: files extracted, or items in the vault)"
}


# ------------------------------------------------------------ main

echo "custos archive intake benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "command: CORPORA=\"$CORPORA\" TOOLS=\"$TOOLS\" REPS=$REPS SMALL_N=$SMALL_N BIG_MB=$BIG_MB bench/archive.sh"
BENCH_DIR=$WORK machine_info
echo "peers:   $(bsdtar --version 2>/dev/null | cut -d' ' -f1-5 || echo 'bsdtar: n/a'); $(sha256sum --version 2>/dev/null | head -1)"
for name in $CORPORA; do
	bench_corpus "$name"
done
echo
echo "== targets"
for name in $CORPORA; do
	check "archive $name: custos at least as fast as bsdtar + sha256sum" "$name" bsdtar "$TARGET" \
		"$([ "${ITEMS[$name,custos]:-}" = 1 ] && echo " [opaque ingest]")"
done
echo
echo "raw figures: $RAW"
echo "this report: $RESULTS"
