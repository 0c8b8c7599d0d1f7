#!/usr/bin/env python3
"""bagit-check-selftest.py — shows that bagit-check.py accepts good bags and names what is
wrong with bad ones.

Each case builds a bag in memory, writes it as a tar into a temporary directory and runs
bagit-check.py on it.  A good bag must exit 0 with no VIOLATION line.  A broken bag must
exit 1, print every rule id the case expects, and print no violation it does not expect
(`also` lists the knock-on violations a case cannot avoid).  Without that last check, a
checker that rejected everything would pass.

Usage: bagit-check-selftest.py     (Python 3.9+, standard library only)
"""

import hashlib
import io
import os
import re
import subprocess
import sys
import tarfile
import tempfile

CHECKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'bagit-check.py')
BAGIT_TXT = b'BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n'
DEFAULT_PAYLOAD = {'a.txt': b'alpha\n', 'sub/b.bin': bytes(range(256)), 'empty': b''}
FINDING = re.compile(r'^(VIOLATION|WARNING) ([a-z0-9-]+): ', re.M)


# ---------------------------------------------------------------------------------------
# Building bags.  A bag is a dict: path relative to the base directory -> bytes, or None
# for a directory member.  make_bag() gives a valid one; the helpers after it rewrite the
# derived files (manifests, Payload-Oxum, tag manifests) after a case has changed others,
# so that a case breaks only what it means to break.
# ---------------------------------------------------------------------------------------

def make_bag(payload=None, algs=('sha256', 'sha512'), tag_algs=('sha256',)):
    files = {'bagit.txt': BAGIT_TXT, 'data': None}
    for name, data in (DEFAULT_PAYLOAD if payload is None else payload).items():
        files['data/' + name] = data
    for alg in algs:
        files[f'manifest-{alg}.txt'] = b''
    files['bag-info.txt'] = b'Source-Organization: Example\nBagging-Date: 2024-05-01\n' \
                            b'Payload-Oxum: 0.0\n'
    for alg in tag_algs:
        files[f'tagmanifest-{alg}.txt'] = b''
    relist(files)
    return refresh(files)


def digest(alg, data):
    return hashlib.new(alg, data).hexdigest()


def encode_path(path):
    return path.replace('%', '%25').replace('\n', '%0A').replace('\r', '%0D')


def manifest_line(alg, data, path):
    return f'{digest(alg, data)}  {encode_path(path)}\n'.encode()


def payload_paths(files):
    return sorted(p for p, d in files.items() if p.startswith('data/') and d is not None)


def relist(files):
    """Rewrite every payload manifest to list the current payload."""
    for alg in algs_of(files, 'manifest'):
        files[f'manifest-{alg}.txt'] = b''.join(
            manifest_line(alg, files[p], p) for p in payload_paths(files))
    return files


def refresh(files):
    """Fix Payload-Oxum, then rewrite every tag manifest to list every other tag file."""
    paths = payload_paths(files)
    oxum = f'Payload-Oxum: {sum(len(files[p]) for p in paths)}.{len(paths)}'.encode()
    if 'bag-info.txt' in files:
        files['bag-info.txt'] = re.sub(rb'Payload-Oxum: [^\n]*', oxum, files['bag-info.txt'])
    return retag(files)


def retag(files):
    tag_files = sorted(p for p, d in files.items() if d is not None and not p.startswith('data/')
                       and not p.startswith('tagmanifest-'))
    for alg in algs_of(files, 'tagmanifest'):
        files[f'tagmanifest-{alg}.txt'] = b''.join(
            manifest_line(alg, files[p], p) for p in tag_files)
    return files


def algs_of(files, kind):
    return [p[len(kind) + 1:-4] for p in sorted(files)
            if '/' not in p and p.startswith(kind + '-') and p.endswith('.txt')]


def append(files, path, data):
    files[path] = files[path] + data
    return files


def member(name, kind=tarfile.REGTYPE, data=b'', linkname=''):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.linkname = linkname
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    return info, data


