/*
 * classify.c — see classify.h.
 */
#include "classify.h"

#include <ctype.h>
#include <stdlib.h>

struct classifier {
	magic_t mime, desc;
};

static magic_t open_one(int flags)
{
	magic_t m = magic_open(flags);
	if (!m)
		return NULL;
	size_t bytes = CLASSIFY_PREFIX;
	if (magic_load(m, NULL) != 0 || magic_setparam(m, MAGIC_PARAM_BYTES_MAX, &bytes) != 0) {
		custos_error_set(CUSTOS_ERROR, "cannot load the libmagic database: %s", magic_error(m));
		magic_close(m);
		return NULL;
	}
	return m;
}

int classify_open(classifier **out)
{
	classifier *c = xcalloc(1, sizeof *c);
	if (!c)
		return CUSTOS_ERROR;
	c->mime = open_one(CLASSIFY_MAGIC_FLAGS | MAGIC_MIME_TYPE);
	c->desc = c->mime ? open_one(CLASSIFY_MAGIC_FLAGS) : NULL;
	if (!c->desc) {
		classify_close(c);
		return custos_error_last()[0] ? CUSTOS_ERROR
					       : custos_error_set(CUSTOS_ERROR, "cannot start libmagic");
	}
	*out = c;
	return 0;
}

void classify_close(classifier *c)
{
	if (!c)
		return;
	if (c->mime)
		magic_close(c->mime);
	if (c->desc)
		magic_close(c->desc);
	free(c);
}

static char *one(magic_t m, const uint8_t *p, size_t n)
{
	const char *r = magic_buffer(m, p, n);
	/* A classification failure is a fact about the bytes, not an error of the ingest. */
	return xstrdup(r ? r : "unknown");
}

/*
 * True for a description that is only libmagic's character-set verdict ("ASCII text",
 * "Unicode text, UTF-8 text, with CRLF line terminators", …): no soft-magic test matched,
 * and the MIME pass then says text/plain (checked against libmagic's own MIME pass on
 * 60,000 files, 14,929 of them of this kind, without an exception; tests/unit/test_classify.c
 * keeps checking it). Anything else, including forms not seen there, takes the MIME pass.
 */
static bool plain_text_description(const char *d)
{
	static const char *const charsets[] = {
		"ASCII text", "ISO-8859 text", "Non-ISO extended-ASCII text",
		"Unicode text, UTF-8 text", "Unicode text, UTF-8 (with BOM) text",
	};
	const char *rest = NULL;
	for (size_t i = 0; i < ARRAY_LEN(charsets) && !rest; i++) {
		size_t k = strlen(charsets[i]);
		if (strncmp(d, charsets[i], k) == 0)
			rest = d + k;
	}
	if (!rest)
		return false;
	/* then only clauses ", with <no comma>" (line terminators, long lines, escapes) */
	while (*rest) {
		if (strncmp(rest, ", with ", 7) != 0)
			return false;
		rest += 7;
		size_t k = strcspn(rest, ",");
		if (k == 0)
			return false;
		rest += k;
	}
	return true;
}

int classify_buffer(classifier *c, const uint8_t *p, size_t n, char **mime, char **desc)
{
	if (n > CLASSIFY_PREFIX)
		n = CLASSIFY_PREFIX;
	*desc = one(c->desc, p, n);
	/* "data" is libmagic's answer when no test matched (file_default()), and for the same
	 * bytes its MIME answer is then application/octet-stream: skip the second full pass over
	 * the magic database, which is most of the cost for unidentifiable bytes. */
	if (*desc && strcmp(*desc, "data") == 0)
		*mime = xstrdup("application/octet-stream");
	else if (*desc && plain_text_description(*desc))
		*mime = xstrdup("text/plain"); /* the same shortcut for plain text */
	else
		*mime = one(c->mime, p, n);
	if (!*mime || !*desc) {
		free(*mime);
		free(*desc);
		return CUSTOS_ERROR;
	}
	return 0;
}

