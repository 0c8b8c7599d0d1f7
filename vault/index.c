/*
 * index.c — see index.h. Files (FS §7): STATE, events.dat, packs.dat and the runs
 * <kind>-<n>.run of the three sorted tables.
 */
#include "index.h"

#include "fsutil.h"
#include "merkle.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define EVENT_W 60   /* commit oid 20 | event sha256 32 | first Merkle leaf u64le */
#define PACK_W 32    /* pack sha256 */
#define BYHASH_W 56  /* sha256 32 | item id 16 | seq u64le */
#define BYID_W 56    /* item id 16 | sha256 32 | seq u64le */
#define OBJ_W 52     /* sha256 32 | pack number u32le | offset u64le | length u64le */
#define MAX_RUNS 64
#define STATE_MAGIC "custos-index 2\n" /* 15 bytes; 2 added the Merkle tree */

typedef struct run {
	uint64_t num;   /* file is <kind>-<num>.run */
	size_t count;
	uint8_t *map;
	size_t maplen;
} run;

typedef struct runset {
	const char *kind;
	size_t width, keylen;
	run runs[MAX_RUNS];
	size_t n;
} runset;

enum { RS_BYHASH, RS_BYID, RS_OBJ, RS_N };

struct vindex {
	char *dir;
	uint8_t head[20];
	uint64_t events;
	uint64_t leaves; /* in merkle.dat */
	uint8_t (*packs)[32];
	size_t n_packs;
	uint64_t next_run;
	runset rs[RS_N];
};

static void runsets_init(vindex *ix)
{
	ix->rs[RS_BYHASH] = (runset){.kind = "byhash", .width = BYHASH_W, .keylen = 32};
	ix->rs[RS_BYID] = (runset){.kind = "byid", .width = BYID_W, .keylen = 16};
	ix->rs[RS_OBJ] = (runset){.kind = "objects", .width = OBJ_W, .keylen = 32};
}

static void run_path(char *out, size_t n, const vindex *ix, const runset *rs, uint64_t num)
{
	snprintf(out, n, "%s/%s-%llu.run", ix->dir, rs->kind, (unsigned long long)num);
}

static int run_map(vindex *ix, runset *rs, run *r)
{
	char path[4096];
	run_path(path, sizeof path, ix, rs, r->num);
	r->map = NULL;
	r->maplen = r->count * rs->width;
	if (r->count == 0)
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return custos_error_errno(CUSTOS_EINTEGRITY, "index run %s", path);
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) != 0 || (size_t)st.st_size != r->maplen) {
		rc = custos_error_set(CUSTOS_EINTEGRITY, "index run %s has the wrong size", path);
	} else {
		r->map = mmap(NULL, r->maplen, PROT_READ, MAP_SHARED, fd, 0);
		if (r->map == MAP_FAILED) {
			r->map = NULL;
			rc = custos_error_errno(CUSTOS_ERROR, "cannot map %s", path);
		}
	}
	close(fd);
	return rc;
}

static void run_unmap(run *r)
{
	if (r->map)
		munmap(r->map, r->maplen);
	r->map = NULL;
}

static void runsets_unmap(vindex *ix)
{
	for (int k = 0; k < RS_N; k++) {
		for (size_t i = 0; i < ix->rs[k].n; i++)
			run_unmap(&ix->rs[k].runs[i]);
		ix->rs[k].n = 0;
	}
}

void index_close(vindex *ix)
{
	if (!ix)
		return;
	runsets_unmap(ix);
	free(ix->packs);
	free(ix->dir);
	free(ix);
}

/* ------------------------------------------------------------ STATE */

