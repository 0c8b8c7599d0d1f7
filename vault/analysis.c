/*
 * analysis.c — the vault's DKIM key store (dkim-key events) and analysis events (FS §13):
 * what custos finds in an item is recorded as signed evidence, never as an edit, and every
 * run is kept.
 */
#include "dkimkeys.h"
#include "docmeta.h"
#include "evidence.h"
#include "analysis.h"
#include "index.h"
#include "mail.h"
#include "record.h"
#include "vault.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

/* ------------------------------------------------------------ walking the log's events */

typedef int (*event_fn)(const event *ev, void *ud);

typedef struct walk {
	custos_vault *v;
	const char *action; /* only events of this action */
	event_fn fn;
	void *ud;
} walk;

static int walk_commit(const uint8_t oid[20], void *ud)
{
	walk *w = ud;
	event ev;
	custody_commit cc;
	int rc = vault_read_event(w->v, oid, &ev, &cc);
	if (rc < 0)
		return rc;
	if (strcmp(ev.action, w->action) == 0)
		rc = w->fn(&ev, w->ud);
	event_clear(&ev);
	custody_commit_clear(&cc);
	return rc;
}

static int events_foreach(custos_vault *v, const char *action, event_fn fn, void *ud)
{
	uint8_t head[20];
	if (v->empty)
		return 0;
	int rc = custody_head(v->log, head);
	walk w = {v, action, fn, ud};
	return rc < 0 ? rc : custody_walk(v->log, head, walk_commit, &w);
}

/* ------------------------------------------------------------ the key store */

typedef struct key_lines {
	const char *from; /* obtained-from, decoded */
	bool has_at;
	int64_t at;
} key_lines;

/* The header lines of a dkim-key event (checked when it was parsed). */
static void key_header(const event *ev, key_lines *kl, custos_bytes *from)
{
	memset(kl, 0, sizeof *kl);
	*from = (custos_bytes){0};
	for (size_t i = 0; i < ev->n_lines; i++) {
		const char *l = ev->lines[i];
		if (strncmp(l, "obtained-from ", 14) == 0 && esc_decode(from, l + 14, strlen(l + 14)) == 0)
			kl->from = (const char *)from->p;
		else if (strncmp(l, "obtained-at ", 12) == 0)
			kl->has_at = time_parse(&kl->at, l + 12, strlen(l + 12)) == 0;
	}
}

typedef struct keys_walk {
	custos_dkim_key_fn fn;
	void *ud;
} keys_walk;

static int key_event(const event *ev, void *ud)
{
	keys_walk *kw = ud;
	key_lines kl;
	custos_bytes from;
	key_header(ev, &kl, &from);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < ev->n_lines; i++) {
		custos_bytes name = {0}, value = {0};
		if (evidence_parse_record(ev->lines[i], &name, &value) != 1)
			continue;
		custos_dkim_key_info k = {.name = (const char *)name.p, .value = value.p,
					  .value_len = value.n, .seq = ev->seq, .time = ev->time,
					  .obtained_from = kl.from, .has_obtained_at = kl.has_at,
					  .obtained_at = kl.at};
		if (dkim_key_describe(value.p, value.n, k.type, &k.bits, k.problem, sizeof k.problem) < 0)
			k.type[0] = '\0';
		rc = kw->fn(&k, kw->ud);
		free(name.p);
		free(value.p);
	}
	free(from.p);
	return rc;
}

int custos_dkim_keys_foreach(custos_vault *v, custos_dkim_key_fn fn, void *ud)
{
	keys_walk kw = {fn, ud};
	return events_foreach(v, "dkim-key", key_event, &kw);
}

static int add_to_set(const custos_dkim_key_info *k, void *ud)
{
	char from[384];
	char at[21] = "";
	if (k->has_obtained_at)
		custos_time_format(at, k->obtained_at);
	snprintf(from, sizeof from, "%s%s%s", k->obtained_from ? k->obtained_from : "",
		 at[0] ? ", obtained " : "", at);
	return dkim_keyset_add(ud, k->name, strlen(k->name), k->value, k->value_len, k->seq, from);
}

