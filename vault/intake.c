/*
 * intake.c — `custos ingest`: walk the inputs (never following a symlink, never leaving a
 * directory tree), read each regular file once — hashing, classifying and storing in the
 * same pass — and end every input with an outcome: stored, duplicate, or refused with a
 * reason (FS §5.3). A file that changes while it is read is refused and nothing of it is
 * kept. All objects are made durable before the one custody commit that acknowledges
 * them; the index is updated after the commit.
 */
#include "fsutil.h"
#include "intake.h"
#include "source.h"
#include "isolate.h"
#include "keys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK ((size_t)1 << 20)
#define MAX_DEPTH 256

/* ------------------------------------------------------------ the set of stored objects */

static size_t slot_of(const uint8_t sha[32], size_t cap)
{
	return (size_t)le64_load(sha) & (cap - 1);
}

static int shaset_grow(shaset *s)
{
	size_t cap = s->cap ? s->cap * 2 : 4096;
	shaset t = {xcalloc(cap, 32), xcalloc(cap, 1), cap, 0};
	if (!t.keys || !t.used) {
		free(t.keys);
		free(t.used);
		return CUSTOS_ERROR;
	}
	for (size_t i = 0; i < s->cap; i++) {
		if (!s->used[i])
			continue;
		size_t j = slot_of(s->keys[i], cap);
		while (t.used[j])
			j = (j + 1) & (cap - 1);
		t.used[j] = true;
		memcpy(t.keys[j], s->keys[i], 32);
	}
	t.n = s->n;
	free(s->keys);
	free(s->used);
	*s = t;
	return 0;
}

static bool shaset_has(const shaset *s, const uint8_t sha[32])
{
	if (!s->cap)
		return false;
	for (size_t j = slot_of(sha, s->cap); s->used[j]; j = (j + 1) & (s->cap - 1))
		if (memcmp(s->keys[j], sha, 32) == 0)
			return true;
	return false;
}

static int shaset_add(shaset *s, const uint8_t sha[32])
{
	if (2 * (s->n + 1) > s->cap && shaset_grow(s) < 0)
		return CUSTOS_ERROR;
	size_t j = slot_of(sha, s->cap);
	while (s->used[j])
		j = (j + 1) & (s->cap - 1);
	s->used[j] = true;
	memcpy(s->keys[j], sha, 32);
	s->n++;
	return 0;
}

/* ------------------------------------------------------------ outcomes */

void report_progress(ingest *g, bool force)
{
	if (!g->o->on_progress)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long ms = (now.tv_sec - g->last_progress.tv_sec) * 1000 +
		  (now.tv_nsec - g->last_progress.tv_nsec) / 1000000;
	if (!force && ms < 200)
		return;
	g->last_progress = now;
	g->prog.current = g->path.p;
	g->prog.current_len = g->path.n;
	g->o->on_progress(&g->prog, g->o->ud);
}

void job_free(void *p)
{
	job *j = p;
	if (!j)
		return;
	free(j->rec.name.p);
	free(j->rec.path.p);
	free(j->rec.target.p);
	free(j->rec.mime);
	free(j->rec.description);
	free(j->rec.ext_mismatch);
	free(j->prefix);
	free(j->detail);
	free(j->display.p);
	buf_free(&j->rb);
	buf_free(&j->sb);
	free(j);
}

int copy_bytes(custos_bytes *out, const uint8_t *p, size_t n)
{
	out->p = malloc(n + 1);
	if (!out->p)
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	memcpy(out->p, p, n);
	out->p[n] = '\0';
	out->n = n;
	return 0;
}

job *job_new(ingest *g)
{
	job *j = xcalloc(1, sizeof *j);
	if (!j)
		return NULL;
	j->key = g->key;
	buf_init(&j->rb, RECORD_MAX);
	buf_init(&j->sb, 256);
	if (copy_bytes(&j->rec.path, g->path.p ? g->path.p : (const uint8_t *)"", g->path.n) < 0) {
		job_free(j);
		return NULL;
	}
	return j;
}

static int refuse(ingest *g, const char *reason, const char *detail)
{
	job *j = job_new(g);
	if (!j)
		return CUSTOS_ERROR;
	j->refusal = true;
	snprintf(j->reason, sizeof j->reason, "%s", reason);
	j->detail = xstrdup(detail ? detail : "");
	return pool_submit(g->workers, j, false);
}

