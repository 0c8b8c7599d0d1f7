/*
 * dkimkeys.c — see dkimkeys.h.
 */
#include "dkimkeys.h"
#include "mail.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

int dkim_keyset_add(dkim_keyset *ks, const char *name, size_t nl, const uint8_t *v, size_t vl,
		    uint64_t seq, const char *from)
{
	if (ks->n == DKIMKEYS_RECORDS_MAX)
		return custos_error_set(CUSTOS_ELIMIT, "more than %d key records", DKIMKEYS_RECORDS_MAX);
	if (nl && name[nl - 1] == '.')
		nl--;
	if (nl == 0 || nl > 2 * DKIM_VALUE_MAX)
		return custos_error_set(CUSTOS_EINVALID, "a record name that is empty or too long");
	if (vl > DKIMKEYS_VALUE_MAX)
		return custos_error_set(CUSTOS_EINVALID, "a TXT value over %zu bytes", DKIMKEYS_VALUE_MAX);
	dkim_record *r = realloc(ks->r, (ks->n + 1) * sizeof *r);
	if (!r)
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	ks->r = r;
	r = &ks->r[ks->n];
	memset(r, 0, sizeof *r);
	r->name = malloc(nl + 1);
	r->value = malloc(vl + 1);
	r->from = from ? strdup(from) : NULL;
	if (!r->name || !r->value || (from && !r->from)) {
		free(r->name);
		free(r->value);
		free(r->from);
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	}
	for (size_t i = 0; i < nl; i++)
		r->name[i] = (char)tolower((unsigned char)name[i]);
	r->name[nl] = '\0';
	if (vl)
		memcpy(r->value, v, vl);
	r->value[vl] = 0;
	r->value_len = vl;
	r->seq = seq;
	ks->n++;
	return 0;
}

void dkim_keyset_free(dkim_keyset *ks)
{
	for (size_t i = 0; i < ks->n; i++) {
		free(ks->r[i].name);
		free(ks->r[i].value);
		free(ks->r[i].from);
	}
	free(ks->r);
	memset(ks, 0, sizeof *ks);
}

static int find(void *ud, const char *name, const uint8_t **txt, size_t *n, const char **from)
{
	dkim_keyset *ks = ud;
	for (size_t i = ks->n; i-- > 0;)
		if (strcmp(ks->r[i].name, name) == 0) {
			*txt = ks->r[i].value;
			*n = ks->r[i].value_len;
			if (ks->r[i].seq)
				snprintf(ks->from_text, sizeof ks->from_text, "event %llu%s%s",
					 (unsigned long long)ks->r[i].seq, ks->r[i].from ? ": " : "",
					 ks->r[i].from ? ks->r[i].from : "");
			else
				snprintf(ks->from_text, sizeof ks->from_text, "%s",
					 ks->r[i].from ? ks->r[i].from : "");
			*from = ks->from_text;
			return 1;
		}
	return 0;
}

dkim_key_lookup dkim_keyset_lookup(dkim_keyset *ks)
{
	return (dkim_key_lookup){find, ks};
}

/* ------------------------------------------------------------ zone text */

typedef struct zline {
	const uint8_t *p;
	size_t n, i;
	unsigned lineno;
} zline;

static void skip_blank(zline *z)
{
	while (z->i < z->n && (z->p[z->i] == ' ' || z->p[z->i] == '\t' || z->p[z->i] == '\r'))
		z->i++;
	if (z->i < z->n && z->p[z->i] == ';')
		z->i = z->n; /* a comment to the end of the line */
}

/* The next word (bare) into out; false at the end of the line. */
static bool word(zline *z, const uint8_t **w, size_t *wl)
{
	skip_blank(z);
	if (z->i >= z->n)
		return false;
	size_t s = z->i;
	while (z->i < z->n && !strchr(" \t\r;", z->p[z->i]))
		z->i++;
	*w = z->p + s;
	*wl = z->i - s;
	return true;
}

static int zerr(const zline *z, const char *why)
{
	return custos_error_set(CUSTOS_EINVALID, "line %u: %s", z->lineno, why);
}

/* One character-string, quoted or bare, appended to out. 0, 1 at the end, <0 on error. */
static int string(zline *z, buf *out)
{
	skip_blank(z);
	if (z->i >= z->n)
		return 1;
	bool quoted = z->p[z->i] == '"';
	if (quoted)
		z->i++;
	for (;;) {
		if (z->i >= z->n)
			return quoted ? zerr(z, "a quoted string is not closed") : 0;
		uint8_t c = z->p[z->i];
		if (quoted ? c == '"' : strchr(" \t\r;", c) != NULL) {
			z->i += quoted;
			return 0;
		}
		z->i++;
		if (c == '\\') {
			if (z->i >= z->n)
				return zerr(z, "a '\\' at the end of the line");
			if (z->i + 2 < z->n && isdigit(z->p[z->i]) && isdigit(z->p[z->i + 1]) &&
			    isdigit(z->p[z->i + 2])) {
				int v = (z->p[z->i] - '0') * 100 + (z->p[z->i + 1] - '0') * 10 + (z->p[z->i + 2] - '0');
				if (v > 255)
					return zerr(z, "a \\DDD escape over 255");
				c = (uint8_t)v;
				z->i += 3;
			} else {
				c = z->p[z->i++];
			}
		}
		buf_putc(out, c);
	}
}

static bool word_is(const uint8_t *w, size_t wl, const char *s)
{
	if (wl != strlen(s))
		return false;
	for (size_t i = 0; i < wl; i++)
		if (tolower(w[i]) != tolower((unsigned char)s[i]))
			return false;
	return true;
}