def write_tar(path, files, extra=(), base='bag'):
    """The bag as a pax tar with base/ first; `extra` are raw (TarInfo, bytes) members."""
    members = [member(base, tarfile.DIRTYPE)]
    for rel, data in files.items():
        if data is None:
            members.append(member(f'{base}/{rel}', tarfile.DIRTYPE))
        else:
            members.append(member(f'{base}/{rel}', data=data))
    with tarfile.open(path, 'w', format=tarfile.PAX_FORMAT) as tar:
        for info, data in members + list(extra):
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)


# ---------------------------------------------------------------------------------------
# Cases.  Each returns a bag dict, or (bag dict, extra tar members), or (bag, extra, base).
# ---------------------------------------------------------------------------------------

CASES = []


def case(name, rules=(), also=(), warns=()):
    """Register a case that must fail with every rule in `rules` (pass if none)."""
    def register(build):
        CASES.append((name, build, set(rules), set(also), set(warns)))
        return build
    return register


@case('valid: minimal bag, sha256+sha512 manifests, tagmanifest, bag-info')
def _():
    return make_bag()


@case('valid: empty payload (data/ member only, empty manifests, Payload-Oxum 0.0)')
def _():
    bag = make_bag(payload={})
    assert b'Payload-Oxum: 0.0\n' in bag['bag-info.txt'] and bag['manifest-sha256.txt'] == b''
    return bag


@case('valid: names needing percent-encoding (%, LF, CR) listed encoded')
def _():
    bag = make_bag(payload={'a%b': b'1', 'line\nbreak': b'2', 'cr\rname': b'3', '100%25': b'4'})
    assert b'data/a%25b' in bag['manifest-sha256.txt']
    return bag


@case('valid: CRLF and CR line ends, uppercase hex, tab separator, continuation line')
def _():
    bag = make_bag()
    text = bag['manifest-sha256.txt'].decode()
    text = re.sub(r'([0-9a-f]{64})  ', lambda m: m.group(1).upper() + '\t', text)
    bag['manifest-sha256.txt'] = text.replace('\n', '\r\n').encode()
    bag['manifest-sha512.txt'] = bag['manifest-sha512.txt'].replace(b'\n', b'\r')
    append(bag, 'bag-info.txt', b'External-Description: a long value\r\n  continued here\r\n')
    return retag(bag)


@case('valid: tag directory with a listed tag file, several tag manifests')
def _():
    bag = make_bag(tag_algs=('sha256', 'sha512', 'md5'))
    bag['meta'] = None
    bag['meta/provenance.xml'] = b'<p/>'
    return retag(bag)


@case('valid with warning: tag file not in the tag manifest', warns={'tagmanifest-unlisted-tag-file'})
def _():
    bag = make_bag()
    bag['notes.txt'] = b'added after tagging\n'
    return bag


@case('valid with warning: Bagging-Date not YYYY-MM-DD', warns={'bagging-date'})
def _():
    bag = make_bag()
    bag['bag-info.txt'] = bag['bag-info.txt'].replace(b'2024-05-01', b'1 May 2024')
    return retag(bag)


@case('valid with warning: BagIt 0.97 with loose bag-info whitespace', warns={'bagit-version'})
def _():
    bag = make_bag()
    bag['bagit.txt'] = BAGIT_TXT.replace(b'1.0', b'0.97')
    bag['bag-info.txt'] = bag['bag-info.txt'].replace(b'Payload-Oxum: ', b'Payload-Oxum :  ')
    return retag(bag)


# --- bagit.txt -----------------------------------------------------------------------

@case('bagit.txt with a wrong version line', rules={'bagit-txt'})
def _():
    bag = make_bag()
    bag['bagit.txt'] = BAGIT_TXT.replace(b'BagIt-Version: 1.0', b'BagIt-Version 1.0')
    return retag(bag)


@case('bagit.txt with a third line', rules={'bagit-txt'})
def _():
    return retag(append(make_bag(), 'bagit.txt', b'Extra: line\n'))


@case('bagit.txt missing', rules={'bagit-txt-missing'})
def _():
    bag = make_bag()
    del bag['bagit.txt']
    return retag(bag)


