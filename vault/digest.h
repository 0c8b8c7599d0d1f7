/*
 * digest — streaming SHA-256 (libcrypto EVP, which uses SHA-NI where the CPU has it),
 * plus the legacy digests forensic reports cite (MD5, SHA-1, SHA-512, BLAKE2b-512),
 * all computed in the same pass over the bytes.
 */
#ifndef CUSTOS_DIGEST_H
#define CUSTOS_DIGEST_H

#include "common.h"

#define DIGEST_EXTRA_N 4 /* md5, sha1, sha512, blake2b: the order of enum custos_hash_alg */

typedef struct digest {
	void *sha256;                 /* EVP_MD_CTX */
	void *extra[DIGEST_EXTRA_N];  /* EVP_MD_CTX or NULL */
	unsigned algs;
	uint64_t bytes;
} digest;

typedef struct digest_result {
	uint8_t sha256[32];
	char extra_hex[DIGEST_EXTRA_N][129]; /* "" when not computed */
	uint64_t bytes;
} digest_result;

int digest_init(digest *d, unsigned algs);
int digest_update(digest *d, const void *p, size_t n);
int digest_final(digest *d, digest_result *out);
void digest_free(digest *d);

int sha256_buf(uint8_t out[32], const void *p, size_t n);
int sha512_buf(uint8_t out[64], const void *p, size_t n);
/* BLAKE2b-512 without a key: what minisign signs in its hashed mode. */
int blake2b512_buf(uint8_t out[64], const void *p, size_t n);
/* SHA-256 and size of a regular file. */
/* Hash a regular file with SHA-256 and `algs`. */
int digest_file(const char *path, unsigned algs, digest_result *dr);
int sha256_file(const char *path, uint8_t out[32], uint64_t *size);
/* Parse "md5,sha1,sha512,blake2b" into enum custos_hash_alg bits. */
int custos_hash_algs_parse(unsigned *out, const char *list);
const char *digest_extra_name(int i);

#endif
