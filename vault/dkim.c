/*
 * dkim.c — see dkim.h. Canonicalisation follows RFC 6376 §3.4 as python3-dkim reads
 * stored mail: every line end (LF, with or without CR) counts as CRLF.
 */
#include "dkim.h"
#include "mailmsg.h"

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#define TAGS_MAX 64
#define HNAMES_MAX 512
#define SLOP 36000 /* seconds of clock skew python3-dkim allows on t= */

static bool is_space(uint8_t c) /* Python's bytes.strip() set */
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static void strip(const uint8_t **p, size_t *n)
{
	while (*n && is_space((*p)[0])) {
		(*p)++;
		(*n)--;
	}
	while (*n && is_space((*p)[*n - 1]))
		(*n)--;
}

static bool eq(const uint8_t *p, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(p, s, n) == 0;
}

/* Every line end ("\n" or "\r\n") as CRLF. */
static void put_crlf(buf *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n' && !(i > 0 && p[i - 1] == '\r'))
			buf_putc(out, '\r');
		buf_putc(out, p[i]);
	}
}

/* ------------------------------------------------------------ tag=value lists */

int dkim_tags_parse(const uint8_t *p, size_t n, dkim_tag *tags, size_t max)
{
	strip(&p, &n);
	size_t k = 0;
	while (n) {
		const uint8_t *semi = memchr(p, ';', n);
		size_t len = semi ? (size_t)(semi - p) : n;
		const uint8_t *spec = p;
		p += len + (semi ? 1 : 0);
		n -= len + (semi ? 1 : 0);
		if (!semi && len == 0)
			break;
		if (semi && n == 0 && len == 0)
			break; /* a trailing ';' */
		const uint8_t *eqs = memchr(spec, '=', len);
		if (!eqs)
			return custos_error_set(CUSTOS_EINVALID, "a tag without '='");
		dkim_tag t = {spec, eqs + 1, (size_t)(eqs - spec), (size_t)(spec + len - eqs - 1)};
		strip(&t.name, &t.name_len);
		strip(&t.val, &t.val_len);
		if (t.name_len == 0 || !((t.name[0] | 0x20) >= 'a' && (t.name[0] | 0x20) <= 'z'))
			return custos_error_set(CUSTOS_EINVALID, "a tag name that is not a name");
		for (size_t j = 0; j < k; j++)
			if (tags[j].name_len == t.name_len && memcmp(tags[j].name, t.name, t.name_len) == 0)
				return custos_error_set(CUSTOS_EINVALID, "a repeated tag");
		if (k == max)
			return custos_error_set(CUSTOS_EINVALID, "more than %zu tags", max);
		tags[k++] = t;
		if (!semi)
			break;
	}
	return (int)k;
}

static const dkim_tag *tag(const dkim_tag *t, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (eq(t[i].name, t[i].name_len, name))
			return &t[i];
	return NULL;
}

static void copy_value(char *dst, size_t cap, const dkim_tag *t)
{
	size_t k = 0;
	for (size_t i = 0; t && i < t->val_len && k + 1 < cap; i++)
		dst[k++] = t->val[i] >= 0x20 && t->val[i] < 0x7f ? (char)t->val[i] : '?';
	dst[k] = '\0';
}

/* base64 with white space anywhere (b=, bh=, p=). */
static int tag_b64_decode(const dkim_tag *t, uint8_t *out, size_t cap, size_t *len)
{
	if (!t)
		return -1;
	return sodium_base642bin(out, cap, (const char *)t->val, t->val_len, " \t\r\n", len, NULL,
				 sodium_base64_VARIANT_ORIGINAL);
}

static bool all_digits(const dkim_tag *t, size_t max)
{
	if (!t || t->val_len == 0 || t->val_len > max)
		return false;
	for (size_t i = 0; i < t->val_len; i++)
		if (t->val[i] < '0' || t->val[i] > '9')
			return false;
	return true;
}

static uint64_t number(const dkim_tag *t) /* saturating */
{
	uint64_t v = 0;
	for (size_t i = 0; i < t->val_len; i++)
		v = v > (UINT64_MAX - 9) / 10 ? UINT64_MAX : v * 10 + (uint64_t)(t->val[i] - '0');
	return v;
}

/* ------------------------------------------------------------ keys */

typedef struct dkim_pk {
	char type[16];
	unsigned bits;
	EVP_PKEY *rsa;
	uint8_t ed[32];
} dkim_pk;

static int key_fail(char *why, size_t whyn, const char *s)
{
	snprintf(why, whyn, "%s", s);
	return CUSTOS_EINVALID;
}

