/*
 * bundle.c — transfer bundles (FS §11): the custody history and objects of a vault since a
 * checkpoint (or all of it), in one tar, and their import into a replica.
 *
 * An import reads the bundle twice. The first pass checks everything while nothing is
 * written: the bundle's git objects are staged in the custody log's in-memory pack (where
 * every reading function sees them), each event's tree is rebuilt from its files and must
 * be the one its commit names, objects are hashed as they stream past, and then the whole
 * history as it would be is checked from its first event exactly as fsck checks a vault
 * (signatures, chain, records, members, checkpoints against the recomputed Merkle tree,
 * every object present). Any problem drops the staged objects: the vault is as it was.
 * The second pass stores the objects (durable), then the custody pack is written and the
 * branch moved by compare-and-swap, and the import is recorded as an event of the
 * replica's own log.
 */
#include "bundle.h"
#include "custody.h"
#include "fsutil.h"
#include "keys.h"
#include "note.h"
#include "checkpoint.h"
#include "replica.h"
#include "vault.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define BUNDLE_DIR "custos-bundle/"
#define BUNDLE_HEADER_MAX 4096
#define BUNDLE_SIG_MAX 1024
#define BUNDLE_COMMIT_MAX ((size_t)64 << 10)
#define BUNDLE_STAGED_MAX ((uint64_t)4 << 30) /* git objects held in memory by one import */
#define BUNDLE_END "custos-bundle-end 1\n"

typedef struct obj {
	uint8_t sha256[32];
	uint64_t size;
} obj;

static int obj_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/* Sort and drop repeats (same SHA-256; sizes then agree or the records lie). */
static size_t obj_unique(obj *o, size_t n)
{
	size_t k = 0;
	if (n == 0) /* o may be NULL: qsort must not see it */
		return 0;
	qsort(o, n, sizeof *o, obj_cmp);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || memcmp(o[k - 1].sha256, o[i].sha256, 32) != 0)
			o[k++] = o[i];
	return k;
}

/* The object named sha in a sorted array (may be empty and NULL). */
static obj *obj_find(obj *o, size_t n, const uint8_t sha[32])
{
	obj key;
	memcpy(key.sha256, sha, 32);
	return n ? bsearch(&key, o, n, sizeof *o, obj_cmp) : NULL;
}

static int obj_push(obj **o, size_t *n, size_t *cap, const uint8_t sha[32], uint64_t size)
{
	if (array_grow(o, cap, *n, sizeof **o, 1024) < 0)
		return CUSTOS_ERROR;
	memcpy((*o)[*n].sha256, sha, 32);
	(*o)[(*n)++].size = size;
	return 0;
}

/* ================================================================= writing a bundle */

typedef struct bwriter {
	custos_vault *v;
	struct archive *ar;
	int64_t now;
	uint64_t from, to;
	obj *objs;
	size_t n_objs, cap_objs;
	custos_bundle_summary *sum;
} bwriter;

static int bw_fail(bwriter *w, const char *what)
{
	return custos_error_set(CUSTOS_ERROR, "cannot write the bundle (%s): %s", what,
				archive_error_string(w->ar));
}

static int bw_header(bwriter *w, const char *name, uint64_t size)
{
	struct archive_entry *en = archive_entry_new();
	char path[160];
	if (!en)
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	snprintf(path, sizeof path, BUNDLE_DIR "%s", name);
	archive_entry_set_pathname(en, path);
	archive_entry_set_filetype(en, AE_IFREG);
	archive_entry_set_perm(en, 0644);
	archive_entry_set_size(en, (la_int64_t)size);
	archive_entry_set_mtime(en, w->now, 0);
	int rc = archive_write_header(w->ar, en) == ARCHIVE_OK ? 0 : bw_fail(w, name);
	archive_entry_free(en);
	return rc;
}

static int bw_data(const uint8_t *p, size_t n, void *ud)
{
	bwriter *w = ud;
	return archive_write_data(w->ar, p, n) == (la_ssize_t)n ? 0 : bw_fail(w, "data");
}

static int bw_file(bwriter *w, const char *name, const void *p, size_t n)
{
	int rc = bw_header(w, name, n);
	return rc < 0 ? rc : bw_data(p, n, w);
}

typedef struct seen_probe {
	uint64_t from;
	bool earlier;
} seen_probe;

static int earlier_cb(const index_item *it, void *ud)
{
	seen_probe *p = ud;
	if (it->seq < p->from)
		p->earlier = true;
	return 0;
}

/* The bundle carries an object unless an item before `from` named it: a replica that holds
 * the events before `from` holds those objects. */
static int want_object(bwriter *w, const custos_record *r)
{
	char hex[65];
	seen_probe p = {w->from, false};
	custos_hex(hex, r->sha256, 32);
	int rc = w->from ? index_items_by_sha(w->v->index, hex, earlier_cb, &p) : 0;
	if (rc == 0 && !p.earlier)
		rc = obj_push(&w->objs, &w->n_objs, &w->cap_objs, r->sha256, r->size);
	return rc;
}

typedef struct ev_ctx {
	bwriter *w;
	uint64_t seq;
} ev_ctx;

