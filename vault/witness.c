/*
 * witness.c — a witness (FS §9.7): an Ed25519 key of its own and, per log it follows,
 * the last checkpoint it cosigned. It cosigns a checkpoint only if the log's key signed
 * it and, when it has cosigned an earlier one, a consistency proof shows the new tree
 * extends that one. The witness may live on another air-gapped machine: checkpoints
 * and proofs come to it as small files, and every byte of them is treated as hostile.
 *
 *   <dir>/WITNESS             "custos-witness 1\nname <name>\n"
 *   <dir>/witness.key         the witness's key file (FS §2), written by the caller
 *   <dir>/logs/<hex32>        one per log: SHA-256(origin)[:16] names it
 *       custos-witness-log 1
 *       vkey <the log's verifier key>
 *       [size <u64>]            the last checkpoint cosigned, once there is one
 *       [root <base64>]
 */
#include "fsutil.h"
#include "keys.h"
#include "merkle.h"
#include "note.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define WITNESS_FILE_MAX 4096

static char *witness_path(const char *dir, const char *rel)
{
	return path_join(dir, rel);
}

int custos_witness_init(const char *dir, const char *name)
{
	if (!note_name_ok(name))
		return custos_error_set(CUSTOS_EINVALID,
					"'%s' cannot name a witness: use 1-255 printable ASCII "
					"characters without spaces or '+'",
					name);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return custos_error_errno(CUSTOS_ERROR, "cannot create %s", dir);
	char *marker = witness_path(dir, "WITNESS"), *logs = witness_path(dir, "logs");
	buf b;
	buf_init(&b, WITNESS_FILE_MAX);
	buf_printf(&b, "custos-witness 1\nname %s\n", name);
	int rc = marker && logs ? buf_check(&b) : CUSTOS_ERROR;
	if (rc == 0 && mkdir(logs, 0700) != 0 && errno != EEXIST)
		rc = custos_error_errno(CUSTOS_ERROR, "cannot create %s", logs);
	if (rc == 0)
		rc = fs_atomic_write(marker, b.p, b.n, 0600, true);
	if (rc == CUSTOS_EEXISTS)
		rc = custos_error_set(CUSTOS_EEXISTS, "%s is already a witness", dir);
	buf_free(&b);
	free(marker);
	free(logs);
	return rc;
}

int custos_witness_name(const char *dir, char **out)
{
	char *marker = witness_path(dir, "WITNESS");
	uint8_t *t = NULL;
	size_t n = 0;
	*out = NULL;
	int rc = marker ? fs_read_file(&t, &n, marker, WITNESS_FILE_MAX) : CUSTOS_ERROR;
	if (rc == CUSTOS_ENOTFOUND)
		rc = custos_error_set(CUSTOS_ENOTFOUND,
				      "%s is not a witness (no WITNESS file); run 'custos witness init'",
				      dir);
	const char *head = "custos-witness 1\nname ";
	size_t hl = strlen(head);
	if (rc == 0) {
		if (n <= hl + 1 || memcmp(t, head, hl) != 0 || t[n - 1] != '\n' ||
		    memchr(t + hl, '\n', n - hl - 1))
			rc = custos_error_set(CUSTOS_EINTEGRITY, "%s: not a witness file", marker);
		else if (memchr(t + hl, '\0', n - hl - 1) ||
			 !(*out = xstrndup((char *)t + hl, n - hl - 1)) || !note_name_ok(*out))
			rc = custos_error_set(CUSTOS_EINTEGRITY, "%s: bad witness name", marker);
	}
	free(t);
	free(marker);
	return rc;
}

char *custos_witness_vkey(const char *name, const custos_pubkey *pub)
{
	note_vkey w;
	return note_vkey_make(&w, name, NOTE_COSIGNATURE, pub->pk) == 0 ? note_vkey_format(&w) : NULL;
}

/* ------------------------------------------------------------ per-log state */

typedef struct log_state {
	note_vkey vkey;
	bool has_cp;
	uint64_t size;
	merkle_hash root;
} log_state;

static char *log_path(const char *dir, const char *origin)
{
	uint8_t h[32];
	char hex[33], rel[48];
	crypto_hash_sha256(h, (const uint8_t *)origin, strlen(origin));
	custos_hex(hex, h, 16);
	snprintf(rel, sizeof rel, "logs/%s", hex);
	return witness_path(dir, rel);
}

