/*
 * items.c — reading a vault: items by id or SHA-256 prefix, listing in log order, the
 * stored bytes of an item, and the custody trail.
 */
#include "digest.h"
#include "fsutil.h"
#include "keys.h"
#include "vault.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define MIN_PREFIX 8

int vault_read_event(custos_vault *v, const uint8_t commit[20], event *ev, custody_commit *cc)
{
	int rc = custody_read_commit(v->log, commit, cc);
	if (rc < 0)
		return rc;
	rc = event_parse(ev, cc->event, cc->event_len);
	if (rc < 0) {
		char hex[41];
		custos_hex(hex, commit, 20);
		custos_error_wrap(rc, "EVENT of commit %s", hex);
		custody_commit_clear(cc);
	}
	return rc;
}

void custos_item_free(custos_item *item)
{
	if (!item)
		return;
	record_clear(&item->rec);
	free(item->outcome);
	free(item);
}

/* Build an item from its record and signature bytes (read from commit). */
static int item_from_bytes(custos_vault *v, const uint8_t commit[20], const uint8_t *rec,
			   size_t rn, const uint8_t *sig, size_t sn, const char *outcome,
			   custos_item **out)
{
	custos_item *it = xcalloc(1, sizeof *it);
	if (!it)
		return CUSTOS_ERROR;
	int rc = record_parse(&it->rec, rec, rn);
	if (rc == 0)
		rc = record_id(it->id, rec, rn);
	if (rc < 0) {
		custos_item_free(it);
		return rc;
	}
	custos_hex(it->id_hex, it->id, CUSTOS_ITEM_ID_LEN);
	custos_hex(it->commit, commit, 20);
	uint8_t keyid[8], s[64];
	it->sig_ok = sigfile_parse(keyid, s, sig, sn) == 0 &&
		     pubkey_verify(&v->info.owner, s, rec, rn) == 0;
	it->outcome = xstrdup(outcome ? outcome : "stored");
	custos_error_clear();
	*out = it;
	return 0;
}

static const char *outcome_name(int o)
{
	return o == OUTCOME_DUPLICATE ? "duplicate" : "stored";
}

int vault_load_item(custos_vault *v, const uint8_t id[CUSTOS_ITEM_ID_LEN], uint64_t seq,
		    custos_item **out)
{
	index_event ie;
	event ev;
	custody_commit cc;
	uint8_t *rec = NULL, *sig = NULL;
	size_t rn = 0, sn = 0;
	char hex[33];
	custos_hex(hex, id, CUSTOS_ITEM_ID_LEN);
	int rc = index_event_get(v->index, seq, &ie);
	if (rc < 0)
		return rc;
	if ((rc = custody_read_item(v->log, ie.commit, hex, &rec, &rn, &sig, &sn)) < 0)
		return custos_error_wrap(rc, "item %s", hex);
	const char *outcome = "unknown";
	if (!v->last_event.valid || memcmp(v->last_event.commit, ie.commit, 20) != 0) {
		if (v->last_event.valid)
			event_clear(&v->last_event.ev);
		v->last_event.valid = vault_read_event(v, ie.commit, &ev, &cc) == 0;
		if (v->last_event.valid) {
			v->last_event.ev = ev;
			memcpy(v->last_event.commit, ie.commit, 20);
			custody_commit_clear(&cc);
		}
	}
	if (v->last_event.valid) {
		const event_item *ei = event_find_item(&v->last_event.ev, id);
		outcome = ei ? outcome_name(ei->outcome) : "unlisted";
	}
	rc = item_from_bytes(v, ie.commit, rec, rn, sig, sn, outcome, out);
	free(rec);
	free(sig);
	return rc;
}

/* ------------------------------------------------------------ resolving ITEM */

typedef struct match {
	index_item first;
	size_t n;
	bool same_id;  /* all matches are the same item */
	bool same_sha; /* all matches are receipts of the same bytes */
} match;

