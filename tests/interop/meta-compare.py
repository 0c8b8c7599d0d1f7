#!/usr/bin/env python3
"""meta-compare.py — compare the document metadata custos records (issue 6 part 4: office,
OpenDocument, PDF and JPEG analyses) with what exiftool reads from the same files.

Usage: meta-compare.py CUSTOS.jsonl EXIFTOOL.json EXPECTED.json

CUSTOS.jsonl: one JSON object a line, {"file": NAME, "kind": K, "meta": [{"name", "value"}]}
  — the last analysis `custos inspect --json` shows for the item ingested from NAME.
EXIFTOOL.json: `exiftool -j -n -G1 FILE...` on the same files (matched by base name).
  -G1 (family 1 groups) rather than -G: it tells IFD0 from ExifIFD and one XMP namespace
  from another (XMP-pdf:Producer, XMP-xmp:CreatorTool), where -G says only EXIF or XMP.
EXPECTED.json: testdata/make-doc-signals.py's expected.json, {NAME: {"kind", "meta"}}.

Checks, per file:
  exiftool  every custos field of TABLE (below) is in exiftool's output with an equal value
            (normalised only where exiftool reformats: dates, numbers, booleans, lists), and
            every TABLE tag exiftool reports for the file is reported by custos;
  generator every field is what the generator wrote, as raw text (this is what catches a
            reformatted date; exiftool reformats them itself), and custos reports no field
            the generator did not write and omits none — the fields exiftool does not read
            (w:rsidRoot, w:rsids, pdf:updates, pdf:signatures) are checked only here;
  kind      the analysis's kind is the one the generator made.
Prints the number of pairs compared per file and in all, one line per difference, and
exits 1 on any difference.
"""
import json
import os
import re
import sys

# (kind, custos name) -> (exiftool tag as `exiftool -G1` names it, normalisation)
# normalisations: str (exact; a list from exiftool: its first item, as custos reports an
# rdf:Alt/Seq/Bag's first rdf:li), date, num, bool, pdfkw (exiftool splits PDF Info
# Keywords into a list: at commas if there is one, else at white space)
TABLE = {}


def table(kind, rows):
    for name, tag, norm in rows:
        TABLE[(kind, name)] = (tag, norm)


