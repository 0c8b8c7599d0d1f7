/*
 * package.c — exhibit packages (FS §10): a tar holding one BagIt 1.0 bag (RFC 8493) with the
 * exhibits as payload and, in the tag directory custos/, what proves them with no vault:
 * records and signatures, the custody events that received them and issued the
 * checkpoint, an exhibit proof per item, the custodian key in three forms, a minisign
 * signature per exhibit and one over the tag manifest, which seals the whole bag.
 *
 * The package is written as a stream (payload bytes go from the store to the tar, hashed
 * on the way and checked against their records) into a temp file next to the output,
 * published only when complete.
 */
#include "package.h"

#include "checkpoint.h"
#include "fsutil.h"
#include "keys.h"
#include "minisig.h"
#include "vault.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct tagfile {
	char *path; /* relative to the bag's base directory */
	uint8_t sha256[32];
} tagfile;

typedef struct exhibit {
	custos_item *item;
	char *payload;          /* "data/<id>_<name>" */
	char *minisig;          /* "custos/minisig/<id>_<name>.minisig" */
	char sha512[129];
	uint8_t blake2b[64];
} exhibit;

typedef struct exporter {
	custos_vault *v;
	const custos_key *key;
	const custos_export_opts *o;
	struct archive *ar;
	char *base;
	int64_t now;
	custos_checkpoint cp;
	exhibit *ex;
	size_t n_ex;
	tagfile *tags;
	size_t n_tags, cap_tags;
	custos_export_summary *sum;
} exporter;

