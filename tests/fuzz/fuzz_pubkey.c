/* fuzz_pubkey.c — public keys in every accepted form, and key file headers. */
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	custos_pubkey pub;
	custos_pubkey_parse(&pub, (const char *)data, size);
	return 0;
}
