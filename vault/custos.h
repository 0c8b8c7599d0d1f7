/*
 * custos.h — the public API of libcustos, the evidence-integrity vault.
 *
 * Everything the `custos` program does goes through these functions. The library never
 * prints and never exits; a function that can fail returns 0 or a negative CUSTOS_E* code
 * and leaves a message for custos_error_last(). Objects returned through an `out`
 * parameter belong to the caller and are released with the matching *_free() function,
 * which accepts NULL.
 *
 * The on-disk formats are specified normatively in format-spec/ (cited as FS §n).
 */
#ifndef CUSTOS_H
#define CUSTOS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- errors */

enum {
	CUSTOS_OK = 0,
	CUSTOS_ERROR = -1,       /* operational failure: I/O, resources */
	CUSTOS_ENOTFOUND = -2,   /* no such item, object, key or vault */
	CUSTOS_EINTEGRITY = -3,  /* a check failed: data corrupt, forged or inconsistent */
	CUSTOS_EINVALID = -4,    /* malformed argument or input form */
	CUSTOS_EAMBIGUOUS = -5,  /* a prefix matches more than one thing */
	CUSTOS_ELIMIT = -6,      /* a configured limit was exceeded */
	CUSTOS_EEXISTS = -7,     /* refusing to overwrite */
	CUSTOS_EPASSPHRASE = -8, /* wrong passphrase, or none available */
	CUSTOS_ELOCKED = -9,     /* another process holds the vault */
	CUSTOS_EPERM = -10,      /* unsafe permissions, wrong key for this vault */
};

/* The message of the last failure on this thread ("" if none). */
const char *custos_error_last(void);

/* Initialise the libraries custos depends on. Call once before anything else. */
int custos_global_init(void);
void custos_global_shutdown(void);

/* Secret memory (libsodium guarded pages). Used for passphrases. */
void *custos_secret_alloc(size_t n);
void custos_secret_free(void *p);

/* ---------------------------------------------------------------- keys */

#define CUSTOS_KEYID_LEN 8

typedef struct custos_pubkey {
	uint8_t pk[32];
	uint8_t id[CUSTOS_KEYID_LEN];
} custos_pubkey;

typedef struct custos_key custos_key;

enum custos_kdf_cost { CUSTOS_KDF_INTERACTIVE, CUSTOS_KDF_MODERATE, CUSTOS_KDF_SENSITIVE };

enum custos_pubkey_form {
	CUSTOS_PUB_CUSTOS,          /* "custos-pubkey 1 <keyid> <base64>" */
	CUSTOS_PUB_SSH,             /* "ssh-ed25519 <base64> <comment>" */
	CUSTOS_PUB_ALLOWED_SIGNERS, /* "<principal> namespaces=\"git\" ssh-ed25519 <base64>" */
	CUSTOS_PUB_MINISIGN,        /* minisign public key file (two lines) */
};

/* Asked for a passphrase when a sealed key is loaded. Must return memory from
 * custos_secret_alloc() in *out (NUL-terminated) and its length in *len, or a negative
 * code. */
typedef int (*custos_passphrase_fn)(char **out, size_t *len, void *ud);

int custos_key_generate(custos_key **out);
/* Write a key file with O_EXCL and mode 0600. pass == NULL writes it unsealed. */
int custos_key_write(const custos_key *key, const char *path, const char *pass, size_t passlen,
		     enum custos_kdf_cost cost);
/* Load a key file; refuses files readable by group or others. */
int custos_key_load(custos_key **out, const char *path, custos_passphrase_fn ask, void *ud);
void custos_key_free(custos_key *key);
const custos_pubkey *custos_key_public(const custos_key *key);
/* 1 if the key file at path is sealed with a passphrase, 0 if not, <0 on error. */
int custos_key_file_is_sealed(const char *path);

/* Read a public key from any of: a key file, a custos/ssh/minisign public key (file or
 * text). */
int custos_pubkey_load(custos_pubkey *out, const char *path);
int custos_pubkey_parse(custos_pubkey *out, const char *text, size_t len);
int custos_pubkey_from_raw(custos_pubkey *out, const uint8_t pk[32]);
/* Format a public key; *out is malloc'd text ending in "\n". */
int custos_pubkey_format(char **out, const custos_pubkey *pub, enum custos_pubkey_form form);
void custos_keyid_hex(char out[2 * CUSTOS_KEYID_LEN + 1], const uint8_t id[CUSTOS_KEYID_LEN]);
/* The git/ssh principal custos uses for a key: "<keyid>@custos.invalid". */
void custos_principal(char out[64], const custos_pubkey *pub);

