#!/usr/bin/env python3
"""mail-corpus.py OUTDIR — the inputs of tests/e2e/mail.sh, written at test time.

Messages are written byte by byte (no email.generator: the test must know every byte a
member should have). Under OUTDIR:
  orig/   the original bytes of every attachment, and of every message of the mbox
  in/     the inputs to ingest: mixed.eml, box.mbox, and the robustness cases
Line ends are LF throughout. Everything is deterministic.
"""
import base64
import io
import os
import quopri
import random
import sys
import zipfile

out = sys.argv[1]
orig = os.path.join(out, "orig")
inp = os.path.join(out, "in")
os.makedirs(orig, exist_ok=True)
os.makedirs(inp, exist_ok=True)
rnd = random.Random(6)


def put(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
    return data


def b64(data, width=76):
    s = base64.b64encode(data)
    return b"".join(s[i:i + width] + b"\n" for i in range(0, len(s), width))


def part(headers, body):
    """A MIME part: header lines, the empty line, the body (which ends with its LF)."""
    return b"".join(h + b"\n" for h in headers) + b"\n" + body


def multipart(boundary, parts, close=True):
    """The body of a multipart: each part after a delimiter; the LF before a delimiter is
    the delimiter's (RFC 2046 §5.1.1), so a part's body is exactly what was given."""
    b = b"This is a multi-part message in MIME format.\n"
    for p in parts:
        b += b"--" + boundary + b"\n" + p + b"\n"
    if close:
        b += b"--" + boundary + b"--\n"
    return b


# ---------------------------------------------------------------- 1. a rich message
pdf = put(orig, "report.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
          + bytes(rnd.randrange(256) for _ in range(3000)) + b"\n%%EOF\n")
binary = put(orig, "belege.bin", bytes(range(256)) * 4 + bytes(rnd.randrange(256) for _ in range(777)))
# text with a trailing space, a long line (soft breaks), '=' and 8-bit bytes: QP at work
qtext = put(orig, "ueberweisung.txt",
            "Überweisung für März: 1 = 1 \nline with tab\t\n".encode("utf-8")
            + b"x" * 200 + b"\nlast line\n")
gif = put(orig, "pixel.gif", base64.b64decode(
    b"R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"))
nested_att = put(orig, "nested-note.bin", b"\x00\x01nested attachment\xff\xfe" + bytes(range(40)))
inner = put(orig, "inner.txt", b"the file inside the zip\n" * 20)
zbuf = io.BytesIO()
with zipfile.ZipFile(zbuf, "w", zipfile.ZIP_DEFLATED) as z:
    zi = zipfile.ZipInfo("docs/inner.txt", date_time=(2024, 5, 1, 12, 0, 0))
    zi.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(zi, inner)
zipdata = put(orig, "evidence.zip", zbuf.getvalue())

nested = put(orig, "forwarded.eml", part(
    [b"From: Carol <carol@example.org>", b"To: Alice <alice@example.org>",
     b"Subject: the original", b"Date: Mon, 6 May 2024 09:00:00 +0000",
     b"Message-ID: <nested-1@example.org>", b"MIME-Version: 1.0",
     b'Content-Type: multipart/mixed; boundary="inner-b"'],
    multipart(b"inner-b", [
        part([b"Content-Type: text/plain; charset=us-ascii"], b"See attached.\n"),
        part([b'Content-Type: application/octet-stream; name="nested-note.bin"',
              b"Content-Transfer-Encoding: base64"], b64(nested_att)),
    ])))

name_2231 = "€-Belég.bin".encode("utf-8")
pct_2231 = b"".join(b"%%%02X" % c if c > 127 or c in b"%'* " else bytes([c]) for c in name_2231)
name_2047 = "Überweisung März.txt".encode("utf-8")
word_2047 = b"=?UTF-8?B?" + base64.b64encode(name_2047) + b"?="

mixed = part(
    [b"From: Bob <bob@example.org>", b"To: Alice <alice@example.org>",
     b"Subject: evidence, as promised", b"Date: Tue, 7 May 2024 10:00:00 +0000",
     b"Message-ID: <mixed-1@example.org>", b"MIME-Version: 1.0",
     b'Content-Type: multipart/mixed; boundary="outer-b"'],
    multipart(b"outer-b", [
        # 1: inline text, quoted-printable: not a member
        part([b"Content-Type: text/plain; charset=utf-8",
              b"Content-Transfer-Encoding: quoted-printable"],
             quopri.encodestring("Hallo Alice, anbei die Unterlagen für März.\n".encode())),
        # 2: alternative (2.1 text, 2.2 related: 2.2.1 html, 2.2.2 an unnamed inline image)
        part([b'Content-Type: multipart/alternative; boundary="alt-b"'],
             multipart(b"alt-b", [
                 part([b"Content-Type: text/plain"], b"plain version\n"),
                 part([b'Content-Type: multipart/related; boundary="rel-b"'],
                      multipart(b"rel-b", [
                          part([b"Content-Type: text/html"], b"<p>html <img src=cid:px></p>\n"),
                          part([b"Content-Type: image/gif", b"Content-ID: <px>",
                                b"Content-Disposition: inline",
                                b"Content-Transfer-Encoding: base64"], b64(gif)),
                      ])),
             ])),
        # 3: a PDF, a plain file name
        part([b'Content-Type: application/pdf; name="report.pdf"',
              b'Content-Disposition: attachment; filename="report.pdf"',
              b"Content-Transfer-Encoding: base64"], b64(pdf)),
        # 4: binary, RFC 2231 UTF-8 file name
        part([b"Content-Type: application/octet-stream",
              b"Content-Disposition: attachment;\n filename*=utf-8''" + pct_2231,
              b"Content-Transfer-Encoding: base64"], b64(binary)),
        # 5: text attachment, RFC 2047 encoded-word name, quoted-printable
        part([b"Content-Type: text/plain; charset=utf-8",
              b'Content-Disposition: attachment; filename="' + word_2047 + b'"',
              b"Content-Transfer-Encoding: quoted-printable"], quopri.encodestring(qtext)),
        # 6: an attached message, no name: part-6
        part([b"Content-Type: message/rfc822", b"Content-Disposition: inline"], nested),
        # 7: a zip, its name in RFC 2231 continuations
        part([b"Content-Type: application/zip",
              b'Content-Disposition: attachment; filename*0="evid";\n filename*1="ence.zip"',
              b"Content-Transfer-Encoding: base64"], b64(zipdata)),
    ]))
put(inp, "mixed.eml", mixed)

# ---------------------------------------------------------------- 2. an mbox (mboxrd)
m1 = put(orig, "message-1.eml", part(
    [b"From: one@example.org", b"To: x@example.org", b"Subject: first",
     b"Date: Wed, 8 May 2024 10:00:00 +0000"], b"first body\n\nwith a paragraph\n"))
m2 = put(orig, "message-2.eml", part(
    [b"From: two@example.org", b"To: x@example.org", b"Subject: second",
     b"Date: Wed, 8 May 2024 11:00:00 +0000"],
    b"Quoting lines:\n\nFrom here\n>From quoted\n>>From twice\nnot quoted by this writer:\n"
    b"From not-a-separator, the line above is not empty\n\nends with an empty line\n\n"))
att3 = put(orig, "mbox-att.bin", bytes(rnd.randrange(256) for _ in range(500)))
m3 = put(orig, "message-3.eml", part(
    [b"From: three@example.org", b"To: x@example.org", b"Subject: third",
     b"Date: Wed, 8 May 2024 12:00:00 +0000", b"MIME-Version: 1.0",
     b"Content-Type: multipart/mixed; boundary=b3"],
    multipart(b"b3", [
        part([b"Content-Type: text/plain"], b"see the attachment\n"),
        part([b"Content-Type: application/octet-stream",
              b"Content-Disposition: attachment; filename=mbox-att.bin",
              b"Content-Transfer-Encoding: base64"], b64(att3)),
    ])))


def mboxrd_quote(msg):
    lines = msg.split(b"\n")
    q = []
    for i, line in enumerate(lines):
        s = line.lstrip(b">")
        # the writer quotes every (>*)From line... except the one this test keeps unquoted
        if s.startswith(b"From ") and not line.startswith(b"From not-a-separator"):
            line = b">" + line
        q.append(line)
    return b"\n".join(q)


box = b""
for k, m in enumerate((m1, m2, m3)):
    box += b"From sender@example.org Wed May  8 1%d:00:00 2024\n" % k + mboxrd_quote(m) + b"\n"
put(inp, "box.mbox", box)

# ---------------------------------------------------------------- 3. robustness
whole = put(orig, "whole.bin", bytes(rnd.randrange(256) for _ in range(300)))
cutdata = bytes(rnd.randrange(256) for _ in range(57 * 10))
kept = put(orig, "cut-kept.bin", cutdata[:57 * 6])  # six whole base64 lines survive the cut
put(inp, "cut.eml", part(
    [b"From: a@example.org", b"Subject: cut short", b"MIME-Version: 1.0",
     b"Content-Type: multipart/mixed; boundary=cb"],
    b"--cb\n" + part([b"Content-Type: text/plain"], b"hello\n") + b"\n"
    + b"--cb\n" + part([b"Content-Type: application/octet-stream; name=whole.bin",
                        b"Content-Transfer-Encoding: base64"], b64(whole)) + b"\n"
    + b"--cb\n" + part([b"Content-Type: application/octet-stream; name=cut.bin",
                        b"Content-Transfer-Encoding: base64"],
                       b"\n".join(b64(cutdata).split(b"\n")[:6]) + b"\n")))

noisy = put(orig, "noisy.bin", bytes(rnd.randrange(256) for _ in range(400)))
enc = base64.b64encode(noisy)
junk = [b" ", b"!", b"\t", b"~~", b"#", b"  * ", b"\r", b"\x7f", b"\xe2\x80\xa6"]
noise = b""
for i in range(0, len(enc), 7):
    noise += enc[i:i + 7] + junk[(i // 7) % len(junk)]
    if i % 49 == 0:
        noise += b"\n"
noise += b"\n"
uu = put(orig, "uu-raw.txt", b"begin 644 x.txt\n#86)C\n`\nend\n")
dangling = put(orig, "dangling-kept.bin", b"ABCDEF")
put(inp, "odd.eml", part(
    [b"From: a@example.org", b"Subject: odd encodings", b"MIME-Version: 1.0",
     b"Content-Type: multipart/mixed; boundary=ob"],
    multipart(b"ob", [
        part([b"Content-Type: application/octet-stream; name=noisy.bin",
              b"Content-Transfer-Encoding: base64"], noise),
        part([b"Content-Type: application/octet-stream; name=uu.bin",
              b"Content-Transfer-Encoding: x-uuencode"], uu),
        part([b"Content-Type: application/octet-stream; name=dangling.bin",
              b"Content-Transfer-Encoding: base64"], base64.b64encode(dangling) + b"Q\n"),
    ])))

put(inp, "from-here.txt", b"From here on, everything is a plain text note.\n"
    b"It was written on a Tuesday.\n\nFrom then on, nothing.\n")
put(inp, "subject-only.txt", b"Subject: x\nDate: Wed, 8 May 2024 12:00:00 +0000\n\nno From: field\n")
