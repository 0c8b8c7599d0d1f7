#!/usr/bin/python3
"""dkim-reference.py — DKIM verdicts from python3-dkim (dkimpy), the reference custos's
DKIM verifier is compared against.

Usage: dkim-reference.py [-v] KEYS.zone FILE...
       dkim-reference.py [-v] KEYS.zone --mbox FILE.mbox

KEYS.zone holds the DNS TXT records to use instead of DNS, in dig answer format, one
record a line:

    sel._domainkey.example.org. 3600 IN TXT "v=DKIM1; k=rsa; p=MIIB..." "...rest"

Lines starting with ';' are comments.  The quoted character-strings of a record are
concatenated; inside them \\" and \\\\ stand for the character and \\DDD for the byte
of that decimal value (RFC 1035 §5.1).  Names are matched case-insensitively; when a name
has several TXT records the first is used, as dkimpy's own dnspython lookup does.  A
name with no record answers b"" (dkimpy then fails the signature: "missing public key").

Each FILE is one message, read as bytes and handed to dkimpy as is.  With --mbox the
messages come from an mboxrd file instead: it is split at lines starting with "From ",
">From "-style quoting is undone (one '>' off every line matching ^>+From ), the blank
line separating a message from the next is dropped, and messages are named
message-1.eml, message-2.eml, ... in file order.

For every DKIM-Signature header field of a message, top first, one JSON line is printed:

    {"file": "x.eml", "index": 0, "verdict": "pass", "d": "example.org", "s": "sel",
     "a": "rsa-sha256"}

The verdict is dkimpy's dkim.DKIM(msg).verify(idx=index, dnsfunc=...): "pass" when that
returns True, "fail" when it returns False or raises a dkim.DKIMException (dkimpy raises,
rather than returning False, for some failures: an x= in the past, an RSA key under
1024 bits, a malformed signature; dkim.verify() counts those as failures too).  d, s, a
are the tag values of that header field (null when absent or unparsable).  A message
without DKIM-Signature gives no line.  -v prints dkimpy's reason for each failure on
stderr.

Exit status: 0, or 1 when a message could not be parsed at all (dkimpy rejects its
header; reported on stderr and no line is printed for it), 2 for usage errors and
unreadable files.

Must run with /usr/bin/python3 (Debian's python3-dkim, dkimpy 1.1.4, with python3-nacl
for ed25519); no network is used.  The corpus generator testdata/make-dkim-corpus.py
imports parse_zone(), zone_dnsfunc() and verdicts() from this file.
"""

import argparse
import json
import logging
import os
import re
import sys

import dkim
from dkim.util import InvalidTagValueList, parse_tag_value


# ---------------------------------------------------------------------------------------
# The zone file.
# ---------------------------------------------------------------------------------------

def _parse_txt_rdata(text, where):
    """The character-strings of a TXT rdata in presentation format, concatenated.

    Quoted strings may hold spaces; unquoted ones end at whitespace.  \\X is X and \\DDD
    the byte DDD (decimal), in either kind.  An unquoted ';' starts a comment.
    """
    out = bytearray()
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in ' \t':
            i += 1
            continue
        if c == ';':
            break
        quoted = c == '"'
        if quoted:
            i += 1
        while True:
            if i >= n:
                if quoted:
                    raise ValueError('%s: unterminated quoted string' % where)
                break
            c = text[i]
            if quoted and c == '"':
                i += 1
                break
            if not quoted and c in ' \t;':
                break
            if c == '\\':
                if re.match(r'\d{3}', text[i + 1:i + 4]):
                    value = int(text[i + 1:i + 4])
                    if value > 255:
                        raise ValueError('%s: \\%s is not a byte' % (where, text[i + 1:i + 4]))
                    out.append(value)
                    i += 4
                    continue
                if i + 1 >= n:
                    raise ValueError('%s: backslash at end of line' % where)
                c = text[i + 1]
                i += 1
            out += c.encode('utf-8')
            i += 1
    return bytes(out)


def parse_zone(text):
    """Parse zone text in dig answer format into {name: [txt value bytes, ...]}.

    Names are lower-cased and end with '.'; records of other types than TXT are skipped.
    Each record is `NAME [TTL] [CLASS] TXT STRING...`, TTL and class optional.
    """
    records = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith(';'):
            continue
        fields = stripped.split(None, 4)
        # Find the type field: after the name, skip a TTL and/or a class.
        j = 1
        while j < len(fields) - 1 and (fields[j].isdigit() or fields[j].upper() in ('IN', 'CH', 'HS')):
            j += 1
        if j >= len(fields) or fields[j].upper() != 'TXT':
            continue
        # Re-split so that the rdata keeps its inner spacing.
        parts = stripped.split(None, j + 1)
        rdata = parts[j + 1] if len(parts) > j + 1 else ''
        name = fields[0].lower()
        if not name.endswith('.'):
            name += '.'
        records.setdefault(name, []).append(_parse_txt_rdata(rdata, 'line %d' % lineno))
    return records


