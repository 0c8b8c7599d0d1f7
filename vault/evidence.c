/*
 * evidence.c — see evidence.h. Lines are "label field field ...", one space apart; text
 * fields are escaped (FS §3), so none holds a space, and an empty one is written as
 * nothing (two spaces in a row).
 */
#include "evidence.h"
#include "record.h"

#include <stdio.h>
#include <stdlib.h>

#define DKIM_FIELDS 21 /* "dkim" and 20 values */

int line_list_add(line_list *ll, buf *b)
{
	int rc = buf_check(b);
	if (rc < 0)
		return rc;
	char **l = realloc(ll->l, (ll->n + 1) * sizeof *l);
	if (!l)
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	ll->l = l;
	size_t n;
	char *s = buf_steal(b, &n);
	if (!s)
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	ll->l[ll->n++] = s;
	return 0;
}

void line_list_free(line_list *ll)
{
	for (size_t i = 0; i < ll->n; i++)
		free(ll->l[i]);
	free(ll->l);
	memset(ll, 0, sizeof *ll);
}

/* Split a line at single spaces into exactly n fields (empty ones allowed). */
static int split_exact(const char *s, const char **f, size_t *fl, size_t n)
{
	size_t k = 0;
	const char *p = s;
	for (;;) {
		const char *sp = strchr(p, ' ');
		if (k == n)
			return -1;
		f[k] = p;
		fl[k] = sp ? (size_t)(sp - p) : strlen(p);
		k++;
		if (!sp)
			break;
		p = sp + 1;
	}
	return k == n ? 0 : -1;
}

static bool field_is(const char *f, size_t fl, const char *want)
{
	return fl == strlen(want) && memcmp(f, want, fl) == 0;
}

/* An escaped field into a C string of at most cap-1 bytes (no NUL inside). */
static int esc_field(char *out, size_t cap, const char *f, size_t fl)
{
	custos_bytes b = {0};
	if (esc_decode(&b, f, fl) < 0)
		return -1;
	int rc = b.n < cap && !memchr(b.p, 0, b.n) ? 0 : -1;
	if (rc == 0) {
		memcpy(out, b.p, b.n);
		out[b.n] = '\0';
	}
	free(b.p);
	return rc;
}

static void put_esc_field(buf *b, const char *s)
{
	buf_putc(b, ' ');
	esc_encode(b, (const uint8_t *)s, strlen(s));
}

/* ------------------------------------------------------------ dkim-key */

int evidence_put_record(buf *b, const char *name, const uint8_t *value, size_t vn)
{
	buf_puts(b, "record");
	put_esc_field(b, name);
	buf_putc(b, ' ');
	esc_encode(b, value, vn);
	return buf_check(b);
}

int evidence_parse_record(const char *line, custos_bytes *name, custos_bytes *value)
{
	const char *f[3];
	size_t fl[3];
	if (strncmp(line, "record ", 7) != 0)
		return 0;
	if (split_exact(line, f, fl, 3) < 0 || fl[1] == 0 || fl[2] == 0 ||
	    esc_decode(name, f[1], fl[1]) < 0)
		return CUSTOS_CORRUPT("event: a malformed record line");
	if (esc_decode(value, f[2], fl[2]) < 0) {
		free(name->p);
		return CUSTOS_CORRUPT("event: a malformed record line");
	}
	return 1;
}

/* ------------------------------------------------------------ analysis */

int evidence_put_item(buf *b, const uint8_t id[CUSTOS_ITEM_ID_LEN], const char *kind)
{
	char hex[2 * CUSTOS_ITEM_ID_LEN + 1];
	custos_hex(hex, id, CUSTOS_ITEM_ID_LEN);
	buf_printf(b, "item %s %s", hex, kind);
	return buf_check(b);
}

static void put_opt_u64(buf *b, int has, uint64_t v)
{
	if (has)
		buf_printf(b, " %llu", (unsigned long long)v);
	else
		buf_puts(b, " -");
}

