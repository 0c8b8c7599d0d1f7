/*
 * test_container.c — the container reader (vault/container.c) on archives built here in
 * memory with libarchive's writer:
 *  - zip, tar.gz, cpio, 7z: every member with its name as bytes, type, mode, mtime and the
 *    SHA-256 of exactly the bytes written;
 *  - a tar with a symlink, a hardlink, a fifo, a character device, a directory, a
 *    "../" name, an absolute name, a name with invalid UTF-8 and a duplicate name: all
 *    reported as recorded, as data, nothing resolved;
 *  - a lone gzip stream is one member; plain text and random bytes are not containers;
 *  - limits: a gzip of 64 MiB of zeros stops at limit:ratio before decoding it all;
 *    limit:member-size, limit:expanded and limit:members;
 *  - a zip cut short keeps the members read before the cut and names where it broke;
 *  - the sandboxed reader (isolate.c) gives exactly what the in-process reader gives, from
 *    memory and from a file, keeps the limits, and every forbidden act (open, fork,
 *    executable mapping, socket, writing elsewhere) ends the child with SIGSYS: "crashed".
 */
#include "harness.h"

#include "container.h"
#include "intake.h"
#include "isolate.h"
#include "digest.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct seen {
	char path[256];
	size_t path_len;
	int type;
	char link[256];
	uint32_t mode;
	int64_t mtime;
	uint8_t sha[32];
	uint64_t bytes;
	char outcome[32];
} seen;

typedef struct collect {
	seen m[64];
	size_t n;
	digest d;
	int stop_after; /* a callback error after this many members (0: never) */
} collect;

static int c_begin(const container_member *m, void *ud)
{
	collect *c = ud;
	if (c->stop_after && (int)c->n == c->stop_after)
		return CUSTOS_ERROR;
	seen *s = &c->m[c->n < 64 ? c->n : 63];
	memset(s, 0, sizeof *s);
	s->path_len = m->path_len < 255 ? m->path_len : 255;
	memcpy(s->path, m->path, s->path_len);
	s->type = m->type;
	if (m->link)
		memcpy(s->link, m->link, m->link_len < 255 ? m->link_len : 255);
	s->mode = m->mode;
	s->mtime = m->mtime;
	digest_init(&c->d, 0);
	return 0;
}

static int c_data(const uint8_t *p, size_t n, void *ud)
{
	collect *c = ud;
	return digest_update(&c->d, p, n);
}

static int c_end(const container_member *m, const char *outcome, const char *detail, void *ud)
{
	(void)m;
	(void)detail;
	collect *c = ud;
	seen *s = &c->m[c->n < 64 ? c->n : 63];
	digest_result r;
	digest_final(&c->d, &r);
	digest_free(&c->d);
	memcpy(s->sha, r.sha256, 32);
	s->bytes = r.bytes;
	snprintf(s->outcome, sizeof s->outcome, "%s", outcome);
	c->n++;
	return 0;
}

static container_ops ops_for(collect *c)
{
	return (container_ops){c_begin, c_data, c_end, c};
}

/* Read p with the default limits, collecting into c. */
static int read_default(const uint8_t *p, size_t n, collect *c, container_result *r)
{
	container_ops ops = ops_for(c);
	container_limits l;
	container_limits_default(&l);
	return container_read_memory(p, n, &l, &ops, r);
}

/* ------------------------------------------------------------ building archives */

typedef struct entry {
	const char *path;
	int type; /* AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFIFO, AE_IFCHR, or 0 for a hardlink */
	const char *data_or_link;
	size_t size; /* for AE_IFREG: bytes of data_or_link, or of zeros if it is NULL */
} entry;

static uint8_t *build(int format, int filter, const entry *es, size_t ne, size_t *out_n)
{
	size_t cap = (size_t)8 << 20;
	uint8_t *mem = malloc(cap);
	size_t used = 0;
	struct archive *a = archive_write_new();
	archive_write_set_format(a, format);
	if (filter)
		archive_write_add_filter(a, filter);
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open_memory(a, mem, cap, &used) != ARCHIVE_OK)
		abort();
	for (size_t i = 0; i < ne; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_copy_pathname(e, es[i].path);
		archive_entry_set_mtime(e, 1700000000 + (time_t)i, 0);
		archive_entry_set_perm(e, 0640);
		if (es[i].type == 0) {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_copy_hardlink(e, es[i].data_or_link);
		} else {
			archive_entry_set_filetype(e, (unsigned)es[i].type);
		}
		if (es[i].type == AE_IFLNK)
			archive_entry_copy_symlink(e, es[i].data_or_link);
		if (es[i].type == AE_IFCHR)
			archive_entry_set_rdev(e, 0x0501);
		if (es[i].type == AE_IFREG)
			archive_entry_set_size(e, (la_int64_t)es[i].size);
		if (archive_write_header(a, e) < ARCHIVE_WARN) {
			fprintf(stderr, "cannot write %s: %s\n", es[i].path, archive_error_string(a));
			abort();
		}
		if (es[i].type == AE_IFREG && es[i].size) {
			const char *d = es[i].data_or_link;
			if (d) {
				archive_write_data(a, d, es[i].size);
			} else {
				static const uint8_t zeros[65536];
				for (size_t left = es[i].size; left;) {
					size_t k = left < sizeof zeros ? left : sizeof zeros;
					archive_write_data(a, zeros, k);
					left -= k;
				}
			}
		}
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	*out_n = used;
	return mem;
}

