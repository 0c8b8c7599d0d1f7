/*
 * proof.c — exhibit proofs (FS §9.5): an item record, its signature, the inclusion proof of
 * its leaf and the checkpoint (with every cosignature held) it is proven against, in one
 * small text file that needs no vault to check.
 *
 *   custos-proof 1
 *   item <hex32>
 *   leaf <u64>
 *   record <base64(record bytes)>
 *   record-signature <base64(64-byte Ed25519 signature)>
 *   inclusion <base64(hash)>        0..63 lines, from the leaf up
 *   (blank line)
 *   <the checkpoint's signed note, to the end of the file>
 */
#include "checkpoint.h"

#include "digest.h"
#include "keys.h"
#include "merkle.h"
#include "note.h"
#include "record.h"
#include "vault.h"

#include <stdio.h>
#include <stdlib.h>

#define PROOF_MAX (NOTE_MAX + 2 * RECORD_MAX + 16384)

/* The leaf of an item's record: its event's first leaf plus its position. */
static int item_leaf(custos_vault *v, const custos_item *item, uint8_t commit[20], uint64_t *leaf)
{
	index_event ie;
	int rc = index_event_get(v->index, item->rec.seq, &ie);
	if (rc == 0) {
		memcpy(commit, ie.commit, 20);
		*leaf = ie.first_leaf + item->rec.n;
	}
	return rc;
}

int proof_make(custos_vault *v, const custos_item *item, const custos_checkpoint *cp, buf *b)
{
	uint8_t commit[20], keyid[8], sig[64], *rec = NULL, *sigf = NULL;
	size_t rn = 0, sn = 0, k = 0;
	uint64_t leaf = 0;
	merkle_hash path[MERKLE_MAX_PROOF], want, have;
	merkle_log *l = NULL;
	int rc = item_leaf(v, item, commit, &leaf);
	if (rc == 0 && leaf >= cp->size)
		rc = custos_error_set(CUSTOS_ENOTFOUND,
				      "item %s came in after the latest checkpoint (tree size %llu); "
				      "run 'custos checkpoint' first",
				      item->id_hex, (unsigned long long)cp->size);
	if (rc == 0)
		rc = custody_read_item(v->log, commit, item->id_hex, &rec, &rn, &sigf, &sn);
	if (rc == 0)
		rc = sigfile_parse(keyid, sig, sigf, sn);
	if (rc == 0 && (rc = index_merkle_open(v->index, &l)) == 0)
		rc = merkle_log_leaf(l, leaf, have);
	merkle_leaf_hash(want, rec, rn);
	if (rc == 0 && memcmp(want, have, 32) != 0)
		rc = custos_error_set(CUSTOS_EINTEGRITY,
				      "index/merkle.dat disagrees with the log at leaf %llu; run "
				      "'custos reindex'",
				      (unsigned long long)leaf);
	if (rc == 0)
		rc = merkle_log_inclusion(l, leaf, cp->size, path, &k);
	merkle_log_close(l);
	/* The checkpoint's root comes from the log; the path from the derived tree. A damaged
	 * index must not produce a proof that fails elsewhere. */
	merkle_bytes pb[MERKLE_MAX_PROOF];
	for (size_t i = 0; rc == 0 && i < k; i++)
		pb[i] = (merkle_bytes){path[i], MERKLE_HASH};
	if (rc == 0 && merkle_verify_inclusion(leaf, cp->size, (merkle_bytes){want, MERKLE_HASH}, pb,
					       k, (merkle_bytes){cp->root, MERKLE_HASH}) < 0)
		rc = custos_error_set(CUSTOS_EINTEGRITY,
				      "index/merkle.dat does not prove leaf %llu against the checkpoint; "
				      "run 'custos fsck', then 'custos reindex'",
				      (unsigned long long)leaf);
	if (rc == 0) {
		buf_printf(b, "custos-proof 1\nitem %s\nleaf %llu\n", item->id_hex,
			   (unsigned long long)leaf);
		buf_put_b64_line(b, "record", rec, rn);
		buf_put_b64_line(b, "record-signature", sig, 64);
		for (size_t i = 0; i < k; i++)
			buf_put_b64_line(b, "inclusion", path[i], MERKLE_HASH);
		buf_putc(b, '\n');
		buf_put(b, cp->note, cp->note_len);
		rc = buf_check(b);
	}
	free(rec);
	free(sigf);
	return rc;
}

