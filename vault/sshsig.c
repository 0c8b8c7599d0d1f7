/*
 * sshsig.c — see sshsig.h. Byte layout (INTEROP.md, openssh sshsig.c):
 *   signed data = "SSHSIG" || string(ns) || string("") || string(hashalg) || string(H(msg))
 *   blob = "SSHSIG" || u32 1 || string(pubkey) || string(ns) || string("") ||
 *          string(hashalg) || string(string("ssh-ed25519") || string(sig64))
 * armored as base64 wrapped at 70 columns, as ssh-keygen writes it.
 */
#include "sshsig.h"

#include "digest.h"
#include "keys.h"

#include <sodium.h>
#include <stdlib.h>

#define ARMOR_BEGIN "-----BEGIN SSH SIGNATURE-----\n"
#define ARMOR_END "-----END SSH SIGNATURE-----\n"
#define ARMOR_WIDTH 70

static void put_string(buf *b, const void *p, size_t n)
{
	uint8_t len[4];
	be32_store(len, (uint32_t)n);
	buf_put(b, len, 4);
	buf_put(b, p, n);
}

static int hash_message(uint8_t *out, size_t *outlen, const char *alg, const uint8_t *msg, size_t n)
{
	if (strcmp(alg, "sha512") == 0) {
		*outlen = 64;
		return sha512_buf(out, msg, n);
	}
	if (strcmp(alg, "sha256") == 0) {
		*outlen = 32;
		return sha256_buf(out, msg, n);
	}
	return custos_error_set(CUSTOS_EINTEGRITY, "unsupported SSHSIG hash algorithm");
}

static int signed_data_hashed(buf *b, const char *ns, const char *alg, const uint8_t *h,
			      size_t hl)
{
	buf_put(b, "SSHSIG", 6);
	put_string(b, ns, strlen(ns));
	put_string(b, "", 0);
	put_string(b, alg, strlen(alg));
	put_string(b, h, hl);
	return buf_check(b);
}

static int signed_data(buf *b, const char *ns, const char *alg, const uint8_t *msg, size_t n)
{
	uint8_t h[64];
	size_t hl = 0;
	int rc = hash_message(h, &hl, alg, msg, n);
	return rc < 0 ? rc : signed_data_hashed(b, ns, alg, h, hl);
}

int sshsig_sign(char **out, size_t *outlen, const custos_key *key, const char *ns,
		const uint8_t *msg, size_t n)
{
	buf tbs, blob, armor;
	buf_init(&tbs, 4096);
	buf_init(&blob, 4096);
	buf_init(&armor, 8192);
	uint8_t sig[64], pkblob[SSH_ED25519_BLOB_LEN], sigblob[4 + 11 + 4 + 64];
	char *b64 = NULL;
	int rc = signed_data(&tbs, ns, "sha512", msg, n);
	if (rc < 0 || (rc = key_sign(sig, key, tbs.p, tbs.n)) < 0)
		goto done;
	ssh_pubkey_blob(pkblob, custos_key_public(key)->pk);
	be32_store(sigblob, 11);
	memcpy(sigblob + 4, "ssh-ed25519", 11);
	be32_store(sigblob + 15, 64);
	memcpy(sigblob + 19, sig, 64);
	buf_put(&blob, "SSHSIG", 6);
	uint8_t version[4];
	be32_store(version, 1);
	buf_put(&blob, version, 4);
	put_string(&blob, pkblob, sizeof pkblob);
	put_string(&blob, ns, strlen(ns));
	put_string(&blob, "", 0);
	put_string(&blob, "sha512", 6);
	put_string(&blob, sigblob, sizeof sigblob);
	if ((rc = buf_check(&blob)) < 0 || !(b64 = b64_encode(blob.p, blob.n))) {
		rc = CUSTOS_ERROR;
		goto done;
	}
	buf_puts(&armor, ARMOR_BEGIN);
	size_t len = strlen(b64);
	for (size_t i = 0; i < len; i += ARMOR_WIDTH) {
		buf_put(&armor, b64 + i, len - i < ARMOR_WIDTH ? len - i : ARMOR_WIDTH);
		buf_putc(&armor, '\n');
	}
	buf_puts(&armor, ARMOR_END);
	if ((rc = buf_check(&armor)) < 0)
		goto done;
	*out = buf_steal(&armor, outlen);
done:
	free(b64);
	buf_free(&tbs);
	buf_free(&blob);
	buf_free(&armor);
	return rc;
}

/* A bounded reader over an SSH wire blob. */
typedef struct reader {
	const uint8_t *p;
	size_t n;
} reader;

static int read_string(reader *r, const uint8_t **s, size_t *len)
{
	if (r->n < 4)
		return CUSTOS_EINTEGRITY;
	uint32_t l = be32_load(r->p);
	if (l > r->n - 4)
		return CUSTOS_EINTEGRITY;
	*s = r->p + 4;
	*len = l;
	r->p += 4 + l;
	r->n -= 4 + l;
	return 0;
}

static bool string_is(const uint8_t *s, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(s, want, len) == 0;
}