int analysis_keys_add_event(dkim_keyset *ks, const event *ev)
{
	keys_walk kw = {add_to_set, ks};
	return key_event(ev, &kw);
}

static int vault_keyset(custos_vault *v, dkim_keyset *ks)
{
	int rc = custos_dkim_keys_foreach(v, add_to_set, ks);
	if (rc < 0)
		dkim_keyset_free(ks);
	return rc;
}

int custos_dkim_key_add(custos_vault *v, const custos_key *key, const uint8_t *zone, size_t zn,
			const char *obtained_from, int64_t obtained_at, const char *note,
			uint64_t *seq, size_t *records)
{
	if (!obtained_from || !*obtained_from)
		return custos_error_set(CUSTOS_EINVALID,
					"say where the records were obtained (--obtained-from)");
	dkim_keyset ks = {0};
	int rc = dkim_zone_parse(zone, zn, &ks);
	for (size_t i = 0; rc == 0 && i < ks.n; i++)
		if (!strstr(ks.r[i].name, "._domainkey."))
			rc = custos_error_set(CUSTOS_EINVALID, "%s is not a DKIM key name "
					      "(selector._domainkey.domain)", ks.r[i].name);
	if (rc == 0 && ks.n == 0)
		rc = custos_error_set(CUSTOS_EINVALID, "no TXT records in the file");
	event ev = {0};
	line_list ll = {0};
	buf b;
	buf_init(&b, EVENT_MAX);
	if (rc == 0) {
		buf_puts(&b, "obtained-from ");
		esc_encode(&b, (const uint8_t *)obtained_from, strlen(obtained_from));
		rc = line_list_add(&ll, &b);
	}
	if (rc == 0 && obtained_at) {
		char ts[21];
		custos_time_format(ts, obtained_at);
		buf_printf(&b, "obtained-at %s", ts);
		rc = line_list_add(&ll, &b);
	}
	if (rc == 0 && note && *note) {
		buf_puts(&b, "note ");
		esc_encode(&b, (const uint8_t *)note, strlen(note));
		rc = line_list_add(&ll, &b);
	}
	for (size_t i = 0; rc == 0 && i < ks.n; i++)
		if ((rc = evidence_put_record(&b, ks.r[i].name, ks.r[i].value, ks.r[i].value_len)) == 0)
			rc = line_list_add(&ll, &b);
	if (rc == 0)
		rc = vault_event_begin(v, key, &ev, "dkim-key");
	if (rc == 0) {
		char summary[96];
		snprintf(summary, sizeof summary, "dkim-key: %zu record%s", ks.n, ks.n == 1 ? "" : "s");
		ev.lines = ll.l;
		ev.n_lines = ll.n;
		rc = vault_commit_event(v, key, &ev, summary, NULL, NULL, NULL);
		ev.lines = NULL;
		ev.n_lines = 0;
	}
	if (rc == 0 && seq)
		*seq = ev.seq;
	if (rc == 0 && records)
		*records = ks.n;
	event_clear(&ev);
	line_list_free(&ll);
	buf_free(&b);
	dkim_keyset_free(&ks);
	return rc;
}

/* ------------------------------------------------------------ analysing items */

#define STOP_READING 1000 /* a stream callback's way of saying "enough" */
#define DOC_MAX ((size_t)256 << 20)  /* a PDF read whole for its metadata */
#define PART_MAX ((size_t)4 << 20)   /* an OOXML or ODF metadata member */
#define JPEG_HEAD ((size_t)1 << 20)  /* EXIF is in the first segments */

typedef struct load {
	buf b;
	bool message;  /* stop at once if the first bytes are not a message */
	bool checked;
	size_t head;   /* > 0: only the first head bytes are wanted */
} load;

