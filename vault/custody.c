/*
 * custody.c — see custody.h. Commit layout: FS §5.1; signature: INTEROP.md "Git commits
 * signed with SSH keys".
 */
#include "custody.h"

#include "keys.h"
#include "sshsig.h"

#include <git2.h>
#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct custody {
	git_repository *repo;
	git_odb *odb;
	git_odb_backend *mempack; /* writes land here until a commit dumps them as one pack */
	/* The items tree of the commit read last: an export or a proof of many items of one
	 * large ingest would otherwise inflate its tree (tens of thousands of entries) once per
	 * item. */
	pthread_mutex_t cache_mu;
	struct custody_items *cached;
	uint8_t cached_commit[20];
};

/*
 * The records and signatures of a large ingest are packed while the ingest goes on: they
 * are collected in chunks, and a background thread with a repository handle of its own
 * writes each full chunk as a git pack (deflate, index, fsync). The commit then writes
 * only the trees, the event and the commit itself; without this, packing every blob at
 * the end was a serial tail of a second per 30,000 items. Small commits never start the
 * thread: their blobs go into the commit's own pack.
 */
#define CHUNK_BYTES ((size_t)4 << 20) /* blob bytes per background pack */
#define CHUNKS_QUEUED 2               /* full chunks waiting: bounds memory */

/* $CUSTOS_PACK_CHUNK (bytes, at least 1024) overrides CHUNK_BYTES: the crash tests use a
 * small one so that a small ingest goes through the background packs. */
static size_t chunk_bytes(void)
{
	static size_t v;
	if (!v) {
		const char *e = getenv("CUSTOS_PACK_CHUNK");
		uint64_t n = 0;
		v = e && u64_parse(&n, e, strlen(e)) == 0 && n >= 1024 && n <= CHUNK_BYTES ? n
											   : CHUNK_BYTES;
	}
	return v;
}

typedef struct blob_ref {
	git_oid oid;
	size_t off, len;
} blob_ref;

typedef struct chunk {
	blob_ref *blobs;
	size_t n, cap;
	buf data;
	struct chunk *next;
} chunk;

typedef struct packer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	chunk *head, *tail;
	size_t queued;
	bool closing;
	int rc;
	char msg[512];
	git_repository *repo;
	git_odb *odb;
	git_odb_backend *mempack;
} packer;

struct custody_txn {
	custody *c;
	git_treebuilder *items;
	size_t n_items;
	chunk *cur;
	packer *pk;      /* NULL until the first full chunk */
	git_oid *staged; /* the objects of the commit's own pack, in the mempack */
	size_t n_staged, cap_staged;
};

static int stage(custody_txn *t, const git_oid *oid)
{
	if (array_grow(&t->staged, &t->cap_staged, t->n_staged, sizeof *t->staged, 16) < 0)
		return CUSTOS_ERROR;
	t->staged[t->n_staged++] = *oid;
	return 0;
}

static int git_fail(int code, const char *what)
{
	const git_error *e = git_error_last();
	return custos_error_set(code, "%s: %s", what, e && e->message ? e->message : "libgit2 error");
}

/*
 * A custody pack holds records and signatures: small texts that share no long runs, where
 * libgit2's delta search finds nothing (the same pack size with and without it, 30,000
 * items) yet costs ~7% of an ingest's CPU. libgit2 1.5 has no switch for it, but its
 * packbuilder leaves out of the search every object above a size threshold, which it reads
 * from pack.deltaCacheSize (a libgit2 quirk: the key meant is pack.bigFileThreshold, set
 * too so that a libgit2 that reads the right key still skips). Only speed depends on it.
 */
static int no_delta_search(git_repository *repo)
{
	git_config *cfg = NULL;
	int rc = 0;
	if (git_repository_config(&cfg, repo) < 0 ||
	    git_config_set_int64(cfg, "pack.deltaCacheSize", 1) < 0 ||
	    git_config_set_int64(cfg, "pack.bigFileThreshold", 1) < 0)
		rc = git_fail(CUSTOS_ERROR, "cannot configure the custody log");
	git_config_free(cfg);
	return rc;
}

