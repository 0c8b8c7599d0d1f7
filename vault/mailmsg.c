/*
 * mailmsg.c — see mailmsg.h.
 */
#include "mailmsg.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

void mail_line(const uint8_t *p, size_t n, size_t off, size_t *end, size_t *next)
{
	const uint8_t *lf = off < n ? memchr(p + off, '\n', n - off) : NULL;
	size_t e = lf ? (size_t)(lf - p) : n;
	*next = lf ? e + 1 : n;
	if (lf && e > off && p[e - 1] == '\r')
		e--;
	*end = e;
}

bool mail_name_is(const uint8_t *name, size_t n, const char *want)
{
	size_t k = strlen(want);
	if (n != k)
		return false;
	for (size_t i = 0; i < n; i++)
		if (tolower(name[i]) != tolower((unsigned char)want[i]))
			return false;
	return true;
}

/* A field's first line: printable, non-space name characters up to the first colon. */
static size_t field_name_len(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] == ':')
			return i;
		if (p[i] < 0x21 || p[i] > 0x7e)
			return 0;
	}
	return 0;
}

static int add_field(mail_header *h, size_t *cap, const uint8_t *p, size_t start, size_t nl)
{
	if (h->n == MAIL_FIELDS_MAX)
		return custos_error_set(CUSTOS_EINVALID, "more than %d header fields", MAIL_FIELDS_MAX);
	if (h->n == *cap) {
		size_t c = *cap ? *cap * 2 : 32;
		mail_field *f = realloc(h->f, c * sizeof *f);
		if (!f)
			return custos_error_set(CUSTOS_ERROR, "out of memory");
		h->f = f;
		*cap = c;
	}
	mail_field *f = &h->f[h->n++];
	f->name = p + start;
	f->name_len = nl;
	f->raw = p + start;
	f->value = p + start + nl + 1;
	return 0;
}

static void close_field(mail_header *h, const uint8_t *p, size_t next)
{
	if (h->n == 0)
		return;
	mail_field *f = &h->f[h->n - 1];
	f->raw_len = (size_t)(p + next - f->raw);
	f->value_len = (size_t)(p + next - f->value);
}

int mail_header_parse(const uint8_t *p, size_t n, mail_header *h)
{
	memset(h, 0, sizeof *h);
	size_t cap = 0, off = 0;
	while (off < n) {
		size_t end, next;
		mail_line(p, n, off, &end, &next);
		if (end == off) { /* the empty line */
			h->has_body = true;
			h->body_off = next;
			return 0;
		}
		if (p[off] == ' ' || p[off] == '\t') {
			if (h->n == 0) {
				mail_header_free(h);
				return custos_error_set(CUSTOS_EINVALID, "a header starts with a continuation line");
			}
		} else {
			size_t nl = field_name_len(p + off, end - off);
			if (nl == 0 && off == 0 && end - off >= 5 && memcmp(p, "From ", 5) == 0) {
				off = next; /* an mbox separator on a lone message */
				continue;
			}
			if (nl == 0) {
				mail_header_free(h);
				return custos_error_set(CUSTOS_EINVALID, "header line at byte %zu is not a field", off);
			}
			int rc = add_field(h, &cap, p, off, nl);
			if (rc < 0) {
				mail_header_free(h);
				return rc;
			}
		}
		close_field(h, p, next);
		off = next;
	}
	h->body_off = n;
	return 0;
}

void mail_header_free(mail_header *h)
{
	free(h->f);
	memset(h, 0, sizeof *h);
}

const mail_field *mail_header_find(const mail_header *h, const char *name, size_t nth)
{
	for (size_t i = h->n; i-- > 0;)
		if (mail_name_is(h->f[i].name, h->f[i].name_len, name) && nth-- == 0)
			return &h->f[i];
	return NULL;
}

size_t mail_header_count(const mail_header *h, const char *name)
{
	size_t k = 0;
	for (size_t i = 0; i < h->n; i++)
		k += mail_name_is(h->f[i].name, h->f[i].name_len, name);
	return k;
}

bool mail_looks_like_message(const uint8_t *p, size_t n)
{
	/* The prefix may cut the header block: parse only up to its last complete line. */
	const uint8_t *lf = n ? memrchr(p, '\n', n) : NULL;
	if (!lf)
		return false;
	mail_header h;
	if (mail_header_parse(p, (size_t)(lf - p) + 1, &h) < 0)
		return false;
	static const char *const others[] = {"date", "subject", "message-id", "to", "received",
					     "return-path", "mime-version", "dkim-signature"};
	bool other = false;
	for (size_t i = 0; !other && i < ARRAY_LEN(others); i++)
		other = mail_header_count(&h, others[i]) > 0;
	bool yes = mail_header_count(&h, "from") > 0 && other && (h.has_body || n >= 4096);
	mail_header_free(&h);
	return yes;
}

int mail_unfold(const uint8_t *v, size_t n, buf *out)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] != '\r' && v[i] != '\n')
			buf_putc(out, v[i]);
	return buf_check(out);
}

