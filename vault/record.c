/*
 * record.c — see record.h. Layouts: FS §3 (escaping), §4 (item records), §5 (events,
 * signature files).
 */
#include "record.h"
#include "evidence.h"

#include "digest.h"

#include <stdlib.h>

/* ------------------------------------------------------------ escaping */

static bool plain_byte(uint8_t c)
{
	return c >= 0x21 && c <= 0x7E && c != '%';
}

int esc_encode(buf *b, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		if (plain_byte(p[i])) {
			buf_putc(b, p[i]);
		} else {
			char e[3] = {'%', digits[p[i] >> 4], digits[p[i] & 15]};
			buf_put(b, e, 3);
		}
	}
	return buf_check(b);
}

static int upper_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int esc_decode(custos_bytes *out, const char *s, size_t n)
{
	uint8_t *p = malloc(n + 1);
	size_t len = 0;
	if (!p)
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)s[i];
		if (c == '%') {
			if (n - i < 3) {
				free(p);
				return CUSTOS_CORRUPT("truncated %%-escape");
			}
			int h = upper_hex(s[i + 1]), l = upper_hex(s[i + 2]);
			if (h < 0 || l < 0 || plain_byte((uint8_t)(h << 4 | l))) {
				free(p);
				return CUSTOS_CORRUPT("non-canonical %%-escape");
			}
			p[len++] = (uint8_t)(h << 4 | l);
			i += 2;
		} else if (plain_byte(c)) {
			p[len++] = c;
		} else {
			free(p);
			return CUSTOS_CORRUPT("unescaped byte 0x%02x in a record value", c);
		}
	}
	p[len] = '\0';
	out->p = p;
	out->n = len;
	return 0;
}

/* ------------------------------------------------------------ line cursor */

typedef struct cursor {
	const char *p, *end;
	const char *what; /* "item record" or "event", for messages */
} cursor;

/* Split the next line into label and value. */
static int line_peek(const cursor *c, const char **label, size_t *ll, const char **val, size_t *vl,
		     const char **next)
{
	if (c->p >= c->end)
		return CUSTOS_ENOTFOUND;
	const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
	if (!nl)
		return CUSTOS_CORRUPT("%s: last line has no newline", c->what);
	const char *sp = memchr(c->p, ' ', (size_t)(nl - c->p));
	if (!sp)
		return CUSTOS_CORRUPT("%s: line without a value", c->what);
	*label = c->p;
	*ll = (size_t)(sp - c->p);
	*val = sp + 1;
	*vl = (size_t)(nl - sp - 1);
	*next = nl + 1;
	return 0;
}

static bool peek_is(const cursor *c, const char *label)
{
	const char *l, *v, *nx;
	size_t ll, vl;
	return line_peek(c, &l, &ll, &v, &vl, &nx) == 0 && ll == strlen(label) &&
	       memcmp(l, label, ll) == 0;
}

static int expect(cursor *c, const char *label, const char **val, size_t *vl)
{
	const char *l, *nx;
	size_t ll;
	int rc = line_peek(c, &l, &ll, val, vl, &nx);
	if (rc == CUSTOS_ENOTFOUND)
		return CUSTOS_CORRUPT("%s: missing '%s' line", c->what, label);
	if (rc < 0)
		return rc;
	if (ll != strlen(label) || memcmp(l, label, ll) != 0)
		return CUSTOS_CORRUPT("%s: expected '%s', found '%.*s'", c->what, label,
				      (int)(ll > 40 ? 40 : ll), l);
	c->p = nx;
	return 0;
}

static int expect_hex(cursor *c, const char *label, uint8_t *out, size_t len)
{
	const char *v;
	size_t vl;
	int rc = expect(c, label, &v, &vl);
	if (rc == 0 && hex_decode(out, len, v, vl) < 0)
		rc = CUSTOS_CORRUPT("%s: bad hex in '%s'", c->what, label);
	return rc;
}

static int expect_hexstr(cursor *c, const char *label, char *out, size_t len)
{
	const char *v;
	size_t vl;
	int rc = expect(c, label, &v, &vl);
	if (rc == 0 && (vl != len || !is_lower_hex(v, vl)))
		rc = CUSTOS_CORRUPT("%s: bad hex in '%s'", c->what, label);
	if (rc == 0) {
		memcpy(out, v, len);
		out[len] = '\0';
	}
	return rc;
}

static int expect_u64(cursor *c, const char *label, uint64_t *out)
{
	const char *v;
	size_t vl;
	int rc = expect(c, label, &v, &vl);
	if (rc == 0 && u64_parse(out, v, vl) < 0)
		rc = CUSTOS_CORRUPT("%s: bad number in '%s'", c->what, label);
	return rc;
}

