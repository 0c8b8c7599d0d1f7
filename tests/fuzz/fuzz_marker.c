/* fuzz_marker.c — the VAULT marker, and the escaping and time parsers it uses. */
#include "vault.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	custos_vault_info info;
	vault_marker_parse(&info, data, size);
	free(info.name);
	custos_bytes b = {0};
	if (esc_decode(&b, (const char *)data, size) == 0)
		free(b.p);
	int64_t t;
	time_parse(&t, (const char *)data, size);
	char *p = custos_printable(data, size), *j = custos_json_escape(data, size);
	free(p);
	free(j);
	return 0;
}