static void sha_of(uint8_t out[32], const char *s, size_t n)
{
	sha256_buf(out, s, n);
}

static const seen *find(const collect *c, const char *path)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->m[i].path_len == strlen(path) && memcmp(c->m[i].path, path, c->m[i].path_len) == 0)
			return &c->m[i];
	return NULL;
}

/* ------------------------------------------------------------ cases */

static void ordinary(int format, int filter, const char *what)
{
	static const char body1[] = "contract text\n", body2[] = "%PDF-1.4\nfake\n";
	entry es[] = {
		{"docs/contract.txt", AE_IFREG, body1, sizeof body1 - 1},
		{"docs/side letter.pdf", AE_IFREG, body2, sizeof body2 - 1},
		{"empty.dat", AE_IFREG, "", 0},
	};
	size_t n;
	uint8_t *p = build(format, filter, es, 3, &n);
	collect c = {0};
	container_result r;
	CHECK(unpack_looks_like_container(p, n));
	CHECK_RC(read_default(p, n, &c, &r), 0);
	if (c.n != 3)
		fprintf(stderr, "%s: %zu members (%s)\n", what, c.n, r.stop ? r.stop : "-");
	CHECK(c.n == 3 && r.members == 3 && !r.stop);
	for (size_t i = 0; i < 3; i++) {
		const seen *s = find(&c, es[i].path);
		uint8_t want[32];
		sha_of(want, es[i].data_or_link, es[i].size);
		CHECK(s && s->type == MEMBER_FILE && strcmp(s->outcome, "ok") == 0);
		CHECK(s && s->bytes == es[i].size && memcmp(s->sha, want, 32) == 0);
		CHECK(s && s->mtime == 1700000000 + (int64_t)i);
	}
	free(p);
}

static void special_members(void)
{
	entry es[] = {
		{"dir/", AE_IFDIR, NULL, 0},
		{"dir/link", AE_IFLNK, "../../etc/passwd", 0},
		{"dir/link/through.txt", AE_IFREG, "x\n", 2},
		{"hard", 0, "dir/link/through.txt", 0},
		{"pipe", AE_IFIFO, NULL, 0},
		{"tty", AE_IFCHR, NULL, 0},
		{"../../escape.txt", AE_IFREG, "e\n", 2},
		{"/etc/cron.d/evil", AE_IFREG, "a\n", 2},
		{"bad\xff\xfe-utf8.txt", AE_IFREG, "b\n", 2},
		{"dup.txt", AE_IFREG, "one\n", 4},
		{"dup.txt", AE_IFREG, "two\n", 4},
	};
	size_t n;
	uint8_t *p = build(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, 0, es, ARRAY_LEN(es), &n);
	collect c = {0};
	container_result r;
	CHECK_RC(read_default(p, n, &c, &r), 0);
	CHECK(c.n == ARRAY_LEN(es));
	const seen *s = find(&c, "dir/link");
	CHECK(s && s->type == MEMBER_SYMLINK && strcmp(s->link, "../../etc/passwd") == 0);
	s = find(&c, "dir/link/through.txt");
	CHECK(s && s->type == MEMBER_FILE && s->bytes == 2);
	s = find(&c, "hard");
	CHECK(s && s->type == MEMBER_HARDLINK && strcmp(s->link, "dir/link/through.txt") == 0);
	CHECK(find(&c, "pipe") && find(&c, "pipe")->type == MEMBER_FIFO);
	CHECK(find(&c, "tty") && find(&c, "tty")->type == MEMBER_CHARDEV);
	CHECK(find(&c, "../../escape.txt") && find(&c, "/etc/cron.d/evil"));
	CHECK(find(&c, "bad\xff\xfe-utf8.txt") != NULL);
	CHECK(c.n == ARRAY_LEN(es) && strcmp(c.m[9].path, "dup.txt") == 0 &&
	      strcmp(c.m[10].path, "dup.txt") == 0 && memcmp(c.m[9].sha, c.m[10].sha, 32) != 0);
	free(p);
}

