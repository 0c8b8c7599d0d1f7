/* fuzz_package.c — exhibit packages (FS §10) from a stranger: verify-package reads a tar
 * holding a bag; whatever the bytes, it reports problems and never crashes. The trusted key
 * is the one that signed the seed packages (tests/fuzz/corpus/package). */
#include "package.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static custos_pubkey trust;
	static int ready;
	if (!ready) {
		static const char key[] = "custos-pubkey 1 d80844ced2cdfcbe "
					  "gpNchf5oyferQK9xK/Jet0/bxkxHcNJVtGGLqO4MA6k=\n";
		custos_global_init();
		if (custos_pubkey_parse(&trust, key, strlen(key)) < 0)
			abort();
		ready = 1;
	}
	custos_package_opts o = {.trust = &trust};
	custos_package_result r;
	int rc = package_verify_mem(data, size, &o, &r);
	/* A clean result must mean no problem was counted, and the reverse. */
	if ((rc == 0) != (r.problems == 0))
		abort();
	return 0;
}
