#!/usr/bin/python3
"""make-dkim-mbox.py — an mbox of N realistic DKIM-signed messages and the keys that
verify them, for bench/dkim.sh.

Usage: /usr/bin/python3 bench/make-dkim-mbox.py [--seed S] [--jobs J] [--expected FILE]
                                                N OUT.mbox KEYS.zone

Needs Debian's python3-dkim (dkimpy 1.1.4) and python3-nacl, which only /usr/bin/python3
sees, and the openssl program (RSA key generation). Nothing is downloaded.

The messages (deterministic for a seed, apart from the keys and therefore the b= values):

  * headers From, To (1-3 recipients), sometimes Cc, Subject (some RFC 2047 encoded),
    Date, Message-ID, MIME-Version, Content-Type, sometimes Content-Transfer-Encoding;
    30 % carry a submission Received line under the signature (unsigned, as h= does not
    name it) and 50 % 1-3 relay Received lines added above it after signing, as relays
    do;
  * bodies of prose from a word pool: 90 % 2-20 KB, 5 % 0.3-2 KB, 5 % 20-60 KB; some
    utf-8 (8bit), quoted replies ("> ..."), trailing spaces and trailing blank lines
    (canonicalization), and in 3 % a line starting with "From " or ">From " (mboxrd
    quoting); 15 % multipart/alternative (text + HTML), 10 % multipart/mixed with a
    base64 attachment of 50-200 KB of base64: a PDF or JPEG header and random
    bytes, or a zip of one stored member of random bytes (a real archive: custos
    opens it and stores its member too);
  * signed with dkimpy (DKIM.gen_header, through testdata/make-dkim-corpus.py's sign():
    t=1704067200, no x=, h=from:to:subject:date:message-id:mime-version:content-type):
      60 % rsa-sha256 c=relaxed/relaxed
      20 % rsa-sha256 c=simple/simple
      15 % ed25519-sha256 c=relaxed/relaxed (a third of them dual-signed: an
           rsa-sha256 signature added on top, so index 0 is rsa and index 1 ed25519)
       5 % signed as one of the first three (single signature, the same 60:20:15
           odds), then tampered: one letter of the body's text (70 %; never inside an
           attachment) or of the Subject changes case, so the signature fails.
    Keys: a pool of four 2048-bit RSA keys and two Ed25519 keys under example.org,
    example.net and mail.example.com, made once per run (RSA by `openssl genpkey`,
    Ed25519 by PyNaCl). No key is under 1024 bits and no signature has x=, the two
    cases where custos deliberately differs from dkimpy.

Output:

  OUT.mbox    mboxrd: a "From " line before each message, lines matching ^>*From  given
              one more '>', LF line ends, a blank line after each message
              (testdata/make-dkim-corpus.py's mbox_entry()). Message K (from 1) is what
              custos dkim-verify --mbox calls OUT.mbox!/message-K.eml and
              tests/interop/dkim-reference.py --mbox calls message-K.eml.
  KEYS.zone   the public keys as dig-format TXT records, chunks of at most 255 bytes
              (make-dkim-corpus.py's zone_line()), round-tripped through
              tests/interop/dkim-reference.py's parse_zone() before it is written.
  --expected FILE (optional): one line per message, "K<TAB>kind<TAB>verdicts", verdicts
              the ones the message was built to have, comma-separated, top signature
              first (e.g. "17	ed25519-dual	pass,pass", "18	tampered-body:rsa-simple	fail").

Both output files are written under a temporary name and renamed when complete. Signing
runs on J worker processes (default: the number of CPUs); 10,000 messages take about a
minute on 2 CPUs, most of it RSA signing in dkimpy's pure-Python arithmetic.
"""

import argparse
import base64
import datetime
import email.utils
import importlib.util
import io
import multiprocessing
import os
import random
import sys
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, '..', 'testdata', 'make-dkim-corpus.py')


