/*
 * docmeta.c — see docmeta.h.
 */
#include "docmeta.h"
#include "xmlscan.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ZONE_SLACK (14 * 3600) /* a date without a zone may be up to 14 h ahead of UTC */
#define EDIT_SLACK 60

void docmeta_free(docmeta *d)
{
	for (size_t i = 0; i < d->n_meta; i++) {
		free(d->meta[i].name);
		free(d->meta[i].value);
	}
	for (size_t i = 0; i < d->n_flags; i++) {
		free(d->flag[i].name);
		free(d->flag[i].value);
	}
	memset(d, 0, sizeof *d);
}

static int add_to(docmeta_field *f, size_t *n, size_t max, const char *name, const uint8_t *v,
		  size_t vn)
{
	if (*n == max)
		return 0; /* the first ones are kept */
	bool cut = vn > DOCMETA_VALUE_MAX;
	size_t k = cut ? DOCMETA_VALUE_MAX : vn;
	char *val = malloc(k + 4);
	char *nm = strdup(name);
	if (!val || !nm) {
		free(val);
		free(nm);
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	}
	memcpy(val, v, k);
	memcpy(val + k, cut ? "..." : "", cut ? 4 : 1);
	f[*n].name = nm;
	f[*n].value = val;
	(*n)++;
	return 0;
}

int docmeta_add(docmeta *d, const char *name, const uint8_t *v, size_t vn)
{
	return add_to(d->meta, &d->n_meta, DOCMETA_FIELDS_MAX, name, v, vn);
}

static int add_str(docmeta *d, const char *name, const char *v)
{
	return docmeta_add(d, name, (const uint8_t *)v, strlen(v));
}

const char *docmeta_get(const docmeta *d, const char *name)
{
	for (size_t i = 0; i < d->n_meta; i++)
		if (strcmp(d->meta[i].name, name) == 0)
			return d->meta[i].value;
	return NULL;
}

static int flag(docmeta *d, const char *token, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int flag(docmeta *d, const char *token, const char *fmt, ...)
{
	char detail[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < d->n_flags; i++)
		if (strcmp(d->flag[i].name, token) == 0)
			return 0; /* one of each: the first says why */
	return add_to(d->flag, &d->n_flags, ARRAY_LEN(d->flag), token, (const uint8_t *)detail,
		      strlen(detail));
}

/* ------------------------------------------------------------ dates */

static bool digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* Y M D h m s from fixed positions; sep: the characters between the date parts. */
static bool civil(int Y, int M, int D, int h, int m, int s, int64_t *t)
{
	if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || s > 60)
		return false;
	struct tm tm = {.tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D, .tm_hour = h, .tm_min = m,
			.tm_sec = s};
	*t = (int64_t)timegm(&tm);
	return true;
}

/* "Z", "+hh:mm", "-hh:mm", "+hh'mm'", "+hh" after a time: the offset in seconds. */
static bool zone(const char *z, int64_t *off, bool *zoned)
{
	*off = 0;
	*zoned = false;
	if (!*z)
		return true;
	if (*z == 'Z' || *z == 'z') {
		*zoned = true;
		return true;
	}
	if (*z != '+' && *z != '-')
		return false;
	int h, m = 0;
	if (!digits(z + 1, 2, &h))
		return false;
	const char *r = z + 3;
	if (*r == ':' || *r == '\'')
		r++;
	if (*r && !digits(r, 2, &m))
		return false;
	*off = (int64_t)(h * 3600 + m * 60) * (*z == '-' ? -1 : 1);
	*zoned = true;
	return true;
}

