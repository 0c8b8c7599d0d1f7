/*
 * test_evidence.c — email and authenticity signals (FS §13): the RFC 8463 example against
 * its keys, DKIM tag lists, MIME parameters, what is recognised as a message or mbox, and
 * the dkim-key and analysis events rebuilt byte for byte from their field values
 * (vectors/event-dkim-key.txt, vectors/event-analysis.txt) and refused when not canonical.
 */
#include "dkim.h"
#include "dkimkeys.h"
#include "evidence.h"
#include "harness.h"
#include "mail.h"
#include "mailmsg.h"
#include "record.h"

#include <stdlib.h>

static uint8_t *spec_file(const char *rel, size_t *n)
{
	char *path = test_spec_path(rel);
	uint8_t *p = test_read(path, n);
	free(path);
	return p;
}

static void rfc8463_example(void)
{
	size_t zn, mn;
	uint8_t *zone = spec_file("vectors/dkim-rfc8463.zone", &zn);
	uint8_t *msg = spec_file("vectors/dkim-rfc8463.eml", &mn);
	custos_dkim_sig *s = NULL;
	size_t n = 0;
	int64_t signed_at = 1528637909; /* t= of the example */
	CHECK_RC(custos_dkim_check(zone, zn, msg, mn, signed_at, &s, &n, NULL), 0);
	CHECK(n == 2 && strcmp(s[0].verdict, "pass") == 0 && strcmp(s[1].verdict, "pass") == 0);
	CHECK(n == 2 && strcmp(s[0].key_type, "ed25519") == 0 && strcmp(s[1].key_type, "rsa") == 0 &&
	      s[1].key_bits == 1024 && strcmp(s[1].weak, "") == 0);
	free(s);
	/* any changed byte of the body or a signed field fails both */
	const char *edits[] = {"Joe SixPack", "Is dinner ready?", "football.example.com>"};
	for (size_t k = 0; k < ARRAY_LEN(edits); k++) {
		uint8_t *copy = malloc(mn);
		memcpy(copy, msg, mn);
		uint8_t *at = memmem(copy, mn, edits[k], strlen(edits[k]));
		CHECK(at != NULL);
		if (at)
			at[1] ^= 0x20;
		CHECK_RC(custos_dkim_check(zone, zn, copy, mn, signed_at, &s, &n, NULL), 0);
		CHECK(n == 2 && strcmp(s[0].verdict, "fail") == 0 && strcmp(s[1].verdict, "fail") == 0);
		free(s);
		free(copy);
	}
	free(zone);
	free(msg);
}

static int tags(const char *s)
{
	dkim_tag t[8];
	return dkim_tags_parse((const uint8_t *)s, strlen(s), t, 8);
}

static void tag_lists(void)
{
	CHECK_RC(tags("v=1; a=rsa-sha256; d=example.org"), 3);
	CHECK_RC(tags(" v = 1 ;\r\n\ta=x;"), 2); /* white space and a trailing ';' */
	CHECK_RC(tags(""), 0);
	CHECK_RC(tags("v=1; v=1"), CUSTOS_EINVALID);
	CHECK_RC(tags("v=1; novalue"), CUSTOS_EINVALID);
	CHECK_RC(tags("1v=1"), CUSTOS_EINVALID);
	CHECK_RC(tags("a=1;b=2;c=3;d=4;e=5;f=6;g=7;h=8;i=9"), CUSTOS_EINVALID); /* over the cap */
	char type[16], why[128];
	unsigned bits;
	const char *revoked = "v=DKIM1; k=rsa; p=";
	CHECK_RC(dkim_key_describe((const uint8_t *)revoked, strlen(revoked), type, &bits, why, sizeof why),
		 CUSTOS_EINVALID);
	CHECK(strstr(why, "revoked") != NULL);
}

static int param(const char *value, const char *attr, char *out, size_t cap)
{
	mail_ctype ct;
	mail_ctype_parse((const uint8_t *)value, strlen(value), &ct);
	buf b;
	buf_init(&b, 1 << 16);
	int rc = mail_param(&ct, attr, &b);
	snprintf(out, cap, "%.*s", (int)b.n, b.p ? (const char *)b.p : "");
	buf_free(&b);
	return rc;
}

