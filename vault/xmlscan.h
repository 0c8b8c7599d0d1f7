/*
 * xmlscan — a bounded scan of the small XML files that hold document metadata (OOXML
 * docProps/core.xml and app.xml, word/settings.xml, ODF meta.xml, XMP packets): not a validating parser,
 * just elements, their attributes and text, with the five entities and character
 * references decoded (issue 6, FS §13.5). Hostile input: depth, names, values and counts
 * are capped; malformed markup ends the scan, never reads out of bounds.
 */
#ifndef CUSTOS_XMLSCAN_H
#define CUSTOS_XMLSCAN_H

#include "common.h"

#define XML_DEPTH_MAX 64
#define XML_NAME_MAX 128
#define XML_ELEMENTS_MAX 100000

typedef struct xml_event {
	int type;           /* XML_START, XML_END (text: the element's own text, if a leaf) */
	int depth;          /* the element's depth, the root 0 */
	const char *name;   /* qualified name as written */
	const char *parent; /* the parent's qualified name, "" for the root */
	/* XML_START: attributes as name/value pairs (values decoded) */
	const char *const *attr;
	size_t n_attr;
	bool empty;         /* <x/> */
	/* XML_END of a leaf element (no child elements): its text, decoded */
	const char *text;
	size_t text_len;
	bool leaf;
} xml_event;

enum { XML_START = 1, XML_END = 2 };

/* Calls fn for each element start and end, in document order; fn returns non-zero to stop.
 * Returns 0 (also when the markup was malformed: what came before was reported), or a
 * negative error from fn or memory. */
typedef int (*xml_fn)(const xml_event *e, void *ud);
int xml_scan(const uint8_t *p, size_t n, xml_fn fn, void *ud);

#endif
