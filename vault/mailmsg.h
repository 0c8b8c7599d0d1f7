/*
 * mailmsg — the header block of an Internet message (RFC 5322) and the MIME header
 * parameters (RFC 2045, 2231, 2047) custos needs, over bytes in memory (issue 6, FS §13).
 *
 * Line ends: stored mail has often lost its CRs, so a line ends at LF, with or without a
 * CR before it (as python3-dkim and most verifiers read files). A header block ends at the
 * first empty line; a first line "From " (an mbox separator left on a lone message) is
 * skipped, as python3-dkim skips it. Every length is bounded by the input's.
 */
#ifndef CUSTOS_MAILMSG_H
#define CUSTOS_MAILMSG_H

#include "common.h"

typedef struct mail_field {
	const uint8_t *name; /* the field name, without the colon */
	size_t name_len;
	const uint8_t *value; /* after the colon, through the last line's end (LF included) */
	size_t value_len;
	const uint8_t *raw; /* the whole field: name through the last line's end */
	size_t raw_len;
} mail_field;

#define MAIL_FIELDS_MAX 4096 /* more fields than this: the header is refused */

typedef struct mail_header {
	mail_field *f;
	size_t n;
	size_t body_off; /* where the body starts (after the empty line), or the input's length */
	bool has_body;   /* an empty line was found */
} mail_header;

/* Parse the header block of p[0..n). 0 on success; CUSTOS_EINVALID when a line is neither
 * a field, a continuation nor the end (no field at all is not an error). Free with
 * mail_header_free. */
int mail_header_parse(const uint8_t *p, size_t n, mail_header *h);
void mail_header_free(mail_header *h);

/* The last (bottom-most) field named name (case-insensitive), or NULL; nth_from_bottom 0
 * is the last, 1 the one above it, ... */
const mail_field *mail_header_find(const mail_header *h, const char *name, size_t nth_from_bottom);
size_t mail_header_count(const mail_header *h, const char *name);

/* Whether the bytes start like a message: a well-formed header block (within n, which may
 * cut it) with a From: field and one of Date, Subject, Message-ID, To, Received,
 * Return-Path, MIME-Version, DKIM-Signature. */
bool mail_looks_like_message(const uint8_t *p, size_t n);

/* A parsed Content-Type or Content-Disposition value. type is lower-case ("text/plain",
 * "attachment"); the parameters are looked up with mail_param. */
typedef struct mail_ctype {
	char type[128];
	const uint8_t *params; /* the rest of the value, after the type */
	size_t params_len;
} mail_ctype;

void mail_ctype_parse(const uint8_t *v, size_t n, mail_ctype *ct);
/* The parameter attr (lower-case) of a parsed value, decoded: RFC 2231 extended and
 * continued values are percent-decoded and joined, RFC 2047 encoded-words in a plain value
 * decoded; the charset is not converted (bytes kept). 1 when found, 0 when not. */
int mail_param(const mail_ctype *ct, const char *attr, buf *out);

/* Unfold: the value with its line ends removed (continuation lines joined). */
int mail_unfold(const uint8_t *v, size_t n, buf *out);

/* The line starting at p[off] ends at *next (after its LF, or at n); its content (without
 * CR LF) is p[off..*end). */
void mail_line(const uint8_t *p, size_t n, size_t off, size_t *end, size_t *next);

/* One base64 or hex digit's value, or -1. */
int mail_b64_value(uint8_t c);
int mail_hex_value(uint8_t c);

bool mail_name_is(const uint8_t *name, size_t n, const char *want);

#endif