@case('bagit.txt with a byte-order mark', rules={'bagit-txt-encoding'})
def _():
    bag = make_bag()
    bag['bagit.txt'] = b'\xef\xbb\xbf' + BAGIT_TXT
    return retag(bag)


# --- payload directory and manifests -------------------------------------------------

@case('empty payload without a data/ member', rules={'payload-dir'})
def _():
    bag = make_bag(payload={})
    del bag['data']
    return bag


@case('no payload manifest', rules={'manifest-missing'})
def _():
    bag = make_bag()
    del bag['manifest-sha256.txt'], bag['manifest-sha512.txt']
    return retag(bag)


@case('manifest name with an uppercase algorithm', rules={'manifest-alg-name'})
def _():
    bag = make_bag()
    bag['manifest-SHA256.txt'] = bag.pop('manifest-sha256.txt')
    return retag(bag)


@case('manifest for an algorithm the checker cannot verify', rules={'manifest-alg-unsupported'})
def _():
    bag = make_bag()
    bag['manifest-blake3.txt'] = b''
    return retag(bag)


@case('payload file not in the manifests', rules={'manifest-unlisted-payload'})
def _():
    bag = make_bag()
    bag['data/late.txt'] = b'added after the manifests\n'
    return refresh(bag)


@case('manifest lists a missing file', rules={'manifest-missing-file'})
def _():
    bag = make_bag()
    del bag['data/a.txt']
    return refresh(bag)


@case('payload digest wrong', rules={'manifest-digest'})
def _():
    bag = make_bag()
    bag['data/a.txt'] = b'ALPHA\n'
    return refresh(bag)


@case('duplicate manifest entry', rules={'manifest-dup'})
def _():
    bag = make_bag()
    return retag(append(bag, 'manifest-sha256.txt', manifest_line('sha256', b'alpha\n', 'data/a.txt')))


@case('manifest path with ../', rules={'manifest-path'})
def _():
    bag = make_bag()
    line = manifest_line('sha256', BAGIT_TXT, 'data/../bagit.txt')
    return retag(append(bag, 'manifest-sha256.txt', line))


@case('manifest path outside data/', rules={'manifest-path-outside-data'})
def _():
    bag = make_bag()
    return retag(append(bag, 'manifest-sha256.txt', manifest_line('sha256', BAGIT_TXT, 'bagit.txt')))


@case('manifest lists a directory', rules={'manifest-lists-directory'})
def _():
    bag = make_bag()
    return retag(append(bag, 'manifest-sha256.txt', manifest_line('sha256', b'', 'data/sub')))


@case('manifest line without a separator', rules={'manifest-format'})
def _():
    bag = make_bag()
    return retag(append(bag, 'manifest-sha256.txt', digest('sha256', b'').encode() + b'data/x\n'))


@case('manifest digest of the wrong length', rules={'manifest-format'})
def _():
    bag = make_bag()
    return retag(append(bag, 'manifest-sha512.txt', manifest_line('sha256', b'', 'data/empty')))


@case('name with % listed un-encoded', rules={'manifest-percent-encoding'},
      also={'manifest-unlisted-payload'})
def _():
    bag = make_bag(payload={'a%b': b'1'})
    bag['manifest-sha256.txt'] = f'{digest("sha256", b"1")}  data/a%b\n'.encode()
    return retag(bag)


@case('name %25 listed un-encoded decodes to another name', rules={'manifest-missing-file'},
      also={'manifest-unlisted-payload'})
def _():
    bag = make_bag(payload={'a%25b': b'1'})
    bag['manifest-sha256.txt'] = f'{digest("sha256", b"1")}  data/a%25b\n'.encode()
    return retag(bag)


@case('name with LF listed un-encoded', rules={'manifest-format'},
      also={'manifest-missing-file', 'manifest-unlisted-payload'})
def _():
    bag = make_bag(payload={'x\ny': b'1'})
    bag['manifest-sha256.txt'] = f'{digest("sha256", b"1")}  data/x\ny\n'.encode()
    return retag(bag)