static int load_bytes(const uint8_t *p, size_t n, void *ud)
{
	load *l = ud;
	if (l->head && l->b.n + n > l->head)
		n = l->head - l->b.n;
	if (buf_put(&l->b, p, n) < 0)
		return STOP_READING; /* over the cap: not analysed */
	if (l->head && l->b.n == l->head)
		return STOP_READING;
	if (l->message && !l->checked && l->b.n >= MAIL_SNIFF) {
		l->checked = true;
		if (mail_kind(l->b.p, MAIL_SNIFF) != MAIL_MESSAGE)
			return STOP_READING;
	}
	return 0;
}

/* An item's bytes (at most cap; head: only the first so many). *got false when they were
 * not all read (over the cap, or not a message when l.message). */
static int load_item(custos_vault *v, const custos_item *it, load *l, size_t cap, bool *got)
{
	*got = false;
	buf_init(&l->b, cap);
	digest_result dr;
	int rc = it->rec.size > cap && !l->head ? STOP_READING
						: vault_item_stream(v, it, 0, load_bytes, l, &dr);
	if (rc == STOP_READING) {
		*got = l->head && l->b.n == l->head;
		return 0;
	}
	if (rc < 0)
		return custos_error_wrap(rc, "item %s", it->id_hex);
	*got = true;
	return 0;
}

/* The item's bytes when it is a message, else *is_message false. */
static int load_message(custos_vault *v, const custos_item *it, buf *out, bool *is_message)
{
	*is_message = false;
	const char *mime = it->rec.mime ? it->rec.mime : "";
	if (it->rec.kind != CUSTOS_KIND_FILE ||
	    (strncmp(mime, "message/", 8) != 0 && strncmp(mime, "text/", 5) != 0))
		return 0;
	load l = {.message = true};
	bool got;
	int rc = load_item(v, it, &l, DKIM_MESSAGE_MAX, &got);
	if (rc == 0 && got)
		*is_message = mail_kind(l.b.p, l.b.n < MAIL_SNIFF ? l.b.n : MAIL_SNIFF) == MAIL_MESSAGE;
	if (*is_message)
		*out = l.b;
	else
		buf_free(&l.b);
	return rc;
}

typedef struct run {
	custos_vault *v;
	event ev; /* begun before the analysis: its time is the time x= and t= are judged at,
		   * so a run can be repeated to the same result */
	dkim_keyset keys;
	int64_t now;
	line_list ll;
	custos_analysis_summary *sum;
} run;

/* ------------------------------------------------------------ documents and photos */

/* The metadata members of an OOXML or ODF container (the sandboxed reader took them out). */
typedef struct parts {
	custos_vault *v;
	buf core, app, settings, meta;
	bool has_core, has_app, has_settings, has_meta;
	int rc;
} parts;

static int take_part(const custos_item *m, void *ud)
{
	parts *p = ud;
	static const struct {
		const char *path;
		size_t off_buf, off_has;
	} want[] = {{"docProps/core.xml", offsetof(parts, core), offsetof(parts, has_core)},
		    {"docProps/app.xml", offsetof(parts, app), offsetof(parts, has_app)},
		    {"word/settings.xml", offsetof(parts, settings), offsetof(parts, has_settings)},
		    {"meta.xml", offsetof(parts, meta), offsetof(parts, has_meta)}};
	for (size_t i = 0; i < ARRAY_LEN(want); i++) {
		bool *has = (bool *)((char *)p + want[i].off_has);
		if (*has || m->rec.path.n != strlen(want[i].path) ||
		    memcmp(m->rec.path.p, want[i].path, m->rec.path.n) != 0 ||
		    strcmp(m->rec.outcome, "ok") != 0)
			continue;
		load l = {0};
		bool got;
		p->rc = load_item(p->v, m, &l, PART_MAX, &got);
		if (got) {
			*(buf *)((char *)p + want[i].off_buf) = l.b;
			*has = true;
		} else {
			buf_free(&l.b);
		}
		return p->rc;
	}
	return 0;
}

static void parts_free(parts *p)
{
	buf_free(&p->core);
	buf_free(&p->app);
	buf_free(&p->settings);
	buf_free(&p->meta);
}

