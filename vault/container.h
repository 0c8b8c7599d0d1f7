/*
 * container — reading one container (zip, 7z, tar, cpio, iso9660, rar, rar5, and
 * single-file gzip, bzip2, xz, zstd, lz4, compress) as a stream of members, by content,
 * with limits, never writing anything to disk (issue 4; INTEROP.md "libarchive").
 *
 * Every member ends with an outcome: "ok" (its bytes were delivered in full), "mismatch"
 * (delivered in full, but they disagree with the size or checksum the container declares), "encrypted",
 * "limit:member-size", "limit:ratio", "limit:expanded", "limit:members", "unsupported" (a
 * member libarchive cannot decode) or "corrupt" (the container broke inside it). A
 * container that breaks between members, or passes limit:members, stops there with
 * container_result.stop naming why; the members read before stay read.
 *
 * Sizes are counted on the bytes actually decoded, never on what headers declare. The
 * expansion ratio is decoded bytes over the compressed bytes consumed so far, checked as
 * the data flows (so a bomb is cut short, not decoded first).
 *
 * Known: a compressed stream of nothing but zeros reads as an empty tar (libarchive takes
 * zero blocks for a tar's end), so it has no members.
 *
 * This is the in-process reader; ingest runs it in a sandboxed child process through
 * container_read_isolated (isolate.h), and recurses into nested containers itself.
 */
#ifndef CUSTOS_CONTAINER_H
#define CUSTOS_CONTAINER_H

#include "common.h"

typedef struct container_limits {
	uint64_t max_members;     /* default 1,000,000 */
	uint64_t max_member_size; /* bytes decoded per member; default 64 GiB */
	uint64_t max_expanded;    /* bytes decoded per container; default 256 GiB */
	uint64_t max_ratio;       /* decoded : consumed; default 1000 */
	uint64_t ratio_floor;     /* the ratio is not judged below this many decoded bytes */
	/* The whole tree read from one input (nested containers included) shares one budget:
	 * tree_used bytes were decoded before this container, and tree_used + what this one
	 * decodes may not pass max_expanded, nor max_ratio times tree_base (the input's size),
	 * so a nest of small bombs (42.zip) is cut as early as one big one. tree_base 0: off. */
	uint64_t tree_base, tree_used;
	/* Passwords tried, in order, on encrypted zip and 7z members (NULL, 0: none). */
	const char *const *passphrases;
	size_t n_passphrases;
} container_limits;

void container_limits_default(container_limits *l);

enum container_member_type {
	MEMBER_FILE,
	MEMBER_DIR,
	MEMBER_SYMLINK,
	MEMBER_HARDLINK,
	MEMBER_CHARDEV,
	MEMBER_BLOCKDEV,
	MEMBER_FIFO,
	MEMBER_SOCKET,
	MEMBER_OTHER,
};

typedef struct container_member {
	uint64_t index;          /* 0, 1, ... in container order */
	const uint8_t *path;     /* as recorded, bytes (not NUL-terminated) */
	size_t path_len;
	int type;                /* enum container_member_type */
	const uint8_t *link;     /* symlink or hardlink target, bytes; NULL otherwise */
	size_t link_len;
	bool has_mtime;
	int64_t mtime;
	uint32_t mode;           /* permission bits as recorded */
	bool encrypted;
} container_member;

typedef struct container_ops {
	/* A member starts; its data (files only) follows through data(), then end(). */
	int (*begin)(const container_member *m, void *ud);
	int (*data)(const uint8_t *p, size_t n, void *ud);
	/* outcome: "ok" or a refusal/failure token as above; detail: human text or NULL */
	int (*end)(const container_member *m, const char *outcome, const char *detail, void *ud);
	void *ud;
} container_ops;

typedef struct container_result {
	char format[64];     /* libarchive's format name, e.g. "ZIP 2.0 (deflation)" */
	uint64_t members;    /* members reported */
	uint64_t expanded;   /* bytes decoded */
	uint64_t consumed;   /* bytes of the container read */
	const char *stop;    /* NULL (read to the end), "corrupt", "limit:members", ... */
	char detail[256];
} container_result;

/* Read the container that fills the file fd (from offset 0). Returns 0 when the container
 * was read (its outcomes and stop reason in *out and through ops), CUSTOS_EINVALID when
 * fd is not a container custos opens, or the first error a callback returned. */
int container_read(int fd, const container_limits *l, const container_ops *ops,
		   container_result *out);
/* The same over bytes in memory (fuzzing, tests). */
int container_read_memory(const uint8_t *p, size_t n, const container_limits *l,
			  const container_ops *ops, container_result *out);

#endif