static int bw_record(const event *ev, size_t i, const uint8_t *rec, size_t rn, const uint8_t *sig,
		     size_t sn, void *ud)
{
	ev_ctx *e = ud;
	char name[128], hex[33];
	custos_record r;
	custos_hex(hex, ev->items[i].id, 16);
	snprintf(name, sizeof name, "events/%llu/items/%s", (unsigned long long)e->seq, hex);
	int rc = bw_file(e->w, name, rec, rn);
	snprintf(name, sizeof name, "events/%llu/items/%s.sig", (unsigned long long)e->seq, hex);
	if (rc == 0)
		rc = bw_file(e->w, name, sig, sn);
	if (rc == 0 && (rc = record_parse(&r, rec, rn)) == 0) {
		rc = want_object(e->w, &r);
		record_clear(&r);
	}
	e->w->sum->items++;
	return rc;
}

static int bw_event(bwriter *w, uint64_t seq)
{
	index_event ie;
	custody_commit cc = {0};
	event ev = {0};
	uint8_t *raw = NULL;
	size_t rn = 0;
	char name[64];
	ev_ctx e = {w, seq};
	int rc = index_event_get(w->v->index, seq, &ie);
	if (rc == 0)
		rc = vault_read_event(w->v, ie.commit, &ev, &cc);
	snprintf(name, sizeof name, "events/%llu/EVENT", (unsigned long long)seq);
	if (rc == 0)
		rc = bw_file(w, name, cc.event, cc.event_len);
	snprintf(name, sizeof name, "events/%llu/EVENT.sig", (unsigned long long)seq);
	if (rc == 0)
		rc = bw_file(w, name, cc.event_sig, cc.event_sig_len);
	if (rc == 0)
		rc = vault_event_records(w->v, ie.commit, &ev, bw_record, &e);
	if (rc == 0)
		rc = custody_raw_commit(w->v->log, ie.commit, &raw, &rn);
	snprintf(name, sizeof name, "events/%llu/commit", (unsigned long long)seq);
	if (rc == 0)
		rc = bw_file(w, name, raw, rn);
	free(raw);
	event_clear(&ev);
	custody_commit_clear(&cc);
	return rc;
}

static int bw_objects(bwriter *w)
{
	int rc = 0;
	w->n_objs = obj_unique(w->objs, w->n_objs);
	for (size_t i = 0; rc == 0 && i < w->n_objs; i++) {
		char name[80], hex[65];
		digest_result dr;
		custos_hex(hex, w->objs[i].sha256, 32);
		snprintf(name, sizeof name, "objects/%s", hex);
		rc = bw_header(w, name, w->objs[i].size);
		if (rc == 0)
			rc = vault_object_stream(w->v, w->objs[i].sha256, w->objs[i].size, 0, bw_data,
						 w, &dr);
		w->sum->objects++;
		w->sum->object_bytes += w->objs[i].size;
	}
	return rc;
}

static int bw_header_file(bwriter *w)
{
	index_event base, head;
	char bhex[41] = "-", hhex[41];
	char *pk = b64_encode(w->v->info.owner.pk, 32);
	int rc = pk ? 0 : custos_error_set(CUSTOS_ERROR, "out of memory");
	if (rc == 0 && w->from)
		rc = index_event_get(w->v->index, w->from - 1, &base);
	if (rc == 0)
		rc = index_event_get(w->v->index, w->to, &head);
	if (rc == 0) {
		if (w->from)
			custos_hex(bhex, base.commit, 20);
		custos_hex(hhex, head.commit, 20);
		buf b;
		buf_init(&b, BUNDLE_HEADER_MAX);
		buf_printf(&b,
			   "custos-bundle 1\nvault %s\nowner %s\nfrom %llu\nbase %s\nto %llu\n"
			   "head %s\n",
			   w->v->info.id, pk, (unsigned long long)w->from, bhex,
			   (unsigned long long)w->to, hhex);
		rc = buf_check(&b);
		if (rc == 0)
			rc = bw_file(w, "BUNDLE", b.p, b.n);
		buf_free(&b);
	}
	free(pk);
	return rc;
}

typedef struct since_scan {
	uint64_t size;
	uint8_t root[32];
	int64_t seq; /* the checkpoint event, -1 until found */
} since_scan;

static int since_cb(const custos_event_info *ev, void *ud)
{
	since_scan *s = ud;
	if (strcmp(ev->action, "checkpoint") == 0 && ev->tree_size == s->size &&
	    memcmp(ev->root, s->root, 32) == 0)
		s->seq = (int64_t)ev->seq;
	return 0;
}

/* The event that issued the checkpoint `note`: a bundle --since it starts there, so that a
 * replica that took a bundle before or after that checkpoint was issued can go on (an
 * event the replica holds already is checked to be its very commit). */
static int resolve_since(custos_vault *v, const uint8_t *p, size_t n, uint64_t *from)
{
	note *nt = malloc(sizeof *nt);
	checkpoint_text ct;
	since_scan s = {.seq = -1};
	int rc = nt ? checkpoint_open(nt, &ct, p, n, v->info.id, &v->info.owner) : CUSTOS_ERROR;
	free(nt);
	if (rc < 0)
		return custos_error_wrap(rc, "--since");
	s.size = ct.size;
	memcpy(s.root, ct.root, 32);
	if ((rc = custos_log_foreach(v, NULL, since_cb, &s)) < 0)
		return rc;
	if (s.seq < 0)
		return custos_error_set(CUSTOS_ENOTFOUND,
					"--since: this vault never issued that checkpoint (size %llu)",
					(unsigned long long)ct.size);
	*from = (uint64_t)s.seq;
	return 0;
}

