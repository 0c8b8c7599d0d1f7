/*
 * digest.c — see digest.h. One EVP context per algorithm, fed from the same buffer, so an
 * ingest reads every byte exactly once whatever digests were asked for.
 */
#include "digest.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const extra_names[DIGEST_EXTRA_N] = {"md5", "sha1", "sha512", "blake2b"};

const char *digest_extra_name(int i)
{
	return extra_names[i];
}

static const EVP_MD *extra_md(int i)
{
	switch (i) {
	case 0:
		return EVP_md5();
	case 1:
		return EVP_sha1();
	case 2:
		return EVP_sha512();
	default:
		return EVP_blake2b512();
	}
}

static EVP_MD_CTX *ctx_new(const EVP_MD *md)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (!c || EVP_DigestInit_ex(c, md, NULL) != 1) {
		EVP_MD_CTX_free(c);
		custos_error_set(CUSTOS_ERROR, "cannot initialise digest %s", EVP_MD_get0_name(md));
		return NULL;
	}
	return c;
}

int digest_init(digest *d, unsigned algs)
{
	memset(d, 0, sizeof *d);
	d->algs = algs;
	d->sha256 = ctx_new(EVP_sha256());
	if (!d->sha256)
		return CUSTOS_ERROR;
	for (int i = 0; i < DIGEST_EXTRA_N; i++) {
		if (!(algs & (1u << i)))
			continue;
		d->extra[i] = ctx_new(extra_md(i));
		if (!d->extra[i]) {
			digest_free(d);
			return CUSTOS_ERROR;
		}
	}
	return 0;
}

int digest_update(digest *d, const void *p, size_t n)
{
	if (EVP_DigestUpdate(d->sha256, p, n) != 1)
		return custos_error_set(CUSTOS_ERROR, "SHA-256 update failed");
	for (int i = 0; i < DIGEST_EXTRA_N; i++)
		if (d->extra[i] && EVP_DigestUpdate(d->extra[i], p, n) != 1)
			return custos_error_set(CUSTOS_ERROR, "%s update failed", extra_names[i]);
	d->bytes += n;
	return 0;
}

int digest_final(digest *d, digest_result *out)
{
	memset(out, 0, sizeof *out);
	unsigned len = 0;
	if (EVP_DigestFinal_ex(d->sha256, out->sha256, &len) != 1 || len != 32)
		return custos_error_set(CUSTOS_ERROR, "SHA-256 final failed");
	for (int i = 0; i < DIGEST_EXTRA_N; i++) {
		if (!d->extra[i])
			continue;
		uint8_t md[EVP_MAX_MD_SIZE];
		if (EVP_DigestFinal_ex(d->extra[i], md, &len) != 1)
			return custos_error_set(CUSTOS_ERROR, "%s final failed", extra_names[i]);
		custos_hex(out->extra_hex[i], md, len);
	}
	out->bytes = d->bytes;
	return 0;
}

void digest_free(digest *d)
{
	EVP_MD_CTX_free(d->sha256);
	for (int i = 0; i < DIGEST_EXTRA_N; i++)
		EVP_MD_CTX_free(d->extra[i]);
	memset(d, 0, sizeof *d);
}

static int oneshot(const EVP_MD *md, uint8_t *out, const void *p, size_t n)
{
	unsigned len = 0;
	if (EVP_Digest(p, n, out, &len, md, NULL) != 1)
		return custos_error_set(CUSTOS_ERROR, "digest failed");
	return 0;
}

int sha256_buf(uint8_t out[32], const void *p, size_t n)
{
	return oneshot(EVP_sha256(), out, p, n);
}

int sha512_buf(uint8_t out[64], const void *p, size_t n)
{
	return oneshot(EVP_sha512(), out, p, n);
}

int blake2b512_buf(uint8_t out[64], const void *p, size_t n)
{
	return oneshot(EVP_blake2b512(), out, p, n);
}

int custos_hash_algs_parse(unsigned *out, const char *list)
{
	unsigned algs = 0;
	const char *s = list;
	while (*s) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		int found = -1;
		for (int i = 0; i < DIGEST_EXTRA_N; i++)
			if (strlen(extra_names[i]) == len && memcmp(extra_names[i], s, len) == 0)
				found = i;
		if (found < 0)
			return custos_error_set(CUSTOS_EINVALID,
						"unknown digest '%.*s' (choose from md5, sha1, sha512, blake2b)",
						(int)len, s);
		algs |= 1u << found;
		s += len;
		if (comma)
			s++;
	}
	*out = algs;
	return 0;
}

int digest_file(const char *path, unsigned algs, digest_result *dr)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return custos_error_errno(errno == ENOENT ? CUSTOS_ENOTFOUND : CUSTOS_ERROR,
					  "cannot open %s", path);
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return custos_error_set(CUSTOS_EINVALID, "%s is not a regular file", path);
	}
	digest d;
	uint8_t *b = malloc(1 << 20);
	int rc = b ? digest_init(&d, algs) : custos_error_set(CUSTOS_ERROR, "out of memory");
	while (rc == 0) {
		ssize_t n = read(fd, b, 1 << 20);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = custos_error_errno(CUSTOS_ERROR, "cannot read %s", path);
		if (n <= 0)
			break;
		rc = digest_update(&d, b, (size_t)n);
	}
	if (rc == 0)
		rc = digest_final(&d, dr);
	if (b)
		digest_free(&d);
	free(b);
	close(fd);
	return rc;
}

int sha256_file(const char *path, uint8_t out[32], uint64_t *size)
{
	digest_result dr;
	int rc = digest_file(path, 0, &dr);
	if (rc == 0) {
		memcpy(out, dr.sha256, 32);
		*size = dr.bytes;
	}
	return rc;
}
