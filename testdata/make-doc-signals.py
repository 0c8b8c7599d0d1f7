#!/usr/bin/env python3
"""make-doc-signals.py — writes small office documents, OpenDocument files, PDFs and JPEGs
that custos's document-metadata analysis (issue 6 part 4) is checked against: for every
flag, files that must raise it and files that must not.

Usage: make-doc-signals.py OUTDIR      (python3 standard library only)

OUTDIR is created if needed.  Files written:

  CASE.EXT        one file per case (docx, xlsx, pptx, odt, ods, pdf, jpg/jpeg; one PDF
                  named .docx and one JPEG named .pdf for extension-mismatch).
  cases.tsv       "file<TAB>flags": the flags custos must record for the file at ingest,
                  comma-separated, or "-" for none.
  expected.json   {file: {"kind": K, "meta": {name: value}}}: every metadata field the
                  file carries, as custos must report it (raw text, entities and PDF
                  string escapes decoded).  tests/interop/meta-compare.py checks the
                  fields exiftool does not read (w:rsidRoot, w:rsids, pdf:updates,
                  pdf:signatures) against it, and that custos reports no more and no
                  fewer names than these.

Dates are fixed (2024, and 2099 for the future) except in the cases named *-hours*, which
are relative to the time this script runs: run it just before ingesting.
"""

import datetime
import io
import json
import os
import struct
import sys
import zipfile

CASES = []  # (file name, bytes, flags, kind, meta)


def case(name, data, flags, kind, meta):
    CASES.append((name, data, sorted(flags), kind, dict(meta)))


# ---------------------------------------------------------------------------------------
# XML escaping: the generator writes values with entities, and records them decoded.
# ---------------------------------------------------------------------------------------

def esc(s):
    """Escape s for XML text, using a named entity, a decimal and a hex reference for
    non-ASCII so that every decoding path is met."""
    out = []
    for ch in s:
        if ch == '&':
            out.append('&amp;')
        elif ch == '<':
            out.append('&lt;')
        elif ch == '>':
            out.append('&gt;')
        elif ch == '"':
            out.append('&quot;')
        elif ord(ch) > 0x7f and ord(ch) <= 0xff:
            out.append('&#%d;' % ord(ch))
        elif ord(ch) > 0xff:
            out.append('&#x%X;' % ord(ch))
        else:
            out.append(ch)
    return ''.join(out)


# ---------------------------------------------------------------------------------------
# OOXML (docx, xlsx, pptx)
# ---------------------------------------------------------------------------------------

NS_CORE = ('xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
           'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
           'xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
           'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"')
XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'

OOXML_TYPES = {
    'docx': ('word/document.xml',
             'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml',
             '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
             '<w:body><w:p><w:r><w:t>Quarterly figures</w:t></w:r></w:p></w:body></w:document>'),
    'xlsx': ('xl/workbook.xml',
             'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml',
             '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
             'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
             '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    'pptx': ('ppt/presentation.xml',
             'application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml',
             '<p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main">'
             '</p:presentation>'),
}


def ooxml(ext, core, app, rsids=None):
    """core, app: lists of (qualified name, value, attrs) written in that order; rsids:
    (root, [rsid...]) for word/settings.xml.  Returns (bytes, meta)."""
    main, ctype, body = OOXML_TYPES[ext]
    meta = {}
    core_xml = XML_DECL + '<cp:coreProperties %s>' % NS_CORE
    for q, v, attrs in core:
        core_xml += '<%s%s>%s</%s>' % (q, attrs, esc(v), q)
        meta[q] = v
    core_xml += '</cp:coreProperties>'
    app_xml = (XML_DECL + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
               'extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
               'docPropsVTypes">')
    for q, v, attrs in app:
        if q == 'HeadingPairs':  # not a leaf: not reported
            app_xml += ('<HeadingPairs><vt:vector size="2" baseType="variant"><vt:variant>'
                        '<vt:lpstr>Title</vt:lpstr></vt:variant><vt:variant><vt:i4>1</vt:i4>'
                        '</vt:variant></vt:vector></HeadingPairs><TitlesOfParts><vt:vector '
                        'size="1" baseType="lpstr"><vt:lpstr>Q3</vt:lpstr></vt:vector>'
                        '</TitlesOfParts>')
            continue
        app_xml += '<%s%s>%s</%s>' % (q, attrs, esc(v), q)
        meta[q] = v
    app_xml += '</Properties>'
    types = (XML_DECL + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
             '<Default Extension="xml" ContentType="application/xml"/>'
             '<Override PartName="/%s" ContentType="%s"/>'
             '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
             '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
             % (main, ctype))
    if rsids is not None:
        types += ('<Override PartName="/word/settings.xml" ContentType="application/'
                  'vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/>')
    types += '</Types>'
    rels = (XML_DECL + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="%s"/>'
            '</Relationships>' % main)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as z:
        def put(name, text):
            zi = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, text.encode('utf-8'))
        put('[Content_Types].xml', types)
        put('_rels/.rels', rels)
        put('docProps/core.xml', core_xml)
        put('docProps/app.xml', app_xml)
        put(main, XML_DECL + body)
        if rsids is not None:
            root, ids = rsids
            s = (XML_DECL + '<w:settings xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/'
                 '2006/main"><w:zoom w:percent="100"/><w:defaultTabStop w:val="720"/>'
                 '<w:characterSpacingControl w:val="doNotCompress"/><w:rsids>'
                 '<w:rsidRoot w:val="%s"/>' % root)
            s += ''.join('<w:rsid w:val="%s"/>' % r for r in ids)
            s += '</w:rsids><w:themeFontLang w:val="en-GB"/></w:settings>'
            put('word/settings.xml', s)
            meta['w:rsidRoot'] = root
            meta['w:rsids'] = str(len(ids))
    return buf.getvalue(), meta