/* Extensions with a well-known type, and the MIME types (or type/ prefixes ending in '/')
 * libmagic reports for genuine files of that kind. */
static const struct {
	const char *ext;
	const char *types[6];
} ext_types[] = {
	{"pdf", {"application/pdf"}},
	{"doc", {"application/msword", "application/vnd.ms-office", "application/CDFV2", "application/x-ole-storage"}},
	{"xls", {"application/vnd.ms-excel", "application/vnd.ms-office", "application/CDFV2", "application/x-ole-storage"}},
	{"ppt", {"application/vnd.ms-powerpoint", "application/vnd.ms-office", "application/CDFV2", "application/x-ole-storage"}},
	{"msg", {"application/vnd.ms-outlook", "application/vnd.ms-office", "application/CDFV2", "application/x-ole-storage"}},
	{"docx", {"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "application/zip"}},
	{"xlsx", {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/zip"}},
	{"pptx", {"application/vnd.openxmlformats-officedocument.presentationml.presentation", "application/zip"}},
	{"odt", {"application/vnd.oasis.opendocument.text", "application/zip"}},
	{"ods", {"application/vnd.oasis.opendocument.spreadsheet", "application/zip"}},
	{"odp", {"application/vnd.oasis.opendocument.presentation", "application/zip"}},
	{"zip", {"application/zip"}},
	{"7z", {"application/x-7z-compressed"}},
	{"rar", {"application/x-rar", "application/vnd.rar"}},
	{"gz", {"application/gzip", "application/x-gzip"}},
	{"tgz", {"application/gzip", "application/x-gzip"}},
	{"bz2", {"application/x-bzip2"}},
	{"xz", {"application/x-xz"}},
	{"zst", {"application/zstd"}},
	{"tar", {"application/x-tar"}},
	{"jpg", {"image/jpeg"}},
	{"jpeg", {"image/jpeg"}},
	{"png", {"image/png"}},
	{"gif", {"image/gif"}},
	{"tif", {"image/tiff"}},
	{"tiff", {"image/tiff"}},
	{"txt", {"text/"}},
	{"csv", {"text/", "application/csv"}},
	{"htm", {"text/"}},
	{"html", {"text/"}},
	{"xml", {"text/", "application/xml"}},
	{"json", {"application/json", "text/"}},
	{"eml", {"message/rfc822", "text/"}},
	{"mbox", {"application/mbox", "text/"}},
	{"rtf", {"text/rtf"}},
	{"mp3", {"audio/mpeg"}},
	{"mp4", {"video/mp4"}},
	{"mov", {"video/quicktime"}},
	{"wav", {"audio/x-wav", "audio/wav"}},
};

static bool type_matches(const char *want, const char *mime)
{
	size_t wl = strlen(want);
	if (wl && want[wl - 1] == '/')
		return strncmp(mime, want, wl) == 0;
	return strcmp(mime, want) == 0;
}

char *classify_ext_mismatch(const uint8_t *name, size_t n, const char *mime)
{
	const uint8_t *dot = NULL;
	for (size_t i = n; i-- > 0;)
		if (name[i] == '.') {
			dot = name + i;
			break;
		}
	if (!dot || dot == name || (size_t)(name + n - dot - 1) >= 8)
		return NULL;
	char ext[8];
	size_t el = (size_t)(name + n - dot - 1);
	for (size_t i = 0; i < el; i++)
		ext[i] = (char)tolower(dot[1 + i]);
	ext[el] = '\0';
	/* An empty file has no type to disagree with. */
	if (strcmp(mime, "application/x-empty") == 0 || strcmp(mime, "inode/x-empty") == 0)
		return NULL;
	for (size_t i = 0; i < ARRAY_LEN(ext_types); i++) {
		if (strcmp(ext_types[i].ext, ext) != 0)
			continue;
		for (int k = 0; k < 6 && ext_types[i].types[k]; k++)
			if (type_matches(ext_types[i].types[k], mime))
				return NULL;
		return xstrdup(ext);
	}
	return NULL;
}
