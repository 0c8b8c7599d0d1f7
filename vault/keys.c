/*
 * keys.c — see keys.h. Key file layout: FS §2.
 */
#include "keys.h"

#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Guarded memory that a forked process sees as zeros (MADV_WIPEONFORK): the sandboxed
 * archive readers, and the process that starts them, never hold the key. sodium_malloc
 * places the bytes in page-aligned unprotected pages between guard pages, so the pages
 * around them are the allocation's own. */
static void *secret_malloc(size_t n)
{
	uint8_t *p = sodium_malloc(n);
	if (p) {
		uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
		uintptr_t lo = (uintptr_t)p & ~(page - 1);
		uintptr_t hi = ((uintptr_t)p + n + page - 1) & ~(page - 1);
		(void)madvise((void *)lo, hi - lo, MADV_WIPEONFORK); /* older kernels: best effort */
	}
	return p;
}

#define KEYFILE_MAX 4096
#define SEED_LEN 32
#define SALT_LEN crypto_pwhash_SALTBYTES
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES
/* Caps on the Argon2id parameters a key file may ask for: a crafted file must not make
 * loading take minutes or gigabytes. */
#define OPSLIMIT_CAP 16ULL
#define MEMLIMIT_CAP (1ULL << 30)

struct custos_key {
	custos_pubkey pub;
	uint8_t *sk; /* sodium_malloc'd libsodium secret key (seed || pk), 64 bytes */
};

void custos_keyid_hex(char out[17], const uint8_t id[CUSTOS_KEYID_LEN])
{
	custos_hex(out, id, CUSTOS_KEYID_LEN);
}

int custos_pubkey_from_raw(custos_pubkey *out, const uint8_t pk[32])
{
	uint8_t h[32];
	memcpy(out->pk, pk, 32);
	/* FS §2.1: key id = first 8 bytes of SHA-256(public key). */
	crypto_hash_sha256(h, pk, 32);
	memcpy(out->id, h, CUSTOS_KEYID_LEN);
	return 0;
}

void custos_principal(char out[64], const custos_pubkey *pub)
{
	char id[17];
	custos_keyid_hex(id, pub->id);
	snprintf(out, 64, "%s@custos.invalid", id);
}

bool pubkey_equal(const custos_pubkey *a, const custos_pubkey *b)
{
	return sodium_memcmp(a->pk, b->pk, 32) == 0;
}

static custos_key *key_alloc(void)
{
	custos_key *k = xcalloc(1, sizeof *k);
	if (!k)
		return NULL;
	k->sk = secret_malloc(crypto_sign_SECRETKEYBYTES);
	if (!k->sk) {
		free(k);
		custos_error_set(CUSTOS_ERROR, "cannot allocate secure memory");
		return NULL;
	}
	return k;
}

void custos_key_free(custos_key *key)
{
	if (!key)
		return;
	sodium_free(key->sk); /* sodium_free wipes before releasing */
	free(key);
}

const custos_pubkey *custos_key_public(const custos_key *key)
{
	return &key->pub;
}

int custos_key_generate(custos_key **out)
{
	custos_key *k = key_alloc();
	if (!k)
		return CUSTOS_ERROR;
	uint8_t pk[32];
	crypto_sign_keypair(pk, k->sk);
	custos_pubkey_from_raw(&k->pub, pk);
	*out = k;
	return 0;
}

int key_from_seed(custos_key **out, const uint8_t seed[32])
{
	custos_key *k = key_alloc();
	if (!k)
		return CUSTOS_ERROR;
	uint8_t pk[32];
	crypto_sign_seed_keypair(pk, k->sk, seed);
	custos_pubkey_from_raw(&k->pub, pk);
	*out = k;
	return 0;
}

int key_sign(uint8_t sig[64], const custos_key *key, const uint8_t *msg, size_t n)
{
	if (crypto_sign_detached(sig, NULL, msg, n, key->sk) != 0)
		return custos_error_set(CUSTOS_ERROR, "signing failed");
	return 0;
}

