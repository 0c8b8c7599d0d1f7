/*
 * mail.c — see mail.h. Runs in the sandboxed reader (isolate.h) like libarchive: the
 * input is hostile, so every loop is bounded by the input and every output by the limits.
 */
#include "mail.h"
#include "mailmsg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUT_CHUNK ((size_t)64 << 10)
#define LINE_BUF ((size_t)256 << 10)
#define MIME_DEPTH_MAX 32
#define PART_NAME_MAX 1024

int mail_kind(const uint8_t *p, size_t n)
{
	if (n >= 5 && memcmp(p, "From ", 5) == 0) {
		const uint8_t *lf = memchr(p, '\n', n);
		if (lf && mail_looks_like_message(lf + 1, (size_t)(p + n - lf - 1)))
			return MAIL_MBOX;
		return MAIL_NONE;
	}
	return mail_looks_like_message(p, n) ? MAIL_MESSAGE : MAIL_NONE;
}

/* ------------------------------------------------------------ members out, with limits */

typedef struct sink {
	const container_limits *l;
	const container_ops *ops;
	container_result *out;
	container_member m;
	bool open;
	uint64_t bytes; /* of the member in flight */
	const char *cut; /* a limit the member passed: its remaining bytes are dropped */
	uint8_t *chunk;
	size_t chunk_n;
} sink;

static int sink_flush(sink *s)
{
	if (!s->chunk_n)
		return 0;
	int rc = s->ops->data(s->chunk, s->chunk_n, s->ops->ud);
	s->chunk_n = 0;
	return rc;
}

/* Start a member; 1 when the container must stop (limit:members). */
static int member_begin(sink *s, const uint8_t *path, size_t pl)
{
	if (s->out->members == s->l->max_members) {
		s->out->stop = "limit:members";
		snprintf(s->out->detail, sizeof s->out->detail, "more than %llu members",
			 (unsigned long long)s->l->max_members);
		return 1;
	}
	memset(&s->m, 0, sizeof s->m);
	s->m.index = s->out->members++;
	s->m.path = path;
	s->m.path_len = pl;
	s->m.type = MEMBER_FILE;
	s->open = true;
	s->bytes = 0;
	s->cut = NULL;
	return s->ops->begin(&s->m, s->ops->ud);
}

static const char *limit_passed(const sink *s)
{
	if (s->bytes > s->l->max_member_size)
		return "limit:member-size";
	if (s->out->expanded > s->l->max_expanded || s->l->tree_used + s->out->expanded > s->l->max_expanded)
		return "limit:expanded";
	return NULL;
}

