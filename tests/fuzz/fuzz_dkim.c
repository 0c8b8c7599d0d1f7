/* fuzz_dkim.c — what DKIM verification reads from a stranger (FS §13): a DKIM-Signature's
 * tag list; a message's header block and its MIME parameters (RFC 2045, 2231, 2047); a
 * whole message verified against fixed keys; and key records in dig's zone format, which
 * are copied from wherever an analyst found them. The first byte picks the parser (as
 * ASCII '0'..'3' in the seeds). */
#include "dkimkeys.h"
#include "mailmsg.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1735689600 /* 2025-01-01: after the seeds' t=, before RFC 8463's keys expire */

/* Keys of the seeds in tests/fuzz/corpus/dkim: RFC 8463 Appendix A.2 (football.example.com)
 * and testdata/make-dkim-corpus.py's (a 2048-bit, a 512-bit RSA, an ed25519 key). */
static const char zone[] =
	"sel2048._domainkey.example.org. 3600 IN TXT \"v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG"
	"9w0BAQEFAAOCAQ8AMIIBCgKCAQEArkRtuCzlnUZsZH0mXeHVzbVwUr/JS94EAMXHa+Vw5g3NRXEP4JFG"
	"8j/yScNqf5doXGVG/KRIQARz/IuncwRroSaC0MlAfF+ZMO/8GIOKjY2Z+KM11tk0XqbIDp5Ps6Dhca2q"
	"wF59tefr+jY9kG17oOdIp3xgXmfAbMyCnt7vaao2w2DwPWwa8h9fLGYOXKRFf\" \"WGHkZrjzoipRBR"
	"g0jeSsI0ciKAC4yM+2+h8KS5upSJweACHTkuaguU+2iJRT6eDi6SuvzYoi8XsRVtlz+l2YijGGAHeKAm"
	"q1K2VemT7WQpUfD6NZcne3yc1uQYp/RXrvw2xDlQtj971V6F8mxttkwIDAQAB\"\n"
	"weak512._domainkey.example.org. 3600 IN TXT \"v=DKIM1; k=rsa; p=MFwwDQYJKoZIhvcN"
	"AQEBBQADSwAwSAJBALIPnBA8rv2XF6slSu3cE0Z+0MOXuJ8iJgvbizfA3eMFv7fiBnF3Z+P2nAt+dYW7"
	"XaHDQCBk/AIfx0GyVkw0GnMCAwEAAQ==\"\n"
	"ed._domainkey.example.org. 3600 IN TXT \"v=DKIM1; k=ed25519; p=EwslcYk2jy9/vk56T"
	"z4ikZI+fDdh5d+kl/oIk2gJBCY=\"\n"
	"brisbane._domainkey.football.example.com. 3600 IN TXT \"v=DKIM1; k=ed25519; p=11"
	"qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"\n"
	"test._domainkey.football.example.com. 3600 IN TXT \"v=DKIM1; k=rsa; p=MIGfMA0GCS"
	"qGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/"
	"J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9"
	"PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB\"\n";

/* q[0..qn) lies within p[0..n): nothing is made up. */
static bool within(const uint8_t *p, size_t n, const uint8_t *q, size_t qn)
{
	return q >= p && (size_t)(q - p) <= n && qn <= n - (size_t)(q - p);
}

static bool is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool stripped(const uint8_t *s, size_t n)
{
	return n == 0 || (!is_space(s[0]) && !is_space(s[n - 1]));
}

static void tags(const uint8_t *p, size_t n)
{
	dkim_tag t[64];
	int k = dkim_tags_parse(p, n, t, ARRAY_LEN(t));
	if (k > (int)ARRAY_LEN(t))
		abort();
	for (int i = 0; i < k; i++) {
		if (!within(p, n, t[i].name, t[i].name_len) || !within(p, n, t[i].val, t[i].val_len) ||
		    t[i].name_len == 0 || !stripped(t[i].name, t[i].name_len) ||
		    !stripped(t[i].val, t[i].val_len))
			abort();
		for (int j = 0; j < i; j++)
			if (t[j].name_len == t[i].name_len && memcmp(t[j].name, t[i].name, t[i].name_len) == 0)
				abort(); /* a repeated tag is refused */
	}
}

/* mail_header_count and mail_header_find agree with the fields themselves. */
static void check_lookup(const mail_header *h, const char *name)
{
	size_t k = 0, top = 0, bottom = 0;
	for (size_t i = 0; i < h->n; i++)
		if (mail_name_is(h->f[i].name, h->f[i].name_len, name)) {
			if (k++ == 0)
				top = i;
			bottom = i;
		}
	if (mail_header_count(h, name) != k || mail_header_find(h, name, k))
		abort();
	if (k && (mail_header_find(h, name, 0) != &h->f[bottom] ||
		  mail_header_find(h, name, k - 1) != &h->f[top]))
		abort();
}