void package_safe_name(buf *b, const uint8_t *p, size_t n, size_t max)
{
	/* Only characters every BagIt validator and every file system takes as they are: no
	 * '%' (validators disagree on %25), no spaces, no leading dot. */
	size_t start = b->n;
	for (size_t i = 0; i < n && b->n - start < max; i++) {
		uint8_t c = p[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '-' || c == '_' || (c == '.' && b->n > start);
		buf_putc(b, ok ? c : '_');
	}
}

/* The base name of a record's original name (the part after the last '/'). */
static void basename_of(const custos_bytes *name, const uint8_t **p, size_t *n)
{
	const uint8_t *slash = name->n ? memrchr(name->p, '/', name->n) : NULL;
	*p = slash ? slash + 1 : name->p;
	*n = name->n - (size_t)(*p - name->p);
}

static int archive_fail(exporter *e, const char *what)
{
	return custos_error_set(CUSTOS_ERROR, "cannot write the package (%s): %s", what,
				archive_error_string(e->ar));
}

static int put_header(exporter *e, const char *rel, uint64_t size, bool dir)
{
	struct archive_entry *en = archive_entry_new();
	if (!en)
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	char *path = path_join(e->base, rel);
	int rc = path ? 0 : CUSTOS_ERROR;
	if (rc == 0) {
		archive_entry_set_pathname(en, path);
		archive_entry_set_filetype(en, dir ? AE_IFDIR : AE_IFREG);
		archive_entry_set_perm(en, dir ? 0755 : 0644);
		archive_entry_set_size(en, dir ? 0 : (la_int64_t)size);
		archive_entry_set_mtime(en, e->now, 0);
		archive_entry_set_uname(en, "custos");
		archive_entry_set_gname(en, "custos");
		if (archive_write_header(e->ar, en) != ARCHIVE_OK)
			rc = archive_fail(e, rel);
	}
	free(path);
	archive_entry_free(en);
	return rc;
}

static int put_data(const uint8_t *p, size_t n, void *ud)
{
	exporter *e = ud;
	return archive_write_data(e->ar, p, n) == (la_ssize_t)n ? 0 : archive_fail(e, "data");
}

static int skip_data(const uint8_t *p, size_t n, void *ud)
{
	(void)p, (void)n, (void)ud;
	return 0;
}

/* A tag file: written now, listed in the tag manifest later. */
static int put_tag(exporter *e, const char *rel, const void *p, size_t n)
{
	if (array_grow(&e->tags, &e->cap_tags, e->n_tags, sizeof *e->tags, 64) < 0)
		return CUSTOS_ERROR;
	tagfile *t = &e->tags[e->n_tags];
	if (!(t->path = xstrdup(rel)))
		return CUSTOS_ERROR;
	e->n_tags++;
	sha256_buf(t->sha256, p, n);
	int rc = put_header(e, rel, n, false);
	return rc < 0 ? rc : put_data(p, n, e);
}

static int put_tag_buf(exporter *e, const char *rel, buf *b)
{
	int rc = buf_check(b);
	if (rc == 0)
		rc = put_tag(e, rel, b->p, b->n);
	buf_free(b);
	return rc;
}

static int resolve_items(exporter *e, const char *const *specs, size_t n)
{
	if (!(e->ex = calloc(n ? n : 1, sizeof *e->ex)))
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	for (size_t i = 0; i < n; i++) {
		custos_item *it = NULL;
		int rc = custos_item_find(&it, e->v, specs[i], CUSTOS_FIND_EXACT);
		if (rc < 0)
			return rc;
		bool dup = false;
		for (size_t j = 0; j < e->n_ex && !dup; j++)
			dup = memcmp(e->ex[j].item->id, it->id, CUSTOS_ITEM_ID_LEN) == 0;
		if (dup) {
			custos_item_free(it);
			continue;
		}
		exhibit *x = &e->ex[e->n_ex++];
		x->item = it;
		const uint8_t *bn;
		size_t bl;
		basename_of(&it->rec.name, &bn, &bl);
		buf b;
		buf_init(&b, 4096);
		buf_printf(&b, "%s%s", it->id_hex, bl ? "_" : "");
		package_safe_name(&b, bn, bl, PACKAGE_NAME_MAX);
		buf_putc(&b, '\0');
		char *stem = buf_steal(&b, NULL);
		if (!stem)
			return CUSTOS_ERROR;
		size_t sl = strlen(stem) + 32;
		x->payload = malloc(sl);
		x->minisig = malloc(sl + 16);
		if (x->payload && x->minisig) {
			snprintf(x->payload, sl, "data/%s", stem);
			snprintf(x->minisig, sl + 16, "custos/minisig/%s.minisig", stem);
		}
		free(stem);
		if (!x->payload || !x->minisig)
			return custos_error_set(CUSTOS_ERROR, "out of memory");
	}
	return 0;
}

static int put_payload(exporter *e, exhibit *x)
{
	digest_result dr;
	bool content = !e->o->no_content;
	int rc = content ? put_header(e, x->payload, x->item->rec.size, false) : 0;
	if (rc == 0)
		rc = vault_item_stream(e->v, x->item, CUSTOS_HASH_SHA512 | CUSTOS_HASH_BLAKE2B,
				       content ? put_data : skip_data, e, &dr);
	if (rc == 0) {
		memcpy(x->sha512, dr.extra_hex[2], sizeof x->sha512);
		rc = hex_decode(x->blake2b, 64, dr.extra_hex[3], 128);
	}
	if (rc == 0 && content) {
		e->sum->payload_bytes += x->item->rec.size;
		e->sum->payload_files++;
	}
	return rc;
}

/* The item's record and signature, exactly as in the log. */
static int put_record(exporter *e, const exhibit *x)
{
	uint8_t commit[20], *rec = NULL, *sig = NULL;
	size_t rn = 0, sn = 0;
	char path[96];
	int rc = hex_decode(commit, 20, x->item->commit, 40);
	if (rc == 0)
		rc = custody_read_item(e->v->log, commit, x->item->id_hex, &rec, &rn, &sig, &sn);
	snprintf(path, sizeof path, "custos/items/%s.record", x->item->id_hex);
	if (rc == 0)
		rc = put_tag(e, path, rec, rn);
	snprintf(path, sizeof path, "custos/items/%s.sig", x->item->id_hex);
	if (rc == 0)
		rc = put_tag(e, path, sig, sn);
	free(rec);
	free(sig);
	return rc;
}

static int put_proof(exporter *e, const exhibit *x)
{
	char path[96];
	buf b;
	buf_init(&b, BUF_LIMIT_DEFAULT);
	int rc = proof_make(e->v, x->item, &e->cp, &b);
	snprintf(path, sizeof path, "custos/proofs/%s.proof", x->item->id_hex);
	if (rc < 0) {
		buf_free(&b);
		return rc;
	}
	return put_tag_buf(e, path, &b);
}

static int put_minisig(exporter *e, const exhibit *x)
{
	char tc[256], *name = custos_printable(x->item->rec.name.p, x->item->rec.name.n);
	if (!name)
		return CUSTOS_ERROR;
	buf b;
	buf_init(&b, MINISIG_MAX);
	char untrusted[MINISIG_COMMENT_MAX];
	snprintf(untrusted, sizeof untrusted, "custos exhibit: %.900s", name);
	snprintf(tc, sizeof tc, "custos item %s vault %s sha256 ", x->item->id_hex, e->v->info.id);
	custos_hex(tc + strlen(tc), x->item->rec.sha256, 32);
	free(name);
	int rc = minisig_sign(&b, e->key, x->blake2b, untrusted, tc);
	if (rc < 0) {
		buf_free(&b);
		return rc;
	}
	return put_tag_buf(e, x->minisig, &b);
}

/* One custody event, as in the log: custos/events/<seq>.event and .sig; none when it is
 * larger than `max`. */
static int put_event(exporter *e, uint64_t seq, size_t max)
{
	index_event ie;
	custody_commit cc = {0};
	char path[64];
	int rc = index_event_get(e->v->index, seq, &ie);
	if (rc == 0)
		rc = custody_read_commit(e->v->log, ie.commit, &cc);
	if (rc == 0 && cc.event_len > max) {
		e->sum->events_left_out++;
		custody_commit_clear(&cc);
		return 0;
	}
	snprintf(path, sizeof path, "custos/events/%llu.event", (unsigned long long)seq);
	if (rc == 0)
		rc = put_tag(e, path, cc.event, cc.event_len);
	snprintf(path, sizeof path, "custos/events/%llu.sig", (unsigned long long)seq);
	if (rc == 0)
		rc = put_tag(e, path, cc.event_sig, cc.event_sig_len);
	custody_commit_clear(&cc);
	return rc;
}

static int put_events(exporter *e)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < e->n_ex; i++) {
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = e->ex[j].item->rec.seq == e->ex[i].item->rec.seq;
		if (!seen)
			rc = put_event(e, e->ex[i].item->rec.seq, PACKAGE_EVENT_MAX);
	}
	return rc < 0 ? rc : put_event(e, e->cp.seq, SIZE_MAX);
}

