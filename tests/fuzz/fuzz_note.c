/* fuzz_note.c — signed notes, checkpoint texts, verifier keys and consistency proof files
 * (FS §9): parsing never crashes, and what parses re-formats to the same bytes. */
#include "note.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_or_abort(const buf *b, const uint8_t *p, size_t n)
{
	if (b->n != n || memcmp(b->p, p, n) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	note *nt = malloc(sizeof *nt);
	checkpoint_text ct;
	buf b;
	buf_init(&b, 1 << 20);
	if (nt && note_parse(nt, data, size) == 0) {
		if (nt->text_len > size || nt->n_sigs > NOTE_MAX_SIGS)
			abort();
		note_vkey k;
		if (nt->n_sigs && note_vkey_make(&k, nt->sigs[0].name, NOTE_COSIGNATURE,
						 nt->sigs[0].bytes) == 0)
			(void)note_verify(nt, &k, NULL);
		if (checkpoint_text_parse(&ct, nt->text, nt->text_len) == 0) {
			checkpoint_text_format(&b, &ct);
			same_or_abort(&b, nt->text, nt->text_len);
		}
	}
	b.n = 0;
	if (checkpoint_text_parse(&ct, data, size) == 0) {
		checkpoint_text_format(&b, &ct);
		same_or_abort(&b, data, size);
	}
	note_vkey k;
	if (note_vkey_parse(&k, (const char *)data, size) == 0) {
		char *s = note_vkey_format(&k);
		if (!s || strlen(s) != size || memcmp(s, data, size) != 0)
			abort();
		free(s);
	}
	consistency *c = malloc(sizeof *c);
	b.n = 0;
	if (c && consistency_parse(c, data, size) == 0) {
		consistency_format(&b, c);
		same_or_abort(&b, data, size);
	}
	free(c);
	free(nt);
	buf_free(&b);
	return 0;
}