static int refuse_errno(ingest *g, int err)
{
	const char *reason = err == ENOENT ? "vanished"
			     : err == EACCES || err == EPERM ? "unreadable"
			     : err == ELOOP || err == ENOTDIR ? "changed"
							      : "io-error";
	return refuse(g, reason, strerror(err));
}

/* The item's record (FS §4), less what the worker adds: type and description. */
void record_set_digest(custos_record *r, const digest_result *dr)
{
	memcpy(r->sha256, dr->sha256, 32);
	r->size = dr->bytes;
	char *extra[] = {r->md5, r->sha1, r->sha512, r->blake2b};
	for (int i = 0; i < DIGEST_EXTRA_N; i++)
		strcpy(extra[i], dr->extra_hex[i]);
}

void record_set_receipt(ingest *g, custos_record *r, const digest_result *dr)
{
	memcpy(r->vault, g->v->info.id, sizeof r->vault);
	r->seq = g->ev.seq;
	r->n = g->submitted++;
	record_set_digest(r, dr);
	r->source = g->ev.source; /* borrowed: lives as long as the ingest */
	r->ingested = g->ev.time;
	memcpy(r->custodian, custos_key_public(g->key)->id, CUSTOS_KEYID_LEN);
}

static job *item_job(ingest *g, const uint8_t *name, size_t nl, const digest_result *dr,
		     const struct stat *st, int outcome)
{
	job *j = job_new(g);
	if (!j)
		return NULL;
	custos_record *r = &j->rec;
	if (copy_bytes(&r->name, name, nl) < 0) {
		job_free(j);
		return NULL;
	}
	record_set_receipt(g, r, dr);
	r->kind = CUSTOS_KIND_FILE;
	r->has_mtime = 1;
	r->mtime = (int64_t)st->st_mtim.tv_sec;
	j->outcome = outcome;
	return j;
}

/* On a worker: classify, then encode and sign the record. */
int job_work(void *p, void *ctx)
{
	job *j = p;
	custos_record *r = &j->rec;
	uint8_t sig[64];
	int rc = 0;
	if (j->ready)
		return 0;
	if (j->prefix) {
		rc = classify_buffer(ctx, j->prefix, j->prefix_len, &r->mime, &r->description);
		if (rc == 0)
			r->ext_mismatch = classify_ext_mismatch(r->name.p, r->name.n, r->mime);
	}
	if (rc == 0)
		rc = record_encode(&j->rb, r);
	if (rc == 0)
		rc = record_id(j->id, j->rb.p, j->rb.n);
	if (rc == 0)
		rc = key_sign(sig, j->key, j->rb.p, j->rb.n);
	if (rc == 0)
		rc = sigfile_encode(&j->sb, custos_key_public(j->key)->id, sig);
	return rc;
}

int submit_ready(ingest *g, job *j, uint8_t id[CUSTOS_ITEM_ID_LEN])
{
	int rc = g->cls ? 0 : classify_open(&g->cls);
	if (rc == 0)
		rc = job_work(j, g->cls);
	if (rc < 0) {
		job_free(j);
		return rc;
	}
	j->ready = true;
	memcpy(id, j->id, CUSTOS_ITEM_ID_LEN);
	return pool_submit(g->workers, j, false);
}

static void *worker_ctx_new(void)
{
	classifier *c = NULL;
	return classify_open(&c) == 0 ? c : NULL;
}

static void worker_ctx_free(void *c)
{
	classify_close(c);
}

static int push_item(ingest *g, const uint8_t id[16], const uint8_t sha[32], int outcome,
		     const uint8_t *rec, size_t rn)
{
	if (g->ev.n_items == g->cap_items) {
		size_t cap = g->cap_items ? 2 * g->cap_items : 256;
		event_item *e = realloc(g->ev.items, cap * sizeof *e);
		index_item *x = realloc(g->ix, cap * sizeof *x);
		merkle_hash *l = realloc(g->leaves, (cap + 1) * sizeof *l);
		if (e)
			g->ev.items = e;
		if (x)
			g->ix = x;
		if (l)
			g->leaves = l;
		if (!e || !x || !l)
			return custos_error_set(CUSTOS_ERROR, "out of memory");
		g->cap_items = cap;
	}
	merkle_leaf_hash(g->leaves[g->n_ix], rec, rn);
	memcpy(g->ev.items[g->ev.n_items].id, id, 16);
	g->ev.items[g->ev.n_items].outcome = outcome;
	g->ev.n_items++;
	index_item *x = &g->ix[g->n_ix++];
	memcpy(x->sha256, sha, 32);
	memcpy(x->id, id, 16);
	x->seq = g->ev.seq;
	return 0;
}