static int match_cb(const index_item *it, void *ud)
{
	match *m = ud;
	if (m->n == 0) {
		m->first = *it;
		m->same_id = m->same_sha = true;
	} else {
		m->same_id &= memcmp(m->first.id, it->id, CUSTOS_ITEM_ID_LEN) == 0;
		m->same_sha &= memcmp(m->first.sha256, it->sha256, 32) == 0;
	}
	m->n++;
	return m->n > 64 ? 1 : 0;
}

int custos_item_find(custos_item **out, custos_vault *v, const char *spec, int flags)
{
	size_t n = strlen(spec);
	*out = NULL;
	if (n < MIN_PREFIX || n > 64 || !is_lower_hex(spec, n))
		return custos_error_set(CUSTOS_EINVALID,
					"'%s' is not an item id or a SHA-256 prefix of at least %d "
					"lowercase hex digits",
					spec, MIN_PREFIX);
	match by_id = {0}, by_sha = {0};
	int rc = 0;
	if (n <= 2 * CUSTOS_ITEM_ID_LEN)
		rc = index_items_by_id(v->index, spec, match_cb, &by_id);
	if (rc >= 0)
		rc = index_items_by_sha(v->index, spec, match_cb, &by_sha);
	if (rc < 0)
		return rc;
	if (by_id.n + by_sha.n == 0)
		return custos_error_set(CUSTOS_ENOTFOUND, "no item matches '%s'", spec);
	bool one_sha = by_sha.same_id || ((flags & CUSTOS_FIND_ANY_RECEIPT) && by_sha.same_sha);
	if (by_id.n > 1 || (by_id.n == 1 && by_sha.n > 0) || (by_sha.n > 1 && !one_sha))
		return custos_error_set(CUSTOS_EAMBIGUOUS,
					"'%s' matches more than one item; give more digits (see custos verify or custos ls)",
					spec);
	const index_item *it = by_id.n ? &by_id.first : &by_sha.first;
	return vault_load_item(v, it->id, it->seq, out);
}

/* ------------------------------------------------------------ listing records */

typedef struct foreach_state {
	custos_vault *v;
	const uint8_t *commit;
	const uint8_t *container; /* only the members of this item; NULL: every item */
	custos_item_fn fn;
	void *ud;
} foreach_state;

static int foreach_record(const event *ev, size_t i, const uint8_t *rec, size_t rn,
			  const uint8_t *sig, size_t sn, void *ud)
{
	foreach_state *s = ud;
	custos_item *it = NULL;
	int rc = item_from_bytes(s->v, s->commit, rec, rn, sig, sn,
				 outcome_name(ev->items[i].outcome), &it);
	bool wanted = !s->container || (it && it->rec.is_member &&
					memcmp(it->rec.container, s->container, CUSTOS_ITEM_ID_LEN) == 0);
	if (rc == 0 && wanted)
		rc = s->fn(it, s->ud);
	custos_item_free(it);
	return rc;
}

/* ------------------------------------------------------------ containers */

void custos_container_info_clear(custos_container_info *ci)
{
	free(ci->format.p);
	free(ci->detail.p);
	memset(ci, 0, sizeof *ci);
}

static int copy_field(custos_bytes *dst, const custos_bytes *src)
{
	dst->p = malloc(src->n + 1);
	if (!dst->p)
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	memcpy(dst->p, src->p, src->n);
	dst->p[src->n] = '\0';
	dst->n = src->n;
	return 0;
}

int custos_container_members(custos_vault *v, const custos_item *container,
			     custos_container_info *ci, custos_item_fn fn, void *ud)
{
	memset(ci, 0, sizeof *ci);
	index_event ie;
	event ev;
	custody_commit cc;
	int rc = index_event_get(v->index, container->rec.seq, &ie);
	if (rc == 0)
		rc = vault_read_event(v, ie.commit, &ev, &cc);
	if (rc < 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < ev.n_containers; i++) {
		const event_container *k = &ev.containers[i];
		if (memcmp(k->id, container->id, CUSTOS_ITEM_ID_LEN) != 0)
			continue;
		ci->opened = 1;
		memcpy(ci->result, k->result, sizeof ci->result);
		ci->members = k->members;
		ci->consumed = k->consumed;
		if ((rc = copy_field(&ci->format, &k->format)) == 0)
			rc = copy_field(&ci->detail, &k->detail);
	}
	foreach_state s = {v, ie.commit, container->id, fn, ud};
	if (rc == 0 && ci->opened && fn)
		rc = vault_event_records(v, ie.commit, &ev, foreach_record, &s);
	event_clear(&ev);
	custody_commit_clear(&cc);
	if (rc < 0)
		custos_container_info_clear(ci);
	return rc;
}

