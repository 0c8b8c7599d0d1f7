/*
 * harness.c — see harness.h.
 */
#include "harness.h"

#include "keys.h"

#include <stdlib.h>
#include <string.h>

int test_failures;
int test_checks;
static char tmpdir[256];

static void cleanup(void)
{
	if (tmpdir[0]) {
		char cmd[300];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
}

void test_init(void)
{
	if (custos_global_init() < 0) {
		fprintf(stderr, "init failed: %s\n", custos_error_last());
		exit(1);
	}
}

const char *test_tmpdir(void)
{
	if (!tmpdir[0]) {
		const char *base = getenv("TMPDIR");
		snprintf(tmpdir, sizeof tmpdir, "%s/custos-unit-XXXXXX", base ? base : "/tmp");
		if (!mkdtemp(tmpdir)) {
			perror("mkdtemp");
			exit(1);
		}
		atexit(cleanup);
	}
	return tmpdir;
}

uint8_t *test_read(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		exit(1);
	}
	buf b;
	buf_init(&b, 0);
	char chunk[4096];
	size_t r;
	while ((r = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_put(&b, chunk, r);
	fclose(f);
	return (uint8_t *)buf_steal(&b, n);
}

static char *env_path(const char *var, const char *rel)
{
	const char *base = getenv(var);
	if (!base) {
		fprintf(stderr, "%s is not set\n", var);
		exit(1);
	}
	size_t n = strlen(base) + strlen(rel) + 2;
	char *p = malloc(n);
	snprintf(p, n, "%s/%s", base, rel);
	return p;
}

char *test_vector_path(const char *rel)
{
	return env_path("CUSTOS_TESTVECTORS", rel);
}

char *test_spec_path(const char *rel)
{
	return env_path("CUSTOS_SPEC", rel);
}

void test_golden(const char *name, const uint8_t *p, size_t n)
{
	char rel[128];
	snprintf(rel, sizeof rel, "vectors/%s", name);
	char *path = test_spec_path(rel);
	if (getenv("CUSTOS_WRITE_VECTORS")) {
		FILE *f = fopen(path, "wb");
		fwrite(p, 1, n, f);
		fclose(f);
	}
	size_t wn;
	uint8_t *want = test_read(path, &wn);
	CHECK(wn == n && memcmp(want, p, n) == 0);
	if (wn != n || memcmp(want, p, n) != 0)
		fprintf(stderr, "  %s differs from the spec vector\n", name);
	free(want);
	free(path);
}

custos_key *test_vector_key(void)
{
	uint8_t seed[32];
	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)(0xC0 + i);
	custos_key *k = NULL;
	key_from_seed(&k, seed);
	return k;
}

void test_random(uint8_t *p, size_t n, uint64_t *state)
{
	for (size_t i = 0; i < n; i++) {
		*state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
		p[i] = (uint8_t)(*state >> 56);
	}
}

int test_finish(const char *name)
{
	printf("%s: %d checks, %d failures\n", name, test_checks, test_failures);
	return test_failures ? 1 : 0;
}