int custody_create(const char *gitdir)
{
	git_repository *repo = NULL;
	git_repository_init_options opts;
	git_repository_init_options_init(&opts, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	opts.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_NO_REINIT |
		     GIT_REPOSITORY_INIT_MKPATH;
	opts.initial_head = "main";
	opts.description = "custos custody log\n";
	if (git_repository_init_ext(&repo, gitdir, &opts) < 0)
		return git_fail(CUSTOS_ERROR, "cannot create the custody log");
	int rc = no_delta_search(repo);
	git_repository_free(repo);
	return rc;
}

int custody_open(custody **out, const char *gitdir, bool writable)
{
	custody *c = xcalloc(1, sizeof *c);
	if (!c)
		return CUSTOS_ERROR;
	pthread_mutex_init(&c->cache_mu, NULL);
	int rc = 0;
	if (git_repository_open_bare(&c->repo, gitdir) < 0) {
		rc = git_fail(CUSTOS_EINTEGRITY, "cannot open the custody log");
		goto fail;
	}
	if (git_repository_odb(&c->odb, c->repo) < 0) {
		rc = git_fail(CUSTOS_ERROR, "cannot open the custody object database");
		goto fail;
	}
	if (writable) {
		if (git_mempack_new(&c->mempack) < 0 ||
		    git_odb_add_backend(c->odb, c->mempack, 999) < 0) {
			rc = git_fail(CUSTOS_ERROR, "cannot set up the in-memory pack");
			goto fail;
		}
	}
	*out = c;
	return 0;
fail:
	custody_close(c);
	return rc;
}

void custody_close(custody *c)
{
	if (!c)
		return;
	custody_items_close(c->cached);
	pthread_mutex_destroy(&c->cache_mu);
	git_odb_free(c->odb); /* the odb owns the mempack backend */
	git_repository_free(c->repo);
	free(c);
}

int custody_head(custody *c, uint8_t oid[20])
{
	return custody_head_of(c, CUSTODY_REF, oid);
}

int custody_head_of(custody *c, const char *refname, uint8_t oid[20])
{
	git_oid id;
	int r = git_reference_name_to_id(&id, c->repo, refname);
	if (r == GIT_ENOTFOUND)
		return custos_error_set(CUSTOS_ENOTFOUND, "the custody log has no events");
	if (r < 0)
		return git_fail(CUSTOS_EINTEGRITY, "cannot read the custody log head");
	memcpy(oid, id.id, 20);
	return 0;
}

/* ------------------------------------------------------------ writing */

int custody_txn_begin(custody_txn **out, custody *c)
{
	custody_txn *t = xcalloc(1, sizeof *t);
	if (!t)
		return CUSTOS_ERROR;
	t->c = c;
	if (!c->mempack || git_treebuilder_new(&t->items, c->repo, NULL) < 0) {
		free(t);
		return c->mempack ? git_fail(CUSTOS_ERROR, "cannot start a tree")
				  : custos_error_set(CUSTOS_ERROR, "custody log opened read-only");
	}
	*out = t;
	return 0;
}

/* Blobs go straight into the in-memory pack. git_blob_create_from_buffer would first ask
 * every backend whether the object exists and "freshen" it on disk — a stat, a utime and a
 * rescan of the pack directory per blob, which dominated ingest time for many small files. */
static int add_blob(custody_txn *t, git_treebuilder *tb, const char *name, const uint8_t *p,
		    size_t n)
{
	git_oid oid;
	if (git_odb_hash(&oid, p, n, GIT_OBJECT_BLOB) < 0 ||
	    t->c->mempack->write(t->c->mempack, &oid, p, n, GIT_OBJECT_BLOB) < 0 ||
	    git_treebuilder_insert(NULL, tb, name, &oid, GIT_FILEMODE_BLOB) < 0)
		return git_fail(CUSTOS_ERROR, "cannot add to the custody tree");
	return stage(t, &oid);
}

/* ------------------------------------------------------------ the background packer */

static void chunk_free(chunk *k)
{
	if (!k)
		return;
	free(k->blobs);
	buf_free(&k->data);
	free(k);
}

static chunk *chunk_new(void)
{
	chunk *k = xcalloc(1, sizeof *k);
	if (k)
		buf_init(&k->data, 2 * CHUNK_BYTES); /* a chunk ends past CHUNK_BYTES by one record at most */
	return k;
}

/* Write the given objects (each alone: nothing they reference) as one pack into the odb
 * of repo, fsync'd by libgit2 when GIT_OPT_ENABLE_FSYNC_GITDIR is on. The objects must be
 * readable through that odb (they are in its mempack). */
static int write_pack(git_repository *repo, git_odb *odb, const git_oid *oids, size_t n)
{
	git_packbuilder *pb = NULL;
	git_buf pack = GIT_BUF_INIT;
	git_odb_writepack *wp = NULL;
	git_indexer_progress st = {0};
	int rc = 0;
	if (git_packbuilder_new(&pb, repo) < 0)
		return git_fail(CUSTOS_ERROR, "cannot start a custody pack");
	git_packbuilder_set_threads(pb, 1);
	for (size_t i = 0; i < n && rc == 0; i++)
		if (git_packbuilder_insert(pb, &oids[i], NULL) < 0)
			rc = git_fail(CUSTOS_ERROR, "cannot add to a custody pack");
	if (rc == 0 && (git_packbuilder_write_buf(&pack, pb) < 0 ||
			git_odb_write_pack(&wp, odb, NULL, NULL) < 0 ||
			wp->append(wp, pack.ptr, pack.size, &st) < 0 || wp->commit(wp, &st) < 0))
		rc = git_fail(CUSTOS_ERROR, "cannot write a custody pack");
	if (wp)
		wp->free(wp);
	git_buf_dispose(&pack);
	git_packbuilder_free(pb);
	return rc;
}

/* Write a chunk's blobs as one pack through the packer's own repository and mempack. */
static int pack_chunk(git_repository *repo, git_odb *odb, git_odb_backend *mp, const chunk *k)
{
	git_oid *oids = malloc((k->n ? k->n : 1) * sizeof *oids);
	int rc = oids ? 0 : custos_error_set(CUSTOS_ERROR, "out of memory");
	for (size_t i = 0; i < k->n && rc == 0; i++) {
		oids[i] = k->blobs[i].oid;
		if (mp->write(mp, &oids[i], k->data.p + k->blobs[i].off, k->blobs[i].len,
			      GIT_OBJECT_BLOB) < 0)
			rc = git_fail(CUSTOS_ERROR, "cannot stage a custody blob");
	}
	if (rc == 0)
		rc = write_pack(repo, odb, oids, k->n);
	git_mempack_reset(mp);
	free(oids);
	return rc;
}

static void *packer_main(void *arg)
{
	packer *pk = arg;
	pthread_mutex_lock(&pk->mu);
	for (;;) {
		while (!pk->head && !pk->closing)
			pthread_cond_wait(&pk->cv, &pk->mu);
		chunk *k = pk->head;
		if (!k)
			break;
		pthread_mutex_unlock(&pk->mu);
		int rc = pk->rc == 0 ? pack_chunk(pk->repo, pk->odb, pk->mempack, k) : 0;
		pthread_mutex_lock(&pk->mu);
		if (rc < 0 && pk->rc == 0) {
			pk->rc = rc;
			snprintf(pk->msg, sizeof pk->msg, "%s", custos_error_last());
		}
		pk->head = k->next;
		if (!pk->head)
			pk->tail = NULL;
		pk->queued--;
		chunk_free(k);
		pthread_cond_broadcast(&pk->cv);
	}
	pthread_mutex_unlock(&pk->mu);
	return NULL;
}

static void packer_free(packer *pk)
{
	git_odb_free(pk->odb); /* the odb owns the mempack backend */
	git_repository_free(pk->repo);
	pthread_mutex_destroy(&pk->mu);
	pthread_cond_destroy(&pk->cv);
	free(pk);
}

static int packer_start(packer **out, custody *c)
{
	packer *pk = xcalloc(1, sizeof *pk);
	if (!pk)
		return CUSTOS_ERROR;
	const char *gitdir = git_repository_path(c->repo);
	int rc = 0;
	if (git_repository_open_bare(&pk->repo, gitdir) < 0 ||
	    git_repository_odb(&pk->odb, pk->repo) < 0 || git_mempack_new(&pk->mempack) < 0)
		rc = git_fail(CUSTOS_ERROR, "cannot open the custody log for packing");
	else if (git_odb_add_backend(pk->odb, pk->mempack, 999) < 0) {
		rc = git_fail(CUSTOS_ERROR, "cannot open the custody log for packing");
		pk->mempack->free(pk->mempack); /* not the odb's yet */
	}
	pthread_mutex_init(&pk->mu, NULL);
	pthread_cond_init(&pk->cv, NULL);
	if (rc == 0 && pthread_create(&pk->thread, NULL, packer_main, pk) != 0)
		rc = custos_error_set(CUSTOS_ERROR, "cannot start the packing thread");
	if (rc < 0) {
		packer_free(pk);
		return rc;
	}
	*out = pk;
	return 0;
}

/* Queue a full chunk, waiting while CHUNKS_QUEUED are already waiting. */
static int packer_push(packer *pk, chunk *k)
{
	pthread_mutex_lock(&pk->mu);
	while (pk->queued >= CHUNKS_QUEUED && pk->rc == 0)
		pthread_cond_wait(&pk->cv, &pk->mu);
	int rc = pk->rc;
	if (rc == 0) {
		if (pk->tail)
			pk->tail->next = k;
		else
			pk->head = k;
		pk->tail = k;
		pk->queued++;
		pthread_cond_broadcast(&pk->cv);
	}
	pthread_mutex_unlock(&pk->mu);
	if (rc < 0) {
		chunk_free(k);
		return custos_error_set(rc, "%s", pk->msg);
	}
	return 0;
}

/* Wait for every queued chunk to be packed (or dropped after an error) and stop. */
static int packer_stop(packer *pk)
{
	if (!pk)
		return 0;
	pthread_mutex_lock(&pk->mu);
	pk->closing = true;
	pthread_cond_broadcast(&pk->cv);
	pthread_mutex_unlock(&pk->mu);
	pthread_join(pk->thread, NULL);
	int rc = pk->rc < 0 ? custos_error_set(pk->rc, "%s", pk->msg) : 0;
	packer_free(pk);
	return rc;
}

/* A blob of the items tree: into the current chunk, and the chunk to the packer when full. */
static int add_item_blob(custody_txn *t, const char *name, const uint8_t *p, size_t n)
{
	if (!t->cur && !(t->cur = chunk_new()))
		return CUSTOS_ERROR;
	chunk *k = t->cur;
	if (array_grow(&k->blobs, &k->cap, k->n, sizeof *k->blobs, 4096) < 0)
		return CUSTOS_ERROR;
	blob_ref *b = &k->blobs[k->n];
	b->off = k->data.n;
	b->len = n;
	if (git_odb_hash(&b->oid, p, n, GIT_OBJECT_BLOB) < 0 ||
	    git_treebuilder_insert(NULL, t->items, name, &b->oid, GIT_FILEMODE_BLOB) < 0)
		return git_fail(CUSTOS_ERROR, "cannot add to the custody tree");
	if (buf_put(&k->data, p, n) < 0)
		return buf_check(&k->data);
	k->n++;
	if (k->data.n < chunk_bytes())
		return 0;
	int rc = t->pk ? 0 : packer_start(&t->pk, t->c);
	t->cur = NULL;
	return rc == 0 ? packer_push(t->pk, k) : (chunk_free(k), rc);
}

/* Before the commit: the last chunk to the packer if it runs, else into the commit's own
 * pack. The caller waits for the packer (packer_stop) before it writes the commit's pack. */
static int hand_over_item_blobs(custody_txn *t)
{
	chunk *k = t->cur;
	t->cur = NULL;
	int rc = 0;
	if (k && t->pk)
		rc = packer_push(t->pk, k);
	else if (k)
		for (size_t i = 0; i < k->n && rc == 0; i++)
			rc = t->c->mempack->write(t->c->mempack, &k->blobs[i].oid,
						  k->data.p + k->blobs[i].off, k->blobs[i].len,
						  GIT_OBJECT_BLOB) < 0
				     ? git_fail(CUSTOS_ERROR, "cannot stage a custody blob")
				     : stage(t, &k->blobs[i].oid);
	if (k && !t->pk)
		chunk_free(k);
	return rc;
}

int custody_txn_add_item(custody_txn *t, const char id_hex[33], const uint8_t *rec, size_t rn,
			 const uint8_t *sig, size_t sn)
{
	char name[40];
	snprintf(name, sizeof name, "%s.sig", id_hex);
	int rc = add_item_blob(t, id_hex, rec, rn);
	if (rc == 0)
		rc = add_item_blob(t, name, sig, sn);
	if (rc == 0)
		t->n_items++;
	return rc;
}

static int build_root(custody_txn *t, git_oid *root, const uint8_t *ev, size_t evn,
		      const uint8_t *evsig, size_t evsn)
{
	git_treebuilder *tb = NULL;
	git_oid items;
	int rc = 0;
	if (git_treebuilder_new(&tb, t->c->repo, NULL) < 0)
		return git_fail(CUSTOS_ERROR, "cannot start a tree");
	if ((rc = add_blob(t, tb, "EVENT", ev, evn)) < 0 ||
	    (rc = add_blob(t, tb, "EVENT.sig", evsig, evsn)) < 0)
		goto done;
	if (t->n_items) {
		if (git_treebuilder_write(&items, t->items) < 0 ||
		    git_treebuilder_insert(NULL, tb, "items", &items, GIT_FILEMODE_TREE) < 0) {
			rc = git_fail(CUSTOS_ERROR, "cannot write the items tree");
			goto done;
		}
		if ((rc = stage(t, &items)) < 0)
			goto done;
	}
	if (git_treebuilder_write(root, tb) < 0)
		rc = git_fail(CUSTOS_ERROR, "cannot write the event tree");
	else
		rc = stage(t, root);
done:
	git_treebuilder_free(tb);
	return rc;
}

static int signed_commit(custody_txn *t, git_oid *out, const custos_key *key, const git_oid *root,
			 const char *message, int64_t time, const uint8_t *parent)
{
	git_repository *repo = t->c->repo;
	git_signature *who = NULL;
	git_tree *tree = NULL;
	git_commit *par = NULL;
	git_buf content = GIT_BUF_INIT;
	char *armor = NULL, name[64], principal[64], id[17];
	size_t armorlen = 0;
	int rc = 0;
	custos_keyid_hex(id, custos_key_public(key)->id);
	custos_principal(principal, custos_key_public(key));
	snprintf(name, sizeof name, "custos custodian %s", id);
	if (git_signature_new(&who, name, principal, (git_time_t)time, 0) < 0 ||
	    git_tree_lookup(&tree, repo, root) < 0) {
		rc = git_fail(CUSTOS_ERROR, "cannot prepare the commit");
		goto done;
	}
	if (parent) {
		git_oid pid;
		memcpy(pid.id, parent, 20);
		if (git_commit_lookup(&par, repo, &pid) < 0) {
			rc = git_fail(CUSTOS_EINTEGRITY, "cannot read the previous commit");
			goto done;
		}
	}
	const git_commit *parents[1] = {par};
	if (git_commit_create_buffer(&content, repo, who, who, NULL, message, tree, par ? 1 : 0,
				     parents) < 0) {
		rc = git_fail(CUSTOS_ERROR, "cannot create the commit");
		goto done;
	}
	if ((rc = sshsig_sign(&armor, &armorlen, key, "git", (const uint8_t *)content.ptr,
			      content.size)) < 0)
		goto done;
	/* libgit2 adds its own line break after the header value: drop the armor's last one. */
	armor[armorlen - 1] = '\0';
	if (git_commit_create_with_signature(out, repo, content.ptr, armor, NULL) < 0)
		rc = git_fail(CUSTOS_ERROR, "cannot write the signed commit");
done:
	free(armor);
	git_buf_dispose(&content);
	git_commit_free(par);
	git_tree_free(tree);
	git_signature_free(who);
	return rc;
}

/* The commit's own objects — the event, its trees, the commit, and the item blobs when
 * no background pack took them — as one pack. Not git_mempack_dump: it walks the commit's
 * tree and would pack every item blob again, the background packs' too. */
static int flush_staged(custody_txn *t)
{
	int rc = write_pack(t->c->repo, t->c->odb, t->staged, t->n_staged);
	if (rc == 0)
		git_mempack_reset(t->c->mempack);
	return rc;
}

int custody_txn_commit(custody_txn *t, const custos_key *key, const uint8_t *ev, size_t evn,
		       const uint8_t *evsig, size_t evsn, const char *message, int64_t time,
		       const uint8_t *parent, uint8_t out[20])
{
	return custody_txn_commit_to(t, CUSTODY_REF, key, ev, evn, evsig, evsn, message, time,
				     parent, out);
}

/* Move ref from parent (NULL: create it) to commit, as a compare-and-swap. */
static int move_ref(git_repository *repo, const char *refname, const uint8_t *parent,
		    const git_oid *commit)
{
	git_reference *ref = NULL;
	int r;
	if (parent) {
		git_oid pid;
		memcpy(pid.id, parent, 20);
		r = git_reference_create_matching(&ref, repo, refname, commit, 1, &pid, "custos event");
	} else {
		r = git_reference_create(&ref, repo, refname, commit, 0, "custos init");
	}
	git_reference_free(ref);
	return r < 0 ? git_fail(CUSTOS_ELOCKED, "cannot move the custody log head (changed meanwhile?)")
		     : 0;
}

int custody_txn_commit_to(custody_txn *t, const char *refname, const custos_key *key,
			  const uint8_t *ev, size_t evn, const uint8_t *evsig, size_t evsn,
			  const char *message, int64_t time, const uint8_t *parent, uint8_t out[20])
{
	git_oid root, commit;
	/* The trees and the commit are built while the packer writes the last chunk; every
	 * blob pack is durable before the commit's own pack, and both before the branch moves. */
	int rc = hand_over_item_blobs(t);
	if (rc == 0)
		rc = build_root(t, &root, ev, evn, evsig, evsn);
	if (rc == 0)
		rc = signed_commit(t, &commit, key, &root, message, time, parent);
	if (rc == 0)
		rc = stage(t, &commit);
	int prc = packer_stop(t->pk);
	t->pk = NULL;
	if (rc == 0)
		rc = prc;
	if (rc == 0)
		rc = flush_staged(t);
	if (rc == 0)
		rc = move_ref(t->c->repo, refname, parent, &commit);
	if (rc == 0)
		memcpy(out, commit.id, 20);
	custody_txn_abort(t);
	return rc;
}

void custody_txn_abort(custody_txn *t)
{
	if (!t)
		return;
	/* Packs already written hold blobs no commit names: harmless, like after a crash. */
	packer_stop(t->pk);
	chunk_free(t->cur);
	free(t->staged);
	git_treebuilder_free(t->items);
	/* Staged objects of a commit that did not happen must not go out with the next one. */
	git_mempack_reset(t->c->mempack);
	free(t);
}

/* ------------------------------------------------------------ reading */

/* A blob named `name` directly in `tree`. */
static int read_blob(git_repository *repo, const git_tree *tree, const char *name, uint8_t **p,
		     size_t *n)
{
	git_blob *blob = NULL;
	*p = NULL;
	*n = 0;
	const git_tree_entry *e = git_tree_entry_byname(tree, name);
	if (!e)
		return custos_error_set(CUSTOS_ENOTFOUND, "%s is missing from the custody tree", name);
	int rc = 0;
	if (git_tree_entry_type(e) != GIT_OBJECT_BLOB || git_tree_entry_filemode(e) != GIT_FILEMODE_BLOB)
		rc = CUSTOS_CORRUPT("%s in the custody tree is not a plain file", name);
	else if (git_blob_lookup(&blob, repo, git_tree_entry_id(e)) < 0)
		rc = git_fail(CUSTOS_EINTEGRITY, name);
	if (rc == 0) {
		size_t len = (size_t)git_blob_rawsize(blob);
		*p = malloc(len + 1);
		if (!*p) {
			rc = custos_error_set(CUSTOS_ERROR, "out of memory");
		} else {
			memcpy(*p, git_blob_rawcontent(blob), len);
			(*p)[len] = '\0';
			*n = len;
		}
	}
	git_blob_free(blob);
	return rc;
}

static int push_extra(custody_commit *cc, const char *name)
{
	char **p = realloc(cc->extra, (cc->n_extra + 1) * sizeof *p);
	if (!p)
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	cc->extra = p;
	if (!(p[cc->n_extra] = xstrdup(name)))
		return CUSTOS_ERROR;
	cc->n_extra++;
	return 0;
}

/* FS §5.1: the root holds EVENT, EVENT.sig and optionally items/ with only blobs in it. */
static int check_tree_shape(git_repository *repo, const git_tree *root, custody_commit *cc)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < git_tree_entrycount(root); i++) {
		const git_tree_entry *e = git_tree_entry_byindex(root, i);
		const char *name = git_tree_entry_name(e);
		if (strcmp(name, "items") == 0 && git_tree_entry_type(e) == GIT_OBJECT_TREE) {
			git_tree *items = NULL;
			if (git_tree_lookup(&items, repo, git_tree_entry_id(e)) < 0)
				return git_fail(CUSTOS_EINTEGRITY, "cannot read the items tree");
			cc->n_item_entries = git_tree_entrycount(items);
			for (size_t j = 0; rc == 0 && j < cc->n_item_entries; j++) {
				const git_tree_entry *ie = git_tree_entry_byindex(items, j);
				if (git_tree_entry_filemode(ie) != GIT_FILEMODE_BLOB) {
					char nm[300];
					snprintf(nm, sizeof nm, "items/%s", git_tree_entry_name(ie));
					rc = push_extra(cc, nm);
				}
			}
			git_tree_free(items);
		} else if (strcmp(name, "EVENT") != 0 && strcmp(name, "EVENT.sig") != 0) {
			rc = push_extra(cc, name);
		}
	}
	return rc;
}