int custos_bundle(custos_vault *v, const uint8_t *since, size_t since_len, const char *out,
		  custos_bundle_summary *sum)
{
	bwriter w = {.v = v, .now = time(NULL), .sum = sum};
	memset(sum, 0, sizeof *sum);
	if (v->empty)
		return custos_error_set(CUSTOS_ENOTFOUND, "an empty replica has nothing to bundle");
	w.to = v->info.events - 1;
	int rc = since ? resolve_since(v, since, since_len, &w.from) : 0;
	if (rc == 0 && w.from > w.to)
		rc = custos_error_set(CUSTOS_ENOTFOUND,
				      "nothing happened since that checkpoint: no event to bundle");
	int fd = -1;
	char *tmp = NULL;
	if (rc == 0)
		rc = fs_temp_create(out, &fd, &tmp);
	if (rc == 0 && (!(w.ar = archive_write_new()) ||
			archive_write_set_format_pax_restricted(w.ar) != ARCHIVE_OK ||
			archive_write_add_filter_none(w.ar) != ARCHIVE_OK ||
			archive_write_set_bytes_in_last_block(w.ar, 1) != ARCHIVE_OK ||
			archive_write_open_fd(w.ar, fd) != ARCHIVE_OK))
		rc = w.ar ? bw_fail(&w, "open") : custos_error_set(CUSTOS_ERROR, "out of memory");
	if (rc == 0)
		rc = bw_header_file(&w);
	for (uint64_t s = w.from; rc == 0 && s <= w.to; s++) {
		rc = bw_event(&w, s);
		sum->events++;
	}
	if (rc == 0)
		rc = bw_objects(&w);
	if (rc == 0)
		rc = bw_file(&w, "END", BUNDLE_END, strlen(BUNDLE_END));
	if (rc == 0 && archive_write_close(w.ar) != ARCHIVE_OK)
		rc = bw_fail(&w, "close");
	if (rc == 0)
		rc = fs_temp_publish(fd, tmp, out, 0644, true);
	else if (tmp)
		fs_temp_discard(fd, tmp);
	sum->from = w.from;
	sum->to = w.to;
	if (w.ar)
		archive_write_free(w.ar);
	free(w.objs);
	return rc;
}

/* ================================================================= importing a bundle */

typedef struct importer {
	custos_vault *v;
	const custos_import_opts *o;
	custos_import_summary *sum;
	bheader h;
	uint64_t held;      /* events the vault holds before the import */
	uint64_t next;      /* the event expected next in the bundle */
	uint8_t last[20];   /* the last commit of the bundle read so far */
	/* the event being read */
	uint8_t ev_oid[20], sig_oid[20];
	bool have_event, have_sig;
	custody_entry *items;
	size_t n_items, cap_items;
	uint8_t *init_event; /* event 0's bytes, for an empty replica's identity */
	size_t init_len;
	uint64_t staged;     /* bytes of git objects staged */
	obj *got, *need;     /* objects the bundle holds; objects new records name */
	size_t n_got, cap_got, n_need, cap_need;
	bool ended;
	uint8_t bundle_sha[32]; /* SHA-256 of the whole bundle file, taken in the first pass */
	uint64_t problems;
	const char *first_kind;
} importer;

