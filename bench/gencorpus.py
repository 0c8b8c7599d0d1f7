#!/usr/bin/env python3
"""gencorpus.py — deterministic benchmark corpora for bench/run.sh and bench/scale.sh.

  gencorpus.py random DIR N [SEED]        N files of 1-16 KiB (uniform sizes) of random bytes
  gencorpus.py mixed  DIR N [SEED]        N files of 1-16 KiB of mixed, realistic content:
                                          prose, HTML, CSV, JSON, e-mail, XML, Markdown,
                                          PDF, DOCX, ZIP, PNG, JPEG, gzip, unknown binary
  gencorpus.py tiny   DIR START COUNT     COUNT distinct tiny files (scale.sh filler: PDF headers),
                                          numbered from START so every batch is new

Files go 1,000 to a directory (DIR/d000/...). The same SEED gives the same bytes.
"""
import gzip
import io
import os
import random
import struct
import sys
import zipfile
import zlib

PER_DIR = 1000
MIN_SIZE, MAX_SIZE = 1024, 16384

WORDS = """the of and to in a is that for it as was with be by on not he this are or his from at
which but have an they you were their one all we can her has there been if more when will would
who so no out up into do than its time only could new them man some these then two first may any
like now my such make over our even most me state after also made many did must before back see
through way where get much go well your know should down work year because come people just say
each those take day good how long very between government per under never three here life both
world too own public country against much being while great again court police report evidence
document minister contract payment account transfer company director agreement witness memo
statement invoice budget fund bank offshore meeting confidential internal draft review source
leak journalist editor newsroom interview record data email letter attachment signed received
million billion percent total amount date number office department ministry official senior
investigation audit tax holding subsidiary board chairman shareholder trust foundation
""".split()