static int member_data(sink *s, const uint8_t *p, size_t n)
{
	while (n && !s->cut) {
		size_t k = OUT_CHUNK - s->chunk_n < n ? OUT_CHUNK - s->chunk_n : n;
		s->bytes += k;
		s->out->expanded += k;
		if ((s->cut = limit_passed(s)))
			break;
		memcpy(s->chunk + s->chunk_n, p, k);
		s->chunk_n += k;
		p += k;
		n -= k;
		if (s->chunk_n == OUT_CHUNK) {
			int rc = sink_flush(s);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

/* End the member in flight; 1 when the container must stop (limit:expanded). */
static int member_end(sink *s, const char *outcome, const char *detail)
{
	if (!s->open)
		return 0;
	s->open = false;
	int rc = sink_flush(s);
	if (rc < 0)
		return rc;
	char d[128] = "";
	if (s->cut) {
		outcome = s->cut;
		snprintf(d, sizeof d, "after %llu bytes of this member", (unsigned long long)s->bytes);
		detail = d;
	}
	rc = s->ops->end(&s->m, outcome, detail, s->ops->ud);
	if (rc < 0)
		return rc;
	if (s->cut && strcmp(s->cut, "limit:expanded") == 0) {
		s->out->stop = s->cut;
		snprintf(s->out->detail, sizeof s->out->detail, "%s", d);
		return 1;
	}
	return 0;
}

/* ------------------------------------------------------------ mbox, streamed */

typedef struct lines {
	int fd;
	uint8_t *buf;
	size_t cap, start, end;
	bool eof, at_line_start;
	uint64_t consumed;
} lines;

/* The next piece of the input: a whole line (LF included), or LINE_BUF bytes of a longer
 * one. *starts: the piece begins a line. 0 at the end, <0 on a read error. */
static int next_piece(lines *r, const uint8_t **p, size_t *n, bool *starts)
{
	for (;;) {
		const uint8_t *lf = r->end > r->start ? memchr(r->buf + r->start, '\n', r->end - r->start) : NULL;
		size_t take = lf ? (size_t)(lf - r->buf) + 1 - r->start : 0;
		if (!take && (r->eof || r->end - r->start == r->cap))
			take = r->end - r->start; /* the last line, or a part of a long one */
		if (take) {
			*p = r->buf + r->start;
			*n = take;
			*starts = r->at_line_start;
			r->at_line_start = (*p)[take - 1] == '\n';
			r->start += take;
			return 1;
		}
		if (r->eof)
			return 0;
		if (r->start) {
			memmove(r->buf, r->buf + r->start, r->end - r->start);
			r->end -= r->start;
			r->start = 0;
		}
		ssize_t k = read(r->fd, r->buf + r->end, r->cap - r->end);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return custos_error_errno(CUSTOS_ERROR, "reading the mbox");
		if (k == 0)
			r->eof = true;
		r->end += (size_t)k;
		r->consumed += (uint64_t)k;
	}
}

static bool is_blank(const uint8_t *p, size_t n)
{
	return (n == 1 && p[0] == '\n') || (n == 2 && p[0] == '\r' && p[1] == '\n');
}

static bool is_quoted_from(const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n && p[i] == '>')
		i++;
	return i > 0 && n - i >= 5 && memcmp(p + i, "From ", 5) == 0;
}

typedef struct mbox {
	sink *s;
	bool in_msg, held_blank, prev_blank, skipping;
	uint8_t blank[2];
	size_t blank_n;
	char path[48];
} mbox;

static int mbox_piece(mbox *b, const uint8_t *p, size_t n, bool starts)
{
	bool sep = starts && n >= 5 && memcmp(p, "From ", 5) == 0 && (!b->in_msg || b->prev_blank);
	bool blank = starts && is_blank(p, n);
	b->prev_blank = blank;
	if (sep) {
		b->held_blank = false; /* the mbox's empty line before a separator */
		int rc = member_end(b->s, "ok", NULL);
		if (rc != 0)
			return rc;
		int k = snprintf(b->path, sizeof b->path, "message-%llu.eml",
				 (unsigned long long)b->s->out->members + 1);
		b->in_msg = true;
		return member_begin(b->s, (const uint8_t *)b->path, (size_t)k);
	}
	if (b->held_blank) {
		b->held_blank = false;
		int rc = member_data(b->s, b->blank, b->blank_n);
		if (rc < 0)
			return rc;
	}
	if (blank) {
		memcpy(b->blank, p, n);
		b->blank_n = n;
		b->held_blank = true;
		return 0;
	}
	if (starts && is_quoted_from(p, n))
		return member_data(b->s, p + 1, n - 1);
	return member_data(b->s, p, n);
}

static int read_mbox(lines *r, sink *s)
{
	snprintf(s->out->format, sizeof s->out->format, "mbox (mboxrd)");
	mbox b = {.s = s};
	for (;;) {
		const uint8_t *p = NULL;
		size_t n = 0;
		bool starts = false;
		int rc = next_piece(r, &p, &n, &starts);
		if (rc < 0)
			return rc;
		if (rc == 0)
			break;
		if (!b.in_msg && !(starts && n >= 5 && memcmp(p, "From ", 5) == 0))
			return custos_error_set(CUSTOS_EINVALID, "not an mbox: no \"From \" line first");
		rc = mbox_piece(&b, p, n, starts);
		if (rc != 0)
			return rc < 0 ? rc : 0;
	}
	int rc = member_end(s, "ok", NULL); /* a final empty line is the mbox's too */
	return rc < 0 ? rc : 0;
}

/* ------------------------------------------------------------ MIME, in memory */

typedef struct b64state {
	uint32_t acc;
	int bits, chars;
} b64state;

typedef struct mime {
	sink *s;
	bool stopped;
} mime;

static int emit_base64(sink *s, const uint8_t *p, size_t n, const char **outcome)
{
	uint8_t out[4096];
	size_t k = 0;
	b64state st = {0};
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '=')
			break; /* padding: the end of the data */
		int v = mail_b64_value(p[i]);
		if (v < 0)
			continue; /* RFC 2045 §6.8: characters outside the alphabet are ignored */
		st.acc = st.acc << 6 | (uint32_t)v;
		st.bits += 6;
		st.chars++;
		if (st.bits >= 8) {
			st.bits -= 8;
			out[k++] = (uint8_t)(st.acc >> st.bits);
			if (k == sizeof out) {
				int rc = member_data(s, out, k);
				if (rc < 0)
					return rc;
				k = 0;
			}
		}
	}
	if (st.chars % 4 == 1)
		*outcome = "corrupt"; /* six bits cannot make a byte */
	return member_data(s, out, k);
}