int pubkey_verify(const custos_pubkey *pub, const uint8_t sig[64], const uint8_t *msg, size_t n)
{
	if (crypto_sign_verify_detached(sig, msg, n, pub->pk) != 0)
		return custos_error_set(CUSTOS_EINTEGRITY, "signature does not verify");
	return 0;
}

static void kdf_params(enum custos_kdf_cost cost, unsigned long long *ops, size_t *mem)
{
	switch (cost) {
	case CUSTOS_KDF_INTERACTIVE:
		*ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		*mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
		break;
	case CUSTOS_KDF_SENSITIVE:
		*ops = crypto_pwhash_OPSLIMIT_SENSITIVE;
		*mem = crypto_pwhash_MEMLIMIT_SENSITIVE;
		break;
	default:
		*ops = crypto_pwhash_OPSLIMIT_MODERATE;
		*mem = crypto_pwhash_MEMLIMIT_MODERATE;
	}
}

/* Derive the 32-byte sealing key into secure memory. */
static uint8_t *derive_seal_key(const char *pass, size_t passlen, const uint8_t salt[SALT_LEN],
				unsigned long long ops, size_t mem)
{
	uint8_t *sk = secret_malloc(32);
	if (!sk) {
		custos_error_set(CUSTOS_ERROR, "cannot allocate secure memory");
		return NULL;
	}
	if (crypto_pwhash(sk, 32, pass, passlen, salt, ops, mem, crypto_pwhash_ALG_ARGON2ID13) != 0) {
		sodium_free(sk);
		custos_error_set(CUSTOS_ERROR, "Argon2id failed (out of memory?)");
		return NULL;
	}
	return sk;
}

static int header_text(buf *b, const custos_pubkey *pub)
{
	char id[17];
	custos_keyid_hex(id, pub->id);
	char *pk = b64_encode(pub->pk, 32);
	if (!pk)
		return CUSTOS_ERROR;
	buf_printf(b, "custos-key 1\nkeyid %s\npublic %s\n", id, pk);
	free(pk);
	return buf_check(b);
}

static int append_b64_line(buf *b, const char *label, const uint8_t *p, size_t n)
{
	char *s = b64_encode(p, n);
	if (!s)
		return CUSTOS_ERROR;
	buf_printf(b, "%s %s\n", label, s);
	sodium_memzero(s, strlen(s));
	free(s);
	return buf_check(b);
}

static int seal_secret(buf *b, const custos_key *key, const char *pass, size_t passlen,
		       enum custos_kdf_cost cost)
{
	unsigned long long ops;
	size_t mem;
	uint8_t salt[SALT_LEN], nonce[NONCE_LEN], ct[SEED_LEN + TAG_LEN];
	kdf_params(cost, &ops, &mem);
	randombytes_buf(salt, sizeof salt);
	randombytes_buf(nonce, sizeof nonce);
	buf_printf(b, "kdf argon2id13 %llu %zu\n", ops, mem);
	append_b64_line(b, "salt", salt, sizeof salt);
	append_b64_line(b, "nonce", nonce, sizeof nonce);
	if (buf_check(b) < 0)
		return CUSTOS_ERROR;
	uint8_t *sealk = derive_seal_key(pass, passlen, salt, ops, mem);
	if (!sealk)
		return CUSTOS_ERROR;
	/* The header (key id, public key, KDF parameters) is the associated data: editing any
	 * of it makes the file fail to open. */
	crypto_aead_xchacha20poly1305_ietf_encrypt(ct, NULL, key->sk, SEED_LEN, b->p, b->n, NULL,
						   nonce, sealk);
	sodium_free(sealk);
	return append_b64_line(b, "sealed", ct, sizeof ct);
}

