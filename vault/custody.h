/*
 * custody — the custody log: a bare git repository (custody.git) with one commit per
 * custody event on refs/heads/main (FS §5). Each commit's tree holds the event, its
 * signature, and the records and signatures of the items the event received; each commit
 * is SSH-signed in its gpgsig header so stock `git verify-commit` checks it. A command's
 * objects are written as git packs, never loose objects (item blobs of a large ingest by
 * a background thread as it goes, the rest at the commit), then the branch is moved with
 * a compare-and-swap.
 */
#ifndef CUSTOS_CUSTODY_H
#define CUSTOS_CUSTODY_H

#include "common.h"

#define CUSTODY_REF "refs/heads/main"

typedef struct custody custody;
typedef struct custody_txn custody_txn;

int custody_create(const char *gitdir);
int custody_open(custody **out, const char *gitdir, bool writable);
void custody_close(custody *c);
/* CUSTOS_ENOTFOUND when the log has no commit yet. */
int custody_head(custody *c, uint8_t oid[20]);
int custody_head_of(custody *c, const char *refname, uint8_t oid[20]);

#define CUSTODY_IMPORTS_REF "refs/heads/imports" /* a replica's own log (FS §11.4) */

int custody_txn_begin(custody_txn **out, custody *c);
int custody_txn_add_item(custody_txn *t, const char id_hex[33], const uint8_t *rec, size_t rn,
			 const uint8_t *sig, size_t sn);
/* Write the commit (tree, SSH signature) as a pack and move the branch from `parent`
 * (NULL for the first commit) to it. */
/* The same on another branch (the imports log of a replica, FS §11.4). */
int custody_txn_commit_to(custody_txn *t, const char *refname, const custos_key *key,
			  const uint8_t *ev, size_t evn, const uint8_t *evsig, size_t evsn,
			  const char *message, int64_t time, const uint8_t *parent, uint8_t out[20]);
int custody_txn_commit(custody_txn *t, const custos_key *key, const uint8_t *ev, size_t evn,
		       const uint8_t *evsig, size_t evsn, const char *message, int64_t time,
		       const uint8_t *parent, uint8_t out[20]);
void custody_txn_abort(custody_txn *t);

/* What a commit holds. */
typedef struct custody_commit {
	uint8_t oid[20];
	uint8_t parent[20];
	unsigned n_parents;
	int64_t time;
	uint8_t *event, *event_sig;
	size_t event_len, event_sig_len;
	char *gpgsig;          /* the SSH signature armor, or NULL if unsigned */
	size_t gpgsig_len;
	uint8_t *signed_data;  /* the commit without its gpgsig header */
	size_t signed_len;
	char **extra;          /* tree entries that FS §5.1 does not allow */
	size_t n_extra;
	size_t n_item_entries; /* entries under items/ */
} custody_commit;

int custody_read_commit(custody *c, const uint8_t oid[20], custody_commit *out);
void custody_commit_clear(custody_commit *cc);
/* The items of one commit, opened once and read many times (a commit of a large ingest
 * holds tens of thousands of records; parsing its tree per item would be quadratic). */
typedef struct custody_items custody_items;
int custody_items_open(custody_items **out, custody *c, const uint8_t commit[20]);
int custody_items_read(custody_items *t, const char id_hex[33], uint8_t **rec, size_t *rn,
		       uint8_t **sig, size_t *sn);
void custody_items_close(custody_items *t);

/* The record and signature of one item in a commit's tree. */
int custody_read_item(custody *c, const uint8_t commit[20], const char id_hex[33], uint8_t **rec,
		      size_t *rn, uint8_t **sig, size_t *sn);

/* Every commit from the first to the head, following first parents; fn returns non-zero to
 * stop. Also fails (CUSTOS_EINTEGRITY) on merge commits or a history that does not end in
 * one root. */
typedef int (*custody_commit_fn)(const uint8_t oid[20], void *ud);
int custody_walk(custody *c, const uint8_t head[20], custody_commit_fn fn, void *ud);
/* Walk from `head` back to (excluding) `stop`, then visit oldest first. CUSTOS_ENOTFOUND if
 * `stop` is not an ancestor of head. */
int custody_walk_since(custody *c, const uint8_t head[20], const uint8_t stop[20],
		       custody_commit_fn fn, void *ud);



/*
 * Staging an import (FS §11): objects from a bundle go into the in-memory pack of a log
 * opened for writing, where every reading function above sees them, and reach the disk
 * only when published (one pack, fsync'd, then the branch moved by compare-and-swap).
 * Dropping them leaves the repository as it was.
 */
typedef struct custody_entry {
	char name[40]; /* "<item id>" or "<item id>.sig" */
	uint8_t oid[20];
} custody_entry;
int custody_stage_blob(custody *c, const uint8_t *p, size_t n, uint8_t oid[20]);
/* A commit object's raw bytes (as `git cat-file commit` prints them). */
int custody_stage_commit(custody *c, const uint8_t *p, size_t n, uint8_t oid[20]);
/* The FS §5.1 tree of an event from its staged blobs. */
int custody_stage_tree(custody *c, const uint8_t event[20], const uint8_t event_sig[20],
		       const custody_entry *items, size_t n, uint8_t oid[20]);
int custody_stage_publish(custody *c, const char *refname, const uint8_t *parent,
			  const uint8_t head[20]);
void custody_stage_drop(custody *c);
/* The raw bytes of a commit object (malloc'd, NUL-terminated). */
int custody_raw_commit(custody *c, const uint8_t oid[20], uint8_t **p, size_t *n);

/* Split a raw commit object into the value of its gpgsig header (continuation lines joined,
 * without the leading space) and the commit without that header, which is what the
 * signature signs. *found is false when there is no gpgsig header. Exposed for fuzzing. */
int commit_split_signature(const uint8_t *p, size_t n, buf *sig, buf *data, bool *found);
/* The first commit of the history that ends in head. */
int custody_first(custody *c, const uint8_t head[20], uint8_t out[20]);
/* The committer time of a commit (equal to its event's time for custos commits). */
int custody_commit_time(custody *c, const uint8_t oid[20], int64_t *out);
#endif
