#!/usr/bin/env python3
"""bagit-check.py — an independent RFC 8493 (BagIt 1.0) validator for a bag in a tar file.

Usage: bagit-check.py [--quiet] PACKAGE.tar

The tar must hold exactly one top-level directory, the bag's base directory.  Every
breach of a MUST rule is printed as

    VIOLATION <rule-id>: <detail> [RFC 8493 §n]

and every lapse from a SHOULD/RECOMMENDED as a WARNING line of the same shape (--quiet
drops the warnings).  With no violation the last line is
`OK: <n> payload files, <m> tag files`.
Exit status: 0 valid and complete, 1 violations, 2 usage error or unreadable tar.

This exists because the usual validators (bagit-python, bagit-java) are not available
where the project's tests run; it is written from the RFC, not from either of them.
It is deliberately stricter than the RFC in one place: a bag with a fetch.txt entry for
a file that is not in the tar is reported, because the project only exports complete
bags.

Nothing is extracted: members are hashed as they are read, and only the standard text
tag files (bagit.txt, bag-info.txt, fetch.txt, the manifests) are held in memory.
Python 3.9+, standard library only.
"""

import argparse
import hashlib
import re
import sys
import tarfile
import unicodedata

# Every rule id this checker can print, with what it enforces.  "package rule" marks
# requirements on the tar the project delivers rather than RFC text: the tar must unpack
# to exactly one base directory and nothing else (RFC 8493 §2, §5.1), and be complete.
RULES = {
    # The tar container.
    'tar-top-level': 'package rule; cf. RFC 8493 §2',
    'tar-absolute-path': 'package rule; cf. RFC 8493 §5.1',
    'tar-dotdot': 'package rule; cf. RFC 8493 §5.1',
    'tar-path-form': 'package rule; cf. RFC 8493 §2',
    'tar-member-type': 'package rule; cf. RFC 8493 §2',
    'tar-duplicate': 'package rule; cf. RFC 8493 §2',
    'tar-path-conflict': 'package rule; cf. RFC 8493 §2',
    'tar-name-encoding': 'package rule; cf. RFC 8493 §2.1.3',
    # Bag declaration.
    'bagit-txt-missing': 'RFC 8493 §2.1.1',
    'bagit-txt': 'RFC 8493 §2.1.1',
    'bagit-txt-encoding': 'RFC 8493 §2.1.1',
    'bagit-version': 'RFC 8493 §2.1.1',
    'bagit-encoding-not-utf8': 'RFC 8493 §2.1.1',
    # Payload directory.
    'payload-dir': 'RFC 8493 §2.1.2',
    'payload-empty-dir': 'RFC 8493 §2.1.3',
    # Payload manifests.
    'manifest-missing': 'RFC 8493 §2.1',
    'manifest-alg-name': 'RFC 8493 §2.4',
    'manifest-alg-unsupported': 'RFC 8493 §2.4',
    'manifest-weak-alg': 'RFC 8493 §2.4',
    'manifest-format': 'RFC 8493 §2.1.3',
    'manifest-percent-encoding': 'RFC 8493 §2.1.3',
    'manifest-path': 'RFC 8493 §2.1.3, §5.1',
    'manifest-path-outside-data': 'RFC 8493 §2.1.3',
    'manifest-dup': 'RFC 8493 §2.1.3',
    'manifest-lists-directory': 'RFC 8493 §2.1.3',
    'manifest-missing-file': 'RFC 8493 §3',
    'manifest-unlisted-payload': 'RFC 8493 §3',
    'manifest-digest': 'RFC 8493 §3',
    # Tag manifests.
    'tagmanifest-alg-name': 'RFC 8493 §2.4',
    'tagmanifest-alg-unsupported': 'RFC 8493 §2.4',
    'tagmanifest-format': 'RFC 8493 §2.2.1',
    'tagmanifest-percent-encoding': 'RFC 8493 §2.2.1',
    'tagmanifest-path': 'RFC 8493 §2.2.1, §5.1',
    'tagmanifest-dup': 'RFC 8493 §2.2.1',
    'tagmanifest-lists-directory': 'RFC 8493 §2.2.1',
    'tagmanifest-lists-payload': 'RFC 8493 §2.2.1',
    'tagmanifest-lists-tagmanifest': 'RFC 8493 §2.2.1',
    'tagmanifest-missing-payload-manifest': 'RFC 8493 §2.2.1',
    'tagmanifest-missing-file': 'RFC 8493 §3',
    'tagmanifest-digest': 'RFC 8493 §3',
    'tagmanifest-unlisted-tag-file': 'RFC 8493 §2.2.1',
    'tagmanifest-sets-differ': 'RFC 8493 §2.2.1',
    # bag-info.txt.
    'bag-info-format': 'RFC 8493 §2.2.2',
    'bag-info-line-length': 'RFC 8493 §2.2.2',
    'bag-info-repeated': 'RFC 8493 §2.2.2',
    'payload-oxum': 'RFC 8493 §2.2.2',
    'bagging-date': 'RFC 8493 §2.2.2',
    'bag-count': 'RFC 8493 §2.2.2',
    # fetch.txt.
    'fetch-format': 'RFC 8493 §2.2.3',
    'fetch-percent-encoding': 'RFC 8493 §2.2.3',
    'fetch-path': 'RFC 8493 §2.2.3, §5.1',
    'fetch-lists-tag-file': 'RFC 8493 §2.2.3',
    'fetch-not-in-manifest': 'RFC 8493 §2.2.3',
    'fetch-incomplete': 'package rule (bags are exported complete); cf. RFC 8493 §3',
    'fetch-length': 'RFC 8493 §2.2.3',
    # Text tag files.
    'text-encoding': 'RFC 8493 §2.3',
    'text-line-end': 'RFC 8493 §2.3',
    # File names.
    'name-normalization': 'RFC 8493 §6.1.1',
    'name-case': 'RFC 8493 §6.1.1',
}

