/*
 * container.c — see container.h. libarchive does the decoding; this file decides what is
 * read (formats and filters enabled one by one, never "all"), counts what is actually
 * decoded, and turns every member into exactly one outcome.
 */
#include "container.h"
#include "mail.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK (64 << 10)
#define READ_AHEAD_SLACK ((uint64_t)4 << 20)

void container_limits_default(container_limits *l)
{
	l->max_members = 1000000;
	l->max_member_size = (uint64_t)64 << 30;
	l->max_expanded = (uint64_t)256 << 30;
	l->max_ratio = 1000;
	l->ratio_floor = (uint64_t)1 << 20;
	l->tree_base = l->tree_used = 0;
	l->passphrases = NULL;
	l->n_passphrases = 0;
}

/* The formats and filters custos opens (issue 4), and "raw" for a lone compressed file:
 * accepted only when a decompression filter was found under it (see is_lone_stream). */
static struct archive *reader_new(void)
{
	struct archive *a = archive_read_new();
	if (!a)
		return NULL;
	archive_read_support_format_zip(a);
	archive_read_support_format_7zip(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	archive_read_support_format_cpio(a);
	archive_read_support_format_iso9660(a);
	archive_read_support_format_rar(a);
	archive_read_support_format_rar5(a);
	archive_read_support_format_raw(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_lzma(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_lz4(a);
	archive_read_support_filter_compress(a);
	/* never an external program: no "program" filters, and no filter_all */
	return a;
}

/* "raw" matches anything; it is a container only with a real filter below it. */
static bool is_lone_stream_ok(struct archive *a)
{
	if (archive_format(a) != ARCHIVE_FORMAT_RAW)
		return true;
	return archive_filter_count(a) > 1 && archive_filter_code(a, 0) != ARCHIVE_FILTER_NONE;
}

static int member_type(struct archive_entry *e)
{
	if (archive_entry_hardlink(e))
		return MEMBER_HARDLINK;
	switch (archive_entry_filetype(e)) {
	case AE_IFREG:
		return MEMBER_FILE;
	case AE_IFDIR:
		return MEMBER_DIR;
	case AE_IFLNK:
		return MEMBER_SYMLINK;
	case AE_IFCHR:
		return MEMBER_CHARDEV;
	case AE_IFBLK:
		return MEMBER_BLOCKDEV;
	case AE_IFIFO:
		return MEMBER_FIFO;
	case AE_IFSOCK:
		return MEMBER_SOCKET;
	default:
		/* raw streams and some formats leave the type unset: the bytes are a file */
		return archive_entry_filetype(e) == 0 ? MEMBER_FILE : MEMBER_OTHER;
	}
}

static const char *bytes_of(const char *s, size_t *n)
{
	*n = s ? strlen(s) : 0;
	return s;
}

static void fill_member(container_member *m, struct archive_entry *e, uint64_t index)
{
	memset(m, 0, sizeof *m);
	m->index = index;
	/* Names as the archive holds them: the multibyte form, never converted. */
	const char *path = archive_entry_pathname(e);
	if (!path)
		path = "";
	m->path = (const uint8_t *)bytes_of(path, &m->path_len);
	m->type = member_type(e);
	const char *link = m->type == MEMBER_HARDLINK  ? archive_entry_hardlink(e)
			   : m->type == MEMBER_SYMLINK ? archive_entry_symlink(e)
						       : NULL;
	if (link)
		m->link = (const uint8_t *)bytes_of(link, &m->link_len);
	m->has_mtime = archive_entry_mtime_is_set(e);
	m->mtime = m->has_mtime ? (int64_t)archive_entry_mtime(e) : 0;
	m->mode = (uint32_t)archive_entry_perm(e);
	m->encrypted = archive_entry_is_encrypted(e);
}

typedef struct reader {
	struct archive *a;
	const container_limits *l;
	const container_ops *ops;
	container_result *out;
	/* the container's bytes, for recovering zip names as stored (zip_raw_name) */
	int fd;
	const uint8_t *mem;
	size_t mem_n;
	uint8_t *window; /* ZIP_WINDOW bytes */
	uint64_t size;   /* of the container */
} reader;

/* ------------------------------------------------------------ zip names as stored
 *
 * libarchive hands zip names through a charset conversion: a name flagged UTF-8 is
 * normalised to NFC (so NFD and NFC twins become one name), one that is not valid UTF-8
 * comes back NULL, and backslashes may become slashes. Evidence needs the bytes. Right
 * after libarchive has read a member's local header, its read position is the end of
 * that header: signature PK\3\4, 30 fixed bytes whose last four give the name and extra
 * lengths, the name, the extra field. Finding the header that ends exactly there gives
 * the name's bytes as stored, without a zip parser of our own.
 */
#define ZIP_WINDOW ((size_t)30 + 2 * 65535)

static size_t read_at(const reader *r, uint64_t off, uint8_t *p, size_t n)
{
	if (r->mem) {
		if (off >= r->mem_n)
			return 0;
		size_t k = r->mem_n - (size_t)off < n ? r->mem_n - (size_t)off : n;
		memcpy(p, r->mem + off, k);
		return k;
	}
	size_t got = 0;
	while (got < n) {
		ssize_t k = pread(r->fd, p + got, n - got, (off_t)(off + got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	return got;
}

/* The local header ending at `end` (a window of `n` bytes before it): its name. */
static bool find_local_header(const uint8_t *w, size_t n, const uint8_t **name, size_t *nl)
{
	for (size_t i = n >= 30 ? n - 30 + 1 : 0; i-- > 0;) {
		if (memcmp(w + i, "PK\3\4", 4) != 0)
			continue;
		size_t fl = (size_t)w[i + 26] | (size_t)w[i + 27] << 8;
		size_t el = (size_t)w[i + 28] | (size_t)w[i + 29] << 8;
		if (i + 30 + fl + el == n) {
			*name = w + i + 30;
			*nl = fl;
			return true;
		}
	}
	return false;
}

/* Replace m's path by the zip member's name as stored, when it can be found. */
static void zip_raw_name(reader *r, container_member *m)
{
	if ((archive_format(r->a) & ARCHIVE_FORMAT_BASE_MASK) != ARCHIVE_FORMAT_ZIP || !r->window ||
	    (r->fd < 0 && !r->mem))
		return;
	la_int64_t pos = archive_filter_bytes(r->a, -1);
	if (pos <= 0)
		return;
	/* most headers are short: look at the last 4 KiB first, then the most a header spans */
	static const size_t spans[] = {4096, ZIP_WINDOW};
	for (size_t s = 0; s < 2; s++) {
		size_t n = (uint64_t)pos < spans[s] ? (size_t)pos : spans[s];
		const uint8_t *name;
		size_t nl;
		if (read_at(r, (uint64_t)pos - n, r->window, n) == n &&
		    find_local_header(r->window, n, &name, &nl)) {
			m->path = name;
			m->path_len = nl;
			return;
		}
		if (n == (size_t)pos)
			return;
	}
}

static uint64_t consumed(reader *r)
{
	la_int64_t c = archive_filter_bytes(r->a, -1);
	return c > 0 ? (uint64_t)c : 0;
}

/* The limit a member's data passes, if any, given what has been decoded so far. */
static const char *limit_passed(reader *r, uint64_t member_bytes)
{
	const container_limits *l = r->l;
	if (member_bytes > l->max_member_size)
		return "limit:member-size";
	uint64_t tree = l->tree_used + r->out->expanded;
	if (r->out->expanded > l->max_expanded || tree > l->max_expanded)
		return "limit:expanded";
	/* Decoders read ahead (lz4 a whole block, up to 4 MiB) before the bytes count as
	 * consumed: the container's own ratio allows for that, but never more than the
	 * container's size (a small nested bomb stays cheap); the input's (below) is exact. */
	uint64_t slack = r->size < READ_AHEAD_SLACK ? r->size : READ_AHEAD_SLACK;
	uint64_t in = consumed(r) + (slack ? slack : 1);
	if (r->out->expanded > l->ratio_floor && r->out->expanded / in >= l->max_ratio)
		return "limit:ratio";
	if (l->tree_base && tree > l->ratio_floor && tree / l->tree_base >= l->max_ratio)
		return "limit:ratio";
	return NULL;
}

/* Stream one file member's data; *outcome gets its outcome. Returns a callback's error.
 * A warning (the data disagrees with the size or checksum the container declares) does
 * not stop the bytes: they are all delivered, and the outcome is "mismatch". */
static int read_data(reader *r, const container_member *m, const char **outcome,
		     char *detail, size_t dn)
{
	uint64_t bytes = 0;
	bool warned = false;
	for (;;) {
		const void *block;
		size_t n;
		la_int64_t off;
		int ar = archive_read_data_block(r->a, &block, &n, &off);
		if (ar == ARCHIVE_EOF) {
			*outcome = warned ? "mismatch" : "ok";
			return 0;
		}
		if (ar < ARCHIVE_WARN) {
			const char *msg = archive_error_string(r->a);
			snprintf(detail, dn, "%s", msg ? msg : "undecodable data");
			*outcome = m->encrypted || archive_read_has_encrypted_entries(r->a) > 0
					   ? "encrypted"
					   : "corrupt";
			return 0;
		}
		if (ar == ARCHIVE_WARN) {
			const char *msg = archive_error_string(r->a);
			snprintf(detail, dn, "%s", msg ? msg : "the data disagrees with its header");
			warned = true;
		}
		/* Sparse members report offsets with holes: the holes are zeros of the member. */
		if (off >= 0 && (uint64_t)off > bytes) {
			static const uint8_t zeros[BLOCK];
			while ((uint64_t)off > bytes) {
				size_t k = (uint64_t)off - bytes < BLOCK ? (size_t)((uint64_t)off - bytes) : BLOCK;
				bytes += k;
				r->out->expanded += k;
				if ((*outcome = limit_passed(r, bytes)))
					return 0;
				int rc = r->ops->data(zeros, k, r->ops->ud);
				if (rc < 0)
					return rc;
			}
		}
		bytes += n;
		r->out->expanded += n;
		if ((*outcome = limit_passed(r, bytes))) {
			snprintf(detail, dn, "after %llu bytes of this member, %llu in all",
				 (unsigned long long)bytes, (unsigned long long)r->out->expanded);
			return 0;
		}
		if (n) {
			int rc = r->ops->data(block, n, r->ops->ud);
			if (rc < 0)
				return rc;
		}
	}
}

static int read_members(reader *r)
{
	struct archive_entry *e;
	for (;;) {
		int ar = archive_read_next_header(r->a, &e);
		if (ar == ARCHIVE_EOF)
			return 0;
		if (ar < ARCHIVE_WARN) {
			const char *msg = archive_error_string(r->a);
			/* 7z with an encrypted directory: nothing can be listed without the password */
			r->out->stop = msg && (strstr(msg, "ncrypt") || strstr(msg, "assphrase"))
					       ? "encrypted"
					       : "corrupt";
			snprintf(r->out->detail, sizeof r->out->detail, "after %llu members: %s",
				 (unsigned long long)r->out->members, msg ? msg : "unreadable header");
			return 0;
		}
		if (r->out->members == r->l->max_members) {
			r->out->stop = "limit:members";
			snprintf(r->out->detail, sizeof r->out->detail, "more than %llu members",
				 (unsigned long long)r->l->max_members);
			return 0;
		}
		if (r->out->members == 0) {
			if (!is_lone_stream_ok(r->a))
				return custos_error_set(CUSTOS_EINVALID, "not a container");
			const char *f = archive_format_name(r->a);
			snprintf(r->out->format, sizeof r->out->format, "%s", f ? f : "?");
		}
		container_member m;
		fill_member(&m, e, r->out->members++);
		zip_raw_name(r, &m);
		int rc = r->ops->begin(&m, r->ops->ud);
		if (rc < 0)
			return rc;
		const char *outcome = "ok";
		char detail[256] = "";
		if (m.type == MEMBER_FILE && m.encrypted && r->l->n_passphrases == 0)
			outcome = "encrypted"; /* with passphrases, reading tells whether one opens it */
		else if (m.type == MEMBER_FILE && (rc = read_data(r, &m, &outcome, detail,
								  sizeof detail)) < 0)
			return rc;
		if ((rc = r->ops->end(&m, outcome, detail[0] ? detail : NULL, r->ops->ud)) < 0)
			return rc;
		/* A limit on the whole container, or a broken stream, ends the container. */
		if (strcmp(outcome, "limit:expanded") == 0 || strcmp(outcome, "limit:ratio") == 0 ||
		    strcmp(outcome, "corrupt") == 0) {
			r->out->stop = outcome;
			snprintf(r->out->detail, sizeof r->out->detail, "%s", detail);
			return 0;
		}
	}
}

static int read_opened(struct archive *a, int ar, reader *src, const container_limits *l,
		       const container_ops *ops, container_result *out)
{
	reader r = {a, l, ops, out, src->fd, src->mem, src->mem_n, malloc(ZIP_WINDOW), src->size};
	int rc;
	if (ar != ARCHIVE_OK)
		rc = custos_error_set(CUSTOS_EINVALID, "not a container: %s",
				      archive_error_string(a) ? archive_error_string(a) : "unknown");
	else
		rc = read_members(&r);
	if (rc == 0 && out->members == 0 && !out->stop && archive_format(a) == ARCHIVE_FORMAT_RAW)
		rc = custos_error_set(CUSTOS_EINVALID, "not a container");
	out->consumed = consumed(&r);
	archive_read_free(a);
	free(r.window);
	return rc;
}

static struct archive *reader_with_passphrases(const container_limits *l)
{
	struct archive *a = reader_new();
	for (size_t i = 0; a && i < l->n_passphrases; i++)
		if (archive_read_add_passphrase(a, l->passphrases[i]) != ARCHIVE_OK) {
			archive_read_free(a);
			return NULL;
		}
	return a;
}

/* mbox files and messages are read by mail.c, everything else by libarchive. */
static int mail_kind_of_fd(int fd)
{
	static uint8_t head[MAIL_SNIFF];
	ssize_t k = pread(fd, head, sizeof head, 0);
	return k > 0 ? mail_kind(head, (size_t)k) : MAIL_NONE;
}

int container_read(int fd, const container_limits *l, const container_ops *ops,
		   container_result *out)
{
	memset(out, 0, sizeof *out);
	int kind = mail_kind_of_fd(fd);
	if (kind != MAIL_NONE)
		return mail_read(fd, kind, l, ops, out);
	struct archive *a = reader_with_passphrases(l);
	if (!a)
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	struct stat st;
	reader src = {.fd = fd, .size = fstat(fd, &st) == 0 && st.st_size > 0 ? (uint64_t)st.st_size : 0};
	return read_opened(a, archive_read_open_fd(a, fd, BLOCK), &src, l, ops, out);
}

int container_read_memory(const uint8_t *p, size_t n, const container_limits *l,
			  const container_ops *ops, container_result *out)
{
	memset(out, 0, sizeof *out);
	int kind = mail_kind(p, n < MAIL_SNIFF ? n : MAIL_SNIFF);
	if (kind != MAIL_NONE)
		return mail_read_memory(p, n, kind, l, ops, out);
	struct archive *a = reader_with_passphrases(l);
	if (!a)
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	reader src = {.fd = -1, .mem = p, .mem_n = n, .size = n};
	return read_opened(a, archive_read_open_memory(a, p, n), &src, l, ops, out);
}
