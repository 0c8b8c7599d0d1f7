/*
 * verify.c — exhibit verification and fsck. Both walk the custody log from its first
 * event and check every link of the chain (FS §8): event syntax, sequence numbers, the
 * SHA-256 chain of events, times, custodian, event and commit signatures, tree shape.
 * fsck then checks every item record and every object, and names each problem it finds.
 */
#include "checkpoint.h"
#include "digest.h"
#include "analysis.h"
#include "fsutil.h"
#include "keys.h"
#include "merkle.h"
#include "note.h"
#include "sshsig.h"
#include "vault.h"

#include <dirent.h>
#include <sodium.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct checker {
	custos_vault *v;
	custos_pubkey trust;
	const custos_fsck_opts *o; /* NULL when verifying exhibits */
	uint64_t seq;              /* the next expected sequence number */
	uint8_t prev_event[32];
	uint8_t prev_commit[20];
	int64_t prev_time;
	uint64_t problems, items, objects, bytes;
	bool chain_broken;
	bool *commit_ok; /* per seq: the commit's own checks passed */
	size_t cap_ok;
	bool check_items; /* fsck: every record and object */
	size_t leftovers; /* files in tmp/ */
	uint8_t *io;
	/* The Merkle log (FS §9), recomputed from the records and events as they pass. */
	bool merkle;          /* fsck: compute it */
	bool leaves_unknown;  /* a record could not be read: roots cannot be checked */
	merkle_stream ms;
	struct issued {
		uint64_t size;
		merkle_hash root;
	} *issued; /* the checkpoints the log records */
	size_t n_issued;
	FILE *stored_tree;     /* index/merkle.dat, compared hash by hash as the tree grows */
	bool stored_tree_bad;
	uint64_t against_size; /* --against: the size to snapshot the root at, 0 if none */
	merkle_hash against_root;
	bool against_reached;
	/* Checking an import (FS §11.3): objects are looked up through probe (the bundle's,
	 * then the store's) and the derived index, not yet caught up, is not consulted. */
	object_probe_fn probe;
	void *probe_ud;
	problem_fn on_problem; /* when there are no fsck options */
	void *problem_ud;
	/* the items of the events checked so far, for the analyses that name them (FS §13.4) */
	struct {
		uint8_t (*slot)[CUSTOS_ITEM_ID_LEN];
		size_t cap, n;
	} ids;
	/* fsck --full: the DKIM keys stored so far, to redo each analysis with (FS §13) */
	dkim_keyset keys;
	/* sources registered so far (FS §12) */
	struct reg_source {
		custos_bytes name;
		bool has_key;
		source_key key;
	} *srcs;
	size_t n_srcs, cap_srcs;
} checker;