# Algorithms this checker verifies, by their §2.4 normalized names.  §2.4 makes sha256
# and sha512 mandatory for validators and md5/sha1 a SHOULD for older bags.
SUPPORTED_ALGS = ('md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512')
STRONG_ALGS = ('sha256', 'sha512')

CHUNK = 1 << 20
UTF8_BOM = b'\xef\xbb\xbf'
LINE_BREAK = re.compile(r'\r\n|\r|\n')
VERSION_LINE = re.compile(r'BagIt-Version:[ \t](\d+)\.(\d+)')
ENCODING_LINE = re.compile(r'Tag-File-Character-Encoding:[ \t](\S+)')
MANIFEST_LINE = re.compile(r'([0-9A-Fa-f]+)[ \t]+(.+)')
ALG_NAME = re.compile(r'[a-z0-9]+')
# §2.2.3: an absolute URI (RFC 3986 §4.3) — a scheme, a colon, no unencoded whitespace.
FETCH_URL = re.compile(r'[A-Za-z][A-Za-z0-9+.-]*:[^ \t]*')
FETCH_LENGTH = re.compile(r'-|\d+')
OXUM = re.compile(r'(\d+)\.(\d+)')
BAGGING_DATE = re.compile(r'\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])')
BAG_COUNT = re.compile(r'\d+ of (\d+|\?)')
# §2.1.3: only %, CR and LF are percent-encoded in a manifest or fetch path.
PATH_ESCAPES = {'25': '%', '0A': '\n', '0D': '\r'}
# §2.2.2 reserved elements that SHOULD NOT be repeated (Payload-Oxum MUST NOT; it is
# checked on its own).
SINGLE_VALUED = ('bagging-date', 'bag-size', 'bag-group-identifier', 'bag-count')
MAX_BAG_INFO_LINE = 79

MEMBER_KINDS = {
    tarfile.SYMTYPE: 'symbolic link', tarfile.LNKTYPE: 'hard link',
    tarfile.CHRTYPE: 'character device', tarfile.BLKTYPE: 'block device',
    tarfile.FIFOTYPE: 'FIFO',
}


class Report:
    """Collects findings; prints them in the order found, then the verdict."""

    def __init__(self, quiet):
        self.quiet = quiet
        self.lines = []
        self.violations = 0

    def violation(self, rule, detail):
        self.violations += 1
        self.lines.append(self._format('VIOLATION', rule, detail))

    def warning(self, rule, detail):
        if not self.quiet:
            self.lines.append(self._format('WARNING', rule, detail))

    @staticmethod
    def _format(severity, rule, detail):
        # A KeyError here means a rule id was used without being declared in RULES.
        return f'{severity} {rule}: {detail} [{RULES[rule]}]'

    def finish(self, summary):
        for line in self.lines:
            print(line)
        if self.violations:
            return 1
        print(f'OK: {summary}')
        return 0


