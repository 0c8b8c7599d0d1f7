/*
 * package_verify.c — checks an exhibit package (FS §10) with no vault: the bag (RFC 8493:
 * bagit.txt, both payload manifests, the tag manifest, Payload-Oxum), the package
 * signature over the tag manifest, and per exhibit its record and signature, its custody
 * event, its exhibit proof against the package's checkpoint, its minisign signature and
 * its bytes. Every failure is reported by kind (FS §10.3); checking goes on after one.
 *
 * The package is hostile input: it is read with libarchive's tar reader only (no
 * decompression), entry by entry, with limits on the number of entries, name lengths and
 * the size of tag files, which are the only ones held in memory; payload files are hashed
 * as they stream past.
 */
#include "package.h"

#include "checkpoint.h"
#include "digest.h"
#include "keys.h"
#include "minisig.h"
#include "note.h"
#include "record.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define PKG_MAX_ENTRIES 1000000
#define PKG_MAX_PATH 1024
#define PKG_TAG_MAX ((size_t)16 << 20)     /* one tag file */
#define PKG_TAGS_MAX ((uint64_t)1 << 30)    /* all tag files together */

typedef struct pfile {
	char *path; /* relative to the bag's base directory, no trailing '/' */
	bool dir, payload;
	uint64_t size;
	uint8_t sha256[32], sha512[64], blake2b[64];
	uint8_t *data; /* tag files only, NUL-terminated */
	bool listed;   /* named by the manifest that covers it (both payload manifests) */
	bool exhibit;  /* a payload file the exhibit list names */
	bool listed512;
} pfile;

typedef struct pkg {
	const custos_package_opts *o;
	custos_package_result *out;
	pfile *f;
	size_t n, cap;
	char *base;
	uint64_t tag_bytes;
	bool unreadable; /* the tar could not be read to its end */
	char vault[33];
	uint64_t tree_size;
	/* The event file checked last: exhibits of one ingest share it, and parsing an event
	 * of a large ingest once per exhibit would be quadratic. */
	const pfile *ev_file;
	event ev;
	bool ev_parsed, ev_signed;
} pkg;

#define report(k, kind, where, ...)                                                          \
	problem_report((k)->o->on_problem, (k)->o->ud, &(k)->out->problems, kind, where,         \
		       __VA_ARGS__)

/* ------------------------------------------------------------ reading the tar */

/* A member name as the bag sees it: "<base>/<rel>"; NULL (reported) when unsafe. */
static const char *bag_relative(pkg *k, const char *name, bool *is_base)
{
	size_t n = strlen(name);
	while (n > 0 && name[n - 1] == '/')
		n--;
	if (n == 0 || n > PKG_MAX_PATH || name[0] == '/') {
		report(k, "malformed-package", name, "an empty, absolute or overlong member name");
		return NULL;
	}
	for (const char *c = name; c < name + n;) {
		const char *slash = memchr(c, '/', (size_t)(name + n - c));
		size_t cl = slash ? (size_t)(slash - c) : (size_t)(name + n - c);
		if (cl == 0 || (cl == 1 && c[0] == '.') || (cl == 2 && c[0] == '.' && c[1] == '.')) {
			report(k, "malformed-package", name, "a member name with an empty, '.' or '..' part");
			return NULL;
		}
		c += cl + 1;
	}
	const char *slash = memchr(name, '/', n);
	size_t bl = slash ? (size_t)(slash - name) : n;
	if (!k->base && !(k->base = xstrndup(name, bl)))
		return NULL;
	if (strlen(k->base) != bl || memcmp(k->base, name, bl) != 0) {
		report(k, "malformed-package", name,
		       "outside the bag's base directory '%s' (a package holds one bag)", k->base);
		return NULL;
	}
	*is_base = !slash;
	return slash ? slash + 1 : "";
}