static int finish_refusal(ingest *g, job *j)
{
	if (array_grow(&g->ev.refused, &g->cap_refused, g->ev.n_refused, sizeof *g->ev.refused, 64) < 0)
		return CUSTOS_ERROR;
	event_refusal *r = &g->ev.refused[g->ev.n_refused];
	buf e;
	buf_init(&e, 0);
	esc_encode(&e, j->rec.path.p, j->rec.path.n);
	snprintf(r->reason, sizeof r->reason, "%s", j->reason);
	if (!(r->path_esc = buf_steal(&e, NULL)))
		return CUSTOS_ERROR;
	g->ev.n_refused++;
	g->prog.refused++;
	if (g->o->on_outcome) {
		custos_outcome o = {.path = j->rec.path.p, .path_len = j->rec.path.n,
				    .kind = CUSTOS_REFUSED, .reason = j->reason, .detail = j->detail};
		g->o->on_outcome(&o, g->o->ud);
	}
	return 0;
}

static int finish_item(ingest *g, job *j)
{
	char hex[33];
	const custos_record *r = &j->rec;
	custos_hex(hex, j->id, 16);
	int rc = custody_txn_add_item(g->txn, hex, j->rb.p, j->rb.n, j->sb.p, j->sb.n);
	if (rc == 0)
		rc = push_item(g, j->id, r->sha256, j->outcome, j->rb.p, j->rb.n);
	if (rc < 0)
		return rc;
	if (j->outcome == OUTCOME_STORED)
		g->prog.stored++;
	else
		g->prog.duplicates++;
	g->prog.bytes += r->size;
	if (r->is_member)
		tally_add(&g->members, r->outcome);
	if (g->o->on_outcome) {
		custos_outcome o = {.path = r->path.p, .path_len = r->path.n,
				    .kind = j->outcome == OUTCOME_STORED ? CUSTOS_STORED : CUSTOS_DUPLICATE,
				    .item_hex = hex, .sha256 = r->sha256, .size = r->size};
		if (r->is_member) {
			o.path = j->display.p;
			o.path_len = j->display.n;
			o.container_hex = j->container_hex;
			o.member_outcome = r->outcome;
		}
		g->o->on_outcome(&o, g->o->ud);
	}
	return 0;
}

/* In submission order, on the ingesting thread. */
static int job_done(void *p, void *ud)
{
	job *j = p;
	int rc = j->refusal ? finish_refusal(ud, j) : finish_item(ud, j);
	job_free(j);
	return rc;
}

/* ------------------------------------------------------------ storing bytes */

static bool object_held(ingest *g, const uint8_t sha[32])
{
	store_packed loc;
	return shaset_has(&g->seen, sha) || index_find_packed(g->v->index, sha, &loc) == 0 ||
	       store_has_loose(g->v->store, sha, NULL);
}

/* Small object, fully in memory. */
int store_small(ingest *g, const uint8_t *p, size_t n, const uint8_t sha[32], int *outcome)
{
	if (object_held(g, sha)) {
		*outcome = OUTCOME_DUPLICATE;
		return 0;
	}
	*outcome = OUTCOME_STORED;
	int rc = store_batch_add_small(g->batch, sha, p, n);
	return rc < 0 ? rc : shaset_add(&g->seen, sha);
}

