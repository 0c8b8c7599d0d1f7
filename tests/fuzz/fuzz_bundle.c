/* fuzz_bundle.c — the parsers an import runs on a stranger's bundle before anything else
 * checks it (FS §11): the BUNDLE header, the split of a raw commit into its SSH signature
 * and signed data, and a replica's REPLICA file. The first byte picks the parser. */
#include "bundle.h"
#include "custody.h"
#include "replica.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	switch (data[0] % 3) {
	case 0: {
		buf sig, signed_data;
		bool found;
		buf_init(&sig, 1 << 20);
		buf_init(&signed_data, 1 << 20);
		if (commit_split_signature(p, n, &sig, &signed_data, &found) == 0 &&
		    (signed_data.n > n || sig.n > n))
			abort(); /* nothing is made up: both parts come from the input */
		buf_free(&sig);
		buf_free(&signed_data);
		break;
	}
	case 1: {
		bheader h;
		if (bundle_header_parse(&h, p, n) == 0 && h.to < h.from)
			abort();
		break;
	}
	default: {
		replica_info r;
		replica_parse(&r, p, n);
	}
	}
	return 0;
}