def zone_dnsfunc(records):
    """A dnsfunc for dkimpy answering from parse_zone() records."""
    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode('utf-8', 'replace')
        name = name.lower()
        if not name.endswith('.'):
            name += '.'
        values = records.get(name)
        return values[0] if values else b''
    return dnsfunc


# ---------------------------------------------------------------------------------------
# Verdicts.
# ---------------------------------------------------------------------------------------

class _Reasons(logging.Handler):
    """Keeps the error messages dkimpy logs (it logs, rather than raises, key problems)."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def _tag(tags, name):
    value = tags.get(name)
    return None if value is None else value.decode('utf-8', 'replace')


def verdicts(msg, dnsfunc):
    """dkimpy's verdict on each DKIM-Signature of msg (bytes), top first.

    Returns a list of dicts {index, verdict, d, s, a, reason}; reason is None for a pass.
    Raises dkim.MessageFormatError when dkimpy cannot parse the header at all.
    """
    headers, _ = dkim.rfc822_parse(msg)
    values = [v for n, v in headers if n.lower() == b'dkim-signature']
    results = []
    for index, value in enumerate(values):
        try:
            tags = parse_tag_value(value)
        except InvalidTagValueList:
            tags = {}
        reasons = _Reasons()
        logger = logging.getLogger('dkim-reference.%d' % index)
        logger.propagate = False
        logger.handlers[:] = [reasons]
        try:
            ok = dkim.DKIM(msg, logger=logger).verify(idx=index, dnsfunc=dnsfunc)
            reason = None if ok else '; '.join(reasons.messages) or 'signature did not verify'
        except dkim.DKIMException as e:
            ok, reason = False, '%s: %s' % (type(e).__name__, e)
        results.append({'index': index, 'verdict': 'pass' if ok else 'fail',
                        'd': _tag(tags, b'd'), 's': _tag(tags, b's'), 'a': _tag(tags, b'a'),
                        'reason': reason})
    return results


# ---------------------------------------------------------------------------------------
# mboxrd.
# ---------------------------------------------------------------------------------------

def read_mboxrd(data):
    """Split mboxrd bytes into messages (bytes), unquoting >From lines."""
    messages, current = [], None
    for line in data.split(b'\n'):
        if line.startswith(b'From '):
            if current is not None:
                messages.append(current)
            current = []
            continue
        if current is None:
            if line.strip():
                raise ValueError('mbox does not start with a "From " line')
            continue
        if re.match(rb'>+From ', line):
            line = line[1:]
        current.append(line)
    if current is not None:
        messages.append(current)
    out = []
    for lines in messages:
        # Lines were split on '\n': the last element is what followed the final '\n'
        # (empty for well-formed input).  A message ends "...\n" and is followed by one
        # blank separator line, i.e. the joined text ends "\n\n": drop one '\n'.
        msg = b'\n'.join(lines)
        if msg.endswith(b'\n\n'):
            msg = msg[:-1]
        out.append(msg)
    return out


def main():
    ap = argparse.ArgumentParser(description='DKIM verdicts from dkimpy, as JSON lines.')
    ap.add_argument('-v', '--verbose', action='store_true', help='print failure reasons on stderr')
    ap.add_argument('--mbox', metavar='FILE.mbox', help='read the messages from an mboxrd file')
    ap.add_argument('zone', metavar='KEYS.zone')
    ap.add_argument('files', metavar='FILE', nargs='*')
    args = ap.parse_args()
    if bool(args.mbox) == bool(args.files):
        ap.error('give either message files or --mbox FILE.mbox')

    try:
        with open(args.zone, encoding='utf-8') as f:
            dnsfunc = zone_dnsfunc(parse_zone(f.read()))
        if args.mbox:
            with open(args.mbox, 'rb') as f:
                items = [('message-%d.eml' % n, m) for n, m in enumerate(read_mboxrd(f.read()), 1)]
        else:
            items = []
            for path in args.files:
                with open(path, 'rb') as f:
                    items.append((os.path.basename(path), f.read()))
    except (OSError, ValueError) as e:
        print('dkim-reference: %s' % e, file=sys.stderr)
        return 2

    status = 0
    for name, msg in items:
        try:
            results = verdicts(msg, dnsfunc)
        except dkim.DKIMException as e:
            print('dkim-reference: %s: dkimpy cannot parse the message: %s' % (name, e),
                  file=sys.stderr)
            status = 1
            continue
        for r in results:
            print(json.dumps({'file': name, 'index': r['index'], 'verdict': r['verdict'],
                              'd': r['d'], 's': r['s'], 'a': r['a']}))
            if args.verbose and r['reason']:
                print('%s[%d]: %s' % (name, r['index'], r['reason']), file=sys.stderr)
    return status


if __name__ == '__main__':
    sys.exit(main())
