/*
 * unpack.c — the members of the containers an ingest meets (issue 4, FS §4.1, §5.2).
 *
 * A file whose first bytes carry a container's signature is stored whole and recorded
 * like any file, first. Then a sandboxed child (isolate.h) reads it with libarchive and
 * streams each member back; each member becomes an item through the same hash-and-store
 * path as a file, whatever its outcome (a member cut by a limit keeps the bytes decoded
 * before the cut, and says so). A member that is itself a container is opened as soon as
 * its bytes are stored, while the outer reader waits, so items stay in reading order and
 * memory stays bounded by the nesting depth. Every container gets one line in the event:
 * how its reading ended.
 *
 * The parent never parses a container: the look at its first bytes below is a signature
 * comparison, and libarchive runs only in the child.
 */
#include "intake.h"
#include "isolate.h"
#include "mail.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define DEFAULT_MAX_DEPTH 8

/* One open container, and the member being read from it. */
typedef struct level {
	ingest *g;
	const struct level *up;
	uint64_t depth; /* 1 for a container that is an input */
	uint8_t id[CUSTOS_ITEM_ID_LEN];
	char id_hex[33];
	uint8_t sha[32];
	buf display; /* "<container path>!/" */
	/* the member in flight */
	digest d;
	bool digest_open;
	uint8_t *small; /* STORE_SMALL_MAX bytes */
	size_t small_n;
	store_large *lo;
	uint8_t *prefix; /* CLASSIFY_PREFIX bytes, once the member outgrows small */
	size_t prefix_len;
	size_t slot; /* its line in g->ev.containers */
	/* while the container's own record is not known yet (unpack_pending) */
	const unpack_pending *pend;
	bool pending;
	job **queue;
	size_t nq, capq;
} level;

#define QUEUE_MAX 256        /* member records held back while the container is pending */
#define UNPACK_ABANDON (-1000) /* the container was refused: stop reading it */

/* ------------------------------------------------------------ recognising containers */

static bool at(const uint8_t *p, size_t n, size_t off, const char *sig, size_t sl)
{
	return n >= off + sl && memcmp(p + off, sig, sl) == 0;
}

bool unpack_looks_like_container(const uint8_t *p, size_t n)
{
	static const struct {
		size_t off;
		const char *sig;
		size_t len;
	} sigs[] = {
		{0, "PK\x03\x04", 4},                  /* zip */
		{0, "PK\x05\x06", 4},                  /* empty zip */
		{0, "PK\x07\x08", 4},                  /* spanned zip */
		{0, "7z\xBC\xAF\x27\x1C", 6},          /* 7z */
		{0, "Rar!\x1A\x07", 6},                /* rar, rar5 */
		{0, "\x1F\x8B", 2},                    /* gzip */
		{0, "BZh", 3},                         /* bzip2 */
		{0, "\xFD" "7zXZ\x00", 6},             /* xz */
		{0, "\x5D\x00\x00", 3},                /* lzma (alone) */
		{0, "\x28\xB5\x2F\xFD", 4},            /* zstd */
		{0, "\x04\x22\x4D\x18", 4},            /* lz4 */
		{0, "\x1F\x9D", 2},                    /* compress */
		{257, "ustar", 5},                     /* tar: posix, gnu */
		{0, "070707", 6},                      /* cpio: odc */
		{0, "070701", 6},                      /* cpio: newc */
		{0, "070702", 6},                      /* cpio: crc */
		{0, "\xC7\x71", 2},                    /* cpio: binary, little-endian */
		{0, "\x71\xC7", 2},                    /* cpio: binary, big-endian */
		{32769, "CD001", 5},                   /* iso9660 */
	};
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
		if (at(p, n, sigs[i].off, sigs[i].sig, sigs[i].len))
			return true;
	return mail_kind(p, n < MAIL_SNIFF ? n : MAIL_SNIFF) != MAIL_NONE;
}