static int key_parse(const uint8_t *txt, size_t n, dkim_pk *pk, char *why, size_t whyn)
{
	memset(pk, 0, sizeof *pk);
	dkim_tag t[TAGS_MAX];
	int nt = n ? dkim_tags_parse(txt, n, t, TAGS_MAX) : 0;
	if (n == 0)
		return key_fail(why, whyn, "the key record is empty");
	if (nt < 0)
		return key_fail(why, whyn, "the key record is not a tag list");
	const dkim_tag *v = tag(t, nt, "v"), *k = tag(t, nt, "k"), *p = tag(t, nt, "p"),
		       *s = tag(t, nt, "s");
	if (v && !eq(v->val, v->val_len, "DKIM1"))
		return key_fail(why, whyn, "the key record's v= is not DKIM1");
	if (s && !eq(s->val, s->val_len, "*") && !eq(s->val, s->val_len, "email"))
		return key_fail(why, whyn, "the key record's s= is not for email");
	uint8_t raw[4096];
	size_t len = 0;
	if (!p || p->val_len == 0)
		return key_fail(why, whyn, "the key is revoked (empty p=)");
	if (tag_b64_decode(p, raw, sizeof raw, &len) != 0)
		return key_fail(why, whyn, "the key record's p= is not base64");
	if (k && eq(k->val, k->val_len, "ed25519")) {
		if (len != 32)
			return key_fail(why, whyn, "an ed25519 key is not 32 bytes");
		memcpy(pk->ed, raw, 32);
		snprintf(pk->type, sizeof pk->type, "ed25519");
		pk->bits = 256;
		return 0;
	}
	if (k && !eq(k->val, k->val_len, "rsa"))
		return key_fail(why, whyn, "the key record's k= is unknown");
	const unsigned char *q = raw;
	pk->rsa = d2i_PUBKEY(NULL, &q, (long)len);
	if (pk->rsa && EVP_PKEY_get_base_id(pk->rsa) != EVP_PKEY_RSA) {
		EVP_PKEY_free(pk->rsa);
		pk->rsa = NULL;
		return key_fail(why, whyn, "the key record's p= is not an RSA key");
	}
	if (!pk->rsa) { /* a bare RSAPublicKey (PKCS #1), which some publish */
		q = raw;
		pk->rsa = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, (long)len);
	}
	if (!pk->rsa)
		return key_fail(why, whyn, "the key record's p= is not an RSA public key");
	snprintf(pk->type, sizeof pk->type, "rsa");
	pk->bits = (unsigned)EVP_PKEY_get_bits(pk->rsa);
	return 0;
}

int dkim_key_describe(const uint8_t *txt, size_t n, char type[16], unsigned *bits, char *why,
		      size_t whyn)
{
	dkim_pk pk;
	int rc = key_parse(txt, n, &pk, why, whyn);
	if (rc == 0) {
		memcpy(type, pk.type, 16);
		*bits = pk.bits;
	}
	EVP_PKEY_free(pk.rsa);
	return rc;
}

/* ------------------------------------------------------------ canonical forms */

/* "[\t ]+" as one space; with strip_eol, a run just before CRLF dropped. */
static void put_compressed(buf *out, const uint8_t *p, size_t n, bool strip_eol)
{
	for (size_t i = 0; i < n;) {
		if (p[i] != ' ' && p[i] != '\t') {
			buf_putc(out, p[i++]);
			continue;
		}
		size_t j = i;
		while (j < n && (p[j] == ' ' || p[j] == '\t'))
			j++;
		if (!(strip_eol && j + 1 < n && p[j] == '\r' && p[j + 1] == '\n'))
			buf_putc(out, ' ');
		i = j;
	}
}

/* All empty lines at the end dropped; a body not ending in CRLF gets one. */
static void strip_trailing_lines(buf *b)
{
	if (b->n < 2 || b->p[b->n - 2] != '\r' || b->p[b->n - 1] != '\n') {
		buf_put(b, "\r\n", 2);
		return;
	}
	while (b->n >= 4 && memcmp(b->p + b->n - 4, "\r\n\r\n", 4) == 0)
		b->n -= 2;
}

static int body_canon(const uint8_t *body, size_t n, bool relaxed, buf *out)
{
	if (relaxed) {
		put_compressed(out, body, n, true);
		strip_trailing_lines(out);
		if (out->n == 2 && out->p[0] == '\r')
			out->n = 0; /* an empty body is empty, not CRLF */
	} else {
		buf_put(out, body, n);
		strip_trailing_lines(out);
	}
	return buf_check(out);
}