static int parse_state_line(vindex *ix, const char *line)
{
	char kind[16], hex[41];
	unsigned long long a, b;
	if (sscanf(line, "head %40s", hex) == 1)
		return hex_decode(ix->head, 20, hex, strlen(hex));
	if (sscanf(line, "events %llu", &a) == 1) {
		ix->events = a;
		return 0;
	}
	if (sscanf(line, "leaves %llu", &a) == 1) {
		ix->leaves = a;
		return 0;
	}
	if (sscanf(line, "packs %llu", &a) == 1) {
		ix->n_packs = (size_t)a;
		return 0;
	}
	if (sscanf(line, "next %llu", &a) == 1) {
		ix->next_run = a;
		return 0;
	}
	if (sscanf(line, "run %15s %llu %llu", kind, &a, &b) == 3) {
		for (int k = 0; k < RS_N; k++) {
			runset *rs = &ix->rs[k];
			if (strcmp(rs->kind, kind) != 0 || rs->n == MAX_RUNS)
				continue;
			rs->runs[rs->n++] = (run){.num = a, .count = (size_t)b};
			return 0;
		}
	}
	return CUSTOS_EINTEGRITY;
}

static int load_packs(vindex *ix)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/packs.dat", ix->dir);
	if (ix->n_packs == 0)
		return 0;
	ix->packs = malloc(ix->n_packs * PACK_W);
	if (!ix->packs)
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return custos_error_errno(CUSTOS_EINTEGRITY, "index %s", path);
	size_t got = 0;
	int rc = fs_read_all(fd, ix->packs, ix->n_packs * PACK_W, &got, path);
	close(fd);
	if (rc == 0 && got != ix->n_packs * PACK_W)
		rc = custos_error_set(CUSTOS_EINTEGRITY, "index %s is truncated", path);
	return rc;
}

static int load_state(vindex *ix)
{
	char path[4096];
	uint8_t *text = NULL;
	size_t n = 0;
	snprintf(path, sizeof path, "%s/STATE", ix->dir);
	int rc = fs_read_file(&text, &n, path, 1 << 16);
	if (rc == CUSTOS_ENOTFOUND)
		return 0; /* an empty index */
	if (rc < 0)
		return rc;
	if (n >= 13 && memcmp(text, "custos-index ", 13) == 0 &&
	    (n < 15 || memcmp(text, STATE_MAGIC, 15) != 0)) {
		free(text); /* another version's index: derived data, rebuilt from scratch */
		return 0;
	}
	if (n < 15 || memcmp(text, STATE_MAGIC, 15) != 0)
		rc = custos_error_set(CUSTOS_EINTEGRITY, "%s is not an index state file", path);
	for (char *line = (char *)text + 15; rc == 0 && *line;) {
		char *nl = strchr(line, '\n');
		if (!nl) {
			rc = custos_error_set(CUSTOS_EINTEGRITY, "%s is truncated", path);
			break;
		}
		*nl = '\0';
		if (parse_state_line(ix, line) < 0)
			rc = custos_error_set(CUSTOS_EINTEGRITY, "%s: bad line '%s'", path, line);
		line = nl + 1;
	}
	free(text);
	for (int k = 0; rc == 0 && k < RS_N; k++)
		for (size_t i = 0; rc == 0 && i < ix->rs[k].n; i++)
			rc = run_map(ix, &ix->rs[k], &ix->rs[k].runs[i]);
	if (rc == 0)
		rc = load_packs(ix);
	return rc;
}

static int save_state(vindex *ix)
{
	char path[4096], hex[41];
	buf b;
	buf_init(&b, 1 << 16);
	custos_hex(hex, ix->head, 20);
	buf_printf(&b, "%shead %s\nevents %llu\nleaves %llu\npacks %zu\nnext %llu\n", STATE_MAGIC,
		   hex, (unsigned long long)ix->events, (unsigned long long)ix->leaves, ix->n_packs,
		   (unsigned long long)ix->next_run);
	for (int k = 0; k < RS_N; k++)
		for (size_t i = 0; i < ix->rs[k].n; i++)
			buf_printf(&b, "run %s %llu %zu\n", ix->rs[k].kind,
				   (unsigned long long)ix->rs[k].runs[i].num, ix->rs[k].runs[i].count);
	snprintf(path, sizeof path, "%s/STATE", ix->dir);
	int rc = buf_check(&b);
	if (rc == 0)
		rc = fs_atomic_write(path, b.p, b.n, 0644, false);
	buf_free(&b);
	return rc;
}