static int expect_time(cursor *c, const char *label, int64_t *out)
{
	const char *v;
	size_t vl;
	int rc = expect(c, label, &v, &vl);
	if (rc == 0 && time_parse(out, v, vl) < 0)
		rc = CUSTOS_CORRUPT("%s: bad time in '%s'", c->what, label);
	return rc;
}

static int expect_esc(cursor *c, const char *label, custos_bytes *out)
{
	const char *v;
	size_t vl;
	int rc = expect(c, label, &v, &vl);
	if (rc == 0)
		rc = esc_decode(out, v, vl);
	return rc;
}

/* An escaped value that must also be printable text (mime, description). */
static int expect_esc_str(cursor *c, const char *label, char **out)
{
	custos_bytes b = {0};
	int rc = expect_esc(c, label, &b);
	if (rc == 0 && memchr(b.p, '\0', b.n)) {
		free(b.p);
		return CUSTOS_CORRUPT("%s: NUL byte in '%s'", c->what, label);
	}
	*out = (char *)b.p;
	return rc;
}

static void put_esc_line(buf *b, const char *label, const uint8_t *p, size_t n)
{
	buf_puts(b, label);
	buf_putc(b, ' ');
	esc_encode(b, p, n);
	buf_putc(b, '\n');
}

static void put_hex_line(buf *b, const char *label, const uint8_t *p, size_t n)
{
	char hex[129];
	custos_hex(hex, p, n);
	buf_printf(b, "%s %s\n", label, hex);
}

static void put_time_line(buf *b, const char *label, int64_t t)
{
	char ts[21];
	custos_time_format(ts, t);
	buf_printf(b, "%s %s\n", label, ts);
}

/* ------------------------------------------------------------ item records */

static const char *const kind_names[CUSTOS_KIND_COUNT] = {
	"file", "symlink", "hardlink", "directory", "chardev", "blockdev", "fifo", "socket", "other"};

const char *custos_kind_name(int kind)
{
	return kind >= 0 && kind < CUSTOS_KIND_COUNT ? kind_names[kind] : "?";
}

/* Outcome and result tokens: lower-case letters, digits, '-' and ':' (FS §4.1, §5.2). */
static bool token_ok(const char *v, size_t vl)
{
	if (vl == 0 || vl >= 32)
		return false;
	for (size_t i = 0; i < vl; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') || v[i] == '-' ||
		      v[i] == ':'))
			return false;
	return true;
}

int record_encode(buf *b, const custos_record *r)
{
	buf_puts(b, "custos-item 1\n");
	buf_printf(b, "vault %s\n", r->vault);
	buf_printf(b, "seq %llu\n", (unsigned long long)r->seq);
	buf_printf(b, "n %llu\n", (unsigned long long)r->n);
	if (r->kind < 0 || r->kind >= CUSTOS_KIND_COUNT || (!r->is_member && r->kind > CUSTOS_KIND_SYMLINK))
		return custos_error_set(CUSTOS_EINVALID, "item record: kind not allowed");
	buf_printf(b, "kind %s\n", kind_names[r->kind]);
	put_hex_line(b, "sha256", r->sha256, 32);
	buf_printf(b, "size %llu\n", (unsigned long long)r->size);
	put_esc_line(b, "name", r->name.p, r->name.n);
	put_esc_line(b, "path", r->path.p, r->path.n);
	if (r->is_member) {
		put_hex_line(b, "container", r->container, CUSTOS_ITEM_ID_LEN);
		buf_printf(b, "member %llu\n", (unsigned long long)r->member);
	}
	if (r->source.n)
		put_esc_line(b, "source", r->source.p, r->source.n);
	if (custos_kind_has_target(r->kind))
		put_esc_line(b, "target", r->target.p, r->target.n);
	if (r->has_mtime)
		buf_printf(b, "mtime %lld\n", (long long)r->mtime);
	if (r->is_member) {
		if (r->mode > 07777 || !token_ok(r->outcome, strlen(r->outcome)))
			return custos_error_set(CUSTOS_EINVALID, "item record: bad mode or outcome");
		buf_printf(b, "mode %04o\n", (unsigned)r->mode);
		buf_printf(b, "outcome %s\n", r->outcome);
	}
	put_esc_line(b, "mime", (const uint8_t *)r->mime, strlen(r->mime));
	put_esc_line(b, "description", (const uint8_t *)r->description, strlen(r->description));
	if (r->ext_mismatch)
		put_esc_line(b, "ext-mismatch", (const uint8_t *)r->ext_mismatch,
			     strlen(r->ext_mismatch));
	const char *extra[] = {r->md5, r->sha1, r->sha512, r->blake2b};
	for (int i = 0; i < DIGEST_EXTRA_N; i++)
		if (extra[i][0])
			buf_printf(b, "%s %s\n", digest_extra_name(i), extra[i]);
	put_time_line(b, "ingested", r->ingested);
	put_hex_line(b, "custodian", r->custodian, CUSTOS_KEYID_LEN);
	return buf_check(b);
}

