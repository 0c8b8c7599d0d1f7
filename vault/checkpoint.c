/*
 * checkpoint.c — the vault side of the Merkle log (FS §9): signed checkpoints recorded as
 * custody events, witnesses' cosignatures recorded the same way, consistency proofs
 * between checkpoints, and exhibit proofs. Everything a checkpoint says is recomputed
 * from the log (index/merkle.dat is derived from custody.git); nothing here trusts input.
 */
#include "checkpoint.h"

#include "keys.h"
#include "merkle.h"
#include "note.h"
#include "vault.h"

#include <stdio.h>
#include <stdlib.h>

void checkpoint_origin(char out[NOTE_NAME_MAX + 1], const char *vault_id)
{
	snprintf(out, NOTE_NAME_MAX + 1, CUSTOS_ORIGIN_PREFIX "%s", vault_id);
}

int checkpoint_vkey(note_vkey *out, const char *vault_id, const custos_pubkey *pub)
{
	char origin[NOTE_NAME_MAX + 1];
	checkpoint_origin(origin, vault_id);
	return note_vkey_make(out, origin, NOTE_ED25519, pub->pk);
}

char *custos_note_vkey(const char *vault_id, const custos_pubkey *pub)
{
	note_vkey k;
	return checkpoint_vkey(&k, vault_id, pub) == 0 ? note_vkey_format(&k) : NULL;
}

void checkpoint_text_of(buf *b, const char *vault_id, uint64_t size, const uint8_t root[32])
{
	checkpoint_text ct = {.size = size};
	checkpoint_origin(ct.origin, vault_id);
	memcpy(ct.root, root, 32);
	checkpoint_text_format(b, &ct);
}

void checkpoint_note(buf *b, const char *vault_id, uint64_t size, const uint8_t root[32],
		     const uint8_t sig[68])
{
	char origin[NOTE_NAME_MAX + 1];
	checkpoint_origin(origin, vault_id);
	checkpoint_text_of(b, vault_id, size, root);
	buf_putc(b, '\n');
	note_sig_format(b, origin, sig, sig + 4, 64);
}

void custos_checkpoint_clear(custos_checkpoint *c)
{
	free(c->note);
	memset(c, 0, sizeof *c);
}

int custos_tree_head(custos_vault *v, uint64_t *size, uint8_t root[32])
{
	merkle_log *l = NULL;
	int rc = index_merkle_open(v->index, &l);
	if (rc == 0) {
		*size = merkle_log_size(l);
		rc = merkle_log_root(l, *size, root);
	}
	merkle_log_close(l);
	return rc;
}

/* ------------------------------------------------------------ finding checkpoints */

typedef struct held_cosig {
	uint64_t size;
	uint8_t root[32];
	note_vkey witness;
	uint8_t cosig[76];
} held_cosig;

/* A backwards scan of the log for a checkpoint event: the latest, or the latest of a
 * given tree size; the cosignature events seen on the way are kept. */
typedef struct cp_scan {
	bool by_size;
	uint64_t size;
	bool found;
	event cp;
	held_cosig *cosigs;
	size_t n_cosigs, cap_cosigs;
} cp_scan;

static void cp_scan_clear(cp_scan *s)
{
	event_clear(&s->cp);
	free(s->cosigs);
	memset(s, 0, sizeof *s);
}

static int keep_cosig(cp_scan *s, const event *ev)
{
	if (array_grow(&s->cosigs, &s->cap_cosigs, s->n_cosigs, sizeof *s->cosigs, 8) < 0)
		return CUSTOS_ERROR;
	held_cosig *c = &s->cosigs[s->n_cosigs];
	c->size = ev->tree_size;
	memcpy(c->root, ev->root, 32);
	memcpy(c->cosig, ev->cosig, sizeof c->cosig);
	/* Events are checked when recorded and by fsck; one that does not parse here is
	 * skipped rather than carried into a proof. */
	if (note_vkey_parse(&c->witness, ev->witness, strlen(ev->witness)) == 0)
		s->n_cosigs++;
	return 0;
}