static void refuse(importer *im, const char *kind, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void refuse(importer *im, const char *kind, const char *where, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (!im->first_kind)
		im->first_kind = kind;
	im->problems++;
	problem_emit(im->o ? im->o->on_problem : NULL, im->o ? im->o->ud : NULL, kind, where, fmt,
		     ap);
	va_end(ap);
}

/* Read a member's bytes (at most max) into memory. */
static int read_small(struct archive *a, uint64_t max, buf *b)
{
	const void *blk;
	size_t len;
	la_int64_t off;
	int ar;
	buf_init(b, max);
	while ((ar = archive_read_data_block(a, &blk, &len, &off)) == ARCHIVE_OK)
		if (buf_put(b, blk, len) < 0)
			return CUSTOS_ELIMIT;
	return ar == ARCHIVE_EOF ? 0 : custos_error_set(CUSTOS_EINTEGRITY, "%s", archive_error_string(a));
}

static int header_line(const char **p, const char *end, const char *label, const char **v,
		       size_t *vl)
{
	size_t ll = strlen(label);
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	if (!nl || (size_t)(nl - *p) < ll + 1 || memcmp(*p, label, ll) != 0 || (*p)[ll] != ' ')
		return custos_error_set(CUSTOS_EINTEGRITY, "BUNDLE: expected '%s'", label);
	*v = *p + ll + 1;
	*vl = (size_t)(nl - *v);
	*p = nl + 1;
	return 0;
}

int bundle_header_parse(bheader *h, const uint8_t *text, size_t n)
{
	const char *p = (const char *)text, *end = p + n, *v;
	size_t vl, got = 0;
	uint8_t pk[32];
	static const char magic[] = "custos-bundle 1\n";
	memset(h, 0, sizeof *h);
	if (n < sizeof magic - 1 || memcmp(p, magic, sizeof magic - 1) != 0)
		return custos_error_set(CUSTOS_EINTEGRITY, "not a custos-bundle 1 file");
	p += sizeof magic - 1;
	int rc = header_line(&p, end, "vault", &v, &vl);
	if (rc == 0 && (vl != 32 || !is_lower_hex(v, 32)))
		rc = custos_error_set(CUSTOS_EINTEGRITY, "BUNDLE: bad vault");
	if (rc == 0) {
		memcpy(h->vault, v, 32);
		rc = header_line(&p, end, "owner", &v, &vl);
	}
	if (rc == 0 && (b64_decode(pk, 32, &got, v, vl) < 0 || got != 32))
		rc = custos_error_set(CUSTOS_EINTEGRITY, "BUNDLE: bad owner");
	if (rc == 0)
		rc = custos_pubkey_from_raw(&h->owner, pk);
	if (rc == 0 && (rc = header_line(&p, end, "from", &v, &vl)) == 0 &&
	    u64_parse(&h->from, v, vl) < 0)
		rc = custos_error_set(CUSTOS_EINTEGRITY, "BUNDLE: bad from");
	if (rc == 0 && (rc = header_line(&p, end, "base", &v, &vl)) == 0) {
		h->has_base = !(vl == 1 && v[0] == '-');
		if ((h->has_base != (h->from > 0)) ||
		    (h->has_base && (vl != 40 || hex_decode(h->base, 20, v, 40) < 0)))
			rc = custos_error_set(CUSTOS_EINTEGRITY, "BUNDLE: bad base");
	}
	if (rc == 0 && (rc = header_line(&p, end, "to", &v, &vl)) == 0 &&
	    (u64_parse(&h->to, v, vl) < 0 || h->to < h->from))
		rc = custos_error_set(CUSTOS_EINTEGRITY, "BUNDLE: bad to");
	if (rc == 0 && (rc = header_line(&p, end, "head", &v, &vl)) == 0 &&
	    (vl != 40 || hex_decode(h->head, 20, v, 40) < 0))
		rc = custos_error_set(CUSTOS_EINTEGRITY, "BUNDLE: bad head");
	if (rc == 0 && p != end)
		rc = custos_error_set(CUSTOS_EINTEGRITY, "BUNDLE: trailing data");
	return rc;
}

/* The last event of the replica's imports log, if any. */
typedef struct imports_tip {
	bool any;
	uint64_t seq;        /* the next import's seq */
	uint8_t prev[32];    /* SHA-256 of the last import event */
	int64_t time;
	uint64_t next_from;  /* the first event no recorded import took */
	uint8_t head[20];    /* the head the last import recorded */
	uint8_t commit[20];  /* its commit */
} imports_tip;

static int read_imports_tip(custos_vault *v, imports_tip *t)
{
	custody_commit cc = {0};
	event ev = {0};
	memset(t, 0, sizeof *t);
	t->any = custody_head_of(v->log, CUSTODY_IMPORTS_REF, t->commit) == 0;
	if (!t->any)
		return 0;
	int rc = custody_read_commit(v->log, t->commit, &cc);
	if (rc == 0)
		rc = event_parse(&ev, cc.event, cc.event_len);
	if (rc == 0) {
		t->seq = ev.seq + 1;
		t->time = ev.time;
		t->next_from = ev.to + 1;
		memcpy(t->head, ev.head, 20);
		sha256_buf(t->prev, cc.event, cc.event_len);
	}
	event_clear(&ev);
	custody_commit_clear(&cc);
	return rc;
}

/* An import that moved the log but died before recording itself: the log's head is not
 * the one the last import event names. Importing the same bundle again records it. */
static bool import_unrecorded(importer *im)
{
	imports_tip t;
	uint8_t head[20];
	if (im->held == 0 || custody_head(im->v->log, head) < 0 || read_imports_tip(im->v, &t) < 0)
		return false;
	return !t.any || memcmp(t.head, head, 20) != 0;
}

/* The commit the vault holds for event seq. */
static bool held_commit(importer *im, uint64_t seq, uint8_t out[20])
{
	index_event ie;
	if (seq >= im->held || index_event_get(im->v->index, seq, &ie) < 0)
		return false;
	memcpy(out, ie.commit, 20);
	return true;
}

/* Where the bundle stands against what the vault holds (FS §11.3): refused by name when it
 * cannot extend it. */
static void check_position(importer *im)
{
	custos_vault *v = im->v;
	bheader *h = &im->h;
	uint8_t c[20];
	if (!v->empty && strcmp(h->vault, v->info.id) != 0)
		refuse(im, "wrong-vault", "BUNDLE", "a bundle of vault %s; this is a replica of %s",
		       h->vault, v->info.id);
	if (!pubkey_equal(&h->owner, &v->info.owner))
		refuse(im, "wrong-key", "BUNDLE", "the bundle's vault belongs to another custodian key");
	if (im->problems)
		return;
	if (h->from > im->held) {
		refuse(im, "gap", "BUNDLE",
		       "the bundle starts at event %llu; this replica holds events 0 to %lld: "
		       "import the bundles before it first",
		       (unsigned long long)h->from, (long long)im->held - 1);
		return;
	}
	if (h->has_base && held_commit(im, h->from - 1, c) && memcmp(c, h->base, 20) != 0) {
		refuse(im, "fork", "BUNDLE",
		       "the bundle builds on another event %llu than this replica holds: the "
		       "histories have forked",
		       (unsigned long long)h->from - 1);
		return;
	}
	if (h->to + 1 <= im->held) {
		bool same = held_commit(im, h->to, c) && memcmp(c, h->head, 20) == 0;
		if (!same)
			refuse(im, "fork", "BUNDLE",
			       "the bundle's event %llu differs from this replica's: the histories "
			       "have forked",
			       (unsigned long long)h->to);
		else if (h->to + 1 < im->held)
			refuse(im, "rollback", "BUNDLE",
			       "the bundle ends at event %llu; this replica already holds %llu "
			       "events: it would take the replica back",
			       (unsigned long long)h->to, (unsigned long long)im->held);
		else if (!import_unrecorded(im))
			refuse(im, "replay", "BUNDLE",
			       "this replica already holds every event of the bundle (to %llu)",
			       (unsigned long long)h->to);
	}
}

/* "events/<seq>/<rest>": the sequence number and rest; false when the name is not that. */
static bool event_member(const char *rel, uint64_t *seq, const char **rest)
{
	if (strncmp(rel, "events/", 7) != 0)
		return false;
	const char *s = rel + 7, *slash = strchr(s, '/');
	if (!slash || u64_parse(seq, s, (size_t)(slash - s)) < 0)
		return false;
	*rest = slash + 1;
	return true;
}

static int stage_member(importer *im, const buf *b, uint8_t oid[20])
{
	if ((im->staged += b->n) > BUNDLE_STAGED_MAX)
		return custos_error_set(CUSTOS_ELIMIT, "the bundle's history is too large for one import");
	return custody_stage_blob(im->v->log, b->p, b->n, oid);
}

static int add_item_entry(importer *im, const char *name, const buf *b)
{
	size_t nl = strlen(name);
	bool sig = nl == 36 && strcmp(name + 32, ".sig") == 0;
	if (!((nl == 32 || sig) && is_lower_hex(name, 32)))
		return custos_error_set(CUSTOS_EINTEGRITY, "an item file with a bad name");
	if (array_grow(&im->items, &im->cap_items, im->n_items, sizeof *im->items, 256) < 0)
		return CUSTOS_ERROR;
	custody_entry *e = &im->items[im->n_items];
	snprintf(e->name, sizeof e->name, "%s", name);
	int rc = stage_member(im, b, e->oid);
	if (rc == 0)
		im->n_items++;
	if (rc == 0 && !sig && im->next >= im->held)
		im->sum->items++;
	if (rc == 0 && !sig) {
		custos_record r;
		if (record_parse(&r, b->p, b->n) == 0) {
			rc = obj_push(&im->need, &im->n_need, &im->cap_need, r.sha256, r.size);
			record_clear(&r);
		} /* else: the history check names the bad record */
	}
	return rc;
}

/* A commit ends an event: its tree must be the one rebuilt from the event's files, its
 * parent the previous commit. Events the vault holds already must be its very commits. */
static int finish_event(importer *im, const buf *raw, const char *where)
{
	uint8_t tree[20], oid[20], want[20];
	char thex[41];
	int rc = custody_stage_tree(im->v->log, im->ev_oid, im->sig_oid, im->items, im->n_items, tree);
	if (rc == 0)
		rc = custody_stage_commit(im->v->log, raw->p, raw->n, oid);
	if (rc < 0)
		return rc;
	custos_hex(thex, tree, 20);
	if (raw->n < 46 || memcmp(raw->p, "tree ", 5) != 0 || memcmp(raw->p + 5, thex, 40) != 0)
		refuse(im, "bad-bundle", where,
		       "the commit does not name the tree of its event's files");
	if (im->next < im->held && (!held_commit(im, im->next, want) || memcmp(want, oid, 20) != 0))
		refuse(im, "fork", where, "event %llu differs from this replica's",
		       (unsigned long long)im->next);
	memcpy(im->last, oid, 20);
	im->have_event = im->have_sig = false;
	im->n_items = 0;
	im->next++;
	im->sum->events++;
	return 0;
}

static int read_event_member(importer *im, struct archive *a, uint64_t seq, const char *rest,
			     const char *where)
{
	buf b;
	bool is_event = strcmp(rest, "EVENT") == 0, is_sig = strcmp(rest, "EVENT.sig") == 0,
	     is_commit = strcmp(rest, "commit") == 0, is_item = strncmp(rest, "items/", 6) == 0;
	uint64_t max = is_event ? EVENT_MAX : is_sig ? BUNDLE_SIG_MAX
			  : is_commit ? BUNDLE_COMMIT_MAX : RECORD_MAX;
	if (seq != im->next || seq > im->h.to || (!is_event && !im->have_event) ||
	    (is_event && im->have_event) || (!is_event && !is_sig && !im->have_sig) ||
	    (is_sig && im->have_sig) || (!is_event && !is_sig && !is_commit && !is_item)) {
		refuse(im, "bad-bundle", where, "out of place: event %llu was expected",
		       (unsigned long long)im->next);
		return CUSTOS_EINTEGRITY;
	}
	int rc = read_small(a, max, &b);
	if (rc == CUSTOS_ELIMIT)
		rc = custos_error_set(CUSTOS_EINTEGRITY, "larger than custos writes");
	if (rc == 0 && is_event) {
		rc = stage_member(im, &b, im->ev_oid);
		im->have_event = true;
		if (rc == 0 && seq == 0 && !im->init_event) {
			im->init_len = b.n;
			im->init_event = (uint8_t *)buf_steal(&b, NULL);
		}
	} else if (rc == 0 && is_sig) {
		rc = stage_member(im, &b, im->sig_oid);
		im->have_sig = true;
	} else if (rc == 0 && is_item) {
		rc = add_item_entry(im, rest + 6, &b);
	} else if (rc == 0) {
		rc = finish_event(im, &b, where);
	}
	if (rc < 0 && !im->problems)
		refuse(im, "bad-bundle", where, "%s", custos_error_last());
	buf_free(&b);
	return rc;
}

/* An object: hashed as it streams, its name must be its SHA-256. */
static int read_object_member(importer *im, struct archive *a, const char *name, const char *where)
{
	uint8_t want[32];
	digest d;
	digest_result dr;
	const void *blk;
	size_t len;
	la_int64_t off;
	int ar;
	if (im->next != im->h.to + 1 || strlen(name) != 64 || !is_lower_hex(name, 64)) {
		refuse(im, "bad-bundle", where, "out of place or badly named");
		return CUSTOS_EINTEGRITY;
	}
	hex_decode(want, 32, name, 64);
	int rc = digest_init(&d, 0);
	while (rc == 0 && (ar = archive_read_data_block(a, &blk, &len, &off)) == ARCHIVE_OK)
		digest_update(&d, blk, len);
	if (rc == 0 && ar != ARCHIVE_EOF) {
		refuse(im, "truncated", where, "%s", archive_error_string(a));
		rc = CUSTOS_EINTEGRITY;
	}
	if (rc == 0 && (rc = digest_final(&d, &dr)) == 0) {
		if (memcmp(dr.sha256, want, 32) != 0)
			refuse(im, "bad-object", where, "its bytes do not hash to its name");
		else
			rc = obj_push(&im->got, &im->n_got, &im->cap_got, want, dr.bytes);
		im->sum->object_bytes += dr.bytes;
	}
	digest_free(&d);
	return rc;
}

static int read_first(importer *im, struct archive *a)
{
	struct archive_entry *en;
	buf b;
	if (archive_read_next_header(a, &en) != ARCHIVE_OK ||
	    strcmp(archive_entry_pathname(en) ? archive_entry_pathname(en) : "",
		   BUNDLE_DIR "BUNDLE") != 0) {
		refuse(im, "bad-bundle", "BUNDLE", "not a custos bundle: %s",
		       archive_error_string(a) ? archive_error_string(a) : "no BUNDLE first");
		return CUSTOS_EINTEGRITY;
	}
	int rc = read_small(a, BUNDLE_HEADER_MAX, &b);
	if (rc == 0)
		rc = bundle_header_parse(&im->h, b.p, b.n);
	buf_free(&b);
	if (rc < 0) {
		refuse(im, "bad-bundle", "BUNDLE", "%s", custos_error_last());
		return CUSTOS_EINTEGRITY;
	}
	im->next = im->h.from;
	check_position(im);
	return im->problems ? CUSTOS_EINTEGRITY : 0;
}

/* Pass one: read everything, stage the history, hash the objects. */
static int read_bundle(importer *im, struct archive *a)
{
	struct archive_entry *en;
	int ar, rc = read_first(im, a);
	while (rc == 0 && (ar = archive_read_next_header(a, &en)) == ARCHIVE_OK) {
		const char *path = archive_entry_pathname(en), *rest;
		uint64_t seq;
		if (!path || strncmp(path, BUNDLE_DIR, strlen(BUNDLE_DIR)) != 0 ||
		    archive_entry_filetype(en) != AE_IFREG || im->ended) {
			refuse(im, "bad-bundle", path ? path : "?", "not a member a bundle holds");
			return CUSTOS_EINTEGRITY;
		}
		const char *rel = path + strlen(BUNDLE_DIR);
		if (event_member(rel, &seq, &rest))
			rc = read_event_member(im, a, seq, rest, rel);
		else if (strncmp(rel, "objects/", 8) == 0)
			rc = read_object_member(im, a, rel + 8, rel);
		else if (strcmp(rel, "END") == 0 && im->next == im->h.to + 1)
			im->ended = true;
		else {
			refuse(im, "bad-bundle", rel, "not a member a bundle holds here");
			rc = CUSTOS_EINTEGRITY;
		}
	}
	if (rc == 0 && ar != ARCHIVE_EOF)
		refuse(im, "truncated", "bundle", "%s", archive_error_string(a));
	else if (rc == 0 && !im->ended)
		refuse(im, "truncated", "bundle",
		       "the bundle ends early (after event %lld of %llu, before its END)",
		       (long long)im->next - 1, (unsigned long long)im->h.to);
	else if (rc == 0 && memcmp(im->last, im->h.head, 20) != 0)
		refuse(im, "bad-bundle", "BUNDLE", "the last commit is not the head the header names");
	return im->problems ? CUSTOS_EINTEGRITY : rc;
}

static bool probe_object(const uint8_t sha[32], uint64_t size, void *ud)
{
	importer *im = ud;
	obj *o = obj_find(im->got, im->n_got, sha);
	if (o)
		return o->size == size;
	bool loose;
	store_packed loc;
	uint64_t have = 0;
	return vault_locate(im->v, sha, &loose, &loc, &have) == 0 && have == size;
}

static void forward_problem(const custos_problem *p, void *ud)
{
	importer *im = ud;
	refuse(im, p->kind, p->where, "%s", p->detail);
}

/* The whole history as it would be, checked as fsck checks a vault; no object of the
 * bundle that no new record names (it would be stored for nothing). */
static int check_history(importer *im)
{
	uint64_t problems = 0;
	im->n_got = obj_unique(im->got, im->n_got);
	im->n_need = obj_unique(im->need, im->n_need);
	if (im->v->empty) {
		event ev = {0};
		int rc = im->init_event ? event_parse(&ev, im->init_event, im->init_len) : CUSTOS_EINTEGRITY;
		if (rc == 0)
			rc = vault_info_from_init(&im->v->info, &ev);
		event_clear(&ev);
		if (rc < 0) {
			refuse(im, "bad-event", "events/0/EVENT", "%s", custos_error_last());
			return CUSTOS_EINTEGRITY;
		}
	}
	for (size_t i = 0; i < im->n_got; i++)
		if (!obj_find(im->need, im->n_need, im->got[i].sha256)) {
			char hex[65];
			custos_hex(hex, im->got[i].sha256, 32);
			refuse(im, "bad-bundle", hex, "an object that no record of the bundle names");
		}
	vault_check_history(im->v, im->last, &im->h.owner, probe_object, im, forward_problem, im,
			    &problems);
	return im->problems ? CUSTOS_EINTEGRITY : 0;
}

/* ---------------------------------------------------------------- pass two */

typedef struct obj_writer {
	store_batch *b;
	store_large *l;
	digest d;
} obj_writer;

static int store_object(struct archive *a, obj_writer *w, const obj *o)
{
	const void *blk;
	size_t len;
	la_int64_t off;
	int ar, rc = 0;
	bool existed = false;
	digest_result dr;
	if (o->size <= STORE_SMALL_MAX) {
		buf b;
		rc = read_small(a, STORE_SMALL_MAX, &b);
		if (rc == 0 && (rc = sha256_buf(dr.sha256, b.p, b.n)) == 0 &&
		    memcmp(dr.sha256, o->sha256, 32) != 0)
			rc = custos_error_set(CUSTOS_EINTEGRITY, "the bundle changed while it was imported");
		if (rc == 0)
			rc = store_batch_add_small(w->b, o->sha256, b.p, b.n);
		buf_free(&b);
		return rc;
	}
	if ((rc = store_large_begin(&w->l, w->b)) < 0 || (rc = digest_init(&w->d, 0)) < 0)
		return rc;
	while (rc == 0 && (ar = archive_read_data_block(a, &blk, &len, &off)) == ARCHIVE_OK) {
		digest_update(&w->d, blk, len);
		rc = store_large_write(w->l, blk, len);
	}
	if (rc == 0 && ar != ARCHIVE_EOF)
		rc = custos_error_set(CUSTOS_EINTEGRITY, "%s", archive_error_string(a));
	if (rc == 0 && (rc = digest_final(&w->d, &dr)) == 0 && memcmp(dr.sha256, o->sha256, 32) != 0)
		rc = custos_error_set(CUSTOS_EINTEGRITY, "the bundle changed while it was imported");
	digest_free(&w->d);
	if (rc == 0)
		rc = store_large_commit(w->l, o->sha256, &existed);
	else
		store_large_abort(w->l);
	w->l = NULL;
	return rc;
}

/* Pass two: the bundle's objects the store lacks, made durable. */
static int store_objects(importer *im, struct archive *a)
{
	obj_writer w = {0};
	struct archive_entry *en;
	int rc = store_batch_begin(&w.b, im->v->store);
	while (rc == 0 && archive_read_next_header(a, &en) == ARCHIVE_OK) {
		const char *path = archive_entry_pathname(en);
		obj key;
		if (!path || strncmp(path, BUNDLE_DIR "objects/", strlen(BUNDLE_DIR) + 8) != 0 ||
		    hex_decode(key.sha256, 32, path + strlen(BUNDLE_DIR) + 8, 64) < 0)
			continue;
		obj *o = obj_find(im->got, im->n_got, key.sha256);
		bool loose;
		store_packed loc;
		if (!o || vault_locate(im->v, o->sha256, &loose, &loc, NULL) == 0)
			continue;
		rc = store_object(a, &w, o);
		if (rc == 0) {
			im->sum->objects++;
			im->sum->objects_stored_bytes += o->size;
		}
	}
	if (rc < 0) {
		store_batch_abort(w.b);
		return rc;
	}
	store_packed *packed = NULL;
	size_t np = 0;
	rc = store_batch_finish(w.b, &packed, &np);
	free(packed);
	return rc;
}

/* A bundle being read: its file, and (first pass) the SHA-256 of every byte of it, taken
 * as libarchive reads, so the import event can name the bundle without a third read. */
typedef struct tar_src {
	int fd;
	digest *d; /* NULL: no hashing */
	uint8_t buf[1 << 16];
} tar_src;

static la_ssize_t src_read(struct archive *a, void *ud, const void **out)
{
	tar_src *s = ud;
	ssize_t n;
	do
		n = read(s->fd, s->buf, sizeof s->buf);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		archive_set_error(a, errno, "cannot read the bundle");
		return -1;
	}
	if (s->d)
		digest_update(s->d, s->buf, (size_t)n);
	*out = s->buf;
	return n;
}