class UnreadablePackage(Exception):
    pass


class FileInfo:
    """A regular file of the bag: its size, its digests, and its bytes if a text tag file."""

    __slots__ = ('size', 'digests', 'data')

    def __init__(self, size, digests, data):
        self.size = size
        self.digests = digests
        self.data = data


class Package:
    """The bag as found in the tar, keyed by paths relative to the base directory."""

    def __init__(self, base):
        self.base = base
        self.files = {}            # path -> FileInfo
        self.explicit_dirs = set()  # directories with their own tar member
        self.dirs = set()          # explicit ones plus every parent of a file

    def payload(self):
        return {p for p in self.files if p.startswith('data/')}

    def tag_files(self):
        return {p for p in self.files if not p.startswith('data/')}


class Manifest:
    """One manifest-<alg>.txt or tagmanifest-<alg>.txt: path -> (lowercase digest, line)."""

    def __init__(self, name, kind, alg):
        self.name = name
        self.kind = kind  # 'manifest' or 'tagmanifest', also the rule-id prefix
        self.alg = alg
        self.entries = {}


# ---------------------------------------------------------------------------------------
# Reading the tar
# ---------------------------------------------------------------------------------------

def read_package(path, report):
    """Read the tar into a Package; None when its layout leaves no single base directory."""
    try:
        # getmembers() only walks headers; contents are read once, below, member by member.
        with tarfile.open(path, 'r:*', encoding='utf-8') as tar:
            accepted = accept_members(tar.getmembers(), report)
            if accepted is None:
                return None
            pkg = Package(accepted[0])
            entries = accepted[1]
            algs = manifest_algorithms(rel for rel, m in entries if m.isreg())
            for rel, member in entries:
                if member.isdir():
                    pkg.explicit_dirs.add(rel)
                else:
                    pkg.files[rel] = read_member(tar, member, algs, is_text_tag_file(rel))
    except (tarfile.TarError, OSError, EOFError) as err:
        raise UnreadablePackage(str(err)) from err
    pkg.dirs = pkg.explicit_dirs | {d for p in pkg.files for d in parent_dirs(p)}
    return pkg


def accept_members(members, report):
    """Report members no bag may contain; return (base, [(relative path, member)]) or None."""
    seen = set()
    kept = []
    for member in members:
        problem = member_problem(member)
        if problem:
            report.violation(*problem)
        elif member.name in seen:
            report.violation('tar-duplicate', f'{member.name!r} appears more than once')
        else:
            seen.add(member.name)
            kept.append(member)
    tops = sorted({m.name.split('/')[0] for m in kept})
    if len(tops) != 1:
        shown = ', '.join(repr(t) for t in tops[:5]) or 'none'
        report.violation('tar-top-level', f'expected exactly one top-level directory, '
                                          f'found {len(tops)}: {shown}')
        return None
    base = tops[0]
    entries = []
    for member in kept:
        if member.name != base:
            entries.append((member.name[len(base) + 1:], member))
        elif not member.isdir():
            report.violation('tar-top-level', f'top-level member {base!r} is not a directory')
            return None
    check_path_conflicts(entries, report)
    return base, entries


def member_problem(member):
    """(rule, detail) when a member could not be part of an unpacked bag, else None."""
    name = member.name
    try:
        name.encode('utf-8')
    except UnicodeEncodeError:
        # A UTF-8 manifest cannot name it, so no manifest could cover it.
        return 'tar-name-encoding', f'{name!r} is not valid UTF-8'
    if name.startswith('/'):
        return 'tar-absolute-path', f'{name!r} is an absolute path'
    parts = name.split('/')
    if '..' in parts:
        return 'tar-dotdot', f'{name!r} has a ".." component'
    if '' in parts or '.' in parts:
        return 'tar-path-form', f'{name!r} has an empty or "." component'
    if not (member.isreg() or member.isdir()):
        kind = MEMBER_KINDS.get(member.type, f'member of type {member.type!r}')
        return 'tar-member-type', f'{name!r} is a {kind}; only regular files and directories'
    return None