static int scan_checkpoints(custos_vault *v, cp_scan *s)
{
	uint64_t n = index_event_count(v->index);
	for (uint64_t seq = n; seq-- > 0 && !s->found;) {
		index_event ie;
		event ev;
		custody_commit cc;
		int rc = index_event_get(v->index, seq, &ie);
		if (rc == 0)
			rc = vault_read_event(v, ie.commit, &ev, &cc);
		if (rc < 0)
			return rc;
		custody_commit_clear(&cc);
		if (strcmp(ev.action, "cosignature") == 0) {
			rc = keep_cosig(s, &ev);
		} else if (strcmp(ev.action, "checkpoint") == 0 &&
			   (!s->by_size || ev.tree_size == s->size)) {
			s->cp = ev;
			s->found = true;
			continue;
		}
		event_clear(&ev);
		if (rc < 0)
			return rc;
	}
	return s->found ? 0 : CUSTOS_ENOTFOUND;
}

/* The checkpoint note with the cosignature lines held for it (one per witness key). */
static int assemble(custos_vault *v, const cp_scan *s, custos_checkpoint *out)
{
	buf b;
	buf_init(&b, NOTE_MAX);
	checkpoint_note(&b, v->info.id, s->cp.tree_size, s->cp.root, s->cp.note_sig);
	memset(out, 0, sizeof *out);
	for (size_t i = s->n_cosigs; i-- > 0;) { /* oldest first */
		const held_cosig *c = &s->cosigs[i];
		bool dup = false;
		for (size_t j = s->n_cosigs; j-- > i + 1;)
			dup |= memcmp(&s->cosigs[j].witness, &c->witness, sizeof c->witness) == 0 &&
			       s->cosigs[j].size == c->size;
		if (dup || c->size != s->cp.tree_size || memcmp(c->root, s->cp.root, 32) != 0)
			continue;
		note_sig_format(&b, c->witness.name, c->cosig, c->cosig + 4, 72);
		out->cosignatures++;
	}
	out->size = s->cp.tree_size;
	memcpy(out->root, s->cp.root, 32);
	out->seq = s->cp.seq;
	out->time = s->cp.time;
	if (buf_check(&b) < 0)
		return buf_free(&b), custos_error_set(CUSTOS_ELIMIT, "too many cosignatures");
	buf_putc(&b, '\0');
	out->note = buf_steal(&b, &out->note_len);
	out->note_len--;
	return 0;
}

int custos_checkpoint_latest(custos_vault *v, custos_checkpoint *out)
{
	cp_scan s = {0};
	memset(out, 0, sizeof *out);
	int rc = scan_checkpoints(v, &s);
	if (rc == CUSTOS_ENOTFOUND)
		rc = custos_error_set(CUSTOS_ENOTFOUND,
				      "this vault has issued no checkpoint yet; run 'custos checkpoint'");
	if (rc == 0)
		rc = assemble(v, &s, out);
	cp_scan_clear(&s);
	return rc;
}

/* ------------------------------------------------------------ issuing */

static int require_owner(custos_vault *v, const custos_key *key)
{
	if (!v->writable)
		return custos_error_set(CUSTOS_EINVALID, "vault opened read-only");
	if (!pubkey_equal(custos_key_public(key), &v->info.owner))
		return custos_error_set(CUSTOS_EPERM, "the key is not the custodian of this vault");
	return 0;
}