static bool zip_like(const char *mime)
{
	return strncmp(mime, "application/vnd.openxmlformats-officedocument.", 46) == 0 ||
	       strncmp(mime, "application/vnd.oasis.opendocument.", 35) == 0 ||
	       strcmp(mime, "application/zip") == 0;
}

static void parts_init(parts *p, custos_vault *v)
{
	memset(p, 0, sizeof *p);
	p->v = v;
	buf_init(&p->core, PART_MAX);
	buf_init(&p->app, PART_MAX);
	buf_init(&p->settings, PART_MAX);
	buf_init(&p->meta, PART_MAX);
}

/* What kind of document the item is, and its metadata; *kind NULL when none. given: the
 * metadata members of a zip-like item, already collected (NULL: look them up). */
static int document_meta(run *r, const custos_item *it, docmeta *d, const char **kind,
			 parts *given)
{
	const char *mime = it->rec.mime ? it->rec.mime : "";
	*kind = NULL;
	if (it->rec.kind != CUSTOS_KIND_FILE)
		return 0;
	bool got;
	int rc = 0;
	if (strcmp(mime, "application/pdf") == 0 || strcmp(mime, "image/jpeg") == 0) {
		bool pdf = mime[0] == 'a';
		load l = {.head = pdf ? 0 : JPEG_HEAD};
		rc = load_item(r->v, it, &l, pdf ? DOC_MAX : JPEG_HEAD, &got);
		if (rc == 0 && got) {
			*kind = pdf ? "pdf" : "jpeg";
			rc = pdf ? docmeta_pdf(d, l.b.p, l.b.n) : docmeta_jpeg(d, l.b.p, l.b.n);
		}
		buf_free(&l.b);
		return rc;
	}
	bool ooxml = strncmp(mime, "application/vnd.openxmlformats-officedocument.", 46) == 0;
	bool odf = strncmp(mime, "application/vnd.oasis.opendocument.", 35) == 0;
	if (!zip_like(mime))
		return 0;
	parts own, *p = given;
	if (!given) {
		parts_init(&own, r->v);
		p = &own;
		custos_container_info ci = {0};
		rc = custos_container_members(r->v, it, &ci, take_part, p);
		custos_container_info_clear(&ci);
	}
	if (rc == 0)
		rc = p->rc;
	if (rc == 0 && p->has_core && !odf) {
		*kind = "office";
		rc = docmeta_office(d, p->core.p, p->core.n, p->has_app ? p->app.p : NULL, p->app.n,
				    p->has_settings ? p->settings.p : NULL, p->settings.n);
	} else if (rc == 0 && p->has_meta && !ooxml) {
		*kind = "opendocument";
		rc = docmeta_odf(d, p->meta.p, p->meta.n);
	}
	if (!given)
		parts_free(&own);
	return rc;
}

static int add_line(run *r, buf *b, int rc)
{
	return rc == 0 ? line_list_add(&r->ll, b) : rc;
}

static int analyse_document(run *r, const custos_item *it, bool *done, parts *given)
{
	docmeta d = {0};
	const char *kind;
	int rc = document_meta(r, it, &d, &kind, given);
	*done = rc == 0 && kind;
	if (*done)
		rc = docmeta_flags(&d, kind, r->now, it->rec.ingested, it->rec.ext_mismatch);
	buf b;
	buf_init(&b, EVENT_MAX);
	if (rc == 0 && *done) {
		rc = add_line(r, &b, evidence_put_item(&b, it->id, kind));
		for (size_t i = 0; rc == 0 && i < d.n_meta; i++)
			rc = add_line(r, &b, evidence_put_meta(&b, "meta", d.meta[i].name, d.meta[i].value));
		for (size_t i = 0; rc == 0 && i < d.n_flags; i++)
			rc = add_line(r, &b, evidence_put_meta(&b, "flag", d.flag[i].name, d.flag[i].value));
		r->sum->items++;
		r->sum->documents++;
		r->sum->flags += d.n_flags;
	}
	buf_free(&b);
	docmeta_free(&d);
	return rc;
}