static void problem(checker *c, const char *kind, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void problem(checker *c, const char *kind, const char *where, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	c->problems++;
	problem_emit(c->o ? c->o->on_problem : c->on_problem, c->o ? c->o->ud : c->problem_ud, kind,
		     where, fmt, ap);
	va_end(ap);
}

static void info_note(checker *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void info_note(checker *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (c->o && c->o->on_note)
		c->o->on_note(msg, c->o->ud);
}

/* ------------------------------------------------------------ objects */

/* Digest a byte range of fd (SHA-256, plus `algs` extras). */
static int digest_range(checker *c, int fd, uint64_t off, uint64_t len, unsigned algs,
			digest_result *dr)
{
	digest d;
	int rc = digest_init(&d, algs);
	while (rc == 0 && len > 0) {
		size_t want = len < (1u << 20) ? (size_t)len : (1u << 20);
		ssize_t r = pread(fd, c->io, want, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r < 0 ? custos_error_errno(CUSTOS_ERROR, "read failed")
				   : custos_error_set(CUSTOS_EINTEGRITY, "file is truncated");
			break;
		}
		rc = digest_update(&d, c->io, (size_t)r);
		off += (uint64_t)r;
		len -= (uint64_t)r;
	}
	if (rc == 0 && (rc = digest_final(&d, dr)) == 0)
		c->bytes += dr->bytes;
	digest_free(&d);
	return rc;
}

static int hash_range(checker *c, int fd, uint64_t off, uint64_t len, uint8_t sha[32])
{
	digest_result dr;
	int rc = digest_range(c, fd, off, len, 0, &dr);
	if (rc == 0)
		memcpy(sha, dr.sha256, 32);
	return rc;
}

/* The object a record names exists with the record's size (and, with --full, bytes). */
static void check_object(checker *c, const custos_record *r, const char *where)
{
	bool loose;
	store_packed loc;
	uint64_t size = 0;
	char hex[65];
	custos_hex(hex, r->sha256, 32);
	if (c->probe) {
		if (!c->probe(r->sha256, r->size, c->probe_ud))
			problem(c, "missing-object", where,
				"object %s (%llu bytes) is neither in the bundle nor in the vault", hex,
				(unsigned long long)r->size);
		return;
	}
	if (vault_locate(c->v, r->sha256, &loose, &loc, &size) < 0) {
		problem(c, "missing-object", where, "%s", custos_error_last());
		return;
	}
	if (size != r->size)
		problem(c, "size-mismatch", where, "object %s has %llu bytes, the record says %llu", hex,
			(unsigned long long)size, (unsigned long long)r->size);
}

/* ------------------------------------------------------------ items of one event */

typedef struct index_probe {
	const custos_record *r;
	bool found;
} index_probe;

static int probe_cb(const index_item *it, void *ud)
{
	index_probe *p = ud;
	if (it->seq == p->r->seq && memcmp(it->sha256, p->r->sha256, 32) == 0)
		p->found = true;
	return 0;
}

/* The derived index must know the item, or lookups would miss it. */
static void check_indexed(checker *c, const custos_record *r, const uint8_t id[16],
			  const char *where)
{
	char hex[33];
	index_probe p = {r, false};
	if (c->probe)
		return;
	custos_hex(hex, id, 16);
	index_items_by_id(c->v->index, hex, probe_cb, &p);
	if (!p.found)
		problem(c, "index-mismatch", where,
			"the derived index does not list this item; rebuild it with 'custos reindex'");
}

/* ------------------------------------------------------------ the Merkle log */

static void push_leaf(checker *c, const uint8_t *p, size_t n)
{
	if (!c->merkle)
		return;
	merkle_hash h, made[65], stored;
	merkle_leaf_hash(h, p, n);
	size_t k = merkle_stream_push(&c->ms, h, made);
	for (size_t i = 0; i < k && c->stored_tree && !c->stored_tree_bad; i++)
		c->stored_tree_bad = fread(stored, 32, 1, c->stored_tree) != 1 ||
				     memcmp(stored, made[i], 32) != 0;
	if (c->against_size && c->ms.size == c->against_size) {
		merkle_stream_root(&c->ms, c->against_root);
		c->against_reached = true;
	}
}

/* A checkpoint event: it covers exactly the leaves before it, its root is theirs, and its
 * note signature verifies. */
static void check_checkpoint_event(checker *c, const event *ev, const char *where)
{
	merkle_hash root;
	note_vkey k;
	buf b;
	note *nt = malloc(sizeof *nt);
	merkle_stream_root(&c->ms, root);
	if (ev->tree_size != c->ms.size)
		problem(c, "bad-checkpoint", where, "it covers %llu leaves; the log had %llu before it",
			(unsigned long long)ev->tree_size, (unsigned long long)c->ms.size);
	else if (!c->leaves_unknown && memcmp(root, ev->root, 32) != 0)
		problem(c, "bad-checkpoint", where, "its root is not the root of the log's leaves");
	buf_init(&b, NOTE_MAX);
	checkpoint_note(&b, c->v->info.id, ev->tree_size, ev->root, ev->note_sig);
	if (!nt || checkpoint_vkey(&k, c->v->info.id, &c->trust) < 0 ||
	    note_parse(nt, b.p, b.n) < 0 || note_verify(nt, &k, NULL) < 0)
		problem(c, "bad-checkpoint", where,
			"its note signature does not verify with the custodian's key");
	buf_free(&b);
	free(nt);
	struct issued *is = realloc(c->issued, (c->n_issued + 1) * sizeof *is);
	if (is) {
		c->issued = is;
		is[c->n_issued].size = ev->tree_size;
		memcpy(is[c->n_issued++].root, ev->root, 32);
	}
}

/* A cosignature event: of a checkpoint the log issued, verifying with the witness key it
 * names. */
static void check_cosignature_event(checker *c, const event *ev, const char *where)
{
	bool issued = false;
	for (size_t i = 0; i < c->n_issued; i++)
		issued |= c->issued[i].size == ev->tree_size &&
			  memcmp(c->issued[i].root, ev->root, 32) == 0;
	if (!issued) {
		problem(c, "bad-cosignature", where, "it cosigns a checkpoint the log never issued");
		return;
	}
	note_vkey w;
	note_sig s = {0};
	buf b;
	note *nt = malloc(sizeof *nt);
	buf_init(&b, NOTE_MAX);
	checkpoint_text_of(&b, c->v->info.id, ev->tree_size, ev->root);
	if (!nt || note_vkey_parse(&w, ev->witness, strlen(ev->witness)) < 0 ||
	    w.type != NOTE_COSIGNATURE) {
		problem(c, "bad-cosignature", where, "the witness key does not parse");
	} else {
		nt->text = b.p;
		nt->text_len = b.n;
		memcpy(s.name, w.name, sizeof s.name);
		memcpy(s.keyid, ev->cosig, 4);
		memcpy(s.bytes, ev->cosig + 4, 72);
		s.n = 72;
		if (note_sig_verify(nt, &w, &s, NULL) < 0)
			problem(c, "bad-cosignature", where,
				"the cosignature does not verify with the witness key it names");
	}
	buf_free(&b);
	free(nt);
}

/* --against: the log extends a checkpoint held elsewhere. */
static void check_against(checker *c, const checkpoint_text *ct)
{
	if (!c->against_reached)
		problem(c, "truncated", "checkpoint",
			"the checkpoint covers %llu leaves; the log holds only %llu (truncated or "
			"rolled back)",
			(unsigned long long)ct->size, (unsigned long long)c->ms.size);
	else if (c->leaves_unknown)
		problem(c, "fork", "checkpoint", "records are missing: the log cannot be compared");
	else if (memcmp(c->against_root, ct->root, 32) != 0)
		problem(c, "fork", "checkpoint",
			"the log's first %llu leaves have another root than the checkpoint's: its "
			"history was rewritten",
			(unsigned long long)ct->size);
	else
		info_note(c, "the log extends the checkpoint of tree size %llu", (unsigned long long)ct->size);
}

/* The derived tree (index/merkle.dat) holds exactly the hashes recomputed from the log:
 * every leaf and every complete subtree, in post-order (FS §7, §9.1). */
static void open_stored_tree(checker *c)
{
	char *path = path_join(c->v->dir, "index/merkle.dat");
	c->stored_tree = path ? fopen(path, "rbe") : NULL;
	if (!c->stored_tree)
		c->stored_tree_bad = true;
	free(path);
}

static void check_stored_tree(checker *c)
{
	merkle_hash root;
	uint64_t size = 0;
	if (!c->leaves_unknown &&
	    (c->stored_tree_bad || custos_tree_head(c->v, &size, root) < 0 || size != c->ms.size))
		problem(c, "index-mismatch", "index/merkle.dat",
			"the stored Merkle tree disagrees with the one recomputed from the log (%llu "
			"leaves); rebuild it with 'custos reindex'",
			(unsigned long long)c->ms.size);
	if (c->stored_tree)
		fclose(c->stored_tree);
}

/* What the member checks need of each record of an event. */
typedef struct member_ref {
	uint8_t id[16];
	bool is_member, parsed;
	uint8_t container[16];
	uint64_t member;
} member_ref;

static void check_record(checker *c, const event *ev, size_t i, custody_items *tree,
			 member_ref *mr)
{
	char hex[33], where[128];
	uint8_t *rec = NULL, *sig = NULL, id[16], keyid[8], s[64];
	size_t rn, sn;
	custos_record r;
	custos_hex(hex, ev->items[i].id, 16);
	snprintf(where, sizeof where, "item %s (event %llu)", hex, (unsigned long long)ev->seq);
	c->items++;
	if (!tree || custody_items_read(tree, hex, &rec, &rn, &sig, &sn) < 0) {
		problem(c, "missing-record", where, "%s", custos_error_last());
		c->leaves_unknown = true;
		push_leaf(c, (const uint8_t *)"", 0); /* keeps the leaf count */
		return;
	}
	push_leaf(c, rec, rn);
	if (record_parse(&r, rec, rn) < 0) {
		problem(c, "bad-record", where, "%s", custos_error_last());
		goto done;
	}
	record_id(id, rec, rn);
	if (memcmp(id, ev->items[i].id, 16) != 0)
		problem(c, "bad-record", where, "the record's bytes do not hash to its id");
	if (sigfile_parse(keyid, s, sig, sn) < 0 || pubkey_verify(&c->trust, s, rec, rn) < 0)
		problem(c, "bad-signature", where, "the record signature does not verify with key %s",
			"of the custodian");
	if (strcmp(r.vault, ev->vault) != 0 || r.seq != ev->seq || r.n != i ||
	    memcmp(r.custodian, ev->custodian, 8) != 0 || r.ingested != ev->time)
		problem(c, "bad-record", where,
			"the record's vault, event, position, custodian or time disagree with its event");
	check_object(c, &r, where);
	check_indexed(c, &r, ev->items[i].id, where);
	mr->parsed = true;
	mr->is_member = r.is_member;
	memcpy(mr->container, r.container, 16);
	mr->member = r.member;
	record_clear(&r);
done:
	free(rec);
	free(sig);
}

/* ------------------------------------------------------------ members of containers */

typedef struct by_id {
	uint8_t id[16];
	size_t i;
} by_id;

static int by_id_cmp(const void *a, const void *b)
{
	return memcmp(((const by_id *)a)->id, ((const by_id *)b)->id, 16);
}

/* The position of the item with this id in the event, or SIZE_MAX. */
static size_t find_by_id(const by_id *ix, size_t n, const uint8_t id[16])
{
	by_id key;
	memcpy(key.id, id, 16);
	const by_id *hit = bsearch(&key, ix, n, sizeof *ix, by_id_cmp);
	return hit ? hit->i : SIZE_MAX;
}

/* FS §4.1, §5.2: each member names an earlier item of its event as its container, members
 * of one container are numbered 0, 1, ... in item order, and each container has exactly
 * one `container` line whose count is the number of its members. */
static void check_members(checker *c, const event *ev, const member_ref *mr, const char *where)
{
	size_t n = ev->n_items;
	by_id *ix = xcalloc(n + 1, sizeof *ix);
	uint64_t *next = xcalloc(n + 1, sizeof *next);
	uint8_t *lines = xcalloc(n + 1, 1);
	if (!ix || !next || !lines)
		goto done;
	for (size_t i = 0; i < n; i++) {
		memcpy(ix[i].id, mr[i].id, 16);
		ix[i].i = i;
	}
	qsort(ix, n, sizeof *ix, by_id_cmp);
	for (size_t i = 0; i < n; i++) {
		if (!mr[i].parsed || !mr[i].is_member)
			continue;
		char hex[33];
		custos_hex(hex, mr[i].id, 16);
		size_t k = find_by_id(ix, n, mr[i].container);
		if (k == SIZE_MAX || k >= i)
			problem(c, "bad-member", where,
				"member %s names a container that is not an earlier item of its event", hex);
		else if (mr[i].member != next[k]++)
			problem(c, "bad-member", where, "member %s is at position %llu of its container, "
				"%llu was expected", hex, (unsigned long long)mr[i].member,
				(unsigned long long)(next[k] - 1));
	}
	for (size_t j = 0; j < ev->n_containers; j++) {
		const event_container *ec = &ev->containers[j];
		char hex[33];
		custos_hex(hex, ec->id, 16);
		size_t k = find_by_id(ix, n, ec->id);
		if (k == SIZE_MAX)
			problem(c, "bad-member", where, "a container line names %s, not an item of the event", hex);
		else if (lines[k]++)
			problem(c, "bad-member", where, "two container lines for %s", hex);
		else if (ec->members != next[k])
			problem(c, "bad-member", where, "the container line of %s counts %llu members, "
				"%llu records name it", hex, (unsigned long long)ec->members,
				(unsigned long long)next[k]);
	}
	for (size_t k = 0; k < n; k++)
		if (next[k] && !lines[k]) {
			char hex[33];
			custos_hex(hex, mr[k].id, 16);
			problem(c, "bad-member", where, "%s has members but no container line", hex);
		}
done:
	free(ix);
	free(next);
	free(lines);
}

static void check_items(checker *c, const event *ev, const custody_commit *cc)
{
	char where[64];
	snprintf(where, sizeof where, "event %llu", (unsigned long long)ev->seq);
	if (cc->n_item_entries != 2 * ev->n_items)
		problem(c, "unlisted-entry", where,
			"the commit holds %zu item files, the event lists %zu items (%zu expected)",
			cc->n_item_entries, ev->n_items, 2 * ev->n_items);
	custody_items *tree = NULL;
	if (ev->n_items && custody_items_open(&tree, c->v->log, cc->oid) < 0)
		problem(c, "missing-record", where, "%s", custos_error_last());
	member_ref *mr = xcalloc(ev->n_items + 1, sizeof *mr);
	for (size_t i = 0; i < ev->n_items; i++) {
		member_ref spare = {0}, *m = mr ? &mr[i] : &spare; /* no memory: skip member checks */
		memcpy(m->id, ev->items[i].id, 16);
		check_record(c, ev, i, tree, m);
	}
	custody_items_close(tree);
	if (mr)
		check_members(c, ev, mr, where);
	free(mr);
}

/* ------------------------------------------------------------ analyses (FS §13.4) */

/* An open-addressing set of item ids (an id is random: its first bytes index it). */
static bool id_zero(const uint8_t *id)
{
	static const uint8_t zero[CUSTOS_ITEM_ID_LEN];
	return memcmp(id, zero, CUSTOS_ITEM_ID_LEN) == 0;
}

static size_t id_slot(checker *c, const uint8_t *id)
{
	uint64_t h = le64_load(id);
	size_t i = (size_t)(h & (c->ids.cap - 1));
	while (!id_zero(c->ids.slot[i]) && memcmp(c->ids.slot[i], id, CUSTOS_ITEM_ID_LEN) != 0)
		i = (i + 1) & (c->ids.cap - 1);
	return i;
}

static void id_add(checker *c, const uint8_t *id)
{
	if (id_zero(id))
		return;
	if (2 * (c->ids.n + 1) > c->ids.cap) {
		size_t cap = c->ids.cap ? 2 * c->ids.cap : 1024;
		uint8_t(*old)[CUSTOS_ITEM_ID_LEN] = c->ids.slot;
		size_t old_cap = c->ids.cap;
		c->ids.slot = calloc(cap, CUSTOS_ITEM_ID_LEN);
		if (!c->ids.slot) {
			c->ids.slot = old;
			return; /* no memory: analyses go unchecked rather than misreported */
		}
		c->ids.cap = cap;
		c->ids.n = 0;
		for (size_t i = 0; i < old_cap; i++)
			if (!id_zero(old[i]))
				id_add(c, old[i]);
		free(old);
	}
	size_t i = id_slot(c, id);
	if (id_zero(c->ids.slot[i])) {
		memcpy(c->ids.slot[i], id, CUSTOS_ITEM_ID_LEN);
		c->ids.n++;
	}
}

static bool id_known(checker *c, const uint8_t *id)
{
	return c->ids.cap && !id_zero(c->ids.slot[id_slot(c, id)]);
}

/* fsck --full: the analysis of the item whose lines start at lines[0] done again, at the
 * event's time with the keys stored before it, must write the same lines. */
static void redo_analysis(checker *c, const event *ev, size_t at, const uint8_t *id,
			  const char *where)
{
	size_t end = at + 1;
	while (end < ev->n_lines && strncmp(ev->lines[end], "item ", 5) != 0)
		end++;
	line_list again = {0};
	char hex[2 * CUSTOS_ITEM_ID_LEN + 1];
	custos_hex(hex, id, CUSTOS_ITEM_ID_LEN);
	if (analysis_redo(c->v, &c->keys, ev->time, id, &again) < 0) {
		problem(c, "analysis-mismatch", where, "item %s cannot be analysed again: %s", hex,
			custos_error_last());
		return;
	}
	size_t k = 0;
	while (k < again.n && at + k < end && strcmp(again.l[k], ev->lines[at + k]) == 0)
		k++;
	if (k < again.n || at + k < end)
		problem(c, "analysis-mismatch", where, "item %s: recorded '%.80s', found again '%.80s'", hex,
			at + k < end ? ev->lines[at + k] : "(nothing)", k < again.n ? again.l[k] : "(nothing)");
	line_list_free(&again);
}

/* Ingests add their items; an analysis may name only items received before it, and, with
 * --full, must be what analysing them again finds. */
static void check_analysis_event(checker *c, const event *ev, const char *where)
{
	for (size_t i = 0; i < ev->n_items; i++)
		id_add(c, ev->items[i].id);
	bool full = c->o && c->o->full;
	if (full && strcmp(ev->action, "dkim-key") == 0 && analysis_keys_add_event(&c->keys, ev) < 0)
		problem(c, "bad-event", where, "%s", custos_error_last());
	if (strcmp(ev->action, "analysis") != 0)
		return;
	for (size_t i = 0; i < ev->n_lines; i++) {
		evidence_line l;
		int k = evidence_parse_line(ev->lines[i], &l);
		free(l.name);
		free(l.value);
		if (k != LINE_ITEM)
			continue;
		char hex[2 * CUSTOS_ITEM_ID_LEN + 1];
		custos_hex(hex, l.id, CUSTOS_ITEM_ID_LEN);
		if (c->ids.slot && !id_known(c, l.id))
			problem(c, "bad-event", where, "an analysis of item %s, which no earlier event received",
				hex);
		else if (full)
			redo_analysis(c, ev, i, l.id, where);
	}
}

/* ------------------------------------------------------------ sources (FS §12) */

static struct reg_source *registered(checker *c, const custos_bytes *name)
{
	for (size_t i = 0; i < c->n_srcs; i++)
		if (c->srcs[i].name.n == name->n && memcmp(c->srcs[i].name.p, name->p, name->n) == 0)
			return &c->srcs[i];
	return NULL;
}

/* A name is registered once; a signature verdict names the key its source registered. */
static void check_source_event(checker *c, const event *ev, const char *where)
{
	if (strcmp(ev->action, "source") == 0) {
		if (registered(c, &ev->name)) {
			problem(c, "bad-event", where, "a second registration of a source name");
			return;
		}
		if (array_grow(&c->srcs, &c->cap_srcs, c->n_srcs, sizeof *c->srcs, 8) < 0)
			return;
		struct reg_source *r = &c->srcs[c->n_srcs];
		r->name.p = malloc(ev->name.n + 1);
		if (!r->name.p)
			return;
		memcpy(r->name.p, ev->name.p, ev->name.n);
		r->name.n = ev->name.n;
		r->has_key = ev->has_source_key;
		r->key = ev->source_key;
		c->n_srcs++;
		return;
	}
	if (strcmp(ev->action, "ingest") != 0 || !ev->has_source_sig)
		return;
	struct reg_source *r = registered(c, &ev->source);
	if (!r || !r->has_key || strcmp(r->key.scheme, ev->source_sig_scheme) != 0 ||
	    memcmp(r->key.keynum, ev->source_sig_keynum, 8) != 0)
		problem(c, "bad-event", where,
			"a source signature by a key its source did not register before");
}

static void free_sources(checker *c)
{
	for (size_t i = 0; i < c->n_srcs; i++)
		free(c->srcs[i].name.p);
	free(c->srcs);
}

/* ------------------------------------------------------------ one event of the chain */

static bool check_commit_signature(checker *c, const custody_commit *cc, const char *where)
{
	custos_pubkey signer;
	if (!cc->gpgsig) {
		problem(c, "bad-commit-signature", where, "the commit is not signed");
		return false;
	}
	if (sshsig_verify(&signer, cc->gpgsig, cc->gpgsig_len, "git", cc->signed_data,
			  cc->signed_len) < 0) {
		problem(c, "bad-commit-signature", where, "%s", custos_error_last());
		return false;
	}
	if (!pubkey_equal(&signer, &c->trust)) {
		char id[17];
		custos_keyid_hex(id, signer.id);
		problem(c, "wrong-key", where, "the commit is signed by key %s, not the custodian's", id);
		return false;
	}
	return true;
}

static bool check_event_signature(checker *c, const custody_commit *cc, const char *where)
{
	uint8_t keyid[8], sig[64];
	if (sigfile_parse(keyid, sig, cc->event_sig, cc->event_sig_len) < 0 ||
	    pubkey_verify(&c->trust, sig, cc->event, cc->event_len) < 0) {
		problem(c, "bad-signature", where, "the event signature does not verify with the custodian's key");
		return false;
	}
	return true;
}

static bool check_genesis(checker *c, const event *ev, const char *where)
{
	const custos_vault_info *info = &c->v->info;
	bool ok = true;
	if (strcmp(ev->action, "init") != 0) {
		problem(c, "broken-chain", where, "the first event is '%s', not 'init'", ev->action);
		return false;
	}
	if (sodium_memcmp(ev->pubkey, c->trust.pk, 32) != 0) {
		problem(c, "wrong-key", where, "the vault was created by another key");
		ok = false;
	}
	if (strcmp(ev->vault, info->id) != 0 || ev->time != info->created ||
	    ev->name.n != strlen(info->name) || memcmp(ev->name.p, info->name, ev->name.n) != 0 ||
	    !pubkey_equal(&info->owner, &c->trust)) {
		problem(c, "bad-marker", "VAULT", "the VAULT marker disagrees with the first custody event");
		ok = false;
	}
	return ok;
}

static bool check_links(checker *c, const event *ev, const custody_commit *cc, const char *where)
{
	bool ok = true;
	uint8_t zero[32] = {0};
	if (ev->seq != c->seq) {
		problem(c, "broken-chain", where, "sequence number %llu where %llu was expected",
			(unsigned long long)ev->seq, (unsigned long long)c->seq);
		ok = false;
	}
	if (memcmp(ev->prev, c->seq ? c->prev_event : zero, 32) != 0) {
		problem(c, "broken-chain", where, "'prev' is not the SHA-256 of the previous event");
		ok = false;
	}
	if ((c->seq == 0) != (cc->n_parents == 0) ||
	    (c->seq && memcmp(cc->parent, c->prev_commit, 20) != 0)) {
		problem(c, "broken-chain", where, "the commit's parent is not the previous event's commit");
		ok = false;
	}
	if (strcmp(ev->vault, c->v->info.id) != 0) {
		problem(c, "broken-chain", where, "the event belongs to vault %s", ev->vault);
		ok = false;
	}
	if (c->seq && ev->time < c->prev_time) {
		problem(c, "time-order", where, "the event is dated before its predecessor");
		ok = false;
	}
	if (cc->time != ev->time) {
		problem(c, "broken-chain", where, "the commit time differs from the event time");
		ok = false;
	}
	if (memcmp(ev->custodian, c->trust.id, 8) != 0) {
		problem(c, "wrong-key", where, "the event names another custodian");
		ok = false;
	}
	if (c->seq && strcmp(ev->action, "init") == 0) {
		problem(c, "broken-chain", where, "a second 'init' event");
		ok = false;
	}
	return ok;
}

static void mark_commit(checker *c, uint64_t seq, bool ok)
{
	if (seq >= c->cap_ok) {
		size_t cap = c->cap_ok ? 2 * c->cap_ok : 256;
		while (cap <= seq)
			cap *= 2;
		bool *p = realloc(c->commit_ok, cap);
		if (!p)
			return;
		memset(p + c->cap_ok, 0, cap - c->cap_ok);
		c->commit_ok = p;
		c->cap_ok = cap;
	}
	c->commit_ok[seq] = ok;
}

static int check_commit(const uint8_t oid[20], void *ud)
{
	checker *c = ud;
	char hex[41], where[96];
	custos_hex(hex, oid, 20);
	snprintf(where, sizeof where, "commit %s (event %llu)", hex, (unsigned long long)c->seq);
	custody_commit cc;
	event ev;
	if (custody_read_commit(c->v->log, oid, &cc) < 0) {
		problem(c, "bad-event", where, "%s", custos_error_last());
		c->chain_broken = true;
		mark_commit(c, c->seq++, false);
		return 0;
	}
	bool ok = true;
	for (size_t i = 0; i < cc.n_extra; i++) {
		problem(c, "unlisted-entry", where, "unexpected entry '%s' in the commit tree", cc.extra[i]);
		ok = false;
	}
	ok &= check_commit_signature(c, &cc, where);
	ok &= check_event_signature(c, &cc, where);
	if (event_parse(&ev, cc.event, cc.event_len) < 0) {
		problem(c, "bad-event", where, "%s", custos_error_last());
		ok = false;
	} else {
		ok &= check_links(c, &ev, &cc, where);
		if (c->seq == 0)
			ok &= check_genesis(c, &ev, where);
		if (strcmp(ev.action, "import") == 0) {
			problem(c, "broken-chain", where, "an import event in the custody log");
			ok = false;
		}
		check_source_event(c, &ev, where);
		check_analysis_event(c, &ev, where);
		if (c->check_items)
			check_items(c, &ev, &cc);
		if (c->merkle && strcmp(ev.action, "checkpoint") == 0)
			check_checkpoint_event(c, &ev, where);
		if (c->merkle && strcmp(ev.action, "cosignature") == 0)
			check_cosignature_event(c, &ev, where);
		c->prev_time = ev.time;
		event_clear(&ev);
	}
	if (!ok)
		c->chain_broken = true;
	push_leaf(c, cc.event, cc.event_len);
	sha256_buf(c->prev_event, cc.event, cc.event_len);
	memcpy(c->prev_commit, oid, 20);
	mark_commit(c, c->seq++, ok);
	custody_commit_clear(&cc);
	return 0;
}

static int walk_chain(checker *c)
{
	uint8_t head[20];
	int rc = custody_head(c->v->log, head);
	if (rc < 0) {
		problem(c, "broken-chain", "custody.git", "%s", custos_error_last());
		c->chain_broken = true;
		return 0;
	}
	rc = custody_walk(c->v->log, head, check_commit, c);
	if (rc < 0) {
		problem(c, "broken-chain", "custody.git", "%s", custos_error_last());
		c->chain_broken = true;
	}
	return 0;
}

/* ------------------------------------------------------------ the store */

static bool name_is_hex(const char *s, size_t n)
{
	return strlen(s) == n && is_lower_hex(s, n);
}

/* Visit every entry of a directory of the vault (not "." or ".."), with its full path and
 * its path relative to the vault for messages. */
typedef void (*entry_fn)(checker *c, const char *path, const char *rel, const char *name);

static void each_entry(checker *c, const char *rel_dir, entry_fn fn)
{
	char *dir = path_join(c->v->dir, rel_dir);
	DIR *d = dir ? opendir(dir) : NULL;
	if (!d) {
		problem(c, "bad-store", rel_dir, "cannot list: %s", strerror(errno));
		free(dir);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char *path = path_join(dir, de->d_name), *rel = path_join(rel_dir, de->d_name);
		if (path && rel)
			fn(c, path, rel, de->d_name);
		free(path);
		free(rel);
	}
	closedir(d);
	free(dir);
}

static bool is_regular(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* objects/<xx>/<sha256>: the name is the hash, and the directory its first byte. */
static void check_loose(checker *c, const char *path, const char *rel, const char *name)
{
	uint8_t sha[32], got[32];
	const char *sub = rel + strlen("objects/");
	if (!name_is_hex(name, 64) || strncmp(name, sub, 2) != 0 || !is_regular(path)) {
		problem(c, "stray-file", rel, "not an object name or not a regular file");
		return;
	}
	hex_decode(sha, 32, name, 64);
	c->objects++;
	if (!c->o->full)
		return;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || hash_range(c, fd, 0, (uint64_t)st.st_size, got) < 0)
		problem(c, "unreadable-object", rel, "%s", fd < 0 ? strerror(errno) : custos_error_last());
	else if (memcmp(got, sha, 32) != 0)
		problem(c, "hash-mismatch", rel, "the bytes do not hash to the object's name");
	if (fd >= 0)
		close(fd);
}

typedef struct pack_check {
	checker *c;
	int fd;
	const char *where;
} pack_check;

static int pack_member_cb(const store_packed *m, const char *name, void *ud)
{
	pack_check *pc = ud;
	checker *c = pc->c;
	char where[4200];
	store_packed loc;
	snprintf(where, sizeof where, "%s:%s", pc->where, name);
	c->objects++;
	if (index_find_packed(c->v->index, m->sha256, &loc) < 0)
		problem(c, "index-mismatch", where,
			"the derived index does not know this object; rebuild it with 'custos reindex'");
	if (c->o->full) {
		uint8_t got[32];
		if (hash_range(c, pc->fd, m->offset, m->length, got) < 0)
			problem(c, "unreadable-object", where, "%s", custos_error_last());
		else if (memcmp(got, m->sha256, 32) != 0)
			problem(c, "hash-mismatch", where, "the member's bytes do not hash to its name");
	}
	return 0;
}

/* objects/packs/<sha256>.tar: named by its hash, every member an object named by its own. */
static void check_pack(checker *c, const char *path, const char *rel, const char *name)
{
	uint8_t pack[32], got[32];
	struct stat st;
	size_t len = strlen(name);
	if (len != 68 || strcmp(name + 64, ".tar") != 0 || !is_lower_hex(name, 64) || !is_regular(path)) {
		problem(c, "stray-file", rel, "not a pack name or not a regular file");
		return;
	}
	hex_decode(pack, 32, name, 64);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) != 0) {
		problem(c, "unreadable-object", rel, "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	if (c->o->full) {
		if (hash_range(c, fd, 0, (uint64_t)st.st_size, got) < 0)
			problem(c, "unreadable-object", rel, "%s", custos_error_last());
		else if (memcmp(got, pack, 32) != 0)
			problem(c, "hash-mismatch", rel, "the pack's bytes do not hash to its name");
	}
	pack_check pc = {c, fd, rel};
	if (store_pack_members(c->v->store, pack, pack_member_cb, &pc) < 0)
		problem(c, "bad-pack", rel, "%s", custos_error_last());
	close(fd);
}

static void check_store_entry(checker *c, const char *path, const char *rel, const char *name)
{
	if (strcmp(name, "packs") == 0 && is_dir(path))
		each_entry(c, rel, check_pack);
	else if (name_is_hex(name, 2) && is_dir(path))
		each_entry(c, rel, check_loose);
	else
		problem(c, "stray-file", rel, "not part of the object store layout");
}

static void check_root_entry(checker *c, const char *path, const char *rel, const char *name)
{
	static const char *const known[] = {"VAULT", "custody.git", "objects", "index", "tmp",
					    "REPLICA"};
	(void)path;
	for (size_t i = 0; i < ARRAY_LEN(known); i++)
		if (strcmp(name, known[i]) == 0)
			return;
	problem(c, "stray-file", rel, "not part of the vault layout");
}

static void count_leftover(checker *c, const char *path, const char *rel, const char *name)
{
	(void)path, (void)rel, (void)name;
	c->leftovers++;
}

static void check_vault_root(checker *c)
{
	each_entry(c, ".", check_root_entry);
	each_entry(c, "tmp", count_leftover);
	char *lock = path_join(c->v->dir, "custody.git/refs/heads/main.lock");
	if (lock && access(lock, F_OK) == 0)
		info_note(c, "custody.git holds a lock file left by an interrupted write; the next "
			"write to the vault removes it");
	free(lock);
	if (c->leftovers)
		info_note(c, "tmp/ holds %zu leftover temporary file(s) from an interrupted write; "
			"they are not part of the vault",
		     c->leftovers);
}

/* Git's own pack and index files end with the SHA-1 of everything before it; git
 * verify-pack checks it, and so does fsck --full (a flip in deflate padding changes no
 * object, but it is still damage to the evidence log). */
static void check_git_trailer(checker *c, const char *path, const char *rel, const char *name)
{
	size_t len = strlen(name);
	if (len < 5 || (strcmp(name + len - 5, ".pack") != 0 && strcmp(name + len - 4, ".idx") != 0))
		return;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t trailer[20], want[20];
	digest_result dr;
	if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < 20 ||
	    pread(fd, trailer, 20, st.st_size - 20) != 20 ||
	    digest_range(c, fd, 0, (uint64_t)st.st_size - 20, CUSTOS_HASH_SHA1, &dr) < 0 ||
	    hex_decode(want, 20, dr.extra_hex[1], 40) < 0 || memcmp(want, trailer, 20) != 0)
		problem(c, "bad-pack", rel, "the file's SHA-1 trailer does not match its contents");
	if (fd >= 0)
		close(fd);
}

