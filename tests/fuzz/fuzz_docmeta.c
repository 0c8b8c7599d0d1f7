/* fuzz_docmeta.c — the document metadata scanners (FS §13.5): XML (OOXML docProps, ODF
 * meta.xml, XMP), PDF (Info, XMP, updates, /ByteRange) and JPEG EXIF, then the flag rules
 * over what they found. Every byte comes from a leaked document. The first byte picks the
 * scanner; the rest is the document. */
#include "docmeta.h"
#include "xmlscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_events(const xml_event *e, void *ud)
{
	size_t *n = ud;
	(*n)++;
	if (e->type == XML_END && e->leaf && e->text && e->text[e->text_len] != '\0')
		__builtin_trap(); /* leaf text is NUL-terminated at its length */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	docmeta d = {0};
	static const char *const kinds[] = {"office", "opendocument", "pdf", "jpeg"};
	const char *kind = kinds[data[0] % 4];
	switch (data[0] % 6) {
	case 0: /* the same bytes as core.xml, app.xml and settings.xml */
		docmeta_office(&d, p, n, p, n, p, n);
		break;
	case 1:
		docmeta_odf(&d, p, n);
		break;
	case 2:
		docmeta_pdf(&d, p, n);
		break;
	case 3:
		docmeta_jpeg(&d, p, n);
		break;
	case 4: {
		size_t events = 0;
		xml_scan(p, n, count_events, &events);
		break;
	}
	default: { /* a date parser on its own */
		char s[64];
		size_t k = n < sizeof s - 1 ? n : sizeof s - 1;
		memcpy(s, p, k);
		s[k] = '\0';
		int64_t t;
		bool zoned;
		docmeta_date(s, &t, &zoned);
		docmeta_add(&d, "dcterms:created", p, n);
		docmeta_add(&d, "dcterms:modified", (const uint8_t *)"2024-01-01T00:00:00Z", 20);
		docmeta_add(&d, "TotalTime", p, n < 12 ? n : 12);
		break;
	}
	}
	docmeta_flags(&d, kind, 1796213367, 1796213000, data[0] & 0x80 ? "pdf" : NULL);
	docmeta_free(&d);
	return 0;
}
