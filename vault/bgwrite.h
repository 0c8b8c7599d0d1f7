/*
 * bgwrite — write one file sequentially on a background thread.
 *
 * Ingesting a large file is read + hash + write + fsync. Done in sequence on one thread the
 * wall time is their sum; here the caller reads and hashes straight into a ring of buffers
 * and a writer thread drains them, so the wall time approaches the slower of the two.
 * Buffers are page-aligned and the file is switched to O_DIRECT where the file system
 * allows it: the bytes go from our buffer to the device without being copied into the page
 * cache (the copy that dominates `write()` on the VMs this runs on), and the final fsync
 * has no dirty pages left to flush. Where O_DIRECT is refused, or for a last partial block,
 * plain buffered writes are used; the result is the same file either way.
 *
 * Runs of zeros (a whole buffer) become holes, so sparse input stays sparse.
 * Errors on the writer thread are sticky and reported by the next call on the caller's
 * thread, with the file name and the cause.
 */
#ifndef CUSTOS_BGWRITE_H
#define CUSTOS_BGWRITE_H

#include "common.h"

typedef struct bgwrite bgwrite;

/* Start writing fd (positioned at 0, open for writing) in the background; path is for
 * messages. The caller keeps ownership of fd. */
int bgwrite_start(bgwrite **out, int fd, const char *path);
/* The free part of the current buffer (*room > 0). May wait for the writer. */
int bgwrite_space(bgwrite *w, uint8_t **p, size_t *room);
/* The caller filled n bytes (n <= room) of the space it was given. */
int bgwrite_advance(bgwrite *w, size_t n);
/* Write whatever is left, wait for the writer and free it: the first error, if any.
 * *size is the length of the file (holes included). Does not fsync. */
int bgwrite_finish(bgwrite *w, uint64_t *size);
/* Stop the writer, discarding what is queued, and free it. */
void bgwrite_cancel(bgwrite *w);

#endif
