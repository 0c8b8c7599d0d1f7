/*
 * index — derived lookup tables (FS §7): item by SHA-256, item by id, event by sequence
 * number, packed object by SHA-256. Kept as immutable sorted runs of fixed-width entries,
 * searched by binary search and merged geometrically (so lookups stay O(log n) and an
 * append costs amortised O(log n) whatever the vault's size). Everything here can be
 * rebuilt from custody.git and objects/; the STATE file names the custody head the
 * index reflects, so a crash at worst leaves it behind, to be caught up on next open.
 */
#ifndef CUSTOS_INDEX_H
#define CUSTOS_INDEX_H

#include "common.h"
#include "merkle.h"
#include "store.h"

typedef struct vindex vindex;

typedef struct index_item {
	uint8_t sha256[32];
	uint8_t id[CUSTOS_ITEM_ID_LEN];
	uint64_t seq;
} index_item;

typedef struct index_event {
	uint8_t commit[20];
	uint8_t event_sha[32];
	/* The Merkle leaf of the event's first item record (FS §9): its items are the leaves
	 * first_leaf .. first_leaf + n - 1, and the event itself the leaf after them. */
	uint64_t first_leaf;
} index_event;

int index_open(vindex **out, const char *index_dir);
void index_close(vindex *ix);
/* The custody head this index reflects; all zero when empty. */
void index_head(const vindex *ix, uint8_t out[20]);
uint64_t index_event_count(const vindex *ix);
int index_event_get(vindex *ix, uint64_t seq, index_event *out);

/* Items whose SHA-256 (or id) starts with the given lowercase hex prefix; calls fn for
 * each until it returns non-zero. */
typedef int (*index_item_fn)(const index_item *it, void *ud);
int index_items_by_sha(vindex *ix, const char *hexprefix, index_item_fn fn, void *ud);
int index_items_by_id(vindex *ix, const char *hexprefix, index_item_fn fn, void *ud);
/* CUSTOS_ENOTFOUND if sha is not in any pack. */
int index_find_packed(vindex *ix, const uint8_t sha256[32], store_packed *out);
bool index_has_pack(vindex *ix, const uint8_t pack[32]);
uint64_t index_item_count(const vindex *ix);

/* One batch of additions, applied atomically by index_apply. */
typedef struct index_update {
	uint8_t head[20];
	index_event *events; /* appended in order, starting at the current event count */
	size_t n_events;
	index_item *items;
	size_t n_items;
	store_packed *packed;
	size_t n_packed;
	merkle_hash *leaves; /* appended to the Merkle tree, in log order */
	size_t n_leaves;
} index_update;

int index_apply(vindex *ix, const index_update *u);
/* The Merkle tree of the log (index/merkle.dat), read-only, at the size STATE names. */
uint64_t index_leaf_count(const vindex *ix);
int index_merkle_open(vindex *ix, merkle_log **out);
/* Discard everything (before a rebuild). */
int index_reset(vindex *ix);

#endif
