/*
 * store.c — see store.h. Layout: FS §6.
 */
#include "store.h"

#include "bgwrite.h"
#include "digest.h"
#include "fsutil.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>


struct store {
	int cached_fd; /* the pack store_check_packed read last */
	uint8_t cached_pack[32];
	char *dir;     /* the vault */
	char *objects; /* <vault>/objects */
	char *packs;   /* <vault>/objects/packs */
	char *tmp;     /* <vault>/tmp */
};

/* The open (not yet sealed) pack of a batch. */
typedef struct pack_writer {
	struct archive *a;
	int fd;
	char *tmp_path;
	digest hash;
	uint64_t pos;
	bgwrite *w; /* the pack's bytes go out through a writer thread, with O_DIRECT */
	int err;    /* sticky: a failed write poisons the pack */
	size_t first_member; /* index into batch->packed of this pack's first member */
} pack_writer;

struct store_batch {
	store *s;
	pack_writer *pw;
	store_packed *packed;
	size_t n_packed, cap_packed;
	bool dirty_subdir[256]; /* objects/<xx>/ gained an entry */
	bool dirty_objects;     /* objects/ gained a subdirectory */
	bool dirty_packs;
};

struct store_large {
	store_batch *b;
	int fd;
	char *tmp_path;
	bgwrite *w;
};

const char *store_dir(const store *s)
{
	return s->dir;
}