/* Append the line [line, nl) (nl may be end) and, when there is one, its LF. */
static void put_line(buf *b, const uint8_t *line, const uint8_t *nl, const uint8_t *end)
{
	buf_put(b, line, (size_t)((nl ? nl + 1 : end) - line));
}

int commit_split_signature(const uint8_t *p, size_t n, buf *sig, buf *data, bool *found)
{
	const uint8_t *end = p + n, *line = p;
	bool in_sig = false;
	*found = false;
	while (line < end) {
		const uint8_t *nl = memchr(line, '\n', (size_t)(end - line));
		const uint8_t *stop = nl ? nl : end, *next = nl ? nl + 1 : end;
		if (line[0] == '\n') { /* the blank line: the message follows, kept whole */
			buf_put(data, line, (size_t)(end - line));
			break;
		}
		if (in_sig && line[0] == ' ') { /* a continuation of the signature */
			buf_putc(sig, '\n');
			buf_put(sig, line + 1, (size_t)(stop - line - 1));
		} else if (!*found && (size_t)(stop - line) >= 7 && memcmp(line, "gpgsig ", 7) == 0) {
			*found = in_sig = true;
			buf_put(sig, line + 7, (size_t)(stop - line - 7));
		} else {
			in_sig = false;
			put_line(data, line, nl, end);
		}
		line = next;
	}
	int rc = buf_check(sig);
	return rc < 0 ? rc : buf_check(data);
}