static int read_member(pkg *k, struct archive *a, pfile *f)
{
	digest d;
	digest_result dr;
	buf b;
	buf_init(&b, PKG_TAG_MAX);
	int rc = digest_init(&d, CUSTOS_HASH_SHA512 | CUSTOS_HASH_BLAKE2B);
	const void *blk;
	size_t len;
	la_int64_t off;
	int ar;
	while (rc == 0 && (ar = archive_read_data_block(a, &blk, &len, &off)) == ARCHIVE_OK) {
		digest_update(&d, blk, len);
		if (!f->payload && buf_put(&b, blk, len) < 0)
			rc = CUSTOS_ELIMIT;
	}
	if (rc == 0 && ar != ARCHIVE_EOF)
		rc = custos_error_set(CUSTOS_EINTEGRITY, "%s", archive_error_string(a));
	if (rc == 0 && (rc = digest_final(&d, &dr)) == 0) {
		memcpy(f->sha256, dr.sha256, 32);
		f->size = dr.bytes;
		hex_decode(f->sha512, 64, dr.extra_hex[2], 128);
		hex_decode(f->blake2b, 64, dr.extra_hex[3], 128);
		if (!f->payload && (k->tag_bytes += b.n) > PKG_TAGS_MAX)
			rc = CUSTOS_ELIMIT;
	}
	if (rc == 0 && !f->payload) {
		buf_putc(&b, '\0');
		if (!(f->data = (uint8_t *)buf_steal(&b, NULL)))
			rc = CUSTOS_ERROR;
	} else {
		buf_free(&b);
	}
	digest_free(&d);
	return rc;
}

/* One tar entry; false when reading must stop. */
static bool read_entry(pkg *k, struct archive *a, struct archive_entry *en)
{
	const char *name = archive_entry_pathname(en);
	bool is_base = false;
	const char *rel = name ? bag_relative(k, name, &is_base) : NULL;
	if (!name)
		report(k, "malformed-package", "?", "a member whose name cannot be read");
	if (!rel)
		return !!name;
	mode_t t = archive_entry_filetype(en);
	if (t != AE_IFREG && t != AE_IFDIR) {
		report(k, "malformed-package", name, "neither a regular file nor a directory");
		return true;
	}
	if (is_base)
		return true;
	if (array_grow(&k->f, &k->cap, k->n, sizeof *k->f, 256) < 0)
		return false;
	pfile *f = &k->f[k->n];
	memset(f, 0, sizeof *f);
	size_t rl = strlen(rel);
	while (rl > 0 && rel[rl - 1] == '/')
		rl--;
	if (!(f->path = xstrndup(rel, rl)))
		return false;
	k->n++;
	f->dir = t == AE_IFDIR;
	f->payload = strncmp(f->path, "data/", 5) == 0;
	if (f->dir)
		return true;
	int rc = read_member(k, a, f);
	if (rc == CUSTOS_ELIMIT)
		report(k, "malformed-package", name, "tag files larger than custos writes");
	else if (rc < 0)
		report(k, "malformed-package", name, "%s", custos_error_last());
	return rc == 0;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(((const pfile *)a)->path, ((const pfile *)b)->path);
}

static void read_package(pkg *k, struct archive *a)
{
	struct archive_entry *en;
	int ar;
	while ((ar = archive_read_next_header(a, &en)) == ARCHIVE_OK || ar == ARCHIVE_WARN) {
		if (k->n >= PKG_MAX_ENTRIES) {
			report(k, "malformed-package", "package", "more than %d members",
			       PKG_MAX_ENTRIES);
			k->unreadable = true;
			return;
		}
		if (!read_entry(k, a, en)) {
			k->unreadable = true;
			return;
		}
	}
	if (ar != ARCHIVE_EOF) {
		report(k, "malformed-package", "package", "not a readable tar: %s",
		       archive_error_string(a));
		k->unreadable = true;
	}
	if (k->n) /* qsort and bsearch must not see a NULL array, even an empty one */
		qsort(k->f, k->n, sizeof *k->f, cmp_path);
	for (size_t i = 1; i < k->n; i++)
		if (strcmp(k->f[i - 1].path, k->f[i].path) == 0)
			report(k, "malformed-package", k->f[i].path, "appears twice in the package");
}

/* The member (file or directory) named path, or NULL. */
static pfile *find_entry(pkg *k, const char *path)
{
	pfile key = {.path = (char *)path};
	return k->n ? bsearch(&key, k->f, k->n, sizeof *k->f, cmp_path) : NULL;
}