/* ------------------------------------------------------------ counting */

void tally_add(custos_tally *t, const char *name)
{
	t->total++;
	for (size_t i = 0; i < t->n_kinds; i++)
		if (strcmp(t->kind[i].name, name) == 0) {
			t->kind[i].n++;
			return;
		}
	size_t i = t->n_kinds < CUSTOS_TALLY_MAX ? t->n_kinds++ : CUSTOS_TALLY_MAX - 1;
	snprintf(t->kind[i].name, sizeof t->kind[i].name, "%s", i == CUSTOS_TALLY_MAX - 1 &&
		 t->kind[i].n ? "other" : name);
	t->kind[i].n++;
}

/* ------------------------------------------------------------ the event's container lines */

static int container_line(ingest *g, const uint8_t id[CUSTOS_ITEM_ID_LEN], size_t *slot)
{
	event *e = &g->ev;
	event_container *k = realloc(e->containers, (e->n_containers + 1) * sizeof *k);
	if (!k)
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	e->containers = k;
	*slot = e->n_containers++;
	k = &e->containers[*slot];
	memset(k, 0, sizeof *k);
	memcpy(k->id, id, CUSTOS_ITEM_ID_LEN);
	return 0;
}

static int set_text(custos_bytes *b, const char *s)
{
	free(b->p);
	return copy_bytes(b, (const uint8_t *)s, strlen(s));
}

static int end_container(ingest *g, size_t slot, const char *result, const container_result *r)
{
	event_container *k = &g->ev.containers[slot];
	snprintf(k->result, sizeof k->result, "%s", result);
	tally_add(&g->containers, result);
	if (!r)
		return set_text(&k->format, "") < 0 || set_text(&k->detail, "") < 0 ? CUSTOS_ERROR : 0;
	k->members = r->members;
	k->consumed = r->consumed;
	return set_text(&k->format, r->format) < 0 || set_text(&k->detail, r->detail) < 0
		       ? CUSTOS_ERROR
		       : 0;
}

/* ------------------------------------------------------------ members */

static uint64_t or_default(uint64_t v, uint64_t d)
{
	return v ? v : d;
}

static void limits_for(const ingest *g, container_limits *l, isolate_limits *il)
{
	const custos_archive_opts *a = &g->o->archives;
	container_limits_default(l);
	l->max_members = or_default(a->max_members, l->max_members);
	l->max_member_size = or_default(a->max_member_size, l->max_member_size);
	l->max_expanded = or_default(a->max_expanded, l->max_expanded);
	l->max_ratio = or_default(a->max_ratio, l->max_ratio);
	l->tree_base = g->tree_base;
	l->tree_used = g->tree_used;
	l->passphrases = a->passphrases;
	l->n_passphrases = a->n_passphrases;
	isolate_limits_default(il);
}

static int m_begin(const container_member *m, void *ud)
{
	level *lv = ud;
	(void)m;
	lv->small_n = 0;
	lv->prefix_len = 0;
	lv->lo = NULL;
	int rc = digest_init(&lv->d, lv->g->o->also_hash);
	lv->digest_open = rc == 0;
	return rc;
}

static int m_data(const uint8_t *p, size_t n, void *ud)
{
	level *lv = ud;
	int rc = digest_update(&lv->d, p, n);
	if (rc < 0)
		return rc;
	if (!lv->lo && lv->small_n + n <= STORE_SMALL_MAX) {
		memcpy(lv->small + lv->small_n, p, n);
		lv->small_n += n;
		return 0;
	}
	if (!lv->lo) { /* it outgrows memory: stream it into a large object from here on */
		lv->prefix_len = lv->small_n < CLASSIFY_PREFIX ? lv->small_n : CLASSIFY_PREFIX;
		memcpy(lv->prefix, lv->small, lv->prefix_len);
		if ((rc = store_large_begin(&lv->lo, lv->g->batch)) < 0 ||
		    (rc = store_large_write(lv->lo, lv->small, lv->small_n)) < 0)
			return rc;
	}
	report_progress(lv->g, false);
	return store_large_write(lv->lo, p, n);
}