W3 = ' xsi:type="dcterms:W3CDTF"'


def core_props(created, modified, title='Quarterly report: R&D <draft> \u2014 caf\u00e9',
               creator='Alice Example', last='Bob O\'Neil', revision='7'):
    return [('dc:title', title, ''), ('dc:subject', 'Budget & staffing', ''),
            ('dc:creator', creator, ''), ('cp:keywords', 'budget, q3', ''),
            ('dc:description', 'Internal only', ''), ('cp:lastModifiedBy', last, ''),
            ('cp:revision', revision, ''), ('dcterms:created', created, W3),
            ('dcterms:modified', modified, W3)]


def app_props(app, total_time, extra=()):
    a = [('Template', 'Normal.dotm', '')]
    if total_time is not None:
        a.append(('TotalTime', total_time, ''))
    a += list(extra)
    a += [('Application', app, ''), ('DocSecurity', '0', ''), ('ScaleCrop', 'false', ''),
          ('HeadingPairs', None, ''), ('Company', 'ACME & Sons Ltd', ''),
          ('LinksUpToDate', 'false', ''), ('SharedDoc', 'false', ''),
          ('HyperlinksChanged', 'false', ''), ('AppVersion', '16.0000', '')]
    return a


WORD_STATS = [('Pages', '2', ''), ('Words', '120', ''), ('Characters', '690', ''),
              ('Lines', '5', ''), ('Paragraphs', '3', ''), ('CharactersWithSpaces', '800', '')]
RSIDS = ('00A1B2C3', ['00A1B2C3', '00D4E5F6', '0012AB34', '005C6D7E'])


def docx(name, created, modified, total, flags, revision='7'):
    data, meta = ooxml('docx', core_props(created, modified, revision=revision),
                       app_props('Microsoft Office Word', total, WORD_STATS), RSIDS)
    case(name + '.docx', data, flags, 'office', meta)


def office_cases():
    # modified an hour after created, 30 minutes of editing: nothing to flag
    docx('docx-plain', '2024-01-02T03:04:05Z', '2024-01-02T04:04:05Z', '30', [])
    # modified the day before it was created (no TotalTime: the span is negative)
    docx('docx-modified-before-created', '2024-01-02T03:04:05Z', '2024-01-01T03:04:05Z', None,
         ['modified-before-created'])
    # 600 minutes of editing in a one-hour span
    docx('docx-edit-time-600min', '2024-01-02T03:04:05Z', '2024-01-02T04:04:05Z', '600',
         ['edit-time-exceeds-span'])
    # 61 minutes in 60: exactly 60 s more, not "more than 60 s"; 62 minutes is
    docx('docx-edit-time-61min', '2024-01-02T03:04:05Z', '2024-01-02T04:04:05Z', '61', [])
    docx('docx-edit-time-62min', '2024-01-02T03:04:05Z', '2024-01-02T04:04:05Z', '62',
         ['edit-time-exceeds-span'])
    docx('docx-future', '2099-03-04T05:06:07Z', '2099-03-04T06:06:07Z', '10', ['date-in-future'])
    # saved 7 times with no editing time at all; saved once, no editing time: nothing odd
    docx('docx-revisions-no-edit-time', '2024-01-02T03:04:05Z', '2024-01-02T04:04:05Z', '0',
         ['revisions-without-edit-time'])
    docx('docx-one-revision-no-edit-time', '2024-01-02T03:04:05Z', '2024-01-02T04:04:05Z', '0', [],
         revision='1')
    # an xlsx with modified before created, a plain one; a pptx
    data, meta = ooxml('xlsx', core_props('2023-06-01T10:00:00Z', '2023-06-01T12:30:00Z',
                                          title='Payroll 2023', revision='3'),
                       app_props('Microsoft Excel', '20'))
    case('xlsx-plain.xlsx', data, [], 'office', meta)
    data, meta = ooxml('xlsx', core_props('2023-06-01T10:00:00Z', '2023-05-31T09:00:00Z',
                                          title='Payroll 2023 (copy)'),
                       app_props('Microsoft Excel', None))
    case('xlsx-modified-before-created.xlsx', data, ['modified-before-created'], 'office', meta)
    data, meta = ooxml('pptx', core_props('2022-11-20T08:00:00Z', '2022-11-21T08:00:00Z',
                                          title='Board deck'),
                       app_props('Microsoft Office PowerPoint', '45',
                                 [('Words', '300', ''), ('Slides', '12', ''), ('Notes', '2', ''),
                                  ('HiddenSlides', '0', ''), ('MMClips', '0', '')]))
    case('pptx-plain.pptx', data, [], 'office', meta)
    data, meta = ooxml('pptx', core_props('2022-11-20T08:00:00Z', '2022-11-20T08:30:00Z',
                                          title='Board deck v2'),
                       app_props('Microsoft Office PowerPoint', '300', [('Slides', '12', '')]))
    case('pptx-edit-time-300min.pptx', data, ['edit-time-exceeds-span'], 'office', meta)