static void lone_streams(void)
{
	static const char text[] = "just a text file, not a container\n";
	entry es[] = {{"data", AE_IFREG, text, sizeof text - 1}};
	size_t n;
	uint8_t *p = build(ARCHIVE_FORMAT_RAW, ARCHIVE_FILTER_GZIP, es, 1, &n);
	collect c = {0};
	container_result r;
	CHECK(unpack_looks_like_container(p, n));
	CHECK_RC(read_default(p, n, &c, &r), 0);
	uint8_t want[32];
	sha_of(want, text, sizeof text - 1);
	CHECK(c.n == 1 && c.m[0].bytes == sizeof text - 1 && memcmp(c.m[0].sha, want, 32) == 0);
	free(p);
	CHECK(!unpack_looks_like_container((const uint8_t *)text, sizeof text - 1));
	CHECK_RC(read_default((const uint8_t *)text, sizeof text - 1, &c, &r), CUSTOS_EINVALID);
	uint8_t rnd[4096];
	uint64_t st = 7;
	test_random(rnd, sizeof rnd, &st);
	CHECK(!unpack_looks_like_container(rnd, sizeof rnd));
}

static void limits(void)
{
	container_limits l;
	container_result r;
	collect c = {0};
	container_ops ops = ops_for(&c);
	size_t n;
	/* A tar.gz of 64 MiB of zeros: ~1000:1; cut at limit:ratio well before the end, by
	 * the ratio to the input's size (as ingest sets it). (A gzip of nothing but zeros would
	 * read as an empty tar: libarchive takes zero blocks for a tar's end, so the bomb
	 * carries a tar header.) */
	entry bomb[] = {{"zeros", AE_IFREG, NULL, (size_t)64 << 20}};
	uint8_t *p = build(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_GZIP, bomb, 1, &n);
	container_limits_default(&l);
	l.max_ratio = 100;
	/* by the container's own ratio (its read-ahead allowance: its own size here) */
	CHECK_RC(container_read_memory(p, n, &l, &ops, &r), 0);
	CHECK(c.n == 1 && strcmp(c.m[0].outcome, "limit:ratio") == 0 && r.expanded < ((uint64_t)16 << 20));
	/* and by the input's */
	c.n = 0;
	l.tree_base = n;
	l.max_ratio = 50;
	CHECK_RC(container_read_memory(p, n, &l, &ops, &r), 0);
	if (c.n != 1 || strcmp(c.m[0].outcome, "limit:ratio") != 0)
		fprintf(stderr, "bomb: %zu bytes, %zu members, outcome %s, expanded %llu, consumed %llu\n", n,
			c.n, c.n ? c.m[0].outcome : "-", (unsigned long long)r.expanded,
			(unsigned long long)r.consumed);
	CHECK(c.n == 1 && strcmp(c.m[0].outcome, "limit:ratio") == 0);
	CHECK(r.stop && strcmp(r.stop, "limit:ratio") == 0 && r.expanded < ((uint64_t)8 << 20));
	free(p);

	static const char d[] = "0123456789";
	entry three[] = {{"a", AE_IFREG, d, 10}, {"b", AE_IFREG, d, 10}, {"c", AE_IFREG, d, 10}};
	p = build(ARCHIVE_FORMAT_ZIP, 0, three, 3, &n);
	container_limits_default(&l);
	l.max_member_size = 5;
	c.n = 0;
	CHECK_RC(container_read_memory(p, n, &l, &ops, &r), 0);
	CHECK(c.n == 3 && strcmp(c.m[0].outcome, "limit:member-size") == 0 && !r.stop);
	container_limits_default(&l);
	l.max_expanded = 15;
	c.n = 0;
	CHECK_RC(container_read_memory(p, n, &l, &ops, &r), 0);
	CHECK(c.n == 2 && strcmp(c.m[0].outcome, "ok") == 0 &&
	      strcmp(c.m[1].outcome, "limit:expanded") == 0);
	CHECK(r.stop && strcmp(r.stop, "limit:expanded") == 0);
	container_limits_default(&l);
	l.max_members = 2;
	c.n = 0;
	CHECK_RC(container_read_memory(p, n, &l, &ops, &r), 0);
	CHECK(c.n == 2 && r.stop && strcmp(r.stop, "limit:members") == 0);
	/* a callback's error ends the read and is returned */
	container_limits_default(&l);
	c.n = 0;
	c.stop_after = 1;
	CHECK_RC(container_read_memory(p, n, &l, &ops, &r), CUSTOS_ERROR);
	c.stop_after = 0;

	/* cut short: the first member survives, the read names the break */
	entry two[] = {{"first.txt", AE_IFREG, d, 10}, {"second.bin", AE_IFREG, NULL, 100000}};
	uint8_t *q = build(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, 0, two, 2, &n);
	c.n = 0;
	CHECK_RC(container_read_memory(q, 512 + 512 + 512 + 20000, &l, &ops, &r), 0);
	CHECK(c.n == 2 && strcmp(c.m[0].outcome, "ok") == 0 && strcmp(c.m[1].outcome, "corrupt") == 0);
	CHECK(r.stop && strcmp(r.stop, "corrupt") == 0);
	free(p);
	free(q);
}

