/*
 * test_record.c — item records and events: golden vectors from format-spec/vectors (byte
 * for byte, with their ids and signatures under a fixed key), round trips, and a strict
 * parser: every malformed form is rejected, and any mutation that still parses is the
 * canonical encoding of what it parses to.
 */
#include "digest.h"
#include "harness.h"
#include "keys.h"
#include "record.h"

#include <stdlib.h>


static void sample_record(custos_record *r, const custos_key *k)
{
	static uint8_t name[] = "Contract \xe2\x80\x94 final%.pdf";
	static uint8_t path[] = "drop/legal/Contract \xe2\x80\x94 final%.pdf";
	static uint8_t source[] = "source A (signal)";
	memset(r, 0, sizeof *r);
	strcpy(r->vault, "00112233445566778899aabbccddeeff");
	r->seq = 1;
	r->n = 0;
	r->kind = CUSTOS_KIND_FILE;
	sha256_buf(r->sha256, "%PDF-1.4\n", 9);
	r->size = 9;
	r->name = (custos_bytes){name, sizeof name - 1};
	r->path = (custos_bytes){path, sizeof path - 1};
	r->source = (custos_bytes){source, sizeof source - 1};
	r->has_mtime = 1;
	r->mtime = 1700000000;
	r->mime = "application/pdf";
	r->description = "PDF document, version 1.4";
	r->ext_mismatch = NULL;
	strcpy(r->md5, "6446a98080f5e51ab7f0abc0e8eda635");
	r->ingested = 1795867647; /* 2026-11-28T12:07:27Z */
	memcpy(r->custodian, custos_key_public(k)->id, 8);
}

static void sample_event(event *e, const custos_key *k, const uint8_t item[16])
{
	static char in0[] = "drop";
	static char *inputs[] = {in0};
	static event_item items[1];
	static event_refusal refused[1];
	static char fifo[] = "drop/pipe";
	static uint8_t note[] = "first drop, USB stick #3";
	memset(e, 0, sizeof *e);
	strcpy(e->vault, "00112233445566778899aabbccddeeff");
	e->seq = 1;
	memset(e->prev, 0xAB, 32);
	e->time = 1795867647;
	memcpy(e->custodian, custos_key_public(k)->id, 8);
	strcpy(e->action, "ingest");
	e->note = (custos_bytes){note, sizeof note - 1};
	e->inputs = inputs;
	e->n_inputs = 1;
	memcpy(items[0].id, item, 16);
	items[0].outcome = OUTCOME_STORED;
	e->items = items;
	e->n_items = 1;
	strcpy(refused[0].reason, "fifo");
	refused[0].path_esc = fifo;
	e->refused = refused;
	e->n_refused = 1;
}

/* A member of a zip that the sample item stands in for (FS §4.1): a hostile name kept as
 * data, its container, position, mode and outcome. */
static void sample_member(custos_record *r, const custos_key *k, const uint8_t container[16])
{
	static uint8_t name[] = "a.txt";
	static uint8_t path[] = "../evil/a.txt";
	memset(r, 0, sizeof *r);
	strcpy(r->vault, "00112233445566778899aabbccddeeff");
	r->seq = 1;
	r->n = 1;
	r->kind = CUSTOS_KIND_FILE;
	sha256_buf(r->sha256, "hello\n", 6);
	r->size = 6;
	r->name = (custos_bytes){name, sizeof name - 1};
	r->path = (custos_bytes){path, sizeof path - 1};
	r->is_member = 1;
	memcpy(r->container, container, 16);
	r->member = 0;
	r->has_mtime = 1;
	r->mtime = 1600000000;
	r->mode = 0644;
	strcpy(r->outcome, "ok");
	r->mime = "text/plain";
	r->description = "ASCII text";
	r->ingested = 1795867647;
	memcpy(r->custodian, custos_key_public(k)->id, 8);
}


static void mutation_property(const uint8_t *p, size_t n, bool is_event);