static bool same_file_state(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

typedef struct file_read {
	digest_result dr;
	const uint8_t *prefix;
	size_t prefix_len;
	int outcome;
	const char *refusal; /* set when the file must be refused */
	int err;
} file_read;

/* Read an open small file into g->io, hash it; the caller stores it once it is known
 * not to have changed. */
static int read_small(ingest *g, int fd, const struct stat *st, file_read *fr)
{
	size_t got = 0;
	digest d;
	int rc = fs_read_all(fd, g->io, (size_t)st->st_size + 1, &got, "input");
	if (rc < 0) {
		fr->refusal = "io-error";
		fr->err = errno;
		return 0;
	}
	if (got != (size_t)st->st_size) {
		fr->refusal = "changed";
		return 0;
	}
	if ((rc = digest_init(&d, g->o->also_hash)) < 0)
		return rc;
	rc = digest_update(&d, g->io, got);
	if (rc == 0)
		rc = digest_final(&d, &fr->dr);
	digest_free(&d);
	fr->prefix = g->io;
	fr->prefix_len = got;
	return rc;
}

/* Stream a large file into a temp object while hashing it: read straight into the
 * store's write buffers, which a background thread writes out meanwhile. The first
 * CLASSIFY_PREFIX bytes are copied to `prefix`. progress: the ingest to report progress
 * to, or NULL (when this runs on a thread of its own). */
static int hash_into_store(store_batch *b, unsigned also_hash, int fd, const struct stat *st,
			   uint8_t *prefix, file_read *fr, store_large **lo, ingest *progress)
{
	digest d;
	int rc = digest_init(&d, also_hash);
	if (rc == 0)
		rc = store_large_begin(lo, b);
	if (rc < 0) {
		digest_free(&d);
		return rc;
	}
	fr->prefix_len = 0;
	for (;;) {
		uint8_t *p;
		size_t room;
		if ((rc = store_large_space(*lo, &p, &room)) < 0)
			break;
		ssize_t r = read(fd, p, room);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fr->refusal = "io-error";
			fr->err = errno;
			break;
		}
		if (r == 0)
			break;
		if (fr->prefix_len < CLASSIFY_PREFIX) {
			size_t take = CLASSIFY_PREFIX - fr->prefix_len;
			if (take > (size_t)r)
				take = (size_t)r;
			memcpy(prefix + fr->prefix_len, p, take);
			fr->prefix_len += take;
		}
		/* Hashed before they are handed over, so the hash is of exactly what is written. */
		if ((rc = digest_update(&d, p, (size_t)r)) < 0 ||
		    (rc = store_large_advance(*lo, (size_t)r)) < 0)
			break;
		if (d.bytes > (uint64_t)st->st_size) {
			fr->refusal = "changed"; /* it grows while we read */
			break;
		}
		if (progress)
			report_progress(progress, false);
	}
	if (rc == 0 && !fr->refusal && (rc = digest_final(&d, &fr->dr)) == 0 &&
	    fr->dr.bytes != (uint64_t)st->st_size)
		fr->refusal = "changed";
	digest_free(&d);
	fr->prefix = prefix;
	return rc;
}

static int read_large(ingest *g, int fd, const struct stat *st, file_read *fr, store_large **lo)
{
	return hash_into_store(g->batch, g->o->also_hash, fd, st, g->prefix, fr, lo, g);
}

int attach_prefix(job *j, const uint8_t *p, size_t n)
{
	if (n > CLASSIFY_PREFIX)
		n = CLASSIFY_PREFIX;
	if (!(j->prefix = malloc(n + 1)))
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	memcpy(j->prefix, p, n);
	j->prefix_len = n;
	return 0;
}

static int submit_file(ingest *g, const uint8_t *name, size_t nl, const struct stat *st,
		       const file_read *fr)
{
	job *j = item_job(g, name, nl, &fr->dr, st, fr->outcome);
	if (!j || attach_prefix(j, fr->prefix, fr->prefix_len) < 0) {
		job_free(j);
		return CUSTOS_ERROR;
	}
	return pool_submit(g->workers, j, true);
}

/* A file that looks like a container: its record now (members name it), then its members. */
static int ingest_container(ingest *g, const uint8_t *name, size_t nl, const struct stat *st,
			    const file_read *fr, bool in_memory)
{
	job *j = item_job(g, name, nl, &fr->dr, st, fr->outcome);
	if (!j || attach_prefix(j, fr->prefix, fr->prefix_len) < 0) {
		job_free(j);
		return CUSTOS_ERROR;
	}
	job c = {0}; /* what the members need of it: the pool owns j once submitted */
	memcpy(c.rec.sha256, fr->dr.sha256, 32);
	c.rec.size = fr->dr.bytes;
	int rc = submit_ready(g, j, c.id);
	if (rc < 0)
		return rc;
	g->tree_base = fr->dr.bytes;
	g->tree_used = 0;
	return unpack_input(g, &c, in_memory ? g->io : NULL);
}

/* ------------------------------------------------------------ a large container as an input
 *
 * Its own bytes are hashed and stored on a thread while the sandboxed reader goes through
 * a second descriptor of the same file and the members are hashed and stored here: the
 * two passes over the file overlap instead of following each other. */

typedef struct overlap {
	ingest *g;
	int fd;
	struct stat st;
	pthread_t thread;
	bool running;
	file_read fr;
	store_large *lo;
	uint8_t *prefix;
	int rc;
	char err[256];
	job *j; /* the container's item, its position reserved */
} overlap;