int store_create_layout(const char *vault_dir)
{
	const char *sub[] = {"objects", "objects/packs", "tmp"};
	for (size_t i = 0; i < ARRAY_LEN(sub); i++) {
		char *p = path_join(vault_dir, sub[i]);
		if (!p)
			return CUSTOS_ERROR;
		int rc = mkdir(p, 0755) == 0 ? 0
					       : custos_error_errno(CUSTOS_ERROR, "cannot create %s", p);
		free(p);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int store_open(store **out, const char *vault_dir)
{
	store *s = xcalloc(1, sizeof *s);
	if (!s)
		return CUSTOS_ERROR;
	s->cached_fd = -1;
	s->dir = xstrdup(vault_dir);
	s->objects = path_join(vault_dir, "objects");
	s->packs = path_join(vault_dir, "objects/packs");
	s->tmp = path_join(vault_dir, "tmp");
	if (!s->dir || !s->objects || !s->packs || !s->tmp) {
		store_close(s);
		return CUSTOS_ERROR;
	}
	*out = s;
	return 0;
}

void store_close(store *s)
{
	if (!s)
		return;
	if (s->cached_fd >= 0)
		close(s->cached_fd);
	free(s->dir);
	free(s->objects);
	free(s->packs);
	free(s->tmp);
	free(s);
}

static void loose_path(char *out, size_t n, const store *s, const uint8_t sha[32])
{
	char hex[65];
	custos_hex(hex, sha, 32);
	snprintf(out, n, "%s/%.2s/%s", s->objects, hex, hex);
}

static void pack_path(char *out, size_t n, const store *s, const uint8_t pack[32])
{
	char hex[65];
	custos_hex(hex, pack, 32);
	snprintf(out, n, "%s/%s.tar", s->packs, hex);
}

static int temp_file(char **path, int *fd, const store *s, const char *prefix)
{
	size_t n = strlen(s->tmp) + strlen(prefix) + 16;
	*path = malloc(n);
	if (!*path)
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	snprintf(*path, n, "%s/%s-XXXXXX", s->tmp, prefix);
	*fd = mkostemp(*path, O_CLOEXEC);
	if (*fd < 0) {
		int rc = custos_error_errno(CUSTOS_ERROR, "cannot create a temporary file in %s", s->tmp);
		free(*path);
		*path = NULL;
		return rc;
	}
	return 0;
}

/* ------------------------------------------------------------ packs */

/* libarchive's output goes through here unblocked, so pw->pos is the exact offset. The
 * bytes are hashed (the pack's name) and copied into the writer's buffers: from there
 * they reach the disk without a copy into the page cache, which was most of the kernel
 * time of ingesting many small files. */
static la_ssize_t pw_write_cb(struct archive *a, void *ud, const void *p, size_t n)
{
	(void)a;
	pack_writer *pw = ud;
	if (pw->err || digest_update(&pw->hash, p, n) < 0) {
		pw->err = CUSTOS_ERROR;
		return -1;
	}
	const uint8_t *q = p;
	size_t left = n;
	while (left) {
		uint8_t *dst;
		size_t room;
		if (bgwrite_space(pw->w, &dst, &room) < 0) {
			pw->err = CUSTOS_ERROR;
			return -1;
		}
		size_t take = left < room ? left : room;
		memcpy(dst, q, take);
		if (bgwrite_advance(pw->w, take) < 0) {
			pw->err = CUSTOS_ERROR;
			return -1;
		}
		q += take;
		left -= take;
	}
	pw->pos += n;
	return (la_ssize_t)n;
}

static void pw_free(pack_writer *pw)
{
	if (!pw)
		return;
	if (pw->a)
		archive_write_free(pw->a);
	if (pw->fd >= 0)
		close(pw->fd);
	if (pw->tmp_path) {
		unlink(pw->tmp_path);
		free(pw->tmp_path);
	}
	digest_free(&pw->hash);
	bgwrite_cancel(pw->w);
	free(pw);
}

static int pw_open(pack_writer **out, store_batch *b)
{
	pack_writer *pw = xcalloc(1, sizeof *pw);
	if (!pw)
		return CUSTOS_ERROR;
	pw->fd = -1;
	pw->first_member = b->n_packed;
	int rc = temp_file(&pw->tmp_path, &pw->fd, b->s, "pack");
	if (rc == 0)
		rc = digest_init(&pw->hash, 0);
	if (rc == 0)
		rc = bgwrite_start(&pw->w, pw->fd, pw->tmp_path);
	if (rc == 0) {
		pw->a = archive_write_new();
		if (!pw->a || archive_write_set_format_ustar(pw->a) != ARCHIVE_OK ||
		    archive_write_set_bytes_per_block(pw->a, 0) != ARCHIVE_OK ||
		    archive_write_open2(pw->a, pw, NULL, pw_write_cb, NULL, NULL) != ARCHIVE_OK)
			rc = custos_error_set(CUSTOS_ERROR, "cannot start a pack: %s",
					      pw->a ? archive_error_string(pw->a) : "out of memory");
	}
	if (rc < 0) {
		pw_free(pw);
		return rc;
	}
	*out = pw;
	return 0;
}

static int packed_push(store_batch *b, const uint8_t sha[32], uint64_t off, uint64_t len)
{
	if (array_grow(&b->packed, &b->cap_packed, b->n_packed, sizeof *b->packed, 256) < 0)
		return CUSTOS_ERROR;
	store_packed *m = &b->packed[b->n_packed++];
	memcpy(m->sha256, sha, 32);
	memset(m->pack, 0, 32);
	m->offset = off;
	m->length = len;
	return 0;
}

static int pack_seal(store_batch *b)
{
	pack_writer *pw = b->pw;
	uint8_t name[32];
	char final[4096];
	digest_result dr;
	int rc = 0;
	if (archive_write_close(pw->a) != ARCHIVE_OK || pw->err)
		rc = custos_error_set(CUSTOS_ERROR, "cannot finish pack %s: %s", pw->tmp_path,
				      archive_error_string(pw->a));
	uint64_t size = 0;
	if (rc == 0) { /* else pw_free cancels the writer */
		rc = bgwrite_finish(pw->w, &size); /* frees it, whatever the outcome */
		pw->w = NULL;
	}
	if (rc == 0 && size != pw->pos)
		rc = custos_error_set(CUSTOS_ERROR, "pack %s: wrote %llu bytes of %llu", pw->tmp_path,
				      (unsigned long long)size, (unsigned long long)pw->pos);
	if (rc == 0 && (fchmod(pw->fd, 0444) != 0 || fsync(pw->fd) != 0))
		rc = custos_error_errno(CUSTOS_ERROR, "cannot sync pack %s", pw->tmp_path);
	if (rc == 0)
		rc = digest_final(&pw->hash, &dr);
	if (rc < 0)
		goto done;
	memcpy(name, dr.sha256, 32);
	pack_path(final, sizeof final, b->s, name);
	/* link() never replaces: a pack of the same name already holds the same bytes. */
	if (link(pw->tmp_path, final) != 0 && errno != EEXIST) {
		rc = custos_error_errno(CUSTOS_ERROR, "cannot store pack %s", final);
		goto done;
	}
	b->dirty_packs = true;
	for (size_t i = pw->first_member; i < b->n_packed; i++)
		memcpy(b->packed[i].pack, name, 32);
done:
	pw_free(pw);
	b->pw = NULL;
	return rc;
}

int store_batch_begin(store_batch **out, store *s)
{
	store_batch *b = xcalloc(1, sizeof *b);
	if (!b)
		return CUSTOS_ERROR;
	b->s = s;
	*out = b;
	return 0;
}

int store_batch_add_small(store_batch *b, const uint8_t sha256[32], const uint8_t *p, size_t n)
{
	int rc;
	if (!b->pw && (rc = pw_open(&b->pw, b)) < 0)
		return rc;
	pack_writer *pw = b->pw;
	char hex[65];
	custos_hex(hex, sha256, 32);
	struct archive_entry *e = archive_entry_new();
	if (!e)
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	archive_entry_set_pathname(e, hex);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0444);
	archive_entry_set_size(e, (la_int64_t)n);
	archive_entry_set_mtime(e, 0, 0);
	rc = 0;
	if (archive_write_header(pw->a, e) != ARCHIVE_OK)
		rc = custos_error_set(CUSTOS_ERROR, "cannot add to pack: %s", archive_error_string(pw->a));
	archive_entry_free(e);
	uint64_t off = pw->pos;
	if (rc == 0 && n > 0 && archive_write_data(pw->a, p, n) != (la_ssize_t)n)
		rc = custos_error_set(CUSTOS_ERROR, "cannot write to pack: %s",
				      archive_error_string(pw->a));
	if (rc == 0 && pw->err)
		rc = pw->err;
	if (rc == 0)
		rc = packed_push(b, sha256, off, n);
	if (rc == 0 && pw->pos >= STORE_PACK_TARGET)
		rc = pack_seal(b);
	return rc;
}

static int sync_dirs(store_batch *b)
{
	char path[4096];
	int rc = 0;
	for (int i = 0; i < 256 && rc == 0; i++) {
		if (!b->dirty_subdir[i])
			continue;
		snprintf(path, sizeof path, "%s/%02x", b->s->objects, i);
		rc = fs_fsync_dir(path);
	}
	if (rc == 0 && b->dirty_objects)
		rc = fs_fsync_dir(b->s->objects);
	if (rc == 0 && b->dirty_packs)
		rc = fs_fsync_dir(b->s->packs);
	return rc;
}

int store_batch_finish(store_batch *b, store_packed **out, size_t *n)
{
	int rc = 0;
	if (b->pw)
		rc = pack_seal(b);
	if (rc == 0)
		rc = sync_dirs(b);
	if (rc == 0 && out) {
		*out = b->packed;
		*n = b->n_packed;
		b->packed = NULL;
	}
	free(b->packed);
	free(b);
	return rc;
}

void store_batch_abort(store_batch *b)
{
	if (!b)
		return;
	pw_free(b->pw);
	free(b->packed);
	free(b);
}

/* ------------------------------------------------------------ loose objects */

int store_large_begin(store_large **out, store_batch *b)
{
	store_large *l = xcalloc(1, sizeof *l);
	if (!l)
		return CUSTOS_ERROR;
	l->b = b;
	int rc = temp_file(&l->tmp_path, &l->fd, b->s, "obj");
	if (rc == 0)
		rc = bgwrite_start(&l->w, l->fd, l->tmp_path);
	if (rc < 0) {
		store_large_abort(l);
		return rc;
	}
	*out = l;
	return 0;
}

int store_large_space(store_large *l, uint8_t **p, size_t *room)
{
	return bgwrite_space(l->w, p, room);
}

int store_large_advance(store_large *l, size_t n)
{
	return bgwrite_advance(l->w, n);
}

int store_large_write(store_large *l, const void *p, size_t n)
{
	const uint8_t *src = p;
	while (n > 0) {
		uint8_t *dst;
		size_t room;
		int rc = bgwrite_space(l->w, &dst, &room);
		if (rc < 0)
			return rc;
		size_t k = n < room ? n : room;
		memcpy(dst, src, k);
		if ((rc = bgwrite_advance(l->w, k)) < 0)
			return rc;
		src += k;
		n -= k;
	}
	return 0;
}

void store_large_abort(store_large *l)
{
	if (!l)
		return;
	bgwrite_cancel(l->w);
	if (l->fd >= 0)
		close(l->fd);
	if (l->tmp_path) {
		unlink(l->tmp_path);
		free(l->tmp_path);
	}
	free(l);
}

static int ensure_subdir(store_batch *b, const uint8_t sha[32])
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/%02x", b->s->objects, sha[0]);
	if (mkdir(dir, 0755) == 0)
		b->dirty_objects = true;
	else if (errno != EEXIST)
		return custos_error_errno(CUSTOS_ERROR, "cannot create %s", dir);
	return 0;
}

