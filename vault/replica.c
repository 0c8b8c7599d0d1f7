/*
 * replica.c — see replica.h.
 */
#include "replica.h"

#include "custody.h"
#include "fsutil.h"
#include "keys.h"
#include "store.h"
#include "vault.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#define REPLICA_MAX 4096

static int encode(buf *b, const replica_info *r)
{
	char ts[21];
	char *of = b64_encode(r->of.pk, 32), *me = b64_encode(r->custodian.pk, 32);
	int rc = of && me ? 0 : custos_error_set(CUSTOS_ERROR, "out of memory");
	custos_time_format(ts, r->created);
	if (rc == 0)
		buf_printf(b, "custos-replica 1\nof %s\ncustodian %s\ncreated %s\n", of, me, ts);
	free(of);
	free(me);
	return rc < 0 ? rc : buf_check(b);
}

/* "<label> <value>\n" at *p; the value and its length. */
static int field(const char **p, const char *end, const char *label, const char **v, size_t *vl)
{
	size_t ll = strlen(label);
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	if (!nl || (size_t)(nl - *p) < ll + 1 || memcmp(*p, label, ll) != 0 || (*p)[ll] != ' ')
		return CUSTOS_CORRUPT("REPLICA: expected '%s'", label);
	*v = *p + ll + 1;
	*vl = (size_t)(nl - *v);
	*p = nl + 1;
	return 0;
}

static int key_field(const char **p, const char *end, const char *label, custos_pubkey *out)
{
	const char *v;
	size_t vl, got = 0;
	uint8_t pk[32];
	int rc = field(p, end, label, &v, &vl);
	if (rc == 0 && (b64_decode(pk, 32, &got, v, vl) < 0 || got != 32))
		rc = CUSTOS_CORRUPT("REPLICA: bad '%s' key", label);
	return rc < 0 ? rc : custos_pubkey_from_raw(out, pk);
}

int replica_parse(replica_info *r, const uint8_t *text, size_t n)
{
	const char *p = (const char *)text, *end = p + n, *v;
	size_t vl;
	static const char magic[] = "custos-replica 1\n";
	memset(r, 0, sizeof *r);
	if (n < sizeof magic - 1 || memcmp(p, magic, sizeof magic - 1) != 0)
		return CUSTOS_CORRUPT("not a custos REPLICA file");
	p += sizeof magic - 1;
	int rc = key_field(&p, end, "of", &r->of);
	if (rc == 0)
		rc = key_field(&p, end, "custodian", &r->custodian);
	if (rc == 0)
		rc = field(&p, end, "created", &v, &vl);
	if (rc == 0 && time_parse(&r->created, v, vl) < 0)
		rc = CUSTOS_CORRUPT("REPLICA: bad time");
	if (rc == 0 && p != end)
		rc = CUSTOS_CORRUPT("REPLICA: trailing data");
	return rc;
}

int replica_read(const char *dir, replica_info *r)
{
	char *path = path_join(dir, REPLICA_FILE);
	uint8_t *text = NULL;
	size_t n = 0;
	int rc = path ? fs_read_file(&text, &n, path, REPLICA_MAX) : CUSTOS_ERROR;
	if (rc == 0 && (rc = replica_parse(r, text, n)) < 0)
		custos_error_wrap(rc, "%s", path);
	free(text);
	free(path);
	return rc;
}

int vault_info_from_init(custos_vault_info *info, const event *ev)
{
	if (strcmp(ev->action, "init") != 0 || ev->seq != 0)
		return custos_error_set(CUSTOS_EINTEGRITY, "the first event is not 'init'");
	char *name = xstrndup((const char *)ev->name.p, ev->name.n);
	if (!name)
		return CUSTOS_ERROR;
	info->name = name; /* the caller owns (and frees) the name it replaces */
	memcpy(info->id, ev->vault, sizeof info->id);
	info->created = ev->time;
	info->format_version = 1;
	return custos_pubkey_from_raw(&info->owner, ev->pubkey);
}

int custos_replica_init(const char *dir, const custos_pubkey *origin, const custos_key *key)
{
	replica_info r = {.of = *origin, .custodian = *custos_key_public(key), .created = now_utc()};
	struct stat st;
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return custos_error_errno(CUSTOS_ERROR, "cannot create %s", dir);
	char *marker = path_join(dir, "VAULT"), *git = path_join(dir, "custody.git"),
	     *file = path_join(dir, REPLICA_FILE);
	int rc = marker && git && file ? 0 : CUSTOS_ERROR;
	if (rc == 0 && (stat(marker, &st) == 0 || stat(git, &st) == 0 || stat(file, &st) == 0))
		rc = custos_error_set(CUSTOS_EEXISTS, "%s already holds a vault or part of one", dir);
	if (rc == 0)
		rc = store_create_layout(dir);
	if (rc == 0)
		rc = custody_create(git);
	buf b;
	buf_init(&b, REPLICA_MAX);
	/* REPLICA comes last: before it, the directory is no vault of any kind. */
	if (rc == 0)
		rc = encode(&b, &r);
	if (rc == 0)
		rc = fs_atomic_write(file, b.p, b.n, 0444, true);
	if (rc == 0)
		rc = fs_fsync_dir(dir);
	buf_free(&b);
	free(marker);
	free(git);
	free(file);
	return rc;
}