def load(path, name):
    """Import a script whose file name is not a module name."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# make-dkim-corpus.py: Key, rsa_keys(), ed25519_key(), sign(), crlf(), zone_line(),
# mbox_entry(), SIGN_TIME; and through it tests/interop/dkim-reference.py (parse_zone()).
corpus = load(CORPUS, 'make_dkim_corpus')

# ---------------------------------------------------------------------------------------
# The key pool: (selector, domain, key name).
# ---------------------------------------------------------------------------------------

RSA_SIGNERS = [('s2024a', 'example.org', 'rsa0'), ('s2024b', 'example.org', 'rsa1'),
               ('mx', 'example.net', 'rsa2'), ('k1', 'mail.example.com', 'rsa3')]
ED_SIGNERS = [('ed2024', 'example.org', 'ed0'), ('ed', 'mail.example.com', 'ed1')]

KEYS = {}   # key name -> corpus.Key; set before the pool forks

# ---------------------------------------------------------------------------------------
# Content.
# ---------------------------------------------------------------------------------------

WORDS = ('the of and to in a is that for it as was with be by on not he this are or his '
         'from at which but have an they you were her she there been one all we their has '
         'would when if so no will more about can said up out some into them other than '
         'then its only time could these two may first any like now my such make over our '
         'even most after also did many before must through back years where much your way '
         'well down should because each just those people how too little state good very '
         'year still public against government between both life being under never same '
         'another know while last might us great old off come since go came right used take '
         'three states himself few house use during without again place around however home '
         'small found thought went say part once general high upon school every does got '
         'united left number course war until always away something fact though water less '
         'report meeting budget contract invoice draft attached review minutes council '
         'supplier payment schedule evidence source document deadline confidential figures '
         'quarter account transfer approval director office committee statement').split()
UTF8_WORDS = ['café', 'résumé', 'naïve', 'Zürich', 'façade', 'déjà', 'Ångström', 'señor',
              'Größe', 'coöperate', 'œuvre', 'München', 'Kraków', 'São', 'İstanbul']
FIRST = ['Alice', 'Bob', 'Carol', 'Dave', 'Erin', 'Frank', 'Grace', 'Heidi', 'Ivan', 'Judy',
         'Mallory', 'Niaj', 'Olivia', 'Peggy', 'Rupert', 'Sybil', 'Trent', 'Victor', 'Walter']
LAST = ['Example', 'Smith', 'Jones', 'Novak', 'Dubois', 'Rossi', 'Garcia', 'Kowalski',
        'Nielsen', 'Okafor', 'Tanaka', 'Müller']
RCPT_DOMAINS = ['example.net', 'example.com', 'press.example', 'newsroom.example.org']
ATTACH = [('application/pdf', 'report.pdf', b'%PDF-1.5\n%\xe2\xe3\xcf\xd3\n'),
          ('image/jpeg', 'photo.jpg', b'\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01'),
          ('application/zip', 'files.zip', None)]
BASE_TIME = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)


def sentence(rng, utf8):
    n = rng.randint(5, 18)
    words = [rng.choice(WORDS) for _ in range(n)]
    if utf8 and rng.random() < 0.3:
        words[rng.randrange(n)] = rng.choice(UTF8_WORDS)
    words[0] = words[0].capitalize()
    return ' '.join(words) + rng.choice('....?!')


def prose(rng, size, utf8, special):
    """About size bytes of wrapped prose, as lines (str)."""
    lines, total, line = [], 0, ''
    while total < size:
        if rng.random() < 0.12:                       # paragraph break
            if line:
                lines.append(line)
            lines.append('')
            total += len(line) + 2
            line = ''
            if rng.random() < 0.15:                   # a quoted reply paragraph
                for _ in range(rng.randint(1, 5)):
                    q = '> ' + sentence(rng, utf8)[:70]
                    lines.append(q)
                    total += len(q) + 2
                lines.append('')
        for word in sentence(rng, utf8).split(' '):
            if len(line) + 1 + len(word) > 72:
                if rng.random() < 0.03:
                    line += ' ' * rng.randint(1, 3)   # trailing whitespace
                lines.append(line)
                total += len(line) + 2
                line = word
            else:
                line = line + ' ' + word if line else word
    if line:
        lines.append(line)
    if special:                                      # a line mboxrd must quote
        at = rng.randrange(len(lines) + 1)
        lines.insert(at, rng.choice(['From the archive: %s' % sentence(rng, False),
                                     '>From an old mbox: %s' % sentence(rng, False),
                                     '>>From %s' % sentence(rng, False)]))
    if rng.random() < 0.1:
        lines += [''] * rng.randint(1, 4)             # trailing blank lines
    return lines


def zip_of(data, name):
    """A zip archive of one stored member (fixed date: the same bytes every run)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_STORED) as z:
        z.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