# ---------------------------------------------------------------------------------------
# OpenDocument (odt, ods)
# ---------------------------------------------------------------------------------------

ODF_MIME = {'odt': 'application/vnd.oasis.opendocument.text',
            'ods': 'application/vnd.oasis.opendocument.spreadsheet'}


def odf(ext, fields, stats):
    """fields: [(qualified name, value)] children of office:meta; stats: attributes of the
    empty meta:document-statistic element.  Returns (bytes, meta)."""
    meta = {}
    m = ('<?xml version="1.0" encoding="UTF-8"?>\n<office:document-meta '
         'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
         'xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:dc="http://purl.org/dc/elements/1.1/" '
         'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
         'xmlns:ooo="http://openoffice.org/2004/office" '
         'xmlns:grddl="http://www.w3.org/2003/g/data-view#" office:version="1.3"><office:meta>')
    for q, v in fields:
        m += '<%s>%s</%s>' % (q, esc(v), q)
        meta[q] = v
    m += '<meta:document-statistic'
    for a, v in stats:
        m += ' %s="%s"' % (a, esc(v))
        meta['meta:document-statistic@' + a] = v
    m += '/></office:meta></office:document-meta>'
    manifest = ('<?xml version="1.0" encoding="UTF-8"?>\n<manifest:manifest xmlns:manifest='
                '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
                '<manifest:file-entry manifest:full-path="/" manifest:version="1.3" '
                'manifest:media-type="%s"/><manifest:file-entry manifest:full-path="content.xml" '
                'manifest:media-type="text/xml"/><manifest:file-entry manifest:full-path="meta.xml" '
                'manifest:media-type="text/xml"/></manifest:manifest>' % ODF_MIME[ext])
    content = ('<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3">'
               '<office:body><office:text><text:p>Minutes</text:p></office:text></office:body>'
               '</office:document-content>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w') as z:
        zi = zipfile.ZipInfo('mimetype', (1980, 1, 1, 0, 0, 0))
        zi.compress_type = zipfile.ZIP_STORED
        z.writestr(zi, ODF_MIME[ext].encode())
        for name, text in (('content.xml', content), ('meta.xml', m),
                           ('META-INF/manifest.xml', manifest)):
            zi = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, text.encode('utf-8'))
    return buf.getvalue(), meta


def odf_fields(created, modified, duration, title='Minutes of the 3 May meeting \u00e0 Gen\u00e8ve'):
    f = [('meta:initial-creator', 'Carol D\u00edaz'), ('meta:creation-date', created),
         ('dc:date', modified), ('dc:creator', 'Dave & Co')]
    if duration is not None:
        f.append(('meta:editing-cycles', '4'))
        f.append(('meta:editing-duration', duration))
    f += [('meta:generator', 'LibreOffice/7.4.7.2$Linux_X86_64 LibreOffice_project/'
           '40$Build-2'), ('dc:title', title), ('dc:subject', 'Governance'),
          ('dc:description', 'Draft <not for circulation>'), ('meta:keyword', 'minutes')]
    return f


ODT_STATS = [('meta:table-count', '0'), ('meta:image-count', '0'), ('meta:object-count', '0'),
             ('meta:page-count', '3'), ('meta:paragraph-count', '14'), ('meta:word-count', '512'),
             ('meta:character-count', '3120')]