bool docmeta_date(const char *s, int64_t *t, bool *zoned)
{
	int Y, M, D, h = 0, m = 0, sec = 0;
	int64_t off = 0;
	*zoned = false;
	if (strncmp(s, "D:", 2) == 0) { /* PDF: D:YYYYMMDDHHmmSSOHH'mm' with trailing parts optional */
		const char *p = s + 2;
		size_t n = strlen(p);
		if (n < 4 || !digits(p, 4, &Y))
			return false;
		M = D = 1;
		const char *q = p + 4;
		int *parts[] = {&M, &D, &h, &m, &sec};
		for (int i = 0; i < 5 && q[0] >= '0' && q[0] <= '9'; i++, q += 2)
			if (!digits(q, 2, parts[i]))
				return false;
		if (!zone(q, &off, zoned))
			return false;
	} else {
		size_t n = strlen(s);
		/* ISO 8601 "YYYY-MM-DD[Thh:mm[:ss[.f]]][zone]" or EXIF "YYYY:MM:DD hh:mm:ss" */
		if (n < 10 || !digits(s, 4, &Y) || !digits(s + 5, 2, &M) || !digits(s + 8, 2, &D) ||
		    !((s[4] == '-' && s[7] == '-') || (s[4] == ':' && s[7] == ':')))
			return false;
		const char *q = s + 10;
		if (*q == 'T' || *q == ' ') {
			if (!digits(q + 1, 2, &h) || q[3] != ':' || !digits(q + 4, 2, &m))
				return false;
			q += 6;
			if (*q == ':') {
				if (!digits(q + 1, 2, &sec))
					return false;
				q += 3;
			}
			if (*q == '.')
				for (q++; *q >= '0' && *q <= '9'; q++)
					;
		}
		if (!zone(q, &off, zoned))
			return false;
	}
	if (!civil(Y, M, D, h, m, sec, t))
		return false;
	*t -= off;
	return true;
}

/* ISO 8601 duration "PnDTnHnMnS" (ODF editing-duration), in seconds. */
static bool duration(const char *s, int64_t *out)
{
	if (*s++ != 'P')
		return false;
	int64_t total = 0, v = 0;
	bool time_part = false, any = false;
	for (; *s; s++) {
		if (*s >= '0' && *s <= '9') {
			if (v > 100000000)
				return false;
			v = v * 10 + (*s - '0');
			any = true;
			continue;
		}
		if (*s == '.') { /* fractions of seconds: dropped */
			while (s[1] >= '0' && s[1] <= '9')
				s++;
			continue;
		}
		int64_t unit = *s == 'T' ? 0 : *s == 'D' ? 86400 : *s == 'H' ? 3600
			       : *s == 'M' ? (time_part ? 60 : 30 * 86400) : *s == 'S' ? 1 : -1;
		if (unit < 0 || (*s == 'T' && time_part))
			return false;
		time_part |= *s == 'T';
		total += v * unit;
		v = 0;
	}
	*out = total;
	return any;
}

/* ------------------------------------------------------------ XML-held metadata */

typedef struct xml_pick {
	docmeta *d;
	int depth;            /* leaves at this depth ... */
	const char *parent;   /* ... under this parent ("" any) */
	bool attrs_of_empty;  /* ODF: attributes of empty children as element@attr */
	int rc;
	/* word/settings.xml */
	bool rsids;
	uint64_t n_rsid;
} xml_pick;

static int pick(const xml_event *e, void *ud)
{
	xml_pick *x = ud;
	if (x->rsids) {
		if (e->type == XML_START && strcmp(e->name, "w:rsid") == 0)
			x->n_rsid++;
		if (e->type == XML_START && strcmp(e->name, "w:rsidRoot") == 0)
			for (size_t i = 0; i < e->n_attr; i++)
				if (strcmp(e->attr[2 * i], "w:val") == 0)
					x->rc = add_str(x->d, "w:rsidRoot", e->attr[2 * i + 1]);
		return x->rc;
	}
	if (e->depth != x->depth || (x->parent[0] && strcmp(e->parent, x->parent) != 0))
		return 0;
	if (e->type == XML_START && e->empty && x->attrs_of_empty) {
		for (size_t i = 0; x->rc == 0 && i < e->n_attr; i++) {
			char name[2 * XML_NAME_MAX + 2];
			snprintf(name, sizeof name, "%s@%s", e->name, e->attr[2 * i]);
			x->rc = add_str(x->d, name, e->attr[2 * i + 1]);
		}
		return x->rc;
	}
	if (e->type == XML_END && e->leaf && !e->empty)
		x->rc = docmeta_add(x->d, e->name, (const uint8_t *)e->text, e->text_len);
	return x->rc;
}