void record_clear(custos_record *r)
{
	free(r->name.p);
	free(r->path.p);
	free(r->source.p);
	free(r->target.p);
	free(r->mime);
	free(r->description);
	free(r->ext_mismatch);
	memset(r, 0, sizeof *r);
}

static int parse_kind(cursor *c, int *kind)
{
	const char *v;
	size_t vl;
	int rc = expect(c, "kind", &v, &vl);
	if (rc < 0)
		return rc;
	for (int i = 0; i < CUSTOS_KIND_COUNT; i++)
		if (vl == strlen(kind_names[i]) && memcmp(v, kind_names[i], vl) == 0) {
			*kind = i;
			return 0;
		}
	return CUSTOS_CORRUPT("item record: unknown kind '%.*s'", (int)(vl > 20 ? 20 : vl), v);
}

static int parse_member_fields(custos_record *r, cursor *c)
{
	const char *v;
	size_t vl;
	int rc = expect(c, "mode", &v, &vl);
	if (rc < 0)
		return rc;
	unsigned mode = 0;
	if (vl != 4)
		return CUSTOS_CORRUPT("item record: bad mode");
	for (size_t i = 0; i < 4; i++) {
		if (v[i] < '0' || v[i] > '7')
			return CUSTOS_CORRUPT("item record: bad mode");
		mode = mode * 8 + (unsigned)(v[i] - '0');
	}
	r->mode = mode;
	if ((rc = expect(c, "outcome", &v, &vl)) < 0)
		return rc;
	if (!token_ok(v, vl))
		return CUSTOS_CORRUPT("item record: bad outcome");
	memcpy(r->outcome, v, vl);
	r->outcome[vl] = '\0';
	return 0;
}

static int parse_record_fields(custos_record *r, cursor *c)
{
	const char *v;
	size_t vl;
	int rc;
	if ((rc = expect(c, "custos-item", &v, &vl)) < 0)
		return rc;
	if (vl != 1 || v[0] != '1')
		return CUSTOS_CORRUPT("item record: unsupported version");
	if ((rc = expect_hexstr(c, "vault", r->vault, 2 * CUSTOS_VAULT_ID_LEN)) < 0 ||
	    (rc = expect_u64(c, "seq", &r->seq)) < 0 || (rc = expect_u64(c, "n", &r->n)) < 0 ||
	    (rc = parse_kind(c, &r->kind)) < 0 || (rc = expect_hex(c, "sha256", r->sha256, 32)) < 0 ||
	    (rc = expect_u64(c, "size", &r->size)) < 0 || (rc = expect_esc(c, "name", &r->name)) < 0 ||
	    (rc = expect_esc(c, "path", &r->path)) < 0)
		return rc;
	if (peek_is(c, "container")) {
		r->is_member = 1;
		if ((rc = expect_hex(c, "container", r->container, CUSTOS_ITEM_ID_LEN)) < 0 ||
		    (rc = expect_u64(c, "member", &r->member)) < 0)
			return rc;
	}
	if (peek_is(c, "source") && (rc = expect_esc(c, "source", &r->source)) < 0)
		return rc;
	if (custos_kind_has_target(r->kind) && (rc = expect_esc(c, "target", &r->target)) < 0)
		return rc;
	if (peek_is(c, "mtime")) {
		if ((rc = expect(c, "mtime", &v, &vl)) < 0)
			return rc;
		if (i64_parse(&r->mtime, v, vl) < 0)
			return CUSTOS_CORRUPT("item record: bad mtime");
		r->has_mtime = 1;
	}
	if (r->is_member && (rc = parse_member_fields(r, c)) < 0)
		return rc;
	if ((rc = expect_esc_str(c, "mime", &r->mime)) < 0 ||
	    (rc = expect_esc_str(c, "description", &r->description)) < 0)
		return rc;
	if (peek_is(c, "ext-mismatch") && (rc = expect_esc_str(c, "ext-mismatch", &r->ext_mismatch)) < 0)
		return rc;
	char *extra[] = {r->md5, r->sha1, r->sha512, r->blake2b};
	size_t extra_len[] = {32, 40, 128, 128};
	for (int i = 0; i < DIGEST_EXTRA_N; i++)
		if (peek_is(c, digest_extra_name(i)) &&
		    (rc = expect_hexstr(c, digest_extra_name(i), extra[i], extra_len[i])) < 0)
			return rc;
	if ((rc = expect_time(c, "ingested", &r->ingested)) < 0 ||
	    (rc = expect_hex(c, "custodian", r->custodian, CUSTOS_KEYID_LEN)) < 0)
		return rc;
	if (c->p != c->end)
		return CUSTOS_CORRUPT("item record: unexpected line after 'custodian'");
	return 0;
}