static int kind_of(int type)
{
	switch (type) {
	case MEMBER_FILE:
		return CUSTOS_KIND_FILE;
	case MEMBER_DIR:
		return CUSTOS_KIND_DIRECTORY;
	case MEMBER_SYMLINK:
		return CUSTOS_KIND_SYMLINK;
	case MEMBER_HARDLINK:
		return CUSTOS_KIND_HARDLINK;
	case MEMBER_CHARDEV:
		return CUSTOS_KIND_CHARDEV;
	case MEMBER_BLOCKDEV:
		return CUSTOS_KIND_BLOCKDEV;
	case MEMBER_FIFO:
		return CUSTOS_KIND_FIFO;
	case MEMBER_SOCKET:
		return CUSTOS_KIND_SOCKET;
	default:
		return CUSTOS_KIND_OTHER;
	}
}

/* What libmagic would say of things that have no bytes to look at. */
static void type_of_nonfile(int kind, const char **mime, const char **desc)
{
	static const char *const m[CUSTOS_KIND_COUNT][2] = {
		[CUSTOS_KIND_SYMLINK] = {"inode/symlink", "symbolic link (recorded, not followed)"},
		[CUSTOS_KIND_HARDLINK] = {"inode/x-hardlink", "hard link to another member (recorded, not followed)"},
		[CUSTOS_KIND_DIRECTORY] = {"inode/directory", "directory"},
		[CUSTOS_KIND_CHARDEV] = {"inode/chardevice", "character device (recorded, never opened)"},
		[CUSTOS_KIND_BLOCKDEV] = {"inode/blockdevice", "block device (recorded, never opened)"},
		[CUSTOS_KIND_FIFO] = {"inode/fifo", "named pipe (recorded, never opened)"},
		[CUSTOS_KIND_SOCKET] = {"inode/socket", "socket (recorded, never opened)"},
		[CUSTOS_KIND_OTHER] = {"inode/x-unknown", "member of an unknown type"},
	};
	*mime = m[kind][0];
	*desc = m[kind][1];
}

/* The last component of a member path, trailing slashes aside ("a/b/" -> "b"). */
static void last_component(const uint8_t *p, size_t n, const uint8_t **out, size_t *on)
{
	while (n > 1 && p[n - 1] == '/')
		n--;
	size_t i = n;
	while (i > 0 && p[i - 1] != '/')
		i--;
	*out = p + i;
	*on = n - i;
}

/* The member's record, less what a worker adds (the type of a file's bytes). */
static job *member_job(level *lv, const container_member *m, const digest_result *dr,
		       int stored, const char *outcome)
{
	ingest *g = lv->g;
	job *j = job_new(g);
	if (!j)
		return NULL;
	custos_record *r = &j->rec;
	const uint8_t *name;
	size_t nl;
	last_component(m->path, m->path_len, &name, &nl);
	free(r->path.p);
	r->path.p = NULL;
	if (copy_bytes(&r->name, name, nl) < 0 || copy_bytes(&r->path, m->path, m->path_len) < 0 ||
	    (m->link && copy_bytes(&r->target, m->link, m->link_len) < 0)) {
		job_free(j);
		return NULL;
	}
	record_set_receipt(g, r, dr);
	r->kind = kind_of(m->type);
	if (custos_kind_has_target(r->kind) && !r->target.p && copy_bytes(&r->target, (const uint8_t *)"", 0) < 0) {
		job_free(j);
		return NULL;
	}
	r->has_mtime = m->has_mtime;
	r->mtime = m->mtime;
	r->is_member = 1;
	memcpy(r->container, lv->id, CUSTOS_ITEM_ID_LEN);
	r->member = m->index;
	r->mode = m->mode & 07777;
	snprintf(r->outcome, sizeof r->outcome, "%s", outcome);
	j->outcome = stored;
	memcpy(j->container_hex, lv->id_hex, sizeof j->container_hex);
	buf d;
	buf_init(&d, 0);
	buf_put(&d, lv->display.p, lv->display.n);
	buf_put(&d, m->path, m->path_len);
	if (buf_check(&d) < 0) {
		buf_free(&d);
		job_free(j);
		return NULL;
	}
	j->display.n = d.n;
	j->display.p = (uint8_t *)buf_steal(&d, NULL);
	if (r->kind != CUSTOS_KIND_FILE) {
		const char *mime, *desc;
		type_of_nonfile(r->kind, &mime, &desc);
		r->mime = xstrdup(mime);
		r->description = xstrdup(desc);
		if (!r->mime || !r->description) {
			job_free(j);
			return NULL;
		}
	}
	return j;
}