static int emit_qp(sink *s, const uint8_t *p, size_t n)
{
	uint8_t out[4096];
	size_t k = 0;
	for (size_t off = 0; off < n;) {
		size_t end, next;
		mail_line(p, n, off, &end, &next);
		size_t e = end;
		while (e > off && (p[e - 1] == ' ' || p[e - 1] == '\t'))
			e--; /* trailing white space was added in transport (RFC 2045 §6.7) */
		bool soft = e > off && p[e - 1] == '=';
		if (soft)
			e--;
		for (size_t i = off; i < e; i++) {
			int hi, lo;
			if (p[i] == '=' && i + 2 < e && (hi = mail_hex_value(p[i + 1])) >= 0 &&
			    (lo = mail_hex_value(p[i + 2])) >= 0) {
				out[k++] = (uint8_t)(hi << 4 | lo);
				i += 2;
			} else {
				out[k++] = p[i];
			}
			if (k >= sizeof out - 2) {
				int rc = member_data(s, out, k);
				if (rc < 0)
					return rc;
				k = 0;
			}
		}
		if (!soft && next > end) /* the line end, as it was */
			for (size_t i = end; i < next; i++)
				out[k++] = p[i];
		if (k >= sizeof out - 2) { /* a line of nothing but its end adds only that */
			int rc = member_data(s, out, k);
			if (rc < 0)
				return rc;
			k = 0;
		}
		off = next;
	}
	return member_data(s, out, k);
}

static int emit_leaf(mime *mm, const uint8_t *path, size_t pl, const char *cte,
		     const uint8_t *body, size_t bn, const char *outcome)
{
	int rc = member_begin(mm->s, path, pl);
	if (rc != 0) {
		mm->stopped = rc > 0;
		return rc < 0 ? rc : 0;
	}
	if (strcmp(cte, "base64") == 0)
		rc = emit_base64(mm->s, body, bn, &outcome);
	else if (strcmp(cte, "quoted-printable") == 0)
		rc = emit_qp(mm->s, body, bn);
	else {
		if (cte[0] && strcmp(cte, "7bit") != 0 && strcmp(cte, "8bit") != 0 &&
		    strcmp(cte, "binary") != 0)
			outcome = "unsupported";
		rc = member_data(mm->s, body, bn);
	}
	if (rc < 0)
		return rc;
	rc = member_end(mm->s, outcome, strcmp(outcome, "unsupported") == 0 ? cte : NULL);
	mm->stopped = rc > 0;
	return rc < 0 ? rc : 0;
}

