#!/usr/bin/env python3
"""make-hostile-corpus.py — writes the hostile-archive corpus custos's container reader is
tested against.

Usage: testdata/make-hostile-corpus.py OUTDIR

OUTDIR is created (it must not exist, or be empty). Every file is built from bytes in
this script: nothing is downloaded and nothing outside OUTDIR is written except a
temporary directory for the 7z program. Timestamps are fixed at 2020-01-01T00:00:00Z,
owners are root/0, contents come from fixed text and a SHA-256 counter stream, and
members are written in a fixed order, so two runs give byte-identical files *with the
same zlib, liblzma and 7-Zip*: deflate/LZMA encoders are deterministic but their exact
output may change between library versions (e.g. zlib-ng builds deflate differently).
ordinary.7z is made by the `7z` program (Debian p7zip-full, which is 7-Zip 26.02 in
Debian 12's 16.02+really26.02 package; with -mmt=1 and fixed mtimes and modes its output
was byte-identical across runs). The encrypted archives are NOT made by 7z: 7-Zip
draws a fresh random IV (7z AES) or salt (WinZip AES) on every run and has no option to
fix it, so this script encrypts itself (a small pure-Python AES-256) with IVs/salts
derived from fixed seeds; the results are checked with `7z t` by hand (see
hostile-corpus.md). Runs in about a second; OUTDIR ends up about 1 MiB.

Files (hostile-corpus.md has the table of what a careful reader should find):

zip-slip.zip          five deflated members whose names escape or confuse a path:
                      "../../evil.txt", "/etc/passwd-evil", "..\\..\\win.txt" (literal
                      backslashes), "a/../../b.txt" and "ctrl\\x01\\x1b[31mname.txt"
                      (a control byte and an ANSI colour escape). Each has its own text.
symlink-through.tar   ustar: symlink "link" -> "/tmp", then regular file "link/pwned.txt"
                      ("through the link\\n", 17 bytes) whose path goes through the link,
                      then hard link "hardlink" -> "link/pwned.txt".
zbsm.zip              overlapping-entry zip bomb after David Fifield's "A better zip bomb"
                      (2019), quoted-overlap variant: 52 local file headers ("00".."51")
                      followed by one shared deflate kernel (100 MiB of b"a"). Between
                      header i and header i+1 sits a 5-byte non-final *stored* deflate
                      block header that quotes header i+1, so member i's deflate stream is
                      "quote, header i+1, quote, header i+2, ..., kernel" and decodes to
                      the later local headers followed by 100 MiB of "a". Every member has
                      a correct CRC-32 and sizes; declared total about 5.08 GiB from about
                      104 KiB (deflate tops out near 1032:1, so 100 MiB per member and
                      >= 5 GiB in total cannot fit under 100 KiB; see hostile-corpus.md).
zbsm-full-overlap.zip the simpler variant: one local header "bomb.txt" + the same kernel,
                      and 52 central-directory entries that all point at offset 0 (so all
                      52 are named "bomb.txt" — the local and central names must match
                      for strict readers). 52 x 100 MiB declared.
42-nested.zip         42.zip-style recursive bomb, 5 levels of zip, every zip has 16
                      members: 42-nested.zip > lib-0..f.zip > book-0..f.zip >
                      chapter-0..f.zip > doc-0..f.zip > page-0..f.bin, each page 64 MiB of
                      zeros (deflated). 16^5 = 1,048,576 leaves, 64 TiB in all.
self-containing.zip   a true zip quine (Russ Cox, "Zip Files All The Way Down", 2010, with
                      a construction of our own): one deflated member "self.zip" whose
                      decompressed bytes are exactly the bytes of self-containing.zip
                      (the CRC-32 is a fixed point found by solving a GF(2) linear system).
                      A reader that opens members recursively never reaches a bottom.
lying-sizes.zip       "claims-10-bytes.bin": local and central headers say 10 bytes, the
                      deflate data decodes to 1 MiB of "X" (CRC is that of the real 1 MiB);
                      "wrong-crc.txt": sizes right, CRC-32 field wrong; "claims-1GiB.bin":
                      headers say 1 GiB, the data decodes to the 5 bytes "short";
                      "honest.txt": a correct control member.
lying-sizes.tar       "first.txt" (honest), then "truncated.bin" whose header says
                      1,048,576 bytes but the file ends after 1000 bytes of it (no padding,
                      no end-of-archive blocks).
ordinary.7z           made by 7z: five members m1-text.txt .. m5-text.txt (about 2 KB each,
                      text and pseudo-random binary, solid LZMA2).
truncated.7z          the first half of ordinary.7z (the 7z header, at the end, is lost).
truncated.zip         a zip of the same five members cut in the middle of the 3rd member's
                      deflate data; members 4-5 and the central directory are gone.
empty-100k.tar.gz     gzip of a ustar archive of 100,000 empty regular files "e/000000" ..
                      "e/099999" (no directory entry); about 51 MB uncompressed.
depth-20.zip          20 nested zips: depth-20.zip holds d19.zip, which holds d18.zip, ...,
                      d1.zip holds d0.txt ("bottom\\n"). Depth counts archives, the
                      outermost being depth 1: dK.zip is at depth 21-K, so d0.txt is a
                      member of the depth-20 archive (it is the 21st object counting the
                      outer file as the 1st).
encrypted.zip         traditional PKWARE ZipCrypto, password "correct horse": secret-1.txt
                      (deflated) and secret-2.txt (stored). Names are visible.
encrypted-aes.zip     WinZip AES-256 (method 99, extra 0x9901), same password and members:
                      secret-1.txt AE-1 (deflate, CRC kept), secret-2.txt AE-2 (stored,
                      CRC field 0). Names are visible.
encrypted.7z          7z, AES-256 + LZMA2 (one solid folder), the same two members; header
                      not encrypted, so names, sizes and CRCs are visible (7z -mhe=off).
encrypted-headers.7z  the same with the header encrypted too (7z -mhe=on): without the
                      password nothing, not even the member count, can be listed.
password.txt          "correct horse\\n"
wrong-password.txt    "incorrect horse\\n" (checked not to pass ZipCrypto's or WinZip's
                      password check by chance).
names.zip             six members with hostile names: b"bad\\xff\\xfe.txt" with the UTF-8
                      flag (bit 11) set although it is not UTF-8; b"latin1-\\xdcbersicht.txt"
                      without the flag (Latin-1 bytes; CP437 per the spec); "dup.txt" twice
                      with different content; "café.txt" in NFC (U+00E9) and in NFD
                      (e + U+0301), both flagged UTF-8. Python's zipfile refuses to open
                      this file because of the first name.
devices.tar           ustar: directory "dev/", character device "dev/char-1-3" (1,3), block
                      device "dev/block-8-0" (8,0), fifo "dev/fifo", regular "dev/regular.txt".
ordinary.zip          12 files in nested directories (text, UTF-8 name, CSV, PDF, PNG,
                      random and zero binary, an empty file), with directory entries.
ordinary.tar.gz       the same tree as a pax tar, gzip'd: the files must read the same as
                      from ordinary.zip (compare with `bsdtar -xOf`).
"""