static void mime_parameters(void)
{
	char v[256];
	mail_ctype ct;
	const char *t = "Multipart/Mixed ; boundary=\"a b\\\"c\" (comment)";
	mail_ctype_parse((const uint8_t *)t, strlen(t), &ct);
	CHECK(strcmp(ct.type, "multipart/mixed") == 0);
	CHECK(param(t, "boundary", v, sizeof v) == 1 && strcmp(v, "a b\"c") == 0);
	CHECK(param("attachment; filename*=utf-8''caf%C3%A9%20menu.pdf", "filename", v, sizeof v) == 1 &&
	      strcmp(v, "caf\xC3\xA9 menu.pdf") == 0);
	CHECK(param("attachment; filename*0*=utf-8''a%20; filename*1=\"b.txt\"", "filename", v, sizeof v) == 1 &&
	      strcmp(v, "a b.txt") == 0);
	CHECK(param("attachment; filename=\"=?UTF-8?B?w6kudHh0?=\"", "filename", v, sizeof v) == 1 &&
	      strcmp(v, "\xC3\xA9.txt") == 0);
	CHECK(param("attachment; filename=\"=?iso-8859-1?Q?r=E9sum=E9?= =?utf-8?Q?_2.pdf?=\"", "filename", v,
		    sizeof v) == 1 && strcmp(v, "r\xE9sum\xE9 2.pdf") == 0);
	CHECK(param("inline", "filename", v, sizeof v) == 0);
}

static int kind(const char *s)
{
	return mail_kind((const uint8_t *)s, strlen(s));
}

static void recognising(void)
{
	CHECK(kind("From: a@example.org\nSubject: x\n\nbody\n") == MAIL_MESSAGE);
	CHECK(kind("Received: from x\n\tby y\nFrom: a@b\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\n") ==
	      MAIL_MESSAGE);
	CHECK(kind("From a@b Mon Jan  1 00:00:00 2024\nFrom: a@b\nTo: c@d\n\nhi\n") == MAIL_MBOX);
	CHECK(kind("From here on, the contract says\nthat nothing: holds\n") == MAIL_NONE);
	CHECK(kind("Subject: no sender\nDate: today\n\n") == MAIL_NONE);
	CHECK(kind("From: a@b\n") == MAIL_NONE); /* no other field */
	CHECK(kind(" From: a@b\nSubject: x\n\n") == MAIL_NONE);
	CHECK(kind("%PDF-1.4\nFrom: a\nSubject: b\n\n") == MAIL_NONE);
}

/* ------------------------------------------------------------ the two events */

static void base_event(event *e, const char *action, uint64_t seq)
{
	memset(e, 0, sizeof *e);
	strcpy(e->vault, "00112233445566778899aabbccddeeff");
	e->seq = seq;
	memset(e->prev, 0xab, 32);
	e->time = 1796213367; /* 2026-12-02T12:09:27Z */
	memcpy(e->custodian, "\xb9\xbe\xf1\x21\x77\x64\x26\x48", 8);
	strcpy(e->action, action);
}

static void add_line(line_list *ll, const char *s)
{
	buf b;
	buf_init(&b, 1 << 20);
	buf_puts(&b, s);
	CHECK_RC(line_list_add(ll, &b), 0);
}

static void round_trip(event *e, line_list *ll, const char *vector)
{
	e->lines = ll->l;
	e->n_lines = ll->n;
	buf b;
	buf_init(&b, 1 << 20);
	CHECK_RC(event_encode(&b, e), 0);
	test_golden(vector, b.p, b.n);
	event back;
	CHECK_RC(event_parse(&back, b.p, b.n), 0);
	CHECK(back.n_lines == ll->n && strcmp(back.action, e->action) == 0);
	event_clear(&back);
	buf_free(&b);
}

static void dkim_key_event(void)
{
	event e;
	base_event(&e, "dkim-key", 3);
	line_list ll = {0};
	add_line(&ll, "obtained-from dig%20@192.0.2.53%20on%20the%20research%20laptop");
	add_line(&ll, "obtained-at 2026-11-30T09:00:00Z");
	buf b;
	buf_init(&b, 1 << 20);
	static const uint8_t v[] = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
	CHECK_RC(evidence_put_record(&b, "brisbane._domainkey.football.example.com", v, sizeof v - 1), 0);
	CHECK_RC(line_list_add(&ll, &b), 0);
	round_trip(&e, &ll, "event-dkim-key.txt");
	line_list_free(&ll);
}