/* ---------------------------------------------------------------- bytes helpers */

/* Render bytes for a human: printable UTF-8 as is, everything else as \xHH, '\' as "\\". */
char *custos_printable(const uint8_t *p, size_t n);
/* JSON string body (without quotes) of bytes; invalid UTF-8 bytes become \u00HH escapes
 * of U+DC80..U+DCFF surrogate-escape code points written as "\udcHH". */
char *custos_json_escape(const uint8_t *p, size_t n);
void custos_hex(char *out, const uint8_t *p, size_t n);
/* UTC time as YYYY-MM-DDTHH:MM:SSZ */
void custos_time_format(char out[21], int64_t t);

/* ---------------------------------------------------------------- vault */

typedef struct custos_vault custos_vault;

#define CUSTOS_VAULT_ID_LEN 16
#define CUSTOS_ITEM_ID_LEN 16 /* bytes; printed as 32 hex digits */

enum { CUSTOS_OPEN_READ = 0, CUSTOS_OPEN_WRITE = 1 };

typedef struct custos_vault_info {
	char id[2 * CUSTOS_VAULT_ID_LEN + 1];
	char *name;
	int64_t created;
	custos_pubkey owner;
	uint64_t events;        /* number of custody events (head seq + 1) */
	char head[41];          /* head commit of custody.git */
	int format_version;
	int replica;            /* mirrors another custodian's log (FS §11.4) */
} custos_vault_info;

int custos_vault_init(custos_vault **out, const char *dir, const char *name, const custos_key *key);
/* Make an empty replica of the vault owned by `origin` (FS §11.4): it takes in that vault's
 * log through custos_import; `key` is the replica's own custodian, who signs its imports. */
int custos_replica_init(const char *dir, const custos_pubkey *origin, const custos_key *key);
int custos_vault_open(custos_vault **out, const char *dir, int mode);
void custos_vault_close(custos_vault *v);
const custos_vault_info *custos_vault_get_info(const custos_vault *v);
const char *custos_vault_path(const custos_vault *v);
/* Rebuild the derived index from custody.git and objects/ (vault opened for writing). */
int custos_vault_reindex(custos_vault *v);
/* 1 if dir looks like a vault (has a VAULT marker), else 0. */
int custos_vault_detect(const char *dir);

/* ---------------------------------------------------------------- item records */

/* Files on disk are file or symlink; a container's members may be any of them (FS §4). */
enum custos_item_kind {
	CUSTOS_KIND_FILE = 0,
	CUSTOS_KIND_SYMLINK,
	CUSTOS_KIND_HARDLINK,
	CUSTOS_KIND_DIRECTORY,
	CUSTOS_KIND_CHARDEV,
	CUSTOS_KIND_BLOCKDEV,
	CUSTOS_KIND_FIFO,
	CUSTOS_KIND_SOCKET,
	CUSTOS_KIND_OTHER,
	CUSTOS_KIND_COUNT
};
/* "file", "symlink", ... as written in records. */
const char *custos_kind_name(int kind);
/* Does this kind carry a link target? */
static inline int custos_kind_has_target(int kind)
{
	return kind == CUSTOS_KIND_SYMLINK || kind == CUSTOS_KIND_HARDLINK;
}

enum custos_hash_alg {
	CUSTOS_HASH_MD5 = 1 << 0,
	CUSTOS_HASH_SHA1 = 1 << 1,
	CUSTOS_HASH_SHA512 = 1 << 2,
	CUSTOS_HASH_BLAKE2B = 1 << 3,
};

/* Parse "md5,sha1,sha512,blake2b" (any subset) into enum custos_hash_alg bits. */
int custos_hash_algs_parse(unsigned *out, const char *list);

typedef struct custos_bytes {
	uint8_t *p; /* NUL-terminated for convenience; may contain NULs only if n says so */
	size_t n;
} custos_bytes;

