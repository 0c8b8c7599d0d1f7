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
/* Parse an analysis line: 1 "item" (id, kind filled), 2 "dkim" (*s filled), 3 "meta" and
 * 4 "flag" (*name, *value malloc'd), 0 another line. */
int evidence_parse_line(const char *line, uint8_t id[CUSTOS_ITEM_ID_LEN], char kind[32],
			custos_dkim_sig *s, char **name, char **value);
/* Is this a kind of item an analysis names? */
bool evidence_kind_ok(const char *kind, size_t n);

#endif