const package_key_file package_key_files[3] = {
	{"custos/custodian.pub", CUSTOS_PUB_CUSTOS},
	{"custos/custodian.ssh.pub", CUSTOS_PUB_SSH},
	{"custos/custodian.minisign.pub", CUSTOS_PUB_MINISIGN},
};

static int put_keys(exporter *e)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < ARRAY_LEN(package_key_files); i++) {
		const package_key_file *kf = &package_key_files[i];
		char *text = NULL;
		rc = custos_pubkey_format(&text, &e->v->info.owner, kf->form);
		if (rc == 0)
			rc = put_tag(e, kf->path, text, strlen(text));
		free(text);
	}
	return rc;
}

static int put_exhibit_list(exporter *e)
{
	buf b;
	buf_init(&b, BUF_LIMIT_DEFAULT);
	buf_printf(&b, "custos-exhibits 1\nvault %s\ntree-size %llu\n", e->v->info.id,
		   (unsigned long long)e->cp.size);
	for (size_t i = 0; i < e->n_ex; i++) {
		const exhibit *x = &e->ex[i];
		char sha[65];
		custos_hex(sha, x->item->rec.sha256, 32);
		buf_printf(&b, "exhibit %s %s %llu %s %s\n", x->item->id_hex, sha,
			   (unsigned long long)x->item->rec.size,
			   e->o->no_content ? "-" : x->payload, x->minisig);
	}
	return put_tag_buf(e, "custos/exhibits.txt", &b);
}