static int open_tar(const char *path, struct archive **a, tar_src **src, digest *d)
{
	*a = NULL;
	if (!(*src = malloc(sizeof **src)))
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	(*src)->d = d;
	(*src)->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if ((*src)->fd < 0)
		return custos_error_errno(errno == ENOENT ? CUSTOS_ENOTFOUND : CUSTOS_ERROR,
					  "cannot open %s", path);
	*a = archive_read_new();
	if (!*a || archive_read_support_format_tar(*a) != ARCHIVE_OK ||
	    archive_read_open(*a, *src, NULL, src_read, NULL) != ARCHIVE_OK)
		return custos_error_set(CUSTOS_EINTEGRITY, "%s is not a bundle (not a tar): %s", path,
					*a ? archive_error_string(*a) : "out of memory");
	return 0;
}

/* Close; with a digest, first hash what libarchive left unread (end-of-archive padding). */
static void close_tar(struct archive *a, tar_src *src)
{
	if (a)
		archive_read_free(a);
	if (!src)
		return;
	if (src->d && src->fd >= 0) {
		ssize_t n;
		while ((n = read(src->fd, src->buf, sizeof src->buf)) > 0)
			digest_update(src->d, src->buf, (size_t)n);
	}
	if (src->fd >= 0)
		close(src->fd);
	free(src);
}