int custos_key_write(const custos_key *key, const char *path, const char *pass, size_t passlen,
		     enum custos_kdf_cost cost)
{
	buf b;
	buf_init(&b, KEYFILE_MAX);
	int rc = header_text(&b, &key->pub);
	if (rc == 0)
		rc = pass ? seal_secret(&b, key, pass, passlen, cost)
			  : (buf_puts(&b, "kdf none\n"), append_b64_line(&b, "secret", key->sk, SEED_LEN));
	if (rc == 0) {
		rc = fs_atomic_write(path, b.p, b.n, 0600, true);
		if (rc == CUSTOS_EEXISTS)
			custos_error_set(rc, "%s already exists; refusing to overwrite a key", path);
	}
	if (b.p)
		sodium_memzero(b.p, b.cap);
	buf_free(&b);
	return rc;
}

/* A line-oriented reader over the key file text. */
typedef struct lines {
	const char *p, *end;
} lines;

static int next_field(lines *l, const char *label, const char **val, size_t *vlen)
{
	size_t ll = strlen(label);
	const char *nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
	if (!nl || (size_t)(nl - l->p) < ll + 1 || memcmp(l->p, label, ll) != 0 || l->p[ll] != ' ')
		return custos_error_set(CUSTOS_EINVALID, "expected a '%s' line", label);
	*val = l->p + ll + 1;
	*vlen = (size_t)(nl - *val);
	l->p = nl + 1;
	return 0;
}

static int b64_field(lines *l, const char *label, uint8_t *out, size_t want)
{
	const char *v;
	size_t vl, got = 0;
	int rc = next_field(l, label, &v, &vl);
	if (rc < 0)
		return rc;
	if (b64_decode(out, want, &got, v, vl) < 0 || got != want)
		return custos_error_set(CUSTOS_EINVALID, "bad '%s' value", label);
	return 0;
}

typedef struct keyfile {
	custos_pubkey pub;
	bool sealed;
	unsigned long long ops;
	size_t mem;
	uint8_t salt[SALT_LEN], nonce[NONCE_LEN];
	size_t aad_len; /* bytes before the "sealed" line */
	lines rest;
} keyfile;

static int parse_header(keyfile *kf, const char *text, size_t n)
{
	lines l = {text, text + n};
	const char *v;
	size_t vl;
	uint8_t pk[32], id[CUSTOS_KEYID_LEN];
	memset(kf, 0, sizeof *kf);
	if (n < 13 || memcmp(text, "custos-key 1\n", 13) != 0)
		return custos_error_set(CUSTOS_EINVALID, "not a custos key file (no 'custos-key 1' line)");
	l.p += 13;
	int rc = next_field(&l, "keyid", &v, &vl);
	if (rc < 0 || hex_decode(id, sizeof id, v, vl) < 0)
		return custos_error_set(CUSTOS_EINVALID, "bad keyid line");
	if ((rc = b64_field(&l, "public", pk, 32)) < 0)
		return rc;
	custos_pubkey_from_raw(&kf->pub, pk);
	if (sodium_memcmp(id, kf->pub.id, sizeof id) != 0)
		return custos_error_set(CUSTOS_EINTEGRITY, "key id does not match the public key");
	if ((rc = next_field(&l, "kdf", &v, &vl)) < 0)
		return rc;
	if (vl == 4 && memcmp(v, "none", 4) == 0) {
		kf->rest = l;
		return 0;
	}
	char params[64];
	if (vl >= sizeof params)
		return custos_error_set(CUSTOS_EINVALID, "bad kdf line");
	memcpy(params, v, vl);
	params[vl] = '\0';
	char algo[16];
	unsigned long long ops, mem;
	char tail;
	if (sscanf(params, "%15s %llu %llu%c", algo, &ops, &mem, &tail) != 3 ||
	    strcmp(algo, "argon2id13") != 0)
		return custos_error_set(CUSTOS_EINVALID, "unsupported kdf '%s'", params);
	if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > OPSLIMIT_CAP || mem < crypto_pwhash_MEMLIMIT_MIN ||
	    mem > MEMLIMIT_CAP)
		return custos_error_set(CUSTOS_ELIMIT,
					"kdf parameters out of the accepted range (ops %llu, memory %llu)",
					ops, mem);
	kf->sealed = true;
	kf->ops = ops;
	kf->mem = (size_t)mem;
	if ((rc = b64_field(&l, "salt", kf->salt, SALT_LEN)) < 0 ||
	    (rc = b64_field(&l, "nonce", kf->nonce, NONCE_LEN)) < 0)
		return rc;
	kf->aad_len = (size_t)(l.p - text);
	kf->rest = l;
	return 0;
}