def odf_cases():
    def odt(name, created, modified, duration, flags):
        data, meta = odf('odt', odf_fields(created, modified, duration), ODT_STATS)
        case(name + '.odt', data, flags, 'opendocument', meta)
    odt('odt-plain', '2024-01-02T03:04:05.123456789', '2024-01-02T05:04:05.987654321',
        'PT1H2M3S', [])
    odt('odt-modified-before-created', '2024-01-02T03:04:05', '2023-12-25T10:00:00', None,
        ['modified-before-created'])
    # ten hours of editing in a one-hour span; then 61 min 0 s (exactly 60 s over: no flag)
    # and 61 min 1 s
    odt('odt-edit-time-10h', '2024-01-02T03:04:05', '2024-01-02T04:04:05', 'PT10H0M0S',
        ['edit-time-exceeds-span'])
    odt('odt-edit-time-61min', '2024-01-02T03:04:05', '2024-01-02T04:04:05', 'PT1H1M0S', [])
    odt('odt-edit-time-61min1s', '2024-01-02T03:04:05', '2024-01-02T04:04:05', 'PT1H1M1S',
        ['edit-time-exceeds-span'])
    odt('odt-future', '2099-01-02T03:04:05', '2099-01-02T04:04:05', 'PT5M', ['date-in-future'])
    # four editing cycles and no editing time
    odt('odt-cycles-no-edit-time', '2024-01-02T03:04:05', '2024-01-02T04:04:05', 'PT0S',
        ['revisions-without-edit-time'])
    data, meta = odf('ods', odf_fields('2021-09-09T09:09:09', '2021-09-10T10:10:10', 'PT20M',
                                       title='Ledger'),
                     [('meta:table-count', '2'), ('meta:cell-count', '42'),
                      ('meta:object-count', '0')])
    case('ods-plain.ods', data, [], 'opendocument', meta)


# ---------------------------------------------------------------------------------------
# PDF: a classic xref table; Info literal and hex strings; an uncompressed XMP stream;
# incremental updates; a /Sig dictionary with a /ByteRange computed over the file.
# ---------------------------------------------------------------------------------------

def pdf_lit(raw):
    """A literal string token from its body (already escaped as wanted)."""
    return b'(' + raw + b')'


def pdf_utf16(s):
    return b'<FEFF' + s.encode('utf-16-be').hex().upper().encode() + b'>'


def pdf_hex(s):
    return b'<' + s.encode('ascii').hex().encode() + b'>'


def pdf_date(dt, zone):
    """dt: naive wall-clock datetime; zone: 'Z', '' or '+HH:MM'."""
    s = 'D:' + dt.strftime('%Y%m%d%H%M%S')
    if zone == 'Z':
        s += 'Z'
    elif zone:
        s += "%s'%s'" % (zone[:3], zone[4:6])
    return s


def xmp_packet(props, attr_form=False):
    """props: [(qualified name, value, container)] container '', 'Alt', 'Seq' or 'Bag'."""
    head = ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 9.1-c001">\n'
            ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
            '  <rdf:Description rdf:about=""\n'
            '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
            '    xmlns:pdf="http://ns.adobe.com/pdf/1.3/"\n'
            '    xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
            '    xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"')
    body = ''
    for q, v, c in props:
        if attr_form and not c:
            head += '\n    %s="%s"' % (q, esc(v))
            continue
        if not c:
            body += '   <%s>%s</%s>\n' % (q, esc(v), q)
            continue
        vs = v if isinstance(v, list) else [v]
        lang = ' xml:lang="x-default"' if c == 'Alt' else ''
        body += '   <%s><rdf:%s>%s</rdf:%s></%s>\n' % (
            q, c, ''.join('<rdf:li%s>%s</rdf:li>' % (lang, esc(x)) for x in vs), c, q)
    pad = (' ' * 99 + '\n') * 20
    return (head + '>\n' + body + '  </rdf:Description>\n </rdf:RDF>\n</x:xmpmeta>\n' + pad +
            '<?xpacket end="w"?>').encode('utf-8')


def xmp_meta(props):
    m = {}
    for q, v, c in props:
        m[q] = v[0] if isinstance(v, list) else v
    return m


