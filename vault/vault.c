/*
 * vault.c — see vault.h. The VAULT marker: FS §1.2.
 */
#include "vault.h"

#include "digest.h"
#include "fsutil.h"
#include "replica.h"
#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define MARKER_MAX 8192

int custos_global_init(void)
{
	if (sodium_init() < 0)
		return custos_error_set(CUSTOS_ERROR, "cannot initialise libsodium");
	if (git_libgit2_init() < 0)
		return custos_error_set(CUSTOS_ERROR, "cannot initialise libgit2");
	/* Durability of the custody log: libgit2 does not fsync unless told to. */
	git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 1);
	/* Item blobs are named in the items tree before a background thread writes them
	 * (custody.c): libgit2 must not insist that a tree entry's object exists already.
	 * custos computes every blob id itself and writes every blob before the commit. */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, 0);
	/* A vault is one user's data; do not let ~/.gitconfig or /etc/gitconfig steer it. */
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_GLOBAL, "");
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_XDG, "");
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_SYSTEM, "");
	return 0;
}

void custos_global_shutdown(void)
{
	git_libgit2_shutdown();
}

const custos_vault_info *custos_vault_get_info(const custos_vault *v)
{
	return &v->info;
}

const char *custos_vault_path(const custos_vault *v)
{
	return v->dir;
}

/* ------------------------------------------------------------ marker */

static int marker_encode(buf *b, const custos_vault_info *info)
{
	char ts[21];
	char *pk = b64_encode(info->owner.pk, 32);
	if (!pk)
		return CUSTOS_ERROR;
	custos_time_format(ts, info->created);
	buf_printf(b, "custos-vault 1\nid %s\nname ", info->id);
	esc_encode(b, (const uint8_t *)info->name, strlen(info->name));
	buf_printf(b, "\ncreated %s\nowner %s\n", ts, pk);
	free(pk);
	return buf_check(b);
}

static int marker_field(const char **p, const char *end, const char *label, const char **val,
			size_t *vl)
{
	size_t ll = strlen(label);
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	if (!nl || (size_t)(nl - *p) < ll + 1 || memcmp(*p, label, ll) != 0 || (*p)[ll] != ' ')
		return CUSTOS_CORRUPT("VAULT marker: expected '%s'", label);
	*val = *p + ll + 1;
	*vl = (size_t)(nl - *val);
	*p = nl + 1;
	return 0;
}

int vault_marker_parse(custos_vault_info *info, const uint8_t *text, size_t n)
{
	const char *p = (const char *)text, *end = p + n, *v;
	size_t vl, got;
	uint8_t pk[32];
	custos_bytes name = {0};
	int rc;
	memset(info, 0, sizeof *info);
	if (n < 15 || memcmp(p, "custos-vault 1\n", 15) != 0)
		return CUSTOS_CORRUPT("not a custos vault marker (or an unsupported version)");
	p += 15;
	info->format_version = 1;
	if ((rc = marker_field(&p, end, "id", &v, &vl)) < 0)
		return rc;
	if (vl != 32 || !is_lower_hex(v, vl))
		return CUSTOS_CORRUPT("VAULT marker: bad id");
	memcpy(info->id, v, 32);
	if ((rc = marker_field(&p, end, "name", &v, &vl)) < 0 || (rc = esc_decode(&name, v, vl)) < 0)
		return rc;
	info->name = (char *)name.p;
	if ((rc = marker_field(&p, end, "created", &v, &vl)) < 0)
		return rc;
	if (time_parse(&info->created, v, vl) < 0)
		return CUSTOS_CORRUPT("VAULT marker: bad time");
	if ((rc = marker_field(&p, end, "owner", &v, &vl)) < 0)
		return rc;
	if (b64_decode(pk, 32, &got, v, vl) < 0 || got != 32)
		return CUSTOS_CORRUPT("VAULT marker: bad owner key");
	custos_pubkey_from_raw(&info->owner, pk);
	if (p != end)
		return CUSTOS_CORRUPT("VAULT marker: trailing data");
	return 0;
}

