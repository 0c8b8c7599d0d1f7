/* test_keys.c — key files: sealing, passphrases, permissions, tampering, caps, public forms. */
#include "fsutil.h"
#include "harness.h"

#include <sys/wait.h>
#include <unistd.h>
#include "keys.h"

#include <sodium.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *pass_value;

static int give_pass(char **out, size_t *len, void *ud)
{
	(void)ud;
	*len = strlen(pass_value);
	*out = custos_secret_alloc(*len + 1);
	memcpy(*out, pass_value, *len + 1);
	return 0;
}

static char *tmp(const char *name)
{
	return path_join(test_tmpdir(), name);
}

static void sealed_roundtrip(void)
{
	custos_key *k = NULL, *back = NULL;
	char *path = tmp("sealed.key");
	CHECK_RC(custos_key_generate(&k), 0);
	CHECK_RC(custos_key_write(k, path, "correct horse", 13, CUSTOS_KDF_INTERACTIVE), 0);
	struct stat st;
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(custos_key_file_is_sealed(path) == 1);
	/* Never overwrite a key. */
	CHECK_RC(custos_key_write(k, path, NULL, 0, CUSTOS_KDF_INTERACTIVE), CUSTOS_EEXISTS);
	pass_value = "correct horse";
	CHECK_RC(custos_key_load(&back, path, give_pass, NULL), 0);
	CHECK(back && pubkey_equal(custos_key_public(back), custos_key_public(k)));
	/* Signatures made by the loaded key verify with the original public key. */
	uint8_t sig[64];
	CHECK_RC(key_sign(sig, back, (const uint8_t *)"m", 1), 0);
	CHECK_RC(pubkey_verify(custos_key_public(k), sig, (const uint8_t *)"m", 1), 0);
	custos_key_free(back);
	back = NULL;
	pass_value = "wrong horse";
	CHECK_RC(custos_key_load(&back, path, give_pass, NULL), CUSTOS_EPASSPHRASE);
	CHECK(back == NULL);
	CHECK_RC(custos_key_load(&back, path, NULL, NULL), CUSTOS_EPASSPHRASE);
	custos_key_free(k);
	free(path);
}

static void permissions(void)
{
	custos_key *k = NULL, *back = NULL;
	char *path = tmp("open.key");
	custos_key_generate(&k);
	CHECK_RC(custos_key_write(k, path, NULL, 0, CUSTOS_KDF_INTERACTIVE), 0);
	CHECK(custos_key_file_is_sealed(path) == 0);
	CHECK_RC(custos_key_load(&back, path, NULL, NULL), 0);
	custos_key_free(back);
	back = NULL;
	chmod(path, 0640);
	CHECK_RC(custos_key_load(&back, path, NULL, NULL), CUSTOS_EPERM);
	chmod(path, 0604);
	CHECK_RC(custos_key_load(&back, path, NULL, NULL), CUSTOS_EPERM);
	chmod(path, 0600);
	custos_key_free(k);
	free(path);
}

/* Rewrite one line of a key file (kept 0600) and check loading fails with `want`. */
static void tampered(const char *label, const char *newline, int want)
{
	custos_key *k = NULL, *back = NULL;
	char *path = tmp("tamper.key");
	unlink(path);
	custos_key_generate(&k);
	custos_key_write(k, path, "pw", 2, CUSTOS_KDF_INTERACTIVE);
	size_t n;
	char *text = (char *)test_read(path, &n);
	buf b;
	buf_init(&b, 0);
	for (char *line = text; *line;) {
		char *nl = strchr(line, '\n');
		size_t ll = (size_t)(nl - line) + 1;
		if (strncmp(line, label, strlen(label)) == 0 && line[strlen(label)] == ' ')
			buf_puts(&b, newline);
		else
			buf_put(&b, line, ll);
		line += ll;
	}
	unlink(path);
	fs_atomic_write(path, b.p, b.n, 0600, true);
	pass_value = "pw";
	int rc = custos_key_load(&back, path, give_pass, NULL);
	CHECK(rc == want);
	if (rc != want)
		fprintf(stderr, "  tampering with '%s' gave %d\n", label, rc);
	custos_key_free(back);
	custos_key_free(k);
	buf_free(&b);
	free(text);
	free(path);
}