/* The SSH signature and the data it signs. Not git_commit_extract_signature: it reads the
 * commit body as a C string, past the end of objects that a mempack holds (libgit2 1.5),
 * which is where an import's commits are checked. */
static int read_signature(git_odb *odb, custody_commit *cc)
{
	git_odb_object *o = NULL;
	git_oid oid;
	buf sig, data;
	bool found = false;
	memcpy(oid.id, cc->oid, 20);
	if (git_odb_read(&o, odb, &oid) < 0)
		return git_fail(CUSTOS_EINTEGRITY, "cannot read the commit");
	buf_init(&sig, BUF_LIMIT_DEFAULT);
	buf_init(&data, BUF_LIMIT_DEFAULT);
	int rc = commit_split_signature(git_odb_object_data(o), git_odb_object_size(o), &sig, &data,
					&found);
	git_odb_object_free(o);
	if (rc == 0 && found) {
		buf_putc(&sig, '\0');
		buf_putc(&data, '\0');
		cc->gpgsig = buf_steal(&sig, &cc->gpgsig_len);
		cc->signed_data = (uint8_t *)buf_steal(&data, &cc->signed_len);
		cc->gpgsig_len--;
		cc->signed_len--;
		return cc->gpgsig && cc->signed_data ? 0 : CUSTOS_ERROR;
	}
	buf_free(&sig);
	buf_free(&data);
	return rc;
}

