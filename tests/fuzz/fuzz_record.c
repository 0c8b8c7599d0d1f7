/* fuzz_record.c — item records: parse never crashes, and whatever parses re-encodes to
 * exactly its input (one canonical form). */
#include "record.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	custos_record r;
	if (record_parse(&r, data, size) == 0) {
		buf b;
		buf_init(&b, 0);
		record_encode(&b, &r);
		if (b.n != size || memcmp(b.p, data, size) != 0)
			abort();
		buf_free(&b);
		record_clear(&r);
	}
	return 0;
}
