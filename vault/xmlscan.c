/*
 * xmlscan.c — see xmlscan.h. No DTD is read and no entity but the predefined five is
 * expanded (so no entity bombs); a DOCTYPE is skipped.
 */
#include "xmlscan.h"

#include <stdio.h>
#include <stdlib.h>

#define ATTR_MAX 64
#define TEXT_MAX ((size_t)1 << 20)

typedef struct frame {
	char name[XML_NAME_MAX];
	bool has_child;
} frame;

typedef struct scan {
	const uint8_t *p;
	size_t n, i;
	frame stack[XML_DEPTH_MAX];
	int depth;
	size_t elements;
	buf text;
	xml_fn fn;
	void *ud;
} scan;

static bool starts(const scan *s, const char *lit)
{
	size_t k = strlen(lit);
	return s->n - s->i >= k && memcmp(s->p + s->i, lit, k) == 0;
}

/* Move past the next occurrence of lit; false when there is none. */
static bool skip_past(scan *s, const char *lit)
{
	size_t k = strlen(lit);
	const uint8_t *at = s->i < s->n ? memmem(s->p + s->i, s->n - s->i, lit, k) : NULL;
	if (!at)
		return false;
	s->i = (size_t)(at - s->p) + k;
	return true;
}

/* One reference at p[0] == '&': its length, 0 when it is not one we decode. */
static size_t reference(const uint8_t *p, size_t n, buf *out)
{
	static const struct {
		const char *name;
		char c;
	} named[] = {{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}};
	for (size_t k = 0; k < ARRAY_LEN(named); k++) {
		size_t l = strlen(named[k].name);
		if (n >= l && memcmp(p, named[k].name, l) == 0) {
			buf_putc(out, named[k].c);
			return l;
		}
	}
	if (n < 4 || p[1] != '#')
		return 0;
	bool hex = p[2] == 'x';
	uint32_t c = 0;
	size_t i = hex ? 3 : 2, digits = 0;
	for (; i < n && i < 12 && p[i] != ';'; i++, digits++) {
		int v = p[i] >= '0' && p[i] <= '9' ? p[i] - '0'
			: hex && (p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f' ? (p[i] | 0x20) - 'a' + 10
										: -1;
		if (v < 0)
			return 0;
		c = c * (hex ? 16 : 10) + (uint32_t)v;
	}
	if (i >= n || p[i] != ';' || digits == 0 || c == 0 || c > 0x10FFFF || (c >= 0xD800 && c < 0xE000))
		return 0;
	buf_put_utf8(out, c);
	return i + 1;
}

static void put_decoded(buf *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t k = p[i] == '&' ? reference(p + i, n - i, out) : 0;
		if (k) {
			i += k;
		} else {
			buf_putc(out, p[i]);
			i++;
		}
	}
}

static bool name_char(uint8_t c)
{
	return c > 0x20 && !strchr("<>/=\"'?!", c);
}

static size_t read_name(scan *s, char *out)
{
	size_t k = 0;
	while (s->i < s->n && name_char(s->p[s->i])) {
		if (k + 1 < XML_NAME_MAX)
			out[k++] = (char)s->p[s->i];
		s->i++;
	}
	out[k] = '\0';
	return k;
}

static void skip_space(scan *s)
{
	while (s->i < s->n && (s->p[s->i] == ' ' || s->p[s->i] == '\t' || s->p[s->i] == '\r' ||
			       s->p[s->i] == '\n'))
		s->i++;
}

typedef struct attrs {
	char names[ATTR_MAX][XML_NAME_MAX];
	buf vals[ATTR_MAX];
	const char *list[2 * ATTR_MAX];
	size_t n;
} attrs;

static void attrs_free(attrs *a)
{
	for (size_t k = 0; k < a->n; k++)
		buf_free(&a->vals[k]);
	a->n = 0;
}

/* Attributes up to '>' or '/>'; 1 when the tag ends with '/>', 0 with '>', -1 malformed. */
static int read_attrs(scan *s, attrs *a)
{
	for (;;) {
		skip_space(s);
		if (s->i >= s->n)
			return -1;
		if (s->p[s->i] == '>') {
			s->i++;
			return 0;
		}
		if (starts(s, "/>")) {
			s->i += 2;
			return 1;
		}
		char name[XML_NAME_MAX];
		if (!read_name(s, name))
			return -1;
		skip_space(s);
		if (s->i >= s->n || s->p[s->i] != '=')
			return -1;
		s->i++;
		skip_space(s);
		if (s->i >= s->n || (s->p[s->i] != '"' && s->p[s->i] != '\''))
			return -1;
		uint8_t q = s->p[s->i++];
		const uint8_t *end = memchr(s->p + s->i, q, s->n - s->i);
		if (!end)
			return -1;
		if (a->n < ATTR_MAX) {
			memcpy(a->names[a->n], name, sizeof name);
			buf_init(&a->vals[a->n], TEXT_MAX);
			put_decoded(&a->vals[a->n], s->p + s->i, (size_t)(end - s->p) - s->i);
			buf_putc(&a->vals[a->n], 0);
			a->n++;
		}
		s->i = (size_t)(end - s->p) + 1;
	}
}