static pfile *find(pkg *k, const char *path)
{
	pfile *f = find_entry(k, path);
	return f && !f->dir ? f : NULL;
}

/* A tag file that must be there; reported as missing-file when it is not. */
static pfile *need(pkg *k, const char *path)
{
	pfile *f = find(k, path);
	if (!f)
		report(k, "missing-file", path, "the package does not hold this file");
	else if (f->payload)
		f = NULL;
	return f;
}

/* ------------------------------------------------------------ the bag (RFC 8493) */

/* The next line of a text file (without its LF); NULL at the end. */
static char *next_line(char **p)
{
	if (!**p)
		return NULL;
	char *l = *p, *nl = strchr(l, '\n');
	if (nl) {
		*nl = '\0';
		*p = nl + 1;
	} else {
		*p = l + strlen(l);
	}
	return l;
}

/* Undo RFC 8493 §2.1.3 percent-encoding (%0A, %0D, %25) in place. */
static void percent_decode(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '%' && r[1] && r[2]) {
			char hx[3] = {r[1], r[2], 0};
			long v = strtol(hx, NULL, 16);
			if ((v == 0x0A || v == 0x0D || v == 0x25) && isxdigit((unsigned char)r[1]) &&
			    isxdigit((unsigned char)r[2])) {
				*w++ = (char)v;
				r += 2;
				continue;
			}
		}
		*w++ = *r;
	}
	*w = '\0';
}

typedef struct manifest {
	const char *name;  /* "manifest-sha256.txt" */
	size_t hash_len;   /* 32 or 64 */
	bool payload;      /* lists payload files (else tag files) */
} manifest;

static const uint8_t *file_hash(const pfile *f, size_t hash_len)
{
	return hash_len == 32 ? f->sha256 : f->sha512;
}

static void manifest_line(pkg *k, const manifest *m, char *line, size_t lineno)
{
	uint8_t want[64];
	char where[96];
	snprintf(where, sizeof where, "%s:%zu", m->name, lineno);
	char *sp = line;
	while (*sp && *sp != ' ' && *sp != '\t')
		sp++;
	char *path = sp;
	while (*path == ' ' || *path == '\t')
		path++;
	if ((size_t)(sp - line) != 2 * m->hash_len || !*path ||
	    hex_decode(want, m->hash_len, line, (size_t)(sp - line)) < 0) {
		report(k, "bad-manifest", where, "not '<%zu hex digits> <path>'", 2 * m->hash_len);
		return;
	}
	percent_decode(path);
	pfile *f = find(k, path);
	if (!f || f->payload != m->payload) {
		report(k, f ? "bad-manifest" : "missing-file", where, "%s%s", path,
		       f ? (m->payload ? " is not a payload file" : " is not a tag file")
			 : ": listed but not in the package");
		return;
	}
	bool *seen = m->hash_len == 64 && m->payload ? &f->listed512 : &f->listed;
	if (*seen)
		report(k, "bad-manifest", where, "%s is listed twice", path);
	*seen = true;
	if (memcmp(want, file_hash(f, m->hash_len), m->hash_len) != 0)
		report(k, "manifest-mismatch", path, "its %s digest differs from %s",
		       m->hash_len == 32 ? "SHA-256" : "SHA-512", m->name);
}

static void check_manifest(pkg *k, const manifest *m)
{
	pfile *mf = need(k, m->name);
	if (!mf)
		return;
	char *copy = xstrdup((const char *)mf->data), *p = copy, *line;
	for (size_t no = 1; copy && (line = next_line(&p)); no++)
		manifest_line(k, m, line, no);
	free(copy);
}

/* Files the tag manifest cannot list: itself, and the signature over it. */
static bool is_seal(const char *path)
{
	return strcmp(path, "tagmanifest-sha256.txt") == 0 ||
	       strcmp(path, "custos/package.minisig") == 0;
}