class Pdf:
    """Builds a PDF body then appends incremental updates; offsets are tracked."""

    def __init__(self, info, xmp=None, sig=False):
        self.data = bytearray(b'%PDF-1.7\n%\xe2\xe3\xcf\xd3\n')
        self.offsets = {}
        catalog = b'<< /Type /Catalog /Pages 2 0 R'
        if xmp is not None:
            catalog += b' /Metadata 4 0 R'
        if sig:
            catalog += b' /AcroForm << /Fields [7 0 R] /SigFlags 3 >>'
        catalog += b' >>'
        self.obj(1, catalog)
        self.obj(2, b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>')
        page = b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200]'
        if sig:
            page += b' /Annots [7 0 R]'
        self.obj(3, page + b' >>')
        if xmp is not None:
            self.obj(4, b'<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n' % len(xmp)
                     + xmp + b'\nendstream')
        self.obj(5, self.info_dict(info))
        self.sig_at = None
        if sig:
            self.contents_len = 2 * 512
            d = (b'<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached '
                 b'/Name (Signer) /M (D:20240301120000Z) /ByteRange [0 0000000000 0000000000 '
                 b'0000000000] /Contents <' + b'0' * self.contents_len + b'> >>')
            self.obj(6, d)
            self.obj(7, b'<< /Type /Annot /Subtype /Widget /FT /Sig /Rect [0 0 0 0] /T (Sig1) '
                     b'/V 6 0 R /P 3 0 R /F 132 >>')
        n = max(self.offsets) + 1
        self.size = n
        xref = len(self.data)
        self.data += b'xref\n0 %d\n0000000000 65535 f \n' % n
        for i in range(1, n):
            if i in self.offsets:
                self.data += b'%010d 00000 n \n' % self.offsets[i]
            else:  # no XMP stream: object 4 is free
                self.data += b'0000000000 00001 f \n'
        self.data += b'trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R /ID [<%s> <%s>] >>\n' % (
            n, b'0123456789ABCDEF' * 2, b'0123456789ABCDEF' * 2)
        self.data += b'startxref\n%d\n%%%%EOF\n' % xref
        self.prev = xref
        self.updates = 0
        if sig:
            self.sign()

    @staticmethod
    def info_dict(info):
        return b'<< ' + b' '.join(b'/' + k.encode() + b' ' + v for k, v in info) + b' >>'

    def obj(self, num, body):
        self.offsets[num] = len(self.data)
        self.data += b'%d 0 obj\n' % num + body + b'\nendobj\n'

    def sign(self):
        """Fill in the /ByteRange of object 6 so that it covers the whole file as it is
        now, less the /Contents hex string (a real signature's layout)."""
        d = bytes(self.data)
        c = d.index(b'/Contents <', self.offsets[6]) + len(b'/Contents ')
        end = c + 2 + self.contents_len
        br = b'[0 %010d %010d %010d]' % (c, end, len(d) - end)
        i = d.index(b'/ByteRange [', self.offsets[6]) + len(b'/ByteRange ')
        j = d.index(b']', i) + 1
        assert len(br) == j - i
        self.data[i:j] = br
        self.byte_range = (0, c, end, len(d) - end)

    def update(self, info):
        """An incremental update: a new Info object 5, its own xref section and trailer."""
        off = len(self.data)
        self.data += b'5 0 obj\n' + self.info_dict(info) + b'\nendobj\n'
        xref = len(self.data)
        self.data += b'xref\n0 1\n0000000000 65535 f \n5 1\n%010d 00000 n \n' % off
        self.data += b'trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R /Prev %d /ID [<%s> <%s>] >>\n' % (
            self.size, self.prev, b'0123456789ABCDEF' * 2, b'FEDCBA9876543210' * 2)
        self.data += b'startxref\n%d\n%%%%EOF\n' % xref
        self.prev = xref
        self.updates += 1


# Info entries as (key, token, decoded value)
def info_entries(title=None, author=None, created=None, modified=None,
                 producer='Acrobat Distiller 23.0 (Windows)', creator='Microsoft Word'):
    e = []
    if title is not None:
        e.append(('Title',) + title)
    if author is not None:
        e.append(('Author',) + author)
    e.append(('Subject', pdf_hex('Quarterly figures'), 'Quarterly figures'))
    e.append(('Keywords', pdf_lit(b'budget; q3'), 'budget; q3'))
    e.append(('Creator', pdf_lit(creator.encode()), creator))
    e.append(('Producer', pdf_lit(producer.encode()), producer))
    if created is not None:
        e.append(('CreationDate', pdf_lit(created.encode()), created))
    if modified is not None:
        e.append(('ModDate', pdf_lit(modified.encode()), modified))
    return e


# A title with every escape: \( \) \\ \n \t, an octal \101 ("A"), a line continuation,
# balanced unescaped parentheses; an author as UTF-16BE with a BOM (non-ASCII; no
# surrogate pairs: exiftool 12.57 turns those into '?').
TITLE_ESC = (pdf_lit(b'Minutes \\(draft\\) of (the) board: R&D \\\\ costs\\nline two\\ttab \\101\\102C '
             b'split\\\nline'),
             'Minutes (draft) of (the) board: R&D \\ costs\nline two\ttab ABC splitline')
AUTHOR_U16 = ('Zo\u00eb \u00dcnal \u65e5\u672c',)
AUTHOR_U16 = (pdf_utf16(AUTHOR_U16[0]), AUTHOR_U16[0])


def pdf_meta(entries, xmp_props, updates, sigs):
    m = {'Info/' + k: v for k, _, v in entries}
    if xmp_props:
        m.update(xmp_meta(xmp_props))
    m['pdf:updates'] = str(updates)
    m['pdf:signatures'] = str(sigs)
    return m


