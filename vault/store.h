/*
 * store — the content-addressed, append-only object store (FS §6).
 *
 * An object is named by the SHA-256 of its bytes. Large objects are loose files
 * objects/<2 hex>/<64 hex>; small ones are members of sealed packs
 * objects/packs/<sha256 of the pack>.tar — uncompressed ustar archives whose members are
 * named by their SHA-256, written once and never appended to. Nothing is ever replaced or
 * deleted. Writes are crash-safe and durable in batches: store_batch_finish() makes every
 * object of the batch durable (data and directory entries) before the caller writes the
 * custody commit that acknowledges them.
 */
#ifndef CUSTOS_STORE_H
#define CUSTOS_STORE_H

#include "common.h"

#define STORE_SMALL_MAX ((size_t)1 << 20)   /* objects up to 1 MiB go into packs */
#define STORE_PACK_TARGET ((uint64_t)256 << 20) /* seal a pack once it passes 256 MiB */

typedef struct store store;
typedef struct store_batch store_batch;
typedef struct store_large store_large;

/* Where a packed object lives. */
typedef struct store_packed {
	uint8_t sha256[32];
	uint8_t pack[32];
	uint64_t offset, length;
} store_packed;

int store_open(store **out, const char *vault_dir);
void store_close(store *s);
int store_create_layout(const char *vault_dir);

int store_batch_begin(store_batch **out, store *s);
/* Append a small object (bytes fully in memory) to the batch's open pack. */
int store_batch_add_small(store_batch *b, const uint8_t sha256[32], const uint8_t *p, size_t n);
/* Stream a large object into a temp file, written on a background thread (bgwrite.h)
 * while the caller reads and hashes. Either copy bytes in with store_large_write, or
 * read straight into the writer's buffer: store_large_space gives the room, and
 * store_large_advance hands over what was put there (hash it before handing it over). */
int store_large_begin(store_large **out, store_batch *b);
int store_large_write(store_large *l, const void *p, size_t n);
int store_large_space(store_large *l, uint8_t **p, size_t *room);
int store_large_advance(store_large *l, size_t n);
/* Name the object; *existed is set when the store already had it (the temp is dropped). */
int store_large_commit(store_large *l, const uint8_t sha256[32], bool *existed);
void store_large_abort(store_large *l);
/* Seal the open pack and make everything durable. The packed objects written are
 * returned (caller frees *out with free()). The batch is freed. */
int store_batch_finish(store_batch *b, store_packed **out, size_t *n);
void store_batch_abort(store_batch *b);

/* Loose objects are found by name. */
bool store_has_loose(store *s, const uint8_t sha256[32], uint64_t *size);
/* Open an object for reading: loose when loc == NULL, else inside its pack. */
int store_open_read(store *s, const uint8_t sha256[32], const store_packed *loc, int *fd,
		    uint64_t *offset, uint64_t *length);

/* Check, against the pack itself, that loc names a member holding that object: the pack
 * exists and the member header at loc says this name and size. CUSTOS_ENOTFOUND when the
 * pack is gone, CUSTOS_EINTEGRITY when the member is not there. Used so that fsck and
 * verify never take the derived index's word for what the store holds. */
int store_check_packed(store *s, const store_packed *loc);

/* Visit every member of a pack: name, data offset, length. Used to rebuild the index and by
 * fsck. */
typedef int (*store_member_fn)(const store_packed *m, const char *name, void *ud);
int store_pack_members(store *s, const uint8_t pack[32], store_member_fn fn, void *ud);

/* Every pack file name (sha256), in directory order; *out malloc'd array of 32-byte names. */
int store_list_packs(store *s, uint8_t (**out)[32], size_t *n);
const char *store_dir(const store *s);

#endif