def person(rng, domain=None):
    first, last = rng.choice(FIRST), rng.choice(LAST)
    domain = domain or rng.choice(RCPT_DOMAINS)
    return '%s %s <%s.%s@%s>' % (first, last, first.lower(), last.lower().replace('ü', 'ue'),
                                 domain)


def encoded_subject(rng, text):
    if rng.random() < 0.1:
        word = rng.choice(UTF8_WORDS)
        return '=?utf-8?b?%s?= %s' % (base64.b64encode(word.encode()).decode(), text)
    return text


def received(rng, when, by):
    a, b = rng.randint(1, 254), rng.randint(1, 254)
    host = rng.choice(['mx1', 'mx2', 'relay', 'smtp-out', 'mail'])
    return ['Received: from %s.%s (%s.%s [198.51.100.%d])' % (host, rng.choice(RCPT_DOMAINS), host,
                                                              rng.choice(RCPT_DOMAINS), a),
            '\tby %s (Postfix) with ESMTPS id %08X%d' % (by, rng.getrandbits(32), b),
            '\tfor <%s>; %s' % (rng.choice(['bob@example.net', 'desk@newsroom.example.org']),
                                email.utils.format_datetime(when))]


def build_message(k, seed):
    """Message k: (crlf bytes before signing, signer plan, relay Received lines)."""
    rng = random.Random('%d:%d' % (seed, k))
    r = rng.random()
    if r < 0.60:
        plan = 'rsa-relaxed'
    elif r < 0.80:
        plan = 'rsa-simple'
    elif r < 0.95:
        plan = 'ed25519-dual' if rng.random() < 1 / 3 else 'ed25519'
    else:
        plan = 'tampered'
    if plan.startswith('ed25519'):
        ed = rng.choice(ED_SIGNERS)
        signer = ed[1]
    else:
        signer = rng.choice(RSA_SIGNERS)[1]
    when = BASE_TIME + datetime.timedelta(seconds=k * 37 + rng.randint(0, 30))
    utf8 = rng.random() < 0.2
    special = rng.random() < 0.03
    s = rng.random()
    size = rng.randint(300, 2000) if s < 0.05 else rng.randint(20000, 60000) if s > 0.95 \
        else rng.randint(2000, 20000)
    kind = rng.random()
    charset = 'utf-8' if utf8 else 'us-ascii'
    cte = ['Content-Transfer-Encoding: 8bit'] if utf8 else []
    text = prose(rng, size, utf8, special)
    if kind < 0.75:
        ctype, body = 'text/plain; charset=%s; format=flowed' % charset, text
        extra = cte
    else:
        boundary = '=_b%d_%08x' % (k, rng.getrandbits(32))
        part = ['--' + boundary, 'Content-Type: text/plain; charset=%s' % charset] + cte + [''] + text
        if kind < 0.90:
            ctype = 'multipart/alternative;\r\n boundary="%s"' % boundary
            html = ['<html><body>'] + ['<p>%s</p>' % l if l else '' for l in text[:200]] + \
                   ['</body></html>']
            body = ['This is a multi-part message in MIME format.', ''] + part + [
                '', '--' + boundary, 'Content-Type: text/html; charset=%s' % charset] + cte + [
                ''] + html + ['', '--' + boundary + '--', '']
        else:
            ctype = 'multipart/mixed;\r\n boundary="%s"' % boundary
            mime, name, magic = rng.choice(ATTACH)
            n = rng.randint(50000, 200000) * 3 // 4
            if magic is None:                    # a real zip: one stored member
                raw = zip_of(rng.randbytes(n - 130), 'scan-%d.bin' % k)
            else:
                raw = magic + rng.randbytes(n - len(magic))
            b64 = base64.b64encode(raw).decode()
            body = ['This is a multi-part message in MIME format.', ''] + part + [
                '', '--' + boundary,
                'Content-Type: %s; name="%s"' % (mime, name),
                'Content-Transfer-Encoding: base64',
                'Content-Disposition: attachment; filename="%s"' % name, ''] + [
                b64[i:i + 76] for i in range(0, len(b64), 76)] + ['', '--' + boundary + '--', '']
        extra = []
    subject = encoded_subject(rng, ' '.join(rng.choice(WORDS) for _ in range(rng.randint(2, 9))).capitalize())
    to = ', '.join(person(rng) for _ in range(rng.randint(1, 3)))
    headers = []
    if rng.random() < 0.3:                               # submission, below the signature
        headers += received(rng, when, 'smtp.' + signer)
    headers += ['From: ' + person(rng, signer), 'To: ' + to]
    if rng.random() < 0.2:
        headers.append('Cc: ' + person(rng))
    headers += ['Subject: ' + subject,
                'Date: ' + email.utils.format_datetime(when),
                'Message-ID: <%d.%012x@%s>' % (k, rng.getrandbits(48), signer),
                'MIME-Version: 1.0',
                'Content-Type: ' + ctype] + extra
    if rng.random() < 0.1:
        headers.append('X-Mailer: custos-bench %d' % rng.randint(1, 9))
    relays = []
    for _ in range(rng.randint(1, 3) if rng.random() < 0.5 else 0):
        relays = received(rng, when + datetime.timedelta(seconds=rng.randint(1, 60)),
                          'mx.newsroom.example.org') + relays
    return corpus.crlf(headers + [''] + body), plan, relays, rng