static int state_parse(log_state *st, const uint8_t *p, size_t n)
{
	const char *s = (const char *)p, *end = s + n;
	const char *l[4] = {0};
	size_t ll[4] = {0}, k = 0;
	while (s < end && k < 4) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		if (!nl)
			return CUSTOS_EINTEGRITY;
		l[k] = s;
		ll[k++] = (size_t)(nl - s);
		s = nl + 1;
	}
	size_t rl = 0;
	if (s != end || (k != 2 && k != 4) || ll[0] != 20 || memcmp(l[0], "custos-witness-log 1", 20) != 0 ||
	    ll[1] < 6 || memcmp(l[1], "vkey ", 5) != 0 ||
	    note_vkey_parse(&st->vkey, l[1] + 5, ll[1] - 5) < 0)
		return CUSTOS_EINTEGRITY;
	if (k == 2)
		return 0;
	st->has_cp = true;
	if (ll[2] < 6 || memcmp(l[2], "size ", 5) != 0 || u64_parse(&st->size, l[2] + 5, ll[2] - 5) < 0 ||
	    ll[3] < 6 || memcmp(l[3], "root ", 5) != 0 ||
	    b64_decode(st->root, 32, &rl, l[3] + 5, ll[3] - 5) < 0 || rl != 32)
		return CUSTOS_EINTEGRITY;
	return 0;
}

static int state_load(log_state *st, const char *path)
{
	uint8_t *t = NULL;
	size_t n = 0;
	memset(st, 0, sizeof *st);
	int rc = fs_read_file(&t, &n, path, WITNESS_FILE_MAX);
	if (rc == 0 && state_parse(st, t, n) < 0)
		rc = custos_error_set(CUSTOS_EINTEGRITY, "%s: damaged witness state", path);
	free(t);
	return rc;
}

static int state_store(const log_state *st, const char *path, bool create)
{
	char *vk = note_vkey_format(&st->vkey);
	buf b;
	buf_init(&b, WITNESS_FILE_MAX);
	buf_printf(&b, "custos-witness-log 1\nvkey %s\n", vk ? vk : "");
	if (st->has_cp) {
		char *root = b64_encode(st->root, 32);
		buf_printf(&b, "size %llu\nroot %s\n", (unsigned long long)st->size, root ? root : "");
		free(root);
	}
	int rc = vk ? buf_check(&b) : CUSTOS_ERROR;
	if (rc == 0)
		rc = fs_atomic_write(path, b.p, b.n, 0600, create);
	buf_free(&b);
	free(vk);
	return rc;
}

int custos_witness_add_log(const char *dir, const char *log_vkey)
{
	log_state st = {0}, old;
	char *name = NULL;
	int rc = custos_witness_name(dir, &name);
	free(name);
	if (rc < 0)
		return rc;
	if ((rc = note_vkey_parse(&st.vkey, log_vkey, strlen(log_vkey))) < 0)
		return rc;
	if (st.vkey.type != NOTE_ED25519)
		return custos_error_set(CUSTOS_EINVALID, "%s is not a log (signer) key", st.vkey.name);
	char *path = log_path(dir, st.vkey.name);
	rc = path ? state_store(&st, path, true) : CUSTOS_ERROR;
	if (rc == CUSTOS_EEXISTS && state_load(&old, path) == 0)
		rc = memcmp(&old.vkey, &st.vkey, sizeof st.vkey) == 0
			     ? 0
			     : custos_error_set(CUSTOS_EEXISTS,
						"the witness already follows %s under another key",
						st.vkey.name);
	free(path);
	return rc;
}

/* ------------------------------------------------------------ cosigning */

static int refuse(const char **reason, const char *why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int refuse(const char **reason, const char *why, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	*reason = why;
	return custos_error_set(CUSTOS_EINTEGRITY, "%s: %s", why, msg);
}

/* Does the new checkpoint extend what the witness last cosigned? */
static int check_extension(const log_state *st, const checkpoint_text *ct, const uint8_t *proof,
			   size_t pn, const char **reason)
{
	if (!st->has_cp)
		return 0; /* the first checkpoint seen of this log: nothing to extend */
	if (ct->size < st->size)
		return refuse(reason, "rollback",
			      "the checkpoint has %llu leaves; this witness cosigned %llu already",
			      (unsigned long long)ct->size, (unsigned long long)st->size);
	if (ct->size == st->size)
		return sodium_memcmp(ct->root, st->root, 32) == 0
			       ? 0
			       : refuse(reason, "fork",
					"a different root for tree size %llu, which this witness "
					"cosigned already",
					(unsigned long long)ct->size);
	if (!proof)
		return refuse(reason, "proof-required",
			      "a consistency proof from tree size %llu is needed (custos checkpoint "
			      "--consistency-from)",
			      (unsigned long long)st->size);
	consistency *c = malloc(sizeof *c);
	int rc = c ? 0 : custos_error_set(CUSTOS_ERROR, "out of memory");
	if (rc == 0 && (pn > CONSISTENCY_MAX || consistency_parse(c, proof, pn) < 0))
		rc = refuse(reason, "bad-proof", "the consistency proof file is malformed");
	else if (rc == 0 && (strcmp(c->origin, ct->origin) != 0 || c->old_size != st->size ||
			     c->new_size != ct->size))
		rc = refuse(reason, "bad-proof",
			    "the proof is from size %llu to %llu of %s; needed: from %llu to %llu",
			    (unsigned long long)c->old_size, (unsigned long long)c->new_size,
			    c->origin, (unsigned long long)st->size, (unsigned long long)ct->size);
	if (rc == 0) {
		merkle_bytes hs[MERKLE_MAX_PROOF];
		for (size_t i = 0; i < c->n; i++)
			hs[i] = (merkle_bytes){c->h[i], 32};
		if (merkle_verify_consistency(st->size, ct->size, (merkle_bytes){st->root, 32},
					      (merkle_bytes){ct->root, 32}, hs, c->n) < 0)
			rc = refuse(reason, "inconsistent",
				    "the tree of size %llu does not extend the one this witness "
				    "cosigned at size %llu (a fork, or a bad proof): %s",
				    (unsigned long long)ct->size, (unsigned long long)st->size,
				    custos_error_last());
	}
	free(c);
	return rc;
}

static int lock_dir(const char *dir, int *fd)
{
	*fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0)
		return custos_error_errno(CUSTOS_ERROR, "cannot open %s", dir);
	if (flock(*fd, LOCK_EX | LOCK_NB) != 0)
		return custos_error_set(CUSTOS_ELOCKED, "witness %s is in use by another process", dir);
	return 0;
}