def check_path_conflicts(entries, report):
    # A file that is also the parent of another member cannot be unpacked as both.
    files = {rel for rel, m in entries if m.isreg()}
    for rel in sorted(files):
        for parent in parent_dirs(rel):
            if parent in files:
                report.violation('tar-path-conflict', f'{rel!r} lies under regular file {parent!r}')


def parent_dirs(rel):
    parts = rel.split('/')
    return ['/'.join(parts[:i]) for i in range(1, len(parts))]


def manifest_algorithms(paths):
    """The supported algorithms named by the base directory's (tag)manifest files."""
    algs = set()
    for rel in paths:
        for kind in ('manifest', 'tagmanifest'):
            alg = manifest_alg(rel, kind)
            if alg in SUPPORTED_ALGS:
                algs.add(alg)
    return sorted(algs)


def manifest_alg(rel, kind):
    """The <alg> of a base-directory file named <kind>-<alg>.txt, else None."""
    prefix = kind + '-'
    if '/' in rel or not rel.startswith(prefix) or not rel.endswith('.txt'):
        return None
    return rel[len(prefix):-len('.txt')]


def is_text_tag_file(rel):
    """The tag files whose text this checker reads (the rest are only hashed)."""
    return (rel in ('bagit.txt', 'bag-info.txt', 'fetch.txt')
            or manifest_alg(rel, 'manifest') is not None
            or manifest_alg(rel, 'tagmanifest') is not None)


def read_member(tar, member, algs, keep):
    hashers = {alg: new_hash(alg) for alg in algs}
    kept = bytearray() if keep else None
    size = 0
    stream = tar.extractfile(member)
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        size += len(chunk)
        for hasher in hashers.values():
            hasher.update(chunk)
        if keep:
            kept += chunk
    if size != member.size:
        raise tarfile.ReadError(f'{member.name!r}: read {size} of {member.size} bytes')
    digests = {alg: h.hexdigest() for alg, h in hashers.items()}
    return FileInfo(size, digests, bytes(kept) if keep else None)


def new_hash(alg):
    # These digests check integrity, not secrets; say so, or FIPS builds refuse md5.
    return hashlib.new(alg, usedforsecurity=False)


# ---------------------------------------------------------------------------------------
# Text tag files (§2.3) and manifest paths (§2.1.3)
# ---------------------------------------------------------------------------------------

def read_text(pkg, rel, encoding, report, rule='text-encoding'):
    """The lines of a text tag file, or None when it cannot be decoded."""
    data = pkg.files[rel].data
    if is_utf8(encoding) and data.startswith(UTF8_BOM):
        # §2.1.1 for bagit.txt; §2.3 for the rest: UTF-8 needs no BOM, so none is allowed.
        report.violation(rule, f'{rel} begins with a byte-order mark')
        data = data[len(UTF8_BOM):]
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as err:
        report.violation(rule, f'{rel} is not valid {encoding} (byte {err.start})')
        return None
    return split_lines(text, rel, report)


def split_lines(text, rel, report):
    # §2.3: every line, the last included, ends in LF, CR or CRLF.
    if not text:
        return []
    lines = LINE_BREAK.split(text)
    if lines[-1]:
        report.violation('text-line-end', f'{rel}: last line is not terminated by LF, CR or CRLF')
    else:
        lines.pop()
    return lines


def is_utf8(encoding):
    return encoding.lower() == 'utf-8'


def decode_path(raw):
    """(path, None) or (None, error): undo the §2.1.3 percent-encoding of %, CR and LF."""
    out = []
    pos = 0
    while True:
        cut = raw.find('%', pos)
        if cut < 0:
            out.append(raw[pos:])
            return ''.join(out), None
        code = raw[cut + 1:cut + 3].upper()
        if code not in PATH_ESCAPES:
            # Either a bare '%' (which must be written %25) or an escape of some other
            # character (only %, CR and LF may be encoded).
            return None, (f'{raw!r}: "%{raw[cut + 1:cut + 3]}" is not %25, %0A or %0D '
                          f'(a literal "%" must be written %25)')
        out.append(raw[pos:cut])
        out.append(PATH_ESCAPES[code])
        pos = cut + 3