static void verify_text_exhibit(exporter *e, buf *b, const exhibit *x)
{
	char *name = custos_printable(x->item->rec.name.p, x->item->rec.name.n);
	buf_printf(b, "  item %s  (originally \"%s\", %llu bytes)\n", x->item->id_hex,
		   name ? name : "?", (unsigned long long)x->item->rec.size);
	if (e->o->no_content)
		buf_printf(b, "    minisign -V -H -p custos/custodian.minisign.pub -x %s -m YOUR-COPY\n",
			   x->minisig);
	else
		buf_printf(b, "    minisign -V -H -p custos/custodian.minisign.pub -x %s -m %s\n",
			   x->minisig, x->payload);
	free(name);
}

static int put_verify_text(exporter *e)
{
	buf b;
	buf_init(&b, BUF_LIMIT_DEFAULT);
	char keyid[17];
	custos_keyid_hex(keyid, e->v->info.owner.id);
	buf_printf(&b,
		   "How to check this evidence package\n"
		   "==================================\n\n"
		   "This is a BagIt 1.0 bag (RFC 8493) of %zu exhibit(s) from custos vault %s,\n"
		   "signed by custodian key %s. Get that key from its owner by a channel you\n"
		   "trust (not from this package): everything below proves only that the holder\n"
		   "of that key vouches for these files.\n\n",
		   e->n_ex, e->v->info.id, keyid);
	if (e->o->no_content)
		buf_puts(&b, "The exhibit files themselves were left out (--no-content): the package\n"
			     "proves files you already hold. Their SHA-256 digests are in\n"
			     "custos/exhibits.txt.\n\n");
	else
		buf_puts(&b, "1. Every file is intact (GNU coreutils):\n\n"
			     "    sha256sum -c manifest-sha256.txt\n"
			     "    sha256sum -c tagmanifest-sha256.txt\n\n");
	buf_puts(&b, "2. The custodian signed the whole package (minisign): this signature\n"
		     "   covers tagmanifest-sha256.txt, which covers every other file.\n\n"
		     "    minisign -V -H -p custos/custodian.minisign.pub -x custos/package.minisig \\\n"
		     "        -m tagmanifest-sha256.txt\n\n"
		     "   Compare the key id minisign prints with the one you were given.\n\n"
		     "3. The custodian signed each exhibit (minisign; the trusted comment names\n"
		     "   the custos item):\n\n");
	for (size_t i = 0; i < e->n_ex; i++)
		verify_text_exhibit(e, &b, &e->ex[i]);
	buf_printf(&b,
		   "\n4. Everything, including that each exhibit's record is in the custody log\n"
		   "   committed to by the signed checkpoint of tree size %llu (and its\n"
		   "   witnesses' cosignatures), with custos and no vault:\n\n"
		   "    custos verify-package THIS.tar --trust CUSTODIAN-KEY [--witness VKEY]...\n"
		   "    custos verify-package THIS.tar --trust CUSTODIAN-KEY --exhibit YOUR-COPY\n\n"
		   "   or one exhibit at a time:\n\n"
		   "    custos verify-proof custos/proofs/ITEM.proof EXHIBIT --trust CUSTODIAN-KEY\n\n"
		   "Layout: data/ the exhibits (names made safe; the original name is in each\n"
		   "record); custos/items/ the signed item records; custos/events/ the custody\n"
		   "events that received them and issued the checkpoint; custos/proofs/ the\n"
		   "exhibit proofs; custos/checkpoint.note the checkpoint with its cosignatures;\n"
		   "custos/custodian.* the custodian's public key in custos, ssh and minisign\n"
		   "forms. Formats: the custos format specification, section 10.\n",
		   (unsigned long long)e->cp.size);
	return put_tag_buf(e, "custos/VERIFY.txt", &b);
}