/* A parsed item record (FS §4). Optional text fields are NULL/empty when absent. */
typedef struct custos_record {
	char vault[2 * CUSTOS_VAULT_ID_LEN + 1];
	uint64_t seq;     /* the custody event that received it */
	uint64_t n;       /* its position within that event */
	int kind;         /* enum custos_item_kind */
	uint8_t sha256[32];
	uint64_t size;
	custos_bytes name;   /* original name, as bytes */
	custos_bytes path;   /* path relative to the ingest root, as bytes */
	custos_bytes source; /* n == 0 when absent */
	custos_bytes target; /* link target; n == 0 unless custos_kind_has_target(kind) */
	int has_mtime;
	int64_t mtime;
	/* A member of a container (FS §4.1): set exactly when is_member. */
	int is_member;
	uint8_t container[CUSTOS_ITEM_ID_LEN]; /* the container's item id */
	uint64_t member;                       /* its position in the container, from 0 */
	uint32_t mode;                         /* permission bits as recorded, <= 07777 */
	char outcome[32];                      /* "ok", "encrypted", "corrupt", "limit:..." */
	char *mime;
	char *description;
	char *ext_mismatch; /* the extension that disagrees with the type, or NULL */
	char md5[33], sha1[41], sha512[129], blake2b[129]; /* "" when not asked for */
	int64_t ingested;
	uint8_t custodian[CUSTOS_KEYID_LEN];
} custos_record;

/* An item as held in the vault: record, identity, signature, where it was committed. */
typedef struct custos_item {
	uint8_t id[CUSTOS_ITEM_ID_LEN];
	char id_hex[2 * CUSTOS_ITEM_ID_LEN + 1];
	custos_record rec;
	char *outcome; /* "stored" or "duplicate", from the event that lists it */
	char commit[41];
	int sig_ok;    /* record signature verifies with the vault owner's key */
} custos_item;

void custos_item_free(custos_item *item);

/* Resolve ITEM (an item id, a unique item id prefix or a unique SHA-256 prefix of at least
 * 8 hex digits) to an item. CUSTOS_EAMBIGUOUS when more than one item matches. */
enum { CUSTOS_FIND_EXACT = 0, CUSTOS_FIND_ANY_RECEIPT = 1 /* same bytes: any item will do */ };
int custos_item_find(custos_item **out, custos_vault *v, const char *spec, int flags);

/* Every item in log order. The callback returns non-zero to stop (returned as is). */
typedef int (*custos_item_fn)(const custos_item *item, void *ud);
int custos_items_foreach(custos_vault *v, custos_item_fn fn, void *ud);

/* How a container item was read, from its ingest event's `container` line (FS §5.2). */
typedef struct custos_container_info {
	int opened;       /* 0: custos did not open this item as a container */
	char result[32];  /* "complete", "corrupt", "limit:depth", ... */
	uint64_t members; /* members read */
	uint64_t consumed;
	custos_bytes format, detail;
} custos_container_info;

void custos_container_info_clear(custos_container_info *ci);
/* The container result of an item and, through fn (may be NULL), each of its members in
 * container order. */
int custos_container_members(custos_vault *v, const custos_item *container,
			     custos_container_info *ci, custos_item_fn fn, void *ud);

/* Stream the stored bytes of an item's object to fd. Verifies the SHA-256 while
 * copying and returns CUSTOS_EINTEGRITY (after writing) if the bytes do not match. */
int custos_item_cat(custos_vault *v, const custos_item *item, int fd);

/* ---------------------------------------------------------------- custody log */

typedef struct custos_event_info {
	uint64_t seq;
	int64_t time;
	char action[32];
	char commit[41];
	uint8_t custodian[CUSTOS_KEYID_LEN];
	custos_bytes source; /* n == 0 when absent */
	custos_bytes note;
	uint64_t stored, duplicates, refused;
	const char *const *inputs; /* escaped input paths (FS §3), count n_inputs */
	size_t n_inputs;
	/* checkpoint and cosignature events: the tree they concern; cosignature: the
	 * witness's verifier key (else NULL) */
	uint64_t tree_size;
	uint8_t root[32];
	const char *witness;
	/* import (a replica's own log): the origin's events taken and the head after them */
	uint64_t import_from, import_to;
	char import_head[41];
	uint8_t bundle[32];
	/* ingest by a source with a key: "good" or "bad" (FS §12), else NULL */
	const char *source_verdict;
} custos_event_info;

