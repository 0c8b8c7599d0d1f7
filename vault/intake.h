/*
 * intake.h — what the ingest (intake.c) and the container members (unpack.c) share:
 * the state of one ingest and the item jobs that go through the worker pool.
 */
#ifndef CUSTOS_INTAKE_H
#define CUSTOS_INTAKE_H

#include "classify.h"
#include "digest.h"
#include "pool.h"
#include "vault.h"

#include <time.h>

/* An open-addressing set of SHA-256s: the objects this batch already stored. */
typedef struct shaset {
	uint8_t (*keys)[32];
	bool *used;
	size_t cap, n;
} shaset;

typedef struct ingest {
	custos_vault *v;
	const custos_key *key;
	const custos_ingest_opts *o;
	pool *workers;
	uint64_t submitted; /* item jobs queued so far: the next item's position n */
	store_batch *batch;
	custody_txn *txn;
	event ev;
	size_t cap_items, cap_refused;
	index_item *ix;
	merkle_hash *leaves; /* of the item records, then room for the event's */
	size_t n_ix, cap_ix;
	shaset seen;
	uint8_t *io;     /* READ_CHUNK + 1 bytes */
	uint8_t *prefix; /* first CLASSIFY_PREFIX bytes of a large file */
	custos_progress prog;
	struct timespec last_progress;
	buf path; /* the path of the current entry, as bytes */
	/* containers (unpack.c) */
	classifier *cls;              /* this thread's, for records needed at once */
	uint64_t tree_base, tree_used; /* size of the input being unpacked, bytes decoded */
	custos_tally members, containers;
	struct isolate_server *srv; /* starts the sandboxed archive readers (isolate.h) */
} ingest;

/* One input's outcome on its way through the worker pool: an item (classified, encoded and
 * signed on a worker) or a refusal (finished as it is queued). */
typedef struct job {
	const custos_key *key;
	bool refusal;
	custos_record rec; /* name, path, target owned; mime, description, ext_mismatch owned */
	int outcome;
	uint8_t *prefix; /* classification input; NULL when the type is already known */
	size_t prefix_len;
	buf rb, sb; /* record and signature file */
	uint8_t id[16];
	char reason[32];
	char *detail;
	bool ready;           /* the record is encoded and signed already (submit_ready) */
	custos_bytes display; /* a member: "<container path>!/<member path>" for messages */
	char container_hex[33];
} job;

void report_progress(ingest *g, bool force);
/* A record's hashes (sha256, size, --also-hash digests) from what was read. */
void record_set_digest(custos_record *r, const digest_result *dr);
/* What every record of this ingest shares, its position (the next n) and its hashes. */
void record_set_receipt(ingest *g, custos_record *r, const digest_result *dr);
job *job_new(ingest *g);
void job_free(void *p);
int job_work(void *p, void *ctx);
int copy_bytes(custos_bytes *out, const uint8_t *p, size_t n);
/* Store bytes held in memory (at most STORE_SMALL_MAX); *outcome: OUTCOME_STORED or
 * OUTCOME_DUPLICATE. */
int store_small(ingest *g, const uint8_t *p, size_t n, const uint8_t sha[32], int *outcome);
/* Classify, encode, identify and sign the job's record now, on this thread (its id is
 * needed before the pool would get to it: members name it), then hand it to the pool. */
int submit_ready(ingest *g, job *j, uint8_t id[CUSTOS_ITEM_ID_LEN]);
/* The first bytes the worker classifies (copied, capped at CLASSIFY_PREFIX). */
int attach_prefix(job *j, const uint8_t *p, size_t n);

/* unpack.c: does this look like a container (a cheap look at the first bytes, no parser)? */
bool unpack_looks_like_container(const uint8_t *p, size_t n);
/* Open the container item j (already submitted with submit_ready) and ingest its members,
 * recursing into nested containers. Its bytes: p, n when in memory, else (p NULL) its
 * stored object. */
int unpack_input(ingest *g, const job *j, const uint8_t *p);

/* A container whose own bytes are still being hashed and stored (on another thread) while
 * its members are read: their records wait, queued, until resolve() has submitted the
 * container's job and given its id and SHA-256. resolve returns >0 when the container was
 * refused instead (it changed while read): the members are then dropped. */
typedef struct unpack_pending {
	int (*resolve)(void *ud, uint8_t id[CUSTOS_ITEM_ID_LEN], uint8_t sha[32]);
	void *ud;
	uint64_t first_n; /* the position reserved for the container's item */
} unpack_pending;

/* Read the container in the file fd as an input, resolving p on the way. p->resolve is
 * called exactly once unless an error is returned first. */
int unpack_input_pending(ingest *g, int fd, const unpack_pending *p);
void tally_add(custos_tally *t, const char *name);

#endif
