/*
 * vault — a vault directory (FS §1): the VAULT marker, the object store, the custody log
 * and the derived index, opened together. Writers hold an exclusive lock on the vault
 * directory; the index is brought up to date with the custody log on every open.
 */
#ifndef CUSTOS_VAULT_H
#define CUSTOS_VAULT_H

#include "common.h"
#include "custody.h"
#include "digest.h"
#include "index.h"
#include "record.h"
#include "store.h"

struct custos_vault {
	char *dir;
	custos_vault_info info;
	bool writable;
	int lock_fd;
	store *store;
	vindex *index;
	custody *log;
	/* A replica (FS §11.4): is_replica, its REPLICA file; empty until the first import
	 * brings the origin's init event (then the VAULT marker is written). */
	bool is_replica;
	bool empty;
	/* The event read last by vault_load_item (an item's outcome is in its event: an
	 * export of many items of one large ingest would parse that event once per item). */
	struct {
		bool valid;
		uint8_t commit[20];
		event ev;
	} last_event;
	struct {
		custos_pubkey of, custodian;
		int64_t created;
	} replica;
};

/* Load the item with this id, received by event seq. */
int vault_load_item(custos_vault *v, const uint8_t id[CUSTOS_ITEM_ID_LEN], uint64_t seq,
		    custos_item **out);
/* Read and parse the event of a commit. */
int vault_read_event(custos_vault *v, const uint8_t commit[20], event *ev, custody_commit *cc);
/* Call fn with the record and signature bytes of each item an event lists, in order. */
typedef int (*vault_record_fn)(const event *ev, size_t i, const uint8_t *rec, size_t rn,
			       const uint8_t *sig, size_t sn, void *ud);
int vault_event_records(custos_vault *v, const uint8_t commit[20], const event *ev,
			vault_record_fn fn, void *ud);
/* Read an item's stored bytes through fn, hashing them with SHA-256 and `algs` (digest.h)
 * on the way; CUSTOS_EINTEGRITY (after the last call) when they do not match the record. */
typedef int (*vault_bytes_fn)(const uint8_t *p, size_t n, void *ud);
int vault_item_stream(custos_vault *v, const custos_item *item, unsigned algs, vault_bytes_fn fn,
		      void *ud, digest_result *dr);
/* The same for an object named by its SHA-256 and size. */
int vault_object_stream(custos_vault *v, const uint8_t sha256[32], uint64_t size, unsigned algs,
			vault_bytes_fn fn, void *ud, digest_result *dr);
/* Bring the index up to date with custody.git (and with packs it does not know). */
int vault_sync_index(custos_vault *v, bool full_rebuild);
/* Where an object is: *loose set when it is a loose file; else *packed filled in. */
int vault_locate(custos_vault *v, const uint8_t sha256[32], bool *loose, store_packed *packed,
		 uint64_t *size);
/* Parse a VAULT marker (FS §1.2); exposed for the fuzz target. */
int vault_marker_parse(custos_vault_info *info, const uint8_t *text, size_t n);
/* Fill in the common fields of the next event (vault, seq, prev, time, custodian, action);
 * refuses a clock behind the last event. */
int vault_event_begin(custos_vault *v, const custos_key *key, event *ev, const char *action);
/* Sign and commit an event, and add it to the index. t: the transaction holding the
 * event's item records (taken over, committed or aborted), or NULL for an event without
 * items; items: their index additions, or NULL — its leaves (the item records') must have
 * room for one more, the event's own. head (may be NULL) gets the new commit. */
int vault_commit_event(custos_vault *v, const custos_key *key, const event *ev,
		       const char *summary, custody_txn *t, index_update *items, uint8_t head[20]);
/* Check the custody log as it ends in `head` (objects staged for an import included), from
 * its first event, as fsck does (FS §8), with `trust` as the custodian key. Objects are
 * looked up through probe; the derived index is not consulted. Problems are counted in
 * *problems and reported through on_problem. */
typedef bool (*object_probe_fn)(const uint8_t sha256[32], uint64_t size, void *ud);
int vault_check_history(custos_vault *v, const uint8_t head[20], const custos_pubkey *trust,
			object_probe_fn probe, void *probe_ud, problem_fn on_problem, void *ud,
			uint64_t *problems);
/* Write the VAULT marker of v->info (mode 0444, never replacing one). */
int vault_write_marker(custos_vault *v);
/* Record the new head after a commit. */
void vault_set_head(custos_vault *v, const uint8_t head[20], uint64_t events);

#endif