/* The same archive read in-process and in the sandboxed child, from memory and from a
 * file: the same members, bytes, outcomes and stop. */
static void isolated(void)
{
	entry es[] = {{"a.txt", AE_IFREG, "alpha\n", 6},
		      {"dir", AE_IFDIR, NULL, 0},
		      {"dir/big.bin", AE_IFREG, NULL, 3000000},
		      {"link", AE_IFLNK, "../../etc/passwd", 0}};
	size_t n;
	uint8_t *p = build(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_GZIP, es, 4, &n);
	collect a = {0}, b = {0}, f = {0};
	container_result ra, rb, rf;
	CHECK_RC(read_default(p, n, &a, &ra), 0);
	container_limits l;
	container_limits_default(&l);
	isolate_limits il;
	isolate_limits_default(&il);
	isolate_server *srv = NULL;
	CHECK_RC(isolate_server_start(&srv), 0);
	container_ops ops = ops_for(&b);
	isolate_source mem = {.fd = -1, .p = p, .n = n};
	CHECK_RC(container_read_isolated(srv, &mem, &l, &il, &ops, &rb), 0);
	int fd = memfd_create("archive", MFD_CLOEXEC);
	CHECK(fd >= 0 && write(fd, p, n) == (ssize_t)n && lseek(fd, 0, SEEK_SET) == 0);
	ops = ops_for(&f);
	isolate_source file = {.fd = fd, .p = NULL, .n = 0};
	CHECK_RC(container_read_isolated(srv, &file, &l, &il, &ops, &rf), 0);
	CHECK(a.n == 4 && b.n == 4 && f.n == 4);
	for (size_t i = 0; i < 4; i++) {
		CHECK(memcmp(&a.m[i], &b.m[i], sizeof a.m[i]) == 0);
		CHECK(memcmp(&a.m[i], &f.m[i], sizeof a.m[i]) == 0);
	}
	CHECK(a.m[2].bytes == 3000000 && strcmp(a.m[2].outcome, "ok") == 0);
	CHECK(rb.members == 4 && !rb.stop && strcmp(rb.format, ra.format) == 0);
	CHECK(rb.expanded == ra.expanded && rf.consumed == ra.consumed);

	/* not a container: the same refusal from the child */
	static const uint8_t text[] = "just some text, not an archive\n";
	isolate_source t = {.fd = -1, .p = text, .n = sizeof text - 1};
	collect c = {0};
	ops = ops_for(&c);
	CHECK_RC(container_read_isolated(srv, &t, &l, &il, &ops, &rb), CUSTOS_EINVALID);

	/* limits hold in the child: the ratio cut, and the member-size cut */
	l.max_member_size = 1000;
	c.n = 0;
	CHECK_RC(container_read_isolated(srv, &mem, &l, &il, &ops, &rb), 0);
	CHECK(c.n == 4 && strcmp(c.m[2].outcome, "limit:member-size") == 0);

	/* every forbidden act kills the child; custos reports a crash, not a crash of its own */
	container_limits_default(&l);
	for (int probe = ISOLATE_PROBE_OPEN; probe <= ISOLATE_PROBE_WRITE; probe++) {
		isolate_source s = {.fd = fd, .probe = probe};
		c.n = 0;
		CHECK_RC(container_read_isolated(srv, &s, &l, &il, &ops, &rb), 0);
		if (!rb.stop || strcmp(rb.stop, "crashed") != 0 || !strstr(rb.detail, "signal 31"))
			printf("probe %d: stop %s (%s)\n", probe, rb.stop ? rb.stop : "none", rb.detail);
		CHECK(c.n == 0 && rb.stop && strcmp(rb.stop, "crashed") == 0 &&
		      strstr(rb.detail, "signal 31") != NULL);
	}
	close(fd);
	isolate_server_stop(srv);
	free(p);
}

int main(void)
{
	test_init();
	ordinary(ARCHIVE_FORMAT_ZIP, 0, "zip");
	ordinary(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_GZIP, "tar.gz");
	ordinary(ARCHIVE_FORMAT_CPIO_POSIX, ARCHIVE_FILTER_XZ, "cpio.xz");
	ordinary(ARCHIVE_FORMAT_7ZIP, 0, "7z");
	ordinary(ARCHIVE_FORMAT_TAR_USTAR, ARCHIVE_FILTER_ZSTD, "tar.zst");
	special_members();
	lone_streams();
	limits();
	isolated();
	return test_finish("container");
}
