/*
 * replay.c — a driver for the fuzz targets that needs no libFuzzer: it feeds every seed in
 * a corpus directory, then a fixed number of deterministic mutations of each seed (bit
 * flips, truncations, splices, byte insertions). CI runs it under ASan+UBSan as a quick
 * smoke fuzz; tests/fuzz/run.sh runs the real libFuzzer builds for the thorough mode.
 */
#include "common.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void mutate(uint8_t *m, size_t *n, size_t cap)
{
	int rounds = 1 + (int)(next() % 4);
	for (int r = 0; r < rounds; r++) {
		size_t len = *n;
		switch (next() % 5) {
		case 0:
			if (len)
				m[next() % len] ^= (uint8_t)(1u << (next() % 8));
			break;
		case 1:
			if (len)
				*n = next() % len;
			break;
		case 2:
			if (len < cap) {
				size_t at = len ? next() % (len + 1) : 0;
				memmove(m + at + 1, m + at, len - at);
				m[at] = "\n %=-0aZ\xff\x00"[next() % 10];
				*n = len + 1;
			}
			break;
		case 3: /* duplicate a chunk */
			if (len > 2 && len * 2 <= cap) {
				size_t a = next() % len, l = 1 + next() % (len - a);
				memmove(m + a + l, m + a, len - a);
				*n = len + l;
			}
			break;
		default:
			if (len)
				m[next() % len] = (uint8_t)next();
		}
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR [MUTATIONS_PER_SEED]\n", argv[0]);
		return 2;
	}
	long per = argc > 2 ? strtol(argv[2], NULL, 10) : 2000;
	DIR *d = opendir(argv[1]);
	if (!d) {
		perror(argv[1]);
		return 2;
	}
	custos_global_init();
	struct dirent *de;
	size_t seeds = 0, runs = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", argv[1], de->d_name);
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		size_t cap = 1 << 16;
		uint8_t *seed = malloc(cap), *m = malloc(cap * 2);
		size_t n = fread(seed, 1, cap, f);
		fclose(f);
		LLVMFuzzerTestOneInput(seed, n);
		seeds++;
		for (long i = 0; i < per; i++) {
			size_t mn = n;
			memcpy(m, seed, n);
			mutate(m, &mn, cap * 2);
			uint8_t *exact = malloc(mn ? mn : 1); /* exact size: ASan sees overreads */
			memcpy(exact, m, mn);
			LLVMFuzzerTestOneInput(exact, mn);
			free(exact);
			runs++;
		}
		free(seed);
		free(m);
	}
	closedir(d);
	printf("%zu seeds, %zu mutated inputs, no crash\n", seeds, runs);
	return seeds ? 0 : 1;
}