table('office', [
    ('dc:title', 'XMP-dc:Title', 'str'),
    ('dc:subject', 'XMP-dc:Subject', 'str'),
    ('dc:creator', 'XMP-dc:Creator', 'str'),
    ('dc:description', 'XMP-dc:Description', 'str'),
    ('cp:keywords', 'XML:Keywords', 'str'),
    ('cp:lastModifiedBy', 'XML:LastModifiedBy', 'str'),
    ('cp:revision', 'XML:RevisionNumber', 'num'),
    ('dcterms:created', 'XML:CreateDate', 'date'),
    ('dcterms:modified', 'XML:ModifyDate', 'date'),
    ('Template', 'XML:Template', 'str'),
    ('TotalTime', 'XML:TotalEditTime', 'num'),
    ('Pages', 'XML:Pages', 'num'),
    ('Words', 'XML:Words', 'num'),
    ('Characters', 'XML:Characters', 'num'),
    ('Lines', 'XML:Lines', 'num'),
    ('Paragraphs', 'XML:Paragraphs', 'num'),
    ('CharactersWithSpaces', 'XML:CharactersWithSpaces', 'num'),
    ('Slides', 'XML:Slides', 'num'),
    ('Notes', 'XML:Notes', 'num'),
    ('HiddenSlides', 'XML:HiddenSlides', 'num'),
    ('MMClips', 'XML:MMClips', 'num'),
    ('Application', 'XML:Application', 'str'),
    ('DocSecurity', 'XML:DocSecurity', 'num'),
    ('ScaleCrop', 'XML:ScaleCrop', 'bool'),
    ('Company', 'XML:Company', 'str'),
    ('LinksUpToDate', 'XML:LinksUpToDate', 'bool'),
    ('SharedDoc', 'XML:SharedDoc', 'bool'),
    ('HyperlinksChanged', 'XML:HyperlinksChanged', 'bool'),
    ('AppVersion', 'XML:AppVersion', 'num'),
])
table('opendocument', [
    ('meta:initial-creator', 'XMP-meta:Initial-creator', 'str'),
    ('meta:creation-date', 'XMP-meta:Creation-date', 'date'),
    ('dc:date', 'XMP-dc:Date', 'date'),
    ('dc:creator', 'XMP-dc:Creator', 'str'),
    ('meta:editing-cycles', 'XMP-meta:Editing-cycles', 'num'),
    ('meta:editing-duration', 'XMP-meta:Editing-duration', 'str'),
    ('meta:generator', 'XMP-meta:Generator', 'str'),
    ('dc:title', 'XMP-dc:Title', 'str'),
    ('dc:subject', 'XMP-dc:Subject', 'str'),
    ('dc:description', 'XMP-dc:Description', 'str'),
    ('meta:keyword', 'XMP-meta:Keyword', 'str'),
    ('meta:document-statistic@meta:table-count', 'XMP-meta:Document-statisticTable-count', 'num'),
    ('meta:document-statistic@meta:image-count', 'XMP-meta:Document-statisticImage-count', 'num'),
    ('meta:document-statistic@meta:object-count', 'XMP-meta:Document-statisticObject-count', 'num'),
    ('meta:document-statistic@meta:page-count', 'XMP-meta:Document-statisticPage-count', 'num'),
    ('meta:document-statistic@meta:paragraph-count', 'XMP-meta:Document-statisticParagraph-count', 'num'),
    ('meta:document-statistic@meta:word-count', 'XMP-meta:Document-statisticWord-count', 'num'),
    ('meta:document-statistic@meta:character-count', 'XMP-meta:Document-statisticCharacter-count', 'num'),
    ('meta:document-statistic@meta:cell-count', 'XMP-meta:Document-statisticCell-count', 'num'),
])
table('pdf', [
    ('Info/Title', 'PDF:Title', 'str'),
    ('Info/Author', 'PDF:Author', 'str'),
    ('Info/Subject', 'PDF:Subject', 'str'),
    ('Info/Keywords', 'PDF:Keywords', 'pdfkw'),
    ('Info/Creator', 'PDF:Creator', 'str'),
    ('Info/Producer', 'PDF:Producer', 'str'),
    ('Info/CreationDate', 'PDF:CreateDate', 'date'),
    ('Info/ModDate', 'PDF:ModifyDate', 'date'),
    ('xmp:CreateDate', 'XMP-xmp:CreateDate', 'date'),
    ('xmp:ModifyDate', 'XMP-xmp:ModifyDate', 'date'),
    ('xmp:MetadataDate', 'XMP-xmp:MetadataDate', 'date'),
    ('xmp:CreatorTool', 'XMP-xmp:CreatorTool', 'str'),
    ('pdf:Producer', 'XMP-pdf:Producer', 'str'),
    ('pdf:Keywords', 'XMP-pdf:Keywords', 'str'),
    ('dc:format', 'XMP-dc:Format', 'str'),
    ('dc:title', 'XMP-dc:Title', 'str'),
    ('dc:creator', 'XMP-dc:Creator', 'str'),
    ('dc:subject', 'XMP-dc:Subject', 'str'),
    ('xmpMM:DocumentID', 'XMP-xmpMM:DocumentID', 'str'),
    ('xmpMM:InstanceID', 'XMP-xmpMM:InstanceID', 'str'),
])
table('jpeg', [
    ('Make', 'IFD0:Make', 'str'),
    ('Model', 'IFD0:Model', 'str'),
    ('Software', 'IFD0:Software', 'str'),
    ('ModifyDate', 'IFD0:ModifyDate', 'date'),
    ('DateTimeOriginal', 'ExifIFD:DateTimeOriginal', 'date'),
    ('CreateDate', 'ExifIFD:CreateDate', 'date'),
])

DATE = re.compile(r"""^(?:D:)?(\d{4})[-:]?(\d\d)[-:]?(\d\d)(?:[T ]?(\d\d):?(\d\d)(?::?(\d\d))?(\.\d+)?)?
                      (Z(?:00'?00'?)?|[+-]\d\d(?:[:']?\d\d'?)?)?$""", re.X)