/* One header field (name and CRLF-normalised value, CRLF at its end) in canonical form. */
static void header_canon(buf *out, const uint8_t *name, size_t nl, const uint8_t *v, size_t vn,
			 bool relaxed)
{
	if (!relaxed) {
		buf_put(out, name, nl);
		buf_putc(out, ':');
		buf_put(out, v, vn);
		return;
	}
	for (size_t i = 0; i < nl; i++)
		buf_putc(out, name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
	buf_putc(out, ':');
	buf unf;
	buf_init(&unf, vn + 1);
	for (size_t i = 0; i < vn; i++)
		if (!(v[i] == '\r' && i + 1 < vn && v[i + 1] == '\n') &&
		    !(v[i] == '\n' && i > 0 && v[i - 1] == '\r'))
			buf_putc(&unf, v[i]);
	buf cmp;
	buf_init(&cmp, vn + 1);
	put_compressed(&cmp, unf.p, unf.n, false);
	const uint8_t *s = cmp.p;
	size_t sn = cmp.n;
	strip(&s, &sn);
	buf_put(out, s, sn);
	buf_put(out, "\r\n", 2);
	buf_free(&unf);
	buf_free(&cmp);
}

/* The signature field's value with every b= tag's value removed (python3-dkim's RE_BTAG:
 * "[;\s]b\s*=" then white space and base64 characters, and a line end at the very end). */
static void remove_b(buf *out, const uint8_t *v, size_t n)
{
	for (size_t i = 0; i < n;) {
		bool lead = v[i] == ';' || is_space(v[i]);
		size_t j = i + 1;
		if (lead && j < n && v[j] == 'b') {
			j++;
			while (j < n && is_space(v[j]))
				j++;
			if (j < n && v[j] == '=') {
				buf_put(out, v + i, j + 1 - i);
				j++;
				while (j < n && (is_space(v[j]) || mail_b64_value(v[j]) >= 0 || v[j] == '='))
					j++;
				i = j;
				continue;
			}
		}
		buf_putc(out, v[i++]);
	}
}

/* ------------------------------------------------------------ one signature */

/* The three signature fields verified the same way (RFC 6376, RFC 8617). */
enum sig_kind { SIG_DKIM, SIG_AMS, SIG_AS };

typedef struct msg {
	mail_header h;
	mail_field *norm; /* each field with CRLF line ends: raw bytes in one buffer */
	buf fields;
	size_t *off; /* field i: fields.p + off[i], name_len from h, value after the colon */
	buf body;       /* the body, CRLF line ends */
	buf canon[2];   /* simple, relaxed: computed on first use */
	bool have[2];
	int64_t now;
	const dkim_key_lookup *keys;
	/* an ARC-Seal signs the ARC fields of instances 1..i, in that order (RFC 8617 §5.1.1) */
	size_t arc_fields[3 * CUSTOS_ARC_MAX];
	size_t n_arc_fields;
} msg;

static const uint8_t *field_at(const msg *m, size_t i, size_t *len)
{
	*len = m->off[i + 1] - m->off[i];
	return m->fields.p + m->off[i];
}

static int fail(dkim_sig *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(dkim_sig *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof r->reason, fmt, ap);
	va_end(ap);
	snprintf(r->verdict, sizeof r->verdict, "fail");
	return 0;
}

static int check_tags(dkim_sig *r, const dkim_tag *t, int nt, int64_t now, int kind)
{
	static const char *const need[3][7] = {{"v", "a", "b", "bh", "d", "h", "s"},
					       {"i", "a", "b", "bh", "d", "h", "s"},
					       {"i", "a", "b", "cv", "d", "s", NULL}};
	for (size_t i = 0; i < 7 && need[kind][i]; i++)
		if (!tag(t, nt, need[kind][i]))
			return fail(r, "the signature has no %s= tag", need[kind][i]);
	if (kind == SIG_AS && tag(t, nt, "h"))
		return fail(r, "an ARC-Seal with an h= tag");
	if (kind != SIG_DKIM && !eq(tag(t, nt, "a")->val, tag(t, nt, "a")->val_len, "rsa-sha256"))
		return fail(r, "ARC allows only a=rsa-sha256");
	const dkim_tag *a = tag(t, nt, "a"), *d = tag(t, nt, "d"), *i = tag(t, nt, "i"),
		       *l = tag(t, nt, "l"), *q = tag(t, nt, "q"), *ts = tag(t, nt, "t"),
		       *x = tag(t, nt, "x"), *v = tag(t, nt, "v");
	if (!eq(a->val, a->val_len, "rsa-sha256") && !eq(a->val, a->val_len, "rsa-sha1") &&
	    !eq(a->val, a->val_len, "ed25519-sha256"))
		return fail(r, "unknown algorithm a=%s", r->a);
	for (size_t k = 0; k < d->val_len; k++)
		if (strchr("()<>[]:;@\\,", d->val[k]) && d->val[k])
			return fail(r, "d= is not a domain");
	if (i && kind == SIG_DKIM) {
		size_t dl = d->val_len, il = i->val_len;
		bool ok = il > dl && (i->val[il - dl - 1] == '@' || i->val[il - dl - 1] == '.');
		for (size_t k = 0; ok && k < dl; k++)
			ok = (i->val[il - dl + k] | 0x20) == (d->val[k] | 0x20);
		if (!ok)
			return fail(r, "i= is not in the domain d= names");
	}
	if (l && !all_digits(l, 76) && l->val_len != 0)
		return fail(r, "l= is not a number");
	if (q && !eq(q->val, q->val_len, "dns/txt"))
		return fail(r, "q= is not dns/txt");
	if (ts && !all_digits(ts, 20))
		return fail(r, "t= is not a number");
	if (x && !all_digits(x, 20))
		return fail(r, "x= is not a number");
	if (v && !eq(v->val, v->val_len, "1"))
		return fail(r, "v= is not 1");
	r->has_l = l && l->val_len;
	r->l = r->has_l ? number(l) : 0;
	r->has_t = ts != NULL;
	r->t = ts ? (int64_t)(number(ts) > INT64_MAX ? INT64_MAX : number(ts)) : 0;
	r->has_x = x != NULL;
	r->x = x ? (int64_t)(number(x) > INT64_MAX ? INT64_MAX : number(x)) : 0;
	r->expired = r->has_x && r->x < now;
	if (r->has_t && r->t > now + SLOP)
		return fail(r, "t= is after the time of analysis");
	return 1;
}

static const buf *canon_body(msg *m, bool relaxed)
{
	if (!m->have[relaxed]) {
		buf_init(&m->canon[relaxed], BUF_LIMIT_DEFAULT);
		if (body_canon(m->body.p, m->body.n, relaxed, &m->canon[relaxed]) < 0)
			return NULL;
		m->have[relaxed] = true;
	}
	return &m->canon[relaxed];
}

/* The h= names, lower case; *n of them. */
static size_t split_h(const dkim_tag *h, uint8_t names[][64], size_t max, dkim_sig *r)
{
	size_t n = 0, k = 0, out = 0;
	for (size_t i = 0; i <= h->val_len && n < max; i++) {
		if (i == h->val_len || h->val[i] == ':') {
			while (k && is_space(names[n][k - 1]))
				k--;
			names[n][k] = '\0';
			if (out + k + 2 < sizeof r->h) {
				if (n)
					r->h[out++] = ':';
				memcpy(r->h + out, names[n], k);
				out += k;
				r->h[out] = '\0';
			}
			n++;
			k = 0;
		} else if (!(k == 0 && is_space(h->val[i])) && k + 1 < 64) {
			uint8_t c = h->val[i];
			names[n][k++] = c >= 'A' && c <= 'Z' ? c + 32 : c;
		}
	}
	return n;
}

static bool field_is(const msg *m, size_t i, const uint8_t *name)
{
	return mail_name_is(m->h.f[i].name, m->h.f[i].name_len, (const char *)name);
}

/* The header fields h= selects, bottom-up per name (RFC 6376 §5.4.2), canonical. */
static void hash_input(const msg *m, uint8_t names[][64], size_t nn, bool relaxed, size_t self,
		       buf *out)
{
	size_t last[HNAMES_MAX];
	for (size_t k = 0; k < nn; k++) {
		size_t from = m->h.n;
		for (size_t j = k; j-- > 0;)
			if (strcmp((char *)names[j], (char *)names[k]) == 0) {
				from = last[j];
				break;
			}
		size_t i = from;
		while (i > 0) {
			i--;
			if (field_is(m, i, names[k])) {
				size_t len;
				const uint8_t *f = field_at(m, i, &len);
				size_t nl = m->h.f[i].name_len;
				header_canon(out, f, nl, f + nl + 1, len - nl - 1, relaxed);
				break;
			}
		}
		last[k] = i;
	}
	size_t len;
	const uint8_t *f = field_at(m, self, &len);
	size_t nl = m->h.f[self].name_len;
	buf nob;
	buf_init(&nob, len + 1);
	remove_b(&nob, f + nl + 1, len - nl - 1);
	size_t before = out->n;
	header_canon(out, f, nl, nob.p, nob.n, relaxed);
	while (out->n > before && is_space(out->p[out->n - 1]))
		out->n--; /* hashed without its line end */
	buf_free(&nob);
}

static void note_duplicates(const msg *m, uint8_t names[][64], size_t nn, dkim_sig *r)
{
	size_t out = 0;
	for (size_t k = 0; k < nn; k++) {
		bool seen = false;
		size_t signed_n = 0;
		for (size_t j = 0; j < nn; j++) {
			seen |= j < k && strcmp((char *)names[j], (char *)names[k]) == 0;
			signed_n += strcmp((char *)names[j], (char *)names[k]) == 0;
		}
		if (seen || !names[k][0] || mail_header_count(&m->h, (char *)names[k]) <= signed_n)
			continue;
		size_t l = strlen((char *)names[k]);
		if (out + l + 2 < sizeof r->unsigned_dup) {
			if (out)
				r->unsigned_dup[out++] = ',';
			memcpy(r->unsigned_dup + out, names[k], l + 1);
			out += l;
		}
	}
}

static bool crypto_ok(const dkim_pk *pk, bool sha1, const buf *in, const uint8_t *sig, size_t sn)
{
	uint8_t dg[EVP_MAX_MD_SIZE];
	unsigned dl = 0;
	const EVP_MD *md = sha1 ? EVP_sha1() : EVP_sha256();
	if (!EVP_Digest(in->p, in->n, dg, &dl, md, NULL))
		return false;
	if (strcmp(pk->type, "ed25519") == 0)
		return sn == 64 && crypto_sign_verify_detached(sig, dg, dl, pk->ed) == 0;
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pk->rsa, NULL);
	bool ok = c && EVP_PKEY_verify_init(c) == 1 &&
		  EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1 &&
		  EVP_PKEY_CTX_set_signature_md(c, md) == 1 &&
		  EVP_PKEY_verify(c, sig, sn, dg, dl) == 1;
	EVP_PKEY_CTX_free(c);
	return ok;
}

