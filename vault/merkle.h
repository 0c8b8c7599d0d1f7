/*
 * merkle — the RFC 9162 (§2.1) Merkle tree over the custody log's leaves: hashing, proof
 * verification (§2.1.3.2 inclusion, §2.1.4.2 consistency) and an append-only store of
 * the tree's complete subtrees from which roots and proofs are computed.
 *
 * The store is one file of 32-byte hashes in post-order: leaf i, then every subtree that
 * leaf completes, smallest first. Appending writes the leaf and O(log n) parents; any
 * complete subtree is one read; the root or a proof of any earlier size reads O(log² n)
 * hashes at most. Memory does not depend on the size of the tree.
 */
#ifndef CUSTOS_MERKLE_H
#define CUSTOS_MERKLE_H

#include "common.h"

#define MERKLE_HASH 32
#define MERKLE_MAX_PROOF 64

typedef uint8_t merkle_hash[MERKLE_HASH];

void merkle_leaf_hash(merkle_hash out, const uint8_t *data, size_t n);
void merkle_node_hash(merkle_hash out, const merkle_hash left, const merkle_hash right);
/* The root of the empty tree: SHA-256 of nothing. */
void merkle_empty_root(merkle_hash out);

/*
 * Proof checks. Hashes are passed with their lengths so that a proof read from outside
 * can be checked as given: any hash that is not 32 bytes fails. 0 when the proof holds,
 * CUSTOS_EINTEGRITY (with the reason in the error message) when it does not.
 */
typedef struct merkle_bytes {
	const uint8_t *p;
	size_t n;
} merkle_bytes;

int merkle_verify_inclusion(uint64_t index, uint64_t size, merkle_bytes leaf,
			    const merkle_bytes *proof, size_t n, merkle_bytes root);
/* Consistency of the tree of size1 with that of size2: size1 must be at least 1 (every
 * tree extends the empty one, so such a proof proves nothing) and at most size2. */
int merkle_verify_consistency(uint64_t size1, uint64_t size2, merkle_bytes root1,
			      merkle_bytes root2, const merkle_bytes *proof, size_t n);

/* A tree's root computed as leaves stream past, in O(log n) memory: the peaks (complete
 * subtrees) of the leaves so far. Used to check a log against checkpoints without
 * trusting any stored tree. */
typedef struct merkle_stream {
	merkle_hash peak[64];
	uint64_t size;
} merkle_stream;

/* Returns how many hashes the push completed (the leaf, then each new parent): the same
 * hashes, in the same order, that the store appends; copied to `emitted` (room for 65)
 * unless it is NULL. */
size_t merkle_stream_push(merkle_stream *s, const merkle_hash leaf, merkle_hash *emitted);
/* MTH of the leaves pushed so far (the empty root for none). */
void merkle_stream_root(const merkle_stream *s, merkle_hash out);

/* ------------------------------------------------------------ the store */

typedef struct merkle_log merkle_log;

/* Open (creating it when writable) the store at path, holding `leaves` leaves. A longer
 * file (an append the caller never acknowledged) is cut back when writable; a shorter
 * one is CUSTOS_EINTEGRITY: the caller rebuilds it. */
int merkle_log_open(merkle_log **out, const char *path, uint64_t leaves, bool writable);
void merkle_log_close(merkle_log *l);
uint64_t merkle_log_size(const merkle_log *l);
int merkle_log_append(merkle_log *l, const merkle_hash leaf);
/* Write what is buffered and fsync. */
int merkle_log_sync(merkle_log *l);

/* The root of the tree of the first `size` leaves (size <= merkle_log_size). */
int merkle_log_root(merkle_log *l, uint64_t size, merkle_hash out);
/* The leaf hash at index. */
int merkle_log_leaf(merkle_log *l, uint64_t index, merkle_hash out);
/* Inclusion proof of leaf `index` in the tree of `size` leaves, and consistency proof from
 * size1 to size2 (1 <= size1 <= size2 <= merkle_log_size). out holds MERKLE_MAX_PROOF
 * hashes; *n is set to the number used. */
int merkle_log_inclusion(merkle_log *l, uint64_t index, uint64_t size,
			 merkle_hash out[MERKLE_MAX_PROOF], size_t *n);
int merkle_log_consistency(merkle_log *l, uint64_t size1, uint64_t size2,
			   merkle_hash out[MERKLE_MAX_PROOF], size_t *n);

#endif