static int analyse_one(run *r, const custos_item *it)
{
	bool done;
	int drc = analyse_document(r, it, &done, NULL);
	if (drc < 0 || done)
		return drc;
	buf m = {0};
	bool is_message;
	int rc = load_message(r->v, it, &m, &is_message);
	if (rc < 0 || !is_message) {
		buf_free(&m);
		return rc;
	}
	dkim_key_lookup l = dkim_keyset_lookup(&r->keys);
	custos_dkim_sig *sigs = NULL;
	size_t n = 0;
	custos_arc arc = {0};
	rc = dkim_verify(m.p, m.n, &l, r->now, &sigs, &n, &arc);
	buf_free(&m);
	if (rc == CUSTOS_EINVALID || rc == CUSTOS_ELIMIT) { /* not verifiable: recorded with none */
		custos_error_clear();
		rc = 0;
	}
	buf b;
	buf_init(&b, EVENT_MAX);
	if (rc == 0 && (rc = evidence_put_item(&b, it->id, "message")) == 0)
		rc = line_list_add(&r->ll, &b);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if ((rc = evidence_put_dkim(&b, &sigs[i])) == 0)
			rc = line_list_add(&r->ll, &b);
		r->sum->signatures++;
		strcmp(sigs[i].verdict, "pass") == 0 ? r->sum->pass++ : r->sum->fail++;
	}
	if (rc == 0 && arc.instances)
		rc = add_line(r, &b, evidence_put_arc(&b, &arc));
	for (size_t i = 0; rc == 0 && i < arc.n_sets; i++)
		rc = add_line(r, &b, evidence_put_arc_set(&b, &arc.sets[i]));
	r->sum->items++;
	r->sum->messages++;
	buf_free(&b);
	dkim_arc_clear(&arc);
	free(sigs);
	return rc;
}

int analysis_redo(custos_vault *v, const dkim_keyset *keys, int64_t now,
		  const uint8_t id[CUSTOS_ITEM_ID_LEN], line_list *out)
{
	char hex[2 * CUSTOS_ITEM_ID_LEN + 1];
	custos_hex(hex, id, CUSTOS_ITEM_ID_LEN);
	custos_item *it = NULL;
	int rc = custos_item_find(&it, v, hex, CUSTOS_FIND_EXACT);
	if (rc < 0)
		return rc;
	custos_analysis_summary sum = {0};
	run r = {.v = v, .keys = *keys, .now = now, .sum = &sum};
	rc = analyse_one(&r, it);
	*out = r.ll;
	custos_item_free(it);
	return rc;
}

static int run_commit(run *r, const custos_key *key, const char *note)
{
	if (r->ll.n == 0)
		return 0; /* nothing analysable: no event */
	event ev = r->ev;
	memset(&r->ev, 0, sizeof r->ev);
	line_list all = {0};
	buf b;
	buf_init(&b, EVENT_MAX);
	int rc = 0;
	if (note && *note) {
		buf_puts(&b, "note ");
		esc_encode(&b, (const uint8_t *)note, strlen(note));
		rc = line_list_add(&all, &b);
	}
	buf_free(&b);
	for (size_t i = 0; rc == 0 && i < r->ll.n; i++) {
		char **l = realloc(all.l, (all.n + 1) * sizeof *l);
		if (!l) {
			rc = custos_error_set(CUSTOS_ERROR, "out of memory");
			break;
		}
		all.l = l;
		all.l[all.n++] = r->ll.l[i];
		r->ll.l[i] = NULL;
	}
	if (rc == 0) {
		char summary[96];
		snprintf(summary, sizeof summary, "analysis: %llu item%s",
			 (unsigned long long)r->sum->items, r->sum->items == 1 ? "" : "s");
		ev.lines = all.l;
		ev.n_lines = all.n;
		rc = vault_commit_event(r->v, key, &ev, summary, NULL, NULL, NULL);
		ev.lines = NULL;
		ev.n_lines = 0;
	}
	if (rc == 0)
		r->sum->seq = ev.seq;
	event_clear(&ev);
	line_list_free(&all);
	return rc;
}