typedef int (*custos_event_fn)(const custos_event_info *ev, void *ud);
/* Every event in order; with item_hex, only events that concern that item. */
int custos_log_foreach(custos_vault *v, const char *item_hex, custos_event_fn fn, void *ud);
/* A replica's own log (FS §11.4): its import events in order (none elsewhere). */
int custos_imports_foreach(custos_vault *v, custos_event_fn fn, void *ud);

/* ---------------------------------------------------------------- ingest */

enum custos_outcome_kind { CUSTOS_STORED, CUSTOS_DUPLICATE, CUSTOS_REFUSED };

typedef struct custos_outcome {
	const uint8_t *path; /* as given / as walked, bytes */
	size_t path_len;
	int kind;           /* enum custos_outcome_kind */
	const char *reason; /* refusal reason token (FS §5.3) or NULL */
	const char *detail; /* human explanation, or NULL */
	const char *item_hex;
	const uint8_t *sha256;
	uint64_t size;
	/* A member of a container: its container's item, and its outcome ("ok", "encrypted",
	 * "limit:ratio", ...; FS §4.1). path is then "<container path>!/<member path>". */
	const char *container_hex;
	const char *member_outcome;
} custos_outcome;

/* How archives met during an ingest are opened (FS §4.1). Zero values mean the default. */
typedef struct custos_archive_opts {
	int opaque;               /* store containers whole without opening them */
	uint64_t max_depth;       /* nesting; default 8 (a top-level archive is depth 1) */
	uint64_t max_members;     /* per container; default 1,000,000 */
	uint64_t max_ratio;       /* bytes decoded : bytes of input; default 1000 */
	uint64_t max_member_size; /* default 64 GiB */
	uint64_t max_expanded;    /* bytes decoded from one input, nested included; 256 GiB */
	const char *const *passphrases; /* tried in order on encrypted zip and 7z members */
	size_t n_passphrases;
} custos_archive_opts;

/* Counts per outcome token (member outcomes, container results). */
#define CUSTOS_TALLY_MAX 24
typedef struct custos_tally {
	struct {
		char name[32];
		uint64_t n;
	} kind[CUSTOS_TALLY_MAX];
	size_t n_kinds;
	uint64_t total;
} custos_tally;

typedef struct custos_progress {
	uint64_t files, bytes, stored, duplicates, refused;
	const uint8_t *current;
	size_t current_len;
} custos_progress;

typedef struct custos_ingest_opts {
	const char *source;     /* a registered source (FS §12), or NULL */
	const char *source_sig; /* a detached signature by the source's key over the one input */
	const char *note;
	unsigned also_hash; /* enum custos_hash_alg bits */
	custos_archive_opts archives;
	void (*on_outcome)(const custos_outcome *o, void *ud);
	void (*on_progress)(const custos_progress *p, void *ud);
	void *ud;
} custos_ingest_opts;

typedef struct custos_ingest_summary {
	uint64_t stored, duplicates, refused, bytes;
	const char *source_verdict; /* "good", "bad", or NULL without --source-sig */
	custos_tally members;    /* member items by outcome */
	custos_tally containers; /* containers by result: "complete", "corrupt", ... */
	uint64_t seq;
	char commit[41];
} custos_ingest_summary;

int custos_ingest(custos_vault *v, const custos_key *key, const char *const *paths, size_t n,
		  const custos_ingest_opts *opts, custos_ingest_summary *out);

/* ---------------------------------------------------------------- verification */

typedef struct custos_receipt {
	const custos_item *item;
	int record_sig_ok;
	int commit_sig_ok;
	int chain_ok;
	const char *problem; /* first problem found, or NULL */
} custos_receipt;

typedef struct custos_verify_result {
	uint8_t sha256[32];
	uint64_t size;
	size_t n_receipts;
	custos_receipt *receipts;
	int object_ok; /* the stored object exists with the right size */
} custos_verify_result;

int custos_verify_file(custos_verify_result **out, custos_vault *v, const char *path);
void custos_verify_result_free(custos_verify_result *r);

typedef struct custos_problem {
	const char *kind;  /* "missing-object", "hash-mismatch", "bad-signature", ... (FS §8) */
	const char *where; /* the file, commit or item it concerns */
	const char *detail;
} custos_problem;

typedef struct custos_fsck_opts {
	int full;                     /* re-hash every object */
	const custos_pubkey *trust;   /* expected custodian key, or NULL to use the vault's */
	const uint8_t *against;       /* a checkpoint held elsewhere that the log must extend */
	size_t against_len;
	void (*on_problem)(const custos_problem *p, void *ud);
	void (*on_note)(const char *msg, void *ud);
	void *ud;
} custos_fsck_opts;

