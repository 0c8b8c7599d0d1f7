/*
 * minisig — minisign-compatible detached signatures (INTEROP "minisign"), hashed `ED` mode
 * only, so `minisign -V -H -p KEY.pub -m FILE -x FILE.minisig` checks what custos writes:
 *
 *   untrusted comment: <text>
 *   base64("ED" ‖ key number[8] ‖ Ed25519(BLAKE2b-512(file)))
 *   trusted comment: <text>
 *   base64(Ed25519(signature ‖ trusted comment))
 *
 * The key number is the custodian key id (FS §2.1), as in the minisign public key form.
 */
#ifndef CUSTOS_MINISIG_H
#define CUSTOS_MINISIG_H

#include "common.h"

#define MINISIG_MAX 4096
#define MINISIG_COMMENT_MAX 1024

/* Is this a comment minisign accepts: no control character but tab (so no CR or LF)?
 * Callers pass text from custos_printable(), which is valid UTF-8. */
bool minisig_comment_ok(const char *c);
/* Append a .minisig for a file whose BLAKE2b-512 is `blake2b` to out. */
int minisig_sign(buf *out, const custos_key *key, const uint8_t blake2b[64],
		 const char *untrusted, const char *trusted);
/* Check a .minisig against the trusted key and the file's BLAKE2b-512. 0 when both
 * signatures verify (*trusted gets the trusted comment, malloc'd, when not NULL);
 * CUSTOS_EINTEGRITY with the reason otherwise. */
int minisig_verify(const custos_pubkey *pub, const uint8_t *sig, size_t n,
		   const uint8_t blake2b[64], char **trusted);
/* The same for a key whose minisign key number is not its custos key id (a key made by
 * minisign itself, whose number is random). */
int minisig_verify_keynum(const custos_pubkey *pub, const uint8_t keynum[8], const uint8_t *sig,
			  size_t n, const uint8_t blake2b[64], char **trusted);

#endif