int index_open(vindex **out, const char *index_dir)
{
	vindex *ix = xcalloc(1, sizeof *ix);
	if (!ix)
		return CUSTOS_ERROR;
	runsets_init(ix);
	ix->dir = xstrdup(index_dir);
	int rc = ix->dir ? 0 : CUSTOS_ERROR;
	if (rc == 0 && mkdir(index_dir, 0755) != 0 && errno != EEXIST)
		rc = custos_error_errno(CUSTOS_ERROR, "cannot create %s", index_dir);
	if (rc == 0)
		rc = load_state(ix);
	if (rc < 0) {
		index_close(ix);
		return rc;
	}
	*out = ix;
	return 0;
}

int index_reset(vindex *ix)
{
	runsets_unmap(ix);
	free(ix->packs);
	ix->packs = NULL;
	ix->n_packs = 0;
	ix->events = 0;
	ix->leaves = 0;
	memset(ix->head, 0, 20);
	return save_state(ix);
}

void index_head(const vindex *ix, uint8_t out[20])
{
	memcpy(out, ix->head, 20);
}

uint64_t index_event_count(const vindex *ix)
{
	return ix->events;
}

uint64_t index_item_count(const vindex *ix)
{
	uint64_t n = 0;
	for (size_t i = 0; i < ix->rs[RS_BYID].n; i++)
		n += ix->rs[RS_BYID].runs[i].count;
	return n;
}