typedef struct custos_fsck_summary {
	uint64_t events, items, objects, bytes_hashed, problems;
} custos_fsck_summary;

/* Returns 0 when the vault is sound, CUSTOS_EINTEGRITY when problems were reported. */
int custos_fsck(custos_vault *v, const custos_fsck_opts *opts, custos_fsck_summary *out);

/* ---------------------------------------------------------------- small files */

/* Read a whole file of at most `limit` bytes (NUL-terminated, malloc'd). */
int custos_file_read(const char *path, size_t limit, uint8_t **out, size_t *n);
/* Write a new file crash-safely (temp, fsync, link into place, fsync of the directory);
 * never replaces an existing file (CUSTOS_EEXISTS). */
int custos_file_write(const char *path, const void *p, size_t n);

/* ---------------------------------------------------------------- Merkle log (FS §9) */

/* The checkpoint origin and key name of a vault: "custos.invalid/<vault id>". */
#define CUSTOS_ORIGIN_PREFIX "custos.invalid/"
/* The signed-note verifier key of a custodian key for a vault (FS §9.2); malloc'd, no
 * newline. */
char *custos_note_vkey(const char *vault_id, const custos_pubkey *pub);

typedef struct custos_checkpoint {
	uint64_t size;    /* tree size: the leaves it covers */
	uint8_t root[32];
	uint64_t seq;     /* the checkpoint event */
	int64_t time;
	size_t cosignatures;
	char *note;       /* the signed note, with every cosignature held; NUL-terminated */
	size_t note_len;
} custos_checkpoint;

void custos_checkpoint_clear(custos_checkpoint *c);
/* Sign a checkpoint of the log as it is and record it as a custody event. */
int custos_checkpoint_issue(custos_vault *v, const custos_key *key, custos_checkpoint *out);
/* The latest checkpoint issued (CUSTOS_ENOTFOUND if none), with its cosignatures. */
int custos_checkpoint_latest(custos_vault *v, custos_checkpoint *out);
/* The Merkle tree as it is now: size and root. */
int custos_tree_head(custos_vault *v, uint64_t *size, uint8_t root[32]);
/* A consistency proof file (FS §9.6) from `old` (a checkpoint note this vault issued) to
 * the latest checkpoint. CUSTOS_EINTEGRITY, with the reason, when `old` is not a
 * checkpoint of this log's history. */
int custos_consistency_proof(custos_vault *v, const uint8_t *old, size_t old_len, char **out,
			     size_t *out_len);
/* Record a witness's cosignature of one of this vault's checkpoints: `note` is the
 * checkpoint carrying the cosignature line, `witness_vkey` the witness's verifier key. */
int custos_cosignature_add(custos_vault *v, const custos_key *key, const uint8_t *note,
			   size_t note_len, const char *witness_vkey, uint64_t *seq);

/* An exhibit proof (FS §9.5) of an item against the latest checkpoint. */
int custos_prove(custos_vault *v, const custos_item *item, char **out, size_t *out_len);

typedef struct custos_proof_opts {
	const custos_pubkey *trust;  /* the custodian key (required) */
	const char *const *witnesses; /* verifier keys of trusted witnesses */
	size_t n_witnesses;
	size_t min_witnesses;        /* cosignatures required from those */
	const char *exhibit;         /* a file to check against the record, or NULL */
	void (*on_problem)(const custos_problem *p, void *ud);
	void *ud;
} custos_proof_opts;

typedef struct custos_proof_result {
	char item[2 * CUSTOS_ITEM_ID_LEN + 1];
	custos_record rec;
	uint64_t leaf, tree_size;
	char origin[300];
	size_t witnesses_ok;
	int exhibit_ok; /* -1 not checked, 0 mismatch, 1 match */
	uint64_t problems;
} custos_proof_result;

/* Verify an exhibit proof with no vault. 0 when everything holds, CUSTOS_EINTEGRITY when
 * problems were reported (each through on_problem), other codes on operational failure. */
int custos_proof_verify(const uint8_t *proof, size_t n, const custos_proof_opts *opts,
			custos_proof_result *out);
void custos_proof_result_clear(custos_proof_result *r);

