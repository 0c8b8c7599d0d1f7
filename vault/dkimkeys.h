/*
 * dkimkeys — DKIM key records gathered elsewhere (DNS TXT answers, in dig's answer
 * format) and the vault's key store made of them (issue 6, FS §13.2).
 *
 * A zone line: NAME [TTL] [CLASS] TXT STRING... ; NAME with or without its final dot,
 * STRINGs quoted (RFC 1035 §5.1: \" \\ \DDD) or bare, concatenated. ';' starts a comment
 * outside quotes; empty lines are skipped. Names are kept lower case without the dot.
 */
#ifndef CUSTOS_DKIMKEYS_H
#define CUSTOS_DKIMKEYS_H

#include "dkim.h"

#define DKIMKEYS_FILE_MAX ((size_t)1 << 20)
#define DKIMKEYS_RECORDS_MAX 10000
#define DKIMKEYS_VALUE_MAX ((size_t)16 << 10)

typedef struct dkim_record {
	char *name;      /* lower case, no final dot */
	uint8_t *value;  /* the TXT value, strings joined */
	size_t value_len;
	uint64_t seq;    /* the dkim-key event that stored it (0: not from a vault) */
	char *from;      /* where it was obtained, as stated (may be NULL) */
} dkim_record;

typedef struct dkim_keyset {
	dkim_record *r;
	size_t n;
	char from_text[512]; /* scratch for lookups: "event N: obtained-from ..." */
} dkim_keyset;

/* Parse zone text; on CUSTOS_EINVALID the error names the line. */
int dkim_zone_parse(const uint8_t *p, size_t n, dkim_keyset *ks);
int dkim_keyset_add(dkim_keyset *ks, const char *name, size_t nl, const uint8_t *v, size_t vl,
		    uint64_t seq, const char *from);
void dkim_keyset_free(dkim_keyset *ks);
/* A lookup over the set: the record added last for a name wins. */
dkim_key_lookup dkim_keyset_lookup(dkim_keyset *ks);

#endif