static void *overlap_main(void *p)
{
	overlap *o = p;
	o->rc = hash_into_store(o->g->batch, o->g->o->also_hash, o->fd, &o->st, o->prefix, &o->fr,
				&o->lo, NULL);
	if (o->rc < 0)
		snprintf(o->err, sizeof o->err, "%s", custos_error_last());
	return NULL;
}

static void overlap_join(overlap *o)
{
	if (o->running)
		pthread_join(o->thread, NULL);
	o->running = false;
}

/* unpack_pending.resolve: the container's bytes are read; record it, or refuse it. */
static int overlap_resolve(void *ud, uint8_t id[CUSTOS_ITEM_ID_LEN], uint8_t sha[32])
{
	overlap *o = ud;
	ingest *g = o->g;
	overlap_join(o);
	if (o->rc < 0)
		return custos_error_set(o->rc, "%s", o->err);
	struct stat after;
	if (!o->fr.refusal && (fstat(o->fd, &after) != 0 || !same_file_state(&o->st, &after)))
		o->fr.refusal = "changed";
	if (o->fr.refusal) {
		int rc = refuse(g, o->fr.refusal,
				o->fr.err ? strerror(o->fr.err) : "the file changed while it was being read");
		return rc < 0 ? rc : 1;
	}
	bool existed = false;
	int rc = store_large_commit(o->lo, o->fr.dr.sha256, &existed);
	o->lo = NULL;
	if (rc < 0)
		return rc;
	record_set_digest(&o->j->rec, &o->fr.dr);
	o->j->outcome = existed ? OUTCOME_DUPLICATE : OUTCOME_STORED;
	if (attach_prefix(o->j, o->prefix, o->fr.prefix_len) < 0)
		return CUSTOS_ERROR;
	job *j = o->j;
	o->j = NULL; /* the pool's now (submit_ready frees it on failure) */
	memcpy(sha, o->fr.dr.sha256, 32);
	return submit_ready(g, j, id);
}

static int ingest_large_container(ingest *g, int dirfd, const char *name, int fd,
				  const struct stat *st, const uint8_t *base, size_t bl)
{
	struct stat cst;
	int cfd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (cfd < 0 || fstat(cfd, &cst) != 0 || cst.st_dev != st->st_dev || cst.st_ino != st->st_ino) {
		if (cfd >= 0)
			close(cfd);
		return refuse(g, "changed", "replaced while it was being read");
	}
	digest_result none = {0};
	overlap o = {.g = g, .fd = fd, .st = *st, .prefix = malloc(CLASSIFY_PREFIX),
		     .j = item_job(g, base, bl, &none, st, OUTCOME_STORED)};
	int rc = o.prefix && o.j ? 0 : custos_error_set(CUSTOS_ERROR, "out of memory");
	if (rc == 0 && pthread_create(&o.thread, NULL, overlap_main, &o) != 0)
		rc = custos_error_set(CUSTOS_ERROR, "cannot start a thread");
	if (rc == 0) {
		o.running = true;
		g->prog.files++;
		g->tree_base = (uint64_t)st->st_size;
		g->tree_used = 0;
		unpack_pending p = {overlap_resolve, &o, o.j->rec.n};
		rc = unpack_input_pending(g, cfd, &p);
	}
	overlap_join(&o); /* on an error before resolve */
	store_large_abort(o.lo);
	job_free(o.j);
	free(o.prefix);
	close(cfd);
	return rc;
}