/* ---------------------------------------------------------------- packages (FS §10) */

typedef struct custos_export_opts {
	int no_content; /* leave the exhibit files out: proofs of files the other side holds */
	/* Called as each exhibit is written; payload is its path in the bag, NULL without
	 * content. */
	void (*on_exhibit)(const custos_item *item, const char *payload, void *ud);
	void *ud;
} custos_export_opts;

typedef struct custos_export_summary {
	uint64_t exhibits, payload_files, payload_bytes, files;
	uint64_t tree_size; /* of the checkpoint the exhibits are proven against */
	uint64_t events_left_out; /* ingest events too large to carry (FS §10.1) */
} custos_export_summary;

/* Write an exhibit package of the given items (specs as for custos_item_find) to `out`, a
 * new file (CUSTOS_EEXISTS if it exists). Needs the custodian key: the package and each
 * exhibit are minisign-signed. Every item must be covered by the latest checkpoint. */
int custos_export(custos_vault *v, const custos_key *key, const char *const *items, size_t n,
		  const char *out, const custos_export_opts *o, custos_export_summary *sum);

/* One exhibit of a checked package. */
typedef struct custos_package_exhibit {
	const char *item;     /* item id, hex */
	const char *payload;  /* its file in the bag, or NULL (a package without content) */
	const custos_record *rec; /* NULL when the record did not parse */
	int content_ok;       /* 1 payload matches the record, 0 it does not, -1 not in package */
	int proof_ok;         /* the exhibit proof verified */
	const char *held;     /* an --exhibit file found to be this exhibit, or NULL */
} custos_package_exhibit;

typedef struct custos_package_opts {
	const custos_pubkey *trust;    /* the custodian key (required) */
	const char *const *witnesses;  /* verifier keys of trusted witnesses */
	size_t n_witnesses;
	size_t min_witnesses;
	const char *const *exhibits;   /* files at hand, each to be one of the exhibits */
	size_t n_exhibits;
	void (*on_problem)(const custos_problem *p, void *ud);
	void (*on_exhibit)(const custos_package_exhibit *e, void *ud);
	void *ud;
} custos_package_opts;

typedef struct custos_package_result {
	char vault[2 * CUSTOS_VAULT_ID_LEN + 1];
	uint64_t files, payload_files, payload_bytes, exhibits;
	uint64_t tree_size;
	size_t witnesses_ok;   /* witnesses with a valid cosignature on the checkpoint */
	uint64_t problems;
} custos_package_result;

/* Check a package with no vault. 0 when everything holds, CUSTOS_EINTEGRITY when problems
 * were reported (each through on_problem), other codes on operational failure. */
int custos_package_verify(const char *path, const custos_package_opts *o,
			  custos_package_result *out);

/* ---------------------------------------------------------------- transfer (FS §11) */

typedef struct custos_bundle_summary {
	uint64_t from, to;   /* the events carried */
	uint64_t events, items, objects, object_bytes;
} custos_bundle_summary;

/* Write a transfer bundle to `out` (a new file): the custody history and the objects it
 * names, all of it, or with `since` (a checkpoint note this vault issued) the events from
 * that checkpoint's own event on and the objects no earlier item named. */
int custos_bundle(custos_vault *v, const uint8_t *since, size_t since_len, const char *out,
		  custos_bundle_summary *sum);

typedef struct custos_import_opts {
	void (*on_problem)(const custos_problem *p, void *ud);
	void *ud;
} custos_import_opts;

typedef struct custos_import_summary {
	uint64_t from, to;    /* the bundle's events */
	uint64_t held_before; /* events the replica held before */
	uint64_t events, items, objects, object_bytes, objects_stored_bytes;
	uint64_t import_seq;  /* the import's event in the replica's own log */
	uint64_t problems;
} custos_import_summary;

/* Take a bundle into a replica (opened for writing), `key` being the replica's custodian.
 * Everything is checked before anything is written; a refused bundle (CUSTOS_EINTEGRITY,
 * each reason through on_problem: wrong-vault, wrong-key, gap, fork, rollback, replay,
 * truncated, bad-bundle, bad-object, missing-object and the fsck kinds of FS §8) leaves
 * the replica exactly as it was. */
int custos_import(custos_vault *v, const custos_key *key, const char *path,
		  const custos_import_opts *o, custos_import_summary *sum);