int store_large_commit(store_large *l, const uint8_t sha256[32], bool *existed)
{
	char final[4096];
	uint64_t size = 0;
	*existed = false;
	int rc = bgwrite_finish(l->w, &size);
	l->w = NULL;
	if (rc == 0 && ftruncate(l->fd, (off_t)size) != 0) /* a trailing hole */
		rc = custos_error_errno(CUSTOS_ERROR, "cannot size %s", l->tmp_path);
	if (rc == 0 && (fchmod(l->fd, 0444) != 0 || fsync(l->fd) != 0))
		rc = custos_error_errno(CUSTOS_ERROR, "cannot sync %s", l->tmp_path);
	if (rc == 0)
		rc = ensure_subdir(l->b, sha256);
	if (rc == 0) {
		loose_path(final, sizeof final, l->b->s, sha256);
		if (link(l->tmp_path, final) == 0)
			l->b->dirty_subdir[sha256[0]] = true;
		else if (errno == EEXIST)
			*existed = true;
		else
			rc = custos_error_errno(CUSTOS_ERROR, "cannot store object %s", final);
	}
	store_large_abort(l);
	return rc;
}

bool store_has_loose(store *s, const uint8_t sha256[32], uint64_t *size)
{
	char path[4096];
	struct stat st;
	loose_path(path, sizeof path, s, sha256);
	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return false;
	if (size)
		*size = (uint64_t)st.st_size;
	return true;
}