import gzip
import hashlib
import hmac
import io
import lzma
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
import zlib

EPOCH = 1577836800  # 2020-01-01T00:00:00Z
DATE_TIME = (2020, 1, 1, 0, 0, 0)
DOS_TIME, DOS_DATE = 0, ((2020 - 1980) << 9) | (1 << 5) | 1
MiB = 1 << 20
PASSWORD = b"correct horse"
WRONG_PASSWORD = b"incorrect horse"


# ---------------------------------------------------------------------------------------
# Deterministic content


def prng(seed, n):
    """n pseudo-random bytes: SHA-256 in counter mode over a text seed."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"%s/%d" % (seed.encode(), i)).digest()
        i += 1
    return bytes(out[:n])


WORDS = (
    "custody evidence ledger archive witness exhibit sealed transfer account shipment "
    "container invoice meeting source signature record harbor mineral supplier buyer "
    "payment advance quarter cargo route second third draft final copy signed notary "
    "court clerk memo ledger audit vault hash chain log commit review the a of and to "
    "in on for with by from"
).split()


def text(seed, size):
    """About size bytes of word salad in lines of at most 72 bytes, ending in a newline."""
    rnd = prng(seed, size)
    out, line = [], []
    i = 0
    while sum(map(len, out)) < size:
        w = WORDS[rnd[i % size] % len(WORDS)]
        i += 1
        if len(" ".join(line + [w])) > 72:
            out.append(" ".join(line) + "\n")
            line = []
        line.append(w)
    data = "".join(out).encode()[: size - 1]
    return data + b"\n"


def png_gradient(w=16, h=16):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = b"".join(b"\0" + bytes(v for x in range(w) for v in (x * 16, y * 16, 128)) for y in range(h))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


MINI_PDF = (
    b"%PDF-1.4\n1 0 obj <</Type/Catalog/Pages 2 0 R>> endobj\n"
    b"2 0 obj <</Type/Pages/Kids[3 0 R]/Count 1>> endobj\n"
    b"3 0 obj <</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>> endobj\n"
    b"trailer <</Root 1 0 R>>\n%%EOF\n"
)

# The tree of ordinary.zip / ordinary.tar.gz: (path, bytes), directories end in "/".
ORDINARY = sorted(
    [
        ("README.txt", b"Ordinary comparison archive for the custos container reader.\n" + text("readme", 600)),
        ("data/", None),
        ("data/random.bin", prng("ordinary/random", 4096)),
        ("data/transfers.csv", b"date,account,amount_eur,memo\n2024-03-04,CH93-0076,1250000.00,advance\n"
         b"2024-04-18,CH93-0076,-40000.00,fee\n2024-05-02,LU28-0019,890000.00,\"consulting, Q2\"\n"),
        ("data/zeros.bin", bytes(8192)),
        ("deep/", None),
        ("deep/a/", None),
        ("deep/a/b/", None),
        ("deep/a/b/c/", None),
        ("deep/a/b/c/deep.txt", b"four directories down\n"),
        ("docs/", None),
        ("docs/letter.txt", "Chère Madame,\nvoici les pièces demandées.\nGrüße, Jörg\n".encode()),
        ("docs/notes/", None),
        ("docs/notes/todo.md", b"# To do\n\n- hash every exhibit\n- sign the checkpoint\n" + text("todo", 300)),
        ("docs/résumé.txt", "Curriculum vitæ — UTF-8 name.\n".encode()),
        ("docs/side-letter.pdf", MINI_PDF),
        ("empty.txt", b""),
        ("img/", None),
        ("img/gradient.png", png_gradient()),
        ("src/", None),
        ("src/hello.c", b'#include <stdio.h>\n\nint main(void)\n{\n\tputs("hello");\n\treturn 0;\n}\n'),
    ]
)

# The five ~2 KB members of ordinary.7z, truncated.7z and truncated.zip.
FIVE = [
    ("m1-text.txt", text("five/1", 2000)),
    ("m2-binary.bin", prng("five/2", 2048)),
    ("m3-text.txt", text("five/3", 2000)),
    ("m4-binary.bin", prng("five/4", 2048)),
    ("m5-text.txt", text("five/5", 2000)),
]

SECRETS = [
    ("secret-1.txt", b"The ledger for account CH93-0076 is in the second vault.\n" * 12),
    ("secret-2.txt", b"Second secret: the meeting moved to Thursday.\n"),
]


# ---------------------------------------------------------------------------------------
# Zip, written by hand where zipfile would refuse or normalise


def raw_deflate(data, level=9):
    c = zlib.compressobj(level, zlib.DEFLATED, -15, 9)
    return c.compress(data) + c.flush()


def local_header(name, *, method, crc, csize, usize, flags=0, extra=b"", version=20):
    return (
        struct.pack("<IHHHHHIIIHH", 0x04034B50, version, flags, method, DOS_TIME, DOS_DATE,
                    crc, csize, usize, len(name), len(extra))
        + name + extra
    )


def central_header(name, *, method, crc, csize, usize, offset, flags=0, extra=b"", version=20,
                   attr=0o100644 << 16):
    return (
        struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, (3 << 8) | version, version, flags, method,
                    DOS_TIME, DOS_DATE, crc, csize, usize, len(name), len(extra), 0, 0, 0, attr, offset)
        + name + extra
    )


def end_record(count, cd_size, cd_offset, comment=b""):
    return struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, cd_size, cd_offset, len(comment)) + comment


def member(name, data, method=8, **override):
    """A member dict for build_zip: data as given is compressed with deflate (method 8) or
    stored (0); override may replace crc, usize, flags, extra, version or the stored bytes."""
    m = dict(name=name, data=raw_deflate(data) if method == 8 else data, method=method,
             crc=zlib.crc32(data), usize=len(data), flags=0, extra=b"", version=20)
    m.update(override)
    return m


def build_zip(members, comment=b""):
    body, cd = bytearray(), bytearray()
    for m in members:
        f = dict(method=m["method"], crc=m["crc"], csize=len(m["data"]), usize=m["usize"],
                 flags=m["flags"], extra=m["extra"], version=m["version"])
        cd += central_header(m["name"], offset=len(body), **f)
        body += local_header(m["name"], **f) + m["data"]
    return bytes(body + cd + end_record(len(members), len(cd), len(body), comment))


def zipfile_zip(entries):
    """An ordinary zip made by Python's zipfile: (name, bytes or None for a directory)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in entries:
            zi = zipfile.ZipInfo(name, date_time=DATE_TIME)
            zi.create_system = 3
            if data is None:
                zi.external_attr = (0o40755 << 16) | 0x10
                z.writestr(zi, b"")
            else:
                zi.external_attr = 0o100644 << 16
                zi.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(zi, data, compresslevel=9)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------