def path_problem(path):
    """Why a listed path is not a plain path relative to the base directory, or None."""
    if path.startswith('/'):
        return 'is absolute'
    parts = path.split('/')
    if '..' in parts:
        return 'has a ".." component (reaches outside the bag)'
    if '' in parts or '.' in parts:
        return 'has an empty or "." component'
    return None


def near_names(pkg, path):
    """A hint naming files that differ from `path` only in Unicode normalization or case."""
    key = fold(path)
    near = sorted(p for p in pkg.files if fold(p) == key)
    return f' (present with different normalization or case: {near[0]!r})' if near else ''


def fold(name):
    return unicodedata.normalize('NFC', name).casefold()


# ---------------------------------------------------------------------------------------
# bagit.txt (§2.1.1) and the payload directory (§2.1.2)
# ---------------------------------------------------------------------------------------

def check_bagit_txt(pkg, report):
    """Check the bag declaration; return (version tuple or None, tag file encoding)."""
    if 'bagit.txt' not in pkg.files:
        report.violation('bagit-txt-missing', 'bagit.txt is missing from the base directory')
        return None, 'UTF-8'
    lines = read_text(pkg, 'bagit.txt', 'UTF-8', report, rule='bagit-txt-encoding')
    if lines is None:
        return None, 'UTF-8'
    if len(lines) != 2:
        report.violation('bagit-txt', f'must have exactly two lines, has {len(lines)}')
    version = parse_version_line(lines[0] if lines else '', report)
    encoding = parse_encoding_line(lines[1] if len(lines) > 1 else '', report)
    if version is not None and version != (1, 0):
        report.warning('bagit-version', f'BagIt-Version is {version[0]}.{version[1]}; '
                                        f'checked against 1.0 rules')
    return version, encoding


def parse_version_line(line, report):
    match = VERSION_LINE.fullmatch(line)
    if not match:
        report.violation('bagit-txt', f'line 1 must be "BagIt-Version: M.N", found {line!r}')
        return None
    return int(match.group(1)), int(match.group(2))


def parse_encoding_line(line, report):
    match = ENCODING_LINE.fullmatch(line)
    if not match:
        report.violation('bagit-txt', f'line 2 must be "Tag-File-Character-Encoding: '
                                      f'ENCODING", found {line!r}')
        return 'UTF-8'
    encoding = match.group(1)
    if is_utf8(encoding):
        return encoding
    report.warning('bagit-encoding-not-utf8', f'tag files are declared {encoding!r}, not UTF-8')
    try:
        b''.decode(encoding)
    except LookupError:
        report.violation('bagit-txt-encoding', f'unknown tag file encoding {encoding!r}')
        return 'UTF-8'
    return encoding


def check_payload_dir(pkg, report):
    if 'data' in pkg.files:
        report.violation('payload-dir', 'data is a regular file, not the payload directory')
    elif 'data' not in pkg.dirs:
        # An empty payload still needs its directory member, or unpacking loses it.
        report.violation('payload-dir', 'the base directory has no data/ payload directory')
    implied = {d for p in pkg.files for d in parent_dirs(p)}
    for d in sorted(pkg.explicit_dirs - implied):
        if d.startswith('data/'):
            report.warning('payload-empty-dir', f'{d!r} is empty; no manifest can list it '
                                                f'(add a placeholder file such as .keep)')


# ---------------------------------------------------------------------------------------
# Manifests (§2.1.3, §2.2.1, §3)
# ---------------------------------------------------------------------------------------

def find_manifests(pkg, kind, encoding, report):
    """Parse every <kind>-<alg>.txt in the base directory that this checker can verify."""
    manifests = []
    for rel in sorted(pkg.files):
        alg = manifest_alg(rel, kind)
        if alg is None:
            continue
        if not ALG_NAME.fullmatch(alg):
            report.violation(f'{kind}-alg-name', f'{rel}: the algorithm name must be lowercase '
                                                 f'letters and digits only (e.g. sha512)')
        elif alg not in SUPPORTED_ALGS:
            report.violation(f'{kind}-alg-unsupported', f'{rel}: cannot verify {alg!r}; '
                                                        f'supported: {", ".join(SUPPORTED_ALGS)}')
        else:
            manifest = Manifest(rel, kind, alg)
            parse_manifest(pkg, manifest, encoding, report)
            manifests.append(manifest)
    return manifests