int custos_prove(custos_vault *v, const custos_item *item, char **out, size_t *out_len)
{
	custos_checkpoint cp = {0};
	buf b;
	*out = NULL;
	buf_init(&b, PROOF_MAX);
	int rc = custos_checkpoint_latest(v, &cp);
	if (rc == 0)
		rc = proof_make(v, item, &cp, &b);
	if (rc == 0) {
		buf_putc(&b, '\0');
		*out = buf_steal(&b, out_len);
		(*out_len)--;
	} else {
		buf_free(&b);
	}
	custos_checkpoint_clear(&cp);
	return rc;
}

/* ------------------------------------------------------------ verification */

typedef struct parsed_proof {
	char item[33];
	uint64_t leaf;
	uint8_t *rec;
	size_t rn;
	uint8_t sig[64];
	merkle_hash path[MERKLE_MAX_PROOF];
	size_t n_path;
	const uint8_t *note;
	size_t note_len;
} parsed_proof;

typedef struct line_reader {
	const char *p, *end;
} line_reader;

/* The value of the next line if its label is `label`; NULL otherwise (nothing consumed). */
static const char *take(line_reader *r, const char *label, size_t *vl)
{
	size_t ll = strlen(label);
	const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
	if (!nl || (size_t)(nl - r->p) < ll + 1 || memcmp(r->p, label, ll) != 0 || r->p[ll] != ' ')
		return NULL;
	const char *v = r->p + ll + 1;
	*vl = (size_t)(nl - v);
	r->p = nl + 1;
	return v;
}

static int b64_exact(uint8_t *out, size_t want, const char *v, size_t vl)
{
	size_t got = 0;
	return v && b64_decode(out, want, &got, v, vl) == 0 && got == want ? 0 : -1;
}

static int parse_proof(parsed_proof *pp, const uint8_t *p, size_t n)
{
	line_reader r = {(const char *)p, (const char *)p + n};
	size_t vl = 0;
	const char *v = take(&r, "custos-proof", &vl);
	if (!v || vl != 1 || v[0] != '1')
		return custos_error_set(CUSTOS_EINTEGRITY, "not a custos-proof 1 file");
	v = take(&r, "item", &vl);
	if (!v || vl != 32 || !is_lower_hex(v, 32))
		return custos_error_set(CUSTOS_EINTEGRITY, "bad 'item' line");
	memcpy(pp->item, v, 32);
	v = take(&r, "leaf", &vl);
	if (!v || u64_parse(&pp->leaf, v, vl) < 0)
		return custos_error_set(CUSTOS_EINTEGRITY, "bad 'leaf' line");
	v = take(&r, "record", &vl);
	if (!v || vl > 4 * (RECORD_MAX / 3 + 1) || !(pp->rec = malloc(vl / 4 * 3 + 3)) ||
	    b64_decode(pp->rec, vl / 4 * 3 + 3, &pp->rn, v, vl) < 0)
		return custos_error_set(CUSTOS_EINTEGRITY, "bad 'record' line");
	v = take(&r, "record-signature", &vl);
	if (b64_exact(pp->sig, 64, v, vl) < 0)
		return custos_error_set(CUSTOS_EINTEGRITY, "bad 'record-signature' line");
	while ((v = take(&r, "inclusion", &vl))) {
		if (pp->n_path == MERKLE_MAX_PROOF || b64_exact(pp->path[pp->n_path++], 32, v, vl) < 0)
			return custos_error_set(CUSTOS_EINTEGRITY, "bad 'inclusion' line");
	}
	if (r.p >= r.end || r.p[0] != '\n')
		return custos_error_set(CUSTOS_EINTEGRITY,
					"unexpected line where the blank line before the checkpoint belongs");
	pp->note = (const uint8_t *)r.p + 1;
	pp->note_len = (size_t)(r.end - r.p - 1);
	return 0;
}

typedef struct pv {
	const custos_proof_opts *o;
	custos_proof_result *out;
} pv;


#define report(s, kind, where, ...)                                                      \
	problem_report((s)->o->on_problem, (s)->o->ud, &(s)->out->problems, kind, where,       \
		       __VA_ARGS__)

static void check_record(pv *s, const parsed_proof *pp)
{
	custos_record *r = &s->out->rec;
	uint8_t id[16];
	char hex[33];
	if (record_parse(r, pp->rec, pp->rn) < 0) {
		report(s, "bad-record", "record", "%s", custos_error_last());
		return;
	}
	record_id(id, pp->rec, pp->rn);
	custos_hex(hex, id, 16);
	if (strcmp(hex, pp->item) != 0)
		report(s, "bad-record", "record", "the record's id is %s, the proof names %s", hex,
		       pp->item);
	if (memcmp(r->custodian, s->o->trust->id, 8) != 0)
		report(s, "wrong-key", "record", "the record names another custodian than the trusted key");
	if (pubkey_verify(s->o->trust, pp->sig, pp->rec, pp->rn) < 0)
		report(s, "bad-signature", "record",
		       "the record signature does not verify with the trusted key");
}