/* The top-most field of that name, parsed (the first is what mail readers show). */
static bool field_ctype(const mail_header *h, const char *name, mail_ctype *ct)
{
	size_t k = mail_header_count(h, name);
	const mail_field *f = k ? mail_header_find(h, name, k - 1) : NULL;
	if (f)
		mail_ctype_parse(f->value, f->value_len, ct);
	else
		memset(ct, 0, sizeof *ct);
	return f != NULL;
}

static bool wants_member(const mail_ctype *ct, const mail_ctype *cd, bool named)
{
	if (named || strcmp(cd->type, "attachment") == 0)
		return true;
	if (strncmp(ct->type, "message/", 8) == 0)
		return true;
	return ct->type[0] && strncmp(ct->type, "text/", 5) != 0;
}

static void part_name(const mail_ctype *ct, const mail_ctype *cd, const char *section, buf *name,
		      bool *named)
{
	*named = mail_param(cd, "filename", name) > 0 && name->n > 0;
	if (!*named) {
		name->n = 0;
		name->failed = false;
		*named = mail_param(ct, "name", name) > 0 && name->n > 0;
	}
	if (!*named || name->failed) {
		name->n = 0;
		name->failed = false;
		buf_printf(name, "part-%s", section);
	}
}

static int walk_part(mime *mm, const uint8_t *p, size_t n, const char *section, int depth);

