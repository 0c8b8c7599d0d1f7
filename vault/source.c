/*
 * source.c — sources (FS §12): pseudonymous sources registered as custody events, with an
 * optional Ed25519 key (minisign or ssh-ed25519) that signs what they submit; the check of
 * a detached signature over a submission at ingest.
 */
#include "source.h"

#include "digest.h"
#include "keys.h"
#include "minisig.h"
#include "sshsig.h"
#include "vault.h"

#include <stdio.h>
#include <stdlib.h>

#define SOURCE_SIG_MAX ((size_t)64 << 10)

/* A minisign public key file: "untrusted comment: ...\n" + base64("Ed" ‖ keynum ‖ pk). */
static int parse_minisign(source_key *k, const char *p, size_t n)
{
	const char *nl = memchr(p, '\n', n);
	uint8_t raw[42];
	size_t got = 0;
	if (!nl || n < 19 || memcmp(p, "untrusted comment:", 18) != 0)
		return -1;
	const char *b = nl + 1, *end = p + n;
	while (end > b && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	if (b64_decode(raw, sizeof raw, &got, b, (size_t)(end - b)) < 0 || got != sizeof raw ||
	    memcmp(raw, "Ed", 2) != 0)
		return -1;
	strcpy(k->scheme, "minisign");
	memcpy(k->keynum, raw + 2, 8);
	memcpy(k->pk, raw + 10, 32);
	return 0;
}

int source_key_parse(source_key *k, const char *p, size_t n)
{
	memset(k, 0, sizeof *k);
	if (parse_minisign(k, p, n) == 0)
		return 0;
	custos_pubkey pub;
	if (n > 12 && memcmp(p, "ssh-ed25519 ", 12) == 0 && custos_pubkey_parse(&pub, p, n) == 0) {
		strcpy(k->scheme, "ssh-ed25519");
		memcpy(k->keynum, pub.id, 8);
		memcpy(k->pk, pub.pk, 32);
		return 0;
	}
	return custos_error_set(CUSTOS_EINVALID,
				"not a source key: give a minisign public key file or an "
				"ssh-ed25519 public key line");
}

/* ------------------------------------------------------------ the registry */

typedef struct scan {
	custos_vault *v;
	source_entry *s;
	size_t n, cap;
} scan;

static source_entry *find(scan *sc, const uint8_t *name, size_t n)
{
	for (size_t i = 0; i < sc->n; i++)
		if (sc->s[i].name.n == n && memcmp(sc->s[i].name.p, name, n) == 0)
			return &sc->s[i];
	return NULL;
}

static int add_entry(scan *sc, const event *ev)
{
	if (array_grow(&sc->s, &sc->cap, sc->n, sizeof *sc->s, 16) < 0)
		return CUSTOS_ERROR;
	source_entry *e = &sc->s[sc->n];
	memset(e, 0, sizeof *e);
	e->name.p = malloc(ev->name.n + 1);
	e->note.p = malloc(ev->note.n + 1);
	if (!e->name.p || !e->note.p) {
		free(e->name.p);
		free(e->note.p);
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	}
	memcpy(e->name.p, ev->name.p, ev->name.n);
	e->name.p[ev->name.n] = 0;
	e->name.n = ev->name.n;
	if (ev->note.n)
		memcpy(e->note.p, ev->note.p, ev->note.n);
	e->note.p[ev->note.n] = 0;
	e->note.n = ev->note.n;
	e->seq = ev->seq;
	e->time = ev->time;
	e->has_key = ev->has_source_key;
	e->key = ev->source_key;
	sc->n++;
	return 0;
}

static int scan_commit(const uint8_t oid[20], void *ud)
{
	scan *sc = ud;
	event ev;
	custody_commit cc;
	int rc = vault_read_event(sc->v, oid, &ev, &cc);
	if (rc < 0)
		return rc;
	if (strcmp(ev.action, "source") == 0 && !find(sc, ev.name.p, ev.name.n)) {
		rc = add_entry(sc, &ev);
	} else if (strcmp(ev.action, "ingest") == 0 && ev.source.n) {
		source_entry *e = find(sc, ev.source.p, ev.source.n);
		if (e) {
			e->ingests++;
			if (ev.has_source_sig && strcmp(ev.source_verdict, "good") == 0)
				e->good++;
			else if (ev.has_source_sig)
				e->bad++;
		}
	}
	event_clear(&ev);
	custody_commit_clear(&cc);
	return rc;
}

void source_list_free(source_entry *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(s[i].name.p);
		free(s[i].note.p);
	}
	free(s);
}

int source_list(custos_vault *v, source_entry **out, size_t *n)
{
	uint8_t head[20];
	scan sc = {.v = v};
	*out = NULL;
	*n = 0;
	int rc = v->empty ? CUSTOS_ENOTFOUND : custody_head(v->log, head);
	if (rc == CUSTOS_ENOTFOUND)
		return 0;
	if (rc == 0)
		rc = custody_walk(v->log, head, scan_commit, &sc);
	if (rc < 0) {
		source_list_free(sc.s, sc.n);
		return rc;
	}
	*out = sc.s;
	*n = sc.n;
	return 0;
}