int custos_vault_detect(const char *dir)
{
	char *p = path_join(dir, "VAULT");
	struct stat st;
	int r = p && stat(p, &st) == 0 && S_ISREG(st.st_mode);
	free(p);
	return r;
}

/* ------------------------------------------------------------ open and close */

void custos_vault_close(custos_vault *v)
{
	if (!v)
		return;
	if (v->last_event.valid)
		event_clear(&v->last_event.ev);
	custody_close(v->log);
	index_close(v->index);
	store_close(v->store);
	if (v->lock_fd >= 0)
		close(v->lock_fd);
	free(v->info.name);
	free(v->dir);
	free(v);
}

static int lock_vault(custos_vault *v, bool exclusive)
{
	v->lock_fd = open(v->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (v->lock_fd < 0)
		return custos_error_errno(CUSTOS_ERROR, "cannot open vault %s", v->dir);
	if (flock(v->lock_fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK)
			return custos_error_set(CUSTOS_ELOCKED,
						"vault %s is in use by another custos process%s", v->dir,
						exclusive ? "" : " that is writing to it");
		return custos_error_errno(CUSTOS_ERROR, "cannot lock vault %s", v->dir);
	}
	return 0;
}

static int read_marker(custos_vault *v)
{
	char *path = path_join(v->dir, "VAULT");
	uint8_t *text = NULL;
	size_t n = 0;
	if (!path)
		return CUSTOS_ERROR;
	int rc = fs_read_file(&text, &n, path, MARKER_MAX);
	if (rc == CUSTOS_ENOTFOUND)
		rc = custos_error_set(CUSTOS_ENOTFOUND, "%s is not a custos vault (no VAULT file)", v->dir);
	if (rc == 0 && (rc = vault_marker_parse(&v->info, text, n)) < 0)
		custos_error_wrap(rc, "%s", path);
	free(text);
	free(path);
	return rc;
}

/* A replica's REPLICA file, then the VAULT marker, which an empty replica does not have
 * yet: its identity is then the origin's key alone. */
static int read_identity(custos_vault *v)
{
	replica_info r;
	int rc = replica_read(v->dir, &r);
	if (rc == CUSTOS_ENOTFOUND)
		return read_marker(v);
	if (rc < 0)
		return rc;
	v->is_replica = true;
	v->info.replica = 1;
	v->replica.of = r.of;
	v->replica.custodian = r.custodian;
	v->replica.created = r.created;
	char *path = path_join(v->dir, "VAULT");
	struct stat st;
	v->empty = path && stat(path, &st) != 0 && errno == ENOENT;
	free(path);
	if (!v->empty) {
		rc = read_marker(v);
		v->info.replica = 1;
		return rc;
	}
	v->info.owner = r.of;
	v->info.format_version = 1;
	return (v->info.name = xstrdup("")) ? 0 : CUSTOS_ERROR;
}

/* An "empty" replica whose log has events: an import moved the branch, then died before
 * writing the marker. The marker is the init event's; write it now (when writable). */
static int replica_catch_up(custos_vault *v)
{
	uint8_t head[20], first[20];
	if (custody_head(v->log, head) < 0)
		return 0; /* really empty */
	event ev = {0};
	custody_commit cc = {0};
	int rc = custody_first(v->log, head, first);
	if (rc == 0)
		rc = vault_read_event(v, first, &ev, &cc);
	char *placeholder = v->info.name;
	if (rc == 0 && (rc = vault_info_from_init(&v->info, &ev)) == 0)
		free(placeholder);
	if (rc == 0 && !pubkey_equal(&v->info.owner, &v->replica.of))
		rc = custos_error_set(CUSTOS_EINTEGRITY, "the replica's log is of another key");
	if (rc == 0 && v->writable)
		rc = vault_write_marker(v);
	if (rc == 0)
		v->empty = false;
	event_clear(&ev);
	custody_commit_clear(&cc);
	return rc;
}

void vault_set_head(custos_vault *v, const uint8_t head[20], uint64_t events)
{
	custos_hex(v->info.head, head, 20);
	v->info.events = events;
}

/* A writer holds the vault's exclusive lock, so a git lock file found now was left by a
 * process that died mid-update (the ref update is the last step of an event): remove it,
 * or every later event would fail to move the branch. */
static void clear_stale_git_locks(custos_vault *v)
{
	static const char *const locks[] = {"custody.git/refs/heads/main.lock", "custody.git/HEAD.lock",
					    "custody.git/refs/heads/imports.lock",
					    "custody.git/packed-refs.lock", "custody.git/config.lock"};
	for (size_t i = 0; i < ARRAY_LEN(locks); i++) {
		char *p = path_join(v->dir, locks[i]);
		if (p)
			unlink(p);
		free(p);
	}
}

static int open_parts(custos_vault *v)
{
	if (v->writable)
		clear_stale_git_locks(v);
	char *git = path_join(v->dir, "custody.git"), *ix = path_join(v->dir, "index");
	int rc = git && ix ? 0 : CUSTOS_ERROR;
	if (rc == 0)
		rc = store_open(&v->store, v->dir);
	if (rc == 0)
		rc = custody_open(&v->log, git, v->writable);
	if (rc == 0)
		rc = index_open(&v->index, ix);
	free(git);
	free(ix);
	return rc;
}

int custos_vault_open(custos_vault **out, const char *dir, int mode)
{
	custos_vault *v = xcalloc(1, sizeof *v);
	*out = NULL;
	if (!v)
		return CUSTOS_ERROR;
	v->lock_fd = -1;
	v->writable = mode == CUSTOS_OPEN_WRITE;
	v->dir = xstrdup(dir);
	int rc = v->dir ? 0 : CUSTOS_ERROR;
	if (rc == 0)
		rc = read_identity(v);
	if (rc == 0)
		rc = lock_vault(v, v->writable);
	if (rc == 0)
		rc = open_parts(v);
	if (rc == 0 && v->empty)
		rc = replica_catch_up(v);
	if (rc == 0)
		rc = vault_sync_index(v, false);
	if (rc < 0) {
		custos_vault_close(v);
		return rc;
	}
	*out = v;
	return 0;
}

/* ------------------------------------------------------------ index synchronisation */

typedef struct sync_state {
	custos_vault *v;
	index_update u;
	size_t cap_items, cap_leaves;
	uint64_t base_leaf; /* leaves the index held before: the next is base_leaf + n_leaves */
	int rc;
} sync_state;

static int sync_push_leaf(sync_state *s, const uint8_t *p, size_t n)
{
	if (array_grow(&s->u.leaves, &s->cap_leaves, s->u.n_leaves, sizeof *s->u.leaves, 1024) < 0)
		return CUSTOS_ERROR;
	merkle_leaf_hash(s->u.leaves[s->u.n_leaves++], p, n);
	return 0;
}

static int sync_push_item(sync_state *s, const custos_record *r, const uint8_t id[16])
{
	if (array_grow(&s->u.items, &s->cap_items, s->u.n_items, sizeof *s->u.items, 1024) < 0)
		return CUSTOS_ERROR;
	index_item *it = &s->u.items[s->u.n_items++];
	memcpy(it->sha256, r->sha256, 32);
	memcpy(it->id, id, 16);
	it->seq = r->seq;
	return 0;
}

static int sync_record(const event *ev, size_t i, const uint8_t *rec, size_t rn,
		       const uint8_t *sig, size_t sn, void *ud)
{
	(void)sig;
	(void)sn;
	custos_record r;
	int rc = record_parse(&r, rec, rn);
	if (rc == 0) {
		rc = sync_push_item(ud, &r, ev->items[i].id);
		record_clear(&r);
	}
	return rc == 0 ? sync_push_leaf(ud, rec, rn) : rc;
}

static int sync_one_commit(const uint8_t oid[20], void *ud)
{
	sync_state *s = ud;
	event ev;
	custody_commit cc;
	int rc = vault_read_event(s->v, oid, &ev, &cc);
	if (rc < 0)
		return rc;
	index_event *e = realloc(s->u.events, (s->u.n_events + 1) * sizeof *e);
	if (!e) {
		rc = custos_error_set(CUSTOS_ERROR, "out of memory");
		goto done;
	}
	s->u.events = e;
	memcpy(e[s->u.n_events].commit, oid, 20);
	sha256_buf(e[s->u.n_events].event_sha, cc.event, cc.event_len);
	e[s->u.n_events].first_leaf = s->base_leaf + s->u.n_leaves;
	s->u.n_events++;
	rc = vault_event_records(s->v, oid, &ev, sync_record, s);
	if (rc == 0) /* the event's leaf follows its items' (FS §9) */
		rc = sync_push_leaf(s, cc.event, cc.event_len);
done:
	event_clear(&ev);
	custody_commit_clear(&cc);
	return rc;
}

static int sync_pack_cb(const store_packed *m, const char *name, void *ud)
{
	(void)name;
	sync_state *s = ud;
	store_packed *p = realloc(s->u.packed, (s->u.n_packed + 1) * sizeof *p);
	if (!p)
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	s->u.packed = p;
	p[s->u.n_packed++] = *m;
	return 0;
}

/* Packs the index does not know: written by an ingest that crashed before its commit, or
 * everything after a rebuild. Their objects are held, so ingest must see them. */
static int sync_packs(sync_state *s)
{
	uint8_t(*packs)[32] = NULL;
	size_t n = 0;
	int rc = store_list_packs(s->v->store, &packs, &n);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (!index_has_pack(s->v->index, packs[i]))
			rc = store_pack_members(s->v->store, packs[i], sync_pack_cb, s);
	free(packs);
	return rc;
}

static int lock_index(custos_vault *v, int *fd)
{
	char *p = path_join(v->dir, "index");
	*fd = p ? open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	int rc = *fd >= 0 && flock(*fd, LOCK_EX) == 0
			 ? 0
			 : custos_error_errno(CUSTOS_ERROR, "cannot lock the index of %s", v->dir);
	free(p);
	return rc;
}

static int reopen_index(custos_vault *v)
{
	char *p = path_join(v->dir, "index");
	if (!p)
		return CUSTOS_ERROR;
	index_close(v->index);
	v->index = NULL;
	int rc = index_open(&v->index, p);
	free(p);
	return rc;
}

int vault_sync_index(custos_vault *v, bool full_rebuild)
{
	uint8_t head[20], ihead[20], zero[20] = {0};
	int lockfd = -1;
	sync_state s = {.v = v};
	int rc = custody_head(v->log, head);
	/* An empty replica has no log yet, but may hold objects of an import that died before
	 * moving it: the index must know them, as after any interrupted write. */
	bool no_log = rc == CUSTOS_ENOTFOUND && v->empty;
	if (no_log) {
		memset(head, 0, 20);
		rc = 0;
	}
	if (rc < 0)
		return custos_error_wrap(rc, "vault %s", v->dir);
	/* Another process may have caught the index up while we waited for the lock. */
	if ((rc = lock_index(v, &lockfd)) < 0 || (rc = reopen_index(v)) < 0)
		goto done;
	index_head(v->index, ihead);
	s.base_leaf = index_leaf_count(v->index);
	if (no_log) {
		/* nothing to walk */
	} else if (full_rebuild || memcmp(ihead, zero, 20) == 0) {
		if ((rc = index_reset(v->index)) < 0)
			goto done;
		s.base_leaf = 0;
		rc = custody_walk(v->log, head, sync_one_commit, &s);
	} else if (memcmp(ihead, head, 20) != 0) {
		rc = custody_walk_since(v->log, head, ihead, sync_one_commit, &s);
		if (rc == CUSTOS_ENOTFOUND) {
			/* The index follows a history that is not ours: start again. */
			free(s.u.items);
			free(s.u.events);
			free(s.u.leaves);
			memset(&s.u, 0, sizeof s.u);
			s.cap_items = s.cap_leaves = 0;
			s.base_leaf = 0;
			if ((rc = index_reset(v->index)) == 0)
				rc = custody_walk(v->log, head, sync_one_commit, &s);
		}
	}
	if (rc == 0)
		rc = sync_packs(&s);
	memcpy(s.u.head, head, 20);
	if (rc == 0 && (s.u.n_events || s.u.n_packed || memcmp(ihead, head, 20) != 0))
		rc = index_apply(v->index, &s.u);
	if (rc == 0)
		vault_set_head(v, head, index_event_count(v->index));
done:
	if (lockfd >= 0)
		close(lockfd);
	free(s.u.items);
	free(s.u.events);
	free(s.u.packed);
	free(s.u.leaves);
	return rc;
}

/* ------------------------------------------------------------ init */

static int dir_is_empty_or_new(const char *dir)
{
	if (mkdir(dir, 0755) == 0)
		return 0;
	if (errno != EEXIST)
		return custos_error_errno(CUSTOS_ERROR, "cannot create %s", dir);
	char *p = path_join(dir, "VAULT");
	struct stat st;
	int exists = p && stat(p, &st) == 0;
	free(p);
	if (exists)
		return custos_error_set(CUSTOS_EEXISTS, "%s is already a vault", dir);
	char *probe = path_join(dir, "custody.git");
	exists = probe && stat(probe, &st) == 0;
	free(probe);
	if (exists)
		return custos_error_set(CUSTOS_EEXISTS,
					"%s holds a half-created vault; remove it or choose another directory",
					dir);
	return 0;
}

static int genesis(custos_vault *v, const custos_key *key)
{
	event ev = {0};
	char summary[96];
	memcpy(ev.vault, v->info.id, sizeof ev.vault);
	ev.time = v->info.created;
	memcpy(ev.custodian, v->info.owner.id, CUSTOS_KEYID_LEN);
	strcpy(ev.action, "init");
	ev.name.p = (uint8_t *)v->info.name;
	ev.name.n = strlen(v->info.name);
	memcpy(ev.pubkey, v->info.owner.pk, 32);
	snprintf(summary, sizeof summary, "init: vault %s", v->info.id);
	return vault_commit_event(v, key, &ev, summary, NULL, NULL, NULL);
}

int vault_write_marker(custos_vault *v)
{
	buf b;
	buf_init(&b, MARKER_MAX);
	/* The temp file lives in tmp/, where a leftover of a crash is garbage by definition
	 * (a replica writes its marker into a vault that already exists). */
	char *path = path_join(v->dir, "VAULT"), *staging = path_join(v->dir, "tmp/VAULT"), *tmp = NULL;
	int fd = -1;
	int rc = path && staging ? marker_encode(&b, &v->info) : CUSTOS_ERROR;
	if (rc == 0)
		rc = fs_temp_create(staging, &fd, &tmp);
	if (rc == 0 && (rc = fs_write_all(fd, b.p, b.n, path)) < 0)
		fs_temp_discard(fd, tmp);
	else if (rc == 0)
		rc = fs_temp_publish(fd, tmp, path, 0444, true);
	buf_free(&b);
	free(path);
	free(staging);
	return rc;
}

int custos_vault_init(custos_vault **out, const char *dir, const char *name, const custos_key *key)
{
	uint8_t id[CUSTOS_VAULT_ID_LEN];
	*out = NULL;
	int rc = dir_is_empty_or_new(dir);
	if (rc < 0)
		return rc;
	custos_vault *v = xcalloc(1, sizeof *v);
	if (!v)
		return CUSTOS_ERROR;
	v->lock_fd = -1;
	v->writable = true;
	v->dir = xstrdup(dir);
	randombytes_buf(id, sizeof id);
	custos_hex(v->info.id, id, sizeof id);
	v->info.name = xstrdup(name);
	v->info.created = now_utc();
	v->info.owner = *custos_key_public(key);
	v->info.format_version = 1;
	char *git = path_join(dir, "custody.git");
	rc = v->dir && v->info.name && git ? 0 : CUSTOS_ERROR;
	if (rc == 0)
		rc = lock_vault(v, true);
	if (rc == 0)
		rc = store_create_layout(dir);
	if (rc == 0)
		rc = custody_create(git);
	if (rc == 0)
		rc = open_parts(v);
	if (rc == 0)
		rc = genesis(v, key);
	/* The marker comes last: a directory without it is not a vault, so a crash during init
	 * never leaves something that looks like one. */
	if (rc == 0)
		rc = vault_write_marker(v);
	if (rc == 0)
		rc = fs_fsync_dir(dir);
	free(git);
	if (rc < 0) {
		custos_vault_close(v);
		return rc;
	}
	*out = v;
	return 0;
}

int custos_vault_reindex(custos_vault *v)
{
	if (!v->writable)
		return custos_error_set(CUSTOS_EINVALID, "vault opened read-only");
	return vault_sync_index(v, true);
}

int vault_event_begin(custos_vault *v, const custos_key *key, event *ev, const char *action)
{
	/* A replica's log is the origin's, commit for commit: an event of its own would fork
	 * it, even one signed with the origin's key. */
	if (v->is_replica)
		return custos_error_set(CUSTOS_EINVALID,
					"%s is a replica: its log grows only by 'custos import'", v->dir);
	index_event prev;
	int64_t prev_time;
	uint64_t seq = index_event_count(v->index);
	int rc = seq ? index_event_get(v->index, seq - 1, &prev) : CUSTOS_EINTEGRITY;
	if (rc == 0)
		rc = custody_commit_time(v->log, prev.commit, &prev_time);
	if (rc < 0)
		return rc;
	memcpy(ev->vault, v->info.id, sizeof ev->vault);
	ev->seq = seq;
	memcpy(ev->prev, prev.event_sha, 32);
	ev->time = now_utc();
	if (ev->time < prev_time) {
		char a[21], b[21];
		custos_time_format(a, ev->time);
		custos_time_format(b, prev_time);
		return custos_error_set(CUSTOS_EINVALID,
					"the system clock (%s) is behind the last custody event (%s); "
					"set the clock before writing to the vault",
					a, b);
	}
	memcpy(ev->custodian, custos_key_public(key)->id, CUSTOS_KEYID_LEN);
	snprintf(ev->action, sizeof ev->action, "%s", action);
	return 0;
}

int vault_commit_event(custos_vault *v, const custos_key *key, const event *ev,
		       const char *summary, custody_txn *t, index_update *items, uint8_t head[20])
{
	buf eb, sb;
	uint8_t sig[64], prev_head[20], new_head[20];
	char msg[512];
	if (!head)
		head = new_head;
	buf_init(&eb, EVENT_MAX);
	buf_init(&sb, 256);
	snprintf(msg, sizeof msg, "%s\n\ncustos-vault: %s\ncustos-seq: %llu\n", summary, v->info.id,
		 (unsigned long long)ev->seq);
	int rc = event_encode(&eb, ev);
	if (rc == 0)
		rc = key_sign(sig, key, eb.p, eb.n);
	if (rc == 0)
		rc = sigfile_encode(&sb, custos_key_public(key)->id, sig);
	/* the first event (init) has no parent */
	bool first = ev->seq == 0;
	if (rc == 0 && !first)
		rc = custody_head(v->log, prev_head);
	if (rc == 0 && !t)
		rc = custody_txn_begin(&t, v->log);
	if (rc == 0)
		rc = custody_txn_commit(t, key, eb.p, eb.n, sb.p, sb.n, msg, ev->time,
					first ? NULL : prev_head, head);
	else
		custody_txn_abort(t);
	if (rc == 0) {
		index_event ie = {.first_leaf = index_leaf_count(v->index)};
		index_update none = {0}, *u = items ? items : &none;
		merkle_hash event_leaf;
		memcpy(ie.commit, head, 20);
		sha256_buf(ie.event_sha, eb.p, eb.n);
		if (!u->leaves)
			u->leaves = &event_leaf;
		merkle_leaf_hash(u->leaves[u->n_leaves++], eb.p, eb.n); /* items, then their event */
		u->events = &ie;
		u->n_events = 1;
		memcpy(u->head, head, 20);
		/* The commit is the acknowledgement; an index failure only leaves the derived
		 * index behind, and the next open catches it up. */
		index_apply(v->index, u);
		vault_set_head(v, head, ev->seq + 1);
	}
	buf_free(&eb);
	buf_free(&sb);
	return rc;
}
