/* fuzz_proof.c — exhibit proofs (FS §9.5) from a stranger: verification never crashes.
 * The trusted key is the one that signed the seed proofs (tests/fuzz/corpus/proof/KEY). */
#include "custos.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static custos_pubkey trust;
	static int ready;
	if (!ready) {
		static const char key[] = "custos-pubkey 1 128ed69c504b9700 "
					  "0dY5a5LjfzWisayAQOCG0WClxb0dHF+B6OdDnAPvEqA=\n";
		custos_global_init();
		if (custos_pubkey_parse(&trust, key, strlen(key)) < 0)
			abort();
		ready = 1;
	}
	const char *wits[] = {"witness.example/w1+3c4d674d+BBY3hSL22kb9LX1zmsopEfK6bxlxYrDARvhZisTBBfho"};
	custos_proof_opts o = {.trust = &trust, .witnesses = wits, .n_witnesses = 1, .min_witnesses = 1};
	custos_proof_result r;
	int rc = custos_proof_verify(data, size, &o, &r);
	if (rc == 0 && r.problems)
		abort();
	custos_proof_result_clear(&r);
	return 0;
}