int evidence_put_dkim(buf *b, const custos_dkim_sig *s)
{
	buf_printf(b, "dkim %u %s", s->index, s->verdict);
	const char *text1[] = {s->d, s->s, s->i, s->a, s->c, s->h};
	for (size_t i = 0; i < ARRAY_LEN(text1); i++)
		put_esc_field(b, text1[i]);
	put_opt_u64(b, s->has_l, s->l);
	buf_printf(b, " %llu", (unsigned long long)s->body_len);
	put_opt_u64(b, s->has_t, (uint64_t)s->t);
	put_opt_u64(b, s->has_x, (uint64_t)s->x);
	buf_printf(b, " %d", s->expired ? 1 : 0);
	put_esc_field(b, s->key_type);
	buf_printf(b, " %u", s->key_bits);
	const char *text2[] = {s->weak, s->unsigned_dup, s->key_name, s->key_from, s->reason};
	for (size_t i = 0; i < ARRAY_LEN(text2); i++)
		put_esc_field(b, text2[i]);
	return buf_check(b);
}

static int opt_u64(const char *f, size_t fl, int *has, uint64_t *v)
{
	*has = !field_is(f, fl, "-");
	*v = 0;
	return *has ? u64_parse(v, f, fl) : 0;
}

static int parse_dkim(const char *line, custos_dkim_sig *s)
{
	const char *f[DKIM_FIELDS];
	size_t fl[DKIM_FIELDS];
	memset(s, 0, sizeof *s);
	uint64_t idx, bits, t, x;
	if (split_exact(line, f, fl, DKIM_FIELDS) < 0 || u64_parse(&idx, f[1], fl[1]) < 0 ||
	    idx > 1000 || !(field_is(f[2], fl[2], "pass") || field_is(f[2], fl[2], "fail")))
		return -1;
	s->index = (unsigned)idx;
	memcpy(s->verdict, f[2], fl[2]);
	struct {
		char *out;
		size_t cap;
		int at;
	} text[] = {{s->d, sizeof s->d, 3},	{s->s, sizeof s->s, 4},
		    {s->i, sizeof s->i, 5},	{s->a, sizeof s->a, 6},
		    {s->c, sizeof s->c, 7},	{s->h, sizeof s->h, 8},
		    {s->key_type, sizeof s->key_type, 14}, {s->weak, sizeof s->weak, 16},
		    {s->unsigned_dup, sizeof s->unsigned_dup, 17}, {s->key_name, sizeof s->key_name, 18},
		    {s->key_from, sizeof s->key_from, 19}, {s->reason, sizeof s->reason, 20}};
	for (size_t i = 0; i < ARRAY_LEN(text); i++)
		if (esc_field(text[i].out, text[i].cap, f[text[i].at], fl[text[i].at]) < 0)
			return -1;
	if (opt_u64(f[9], fl[9], &s->has_l, &s->l) < 0 || u64_parse(&s->body_len, f[10], fl[10]) < 0 ||
	    opt_u64(f[11], fl[11], &s->has_t, &t) < 0 || opt_u64(f[12], fl[12], &s->has_x, &x) < 0 ||
	    t > INT64_MAX || x > INT64_MAX || !(field_is(f[13], fl[13], "0") || field_is(f[13], fl[13], "1")) ||
	    u64_parse(&bits, f[15], fl[15]) < 0 || bits > 65536)
		return -1;
	s->t = (int64_t)t;
	s->x = (int64_t)x;
	s->expired = f[13][0] == '1';
	s->key_bits = (unsigned)bits;
	return 0;
}

bool evidence_kind_ok(const char *kind, size_t n)
{
	static const char *const kinds[] = {"message", "office", "opendocument", "pdf", "jpeg"};
	for (size_t i = 0; i < ARRAY_LEN(kinds); i++)
		if (field_is(kind, n, kinds[i]))
			return true;
	return false;
}

static bool flag_token_ok(const char *f, size_t n)
{
	if (n == 0 || n >= 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((f[i] >= 'a' && f[i] <= 'z') || (f[i] >= '0' && f[i] <= '9') || f[i] == '-'))
			return false;
	return true;
}