int custos_checkpoint_issue(custos_vault *v, const custos_key *key, custos_checkpoint *out)
{
	event ev = {0};
	note_vkey k;
	buf text;
	char summary[96];
	memset(out, 0, sizeof *out);
	buf_init(&text, NOTE_MAX);
	int rc = require_owner(v, key);
	if (rc == 0)
		rc = vault_event_begin(v, key, &ev, "checkpoint");
	if (rc == 0)
		rc = custos_tree_head(v, &ev.tree_size, ev.root);
	if (rc == 0)
		rc = checkpoint_vkey(&k, v->info.id, &v->info.owner);
	if (rc == 0) {
		checkpoint_text_of(&text, v->info.id, ev.tree_size, ev.root);
		memcpy(ev.note_sig, k.keyid, 4);
		rc = buf_check(&text) == 0 ? key_sign(ev.note_sig + 4, key, text.p, text.n)
					   : CUSTOS_ERROR;
	}
	snprintf(summary, sizeof summary, "checkpoint: tree size %llu",
		 (unsigned long long)ev.tree_size);
	if (rc == 0)
		rc = vault_commit_event(v, key, &ev, summary, NULL, NULL, NULL);
	if (rc == 0) {
		cp_scan s = {.found = true, .cp = ev};
		rc = assemble(v, &s, out);
	}
	event_clear(&ev);
	buf_free(&text);
	return rc;
}

/* ------------------------------------------------------------ checkpoints from outside */

int checkpoint_open(note *nt, checkpoint_text *ct, const uint8_t *p, size_t n,
		    const char *vault_id, const custos_pubkey *custodian)
{
	note_vkey k;
	int rc = note_parse(nt, p, n);
	if (rc == 0)
		rc = checkpoint_text_parse(ct, nt->text, nt->text_len);
	if (rc < 0)
		return custos_error_wrap(CUSTOS_EINTEGRITY, "not a checkpoint");
	if ((rc = checkpoint_vkey(&k, vault_id, custodian)) < 0)
		return rc;
	if (strcmp(ct->origin, k.name) != 0)
		return custos_error_set(CUSTOS_EINTEGRITY, "the checkpoint is for %s, not %s",
					ct->origin, k.name);
	if (ct->size == 0)
		return custos_error_set(CUSTOS_EINTEGRITY, "a checkpoint of an empty log");
	if (note_verify(nt, &k, NULL) < 0)
		return custos_error_set(CUSTOS_EINTEGRITY,
					"the checkpoint is not signed by the custodian key");
	return 0;
}

int checkpoint_against_log(custos_vault *v, const checkpoint_text *ct)
{
	uint64_t size;
	merkle_hash now, then;
	int rc = custos_tree_head(v, &size, now);
	if (rc < 0)
		return rc;
	if (ct->size > size)
		return custos_error_set(CUSTOS_EINTEGRITY,
					"rollback: the checkpoint covers %llu leaves, the log holds only %llu",
					(unsigned long long)ct->size, (unsigned long long)size);
	merkle_log *l = NULL;
	if ((rc = index_merkle_open(v->index, &l)) == 0)
		rc = merkle_log_root(l, ct->size, then);
	merkle_log_close(l);
	if (rc == 0 && memcmp(then, ct->root, 32) != 0)
		rc = custos_error_set(CUSTOS_EINTEGRITY,
				      "fork: the log's first %llu leaves do not have the checkpoint's root",
				      (unsigned long long)ct->size);
	return rc;
}

int custos_consistency_proof(custos_vault *v, const uint8_t *old, size_t old_len, char **out,
			     size_t *out_len)
{
	note nt;
	checkpoint_text ct;
	custos_checkpoint latest = {0};
	consistency *proof = malloc(sizeof *proof);
	merkle_log *l = NULL;
	*out = NULL;
	if (!proof)
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	int rc = checkpoint_open(&nt, &ct, old, old_len, v->info.id, &v->info.owner);
	if (rc == 0)
		rc = checkpoint_against_log(v, &ct);
	if (rc == 0)
		rc = custos_checkpoint_latest(v, &latest);
	if (rc == 0 && ct.size > latest.size)
		rc = custos_error_set(CUSTOS_EINTEGRITY,
				      "the checkpoint (size %llu) is newer than the latest one recorded "
				      "(size %llu): the log was rolled back",
				      (unsigned long long)ct.size, (unsigned long long)latest.size);
	if (rc == 0 && (rc = index_merkle_open(v->index, &l)) == 0)
		rc = merkle_log_consistency(l, ct.size, latest.size, proof->h, &proof->n);
	merkle_log_close(l);
	if (rc == 0) {
		buf b;
		buf_init(&b, CONSISTENCY_MAX);
		memcpy(proof->origin, ct.origin, sizeof proof->origin);
		proof->old_size = ct.size;
		proof->new_size = latest.size;
		consistency_format(&b, proof);
		rc = buf_check(&b);
		if (rc == 0)
			*out = buf_steal(&b, out_len);
		else
			buf_free(&b);
	}
	custos_checkpoint_clear(&latest);
	free(proof);
	return rc;
}

