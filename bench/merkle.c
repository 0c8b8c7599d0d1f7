/*
 * merkle.c — the Merkle log at scale (issue 3): on a tree of N leaves (default 1,000,000)
 * stored the way custos stores it (index/merkle.dat, vault/merkle.c), time
 *   - appending a leaf (and syncing, as an ingest does once per command),
 *   - producing an inclusion proof for a random leaf (from a freshly opened store, as
 *     `custos prove` does) and a consistency proof between two random sizes,
 *   - verifying them,
 * and report peak RSS, which must not grow with N. The peer in the same run is the
 * reference algorithm of RFC 9162 §2.1.3.1 (PATH over the leaf hashes in memory: O(n)
 * time and memory per proof), the way a tree kept as a flat list of leaves is proved.
 *
 *   bench/merkle N [REPS]        prints one line of figures (see bench/merkle.sh)
 */
#include "merkle.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void leaf_of(merkle_hash out, uint64_t i)
{
	uint8_t data[8];
	be64_store(data, i);
	merkle_leaf_hash(out, data, sizeof data);
}

/* RFC 9162 §2.1.3.1 PATH(m, D[n]) over leaf hashes in memory. */
static void mth(merkle_hash out, const merkle_hash *l, uint64_t n)
{
	if (n == 1) {
		memcpy(out, l[0], 32);
		return;
	}
	uint64_t k = 1;
	while (k << 1 < n)
		k <<= 1;
	merkle_hash a, b;
	mth(a, l, k);
	mth(b, l + k, n - k);
	merkle_node_hash(out, a, b);
}

static void ref_path(merkle_hash *out, size_t *n, uint64_t m, const merkle_hash *l, uint64_t size)
{
	if (size == 1)
		return;
	uint64_t k = 1;
	while (k << 1 < size)
		k <<= 1;
	if (m < k) {
		ref_path(out, n, m, l, k);
		mth(out[(*n)++], l + k, size - k);
	} else {
		ref_path(out, n, m - k, l + k, size - k);
		mth(out[(*n)++], l, k);
	}
}

static long peak_rss_kib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	int reps = argc > 2 ? atoi(argv[2]) : 1000;
	bool peer = getenv("NO_PEER") == NULL;
	char path[] = "/tmp/custos-merkle-bench.XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	unlink(path);
	merkle_log *l = NULL;
	if (merkle_log_open(&l, path, 0, true) < 0)
		return fprintf(stderr, "open: %s\n", custos_error_last()), 1;
	double t0 = now();
	for (uint64_t i = 0; i < n; i++) {
		merkle_hash h;
		leaf_of(h, i);
		merkle_log_append(l, h);
	}
	merkle_log_sync(l);
	double build = now() - t0;
	long rss_build = peak_rss_kib();

	/* One more leaf, synced: what an ingest or checkpoint adds per event. */
	double append = 0;
	for (int r = 0; r < reps / 10 + 1; r++) {
		merkle_hash h;
		leaf_of(h, n + (uint64_t)r);
		t0 = now();
		merkle_log_append(l, h);
		merkle_log_sync(l);
		append += now() - t0;
	}
	append /= reps / 10 + 1;
	uint64_t size = merkle_log_size(l);
	merkle_log_close(l);

	merkle_hash root, proof[MERKLE_MAX_PROOF];
	merkle_bytes pb[MERKLE_MAX_PROOF];
	double prove = 0, verify = 0, cprove = 0, cverify = 0;
	int bad = 0;
	for (int r = 0; r < reps; r++) {
		uint64_t i = next() % size, s1 = 1 + next() % size;
		size_t k = 0;
		merkle_hash h, r1;
		t0 = now();
		merkle_log_open(&l, path, size, false); /* as `custos prove` does: cold open */
		merkle_log_root(l, size, root);
		merkle_log_inclusion(l, i, size, proof, &k);
		prove += now() - t0;
		leaf_of(h, i);
		for (size_t j = 0; j < k; j++)
			pb[j] = (merkle_bytes){proof[j], 32};
		t0 = now();
		bad += merkle_verify_inclusion(i, size, (merkle_bytes){h, 32}, pb, k,
					       (merkle_bytes){root, 32}) != 0;
		verify += now() - t0;
		t0 = now();
		merkle_log_root(l, s1, r1);
		merkle_log_consistency(l, s1, size, proof, &k);
		cprove += now() - t0;
		for (size_t j = 0; j < k; j++)
			pb[j] = (merkle_bytes){proof[j], 32};
		t0 = now();
		bad += merkle_verify_consistency(s1, size, (merkle_bytes){r1, 32},
						 (merkle_bytes){root, 32}, pb, k) != 0;
		cverify += now() - t0;
		merkle_log_close(l);
	}
	long rss_custos = peak_rss_kib();

	/* The peer: leaves in memory, RFC 9162 PATH per proof. */
	double peer_prove = 0;
	int peer_reps = reps < 20 ? reps : 20;
	if (peer) {
		merkle_hash *leaves = malloc(size * sizeof *leaves);
		for (uint64_t i = 0; i < size; i++)
			leaf_of(leaves[i], i);
		for (int r = 0; r < peer_reps; r++) {
			uint64_t i = next() % size;
			size_t k = 0;
			t0 = now();
			ref_path(proof, &k, i, leaves, size);
			peer_prove += now() - t0;
		}
		peer_prove /= peer_reps;
		free(leaves);
	}
	long rss_peer = peak_rss_kib();
	unlink(path);
	printf("leaves %llu build_s %.2f append_ms %.3f prove_ms %.3f verify_ms %.4f "
	       "cprove_ms %.3f cverify_ms %.4f rss_kib %ld rss_after_build_kib %ld "
	       "peer_prove_ms %.1f peer_rss_kib %ld bad %d\n",
	       (unsigned long long)size, build, append * 1e3, prove / reps * 1e3,
	       verify / reps * 1e3, cprove / reps * 1e3, cverify / reps * 1e3, rss_custos,
	       rss_build, peer_prove * 1e3, rss_peer, bad);
	return bad ? 1 : 0;
}