int store_open_read(store *s, const uint8_t sha256[32], const store_packed *loc, int *fd,
		    uint64_t *offset, uint64_t *length)
{
	char path[4096];
	if (loc)
		pack_path(path, sizeof path, s, loc->pack);
	else
		loose_path(path, sizeof path, s, sha256);
	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (*fd < 0)
		return custos_error_errno(errno == ENOENT ? CUSTOS_ENOTFOUND : CUSTOS_ERROR,
					  "cannot open object file %s", path);
	struct stat st;
	if (fstat(*fd, &st) != 0) {
		close(*fd);
		return custos_error_errno(CUSTOS_ERROR, "cannot stat %s", path);
	}
	if (loc) {
		if (loc->offset > (uint64_t)st.st_size || loc->length > (uint64_t)st.st_size - loc->offset) {
			close(*fd);
			return CUSTOS_CORRUPT("pack %s is shorter than its index says", path);
		}
		*offset = loc->offset;
		*length = loc->length;
	} else {
		*offset = 0;
		*length = (uint64_t)st.st_size;
	}
	return 0;
}

/* ------------------------------------------------------------ reading packs */

static int pack_fd(store *s, const uint8_t pack[32])
{
	if (s->cached_fd >= 0 && memcmp(s->cached_pack, pack, 32) == 0)
		return s->cached_fd;
	char path[4096];
	pack_path(path, sizeof path, s, pack);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return custos_error_errno(errno == ENOENT ? CUSTOS_ENOTFOUND : CUSTOS_ERROR,
					  "cannot open pack %s", path);
	if (s->cached_fd >= 0)
		close(s->cached_fd);
	s->cached_fd = fd;
	memcpy(s->cached_pack, pack, 32);
	return fd;
}