static int zone_line(zline *z, dkim_keyset *ks)
{
	const uint8_t *name, *w;
	size_t nl, wl;
	if (!word(z, &name, &nl))
		return 0; /* empty or a comment */
	if (!word(z, &w, &wl))
		return zerr(z, "a name without a record");
	if (isdigit(w[0]) && !word(z, &w, &wl)) /* TTL */
		return zerr(z, "a TTL without a record");
	if ((word_is(w, wl, "IN") || word_is(w, wl, "CH") || word_is(w, wl, "HS")) && !word(z, &w, &wl))
		return zerr(z, "a class without a record");
	if (!word_is(w, wl, "TXT"))
		return zerr(z, "not a TXT record");
	buf v;
	buf_init(&v, DKIMKEYS_VALUE_MAX);
	int rc, strings = 0;
	while ((rc = string(z, &v)) == 0)
		strings++;
	if (rc < 0 || (rc = buf_check(&v)) < 0) {
		buf_free(&v);
		return rc < 0 ? rc : zerr(z, "a TXT value too long");
	}
	if (!strings) {
		buf_free(&v);
		return zerr(z, "a TXT record without a value");
	}
	rc = dkim_keyset_add(ks, (const char *)name, nl, v.p ? v.p : (const uint8_t *)"", v.n, 0, NULL);
	buf_free(&v);
	return rc < 0 ? custos_error_wrap(rc, "line %u", z->lineno) : 0;
}

int dkim_zone_parse(const uint8_t *p, size_t n, dkim_keyset *ks)
{
	if (n > DKIMKEYS_FILE_MAX)
		return custos_error_set(CUSTOS_ELIMIT, "a key file over %zu bytes", DKIMKEYS_FILE_MAX);
	const uint8_t *nul = memchr(p, 0, n);
	if (nul) /* text, never binary: and the delimiter tests below need no NUL */
		return custos_error_set(CUSTOS_EINVALID, "a NUL byte at offset %zu: not a text file",
					(size_t)(nul - p));
	unsigned lineno = 0;
	for (size_t off = 0; off < n;) {
		const uint8_t *lf = memchr(p + off, '\n', n - off);
		size_t end = lf ? (size_t)(lf - p) : n;
		zline z = {p + off, end - off, 0, ++lineno};
		int rc = zone_line(&z, ks);
		if (rc < 0)
			return rc;
		off = lf ? end + 1 : n;
	}
	return 0;
}

int custos_dkim_check(const uint8_t *zone, size_t zn, const uint8_t *msg, size_t mn, int64_t now,
		      custos_dkim_sig **out, size_t *n, custos_arc *arc)
{
	dkim_keyset ks = {0};
	int rc = dkim_zone_parse(zone, zn, &ks);
	if (rc == 0) {
		dkim_key_lookup l = dkim_keyset_lookup(&ks);
		rc = dkim_verify(msg, mn, &l, now, out, n, arc);
	}
	dkim_keyset_free(&ks);
	return rc;
}

/* ------------------------------------------------------------ an mbox, message by message */

typedef struct mbox_check {
	dkim_key_lookup keys;
	int64_t now;
	buf msg;
	custos_dkim_mbox_fn fn;
	void *ud;
	int rc;
} mbox_check;

static int mb_begin(const container_member *m, void *ud)
{
	(void)m;
	mbox_check *c = ud;
	c->msg.n = 0;
	c->msg.failed = false;
	return 0;
}

static int mb_data(const uint8_t *p, size_t n, void *ud)
{
	mbox_check *c = ud;
	(void)buf_put(&c->msg, p, n); /* a message over the cap is reported, not fatal */
	return 0;
}

static int mb_end(const container_member *m, const char *outcome, const char *detail, void *ud)
{
	(void)outcome;
	(void)detail;
	mbox_check *c = ud;
	custos_dkim_sig *sigs = NULL;
	size_t n = 0;
	custos_arc arc = {0};
	int rc = c->msg.failed ? custos_error_set(CUSTOS_ELIMIT, "a message over %zu bytes", DKIM_MESSAGE_MAX)
			       : dkim_verify(c->msg.p, c->msg.n, &c->keys, c->now, &sigs, &n, &arc);
	rc = c->fn(m->index + 1, rc, sigs, n, &arc, c->ud);
	dkim_arc_clear(&arc);
	free(sigs);
	return rc < 0 ? rc : 0;
}

int custos_dkim_check_mbox(const uint8_t *zone, size_t zn, int fd, int64_t now,
			   custos_dkim_mbox_fn fn, void *ud)
{
	dkim_keyset ks = {0};
	int rc = dkim_zone_parse(zone, zn, &ks);
	if (rc < 0)
		return rc;
	mbox_check c = {.keys = dkim_keyset_lookup(&ks), .now = now, .fn = fn, .ud = ud};
	buf_init(&c.msg, DKIM_MESSAGE_MAX);
	container_limits l;
	container_limits_default(&l);
	container_ops ops = {mb_begin, mb_data, mb_end, &c};
	container_result r;
	rc = mail_read(fd, MAIL_MBOX, &l, &ops, &r);
	if (rc == 0 && r.stop)
		rc = custos_error_set(CUSTOS_EINVALID, "the mbox ended early: %s %s", r.stop, r.detail);
	buf_free(&c.msg);
	dkim_keyset_free(&ks);
	return rc;
}

void custos_arc_clear(custos_arc *arc)
{
	dkim_arc_clear(arc);
}
