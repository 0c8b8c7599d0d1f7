/*
 * test_proof.c — exhibit proofs (FS §9.5) through the public API: a vault with a
 * checkpoint cosigned by a witness, a proof of one item, and
 *  - the proof verifies with no vault, and with the exhibit;
 *  - every single-bit flip anywhere in the proof makes verification fail (with the
 *    witness required, every byte of the file is covered by some check);
 *  - a proof checked with another trusted key, or without the required witness, fails;
 *  - the worked example of the spec (format-spec/vectors/proof.txt, written by an
 *    independent Python implementation) verifies, with its exhibit.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static char *tmp(const char *name)
{
	char *p = malloc(4096);
	snprintf(p, 4096, "%s/%s", test_tmpdir(), name);
	return p;
}

static char *spec_text(const char *rel)
{
	size_t n;
	char *path = test_spec_path(rel);
	char *t = (char *)test_read(path, &n);
	free(path);
	t[strcspn(t, "\n")] = '\0';
	return t;
}

static void spec_vector(void)
{
	size_t n;
	char *path = test_spec_path("vectors/proof.txt"), *pk = spec_text("vectors/vector-key.pub"),
	     *wk = spec_text("vectors/witness.vkey"), *exhibit = tmp("vector.pdf");
	uint8_t *proof = test_read(path, &n);
	custos_pubkey trust;
	CHECK_RC(custos_pubkey_parse(&trust, pk, strlen(pk)), 0);
	write_file(exhibit, "%PDF-1.4\n");
	const char *wits[] = {wk};
	custos_proof_opts o = {.trust = &trust, .witnesses = wits, .n_witnesses = 1,
			       .min_witnesses = 1, .exhibit = exhibit};
	custos_proof_result r;
	CHECK_RC(custos_proof_verify(proof, n, &o, &r), 0);
	CHECK(r.leaf == 0 && r.tree_size == 2 && r.witnesses_ok == 1 && r.exhibit_ok == 1);
	CHECK(strcmp(r.item, "9489340d5ab8fe5e0f1a779585d2e788") == 0);
	custos_proof_result_clear(&r);
	free(proof);
	free(path);
	free(pk);
	free(wk);
	free(exhibit);
}

int main(void)
{
	test_init();
	custos_global_init();
	spec_vector();
	custos_key *key = NULL, *wkey = NULL, *other = NULL;
	custos_vault *v = NULL;
	char *vault = tmp("vault"), *wdir = tmp("witness"), *exhibit = tmp("exhibit.txt"),
	     *other_file = tmp("other.txt");
	write_file(exhibit, "the exhibit\n");
	write_file(other_file, "not the exhibit\n");
	CHECK_RC(custos_key_generate(&key), 0);
	CHECK_RC(custos_key_generate(&wkey), 0);
	CHECK_RC(custos_key_generate(&other), 0);
	CHECK_RC(custos_vault_init(&v, vault, "proof test", key), 0);
	const char *paths[] = {exhibit, other_file};
	custos_ingest_opts io = {0};
	custos_ingest_summary sum;
	CHECK_RC(custos_ingest(v, key, paths, 2, &io, &sum), 0);

	custos_checkpoint cp;
	CHECK_RC(custos_checkpoint_issue(v, key, &cp), 0);
	char *log_vkey = custos_note_vkey(custos_vault_get_info(v)->id, custos_key_public(key));
	char *w_vkey = custos_witness_vkey("witness.example/t", custos_key_public(wkey));
	CHECK_RC(custos_witness_init(wdir, "witness.example/t"), 0);
	CHECK_RC(custos_witness_add_log(wdir, log_vkey), 0);
	char *cosigned = NULL;
	size_t cn = 0;
	const char *reason = NULL;
	CHECK_RC(custos_witness_cosign(wdir, wkey, (uint8_t *)cp.note, cp.note_len, NULL, 0,
				       &cosigned, &cn, &reason),
		 0);
	CHECK_RC(custos_cosignature_add(v, key, (uint8_t *)cosigned, cn, w_vkey, NULL), 0);

	custos_item *item = NULL;
	/* The exhibit's item, by the SHA-256 of its bytes. */
	custos_verify_result *vr = NULL;
	CHECK_RC(custos_verify_file(&vr, v, exhibit), 0);
	char sha[65];
	custos_hex(sha, vr->sha256, 32);
	custos_verify_result_free(vr);
	CHECK_RC(custos_item_find(&item, v, sha, CUSTOS_FIND_ANY_RECEIPT), 0);
	char *proof = NULL;
	size_t pn = 0;
	CHECK_RC(custos_prove(v, item, &proof, &pn), 0);

	const char *wits[] = {w_vkey};
	custos_proof_opts o = {.trust = custos_key_public(key), .witnesses = wits, .n_witnesses = 1,
			       .min_witnesses = 1, .exhibit = exhibit};
	custos_proof_result r;
	CHECK_RC(custos_proof_verify((uint8_t *)proof, pn, &o, &r), 0);
	CHECK(r.exhibit_ok == 1 && r.witnesses_ok == 1 && r.tree_size == cp.size);
	CHECK(strcmp(r.item, item->id_hex) == 0);
	custos_proof_result_clear(&r);

	o.exhibit = other_file;
	CHECK_RC(custos_proof_verify((uint8_t *)proof, pn, &o, &r), CUSTOS_EINTEGRITY);
	CHECK(r.exhibit_ok == 0);
	custos_proof_result_clear(&r);
	o.exhibit = NULL;
	o.trust = custos_key_public(other);
	CHECK_RC(custos_proof_verify((uint8_t *)proof, pn, &o, &r), CUSTOS_EINTEGRITY);
	custos_proof_result_clear(&r);
	o.trust = custos_key_public(key);

	/* Every bit of the file. */
	size_t flips = 0, caught = 0;
	for (size_t i = 0; i < pn; i++)
		for (int bit = 0; bit < 8; bit++) {
			proof[i] ^= (char)(1 << bit);
			int rc = custos_proof_verify((uint8_t *)proof, pn, &o, &r);
			caught += rc == CUSTOS_EINTEGRITY && r.problems > 0;
			flips++;
			custos_proof_result_clear(&r);
			proof[i] ^= (char)(1 << bit);
		}
	fprintf(stderr, "proof: %zu bytes, %zu of %zu bit flips rejected\n", pn, caught, flips);
	CHECK(caught == flips);
	/* Truncated at every line end. */
	size_t cuts = 0, cut_caught = 0;
	for (size_t i = 0; i < pn; i++)
		if (proof[i] == '\n') {
			cuts++;
			cut_caught += custos_proof_verify((uint8_t *)proof, i + 1 < pn ? i + 1 : i, &o,
							  &r) == CUSTOS_EINTEGRITY;
			custos_proof_result_clear(&r);
		}
	CHECK(cut_caught == cuts);

	free(proof);
	free(cosigned);
	free(log_vkey);
	free(w_vkey);
	custos_item_free(item);
	custos_checkpoint_clear(&cp);
	custos_vault_close(v);
	custos_key_free(key);
	custos_key_free(wkey);
	custos_key_free(other);
	free(vault);
	free(wdir);
	free(exhibit);
	free(other_file);
	return test_finish("proof");
}