static int scan_leaves(docmeta *d, const uint8_t *p, size_t n, int depth, const char *parent,
		       bool attrs)
{
	xml_pick x = {.d = d, .depth = depth, .parent = parent, .attrs_of_empty = attrs};
	int rc = p ? xml_scan(p, n, pick, &x) : 0;
	return rc < 0 ? rc : x.rc;
}

int docmeta_office(docmeta *d, const uint8_t *core, size_t cn, const uint8_t *app, size_t an,
		   const uint8_t *settings, size_t sn)
{
	int rc = scan_leaves(d, core, cn, 1, "", false);
	if (rc == 0)
		rc = scan_leaves(d, app, an, 1, "", false);
	if (rc == 0 && settings) {
		xml_pick x = {.d = d, .rsids = true};
		rc = xml_scan(settings, sn, pick, &x);
		if (rc == 0 && (rc = x.rc) == 0 && x.n_rsid) {
			char k[24];
			snprintf(k, sizeof k, "%llu", (unsigned long long)x.n_rsid);
			rc = add_str(d, "w:rsids", k);
		}
	}
	return rc;
}

int docmeta_odf(docmeta *d, const uint8_t *meta, size_t n)
{
	return scan_leaves(d, meta, n, 2, "office:meta", true);
}

/* ------------------------------------------------------------ PDF */

static const uint8_t *find_last(const uint8_t *p, size_t n, const char *lit)
{
	size_t k = strlen(lit);
	const uint8_t *last = NULL;
	for (const uint8_t *at = p; (at = memmem(at, (size_t)(p + n - at), lit, k)); at += k)
		last = at;
	return last;
}

static size_t count_of(const uint8_t *p, size_t n, const char *lit)
{
	size_t k = strlen(lit), c = 0;
	for (const uint8_t *at = p; (at = memmem(at, (size_t)(p + n - at), lit, k)); at += k)
		c++;
	return c;
}

static bool pdf_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == 0;
}

static bool pdf_delim(uint8_t c)
{
	return pdf_space(c) || strchr("()<>[]{}/%", c);
}

typedef struct cur {
	const uint8_t *p;
	size_t n, i;
} cur;

static void cur_space(cur *c)
{
	while (c->i < c->n) {
		if (pdf_space(c->p[c->i]))
			c->i++;
		else if (c->p[c->i] == '%') /* a comment to the line end */
			while (c->i < c->n && c->p[c->i] != '\n' && c->p[c->i] != '\r')
				c->i++;
		else
			break;
	}
}

static bool cur_uint(cur *c, uint64_t *v)
{
	cur_space(c);
	size_t s = c->i;
	*v = 0;
	while (c->i < c->n && c->p[c->i] >= '0' && c->p[c->i] <= '9' && c->i - s < 18)
		*v = *v * 10 + (uint64_t)(c->p[c->i++] - '0');
	return c->i > s;
}

/* PDFDocEncoding 0x80..0x9E (ISO 32000-1 Annex D); 0xA0.. is Latin-1. */
static const uint16_t pdfdoc_hi[31] = {
	0x2022, 0x2020, 0x2021, 0x2026, 0x2014, 0x2013, 0x0192, 0x2044, 0x2039, 0x203A, 0x2212,
	0x2030, 0x201E, 0x201C, 0x201D, 0x2018, 0x2019, 0x201A, 0x2122, 0xFB01, 0xFB02, 0x0141,
	0x0152, 0x0160, 0x0178, 0x017D, 0x0131, 0x0142, 0x0153, 0x0161, 0x017E};