def sign_rsa(msg, rng, canon):
    sel, dom, key = rng.choice(RSA_SIGNERS)
    return corpus.sign(msg, KEYS[key], sel, dom, canon)


def sign_ed(msg, rng):
    sel, dom, key = rng.choice(ED_SIGNERS)
    return corpus.sign(msg, KEYS[key], sel, dom, 'relaxed/relaxed')


def flip_letter(data, start, end, rng):
    """data with the case of one ASCII letter in data[start:end] flipped."""
    for _ in range(1000):
        i = rng.randrange(start, end)
        c = data[i]
        if 0x41 <= c <= 0x5a or 0x61 <= c <= 0x7a:
            return data[:i] + bytes([c ^ 0x20]) + data[i + 1:]
    raise RuntimeError('no letter to flip')


def make(k_seed):
    """Message k as (mbox entry bytes, kind, expected verdicts)."""
    k, seed = k_seed
    msg, plan, relays, rng = build_message(k, seed)
    base = plan
    if plan == 'tampered':
        base = rng.choice(['rsa-relaxed'] * 60 + ['rsa-simple'] * 20 + ['ed25519'] * 15)
    if base == 'rsa-relaxed':
        signed = sign_rsa(msg, rng, 'relaxed/relaxed')
        verdicts = ['pass']
    elif base == 'rsa-simple':
        signed = sign_rsa(msg, rng, 'simple/simple')
        verdicts = ['pass']
    elif base == 'ed25519':
        signed = sign_ed(msg, rng)
        verdicts = ['pass']
    else:                                                   # dual: ed25519, then rsa on top
        signed = sign_rsa(sign_ed(msg, rng), rng, 'relaxed/relaxed')
        verdicts = ['pass', 'pass']
    kind = plan
    if plan == 'tampered':
        sep = signed.index(b'\r\n\r\n')
        if rng.random() < 0.7:
            # in the text, not in a base64 attachment (a zip's CRC would then fail too,
            # and custos ingest rightly reports that member as a mismatch)
            end = signed.find(b'Content-Transfer-Encoding: base64', sep)
            signed = flip_letter(signed, sep + 4, len(signed) if end < 0 else end, rng)
            kind = 'tampered-body:' + base
        else:
            at = signed.index(b'\r\nSubject: ') + 11
            signed = flip_letter(signed, at, signed.index(b'\r\n', at), rng)
            kind = 'tampered-subject:' + base
        verdicts = ['fail'] * len(verdicts)
    signed = corpus.crlf(relays) + signed
    when = BASE_TIME + datetime.timedelta(seconds=k * 37)
    entry = corpus.mbox_entry(signed)
    from_line = ('From bench@%s %s\n' % (RSA_SIGNERS[k % 4][1],
                                         time.asctime(when.timetuple()))).encode()
    assert entry.startswith(corpus.MBOX_FROM_LINE)
    return from_line + entry[len(corpus.MBOX_FROM_LINE):], kind, verdicts