static void check_bag(pkg *k)
{
	static const char bagit[] = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
	static const manifest ms[] = {
		{"manifest-sha256.txt", 32, true},
		{"manifest-sha512.txt", 64, true},
		{"tagmanifest-sha256.txt", 32, false},
	};
	pfile *b = need(k, "bagit.txt");
	if (b && strcmp((const char *)b->data, bagit) != 0)
		report(k, "bad-bag", "bagit.txt", "not the BagIt 1.0 declaration custos writes");
	pfile *d = find_entry(k, "data");
	if (!d || !d->dir)
		report(k, "bad-bag", "data/", "the bag has no payload directory");
	for (size_t i = 0; i < ARRAY_LEN(ms); i++)
		check_manifest(k, &ms[i]);
	for (size_t i = 0; i < k->n; i++) {
		pfile *f = &k->f[i];
		if (f->dir || is_seal(f->path))
			continue;
		if (!f->listed || (f->payload && !f->listed512))
			report(k, "unlisted-file", f->path, "not listed in %s",
			       !f->payload ? "tagmanifest-sha256.txt"
			       : !f->listed ? "manifest-sha256.txt"
					    : "manifest-sha512.txt");
		if (f->payload) {
			k->out->payload_files++;
			k->out->payload_bytes += f->size;
		}
	}
}

/* The value of a bag-info.txt label, copied to out; false when absent. */
static bool bag_info_value(const pfile *bi, const char *label, char *out, size_t n)
{
	size_t ll = strlen(label);
	for (const char *l = (const char *)bi->data; l && *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		if (len > ll + 1 && memcmp(l, label, ll) == 0 && l[ll] == ':') {
			const char *v = l + ll + 1;
			while (*v == ' ')
				v++;
			snprintf(out, n, "%.*s", (int)(len - (size_t)(v - l)), v);
			return true;
		}
		l = nl ? nl + 1 : NULL;
	}
	return false;
}

static void check_bag_info(pkg *k)
{
	pfile *bi = need(k, "bag-info.txt");
	char v[256], want[64];
	if (!bi)
		return;
	snprintf(want, sizeof want, "%llu.%llu", (unsigned long long)k->out->payload_bytes,
		 (unsigned long long)k->out->payload_files);
	if (!bag_info_value(bi, "Payload-Oxum", v, sizeof v) || strcmp(v, want) != 0)
		report(k, "bad-bag", "bag-info.txt", "Payload-Oxum is not %s, what the payload holds",
		       want);
	if (!bag_info_value(bi, "External-Identifier", v, sizeof v) || strcmp(v, k->vault) != 0)
		report(k, "bad-bag", "bag-info.txt",
		       "External-Identifier is not the vault id of the exhibit list (%s)", k->vault);
}

/* ------------------------------------------------------------ custos evidence */

/* The key files are exactly what custos writes for the trusted key, in each form (a
 * minisign key with another key number would make minisign reject every signature). */
static void check_keys(pkg *k)
{
	for (size_t i = 0; i < ARRAY_LEN(package_key_files); i++) {
		const package_key_file *kf = &package_key_files[i];
		pfile *f = need(k, kf->path);
		char *want = NULL;
		if (f && custos_pubkey_format(&want, k->o->trust, kf->form) == 0 &&
		    (strlen(want) != f->size || memcmp(want, f->data, f->size) != 0))
			report(k, "wrong-key", kf->path, "not the trusted custodian key");
		free(want);
	}
}

static void check_package_signature(pkg *k)
{
	pfile *tm = find(k, "tagmanifest-sha256.txt"), *sig = need(k, "custos/package.minisig");
	char *tc = NULL;
	if (!tm || !sig)
		return;
	if (minisig_verify(k->o->trust, sig->data, sig->size, tm->blake2b, &tc) < 0)
		report(k, "bad-package-signature", "custos/package.minisig", "%s", custos_error_last());
	free(tc);
}

static bool signed_by_trust(pkg *k, const pfile *data, const char *sigpath)
{
	uint8_t keyid[8], sig[64];
	pfile *s = need(k, sigpath);
	if (!s)
		return false;
	if (sigfile_parse(keyid, sig, s->data, s->size) < 0) {
		report(k, "bad-signature", sigpath, "%s", custos_error_last());
		return false;
	}
	if (memcmp(keyid, k->o->trust->id, 8) != 0) {
		report(k, "wrong-key", sigpath, "signed by another key than the trusted one");
		return false;
	}
	if (pubkey_verify(k->o->trust, sig, data->data, data->size) < 0) {
		report(k, "bad-signature", sigpath, "the signature does not verify with the trusted key");
		return false;
	}
	return true;
}