@case('manifest without a final line end', rules={'text-line-end'})
def _():
    bag = make_bag()
    bag['manifest-sha256.txt'] = bag['manifest-sha256.txt'].rstrip(b'\n')
    return retag(bag)


# --- tag manifests -------------------------------------------------------------------

@case('tag manifest digest wrong', rules={'tagmanifest-digest'})
def _():
    return append(make_bag(), 'bag-info.txt', b'Contact-Name: added after tagging\n')


@case('tag manifest lists a tag manifest', rules={'tagmanifest-lists-tagmanifest'})
def _():
    bag = make_bag(tag_algs=('sha256', 'sha512'))
    line = manifest_line('sha256', bag['tagmanifest-sha512.txt'], 'tagmanifest-sha512.txt')
    return append(bag, 'tagmanifest-sha256.txt', line)


@case('tag manifest lists a payload file', rules={'tagmanifest-lists-payload'})
def _():
    return append(make_bag(), 'tagmanifest-sha256.txt', manifest_line('sha256', b'alpha\n', 'data/a.txt'))


@case('tag manifest lists a missing file', rules={'tagmanifest-missing-file'})
def _():
    return append(make_bag(), 'tagmanifest-sha256.txt', manifest_line('sha256', b'', 'gone.txt'))


@case('tag manifest omits a payload manifest', rules={'tagmanifest-missing-payload-manifest'})
def _():
    bag = make_bag()
    lines = bag['tagmanifest-sha256.txt'].splitlines(keepends=True)
    bag['tagmanifest-sha256.txt'] = b''.join(l for l in lines if b'manifest-sha512' not in l)
    return bag


# --- bag-info.txt --------------------------------------------------------------------

@case('wrong Payload-Oxum', rules={'payload-oxum'})
def _():
    bag = make_bag()
    bag['bag-info.txt'] = re.sub(rb'Payload-Oxum: [^\n]*', b'Payload-Oxum: 999.3', bag['bag-info.txt'])
    return retag(bag)


@case('Payload-Oxum repeated', rules={'payload-oxum'})
def _():
    bag = make_bag()
    line = re.search(rb'payload-oxum: [^\n]*\n', bag['bag-info.txt'], re.I).group(0)
    return retag(append(bag, 'bag-info.txt', line.replace(b'Payload-Oxum', b'PAYLOAD-OXUM')))


@case('bag-info line without a colon', rules={'bag-info-format'})
def _():
    return retag(append(make_bag(), 'bag-info.txt', b'Contact-Name Jane Doe\n'))


@case('bag-info label ending in whitespace', rules={'bag-info-format'})
def _():
    return retag(append(make_bag(), 'bag-info.txt', b'Contact-Name : Jane Doe\n'))


@case('bag-info colon not followed by whitespace', rules={'bag-info-format'})
def _():
    return retag(append(make_bag(), 'bag-info.txt', b'Contact-Name:Jane Doe\n'))


@case('bag-info starting with a continuation line', rules={'bag-info-format'})
def _():
    bag = make_bag()
    bag['bag-info.txt'] = b'  orphan\n' + bag['bag-info.txt']
    return retag(bag)


@case('bag-info not valid UTF-8', rules={'text-encoding'})
def _():
    return retag(append(make_bag(), 'bag-info.txt', b'Contact-Name: J\xe9r\xf4me\n'))


# --- fetch.txt -----------------------------------------------------------------------

@case('fetch.txt lists a file not in the bag', rules={'fetch-incomplete'},
      also={'manifest-missing-file'})
def _():
    bag = make_bag()
    del bag['data/a.txt']
    bag['fetch.txt'] = b'https://example.org/a.txt 6 data/a.txt\n'
    return refresh(bag)


@case('fetch.txt lists a tag file', rules={'fetch-lists-tag-file'})
def _():
    bag = make_bag()
    bag['fetch.txt'] = b'https://example.org/x - bag-info.txt\n'
    return retag(bag)


