/* test_sshsig.c — the OpenSSH regress vector reproduced byte for byte; tampering rejected. */
#include "harness.h"
#include "keys.h"
#include "sshsig.h"

#include <stdlib.h>

/* Pull the Ed25519 seed out of an unencrypted openssh-key-v1 private key (test-only). */
static int openssh_seed(uint8_t seed[32], const char *path)
{
	size_t n;
	char *text = (char *)test_read(path, &n);
	buf b64;
	buf_init(&b64, 0);
	char *start = strstr(text, "-----\n"), *end = strstr(text, "-----END");
	for (char *p = start + 6; p < end; p++)
		if (*p != '\n')
			buf_putc(&b64, *p);
	uint8_t raw[2048];
	size_t rawlen = 0;
	int rc = b64_decode(raw, sizeof raw, &rawlen, (char *)b64.p, b64.n);
	buf_free(&b64);
	free(text);
	if (rc < 0 || rawlen < 15 || memcmp(raw, "openssh-key-v1", 15) != 0)
		return -1;
	/* Find the private section's ssh-ed25519 entry: "ssh-ed25519" string, pk(32), sk(64). */
	for (size_t i = 15; i + 4 + 11 + 4 + 32 + 4 + 64 <= rawlen; i++) {
		if (be32_load(raw + i) == 11 && memcmp(raw + i + 4, "ssh-ed25519", 11) == 0 &&
		    be32_load(raw + i + 15) == 32 && be32_load(raw + i + 51) == 64) {
			memcpy(seed, raw + i + 55, 32);
			return 0;
		}
	}
	return -1;
}

int main(void)
{
	test_init();
	char *keyp = test_vector_path("sshsig/ed25519"), *msgp = test_vector_path("sshsig/signed-data");
	char *sigp = test_vector_path("sshsig/ed25519.sig"), *nsp = test_vector_path("sshsig/namespace");
	uint8_t seed[32];
	CHECK(openssh_seed(seed, keyp) == 0);
	size_t mn, sn, nn;
	uint8_t *msg = test_read(msgp, &mn), *want = test_read(sigp, &sn), *ns = test_read(nsp, &nn);
	while (nn && (ns[nn - 1] == '\n'))
		ns[--nn] = '\0';
	custos_key *k = NULL;
	CHECK_RC(key_from_seed(&k, seed), 0);
	char *armor = NULL;
	size_t al = 0;
	CHECK_RC(sshsig_sign(&armor, &al, k, (char *)ns, msg, mn), 0);
	/* Ed25519 is deterministic: a correct signer reproduces OpenSSH's output exactly. */
	CHECK(al == sn && memcmp(armor, want, sn) == 0);
	if (al != sn || memcmp(armor, want, sn) != 0)
		fprintf(stderr, "got:\n%s\nwant:\n%s\n", armor, (char *)want);
	custos_pubkey signer;
	CHECK_RC(sshsig_verify(&signer, (char *)want, sn, (char *)ns, msg, mn), 0);
	CHECK(pubkey_equal(&signer, custos_key_public(k)));
	/* Wrong namespace, wrong message, and every single flipped bit inside the armor body are
	 * rejected. */
	CHECK_RC(sshsig_verify(&signer, (char *)want, sn, "git", msg, mn), CUSTOS_EINTEGRITY);
	msg[0] ^= 1;
	CHECK_RC(sshsig_verify(&signer, (char *)want, sn, (char *)ns, msg, mn), CUSTOS_EINTEGRITY);
	msg[0] ^= 1;
	int accepted = 0, tried = 0;
	size_t body = strlen("-----BEGIN SSH SIGNATURE-----\n");
	size_t body_end = sn - strlen("-----END SSH SIGNATURE-----\n");
	for (size_t i = body; i < body_end; i++) {
		if (want[i] == '\n')
			continue;
		for (int bit = 0; bit < 8; bit++) {
			want[i] ^= (uint8_t)(1 << bit);
			tried++;
			if (sshsig_verify(&signer, (char *)want, sn, (char *)ns, msg, mn) == 0)
				accepted++;
			want[i] ^= (uint8_t)(1 << bit);
		}
	}
	/* Base64 has slack bits in its last quantum ('=' padding): flips there decode to the
	 * same blob and are rejected by our canonical-base64 rule. */
	CHECK(tried > 1000 && accepted == 0);
	custos_key_free(k);
	free(armor);
	free(msg);
	free(want);
	free(ns);
	free(keyp);
	free(msgp);
	free(sigp);
	free(nsp);
	return test_finish("sshsig");
}