/* ------------------------------------------------------------ cosignatures */

/* The cosignature line of witness w in the note, if one verifies. */
static const note_sig *verified_cosig(const note *nt, const note_vkey *w)
{
	for (size_t i = 0; i < nt->n_sigs; i++)
		if (note_sig_verify(nt, w, &nt->sigs[i], NULL) == 0)
			return &nt->sigs[i];
	return NULL;
}

int custos_cosignature_add(custos_vault *v, const custos_key *key, const uint8_t *p, size_t n,
			   const char *witness_vkey, uint64_t *seq)
{
	note *nt = malloc(sizeof *nt);
	checkpoint_text ct;
	note_vkey w;
	cp_scan s = {0};
	event ev = {0};
	int rc = nt ? require_owner(v, key) : custos_error_set(CUSTOS_ERROR, "out of memory");
	if (rc == 0 && (rc = note_vkey_parse(&w, witness_vkey, strlen(witness_vkey))) == 0 &&
	    w.type != NOTE_COSIGNATURE)
		rc = custos_error_set(CUSTOS_EINVALID,
				      "%s is not a witness (cosignature) key: its type is %u, not 4",
				      w.name, w.type);
	if (rc == 0)
		rc = checkpoint_open(nt, &ct, p, n, v->info.id, &v->info.owner);
	if (rc == 0) {
		s.by_size = true;
		s.size = ct.size;
		rc = scan_checkpoints(v, &s);
		if (rc == CUSTOS_ENOTFOUND || (rc == 0 && memcmp(s.cp.root, ct.root, 32) != 0))
			rc = custos_error_set(CUSTOS_EINTEGRITY,
					      "this vault issued no checkpoint of size %llu with that root",
					      (unsigned long long)ct.size);
	}
	const note_sig *line = rc == 0 ? verified_cosig(nt, &w) : NULL;
	if (rc == 0 && !line)
		rc = custos_error_set(CUSTOS_EINTEGRITY,
				      "the checkpoint carries no valid cosignature by %s", w.name);
	for (size_t i = 0; rc == 0 && i < s.n_cosigs; i++)
		if (s.cosigs[i].size == ct.size && memcmp(&s.cosigs[i].witness, &w, sizeof w) == 0)
			rc = custos_error_set(CUSTOS_EEXISTS,
					      "a cosignature by %s of this checkpoint is already recorded",
					      w.name);
	if (rc == 0)
		rc = vault_event_begin(v, key, &ev, "cosignature");
	if (rc == 0) {
		char summary[NOTE_NAME_MAX + 96];
		ev.tree_size = ct.size;
		memcpy(ev.root, ct.root, 32);
		ev.witness = note_vkey_format(&w);
		memcpy(ev.cosig, line->keyid, 4);
		memcpy(ev.cosig + 4, line->bytes, 72);
		snprintf(summary, sizeof summary, "cosignature: %s on tree size %llu", w.name,
			 (unsigned long long)ct.size);
		rc = ev.witness ? vault_commit_event(v, key, &ev, summary, NULL, NULL, NULL) : CUSTOS_ERROR;
		if (rc == 0 && seq)
			*seq = ev.seq;
	}
	event_clear(&ev);
	cp_scan_clear(&s);
	free(nt);
	return rc;
}