# Tar and gzip


def tar_info(name, kind=tarfile.REGTYPE, size=0, mode=0o644, linkname="", dev=(0, 0)):
    ti = tarfile.TarInfo(name)
    ti.type, ti.size, ti.mode, ti.linkname = kind, size, mode, linkname
    ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = EPOCH, 0, 0, "root", "root"
    ti.devmajor, ti.devminor = dev
    return ti


def tar_bytes(members, fmt=tarfile.USTAR_FORMAT):
    """members: (TarInfo, bytes or None)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for ti, data in members:
            t.addfile(ti, io.BytesIO(data) if data else None)
    return buf.getvalue()


def gz(data, level=9):
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=level, mtime=0) as g:
        g.write(data)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------
# CRC-32 helpers


def _gf2_times(mat, vec):
    s, i = 0, 0
    while vec:
        if vec & 1:
            s ^= mat[i]
        vec >>= 1
        i += 1
    return s


def _gf2_square(mat):
    return [_gf2_times(mat, mat[n]) for n in range(32)]


def crc32_combine(crc1, crc2, len2):
    """CRC-32 of A||B from crc(A), crc(B) and len(B) (zlib's crc32_combine)."""
    if len2 == 0:
        return crc1
    odd = [0xEDB88320] + [1 << (n - 1) for n in range(1, 32)]
    even = _gf2_square(odd)
    odd = _gf2_square(even)
    while True:
        even = _gf2_square(odd)
        if len2 & 1:
            crc1 = _gf2_times(even, crc1)
        len2 >>= 1
        if not len2:
            break
        odd = _gf2_square(even)
        if len2 & 1:
            crc1 = _gf2_times(odd, crc1)
        len2 >>= 1
        if not len2:
            break
    return crc1 ^ crc2


def gf2_solve(columns, target):
    """x with XOR of columns[i] for the bits i of x == target, or None."""
    pivots = {}
    for i, v in enumerate(columns):
        c = 1 << i
        while v:
            hb = v.bit_length() - 1
            if hb not in pivots:
                pivots[hb] = (v, c)
                break
            v, c = v ^ pivots[hb][0], c ^ pivots[hb][1]
    x = 0
    while target:
        hb = target.bit_length() - 1
        if hb not in pivots:
            return None
        target, x = target ^ pivots[hb][0], x ^ pivots[hb][1]
    return x


# ---------------------------------------------------------------------------------------
# Raw deflate blocks written bit by bit (for the quine)

LEN_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99,
            115, 131, 163, 195, 227, 258]
LEN_EXTRA = [0] * 8 + [1] * 4 + [2] * 4 + [3] * 4 + [4] * 4 + [5] * 4 + [0]
DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025,
             1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
