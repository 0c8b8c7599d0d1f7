/*
 * cmd_show.c — custos show ITEM: the record of one item.
 */
#include "cli.h"

#include <getopt.h>
#include <string.h>

static void show_text(const custos_item *it)
{
	const custos_record *r = &it->rec;
	char sha[65], kid[17], ts[21];
	custos_hex(sha, r->sha256, 32);
	custos_keyid_hex(kid, r->custodian);
	custos_time_format(ts, r->ingested);
	printf("item        %s\nsha256      %s\nsize        %llu\nkind        %s\nname        ", it->id_hex,
	       sha, (unsigned long long)r->size, r->kind == CUSTOS_KIND_SYMLINK ? "symlink" : "file");
	print_bytes(stdout, r->name.p, r->name.n);
	fputs("\npath        ", stdout);
	print_bytes(stdout, r->path.p, r->path.n);
	if (r->kind == CUSTOS_KIND_SYMLINK) {
		fputs("\ntarget      ", stdout);
		print_bytes(stdout, r->target.p, r->target.n);
	}
	if (r->source.n) {
		fputs("\nsource      ", stdout);
		print_bytes(stdout, r->source.p, r->source.n);
	}
	printf("\nmime        %s\ndescription ", r->mime);
	print_bytes(stdout, (const uint8_t *)r->description, strlen(r->description));
	if (r->ext_mismatch)
		printf("\nWARNING     the extension .%s does not match the detected type", r->ext_mismatch);
	if (r->has_mtime) {
		char mt[21];
		custos_time_format(mt, r->mtime);
		printf("\nmtime       %s", mt);
	}
	const char *names[] = {"md5", "sha1", "sha512", "blake2b"};
	const char *vals[] = {r->md5, r->sha1, r->sha512, r->blake2b};
	for (int i = 0; i < 4; i++)
		if (vals[i][0])
			printf("\n%-11s %s", names[i], vals[i]);
	printf("\ningested    %s\ncustodian   %s\nevent       %llu (%s)\ncommit      %s\nsignature   %s\n",
	       ts, kid, (unsigned long long)r->seq, it->outcome, it->commit,
	       it->sig_ok ? "good" : "BAD");
}

int cmd_show(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
	bool json = false;
	int ch;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'j')
			return usage_error("show", "bad option");
		json = true;
	}
	if (argc - optind != 1)
		return usage_error("show", "expected one ITEM");
	custos_vault *v = NULL;
	int st = open_vault(c, &v, CUSTOS_OPEN_READ);
	if (st)
		return st;
	custos_item *it = NULL;
	int rc = custos_item_find(&it, v, argv[optind], CUSTOS_FIND_EXACT);
	if (rc < 0) {
		custos_vault_close(v);
		return fail_last(rc);
	}
	if (json) {
		print_item_json(stdout, it);
		fputc('\n', stdout);
	} else {
		show_text(it);
	}
	st = it->sig_ok ? 0 : EXIT_CHECK;
	custos_item_free(it);
	custos_vault_close(v);
	return st;
}