/* The checkpoint the exhibits are proven against, and its issuing event. */
static void check_checkpoint(pkg *k, pfile **note_out)
{
	pfile *cp = need(k, "custos/checkpoint.note");
	*note_out = cp;
	if (!cp || !k->vault[0])
		return;
	note *nt = malloc(sizeof *nt);
	checkpoint_text ct;
	if (!nt || checkpoint_open(nt, &ct, cp->data, cp->size, k->vault, k->o->trust) < 0) {
		report(k, "bad-checkpoint", cp->path, "%s", custos_error_last());
		free(nt);
		return;
	}
	k->tree_size = ct.size;
	k->out->tree_size = ct.size;
	k->out->witnesses_ok = proof_check_witnesses(nt, k->o->witnesses, k->o->n_witnesses,
						     k->o->min_witnesses, cp->path, k->o->on_problem,
						     k->o->ud, &k->out->problems);
	free(nt);
	/* The event that issued it: custos/events/<seq>.event with action checkpoint. */
	bool found = false;
	for (size_t i = 0; i < k->n && !found; i++) {
		pfile *f = &k->f[i];
		size_t pl = strlen(f->path);
		if (f->dir || strncmp(f->path, "custos/events/", 14) != 0 || pl < 6 ||
		    strcmp(f->path + pl - 6, ".event") != 0)
			continue;
		event ev = {0};
		if (event_parse(&ev, f->data, f->size) == 0 && strcmp(ev.action, "checkpoint") == 0 &&
		    ev.tree_size == ct.size && memcmp(ev.root, ct.root, 32) == 0 &&
		    strcmp(ev.vault, k->vault) == 0) {
			char sigpath[PKG_MAX_PATH + 8];
			snprintf(sigpath, sizeof sigpath, "%.*s.sig", (int)(pl - 6), f->path);
			found = signed_by_trust(k, f, sigpath);
		}
		event_clear(&ev);
	}
	if (!found)
		report(k, "bad-event", "custos/events/",
		       "no signed checkpoint event issued the package's checkpoint");
}

typedef struct exhibit_line {
	char item[33];
	uint8_t sha256[32];
	uint64_t size;
	char *payload; /* NULL for "-" */
	char *minisig;
} exhibit_line;

static int parse_exhibit_line(exhibit_line *x, char *line)
{
	char *tok[6], *save = NULL;
	size_t n = 0;
	for (char *t = strtok_r(line, " ", &save); t && n < 6; t = strtok_r(NULL, " ", &save))
		tok[n++] = t;
	if (n != 6 || strcmp(tok[0], "exhibit") != 0 || strlen(tok[1]) != 32 ||
	    !is_lower_hex(tok[1], 32) || hex_decode(x->sha256, 32, tok[2], strlen(tok[2])) < 0 ||
	    strlen(tok[2]) != 64 || u64_parse(&x->size, tok[3], strlen(tok[3])) < 0)
		return -1;
	memcpy(x->item, tok[1], 33);
	x->payload = strcmp(tok[4], "-") == 0 ? NULL : tok[4];
	x->minisig = tok[5];
	return 0;
}

/* The record of an exhibit: parsed, its id, its custodian, its signature. */
static bool check_record(pkg *k, const exhibit_line *x, custos_record *rec)
{
	char path[96], sigpath[96], hex[33];
	snprintf(path, sizeof path, "custos/items/%s.record", x->item);
	snprintf(sigpath, sizeof sigpath, "custos/items/%s.sig", x->item);
	pfile *r = need(k, path);
	uint8_t id[16];
	if (!r)
		return false;
	if (record_parse(rec, r->data, r->size) < 0) {
		report(k, "bad-record", path, "%s", custos_error_last());
		return false;
	}
	record_id(id, r->data, r->size);
	custos_hex(hex, id, 16);
	if (strcmp(hex, x->item) != 0)
		report(k, "bad-record", path, "the record's id is %s", hex);
	if (strcmp(rec->vault, k->vault) != 0)
		report(k, "bad-record", path, "a record of another vault (%s)", rec->vault);
	if (memcmp(rec->custodian, k->o->trust->id, 8) != 0)
		report(k, "wrong-key", path, "the record names another custodian");
	signed_by_trust(k, r, sigpath);
	if (memcmp(rec->sha256, x->sha256, 32) != 0 || rec->size != x->size)
		report(k, "bad-package", "custos/exhibits.txt",
		       "the line of item %s disagrees with its record", x->item);
	return true;
}