/* Hash and store what a member that carries no data stands for: a link's target, else
 * nothing (the empty object). */
static int store_nondata(level *lv, const container_member *m, digest_result *dr, int *stored)
{
	const uint8_t *p = m->link ? m->link : (const uint8_t *)"";
	size_t n = m->link ? m->link_len : 0;
	int rc = digest_update(&lv->d, p, n);
	if (rc == 0)
		rc = digest_final(&lv->d, dr);
	if (rc == 0)
		rc = store_small(lv->g, p, n, dr->sha256, stored);
	return rc;
}

static int store_data(level *lv, digest_result *dr, int *stored)
{
	int rc = digest_final(&lv->d, dr);
	if (rc < 0)
		return rc;
	if (!lv->lo)
		return store_small(lv->g, lv->small, lv->small_n, dr->sha256, stored);
	bool existed = false;
	rc = store_large_commit(lv->lo, dr->sha256, &existed);
	lv->lo = NULL;
	*stored = existed ? OUTCOME_DUPLICATE : OUTCOME_STORED;
	return rc;
}

static int open_nested(level *lv, const uint8_t id[16], const uint8_t sha[32], uint64_t size,
		       const container_member *m);

static void drop_queue(level *lv)
{
	for (size_t i = 0; i < lv->nq; i++)
		job_free(lv->queue[i]);
	free(lv->queue);
	lv->queue = NULL;
	lv->nq = lv->capq = 0;
}

/* The container's record is known now: name it in the queued members and hand them on. */
static int flush_pending(level *lv)
{
	if (!lv->pending)
		return 0;
	lv->pending = false;
	ingest *g = lv->g;
	int rc = lv->pend->resolve(lv->pend->ud, lv->id, lv->sha);
	if (rc != 0) {
		drop_queue(lv);
		if (rc > 0)
			g->submitted = lv->pend->first_n; /* the members' positions are given back */
		return rc > 0 ? UNPACK_ABANDON : rc;
	}
	custos_hex(lv->id_hex, lv->id, CUSTOS_ITEM_ID_LEN);
	memcpy(g->ev.containers[lv->slot].id, lv->id, CUSTOS_ITEM_ID_LEN);
	size_t i = 0;
	for (; rc == 0 && i < lv->nq; i++) {
		job *j = lv->queue[i];
		memcpy(j->rec.container, lv->id, CUSTOS_ITEM_ID_LEN);
		memcpy(j->container_hex, lv->id_hex, sizeof j->container_hex);
		rc = pool_submit(g->workers, j, true);
	}
	for (; i < lv->nq; i++)
		job_free(lv->queue[i]);
	free(lv->queue);
	lv->queue = NULL;
	lv->nq = lv->capq = 0;
	return rc;
}

static int queue_job(level *lv, job *j)
{
	if (array_grow(&lv->queue, &lv->capq, lv->nq, sizeof *lv->queue, 64) < 0) {
		job_free(j);
		return CUSTOS_ERROR;
	}
	lv->queue[lv->nq++] = j;
	return lv->nq >= QUEUE_MAX ? flush_pending(lv) : 0;
}