/* ---------------------------------------------------------------- sources (FS §12) */

typedef struct custos_source {
	custos_bytes name, note;
	uint64_t seq;          /* the event that registered it */
	int64_t time;
	int has_key;
	char scheme[16];       /* "minisign" | "ssh-ed25519" */
	char keynum[17];       /* hex */
	uint8_t pk[32];
	uint64_t ingests;      /* ingest events that name it */
	uint64_t good, bad;    /* signed submissions by verdict */
} custos_source;

typedef int (*custos_source_fn)(const custos_source *s, void *ud);
int custos_sources_foreach(custos_vault *v, custos_source_fn fn, void *ud);
/* Register a source as a custody event: a name not registered before, an optional public
 * key (a minisign key file's text or an ssh-ed25519 line) and note. */
int custos_source_add(custos_vault *v, const custos_key *key, const char *name,
		      const char *key_text, size_t key_len, const char *note, uint64_t *seq);

/* ---------------------------------------------------------------- DKIM (FS §13) */

#define CUSTOS_DKIM_VALUE_MAX 256 /* d=, s=, i= kept at most this long */

/* What one DKIM-Signature of a message came to (verdict rules: dkim.h). */
typedef struct custos_dkim_sig {
	unsigned index;   /* among the message's DKIM-Signature fields, top first, from 0 */
	char verdict[8];  /* "pass" or "fail" */
	char reason[160]; /* why it failed, "" on pass */
	char d[CUSTOS_DKIM_VALUE_MAX], s[CUSTOS_DKIM_VALUE_MAX], i[CUSTOS_DKIM_VALUE_MAX];
	char a[32], c[32];
	char h[1024];    /* the h= names, lower case, ':'-separated ("..." when cut) */
	char unsigned_dup[256]; /* names h= covers that also appear in more fields than h= names */
	int has_l;
	uint64_t l;         /* l= */
	uint64_t body_len;  /* the canonical body's length (l= covers min(l, body_len)) */
	int has_t, has_x, expired;
	int64_t t, x;
	char key_type[16];  /* "rsa", "ed25519", "" when no key was used */
	unsigned key_bits;
	char weak[64];      /* "", or "rsa-sha1", "rsa-768-bit", ... comma-separated */
	char key_name[CUSTOS_DKIM_VALUE_MAX * 2 + 16]; /* selector._domainkey.domain */
	char key_from[256]; /* where the key record came from, from the lookup */
} custos_dkim_sig;

#define CUSTOS_ARC_MAX 50 /* RFC 8617: at most 50 ARC sets */

/* One ARC set (RFC 8617): its message signature and seal. */
typedef struct custos_arc_set {
	unsigned instance;
	char ams_verdict[8], as_verdict[8];
	char ams_d[CUSTOS_DKIM_VALUE_MAX], ams_s[CUSTOS_DKIM_VALUE_MAX];
	char as_d[CUSTOS_DKIM_VALUE_MAX], as_s[CUSTOS_DKIM_VALUE_MAX];
	char cv[8];        /* what the seal says of the chain before it: none, pass, fail */
	char reason[160];  /* why the signature or the seal failed */
} custos_arc_set;

/* A message's ARC chain. */
typedef struct custos_arc {
	char verdict[8];   /* "none" (no ARC), "pass", "fail" */
	unsigned instances;
	char reason[200];
	custos_arc_set *sets; /* newest first */
	size_t n_sets;
} custos_arc;

/* Verify every DKIM-Signature of a message with the key records of zone text (dig answer
 * format, FS §13.2), judging x= and t= against `now`; no vault. *out malloc'd. */
int custos_dkim_check(const uint8_t *zone, size_t zn, const uint8_t *msg, size_t mn, int64_t now,
		      custos_dkim_sig **out, size_t *n, custos_arc *arc);
void custos_arc_clear(custos_arc *arc);
/* The same for each message of an mbox (FS §13.1) read from fd: fn gets the message's
 * number (from 1) and what verifying it gave (rc < 0: why it could not be verified). */
typedef int (*custos_dkim_mbox_fn)(uint64_t k, int rc, const custos_dkim_sig *sigs, size_t n,
				   const custos_arc *arc, void *ud);
int custos_dkim_check_mbox(const uint8_t *zone, size_t zn, int fd, int64_t now,
			   custos_dkim_mbox_fn fn, void *ud);

