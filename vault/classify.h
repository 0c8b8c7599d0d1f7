/*
 * classify — file type detection with libmagic from a bounded prefix of the bytes
 * (never a path: libmagic is not allowed to open, decompress or fork anything), and the
 * extension-versus-type mismatch flag.
 */
#ifndef CUSTOS_CLASSIFY_H
#define CUSTOS_CLASSIFY_H

#include "common.h"

#include <magic.h>

#define CLASSIFY_PREFIX ((size_t)64 << 10)
/* Checks that would make libmagic decompress or look outside the buffer are off. */
#define CLASSIFY_MAGIC_FLAGS (MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR)

typedef struct classifier classifier;

int classify_open(classifier **out);
void classify_close(classifier *c);
/* *mime and *desc are malloc'd. n is capped at CLASSIFY_PREFIX by the caller. */
int classify_buffer(classifier *c, const uint8_t *p, size_t n, char **mime, char **desc);
/* The file's extension (lower-cased, malloc'd) when it names a type that disagrees with the
 * detected MIME type; NULL when it agrees, is unknown, or there is none. */
char *classify_ext_mismatch(const uint8_t *name, size_t n, const char *mime);

#endif