static int read_key_file(uint8_t **text, size_t *n, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return custos_error_errno(errno == ENOENT ? CUSTOS_ENOTFOUND : CUSTOS_ERROR,
					  "cannot open key file %s", path);
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) != 0)
		rc = custos_error_errno(CUSTOS_ERROR, "cannot stat %s", path);
	else if (!S_ISREG(st.st_mode))
		rc = custos_error_set(CUSTOS_EINVALID, "key file %s is not a regular file", path);
	else if (st.st_mode & 077)
		rc = custos_error_set(CUSTOS_EPERM,
				      "key file %s is accessible by group or others (mode %04o); "
				      "run: chmod 600 %s",
				      path, (unsigned)(st.st_mode & 07777), path);
	close(fd);
	if (rc < 0)
		return rc;
	return fs_read_file(text, n, path, KEYFILE_MAX);
}

int custos_key_file_is_sealed(const char *path)
{
	uint8_t *text = NULL;
	size_t n = 0;
	keyfile kf;
	int rc = read_key_file(&text, &n, path);
	if (rc == 0)
		rc = parse_header(&kf, (const char *)text, n);
	if (rc == 0)
		rc = kf.sealed ? 1 : 0;
	if (text) {
		sodium_memzero(text, n);
		free(text);
	}
	return rc;
}

static int open_secret(custos_key *k, const keyfile *kf, const char *text, custos_passphrase_fn ask,
		       void *ud, const char *path)
{
	lines l = kf->rest;
	uint8_t *seed = secret_malloc(SEED_LEN);
	int rc = 0;
	if (!seed)
		return custos_error_set(CUSTOS_ERROR, "cannot allocate secure memory");
	if (!kf->sealed) {
		rc = b64_field(&l, "secret", seed, SEED_LEN);
	} else {
		uint8_t ct[SEED_LEN + TAG_LEN];
		char *pass = NULL;
		size_t passlen = 0;
		if ((rc = b64_field(&l, "sealed", ct, sizeof ct)) < 0)
			goto done;
		if (!ask)
			rc = custos_error_set(CUSTOS_EPASSPHRASE, "key %s is sealed and no passphrase was given",
					      path);
		else
			rc = ask(&pass, &passlen, ud);
		if (rc < 0)
			goto done;
		uint8_t *sealk = derive_seal_key(pass, passlen, kf->salt, kf->ops, kf->mem);
		custos_secret_free(pass);
		if (!sealk) {
			rc = CUSTOS_ERROR;
			goto done;
		}
		if (crypto_aead_xchacha20poly1305_ietf_decrypt(seed, NULL, NULL, ct, sizeof ct,
							       (const uint8_t *)text, kf->aad_len,
							       kf->nonce, sealk) != 0)
			rc = custos_error_set(CUSTOS_EPASSPHRASE,
					      "cannot open key %s: wrong passphrase or damaged file", path);
		sodium_free(sealk);
	}
	if (rc == 0 && l.p != l.end)
		rc = custos_error_set(CUSTOS_EINVALID, "trailing data after the secret");
	if (rc == 0) {
		uint8_t pk[32];
		crypto_sign_seed_keypair(pk, k->sk, seed);
		if (sodium_memcmp(pk, kf->pub.pk, 32) != 0)
			rc = custos_error_set(CUSTOS_EINTEGRITY,
					      "the secret in %s does not belong to its public key", path);
	}
done:
	sodium_free(seed);
	return rc;
}