/* ------------------------------------------------------------ listing */

int vault_event_records(custos_vault *v, const uint8_t commit[20], const event *ev,
			vault_record_fn fn, void *ud)
{
	char hex[33];
	custody_items *tree = NULL;
	int rc = ev->n_items ? custody_items_open(&tree, v->log, commit) : 0;
	for (size_t i = 0; rc == 0 && i < ev->n_items; i++) {
		uint8_t *rec = NULL, *sig = NULL;
		size_t rn, sn;
		custos_hex(hex, ev->items[i].id, 16);
		rc = custody_items_read(tree, hex, &rec, &rn, &sig, &sn);
		if (rc == 0)
			rc = fn(ev, i, rec, rn, sig, sn, ud);
		free(rec);
		free(sig);
	}
	custody_items_close(tree);
	return rc;
}

static int foreach_commit(const uint8_t oid[20], void *ud)
{
	foreach_state *s = ud;
	event ev;
	custody_commit cc;
	int rc = vault_read_event(s->v, oid, &ev, &cc);
	if (rc < 0)
		return rc;
	s->commit = oid;
	rc = vault_event_records(s->v, oid, &ev, foreach_record, s);
	event_clear(&ev);
	custody_commit_clear(&cc);
	return rc;
}

int custos_items_foreach(custos_vault *v, custos_item_fn fn, void *ud)
{
	uint8_t head[20];
	foreach_state s = {v, NULL, NULL, fn, ud};
	if (v->empty)
		return 0; /* a replica before its first import */
	int rc = custody_head(v->log, head);
	return rc < 0 ? rc : custody_walk(v->log, head, foreach_commit, &s);
}

/* ------------------------------------------------------------ object bytes */

int vault_locate(custos_vault *v, const uint8_t sha256[32], bool *loose, store_packed *packed,
		 uint64_t *size)
{
	if (store_has_loose(v->store, sha256, size)) {
		*loose = true;
		return 0;
	}
	*loose = false;
	int rc = index_find_packed(v->index, sha256, packed);
	if (rc == 0)
		rc = store_check_packed(v->store, packed);
	if (rc == 0 && size)
		*size = packed->length;
	if (rc == CUSTOS_ENOTFOUND) {
		char hex[65];
		custos_hex(hex, sha256, 32);
		custos_error_set(rc, "object %s is missing from the store", hex);
	}
	return rc < 0 ? CUSTOS_ENOTFOUND : rc;
}

int vault_item_stream(custos_vault *v, const custos_item *item, unsigned algs, vault_bytes_fn fn,
		      void *ud, digest_result *dr)
{
	int rc = vault_object_stream(v, item->rec.sha256, item->rec.size, algs, fn, ud, dr);
	if (rc == CUSTOS_EINTEGRITY)
		custos_error_wrap(rc, "item %s", item->id_hex);
	return rc;
}

