/*
 * test_note.c — C2SP signed notes, checkpoints and cosignatures (FS §9).
 *
 *  - external vectors (tests/vectors/note): the Go sumdb/note example note and key, and a
 *    real CT checkpoint with its log's Ed25519 signature and a tlog-cosignature/v1 by a
 *    public witness, all verify; the verifier keys parse and re-format byte for byte;
 *  - format-spec vectors (written by make-note-vectors.py with pyca, not custos): custos
 *    rebuilds the checkpoint note and the cosigned note byte for byte from the vector
 *    keys, and verifies them;
 *  - every single-bit flip of the cosigned note fails the signature it touches;
 *  - malformed notes, keys and checkpoint texts are refused.
 */
#include "harness.h"

#include "keys.h"
#include "merkle.h"
#include "note.h"

#include <stdlib.h>

#define VECTOR_VAULT "00112233445566778899aabbccddeeff"
#define VECTOR_ORIGIN "custos.invalid/" VECTOR_VAULT
#define VECTOR_WITNESS "witness.example/custos-w1"
#define VECTOR_COSIGN_TIME 1795867700u

static custos_key *seed_key(uint8_t first)
{
	uint8_t seed[32];
	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)(first + i);
	custos_key *k = NULL;
	key_from_seed(&k, seed);
	return k;
}

static char *read_text(char *path, size_t *n)
{
	char *t = (char *)test_read(path, n);
	free(path);
	return t;
}

/* A verifier key file: one line. */
static void load_vkey(note_vkey *k, char *path)
{
	size_t n;
	char *t = read_text(path, &n);
	while (n && t[n - 1] == '\n')
		n--;
	CHECK_RC(note_vkey_parse(k, t, n), 0);
	char *again = note_vkey_format(k);
	CHECK(again && strlen(again) == n && memcmp(again, t, n) == 0);
	free(again);
	free(t);
}

static int verify_file(uint8_t *p, size_t n, const note_vkey *k, uint64_t *ts)
{
	note nt;
	int rc = note_parse(&nt, p, n);
	return rc < 0 ? rc : note_verify(&nt, k, ts);
}

static void external_vectors(void)
{
	note_vkey go, arche, remora;
	load_vkey(&go, test_vector_path("note/go-peterneumann.vkey"));
	load_vkey(&arche, test_vector_path("note/arche2025h1.vkey"));
	load_vkey(&remora, test_vector_path("note/remora.vkey"));
	CHECK(go.type == NOTE_ED25519 && remora.type == NOTE_COSIGNATURE);

	size_t n;
	uint8_t *p = (uint8_t *)read_text(test_vector_path("note/go-peterneumann.note"), &n);
	CHECK_RC(verify_file(p, n, &go, NULL), 0);
	CHECK_RC(verify_file(p, n, &arche, NULL), CUSTOS_ENOTFOUND);
	free(p);

	p = (uint8_t *)read_text(test_vector_path("note/arche2025h1.note"), &n);
	uint64_t ts = 0;
	CHECK_RC(verify_file(p, n, &arche, NULL), 0);
	CHECK_RC(verify_file(p, n, &remora, &ts), 0);
	CHECK(ts == 1779573024u);
	note nt;
	CHECK_RC(note_parse(&nt, p, n), 0);
	checkpoint_text cp;
	CHECK_RC(checkpoint_text_parse(&cp, nt.text, nt.text_len), 0);
	CHECK(strcmp(cp.origin, "arche2025h1.staging.ct.transparency.dev") == 0);
	CHECK(cp.size == 1432088532u);
	/* The log's ECDSA signature line is longer than ours and skipped; 5 kept. */
	CHECK(nt.n_sigs == 5);
	/* A cosigner key of the wrong type (same name and key, type 0x01) has another id. */
	note_vkey wrong;
	note_vkey_make(&wrong, remora.name, NOTE_ED25519, remora.pk);
	CHECK_RC(verify_file(p, n, &wrong, NULL), CUSTOS_ENOTFOUND);
	free(p);
}