static int ingest_regular(ingest *g, int dirfd, const char *name, const struct stat *lst,
			  const uint8_t *base, size_t bl)
{
	struct stat st, after;
	file_read fr = {0};
	store_large *lo = NULL;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return refuse_errno(g, errno);
	int rc = 0;
	if (fstat(fd, &st) != 0) {
		rc = refuse_errno(g, errno);
		goto done;
	}
	if (!S_ISREG(st.st_mode) || st.st_dev != lst->st_dev || st.st_ino != lst->st_ino) {
		rc = refuse(g, "changed", "replaced while it was being read");
		goto done;
	}
	bool small = (uint64_t)st.st_size <= STORE_SMALL_MAX;
	if (!small && !g->o->archives.opaque) {
		ssize_t k = pread(fd, g->prefix, CLASSIFY_PREFIX, 0);
		if (k > 0 && unpack_looks_like_container(g->prefix, (size_t)k)) {
			rc = ingest_large_container(g, dirfd, name, fd, &st, base, bl);
			goto done;
		}
	}
	g->prog.files++;
	report_progress(g, false);
	rc = small ? read_small(g, fd, &st, &fr) : read_large(g, fd, &st, &fr, &lo);
	if (rc < 0)
		goto done;
	if (!fr.refusal && (fstat(fd, &after) != 0 || !same_file_state(&st, &after)))
		fr.refusal = "changed";
	if (fr.refusal) {
		rc = refuse(g, fr.refusal,
			    fr.err ? strerror(fr.err) : "the file changed while it was being read");
		goto done;
	}
	if (small) {
		rc = store_small(g, g->io, fr.dr.bytes, fr.dr.sha256, &fr.outcome);
	} else {
		bool existed = false;
		rc = store_large_commit(lo, fr.dr.sha256, &existed);
		lo = NULL;
		fr.outcome = existed ? OUTCOME_DUPLICATE : OUTCOME_STORED;
	}
	if (rc == 0 && !g->o->archives.opaque && unpack_looks_like_container(fr.prefix, fr.prefix_len))
		rc = ingest_container(g, base, bl, &st, &fr, small);
	else if (rc == 0)
		rc = submit_file(g, base, bl, &st, &fr);
done:
	store_large_abort(lo);
	close(fd);
	return rc;
}

static int ingest_symlink(ingest *g, int dirfd, const char *name, const struct stat *lst,
			  const uint8_t *base, size_t bl)
{
	char target[PATH_MAX + 1];
	ssize_t n = readlinkat(dirfd, name, target, sizeof target);
	if (n < 0)
		return refuse_errno(g, errno);
	if ((size_t)n >= sizeof target)
		return refuse(g, "changed", "symlink target too long");
	digest d;
	file_read fr = {0};
	int rc = digest_init(&d, g->o->also_hash);
	if (rc == 0)
		rc = digest_update(&d, target, (size_t)n);
	if (rc == 0)
		rc = digest_final(&d, &fr.dr);
	digest_free(&d);
	if (rc == 0)
		rc = store_small(g, (const uint8_t *)target, (size_t)n, fr.dr.sha256, &fr.outcome);
	if (rc < 0)
		return rc;
	job *j = item_job(g, base, bl, &fr.dr, lst, fr.outcome);
	if (!j || copy_bytes(&j->rec.target, (const uint8_t *)target, (size_t)n) < 0) {
		job_free(j);
		return CUSTOS_ERROR;
	}
	j->rec.kind = CUSTOS_KIND_SYMLINK;
	j->rec.mime = xstrdup("inode/symlink");
	j->rec.description = xstrdup("symbolic link (recorded, not followed)");
	g->prog.files++;
	return pool_submit(g->workers, j, true);
}

/* ------------------------------------------------------------ walking */

static int ingest_entry(ingest *g, int dirfd, const char *name, const uint8_t *base, size_t bl,
			int depth);

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_dir_names(int fd, char ***names, size_t *n)
{
	int dfd = dup(fd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	*names = NULL;
	*n = 0;
	if (!d) {
		int err = errno;
		if (dfd >= 0)
			close(dfd);
		errno = err;
		return -1;
	}
	size_t cap = 0;
	struct dirent *de;
	int rc = 0;
	errno = 0;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 64;
			char **p = realloc(*names, cap * sizeof *p);
			if (!p) {
				rc = -1;
				errno = ENOMEM;
				break;
			}
			*names = p;
		}
		if (!((*names)[*n] = strdup(de->d_name))) {
			rc = -1;
			break;
		}
		(*n)++;
	}
	int err = errno;
	closedir(d);
	errno = err;
	if (*names)
		qsort(*names, *n, sizeof **names, name_cmp);
	return rc;
}

static int ingest_dir(ingest *g, int dirfd, const char *name, int depth)
{
	if (depth >= MAX_DEPTH)
		return refuse(g, "too-deep", "directory nesting deeper than 256 levels");
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return refuse_errno(g, errno);
	char **names = NULL;
	size_t n = 0;
	int rc = 0;
	if (read_dir_names(fd, &names, &n) < 0)
		rc = refuse_errno(g, errno);
	size_t saved = g->path.n;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		g->path.n = saved;
		if (g->path.n)
			buf_putc(&g->path, '/');
		buf_puts(&g->path, names[i]);
		if ((rc = buf_check(&g->path)) < 0)
			break;
		rc = ingest_entry(g, fd, names[i], (const uint8_t *)names[i], strlen(names[i]), depth + 1);
	}
	g->path.n = saved;
	if (g->path.p)
		g->path.p[saved] = '\0';
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	close(fd);
	return rc;
}