def parse_manifest(pkg, manifest, encoding, report):
    lines = read_text(pkg, manifest.name, encoding, report)
    for number, line in enumerate(lines or [], 1):
        entry = parse_manifest_line(manifest, f'{manifest.name} line {number}', line, report)
        if entry is None:
            continue
        digest, path = entry
        if path in manifest.entries:
            report.violation(f'{manifest.kind}-dup', f'{manifest.name} line {number}: {path!r} '
                                                     f'is listed more than once')
        else:
            manifest.entries[path] = (digest, number)


def parse_manifest_line(manifest, where, line, report):
    """(lowercase digest, decoded path) for a well-formed line, else None (reported)."""
    kind = manifest.kind
    match = MANIFEST_LINE.fullmatch(line)
    if not match:
        report.violation(f'{kind}-format', f'{where}: expected "<hex digest> <path>", '
                                           f'found {line!r}')
        return None
    digest, raw = match.groups()
    width = new_hash(manifest.alg).digest_size * 2
    if len(digest) != width:
        report.violation(f'{kind}-format', f'{where}: a {manifest.alg} digest has {width} hex '
                                           f'digits, found {len(digest)}')
        return None
    path, error = decode_path(raw)
    if error:
        report.violation(f'{kind}-percent-encoding', f'{where}: {error}')
        return None
    problem = path_problem(path)
    if problem:
        report.violation(f'{kind}-path', f'{where}: {path!r} {problem}')
        return None
    return digest.lower(), path


def check_listed_file(pkg, manifest, path, digest, where, report):
    """A listed path must be a file of the bag whose digest matches (§3)."""
    kind = manifest.kind
    info = pkg.files.get(path)
    if info is None and path in pkg.dirs:
        report.violation(f'{kind}-lists-directory', f'{where}: {path!r} is a directory')
        return
    if info is None:
        report.violation(f'{kind}-missing-file',
                         f'{where}: {path!r} is not in the bag{near_names(pkg, path)}')
        return
    actual = info.digests[manifest.alg]
    if actual != digest:
        report.violation(f'{kind}-digest', f'{where}: {path!r} has {manifest.alg} {actual}, '
                                           f'the manifest says {digest}')


def check_payload_manifests(pkg, manifests, report):
    if not manifests:
        report.violation('manifest-missing', 'no usable payload manifest manifest-<alg>.txt')
        return
    payload = pkg.payload()
    for manifest in manifests:
        for path, (digest, number) in manifest.entries.items():
            where = f'{manifest.name} line {number}'
            if path.startswith('data/'):
                check_listed_file(pkg, manifest, path, digest, where, report)
            else:
                hint = ' (a leading "*" is md5sum binary-mode syntax, §6)' if path[:1] == '*' else ''
                report.violation('manifest-path-outside-data',
                                 f'{where}: {path!r} is not under data/{hint}')
        # §3: for BagIt 1.0 every payload file is in every payload manifest.
        for path in sorted(payload - manifest.entries.keys()):
            report.violation('manifest-unlisted-payload', f'{path!r} is not listed in {manifest.name}')
    if not any(m.alg in STRONG_ALGS for m in manifests):
        report.warning('manifest-weak-alg', 'no sha256 or sha512 payload manifest')


def check_tag_manifests(pkg, manifests, report):
    payload_manifests = {p for p in pkg.files if manifest_alg(p, 'manifest') is not None}
    tag_manifests = {p for p in pkg.files if manifest_alg(p, 'tagmanifest') is not None}
    should_list = pkg.tag_files() - tag_manifests - payload_manifests
    for manifest in manifests:
        for path, (digest, number) in manifest.entries.items():
            where = f'{manifest.name} line {number}'
            if path == 'data' or path.startswith('data/'):
                report.violation('tagmanifest-lists-payload', f'{where}: {path!r} is a payload path')
            elif manifest_alg(path, 'tagmanifest') is not None:
                report.violation('tagmanifest-lists-tagmanifest',
                                 f'{where}: {path!r} is a tag manifest')
            else:
                check_listed_file(pkg, manifest, path, digest, where, report)
        for name in sorted(payload_manifests - manifest.entries.keys()):
            report.violation('tagmanifest-missing-payload-manifest',
                             f'{manifest.name} does not list payload manifest {name!r}')
        for name in sorted(should_list - manifest.entries.keys()):
            report.warning('tagmanifest-unlisted-tag-file',
                           f'{manifest.name} does not list tag file {name!r}')
    if len({frozenset(m.entries) for m in manifests}) > 1:
        report.warning('tagmanifest-sets-differ', 'the tag manifests list different sets of files')


