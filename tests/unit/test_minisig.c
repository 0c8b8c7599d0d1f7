/*
 * test_minisig.c — minisign signatures (INTEROP "minisign", FS §10.1): the spec vector
 * exhibit.minisig (the 9 bytes "%PDF-1.4\n" signed by the vector key, hashed ED mode)
 * byte for byte; what verification accepts and what it must refuse.
 */
#include "digest.h"
#include "harness.h"
#include "keys.h"
#include "minisig.h"

#include <stdlib.h>

#define TC "custos item 00112233445566778899aabbccddeeff vault 00112233445566778899aabbccddeeff"

static void vector_and_roundtrip(void)
{
	custos_key *k = test_vector_key();
	const custos_pubkey *pub = custos_key_public(k);
	uint8_t h[64];
	buf b;
	char *tc = NULL;
	blake2b512_buf(h, "%PDF-1.4\n", 9);
	buf_init(&b, MINISIG_MAX);
	CHECK_RC(minisig_sign(&b, k, h, "custos exhibit: vector", TC), 0);
	test_golden("exhibit.minisig", b.p, b.n);
	CHECK_RC(minisig_verify(pub, b.p, b.n, h, &tc), 0);
	CHECK(tc && strcmp(tc, TC) == 0);
	free(tc);
	/* The public key form minisign reads (vectors/vector-key.minisign.pub). */
	char *mpub = NULL;
	CHECK_RC(custos_pubkey_format(&mpub, pub, CUSTOS_PUB_MINISIGN), 0);
	test_golden("vector-key.minisign.pub", (uint8_t *)mpub, strlen(mpub));
	free(mpub);

	/* Another file, another key, a changed trusted comment: each refused. */
	uint8_t other[64];
	blake2b512_buf(other, "%PDF-1.5\n", 9);
	CHECK_RC(minisig_verify(pub, b.p, b.n, other, NULL), CUSTOS_EINTEGRITY);
	custos_key *k2 = NULL;
	custos_key_generate(&k2);
	CHECK_RC(minisig_verify(custos_key_public(k2), b.p, b.n, h, NULL), CUSTOS_EINTEGRITY);
	char *t = (char *)b.p;
	char *at = strstr(t, "vault 0011");
	at[6] ^= 1; /* inside the trusted comment */
	CHECK_RC(minisig_verify(pub, b.p, b.n, h, NULL), CUSTOS_EINTEGRITY);
	at[6] ^= 1;
	/* Every single-byte change of the signature lines is refused. */
	size_t l1 = (size_t)(strchr(t, '\n') - t) + 1;
	size_t refused = 0, tried = 0;
	for (size_t i = l1; i < b.n; i++) {
		if (t[i] == '\n')
			continue;
		uint8_t save = b.p[i];
		b.p[i] ^= 0x01;
		tried++;
		refused += minisig_verify(pub, b.p, b.n, h, NULL) == CUSTOS_EINTEGRITY;
		b.p[i] = save;
	}
	CHECK(refused == tried);
	/* Forms custos does not write: pure (Ed) mode, comments with a line break. */
	buf_free(&b);
	buf_init(&b, MINISIG_MAX);
	CHECK_RC(minisig_sign(&b, k, h, "two\nlines", TC), CUSTOS_EINVALID);
	CHECK(!minisig_comment_ok("a\rb"));
	CHECK(minisig_comment_ok("tab\tis fine"));
	buf_free(&b);
	custos_key_free(k);
	custos_key_free(k2);
}

static void pure_mode_refused(void)
{
	custos_key *k = test_vector_key();
	uint8_t h[64];
	buf b;
	blake2b512_buf(h, "x", 1);
	buf_init(&b, MINISIG_MAX);
	CHECK_RC(minisig_sign(&b, k, h, "u", "t"), 0);
	char *line = strchr((char *)b.p, '\n') + 1;
	size_t got = 0;
	uint8_t raw[74];
	b64_decode(raw, sizeof raw, &got, line, 100);
	raw[1] = 'd'; /* "Ed": signed without hashing */
	char *enc = b64_encode(raw, sizeof raw);
	memcpy(line, enc, strlen(enc));
	free(enc);
	CHECK_RC(minisig_verify(custos_key_public(k), b.p, b.n, h, NULL), CUSTOS_EINTEGRITY);
	CHECK(strstr(custos_error_last(), "ED") != NULL);
	buf_free(&b);
	custos_key_free(k);
}

int main(void)
{
	test_init();
	vector_and_roundtrip();
	pure_mode_refused();
	return test_finish("minisig");
}