static void tampering(void)
{
	custos_key *other = NULL;
	custos_key_generate(&other);
	char *pk = b64_encode(custos_key_public(other)->pk, 32);
	char line[200];
	snprintf(line, sizeof line, "public %s\n", pk);
	/* Another public key: the key id no longer matches. */
	tampered("public", line, CUSTOS_EINTEGRITY);
	/* Cheaper KDF parameters: the header is authenticated, so the seal no longer opens. */
	tampered("kdf", "kdf argon2id13 1 8192\n", CUSTOS_EPASSPHRASE);
	/* Parameters beyond the caps are refused before any work. */
	tampered("kdf", "kdf argon2id13 4294967295 8192\n", CUSTOS_ELIMIT);
	tampered("kdf", "kdf argon2id13 2 17179869184\n", CUSTOS_ELIMIT);
	tampered("kdf", "kdf scrypt 2 8192\n", CUSTOS_EINVALID);
	tampered("sealed", "sealed AAAA\n", CUSTOS_EINVALID);
	tampered("salt", "salt AAAAAAAAAAAAAAAAAAAAAA==\n", CUSTOS_EPASSPHRASE);
	free(pk);
	custos_key_free(other);
}

static void public_forms(void)
{
	uint8_t seed[32];
	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)i;
	custos_key *k = NULL;
	key_from_seed(&k, seed);
	const custos_pubkey *pub = custos_key_public(k);
	for (int f = CUSTOS_PUB_CUSTOS; f <= CUSTOS_PUB_MINISIGN; f++) {
		char *text = NULL;
		custos_pubkey back;
		CHECK_RC(custos_pubkey_format(&text, pub, (enum custos_pubkey_form)f), 0);
		CHECK_RC(custos_pubkey_parse(&back, text, strlen(text)), 0);
		CHECK(pubkey_equal(&back, pub) && memcmp(back.id, pub->id, 8) == 0);
		free(text);
	}
	/* Known answer: the key id is the first 8 bytes of SHA-256(pk); minisign prints the
	 * same bytes as a little-endian u64. */
	char id[17], *mini = NULL;
	uint8_t h[32];
	crypto_hash_sha256(h, pub->pk, 32);
	CHECK(memcmp(h, pub->id, 8) == 0);
	custos_keyid_hex(id, pub->id);
	custos_pubkey_format(&mini, pub, CUSTOS_PUB_MINISIGN);
	char want[64];
	snprintf(want, sizeof want, "minisign public key %02X%02X%02X%02X%02X%02X%02X%02X\n", pub->id[7],
		 pub->id[6], pub->id[5], pub->id[4], pub->id[3], pub->id[2], pub->id[1], pub->id[0]);
	CHECK(strstr(mini, want) != NULL);
	free(mini);
	custos_pubkey junk;
	CHECK_RC(custos_pubkey_parse(&junk, "hello", 5), CUSTOS_EINVALID);
	CHECK_RC(custos_pubkey_parse(&junk, "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQ", 38), CUSTOS_EINVALID);
	custos_key_free(k);
}

/* Secret memory reads as zeros in a forked process (the archive reader server and its
 * readers are forks of custos), and stays as it was in custos. */
static void secrets_not_inherited(void)
{
	uint8_t *p = custos_secret_alloc(100);
	CHECK(p != NULL);
	if (!p)
		return;
	memset(p, 0xA5, 100);
	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 100; i++)
			if (p[i])
				_exit(1);
		_exit(0);
	}
	int status = -1;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(p[0] == 0xA5 && p[99] == 0xA5);
	custos_secret_free(p);
}

int main(void)
{
	test_init();
	secrets_not_inherited();
	sealed_roundtrip();
	permissions();
	tampering();
	public_forms();
	return test_finish("keys");
}
