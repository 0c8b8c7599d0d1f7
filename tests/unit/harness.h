/*
 * harness.h — a minimal unit-test harness in the spirit of Monocypher's tests/test.c:
 * known-answer checks plus properties, a failure count, and a temp directory per run.
 */
#ifndef CUSTOS_TEST_HARNESS_H
#define CUSTOS_TEST_HARNESS_H

#include "common.h"

#include <stdio.h>

extern int test_failures;
extern int test_checks;

#define CHECK(cond)                                                                           \
	do {                                                                                  \
		test_checks++;                                                                \
		if (!(cond)) {                                                                \
			test_failures++;                                                      \
			fprintf(stderr, "%s:%d: CHECK failed: %s [%s]\n", __FILE__, __LINE__, #cond, \
				custos_error_last());                                         \
		}                                                                             \
	} while (0)

#define CHECK_RC(expr, want)                                                                  \
	do {                                                                                  \
		int rc_ = (expr);                                                             \
		test_checks++;                                                                \
		if (rc_ != (want)) {                                                          \
			test_failures++;                                                      \
			fprintf(stderr, "%s:%d: %s returned %d, wanted %d [%s]\n", __FILE__, __LINE__, \
				#expr, rc_, (int)(want), custos_error_last());                \
		}                                                                             \
	} while (0)

/* A fresh temporary directory, removed at exit. */
const char *test_tmpdir(void);
/* Read a file fully (aborts the test on failure). */
uint8_t *test_read(const char *path, size_t *n);
/* Path under the test vectors / spec directories (from the environment). */
char *test_vector_path(const char *rel);
char *test_spec_path(const char *rel);
/* Compare bytes with format-spec/vectors/NAME; CUSTOS_WRITE_VECTORS=1 writes the file
 * instead (for review). */
void test_golden(const char *name, const uint8_t *p, size_t n);
/* The key of the spec vectors: Ed25519 seed bytes 0xC0..0xDF. */
custos_key *test_vector_key(void);
/* Deterministic pseudo-random bytes for property tests. */
void test_random(uint8_t *p, size_t n, uint64_t *state);
int test_finish(const char *name);
void test_init(void);

#endif