DIST_EXTRA = [0, 0, 0, 0] + [k // 2 for k in range(2, 28)]


class BitWriter:
    def __init__(self):
        self.out, self.acc, self.n = bytearray(), 0, 0

    def bits(self, value, count):  # deflate packs values LSB first
        self.acc |= value << self.n
        self.n += count
        while self.n >= 8:
            self.out.append(self.acc & 0xFF)
            self.acc >>= 8
            self.n -= 8

    def huff(self, code, length):  # Huffman codes go MSB first
        self.bits(int(format(code, "0%db" % length)[::-1], 2), length)

    def align(self):
        if self.n:
            self.bits(0, 8 - self.n)


def fixed_symbol(bw, sym):
    if sym < 144:
        bw.huff(0x30 + sym, 8)
    elif sym < 256:
        bw.huff(0x190 + sym - 144, 9)
    elif sym < 280:
        bw.huff(sym - 256, 7)
    else:
        bw.huff(0xC0 + sym - 280, 8)


def fixed_copy(bw, length, dist):
    i = max(k for k in range(29) if LEN_BASE[k] <= length)
    fixed_symbol(bw, 257 + i)
    bw.bits(length - LEN_BASE[i], LEN_EXTRA[i])
    j = max(k for k in range(30) if DIST_BASE[k] <= dist)
    bw.huff(j, 5)
    bw.bits(dist - DIST_BASE[j], DIST_EXTRA[j])


def stored_header(length, final):
    """A byte-aligned stored block header: the next `length` bytes are literal output."""
    return bytes([1 if final else 0]) + struct.pack("<HH", length, length ^ 0xFFFF)


def repeat_op(n, size):
    """Non-final deflate blocks, exactly `size` bytes, starting and ending on a byte
    boundary, whose only output is a copy of the last n bytes (distance n, length n).
    Padding: empty fixed-Huffman blocks (10 bits each), then empty stored blocks."""
    splits = [[n]] + [[a, n - a] for a in range(3, n - 2)]
    for pieces in splits:
        if not all(3 <= p <= 258 for p in pieces):
            continue
        for empties in range(64):
            for close in (False, True):
                bw = BitWriter()
                bw.bits(0, 1), bw.bits(1, 2)
                for p in pieces:
                    fixed_copy(bw, p, n)
                fixed_symbol(bw, 256)
                for _ in range(empties):
                    bw.bits(0, 1), bw.bits(1, 2), fixed_symbol(bw, 256)
                if not close:
                    if bw.n == 0 and len(bw.out) == size:
                        return bytes(bw.out)
                    continue
                bw.bits(0, 3)
                bw.align()
                bw.out += b"\0\0\xff\xff"
                pad = size - len(bw.out)
                if pad >= 0 and pad % 5 == 0:
                    return bytes(bw.out) + stored_header(0, False) * (pad // 5)
    return None


def quine_zip(name=b"self.zip"):
    """A zip whose one deflated member decompresses to the whole zip.

    With l = 5 (a stored-block header), P the local header (p bytes), S the central
    directory + end record (s bytes), R a block that repeats the last n bytes (r bytes),
    Lh a non-final stored header for n bytes and Lf a final one for s bytes, the deflate
    data is
        Lh [P Lh] R Lh [R Lh R Lh] R Lh [R Lf S] R Lf S        ([..] = literal bytes)
    with n = p + l = 2(r + l) = r + l + s. Decoding it outputs P, then the data itself
    (each R copies the n bytes just written, which are the next n bytes of the stream),
    then S: the whole file. s is fixed by the name, so r = s - l and p = 2r + l (P is
    padded with an extra field). The CRC-32 appears in P and S, both inside and outside
    the deflate data, and the file's CRC is an affine function of it over GF(2), so a
    fixed point is found by solving a 32x32 linear system."""
    l = 5
    for comment in (b"", b"q", b"qu", b"qui", b"quin", b"quine"):
        s = 46 + len(name) + 22 + len(comment)
        r = s - l
        n = 2 * r + 2 * l
        p = n - l
        extra_len = p - 30 - len(name)
        rep = repeat_op(n, r)
        if rep is None or extra_len < 4:
            continue
        zlen = 4 * l + 3 * n + 3 * r + s
        lh, lf = stored_header(n, False), stored_header(s, True)
        for seed in range(32):
            # Padding extra field; 0xD935 is the id Android's zipalign uses for padding.
            extra = struct.pack("<HH", 0xD935, extra_len - 4) + prng("quine/%d" % seed, extra_len - 4)

            def build(crc):
                hdr = dict(method=8, crc=crc, csize=zlen, usize=p + zlen + s)
                P = local_header(name, extra=extra, **hdr)
                S = central_header(name, offset=0, **hdr) + end_record(1, 46 + len(name), p + zlen, comment)
                Z = lh + P + lh + rep + lh + rep + lh + rep + lh + rep + lh + rep + lf + S + rep + lf + S
                assert (len(P), len(S), len(Z)) == (p, s, zlen)
                return P + Z + S

            f0 = zlib.crc32(build(0))
            cols = [zlib.crc32(build(1 << i)) ^ f0 ^ (1 << i) for i in range(32)]
            crc = gf2_solve(cols, f0)
            if crc is None:
                continue
            data = build(crc)
            assert zlib.crc32(data) == crc
            assert zlib.decompress(data[p : p + zlen], -15) == data
            return data
    raise RuntimeError("no quine layout found")


# ---------------------------------------------------------------------------------------
# AES-256 (encryption direction only: CBC for 7z, CTR for WinZip AES), pure Python


def _aes_tables():
    def rotl8(x, k):
        return ((x << k) | (x >> (8 - k))) & 0xFF

    sbox = [0] * 256
    p = q = 1
    while True:
        p = (p ^ (p << 1) ^ (0x1B if p & 0x80 else 0)) & 0xFF
        q = (q ^ (q << 1)) & 0xFF
        q = (q ^ (q << 2)) & 0xFF
        q = (q ^ (q << 4)) & 0xFF
        if q & 0x80:
            q ^= 0x09
        sbox[p] = q ^ rotl8(q, 1) ^ rotl8(q, 2) ^ rotl8(q, 3) ^ rotl8(q, 4) ^ 0x63
        if p == 1:
            break
    sbox[0] = 0x63

    def xt(a):
        return ((a << 1) ^ 0x11B) if a & 0x80 else a << 1

    t0 = [(xt(s) << 24) | (s << 16) | (s << 8) | (xt(s) ^ s) for s in sbox]
    ts = [t0] + [[((t >> k) | (t << (32 - k))) & 0xFFFFFFFF for t in t0] for k in (8, 16, 24)]
    return sbox, ts, xt


SBOX, (T0, T1, T2, T3), _XT = _aes_tables()


def aes256_key(key):
    def sub(t):
        return (SBOX[t >> 24] << 24) | (SBOX[(t >> 16) & 255] << 16) | (SBOX[(t >> 8) & 255] << 8) | SBOX[t & 255]

    w = list(struct.unpack(">8I", key))
    rcon = 1
    for i in range(8, 60):
        t = w[i - 1]
        if i % 8 == 0:
            t = sub(((t << 8) | (t >> 24)) & 0xFFFFFFFF) ^ (rcon << 24)
            rcon = _XT(rcon)
        elif i % 8 == 4:
            t = sub(t)
        w.append(w[i - 8] ^ t)
    return w


def aes256_block(w, block):
    s0, s1, s2, s3 = struct.unpack(">4I", block)
    s0, s1, s2, s3 = s0 ^ w[0], s1 ^ w[1], s2 ^ w[2], s3 ^ w[3]
    for k in range(4, 56, 4):
        s0, s1, s2, s3 = (
            T0[s0 >> 24] ^ T1[(s1 >> 16) & 255] ^ T2[(s2 >> 8) & 255] ^ T3[s3 & 255] ^ w[k],
            T0[s1 >> 24] ^ T1[(s2 >> 16) & 255] ^ T2[(s3 >> 8) & 255] ^ T3[s0 & 255] ^ w[k + 1],
            T0[s2 >> 24] ^ T1[(s3 >> 16) & 255] ^ T2[(s0 >> 8) & 255] ^ T3[s1 & 255] ^ w[k + 2],
            T0[s3 >> 24] ^ T1[(s0 >> 16) & 255] ^ T2[(s1 >> 8) & 255] ^ T3[s2 & 255] ^ w[k + 3],
        )
    S = SBOX
    return struct.pack(
        ">4I",
        ((S[s0 >> 24] << 24) | (S[(s1 >> 16) & 255] << 16) | (S[(s2 >> 8) & 255] << 8) | S[s3 & 255]) ^ w[56],
        ((S[s1 >> 24] << 24) | (S[(s2 >> 16) & 255] << 16) | (S[(s3 >> 8) & 255] << 8) | S[s0 & 255]) ^ w[57],
        ((S[s2 >> 24] << 24) | (S[(s3 >> 16) & 255] << 16) | (S[(s0 >> 8) & 255] << 8) | S[s1 & 255]) ^ w[58],
        ((S[s3 >> 24] << 24) | (S[(s0 >> 16) & 255] << 16) | (S[(s1 >> 8) & 255] << 8) | S[s2 & 255]) ^ w[59],
    )


def _xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


def aes256_cbc(key, iv, data):
    """CBC with zero padding to 16 bytes, as 7-Zip writes it."""
    w = aes256_key(key)
    data += bytes(-len(data) % 16)
    out, prev = bytearray(), iv
    for i in range(0, len(data), 16):
        prev = aes256_block(w, _xor(data[i : i + 16], prev))
        out += prev
    return bytes(out)


def aes256_ctr_le(key, data):
    """WinZip AES: CTR mode with a 128-bit little-endian counter starting at 1."""
    w = aes256_key(key)
    out = bytearray()
    for i in range(0, len(data), 16):
        ks = aes256_block(w, (i // 16 + 1).to_bytes(16, "little"))
        out += _xor(data[i : i + 16], ks)
    return bytes(out)


# FIPS-197 appendix C.3
assert aes256_block(aes256_key(bytes(range(32))), bytes.fromhex("00112233445566778899aabbccddeeff")) == \
    bytes.fromhex("8ea2b7ca516745bfeafc49904b496089")


# ---------------------------------------------------------------------------------------
# ZipCrypto (PKWARE APPNOTE 6.1) and WinZip AES

CRC_TABLE = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ 0xEDB88320 if _c & 1 else _c >> 1
    CRC_TABLE.append(_c)


class ZipCrypto:
    def __init__(self, password):
        self.k0, self.k1, self.k2 = 0x12345678, 0x23456789, 0x34567890
        for b in password:
            self.update(b)

    def update(self, b):
        self.k0 = CRC_TABLE[(self.k0 ^ b) & 0xFF] ^ (self.k0 >> 8)
        self.k1 = ((self.k1 + (self.k0 & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        self.k2 = CRC_TABLE[(self.k2 ^ (self.k1 >> 24)) & 0xFF] ^ (self.k2 >> 8)

    def stream(self):
        t = (self.k2 | 2) & 0xFFFF
        return ((t * (t ^ 1)) >> 8) & 0xFF

    def encrypt(self, data):
        out = bytearray()
        for b in data:
            out.append(b ^ self.stream())
            self.update(b)
        return bytes(out)

    def decrypt(self, data):
        out = bytearray()
        for b in data:
            out.append(b ^ self.stream())
            self.update(out[-1])
        return bytes(out)


def zipcrypto_member(name, data, method):
    m = member(name, data, method)
    crc = m["crc"]
    header = prng("zipcrypto/" + name.decode(), 11) + bytes([crc >> 24])
    enc = ZipCrypto(PASSWORD).encrypt(header + m["data"])
    # A wrong password must not pass the one-byte check by chance.
    assert ZipCrypto(WRONG_PASSWORD).decrypt(enc[:12])[11] != crc >> 24
    m.update(data=enc, flags=1)
    return m


def winzip_aes_member(name, data, method, ae):
    comp = raw_deflate(data) if method == 8 else data
    salt = prng("winzip-aes/" + name.decode(), 16)
    dk = hashlib.pbkdf2_hmac("sha1", PASSWORD, salt, 1000, 66)
    ct = aes256_ctr_le(dk[:32], comp)
    mac = hmac.new(dk[32:64], ct, "sha1").digest()[:10]
    assert hashlib.pbkdf2_hmac("sha1", WRONG_PASSWORD, salt, 1000, 66)[64:] != dk[64:]
    extra = struct.pack("<HHH2sBH", 0x9901, 7, ae, b"AE", 3, method)
    return dict(name=name, data=salt + dk[64:] + ct + mac, method=99,
                crc=zlib.crc32(data) if ae == 1 else 0, usize=len(data), flags=1, extra=extra, version=51)


# ---------------------------------------------------------------------------------------
# 7z with AES, written by hand (7-Zip itself draws a random IV on every run).
# Layout mirrors 7-Zip 26: one solid folder with coders [7zAES, LZMA2], LZMA2's input bound
# to AES's output; the encoded header (-mhe=on) is a second such folder. 7-Zip compresses
# an encoded header with LZMA, we use LZMA2 (Python's raw LZMA1 encoder always writes an
# end marker).


def num7(n):
    """7z variable-length number."""
    for extra in range(9):
        if extra == 8 or n < (1 << (7 * (extra + 1))):
            break
    if extra == 0:
        return bytes([n])
    if extra == 8:
        return b"\xff" + n.to_bytes(8, "little")
    first = ((0xFF << (8 - extra)) & 0xFF) | (n >> (8 * extra))
    return bytes([first]) + (n & ((1 << (8 * extra)) - 1)).to_bytes(extra, "little")


def sevenzip_key(password, cycles_power=19):
    pw = password.decode().encode("utf-16-le")
    return hashlib.sha256(b"".join(pw + i.to_bytes(8, "little") for i in range(1 << cycles_power))).digest()


def _aes_lzma2_folder(plain, key, iv):
    dict_size = 1 << 20
    lz = lzma.compress(plain, format=lzma.FORMAT_RAW,
                       filters=[{"id": lzma.FILTER_LZMA2, "preset": 9, "dict_size": dict_size}])
    packed = aes256_cbc(key, iv, lz)
    dict_prop = next(p for p in range(41) if dict_size <= (2 | (p & 1)) << (p // 2 + 11))
    aes_props = bytes([0x40 | 19, 0x0F]) + iv  # 2^19 SHA-256 rounds, no salt, 16-byte IV
    folder = (num7(2) + b"\x24\x06\xf1\x07\x01" + num7(len(aes_props)) + aes_props
              + b"\x21\x21\x01" + bytes([dict_prop]) + num7(1) + num7(0))
    return packed, folder, [len(lz), len(plain)]


def _streams_info(pack_pos, packed, folder, unpack_sizes, folder_crc=None):
    out = b"\x06" + num7(pack_pos) + num7(1) + b"\x09" + num7(len(packed)) + b"\x00"
    out += b"\x07\x0b" + num7(1) + b"\x00" + folder + b"\x0c" + b"".join(map(num7, unpack_sizes))
    if folder_crc is not None:
        out += b"\x0a\x01" + struct.pack("<I", folder_crc)
    return out + b"\x00"


def sevenzip_encrypted(files, encrypt_header, seed):
    key = sevenzip_key(PASSWORD)
    plain = b"".join(d for _, d in files)
    packed, folder, sizes = _aes_lzma2_folder(plain, key, prng(seed + "/iv", 16))
    substreams = (b"\x08\x0d" + num7(len(files)) + b"\x09" + b"".join(num7(len(d)) for _, d in files[:-1])
                  + b"\x0a\x01" + b"".join(struct.pack("<I", zlib.crc32(d)) for _, d in files) + b"\x00")

    def prop(pid, body):
        return bytes([pid]) + num7(len(body)) + body

    names = b"".join((n + "\0").encode("utf-16-le") for n, _ in files)
    filetime = (EPOCH + 11644473600) * 10**7
    files_info = (b"\x05" + num7(len(files))
                  + prop(0x11, b"\x00" + names)
                  + prop(0x14, b"\x01\x00" + struct.pack("<Q", filetime) * len(files))
                  + prop(0x15, b"\x01\x00" + struct.pack("<I", 0x20 | 0x8000 | (0o100644 << 16)) * len(files))
                  + b"\x00")
    header = b"\x01\x04" + _streams_info(0, packed, folder, sizes) + substreams + b"\x00" + files_info + b"\x00"
    body = packed
    if encrypt_header:
        hpacked, hfolder, hsizes = _aes_lzma2_folder(header, key, prng(seed + "/header-iv", 16))
        header = b"\x17" + _streams_info(len(body), hpacked, hfolder, hsizes, zlib.crc32(header)) + b"\x00"
        body += hpacked
    start = struct.pack("<QQI", len(body), len(header), zlib.crc32(header))
    return b"7z\xbc\xaf\x27\x1c\x00\x04" + struct.pack("<I", zlib.crc32(start)) + start + body + header


# ---------------------------------------------------------------------------------------
# The corpus


def make_zip_slip():
    return zipfile_zip([
        ("../../evil.txt", b"zip-slip: two levels above the extraction directory\n"),
        ("/etc/passwd-evil", b"zip-slip: an absolute path\n"),
        ("..\\..\\win.txt", b"zip-slip: backslash separators, two levels up on Windows\n"),
        ("a/../../b.txt", b"zip-slip: a .. hidden after a harmless component\n"),
        ("ctrl\x01\x1b[31mname.txt", b"zip-slip: a control byte and an ANSI escape in the name\n"),
    ])


def make_symlink_through():
    return tar_bytes([
        (tar_info("link", tarfile.SYMTYPE, mode=0o777, linkname="/tmp"), None),
        (tar_info("link/pwned.txt", size=17), b"through the link\n"),
        (tar_info("hardlink", tarfile.LNKTYPE, linkname="link/pwned.txt"), None),
    ])


ZBSM_FILES = 52           # 52 x 100 MiB = 5.08 GiB declared
ZBSM_KERNEL = 100 * MiB   # each member decodes to at least this many bytes


def zbsm_kernel():
    c = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_RLE)
    chunk = b"a" * MiB
    out = [c.compress(chunk) for _ in range(ZBSM_KERNEL // MiB)]
    out.append(c.flush())
    crc = 0
    for _ in range(ZBSM_KERNEL // MiB):
        crc = zlib.crc32(chunk, crc)
    return b"".join(out), crc


def make_zbsm_quoted(kernel, kcrc):
    n = ZBSM_FILES
    names = [b"%02d" % i for i in range(n)]
    headers, info = [None] * n, [None] * n
    crc, usize, csize = kcrc, ZBSM_KERNEL, len(kernel)
    for i in reversed(range(n)):  # each member's data ends with every later member's
        info[i] = dict(method=8, crc=crc, csize=csize, usize=usize)
        headers[i] = local_header(names[i], **info[i])
        crc = crc32_combine(zlib.crc32(headers[i]), crc, usize)
        usize += len(headers[i])
        csize += 5 + len(headers[i])
    body, cd = bytearray(), bytearray()
    for i in range(n):
        cd += central_header(names[i], offset=len(body), **info[i])
        body += headers[i]
        if i + 1 < n:
            body += stored_header(len(headers[i + 1]), False)  # quotes the next header
    body += kernel
    return bytes(body + cd + end_record(n, len(cd), len(body)))


def make_zbsm_full(kernel, kcrc):
    info = dict(method=8, crc=kcrc, csize=len(kernel), usize=ZBSM_KERNEL)
    body = local_header(b"bomb.txt", **info) + kernel
    cd = central_header(b"bomb.txt", offset=0, **info) * ZBSM_FILES
    return body + cd + end_record(ZBSM_FILES, len(cd), len(body))


def make_42_nested():
    leaf_size = 64 * MiB
    c = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_RLE)
    zero = bytes(MiB)
    leaf = b"".join([c.compress(zero) for _ in range(64)] + [c.flush()])
    crc = 0
    for _ in range(64):
        crc = zlib.crc32(zero, crc)
    level = build_zip([dict(name=b"page-%x.bin" % i, data=leaf, method=8, crc=crc, usize=leaf_size,
                            flags=0, extra=b"", version=20) for i in range(16)])
    for child in ("doc", "chapter", "book", "lib"):
        m = member(b"", level)
        level = build_zip([dict(m, name=b"%s-%x.zip" % (child.encode(), i)) for i in range(16)])
    return level


def make_lying_sizes_zip():
    big = b"X" * MiB
    return build_zip([
        member(b"claims-10-bytes.bin", big, usize=10),
        member(b"wrong-crc.txt", b"this member's CRC-32 field is wrong\n", crc=0xDEADBEEF),
        member(b"claims-1GiB.bin", b"short", usize=1 << 30),
        member(b"honest.txt", b"an honest member after the liars\n"),
    ])


def make_lying_sizes_tar():
    first = b"an honest first member\n"
    out = tar_info("first.txt", size=len(first)).tobuf(tarfile.USTAR_FORMAT, "utf-8", "strict")
    out += first + bytes(-len(first) % 512)
    out += tar_info("truncated.bin", size=MiB).tobuf(tarfile.USTAR_FORMAT, "utf-8", "strict")
    return out + prng("lying-tar", 1000)  # ... and the file ends here


def make_truncated_zip():
    data = zipfile_zip(FIVE)
    z = zipfile.ZipFile(io.BytesIO(data))
    third = z.infolist()[2]
    name_len, extra_len = struct.unpack("<HH", data[third.header_offset + 26 : third.header_offset + 30])
    start = third.header_offset + 30 + name_len + extra_len
    return data[: start + third.compress_size // 2]


def make_ordinary_7z(tmp):
    # Stable output: fixed mtime and mode on the inputs, one thread (-mmt=1; LZMA2 splits
    # its input into blocks differently with several threads), no ctime/atime, explicit
    # member order on the command line.
    src = os.path.join(tmp, "five")
    os.mkdir(src)
    for name, data in FIVE:
        path = os.path.join(src, name)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, 0o644)
        os.utime(path, (EPOCH, EPOCH))
    out = os.path.join(tmp, "ordinary.7z")
    subprocess.run(["7z", "a", "-t7z", "-m0=lzma2", "-mx=9", "-mmt=1", "-ms=on", "-mtm=on", "-mtc=off",
                    "-mta=off", "-bd", "-bso0", "-bsp0", out, "--"] + [n for n, _ in FIVE],
                   cwd=src, check=True)
    with open(out, "rb") as f:
        return f.read()


def make_empty_100k():
    template = bytearray(tar_info("e/000000").tobuf(tarfile.USTAR_FORMAT, "utf-8", "strict"))
    template[148:156] = b" " * 8
    base = sum(template) - sum(b"e/000000")
    parts = []
    for i in range(100000):
        name = b"e/%06d" % i
        h = bytearray(template)
        h[0:8] = name
        h[148:156] = b"%06o\0 " % (base + sum(name))
        parts.append(bytes(h))
    parts.append(bytes(1024))
    tar = b"".join(parts)
    tar += bytes(-len(tar) % 10240)
    return gz(tar, 6)


def make_depth_20():
    data = zipfile_zip([("d0.txt", b"bottom\n")])  # this is d1.zip
    for k in range(2, 20):
        data = zipfile_zip([("d%d.zip" % (k - 1), data)])  # d2.zip .. d19.zip
    return zipfile_zip([("d19.zip", data)])


def make_names_zip():
    utf8 = 0x800
    return build_zip([
        member(b"bad\xff\xfe.txt", b"UTF-8 flag set, name is not UTF-8\n", flags=utf8),
        member(b"latin1-\xdcbersicht.txt", b"no UTF-8 flag, name is Latin-1\n"),
        member(b"dup.txt", b"first dup.txt\n"),
        member(b"dup.txt", b"second dup.txt, different bytes\n"),
        member("caf\u00e9.txt".encode(), b"cafe, NFC: U+00E9\n", flags=utf8),
        member("cafe\u0301.txt".encode(), b"cafe, NFD: e + U+0301\n", flags=utf8),
    ])


def make_devices_tar():
    return tar_bytes([
        (tar_info("dev/", tarfile.DIRTYPE, mode=0o755), None),
        (tar_info("dev/block-8-0", tarfile.BLKTYPE, mode=0o660, dev=(8, 0)), None),
        (tar_info("dev/char-1-3", tarfile.CHRTYPE, mode=0o666, dev=(1, 3)), None),
        (tar_info("dev/fifo", tarfile.FIFOTYPE, mode=0o644), None),
        (tar_info("dev/regular.txt", size=13), b"a plain file\n"),
    ])


def make_ordinary_tar_gz():
    members = []
    for name, data in ORDINARY:
        if data is None:
            members.append((tar_info(name.rstrip("/"), tarfile.DIRTYPE, mode=0o755), None))
        else:
            members.append((tar_info(name, size=len(data)), data))
    return gz(tar_bytes(members, tarfile.PAX_FORMAT))


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: make-hostile-corpus.py OUTDIR\n")
        return 2
    outdir = argv[1]
    if os.path.exists(outdir) and (not os.path.isdir(outdir) or os.listdir(outdir)):
        sys.stderr.write("make-hostile-corpus.py: %s exists and is not an empty directory\n" % outdir)
        return 2
    if not shutil.which("7z"):
        sys.stderr.write("make-hostile-corpus.py: needs the 7z program (Debian package p7zip-full)\n")
        return 2
    t0 = time.monotonic()
    os.makedirs(outdir, exist_ok=True)
    written = []

    def write(name, data):
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(data)
        written.append((name, len(data)))

    write("zip-slip.zip", make_zip_slip())
    write("symlink-through.tar", make_symlink_through())
    kernel, kcrc = zbsm_kernel()
    write("zbsm.zip", make_zbsm_quoted(kernel, kcrc))
    write("zbsm-full-overlap.zip", make_zbsm_full(kernel, kcrc))
    write("42-nested.zip", make_42_nested())
    write("self-containing.zip", quine_zip())
    write("lying-sizes.zip", make_lying_sizes_zip())
    write("lying-sizes.tar", make_lying_sizes_tar())
    with tempfile.TemporaryDirectory(prefix="hostile-corpus-") as tmp:
        seven = make_ordinary_7z(tmp)
    write("ordinary.7z", seven)
    write("truncated.7z", seven[: len(seven) // 2])
    write("truncated.zip", make_truncated_zip())
    write("empty-100k.tar.gz", make_empty_100k())
    write("depth-20.zip", make_depth_20())
    write("encrypted.zip", build_zip([zipcrypto_member(b"secret-1.txt", SECRETS[0][1], 8),
                                      zipcrypto_member(b"secret-2.txt", SECRETS[1][1], 0)]))
    write("encrypted-aes.zip", build_zip([winzip_aes_member(b"secret-1.txt", SECRETS[0][1], 8, 1),
                                          winzip_aes_member(b"secret-2.txt", SECRETS[1][1], 0, 2)]))
    write("encrypted.7z", sevenzip_encrypted(SECRETS, False, "encrypted.7z"))
    write("encrypted-headers.7z", sevenzip_encrypted(SECRETS, True, "encrypted-headers.7z"))
    write("password.txt", PASSWORD + b"\n")
    write("wrong-password.txt", WRONG_PASSWORD + b"\n")
    write("names.zip", make_names_zip())
    write("devices.tar", make_devices_tar())
    write("ordinary.zip", zipfile_zip(ORDINARY))
    write("ordinary.tar.gz", make_ordinary_tar_gz())

    total = sum(size for _, size in written)
    sys.stderr.write("wrote %d files, %d bytes, to %s in %.1f s\n"
                     % (len(written), total, outdir, time.monotonic() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