int store_check_packed(store *s, const store_packed *loc)
{
	char hex[65];
	custos_hex(hex, loc->sha256, 32);
	if (loc->offset < 512)
		return CUSTOS_CORRUPT("object %s: impossible pack offset", hex);
	int fd = pack_fd(s, loc->pack);
	if (fd < 0)
		return fd;
	/* Read the one ustar header in front of the member with libarchive, starting there. */
	if (lseek(fd, (off_t)(loc->offset - 512), SEEK_SET) < 0)
		return custos_error_errno(CUSTOS_ERROR, "cannot seek in a pack");
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int rc = 0;
	if (!a)
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	archive_read_support_format_tar(a);
	if (archive_read_open_fd(a, fd, 512) != ARCHIVE_OK || archive_read_next_header(a, &e) != ARCHIVE_OK)
		rc = CUSTOS_CORRUPT("object %s is not in its pack (no member header at its offset)", hex);
	else if (!archive_entry_pathname(e) || strcmp(archive_entry_pathname(e), hex) != 0 ||
		 (uint64_t)archive_entry_size(e) != loc->length)
		rc = CUSTOS_CORRUPT("object %s is not in its pack (another member at its offset)", hex);
	archive_read_free(a);
	return rc;
}

int store_pack_members(store *s, const uint8_t pack[32], store_member_fn fn, void *ud)
{
	char path[4096];
	pack_path(path, sizeof path, s, pack);
	struct archive *a = archive_read_new();
	if (!a)
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	archive_read_support_format_tar(a);
	int rc = 0;
	if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
		rc = custos_error_set(errno == ENOENT ? CUSTOS_ENOTFOUND : CUSTOS_EINTEGRITY,
				      "cannot read pack %s: %s", path, archive_error_string(a));
		goto done;
	}
	struct archive_entry *e;
	int r;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		store_packed m;
		const char *name = archive_entry_pathname(e);
		memcpy(m.pack, pack, 32);
		m.length = (uint64_t)archive_entry_size(e);
		/* FS §6.2: plain ustar headers, so the data follows its 512-byte header. */
		m.offset = (uint64_t)archive_read_header_position(a) + 512;
		if (!name || hex_decode(m.sha256, 32, name, strlen(name)) < 0 ||
		    archive_entry_filetype(e) != AE_IFREG) {
			rc = CUSTOS_CORRUPT("pack %s has a member that is not an object: %s", path,
					    name ? name : "(no name)");
			goto done;
		}
		if ((rc = fn(&m, name, ud)) != 0)
			goto done;
	}
	if (r != ARCHIVE_EOF)
		rc = CUSTOS_CORRUPT("pack %s is damaged: %s", path, archive_error_string(a));
done:
	archive_read_free(a);
	return rc;
}

int store_list_packs(store *s, uint8_t (**out)[32], size_t *n)
{
	DIR *d = opendir(s->packs);
	*out = NULL;
	*n = 0;
	if (!d)
		return custos_error_errno(CUSTOS_ERROR, "cannot list %s", s->packs);
	size_t cap = 0;
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		uint8_t name[32];
		if (len != 68 || strcmp(de->d_name + 64, ".tar") != 0 ||
		    hex_decode(name, 32, de->d_name, 64) < 0)
			continue; /* fsck reports strays; here we only want packs */
		if (*n == cap) {
			cap = cap ? 2 * cap : 64;
			uint8_t(*p)[32] = realloc(*out, cap * 32);
			if (!p) {
				rc = custos_error_set(CUSTOS_ERROR, "out of memory");
				break;
			}
			*out = p;
		}
		memcpy((*out)[(*n)++], name, 32);
	}
	closedir(d);
	return rc;
}