/* The vault's DKIM key store (FS §13.2): TXT records gathered elsewhere, each stored by a
 * signed dkim-key event with where (required) and when (at != 0) they were obtained.
 * Record names must be DKIM key names (selector._domainkey.domain). */
int custos_dkim_key_add(custos_vault *v, const custos_key *key, const uint8_t *zone, size_t zn,
			const char *obtained_from, int64_t obtained_at, const char *note,
			uint64_t *seq, size_t *records);

typedef struct custos_dkim_key_info {
	const char *name;
	const uint8_t *value;
	size_t value_len;
	uint64_t seq;          /* the dkim-key event */
	int64_t time;          /* of the event */
	const char *obtained_from;
	int has_obtained_at;
	int64_t obtained_at;
	char type[16];         /* "rsa", "ed25519", "" when the record is not a usable key */
	unsigned bits;
	char problem[128];     /* why it is not usable ("the key is revoked (empty p=)") */
} custos_dkim_key_info;
typedef int (*custos_dkim_key_fn)(const custos_dkim_key_info *k, void *ud);
int custos_dkim_keys_foreach(custos_vault *v, custos_dkim_key_fn fn, void *ud);

/* ---------------------------------------------------------------- analysis (FS §13.4) */

typedef struct custos_analysis_summary {
	uint64_t seq;        /* the analysis event, 0 when nothing was analysable */
	uint64_t items;      /* items analysed */
	uint64_t messages, signatures, pass, fail; /* email: DKIM */
	uint64_t documents, flags;                 /* documents and photos: metadata flags */
} custos_analysis_summary;

/* Analyse items (messages: DKIM; office documents, PDFs, JPEGs: metadata and its flags)
 * and record what was found as one signed analysis event, whose time is the time of
 * analysis; other items are skipped, and nothing analysable makes no event. */
int custos_analyse_items(custos_vault *v, const custos_key *key, const custos_item *const *items,
			 size_t n, const char *note, custos_analysis_summary *out);
/* The same for every item an ingest event received. */
int custos_analyse_event(custos_vault *v, const custos_key *key, uint64_t ingest_seq,
			 const char *note, custos_analysis_summary *out);

/* A document metadata field, or a flag (name: its token, value: why), FS §13.5. */
typedef struct custos_signal {
	const char *name, *value;
} custos_signal;

/* One analysis of an item, as recorded. */
typedef struct custos_analysis_info {
	uint64_t seq;
	int64_t time;
	custos_bytes note;
	char kind[32];              /* "message", "office", "opendocument", "pdf", "jpeg" */
	const custos_dkim_sig *sigs;
	size_t n_sigs;
	const custos_arc *arc;      /* a message's ARC chain, NULL when it has none */
	const custos_signal *meta, *flags;
	size_t n_meta, n_flags;
} custos_analysis_info;
typedef int (*custos_analysis_fn)(const custos_analysis_info *a, void *ud);
/* Every analysis event's findings on an item, oldest first. */
int custos_analyses_of(custos_vault *v, const uint8_t id[CUSTOS_ITEM_ID_LEN],
		       custos_analysis_fn fn, void *ud);

/* ---------------------------------------------------------------- witnesses (FS §9.7) */

/* Make a witness state directory (new or empty) for a witness named `name`; its key file
 * is the caller's to write (custos_key_write to <dir>/witness.key). */
int custos_witness_init(const char *dir, const char *name);
int custos_witness_name(const char *dir, char **out);
/* The witness's cosigner verifier key (type 0x04); malloc'd, no newline. */
char *custos_witness_vkey(const char *name, const custos_pubkey *pub);
/* Follow a log: its signed-note verifier key (custos key show --note-vkey). */
int custos_witness_add_log(const char *dir, const char *log_vkey);
/* Cosign a checkpoint. With an earlier cosigned checkpoint of the same log, `proof` must be
 * a consistency proof from it. On refusal (CUSTOS_EINTEGRITY), *reason names it:
 * malformed, unknown-log, bad-signature, rollback, fork, proof-required, bad-proof,
 * inconsistent. *out is the note with the cosignature line appended. */
int custos_witness_cosign(const char *dir, const custos_key *key, const uint8_t *note,
			  size_t note_len, const uint8_t *proof, size_t proof_len, char **out,
			  size_t *out_len, const char **reason);

#ifdef __cplusplus
}
#endif
#endif
