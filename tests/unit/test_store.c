/* test_store.c — packs and loose objects: bytes come back by offset, names are hashes,
 * duplicates are detected, zero runs become holes, aborted writes leave nothing. */
#include "digest.h"
#include "fsutil.h"
#include "harness.h"
#include "store.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static size_t count_files(const char *dir)
{
	DIR *d = opendir(dir);
	size_t n = 0;
	struct dirent *de;
	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static bool read_back(store *s, const uint8_t sha[32], const store_packed *loc, const uint8_t *want,
		      size_t n)
{
	int fd;
	uint64_t off, len;
	if (store_open_read(s, sha, loc, &fd, &off, &len) < 0)
		return false;
	uint8_t *got = malloc(n + 1);
	bool ok = len == n && pread(fd, got, n, (off_t)off) == (ssize_t)n && memcmp(got, want, n) == 0;
	free(got);
	close(fd);
	return ok;
}

typedef struct seen {
	size_t n;
	store_packed m[64];
} seen;

static int member_cb(const store_packed *m, const char *name, void *ud)
{
	seen *s = ud;
	char hex[65];
	custos_hex(hex, m->sha256, 32);
	CHECK(strcmp(hex, name) == 0);
	if (s->n < 64)
		s->m[s->n++] = *m;
	return 0;
}

static void packs(store *s)
{
	store_batch *b = NULL;
	uint8_t data[10][700], sha[10][32];
	uint64_t st = 1;
	CHECK_RC(store_batch_begin(&b, s), 0);
	for (int i = 0; i < 10; i++) {
		size_t n = (size_t)(i * 70);
		test_random(data[i], n, &st);
		sha256_buf(sha[i], data[i], n);
		CHECK_RC(store_batch_add_small(b, sha[i], data[i], n), 0);
	}
	store_packed *packed = NULL;
	size_t np = 0;
	CHECK_RC(store_batch_finish(b, &packed, &np), 0);
	CHECK(np == 10);
	for (size_t i = 0; i < np; i++) {
		CHECK(memcmp(packed[i].sha256, sha[i], 32) == 0);
		CHECK(read_back(s, sha[i], &packed[i], data[i], i * 70));
	}
	/* The pack is named by its SHA-256 and lists the same members at the same offsets. */
	uint8_t (*names)[32] = NULL;
	size_t nn = 0;
	CHECK_RC(store_list_packs(s, &names, &nn), 0);
	CHECK(nn == 1);
	if (nn == 1) {
		char hex[65], path[4096];
		custos_hex(hex, names[0], 32);
		snprintf(path, sizeof path, "%s/objects/packs/%s.tar", test_tmpdir(), hex);
		size_t len;
		uint8_t *all = test_read(path, &len), h[32];
		sha256_buf(h, all, len);
		CHECK(memcmp(h, names[0], 32) == 0);
		free(all);
		struct stat sb;
		CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0222) == 0); /* sealed: read-only */
		seen sn = {0};
		CHECK_RC(store_pack_members(s, names[0], member_cb, &sn), 0);
		CHECK(sn.n == 10);
		for (size_t i = 0; i < sn.n && i < np; i++)
			CHECK(sn.m[i].offset == packed[i].offset && sn.m[i].length == packed[i].length);
	}
	free(names);
	free(packed);
}

static void loose(store *s)
{
	size_t n = 3u << 20;
	uint8_t *data = calloc(1, n), sha[32];
	uint64_t st = 9;
	test_random(data, 1000, &st); /* then 3 MiB of zeros but the first kilobyte */
	test_random(data + n - 10, 10, &st);
	sha256_buf(sha, data, n);
	store_batch *b = NULL;
	store_large *l = NULL;
	bool existed = true;
	CHECK_RC(store_batch_begin(&b, s), 0);
	CHECK_RC(store_large_begin(&l, b), 0);
	for (size_t off = 0; off < n; off += 65536)
		CHECK_RC(store_large_write(l, data + off, n - off < 65536 ? n - off : 65536), 0);
	CHECK_RC(store_large_commit(l, sha, &existed), 0);
	CHECK(!existed);
	/* The same bytes again: detected, the temp file dropped. */
	CHECK_RC(store_large_begin(&l, b), 0);
	CHECK_RC(store_large_write(l, data, n), 0);
	CHECK_RC(store_large_commit(l, sha, &existed), 0);
	CHECK(existed);
	/* An aborted write leaves nothing behind. */
	CHECK_RC(store_large_begin(&l, b), 0);
	CHECK_RC(store_large_write(l, data, 100), 0);
	store_large_abort(l);
	CHECK_RC(store_batch_finish(b, NULL, NULL), 0);
	uint64_t size = 0;
	CHECK(store_has_loose(s, sha, &size) && size == n);
	CHECK(read_back(s, sha, NULL, data, n));
	char hex[65], path[4096];
	custos_hex(hex, sha, 32);
	snprintf(path, sizeof path, "%s/objects/%.2s/%s", test_tmpdir(), hex, hex);
	struct stat sb;
	CHECK(stat(path, &sb) == 0 && (uint64_t)sb.st_blocks * 512 < n / 2); /* zeros became holes */
	char *tmp = path_join(test_tmpdir(), "tmp");
	CHECK(count_files(tmp) == 0);
	free(tmp);
	free(data);
}

/* The zero-copy path: read straight into the writer's buffers in odd-sized pieces, over
 * several buffers, with a length that is no multiple of a block (the tail cannot go out
 * with direct I/O) and a zero run in the middle that must come back as zeros. */
static void loose_zero_copy(store *s)
{
	size_t n = (9u << 20) + 4097;
	uint8_t *data = malloc(n), sha[32];
	uint64_t st = 11;
	test_random(data, n, &st);
	memset(data + (3u << 20), 0, 1u << 20);
	sha256_buf(sha, data, n);
	store_batch *b = NULL;
	store_large *l = NULL;
	bool existed = true;
	CHECK_RC(store_batch_begin(&b, s), 0);
	CHECK_RC(store_large_begin(&l, b), 0);
	size_t off = 0, piece = 1;
	while (off < n) {
		uint8_t *p;
		size_t room;
		CHECK_RC(store_large_space(l, &p, &room), 0);
		CHECK(room > 0);
		size_t k = piece < room ? piece : room;
		if (k > n - off)
			k = n - off;
		memcpy(p, data + off, k);
		CHECK_RC(store_large_advance(l, k), 0);
		off += k;
		piece = piece * 7 + 3; /* 1, 10, 73, … up to whole buffers */
	}
	CHECK_RC(store_large_commit(l, sha, &existed), 0);
	CHECK(!existed);
	CHECK_RC(store_batch_finish(b, NULL, NULL), 0);
	uint64_t size = 0;
	CHECK(store_has_loose(s, sha, &size) && size == n);
	CHECK(read_back(s, sha, NULL, data, n));
	free(data);
}

int main(void)
{
	test_init();
	store *s = NULL;
	CHECK_RC(store_create_layout(test_tmpdir()), 0);
	CHECK_RC(store_open(&s, test_tmpdir()), 0);
	packs(s);
	loose(s);
	loose_zero_copy(s);
	store_close(s);
	return test_finish("store");
}