static int run_begin(run *r, custos_vault *v, const custos_key *key, custos_analysis_summary *out)
{
	memset(out, 0, sizeof *out);
	memset(r, 0, sizeof *r);
	r->v = v;
	r->sum = out;
	int rc = vault_event_begin(v, key, &r->ev, "analysis");
	r->now = r->ev.time;
	return rc < 0 ? rc : vault_keyset(v, &r->keys);
}

static void run_end(run *r)
{
	event_clear(&r->ev);
	dkim_keyset_free(&r->keys);
	line_list_free(&r->ll);
}

int custos_analyse_items(custos_vault *v, const custos_key *key, const custos_item *const *items,
			 size_t n, const char *note, custos_analysis_summary *out)
{
	run r;
	int rc = run_begin(&r, v, key, out);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = analyse_one(&r, items[i]);
	if (rc == 0)
		rc = run_commit(&r, key, note);
	run_end(&r);
	return rc;
}

/* A zip-like item of an ingest, analysed once the event's items have all been seen: its
 * metadata members follow it in the event and are collected on the way (looking them up
 * per container would read the whole event again for each one). */
typedef struct pending {
	custos_item *it;
	parts p;
} pending;

typedef struct pendings {
	pending *a;
	size_t n;
} pendings;

static int defer(pendings *ps, custos_vault *v, custos_item *it)
{
	pending *a = realloc(ps->a, (ps->n + 1) * sizeof *a);
	if (!a)
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	ps->a = a;
	a[ps->n].it = it;
	parts_init(&a[ps->n].p, v);
	ps->n++;
	return 0;
}

/* A member whose container waits: keep it if it is one of the metadata members. */
static int collect(pendings *ps, const custos_item *m)
{
	for (size_t i = ps->n; m->rec.is_member && i-- > 0;)
		if (memcmp(ps->a[i].it->id, m->rec.container, CUSTOS_ITEM_ID_LEN) == 0)
			return take_part(m, &ps->a[i].p);
	return 0;
}

static void pendings_free(pendings *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		custos_item_free(ps->a[i].it);
		parts_free(&ps->a[i].p);
	}
	free(ps->a);
}

static int analyse_items_of(run *r, const event *ev, uint64_t seq, pendings *ps)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < ev->n_items; i++) {
		custos_item *it = NULL;
		if ((rc = vault_load_item(r->v, ev->items[i].id, seq, &it)) < 0)
			break;
		rc = collect(ps, it);
		if (rc == 0 && it->rec.kind == CUSTOS_KIND_FILE && it->rec.mime && zip_like(it->rec.mime)) {
			rc = defer(ps, r->v, it);
			continue; /* the pending list owns it now */
		}
		if (rc == 0)
			rc = analyse_one(r, it);
		custos_item_free(it);
	}
	for (size_t i = 0; rc == 0 && i < ps->n; i++) {
		bool done;
		rc = analyse_document(r, ps->a[i].it, &done, &ps->a[i].p);
	}
	return rc;
}

int custos_analyse_event(custos_vault *v, const custos_key *key, uint64_t ingest_seq,
			 const char *note, custos_analysis_summary *out)
{
	index_event ie;
	event ev;
	custody_commit cc;
	run r;
	int rc = run_begin(&r, v, key, out);
	if (rc < 0)
		return rc;
	if ((rc = index_event_get(v->index, ingest_seq, &ie)) == 0 &&
	    (rc = vault_read_event(v, ie.commit, &ev, &cc)) == 0) {
		pendings ps = {0};
		rc = analyse_items_of(&r, &ev, ingest_seq, &ps);
		pendings_free(&ps);
		event_clear(&ev);
		custody_commit_clear(&cc);
	}
	if (rc == 0)
		rc = run_commit(&r, key, note);
	run_end(&r);
	return rc;
}

/* ------------------------------------------------------------ reading analyses back */

typedef struct signals {
	custos_signal *meta, *flags;
	size_t n_meta, n_flags;
} signals;