FIRST = "Anna Boris Chen Dana Emil Fatima Goran Hana Ivan Julia Karim Lena Marek Nora Olek Petra".split()
LAST = "Adler Brandt Costa Dubois Eriksen Fischer Gomez Horvat Ivanova Jensen Kowalski Lindqvist".split()
DOMAINS = "example.org example.com mail.example.net corp.example ministry.example".split()


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        # One pool of prose; each text file takes a slice at a random offset.
        words = self.r.choices(WORDS, k=700_000)
        lines, line, n = [], [], 0
        for w in words:
            line.append(w)
            n += len(w) + 1
            if n > 68:
                lines.append(" ".join(line))
                line, n = [], 0
        lines[0] = lines[0].capitalize()
        self.prose = ("\n".join(lines) + "\n").encode()

    def rbytes(self, n):
        return self.r.randbytes(n)

    def text(self, n):
        start = self.r.randrange(0, len(self.prose) - n - 1)
        # start at a line boundary
        nl = self.prose.find(b"\n", start)
        start = nl + 1 if 0 <= nl < len(self.prose) - n - 1 else 0
        return self.prose[start:start + n]

    def person(self):
        f, l = self.r.choice(FIRST), self.r.choice(LAST)
        return f"{f} {l}", f"{f.lower()}.{l.lower()}@{self.r.choice(DOMAINS)}"

    def fit(self, head, n, tail=b"", filler=None):
        """head + filler + tail, exactly n bytes when possible."""
        room = n - len(head) - len(tail)
        if room <= 0:
            return (head + tail)[:max(n, 1)] if n < len(head) + len(tail) else head + tail
        body = filler(room) if filler else self.text(room)
        return head + body[:room] + tail

    # ------------------------------------------------------------ text formats
    def g_txt(self, n, i):
        return self.fit(f"Document {i}\n\n".encode(), n)

    def g_md(self, n, i):
        return self.fit(f"# Notes {i}\n\n## Summary\n\n".encode(), n)

    def g_html(self, n, i):
        head = (f"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                f"<title>Page {i}</title>\n</head>\n<body>\n<h1>Report {i}</h1>\n<p>").encode()
        return self.fit(head, n, b"</p>\n</body>\n</html>\n")

    def g_xml(self, n, i):
        head = f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<records id=\"{i}\">\n<note>".encode()
        return self.fit(head, n, b"</note>\n</records>\n")

    def g_csv(self, n, i):
        out = [b"id,date,account,amount,currency,counterparty\n"]
        size, k = len(out[0]), 0
        while size < n:
            name, _ = self.person()
            row = (f"{i}-{k},2023-{self.r.randint(1, 12):02d}-{self.r.randint(1, 28):02d},"
                   f"{self.r.randint(10**9, 10**10)},{self.r.randint(1, 10**7) / 100:.2f},"
                   f"{self.r.choice(['EUR', 'USD', 'CHF', 'GBP'])},{name}\n").encode()
            out.append(row)
            size += len(row)
            k += 1
        return b"".join(out)[:n]

    def g_json(self, n, i):
        out = [f"{{\"batch\": {i}, \"records\": [\n".encode()]
        size, k = len(out[0]), 0
        while size < n - 4:
            name, mail = self.person()
            row = (f"  {{\"n\": {k}, \"name\": \"{name}\", \"email\": \"{mail}\", "
                   f"\"amount\": {self.r.randint(1, 10**6)}}},\n").encode()
            out.append(row)
            size += len(row)
            k += 1
        return b"".join(out) + b"  {}\n]}\n"

    def g_eml(self, n, i):
        fn, fm = self.person()
        tn, tm = self.person()
        head = (f"From: {fn} <{fm}>\nTo: {tn} <{tm}>\nSubject: Re: transfer {i}\n"
                f"Date: Mon, {self.r.randint(1, 28)} Mar 2023 10:{self.r.randint(10, 59)}:00 +0100\n"
                f"Message-ID: <{i}.{self.r.randint(1, 10**9)}@{self.r.choice(DOMAINS)}>\n"
                f"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n").encode()
        return self.fit(head, n)

    # ------------------------------------------------------------ binary formats
    def g_pdf(self, n, i):
        # A small but well-formed PDF: catalog, page, one Flate content stream.
        objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
                b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>"]
        head = b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n"
        body = b""
        offs = []
        for k, o in enumerate(objs):
            offs.append(len(head) + len(body))
            body += b"%d 0 obj\n" % (k + 1) + o + b"\nendobj\n"
        room = max(16, n - len(head) - len(body) - 300)
        # compressed page content: zlib of prose (compressible) plus random bytes (images)
        txt = zlib.compress(b"BT /F1 12 Tf 72 712 Td (" + self.text(room) + b") Tj ET", 6)
        stream = (txt + self.rbytes(max(0, room - len(txt))))[:room]
        offs.append(len(head) + len(body))
        body += (b"4 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) +
                 stream + b"\nendstream\nendobj\n")
        xref_at = len(head) + len(body)
        xref = b"xref\n0 %d\n0000000000 65535 f \n" % (len(offs) + 1)
        xref += b"".join(b"%010d 00000 n \n" % o for o in offs)
        trailer = b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(offs) + 1, xref_at)
        return head + body + xref + trailer

    def _zip(self, members):
        b = io.BytesIO()
        with zipfile.ZipFile(b, "w") as z:
            for name, data, method in members:
                z.writestr(zipfile.ZipInfo(name, (2023, 3, 1, 12, 0, 0)), data, compress_type=method)
        return b.getvalue()

    def g_zip(self, n, i):
        room = max(1, n - 300)
        return self._zip([(f"scan-{i}.dat", self.rbytes(room), zipfile.ZIP_STORED),
                          ("README.txt", b"see attached\n", zipfile.ZIP_DEFLATED)])

    def g_docx(self, n, i):
        ct = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.'
              b'openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType='
              b'"application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
              b'ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType='
              b'"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        rels = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Relationships xmlns="http://schemas.openxml'
                b'formats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
                b'openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/'
                b'document.xml"/></Relationships>')
        # Random bytes stand in for embedded media so the size is close to n.
        room = max(1, n - 1400)
        doc = b'<w:document><w:body><w:p><w:r><w:t>' + self.text(min(room, 4000)) + b'</w:t></w:r></w:p></w:body></w:document>'
        zdoc = zlib.compress(doc)
        media = self.rbytes(max(1, room - len(zdoc)))
        return self._zip([("[Content_Types].xml", ct, zipfile.ZIP_DEFLATED),
                          ("_rels/.rels", rels, zipfile.ZIP_DEFLATED),
                          ("word/document.xml", doc, zipfile.ZIP_DEFLATED),
                          (f"word/media/image{i}.bin", media, zipfile.ZIP_STORED)])

    def g_png(self, n, i):
        def chunk(t, d):
            return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
        w, h = self.r.randint(16, 512), self.r.randint(16, 512)
        ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
        room = max(1, n - 8 - len(ihdr) - 12 - 12)
        return b"\x89PNG\r\n\x1a\n" + ihdr + chunk(b"IDAT", self.rbytes(room)) + chunk(b"IEND", b"")

    def g_jpg(self, n, i):
        app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x48\x00\x48\x00\x00"
        w, h = self.r.randint(16, 2048), self.r.randint(16, 2048)
        sof = b"\xff\xc0\x00\x11\x08" + struct.pack(">HH", h, w) + b"\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01"
        head = b"\xff\xd8" + app0 + sof + b"\xff\xda\x00\x0c\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00"
        room = max(1, n - len(head) - 2)
        data = self.rbytes(room).replace(b"\xff", b"\xfe")  # no stray markers
        return head + data + b"\xff\xd9"

    def g_gz(self, n, i):
        return gzip.compress(self.rbytes(max(1, n - 40)), compresslevel=1, mtime=0)

    def g_bin(self, n, i):
        return self.rbytes(n)


