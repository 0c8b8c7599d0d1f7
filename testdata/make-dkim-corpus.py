#!/usr/bin/python3
"""make-dkim-corpus.py — writes the DKIM test corpus custos's DKIM verifier is checked
against, with the verdicts python3-dkim (dkimpy) gives on it.

Usage: /usr/bin/python3 testdata/make-dkim-corpus.py OUTDIR

Needs Debian's python3-dkim (dkimpy 1.1.4) and python3-nacl, which only /usr/bin/python3
sees, and the openssl program.  OUTDIR is created (it must not exist, or be empty).
Nothing is downloaded; nothing outside OUTDIR is written.

Keys are made afresh on every run (RSA by `openssl genpkey`, one key per size: 2048,
1024 and 512 bits; Ed25519 by PyNaCl), so keys.zone, the b= values and expected.jsonl's
inputs change from run to run; everything else (headers, bodies, t= = 1704067200, the
order of files) is fixed.  The verdicts do not change: the script stops with an error
if dkimpy's verdict on any signature differs from the one the case was built to have
(the last element of each case in build_cases()).

Files written:

  keys.zone       the public keys as DNS TXT records in dig answer format, split into
                  quoted chunks of at most 255 bytes; ';' lines are comments.
  msgs/CASE.eml   one message per case, the bytes to ingest (CRLF line ends except the
                  cases marked LF below).
  corpus.mbox     every message in sorted case-name order, mboxrd: a "From " line before
                  each, ^>*From lines given one more '>', LF line ends, a blank line after
                  each message.
  expected.jsonl  one line per (case, DKIM-Signature) in sorted case order, top signature
                  first: {"case", "index", "verdict", "d", "s", "a"} from
                  dkim.DKIM(msg).verify(idx=index, dnsfunc=<keys.zone>), a raised
                  dkim.DKIMException counting as "fail".
  cases.txt       "<case> <description>", one line per case.
  README          what the above are.

Signing goes through dkimpy's own DKIM.gen_header() (what DKIM.sign() calls) so that t=
and x= can be set; the signatures are therefore dkimpy's, folded its way.  The one
message not signed here is rfc8463-example (RFC 8463 Appendix A.3, signed by its
author's software).

The zone-file parser and the verdict function are shared with
tests/interop/dkim-reference.py (imported from there), so expected.jsonl and that
script's output agree by construction on the .eml files; what the comparison checks is
the mbox round trip and the files themselves.
"""

import base64
import datetime
import hashlib
import importlib.util
import json
import os
import subprocess
import sys

import dkim
import dkim.crypto
import nacl.encoding
import nacl.signing
from dkim.canonicalization import CanonicalizationPolicy

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, '..', 'tests', 'interop', 'dkim-reference.py')