static void golden_vectors(void)
{
	custos_key *k = test_vector_key();
	custos_record r;
	buf b, s;
	uint8_t id[16], sig[64];
	char idhex[40];
	sample_record(&r, k);
	buf_init(&b, 0);
	buf_init(&s, 0);
	CHECK_RC(record_encode(&b, &r), 0);
	test_golden("item-record.txt", b.p, b.n);
	record_id(id, b.p, b.n);
	custos_hex(idhex, id, 16);
	strcat(idhex, "\n");
	test_golden("item-record.id", (uint8_t *)idhex, strlen(idhex));
	key_sign(sig, k, b.p, b.n);
	sigfile_encode(&s, custos_key_public(k)->id, sig);
	test_golden("item-record.sig", s.p, s.n);
	custos_record back;
	CHECK_RC(record_parse(&back, b.p, b.n), 0);
	CHECK(back.size == 9 && back.name.n == r.name.n && memcmp(back.name.p, r.name.p, r.name.n) == 0);
	CHECK(strcmp(back.md5, r.md5) == 0 && back.sha1[0] == '\0');
	record_clear(&back);

	event e;
	buf eb, es;
	buf_init(&eb, 0);
	buf_init(&es, 0);
	sample_event(&e, k, id);
	CHECK_RC(event_encode(&eb, &e), 0);
	test_golden("event-ingest.txt", eb.p, eb.n);
	key_sign(sig, k, eb.p, eb.n);
	sigfile_encode(&es, custos_key_public(k)->id, sig);
	test_golden("event-ingest.sig", es.p, es.n);
	event ev;
	CHECK_RC(event_parse(&ev, eb.p, eb.n), 0);
	CHECK(ev.n_items == 1 && ev.n_refused == 1 && ev.n_inputs == 1 && ev.seq == 1);
	event_clear(&ev);

	/* a member record and an event with its container's line */
	custos_record mr;
	buf mb, ms, ab;
	uint8_t mid[16];
	sample_member(&mr, k, id);
	buf_init(&mb, 0);
	buf_init(&ms, 0);
	buf_init(&ab, 0);
	CHECK_RC(record_encode(&mb, &mr), 0);
	test_golden("member-record.txt", mb.p, mb.n);
	record_id(mid, mb.p, mb.n);
	key_sign(sig, k, mb.p, mb.n);
	sigfile_encode(&ms, custos_key_public(k)->id, sig);
	test_golden("member-record.sig", ms.p, ms.n);
	CHECK_RC(record_parse(&back, mb.p, mb.n), 0);
	CHECK(back.is_member && back.member == 0 && back.mode == 0644 &&
	      strcmp(back.outcome, "ok") == 0 && memcmp(back.container, id, 16) == 0);
	record_clear(&back);
	event_item two[2] = {{.outcome = OUTCOME_STORED}, {.outcome = OUTCOME_STORED}};
	memcpy(two[0].id, id, 16);
	memcpy(two[1].id, mid, 16);
	static uint8_t fmt[] = "ZIP 2.0 (deflation)";
	static uint8_t why[] = "after 1 members: Truncated ZIP file data";
	event_container k1 = {.result = "corrupt", .members = 1, .consumed = 4096,
			      .format = {fmt, sizeof fmt - 1}, .detail = {why, sizeof why - 1}};
	memcpy(k1.id, id, 16);
	e.items = two;
	e.n_items = 2;
	e.containers = &k1;
	e.n_containers = 1;
	e.refused = NULL;
	e.n_refused = 0;
	CHECK_RC(event_encode(&ab, &e), 0);
	test_golden("event-ingest-archive.txt", ab.p, ab.n);
	CHECK_RC(event_parse(&ev, ab.p, ab.n), 0);
	CHECK(ev.n_containers == 1 && strcmp(ev.containers[0].result, "corrupt") == 0 &&
	      ev.containers[0].members == 1 && ev.containers[0].consumed == 4096 &&
	      ev.containers[0].detail.n == sizeof why - 1);
	event_clear(&ev);
	buf_free(&mb);
	buf_free(&ms);
	buf_free(&ab);

	/* a source with a minisign key, and an ingest of a submission it signed (FS §12) */
	event se = {0};
	buf sb2, gb;
	static uint8_t sname[] = "source A (signal)", snote[] = "met twice";
	static uint8_t fake_sig[] = "untrusted comment: signature from minisign secret key\n";
	strcpy(se.vault, e.vault);
	se.seq = 2;
	memcpy(se.prev, e.prev, 32);
	se.time = e.time + 60;
	memcpy(se.custodian, e.custodian, 8);
	strcpy(se.action, "source");
	se.name = (custos_bytes){sname, sizeof sname - 1};
	se.note = (custos_bytes){snote, sizeof snote - 1};
	se.has_source_key = true;
	strcpy(se.source_key.scheme, "minisign");
	for (int i = 0; i < 8; i++)
		se.source_key.keynum[i] = (uint8_t)(i + 1);
	memcpy(se.source_key.pk, custos_key_public(k)->pk, 32);
	buf_init(&sb2, 0);
	buf_init(&gb, 0);
	CHECK_RC(event_encode(&sb2, &se), 0);
	test_golden("event-source.txt", sb2.p, sb2.n);
	CHECK_RC(event_parse(&ev, sb2.p, sb2.n), 0);
	CHECK(ev.has_source_key && strcmp(ev.source_key.scheme, "minisign") == 0 &&
	      ev.source_key.keynum[7] == 8 && ev.name.n == sizeof sname - 1);
	event_clear(&ev);
	mutation_property(sb2.p, sb2.n, true);
	e.items = two;
	e.n_items = 1;
	e.containers = NULL;
	e.n_containers = 0;
	e.source = se.name;
	e.has_source_sig = true;
	strcpy(e.source_verdict, "good");
	strcpy(e.source_sig_scheme, "minisign");
	memcpy(e.source_sig_keynum, se.source_key.keynum, 8);
	e.source_sig = (custos_bytes){fake_sig, sizeof fake_sig - 1};
	CHECK_RC(event_encode(&gb, &e), 0);
	test_golden("event-ingest-signed.txt", gb.p, gb.n);
	CHECK_RC(event_parse(&ev, gb.p, gb.n), 0);
	CHECK(ev.has_source_sig && strcmp(ev.source_verdict, "good") == 0 &&
	      ev.source_sig.n == sizeof fake_sig - 1 &&
	      memcmp(ev.source_sig.p, fake_sig, ev.source_sig.n) == 0);
	event_clear(&ev);
	mutation_property(gb.p, gb.n, true);
	buf_free(&sb2);
	buf_free(&gb);

	char *pub = NULL;
	custos_pubkey_format(&pub, custos_key_public(k), CUSTOS_PUB_CUSTOS);
	test_golden("vector-key.pub", (uint8_t *)pub, strlen(pub));
	free(pub);
	buf_free(&b);
	buf_free(&s);
	buf_free(&eb);
	buf_free(&es);
	custos_key_free(k);
}

