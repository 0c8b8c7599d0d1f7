/*
 * keys — Ed25519 custodian keys: generation, sealed storage (Argon2id +
 * XChaCha20-Poly1305), loading with permission checks, public key forms (custos, ssh,
 * allowed_signers, minisign), signing and verification. Secret key bytes only ever live
 * in sodium_malloc'd memory and are wiped on free (FS §2).
 */
#ifndef CUSTOS_KEYS_H
#define CUSTOS_KEYS_H

#include "common.h"

/* A key from a 32-byte Ed25519 seed (known-answer tests, the OpenSSH vector). */
int key_from_seed(custos_key **out, const uint8_t seed[32]);
int key_sign(uint8_t sig[64], const custos_key *key, const uint8_t *msg, size_t n);
/* 0 if sig is pub's signature over msg, CUSTOS_EINTEGRITY if not. */
int pubkey_verify(const custos_pubkey *pub, const uint8_t sig[64], const uint8_t *msg, size_t n);
bool pubkey_equal(const custos_pubkey *a, const custos_pubkey *b);
/* The ssh wire blob: string("ssh-ed25519") || string(pk); 51 bytes. */
#define SSH_ED25519_BLOB_LEN 51
void ssh_pubkey_blob(uint8_t out[SSH_ED25519_BLOB_LEN], const uint8_t pk[32]);

#endif
