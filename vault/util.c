/*
 * util.c — small helpers: bounded buffers, hex and base64, strict number and time
 * parsing, printable and JSON renderings of hostile bytes.
 */
#include "common.h"

#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		custos_error_set(CUSTOS_ERROR, "out of memory");
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (!p) {
		custos_error_set(CUSTOS_ERROR, "out of memory");
		return NULL;
	}
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

void buf_init(buf *b, size_t limit)
{
	memset(b, 0, sizeof *b);
	b->limit = limit ? limit : BUF_LIMIT_DEFAULT;
}

int buf_reserve(buf *b, size_t extra)
{
	if (b->failed)
		return CUSTOS_ERROR;
	if (extra > b->limit || b->n > b->limit - extra) {
		b->failed = true;
		return custos_error_set(CUSTOS_ELIMIT, "buffer limit of %zu bytes reached", b->limit);
	}
	size_t need = b->n + extra + 1;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > b->limit + 1)
		cap = b->limit + 1;
	uint8_t *p = realloc(b->p, cap);
	if (!p) {
		b->failed = true;
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

int buf_put(buf *b, const void *p, size_t n)
{
	int rc = buf_reserve(b, n);
	if (rc < 0)
		return rc;
	if (n)
		memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n] = '\0';
	return 0;
}

int buf_puts(buf *b, const char *s)
{
	return buf_put(b, s, strlen(s));
}

int buf_putc(buf *b, int c)
{
	uint8_t ch = (uint8_t)c;
	return buf_put(b, &ch, 1);
}

int buf_printf(buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0)
		return custos_error_set(CUSTOS_ERROR, "formatting failed");
	int rc = buf_reserve(b, (size_t)len);
	if (rc < 0)
		return rc;
	va_start(ap, fmt);
	vsnprintf((char *)b->p + b->n, (size_t)len + 1, fmt, ap);
	va_end(ap);
	b->n += (size_t)len;
	return 0;
}

int buf_check(const buf *b)
{
	return b->failed ? CUSTOS_ERROR : 0;
}

char *buf_steal(buf *b, size_t *len)
{
	if (b->failed)
		return NULL;
	if (!b->p && buf_reserve(b, 0) < 0)
		return NULL;
	b->p[b->n] = '\0';
	char *s = (char *)b->p;
	if (len)
		*len = b->n;
	b->p = NULL;
	b->n = b->cap = 0;
	return s;
}

void buf_free(buf *b)
{
	free(b->p);
	b->p = NULL;
	b->n = b->cap = 0;
}

