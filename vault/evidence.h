/*
 * evidence — the lines of the two evidence events (FS §13): `dkim-key` (DKIM key records
 * gathered elsewhere, with where and when) and `analysis` (the signals custos found in
 * items, e.g. each DKIM signature's report). Each line has one canonical form: it is
 * parsed, re-encoded and compared, as records and events are (record.h).
 */
#ifndef CUSTOS_EVIDENCE_H
#define CUSTOS_EVIDENCE_H

#include "common.h"

/* Check the lines (without LF) after an event's action line: CUSTOS_CORRUPT-style error
 * naming the line when one is malformed or out of order. */
int evidence_lines_check(const char *action, char *const *lines, size_t n);

/* A line appended to a list of lines (malloc'd copies). */
typedef struct line_list {
	char **l;
	size_t n;
} line_list;
int line_list_add(line_list *ll, buf *b); /* takes b's text, resets b */
void line_list_free(line_list *ll);

/* dkim-key lines. */
int evidence_put_record(buf *b, const char *name, const uint8_t *value, size_t vn);
/* Parse a "record" line; 1 when it is one, 0 when the line is another kind. */
int evidence_parse_record(const char *line, custos_bytes *name, custos_bytes *value);

/* analysis lines: "item <id> <kind>" and "dkim ..." (a custos_dkim_sig). */
int evidence_put_item(buf *b, const uint8_t id[CUSTOS_ITEM_ID_LEN], const char *kind);
int evidence_put_dkim(buf *b, const custos_dkim_sig *s);
/* "meta <name> <value>" and "flag <token> <detail>" (document signals, FS §13.5). */
int evidence_put_meta(buf *b, const char *label, const char *name, const char *value);
/* "arc" and "arc-set" lines: a message's ARC chain and each of its sets (FS §13.4). */
int evidence_put_arc(buf *b, const custos_arc *a);
int evidence_put_arc_set(buf *b, const custos_arc_set *s);

/* One analysis line, parsed. */
enum { LINE_ITEM = 1, LINE_DKIM, LINE_META, LINE_FLAG, LINE_ARC, LINE_ARC_SET };
typedef struct evidence_line {
	int type;
	uint8_t id[CUSTOS_ITEM_ID_LEN]; /* item */
	char kind[32];
	custos_dkim_sig sig;            /* dkim */
	custos_arc arc;                 /* arc: instances = the arc-set lines due, sets NULL */
	custos_arc_set set;             /* arc-set */
	char *name, *value;             /* meta, flag: malloc'd */
} evidence_line;
/* The line's type (LINE_*), 0 for another line, or CUSTOS_CORRUPT-style error. Free
 * name and value. */
int evidence_parse_line(const char *line, evidence_line *out);

/* Is this a kind of item an analysis names? */
bool evidence_kind_ok(const char *kind, size_t n);

#endif