int custos_key_load(custos_key **out, const char *path, custos_passphrase_fn ask, void *ud)
{
	uint8_t *text = NULL;
	size_t n = 0;
	keyfile kf;
	custos_key *k = NULL;
	*out = NULL;
	int rc = read_key_file(&text, &n, path);
	if (rc < 0)
		return rc;
	if ((rc = parse_header(&kf, (const char *)text, n)) < 0) {
		custos_error_wrap(rc, "key file %s", path);
		goto done;
	}
	if (!(k = key_alloc())) {
		rc = CUSTOS_ERROR;
		goto done;
	}
	k->pub = kf.pub;
	if ((rc = open_secret(k, &kf, (const char *)text, ask, ud, path)) < 0) {
		if (rc == CUSTOS_EINVALID)
			custos_error_wrap(rc, "key file %s", path);
		goto done;
	}
	*out = k;
	k = NULL;
done:
	custos_key_free(k);
	sodium_memzero(text, n);
	free(text);
	return rc;
}

void *custos_secret_alloc(size_t n)
{
	void *p = secret_malloc(n ? n : 1);
	if (!p)
		custos_error_set(CUSTOS_ERROR, "cannot allocate secure memory");
	return p;
}

void custos_secret_free(void *p)
{
	sodium_free(p);
}

/* ------------------------------------------------------------ public key forms */

void ssh_pubkey_blob(uint8_t out[SSH_ED25519_BLOB_LEN], const uint8_t pk[32])
{
	be32_store(out, 11);
	memcpy(out + 4, "ssh-ed25519", 11);
	be32_store(out + 15, 32);
	memcpy(out + 19, pk, 32);
}

static void minisign_keyid(char out[17], const uint8_t id[8])
{
	/* minisign prints the 8 key number bytes as a little-endian u64 in upper-case hex. */
	snprintf(out, 17, "%016llX", (unsigned long long)le64_load(id));
}

int custos_pubkey_format(char **out, const custos_pubkey *pub, enum custos_pubkey_form form)
{
	buf b;
	buf_init(&b, 4096);
	char id[17], principal[64];
	custos_keyid_hex(id, pub->id);
	custos_principal(principal, pub);
	uint8_t blob[SSH_ED25519_BLOB_LEN];
	ssh_pubkey_blob(blob, pub->pk);
	uint8_t mini[42];
	memcpy(mini, "Ed", 2);
	memcpy(mini + 2, pub->id, 8);
	memcpy(mini + 10, pub->pk, 32);
	char *b64 = NULL;
	switch (form) {
	case CUSTOS_PUB_CUSTOS:
		b64 = b64_encode(pub->pk, 32);
		if (b64)
			buf_printf(&b, "custos-pubkey 1 %s %s\n", id, b64);
		break;
	case CUSTOS_PUB_SSH:
		b64 = b64_encode(blob, sizeof blob);
		if (b64)
			buf_printf(&b, "ssh-ed25519 %s custos:%s\n", b64, id);
		break;
	case CUSTOS_PUB_ALLOWED_SIGNERS:
		b64 = b64_encode(blob, sizeof blob);
		if (b64)
			buf_printf(&b, "%s namespaces=\"git\" ssh-ed25519 %s\n", principal, b64);
		break;
	case CUSTOS_PUB_MINISIGN: {
		char mid[17];
		minisign_keyid(mid, pub->id);
		b64 = b64_encode(mini, sizeof mini);
		if (b64)
			buf_printf(&b, "untrusted comment: minisign public key %s\n%s\n", mid, b64);
		break;
	}
	}
	free(b64);
	*out = buf_steal(&b, NULL);
	return *out ? 0 : CUSTOS_ERROR;
}