# ---------------------------------------------------------------------------------------
# bag-info.txt (§2.2.2)
# ---------------------------------------------------------------------------------------

def check_bag_info(pkg, version, encoding, report):
    if 'bag-info.txt' not in pkg.files:
        return
    lines = read_text(pkg, 'bag-info.txt', encoding, report)
    if lines is None:
        return
    # §2.2.2: before 1.0, whitespace around the colon was free and MUST be accepted.
    lenient = version is not None and version < (1, 0)
    elements = parse_bag_info(lines, lenient, report)
    check_payload_oxum(pkg, elements, report)
    check_bagging_date(elements, report)
    check_bag_count(elements, report)
    for label in SINGLE_VALUED:
        if len(values_of(elements, label)) > 1:
            report.warning('bag-info-repeated', f'{label} appears more than once')


def parse_bag_info(lines, lenient, report):
    """The (label, value) elements of bag-info.txt, continuation lines folded in."""
    elements = []
    for number, line in enumerate(lines, 1):
        where = f'bag-info.txt line {number}'
        if len(line) > MAX_BAG_INFO_LINE:
            report.warning('bag-info-line-length', f'{where} has {len(line)} characters (> 79)')
        if line[:1] in (' ', '\t'):
            if elements:
                # The line break stays in the value; the indentation does not.
                label, value = elements[-1]
                elements[-1] = (label, value + '\n' + line.lstrip(' \t'))
            else:
                report.violation('bag-info-format', f'{where}: continuation line with no '
                                                    f'element before it')
            continue
        element = parse_element(line, where, lenient, report)
        if element:
            elements.append(element)
    return elements


def parse_element(line, where, lenient, report):
    """(label, value) from a `Label: value` line, or None (reported)."""
    label, colon, rest = line.partition(':')
    if not colon:
        report.violation('bag-info-format', f'{where}: not "Label: value": {line!r}')
        return None
    if lenient:
        label, rest = label.strip(' \t'), ' ' + rest.lstrip(' \t')
    if not label or label != label.strip(' \t'):
        report.violation('bag-info-format', f'{where}: label {label!r} is empty or starts or '
                                            f'ends with whitespace')
        return None
    if rest[:1] not in (' ', '\t'):
        report.violation('bag-info-format', f'{where}: the colon after {label!r} must be '
                                            f'followed by one space or tab')
        return None
    return label, rest[1:]


def values_of(elements, label):
    # §2.2.2: reserved element names are case-insensitive.
    return [value for name, value in elements if name.lower() == label]


def check_payload_oxum(pkg, elements, report):
    values = values_of(elements, 'payload-oxum')
    if len(values) > 1:
        report.violation('payload-oxum', f'Payload-Oxum appears {len(values)} times')
    payload = pkg.payload()
    octets = sum(pkg.files[p].size for p in payload)
    for value in values:
        match = OXUM.fullmatch(value)
        if not match:
            report.violation('payload-oxum', f'Payload-Oxum {value!r} is not '
                                             f'OctetCount.StreamCount')
        elif (int(match.group(1)), int(match.group(2))) != (octets, len(payload)):
            report.violation('payload-oxum', f'Payload-Oxum is {value!r} but the payload '
                                             f'is {octets}.{len(payload)}')


def check_bagging_date(elements, report):
    for value in values_of(elements, 'bagging-date'):
        if not BAGGING_DATE.fullmatch(value):
            report.warning('bagging-date', f'Bagging-Date {value!r} is not YYYY-MM-DD')


def check_bag_count(elements, report):
    for value in values_of(elements, 'bag-count'):
        if not BAG_COUNT.fullmatch(value):
            report.warning('bag-count', f'Bag-Count {value!r} is not "N of T"')


