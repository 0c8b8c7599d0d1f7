/*
 * source — sources and their signed submissions (FS §12), in source.c.
 */
#ifndef CUSTOS_SOURCE_H
#define CUSTOS_SOURCE_H

#include "common.h"
#include "record.h"

/* Parse a minisign public key file or an ssh-ed25519 public key line. */
int source_key_parse(source_key *k, const char *p, size_t n);

/* A registered source, as the log tells it. */
typedef struct source_entry {
	custos_bytes name, note;
	uint64_t seq;
	int64_t time;
	bool has_key;
	source_key key;
	uint64_t ingests, good, bad;
} source_entry;

/* Every source registered, in order (the first registration of a name counts). */
int source_list(custos_vault *v, source_entry **out, size_t *n);
void source_list_free(source_entry *s, size_t n);
/* One source by name; CUSTOS_ENOTFOUND (with a hint) when none. Free name.p and note.p. */
int source_lookup(custos_vault *v, const char *name, source_entry *out);
/* Check a detached signature (minisign ED, or SSHSIG in namespace "file") over `file` with
 * the source's key, and set the ingest event's source-signature fields (taking the
 * signature bytes). 0 when good, 1 when bad, <0 when it could not be checked. */
int source_check_signature(const source_entry *src, const char *sig_path, const char *file,
			   event *ev);

#endif