@case('fetch.txt with a relative URL', rules={'fetch-format'})
def _():
    bag = make_bag()
    bag['fetch.txt'] = b'a.txt 6 data/a.txt\n'
    return retag(bag)


# --- the tar container ---------------------------------------------------------------

@case('two top-level directories', rules={'tar-top-level'})
def _():
    return make_bag(), [member('other', tarfile.DIRTYPE), member('other/x.txt', data=b'x')]


@case('symbolic link member', rules={'tar-member-type'})
def _():
    return make_bag(), [member('bag/data/link', tarfile.SYMTYPE, linkname='a.txt')]


@case('hard link member', rules={'tar-member-type'})
def _():
    return make_bag(), [member('bag/data/hard', tarfile.LNKTYPE, linkname='bag/data/a.txt')]


@case('absolute path member', rules={'tar-absolute-path'})
def _():
    return make_bag(), [member('/bag/data/abs.txt', data=b'x')]


@case('member with a .. component', rules={'tar-dotdot'})
def _():
    return make_bag(), [member('bag/../escape.txt', data=b'x')]


@case('duplicate member', rules={'tar-duplicate'})
def _():
    return make_bag(), [member('bag/data/a.txt', data=b'alpha\n')]


@case('members under ./', rules={'tar-path-form'}, also={'tar-top-level'})
def _():
    return make_bag(), [], './bag'


@case('member under a regular file', rules={'tar-path-conflict'},
      also={'manifest-unlisted-payload', 'payload-oxum'})
def _():
    return make_bag(), [member('bag/data/a.txt/inner', data=b'x')]


# ---------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------

def run_checker(*args):
    return subprocess.run([sys.executable, CHECKER, *args], capture_output=True, text=True)


def findings(output, severity):
    return {rule for sev, rule in FINDING.findall(output) if sev == severity}


def judge(result, rules, also, warns):
    """Why a checker run does not match the case, or None when it does."""
    violations = findings(result.stdout, 'VIOLATION')
    expected_code = 1 if rules else 0
    if result.returncode != expected_code:
        return f'exit {result.returncode}, expected {expected_code}'
    if rules - violations:
        return f'missing violations {sorted(rules - violations)}'
    if violations - rules - also:
        return f'unexpected violations {sorted(violations - rules - also)}'
    if warns - findings(result.stdout, 'WARNING'):
        return f'missing warnings {sorted(warns - findings(result.stdout, "WARNING"))}'
    if not rules and not re.search(r'^OK: \d+ payload files, \d+ tag files$', result.stdout, re.M):
        return 'no OK line'
    return None


def run_case(tmp, index, name, build, rules, also, warns):
    built = build()
    built = built if isinstance(built, tuple) else (built,)
    files, extra, base = built + ((), [], 'bag')[len(built):]
    path = os.path.join(tmp, f'case{index}.tar')
    write_tar(path, files, extra, base)
    return judge(run_checker(path), rules, also, warns)


def run_usage_cases(tmp):
    """Exit 2 when there is no readable tar: (name, failure or None) pairs."""
    garbage = os.path.join(tmp, 'garbage.tar')
    with open(garbage, 'wb') as out:
        out.write(b'this is not a tar file\n' * 40)
    checks = [('usage: no argument', run_checker()),
              ('usage: missing file', run_checker(os.path.join(tmp, 'absent.tar'))),
              ('usage: not a tar', run_checker(garbage))]
    return [(name, None if r.returncode == 2 else f'exit {r.returncode}, expected 2')
            for name, r in checks]


def main():
    results = []
    with tempfile.TemporaryDirectory(prefix='bagit-check-selftest.') as tmp:
        for index, (name, build, rules, also, warns) in enumerate(CASES):
            results.append((name, run_case(tmp, index, name, build, rules, also, warns)))
        results.extend(run_usage_cases(tmp))
    failed = [(name, why) for name, why in results if why]
    for name, why in results:
        print(f'{"FAIL" if why else "ok  "} {name}' + (f': {why}' if why else ''))
    print(f'selftest: {len(results) - len(failed)} passed, {len(failed)} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
