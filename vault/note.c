/*
 * note.c — see note.h. Everything parsed here may come from outside (a checkpoint from
 * another machine, a proof file): sizes are bounded, and every form is strict.
 */
#include "note.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#define EM_DASH "\xe2\x80\x94"

bool note_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > NOTE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (name[i] <= 0x20 || name[i] >= 0x7f || name[i] == '+')
			return false;
	return true;
}

/* Copy a name given as bytes, if they make a valid name (no NUL can hide in it). */
static bool name_copy(char out[NOTE_NAME_MAX + 1], const void *p, size_t n)
{
	const uint8_t *b = p;
	if (n == 0 || n > NOTE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (b[i] <= 0x20 || b[i] >= 0x7f || b[i] == '+')
			return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

void note_keyid(uint8_t out[4], const char *name, uint8_t type, const uint8_t pk[32])
{
	uint8_t h[32];
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)name, strlen(name));
	crypto_hash_sha256_update(&st, (const uint8_t *)"\n", 1);
	crypto_hash_sha256_update(&st, &type, 1);
	crypto_hash_sha256_update(&st, pk, 32);
	crypto_hash_sha256_final(&st, h);
	memcpy(out, h, 4);
}

int note_vkey_make(note_vkey *out, const char *name, uint8_t type, const uint8_t pk[32])
{
	if (!note_name_ok(name))
		return custos_error_set(CUSTOS_EINVALID, "'%s' cannot name a note key", name);
	memset(out, 0, sizeof *out);
	memcpy(out->name, name, strlen(name));
	out->type = type;
	memcpy(out->pk, pk, 32);
	note_keyid(out->keyid, name, type, pk);
	return 0;
}

char *note_vkey_format(const note_vkey *k)
{
	uint8_t blob[33];
	blob[0] = k->type;
	memcpy(blob + 1, k->pk, 32);
	char *b64 = b64_encode(blob, sizeof blob), hex[9];
	if (!b64)
		return NULL;
	custos_hex(hex, k->keyid, 4);
	buf b;
	buf_init(&b, 512);
	buf_printf(&b, "%s+%s+%s", k->name, hex, b64);
	free(b64);
	return buf_check(&b) == 0 ? buf_steal(&b, NULL) : (buf_free(&b), NULL);
}

int note_vkey_parse(note_vkey *out, const char *s, size_t n)
{
	const char *p1 = memchr(s, '+', n);
	const char *p2 = p1 ? memchr(p1 + 1, '+', n - (size_t)(p1 + 1 - s)) : NULL;
	char name[NOTE_NAME_MAX + 1];
	uint8_t keyid[4], blob[33];
	size_t bl = 0;
	if (!p1 || !p2 || p2 - p1 != 9 || !name_copy(name, s, (size_t)(p1 - s)))
		return custos_error_set(CUSTOS_EINVALID, "not a note verifier key (name+keyid+key)");
	if (hex_decode(keyid, 4, p1 + 1, 8) < 0 ||
	    b64_decode(blob, sizeof blob, &bl, p2 + 1, n - (size_t)(p2 + 1 - s)) < 0 || bl != 33 ||
	    (blob[0] != NOTE_ED25519 && blob[0] != NOTE_COSIGNATURE))
		return custos_error_set(CUSTOS_EINVALID,
					"not an Ed25519 note verifier key (name+keyid+key)");
	int rc = note_vkey_make(out, name, blob[0], blob + 1);
	if (rc == 0 && memcmp(out->keyid, keyid, 4) != 0)
		rc = custos_error_set(CUSTOS_EINVALID, "verifier key %s: the key id does not match",
				      name);
	return rc;
}

/* ------------------------------------------------------------ notes */