static int m_end(const container_member *m, const char *outcome, const char *detail, void *ud)
{
	level *lv = ud;
	(void)detail;
	digest_result dr;
	int stored = OUTCOME_STORED;
	bool file = m->type == MEMBER_FILE;
	int rc = file ? store_data(lv, &dr, &stored) : store_nondata(lv, m, &dr, &stored);
	digest_free(&lv->d);
	lv->digest_open = false;
	if (rc < 0)
		return rc;
	lv->g->prog.files++;
	job *j = member_job(lv, m, &dr, stored, outcome);
	if (!j)
		return CUSTOS_ERROR;
	if (!file)
		return lv->pending ? queue_job(lv, j) : pool_submit(lv->g->workers, j, true);
	const uint8_t *pre = lv->lo || lv->prefix_len ? lv->prefix : lv->small;
	size_t pn = lv->prefix_len ? lv->prefix_len : lv->small_n;
	if (attach_prefix(j, pre, pn) < 0) {
		job_free(j);
		return CUSTOS_ERROR;
	}
	bool nested = strcmp(outcome, "ok") == 0 && unpack_looks_like_container(pre, pn);
	if (lv->pending && !nested)
		return queue_job(lv, j);
	if (lv->pending) { /* a nested container's record names this one: it must be known */
		if ((rc = flush_pending(lv)) < 0) {
			job_free(j);
			return rc;
		}
		memcpy(j->rec.container, lv->id, CUSTOS_ITEM_ID_LEN);
		memcpy(j->container_hex, lv->id_hex, sizeof j->container_hex);
	}
	if (!nested)
		return pool_submit(lv->g->workers, j, true);
	uint8_t id[CUSTOS_ITEM_ID_LEN];
	if ((rc = submit_ready(lv->g, j, id)) < 0)
		return rc;
	return open_nested(lv, id, dr.sha256, dr.bytes, m);
}

/* ------------------------------------------------------------ opening one container */

/* Why a container is not opened at all, or NULL to open it. */
static const char *not_opened(const ingest *g, uint64_t depth, const uint8_t sha[32],
			      const level *up, char *detail, size_t dn)
{
	const custos_archive_opts *a = &g->o->archives;
	uint64_t max_depth = or_default(a->max_depth, DEFAULT_MAX_DEPTH);
	container_limits l;
	isolate_limits il;
	limits_for(g, &l, &il);
	for (const level *u = up; u; u = u->up)
		if (memcmp(u->sha, sha, 32) == 0) {
			snprintf(detail, dn, "the same bytes as the container it is in (item %s)", u->id_hex);
			return "cycle";
		}
	if (depth > max_depth) {
		snprintf(detail, dn, "nested deeper than %llu", (unsigned long long)max_depth);
		return "limit:depth";
	}
	if (g->tree_used >= l.max_expanded) {
		snprintf(detail, dn, "%llu bytes already decoded from this input",
			 (unsigned long long)g->tree_used);
		return "limit:expanded";
	}
	if (g->tree_base && g->tree_used > l.ratio_floor && g->tree_used / g->tree_base >= l.max_ratio) {
		snprintf(detail, dn, "%llu bytes already decoded from an input of %llu",
			 (unsigned long long)g->tree_used, (unsigned long long)g->tree_base);
		return "limit:ratio";
	}
	return NULL;
}

/* Open one container and ingest its members. Its bytes: src (memory or a file), or when
 * src is NULL its stored object. pend: its own record is still pending (an input read on
 * another thread), else id and sha name it. */