int evidence_put_meta(buf *b, const char *label, const char *name, const char *value)
{
	buf_puts(b, label);
	if (strcmp(label, "flag") == 0)
		buf_printf(b, " %s", name);
	else
		put_esc_field(b, name);
	put_esc_field(b, value);
	return buf_check(b);
}

/* "meta <esc> <esc>" or "flag <token> <esc>": name and value decoded (no NUL inside). */
static int parse_pair(const char *line, bool is_flag, char **name, char **value)
{
	const char *f[3];
	size_t fl[3];
	custos_bytes a = {0}, b = {0};
	if (split_exact(line, f, fl, 3) < 0 || fl[1] == 0 || (is_flag && !flag_token_ok(f[1], fl[1])) ||
	    esc_decode(&a, f[1], fl[1]) < 0 || esc_decode(&b, f[2], fl[2]) < 0 ||
	    memchr(a.p, 0, a.n) || memchr(b.p, 0, b.n)) {
		free(a.p);
		free(b.p);
		return CUSTOS_CORRUPT("event: a malformed %s line", is_flag ? "flag" : "meta");
	}
	*name = (char *)a.p;
	*value = (char *)b.p;
	return is_flag ? LINE_FLAG : LINE_META;
}

int evidence_put_arc(buf *b, const custos_arc *a)
{
	buf_printf(b, "arc %s %zu", a->verdict, a->n_sets); /* the arc-set lines that follow */
	put_esc_field(b, a->reason);
	return buf_check(b);
}

int evidence_put_arc_set(buf *b, const custos_arc_set *s)
{
	buf_printf(b, "arc-set %u %s", s->instance, s->ams_verdict);
	put_esc_field(b, s->ams_d);
	put_esc_field(b, s->ams_s);
	buf_printf(b, " %s", s->as_verdict);
	put_esc_field(b, s->as_d);
	put_esc_field(b, s->as_s);
	put_esc_field(b, s->cv);
	put_esc_field(b, s->reason);
	return buf_check(b);
}

static bool verdict_ok(const char *f, size_t n, bool none)
{
	return field_is(f, n, "pass") || field_is(f, n, "fail") || (none && field_is(f, n, "none"));
}

static int parse_arc(const char *line, custos_arc *a)
{
	const char *f[4];
	size_t fl[4];
	uint64_t n;
	memset(a, 0, sizeof *a);
	if (split_exact(line, f, fl, 4) < 0 || !verdict_ok(f[1], fl[1], false) ||
	    u64_parse(&n, f[2], fl[2]) < 0 || n > CUSTOS_ARC_MAX ||
	    esc_field(a->reason, sizeof a->reason, f[3], fl[3]) < 0)
		return CUSTOS_CORRUPT("event: a malformed arc line");
	memcpy(a->verdict, f[1], fl[1]);
	a->instances = (unsigned)n;
	a->n_sets = (size_t)n; /* the arc-set lines due (sets: NULL) */
	return LINE_ARC;
}

static int parse_arc_set(const char *line, custos_arc_set *s)
{
	const char *f[10];
	size_t fl[10];
	uint64_t n;
	memset(s, 0, sizeof *s);
	if (split_exact(line, f, fl, 10) < 0 || u64_parse(&n, f[1], fl[1]) < 0 || n == 0 ||
	    n > CUSTOS_ARC_MAX || !verdict_ok(f[2], fl[2], false) || !verdict_ok(f[5], fl[5], false) ||
	    esc_field(s->ams_d, sizeof s->ams_d, f[3], fl[3]) < 0 ||
	    esc_field(s->ams_s, sizeof s->ams_s, f[4], fl[4]) < 0 ||
	    esc_field(s->as_d, sizeof s->as_d, f[6], fl[6]) < 0 ||
	    esc_field(s->as_s, sizeof s->as_s, f[7], fl[7]) < 0 ||
	    esc_field(s->cv, sizeof s->cv, f[8], fl[8]) < 0 ||
	    esc_field(s->reason, sizeof s->reason, f[9], fl[9]) < 0)
		return CUSTOS_CORRUPT("event: a malformed arc-set line");
	s->instance = (unsigned)n;
	memcpy(s->ams_verdict, f[2], fl[2]);
	memcpy(s->as_verdict, f[5], fl[5]);
	return LINE_ARC_SET;
}