static void put(line_list *ll, buf *b, int rc)
{
	CHECK_RC(rc, 0);
	CHECK_RC(line_list_add(ll, b), 0);
}

/* Parsing a line and writing what was parsed gives the line back. */
static int reparse(const char *line, evidence_line *l)
{
	int type = evidence_parse_line(line, l);
	buf b;
	buf_init(&b, 1 << 20);
	if (type == LINE_DKIM)
		evidence_put_dkim(&b, &l->sig);
	else if (type == LINE_ARC)
		evidence_put_arc(&b, &l->arc);
	else if (type == LINE_ARC_SET)
		evidence_put_arc_set(&b, &l->set);
	else if (type == LINE_META || type == LINE_FLAG)
		evidence_put_meta(&b, type == LINE_FLAG ? "flag" : "meta", l->name, l->value);
	else if (type == LINE_ITEM)
		evidence_put_item(&b, l->id, l->kind);
	CHECK(b.n == strlen(line) && memcmp(b.p, line, b.n) == 0);
	buf_free(&b);
	return type;
}

static void analysis_event(void)
{
	event e;
	base_event(&e, "analysis", 5);
	line_list ll = {0};
	add_line(&ll, "note at%20ingest");
	buf b;
	buf_init(&b, 1 << 20);
	uint8_t id[16];
	for (int i = 0; i < 16; i++)
		id[i] = (uint8_t)(0x10 * (i % 16) + i);
	put(&ll, &b, evidence_put_item(&b, id, "message"));
	custos_dkim_sig s = {.index = 0, .verdict = "pass", .d = "football.example.com",
			     .s = "brisbane", .i = "@football.example.com", .a = "ed25519-sha256",
			     .c = "relaxed/relaxed", .h = "from:to:subject:date:message-id:from:subject:date",
			     .body_len = 19, .has_t = 1, .t = 1528637909, .key_type = "ed25519",
			     .key_bits = 256, .key_name = "brisbane._domainkey.football.example.com",
			     .key_from = "event 3: dig @192.0.2.53 on the research laptop, obtained 2026-11-30T09:00:00Z"};
	put(&ll, &b, evidence_put_dkim(&b, &s));
	custos_dkim_sig f = s;
	f.index = 1;
	strcpy(f.verdict, "fail");
	strcpy(f.a, "rsa-sha256");
	strcpy(f.key_type, "rsa");
	f.key_bits = 512;
	f.has_l = 1;
	f.l = 10;
	f.has_x = 1;
	f.x = 1528700000;
	f.expired = 1;
	strcpy(f.weak, "rsa-512-bit");
	strcpy(f.unsigned_dup, "from");
	strcpy(f.reason, "double From: 2 From fields, 1 signed (the signature holds over the one it covers)");
	put(&ll, &b, evidence_put_dkim(&b, &f));
	/* its ARC chain: two sets, newest first (FS §13.4) */
	custos_arc arc = {.verdict = "fail", .instances = 2, .n_sets = 2,
			  .reason = "ARC-Seal i=1 does not verify: the seal does not verify"};
	put(&ll, &b, evidence_put_arc(&b, &arc));
	custos_arc_set s2 = {.instance = 2, .ams_verdict = "pass", .ams_d = "lists.example.net",
			     .ams_s = "arc", .as_verdict = "pass", .as_d = "lists.example.net",
			     .as_s = "arc", .cv = "pass"};
	custos_arc_set s1 = {.instance = 1, .ams_verdict = "pass", .ams_d = "example.org", .ams_s = "arc",
			     .as_verdict = "fail", .as_d = "example.org", .as_s = "arc", .cv = "none",
			     .reason = "the seal does not verify"};
	put(&ll, &b, evidence_put_arc_set(&b, &s2));
	put(&ll, &b, evidence_put_arc_set(&b, &s1));
	/* a PDF: metadata fields, then flags (FS §13.5) */
	id[0] ^= 0xff;
	put(&ll, &b, evidence_put_item(&b, id, "pdf"));
	id[0] ^= 0xff;
	put(&ll, &b, evidence_put_meta(&b, "meta", "Info/Producer", "Acme PDF 1.0"));
	put(&ll, &b, evidence_put_meta(&b, "meta", "Info/CreationDate", "D:20240102030405Z"));
	put(&ll, &b, evidence_put_meta(&b, "meta", "pdf:updates", "1"));
	put(&ll, &b, evidence_put_meta(&b, "flag", "pdf-incremental-updates",
				       "1 incremental update after the first version"));
	round_trip(&e, &ll, "event-analysis.txt");
	/* every line parses back to what was written */
	static const int types[] = {LINE_ITEM, LINE_DKIM, LINE_DKIM, LINE_ARC, LINE_ARC_SET, LINE_ARC_SET,
				    LINE_ITEM, LINE_META, LINE_META, LINE_META, LINE_FLAG};
	for (size_t i = 1; i < ll.n; i++) {
		evidence_line l;
		CHECK(reparse(ll.l[i], &l) == types[i - 1]);
		if (i == 1)
			CHECK(memcmp(l.id, id, 16) == 0 && strcmp(l.kind, "message") == 0);
		if (i == 3)
			CHECK(l.sig.expired && l.sig.has_l && l.sig.l == 10 && l.sig.key_bits == 512 &&
			      strcmp(l.sig.unsigned_dup, "from") == 0 && strcmp(l.sig.reason, f.reason) == 0);
		if (i == 6)
			CHECK(l.set.instance == 1 && strcmp(l.set.cv, "none") == 0);
		if (i == 9)
			CHECK(strcmp(l.name, "Info/CreationDate") == 0 && strcmp(l.value, "D:20240102030405Z") == 0);
		free(l.name);
		free(l.value);
	}
	/* refused: out of order, incomplete, not canonical, unknown, empty */
	char *swapped[] = {ll.l[0], ll.l[1], ll.l[3], ll.l[2]};
	CHECK(evidence_lines_check("analysis", swapped, 4) < 0);
	char *no_item[] = {ll.l[0], ll.l[2]};
	CHECK(evidence_lines_check("analysis", no_item, 2) < 0);
	CHECK(evidence_lines_check("analysis", ll.l, 1) < 0);
	char *whole[] = {ll.l[1], "arc fail 0 ARC%20set%201%20is%20incomplete"}; /* judged as a whole */
	CHECK_RC(evidence_lines_check("analysis", whole, 2), 0);
	char *sets_missing[] = {ll.l[1], ll.l[4], ll.l[5]};
	CHECK(evidence_lines_check("analysis", sets_missing, 3) < 0);
	char *sets_swapped[] = {ll.l[1], ll.l[4], ll.l[6], ll.l[5]};
	CHECK(evidence_lines_check("analysis", sets_swapped, 4) < 0);
	char *arc_in_pdf[] = {ll.l[7], ll.l[4], ll.l[5], ll.l[6]};
	CHECK(evidence_lines_check("analysis", arc_in_pdf, 4) < 0);
	char *meta_after_flag[] = {ll.l[7], ll.l[11], ll.l[8]};
	CHECK(evidence_lines_check("analysis", meta_after_flag, 3) < 0);
	char *dkim_in_pdf[] = {ll.l[7], ll.l[2]};
	CHECK(evidence_lines_check("analysis", dkim_in_pdf, 2) < 0);
	char *bad_token[] = {ll.l[7], "flag Bad-Token x"};
	CHECK(evidence_lines_check("analysis", bad_token, 2) < 0);
	char *bad = strdup(ll.l[2]);
	char *sp = strstr(bad, " 19 ");
	CHECK(sp != NULL);
	if (sp)
		memcpy(sp, " 09 ", 4); /* a leading zero */
	char *lead[] = {ll.l[1], bad};
	CHECK(evidence_lines_check("analysis", lead, 2) < 0);
	free(bad);
	char *junk[] = {ll.l[1], "dkim 0 maybe"};
	CHECK(evidence_lines_check("analysis", junk, 2) < 0);
	CHECK(evidence_lines_check("dkim-key", ll.l, ll.n) < 0);
	buf_free(&b);
	line_list_free(&ll);
}

int main(void)
{
	test_init();
	rfc8463_example();
	tag_lists();
	mime_parameters();
	recognising();
	dkim_key_event();
	analysis_event();
	return test_finish("evidence");
}