static void name_weakness(dkim_sig *r, bool sha1, const dkim_pk *pk)
{
	size_t o = 0;
	if (sha1)
		o += (size_t)snprintf(r->weak + o, sizeof r->weak - o, "rsa-sha1");
	if (strcmp(pk->type, "rsa") == 0 && pk->bits < 1024)
		snprintf(r->weak + o, sizeof r->weak - o, "%srsa-%u-bit", o ? "," : "", pk->bits);
}

/* An ARC-Seal: the ARC fields of instances 1..i (relaxed), its own without b= and last. */
static int verify_seal(msg *m, size_t self, const dkim_tag *t, int nt, dkim_sig *r,
		       const dkim_pk *pk)
{
	buf in;
	buf_init(&in, BUF_LIMIT_DEFAULT);
	for (size_t k = 0; k < m->n_arc_fields; k++) {
		size_t idx = m->arc_fields[k], len;
		const uint8_t *f = field_at(m, idx, &len);
		size_t nl = m->h.f[idx].name_len;
		if (idx != self) {
			header_canon(&in, f, nl, f + nl + 1, len - nl - 1, true);
			continue;
		}
		buf nob;
		buf_init(&nob, len + 1);
		remove_b(&nob, f + nl + 1, len - nl - 1);
		header_canon(&in, f, nl, nob.p, nob.n, true);
		while (in.n && is_space(in.p[in.n - 1]))
			in.n--;
		buf_free(&nob);
	}
	uint8_t sig[1024];
	size_t sl = 0;
	bool ok = buf_check(&in) == 0 && tag_b64_decode(tag(t, nt, "b"), sig, sizeof sig, &sl) == 0 &&
		  crypto_ok(pk, false, &in, sig, sl);
	buf_free(&in);
	if (!ok)
		return fail(r, "the seal does not verify (an ARC field was changed, or another key sealed)");
	snprintf(r->verdict, sizeof r->verdict, "pass");
	return 0;
}