static void header(const uint8_t *p, size_t n)
{
	mail_header h;
	if (mail_header_parse(p, n, &h) < 0)
		return;
	/* the body starts after the empty line's LF, or there is none */
	if (h.has_body ? h.body_off == 0 || h.body_off > n || p[h.body_off - 1] != '\n' : h.body_off != n)
		abort();
	for (size_t i = 0; i < h.n; i++) {
		const mail_field *f = &h.f[i];
		if (f->name_len == 0 || f->raw != f->name || f->value != f->name + f->name_len + 1 ||
		    f->raw_len != f->name_len + 1 + f->value_len || !within(p, h.body_off, f->raw, f->raw_len))
			abort();
		/* every field as a MIME value: any of them may be a Content-Type */
		mail_ctype ct;
		mail_ctype_parse(f->value, f->value_len, &ct);
		if (!memchr(ct.type, '\0', sizeof ct.type) || !within(f->value, f->value_len, ct.params, ct.params_len))
			abort();
		static const char *const attrs[] = {"filename", "boundary", "name"};
		for (size_t a = 0; a < ARRAY_LEN(attrs); a++) {
			buf v;
			buf_init(&v, 1 << 20);
			int rc = mail_param(&ct, attrs[a], &v);
			/* decoding (quotes, %XX, encoded-words) only shrinks */
			if ((rc == 0 && v.n) || (rc > 0 && v.n > ct.params_len))
				abort();
			buf_free(&v);
		}
	}
	static const char *const names[] = {"content-type", "content-disposition", "from", "dkim-signature"};
	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		check_lookup(&h, names[i]);
	mail_header_free(&h);
}

#define TERMINATED(a) (memchr((a), '\0', sizeof(a)) != NULL)

static void verify(const uint8_t *p, size_t n)
{
	static dkim_keyset keys;
	static int ready;
	if (!ready) {
		custos_global_init();
		if (dkim_zone_parse((const uint8_t *)zone, sizeof zone - 1, &keys) < 0 || keys.n != 5)
			abort();
		ready = 1;
	}
	dkim_key_lookup lookup = dkim_keyset_lookup(&keys);
	dkim_sig *sigs;
	size_t ns;
	custos_arc arc;
	int rc = dkim_verify(p, n, &lookup, NOW, &sigs, &ns, &arc);
	if (rc < 0) {
		if (rc != CUSTOS_EINVALID || sigs || ns)
			abort(); /* only a header that is not one is refused whole */
		dkim_arc_clear(&arc);
		return;
	}
	/* the chain: a verdict, and a report per set when it was judged set by set */
	if (!TERMINATED(arc.verdict) || !TERMINATED(arc.reason) || arc.instances > CUSTOS_ARC_MAX ||
	    arc.n_sets > arc.instances || (arc.n_sets && arc.n_sets != arc.instances))
		abort();
	dkim_arc_clear(&arc);
	/* every DKIM-Signature field (up to the cap) has its report, in order */
	mail_header h;
	if (mail_header_parse(p, n, &h) < 0)
		abort();
	size_t want = mail_header_count(&h, "dkim-signature");
	mail_header_free(&h);
	if (ns != (want < DKIM_SIGS_MAX ? want : DKIM_SIGS_MAX))
		abort();
	for (size_t i = 0; i < ns; i++) {
		const dkim_sig *s = &sigs[i];
		if (s->index != i || !TERMINATED(s->verdict) || !TERMINATED(s->reason) ||
		    !TERMINATED(s->d) || !TERMINATED(s->s) || !TERMINATED(s->i) || !TERMINATED(s->a) ||
		    !TERMINATED(s->c) || !TERMINATED(s->h) || !TERMINATED(s->unsigned_dup) ||
		    !TERMINATED(s->key_type) || !TERMINATED(s->weak) || !TERMINATED(s->key_name) ||
		    !TERMINATED(s->key_from))
			abort();
		/* a pass names its key and no reason; a fail gives its reason */
		bool pass = strcmp(s->verdict, "pass") == 0;
		if (pass ? s->reason[0] || !s->key_type[0] : strcmp(s->verdict, "fail") != 0 || !s->reason[0])
			abort();
	}
	free(sigs);
}

static void zone_text(const uint8_t *p, size_t n)
{
	dkim_keyset ks = {0};
	(void)dkim_zone_parse(p, n, &ks); /* a refused line keeps the records above it */
	if (ks.n > DKIMKEYS_RECORDS_MAX)
		abort();
	for (size_t i = 0; i < ks.n; i++) {
		const dkim_record *r = &ks.r[i];
		if (r->value_len > DKIMKEYS_VALUE_MAX || r->value[r->value_len])
			abort();
		for (const char *c = r->name; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				abort(); /* names are kept lower case */
		char type[16] = "", why[128] = "";
		unsigned bits = 0;
		int rc = dkim_key_describe(r->value, r->value_len, type, &bits, why, sizeof why);
		bool key = (strcmp(type, "ed25519") == 0 && bits == 256) || (strcmp(type, "rsa") == 0 && bits);
		if (rc == 0 ? !key : rc != CUSTOS_EINVALID || !why[0])
			abort(); /* a key, or the reason it is not one */
	}
	if (ks.n) { /* the record added last for a name wins */
		const dkim_record *last = &ks.r[ks.n - 1];
		dkim_key_lookup l = dkim_keyset_lookup(&ks);
		const uint8_t *txt;
		size_t tn;
		const char *from;
		if (l.find(l.ud, last->name, &txt, &tn, &from) != 1 || txt != last->value || tn != last->value_len)
			abort();
	}
	dkim_keyset_free(&ks);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	switch (data[0] % 4) {
	case 0:
		tags(p, n);
		break;
	case 1:
		header(p, n);
		break;
	case 2:
		verify(p, n);
		break;
	default:
		zone_text(p, n);
	}
	return 0;
}
