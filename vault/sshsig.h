/*
 * sshsig — OpenSSH SSHSIG signatures (PROTOCOL.sshsig), the form `git verify-commit` and
 * `ssh-keygen -Y verify` check. Ed25519 only; sha512 message hash when signing, sha256 or
 * sha512 accepted when verifying.
 */
#ifndef CUSTOS_SSHSIG_H
#define CUSTOS_SSHSIG_H

#include "common.h"

/* Armored signature ("-----BEGIN SSH SIGNATURE-----\n" ... "-----END SSH SIGNATURE-----\n"),
 * malloc'd into *out. */
int sshsig_sign(char **out, size_t *outlen, const custos_key *key, const char *ns,
		const uint8_t *msg, size_t n);
/* Verify an armored signature over msg in namespace ns; the signer is returned in *signer.
 * CUSTOS_EINTEGRITY if malformed or not valid. */
int sshsig_verify(custos_pubkey *signer, const char *armor, size_t armorlen, const char *ns,
		  const uint8_t *msg, size_t n);

/* The same given the message's SHA-256 and SHA-512 (the signature names which it used):
 * for files verified as they stream. */
int sshsig_verify_digest(custos_pubkey *signer, const char *armor, size_t armorlen, const char *ns,
			 const uint8_t sha256[32], const uint8_t sha512[64]);

#endif