/* The event file, parsed and its signature checked (each reported once). */
static const event *event_of(pkg *k, const pfile *f, const char *sigpath)
{
	if (k->ev_file != f) {
		if (k->ev_parsed)
			event_clear(&k->ev);
		memset(&k->ev, 0, sizeof k->ev);
		k->ev_file = f;
		k->ev_parsed = event_parse(&k->ev, f->data, f->size) == 0;
		if (!k->ev_parsed)
			report(k, "bad-event", f->path, "%s", custos_error_last());
		k->ev_signed = k->ev_parsed && signed_by_trust(k, f, sigpath);
	}
	return k->ev_parsed && k->ev_signed ? &k->ev : NULL;
}

/* The custody event that received the exhibit lists it and is signed. Large events may be
 * left out of a package (FS §10.1): then the tag manifest, sealed by the package
 * signature, does not list them either. */
static void check_event(pkg *k, const exhibit_line *x, const custos_record *rec)
{
	char path[64], sigpath[64];
	snprintf(path, sizeof path, "custos/events/%llu.event", (unsigned long long)rec->seq);
	snprintf(sigpath, sizeof sigpath, "custos/events/%llu.sig", (unsigned long long)rec->seq);
	pfile *f = find(k, path);
	uint8_t id[16];
	if (!f)
		return;
	const event *ev = event_of(k, f, sigpath);
	hex_decode(id, 16, x->item, 32);
	bool lists = ev && rec->n < ev->n_items && memcmp(ev->items[rec->n].id, id, 16) == 0;
	if (ev && (ev->seq != rec->seq || strcmp(ev->vault, rec->vault) != 0 || !lists))
		report(k, "bad-event", path, "this event did not receive item %s", x->item);
}

typedef struct proof_ctx {
	pkg *k;
	const char *path;
} proof_ctx;

static void proof_problem(const custos_problem *p, void *ud)
{
	proof_ctx *c = ud;
	report(c->k, p->kind, c->path, "%s: %s", p->where, p->detail);
}

static bool check_proof(pkg *k, const exhibit_line *x, const pfile *note_file)
{
	char path[96];
	snprintf(path, sizeof path, "custos/proofs/%s.proof", x->item);
	pfile *f = need(k, path);
	if (!f)
		return false;
	proof_ctx c = {k, path};
	custos_proof_opts po = {.trust = k->o->trust, .witnesses = k->o->witnesses,
				.n_witnesses = k->o->n_witnesses,
				.min_witnesses = k->o->min_witnesses, .on_problem = proof_problem,
				.ud = &c};
	custos_proof_result pr;
	uint64_t before = k->out->problems;
	custos_proof_verify(f->data, f->size, &po, &pr);
	if (pr.item[0] && strcmp(pr.item, x->item) != 0)
		report(k, "bad-proof", path, "proves item %s", pr.item);
	/* Every proof is against the package's checkpoint: its file ends with that note. */
	if (note_file && (f->size < note_file->size ||
			  memcmp(f->data + f->size - note_file->size, note_file->data,
				 note_file->size) != 0))
		report(k, "bad-checkpoint", path,
		       "proves against another checkpoint than custos/checkpoint.note");
	custos_proof_result_clear(&pr);
	return k->out->problems == before;
}

static bool check_minisig(pkg *k, const exhibit_line *x, const uint8_t blake2b[64])
{
	pfile *s = need(k, x->minisig);
	char *tc = NULL, want[64];
	if (!s)
		return false;
	if (minisig_verify(k->o->trust, s->data, s->size, blake2b, &tc) < 0) {
		report(k, "bad-minisig", x->minisig, "%s", custos_error_last());
		return false;
	}
	snprintf(want, sizeof want, "custos item %s ", x->item);
	bool ok = strncmp(tc, want, strlen(want)) == 0;
	if (!ok)
		report(k, "bad-minisig", x->minisig, "its trusted comment names another item: %s", tc);
	free(tc);
	return ok;
}