def std_xmp(create, modify, producer='Acrobat Distiller 23.0 (Windows)', title='Minutes'):
    return [('xmp:CreateDate', create, ''), ('xmp:ModifyDate', modify, ''),
            ('xmp:MetadataDate', modify, ''), ('xmp:CreatorTool', 'Microsoft Word', ''),
            ('pdf:Producer', producer, ''), ('pdf:Keywords', 'budget; q3', ''),
            ('dc:format', 'application/pdf', ''), ('dc:title', [title], 'Alt'),
            ('dc:creator', ['Zo\u00eb \u00dcnal', 'Second Author'], 'Seq'),
            ('dc:subject', ['budget', 'q3'], 'Bag'),
            ('xmpMM:DocumentID', 'uuid:6f1c3b2a-0d5e-4f7a-9b8c-1d2e3f4a5b6c', ''),
            ('xmpMM:InstanceID', 'uuid:0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9', '')]


def add_pdf(name, entries, xmp_props=None, flags=(), attr_form=False, sig=False,
            updates=(), append=b''):
    xmp = xmp_packet(xmp_props, attr_form) if xmp_props else None
    p = Pdf([(k, t) for k, t, _ in entries], xmp, sig)
    last = entries
    for u in updates:
        p.update([(k, t) for k, t, _ in u])
        last = u
    p.data += append
    case(name, bytes(p.data), flags, 'pdf', pdf_meta(last, xmp_props, p.updates, 1 if sig else 0))
    return p


def pdf_cases(now):
    c, m = 'D:20240102030405Z', 'D:20240102050405Z'
    xc, xm = '2024-01-02T03:04:05Z', '2024-01-02T05:04:05Z'
    # everything agrees, nothing to flag; Info strings with escapes, hex, UTF-16BE
    add_pdf('pdf-plain.pdf', info_entries(TITLE_ESC, AUTHOR_U16, c, m), std_xmp(xc, xm))
    # Info only, zones written the PDF way: +01'00' and -05'30'
    add_pdf('pdf-info-only.pdf', info_entries((pdf_lit(b'Plain title'), 'Plain title'),
                                              (pdf_lit(b'J. Smith'), 'J. Smith'),
                                              "D:20230405060708+01'00'", "D:20230406060708-05'30'"))
    # XMP properties written as attributes of rdf:Description
    add_pdf('pdf-xmp-attributes.pdf', info_entries(None, None, c, m), std_xmp(xc, xm), attr_form=True)
    # Info ModDate before CreationDate
    add_pdf('pdf-info-modified-before-created.pdf',
            info_entries(None, None, 'D:20240102030405Z', 'D:20231231000000Z'),
            flags=['modified-before-created'])
    # earlier digits, later instant: 10:00+09:00 is 01:00Z, before 02:00Z: no flag
    add_pdf('pdf-zones-modified-after-created.pdf',
            info_entries(None, None, "D:20240102100000+09'00'", 'D:20240102020000Z'))
    # later digits, earlier instant: 05:00+05:00 is 00:00Z, before 03:00Z: flagged
    add_pdf('pdf-zones-modified-before-created.pdf',
            info_entries(None, None, 'D:20240102030000Z', "D:20240102050000+05'00'"),
            flags=['modified-before-created'])
    # XMP ModifyDate before CreateDate (Info agrees on the creation date)
    add_pdf('pdf-xmp-modified-before-created.pdf', info_entries(None, None, c, None),
            std_xmp(xc, '2023-12-01T00:00:00Z'), flags=['modified-before-created'])
    # future: year 2099; and two hours ahead with a zone
    add_pdf('pdf-future-2099.pdf', info_entries(None, None, 'D:20990102030405Z', 'D:20990102030405Z'),
            flags=['date-in-future'])
    soon = now + datetime.timedelta(hours=2)
    add_pdf('pdf-future-2-hours-zoned.pdf',
            info_entries(None, None, pdf_date(soon, 'Z'), pdf_date(soon, 'Z')),
            flags=['date-in-future'])
    # an hour ago, written in +13:00: its digits are 12 hours ahead, the instant is past
    past = now - datetime.timedelta(hours=1) + datetime.timedelta(hours=13)
    add_pdf('pdf-past-hours-in-plus13.pdf',
            info_entries(None, None, pdf_date(past, '+13:00'), pdf_date(past, '+13:00')))
    # Info and XMP: another producer; another creation date; the same instant in two zones
    add_pdf('pdf-disagree-producer.pdf', info_entries(None, None, c, m),
            std_xmp(xc, xm, producer='LibreOffice 7.4'), flags=['info-xmp-disagree'])
    add_pdf('pdf-disagree-created.pdf', info_entries(None, None, c, m),
            std_xmp('2023-12-30T03:04:05Z', xm), flags=['info-xmp-disagree'])
    add_pdf('pdf-agree-created-other-zone.pdf',
            info_entries(None, None, "D:20240102040405+01'00'", m),
            std_xmp('2024-01-01T22:04:05-05:00', xm))
    # incremental updates: one, two (the last trailer's Info counts)
    upd1 = info_entries((pdf_lit(b'Revised title'), 'Revised title'), None, c,
                        'D:20240110090000Z')
    add_pdf('pdf-incremental-1.pdf', info_entries((pdf_lit(b'First title'), 'First title'),
                                                  None, c, m),
            std_xmp(xc, xm), updates=[upd1], flags=['pdf-incremental-updates'])
    upd2 = info_entries((pdf_lit(b'Third title'), 'Third title'),
                        (pdf_utf16('Eve \u00c5str\u00f6m'), 'Eve \u00c5str\u00f6m'), c,
                        'D:20240111090000Z')
    add_pdf('pdf-incremental-2.pdf', info_entries(None, None, c, m), updates=[upd1, upd2],
            flags=['pdf-incremental-updates'])
    # signed: the /ByteRange covers the file; then bytes appended after signing, as an
    # incremental update, and as bare bytes after %%EOF
    ent = info_entries((pdf_lit(b'Contract'), 'Contract'), None, c, m)
    add_pdf('pdf-signed.pdf', ent, std_xmp(xc, xm), sig=True)
    add_pdf('pdf-signed-then-updated.pdf', ent, std_xmp(xc, xm), sig=True,
            updates=[info_entries((pdf_lit(b'Contract (amended)'), 'Contract (amended)'),
                                  None, c, 'D:20240201000000Z')],
            flags=['pdf-signature-partial', 'pdf-incremental-updates'])
    add_pdf('pdf-signed-bytes-appended.pdf', ent, std_xmp(xc, xm), sig=True,
            append=b'% appended after signing\n', flags=['pdf-signature-partial'])


