/* test_digest.c — known answers for every digest, and streaming equals one-shot. */
#include "digest.h"
#include "harness.h"

#include <stdlib.h>

static void known_answers(void)
{
	digest d;
	digest_result r;
	char hex[65];
	CHECK_RC(digest_init(&d, CUSTOS_HASH_MD5 | CUSTOS_HASH_SHA1 | CUSTOS_HASH_SHA512 | CUSTOS_HASH_BLAKE2B), 0);
	CHECK_RC(digest_update(&d, "abc", 3), 0);
	CHECK_RC(digest_final(&d, &r), 0);
	digest_free(&d);
	custos_hex(hex, r.sha256, 32);
	CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
	CHECK(strcmp(r.extra_hex[0], "900150983cd24fb0d6963f7d28e17f72") == 0);
	CHECK(strcmp(r.extra_hex[1], "a9993e364706816aba3e25717850c26c9cd0d89d") == 0);
	CHECK(strcmp(r.extra_hex[2], "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
				     "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f") == 0);
	CHECK(strcmp(r.extra_hex[3], "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
				     "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923") == 0);
	CHECK(r.bytes == 3);
	/* The empty input. */
	uint8_t e[32];
	CHECK_RC(sha256_buf(e, "", 0), 0);
	custos_hex(hex, e, 32);
	CHECK(strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0);
}

static void streaming_equals_oneshot(void)
{
	uint64_t st = 42;
	size_t n = 300000;
	uint8_t *data = malloc(n), one[32];
	test_random(data, n, &st);
	sha256_buf(one, data, n);
	for (int round = 0; round < 50; round++) {
		digest d;
		digest_result r;
		digest_init(&d, 0);
		size_t off = 0;
		while (off < n) {
			uint8_t k;
			test_random(&k, 1, &st);
			size_t take = (size_t)k * (size_t)(round + 1);
			if (take > n - off)
				take = n - off;
			digest_update(&d, data + off, take);
			off += take;
		}
		digest_final(&d, &r);
		digest_free(&d);
		CHECK(memcmp(r.sha256, one, 32) == 0);
		CHECK(r.bytes == n);
	}
	free(data);
}

static void alg_lists(void)
{
	unsigned a = 0;
	CHECK_RC(custos_hash_algs_parse(&a, "md5,sha1,sha512,blake2b"), 0);
	CHECK(a == 15);
	CHECK_RC(custos_hash_algs_parse(&a, "sha1"), 0);
	CHECK(a == CUSTOS_HASH_SHA1);
	CHECK_RC(custos_hash_algs_parse(&a, "sha3"), CUSTOS_EINVALID);
	CHECK_RC(custos_hash_algs_parse(&a, "md5,,sha1"), CUSTOS_EINVALID);
}

int main(void)
{
	test_init();
	known_answers();
	streaming_equals_oneshot();
	alg_lists();
	return test_finish("digest");
}