/* Strictness by construction: the bytes must be exactly what the encoder writes. */
static int require_canonical(const custos_record *r, const uint8_t *p, size_t n)
{
	buf b;
	buf_init(&b, RECORD_MAX + 1);
	int rc = record_encode(&b, r);
	if (rc == CUSTOS_EINVALID) /* values the encoder refuses: e.g. a member kind on a file */
		rc = CUSTOS_CORRUPT("item record: a value out of range (kind, mode or outcome)");
	else if (rc == 0 && (b.n != n || memcmp(b.p, p, n) != 0))
		rc = CUSTOS_CORRUPT("item record is not in canonical form");
	buf_free(&b);
	return rc;
}

int record_parse(custos_record *out, const uint8_t *p, size_t n)
{
	memset(out, 0, sizeof *out);
	if (n > RECORD_MAX)
		return CUSTOS_CORRUPT("item record larger than %u bytes", RECORD_MAX);
	cursor c = {(const char *)p, (const char *)p + n, "item record"};
	int rc = parse_record_fields(out, &c);
	if (rc == 0)
		rc = require_canonical(out, p, n);
	if (rc < 0)
		record_clear(out);
	return rc;
}

int record_id(uint8_t id[CUSTOS_ITEM_ID_LEN], const uint8_t *p, size_t n)
{
	uint8_t h[32];
	int rc = sha256_buf(h, p, n);
	memcpy(id, h, CUSTOS_ITEM_ID_LEN);
	return rc;
}

/* ------------------------------------------------------------ events */

static const char *const outcome_names[] = {"stored", "duplicate"};

/* checkpoint and cosignature events (FS §9.4). */
static int encode_tree_fields(buf *b, const event *e)
{
	buf_printf(b, "size %llu\n", (unsigned long long)e->tree_size);
	put_hex_line(b, "root", e->root, 32);
	if (strcmp(e->action, "checkpoint") == 0) {
		buf_put_b64_line(b, "signature", e->note_sig, sizeof e->note_sig);
	} else {
		put_esc_line(b, "witness", (const uint8_t *)(e->witness ? e->witness : ""),
			     e->witness ? strlen(e->witness) : 0);
		buf_put_b64_line(b, "cosignature", e->cosig, sizeof e->cosig);
	}
	return buf_check(b);
}

static int encode_container_line(buf *b, const event_container *k)
{
	char hex[33];
	if (!token_ok(k->result, strlen(k->result)))
		return -1;
	custos_hex(hex, k->id, CUSTOS_ITEM_ID_LEN);
	buf_printf(b, "container %s %s %llu %llu ", hex, k->result, (unsigned long long)k->members,
		   (unsigned long long)k->consumed);
	esc_encode(b, k->format.p, k->format.n);
	buf_putc(b, ' ');
	esc_encode(b, k->detail.p, k->detail.n);
	buf_putc(b, '\n');
	return 0;
}

/* FS §12: a source's name, key and note. */
static int encode_source_fields(buf *b, const event *e)
{
	put_esc_line(b, "name", e->name.p, e->name.n);
	if (e->has_source_key) {
		const source_key *k = &e->source_key;
		char *pk = b64_encode(k->pk, 32), hex[17];
		if (!pk || !token_ok(k->scheme, strlen(k->scheme))) {
			free(pk);
			return CUSTOS_EINVALID;
		}
		custos_hex(hex, k->keynum, 8);
		buf_printf(b, "key %s %s %s\n", k->scheme, hex, pk);
		free(pk);
	}
	if (e->note.n)
		put_esc_line(b, "note", e->note.p, e->note.n);
	return buf_check(b);
}