/* ---------------------------------------------------------------- the import event */

static int record_import(importer *im, const custos_key *key, const uint8_t bundle_sha[32])
{
	custos_vault *v = im->v;
	event ev = {0};
	uint8_t sig[64], head[20];
	imports_tip tip;
	buf eb, sb;
	char msg[256];
	custody_txn *t = NULL;
	int rc = read_imports_tip(v, &tip);
	memcpy(ev.vault, v->info.id, sizeof ev.vault);
	ev.seq = tip.seq;
	memcpy(ev.prev, tip.prev, 32);
	ev.time = now_utc();
	if (ev.time < tip.time)
		ev.time = tip.time; /* a clock behind the last import must not break the order */
	memcpy(ev.custodian, custos_key_public(key)->id, CUSTOS_KEYID_LEN);
	strcpy(ev.action, "import");
	memcpy(ev.bundle, bundle_sha, 32);
	ev.from = tip.next_from; /* with an unrecorded import before, what it took too */
	ev.to = im->h.to;
	memcpy(ev.head, im->h.head, 20);
	buf_init(&eb, 4096);
	buf_init(&sb, 256);
	if (rc == 0)
		rc = event_encode(&eb, &ev);
	if (rc == 0)
		rc = key_sign(sig, key, eb.p, eb.n);
	if (rc == 0)
		rc = sigfile_encode(&sb, custos_key_public(key)->id, sig);
	if (rc == 0)
		rc = custody_txn_begin(&t, v->log);
	snprintf(msg, sizeof msg, "import: events %llu to %llu\n\ncustos-vault: %s\ncustos-seq: %llu\n",
		 (unsigned long long)ev.from, (unsigned long long)ev.to, v->info.id,
		 (unsigned long long)ev.seq);
	if (rc == 0)
		rc = custody_txn_commit_to(t, CUSTODY_IMPORTS_REF, key, eb.p, eb.n, sb.p, sb.n, msg,
					   ev.time, tip.any ? tip.commit : NULL, head);
	if (rc == 0)
		im->sum->import_seq = ev.seq;
	buf_free(&eb);
	buf_free(&sb);
	return rc;
}

