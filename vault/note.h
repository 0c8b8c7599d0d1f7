/*
 * note — C2SP signed notes (c2sp.org/signed-note) with Ed25519 signatures, the
 * tlog-checkpoint text they carry (c2sp.org/tlog-checkpoint) and tlog-cosignature/v1
 * witness cosignatures (c2sp.org/tlog-cosignature). Layouts: FS §9.
 *
 *   note      = text ‖ "\n" ‖ signature lines
 *   text      = lines ending in "\n", none of them empty
 *   signature = "— " name " " base64(key id[4] ‖ signature bytes) "\n"   (— is U+2014)
 *   key id    = SHA-256(name ‖ "\n" ‖ type ‖ public key)[:4]; type 0x01 Ed25519 signer,
 *               0x04 Ed25519 cosigner (whose signature bytes are u64be time ‖ sig64, over
 *               "cosignature/v1\ntime <time>\n" ‖ text)
 *   verifier key = name "+" hex(key id) "+" base64(type ‖ public key)
 */
#ifndef CUSTOS_NOTE_H
#define CUSTOS_NOTE_H

#include "common.h"
#include "merkle.h"

#define NOTE_ED25519 0x01
#define NOTE_COSIGNATURE 0x04
#define NOTE_MAX (64 << 10)      /* a note larger than this is refused unread */
#define NOTE_MAX_SIGS 64
#define NOTE_NAME_MAX 255

typedef struct note_vkey {
	char name[NOTE_NAME_MAX + 1];
	uint8_t type; /* NOTE_ED25519 or NOTE_COSIGNATURE */
	uint8_t keyid[4];
	uint8_t pk[32];
} note_vkey;

typedef struct note_sig {
	char name[NOTE_NAME_MAX + 1];
	uint8_t keyid[4];
	uint8_t bytes[76]; /* 64 for a signature, 8 + 64 for a cosignature */
	size_t n;
} note_sig;

typedef struct note {
	const uint8_t *text; /* points into the parsed bytes */
	size_t text_len;
	note_sig sigs[NOTE_MAX_SIGS];
	size_t n_sigs;
} note;

/* A valid key name: 1..255 bytes of printable ASCII other than space and '+'. */
bool note_name_ok(const char *name);
void note_keyid(uint8_t out[4], const char *name, uint8_t type, const uint8_t pk[32]);
int note_vkey_make(note_vkey *out, const char *name, uint8_t type, const uint8_t pk[32]);
/* "<name>+<hex key id>+<base64(type ‖ pk)>" (no newline), malloc'd. */
char *note_vkey_format(const note_vkey *k);
/* Parse a verifier key; the key id must match name and key. */
int note_vkey_parse(note_vkey *out, const char *s, size_t n);

/* Split a signed note into its text and signature lines (unknown signers are kept: a
 * verifier picks the lines of the keys it trusts). CUSTOS_EINTEGRITY if malformed. */
int note_parse(note *out, const uint8_t *p, size_t n);
/* Append "— name base64(keyid ‖ bytes)\n" to b. */
void note_sig_format(buf *b, const char *name, const uint8_t keyid[4], const uint8_t *bytes,
		     size_t n);

/* The cosignature message for text at time ts. */
void note_cosig_message(buf *b, const uint8_t *text, size_t n, uint64_t ts);

/* Does note carry a valid signature by k? 0 yes; CUSTOS_ENOTFOUND no line by that key;
 * CUSTOS_EINTEGRITY a line by that key that does not verify. For a cosigner key, *ts gets
 * the cosignature's time. */
int note_verify(const note *nt, const note_vkey *k, uint64_t *ts);
/* Is this one line a valid signature by k? 0 or CUSTOS_EINTEGRITY (no message). */
int note_sig_verify(const note *nt, const note_vkey *k, const note_sig *s, uint64_t *ts);

/* tlog-checkpoint text: origin, size, base64 root, no extension lines (we write none and
 * accept none). */
typedef struct checkpoint_text {
	char origin[NOTE_NAME_MAX + 1];
	uint64_t size;
	merkle_hash root;
} checkpoint_text;

void checkpoint_text_format(buf *b, const checkpoint_text *c);
int checkpoint_text_parse(checkpoint_text *out, const uint8_t *p, size_t n);

/* A consistency proof file (FS §9.6): "custos-consistency 1", origin, old-size,
 * new-size, then one "hash <base64>" line per proof hash. CUSTOS_EINTEGRITY if malformed. */
#define CONSISTENCY_MAX 8192
typedef struct consistency {
	char origin[NOTE_NAME_MAX + 1];
	uint64_t old_size, new_size;
	merkle_hash h[MERKLE_MAX_PROOF];
	size_t n;
} consistency;

int consistency_parse(consistency *c, const uint8_t *p, size_t n);
void consistency_format(buf *b, const consistency *c);

#endif