static int dearmor(uint8_t **blob, size_t *bloblen, const char *armor, size_t n)
{
	size_t bl = strlen(ARMOR_BEGIN), el = strlen(ARMOR_END);
	if (n < bl + el || memcmp(armor, ARMOR_BEGIN, bl) != 0)
		return custos_error_set(CUSTOS_EINTEGRITY, "not an SSH signature (no BEGIN line)");
	/* Accept the END line with or without its final newline. */
	size_t endpos = n - el;
	if (memcmp(armor + endpos, ARMOR_END, el) != 0) {
		if (memcmp(armor + n - (el - 1), ARMOR_END, el - 1) != 0)
			return custos_error_set(CUSTOS_EINTEGRITY, "SSH signature has no END line");
		endpos = n - (el - 1);
	}
	buf b64;
	buf_init(&b64, 1 << 16);
	for (size_t i = bl; i < endpos; i++)
		if (armor[i] != '\n')
			buf_putc(&b64, armor[i]);
	int rc = buf_check(&b64);
	*blob = malloc(b64.n + 1);
	if (rc < 0 || !*blob) {
		buf_free(&b64);
		return custos_error_set(CUSTOS_EINTEGRITY, "SSH signature too large");
	}
	if (b64_decode(*blob, b64.n + 1, bloblen, (const char *)b64.p, b64.n) < 0)
		rc = custos_error_set(CUSTOS_EINTEGRITY, "SSH signature armor is not valid base64");
	buf_free(&b64);
	return rc;
}

int sshsig_verify(custos_pubkey *signer, const char *armor, size_t armorlen, const char *ns,
		  const uint8_t *msg, size_t n)
{
	uint8_t h256[32], h512[64];
	int rc = hash_message(h256, &(size_t){0}, "sha256", msg, n);
	if (rc == 0)
		rc = hash_message(h512, &(size_t){0}, "sha512", msg, n);
	return rc < 0 ? rc : sshsig_verify_digest(signer, armor, armorlen, ns, h256, h512);
}

int sshsig_verify_digest(custos_pubkey *signer, const char *armor, size_t armorlen, const char *ns,
			 const uint8_t sha256[32], const uint8_t sha512[64])
{
	uint8_t *blob = NULL;
	size_t bloblen = 0;
	buf tbs;
	buf_init(&tbs, 4096);
	int rc = dearmor(&blob, &bloblen, armor, armorlen);
	if (rc < 0)
		goto done;
	reader r = {blob, bloblen};
	const uint8_t *pk, *sns, *res, *alg, *sig;
	size_t pkl, snsl, resl, algl, sigl;
	rc = CUSTOS_EINTEGRITY;
	if (bloblen < 10 || memcmp(blob, "SSHSIG", 6) != 0 || be32_load(blob + 6) != 1) {
		custos_error_set(rc, "SSH signature has a bad magic or version");
		goto done;
	}
	r.p += 10;
	r.n -= 10;
	if (read_string(&r, &pk, &pkl) < 0 || read_string(&r, &sns, &snsl) < 0 ||
	    read_string(&r, &res, &resl) < 0 || read_string(&r, &alg, &algl) < 0 ||
	    read_string(&r, &sig, &sigl) < 0 || r.n != 0) {
		custos_error_set(rc, "SSH signature blob is malformed");
		goto done;
	}
	uint8_t want[SSH_ED25519_BLOB_LEN];
	if (pkl != SSH_ED25519_BLOB_LEN) {
		custos_error_set(rc, "SSH signature is not by an ssh-ed25519 key");
		goto done;
	}
	ssh_pubkey_blob(want, pk + 19);
	if (memcmp(pk, want, sizeof want) != 0 || !string_is(sns, snsl, ns)) {
		custos_error_set(rc, "SSH signature has the wrong key type or namespace");
		goto done;
	}
	char algname[8] = "";
	if (algl < sizeof algname)
		memcpy(algname, alg, algl);
	reader sr = {sig, sigl};
	const uint8_t *st, *sv;
	size_t stl, svl;
	if (read_string(&sr, &st, &stl) < 0 || !string_is(st, stl, "ssh-ed25519") ||
	    read_string(&sr, &sv, &svl) < 0 || svl != 64 || sr.n != 0) {
		custos_error_set(rc, "SSH signature value is malformed");
		goto done;
	}
	bool is256 = strcmp(algname, "sha256") == 0, is512 = strcmp(algname, "sha512") == 0;
	if (!is256 && !is512) {
		rc = custos_error_set(CUSTOS_EINTEGRITY, "SSH signature uses an unknown hash");
		goto done;
	}
	if ((rc = signed_data_hashed(&tbs, ns, algname, is256 ? sha256 : sha512, is256 ? 32 : 64)) < 0)
		goto done;
	custos_pubkey_from_raw(signer, pk + 19);
	rc = pubkey_verify(signer, sv, tbs.p, tbs.n);
	if (rc < 0)
		custos_error_set(rc, "SSH signature does not verify");
done:
	free(blob);
	buf_free(&tbs);
	return rc;
}