int custody_read_commit(custody *c, const uint8_t oid[20], custody_commit *out)
{
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	git_oid id;
	memset(out, 0, sizeof *out);
	memcpy(out->oid, oid, 20);
	memcpy(id.id, oid, 20);
	char hex[41];
	custos_hex(hex, oid, 20);
	int rc = 0;
	if (git_commit_lookup(&commit, c->repo, &id) < 0 || git_commit_tree(&tree, commit) < 0) {
		rc = git_fail(CUSTOS_EINTEGRITY, "cannot read custody commit");
		custos_error_wrap(rc, "commit %s", hex);
		goto done;
	}
	out->n_parents = git_commit_parentcount(commit);
	if (out->n_parents > 0)
		memcpy(out->parent, git_commit_parent_id(commit, 0)->id, 20);
	out->time = (int64_t)git_commit_time(commit);
	if ((rc = read_blob(c->repo, tree, "EVENT", &out->event, &out->event_len)) < 0 ||
	    (rc = read_blob(c->repo, tree, "EVENT.sig", &out->event_sig, &out->event_sig_len)) < 0 ||
	    (rc = check_tree_shape(c->repo, tree, out)) < 0 || (rc = read_signature(c->odb, out)) < 0) {
		custos_error_wrap(rc, "commit %s", hex);
		goto done;
	}
done:
	git_tree_free(tree);
	git_commit_free(commit);
	if (rc < 0)
		custody_commit_clear(out);
	return rc;
}