static int verify_keyed(msg *m, size_t self, const dkim_tag *t, int nt, dkim_sig *r,
			const dkim_pk *pk, int kind)
{
	bool sha1 = strcmp(r->a, "rsa-sha1") == 0;
	bool ed = strcmp(r->a, "ed25519-sha256") == 0;
	if (ed != (strcmp(pk->type, "ed25519") == 0))
		return fail(r, "the key is %s but a= is %s", pk->type, r->a);
	name_weakness(r, sha1, pk);
	if (kind == SIG_AS)
		return verify_seal(m, self, t, nt, r, pk);
	/* ARC signatures are relaxed unless they say otherwise (as python3-dkim reads them) */
	const char *c = r->c[0] ? r->c : kind == SIG_AMS ? "relaxed/relaxed" : "simple/simple";
	const char *slash = strchr(c, '/');
	size_t hl = slash ? (size_t)(slash - c) : strlen(c);
	const char *bc = slash ? slash + 1 : "simple";
	bool hrel = hl == 7 && memcmp(c, "relaxed", 7) == 0, brel = strcmp(bc, "relaxed") == 0;
	if ((!hrel && !(hl == 6 && memcmp(c, "simple", 6) == 0)) || (!brel && strcmp(bc, "simple") != 0) ||
	    (slash && strchr(slash + 1, '/')))
		return fail(r, "c= is not a canonicalization");
	uint8_t names[HNAMES_MAX][64]; /* 32 KiB */
	size_t nn = split_h(tag(t, nt, "h"), names, HNAMES_MAX, r);
	note_duplicates(m, names, nn, r);
	for (size_t k = 0; kind == SIG_AMS && k < nn; k++)
		if (strcmp((char *)names[k], "arc-seal") == 0)
			return fail(r, "an ARC-Message-Signature that signs an ARC-Seal");
	const buf *body = canon_body(m, brel);
	if (!body)
		return CUSTOS_ERROR;
	r->body_len = body->n;
	size_t covered = r->has_l && r->l < body->n ? (size_t)r->l : body->n;
	uint8_t bh[EVP_MAX_MD_SIZE], want[64];
	unsigned bhl = 0;
	size_t wl = 0;
	if (!EVP_Digest(body->p, covered, bh, &bhl, sha1 ? EVP_sha1() : EVP_sha256(), NULL))
		return custos_error_set(CUSTOS_ERROR, "digest failed");
	if (tag_b64_decode(tag(t, nt, "bh"), want, sizeof want, &wl) != 0 || wl != bhl ||
	    memcmp(want, bh, bhl) != 0)
		return fail(r, "the body hash does not match (the body was changed)");
	buf in;
	buf_init(&in, BUF_LIMIT_DEFAULT);
	hash_input(m, names, nn, hrel, self, &in);
	uint8_t sig[1024];
	size_t sl = 0;
	bool ok = buf_check(&in) == 0 && tag_b64_decode(tag(t, nt, "b"), sig, sizeof sig, &sl) == 0 &&
		  crypto_ok(pk, sha1, &in, sig, sl);
	buf_free(&in);
	size_t froms = mail_header_count(&m->h, "from"), signed_froms = 0;
	for (size_t k = 0; k < nn; k++)
		signed_froms += strcmp((char *)names[k], "from") == 0;
	if (signed_froms && froms > signed_froms)
		return fail(r, "double From: %zu From fields, %zu signed (the signature %s over the one it covers)",
			    froms, signed_froms, ok ? "holds" : "fails even");
	if (!ok)
		return fail(r, "the signature does not verify (a signed header was changed, or another key signed)");
	snprintf(r->verdict, sizeof r->verdict, "pass");
	return 0;
}