/* Find the first base64 token after `after` on the line starting at p. */
static int token_after(const char *p, size_t n, size_t start, const char **tok, size_t *tlen)
{
	size_t i = start;
	while (i < n && p[i] == ' ')
		i++;
	size_t s = i;
	while (i < n && p[i] != ' ' && p[i] != '\n' && p[i] != '\r')
		i++;
	if (i == s)
		return CUSTOS_EINVALID;
	*tok = p + s;
	*tlen = i - s;
	return 0;
}

static int parse_ssh_blob(custos_pubkey *out, const char *tok, size_t tlen)
{
	uint8_t blob[64], want[SSH_ED25519_BLOB_LEN];
	size_t got;
	if (b64_decode(blob, sizeof blob, &got, tok, tlen) < 0 || got != SSH_ED25519_BLOB_LEN)
		return custos_error_set(CUSTOS_EINVALID, "not an ssh-ed25519 public key");
	ssh_pubkey_blob(want, blob + 19);
	if (memcmp(blob, want, 19) != 0)
		return custos_error_set(CUSTOS_EINVALID, "not an ssh-ed25519 public key");
	return custos_pubkey_from_raw(out, blob + 19);
}

int custos_pubkey_parse(custos_pubkey *out, const char *text, size_t n)
{
	const char *tok;
	size_t tlen;
	const char *ed = memmem(text, n, "ssh-ed25519 ", 12);
	if (n >= 16 && memcmp(text, "custos-pubkey 1 ", 16) == 0) {
		uint8_t pk[32], id[8];
		size_t got;
		if (n < 16 + 17 || hex_decode(id, 8, text + 16, 16) < 0 ||
		    token_after(text, n, 16 + 17, &tok, &tlen) < 0 ||
		    b64_decode(pk, 32, &got, tok, tlen) < 0 || got != 32)
			return custos_error_set(CUSTOS_EINVALID, "malformed custos public key");
		custos_pubkey_from_raw(out, pk);
		if (memcmp(id, out->id, 8) != 0)
			return custos_error_set(CUSTOS_EINTEGRITY, "public key does not match its key id");
		return 0;
	}
	if (n >= 13 && memcmp(text, "custos-key 1\n", 13) == 0) {
		keyfile kf;
		int rc = parse_header(&kf, text, n);
		if (rc == 0)
			*out = kf.pub;
		return rc;
	}
	if (n >= 19 && memcmp(text, "untrusted comment: ", 19) == 0) {
		const char *nl = memchr(text, '\n', n);
		uint8_t raw[42];
		size_t got;
		if (!nl || token_after(text, n, (size_t)(nl - text) + 1, &tok, &tlen) < 0 ||
		    b64_decode(raw, sizeof raw, &got, tok, tlen) < 0 || got != 42 ||
		    memcmp(raw, "Ed", 2) != 0)
			return custos_error_set(CUSTOS_EINVALID, "malformed minisign public key");
		return custos_pubkey_from_raw(out, raw + 10);
	}
	if (ed && token_after(text, n, (size_t)(ed - text) + 12, &tok, &tlen) == 0)
		return parse_ssh_blob(out, tok, tlen);
	return custos_error_set(CUSTOS_EINVALID,
				"not a public key (expected custos, ssh-ed25519 or minisign form)");
}

int custos_pubkey_load(custos_pubkey *out, const char *path)
{
	uint8_t *text = NULL;
	size_t n = 0;
	int rc = fs_read_file(&text, &n, path, KEYFILE_MAX);
	if (rc < 0)
		return rc;
	rc = custos_pubkey_parse(out, (const char *)text, n);
	if (rc < 0)
		custos_error_wrap(rc, "%s", path);
	sodium_memzero(text, n);
	free(text);
	return rc;
}