static int unpack(ingest *g, const level *up, const uint8_t id[16], const uint8_t sha[32],
		  const isolate_source *src, const uint8_t *display, size_t dl,
		  const unpack_pending *pend)
{
	level lv = {.g = g, .up = up, .depth = up ? up->depth + 1 : 1, .pend = pend,
		    .pending = pend != NULL};
	int rc = container_line(g, id, &lv.slot);
	if (rc < 0)
		return rc;
	memcpy(lv.id, id, 16);
	custos_hex(lv.id_hex, id, 16);
	memcpy(lv.sha, sha, 32);
	char why[256];
	const char *refusal = pend ? NULL : not_opened(g, lv.depth, sha, up, why, sizeof why);
	if (refusal) {
		container_result r = {.members = 0};
		snprintf(r.detail, sizeof r.detail, "%s", why);
		return end_container(g, lv.slot, refusal, &r);
	}
	buf_init(&lv.display, 0);
	buf_put(&lv.display, display, dl);
	buf_puts(&lv.display, "!/");
	isolate_source own = {.fd = -1};
	uint64_t off, len;
	if (!src)
		rc = store_open_read(g->v->store, sha, NULL, &own.fd, &off, &len);
	if (rc == 0 && (!(lv.small = malloc(STORE_SMALL_MAX)) || !(lv.prefix = malloc(CLASSIFY_PREFIX))))
		rc = custos_error_set(CUSTOS_ERROR, "out of memory");
	if (rc == 0)
		rc = buf_check(&lv.display);
	container_result r;
	if (rc == 0) {
		container_limits l;
		isolate_limits il;
		limits_for(g, &l, &il);
		container_ops ops = {m_begin, m_data, m_end, &lv};
		rc = container_read_isolated(g->srv, src ? src : &own, &l, &il, &ops, &r);
	}
	/* the container's own record comes first, whatever happened to its members */
	int frc = rc == 0 || rc == CUSTOS_EINVALID ? flush_pending(&lv) : 0;
	if (frc == UNPACK_ABANDON || rc == UNPACK_ABANDON) {
		g->ev.n_containers--; /* refused as an input: no item, no line */
		rc = 0;
	} else if (frc < 0) {
		rc = frc;
	} else if (rc == CUSTOS_EINVALID) {
		/* a signature, but not a container libarchive opens: an ordinary file */
		g->ev.n_containers--;
		rc = 0;
	} else if (rc == 0) {
		g->tree_used += r.expanded;
		rc = end_container(g, lv.slot, r.stop ? r.stop : "complete", &r);
	}
	drop_queue(&lv);
	if (lv.digest_open)
		digest_free(&lv.d);
	store_large_abort(lv.lo);
	if (own.fd >= 0)
		close(own.fd);
	free(lv.small);
	free(lv.prefix);
	buf_free(&lv.display);
	return rc;
}

static int open_nested(level *lv, const uint8_t id[16], const uint8_t sha[32], uint64_t size,
		       const container_member *m)
{
	buf d;
	buf_init(&d, 0);
	buf_put(&d, lv->display.p, lv->display.n);
	buf_put(&d, m->path, m->path_len);
	int rc = buf_check(&d);
	/* small members are still in lv->small, untouched until the next member begins */
	isolate_source mem = {.fd = -1, .p = lv->small, .n = (size_t)size};
	if (rc == 0)
		rc = unpack(lv->g, lv, id, sha, size <= STORE_SMALL_MAX ? &mem : NULL, d.p, d.n, NULL);
	buf_free(&d);
	return rc;
}

int unpack_input(ingest *g, const job *j, const uint8_t *p)
{
	isolate_source mem = {.fd = -1, .p = p, .n = (size_t)j->rec.size};
	return unpack(g, NULL, j->id, j->rec.sha256, p ? &mem : NULL, g->path.p, g->path.n, NULL);
}

int unpack_input_pending(ingest *g, int fd, const unpack_pending *p)
{
	static const uint8_t unknown[32];
	isolate_source file = {.fd = fd};
	return unpack(g, NULL, unknown, unknown, &file, g->path.p, g->path.n, p);
}