# (generator, extension, weight in percent of files)
MIXED = [("txt", "txt", 15), ("html", "html", 7), ("csv", "csv", 6), ("json", "json", 6),
         ("eml", "eml", 6), ("xml", "xml", 3), ("md", "md", 2),
         ("pdf", "pdf", 15), ("docx", "docx", 5), ("zip", "zip", 5), ("png", "png", 8),
         ("jpg", "jpg", 10), ("gz", "gz", 4), ("bin", "bin", 8)]


def path_for(root, i, ext):
    d = os.path.join(root, "d%03d" % (i // PER_DIR))
    if i % PER_DIR == 0:
        os.makedirs(d, exist_ok=True)
    return os.path.join(d, "f%06d.%s" % (i, ext))


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    mode, root = argv[1], argv[2]
    os.makedirs(root, exist_ok=True)
    if mode == "tiny":
        start, count = int(argv[3]), int(argv[4])
        for k in range(count):
            i = start + k
            d = os.path.join(root, "d%04d" % (k // PER_DIR))
            if k % PER_DIR == 0:
                os.makedirs(d, exist_ok=True)
            # A PDF header: libmagic recognises it in a few tens of microseconds, where
            # a line of text costs it ~0.7 ms (its text and encoding tests).
            write(os.path.join(d, "t%08d.pdf" % i), b"%%PDF-1.4\n%% custos scale filler %d\n" % i)
        return
    n = int(argv[3])
    seed = int(argv[4]) if len(argv) > 4 else 1
    g = Gen(seed)
    if mode == "random":
        for i in range(n):
            write(path_for(root, i, "bin"), g.rbytes(g.r.randint(MIN_SIZE, MAX_SIZE)))
    elif mode == "mixed":
        kinds = [k for k in MIXED for _ in range(k[2])]
        for i in range(n):
            gen, ext, _ = g.r.choice(kinds)
            size = g.r.randint(MIN_SIZE, MAX_SIZE)
            write(path_for(root, i, ext), getattr(g, "g_" + gen)(size, i))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
