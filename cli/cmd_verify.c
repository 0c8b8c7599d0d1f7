/*
 * cmd_verify.c — custos verify FILE...: are these exact bytes in the vault?
 */
#include "cli.h"

#include <getopt.h>
#include <string.h>

/* For a member of an archive: the containers it came out of, innermost first, up to the
 * file that was an input ("member 3 of item X, path p; X is member 0 of item Y, ..."). */
typedef void (*container_fn)(const custos_item *container, uint64_t member, bool first, void *ud);

static void walk_containers(custos_vault *v, const custos_record *rec, container_fn fn, void *ud)
{
	const custos_record *cur = rec;
	custos_item *held = NULL;
	for (int depth = 0; cur->is_member && depth < 64; depth++) {
		char hex[33];
		custos_item *up = NULL;
		custos_hex(hex, cur->container, CUSTOS_ITEM_ID_LEN);
		if (custos_item_find(&up, v, hex, CUSTOS_FIND_EXACT) < 0)
			break;
		fn(up, cur->member, depth == 0, ud);
		custos_item_free(held);
		held = up;
		cur = &up->rec;
	}
	custos_item_free(held);
}

static void container_json(const custos_item *c, uint64_t member, bool first, void *ud)
{
	(void)ud;
	printf("%s{\"member\":%llu,\"of\":\"%s\",\"path\":", first ? "" : ",",
	       (unsigned long long)member, c->id_hex);
	json_bytes(stdout, c->rec.path.p, c->rec.path.n);
	fputc('}', stdout);
}

static void container_text(const custos_item *c, uint64_t member, bool first, void *ud)
{
	(void)ud;
	(void)first;
	printf("\n    member %llu of item %s (", (unsigned long long)member, c->id_hex);
	print_bytes(stdout, c->rec.path.p, c->rec.path.n);
	fputc(')', stdout);
}

static void receipt_json(custos_vault *v, const custos_receipt *r)
{
	const custos_record *rec = &r->item->rec;
	char ts[21], kid[17];
	custos_time_format(ts, rec->ingested);
	custos_keyid_hex(kid, rec->custodian);
	printf("{\"item\":\"%s\",\"time\":\"%s\",\"name\":", r->item->id_hex, ts);
	json_bytes(stdout, rec->name.p, rec->name.n);
	fputs(",\"path\":", stdout);
	json_bytes(stdout, rec->path.p, rec->path.n);
	if (rec->source.n) {
		fputs(",\"source\":", stdout);
		json_bytes(stdout, rec->source.p, rec->source.n);
	}
	if (rec->is_member) {
		printf(",\"member_outcome\":\"%s\",\"within\":[", rec->outcome);
		walk_containers(v, rec, container_json, NULL);
		fputc(']', stdout);
	}
	printf(",\"signer\":\"%s\",\"event\":%llu,\"commit\":\"%s\",\"record_signature\":%s,"
	       "\"commit_signature\":%s,\"chain\":%s",
	       kid, (unsigned long long)rec->seq, r->item->commit, r->record_sig_ok ? "true" : "false",
	       r->commit_sig_ok ? "true" : "false", r->chain_ok ? "true" : "false");
	if (r->problem) {
		fputs(",\"problem\":", stdout);
		json_str(stdout, r->problem);
	}
	fputc('}', stdout);
}

static void receipt_text(custos_vault *v, const custos_receipt *r)
{
	const custos_record *rec = &r->item->rec;
	char ts[21], kid[17];
	custos_time_format(ts, rec->ingested);
	custos_keyid_hex(kid, rec->custodian);
	printf("  item %s received %s by %s (event %llu)\n    name   ", r->item->id_hex, ts, kid,
	       (unsigned long long)rec->seq);
	print_bytes(stdout, rec->name.p, rec->name.n);
	fputs("\n    path   ", stdout);
	print_bytes(stdout, rec->path.p, rec->path.n);
	if (rec->source.n) {
		fputs("\n    source ", stdout);
		print_bytes(stdout, rec->source.p, rec->source.n);
	}
	if (rec->is_member) {
		printf("\n    outcome %s", rec->outcome);
		walk_containers(v, rec, container_text, NULL);
	}
	printf("\n    record signature %s, commit signature %s, custody chain %s\n",
	       r->record_sig_ok ? "good" : "BAD", r->commit_sig_ok ? "good" : "BAD",
	       r->chain_ok ? "intact" : "BROKEN");
	if (r->problem)
		printf("    PROBLEM: %s\n", r->problem);
}

static bool result_ok(const custos_verify_result *r)
{
	if (!r->n_receipts || !r->object_ok)
		return false;
	for (size_t i = 0; i < r->n_receipts; i++)
		if (r->receipts[i].problem)
			return false;
	return true;
}

static int verify_one(custos_vault *v, const char *path, bool json)
{
	custos_verify_result *r = NULL;
	int rc = custos_verify_file(&r, v, path);
	if (rc < 0) {
		if (json) {
			printf("{\"file\":");
			json_str(stdout, path);
			printf(",\"error\":");
			json_str(stdout, custos_error_last());
			puts("}");
		}
		int st = fail_last(rc);
		return st == EXIT_CHECK ? EXIT_OPERATIONAL : st; /* unreadable input */
	}
	char sha[65];
	custos_hex(sha, r->sha256, 32);
	bool ok = result_ok(r);
	if (json) {
		printf("{\"file\":");
		json_str(stdout, path);
		printf(",\"sha256\":\"%s\",\"size\":%llu,\"in_vault\":%s,\"verified\":%s,\"object_ok\":%s,"
		       "\"receipts\":[",
		       sha, (unsigned long long)r->size, r->n_receipts ? "true" : "false",
		       ok ? "true" : "false", r->object_ok ? "true" : "false");
		for (size_t i = 0; i < r->n_receipts; i++) {
			if (i)
				fputc(',', stdout);
			receipt_json(v, &r->receipts[i]);
		}
		puts("]}");
	} else if (!r->n_receipts) {
		print_bytes(stdout, (const uint8_t *)path, strlen(path));
		printf(": NOT IN VAULT (sha256 %s, %llu bytes)\n", sha, (unsigned long long)r->size);
	} else {
		print_bytes(stdout, (const uint8_t *)path, strlen(path));
		printf(": %s (sha256 %s, %llu bytes, %zu receipt%s)\n",
		       ok ? "VERIFIED" : "IN VAULT BUT FAILS CHECKS", sha, (unsigned long long)r->size,
		       r->n_receipts, r->n_receipts == 1 ? "" : "s");
		for (size_t i = 0; i < r->n_receipts; i++)
			receipt_text(v, &r->receipts[i]);
		if (!r->object_ok)
			printf("  PROBLEM: the stored object is missing or has the wrong size\n");
	}
	custos_verify_result_free(r);
	return ok ? EXIT_OK : EXIT_CHECK;
}

int cmd_verify(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
	bool json = false;
	int ch;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'j')
			return usage_error("verify", "bad option");
		json = true;
	}
	if (optind >= argc)
		return usage_error("verify", "expected at least one FILE");
	custos_vault *v = NULL;
	int st = open_vault(c, &v, CUSTOS_OPEN_READ);
	if (st)
		return st;
	int worst = 0;
	for (int i = optind; i < argc; i++) {
		int s = verify_one(v, argv[i], json);
		if (s > worst)
			worst = s;
	}
	custos_vault_close(v);
	return worst;
}