static int verify_one(msg *m, size_t self, unsigned index, dkim_sig *r, int kind)
{
	memset(r, 0, sizeof *r);
	r->index = index;
	size_t len;
	const uint8_t *f = field_at(m, self, &len);
	size_t nl = m->h.f[self].name_len;
	dkim_tag t[TAGS_MAX];
	int nt = dkim_tags_parse(f + nl + 1, len - nl - 1, t, TAGS_MAX);
	if (nt < 0)
		return fail(r, "the signature is not a tag list: %s", custos_error_last());
	copy_value(r->d, sizeof r->d, tag(t, nt, "d"));
	copy_value(r->s, sizeof r->s, tag(t, nt, "s"));
	copy_value(r->i, sizeof r->i, tag(t, nt, "i"));
	copy_value(r->a, sizeof r->a, tag(t, nt, "a"));
	copy_value(r->c, sizeof r->c, tag(t, nt, "c"));
	int rc = check_tags(r, t, nt, m->now, kind);
	if (rc <= 0)
		return rc;
	snprintf(r->key_name, sizeof r->key_name, "%s._domainkey.%s", r->s, r->d);
	for (char *p = r->key_name; *p; p++)
		*p = *p >= 'A' && *p <= 'Z' ? (char)(*p + 32) : *p;
	const uint8_t *txt;
	size_t tn;
	const char *from = NULL;
	if (m->keys->find(m->keys->ud, r->key_name, &txt, &tn, &from) != 1)
		return fail(r, "no key for %s in the key store", r->key_name);
	snprintf(r->key_from, sizeof r->key_from, "%s", from ? from : "");
	dkim_pk pk;
	char why[128];
	if (key_parse(txt, tn, &pk, why, sizeof why) < 0) {
		EVP_PKEY_free(pk.rsa);
		return fail(r, "%s", why);
	}
	snprintf(r->key_type, sizeof r->key_type, "%s", pk.type);
	r->key_bits = pk.bits;
	rc = verify_keyed(m, self, t, nt, r, &pk, kind);
	EVP_PKEY_free(pk.rsa);
	return rc;
}

/* ------------------------------------------------------------ the message */

static int msg_load(msg *m, const uint8_t *p, size_t n)
{
	int rc = mail_header_parse(p, n, &m->h);
	if (rc < 0)
		return rc;
	buf_init(&m->fields, BUF_LIMIT_DEFAULT);
	buf_init(&m->body, BUF_LIMIT_DEFAULT);
	m->off = malloc((m->h.n + 1) * sizeof *m->off);
	if (!m->off)
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	for (size_t i = 0; i < m->h.n; i++) {
		m->off[i] = m->fields.n;
		put_crlf(&m->fields, m->h.f[i].raw, m->h.f[i].raw_len);
		/* a last field with no line end (no body at all) still ends in CRLF */
		if (m->fields.n < 2 || m->fields.p[m->fields.n - 1] != '\n')
			buf_put(&m->fields, "\r\n", 2);
	}
	m->off[m->h.n] = m->fields.n;
	put_crlf(&m->body, p + m->h.body_off, n - m->h.body_off);
	if ((rc = buf_check(&m->fields)) < 0 || (rc = buf_check(&m->body)) < 0)
		return rc;
	return 0;
}