/* Text string bytes (UTF-16BE with its BOM, else PDFDocEncoding) as UTF-8. */
static void text_string(buf *out, const uint8_t *s, size_t n)
{
	if (n >= 2 && s[0] == 0xFE && s[1] == 0xFF) {
		for (size_t i = 2; i + 1 < n; i += 2) {
			uint32_t u = (uint32_t)s[i] << 8 | s[i + 1];
			if (u >= 0xD800 && u < 0xDC00 && i + 3 < n) {
				uint32_t lo = (uint32_t)s[i + 2] << 8 | s[i + 3];
				if (lo >= 0xDC00 && lo < 0xE000) {
					u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
					i += 2;
				}
			}
			buf_put_utf8(out, u);
		}
		return;
	}
	for (size_t i = 0; i < n; i++)
		buf_put_utf8(out, s[i] >= 0x80 && s[i] < 0x9F ? pdfdoc_hi[s[i] - 0x80] : s[i]);
}

/* A literal string at c->p[c->i] == '(': its bytes, escapes resolved. */
static bool literal(cur *c, buf *raw)
{
	int depth = 0;
	for (c->i++; c->i < c->n; c->i++) {
		uint8_t ch = c->p[c->i];
		if (ch == '(')
			depth++;
		else if (ch == ')' && depth-- == 0) {
			c->i++;
			return true;
		}
		if (ch != '\\') {
			buf_putc(raw, ch);
			continue;
		}
		if (++c->i >= c->n)
			return false;
		ch = c->p[c->i];
		const char *from = "nrtbf()\\", *to = "\n\r\t\b\f()\\";
		const char *at = strchr(from, ch);
		if (at && ch) {
			buf_putc(raw, to[at - from]);
		} else if (ch >= '0' && ch <= '7') {
			int v = 0;
			for (int k = 0; k < 3 && c->i < c->n && c->p[c->i] >= '0' && c->p[c->i] <= '7'; k++)
				v = v * 8 + (c->p[c->i++] - '0');
			c->i--;
			buf_putc(raw, v & 0xFF);
		} else if (ch == '\r') { /* a line continuation */
			if (c->i + 1 < c->n && c->p[c->i + 1] == '\n')
				c->i++;
		} else if (ch != '\n') {
			buf_putc(raw, ch);
		}
	}
	return false;
}

static bool hexstring(cur *c, buf *raw)
{
	int hi = -1;
	for (c->i++; c->i < c->n; c->i++) {
		uint8_t ch = c->p[c->i];
		if (ch == '>') {
			c->i++;
			if (hi >= 0)
				buf_putc(raw, hi << 4);
			return true;
		}
		int v = ch >= '0' && ch <= '9' ? ch - '0' : (ch | 0x20) >= 'a' && (ch | 0x20) <= 'f' ? (ch | 0x20) - 'a' + 10 : -1;
		if (v < 0)
			continue; /* white space */
		if (hi < 0) {
			hi = v;
		} else {
			buf_putc(raw, hi << 4 | v);
			hi = -1;
		}
	}
	return false;
}

/* Skip one value that is not a string (a name, number, array, dictionary, reference). */
static bool skip_value(cur *c)
{
	int depth = 0;
	do {
		cur_space(c);
		if (c->i >= c->n)
			return false;
		uint8_t ch = c->p[c->i];
		buf junk;
		buf_init(&junk, 1 << 20);
		bool ok = true;
		if (ch == '(')
			ok = literal(c, &junk);
		else if (ch == '<' && c->i + 1 < c->n && c->p[c->i + 1] != '<')
			ok = hexstring(c, &junk);
		else if (ch == '[' || (ch == '<' && c->i + 1 < c->n)) {
			depth++;
			c->i += ch == '[' ? 1 : 2;
		} else if (ch == ']' || (ch == '>' && c->i + 1 < c->n && c->p[c->i + 1] == '>')) {
			depth--;
			c->i += ch == ']' ? 1 : 2;
		} else {
			size_t s = c->i;
			c->i++; /* '/' or the first character */
			while (c->i < c->n && !pdf_delim(c->p[c->i]))
				c->i++;
			ok = c->i > s;
		}
		buf_free(&junk);
		if (!ok || depth < 0)
			return false;
	} while (depth > 0);
	/* "N G R": a reference is three tokens; the caller's next key lookup copes */
	return true;
}

static const char *const info_keys[] = {"Title", "Author", "Subject", "Keywords", "Creator",
					"Producer", "CreationDate", "ModDate"};