/* Mutate a valid encoding every way we can think of; whatever still parses must re-encode
 * to exactly the mutated bytes (so no two byte strings mean the same record). */
static void mutation_property(const uint8_t *p, size_t n, bool is_event)
{
	uint64_t st = 7;
	uint8_t *m = malloc(n + 16);
	int parsed = 0, total = 0;
	for (size_t i = 0; i < n; i++) {
		for (int kind = 0; kind < 4; kind++) {
			size_t mn = n;
			memcpy(m, p, n);
			uint8_t r;
			test_random(&r, 1, &st);
			if (kind == 0)
				m[i] ^= (uint8_t)(1u << (r & 7));
			else if (kind == 1) { /* delete byte i */
				memmove(m + i, m + i + 1, n - i - 1);
				mn = n - 1;
			} else if (kind == 2) { /* insert a byte */
				memmove(m + i + 1, m + i, n - i);
				m[i] = "0 %\nA\r\x00z"[r & 7];
				mn = n + 1;
			} else { /* replace with a printable byte */
				m[i] = (uint8_t)(0x20 + (r % 95));
			}
			total++;
			buf b;
			buf_init(&b, 0);
			int rc;
			if (is_event) {
				event e;
				rc = event_parse(&e, m, mn);
				if (rc == 0) {
					event_encode(&b, &e);
					event_clear(&e);
				}
			} else {
				custos_record rec;
				rc = record_parse(&rec, m, mn);
				if (rc == 0) {
					record_encode(&b, &rec);
					record_clear(&rec);
				}
			}
			if (rc == 0) {
				parsed++;
				CHECK(b.n == mn && memcmp(b.p, m, mn) == 0);
			} else {
				CHECK(rc == CUSTOS_EINTEGRITY);
			}
			buf_free(&b);
		}
	}
	printf("  %s mutations: %d tried, %d still parse (each canonical)\n",
	       is_event ? "event" : "record", total, parsed);
	free(m);
}