static void msg_free(msg *m)
{
	mail_header_free(&m->h);
	buf_free(&m->fields);
	buf_free(&m->body);
	for (int i = 0; i < 2; i++)
		if (m->have[i])
			buf_free(&m->canon[i]);
	free(m->off);
}

/* Every DKIM-Signature of a loaded message. */
static int verify_signatures(msg *m, dkim_sig **sigs, size_t *nsigs)
{
	size_t k = mail_header_count(&m->h, "dkim-signature");
	if (k > DKIM_SIGS_MAX)
		k = DKIM_SIGS_MAX;
	dkim_sig *out = k ? calloc(k, sizeof *out) : NULL;
	int rc = k && !out ? custos_error_set(CUSTOS_ERROR, "out of memory") : 0;
	size_t done = 0;
	for (size_t i = 0; rc == 0 && i < m->h.n && done < k; i++)
		if (mail_name_is(m->h.f[i].name, m->h.f[i].name_len, "dkim-signature")) {
			rc = verify_one(m, i, (unsigned)done, &out[done], SIG_DKIM);
			done++;
		}
	if (rc < 0) {
		free(out);
		return rc;
	}
	*sigs = out;
	*nsigs = done;
	return 0;
}

/* ------------------------------------------------------------ ARC (RFC 8617) */

static const char *const arc_names[3] = {"arc-authentication-results", "arc-message-signature",
					 "arc-seal"};

/* The instance a field names: the first "i" "=" digits in its unfolded value (as
 * python3-dkim finds it); 0 when none. */
static unsigned instance_of(const msg *m, size_t idx)
{
	size_t len;
	const uint8_t *f = field_at(m, idx, &len);
	size_t nl = m->h.f[idx].name_len;
	const uint8_t *v = f + nl + 1;
	size_t n = len - nl - 1;
	for (size_t i = 0; i < n; i++) {
		if (v[i] != 'i' && v[i] != 'I')
			continue;
		size_t j = i + 1;
		while (j < n && is_space(v[j]))
			j++;
		if (j >= n || v[j] != '=')
			continue;
		for (j++; j < n && is_space(v[j]);)
			j++;
		unsigned k = 0;
		size_t d0 = j;
		while (j < n && v[j] >= '0' && v[j] <= '9' && k < 100000)
			k = k * 10 + (unsigned)(v[j++] - '0');
		if (j > d0)
			return k;
	}
	return 0;
}

static int arc_fail(custos_arc *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int arc_fail(custos_arc *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->reason, sizeof a->reason, fmt, ap);
	va_end(ap);
	snprintf(a->verdict, sizeof a->verdict, "fail");
	return 0;
}

/* Find each instance's three fields; 0 and the chain's length, or a verdict made. */
static int arc_collect(msg *m, custos_arc *a, size_t at[][3], unsigned *top)
{
	*top = 0;
	for (size_t i = 0; i < m->h.n; i++)
		for (int k = 0; k < 3; k++) {
			if (!mail_name_is(m->h.f[i].name, m->h.f[i].name_len, arc_names[k]))
				continue;
			unsigned inst = instance_of(m, i);
			if (inst == 0)
				continue; /* no instance: not part of any set */
			if (inst > CUSTOS_ARC_MAX)
				return arc_fail(a, "an ARC instance over %d", CUSTOS_ARC_MAX) + 1;
			if (at[inst - 1][k] != SIZE_MAX)
				return arc_fail(a, "a second %s for instance %u", arc_names[k], inst) + 1;
			at[inst - 1][k] = i;
			*top = inst > *top ? inst : *top;
		}
	for (unsigned i = 0; i < *top; i++)
		for (int k = 0; k < 3; k++)
			if (at[i][k] == SIZE_MAX)
				return arc_fail(a, "ARC set %u is incomplete (no %s)", i + 1, arc_names[k]) + 1;
	return 0;
}

static void set_of(custos_arc_set *s, unsigned inst, const dkim_sig *ams, const dkim_sig *as,
		   const char *cv)
{
	memset(s, 0, sizeof *s);
	s->instance = inst;
	memcpy(s->ams_verdict, ams->verdict, sizeof s->ams_verdict);
	memcpy(s->as_verdict, as->verdict, sizeof s->as_verdict);
	snprintf(s->ams_d, sizeof s->ams_d, "%s", ams->d);
	snprintf(s->ams_s, sizeof s->ams_s, "%s", ams->s);
	snprintf(s->as_d, sizeof s->as_d, "%s", as->d);
	snprintf(s->as_s, sizeof s->as_s, "%s", as->s);
	snprintf(s->cv, sizeof s->cv, "%s", cv);
	snprintf(s->reason, sizeof s->reason, "%s", ams->reason[0] ? ams->reason : as->reason);
}