def canon_date(v):
    """A date in any of the forms custos (raw: W3CDTF, PDF D:..., EXIF) and exiftool
    ("YYYY:MM:DD HH:MM:SS[.f][Z|+hh:mm]") write, as YYYY-MM-DDTHH:MM:SS[.f][Z|+hh:mm].
    Only the form changes: the zone is kept as written (none, Z, or an offset)."""
    m = DATE.match(str(v).strip())
    if not m:
        return 'unparsed:%r' % (v,)
    y, mo, d, h, mi, s, frac, zone = m.groups()
    out = '%s-%s-%s' % (y, mo, d)
    if h:
        out += 'T%s:%s:%s%s' % (h, mi, s or '00', frac or '')
    if zone:
        if zone.startswith('Z'):
            out += 'Z'
        else:
            z = re.sub(r"[:']", '', zone)
            out += '%s:%s' % (z[:3], z[3:5] or '00')
    return out


def norm(kind, v, custos_side):
    """Normalise one side's value for comparison."""
    if kind == 'date':
        return canon_date(v)
    if kind == 'num':
        try:
            return float(v)
        except (TypeError, ValueError):
            return 'not a number: %r' % (v,)
    if kind == 'bool':
        if isinstance(v, bool):
            return 'true' if v else 'false'
        return str(v)
    if kind == 'pdfkw':
        if custos_side:
            v = str(v)
            return re.split(r',+\s*', v) if ',' in v else v.split()
        return v if isinstance(v, list) else [str(v)]
    # str
    if isinstance(v, list):
        v = v[0] if v else ''
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if isinstance(v, (int, float)) and not custos_side:
        return v  # exiftool printed a numeric-looking string as a number
    return str(v)


def equal(kind, ours, theirs):
    a, b = norm(kind, ours, True), norm(kind, theirs, False)
    if isinstance(b, (int, float)) and not isinstance(b, bool) and kind == 'str':
        try:
            return float(a) == b, a, b
        except ValueError:
            return False, a, b
    return a == b, a, b


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    ours = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    exif = {os.path.basename(o['SourceFile']): o for o in json.load(open(sys.argv[2]))}
    expected = json.load(open(sys.argv[3]))
    bad = []
    total_x = total_g = 0
    seen = set()
    for o in ours:
        f, kind = o['file'], o['kind']
        seen.add(f)
        if f not in expected:
            bad.append('%s: not a generated file' % f)
            continue
        want = expected[f]
        if kind != want['kind']:
            bad.append('%s: kind %r, want %r' % (f, kind, want['kind']))
        if f not in exif:
            bad.append('%s: exiftool did not read it' % f)
            continue
        ex = exif[f]
        meta = {}
        for m in o['meta']:
            if m['name'] in meta:
                bad.append('%s: %s reported twice (%r, %r)' % (f, m['name'], meta[m['name']], m['value']))
            meta[m['name']] = m['value']
        nx = ng = 0
        # custos -> exiftool
        for name, value in sorted(meta.items()):
            row = TABLE.get((want['kind'], name))
            if row is None:
                continue
            tag, nk = row
            if tag not in ex:
                bad.append('%s: custos reports %s = %r; exiftool has no %s' % (f, name, value, tag))
                continue
            ok, a, b = equal(nk, value, ex[tag])
            nx += 1
            if not ok:
                bad.append('%s: %s = %r (%r) but exiftool %s = %r (%r)' % (f, name, value, a, tag, ex[tag], b))
        # exiftool -> custos
        for (k, name), (tag, _) in sorted(TABLE.items()):
            if k == want['kind'] and tag in ex and name not in meta:
                bad.append('%s: exiftool reports %s = %r; custos has no %s' % (f, tag, ex[tag], name))
        # custos <-> generator, raw text
        for name, value in sorted(want['meta'].items()):
            if name not in meta:
                bad.append('%s: custos omits %s (the file has %r)' % (f, name, value))
                continue
            ng += 1
            if meta[name] != value:
                bad.append('%s: %s = %r, the file has %r' % (f, name, meta[name], value))
        for name in sorted(set(meta) - set(want['meta'])):
            bad.append('%s: custos reports %s = %r, a field the generator did not write as metadata' % (f, name, meta[name]))
        print('%-42s %2d pairs agree with exiftool, %2d fields checked raw' % (f, nx, ng))
        total_x += nx
        total_g += ng
    for f in sorted(set(expected) - seen):
        bad.append('%s: no analysis from custos' % f)
    for b in bad:
        print('DIFF ' + b)
    print('%d files: %d field pairs compared with exiftool, %d fields with the generator; %d differences'
          % (len(ours), total_x, total_g, len(bad)))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