/* Replace `from` by `to` in the text and expect the parser to refuse it. */
static void refuse_edit(const char *good, const char *from, const char *to, bool is_event)
{
	const char *at = strstr(good, from);
	CHECK(at != NULL);
	if (!at)
		return;
	buf b;
	buf_init(&b, 0);
	buf_put(&b, good, (size_t)(at - good));
	buf_puts(&b, to);
	buf_puts(&b, at + strlen(from));
	if (is_event) {
		event e;
		CHECK_RC(event_parse(&e, b.p, b.n), CUSTOS_EINTEGRITY);
	} else {
		custos_record r;
		CHECK_RC(record_parse(&r, b.p, b.n), CUSTOS_EINTEGRITY);
	}
	buf_free(&b);
}

static void member_rejects(void)
{
	size_t n;
	char *path = test_spec_path("vectors/member-record.txt");
	char *good = (char *)test_read(path, &n);
	free(path);
	mutation_property((uint8_t *)good, n, false);
	static const char *const edits[][2] = {
		{"mode 0644\n", "mode 644\n"},        /* not four digits */
		{"mode 0644\n", "mode 0648\n"},       /* not octal */
		{"mode 0644\n", "mode 10644\n"},      /* beyond 07777 */
		{"outcome ok\n", "outcome OK\n"},     /* not a token */
		{"outcome ok\n", "outcome \n"},       /* empty */
		{"outcome ok\n", ""},                 /* a member without an outcome */
		{"member 0\n", ""},                   /* a container without a position */
		{"member 0\n", "member 00\n"},       /* leading zero */
		{"kind file\n", "kind symlink\n"},    /* a link without a target */
	};
	for (size_t i = 0; i < ARRAY_LEN(edits); i++)
		refuse_edit(good, edits[i][0], edits[i][1], false);
	/* a file's record may not use a member's kind, nor a member's fields */
	path = test_spec_path("vectors/item-record.txt");
	char *file = (char *)test_read(path, &n);
	free(path);
	refuse_edit(file, "kind file\n", "kind directory\n", false);
	refuse_edit(file, "mtime 1700000000\n", "mtime 1700000000\nmode 0644\noutcome ok\n", false);
	free(file);
	free(good);

	path = test_spec_path("vectors/event-ingest-archive.txt");
	char *ev = (char *)test_read(path, &n);
	free(path);
	mutation_property((uint8_t *)ev, n, true);
	static const char *const ev_edits[][2] = {
		{" corrupt 1 4096 ", " Corrupt 1 4096 "},  /* not a token */
		{" corrupt 1 4096 ", " corrupt 01 4096 "}, /* leading zero */
		{" corrupt 1 4096 ", " corrupt 1 4096  "}, /* an extra field */
		{"ZIP%202.0", "ZIP 2.0"},                  /* raw space */
	};
	for (size_t i = 0; i < ARRAY_LEN(ev_edits); i++)
		refuse_edit(ev, ev_edits[i][0], ev_edits[i][1], true);
	free(ev);
}