static int put_bag_info(exporter *e)
{
	char date[21];
	custos_time_format(date, e->now);
	date[10] = '\0';
	char *org = custos_printable((const uint8_t *)e->v->info.name, strlen(e->v->info.name));
	buf b;
	buf_init(&b, BUF_LIMIT_DEFAULT);
	buf_printf(&b,
		   "Source-Organization: %s\nExternal-Identifier: %s\nBagging-Date: %s\n"
		   "Payload-Oxum: %llu.%llu\nBag-Software-Agent: custos\n"
		   "External-Description: Exhibits of custos vault %s\n"
		   "Internal-Sender-Description: how to check this package: custos/VERIFY.txt\n",
		   org ? org : "", e->v->info.id, date, (unsigned long long)e->sum->payload_bytes,
		   (unsigned long long)e->sum->payload_files, e->v->info.id);
	free(org);
	return put_tag_buf(e, "bag-info.txt", &b);
}

static int put_manifests(exporter *e)
{
	buf m256, m512;
	buf_init(&m256, BUF_LIMIT_DEFAULT);
	buf_init(&m512, BUF_LIMIT_DEFAULT);
	for (size_t i = 0; i < e->n_ex && !e->o->no_content; i++) {
		char sha[65];
		custos_hex(sha, e->ex[i].item->rec.sha256, 32);
		buf_printf(&m256, "%s  %s\n", sha, e->ex[i].payload);
		buf_printf(&m512, "%s  %s\n", e->ex[i].sha512, e->ex[i].payload);
	}
	int rc = put_tag_buf(e, "manifest-sha256.txt", &m256);
	if (rc == 0)
		rc = put_tag_buf(e, "manifest-sha512.txt", &m512);
	else
		buf_free(&m512);
	return rc;
}

/* The tag manifest lists every tag file but itself and the package signature, which is
 * over the tag manifest and so seals the bag. */
static int put_seal(exporter *e)
{
	buf b, sig;
	buf_init(&b, BUF_LIMIT_DEFAULT);
	for (size_t i = 0; i < e->n_tags; i++) {
		char sha[65];
		custos_hex(sha, e->tags[i].sha256, 32);
		buf_printf(&b, "%s  %s\n", sha, e->tags[i].path);
	}
	int rc = buf_check(&b);
	uint8_t h[64];
	if (rc == 0)
		rc = blake2b512_buf(h, b.p, b.n);
	if (rc == 0)
		rc = put_tag(e, "tagmanifest-sha256.txt", b.p, b.n);
	buf_free(&b);
	char tc[200];
	snprintf(tc, sizeof tc, "custos package vault %s exhibits %zu tree-size %llu",
		 e->v->info.id, e->n_ex, (unsigned long long)e->cp.size);
	buf_init(&sig, MINISIG_MAX);
	if (rc == 0)
		rc = minisig_sign(&sig, e->key, h, "custos package signature", tc);
	if (rc == 0)
		rc = put_tag_buf(e, "custos/package.minisig", &sig);
	else
		buf_free(&sig);
	return rc;
}

static int put_directories(exporter *e)
{
	static const char *const dirs[] = {"", "data", "custos", "custos/items", "custos/events",
					   "custos/proofs", "custos/minisig"};
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < ARRAY_LEN(dirs); i++)
		rc = put_header(e, dirs[i], 0, true);
	return rc;
}

static int write_package(exporter *e)
{
	static const char bagit[] = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
	int rc = put_directories(e);
	for (size_t i = 0; rc == 0 && i < e->n_ex; i++) {
		rc = put_payload(e, &e->ex[i]);
		if (rc == 0 && e->o->on_exhibit)
			e->o->on_exhibit(e->ex[i].item, e->o->no_content ? NULL : e->ex[i].payload,
					 e->o->ud);
	}
	if (rc == 0)
		rc = put_tag(e, "bagit.txt", bagit, sizeof bagit - 1);
	if (rc == 0)
		rc = put_bag_info(e);
	if (rc == 0)
		rc = put_manifests(e);
	for (size_t i = 0; rc == 0 && i < e->n_ex; i++) {
		rc = put_record(e, &e->ex[i]);
		if (rc == 0)
			rc = put_proof(e, &e->ex[i]);
		if (rc == 0)
			rc = put_minisig(e, &e->ex[i]);
	}
	if (rc == 0)
		rc = put_events(e);
	if (rc == 0)
		rc = put_tag(e, "custos/checkpoint.note", e->cp.note, e->cp.note_len);
	if (rc == 0)
		rc = put_keys(e);
	if (rc == 0)
		rc = put_exhibit_list(e);
	if (rc == 0)
		rc = put_verify_text(e);
	if (rc == 0)
		rc = put_seal(e);
	return rc;
}