static int ingest_entry(ingest *g, int dirfd, const char *name, const uint8_t *base, size_t bl,
			int depth)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		/* An input path that never resolved did not change: it was never there. */
		if (depth == 0 && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP))
			return refuse(g, "not-found", strerror(errno));
		return refuse_errno(g, errno);
	}
	switch (st.st_mode & S_IFMT) {
	case S_IFREG:
		return ingest_regular(g, dirfd, name, &st, base, bl);
	case S_IFDIR:
		return ingest_dir(g, dirfd, name, depth);
	case S_IFLNK:
		return ingest_symlink(g, dirfd, name, &st, base, bl);
	case S_IFCHR:
	case S_IFBLK:
		return refuse(g, "device", "device files are not documents");
	case S_IFIFO:
		return refuse(g, "fifo", "named pipes are not read (they could block forever)");
	case S_IFSOCK:
		return refuse(g, "socket", "sockets are not documents");
	default:
		return refuse(g, "unknown-type", "unknown file type");
	}
}

/* The label an input gets in item paths: its last component ("drop" for "../x/drop/"). */
static char *input_label(const char *path)
{
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	const char *start = path;
	for (size_t i = 0; i < n; i++)
		if (path[i] == '/' && i + 1 < n)
			start = path + i + 1;
	size_t len = (size_t)(path + n - start);
	if ((len == 1 && start[0] == '.') || (len == 2 && memcmp(start, "..", 2) == 0) ||
	    (len == 1 && start[0] == '/')) {
		char *real = realpath(path, NULL);
		char *label = NULL;
		if (real) {
			const char *slash = strrchr(real, '/');
			label = xstrdup(slash && slash[1] ? slash + 1 : "");
			free(real);
		}
		return label ? label : xstrdup("");
	}
	return xstrndup(start, len);
}

static int ingest_input(ingest *g, const char *path)
{
	char *label = input_label(path);
	if (!label)
		return CUSTOS_ERROR;
	buf e;
	buf_init(&e, 0);
	esc_encode(&e, (const uint8_t *)path, strlen(path));
	char **inputs = realloc(g->ev.inputs, (g->ev.n_inputs + 1) * sizeof *inputs);
	int rc = inputs ? 0 : custos_error_set(CUSTOS_ERROR, "out of memory");
	if (rc == 0) {
		g->ev.inputs = inputs;
		inputs[g->ev.n_inputs] = buf_steal(&e, NULL);
		rc = inputs[g->ev.n_inputs] ? 0 : CUSTOS_ERROR;
		g->ev.n_inputs += rc == 0;
	}
	buf_free(&e);
	g->path.n = 0;
	buf_puts(&g->path, label);
	if (rc == 0)
		rc = buf_check(&g->path);
	if (rc == 0)
		rc = ingest_entry(g, AT_FDCWD, path, (const uint8_t *)label, strlen(label), 0);
	free(label);
	return rc;
}

/* ------------------------------------------------------------ the command */

static int check_custodian(custos_vault *v, const custos_key *key)
{
	if (!v->writable)
		return custos_error_set(CUSTOS_EINVALID, "vault opened read-only");
	if (!pubkey_equal(custos_key_public(key), &v->info.owner)) {
		char have[17], want[17];
		custos_keyid_hex(have, custos_key_public(key)->id);
		custos_keyid_hex(want, v->info.owner.id);
		return custos_error_set(CUSTOS_EPERM,
					"key %s is not the custodian of this vault (%s); use --key", have,
					want);
	}
	return 0;
}

static int begin_event(ingest *g)
{
	return vault_event_begin(g->v, g->key, &g->ev, "ingest");
}