/* ------------------------------------------------------------ a replica's imports */

/* One commit of a replica's imports log (FS §11.4): signed by the replica's custodian, a
 * chain of its own, each naming a head the custody log holds. */
static int check_import_commit(const uint8_t oid[20], void *ud)
{
	checker *c = ud;
	char hex[41], where[96];
	custos_hex(hex, oid, 20);
	snprintf(where, sizeof where, "imports commit %s (import %llu)", hex,
		 (unsigned long long)c->seq);
	custody_commit cc;
	event ev;
	index_event ie;
	if (custody_read_commit(c->v->log, oid, &cc) < 0) {
		problem(c, "bad-event", where, "%s", custos_error_last());
		c->seq++;
		return 0;
	}
	check_commit_signature(c, &cc, where);
	check_event_signature(c, &cc, where);
	if (event_parse(&ev, cc.event, cc.event_len) < 0) {
		problem(c, "bad-event", where, "%s", custos_error_last());
	} else {
		check_links(c, &ev, &cc, where);
		if (strcmp(ev.action, "import") != 0)
			problem(c, "bad-event", where, "a '%s' event in the imports log", ev.action);
		else if (index_event_get(c->v->index, ev.to, &ie) < 0 ||
			 memcmp(ie.commit, ev.head, 20) != 0)
			problem(c, "bad-event", where,
				"it names a head for event %llu that the custody log does not hold",
				(unsigned long long)ev.to);
		c->prev_time = ev.time;
		event_clear(&ev);
	}
	sha256_buf(c->prev_event, cc.event, cc.event_len);
	memcpy(c->prev_commit, oid, 20);
	c->seq++;
	custody_commit_clear(&cc);
	return 0;
}