# ---------------------------------------------------------------------------------------
# fetch.txt (§2.2.3)
# ---------------------------------------------------------------------------------------

def check_fetch(pkg, encoding, payload_manifests, report):
    if 'fetch.txt' not in pkg.files:
        return
    for number, line in enumerate(read_text(pkg, 'fetch.txt', encoding, report) or [], 1):
        where = f'fetch.txt line {number}'
        entry = parse_fetch_line(line, where, report)
        if entry:
            check_fetch_entry(pkg, entry, where, payload_manifests, report)


def parse_fetch_line(line, where, report):
    """(url, length, decoded path) for a well-formed line, else None (reported)."""
    fields = re.split(r'[ \t]+', line, maxsplit=2)
    if (len(fields) != 3 or not FETCH_URL.fullmatch(fields[0])
            or not FETCH_LENGTH.fullmatch(fields[1])):
        report.violation('fetch-format', f'{where}: expected "<absolute url> <length|-> '
                                         f'<path>", found {line!r}')
        return None
    path, error = decode_path(fields[2])
    if error:
        report.violation('fetch-percent-encoding', f'{where}: {error}')
        return None
    problem = path_problem(path)
    if problem:
        report.violation('fetch-path', f'{where}: {path!r} {problem}')
        return None
    return fields[0], fields[1], path


def check_fetch_entry(pkg, entry, where, payload_manifests, report):
    url, length, path = entry
    if not path.startswith('data/'):
        report.violation('fetch-lists-tag-file', f'{where}: {path!r} is not a payload path')
        return
    for manifest in payload_manifests:
        if path not in manifest.entries:
            report.violation('fetch-not-in-manifest', f'{where}: {path!r} is not in {manifest.name}')
    info = pkg.files.get(path)
    if info is None:
        report.violation('fetch-incomplete', f'{where}: {path!r} is left to fetch from {url}; '
                                             f'exported bags must be complete')
    elif length != '-' and int(length) != info.size:
        report.violation('fetch-length', f'{where}: {path!r} is {info.size} bytes, '
                                         f'fetch.txt says {length}')


# ---------------------------------------------------------------------------------------
# File names (§6.1.1)
# ---------------------------------------------------------------------------------------

def check_name_collisions(pkg, report):
    # Names equal after normalization (or case folding) collide on HFS+, NTFS, FAT...
    by_nfc, by_fold = {}, {}
    for path in pkg.files:
        nfc = unicodedata.normalize('NFC', path)
        by_nfc.setdefault(nfc, []).append(path)
        by_fold.setdefault(nfc.casefold(), set()).add(nfc)
    for names in by_nfc.values():
        if len(names) > 1:
            report.warning('name-normalization', f'differ only in Unicode normalization: '
                                                 f'{sorted(names)!r}')
    for names in by_fold.values():
        if len(names) > 1:
            report.warning('name-case', f'differ only in case: {sorted(names)!r}')


# ---------------------------------------------------------------------------------------

def check_bag(pkg, report):
    version, encoding = check_bagit_txt(pkg, report)
    check_payload_dir(pkg, report)
    payload_manifests = find_manifests(pkg, 'manifest', encoding, report)
    check_payload_manifests(pkg, payload_manifests, report)
    check_tag_manifests(pkg, find_manifests(pkg, 'tagmanifest', encoding, report), report)
    check_bag_info(pkg, version, encoding, report)
    check_fetch(pkg, encoding, payload_manifests, report)
    check_name_collisions(pkg, report)


def main(argv):
    parser = argparse.ArgumentParser(
        description='Validate an RFC 8493 (BagIt 1.0) bag delivered as a tar file.')
    parser.add_argument('package', metavar='PACKAGE.tar')
    parser.add_argument('--quiet', action='store_true', help='do not print warnings')
    args = parser.parse_args(argv)  # exits 2 on a usage error
    report = Report(args.quiet)
    try:
        pkg = read_package(args.package, report)
    except UnreadablePackage as err:
        print(f'bagit-check: cannot read {args.package}: {err}', file=sys.stderr)
        return 2
    summary = ''
    if pkg is not None:
        check_bag(pkg, report)
        summary = f'{len(pkg.payload())} payload files, {len(pkg.tag_files())} tag files'
    return report.finish(summary)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