static bool starts_with(const char *line, const char *label)
{
	size_t k = strlen(label);
	return strncmp(line, label, k) == 0 && line[k] == ' ';
}

int evidence_parse_line(const char *line, evidence_line *out)
{
	memset(out, 0, sizeof *out);
	int rc = 0;
	if (starts_with(line, "meta") || starts_with(line, "flag"))
		rc = parse_pair(line, line[0] == 'f', &out->name, &out->value);
	else if (starts_with(line, "arc"))
		rc = parse_arc(line, &out->arc);
	else if (starts_with(line, "arc-set"))
		rc = parse_arc_set(line, &out->set);
	else if (starts_with(line, "dkim"))
		rc = parse_dkim(line, &out->sig) < 0 ? CUSTOS_CORRUPT("event: a malformed dkim line") : LINE_DKIM;
	else if (starts_with(line, "item")) {
		const char *f[3];
		size_t fl[3];
		if (split_exact(line, f, fl, 3) < 0 ||
		    hex_decode(out->id, CUSTOS_ITEM_ID_LEN, f[1], fl[1]) < 0 || !evidence_kind_ok(f[2], fl[2]))
			return CUSTOS_CORRUPT("event: a malformed item line");
		memcpy(out->kind, f[2], fl[2]);
		out->kind[fl[2]] = '\0';
		rc = LINE_ITEM;
	}
	out->type = rc > 0 ? rc : 0;
	return rc;
}

/* ------------------------------------------------------------ whole events */

/* A line is canonical when re-encoding what was parsed gives it back. */
static int same_as(const char *line, buf *b)
{
	bool same = buf_check(b) == 0 && b->n == strlen(line) && memcmp(b->p, line, b->n) == 0;
	buf_free(b);
	return same ? 0 : CUSTOS_CORRUPT("event: '%.40s' is not in canonical form", line);
}

static int check_esc_line(const char *line, const char *label, bool time)
{
	size_t ll = strlen(label);
	if (strncmp(line, label, ll) != 0 || line[ll] != ' ')
		return 0;
	const char *v = line + ll + 1;
	buf b;
	buf_init(&b, EVENT_MAX);
	if (time) {
		int64_t t;
		if (time_parse(&t, v, strlen(v)) < 0)
			return CUSTOS_CORRUPT("event: a bad time in '%s'", label);
		char ts[21];
		custos_time_format(ts, t);
		buf_printf(&b, "%s %s", label, ts);
	} else {
		custos_bytes x = {0};
		if (esc_decode(&x, v, strlen(v)) < 0 || x.n == 0) {
			free(x.p);
			return CUSTOS_CORRUPT("event: a bad '%s' line", label);
		}
		buf_printf(&b, "%s ", label);
		esc_encode(&b, x.p, x.n);
		free(x.p);
	}
	int rc = same_as(line, &b);
	return rc < 0 ? rc : 1;
}

static int check_dkim_key(char *const *lines, size_t n)
{
	size_t i = 0;
	int rc;
	const char *opt[] = {"obtained-from", "obtained-at", "note"};
	for (size_t k = 0; k < ARRAY_LEN(opt); k++) {
		rc = i < n ? check_esc_line(lines[i], opt[k], k == 1) : 0;
		if (rc < 0)
			return rc;
		if (k == 0 && rc == 0)
			return CUSTOS_CORRUPT("event: a dkim-key event without 'obtained-from'");
		i += (size_t)rc;
	}
	if (i == n)
		return CUSTOS_CORRUPT("event: a dkim-key event without records");
	for (; i < n; i++) {
		custos_bytes name = {0}, value = {0};
		rc = evidence_parse_record(lines[i], &name, &value);
		if (rc == 0)
			return CUSTOS_CORRUPT("event: unexpected line '%.40s'", lines[i]);
		if (rc < 0)
			return rc;
		buf b;
		buf_init(&b, EVENT_MAX);
		bool ok = !memchr(name.p, 0, name.n);
		if (ok)
			evidence_put_record(&b, (const char *)name.p, value.p, value.n);
		free(name.p);
		free(value.p);
		if (!ok) {
			buf_free(&b);
			return CUSTOS_CORRUPT("event: a NUL in a record name");
		}
		if ((rc = same_as(lines[i], &b)) < 0)
			return rc;
	}
	return 0;
}