static int info_dict(docmeta *d, cur *c)
{
	cur_space(c);
	if (c->n - c->i < 2 || memcmp(c->p + c->i, "<<", 2) != 0)
		return 0;
	c->i += 2;
	for (int guard = 0; guard < 256; guard++) {
		cur_space(c);
		if (c->i + 1 >= c->n || (c->p[c->i] == '>' && c->p[c->i + 1] == '>'))
			return 0;
		if (c->p[c->i] != '/') { /* the rest of a reference "N G R", or junk */
			if (!skip_value(c))
				return 0;
			continue;
		}
		size_t s = ++c->i;
		while (c->i < c->n && !pdf_delim(c->p[c->i]))
			c->i++;
		char key[64];
		snprintf(key, sizeof key, "%.*s", (int)(c->i - s), (const char *)c->p + s);
		cur_space(c);
		if (c->i >= c->n)
			return 0;
		buf raw;
		buf_init(&raw, 1 << 20);
		bool str = c->p[c->i] == '(' || (c->p[c->i] == '<' && c->i + 1 < c->n && c->p[c->i + 1] != '<');
		bool ok = str ? (c->p[c->i] == '(' ? literal(c, &raw) : hexstring(c, &raw)) : skip_value(c);
		int rc = 0;
		for (size_t k = 0; ok && str && k < ARRAY_LEN(info_keys); k++)
			if (strcmp(key, info_keys[k]) == 0 && buf_check(&raw) == 0) {
				buf txt;
				buf_init(&txt, 4 << 20);
				text_string(&txt, raw.p, raw.n);
				char name[80];
				snprintf(name, sizeof name, "Info/%s", key);
				rc = buf_check(&txt) == 0 ? docmeta_add(d, name, txt.p, txt.n) : 0;
				buf_free(&txt);
			}
		buf_free(&raw);
		if (!ok || rc < 0)
			return rc;
	}
	return 0;
}

/* The object "N G obj" defined last (an update redefines it). */
static const uint8_t *find_object(const uint8_t *p, size_t n, uint64_t num, uint64_t gen)
{
	char head[64];
	int k = snprintf(head, sizeof head, "%llu %llu obj", (unsigned long long)num, (unsigned long long)gen);
	const uint8_t *last = NULL;
	for (const uint8_t *at = p; (at = memmem(at, (size_t)(p + n - at), head, (size_t)k)); at += k)
		if (at == p || pdf_delim(at[-1]))
			last = at + k;
	return last;
}

static int pdf_info(docmeta *d, const uint8_t *p, size_t n)
{
	const uint8_t *info = find_last(p, n, "/Info");
	if (!info)
		return 0;
	cur c = {p, n, (size_t)(info - p) + 5};
	uint64_t num, gen;
	if (!cur_uint(&c, &num) || !cur_uint(&c, &gen))
		return 0;
	cur_space(&c);
	if (c.i >= n || p[c.i] != 'R')
		return 0;
	const uint8_t *obj = find_object(p, n, num, gen);
	if (!obj)
		return 0;
	cur o = {p, n, (size_t)(obj - p)};
	return info_dict(d, &o);
}

/* XMP: properties of rdf:Description, as attributes or as elements (first rdf:li). */
typedef struct xmp {
	docmeta *d;
	char stack[XML_DEPTH_MAX][XML_NAME_MAX];
	bool taken[XML_DEPTH_MAX];
	int rc;
} xmp;

static bool skip_attr(const char *name)
{
	return strncmp(name, "xmlns", 5) == 0 || strncmp(name, "rdf:", 4) == 0 ||
	       strncmp(name, "xml:", 4) == 0;
}