/* A delimiter line: "--" boundary, then "--" for the last, then only white space. */
static int delimiter(const uint8_t *line, size_t len, const uint8_t *b, size_t bl)
{
	if (len < bl + 2 || line[0] != '-' || line[1] != '-' || memcmp(line + 2, b, bl) != 0)
		return 0;
	size_t i = bl + 2;
	int kind = 1;
	if (len >= i + 2 && line[i] == '-' && line[i + 1] == '-') {
		kind = 2;
		i += 2;
	}
	for (; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t')
			return 0;
	return kind;
}

static int walk_multipart(mime *mm, const uint8_t *p, size_t n, const uint8_t *b, size_t bl,
			  const char *section, int depth, bool *found)
{
	size_t part = 0, start = 0, off = 0;
	bool open = false;
	*found = false;
	while (off < n && !mm->stopped) {
		size_t end, next;
		mail_line(p, n, off, &end, &next);
		int kind = delimiter(p + off, end - off, b, bl);
		if (kind) {
			*found = true;
			if (open) {
				char sub[160];
				snprintf(sub, sizeof sub, "%s%s%zu", section, section[0] ? "." : "", part);
				/* the line end before a delimiter is the delimiter's */
				size_t stop = off;
				if (stop > start && p[stop - 1] == '\n')
					stop--;
				if (stop > start && p[stop - 1] == '\r')
					stop--;
				int rc = walk_part(mm, p + start, stop - start, sub, depth + 1);
				if (rc < 0)
					return rc;
			}
			if (kind == 2)
				return 0;
			open = true;
			part++;
			start = next;
		}
		off = next;
	}
	if (open && !mm->stopped) { /* no closing delimiter: the last part is cut short */
		char sub[160];
		snprintf(sub, sizeof sub, "%s%s%zu", section, section[0] ? "." : "", part);
		return walk_part(mm, p + start, n - start, sub, -(depth + 1));
	}
	return 0;
}

/* depth < 0: the part was cut short (its outcome is "corrupt"). */
static int walk_part(mime *mm, const uint8_t *p, size_t n, const char *section, int depth)
{
	bool cut = depth < 0;
	if (cut)
		depth = -depth;
	mail_header h;
	const uint8_t *body = p;
	size_t bn = n;
	if (mail_header_parse(p, n, &h) == 0) {
		body = p + h.body_off;
		bn = n - h.body_off;
	} else {
		memset(&h, 0, sizeof h); /* not a header: all of it is body, typed text/plain */
	}
	mail_ctype ct, cd, te;
	field_ctype(&h, "content-type", &ct);
	field_ctype(&h, "content-disposition", &cd);
	field_ctype(&h, "content-transfer-encoding", &te);
	int rc = 0;
	buf bnd;
	buf_init(&bnd, 256);
	if (strncmp(ct.type, "multipart/", 10) == 0 && depth < MIME_DEPTH_MAX &&
	    mail_param(&ct, "boundary", &bnd) > 0 && bnd.n > 0) {
		bool found;
		rc = walk_multipart(mm, body, bn, bnd.p, bnd.n, depth == 0 ? "" : section, depth, &found);
		buf_free(&bnd);
		if (rc < 0 || found) {
			mail_header_free(&h);
			return rc;
		}
		cut = true; /* a multipart without a delimiter: its body is kept as one part */
	}
	buf_free(&bnd);
	buf name;
	buf_init(&name, PART_NAME_MAX);
	bool named;
	part_name(&ct, &cd, section, &name, &named);
	if (buf_check(&name) == 0 && (cut || wants_member(&ct, &cd, named)))
		rc = emit_leaf(mm, name.p, name.n, te.type, body, bn, cut ? "corrupt" : "ok");
	buf_free(&name);
	mail_header_free(&h);
	return rc;
}

static int read_message(const uint8_t *p, size_t n, sink *s)
{
	snprintf(s->out->format, sizeof s->out->format, "MIME message");
	s->out->consumed = n;
	mime mm = {s, false};
	return walk_part(&mm, p, n, "1", 0);
}

/* ------------------------------------------------------------ entry points */

static int with_sink(const container_limits *l, const container_ops *ops, container_result *out,
		     sink *s)
{
	memset(out, 0, sizeof *out);
	*s = (sink){.l = l, .ops = ops, .out = out, .chunk = malloc(OUT_CHUNK)};
	return s->chunk ? 0 : custos_error_set(CUSTOS_ERROR, "out of memory");
}

int mail_read_memory(const uint8_t *p, size_t n, int kind, const container_limits *l,
		     const container_ops *ops, container_result *out)
{
	sink s;
	int rc = with_sink(l, ops, out, &s);
	if (rc < 0)
		return rc;
	if (kind == MAIL_MBOX) {
		lines r = {.fd = -1, .buf = (uint8_t *)p, .cap = n, .end = n, .eof = true,
			   .at_line_start = true, .consumed = n};
		rc = read_mbox(&r, &s);
		out->consumed = n;
	} else if (n > MAIL_MESSAGE_MAX) {
		out->stop = "limit:member-size";
		snprintf(out->detail, sizeof out->detail, "a message over %zu bytes is not opened",
			 MAIL_MESSAGE_MAX);
	} else {
		rc = read_message(p, n, &s);
	}
	free(s.chunk);
	return rc;
}

int mail_read(int fd, int kind, const container_limits *l, const container_ops *ops,
	      container_result *out)
{
	if (kind == MAIL_MBOX) {
		sink s;
		int rc = with_sink(l, ops, out, &s);
		lines r = {.fd = fd, .buf = malloc(LINE_BUF), .cap = LINE_BUF, .at_line_start = true};
		if (rc == 0 && !r.buf)
			rc = custos_error_set(CUSTOS_ERROR, "out of memory");
		if (rc == 0)
			rc = read_mbox(&r, &s);
		out->consumed = r.consumed;
		free(r.buf);
		free(s.chunk);
		return rc;
	}
	struct stat st;
	if (fstat(fd, &st) != 0)
		return custos_error_errno(CUSTOS_ERROR, "reading the message");
	size_t n = (size_t)st.st_size;
	if (n == 0 || n > MAIL_MESSAGE_MAX)
		return mail_read_memory(NULL, n, kind, l, ops, out);
	/* mapped, not copied: the reader's address space is limited (isolate.h) */
	void *m = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		return custos_error_errno(CUSTOS_ERROR, "mapping the message");
	int rc = mail_read_memory(m, n, kind, l, ops, out);
	munmap(m, n);
	return rc;
}
