#!/usr/bin/env bash
# docsignals.sh — document metadata signals (issue 6 part 4): office (docx, xlsx, pptx),
# OpenDocument (odt, ods), PDF and JPEG files made by testdata/make-doc-signals.py are
# ingested; for every file the flags of its analysis event must be exactly the ones the
# generator built it to raise (each flag has files that must raise it and files that must
# not), and the metadata recorded must be what exiftool reads from the same file
# (tests/interop/meta-compare.py: an explicit custos-name -> exiftool-tag table) and,
# as raw text, what the generator wrote. fsck --full passes at the end.
. "$(dirname "$0")/../lib.sh"
need exiftool
ROOT=$(cd "$TESTS_DIR/.." && pwd)
setup_vault
cd "$T"
python3 "$ROOT/testdata/make-doc-signals.py" docs >/dev/null
[ "$(wc -l <docs/cases.tsv)" -ge 40 ] || fail "the generated set is too small"
cut -f1 docs/cases.tsv >files.txt

note "ingest: every document is analysed into one signed analysis event"
# ingest from inside docs/ so that each item's path is the file's name
(cd docs && cx ingest --json $(cat ../files.txt)) >ingest.json ||
	fail "ingest failed: $(tail -1 ingest.json)"
n=$(wc -l <files.txt)
tail -1 ingest.json >summary.json
grep -Eq "\"analysis\":\\{\"event\":[0-9]+,.*\"documents\":$n[,}]" summary.json ||
	fail "the analysis summary does not count $n documents: $(cat summary.json)"
cx log --json >log.json
[ "$(grep -c '"action":"analysis"' log.json)" = 1 ] || fail "one analysis event"

note "inspect --json: the flags of each file are exactly the expected ones"
python3 - ingest.json docs/cases.tsv "$CUSTOS" "$VAULT" ours.jsonl <<'EOF' || fail "flags differ from cases.tsv"
import json, re, subprocess, sys
ingest, cases, custos, vault, out = sys.argv[1:]
ids = {}
for line in open(ingest):
    o = json.loads(line)
    if "path" in o and "container" not in o:
        ids[o["path"]] = o["id"]
bad, checked, flags_seen = [], 0, {}
with open(out, "w") as w:
    for line in open(cases):
        f, want = line.rstrip("\n").split("\t")
        want = set() if want == "-" else set(want.split(","))
        if f not in ids:
            bad.append("%s: not stored by ingest" % f)
            continue
        r = subprocess.run([custos, "--vault", vault, "inspect", "--json", ids[f]],
                           capture_output=True, text=True)
        if r.returncode != 0:
            bad.append("%s: inspect exit %d: %s" % (f, r.returncode, r.stderr.strip()))
            continue
        o = json.loads(r.stdout)
        runs = o["analyses"]
        if len(runs) != 1 or runs[0]["note"] != "at ingest":
            bad.append("%s: want one analysis at ingest, got %r" % (f, runs))
            if not runs:
                continue
        a = runs[-1]
        got = [x["flag"] for x in a["flags"]]
        if len(got) != len(set(got)):
            bad.append("%s: a flag recorded twice: %r" % (f, got))
        if set(got) != want:
            bad.append("%s: flags %s, want %s (details: %s)" % (
                f, ",".join(sorted(got)) or "-", ",".join(sorted(want)) or "-",
                "; ".join("%s: %s" % (x["flag"], x["detail"]) for x in a["flags"])))
        for x in a["flags"]:
            flags_seen[x["flag"]] = flags_seen.get(x["flag"], 0) + 1
            if not x["detail"]:
                bad.append("%s: flag %s has no detail" % (f, x["flag"]))
            # the detail of pdf-incremental-updates is the count
            if x["flag"] == "pdf-incremental-updates":
                k = {"pdf-incremental-1.pdf": 1, "pdf-incremental-2.pdf": 2,
                     "pdf-signed-then-updated.pdf": 1}.get(f)
                if k and not re.search(r"(^|\D)%d(\D|$)" % k, x["detail"]):
                    bad.append("%s: pdf-incremental-updates detail %r does not give %d"
                               % (f, x["detail"], k))
        # ext_mismatch is set exactly where extension-mismatch is expected
        if (o["ext_mismatch"] is not None) != ("extension-mismatch" in want):
            bad.append("%s: ext_mismatch %r" % (f, o["ext_mismatch"]))
        w.write(json.dumps({"file": f, "kind": a["kind"], "meta": a["meta"]}) + "\n")
        checked += 1
for b in bad:
    print("DIFF " + b)
print("%d files: flags checked; raised: %s" % (
    checked, ", ".join("%s %d" % kv for kv in sorted(flags_seen.items()))))
sys.exit(1 if bad else 0)
EOF

note "the metadata recorded equals exiftool's reading (and the generator's raw text)"
(cd docs && exiftool -j -n -G1 $(cat ../files.txt)) >exif.json 2>exif.err ||
	fail "exiftool failed: $(cat exif.err)"
python3 "$TESTS_DIR/interop/meta-compare.py" ours.jsonl exif.json docs/expected.json >cmp.txt || {
	cat cmp.txt
	fail "metadata differs from exiftool's or the generator's"
}
tail -1 cmp.txt

note "the analysis event is a custody event like any: signed, chained, checked by fsck"
expect_exit 0 cx fsck --full
echo "docsignals: ok"