static void check_imports(checker *main)
{
	uint8_t head[20];
	if (!main->v->is_replica || custody_head_of(main->v->log, CUSTODY_IMPORTS_REF, head) < 0)
		return;
	checker c = {.v = main->v, .o = main->o, .trust = main->v->replica.custodian};
	int rc = custody_walk(c.v->log, head, check_import_commit, &c);
	if (rc < 0)
		problem(&c, "broken-chain", "custody.git imports", "%s", custos_error_last());
	main->problems += c.problems;
}

int vault_check_history(custos_vault *v, const uint8_t head[20], const custos_pubkey *trust,
			object_probe_fn probe, void *probe_ud, problem_fn on_problem, void *ud,
			uint64_t *problems)
{
	checker c = {.v = v, .trust = *trust, .check_items = true, .merkle = true, .probe = probe,
		     .probe_ud = probe_ud, .on_problem = on_problem, .problem_ud = ud};
	int rc = custody_walk(v->log, head, check_commit, &c);
	if (rc < 0)
		problem(&c, "broken-chain", "bundle", "%s", custos_error_last());
	*problems = c.problems;
	free(c.commit_ok);
	free(c.issued);
	free_sources(&c);
	free(c.ids.slot);
	dkim_keyset_free(&c.keys);
	return 0;
}

