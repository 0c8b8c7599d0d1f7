/*
 * minisig.c — see minisig.h.
 */
#include "minisig.h"

#include "keys.h"

#include <stdlib.h>

#define UNTRUSTED "untrusted comment: "
#define TRUSTED "trusted comment: "

bool minisig_comment_ok(const char *c)
{
	size_t n = strlen(c);
	if (n > MINISIG_COMMENT_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)c[i];
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return false;
	}
	return true;
}

int minisig_sign(buf *out, const custos_key *key, const uint8_t blake2b[64],
		 const char *untrusted, const char *trusted)
{
	if (!minisig_comment_ok(untrusted) || !minisig_comment_ok(trusted))
		return custos_error_set(CUSTOS_EINVALID, "a minisign comment must be one printable line");
	uint8_t sigline[74], global[64];
	size_t tn = strlen(trusted);
	uint8_t *msg = malloc(64 + tn);
	if (!msg)
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	memcpy(sigline, "ED", 2);
	memcpy(sigline + 2, custos_key_public(key)->id, 8);
	int rc = key_sign(sigline + 10, key, blake2b, 64);
	/* The global signature binds the trusted comment to the file signature. */
	memcpy(msg, sigline + 10, 64);
	memcpy(msg + 64, trusted, tn);
	if (rc == 0)
		rc = key_sign(global, key, msg, 64 + tn);
	free(msg);
	if (rc < 0)
		return rc;
	buf_printf(out, UNTRUSTED "%s\n", untrusted);
	char *a = b64_encode(sigline, sizeof sigline), *g = b64_encode(global, sizeof global);
	if (a && g)
		buf_printf(out, "%s\n" TRUSTED "%s\n%s\n", a, trusted, g);
	else
		rc = custos_error_set(CUSTOS_ERROR, "out of memory");
	free(a);
	free(g);
	return rc < 0 ? rc : buf_check(out);
}

/* The next line of [*p, end) without its LF; NULL when there is no complete line. */
static const char *next_line(const char **p, const char *end, size_t *len)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	if (!nl)
		return NULL;
	const char *line = *p;
	*len = (size_t)(nl - line);
	*p = nl + 1;
	return line;
}

int minisig_verify(const custos_pubkey *pub, const uint8_t *sig, size_t n,
		   const uint8_t blake2b[64], char **trusted)
{
	return minisig_verify_keynum(pub, pub->id, sig, n, blake2b, trusted);
}

int minisig_verify_keynum(const custos_pubkey *pub, const uint8_t keynum[8], const uint8_t *sig,
			  size_t n, const uint8_t blake2b[64], char **trusted)
{
	const char *p = (const char *)sig, *end = p + n;
	const char *l[4];
	size_t ll[4], got = 0;
	uint8_t sigline[74], global[64];
	if (trusted)
		*trusted = NULL;
	if (n > MINISIG_MAX)
		return custos_error_set(CUSTOS_EINTEGRITY, "too large for a minisign signature");
	for (int i = 0; i < 4; i++)
		if (!(l[i] = next_line(&p, end, &ll[i])))
			return custos_error_set(CUSTOS_EINTEGRITY, "not a minisign signature (4 lines)");
	if (p != end || ll[0] < strlen(UNTRUSTED) || memcmp(l[0], UNTRUSTED, strlen(UNTRUSTED)) != 0 ||
	    ll[2] < strlen(TRUSTED) || memcmp(l[2], TRUSTED, strlen(TRUSTED)) != 0)
		return custos_error_set(CUSTOS_EINTEGRITY, "not a minisign signature (comment lines)");
	if (b64_decode(sigline, sizeof sigline, &got, l[1], ll[1]) < 0 || got != sizeof sigline)
		return custos_error_set(CUSTOS_EINTEGRITY, "malformed signature line");
	if (memcmp(sigline, "ED", 2) != 0)
		return custos_error_set(CUSTOS_EINTEGRITY,
					"not a hashed (ED) minisign signature; custos writes only those");
	if (memcmp(sigline + 2, keynum, 8) != 0)
		return custos_error_set(CUSTOS_EINTEGRITY, "signed by another key than the trusted one");
	if (b64_decode(global, sizeof global, &got, l[3], ll[3]) < 0 || got != sizeof global)
		return custos_error_set(CUSTOS_EINTEGRITY, "malformed global signature line");
	if (pubkey_verify(pub, sigline + 10, blake2b, 64) < 0)
		return custos_error_set(CUSTOS_EINTEGRITY, "the signature does not match the file");
	const char *tc = l[2] + strlen(TRUSTED);
	size_t tn = ll[2] - strlen(TRUSTED);
	uint8_t *msg = malloc(64 + tn + 1);
	if (!msg)
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	memcpy(msg, sigline + 10, 64);
	memcpy(msg + 64, tc, tn);
	int rc = pubkey_verify(pub, global, msg, 64 + tn);
	if (rc < 0)
		rc = custos_error_set(CUSTOS_EINTEGRITY, "the trusted comment's signature does not verify");
	else if (trusted && !(*trusted = xstrndup(tc, tn)))
		rc = CUSTOS_ERROR;
	free(msg);
	return rc;
}