static int cosign_note(buf *out, const note *nt, const uint8_t *p, size_t n, const char *name,
		       const custos_key *key)
{
	note_vkey w;
	uint8_t bytes[72];
	buf m;
	uint64_t ts = (uint64_t)now_utc();
	buf_init(&m, NOTE_MAX + 64);
	note_cosig_message(&m, nt->text, nt->text_len, ts);
	be64_store(bytes, ts);
	int rc = note_vkey_make(&w, name, NOTE_COSIGNATURE, custos_key_public(key)->pk);
	if (rc == 0)
		rc = buf_check(&m) == 0 ? key_sign(bytes + 8, key, m.p, m.n) : CUSTOS_ERROR;
	if (rc == 0) {
		buf_put(out, p, n);
		note_sig_format(out, w.name, w.keyid, bytes, sizeof bytes);
		rc = buf_check(out);
	}
	buf_free(&m);
	return rc;
}

int custos_witness_cosign(const char *dir, const custos_key *key, const uint8_t *p, size_t n,
			  const uint8_t *proof, size_t pn, char **out, size_t *out_len,
			  const char **reason)
{
	note *nt = malloc(sizeof *nt);
	checkpoint_text ct;
	log_state st;
	char *name = NULL, *path = NULL;
	int lock = -1;
	buf b;
	*out = NULL;
	*reason = NULL;
	buf_init(&b, NOTE_MAX + 512);
	int rc = nt ? custos_witness_name(dir, &name) : custos_error_set(CUSTOS_ERROR, "out of memory");
	if (rc == 0)
		rc = lock_dir(dir, &lock);
	if (rc == 0 && (note_parse(nt, p, n) < 0 || checkpoint_text_parse(&ct, nt->text, nt->text_len) < 0))
		rc = refuse(reason, "malformed", "%s", custos_error_last());
	if (rc == 0 && !(path = log_path(dir, ct.origin)))
		rc = CUSTOS_ERROR;
	if (rc == 0 && (rc = state_load(&st, path)) == CUSTOS_ENOTFOUND)
		rc = refuse(reason, "unknown-log",
			    "this witness does not follow %s; add its key with 'custos witness add-log'",
			    ct.origin);
	if (rc == 0 && note_verify(nt, &st.vkey, NULL) < 0)
		rc = refuse(reason, "bad-signature", "the checkpoint is not signed by the key of %s",
			    ct.origin);
	if (rc == 0 && ct.size == 0)
		rc = refuse(reason, "malformed", "a checkpoint of an empty log");
	if (rc == 0)
		rc = check_extension(&st, &ct, proof, pn, reason);
	/* The new state is durable before the cosignature exists: a crash in between at worst
	 * means cosigning the same checkpoint again, which is allowed. */
	if (rc == 0 && (!st.has_cp || st.size != ct.size)) {
		st.has_cp = true;
		st.size = ct.size;
		memcpy(st.root, ct.root, 32);
		rc = state_store(&st, path, false);
	}
	if (rc == 0)
		rc = cosign_note(&b, nt, p, n, name, key);
	if (rc == 0) {
		buf_putc(&b, '\0');
		*out = buf_steal(&b, out_len);
		(*out_len)--;
	} else {
		buf_free(&b);
	}
	if (lock >= 0)
		close(lock);
	free(nt);
	free(name);
	free(path);
	return rc;
}