# ---------------------------------------------------------------------------------------
# JPEG: SOI, APP1 Exif (IFD0 Make, Model, Orientation, Software, DateTime, ExifIFD;
# Exif IFD ExifVersion, DateTimeOriginal, CreateDate), then a 1x1 grey baseline image.
# ---------------------------------------------------------------------------------------

def tiff(order, ifd0, exif):
    """ifd0, exif: [(tag, type, value)] type 2 ASCII (bytes incl. NULs), 3 SHORT,
    7 UNDEFINED (bytes).  Returns the TIFF bytes."""
    e = '<' if order == 'II' else '>'
    out = bytearray(order.encode() + struct.pack(e + 'HI', 42, 8))

    def layout(entries, start, extra_ptr=None):
        # an IFD at start: count, entries (12 bytes), next-IFD offset, then data
        n = len(entries) + (1 if extra_ptr is not None else 0)
        data_at = start + 2 + 12 * n + 4
        ents, blob = [], bytearray()
        for tag, typ, val in entries:
            if typ == 3:
                ents.append(struct.pack(e + 'HHI', tag, 3, 1) + struct.pack(e + 'HH', val, 0))
                continue
            if len(val) <= 4:
                ents.append(struct.pack(e + 'HHI', tag, typ, len(val)) + val.ljust(4, b'\0'))
                continue
            ents.append(struct.pack(e + 'HHII', tag, typ, len(val), data_at + len(blob)))
            blob += val
            if len(blob) % 2:
                blob += b'\0'
        return ents, blob, data_at

    # IFD0 with the ExifIFD pointer (tag 0x8769) whose value is known after layout
    n0 = len(ifd0) + 1
    ifd0_size = 2 + 12 * n0 + 4
    ents0, blob0, _ = layout(ifd0, 8, extra_ptr=True)
    exif_at = 8 + ifd0_size + len(blob0)
    ents0.append(struct.pack(e + 'HHII', 0x8769, 4, 1, exif_at))
    ents0.sort(key=lambda b: struct.unpack(e + 'H', b[:2])[0])
    out += struct.pack(e + 'H', n0) + b''.join(ents0) + struct.pack(e + 'I', 0) + blob0
    assert len(out) == exif_at
    ents1, blob1, _ = layout(exif, exif_at)
    out += struct.pack(e + 'H', len(exif)) + b''.join(ents1) + struct.pack(e + 'I', 0) + blob1
    return bytes(out)


def jpeg_body():
    """A 1x1 8-bit greyscale baseline JPEG after SOI: DQT, SOF0, DHT (one DC and one AC
    table, each a single 1-bit code for symbol 0), SOS, one block (DC difference 0, EOB),
    EOI."""
    def seg(marker, payload):
        return struct.pack('>BBH', 0xFF, marker, len(payload) + 2) + payload
    dqt = seg(0xDB, b'\x00' + bytes([1] * 64))
    sof = seg(0xC0, struct.pack('>BHHB', 8, 1, 1, 1) + bytes([1, 0x11, 0]))
    dht_dc = seg(0xC4, b'\x00' + bytes([1] + [0] * 15) + b'\x00')
    dht_ac = seg(0xC4, b'\x10' + bytes([1] + [0] * 15) + b'\x00')
    sos = seg(0xDA, bytes([1, 1, 0x00, 0, 63, 0]))
    # bits: DC code "0" (size 0), AC code "0" (EOB), padded with 1s
    return dqt + sof + dht_dc + dht_ac + sos + b'\x3f' + b'\xff\xd9'