int index_event_get(vindex *ix, uint64_t seq, index_event *out)
{
	char path[4096];
	uint8_t e[EVENT_W];
	if (seq >= ix->events)
		return custos_error_set(CUSTOS_ENOTFOUND, "no event %llu", (unsigned long long)seq);
	snprintf(path, sizeof path, "%s/events.dat", ix->dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return custos_error_errno(CUSTOS_EINTEGRITY, "index %s", path);
	ssize_t r = pread(fd, e, EVENT_W, (off_t)(seq * EVENT_W));
	close(fd);
	if (r != EVENT_W)
		return custos_error_set(CUSTOS_EINTEGRITY, "index %s is truncated", path);
	memcpy(out->commit, e, 20);
	memcpy(out->event_sha, e + 20, 32);
	out->first_leaf = le64_load(e + 52);
	return 0;
}

uint64_t index_leaf_count(const vindex *ix)
{
	return ix->leaves;
}

static void merkle_path(char *out, size_t n, const vindex *ix)
{
	snprintf(out, n, "%s/merkle.dat", ix->dir);
}

int index_merkle_open(vindex *ix, merkle_log **out)
{
	char path[4096];
	merkle_path(path, sizeof path, ix);
	return merkle_log_open(out, path, ix->leaves, false);
}

/* ------------------------------------------------------------ lookups */

/* A hex prefix as a byte range: keys k with lo <= k[0..nb) <= hi. */
typedef struct prefix {
	uint8_t lo[32], hi[32];
	size_t nb;
} prefix;

static int prefix_parse(prefix *p, const char *hex, size_t maxbytes)
{
	size_t n = strlen(hex);
	if (n == 0 || n > 2 * maxbytes || !is_lower_hex(hex, n))
		return custos_error_set(CUSTOS_EINVALID, "'%s' is not a hex prefix", hex);
	memset(p, 0, sizeof *p);
	p->nb = (n + 1) / 2;
	for (size_t i = 0; i < n; i++) {
		int v = hex[i] <= '9' ? hex[i] - '0' : hex[i] - 'a' + 10;
		p->lo[i / 2] |= (uint8_t)(i % 2 ? v : v << 4);
	}
	memcpy(p->hi, p->lo, p->nb);
	if (n % 2)
		p->hi[p->nb - 1] |= 0x0F;
	return 0;
}

static size_t lower_bound(const run *r, size_t width, const uint8_t *key, size_t kl)
{
	size_t lo = 0, hi = r->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (memcmp(r->map + mid * width, key, kl) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

typedef void (*decode_fn)(const uint8_t *e, index_item *out);

static int scan_prefix(vindex *ix, int kind, const prefix *p, decode_fn dec, index_item_fn fn,
		       void *ud)
{
	runset *rs = &ix->rs[kind];
	for (size_t i = 0; i < rs->n; i++) {
		run *r = &rs->runs[i];
		for (size_t j = lower_bound(r, rs->width, p->lo, p->nb); j < r->count; j++) {
			const uint8_t *e = r->map + j * rs->width;
			if (memcmp(e, p->hi, p->nb) > 0)
				break;
			index_item it;
			dec(e, &it);
			int rc = fn(&it, ud);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

static void dec_byhash(const uint8_t *e, index_item *it)
{
	memcpy(it->sha256, e, 32);
	memcpy(it->id, e + 32, 16);
	it->seq = le64_load(e + 48);
}

static void dec_byid(const uint8_t *e, index_item *it)
{
	memcpy(it->id, e, 16);
	memcpy(it->sha256, e + 16, 32);
	it->seq = le64_load(e + 48);
}

int index_items_by_sha(vindex *ix, const char *hexprefix, index_item_fn fn, void *ud)
{
	prefix p;
	int rc = prefix_parse(&p, hexprefix, 32);
	return rc < 0 ? rc : scan_prefix(ix, RS_BYHASH, &p, dec_byhash, fn, ud);
}

int index_items_by_id(vindex *ix, const char *hexprefix, index_item_fn fn, void *ud)
{
	prefix p;
	int rc = prefix_parse(&p, hexprefix, 16);
	return rc < 0 ? rc : scan_prefix(ix, RS_BYID, &p, dec_byid, fn, ud);
}

int index_find_packed(vindex *ix, const uint8_t sha256[32], store_packed *out)
{
	runset *rs = &ix->rs[RS_OBJ];
	/* Newest run first: any copy will do, the newest is the likeliest to be cached. */
	for (size_t i = rs->n; i-- > 0;) {
		run *r = &rs->runs[i];
		size_t j = lower_bound(r, rs->width, sha256, 32);
		if (j >= r->count)
			continue;
		const uint8_t *e = r->map + j * rs->width;
		if (memcmp(e, sha256, 32) != 0)
			continue;
		uint32_t pn = le32_load(e + 32);
		if (pn >= ix->n_packs)
			return custos_error_set(CUSTOS_EINTEGRITY, "index names pack %u of %zu", pn,
						ix->n_packs);
		memcpy(out->sha256, sha256, 32);
		memcpy(out->pack, ix->packs[pn], 32);
		out->offset = le64_load(e + 36);
		out->length = le64_load(e + 44);
		return 0;
	}
	return CUSTOS_ENOTFOUND;
}

static long pack_number(const vindex *ix, const uint8_t pack[32])
{
	for (size_t i = ix->n_packs; i-- > 0;)
		if (memcmp(ix->packs[i], pack, 32) == 0)
			return (long)i;
	return -1;
}

bool index_has_pack(vindex *ix, const uint8_t pack[32])
{
	return pack_number(ix, pack) >= 0;
}

/* ------------------------------------------------------------ writing */

static size_t sort_width; /* qsort has no context argument; index writes are serialised */
static size_t sort_keylen;

static int entry_cmp(const void *a, const void *b)
{
	int c = memcmp(a, b, sort_keylen);
	return c ? c : memcmp(a, b, sort_width);
}

static int write_run_file(vindex *ix, runset *rs, uint64_t num, const uint8_t *entries, size_t count)
{
	char path[4096];
	run_path(path, sizeof path, ix, rs, num);
	return fs_atomic_write(path, entries, count * rs->width, 0644, false);
}

/* Merge two sorted runs into one new buffer. */
static uint8_t *merge_runs(const runset *rs, const run *a, const run *b)
{
	size_t w = rs->width, i = 0, j = 0, k = 0;
	uint8_t *out = malloc((a->count + b->count) * w + 1);
	if (!out) {
		custos_error_set(CUSTOS_ERROR, "out of memory");
		return NULL;
	}
	while (i < a->count || j < b->count) {
		const uint8_t *src;
		if (j >= b->count || (i < a->count && memcmp(a->map + i * w, b->map + j * w, w) <= 0))
			src = a->map + i++ * w;
		else
			src = b->map + j++ * w;
		memcpy(out + k++ * w, src, w);
	}
	return out;
}

static void remove_run(vindex *ix, runset *rs, uint64_t num)
{
	char path[4096];
	run_path(path, sizeof path, ix, rs, num);
	unlink(path); /* derived data: an old run is garbage once STATE stops naming it */
}

/* Add a sorted batch as a new run, then merge while the last run is at least half the
 * size of the one before it. Returns numbers of runs that became garbage. */
static int runset_add(vindex *ix, runset *rs, uint8_t *entries, size_t count, uint64_t *garbage,
		      size_t *n_garbage)
{
	if (count == 0)
		return 0;
	sort_width = rs->width;
	sort_keylen = rs->keylen;
	qsort(entries, count, rs->width, entry_cmp);
	uint64_t num = ix->next_run++;
	int rc = write_run_file(ix, rs, num, entries, count);
	if (rc < 0)
		return rc;
	rs->runs[rs->n] = (run){.num = num, .count = count};
	if ((rc = run_map(ix, rs, &rs->runs[rs->n])) < 0)
		return rc;
	rs->n++;
	while (rs->n >= 2 && (rs->runs[rs->n - 1].count * 2 >= rs->runs[rs->n - 2].count ||
			      rs->n == MAX_RUNS)) {
		run *a = &rs->runs[rs->n - 2], *b = &rs->runs[rs->n - 1];
		uint8_t *merged = merge_runs(rs, a, b);
		if (!merged)
			return CUSTOS_ERROR;
		run m = {.num = ix->next_run++, .count = a->count + b->count};
		rc = write_run_file(ix, rs, m.num, merged, m.count);
		free(merged);
		if (rc < 0)
			return rc;
		garbage[(*n_garbage)++] = a->num;
		garbage[(*n_garbage)++] = b->num;
		run_unmap(a);
		run_unmap(b);
		rs->n -= 2;
		rs->runs[rs->n] = m;
		if ((rc = run_map(ix, rs, &rs->runs[rs->n])) < 0)
			return rc;
		rs->n++;
	}
	return 0;
}

static int append_fixed(vindex *ix, const char *file, uint64_t at, const uint8_t *p, size_t n)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", ix->dir, file);
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return custos_error_errno(CUSTOS_ERROR, "cannot open %s", path);
	int rc = 0;
	/* Whatever lies past `at` is left over from an update that never reached STATE. */
	if (ftruncate(fd, (off_t)at) != 0 || lseek(fd, (off_t)at, SEEK_SET) < 0)
		rc = custos_error_errno(CUSTOS_ERROR, "cannot position in %s", path);
	if (rc == 0)
		rc = fs_write_all(fd, p, n, path);
	if (rc == 0 && fsync(fd) != 0)
		rc = custos_error_errno(CUSTOS_ERROR, "cannot sync %s", path);
	close(fd);
	return rc;
}

static int apply_events(vindex *ix, const index_update *u)
{
	if (u->n_events == 0)
		return 0;
	uint8_t *e = malloc(u->n_events * EVENT_W);
	if (!e)
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	for (size_t i = 0; i < u->n_events; i++) {
		memcpy(e + i * EVENT_W, u->events[i].commit, 20);
		memcpy(e + i * EVENT_W + 20, u->events[i].event_sha, 32);
		le64_store(e + i * EVENT_W + 52, u->events[i].first_leaf);
	}
	int rc = append_fixed(ix, "events.dat", ix->events * EVENT_W, e, u->n_events * EVENT_W);
	free(e);
	if (rc == 0)
		ix->events += u->n_events;
	return rc;
}

/* Register new packs and build the object entries that point into them. */
static int apply_packs(vindex *ix, const index_update *u, uint8_t *obj)
{
	size_t old = ix->n_packs;
	for (size_t i = 0; i < u->n_packed; i++) {
		const store_packed *m = &u->packed[i];
		long pn = pack_number(ix, m->pack);
		if (pn < 0) {
			uint8_t(*p)[32] = realloc(ix->packs, (ix->n_packs + 1) * PACK_W);
			if (!p)
				return custos_error_set(CUSTOS_ERROR, "out of memory");
			ix->packs = p;
			memcpy(ix->packs[ix->n_packs], m->pack, 32);
			pn = (long)ix->n_packs++;
		}
		uint8_t *e = obj + i * OBJ_W;
		memcpy(e, m->sha256, 32);
		le32_store(e + 32, (uint32_t)pn);
		le64_store(e + 36, m->offset);
		le64_store(e + 44, m->length);
	}
	if (ix->n_packs == old)
		return 0;
	return append_fixed(ix, "packs.dat", old * PACK_W, ix->packs[old], (ix->n_packs - old) * PACK_W);
}

static void build_item_entries(const index_update *u, uint8_t *byhash, uint8_t *byid)
{
	for (size_t i = 0; i < u->n_items; i++) {
		const index_item *it = &u->items[i];
		uint8_t *h = byhash + i * BYHASH_W, *d = byid + i * BYID_W;
		memcpy(h, it->sha256, 32);
		memcpy(h + 32, it->id, 16);
		le64_store(h + 48, it->seq);
		memcpy(d, it->id, 16);
		memcpy(d + 16, it->sha256, 32);
		le64_store(d + 48, it->seq);
	}
}

/* Append the update's leaves to the Merkle tree, durably: STATE names the new count only
 * after this, and a tree found longer than STATE says is cut back when next opened. */
static int apply_leaves(vindex *ix, const index_update *u)
{
	if (u->n_leaves == 0)
		return 0;
	char path[4096];
	merkle_path(path, sizeof path, ix);
	merkle_log *l = NULL;
	int rc = merkle_log_open(&l, path, ix->leaves, true);
	for (size_t i = 0; rc == 0 && i < u->n_leaves; i++)
		rc = merkle_log_append(l, u->leaves[i]);
	if (rc == 0)
		rc = merkle_log_sync(l);
	merkle_log_close(l);
	if (rc == 0)
		ix->leaves += u->n_leaves;
	return rc;
}

int index_apply(vindex *ix, const index_update *u)
{
	uint8_t *byhash = malloc(u->n_items * BYHASH_W + 1);
	uint8_t *byid = malloc(u->n_items * BYID_W + 1);
	uint8_t *obj = malloc(u->n_packed * OBJ_W + 1);
	uint64_t garbage[RS_N][2 * MAX_RUNS];
	size_t n_garbage[RS_N] = {0};
	int rc = 0;
	if (!byhash || !byid || !obj) {
		rc = custos_error_set(CUSTOS_ERROR, "out of memory");
		goto done;
	}
	build_item_entries(u, byhash, byid);
	if ((rc = apply_events(ix, u)) < 0 || (rc = apply_packs(ix, u, obj)) < 0 ||
	    (rc = apply_leaves(ix, u)) < 0)
		goto done;
	uint8_t *batches[RS_N] = {byhash, byid, obj};
	size_t counts[RS_N] = {u->n_items, u->n_items, u->n_packed};
	for (int k = 0; k < RS_N && rc == 0; k++)
		rc = runset_add(ix, &ix->rs[k], batches[k], counts[k], garbage[k], &n_garbage[k]);
	if (rc < 0)
		goto done;
	memcpy(ix->head, u->head, 20);
	if ((rc = save_state(ix)) < 0)
		goto done;
	for (int k = 0; k < RS_N; k++)
		for (size_t i = 0; i < n_garbage[k]; i++)
			remove_run(ix, &ix->rs[k], garbage[k][i]);
done:
	free(byhash);
	free(byid);
	free(obj);
	return rc;
}