/* Where each kind of line may come within an item's lines: in this order. */
static int rank(int type)
{
	static const int order[] = {[LINE_ITEM] = 0, [LINE_DKIM] = 1, [LINE_ARC] = 2,
				    [LINE_ARC_SET] = 3, [LINE_META] = 4, [LINE_FLAG] = 5};
	return order[type];
}

/* The line re-encoded from what was parsed (same_as compares). */
static void encode_line(buf *b, const evidence_line *l)
{
	switch (l->type) {
	case LINE_ITEM:
		evidence_put_item(b, l->id, l->kind);
		break;
	case LINE_DKIM:
		evidence_put_dkim(b, &l->sig);
		break;
	case LINE_ARC:
		evidence_put_arc(b, &l->arc);
		break;
	case LINE_ARC_SET:
		evidence_put_arc_set(b, &l->set);
		break;
	default:
		evidence_put_meta(b, l->type == LINE_FLAG ? "flag" : "meta", l->name, l->value);
	}
}

typedef struct item_state {
	bool any, message, arc;
	int last;       /* the rank of the item's last line */
	unsigned next;  /* the next dkim index, or the next arc-set instance */
	unsigned sets;  /* arc-set lines still due */
} item_state;

/* Does line l fit where it is? */
static bool placed(item_state *st, const evidence_line *l)
{
	if (l->type == LINE_ITEM) {
		bool ok = !st->any || st->sets == 0;
		*st = (item_state){.any = true, .message = strcmp(l->kind, "message") == 0};
		return ok;
	}
	if (!st->any || rank(l->type) < st->last || (st->sets && l->type != LINE_ARC_SET))
		return false;
	bool ok = true;
	if (l->type == LINE_DKIM) {
		ok = st->message && l->sig.index == st->next++;
	} else if (l->type == LINE_ARC) {
		ok = st->message && !st->arc;
		st->arc = true;
		st->sets = st->next = l->arc.instances; /* newest first */
	} else if (l->type == LINE_ARC_SET) {
		ok = st->sets > 0 && l->set.instance == st->next--;
		st->sets -= st->sets > 0;
	}
	st->last = rank(l->type);
	return ok;
}

static int check_analysis(char *const *lines, size_t n)
{
	size_t i = 0;
	int rc = n ? check_esc_line(lines[0], "note", false) : 0;
	if (rc < 0)
		return rc;
	i += (size_t)rc;
	item_state st = {0};
	for (; i < n; i++) {
		evidence_line l;
		rc = evidence_parse_line(lines[i], &l);
		if (rc == 0)
			return CUSTOS_CORRUPT("event: unexpected line '%.40s'", lines[i]);
		if (rc < 0)
			return rc;
		buf b;
		buf_init(&b, EVENT_MAX);
		encode_line(&b, &l);
		bool ok = placed(&st, &l);
		free(l.name);
		free(l.value);
		if (!ok) {
			buf_free(&b);
			return CUSTOS_CORRUPT("event: '%.40s' out of place", lines[i]);
		}
		if ((rc = same_as(lines[i], &b)) < 0)
			return rc;
	}
	if (st.sets)
		return CUSTOS_CORRUPT("event: an arc line without all its arc-set lines");
	return st.any ? 0 : CUSTOS_CORRUPT("event: an analysis event without items");
}

int evidence_lines_check(const char *action, char *const *lines, size_t n)
{
	if (strcmp(action, "dkim-key") == 0)
		return check_dkim_key(lines, n);
	if (strcmp(action, "analysis") == 0)
		return check_analysis(lines, n);
	return CUSTOS_CORRUPT("event: no lines are known for action '%s'", action);
}