int event_encode(buf *b, const event *e)
{
	buf_puts(b, "custos-event 1\n");
	buf_printf(b, "vault %s\n", e->vault);
	buf_printf(b, "seq %llu\n", (unsigned long long)e->seq);
	put_hex_line(b, "prev", e->prev, 32);
	put_time_line(b, "time", e->time);
	put_hex_line(b, "custodian", e->custodian, CUSTOS_KEYID_LEN);
	buf_printf(b, "action %s\n", e->action);
	if (strcmp(e->action, "init") == 0) {
		put_esc_line(b, "name", e->name.p, e->name.n);
		char *pk = b64_encode(e->pubkey, 32);
		if (!pk)
			return CUSTOS_ERROR;
		buf_printf(b, "pubkey %s\n", pk);
		free(pk);
		return buf_check(b);
	}
	if (strcmp(e->action, "checkpoint") == 0 || strcmp(e->action, "cosignature") == 0)
		return encode_tree_fields(b, e);
	if (strcmp(e->action, "source") == 0)
		return encode_source_fields(b, e);
	if (strcmp(e->action, "dkim-key") == 0 || strcmp(e->action, "analysis") == 0) {
		for (size_t i = 0; i < e->n_lines; i++)
			buf_printf(b, "%s\n", e->lines[i]);
		return buf_check(b);
	}
	if (strcmp(e->action, "import") == 0) {
		put_hex_line(b, "bundle", e->bundle, 32);
		buf_printf(b, "from %llu\nto %llu\n", (unsigned long long)e->from,
			   (unsigned long long)e->to);
		put_hex_line(b, "head", e->head, 20);
		return buf_check(b);
	}
	if (e->source.n)
		put_esc_line(b, "source", e->source.p, e->source.n);
	if (e->has_source_sig) {
		char *sig = b64_encode(e->source_sig.p, e->source_sig.n), hex[17];
		if (!sig || !token_ok(e->source_verdict, strlen(e->source_verdict)) ||
		    !token_ok(e->source_sig_scheme, strlen(e->source_sig_scheme))) {
			free(sig);
			return CUSTOS_EINVALID;
		}
		custos_hex(hex, e->source_sig_keynum, 8);
		buf_printf(b, "source-signature %s %s %s %s\n", e->source_verdict,
			   e->source_sig_scheme, hex, sig);
		free(sig);
	}
	if (e->note.n)
		put_esc_line(b, "note", e->note.p, e->note.n);
	for (size_t i = 0; i < e->n_inputs; i++)
		buf_printf(b, "input %s\n", e->inputs[i]);
	for (size_t i = 0; i < e->n_items; i++) {
		char hex[33];
		custos_hex(hex, e->items[i].id, CUSTOS_ITEM_ID_LEN);
		buf_printf(b, "item %s %s\n", hex, outcome_names[e->items[i].outcome]);
	}
	for (size_t i = 0; i < e->n_containers; i++)
		if (encode_container_line(b, &e->containers[i]) < 0)
			return custos_error_set(CUSTOS_EINVALID, "event: bad container result");
	for (size_t i = 0; i < e->n_refused; i++)
		buf_printf(b, "refused %s %s\n", e->refused[i].reason, e->refused[i].path_esc);
	return buf_check(b);
}

void event_clear(event *e)
{
	free(e->name.p);
	free(e->source.p);
	free(e->source_sig.p);
	free(e->note.p);
	for (size_t i = 0; i < e->n_inputs; i++)
		free(e->inputs[i]);
	free(e->inputs);
	free(e->items);
	for (size_t i = 0; i < e->n_containers; i++) {
		free(e->containers[i].format.p);
		free(e->containers[i].detail.p);
	}
	free(e->containers);
	for (size_t i = 0; i < e->n_refused; i++)
		free(e->refused[i].path_esc);
	free(e->refused);
	free(e->witness);
	for (size_t i = 0; i < e->n_lines; i++)
		free(e->lines[i]);
	free(e->lines);
	memset(e, 0, sizeof *e);
}

/* Count the lines with this label from the cursor on (they are contiguous). */
static size_t count_lines(const cursor *c, const char *label)
{
	cursor t = *c;
	size_t n = 0;
	const char *v;
	size_t vl;
	while (peek_is(&t, label) && expect(&t, label, &v, &vl) == 0)
		n++;
	return n;
}

static int parse_action_token(cursor *c, char out[32])
{
	const char *v;
	size_t vl;
	int rc = expect(c, "action", &v, &vl);
	if (rc < 0)
		return rc;
	if (vl == 0 || vl >= 32)
		return CUSTOS_CORRUPT("event: bad action");
	for (size_t i = 0; i < vl; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || v[i] == '-'))
			return CUSTOS_CORRUPT("event: bad action");
	memcpy(out, v, vl);
	out[vl] = '\0';
	return 0;
}

static int parse_init_fields(event *e, cursor *c)
{
	const char *v;
	size_t vl, got;
	int rc = expect_esc(c, "name", &e->name);
	if (rc == 0)
		rc = expect(c, "pubkey", &v, &vl);
	if (rc == 0 && (b64_decode(e->pubkey, 32, &got, v, vl) < 0 || got != 32))
		rc = CUSTOS_CORRUPT("event: bad pubkey");
	return rc;
}

static int parse_item_line(event_item *it, const char *v, size_t vl)
{
	if (vl < 33 || v[32] != ' ' || hex_decode(it->id, CUSTOS_ITEM_ID_LEN, v, 32) < 0)
		return CUSTOS_CORRUPT("event: bad item line");
	for (int k = 0; k < 2; k++)
		if (vl - 33 == strlen(outcome_names[k]) && memcmp(v + 33, outcome_names[k], vl - 33) == 0) {
			it->outcome = k;
			return 0;
		}
	return CUSTOS_CORRUPT("event: bad item outcome");
}

