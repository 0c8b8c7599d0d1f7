/*
 * dkim — DKIM signature verification (RFC 6376, RFC 8463) of a message in memory, with
 * keys from custos's offline key store instead of DNS (issue 6, FS §13.3).
 *
 * Verdicts follow python3-dkim's dkim.verify (the interoperability reference, see
 * tests/e2e/dkim.sh) except where the evidence is better served otherwise; each such
 * difference is a documented rule with its own test:
 *   - x= (expiry) before the analysis time: "pass", with expired set (DKIM keys rotate
 *     and leaked mail is old: the check is frozen at intake). python3-dkim fails it.
 *   - an RSA key under 1024 bits: verified, and "pass" when it verifies, with the weakness
 *     named (python3-dkim refuses such keys). rsa-sha1 likewise "pass" and named weak.
 *   - a key whose type (k=) is not the one a= names: "fail" (RFC 6376 §3.6.1).
 * A From field that h= does not cover (more From fields than h= names: the double-From
 * trick) fails, as in python3-dkim; the reason says so and whether the signature itself
 * holds over the From it covers.
 */
#ifndef CUSTOS_DKIM_H
#define CUSTOS_DKIM_H

#include "common.h"
#include "custos.h"

#define DKIM_SIGS_MAX 64      /* DKIM-Signature fields looked at per message */
#define DKIM_VALUE_MAX CUSTOS_DKIM_VALUE_MAX
#define DKIM_MESSAGE_MAX ((size_t)256 << 20)

/* A key record as stored: its DNS name (lower case, no final dot) and TXT value. */
typedef struct dkim_key_lookup {
	/* 1 and *txt (valid until the next call) when name has a record, 0 when not. *from
	 * names where the record came from (for the report), or NULL. */
	int (*find)(void *ud, const char *name, const uint8_t **txt, size_t *n, const char **from);
	void *ud;
} dkim_key_lookup;

/* The report on one signature: custos_dkim_sig (custos.h). */
typedef custos_dkim_sig dkim_sig;

/* Verify every DKIM-Signature of msg and, when arc is not NULL, its ARC chain (RFC 8617
 * §5.2). now: the time judged against (x=, t=). *sigs (malloc'd, *nsigs entries, possibly
 * 0); arc->verdict "none" (no ARC fields), "pass" or "fail" with the reason, and each set's
 * report, newest first (free with dkim_arc_clear). CUSTOS_EINVALID when the header block
 * is not a message header (nothing verified). As python3-dkim for ARC: rsa-sha256 only;
 * an ARC-Message-Signature without c= is relaxed; a seal's cv=fail anywhere fails the
 * chain (python3-dkim calls that a chain "ended"). */
int dkim_verify(const uint8_t *msg, size_t n, const dkim_key_lookup *keys, int64_t now,
		dkim_sig **sigs, size_t *nsigs, custos_arc *arc);
void dkim_arc_clear(custos_arc *a);

/* A tag=value list (RFC 6376 §3.2), as python3-dkim reads it: entries split at ';',
 * names and values stripped of white space. Returns the number of tags (<= max), or
 * CUSTOS_EINVALID (a tag without '=', a bad name, a repeated tag). */
typedef struct dkim_tag {
	const uint8_t *name, *val;
	size_t name_len, val_len;
} dkim_tag;
int dkim_tags_parse(const uint8_t *p, size_t n, dkim_tag *tags, size_t max);

/* A key record's TXT value: its type and bits, or CUSTOS_EINVALID with a reason. The
 * key (EVP_PKEY for rsa, 32 bytes for ed25519) is not kept: this is for reports and
 * `dkim-key add`, which refuses records that cannot be keys. */
int dkim_key_describe(const uint8_t *txt, size_t n, char type[16], unsigned *bits,
		      char *why, size_t whyn);

#endif