/* ------------------------------------------------------------ entry points */

int custos_fsck(custos_vault *v, const custos_fsck_opts *opts, custos_fsck_summary *out)
{
	checker c = {.v = v, .o = opts, .check_items = true, .merkle = true};
	note *against = NULL;
	checkpoint_text act;
	c.trust = opts->trust ? *opts->trust : v->info.owner;
	memset(out, 0, sizeof *out);
	if (!(c.io = malloc(1 << 20)) || !(against = malloc(sizeof *against))) {
		free(c.io);
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	}
	if (!pubkey_equal(&c.trust, &v->info.owner))
		problem(&c, "wrong-key", "VAULT", "the vault names another custodian than the trusted key");
	bool have_against = false;
	if (opts->against) {
		if (checkpoint_open(against, &act, opts->against, opts->against_len, v->info.id,
				    &c.trust) < 0)
			problem(&c, "bad-checkpoint", "checkpoint", "%s", custos_error_last());
		else
			have_against = true;
		c.against_size = have_against ? act.size : 0;
	}
	open_stored_tree(&c);
	if (v->empty)
		info_note(&c, "an empty replica: no import yet");
	else
		walk_chain(&c);
	check_imports(&c);
	if (have_against)
		check_against(&c, &act);
	if (!v->empty)
		check_stored_tree(&c);
	check_vault_root(&c);
	each_entry(&c, "objects", check_store_entry);
	if (opts->full)
		each_entry(&c, "custody.git/objects/pack", check_git_trailer);
	if (index_item_count(v->index) != c.items || index_event_count(v->index) != c.seq)
		problem(&c, "index-mismatch", "index",
			"the derived index lists %llu items in %llu events, the log %llu in %llu; "
			"rebuild it with 'custos reindex'",
			(unsigned long long)index_item_count(v->index),
			(unsigned long long)index_event_count(v->index), (unsigned long long)c.items,
			(unsigned long long)c.seq);
	out->events = c.seq;
	out->items = c.items;
	out->objects = c.objects;
	out->bytes_hashed = c.bytes;
	out->problems = c.problems;
	free(c.io);
	free(c.commit_ok);
	free(c.issued);
	free_sources(&c);
	free(c.ids.slot);
	dkim_keyset_free(&c.keys);
	free(against);
	custos_error_clear();
	return c.problems ? custos_error_set(CUSTOS_EINTEGRITY, "%llu problem(s) found",
					     (unsigned long long)c.problems)
			  : 0;
}