int vault_object_stream(custos_vault *v, const uint8_t sha256[32], uint64_t size, unsigned algs,
			vault_bytes_fn fn, void *ud, digest_result *dr)
{
	bool loose;
	store_packed loc;
	int in = -1;
	uint64_t off, len;
	digest d;
	int rc = vault_locate(v, sha256, &loose, &loc, NULL);
	if (rc == 0)
		rc = store_open_read(v->store, sha256, loose ? NULL : &loc, &in, &off, &len);
	if (rc < 0)
		return rc;
	uint8_t *b = malloc(1 << 20);
	if (!b || digest_init(&d, algs) < 0) {
		free(b);
		close(in);
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	}
	while (rc == 0 && len > 0) {
		size_t want = len < (1u << 20) ? (size_t)len : (1u << 20);
		ssize_t r = pread(in, b, want, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r < 0 ? custos_error_errno(CUSTOS_ERROR, "cannot read object")
				   : CUSTOS_CORRUPT("object is truncated");
			break;
		}
		digest_update(&d, b, (size_t)r);
		rc = fn(b, (size_t)r, ud);
		off += (uint64_t)r;
		len -= (uint64_t)r;
	}
	if (rc == 0 && (rc = digest_final(&d, dr)) == 0 &&
	    (dr->bytes != size || memcmp(dr->sha256, sha256, 32) != 0))
		rc = CUSTOS_CORRUPT("the stored bytes do not match their SHA-256");
	digest_free(&d);
	free(b);
	close(in);
	return rc;
}

static int write_to_fd(const uint8_t *p, size_t n, void *ud)
{
	return fs_write_all(*(int *)ud, p, n, "the output");
}

int custos_item_cat(custos_vault *v, const custos_item *item, int fd)
{
	digest_result dr;
	return vault_item_stream(v, item, 0, write_to_fd, &fd, &dr);
}

/* ------------------------------------------------------------ custody trail */

typedef struct log_state {
	custos_vault *v;
	const char *item_hex;
	uint8_t item_id[CUSTOS_ITEM_ID_LEN];
	custos_event_fn fn;
	void *ud;
} log_state;

static int log_commit(const uint8_t oid[20], void *ud)
{
	log_state *s = ud;
	event ev;
	custody_commit cc;
	int rc = vault_read_event(s->v, oid, &ev, &cc);
	if (rc < 0)
		return rc;
	custos_event_info info = {0};
	info.seq = ev.seq;
	info.time = ev.time;
	snprintf(info.action, sizeof info.action, "%s", ev.action);
	custos_hex(info.commit, oid, 20);
	memcpy(info.custodian, ev.custodian, CUSTOS_KEYID_LEN);
	info.source = ev.source;
	info.note = ev.note;
	for (size_t i = 0; i < ev.n_items; i++) {
		if (ev.items[i].outcome == OUTCOME_DUPLICATE)
			info.duplicates++;
		else
			info.stored++;
	}
	info.refused = ev.n_refused;
	info.inputs = (const char *const *)ev.inputs;
	info.n_inputs = ev.n_inputs;
	info.tree_size = ev.tree_size;
	memcpy(info.root, ev.root, 32);
	info.witness = ev.witness;
	info.import_from = ev.from;
	info.import_to = ev.to;
	custos_hex(info.import_head, ev.head, 20);
	memcpy(info.bundle, ev.bundle, 32);
	info.source_verdict = ev.has_source_sig ? ev.source_verdict : NULL;
	/* An item's trail: the event that received it, and every event since that names it.
	 * (Later event kinds — exports, analyses — name items too.) */
	bool relevant = !s->item_hex || event_find_item(&ev, s->item_id);
	if (relevant)
		rc = s->fn(&info, s->ud);
	event_clear(&ev);
	custody_commit_clear(&cc);
	return rc;
}

int custos_imports_foreach(custos_vault *v, custos_event_fn fn, void *ud)
{
	uint8_t head[20];
	log_state s = {v, NULL, {0}, fn, ud};
	if (!v->is_replica || custody_head_of(v->log, CUSTODY_IMPORTS_REF, head) < 0)
		return 0;
	return custody_walk(v->log, head, log_commit, &s);
}

int custos_log_foreach(custos_vault *v, const char *item_hex, custos_event_fn fn, void *ud)
{
	uint8_t head[20];
	log_state s = {v, item_hex, {0}, fn, ud};
	if (item_hex && hex_decode(s.item_id, CUSTOS_ITEM_ID_LEN, item_hex, strlen(item_hex)) < 0)
		return custos_error_set(CUSTOS_EINVALID, "bad item id %s", item_hex);
	if (v->empty)
		return 0;
	int rc = custody_head(v->log, head);
	return rc < 0 ? rc : custody_walk(v->log, head, log_commit, &s);
}
