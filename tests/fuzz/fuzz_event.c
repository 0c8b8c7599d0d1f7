/* fuzz_event.c — custody events: parse never crashes; what parses is canonical. */
#include "record.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	event e;
	if (event_parse(&e, data, size) == 0) {
		buf b;
		buf_init(&b, 0);
		event_encode(&b, &e);
		if (b.n != size || memcmp(b.p, data, size) != 0)
			abort();
		buf_free(&b);
		event_clear(&e);
	}
	uint8_t id[8], sig[64];
	sigfile_parse(id, sig, data, size);
	return 0;
}