static int xmp_event(const xml_event *e, void *ud)
{
	xmp *x = ud;
	if (e->depth >= XML_DEPTH_MAX)
		return 0;
	if (e->type == XML_START) {
		snprintf(x->stack[e->depth], XML_NAME_MAX, "%s", e->name);
		x->taken[e->depth] = false;
		if (strcmp(e->name, "rdf:Description") == 0)
			for (size_t i = 0; x->rc == 0 && i < e->n_attr; i++)
				if (!skip_attr(e->attr[2 * i]))
					x->rc = add_str(x->d, e->attr[2 * i], e->attr[2 * i + 1]);
		return x->rc;
	}
	if (!e->leaf || e->empty)
		return 0;
	if (strcmp(e->parent, "rdf:Description") == 0) {
		x->rc = docmeta_add(x->d, e->name, (const uint8_t *)e->text, e->text_len);
	} else if (strcmp(e->name, "rdf:li") == 0 && e->depth >= 2) {
		int prop = e->depth - 2; /* property > rdf:Alt|Seq|Bag > rdf:li */
		if (!x->taken[prop]) {
			x->taken[prop] = true;
			x->rc = docmeta_add(x->d, x->stack[prop], (const uint8_t *)e->text, e->text_len);
		}
	}
	return x->rc;
}

static int pdf_xmp(docmeta *d, const uint8_t *p, size_t n)
{
	const uint8_t *start = find_last(p, n, "<x:xmpmeta");
	if (!start)
		return 0;
	const uint8_t *end = memmem(start, (size_t)(p + n - start), "</x:xmpmeta>", 12);
	if (!end)
		return 0;
	xmp *x = calloc(1, sizeof *x);
	if (!x)
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	x->d = d;
	int rc = xml_scan(start, (size_t)(end + 12 - start), xmp_event, x);
	rc = rc < 0 ? rc : x->rc;
	free(x);
	return rc;
}

/* Signatures: every /ByteRange [a b c d] should cover the whole file (a = 0, c + d = n). */
static int pdf_signatures(docmeta *d, const uint8_t *p, size_t n, uint64_t *count, char *partial,
			  size_t pn)
{
	*count = 0;
	partial[0] = '\0';
	for (const uint8_t *at = p; (at = memmem(at, (size_t)(p + n - at), "/ByteRange", 10)); at += 10) {
		cur c = {p, n, (size_t)(at - p) + 10};
		cur_space(&c);
		if (c.i >= n || p[c.i] != '[')
			continue;
		c.i++;
		uint64_t v[4];
		bool ok = true;
		for (int k = 0; ok && k < 4; k++)
			ok = cur_uint(&c, &v[k]);
		if (!ok)
			continue;
		(*count)++;
		if (!partial[0] && (v[0] != 0 || v[2] + v[3] != n))
			snprintf(partial, pn, "signature %llu covers bytes 0..%llu of %zu",
				 (unsigned long long)*count, (unsigned long long)(v[2] + v[3]), n);
	}
	(void)d;
	return 0;
}

int docmeta_pdf(docmeta *d, const uint8_t *p, size_t n)
{
	int rc = pdf_info(d, p, n);
	if (rc == 0)
		rc = pdf_xmp(d, p, n);
	size_t xrefs = count_of(p, n, "startxref");
	uint64_t sigs;
	char partial[128], k[24];
	pdf_signatures(d, p, n, &sigs, partial, sizeof partial);
	snprintf(k, sizeof k, "%zu", xrefs ? xrefs - 1 : 0);
	if (rc == 0)
		rc = add_str(d, "pdf:updates", k);
	snprintf(k, sizeof k, "%llu", (unsigned long long)sigs);
	if (rc == 0)
		rc = add_str(d, "pdf:signatures", k);
	if (rc == 0 && partial[0])
		rc = flag(d, "pdf-signature-partial", "%s: bytes were added after signing", partial);
	return rc;
}

/* ------------------------------------------------------------ JPEG EXIF */

typedef struct tiff {
	const uint8_t *p;
	size_t n;
	bool le;
} tiff;

static uint32_t rd(const tiff *t, size_t off, int bytes)
{
	uint32_t v = 0;
	for (int i = 0; i < bytes; i++) {
		uint32_t b = t->p[off + (size_t)(t->le ? bytes - 1 - i : i)];
		v = v << 8 | b;
	}
	return v;
}