void custos_hex(char *out, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

bool is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int hex_decode(uint8_t *out, size_t outlen, const char *hex, size_t hexlen)
{
	if (hexlen != 2 * outlen)
		return CUSTOS_EINVALID;
	for (size_t i = 0; i < outlen; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return CUSTOS_EINVALID;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

char *b64_encode(const uint8_t *p, size_t n)
{
	size_t len = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
	char *s = malloc(len);
	if (!s) {
		custos_error_set(CUSTOS_ERROR, "out of memory");
		return NULL;
	}
	sodium_bin2base64(s, len, p, n, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

int b64_decode(uint8_t *out, size_t outmax, size_t *outlen, const char *s, size_t n)
{
	const char *end = NULL;
	size_t len = 0;
	if (sodium_base642bin(out, outmax, s, n, NULL, &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != s + n)
		return CUSTOS_EINVALID;
	/* Canonical form only: re-encoding must give the same text. */
	char *again = b64_encode(out, len);
	if (!again)
		return CUSTOS_ERROR;
	bool same = strlen(again) == n && memcmp(again, s, n) == 0;
	free(again);
	if (!same)
		return CUSTOS_EINVALID;
	if (outlen)
		*outlen = len;
	return 0;
}

int64_t now_utc(void)
{
	const char *fake = getenv("CUSTOS_FAKE_TIME");
	int64_t t;
	if (fake && i64_parse(&t, fake, strlen(fake)) == 0)
		return t;
	return (int64_t)time(NULL);
}

void custos_time_format(char out[21], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
		snprintf(out, 21, "0000-00-00T00:00:00Z");
		return;
	}
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int digits_at(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int time_parse(int64_t *out, const char *s, size_t n)
{
	if (n != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[19] != 'Z')
		return CUSTOS_EINVALID;
	struct tm tm = {0};
	int y = digits_at(s, 4), mo = digits_at(s + 5, 2), d = digits_at(s + 8, 2);
	int h = digits_at(s + 11, 2), mi = digits_at(s + 14, 2), se = digits_at(s + 17, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 ||
	    mi > 59 || se < 0 || se > 59)
		return CUSTOS_EINVALID;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	time_t t = timegm(&tm);
	/* Reject dates that timegm normalised (31 February and the like). */
	char back[21];
	custos_time_format(back, (int64_t)t);
	if (memcmp(back, s, 20) != 0)
		return CUSTOS_EINVALID;
	*out = (int64_t)t;
	return 0;
}

int u64_parse(uint64_t *out, const char *s, size_t n)
{
	if (n == 0 || n > 20 || (n > 1 && s[0] == '0'))
		return CUSTOS_EINVALID;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return CUSTOS_EINVALID;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return CUSTOS_EINVALID;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int i64_parse(int64_t *out, const char *s, size_t n)
{
	bool neg = n > 0 && s[0] == '-';
	uint64_t v;
	if (neg && n > 1 && s[1] == '0')
		return CUSTOS_EINVALID; /* no "-0" */
	if (u64_parse(&v, s + neg, n - neg) < 0)
		return CUSTOS_EINVALID;
	if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
		return CUSTOS_EINVALID;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid or a control char. */
static size_t utf8_char_len(const uint8_t *p, size_t n)
{
	uint8_t c = p[0];
	if (c < 0x80)
		return 1;
	size_t len;
	uint32_t cp;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3F);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	/* C1 controls and bidi overrides could spoof a terminal; escape them. */
	if ((cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
	    (cp >= 0x2066 && cp <= 0x2069))
		return 0;
	return len;
}

char *custos_printable(const uint8_t *p, size_t n)
{
	buf b;
	buf_init(&b, 0);
	for (size_t i = 0; i < n;) {
		size_t len = utf8_char_len(p + i, n - i);
		if (len == 1 && (p[i] < 0x20 || p[i] == 0x7F || p[i] == '\\'))
			len = 0;
		if (len == 0) {
			if (p[i] == '\\')
				buf_puts(&b, "\\\\");
			else
				buf_printf(&b, "\\x%02x", p[i]);
			i++;
		} else {
			buf_put(&b, p + i, len);
			i += len;
		}
	}
	return buf_steal(&b, NULL);
}

char *custos_json_escape(const uint8_t *p, size_t n)
{
	buf b;
	buf_init(&b, 0);
	for (size_t i = 0; i < n;) {
		uint8_t c = p[i];
		size_t len = utf8_char_len(p + i, n - i);
		if (c == '"' || c == '\\') {
			buf_putc(&b, '\\');
			buf_putc(&b, c);
			i++;
		} else if (c < 0x20 || c == 0x7F) {
			buf_printf(&b, "\\u%04x", c);
			i++;
		} else if (len == 0 && c >= 0x80) {
			/* Not UTF-8 (or a control we escape): keep the byte recoverable, as
			 * Python's surrogateescape does. */
			buf_printf(&b, "\\udc%02x", c);
			i++;
		} else {
			if (len == 0)
				len = 1;
			buf_put(&b, p + i, len);
			i += len;
		}
	}
	return buf_steal(&b, NULL);
}

int array_grow(void *pp, size_t *cap, size_t n, size_t elem, size_t first)
{
	if (n < *cap)
		return 0;
	size_t want = *cap ? 2 * *cap : first;
	void **p = pp;
	void *q = want > SIZE_MAX / elem ? NULL : realloc(*p, want * elem);
	if (!q)
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	*p = q;
	*cap = want;
	return 0;
}

void buf_put_b64_line(buf *b, const char *label, const uint8_t *p, size_t n)
{
	char *v = b64_encode(p, n);
	buf_printf(b, "%s %s\n", label, v ? v : "");
	if (!v)
		b->failed = true;
	free(v);
}

void buf_put_utf8(buf *b, uint32_t c)
{
	if (c < 0x80) {
		buf_putc(b, (int)c);
	} else if (c < 0x800) {
		buf_putc(b, 0xC0 | (int)(c >> 6));
		buf_putc(b, 0x80 | (int)(c & 0x3F));
	} else if (c < 0x10000) {
		buf_putc(b, 0xE0 | (int)(c >> 12));
		buf_putc(b, 0x80 | (int)((c >> 6) & 0x3F));
		buf_putc(b, 0x80 | (int)(c & 0x3F));
	} else {
		buf_putc(b, 0xF0 | (int)(c >> 18));
		buf_putc(b, 0x80 | (int)((c >> 12) & 0x3F));
		buf_putc(b, 0x80 | (int)((c >> 6) & 0x3F));
		buf_putc(b, 0x80 | (int)(c & 0x3F));
	}
}
