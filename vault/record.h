/*
 * record — the canonical text forms of item records, custody events and signature files
 * (FS §3–§5), and their strict parsers. A parser accepts exactly the bytes the encoder
 * would produce for the same values (it re-encodes and compares), so every record has one
 * and only one valid form and an item id names it unambiguously.
 */
#ifndef CUSTOS_RECORD_H
#define CUSTOS_RECORD_H

#include "common.h"

#define RECORD_MAX (1u << 20)       /* an item record is at most 1 MiB */
#define EVENT_MAX ((size_t)1 << 31) /* an event lists at most ~10^7 lines */

/* FS §3: bytes 0x21..0x7E other than '%' stand for themselves; all else is %XX. */
int esc_encode(buf *b, const uint8_t *p, size_t n);
int esc_decode(custos_bytes *out, const char *s, size_t n);

int record_encode(buf *b, const custos_record *r);
int record_parse(custos_record *out, const uint8_t *p, size_t n);
void record_clear(custos_record *r);
/* Item id = first 16 bytes of SHA-256(record bytes). */
int record_id(uint8_t id[CUSTOS_ITEM_ID_LEN], const uint8_t *p, size_t n);

enum { OUTCOME_STORED = 0, OUTCOME_DUPLICATE = 1 };

typedef struct event_item {
	uint8_t id[CUSTOS_ITEM_ID_LEN];
	int outcome;
} event_item;

typedef struct event_refusal {
	char reason[32];
	char *path_esc; /* as written: escaped */
} event_refusal;

/* One container opened (or not, past the depth limit) during an ingest (FS §5.2). */
typedef struct event_container {
	uint8_t id[CUSTOS_ITEM_ID_LEN]; /* the container's item */
	char result[32];                /* "complete", "corrupt", "limit:depth", ... */
	uint64_t members;               /* members read (each an item of this event) */
	uint64_t consumed;              /* bytes of the container read when it ended */
	custos_bytes format;            /* libarchive's name for the format, may be empty */
	custos_bytes detail;            /* why it ended early, human text, may be empty */
} event_container;

/* A source's public key (FS §12): minisign or ssh-ed25519, both Ed25519. The key number
 * is minisign's (random, in its key file) or, for ssh keys, the custos key id (§2.1). */
typedef struct source_key {
	char scheme[16]; /* "minisign" | "ssh-ed25519" */
	uint8_t keynum[8];
	uint8_t pk[32];
} source_key;

typedef struct event {
	char vault[2 * CUSTOS_VAULT_ID_LEN + 1];
	uint64_t seq;
	uint8_t prev[32];
	int64_t time;
	uint8_t custodian[CUSTOS_KEYID_LEN];
	char action[32];
	/* init */
	custos_bytes name;
	uint8_t pubkey[32];
	/* ingest */
	custos_bytes source, note;
	char **inputs; /* escaped */
	size_t n_inputs;
	event_item *items;
	size_t n_items;
	event_container *containers;
	size_t n_containers;
	event_refusal *refused;
	size_t n_refused;
	/* checkpoint, cosignature (FS §9.4): the tree size and root they concern */
	uint64_t tree_size;
	uint8_t root[32];
	uint8_t note_sig[4 + 64]; /* checkpoint: key id ‖ signature of its note line */
	char *witness;            /* cosignature: the witness's verifier key */
	uint8_t cosig[4 + 72];    /* cosignature: key id ‖ time ‖ signature */
	/* source (FS §12): name in `name`, note in `note`; its key when it has one */
	bool has_source_key;
	source_key source_key;
	/* ingest by a source with a key: the detached signature over the first input and the
	 * verdict custos reached ("good" | "bad") */
	bool has_source_sig;
	char source_verdict[8];
	char source_sig_scheme[16];
	uint8_t source_sig_keynum[8];
	custos_bytes source_sig;
	/* import (FS §11.4): a bundle's events from..to of the origin's log, now headed by
	 * commit head, taken into a replica */
	uint8_t bundle[32];
	uint64_t from, to;
	uint8_t head[20];
	/* dkim-key and analysis (FS §13): the lines after the action line, as written (without
	 * their LF); each is checked by evidence_lines_check (evidence.h) */
	char **lines;
	size_t n_lines;
} event;

int event_encode(buf *b, const event *e);
int event_parse(event *out, const uint8_t *p, size_t n);
void event_clear(event *e);
/* Does the event list this item? */
const event_item *event_find_item(const event *e, const uint8_t id[CUSTOS_ITEM_ID_LEN]);

/* Signature file (FS §5.4): "ed25519 <keyid> <base64 sig>\n". */
int sigfile_encode(buf *b, const uint8_t keyid[CUSTOS_KEYID_LEN], const uint8_t sig[64]);
int sigfile_parse(uint8_t keyid[CUSTOS_KEYID_LEN], uint8_t sig[64], const uint8_t *p, size_t n);

#endif