void custody_commit_clear(custody_commit *cc)
{
	free(cc->event);
	free(cc->event_sig);
	free(cc->gpgsig);
	free(cc->signed_data);
	for (size_t i = 0; i < cc->n_extra; i++)
		free(cc->extra[i]);
	free(cc->extra);
	memset(cc, 0, sizeof *cc);
}

struct custody_items {
	custody *c;
	git_tree *items; /* the commit's items/ tree, or NULL when it has none */
};

int custody_items_open(custody_items **out, custody *c, const uint8_t commit[20])
{
	git_commit *cm = NULL;
	git_tree *root = NULL;
	git_oid id;
	custody_items *t = xcalloc(1, sizeof *t);
	if (!t)
		return CUSTOS_ERROR;
	t->c = c;
	memcpy(id.id, commit, 20);
	int rc = 0;
	if (git_commit_lookup(&cm, c->repo, &id) < 0 || git_commit_tree(&root, cm) < 0) {
		rc = git_fail(CUSTOS_EINTEGRITY, "cannot read custody commit");
	} else {
		const git_tree_entry *e = git_tree_entry_byname(root, "items");
		if (e && git_tree_entry_type(e) == GIT_OBJECT_TREE &&
		    git_tree_lookup(&t->items, c->repo, git_tree_entry_id(e)) < 0)
			rc = git_fail(CUSTOS_EINTEGRITY, "cannot read the items tree");
	}
	git_tree_free(root);
	git_commit_free(cm);
	if (rc < 0) {
		custody_items_close(t);
		return rc;
	}
	*out = t;
	return 0;
}