def exif_ascii(s, pad=0):
    return s.encode('ascii') + b'\0' * (1 + pad)


def jpeg(order, make, model, software, modify, original, create, software_pad=0):
    ifd0 = [(0x010F, 2, exif_ascii(make)), (0x0110, 2, exif_ascii(model)), (0x0112, 3, 1),
            (0x0131, 2, exif_ascii(software, software_pad)), (0x0132, 2, exif_ascii(modify))]
    exif = [(0x9000, 7, b'0232'), (0x9003, 2, exif_ascii(original)),
            (0x9004, 2, exif_ascii(create))]
    t = tiff(order, ifd0, exif)
    app1 = b'Exif\0\0' + t
    data = b'\xff\xd8' + struct.pack('>BBH', 0xFF, 0xE1, len(app1) + 2) + app1 + jpeg_body()
    meta = {'Make': make, 'Model': model, 'Software': software, 'ModifyDate': modify,
            'DateTimeOriginal': original, 'CreateDate': create}
    return data, meta


def jpeg_cases(now):
    d, meta = jpeg('II', 'Canon', 'Canon EOS 5D Mark IV', 'Adobe Photoshop 25.0 (Windows)',
                   '2024:01:03 10:00:00', '2024:01:02 03:04:05', '2024:01:02 03:04:05')
    case('jpeg-ii-plain.jpg', d, [], 'jpeg', meta)
    # big-endian; Make "HTC" fits in the entry itself (4 bytes with its NUL); Software
    # padded with extra NULs
    d, meta = jpeg('MM', 'HTC', 'HTC One', 'GIMP 2.10', '2023:07:08 09:10:11',
                   '2023:07:08 09:10:11', '2023:07:08 09:10:11', software_pad=5)
    case('jpeg-mm-plain.jpeg', d, [], 'jpeg', meta)
    d, meta = jpeg('II', 'NIKON CORPORATION', 'NIKON D850', 'Ver.1.10',
                   '2019:05:05 12:00:00', '2020:05:05 12:00:00', '2020:05:05 12:00:00')
    case('jpeg-ii-modified-before-created.jpg', d, ['modified-before-created'], 'jpeg', meta)
    d, meta = jpeg('MM', 'Apple', 'iPhone 15 Pro', '17.2', '2099:12:31 23:59:59',
                   '2099:12:31 23:59:59', '2099:12:31 23:59:59')
    case('jpeg-mm-future-2099.jpg', d, ['date-in-future'], 'jpeg', meta)
    # no zone: 16 hours ahead is past the 14 h allowance
    t = (now + datetime.timedelta(hours=16)).strftime('%Y:%m:%d %H:%M:%S')
    d, meta = jpeg('II', 'Google', 'Pixel 8', 'HDR+ 1.0.5', t, t, t)
    case('jpeg-ii-future-16-hours.jpg', d, ['date-in-future'], 'jpeg', meta)
    # a JPEG named .pdf
    d, meta = jpeg('II', 'Canon', 'Canon EOS R6', 'Firmware 1.8', '2022:02:02 02:02:02',
                   '2022:02:02 02:02:02', '2022:02:02 02:02:02')
    case('jpeg-named-pdf.pdf', d, ['extension-mismatch'], 'jpeg', meta)


def mismatch_cases():
    # the plain Info-only PDF again, named .docx
    name, data, _, kind, meta = next(c for c in CASES if c[0] == 'pdf-info-only.pdf')
    case('pdf-named-docx.docx', data + b'%renamed\n', ['extension-mismatch'], kind, meta)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)
    office_cases()
    odf_cases()
    pdf_cases(now)
    jpeg_cases(now)
    mismatch_cases()
    expected = {}
    with open(os.path.join(out, 'cases.tsv'), 'w') as tsv:
        for name, data, flags, kind, meta in CASES:
            with open(os.path.join(out, name), 'wb') as f:
                f.write(data)
            tsv.write('%s\t%s\n' % (name, ','.join(flags) or '-'))
            expected[name] = {'kind': kind, 'meta': meta}
    with open(os.path.join(out, 'expected.json'), 'w') as f:
        json.dump(expected, f, indent=1, ensure_ascii=False, sort_keys=True)
    print('%d files in %s' % (len(CASES), out))


if __name__ == '__main__':
    main()