void custos_verify_result_free(custos_verify_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_receipts; i++)
		custos_item_free((custos_item *)r->receipts[i].item);
	free(r->receipts);
	free(r);
}

static int hash_file(custos_verify_result *r, const char *path)
{
	return sha256_file(path, r->sha256, &r->size);
}

typedef struct receipt_list {
	index_item *items;
	size_t n, cap;
} receipt_list;

static int collect_cb(const index_item *it, void *ud)
{
	receipt_list *l = ud;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		index_item *p = realloc(l->items, cap * sizeof *p);
		if (!p)
			return custos_error_set(CUSTOS_ERROR, "out of memory");
		l->items = p;
		l->cap = cap;
	}
	l->items[l->n++] = *it;
	return 0;
}

static int receipt_cmp(const void *a, const void *b)
{
	const index_item *x = a, *y = b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void fill_receipt(custos_receipt *rc, const checker *c, custos_item *it)
{
	rc->item = it;
	rc->record_sig_ok = it->sig_ok;
	rc->commit_sig_ok = it->rec.seq < c->cap_ok && c->commit_ok[it->rec.seq];
	rc->chain_ok = !c->chain_broken;
	if (!rc->record_sig_ok)
		rc->problem = "the item record's signature does not verify";
	else if (strcmp(it->outcome, "unlisted") == 0)
		rc->problem = "the custody event does not list this item";
	else if (!rc->commit_sig_ok)
		rc->problem = "the custody commit or event signature does not verify";
	else if (!rc->chain_ok)
		rc->problem = "the custody chain is broken (run custos fsck)";
}

int custos_verify_file(custos_verify_result **out, custos_vault *v, const char *path)
{
	custos_verify_result *r = xcalloc(1, sizeof *r);
	receipt_list l = {0};
	char hex[65];
	*out = NULL;
	if (!r)
		return CUSTOS_ERROR;
	int rc = hash_file(r, path);
	if (rc == 0) {
		custos_hex(hex, r->sha256, 32);
		rc = index_items_by_sha(v->index, hex, collect_cb, &l);
	}
	if (rc == 0 && l.n) {
		checker c = {.v = v, .trust = v->info.owner};
		walk_chain(&c);
		qsort(l.items, l.n, sizeof *l.items, receipt_cmp);
		r->receipts = xcalloc(l.n, sizeof *r->receipts);
		rc = r->receipts ? 0 : CUSTOS_ERROR;
		for (size_t i = 0; rc == 0 && i < l.n; i++) {
			custos_item *it = NULL;
			rc = vault_load_item(v, l.items[i].id, l.items[i].seq, &it);
			if (rc == 0) {
				fill_receipt(&r->receipts[r->n_receipts++], &c, it);
				/* A receipt for other bytes would be a forged index entry. */
				if (memcmp(it->rec.sha256, r->sha256, 32) != 0)
					r->receipts[r->n_receipts - 1].problem =
						"the record names other bytes (index damaged)";
			}
		}
		bool loose;
		store_packed loc;
		uint64_t size;
		r->object_ok = vault_locate(v, r->sha256, &loose, &loc, &size) == 0 && size == r->size;
		free(c.commit_ok);
		free(c.issued);
		free_sources(&c);
	free(c.ids.slot);
	dkim_keyset_free(&c.keys);
		custos_error_clear();
	}
	free(l.items);
	if (rc < 0) {
		custos_verify_result_free(r);
		return rc;
	}
	*out = r;
	return 0;
}