/* Takes name and value (malloc'd). */
static int signals_add(signals *sg, bool is_flag, char *name, char *value)
{
	custos_signal **list = is_flag ? &sg->flags : &sg->meta;
	size_t *n = is_flag ? &sg->n_flags : &sg->n_meta;
	custos_signal *l = realloc(*list, (*n + 1) * sizeof *l);
	if (!l) {
		free(name);
		free(value);
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	}
	l[*n] = (custos_signal){name, value};
	*list = l;
	(*n)++;
	return 0;
}

static void signals_free(signals *sg)
{
	for (size_t i = 0; i < sg->n_meta; i++) {
		free((char *)sg->meta[i].name);
		free((char *)sg->meta[i].value);
	}
	for (size_t i = 0; i < sg->n_flags; i++) {
		free((char *)sg->flags[i].name);
		free((char *)sg->flags[i].value);
	}
	free(sg->meta);
	free(sg->flags);
}

typedef struct of_item {
	uint8_t id[CUSTOS_ITEM_ID_LEN];
	custos_analysis_fn fn;
	void *ud;
} of_item;

static int analysis_event(const event *ev, void *ud)
{
	of_item *o = ud;
	custos_analysis_info a = {.seq = ev->seq, .time = ev->time};
	custos_dkim_sig *sigs = NULL;
	size_t ns = 0;
	signals sg = {0};
	bool mine = false;
	int rc = 0;
	if (ev->n_lines && strncmp(ev->lines[0], "note ", 5) == 0 &&
	    esc_decode(&a.note, ev->lines[0] + 5, strlen(ev->lines[0] + 5)) < 0)
		return CUSTOS_CORRUPT("analysis event %llu: bad note", (unsigned long long)ev->seq);
	custos_arc arc = {0};
	bool has_arc = false;
	for (size_t i = 0; rc == 0 && i < ev->n_lines; i++) {
		evidence_line l;
		int k = evidence_parse_line(ev->lines[i], &l);
		if (k == LINE_ITEM && mine)
			break; /* the next item's lines */
		if (k == LINE_ITEM && memcmp(l.id, o->id, sizeof l.id) == 0) {
			mine = true;
			memcpy(a.kind, l.kind, sizeof a.kind);
		} else if (k == LINE_DKIM && mine) {
			custos_dkim_sig *g = realloc(sigs, (ns + 1) * sizeof *g);
			if (!g)
				rc = custos_error_set(CUSTOS_ERROR, "out of memory");
			else
				(sigs = g)[ns++] = l.sig;
		} else if (k == LINE_ARC && mine) {
			arc = l.arc;
			has_arc = true;
			arc.n_sets = 0; /* filled by the arc-set lines */
			if (!(arc.sets = calloc(arc.instances + 1, sizeof *arc.sets)))
				rc = custos_error_set(CUSTOS_ERROR, "out of memory");
		} else if (k == LINE_ARC_SET && mine && arc.sets && arc.n_sets < arc.instances) {
			arc.sets[arc.n_sets++] = l.set;
		} else if ((k == LINE_META || k == LINE_FLAG) && mine) {
			rc = signals_add(&sg, k == LINE_FLAG, l.name, l.value);
			l.name = l.value = NULL;
		} else if (k < 0) {
			rc = k;
		}
		free(l.name);
		free(l.value);
	}
	if (rc == 0 && mine) {
		a.arc = has_arc ? &arc : NULL;
		a.sigs = sigs;
		a.n_sigs = ns;
		a.meta = sg.meta;
		a.n_meta = sg.n_meta;
		a.flags = sg.flags;
		a.n_flags = sg.n_flags;
		rc = o->fn(&a, o->ud);
	}
	signals_free(&sg);
	dkim_arc_clear(&arc);
	free(sigs);
	free(a.note.p);
	return rc;
}

int custos_analyses_of(custos_vault *v, const uint8_t id[CUSTOS_ITEM_ID_LEN],
		       custos_analysis_fn fn, void *ud)
{
	of_item o = {.fn = fn, .ud = ud};
	memcpy(o.id, id, sizeof o.id);
	return events_foreach(v, "analysis", analysis_event, &o);
}