static void spec_vectors(void)
{
	custos_key *log = seed_key(0xC0), *wit = seed_key(0xE0);
	note_vkey lk, wk, lk_file, wk_file;
	CHECK_RC(note_vkey_make(&lk, VECTOR_ORIGIN, NOTE_ED25519, custos_key_public(log)->pk), 0);
	CHECK_RC(note_vkey_make(&wk, VECTOR_WITNESS, NOTE_COSIGNATURE, custos_key_public(wit)->pk), 0);
	load_vkey(&lk_file, test_spec_path("vectors/checkpoint.vkey"));
	load_vkey(&wk_file, test_spec_path("vectors/witness.vkey"));
	CHECK(memcmp(&lk, &lk_file, sizeof lk) == 0 && memcmp(&wk, &wk_file, sizeof wk) == 0);

	/* The two-leaf log: item-record.txt, then event-ingest.txt. */
	size_t n0, n1;
	uint8_t *l0 = (uint8_t *)read_text(test_spec_path("vectors/item-record.txt"), &n0);
	uint8_t *l1 = (uint8_t *)read_text(test_spec_path("vectors/event-ingest.txt"), &n1);
	merkle_hash h0, h1;
	merkle_leaf_hash(h0, l0, n0);
	merkle_leaf_hash(h1, l1, n1);
	checkpoint_text cp = {.origin = VECTOR_ORIGIN, .size = 2};
	merkle_node_hash(cp.root, h0, h1);
	free(l0);
	free(l1);

	buf b, m;
	buf_init(&b, 4096);
	checkpoint_text_format(&b, &cp);
	size_t text_len = b.n;
	uint8_t sig[64];
	CHECK_RC(key_sign(sig, log, b.p, text_len), 0);
	buf_putc(&b, '\n');
	note_sig_format(&b, lk.name, lk.keyid, sig, 64);
	size_t n;
	uint8_t *want = (uint8_t *)read_text(test_spec_path("vectors/checkpoint.note"), &n);
	CHECK(b.n == n && memcmp(b.p, want, n) == 0);
	free(want);

	buf_init(&m, 4096);
	note_cosig_message(&m, b.p, text_len, VECTOR_COSIGN_TIME);
	uint8_t cosig[72];
	be64_store(cosig, VECTOR_COSIGN_TIME);
	CHECK_RC(key_sign(cosig + 8, wit, m.p, m.n), 0);
	note_sig_format(&b, wk.name, wk.keyid, cosig, 72);
	want = (uint8_t *)read_text(test_spec_path("vectors/checkpoint-cosigned.note"), &n);
	CHECK(b.n == n && memcmp(b.p, want, n) == 0);

	uint64_t ts = 0;
	CHECK_RC(verify_file(want, n, &lk, NULL), 0);
	CHECK_RC(verify_file(want, n, &wk, &ts), 0);
	CHECK(ts == VECTOR_COSIGN_TIME);
	note nt;
	checkpoint_text back;
	CHECK_RC(note_parse(&nt, want, n), 0);
	CHECK_RC(checkpoint_text_parse(&back, nt.text, nt.text_len), 0);
	CHECK(memcmp(&back, &cp, sizeof cp) == 0);

	/* Every bit flip: a flip in the text fails both signatures; in a signature line,
	 * that line's signature. Parsing may refuse the note outright. */
	size_t log_line = text_len + 1, wit_line = log_line;
	while (want[wit_line - 1] != '\n' || wit_line == log_line)
		wit_line++;
	int flips = 0, caught = 0;
	for (size_t i = 0; i < n; i++)
		for (int bit = 0; bit < 8; bit++) {
			want[i] ^= (uint8_t)(1u << bit);
			int rl = verify_file(want, n, &lk, NULL), rw = verify_file(want, n, &wk, NULL);
			bool ok = i < log_line ? (rl < 0 && rw < 0)
					       : i < wit_line ? rl < 0 : rw < 0;
			flips++;
			caught += ok;
			want[i] ^= (uint8_t)(1u << bit);
		}
	CHECK(caught == flips);
	free(want);
	buf_free(&b);
	buf_free(&m);
	custos_key_free(log);
	custos_key_free(wit);
}

static void bad_forms(void)
{
	note nt;
	checkpoint_text cp;
	note_vkey k;
	static const char *const bad_notes[] = {
		"",
		"text\n",                       /* no blank line */
		"text\n\n",                     /* no signature */
		"\ntext\n\n\xe2\x80\x94 a AAAAAA==\n", /* empty first line */
		"text\n\n- a AAAAAAAA\n",       /* not an em dash */
		"text\n\n\xe2\x80\x94 a AAAAAAAA",     /* no final newline */
		"text\n\n\xe2\x80\x94 a+b AAAAAAAA\n", /* '+' in a name */
		"text\n\n\xe2\x80\x94 a !!!!\n",       /* bad base64 */
		"text\n\n\xe2\x80\x94 a AAAA\n",       /* shorter than a key id and a byte */
	};
	for (size_t i = 0; i < sizeof bad_notes / sizeof *bad_notes; i++)
		CHECK_RC(note_parse(&nt, (const uint8_t *)bad_notes[i], strlen(bad_notes[i])),
			 CUSTOS_EINTEGRITY);
	buf b;
	buf_init(&b, NOTE_MAX + 4096);
	buf_puts(&b, "text\n\n");
	for (int i = 0; i <= NOTE_MAX_SIGS; i++)
		buf_puts(&b, "\xe2\x80\x94 a AAAAAAAA\n");
	CHECK_RC(note_parse(&nt, b.p, b.n), CUSTOS_EINTEGRITY);
	b.n = 0;
	for (size_t i = 0; i < NOTE_MAX; i++)
		buf_putc(&b, 'x');
	buf_puts(&b, "\n\n\xe2\x80\x94 a AAAAAAAA\n");
	CHECK_RC(note_parse(&nt, b.p, b.n), CUSTOS_EINTEGRITY);
	buf_free(&b);

	static const char *const bad_texts[] = {
		"o\n1\n",                                            /* no root */
		"o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\next\n", /* extension line */
		"o\n01\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",      /* leading zero */
		"o\n-1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"o\n18446744073709551616\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"o\n1\nAAAA\n",                                      /* short root */
		"o o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",     /* space in origin */
		"\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
	};
	for (size_t i = 0; i < sizeof bad_texts / sizeof *bad_texts; i++)
		CHECK_RC(checkpoint_text_parse(&cp, (const uint8_t *)bad_texts[i], strlen(bad_texts[i])),
			 CUSTOS_EINTEGRITY);
	const char *good = "o\n18446744073709551615\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
	CHECK_RC(checkpoint_text_parse(&cp, (const uint8_t *)good, strlen(good)), 0);
	CHECK(cp.size == UINT64_MAX);

	static const char *const bad_keys[] = {
		"PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", /* key id */
		"PeterNeumann+c74f20a3+AhpY2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", /* type 2 */
		"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",   /* short */
		"+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"PeterNeumann",
	};
	for (size_t i = 0; i < sizeof bad_keys / sizeof *bad_keys; i++)
		CHECK_RC(note_vkey_parse(&k, bad_keys[i], strlen(bad_keys[i])), CUSTOS_EINVALID);
}

int main(void)
{
	test_init();
	external_vectors();
	spec_vectors();
	bad_forms();
	return test_finish("note");
}