/* The held files (--exhibit) each with SHA-256, size and BLAKE2b-512. */
typedef struct held {
	const char *path;
	digest_result dr;
	uint8_t blake2b[64];
	bool ok, matched;
} held;

static void check_exhibit(pkg *k, exhibit_line *x, const pfile *note_file, held *h, size_t nh)
{
	custos_record rec = {0};
	custos_package_exhibit pe = {.item = x->item, .payload = x->payload, .content_ok = -1};
	if (check_record(k, x, &rec)) {
		pe.rec = &rec;
		check_event(k, x, &rec);
	}
	pe.proof_ok = check_proof(k, x, note_file);
	if (x->payload) {
		pfile *p = find(k, x->payload);
		if (!p || !p->payload) {
			report(k, "missing-file", x->payload, "the exhibit file is not in the package");
			pe.content_ok = 0;
		} else {
			p->exhibit = true;
			pe.content_ok = pe.rec && memcmp(p->sha256, rec.sha256, 32) == 0 &&
					p->size == rec.size;
			if (pe.rec && !pe.content_ok)
				report(k, "exhibit-mismatch", x->payload,
				       "its bytes are not those of item %s (SHA-256 or size differ)",
				       x->item);
			check_minisig(k, x, p->blake2b);
		}
	}
	for (size_t i = 0; i < nh; i++) {
		if (!h[i].ok || memcmp(h[i].dr.sha256, x->sha256, 32) != 0 || h[i].dr.bytes != x->size)
			continue;
		h[i].matched = true;
		pe.held = h[i].path;
		if (!x->payload)
			check_minisig(k, x, h[i].blake2b);
	}
	k->out->exhibits++;
	if (k->o->on_exhibit)
		k->o->on_exhibit(&pe, k->o->ud);
	record_clear(&rec);
}

/* Every payload file is an exhibit the list names. */
static void check_payload_named(pkg *k)
{
	for (size_t i = 0; i < k->n; i++)
		if (!k->f[i].dir && k->f[i].payload && !k->f[i].exhibit)
			report(k, "unlisted-file", k->f[i].path, "not an exhibit of custos/exhibits.txt");
}

static void hash_held(pkg *k, held *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h[i].path = k->o->exhibits[i];
		h[i].ok = digest_file(h[i].path, CUSTOS_HASH_BLAKE2B, &h[i].dr) == 0 &&
			  hex_decode(h[i].blake2b, 64, h[i].dr.extra_hex[3], 128) == 0;
		if (!h[i].ok)
			report(k, "exhibit-unreadable", h[i].path, "%s", custos_error_last());
	}
}

static void check_exhibits(pkg *k)
{
	pfile *list = need(k, "custos/exhibits.txt");
	if (!list)
		return;
	char *copy = xstrdup((const char *)list->data), *p = copy, *line;
	exhibit_line *xs = calloc(k->n + 1, sizeof *xs);
	held *h = calloc(k->o->n_exhibits + 1, sizeof *h);
	size_t nx = 0;
	char hdr[64];
	uint64_t ts = 0;
	if (!copy || !xs || !h)
		goto done;
	line = next_line(&p);
	char *vline = next_line(&p), *tline = next_line(&p);
	if (!line || strcmp(line, "custos-exhibits 1") != 0 || !vline ||
	    sscanf(vline, "vault %32[0-9a-f]", k->vault) != 1 || strlen(vline) != 38 || !tline ||
	    strncmp(tline, "tree-size ", 10) != 0 || u64_parse(&ts, tline + 10, strlen(tline + 10)) < 0) {
		report(k, "bad-package", list->path, "not a custos-exhibits 1 list");
		k->vault[0] = '\0';
		goto done;
	}
	for (size_t no = 4; (line = next_line(&p)) && nx < k->n; no++) {
		snprintf(hdr, sizeof hdr, "%s:%zu", list->path, no);
		if (parse_exhibit_line(&xs[nx], line) < 0)
			report(k, "bad-package", hdr, "not an 'exhibit' line");
		else
			nx++;
	}
	if (nx == 0)
		report(k, "bad-package", list->path, "lists no exhibit");
	pfile *note_file;
	check_checkpoint(k, &note_file);
	if (k->tree_size && ts != k->tree_size)
		report(k, "bad-package", list->path, "names tree size %llu, the checkpoint %llu",
		       (unsigned long long)ts, (unsigned long long)k->tree_size);
	hash_held(k, h, k->o->n_exhibits);
	for (size_t i = 0; i < nx; i++)
		check_exhibit(k, &xs[i], note_file, h, k->o->n_exhibits);
	check_payload_named(k);
	for (size_t i = 0; i < k->o->n_exhibits; i++)
		if (h[i].ok && !h[i].matched)
			report(k, "not-an-exhibit", h[i].path,
			       "this file is none of the package's exhibits");
done:
	free(h);
	free(xs);
	free(copy);
}