static int parse_refused_line(event_refusal *r, const char *v, size_t vl)
{
	const char *sp = memchr(v, ' ', vl);
	if (!sp || sp == v || (size_t)(sp - v) >= sizeof r->reason)
		return CUSTOS_CORRUPT("event: bad refused line");
	memcpy(r->reason, v, (size_t)(sp - v));
	r->reason[sp - v] = '\0';
	size_t pl = vl - (size_t)(sp - v) - 1;
	custos_bytes check = {0};
	int rc = esc_decode(&check, sp + 1, pl); /* validates the escaping */
	free(check.p);
	if (rc < 0)
		return rc;
	r->path_esc = xstrndup(sp + 1, pl);
	return r->path_esc ? 0 : CUSTOS_ERROR;
}

/* "<id> <result> <members> <consumed> <esc format> <esc detail>" */
static int parse_container_line(event_container *k, const char *v, size_t vl)
{
	const char *f[6];
	size_t fl[6], n = 0;
	const char *start = v, *end = v + vl;
	for (const char *p = v; n < 6; p++) {
		if (p == end || *p == ' ') {
			f[n] = start;
			fl[n++] = (size_t)(p - start);
			start = p + 1;
			if (p == end)
				break;
		}
	}
	if (n != 6 || f[5] + fl[5] != end || fl[0] != 32 ||
	    hex_decode(k->id, CUSTOS_ITEM_ID_LEN, f[0], 32) < 0 || !token_ok(f[1], fl[1]) ||
	    u64_parse(&k->members, f[2], fl[2]) < 0 || u64_parse(&k->consumed, f[3], fl[3]) < 0)
		return CUSTOS_CORRUPT("event: bad container line");
	memcpy(k->result, f[1], fl[1]);
	k->result[fl[1]] = '\0';
	int rc = esc_decode(&k->format, f[4], fl[4]);
	return rc < 0 ? rc : esc_decode(&k->detail, f[5], fl[5]);
}

/* "<word> <word> ...": the n space-separated fields of v (exactly n). */
static int split_fields(const char *v, size_t vl, const char **f, size_t *fl, size_t n)
{
	size_t k = 0;
	const char *p = v, *end = v + vl;
	while (k < n && p <= end) {
		const char *sp = k + 1 < n ? memchr(p, ' ', (size_t)(end - p)) : end;
		if (!sp)
			return -1;
		f[k] = p;
		fl[k] = (size_t)(sp - p);
		if (fl[k] == 0)
			return -1;
		k++;
		p = sp + 1;
	}
	return k == n && memchr(f[n - 1], ' ', fl[n - 1]) == NULL ? 0 : -1;
}

static bool scheme_ok(const char *s, size_t n)
{
	return (n == 8 && memcmp(s, "minisign", 8) == 0) || (n == 11 && memcmp(s, "ssh-ed25519", 11) == 0);
}

static int parse_source_fields(event *e, cursor *c)
{
	const char *v, *f[3];
	size_t vl, fl[3], got = 0;
	int rc = expect_esc(c, "name", &e->name);
	if (rc == 0 && e->name.n == 0)
		rc = CUSTOS_CORRUPT("event: a source without a name");
	if (rc == 0 && peek_is(c, "key")) {
		source_key *k = &e->source_key;
		expect(c, "key", &v, &vl);
		if (split_fields(v, vl, f, fl, 3) < 0 || !scheme_ok(f[0], fl[0]) || fl[1] != 16 ||
		    !is_lower_hex(f[1], 16) || hex_decode(k->keynum, 8, f[1], 16) < 0 ||
		    b64_decode(k->pk, 32, &got, f[2], fl[2]) < 0 || got != 32)
			return CUSTOS_CORRUPT("event: bad source key");
		memcpy(k->scheme, f[0], fl[0]);
		k->scheme[fl[0]] = '\0';
		e->has_source_key = true;
	}
	if (rc == 0 && peek_is(c, "note"))
		rc = expect_esc(c, "note", &e->note);
	return rc;
}

static int parse_source_sig(event *e, const char *v, size_t vl)
{
	const char *f[4];
	size_t fl[4];
	if (split_fields(v, vl, f, fl, 4) < 0 ||
	    !((fl[0] == 4 && memcmp(f[0], "good", 4) == 0) || (fl[0] == 3 && memcmp(f[0], "bad", 3) == 0)) ||
	    !scheme_ok(f[1], fl[1]) || fl[2] != 16 || !is_lower_hex(f[2], 16) ||
	    hex_decode(e->source_sig_keynum, 8, f[2], 16) < 0 || fl[3] > 4 * (64 << 10))
		return CUSTOS_CORRUPT("event: bad source-signature");
	memcpy(e->source_verdict, f[0], fl[0]);
	e->source_verdict[fl[0]] = '\0';
	memcpy(e->source_sig_scheme, f[1], fl[1]);
	e->source_sig_scheme[fl[1]] = '\0';
	size_t cap = fl[3] / 4 * 3 + 3;
	if (!(e->source_sig.p = malloc(cap + 1)))
		return CUSTOS_ERROR;
	if (b64_decode(e->source_sig.p, cap, &e->source_sig.n, f[3], fl[3]) < 0 || e->source_sig.n == 0)
		return CUSTOS_CORRUPT("event: bad source-signature");
	e->source_sig.p[e->source_sig.n] = 0;
	e->has_source_sig = true;
	return 0;
}