/* ------------------------------------------------------------ MIME values (RFC 2045) */

static bool is_tspecial(uint8_t c)
{
	return strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

static size_t skip_cfws(const uint8_t *v, size_t n, size_t i)
{
	while (i < n) {
		if (v[i] == ' ' || v[i] == '\t' || v[i] == '\r' || v[i] == '\n') {
			i++;
		} else if (v[i] == '(') { /* a comment, nested, with quoted pairs */
			int depth = 0;
			for (; i < n; i++) {
				if (v[i] == '\\' && i + 1 < n)
					i++;
				else if (v[i] == '(')
					depth++;
				else if (v[i] == ')' && --depth == 0) {
					i++;
					break;
				}
			}
		} else {
			break;
		}
	}
	return i;
}

static size_t token_end(const uint8_t *v, size_t n, size_t i)
{
	while (i < n && v[i] > 0x20 && v[i] < 0x7f && !is_tspecial(v[i]))
		i++;
	return i;
}

void mail_ctype_parse(const uint8_t *v, size_t n, mail_ctype *ct)
{
	memset(ct, 0, sizeof *ct);
	size_t i = skip_cfws(v, n, 0), k = 0;
	/* type "/" subtype, or a lone token (a disposition) */
	while (i < n && k + 1 < sizeof ct->type && (token_end(v, n, i) > i || v[i] == '/')) {
		size_t e = v[i] == '/' ? i + 1 : token_end(v, n, i);
		for (; i < e && k + 1 < sizeof ct->type; i++)
			ct->type[k++] = (char)tolower(v[i]);
		i = skip_cfws(v, n, e);
	}
	ct->type[k] = '\0';
	const uint8_t *semi = i < n ? memchr(v + i, ';', n - i) : NULL;
	ct->params = semi ? semi : v + n;
	ct->params_len = semi ? (size_t)(v + n - semi) : 0;
}

typedef struct param {
	char attr[80]; /* lower-case, "*" suffixes included */
	const uint8_t *val;
	size_t len;
	bool quoted;
} param;

/* The next "; attr=value" of p[*i..n); false at the end. */
static bool next_param(const uint8_t *p, size_t n, size_t *i, param *out)
{
	for (;;) {
		size_t j = skip_cfws(p, n, *i);
		if (j >= n)
			return false;
		if (p[j] == ';') {
			*i = j + 1;
			continue;
		}
		size_t ae = token_end(p, n, j);
		if (ae == j) { /* junk: skip to the next ';' */
			const uint8_t *semi = memchr(p + j, ';', n - j);
			if (!semi)
				return false;
			*i = (size_t)(semi - p);
			continue;
		}
		size_t k = 0;
		for (size_t a = j; a < ae && k + 1 < sizeof out->attr; a++)
			out->attr[k++] = (char)tolower(p[a]);
		out->attr[k] = '\0';
		j = skip_cfws(p, n, ae);
		if (j >= n || p[j] != '=') {
			*i = j;
			continue;
		}
		j = skip_cfws(p, n, j + 1);
		out->quoted = j < n && p[j] == '"';
		if (out->quoted) {
			size_t s = ++j;
			while (j < n && p[j] != '"')
				j += p[j] == '\\' && j + 1 < n ? 2 : 1;
			out->val = p + s;
			out->len = j - s;
			*i = j < n ? j + 1 : n;
		} else {
			size_t e = token_end(p, n, j);
			out->val = p + j;
			out->len = e - j;
			*i = e;
		}
		return true;
	}
}

int mail_hex_value(uint8_t c)
{
	return c >= '0' && c <= '9' ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

static void put_quoted(buf *out, const param *pm)
{
	for (size_t j = 0; j < pm->len; j++) {
		if (pm->quoted && pm->val[j] == '\\' && j + 1 < pm->len)
			j++;
		buf_putc(out, pm->val[j]);
	}
}

/* RFC 2231 extended value: percent-decoded, after "charset'language'" when first. */
static void put_extended(buf *out, const param *pm, bool first)
{
	size_t j = 0;
	if (first) {
		const uint8_t *q1 = memchr(pm->val, '\'', pm->len);
		const uint8_t *q2 = q1 ? memchr(q1 + 1, '\'', (size_t)(pm->val + pm->len - q1 - 1)) : NULL;
		if (q2)
			j = (size_t)(q2 - pm->val) + 1;
	}
	for (; j < pm->len; j++) {
		int hi, lo;
		if (pm->val[j] == '%' && j + 2 < pm->len && (hi = mail_hex_value(pm->val[j + 1])) >= 0 &&
		    (lo = mail_hex_value(pm->val[j + 2])) >= 0) {
			buf_putc(out, hi << 4 | lo);
			j += 2;
		} else {
			buf_putc(out, pm->val[j]);
		}
	}
}

/* RFC 2047 encoded-words (=?charset?B|Q?text?=) decoded in place of themselves. */
static void put_encoded_words(buf *out, const uint8_t *s, size_t n);

static bool find_continued(const mail_ctype *ct, const char *attr, unsigned idx, param *pm,
			   bool *ext)
{
	char plain[96], star[96];
	snprintf(plain, sizeof plain, "%s*%u", attr, idx);
	snprintf(star, sizeof star, "%s*%u*", attr, idx);
	size_t i = 0;
	while (next_param(ct->params, ct->params_len, &i, pm)) {
		if (strcmp(pm->attr, plain) == 0 || strcmp(pm->attr, star) == 0) {
			*ext = strcmp(pm->attr, star) == 0;
			return true;
		}
	}
	return false;
}

int mail_param(const mail_ctype *ct, const char *attr, buf *out)
{
	char star[96];
	snprintf(star, sizeof star, "%s*", attr);
	param pm;
	size_t i = 0;
	const param *plain = NULL;
	param keep;
	while (next_param(ct->params, ct->params_len, &i, &pm)) {
		if (strcmp(pm.attr, star) == 0) {
			put_extended(out, &pm, true);
			return buf_check(out) < 0 ? buf_check(out) : 1;
		}
		if (!plain && strcmp(pm.attr, attr) == 0) {
			keep = pm;
			plain = &keep;
		}
	}
	bool ext;
	if (find_continued(ct, attr, 0, &pm, &ext)) {
		for (unsigned k = 0; k < 100 && find_continued(ct, attr, k, &pm, &ext); k++) {
			if (ext)
				put_extended(out, &pm, k == 0);
			else
				put_quoted(out, &pm);
		}
		return buf_check(out) < 0 ? buf_check(out) : 1;
	}
	if (!plain)
		return 0;
	buf raw;
	buf_init(&raw, 1 << 20);
	put_quoted(&raw, plain);
	if (buf_check(&raw) == 0)
		put_encoded_words(out, raw.p, raw.n);
	buf_free(&raw);
	return buf_check(out) < 0 ? buf_check(out) : 1;
}

/* ------------------------------------------------------------ RFC 2047 */

int mail_b64_value(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A'
	       : c >= 'a' && c <= 'z' ? c - 'a' + 26
	       : c >= '0' && c <= '9' ? c - '0' + 52
	       : c == '+'	      ? 62
	       : c == '/'	      ? 63
				      : -1;
}

static void decode_word(buf *out, uint8_t enc, const uint8_t *t, size_t n)
{
	if (enc == 'b' || enc == 'B') {
		uint32_t acc = 0;
		int bits = 0;
		for (size_t j = 0; j < n; j++) {
			int v = mail_b64_value(t[j]);
			if (v < 0)
				continue;
			acc = acc << 6 | (uint32_t)v;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				buf_putc(out, (int)(acc >> bits) & 0xff);
			}
		}
		return;
	}
	for (size_t j = 0; j < n; j++) {
		int hi, lo;
		if (t[j] == '_')
			buf_putc(out, ' ');
		else if (t[j] == '=' && j + 2 < n && (hi = mail_hex_value(t[j + 1])) >= 0 &&
			 (lo = mail_hex_value(t[j + 2])) >= 0) {
			buf_putc(out, hi << 4 | lo);
			j += 2;
		} else {
			buf_putc(out, t[j]);
		}
	}
}

/* One encoded-word at s[0..n): its length, or 0 when s does not start one. */
static size_t encoded_word(const uint8_t *s, size_t n, buf *out)
{
	if (n < 8 || s[0] != '=' || s[1] != '?')
		return 0;
	const uint8_t *q1 = memchr(s + 2, '?', n - 2);
	if (!q1 || (size_t)(q1 - s) + 3 >= n || q1[2] != '?')
		return 0;
	uint8_t enc = q1[1];
	if (enc != 'b' && enc != 'B' && enc != 'q' && enc != 'Q')
		return 0;
	const uint8_t *t = q1 + 3;
	for (const uint8_t *e = t; e + 1 < s + n; e++)
		if (e[0] == '?' && e[1] == '=') {
			decode_word(out, enc, t, (size_t)(e - t));
			return (size_t)(e + 2 - s);
		}
	return 0;
}

static void put_encoded_words(buf *out, const uint8_t *s, size_t n)
{
	bool after_word = false;
	for (size_t i = 0; i < n;) {
		size_t k = encoded_word(s + i, n - i, out);
		if (k) {
			i += k;
			after_word = true;
			continue;
		}
		/* whitespace between two encoded-words is dropped (RFC 2047 §6.2) */
		size_t w = i;
		while (w < n && (s[w] == ' ' || s[w] == '\t'))
			w++;
		if (after_word && w > i && w < n && s[w] == '=' && w + 1 < n && s[w + 1] == '?') {
			buf tmp;
			buf_init(&tmp, 1 << 20);
			size_t k2 = encoded_word(s + w, n - w, &tmp);
			if (k2) {
				buf_put(out, tmp.p, tmp.n);
				buf_free(&tmp);
				i = w + k2;
				continue;
			}
			buf_free(&tmp);
		}
		buf_putc(out, s[i++]);
		after_word = false;
	}
}