def load_reference():
    """Import tests/interop/dkim-reference.py (its name is not a module name)."""
    spec = importlib.util.spec_from_file_location('dkim_reference', REFERENCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SIGN_TIME = 1704067200            # t= of every signature made here: 2024-01-01T00:00:00Z
MBOX_FROM_LINE = b'From sender@example.org Mon Jan  1 00:00:00 2024\n'


# ---------------------------------------------------------------------------------------
# Keys.
# ---------------------------------------------------------------------------------------

class Key:
    """A signing key: private form as dkimpy's signer wants it, public p= value."""

    def __init__(self, algo, private, public_b64):
        self.algo = algo                  # b'rsa' or b'ed25519'
        self.private = private            # PEM (rsa) or base64 seed (ed25519), bytes
        self.public_b64 = public_b64      # the p= value, bytes

    def record(self, notes=None):
        """The TXT value publishing this key."""
        tags = [b'v=DKIM1', b'k=' + self.algo]
        if notes:
            tags.append(b'n=' + notes)
        tags.append(b'p=' + self.public_b64)
        return b'; '.join(tags)


def rsa_keys(sizes):
    """{bits: Key}, one fresh RSA key per size; openssl runs in parallel."""
    procs = {bits: subprocess.Popen(
        ['openssl', 'genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:%d' % bits],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE) for bits in sizes}
    keys = {}
    for bits, proc in procs.items():
        pem, err = proc.communicate()
        if proc.returncode:
            sys.exit('openssl genpkey (%d bits) failed: %s' % (bits, err.decode(errors='replace')))
        spki = subprocess.run(['openssl', 'pkey', '-pubout', '-outform', 'DER'], input=pem,
                              stdout=subprocess.PIPE, check=True).stdout
        keys[bits] = Key(b'rsa', pem, base64.b64encode(spki))
    return keys


def ed25519_key():
    sk = nacl.signing.SigningKey.generate()
    return Key(b'ed25519', base64.b64encode(bytes(sk)), base64.b64encode(bytes(sk.verify_key)))


# ---------------------------------------------------------------------------------------
# Signing.
# ---------------------------------------------------------------------------------------

DEFAULT_H = ('from', 'to', 'subject', 'date', 'message-id', 'mime-version', 'content-type')


def sign(msg, key, selector, domain, canon='relaxed/relaxed', algo=None, h=DEFAULT_H,
         identity=None, length=False, t=SIGN_TIME, x=None):
    """msg (CRLF bytes) with a DKIM-Signature prepended.

    Like dkim.DKIM.sign(), but with a fixed t=, an optional x=, h= taken exactly as
    given (repeats and absent names included), and no i= unless identity is given
    (DKIM.sign() always writes i=@domain).
    """
    if algo is None:
        algo = b'rsa-sha256' if key.algo == b'rsa' else b'ed25519-sha256'
    d = dkim.DKIM(msg, signature_algorithm=algo)
    if key.algo == b'rsa':
        pk = dkim.crypto.parse_pem_private_key(key.private)
    else:
        pk = nacl.signing.SigningKey(key.private, encoder=nacl.encoding.Base64Encoder)
    policy = CanonicalizationPolicy.from_c_value(canon.encode())
    include = tuple(name.lower().encode() for name in h)
    body = policy.canonicalize_body(d.body)
    d.hasher = dkim.crypto.HASH_ALGORITHMS[algo]
    bodyhash = base64.b64encode(d.hasher(body).digest())
    fields = [(b'v', b'1'), (b'a', algo), (b'c', policy.to_c_value()), (b'd', domain.encode())]
    if identity:
        fields.append((b'i', identity.encode()))
    if length:
        fields.append((b'l', str(len(body)).encode()))
    fields += [(b'q', b'dns/txt'), (b's', selector.encode()), (b't', str(t).encode())]
    if x is not None:
        fields.append((b'x', str(x).encode()))
    # b= last, with a 60-character placeholder: dkimpy folds it onto its own line so
    # that putting the real value in does not refold the tags before it.
    fields += [(b'h', b' : '.join(include)), (b'bh', bodyhash), (b'b', b'0' * 60)]
    value = d.gen_header(fields, include, policy, b'DKIM-Signature', pk)
    return b'DKIM-Signature: ' + value + msg


# ---------------------------------------------------------------------------------------
# Messages.
# ---------------------------------------------------------------------------------------

def crlf(lines):
    """Join text lines into CRLF-terminated bytes."""
    return ''.join(line + '\r\n' for line in lines).encode('utf-8')


def message(n, subject, body, frm='Alice Example <alice@example.org>',
            to='Bob Example <bob@example.net>', extra=(), content_type='text/plain; charset=utf-8'):
    """A plain message: standard header fields, then body lines (list of str)."""
    headers = [
        'From: ' + frm,
        'To: ' + to,
        'Subject: ' + subject,
        'Date: Mon, 01 Jan 2024 00:%02d:00 +0000' % n,
        'Message-ID: <dkim-corpus-%02d@example.org>' % n,
        'MIME-Version: 1.0',
        'Content-Type: ' + content_type,
    ] + list(extra)
    return crlf(headers + [''] + body)


BODY = [
    'Hello Bob,',
    '',
    'This message is part of the custos DKIM test corpus.',
    'It has a few lines of plain text and nothing else.',
    '',
    'Regards,',
    'Alice',
]


def replace_once(data, old, new):
    assert data.count(old) == 1, (old, data.count(old))
    return data.replace(old, new)


def to_lf(msg):
    return msg.replace(b'\r\n', b'\n')


def multipart_message(n):
    """multipart/mixed: a quoted-printable text part and a base64 'PDF' attachment."""
    boundary = '=_corpus_boundary_0001'
    # A small, deterministic, PDF-looking attachment: a header, some text objects and
    # 600 bytes of a SHA-256 counter stream so that the base64 is not all one pattern.
    stream = b''.join(hashlib.sha256(b'custos-dkim-%d' % i).digest() for i in range(19))[:600]
    pdf = (b'%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n'
           b'2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n3 0 obj\n<< /Length 600 >>\n'
           b'stream\n' + stream + b'\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n')
    b64 = base64.b64encode(pdf).decode()
    b64_lines = [b64[i:i + 76] for i in range(0, len(b64), 76)]
    body = [
        'This is a multi-part message in MIME format.',
        '',
        '--' + boundary,
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        'Bonjour Bob,',
        '',
        'Voici le r=C3=A9sum=C3=A9 demand=C3=A9. Cette ligne est assez longue pour =',
        '=C3=AAtre coup=C3=A9e par un saut de ligne doux (soft line break).',
        'Une ligne qui finit par un espace cod=C3=A9=20',
        '',
        'Alice',
        '',
        '--' + boundary,
        'Content-Type: application/pdf; name="report.pdf"',
        'Content-Transfer-Encoding: base64',
        'Content-Disposition: attachment; filename="report.pdf"',
        '',
    ] + b64_lines + [
        '',
        '--' + boundary + '--',
    ]
    return message(n, 'Report attached', body,
                   content_type='multipart/mixed;\r\n boundary="%s"' % boundary)


# RFC 8463 Appendix A: the keys (A.1/A.2) and the signed message (A.3), transcribed.
RFC8463_RECORDS = [
    ('brisbane._domainkey.football.example.com.',
     b'v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo='),
    ('test._domainkey.football.example.com.',
     b'v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWR'
     b'iGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutAC'
     b'DfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3'
     b'Ip3G+2kryOTIKT+l/K4w3QIDAQAB'),
]

RFC8463_MESSAGE = crlf([
    'DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;',
    ' d=football.example.com; i=@football.example.com;',
    ' q=dns/txt; s=brisbane; t=1528637909; h=from : to :',
    ' subject : date : message-id : from : subject : date;',
    ' bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;',
    ' b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus',
    ' Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==',
    'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;',
    ' d=football.example.com; i=@football.example.com;',
    ' q=dns/txt; s=test; t=1528637909; h=from : to : subject :',
    ' date : message-id : from : subject : date;',
    ' bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;',
    ' b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3',
    ' DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz',
    ' dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=',
    'From: Joe SixPack <joe@football.example.com>',
    'To: Suzie Q <suzie@shopping.example.net>',
    'Subject: Is dinner ready?',
    'Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)',
    'Message-ID: <20030712040037.46341.5F8J@football.example.com>',
    '',
    'Hi.',
    '',
    'We lost the game.  Are you hungry yet?',
    '',
    'Joe.',
])


def build_cases(k):
    """[(case, description, message bytes, [expected verdict per signature])].

    k holds the keys: rsa2048, rsa1024, rsa512, ed25519 (published) and ed25519_wrong
    (not published).
    """
    cases = []

    def add(name, description, msg, expect):
        cases.append((name, description, msg, expect))

    # --- The four canonicalization pairs, rsa-sha256 2048-bit.
    for n, canon in enumerate(['relaxed/relaxed', 'simple/simple', 'relaxed/simple',
                               'simple/relaxed'], 1):
        name = 'rsa-' + canon.replace('/', '-')
        msg = message(n, 'Canonicalization %s' % canon, BODY)
        add(name, 'rsa-sha256, 2048-bit key, c=%s' % canon,
            sign(msg, k['rsa2048'], 'sel2048', 'example.org', canon), ['pass'])

    # --- Ed25519 (RFC 8463).
    add('ed25519-relaxed', 'ed25519-sha256, c=relaxed/relaxed',
        sign(message(5, 'Ed25519 relaxed', BODY), k['ed25519'], 'ed', 'example.org'),
        ['pass'])
    add('ed25519-simple', 'ed25519-sha256, c=simple/simple; file has LF line ends',
        to_lf(sign(message(6, 'Ed25519 simple', BODY), k['ed25519'], 'ed', 'example.org',
                   'simple/simple')), ['pass'])

    # --- rsa-sha1 (RFC 8301 says verifiers must not accept it; dkimpy 1.1.4 still does).
    add('rsa-sha1', 'rsa-sha1, 2048-bit key, c=relaxed/relaxed, d=example.net (dkimpy accepts sha1)',
        sign(message(7, 'Legacy SHA-1 signature', BODY, frm='Carol <carol@example.net>',
                     to='Alice Example <alice@example.org>'),
             k['rsa2048'], 'legacy', 'example.net', algo=b'rsa-sha1'), ['pass'])

    # --- l= (body length).
    signed = sign(message(8, 'Signed with a body length', BODY), k['rsa2048'], 'sel2048',
                  'example.org', length=True)
    add('length-appended', 'l= covers the signed body; a mailing-list footer appended after signing',
        signed + crlf(['-- ', 'example-list mailing list', 'https://lists.example.org/example-list']),
        ['pass'])
    signed = sign(message(9, 'Signed with a body length, then altered', BODY), k['rsa2048'],
                  'sel2048', 'example.org', length=True)
    add('length-tampered', 'l= given; one byte inside the covered part changed ("Bob" -> "Rob")',
        replace_once(signed, b'Hello Bob,', b'Hello Rob,'), ['fail'])

    # --- x= in the past.
    add('expired', 't=1600000000 x=1600086400: expired long ago (dkimpy raises ValidationError)',
        sign(message(10, 'Expired signature', BODY), k['rsa2048'], 'sel2048', 'example.org',
             t=1600000000, x=1600086400), ['fail'])

    # --- A second From added above the signed one.  dkimpy adds one extra "from" to h=
    # when verifying (its fix for Debian bug #644046), so the added From is hashed too
    # and the signature fails.
    signed = sign(message(11, 'Who is this from?', BODY), k['rsa2048'], 'sel2048', 'example.org',
                  h=('from', 'to', 'subject', 'date', 'message-id'))
    add('double-from', 'h= names from once; a second, different From: prepended at the top '
        'after signing (dkimpy fails it: it checks one more From than h= names)',
        b'From: Mallory <mallory@example.net>\r\n' + signed, ['fail'])

    # --- Tampering.
    signed = sign(message(12, 'Body will be changed', BODY), k['rsa2048'], 'sel2048', 'example.org')
    add('body-tampered', 'relaxed/relaxed; one body byte changed after signing ("few" -> "dew")',
        replace_once(signed, b'a few lines', b'a dew lines'), ['fail'])
    signed = sign(message(13, 'Original subject', BODY), k['rsa2048'], 'sel2048', 'example.org')
    add('header-tampered', 'relaxed/relaxed; Subject changed after signing',
        replace_once(signed, b'Subject: Original subject', b'Subject: Changed subject'), ['fail'])

    # --- Body lines that mboxrd must quote.
    body = [
        'Hi Bob,',
        '',
        'Quoting the archive verbatim:',
        'From the desk of Alice: this line starts with "From ".',
        '>From an older mbox: this one starts with ">From ".',
        '>>From twice quoted already.',
        ' From with a leading space (never quoted).',
        'From',
        'Fromage is not a From_ line either.',
        '',
        'Alice',
    ]
    add('mbox-quoted', 'body lines starting with "From ", ">From ", ">>From " (quoted in corpus.mbox '
        'only; the .eml holds them as signed)',
        sign(message(14, 'Lines that look like mbox separators', body), k['rsa2048'], 'sel2048',
             'example.org'), ['pass'])

    # --- Two signatures: the top one good, the second made by a key that is not the
    # published one for its selector.
    msg = message(15, 'Two signatures', BODY)
    msg = sign(msg, k['ed25519_wrong'], 'ed', 'example.org')
    msg = sign(msg, k['rsa2048'], 'sel2048', 'example.org')
    add('two-signatures', 'index 0: rsa-sha256, good; index 1: ed25519-sha256 made with a key '
        'other than the one published under s=ed, fails', msg, ['pass', 'fail'])

    # --- Key sizes.
    add('weak-rsa-512', 'rsa-sha256 with a 512-bit key: signature valid, dkimpy refuses keys '
        'under 1024 bits (raises KeyFormatError)',
        sign(message(16, 'Weak key', BODY), k['rsa512'], 'weak512', 'example.org'), ['fail'])
    add('rsa-1024', 'rsa-sha256 with a 1024-bit key (its keys.zone record has an n= with \\" and \\009 '
        'escapes)',
        sign(message(17, '1024-bit key', BODY), k['rsa1024'], 'sel1024', 'example.org'), ['pass'])

    # --- Key lookup failures.
    add('no-key', 's=nokey: no record in keys.zone (dkimpy: missing public key)',
        sign(message(18, 'Selector without a key', BODY), k['rsa2048'], 'nokey', 'example.org'),
        ['fail'])
    add('revoked-key', 's=revoked: the record has an empty p= (key revoked)',
        sign(message(19, 'Revoked key', BODY), k['rsa2048'], 'revoked', 'example.org'), ['fail'])

    # --- Whitespace.
    msg = crlf([
        'From: "Alice Example"   <alice@example.org>  ',
        'To: Bob Example <bob@example.net>,',
        '\tCarol <carol@example.net>   ',
        'Subject:   Folded subject\t with  tabs',
        '   \t and a continuation line   ',
        'Date: Mon, 01 Jan 2024 00:20:00 +0000',
        'Message-ID:\t<dkim-corpus-20@example.org>',
        'MIME-Version: 1.0',
        'Content-Type: text/plain;',
        '  charset=utf-8',
        '',
        'Trailing spaces after this text   ',
        'Tabs\tinside\t\tthis line and trailing tab\t',
        '  Leading spaces: relaxed canonicalization makes them one.',
        'Runs   of    spaces     inside.',
        '',
        '',
        '',
        '',
    ])
    add('relaxed-whitespace', 'relaxed/relaxed; folded headers, tabs, trailing spaces; trailing '
        'whitespace in the body and 4 empty lines at its end',
        sign(msg, k['rsa2048'], 'sel2048', 'example.org'), ['pass'])
    add('simple-trailing-lines', 'simple/simple; body ends with 5 empty lines (ignored by simple '
        'body canonicalization)',
        sign(message(21, 'Empty lines at the end', BODY + ['', '', '', '', '']), k['rsa2048'],
             'sel2048', 'example.org', 'simple/simple'), ['pass'])

    # --- h= with a repeat and an absent field.
    add('oversigned', 'h=from:to:subject:subject:date:message-id:reply-to: Subject twice, '
        'Reply-To absent (both hash as nothing)',
        sign(message(22, 'Oversigned headers', BODY), k['rsa2048'], 'sel2048', 'example.org',
             h=('from', 'to', 'subject', 'subject', 'date', 'message-id', 'reply-to')), ['pass'])

    # --- Bare LF file.
    add('lf-only', 'rsa-sha256 relaxed/relaxed; file has bare LF line ends (dkimpy reads LF as CRLF)',
        to_lf(sign(message(23, 'Unix line endings', BODY), k['rsa2048'], 'sel2048', 'example.org')),
        ['pass'])

    # --- i= in a subdomain of d=.
    add('identity', 'i=@sub.example.org with d=example.org',
        sign(message(24, 'Identity in a subdomain', BODY, frm='Alice <alice@sub.example.org>'),
             k['rsa2048'], 'sel2048', 'example.org', identity='@sub.example.org'), ['pass'])

    add('unsigned', 'no DKIM-Signature at all; file has LF line ends',
        to_lf(message(25, 'Nobody signed this', BODY)), [])

    add('multipart-attachment', 'multipart/mixed: quoted-printable text part and a base64 '
        'application/pdf attachment; relaxed/relaxed',
        sign(multipart_message(26), k['rsa2048'], 'sel2048', 'example.org'), ['pass'])

    add('rfc8463-example', 'RFC 8463 Appendix A.3 as published: ed25519-sha256 s=brisbane and '
        'rsa-sha256 s=test, d=football.example.com, keys from Appendix A.2',
        RFC8463_MESSAGE, ['pass', 'pass'])

    return cases


# ---------------------------------------------------------------------------------------
# Output files.
# ---------------------------------------------------------------------------------------

def zone_escape(chunk):
    """A TXT character-string in presentation format (dig's escaping)."""
    out = []
    for b in chunk:
        if b in (0x22, 0x5c):
            out.append('\\' + chr(b))
        elif 0x20 <= b < 0x7f:
            out.append(chr(b))
        else:
            out.append('\\%03d' % b)
    return '"' + ''.join(out) + '"'


def zone_line(name, value):
    chunks = [value[i:i + 255] for i in range(0, len(value), 255)] or [b'']
    return '%s 3600 IN TXT %s\n' % (name, ' '.join(zone_escape(c) for c in chunks))


def mbox_entry(msg):
    """msg as one mboxrd entry: From_ line, quoted LF lines, blank line."""
    text = msg.replace(b'\r\n', b'\n')
    if not text.endswith(b'\n'):
        text += b'\n'
    out = [MBOX_FROM_LINE]
    for line in text[:-1].split(b'\n'):
        if line.lstrip(b'>').startswith(b'From '):
            line = b'>' + line
        out.append(line + b'\n')
    out.append(b'\n')
    return b''.join(out)


README = """\
DKIM test corpus for custos, generated by testdata/make-dkim-corpus.py on {date}.

keys.zone       public keys as DNS TXT records (dig answer format, quoted chunks of at
                most 255 bytes, to be concatenated). Fresh keys on every run.
msgs/*.eml      one message per case (see cases.txt), bytes exactly as to be ingested.
corpus.mbox     the same messages in sorted case order, mboxrd, LF line ends.
expected.jsonl  dkimpy's verdict per (case, DKIM-Signature index, top first):
                dkim.DKIM(msg).verify(idx=i, dnsfunc=<keys.zone>), an exception counting
                as "fail". Cases without a signature have no line.
cases.txt       case name and what it tests.

Check a verifier against it, or re-derive the verdicts with
  /usr/bin/python3 tests/interop/dkim-reference.py keys.zone msgs/*.eml
  /usr/bin/python3 tests/interop/dkim-reference.py keys.zone --mbox corpus.mbox
(the mbox gives message-<n>.eml, n = position in sorted case order, from 1).

dkimpy behaviours worth knowing (dkimpy 1.1.4):
- l= is honoured: text appended after the signed length does not break the signature.
- x= in the past (10 h slack) fails; so does an RSA key under 1024 bits (the signature
  itself is checked first and is valid); both raise rather than return False.
- Bare-LF messages are read as if CRLF, so LF files verify like their CRLF form.
- When h= names From, the verifier hashes one more From instance than h= lists
  (dkimpy's fix for Debian bug #644046), so a From added above the signed one is
  hashed too and the signature fails. A plain RFC 6376 verifier would pass it.
- rsa-sha1 is still accepted.
"""


def main():
    if len(sys.argv) != 2:
        sys.exit('usage: make-dkim-corpus.py OUTDIR')
    out = sys.argv[1]
    if os.path.exists(out) and (not os.path.isdir(out) or os.listdir(out)):
        sys.exit('make-dkim-corpus.py: %s exists and is not an empty directory' % out)
    reference = load_reference()

    keys = rsa_keys([2048, 1024, 512])
    k = {'rsa2048': keys[2048], 'rsa1024': keys[1024], 'rsa512': keys[512],
         'ed25519': ed25519_key(), 'ed25519_wrong': ed25519_key()}

    # The zone: name -> TXT value.  nokey._domainkey.example.org is deliberately absent;
    # ed25519_wrong is never published.
    records = [
        ('sel2048._domainkey.example.org.', k['rsa2048'].record()),
        ('legacy._domainkey.example.net.', k['rsa2048'].record()),
        ('sel1024._domainkey.example.org.', k['rsa1024'].record(notes=b'"corpus"\tkey')),
        ('weak512._domainkey.example.org.', k['rsa512'].record()),
        ('ed._domainkey.example.org.', k['ed25519'].record()),
        ('revoked._domainkey.example.org.', b'v=DKIM1; k=rsa; p='),
    ] + RFC8463_RECORDS

    now = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
    openssl = ' '.join(subprocess.run(['openssl', 'version'], stdout=subprocess.PIPE,
                                      text=True).stdout.split()[:2])
    zone = ''.join([
        '; DKIM public keys for the custos DKIM test corpus, dig answer format.\n',
        '; Generated %s by testdata/make-dkim-corpus.py: RSA keys by %s (openssl genpkey),\n' % (now, openssl),
        '; Ed25519 by PyNaCl %s; football.example.com records are RFC 8463 Appendix A.2.\n' % nacl.__version__,
        '; Records are split into quoted chunks of at most 255 bytes; concatenate them.\n',
        '; nokey._domainkey.example.org has no record on purpose.\n',
    ] + [zone_line(name, value) for name, value in records])

    # Round-trip the zone through the shared parser, so that expected.jsonl is computed
    # from exactly what keys.zone says.
    parsed = reference.parse_zone(zone)
    for name, value in records:
        assert parsed[name] == [value], name
    dnsfunc = reference.zone_dnsfunc(parsed)

    cases = sorted(build_cases(k))
    os.makedirs(os.path.join(out, 'msgs'), exist_ok=True)
    expected, mismatches = [], []
    for name, description, msg, expect in cases:
        assert msg.endswith(b'\n'), name
        with open(os.path.join(out, 'msgs', name + '.eml'), 'wb') as f:
            f.write(msg)
        got = reference.verdicts(msg, dnsfunc)
        if [r['verdict'] for r in got] != expect:
            mismatches.append('%s: built for %s, dkimpy says %s' % (
                name, expect, ['%s (%s)' % (r['verdict'], r['reason']) for r in got]))
        for r in got:
            expected.append(json.dumps({'case': name, 'index': r['index'], 'verdict': r['verdict'],
                                        'd': r['d'], 's': r['s'], 'a': r['a']}) + '\n')

    with open(os.path.join(out, 'keys.zone'), 'w') as f:
        f.write(zone)
    with open(os.path.join(out, 'corpus.mbox'), 'wb') as f:
        f.write(b''.join(mbox_entry(msg) for _, _, msg, _ in cases))
    with open(os.path.join(out, 'expected.jsonl'), 'w') as f:
        f.write(''.join(expected))
    with open(os.path.join(out, 'cases.txt'), 'w') as f:
        f.write(''.join('%s %s\n' % (name, description) for name, description, _, _ in cases))
    with open(os.path.join(out, 'README'), 'w') as f:
        f.write(README.format(date=now))

    if mismatches:
        sys.exit('make-dkim-corpus.py: dkimpy verdicts differ from the corpus design:\n  '
                 + '\n  '.join(mismatches))
    print('%s: %d cases, %d signatures (%d pass, %d fail)' % (
        out, len(cases), len(expected), sum('"pass"' in e for e in expected),
        sum('"fail"' in e for e in expected)))


if __name__ == '__main__':
    main()