static int parse_sig_line(note_sig *out, bool *kept, const uint8_t *p, size_t n)
{
	*kept = false;
	if (n < 4 || memcmp(p, EM_DASH " ", 4) != 0)
		return custos_error_set(CUSTOS_EINTEGRITY, "a note signature line must start with '— '");
	p += 4;
	n -= 4;
	const uint8_t *sp = memchr(p, ' ', n);
	if (!sp || sp == p || (size_t)(sp - p) > NOTE_NAME_MAX)
		return custos_error_set(CUSTOS_EINTEGRITY, "a note signature line has no key name");
	size_t nl = (size_t)(sp - p);
	if (!name_copy(out->name, p, nl))
		return custos_error_set(CUSTOS_EINTEGRITY, "bad key name in a note signature line");
	uint8_t raw[4 + 76];
	size_t rl = 0;
	const char *b64 = (const char *)sp + 1;
	size_t b64n = n - nl - 1;
	if (b64n > 4 * ((sizeof raw + 2) / 3)) /* a longer signature than ours: not ours */
		return 0;
	if (b64_decode(raw, sizeof raw, &rl, b64, b64n) < 0 || rl < 5)
		return custos_error_set(CUSTOS_EINTEGRITY, "bad base64 in a note signature line");
	memcpy(out->keyid, raw, 4);
	memcpy(out->bytes, raw + 4, rl - 4);
	out->n = rl - 4;
	*kept = true;
	return 0;
}

int note_parse(note *out, const uint8_t *p, size_t n)
{
	memset(out, 0, sizeof *out);
	if (n > NOTE_MAX)
		return custos_error_set(CUSTOS_EINTEGRITY, "the note is larger than %d bytes", NOTE_MAX);
	/* The text has no empty line, so its end is the first blank line. */
	const uint8_t *sep = NULL;
	for (size_t i = 0; i + 1 < n; i++)
		if (p[i] == '\n' && p[i + 1] == '\n') {
			sep = p + i;
			break;
		}
	if (!sep || sep == p || p[0] == '\n')
		return custos_error_set(CUSTOS_EINTEGRITY, "not a signed note (no text, or no blank line)");
	out->text = p;
	out->text_len = (size_t)(sep - p) + 1;
	const uint8_t *q = sep + 2, *end = p + n;
	if (q == end || end[-1] != '\n')
		return custos_error_set(CUSTOS_EINTEGRITY, "the note has no signature lines");
	size_t lines = 0;
	while (q < end) {
		const uint8_t *nl = memchr(q, '\n', (size_t)(end - q));
		if (++lines > NOTE_MAX_SIGS)
			return custos_error_set(CUSTOS_EINTEGRITY, "the note has more than %d signatures",
						NOTE_MAX_SIGS);
		bool kept = false;
		int rc = parse_sig_line(&out->sigs[out->n_sigs], &kept, q, (size_t)(nl - q));
		if (rc < 0)
			return rc;
		out->n_sigs += kept;
		q = nl + 1;
	}
	return 0;
}

void note_sig_format(buf *b, const char *name, const uint8_t keyid[4], const uint8_t *bytes,
		     size_t n)
{
	uint8_t raw[4 + 76];
	if (n > 76)
		n = 76;
	memcpy(raw, keyid, 4);
	memcpy(raw + 4, bytes, n);
	char *b64 = b64_encode(raw, 4 + n);
	buf_printf(b, EM_DASH " %s %s\n", name, b64 ? b64 : "");
	free(b64);
}

void note_cosig_message(buf *b, const uint8_t *text, size_t n, uint64_t ts)
{
	buf_printf(b, "cosignature/v1\ntime %llu\n", (unsigned long long)ts);
	buf_put(b, text, n);
}

int note_sig_verify(const note *nt, const note_vkey *k, const note_sig *s, uint64_t *ts)
{
	if (strcmp(s->name, k->name) != 0 || memcmp(s->keyid, k->keyid, 4) != 0)
		return CUSTOS_EINTEGRITY;
	if (k->type == NOTE_ED25519) {
		if (s->n != 64 ||
		    crypto_sign_verify_detached(s->bytes, nt->text, nt->text_len, k->pk) != 0)
			return CUSTOS_EINTEGRITY;
		return 0;
	}
	if (s->n != 72)
		return CUSTOS_EINTEGRITY;
	uint64_t t = be64_load(s->bytes);
	buf m;
	buf_init(&m, NOTE_MAX + 64);
	note_cosig_message(&m, nt->text, nt->text_len, t);
	int rc = buf_check(&m) == 0 &&
			 crypto_sign_verify_detached(s->bytes + 8, m.p, m.n, k->pk) == 0
		     ? 0
		     : CUSTOS_EINTEGRITY;
	buf_free(&m);
	if (rc == 0 && ts)
		*ts = t;
	return rc;
}