int custody_items_read(custody_items *t, const char id_hex[33], uint8_t **rec, size_t *rn,
		       uint8_t **sig, size_t *sn)
{
	char name[40];
	*rec = *sig = NULL;
	if (!t->items)
		return custos_error_set(CUSTOS_ENOTFOUND, "items/%s is missing from the custody tree",
					id_hex);
	int rc = read_blob(t->c->repo, t->items, id_hex, rec, rn);
	if (rc == 0) {
		snprintf(name, sizeof name, "%s.sig", id_hex);
		rc = read_blob(t->c->repo, t->items, name, sig, sn);
	}
	if (rc < 0) {
		free(*rec);
		*rec = NULL;
		custos_error_wrap(rc, "item %s", id_hex);
	}
	return rc;
}

void custody_items_close(custody_items *t)
{
	if (!t)
		return;
	git_tree_free(t->items);
	free(t);
}

int custody_read_item(custody *c, const uint8_t commit[20], const char id_hex[33], uint8_t **rec,
		      size_t *rn, uint8_t **sig, size_t *sn)
{
	int rc = 0;
	pthread_mutex_lock(&c->cache_mu);
	if (!c->cached || memcmp(c->cached_commit, commit, 20) != 0) {
		custody_items_close(c->cached);
		c->cached = NULL;
		rc = custody_items_open(&c->cached, c, commit);
		if (rc == 0)
			memcpy(c->cached_commit, commit, 20);
	}
	if (rc == 0)
		rc = custody_items_read(c->cached, id_hex, rec, rn, sig, sn);
	pthread_mutex_unlock(&c->cache_mu);
	return rc;
}

/* Collect first-parent ancestry from head back to stop (or the root). */
static int collect(custody *c, const uint8_t head[20], const uint8_t *stop, uint8_t (**out)[20],
		   size_t *n, bool *found_stop)
{
	size_t cap = 0;
	git_oid cur;
	memcpy(cur.id, head, 20);
	*out = NULL;
	*n = 0;
	*found_stop = false;
	for (;;) {
		if (stop && memcmp(cur.id, stop, 20) == 0) {
			*found_stop = true;
			return 0;
		}
		git_commit *cm = NULL;
		if (git_commit_lookup(&cm, c->repo, &cur) < 0) {
			char hex[41];
			custos_hex(hex, cur.id, 20);
			int rc = git_fail(CUSTOS_EINTEGRITY, "cannot read custody commit");
			return custos_error_wrap(rc, "commit %s", hex);
		}
		unsigned np = git_commit_parentcount(cm);
		git_oid parent = {{0}};
		if (np == 1)
			parent = *git_commit_parent_id(cm, 0);
		git_commit_free(cm);
		if (np > 1)
			return CUSTOS_CORRUPT("custody commit has %u parents; the log is linear", np);
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			uint8_t(*p)[20] = realloc(*out, cap * 20);
			if (!p)
				return custos_error_set(CUSTOS_ERROR, "out of memory");
			*out = p;
		}
		memcpy((*out)[(*n)++], cur.id, 20);
		if (np == 0)
			return 0;
		cur = parent;
	}
}