static void check_exhibit(pv *s)
{
	uint8_t sha[32];
	uint64_t size;
	s->out->exhibit_ok = -1;
	if (!s->o->exhibit)
		return;
	if (sha256_file(s->o->exhibit, sha, &size) < 0) {
		report(s, "exhibit-unreadable", s->o->exhibit, "%s", custos_error_last());
		return;
	}
	s->out->exhibit_ok = memcmp(sha, s->out->rec.sha256, 32) == 0 && size == s->out->rec.size;
	if (!s->out->exhibit_ok)
		report(s, "exhibit-mismatch", s->o->exhibit,
		       "the file's SHA-256 or size differs from the record's");
}

size_t proof_check_witnesses(const note *nt, const char *const *witnesses, size_t n, size_t min,
			     const char *where, problem_fn on_problem, void *ud, uint64_t *problems)
{
	size_t missing = 0, ok = 0;
	for (size_t i = 0; i < n; i++) {
		note_vkey w;
		const char *k = witnesses[i];
		if (note_vkey_parse(&w, k, strlen(k)) < 0) {
			problem_report(on_problem, ud, problems, "bad-witness-key", k, "%s",
				       custos_error_last());
			continue;
		}
		int rc = note_verify(nt, &w, NULL);
		if (rc == 0)
			ok++;
		else if (rc == CUSTOS_ENOTFOUND)
			missing++;
		else
			problem_report(on_problem, ud, problems, "bad-cosignature", w.name,
				       "the cosignature by this witness does not verify");
	}
	if (ok < min)
		problem_report(on_problem, ud, problems, "missing-cosignature", where,
			       "%zu valid cosignature(s) by the given witnesses, %zu required (%zu absent)",
			       ok, min, missing);
	return ok;
}

static void check_checkpoint(pv *s, const parsed_proof *pp)
{
	note *nt = malloc(sizeof *nt);
	checkpoint_text ct;
	if (!nt || checkpoint_open(nt, &ct, pp->note, pp->note_len, s->out->rec.vault,
				   s->o->trust) < 0) {
		report(s, "bad-checkpoint", "checkpoint", "%s", custos_error_last());
		free(nt);
		return;
	}
	snprintf(s->out->origin, sizeof s->out->origin, "%s", ct.origin);
	s->out->tree_size = ct.size;
	merkle_hash leaf;
	merkle_leaf_hash(leaf, pp->rec, pp->rn);
	merkle_bytes path[MERKLE_MAX_PROOF];
	for (size_t i = 0; i < pp->n_path; i++)
		path[i] = (merkle_bytes){pp->path[i], MERKLE_HASH};
	if (merkle_verify_inclusion(pp->leaf, ct.size, (merkle_bytes){leaf, MERKLE_HASH}, path,
				    pp->n_path, (merkle_bytes){ct.root, MERKLE_HASH}) < 0)
		report(s, "bad-inclusion", "inclusion",
		       "the record is not leaf %llu of the checkpoint's tree: %s",
		       (unsigned long long)pp->leaf, custos_error_last());
	s->out->witnesses_ok = proof_check_witnesses(nt, s->o->witnesses, s->o->n_witnesses,
						     s->o->min_witnesses, "checkpoint",
						     s->o->on_problem, s->o->ud, &s->out->problems);
	free(nt);
}

int custos_proof_verify(const uint8_t *p, size_t n, const custos_proof_opts *o,
			custos_proof_result *out)
{
	parsed_proof pp = {0};
	pv s = {o, out};
	memset(out, 0, sizeof *out);
	out->exhibit_ok = -1;
	if (!o->trust)
		return custos_error_set(CUSTOS_EINVALID, "a trusted custodian key is required");
	if (n > PROOF_MAX || parse_proof(&pp, p, n) < 0) {
		report(&s, "malformed-proof", "proof", "%s",
		       n > PROOF_MAX ? "the file is too large to be a proof" : custos_error_last());
	} else {
		memcpy(out->item, pp.item, 33);
		out->leaf = pp.leaf;
		check_record(&s, &pp);
		if (out->rec.vault[0]) {
			check_exhibit(&s);
			check_checkpoint(&s, &pp);
		}
	}
	free(pp.rec);
	custos_error_clear();
	return out->problems ? custos_error_set(CUSTOS_EINTEGRITY, "%llu problem(s) found",
						(unsigned long long)out->problems)
			     : 0;
}

void custos_proof_result_clear(custos_proof_result *r)
{
	record_clear(&r->rec);
	memset(r, 0, sizeof *r);
}