static int finish_event(ingest *g, custos_ingest_summary *out)
{
	store_packed *packed = NULL;
	size_t n_packed = 0;
	uint8_t head[20];
	char summary[256];
	int rc = store_batch_finish(g->batch, &packed, &n_packed);
	g->batch = NULL;
	snprintf(summary, sizeof summary, "ingest: %llu stored, %llu duplicate, %llu refused",
		 (unsigned long long)g->prog.stored, (unsigned long long)g->prog.duplicates,
		 (unsigned long long)g->prog.refused);
	/* g->leaves has room for the event's leaf after its items' (push_item) */
	index_update u = {.items = g->ix, .n_items = g->n_ix, .packed = packed,
			  .n_packed = n_packed, .leaves = g->n_ix ? g->leaves : NULL,
			  .n_leaves = g->n_ix};
	if (rc == 0) {
		rc = vault_commit_event(g->v, g->key, &g->ev, summary, g->txn, &u, head);
		g->txn = NULL;
	}
	if (rc == 0) {
		out->seq = g->ev.seq;
		custos_hex(out->commit, head, 20);
	}
	free(packed);
	return rc;
}

static void ingest_free(ingest *g)
{
	store_batch_abort(g->batch);
	custody_txn_abort(g->txn);
	/* source and note point at the caller's strings */
	g->ev.source = (custos_bytes){0};
	g->ev.note = (custos_bytes){0};
	event_clear(&g->ev);
	free(g->ix);
	free(g->leaves);
	free(g->seen.keys);
	free(g->seen.used);
	free(g->io);
	free(g->prefix);
	buf_free(&g->path);
	classify_close(g->cls);
	isolate_server_stop(g->srv);
}

/* The source must be registered (FS §12); with --source-sig, the signature over the one
 * input is checked now and its verdict goes into the event either way. */
static int check_source(ingest *g, const char *const *paths, size_t n, custos_ingest_summary *out)
{
	source_entry src = {0};
	const custos_ingest_opts *o = g->o;
	if (!o->source)
		return o->source_sig ? custos_error_set(CUSTOS_EINVALID,
							"--source-sig needs --source NAME")
				     : 0;
	int rc = source_lookup(g->v, o->source, &src);
	if (rc == 0 && o->source_sig && n != 1)
		rc = custos_error_set(CUSTOS_EINVALID,
				      "--source-sig covers one file: give exactly one PATH");
	if (rc == 0 && o->source_sig) {
		rc = source_check_signature(&src, o->source_sig, paths[0], &g->ev);
		if (rc >= 0)
			out->source_verdict = rc == 0 ? "good" : "bad";
		rc = rc < 0 ? rc : 0;
	}
	free(src.name.p);
	free(src.note.p);
	return rc;
}

int custos_ingest(custos_vault *v, const custos_key *key, const char *const *paths, size_t n,
		  const custos_ingest_opts *opts, custos_ingest_summary *out)
{
	ingest g = {.v = v, .key = key, .o = opts};
	memset(out, 0, sizeof *out);
	buf_init(&g.path, 1 << 20);
	if (opts->source) {
		g.ev.source.p = (uint8_t *)opts->source;
		g.ev.source.n = strlen(opts->source);
	}
	if (opts->note) {
		g.ev.note.p = (uint8_t *)opts->note;
		g.ev.note.n = strlen(opts->note);
	}
	int rc = check_custodian(v, key);
	if (rc == 0)
		rc = begin_event(&g);
	if (rc == 0)
		rc = check_source(&g, paths, n, out);
	if (rc == 0 && (!(g.io = malloc(READ_CHUNK + 1)) || !(g.prefix = malloc(CLASSIFY_PREFIX))))
		rc = custos_error_set(CUSTOS_ERROR, "out of memory");
	/* before any thread exists: see isolate.c, "the server" */
	if (rc == 0 && !opts->archives.opaque)
		rc = isolate_server_start(&g.srv);
	pool_ops ops = {worker_ctx_new, worker_ctx_free, job_work, job_done, &g};
	if (rc == 0)
		rc = pool_start(&g.workers, pool_default_workers(), 128, &ops);
	if (rc == 0)
		rc = store_batch_begin(&g.batch, v->store);
	if (rc == 0)
		rc = custody_txn_begin(&g.txn, v->log);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = ingest_input(&g, paths[i]);
	if (g.workers) {
		if (rc == 0)
			rc = pool_finish(g.workers);
		else
			pool_abort(g.workers, job_free);
		g.workers = NULL;
	}
	report_progress(&g, true);
	if (rc == 0)
		rc = finish_event(&g, out);
	out->stored = g.prog.stored;
	out->duplicates = g.prog.duplicates;
	out->refused = g.prog.refused;
	out->bytes = g.prog.bytes;
	out->members = g.members;
	out->containers = g.containers;
	ingest_free(&g);
	return rc;
}