int note_verify(const note *nt, const note_vkey *k, uint64_t *ts)
{
	bool seen = false;
	for (size_t i = 0; i < nt->n_sigs; i++) {
		const note_sig *s = &nt->sigs[i];
		if (strcmp(s->name, k->name) != 0 || memcmp(s->keyid, k->keyid, 4) != 0)
			continue;
		seen = true;
		if (note_sig_verify(nt, k, s, ts) == 0)
			return 0;
	}
	if (!seen)
		return custos_error_set(CUSTOS_ENOTFOUND, "no signature by %s", k->name);
	return custos_error_set(CUSTOS_EINTEGRITY, "the signature by %s does not verify", k->name);
}

/* ------------------------------------------------------------ checkpoints */

void checkpoint_text_format(buf *b, const checkpoint_text *c)
{
	char *root = b64_encode(c->root, MERKLE_HASH);
	buf_printf(b, "%s\n%llu\n%s\n", c->origin, (unsigned long long)c->size, root ? root : "");
	free(root);
}

int checkpoint_text_parse(checkpoint_text *out, const uint8_t *p, size_t n)
{
	const uint8_t *l1 = memchr(p, '\n', n);
	const uint8_t *l2 = l1 ? memchr(l1 + 1, '\n', n - (size_t)(l1 + 1 - p)) : NULL;
	const uint8_t *l3 = l2 ? memchr(l2 + 1, '\n', n - (size_t)(l2 + 1 - p)) : NULL;
	memset(out, 0, sizeof *out);
	if (!l3 || l3 + 1 != p + n)
		return custos_error_set(CUSTOS_EINTEGRITY,
					"a checkpoint is three lines: origin, size, root");
	size_t rl = 0;
	if (!name_copy(out->origin, p, (size_t)(l1 - p)))
		return custos_error_set(CUSTOS_EINTEGRITY, "bad checkpoint origin");
	if (u64_parse(&out->size, (const char *)l1 + 1, (size_t)(l2 - l1 - 1)) < 0)
		return custos_error_set(CUSTOS_EINTEGRITY, "bad checkpoint tree size");
	if (b64_decode(out->root, MERKLE_HASH, &rl, (const char *)l2 + 1, (size_t)(l3 - l2 - 1)) < 0 ||
	    rl != MERKLE_HASH)
		return custos_error_set(CUSTOS_EINTEGRITY, "bad checkpoint root hash");
	return 0;
}

/* ------------------------------------------------------------ consistency proof files */

int consistency_parse(consistency *c, const uint8_t *p, size_t n)
{
	const char *s = (const char *)p, *end = s + n;
	size_t line = 0;
	memset(c, 0, sizeof *c);
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		if (!nl)
			return CUSTOS_EINTEGRITY;
		size_t len = (size_t)(nl - s), rl = 0;
		bool ok;
		if (line == 0)
			ok = len == 20 && memcmp(s, "custos-consistency 1", 20) == 0;
		else if (line == 1)
			ok = len > 7 && memcmp(s, "origin ", 7) == 0 &&
			     name_copy(c->origin, s + 7, len - 7);
		else if (line == 2)
			ok = len > 9 && memcmp(s, "old-size ", 9) == 0 &&
			     u64_parse(&c->old_size, s + 9, len - 9) == 0;
		else if (line == 3)
			ok = len > 9 && memcmp(s, "new-size ", 9) == 0 &&
			     u64_parse(&c->new_size, s + 9, len - 9) == 0;
		else
			ok = c->n < MERKLE_MAX_PROOF && len > 5 && memcmp(s, "hash ", 5) == 0 &&
			     b64_decode(c->h[c->n], 32, &rl, s + 5, len - 5) == 0 && rl == 32 && ++c->n;
		if (!ok)
			return CUSTOS_EINTEGRITY;
		line++;
		s = nl + 1;
	}
	return line >= 4 ? 0 : CUSTOS_EINTEGRITY;
}

void consistency_format(buf *b, const consistency *c)
{
	buf_printf(b, "custos-consistency 1\norigin %s\nold-size %llu\nnew-size %llu\n", c->origin,
		   (unsigned long long)c->old_size, (unsigned long long)c->new_size);
	for (size_t i = 0; i < c->n; i++)
		buf_put_b64_line(b, "hash", c->h[i], MERKLE_HASH);
}