/* The bag's base directory: the output's file name without .tar, made safe. */
static char *base_of(const char *out)
{
	const char *slash = strrchr(out, '/');
	const char *bn = slash ? slash + 1 : out;
	size_t n = strlen(bn);
	if (n > 4 && strcmp(bn + n - 4, ".tar") == 0)
		n -= 4;
	buf b;
	buf_init(&b, 4096);
	package_safe_name(&b, (const uint8_t *)bn, n, PACKAGE_NAME_MAX);
	if (b.n == 0)
		buf_puts(&b, "custos-package");
	buf_putc(&b, '\0');
	return buf_steal(&b, NULL);
}

static int open_archive(exporter *e, int fd)
{
	if (!(e->ar = archive_write_new()))
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	/* ustar headers (pax only where a name needs it), no compression: bsdtar, GNU tar and
	 * Python's tarfile read it, and a verifier needs no decompressor. */
	if (archive_write_set_format_pax_restricted(e->ar) != ARCHIVE_OK ||
	    archive_write_add_filter_none(e->ar) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(e->ar, 1) != ARCHIVE_OK ||
	    archive_write_open_fd(e->ar, fd) != ARCHIVE_OK)
		return archive_fail(e, "open");
	return 0;
}

static void exporter_free(exporter *e)
{
	if (e->ar)
		archive_write_free(e->ar);
	for (size_t i = 0; i < e->n_ex; i++) {
		custos_item_free(e->ex[i].item);
		free(e->ex[i].payload);
		free(e->ex[i].minisig);
	}
	free(e->ex);
	for (size_t i = 0; i < e->n_tags; i++)
		free(e->tags[i].path);
	free(e->tags);
	free(e->base);
	custos_checkpoint_clear(&e->cp);
}

int custos_export(custos_vault *v, const custos_key *key, const char *const *items, size_t n,
		  const char *out, const custos_export_opts *o, custos_export_summary *sum)
{
	static const custos_export_opts none = {0};
	exporter e = {.v = v, .key = key, .o = o ? o : &none, .now = time(NULL), .sum = sum};
	memset(sum, 0, sizeof *sum);
	if (n == 0)
		return custos_error_set(CUSTOS_EINVALID, "no item to export");
	if (!pubkey_equal(custos_key_public(key), &v->info.owner))
		return custos_error_set(CUSTOS_EPERM, "the key is not the custodian of this vault");
	int rc = custos_checkpoint_latest(v, &e.cp);
	if (rc == CUSTOS_ENOTFOUND)
		rc = custos_error_set(CUSTOS_ENOTFOUND,
				      "the vault has no checkpoint to prove exhibits against; run "
				      "'custos checkpoint' first");
	if (rc == 0)
		rc = resolve_items(&e, items, n);
	if (rc == 0 && !(e.base = base_of(out)))
		rc = CUSTOS_ERROR;
	int fd = -1;
	char *tmp = NULL;
	if (rc == 0)
		rc = fs_temp_create(out, &fd, &tmp);
	if (rc == 0)
		rc = open_archive(&e, fd);
	if (rc == 0)
		rc = write_package(&e);
	if (rc == 0 && archive_write_close(e.ar) != ARCHIVE_OK)
		rc = archive_fail(&e, "close");
	if (rc == 0) {
		rc = fs_temp_publish(fd, tmp, out, 0644, true);
		sum->exhibits = e.n_ex;
		sum->tree_size = e.cp.size;
		sum->files = e.n_tags + sum->payload_files;
	} else if (tmp) {
		fs_temp_discard(fd, tmp);
	}
	exporter_free(&e);
	return rc;
}