/* The cv= an ARC-Seal states, as written (at most 7 bytes). */
static void seal_cv(const msg *m, size_t idx, char cv[8])
{
	size_t len;
	const uint8_t *f = field_at(m, idx, &len);
	size_t nl = m->h.f[idx].name_len;
	dkim_tag t[TAGS_MAX];
	int nt = dkim_tags_parse(f + nl + 1, len - nl - 1, t, TAGS_MAX);
	const dkim_tag *c = nt > 0 ? tag(t, nt, "cv") : NULL;
	snprintf(cv, 8, "%.*s", c ? (int)(c->val_len < 7 ? c->val_len : 7) : 0, c ? (const char *)c->val : "");
}

/* Verify every set from the newest down; judge the chain as RFC 8617 §5.2 does. */
static int arc_judge(msg *m, custos_arc *a, size_t at[][3], unsigned top)
{
	a->sets = calloc(top, sizeof *a->sets);
	if (!a->sets)
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	for (unsigned inst = top; inst >= 1; inst--) {
		dkim_sig ams, as;
		m->n_arc_fields = 0;
		for (unsigned j = 0; j < inst; j++)
			for (int k = 0; k < 3; k++)
				m->arc_fields[m->n_arc_fields++] = at[j][k];
		int rc = verify_one(m, at[inst - 1][1], inst, &ams, SIG_AMS);
		if (rc == 0)
			rc = verify_one(m, at[inst - 1][2], inst, &as, SIG_AS);
		if (rc < 0)
			return rc;
		char cv[8];
		seal_cv(m, at[inst - 1][2], cv);
		set_of(&a->sets[a->n_sets++], inst, &ams, &as, cv);
	}
	const custos_arc_set *newest = &a->sets[0];
	if (strcmp(newest->ams_verdict, "pass") != 0)
		return arc_fail(a, "the newest ARC-Message-Signature (i=%u) does not verify: %s", top,
				newest->reason);
	for (size_t k = 0; k < a->n_sets; k++) {
		const custos_arc_set *s = &a->sets[k];
		if (strcmp(s->cv, "fail") == 0)
			return arc_fail(a, "ARC-Seal i=%u says cv=fail: the chain was broken there", s->instance);
		if (strcmp(s->as_verdict, "pass") != 0)
			return arc_fail(a, "ARC-Seal i=%u does not verify: %s", s->instance, s->reason);
		if ((s->instance == 1) != (strcmp(s->cv, "none") == 0))
			return arc_fail(a, "ARC-Seal i=%u says cv=%s", s->instance, s->cv);
	}
	snprintf(a->verdict, sizeof a->verdict, "pass");
	return 0;
}

/* The ARC chain of a loaded message. */
static int verify_chain(msg *m, custos_arc *out)
{
	size_t (*at)[3] = malloc(CUSTOS_ARC_MAX * sizeof *at);
	if (!at)
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	memset(at, 0xff, CUSTOS_ARC_MAX * sizeof *at);
	unsigned top = 0;
	int rc = arc_collect(m, out, at, &top);
	rc = rc > 0 ? 0 : top ? arc_judge(m, out, at, top) : 0;
	out->instances = top;
	free(at);
	return rc;
}

int dkim_verify(const uint8_t *p, size_t n, const dkim_key_lookup *keys, int64_t now,
		dkim_sig **sigs, size_t *nsigs, custos_arc *arc)
{
	*sigs = NULL;
	*nsigs = 0;
	if (arc) {
		memset(arc, 0, sizeof *arc);
		snprintf(arc->verdict, sizeof arc->verdict, "none");
	}
	if (n > DKIM_MESSAGE_MAX)
		return custos_error_set(CUSTOS_ELIMIT, "a message over %zu bytes is not verified",
					DKIM_MESSAGE_MAX);
	/* loaded once (header parsed, line ends made CRLF, canonical bodies kept) for both */
	msg *m = calloc(1, sizeof *m);
	if (!m)
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	m->now = now;
	m->keys = keys;
	int rc = msg_load(m, p, n);
	if (rc == 0)
		rc = verify_signatures(m, sigs, nsigs);
	if (rc == 0 && arc && (rc = verify_chain(m, arc)) < 0) {
		free(*sigs);
		*sigs = NULL;
		*nsigs = 0;
	}
	msg_free(m);
	free(m);
	return rc;
}

void dkim_arc_clear(custos_arc *a)
{
	free(a->sets);
	memset(a, 0, sizeof *a);
}