static int parse_ingest_fields(event *e, cursor *c)
{
	const char *v;
	size_t vl;
	int rc = 0;
	if (peek_is(c, "source") && (rc = expect_esc(c, "source", &e->source)) < 0)
		return rc;
	if (peek_is(c, "source-signature")) {
		expect(c, "source-signature", &v, &vl);
		if (!e->source.n)
			return CUSTOS_CORRUPT("event: a source-signature without a source");
		if ((rc = parse_source_sig(e, v, vl)) < 0)
			return rc;
	}
	if (peek_is(c, "note") && (rc = expect_esc(c, "note", &e->note)) < 0)
		return rc;
	size_t ni = count_lines(c, "input");
	e->inputs = xcalloc(ni, sizeof *e->inputs);
	if (!e->inputs)
		return CUSTOS_ERROR;
	for (; e->n_inputs < ni; e->n_inputs++) {
		expect(c, "input", &v, &vl);
		custos_bytes check = {0};
		if ((rc = esc_decode(&check, v, vl)) < 0)
			return rc;
		free(check.p);
		if (!(e->inputs[e->n_inputs] = xstrndup(v, vl)))
			return CUSTOS_ERROR;
	}
	size_t nit = count_lines(c, "item");
	e->items = xcalloc(nit, sizeof *e->items);
	if (!e->items)
		return CUSTOS_ERROR;
	for (; e->n_items < nit; e->n_items++) {
		expect(c, "item", &v, &vl);
		if ((rc = parse_item_line(&e->items[e->n_items], v, vl)) < 0)
			return rc;
	}
	size_t nc = count_lines(c, "container");
	e->containers = xcalloc(nc, sizeof *e->containers);
	if (!e->containers)
		return CUSTOS_ERROR;
	for (; e->n_containers < nc; e->n_containers++) {
		expect(c, "container", &v, &vl);
		if ((rc = parse_container_line(&e->containers[e->n_containers], v, vl)) < 0) {
			e->n_containers++; /* so event_clear frees what it holds */
			return rc;
		}
	}
	size_t nr = count_lines(c, "refused");
	e->refused = xcalloc(nr, sizeof *e->refused);
	if (!e->refused)
		return CUSTOS_ERROR;
	for (; e->n_refused < nr; e->n_refused++) {
		expect(c, "refused", &v, &vl);
		if ((rc = parse_refused_line(&e->refused[e->n_refused], v, vl)) < 0)
			return rc;
	}
	return 0;
}

static int expect_b64(cursor *c, const char *label, uint8_t *out, size_t len)
{
	const char *v;
	size_t vl, got = 0;
	int rc = expect(c, label, &v, &vl);
	if (rc == 0 && (b64_decode(out, len, &got, v, vl) < 0 || got != len))
		rc = CUSTOS_CORRUPT("%s: bad '%s'", c->what, label);
	return rc;
}

static int parse_tree_fields(event *e, cursor *c)
{
	int rc = expect_u64(c, "size", &e->tree_size);
	if (rc == 0)
		rc = expect_hex(c, "root", e->root, 32);
	if (rc < 0)
		return rc;
	if (strcmp(e->action, "checkpoint") == 0)
		return expect_b64(c, "signature", e->note_sig, sizeof e->note_sig);
	custos_bytes w = {0};
	if ((rc = expect_esc(c, "witness", &w)) < 0)
		return rc;
	e->witness = (char *)w.p;
	if (w.n == 0 || memchr(w.p, '\0', w.n))
		return CUSTOS_CORRUPT("event: bad witness");
	return expect_b64(c, "cosignature", e->cosig, sizeof e->cosig);
}

static int parse_import_fields(event *e, cursor *c)
{
	int rc = expect_hex(c, "bundle", e->bundle, 32);
	if (rc == 0)
		rc = expect_u64(c, "from", &e->from);
	if (rc == 0)
		rc = expect_u64(c, "to", &e->to);
	if (rc == 0)
		rc = expect_hex(c, "head", e->head, 20);
	if (rc == 0 && e->to < e->from)
		rc = CUSTOS_CORRUPT("event: an import ending before it starts");
	return rc;
}

