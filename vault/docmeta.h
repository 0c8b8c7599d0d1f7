/*
 * docmeta — metadata of office documents, PDFs and JPEG photos, and the inconsistency
 * flags custos raises on it (issue 6 part 4, FS §13.5). Signals, not verdicts: a flag says
 * the metadata does not fit, never that a document is forged.
 *
 * The extractors work on bytes in memory (the vault hands them over: for OOXML and ODF the
 * XML members the sandboxed reader already took out of the zip), bounded and fuzzed:
 *   OOXML  docProps/core.xml, docProps/app.xml: leaf children of the root, by qualified
 *          name; word/settings.xml: w:rsidRoot and the number of w:rsid
 *   ODF    meta.xml: leaf children of office:meta; attributes of its empty children as
 *          "element@attr"
 *   PDF    the Info dictionary the last /Info names (Info/Title ... Info/ModDate), the last
 *          XMP packet's properties, incremental updates (startxref sections - 1) and
 *          signatures (/ByteRange arrays). Objects inside compressed object streams are not
 *          seen.
 *   JPEG   EXIF IFD0 Make, Model, Software, DateTime (as ModifyDate) and the Exif IFD's
 *          DateTimeOriginal and CreateDate (DateTimeDigitized)
 */
#ifndef CUSTOS_DOCMETA_H
#define CUSTOS_DOCMETA_H

#include "common.h"

#define DOCMETA_FIELDS_MAX 256
#define DOCMETA_VALUE_MAX 1024 /* longer values are cut (and end in "...") */

typedef struct docmeta_field {
	char *name, *value;
} docmeta_field;

typedef struct docmeta {
	docmeta_field meta[DOCMETA_FIELDS_MAX];
	size_t n_meta;
	docmeta_field flag[16]; /* name: the flag's token, value: its detail */
	size_t n_flags;
} docmeta;

void docmeta_free(docmeta *d);
int docmeta_add(docmeta *d, const char *name, const uint8_t *v, size_t vn);
const char *docmeta_get(const docmeta *d, const char *name);

/* Extractors: 0, or <0 for memory; malformed input extracts what it can. */
int docmeta_office(docmeta *d, const uint8_t *core, size_t cn, const uint8_t *app, size_t an,
		   const uint8_t *settings, size_t sn);
int docmeta_odf(docmeta *d, const uint8_t *meta, size_t n);
int docmeta_pdf(docmeta *d, const uint8_t *p, size_t n);
int docmeta_jpeg(docmeta *d, const uint8_t *p, size_t n);

/* The flags for a kind ("office", "opendocument", "pdf", "jpeg") given the extracted
 * fields, the time of analysis and the item's ingest time; ext_mismatch from its record. */
int docmeta_flags(docmeta *d, const char *kind, int64_t now, int64_t ingested,
		  const char *ext_mismatch);

/* A date as documents write it (W3CDTF/ISO 8601, PDF "D:...", EXIF "YYYY:MM:DD hh:mm:ss")
 * in seconds since 1970; *zoned false when it has no zone (read as UTC). */
bool docmeta_date(const char *s, int64_t *t, bool *zoned);

#endif