def init_worker(keys):
    KEYS.update(keys)


def main():
    ap = argparse.ArgumentParser(description='an mbox of N DKIM-signed messages and their keys')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--jobs', type=int, default=os.cpu_count() or 1)
    ap.add_argument('--expected', metavar='FILE')
    ap.add_argument('n', type=int)
    ap.add_argument('mbox')
    ap.add_argument('zone')
    args = ap.parse_args()
    if args.n < 1:
        ap.error('N must be positive')
    t0 = time.time()

    # rsa_keys() makes one key per size, so one call per key
    keys = {key: corpus.rsa_keys([2048])[2048] for _, _, key in RSA_SIGNERS}
    keys['ed0'] = corpus.ed25519_key()
    keys['ed1'] = corpus.ed25519_key()
    records = [('%s._domainkey.%s.' % (sel, dom), keys[key].record())
               for sel, dom, key in RSA_SIGNERS + ED_SIGNERS]
    now = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
    zone = ''.join([
        '; DKIM public keys for bench/dkim.sh, dig answer format.\n',
        '; Generated %s by bench/make-dkim-mbox.py (%d messages, seed %d):\n' % (now, args.n, args.seed),
        '; four 2048-bit RSA keys (openssl genpkey), two Ed25519 keys (PyNaCl).\n',
        '; Records are split into quoted chunks of at most 255 bytes; concatenate them.\n',
    ] + [corpus.zone_line(name, value) for name, value in records])
    parsed = corpus.load_reference().parse_zone(zone)
    for name, value in records:
        assert parsed[name] == [value], name

    KEYS.update(keys)
    tmp = args.mbox + '.tmp'
    counts, signatures, size = {}, 0, 0
    exp = open(args.expected + '.tmp', 'w') if args.expected else None
    work = ((k, args.seed) for k in range(1, args.n + 1))
    with open(tmp, 'wb') as out:
        if args.jobs > 1:
            pool = multiprocessing.Pool(args.jobs, init_worker, (keys,))
            results = pool.imap(make, work, chunksize=32)
        else:
            pool, results = None, map(make, work)
        for k, (entry, kind, verdicts) in enumerate(results, 1):
            out.write(entry)
            size += len(entry)
            counts[kind.split(':')[0]] = counts.get(kind.split(':')[0], 0) + 1
            signatures += len(verdicts)
            if exp:
                exp.write('%d\t%s\t%s\n' % (k, kind, ','.join(verdicts)))
        if pool:
            pool.close()
            pool.join()
    with open(args.zone + '.tmp', 'w') as f:
        f.write(zone)
    os.replace(args.zone + '.tmp', args.zone)
    if exp:
        exp.close()
        os.replace(args.expected + '.tmp', args.expected)
    os.replace(tmp, args.mbox)
    print('%s: %d messages, %d signatures, %.1f MB (%s) in %.1f s' % (
        args.mbox, args.n, signatures, size / 1e6,
        ', '.join('%s %d' % kv for kv in sorted(counts.items())), time.time() - t0))


if __name__ == '__main__':
    main()