static void rejects(void)
{
	size_t n;
	char *path = test_spec_path("vectors/item-record.txt");
	char *good = (char *)test_read(path, &n);
	free(path);
	custos_record r;
	CHECK_RC(record_parse(&r, (uint8_t *)good, n), 0);
	record_clear(&r);
	mutation_property((uint8_t *)good, n, false);
	struct {
		const char *from, *to;
	} edits[] = {
		{"custos-item 1\n", "custos-item 2\n"},         /* unknown version */
		{"seq 1\n", "seq 01\n"},                       /* leading zero */
		{"kind file\n", "kind dir\n"},                 /* unknown kind */
		{"size 9\n", "size 9 \n"},                     /* trailing space */
		{"mime application/pdf\n", ""},                /* missing field */
		{"%E2%80%94", "%e2%80%94"},                    /* lower-case escape */
		{"name Contract", "name%20Contract"},         /* label and value run together */
		{"source source%20A", "source source A"},      /* raw space */
		{"custodian ", "custodian  "},                 /* double space */
		{"vault 0011", "vault 0O11"},                  /* not hex */
	};
	for (size_t i = 0; i < ARRAY_LEN(edits); i++) {
		char *at = strstr(good, edits[i].from);
		CHECK(at != NULL);
		if (!at)
			continue;
		buf b;
		buf_init(&b, 0);
		buf_put(&b, good, (size_t)(at - good));
		buf_puts(&b, edits[i].to);
		buf_puts(&b, at + strlen(edits[i].from));
		CHECK_RC(record_parse(&r, b.p, b.n), CUSTOS_EINTEGRITY);
		buf_free(&b);
	}
	/* Reordered fields, CRLF line ends, a missing final newline, trailing data. */
	buf b;
	buf_init(&b, 0);
	for (char *c = good; *c; c++) {
		if (*c == '\n')
			buf_putc(&b, '\r');
		buf_putc(&b, *c);
	}
	CHECK_RC(record_parse(&r, b.p, b.n), CUSTOS_EINTEGRITY);
	buf_free(&b);
	CHECK_RC(record_parse(&r, (uint8_t *)good, n - 1), CUSTOS_EINTEGRITY);
	buf_init(&b, 0);
	buf_put(&b, good, n);
	buf_puts(&b, "extra 1\n");
	CHECK_RC(record_parse(&r, b.p, b.n), CUSTOS_EINTEGRITY);
	buf_free(&b);
	char *seq = strstr(good, "seq "), *nl = strstr(good, "n 0\n");
	buf_init(&b, 0);
	buf_put(&b, good, (size_t)(seq - good));
	buf_puts(&b, "n 0\nseq 1\n");
	buf_puts(&b, nl + 4);
	CHECK_RC(record_parse(&r, b.p, b.n), CUSTOS_EINTEGRITY);
	buf_free(&b);
	free(good);

	path = test_spec_path("vectors/event-ingest.txt");
	char *ev = (char *)test_read(path, &n);
	free(path);
	mutation_property((uint8_t *)ev, n, true);
	free(ev);
	member_rejects();
}

static void signature_files(void)
{
	uint8_t id[8], sig[64];
	size_t n;
	char *path = test_spec_path("vectors/item-record.sig");
	char *s = (char *)test_read(path, &n);
	CHECK_RC(sigfile_parse(id, sig, (uint8_t *)s, n), 0);
	s[n - 1] = ' ';
	CHECK_RC(sigfile_parse(id, sig, (uint8_t *)s, n), CUSTOS_EINTEGRITY);
	CHECK_RC(sigfile_parse(id, sig, (uint8_t *)s, n - 1), CUSTOS_EINTEGRITY);
	free(s);
	free(path);
}

int main(void)
{
	test_init();
	golden_vectors();
	rejects();
	signature_files();
	return test_finish("record");
}
