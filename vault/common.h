/*
 * common.h — internal helpers shared by every module of libcustos: error reporting,
 * wiping, growable buffers with hard caps, byte-order helpers.
 */
#ifndef CUSTOS_COMMON_H
#define CUSTOS_COMMON_H

#include "custos.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Set the thread's error message once, where the failure happens; returns code. */
int custos_error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same, appending ": strerror(errno)". */
int custos_error_errno(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefix the current message with more context (e.g. the file name). */
int custos_error_wrap(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void custos_error_clear(void);

/* Corrupt input: records where it was detected, so every fsck finding names its cause. */
#define CUSTOS_CORRUPT(...) custos_error_corrupt(__FILE__, __LINE__, __VA_ARGS__)
int custos_error_corrupt(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define WIPE(p, n) sodium_memzero((p), (n))
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Growable byte buffer with a hard cap: every buffer hostile input can grow is bounded. */
typedef struct buf {
	uint8_t *p;
	size_t n, cap, limit;
	bool failed; /* sticky: once an append failed, the buffer is unusable */
} buf;

#define BUF_LIMIT_DEFAULT ((size_t)1 << 30)
void buf_init(buf *b, size_t limit);
int buf_reserve(buf *b, size_t extra);
int buf_put(buf *b, const void *p, size_t n);
int buf_puts(buf *b, const char *s);
int buf_putc(buf *b, int c);
int buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand the contents over as a NUL-terminated malloc'd string. */
char *buf_steal(buf *b, size_t *len);
void buf_free(buf *b);
/* A buffer that failed reports it once, here. */
int buf_check(const buf *b);

static inline void be32_store(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static inline uint32_t be32_load(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void be64_store(uint8_t *p, uint64_t v)
{
	be32_store(p, (uint32_t)(v >> 32));
	be32_store(p + 4, (uint32_t)v);
}
static inline uint64_t be64_load(const uint8_t *p)
{
	return (uint64_t)be32_load(p) << 32 | be32_load(p + 4);
}
static inline void le64_store(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint64_t le64_load(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}
static inline void le32_store(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint32_t le32_load(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Hex: lowercase on output; strict lowercase-only parsing. */
int hex_decode(uint8_t *out, size_t outlen, const char *hex, size_t hexlen);
bool is_lower_hex(const char *s, size_t n);

/* Base64 (standard alphabet, padded) via libsodium. *out malloc'd, NUL-terminated. */
char *b64_encode(const uint8_t *p, size_t n);
/* Append "<label> <base64(p)>\n" (the buffer fails if encoding does). */
void buf_put_b64_line(buf *b, const char *label, const uint8_t *p, size_t n);
/* A Unicode code point (<= 0x10FFFF) as UTF-8. */
void buf_put_utf8(buf *b, uint32_t c);
int b64_decode(uint8_t *out, size_t outmax, size_t *outlen, const char *s, size_t n);

/* Seconds since the epoch, UTC, now (overridable with CUSTOS_FAKE_TIME for tests). */
int64_t now_utc(void);
int time_parse(int64_t *out, const char *s, size_t n);

/* Parse a decimal u64 strictly: no sign, no leading zeros (except "0"), no overflow. */
int u64_parse(uint64_t *out, const char *s, size_t n);
int i64_parse(int64_t *out, const char *s, size_t n);

void *xcalloc(size_t n, size_t size);
/* Format a problem (FS §8 kinds) and hand it to a caller's on_problem callback, if any. */
void problem_emit(void (*on_problem)(const custos_problem *p, void *ud), void *ud,
		  const char *kind, const char *where, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));
typedef void (*problem_fn)(const custos_problem *p, void *ud);
/* problem_emit, counting the problem in *problems. */
void problem_report(problem_fn on_problem, void *ud, uint64_t *problems, const char *kind,
		    const char *where, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Room for element n of the growable array *(T **)pp of *cap elements of `elem` bytes:
 * when n == *cap, doubles it (starting at `first`). 0, or CUSTOS_ERROR when out of memory. */
int array_grow(void *pp, size_t *cap, size_t n, size_t elem, size_t first);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
