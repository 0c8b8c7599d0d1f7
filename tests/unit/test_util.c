/* test_util.c — strict parsing of numbers and times, escaping, renderings of hostile bytes. */
#include "harness.h"
#include "record.h"

#include <stdlib.h>

static void numbers(void)
{
	uint64_t u;
	int64_t i;
	CHECK_RC(u64_parse(&u, "0", 1), 0);
	CHECK(u == 0);
	CHECK_RC(u64_parse(&u, "18446744073709551615", 20), 0);
	CHECK(u == UINT64_MAX);
	CHECK_RC(u64_parse(&u, "18446744073709551616", 20), CUSTOS_EINVALID);
	CHECK_RC(u64_parse(&u, "01", 2), CUSTOS_EINVALID);
	CHECK_RC(u64_parse(&u, "", 0), CUSTOS_EINVALID);
	CHECK_RC(u64_parse(&u, "+1", 2), CUSTOS_EINVALID);
	CHECK_RC(u64_parse(&u, "1 ", 2), CUSTOS_EINVALID);
	CHECK_RC(i64_parse(&i, "-5", 2), 0);
	CHECK(i == -5);
	CHECK_RC(i64_parse(&i, "-0", 2), CUSTOS_EINVALID);
	CHECK_RC(i64_parse(&i, "-9223372036854775808", 20), 0);
	CHECK(i == INT64_MIN);
	CHECK_RC(i64_parse(&i, "9223372036854775808", 19), CUSTOS_EINVALID);
}

static void times(void)
{
	int64_t t;
	char s[21];
	CHECK_RC(time_parse(&t, "2026-11-28T12:07:27Z", 20), 0);
	custos_time_format(s, t);
	CHECK(strcmp(s, "2026-11-28T12:07:27Z") == 0);
	CHECK_RC(time_parse(&t, "2026-02-31T00:00:00Z", 20), CUSTOS_EINVALID);
	CHECK_RC(time_parse(&t, "2026-11-28 12:07:27Z", 20), CUSTOS_EINVALID);
	CHECK_RC(time_parse(&t, "2026-11-28T12:07:27+", 20), CUSTOS_EINVALID);
	CHECK_RC(time_parse(&t, "2026-11-28T24:00:00Z", 20), CUSTOS_EINVALID);
	CHECK_RC(time_parse(&t, "2026-11-28T12:07:27", 19), CUSTOS_EINVALID);
	CHECK_RC(time_parse(&t, "1970-01-01T00:00:00Z", 20), 0);
	CHECK(t == 0);
}

static void escaping(void)
{
	uint8_t all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	buf b;
	buf_init(&b, 0);
	CHECK_RC(esc_encode(&b, all, 256), 0);
	for (size_t i = 0; i < b.n; i++)
		CHECK(b.p[i] > 0x20 && b.p[i] < 0x7F);
	custos_bytes back;
	CHECK_RC(esc_decode(&back, (char *)b.p, b.n), 0);
	CHECK(back.n == 256 && memcmp(back.p, all, 256) == 0);
	free(back.p);
	buf_free(&b);
	/* One form only: lower-case hex, escaped plain bytes, raw spaces, truncation. */
	const char *bad[] = {"%2f", "%41", "a b", "%4", "%", "%G0", "\xff"};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		CHECK_RC(esc_decode(&back, bad[i], strlen(bad[i])), CUSTOS_EINTEGRITY);
	CHECK_RC(esc_decode(&back, "%25%20", 6), 0);
	CHECK(back.n == 2 && back.p[0] == '%' && back.p[1] == ' ');
	free(back.p);
}

static void renderings(void)
{
	const uint8_t name[] = "a\nb\xff\x1b[31m\\ok\xc3\xa9";
	char *p = custos_printable(name, sizeof name - 1);
	CHECK(strcmp(p, "a\\x0ab\\xff\\x1b[31m\\\\ok\xc3\xa9") == 0);
	free(p);
	char *j = custos_json_escape(name, sizeof name - 1);
	CHECK(strcmp(j, "a\\u000ab\\udcff\\u001b[31m\\\\ok\xc3\xa9") == 0);
	free(j);
	/* Bidi overrides would reorder what a terminal shows: escaped byte by byte. */
	const uint8_t bidi[] = "x\xe2\x80\xaey";
	p = custos_printable(bidi, sizeof bidi - 1);
	CHECK(strcmp(p, "x\\xe2\\x80\\xaey") == 0);
	free(p);
}

static void buffers(void)
{
	buf b;
	buf_init(&b, 10);
	CHECK_RC(buf_put(&b, "0123456789", 10), 0);
	CHECK_RC(buf_putc(&b, 'x'), CUSTOS_ELIMIT);
	CHECK(b.failed);
	CHECK_RC(buf_putc(&b, 'y'), CUSTOS_ERROR); /* sticky */
	buf_free(&b);
}

int main(void)
{
	test_init();
	numbers();
	times();
	escaping();
	renderings();
	buffers();
	return test_finish("util");
}