int source_lookup(custos_vault *v, const char *name, source_entry *out)
{
	source_entry *all = NULL;
	size_t n = 0;
	int rc = source_list(v, &all, &n);
	scan sc = {.s = all, .n = n};
	source_entry *e = rc == 0 ? find(&sc, (const uint8_t *)name, strlen(name)) : NULL;
	if (rc == 0 && !e)
		rc = custos_error_set(CUSTOS_ENOTFOUND,
				      "no source named '%s': register it with 'custos source add'",
				      name);
	if (e) {
		*out = *e;
		e->name.p = e->note.p = NULL; /* moved out */
	}
	source_list_free(all, n);
	return rc;
}

int custos_sources_foreach(custos_vault *v, custos_source_fn fn, void *ud)
{
	source_entry *all = NULL;
	size_t n = 0;
	int rc = source_list(v, &all, &n);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const source_entry *e = &all[i];
		custos_source s = {.name = e->name, .note = e->note, .seq = e->seq, .time = e->time,
				   .has_key = e->has_key, .ingests = e->ingests, .good = e->good,
				   .bad = e->bad};
		if (e->has_key) {
			snprintf(s.scheme, sizeof s.scheme, "%s", e->key.scheme);
			custos_hex(s.keynum, e->key.keynum, 8);
			memcpy(s.pk, e->key.pk, 32);
		}
		rc = fn(&s, ud);
	}
	source_list_free(all, n);
	return rc;
}

int custos_source_add(custos_vault *v, const custos_key *key, const char *name,
		      const char *key_text, size_t key_len, const char *note, uint64_t *seq)
{
	event ev = {0};
	source_entry existing;
	if (!name || !*name)
		return custos_error_set(CUSTOS_EINVALID, "a source needs a name");
	if (key_text && source_key_parse(&ev.source_key, key_text, key_len) < 0)
		return CUSTOS_EINVALID;
	ev.has_source_key = key_text != NULL;
	int rc = source_lookup(v, name, &existing);
	if (rc == 0) {
		free(existing.name.p);
		free(existing.note.p);
		return custos_error_set(CUSTOS_EEXISTS, "a source named '%s' exists (event %llu)", name,
					(unsigned long long)existing.seq);
	}
	if (rc != CUSTOS_ENOTFOUND)
		return rc;
	custos_error_clear();
	char summary[128];
	if ((rc = vault_event_begin(v, key, &ev, "source")) < 0)
		return rc;
	ev.name = (custos_bytes){(uint8_t *)name, strlen(name)};
	if (note)
		ev.note = (custos_bytes){(uint8_t *)note, strlen(note)};
	snprintf(summary, sizeof summary, "source: %.100s", name);
	rc = vault_commit_event(v, key, &ev, summary, NULL, NULL, NULL);
	if (rc == 0 && seq)
		*seq = ev.seq;
	return rc;
}

/* ------------------------------------------------------------ signed submissions */

int source_check_signature(const source_entry *src, const char *sig_path, const char *file,
			   event *ev)
{
	uint8_t *sig = NULL, b2[64], s512[64];
	size_t sn = 0;
	digest_result dr;
	if (!src->has_key)
		return custos_error_set(CUSTOS_EINVALID,
					"source '%s' has no key: a signature cannot be checked",
					(const char *)src->name.p);
	int rc = custos_file_read(sig_path, SOURCE_SIG_MAX, &sig, &sn);
	if (rc == 0)
		rc = digest_file(file, CUSTOS_HASH_SHA512 | CUSTOS_HASH_BLAKE2B, &dr);
	if (rc < 0) {
		free(sig);
		return rc;
	}
	hex_decode(s512, 64, dr.extra_hex[2], 128);
	hex_decode(b2, 64, dr.extra_hex[3], 128);
	custos_pubkey pub;
	custos_pubkey_from_raw(&pub, src->key.pk);
	bool good;
	if (strcmp(src->key.scheme, "minisign") == 0) {
		good = minisig_verify_keynum(&pub, src->key.keynum, sig, sn, b2, NULL) == 0;
	} else {
		custos_pubkey signer;
		good = sshsig_verify_digest(&signer, (const char *)sig, sn, "file", dr.sha256, s512) == 0 &&
		       pubkey_equal(&signer, &pub);
	}
	custos_error_clear();
	ev->has_source_sig = true;
	strcpy(ev->source_verdict, good ? "good" : "bad");
	snprintf(ev->source_sig_scheme, sizeof ev->source_sig_scheme, "%s", src->key.scheme);
	memcpy(ev->source_sig_keynum, src->key.keynum, 8);
	ev->source_sig = (custos_bytes){sig, sn};
	return good ? 0 : 1;
}
