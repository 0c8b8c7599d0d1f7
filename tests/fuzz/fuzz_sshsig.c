/* fuzz_sshsig.c — SSH signature armor and blob parsing (commit signatures are read from
 * custody.git, which an attacker may have written). */
#include "sshsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	custos_pubkey signer;
	sshsig_verify(&signer, (const char *)data, size, "git", (const uint8_t *)"msg", 3);
	return 0;
}