/* The rest of the event, line by line, checked by the action's own rules (evidence.h). */
static int parse_body_lines(event *e, cursor *c)
{
	while (c->p < c->end) {
		const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
		if (!nl)
			return CUSTOS_CORRUPT("event: last line has no newline");
		if (e->n_lines % 64 == 0) {
			char **l = realloc(e->lines, (e->n_lines + 64) * sizeof *l);
			if (!l)
				return custos_error_set(CUSTOS_ERROR, "out of memory");
			e->lines = l;
		}
		size_t n = (size_t)(nl - c->p);
		char *l = strndup(c->p, n);
		if (!l)
			return custos_error_set(CUSTOS_ERROR, "out of memory");
		if (strlen(l) != n) {
			free(l);
			return CUSTOS_CORRUPT("event: a NUL byte");
		}
		e->lines[e->n_lines++] = l;
		c->p = nl + 1;
	}
	return evidence_lines_check(e->action, e->lines, e->n_lines);
}

static int parse_event_fields(event *e, cursor *c)
{
	const char *v;
	size_t vl;
	int rc;
	if ((rc = expect(c, "custos-event", &v, &vl)) < 0)
		return rc;
	if (vl != 1 || v[0] != '1')
		return CUSTOS_CORRUPT("event: unsupported version");
	if ((rc = expect_hexstr(c, "vault", e->vault, 2 * CUSTOS_VAULT_ID_LEN)) < 0 ||
	    (rc = expect_u64(c, "seq", &e->seq)) < 0 || (rc = expect_hex(c, "prev", e->prev, 32)) < 0 ||
	    (rc = expect_time(c, "time", &e->time)) < 0 ||
	    (rc = expect_hex(c, "custodian", e->custodian, CUSTOS_KEYID_LEN)) < 0 ||
	    (rc = parse_action_token(c, e->action)) < 0)
		return rc;
	if (strcmp(e->action, "init") == 0)
		rc = parse_init_fields(e, c);
	else if (strcmp(e->action, "ingest") == 0)
		rc = parse_ingest_fields(e, c);
	else if (strcmp(e->action, "checkpoint") == 0 || strcmp(e->action, "cosignature") == 0)
		rc = parse_tree_fields(e, c);
	else if (strcmp(e->action, "import") == 0)
		rc = parse_import_fields(e, c);
	else if (strcmp(e->action, "source") == 0)
		rc = parse_source_fields(e, c);
	else if (strcmp(e->action, "dkim-key") == 0 || strcmp(e->action, "analysis") == 0)
		rc = parse_body_lines(e, c);
	else
		rc = CUSTOS_CORRUPT("event: unknown action '%s'", e->action);
	if (rc == 0 && c->p != c->end)
		rc = CUSTOS_CORRUPT("event: unexpected line '%.*s'", 40, c->p);
	return rc;
}

int event_parse(event *out, const uint8_t *p, size_t n)
{
	memset(out, 0, sizeof *out);
	cursor c = {(const char *)p, (const char *)p + n, "event"};
	int rc = parse_event_fields(out, &c);
	if (rc == 0) {
		buf b;
		buf_init(&b, EVENT_MAX);
		rc = event_encode(&b, out);
		if (rc == 0 && (b.n != n || memcmp(b.p, p, n) != 0))
			rc = CUSTOS_CORRUPT("event is not in canonical form");
		buf_free(&b);
	}
	if (rc < 0)
		event_clear(out);
	return rc;
}

const event_item *event_find_item(const event *e, const uint8_t id[CUSTOS_ITEM_ID_LEN])
{
	for (size_t i = 0; i < e->n_items; i++)
		if (memcmp(e->items[i].id, id, CUSTOS_ITEM_ID_LEN) == 0)
			return &e->items[i];
	return NULL;
}

/* ------------------------------------------------------------ signature files */

int sigfile_encode(buf *b, const uint8_t keyid[CUSTOS_KEYID_LEN], const uint8_t sig[64])
{
	char id[17];
	custos_keyid_hex(id, keyid);
	char *s = b64_encode(sig, 64);
	if (!s)
		return CUSTOS_ERROR;
	buf_printf(b, "ed25519 %s %s\n", id, s);
	free(s);
	return buf_check(b);
}

int sigfile_parse(uint8_t keyid[CUSTOS_KEYID_LEN], uint8_t sig[64], const uint8_t *p, size_t n)
{
	const char *s = (const char *)p;
	size_t got;
	/* "ed25519 " + 16 hex + " " + 88 base64 + "\n" */
	if (n != 8 + 16 + 1 + 88 + 1 || memcmp(s, "ed25519 ", 8) != 0 || s[24] != ' ' ||
	    s[n - 1] != '\n' || hex_decode(keyid, CUSTOS_KEYID_LEN, s + 8, 16) < 0 ||
	    b64_decode(sig, 64, &got, s + 25, 88) < 0 || got != 64)
		return CUSTOS_CORRUPT("malformed signature file");
	return 0;
}
