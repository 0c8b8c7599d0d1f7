/*
 * test_classify.c — classify_buffer skips libmagic's MIME pass for two kinds of
 * description ("data", and a bare character-set verdict such as "ASCII text"). Here the
 * answer it gives is compared with libmagic's own MIME pass over the same bytes, for
 * inputs of every kind the shortcuts cover and for near misses they must not cover; and
 * the extension-mismatch flag is checked on a few names.
 */
#include "harness.h"

#include "classify.h"

#include <stdlib.h>

static magic_t full_mime;

/* libmagic's full MIME pass, with the flags classify.c uses. */
static const char *reference_mime(const uint8_t *p, size_t n)
{
	return magic_buffer(full_mime, p, n);
}

/* classify_buffer's MIME answer must be libmagic's; want_desc (a prefix) pins down that
 * the input is of the kind the case means to exercise. */
static void agrees(classifier *c, const char *label, const uint8_t *p, size_t n,
		   const char *want_desc)
{
	char *mime = NULL, *desc = NULL;
	CHECK_RC(classify_buffer(c, p, n, &mime, &desc), 0);
	const char *ref = reference_mime(p, n);
	test_checks++;
	if (!mime || !desc || !ref || strcmp(mime, ref) != 0 ||
	    (want_desc && strncmp(desc, want_desc, strlen(want_desc)) != 0)) {
		test_failures++;
		fprintf(stderr, "%s: mime %s (libmagic: %s), description \"%s\" (want \"%s…\")\n",
			label, mime ? mime : "(null)", ref ? ref : "(null)", desc ? desc : "(null)",
			want_desc ? want_desc : "");
	}
	free(mime);
	free(desc);
}

static void text(classifier *c, const char *label, const char *s, const char *want_desc)
{
	agrees(c, label, (const uint8_t *)s, strlen(s), want_desc);
}

static void texts(classifier *c)
{
	static const char prose[] = "The minutes of the board meeting were never circulated.\n"
				    "Nobody asked for them until the audit began in March.\n";
	text(c, "ascii", prose, "ASCII text");
	text(c, "crlf", "First line of the memo.\r\nSecond line of the memo.\r\n", "ASCII text, with CRLF");
	text(c, "no terminator", "one line without an end", "ASCII text, with no line terminators");
	text(c, "utf-8", "Zahlungen an die Gesellschaft in Zürich, März 2024.\n", "Unicode text, UTF-8 text");
	text(c, "bom", "\xef\xbb\xbfMemo: payments to the Zürich company.\n", "Unicode text, UTF-8 (with BOM)");
	text(c, "latin-1", "Paiement re\xe7u le 3 f\xe9vrier, sign\xe9 \xe0 Gen\xe8ve.\n", "ISO-8859 text");
	text(c, "cr+lf mix", "a line\r\nanother line\nlast\r\n", NULL);
	text(c, "escapes", "colour \x1b[31mred\x1b[0m text\n", NULL);
	char *longline = malloc(3001);
	memset(longline, 'x', 3000);
	for (size_t i = 7; i < 3000; i += 8)
		longline[i] = ' ';
	longline[3000] = '\0';
	text(c, "long lines", longline, "ASCII text, with very long lines");
	free(longline);
	/* Near misses: text that soft magic recognises, whose MIME type is not text/plain. */
	text(c, "python", "#!/usr/bin/python3\nimport sys\nprint(sys.argv)\n", NULL);
	text(c, "shell", "#!/bin/sh\necho hello\n", NULL);
	text(c, "c source", "#include <stdio.h>\nint main(void) { return 0; }\n", NULL);
	text(c, "html", "<!DOCTYPE html>\n<html><head><title>x</title></head><body></body></html>\n", NULL);
	text(c, "json", "{\"payments\": [1, 2, 3], \"to\": \"Zurich\"}\n", NULL);
	text(c, "csv", "date,amount,payee\n2024-03-01,100,ACME\n2024-03-02,200,ACME\n", NULL);
	text(c, "email", "From: a@example.org\nTo: b@example.org\nSubject: hi\n\nbody\n", NULL);
	text(c, "xml", "<?xml version=\"1.0\"?>\n<doc><p>x</p></doc>\n", NULL);
	text(c, "pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", NULL);
}

static void binaries(classifier *c)
{
	uint8_t bytes[16384];
	uint64_t st = 5;
	for (int i = 0; i < 20; i++) { /* random bytes: mostly "data", some lucky matches */
		test_random(bytes, sizeof bytes, &st);
		agrees(c, "random", bytes, 1024 + (size_t)i * 700, NULL);
	}
	memset(bytes, 0, sizeof bytes);
	agrees(c, "zeros", bytes, sizeof bytes, NULL);
	static const uint8_t pdf[] = "%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n";
	agrees(c, "pdf", pdf, sizeof pdf - 1, "PDF document");
	static const uint8_t gz[] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	agrees(c, "gzip", gz, sizeof gz, "gzip compressed data");
	agrees(c, "empty", bytes, 0, NULL);
}

static void mismatch(void)
{
	char *e = classify_ext_mismatch((const uint8_t *)"report.pdf", 10, "application/zip");
	CHECK(e && strcmp(e, "pdf") == 0);
	free(e);
	CHECK(classify_ext_mismatch((const uint8_t *)"Report.PDF", 10, "application/pdf") == NULL);
	CHECK(classify_ext_mismatch((const uint8_t *)"notes", 5, "text/plain") == NULL);
}

int main(void)
{
	test_init();
	classifier *c = NULL;
	CHECK_RC(classify_open(&c), 0);
	size_t bytes = CLASSIFY_PREFIX;
	full_mime = magic_open(CLASSIFY_MAGIC_FLAGS | MAGIC_MIME_TYPE);
	CHECK(full_mime && magic_load(full_mime, NULL) == 0 &&
	      magic_setparam(full_mime, MAGIC_PARAM_BYTES_MAX, &bytes) == 0);
	if (c && full_mime) {
		texts(c);
		binaries(c);
	}
	mismatch();
	magic_close(full_mime);
	classify_close(c);
	return test_finish("classify");
}