/* ------------------------------------------------------------ entry points */

static int verify_archive(struct archive *a, const custos_package_opts *o,
			  custos_package_result *out)
{
	pkg k = {.o = o, .out = out};
	read_package(&k, a);
	out->files = k.n;
	if (!k.unreadable) {
		check_exhibits(&k); /* first: it names the vault the rest is checked against */
		check_bag(&k);
		check_bag_info(&k);
		check_keys(&k);
		check_package_signature(&k);
	}
	memcpy(out->vault, k.vault, sizeof out->vault);
	for (size_t i = 0; i < k.n; i++) {
		free(k.f[i].path);
		free(k.f[i].data);
	}
	free(k.f);
	free(k.base);
	if (k.ev_parsed)
		event_clear(&k.ev);
	custos_error_clear();
	return out->problems ? custos_error_set(CUSTOS_EINTEGRITY, "%llu problem(s) found",
						(unsigned long long)out->problems)
			     : 0;
}

/* A file libarchive cannot even open as a tar is a bad package, not a usage error. */
static int unreadable(const custos_package_opts *o, custos_package_result *out, const char *where,
		      struct archive *a)
{
	problem_report(o->on_problem, o->ud, &out->problems, "malformed-package", where,
		       "not a readable tar: %s", archive_error_string(a));
	return custos_error_set(CUSTOS_EINTEGRITY, "not a package");
}

static struct archive *tar_reader(void)
{
	struct archive *a = archive_read_new();
	if (a && (archive_read_support_format_tar(a) != ARCHIVE_OK ||
		  archive_read_support_filter_none(a) != ARCHIVE_OK)) {
		archive_read_free(a);
		a = NULL;
	}
	if (!a)
		custos_error_set(CUSTOS_ERROR, "out of memory");
	return a;
}

int package_verify_mem(const uint8_t *p, size_t n, const custos_package_opts *o,
		       custos_package_result *out)
{
	memset(out, 0, sizeof *out);
	if (!o->trust)
		return custos_error_set(CUSTOS_EINVALID, "a trusted custodian key is required");
	struct archive *a = tar_reader();
	if (!a)
		return CUSTOS_ERROR;
	int rc = archive_read_open_memory(a, p, n) == ARCHIVE_OK
			 ? verify_archive(a, o, out)
			 : unreadable(o, out, "package", a);
	archive_read_free(a);
	return rc;
}

int custos_package_verify(const char *path, const custos_package_opts *o,
			  custos_package_result *out)
{
	memset(out, 0, sizeof *out);
	if (!o->trust)
		return custos_error_set(CUSTOS_EINVALID, "a trusted custodian key is required");
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return custos_error_errno(errno == ENOENT ? CUSTOS_ENOTFOUND : CUSTOS_ERROR,
					  "cannot open %s", path);
	struct archive *a = tar_reader();
	int rc = !a ? CUSTOS_ERROR
	       : archive_read_open_fd(a, fd, 1 << 16) == ARCHIVE_OK
		       ? verify_archive(a, o, out)
		       : unreadable(o, out, path, a);
	if (a)
		archive_read_free(a);
	close(fd);
	return rc;
}