/* ---------------------------------------------------------------- entry point */

static int publish(importer *im, const char *path, const custos_key *key)
{
	custos_vault *v = im->v;
	struct archive *a = NULL;
	tar_src *src = NULL;
	uint8_t old[20];
	bool has_old = !v->empty && custody_head(v->log, old) == 0;
	int rc = open_tar(path, &a, &src, NULL);
	if (rc == 0)
		rc = store_objects(im, a);
	close_tar(a, src);
	/* Objects are durable; now the history, then the branch. */
	if (rc == 0)
		rc = custody_stage_publish(v->log, CUSTODY_REF, has_old ? old : NULL, im->last);
	if (rc == 0 && v->empty) {
		rc = vault_write_marker(v);
		v->empty = false;
	}
	if (rc == 0)
		rc = vault_sync_index(v, false);
	if (rc == 0)
		rc = record_import(im, key, im->bundle_sha);
	return rc;
}

int custos_import(custos_vault *v, const custos_key *key, const char *path,
		  const custos_import_opts *o, custos_import_summary *sum)
{
	importer im = {.v = v, .o = o, .sum = sum};
	memset(sum, 0, sizeof *sum);
	if (!v->is_replica)
		return custos_error_set(CUSTOS_EINVALID,
					"%s is not a replica; make one with 'custos init "
					"--replica-of KEY DIR'",
					v->dir);
	if (!v->writable)
		return custos_error_set(CUSTOS_EINVALID, "vault opened read-only");
	if (!pubkey_equal(custos_key_public(key), &v->replica.custodian))
		return custos_error_set(CUSTOS_EPERM,
					"the key is not this replica's custodian (who signs imports)");
	im.held = v->empty ? 0 : v->info.events;
	struct archive *a = NULL;
	tar_src *src = NULL;
	custos_vault_info saved = v->info;
	digest whole;
	digest_result dr;
	int rc = digest_init(&whole, 0);
	if (rc < 0)
		return rc;
	rc = open_tar(path, &a, &src, &whole);
	if (rc == CUSTOS_EINTEGRITY)
		refuse(&im, "bad-bundle", path, "%s", custos_error_last());
	if (rc == 0)
		rc = read_bundle(&im, a);
	if (rc < 0 && src)
		src->d = NULL; /* refused: no need to read the rest to name it */
	close_tar(a, src);
	if (digest_final(&whole, &dr) == 0)
		memcpy(im.bundle_sha, dr.sha256, 32);
	digest_free(&whole);
	if (rc == 0)
		rc = check_history(&im);
	if (rc == 0)
		rc = publish(&im, path, key);
	else
		custody_stage_drop(v->log);
	if (v->info.name != saved.name) {
		if (rc < 0 && v->empty) { /* a refused bundle leaves an empty replica no identity */
			free(v->info.name);
			v->info = saved;
		} else {
			free(saved.name);
		}
	}
	sum->from = im.h.from;
	sum->to = im.h.to;
	sum->held_before = im.held;
	sum->problems = im.problems;
	if (im.problems && rc >= 0)
		rc = CUSTOS_EINTEGRITY;
	if (im.problems)
		custos_error_set(CUSTOS_EINTEGRITY, "bundle refused (%s): %llu problem(s)",
				 im.first_kind, (unsigned long long)im.problems);
	free(im.items);
	free(im.init_event);
	free(im.got);
	free(im.need);
	return rc;
}