static int exif_ifd(docmeta *d, const tiff *t, uint32_t off, bool exif, uint32_t *sub)
{
	static const struct {
		uint16_t tag;
		bool exif;
		const char *name;
	} want[] = {{0x010F, false, "Make"}, {0x0110, false, "Model"}, {0x0131, false, "Software"},
		    {0x0132, false, "ModifyDate"}, {0x9003, true, "DateTimeOriginal"},
		    {0x9004, true, "CreateDate"}};
	if ((size_t)off + 2 > t->n)
		return 0;
	uint32_t count = rd(t, off, 2);
	for (uint32_t i = 0; i < count && i < 512; i++) {
		size_t e = (size_t)off + 2 + 12 * (size_t)i;
		if (e + 12 > t->n)
			return 0;
		uint32_t tag = rd(t, e, 2), type = rd(t, e + 2, 2), cnt = rd(t, e + 4, 4);
		if (!exif && tag == 0x8769 && type == 4)
			*sub = rd(t, e + 8, 4);
		if (type != 2)
			continue;
		for (size_t k = 0; k < ARRAY_LEN(want); k++) {
			if (want[k].tag != tag || want[k].exif != exif)
				continue;
			size_t at = cnt <= 4 ? e + 8 : rd(t, e + 8, 4);
			if (at > t->n || cnt > t->n - at)
				break;
			size_t len = cnt;
			while (len && (t->p[at + len - 1] == 0))
				len--;
			int rc = docmeta_add(d, want[k].name, t->p + at, len);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

int docmeta_jpeg(docmeta *d, const uint8_t *p, size_t n)
{
	if (n < 4 || p[0] != 0xFF || p[1] != 0xD8)
		return 0;
	for (size_t i = 2; i + 4 <= n;) {
		if (p[i] != 0xFF)
			return 0;
		uint8_t m = p[i + 1];
		if (m == 0xDA || m == 0xD9)
			return 0; /* the image data: no more metadata segments */
		size_t len = (size_t)p[i + 2] << 8 | p[i + 3];
		if (len < 2 || i + 2 + len > n)
			return 0;
		if (m == 0xE1 && len >= 16 && memcmp(p + i + 4, "Exif\0\0", 6) == 0) {
			tiff t = {p + i + 10, len - 8, p[i + 10] == 'I'};
			if ((t.p[0] != 'I' || t.p[1] != 'I') && (t.p[0] != 'M' || t.p[1] != 'M'))
				return 0;
			uint32_t sub = 0;
			int rc = exif_ifd(d, &t, rd(&t, 4, 4), false, &sub);
			if (rc == 0 && sub)
				rc = exif_ifd(d, &t, sub, true, &sub);
			return rc;
		}
		i += 2 + len;
	}
	return 0;
}

/* ------------------------------------------------------------ flags */

typedef struct when {
	const char *name;
	int64_t t;
	bool zoned, ok;
} when;

static when date_of(const docmeta *d, const char *name)
{
	when w = {.name = name};
	const char *v = docmeta_get(d, name);
	w.ok = v && docmeta_date(v, &w.t, &w.zoned);
	return w;
}

static int order(docmeta *d, when created, when modified)
{
	if (!created.ok || !modified.ok || modified.t >= created.t)
		return 0;
	return flag(d, "modified-before-created", "%s %s is before %s %s", modified.name,
		    docmeta_get(d, modified.name), created.name, docmeta_get(d, created.name));
}

static int edit_time(docmeta *d, when created, when modified, int64_t edit, const char *field)
{
	if (!created.ok || !modified.ok || modified.t < created.t)
		return 0;
	int64_t span = modified.t - created.t;
	if (edit <= span + EDIT_SLACK)
		return 0;
	return flag(d, "edit-time-exceeds-span", "%s is %lld s, but only %lld s passed from created to modified",
		    field, (long long)edit, (long long)span);
}

/* Every field that reads as a date: none may lie after the analysis or the ingest. */
static int future_dates(docmeta *d, int64_t now, int64_t ingested)
{
	for (size_t i = 0; i < d->n_meta; i++) {
		int64_t t;
		bool zoned;
		if (!docmeta_date(d->meta[i].value, &t, &zoned))
			continue;
		int64_t slack = zoned ? 0 : ZONE_SLACK;
		int rc = 0;
		if (t > now + slack)
			rc = flag(d, "date-in-future", "%s %s is after the time of analysis", d->meta[i].name,
				  d->meta[i].value);
		else if (t > ingested + slack)
			rc = flag(d, "date-after-ingest", "%s %s is after the item was received",
				  d->meta[i].name, d->meta[i].value);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int pdf_flags(docmeta *d)
{
	int rc = order(d, date_of(d, "Info/CreationDate"), date_of(d, "Info/ModDate"));
	if (rc == 0)
		rc = order(d, date_of(d, "xmp:CreateDate"), date_of(d, "xmp:ModifyDate"));
	const char *up = docmeta_get(d, "pdf:updates");
	if (rc == 0 && up && strcmp(up, "0") != 0)
		rc = flag(d, "pdf-incremental-updates", "%s incremental update%s after the first version", up,
			  strcmp(up, "1") == 0 ? "" : "s");
	const char *ip = docmeta_get(d, "Info/Producer"), *xp = docmeta_get(d, "pdf:Producer");
	if (rc == 0 && ip && xp && strcmp(ip, xp) != 0)
		return flag(d, "info-xmp-disagree", "Info/Producer '%.80s' but XMP pdf:Producer '%.80s'", ip, xp);
	when ic = date_of(d, "Info/CreationDate"), xc = date_of(d, "xmp:CreateDate");
	if (rc == 0 && ic.ok && xc.ok && ic.t != xc.t && ic.zoned && xc.zoned)
		return flag(d, "info-xmp-disagree", "Info/CreationDate %s but XMP xmp:CreateDate %s",
			    docmeta_get(d, ic.name), docmeta_get(d, xc.name));
	return rc;
}

/* Saved several times (revision count, ODF editing cycles) yet never edited for a second. */
static int revisions(docmeta *d, const char *count_field, int64_t edit, const char *edit_field)
{
	const char *v = docmeta_get(d, count_field);
	uint64_t n = 0;
	if (!v || u64_parse(&n, v, strlen(v)) < 0 || n <= 1 || edit != 0)
		return 0;
	return flag(d, "revisions-without-edit-time", "%s is %llu but %s is 0", count_field,
		    (unsigned long long)n, edit_field);
}

int docmeta_flags(docmeta *d, const char *kind, int64_t now, int64_t ingested, const char *ext_mismatch)
{
	int rc = 0;
	if (strcmp(kind, "office") == 0) {
		when c = date_of(d, "dcterms:created"), m = date_of(d, "dcterms:modified");
		rc = order(d, c, m);
		const char *tt = docmeta_get(d, "TotalTime");
		uint64_t minutes = 0;
		if (rc == 0 && tt && u64_parse(&minutes, tt, strlen(tt)) == 0 && minutes < 1000000000) {
			rc = edit_time(d, c, m, (int64_t)minutes * 60, "TotalTime");
			if (rc == 0)
				rc = revisions(d, "cp:revision", (int64_t)minutes, "TotalTime");
		}
	} else if (strcmp(kind, "opendocument") == 0) {
		when c = date_of(d, "meta:creation-date"), m = date_of(d, "dc:date");
		rc = order(d, c, m);
		const char *du = docmeta_get(d, "meta:editing-duration");
		int64_t secs;
		if (rc == 0 && du && duration(du, &secs)) {
			rc = edit_time(d, c, m, secs, "meta:editing-duration");
			if (rc == 0)
				rc = revisions(d, "meta:editing-cycles", secs, "meta:editing-duration");
		}
	} else if (strcmp(kind, "pdf") == 0) {
		rc = pdf_flags(d);
	} else if (strcmp(kind, "jpeg") == 0) {
		rc = order(d, date_of(d, "DateTimeOriginal"), date_of(d, "ModifyDate"));
	}
	if (rc == 0)
		rc = future_dates(d, now, ingested);
	if (rc == 0 && ext_mismatch)
		rc = flag(d, "extension-mismatch", "the extension '.%s' names another type than the content's",
			  ext_mismatch);
	return rc;
}