static int visit_reverse(uint8_t (*list)[20], size_t n, custody_commit_fn fn, void *ud)
{
	for (size_t i = n; i-- > 0;) {
		int rc = fn(list[i], ud);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int custody_walk(custody *c, const uint8_t head[20], custody_commit_fn fn, void *ud)
{
	uint8_t(*list)[20] = NULL;
	size_t n = 0;
	bool found;
	int rc = collect(c, head, NULL, &list, &n, &found);
	if (rc == 0)
		rc = visit_reverse(list, n, fn, ud);
	free(list);
	return rc;
}

int custody_walk_since(custody *c, const uint8_t head[20], const uint8_t stop[20],
		       custody_commit_fn fn, void *ud)
{
	uint8_t(*list)[20] = NULL;
	size_t n = 0;
	bool found = false;
	int rc = collect(c, head, stop, &list, &n, &found);
	if (rc == 0 && !found)
		rc = custos_error_set(CUSTOS_ENOTFOUND, "index head is not an ancestor of the log head");
	if (rc == 0)
		rc = visit_reverse(list, n, fn, ud);
	free(list);
	return rc;
}

static int first_cb(const uint8_t oid[20], void *ud)
{
	memcpy(ud, oid, 20);
	return 1;
}

int custody_first(custody *c, const uint8_t head[20], uint8_t out[20])
{
	int rc = custody_walk(c, head, first_cb, out);
	return rc == 1 ? 0 : rc < 0 ? rc : custos_error_set(CUSTOS_EINTEGRITY, "an empty history");
}

int custody_commit_time(custody *c, const uint8_t oid[20], int64_t *out)
{
	git_commit *cm = NULL;
	git_oid id;
	memcpy(id.id, oid, 20);
	if (git_commit_lookup(&cm, c->repo, &id) < 0)
		return git_fail(CUSTOS_EINTEGRITY, "cannot read custody commit");
	*out = (int64_t)git_commit_time(cm);
	git_commit_free(cm);
	return 0;
}

/* ------------------------------------------------------------ staging an import */

static int stage_raw(custody *c, const uint8_t *p, size_t n, git_object_t type, uint8_t oid[20])
{
	git_oid id;
	if (!c->mempack)
		return custos_error_set(CUSTOS_ERROR, "custody log opened read-only");
	if (git_odb_hash(&id, p, n, type) < 0 || c->mempack->write(c->mempack, &id, p, n, type) < 0)
		return git_fail(CUSTOS_ERROR, "cannot stage an object");
	memcpy(oid, id.id, 20);
	return 0;
}

int custody_stage_blob(custody *c, const uint8_t *p, size_t n, uint8_t oid[20])
{
	return stage_raw(c, p, n, GIT_OBJECT_BLOB, oid);
}

int custody_stage_commit(custody *c, const uint8_t *p, size_t n, uint8_t oid[20])
{
	return stage_raw(c, p, n, GIT_OBJECT_COMMIT, oid);
}

static int insert_entry(git_treebuilder *tb, const char *name, const uint8_t oid[20],
			git_filemode_t mode)
{
	git_oid id;
	memcpy(id.id, oid, 20);
	return git_treebuilder_insert(NULL, tb, name, &id, mode) < 0
		       ? git_fail(CUSTOS_EINTEGRITY, "cannot build a custody tree")
		       : 0;
}

int custody_stage_tree(custody *c, const uint8_t event[20], const uint8_t event_sig[20],
		       const custody_entry *items, size_t n, uint8_t oid[20])
{
	git_treebuilder *root = NULL, *it = NULL;
	git_oid id;
	int rc = 0;
	if (git_treebuilder_new(&root, c->repo, NULL) < 0 ||
	    (n && git_treebuilder_new(&it, c->repo, NULL) < 0))
		rc = git_fail(CUSTOS_ERROR, "cannot start a tree");
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = insert_entry(it, items[i].name, items[i].oid, GIT_FILEMODE_BLOB);
	if (rc == 0 && n) {
		if (git_treebuilder_write(&id, it) < 0)
			rc = git_fail(CUSTOS_ERROR, "cannot write the items tree");
		else
			rc = insert_entry(root, "items", id.id, GIT_FILEMODE_TREE);
	}
	if (rc == 0)
		rc = insert_entry(root, "EVENT", event, GIT_FILEMODE_BLOB);
	if (rc == 0)
		rc = insert_entry(root, "EVENT.sig", event_sig, GIT_FILEMODE_BLOB);
	if (rc == 0 && git_treebuilder_write(&id, root) < 0)
		rc = git_fail(CUSTOS_ERROR, "cannot write the event tree");
	if (rc == 0)
		memcpy(oid, id.id, 20);
	git_treebuilder_free(it);
	git_treebuilder_free(root);
	return rc;
}

int custody_stage_publish(custody *c, const char *refname, const uint8_t *parent,
			  const uint8_t head[20])
{
	/* Every staged object, reachable from head or not, goes into one pack: a dump of the
	 * mempack is exactly what the import verified. */
	git_buf pack = GIT_BUF_INIT;
	git_odb_writepack *wp = NULL;
	git_indexer_progress st = {0};
	git_oid id;
	int rc = 0;
	if (git_mempack_dump(&pack, c->repo, c->mempack) < 0 ||
	    git_odb_write_pack(&wp, c->odb, NULL, NULL) < 0 ||
	    wp->append(wp, pack.ptr, pack.size, &st) < 0 || wp->commit(wp, &st) < 0)
		rc = git_fail(CUSTOS_ERROR, "cannot write the imported custody pack");
	if (wp)
		wp->free(wp);
	git_buf_dispose(&pack);
	memcpy(id.id, head, 20);
	if (rc == 0)
		rc = move_ref(c->repo, refname, parent, &id);
	git_mempack_reset(c->mempack);
	return rc;
}

void custody_stage_drop(custody *c)
{
	if (c->mempack)
		git_mempack_reset(c->mempack);
}

int custody_raw_commit(custody *c, const uint8_t oid[20], uint8_t **p, size_t *n)
{
	git_odb_object *o = NULL;
	git_oid id;
	memcpy(id.id, oid, 20);
	*p = NULL;
	if (git_odb_read(&o, c->odb, &id) < 0 || git_odb_object_type(o) != GIT_OBJECT_COMMIT) {
		git_odb_object_free(o);
		return git_fail(CUSTOS_EINTEGRITY, "cannot read a custody commit");
	}
	*n = git_odb_object_size(o);
	if ((*p = malloc(*n + 1))) {
		memcpy(*p, git_odb_object_data(o), *n);
		(*p)[*n] = 0;
	}
	git_odb_object_free(o);
	return *p ? 0 : custos_error_set(CUSTOS_ERROR, "out of memory");
}