static int start_tag(scan *s, attrs *a)
{
	char name[XML_NAME_MAX];
	s->i++; /* '<' */
	if (!read_name(s, name) || s->depth == XML_DEPTH_MAX || ++s->elements > XML_ELEMENTS_MAX)
		return 1;
	int empty = read_attrs(s, a);
	if (empty < 0)
		return 1;
	for (size_t k = 0; k < a->n; k++) {
		if (buf_check(&a->vals[k]) < 0)
			return buf_check(&a->vals[k]);
		a->list[2 * k] = a->names[k];
		a->list[2 * k + 1] = (const char *)a->vals[k].p;
	}
	if (s->depth)
		s->stack[s->depth - 1].has_child = true;
	xml_event e = {.type = XML_START, .depth = s->depth, .name = name,
		       .parent = s->depth ? s->stack[s->depth - 1].name : "", .attr = a->list,
		       .n_attr = a->n, .empty = empty == 1};
	int rc = s->fn(&e, s->ud);
	if (rc)
		return rc;
	if (empty) {
		xml_event end = {.type = XML_END, .depth = s->depth, .name = name, .parent = e.parent,
				 .text = "", .leaf = true, .empty = true};
		return s->fn(&end, s->ud);
	}
	memcpy(s->stack[s->depth].name, name, sizeof name);
	s->stack[s->depth].has_child = false;
	s->depth++;
	s->text.n = 0;
	return 0;
}

static int end_tag(scan *s)
{
	char name[XML_NAME_MAX];
	s->i += 2; /* "</" */
	read_name(s, name);
	skip_space(s);
	if (s->i >= s->n || s->p[s->i] != '>' || s->depth == 0 ||
	    strcmp(s->stack[s->depth - 1].name, name) != 0)
		return 1; /* malformed: stop */
	s->i++;
	s->depth--;
	frame *f = &s->stack[s->depth];
	buf_putc(&s->text, 0);
	if (buf_check(&s->text) < 0)
		return buf_check(&s->text);
	xml_event e = {.type = XML_END, .depth = s->depth, .name = f->name,
		       .parent = s->depth ? s->stack[s->depth - 1].name : "", .leaf = !f->has_child,
		       .text = f->has_child ? "" : (const char *)s->text.p,
		       .text_len = f->has_child ? 0 : s->text.n - 1};
	int rc = s->fn(&e, s->ud);
	s->text.n = 0;
	return rc;
}

/* One markup construct at '<'; non-zero stops (1: malformed, <0: error, else fn's). */
static int markup(scan *s)
{
	if (starts(s, "<?"))
		return skip_past(s, "?>") ? 0 : 1;
	if (starts(s, "<!--"))
		return skip_past(s, "-->") ? 0 : 1;
	if (starts(s, "<![CDATA[")) {
		size_t from = s->i + 9;
		if (!skip_past(s, "]]>"))
			return 1;
		buf_put(&s->text, s->p + from, s->i - 3 - from);
		return 0;
	}
	if (starts(s, "<!")) { /* DOCTYPE: skipped, internal subset and all */
		const uint8_t *gt = memchr(s->p + s->i, '>', s->n - s->i);
		const uint8_t *br = memchr(s->p + s->i, '[', s->n - s->i);
		if (br && (!gt || br < gt))
			return skip_past(s, "]>") ? 0 : 1;
		return skip_past(s, ">") ? 0 : 1;
	}
	if (starts(s, "</"))
		return end_tag(s);
	attrs *a = malloc(sizeof *a);
	if (!a)
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	a->n = 0;
	int rc = start_tag(s, a);
	attrs_free(a);
	free(a);
	return rc;
}

int xml_scan(const uint8_t *p, size_t n, xml_fn fn, void *ud)
{
	scan *s = malloc(sizeof *s);
	if (!s)
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	*s = (scan){.p = p, .n = n, .fn = fn, .ud = ud};
	buf_init(&s->text, TEXT_MAX);
	int rc = 0;
	while (rc == 0 && s->i < s->n) {
		const uint8_t *lt = memchr(s->p + s->i, '<', s->n - s->i);
		size_t upto = lt ? (size_t)(lt - s->p) : s->n;
		if (s->depth)
			put_decoded(&s->text, s->p + s->i, upto - s->i);
		s->i = upto;
		if (lt)
			rc = markup(s);
	}
	buf_free(&s->text);
	free(s);
	return rc < 0 ? rc : 0;
}
