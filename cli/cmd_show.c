/*
 * cmd_show.c — custos show ITEM: the record of one item and, for a container, how it was
 * read and every member with its outcome.
 */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void show_member_fields(const custos_record *r)
{
	char c[33];
	custos_hex(c, r->container, CUSTOS_ITEM_ID_LEN);
	printf("\ncontainer   %s\nmember      %llu\nmode        %04o\noutcome     %s", c,
	       (unsigned long long)r->member, (unsigned)r->mode, r->outcome);
}

static void show_text(const custos_item *it)
{
	const custos_record *r = &it->rec;
	char sha[65], kid[17], ts[21];
	custos_hex(sha, r->sha256, 32);
	custos_keyid_hex(kid, r->custodian);
	custos_time_format(ts, r->ingested);
	printf("item        %s\nsha256      %s\nsize        %llu\nkind        %s\nname        ", it->id_hex,
	       sha, (unsigned long long)r->size, custos_kind_name(r->kind));
	print_bytes(stdout, r->name.p, r->name.n);
	fputs(r->is_member ? "\npath        " : "\npath        ", stdout);
	print_bytes(stdout, r->path.p, r->path.n);
	if (r->is_member)
		show_member_fields(r);
	if (custos_kind_has_target(r->kind)) {
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

typedef struct members_out {
	bool json;
	uint64_t n, bad_sigs;
} members_out;

static int print_member(const custos_item *it, void *ud)
{
	members_out *o = ud;
	const custos_record *r = &it->rec;
	o->bad_sigs += !it->sig_ok;
	if (o->json) {
		fputs(o->n++ ? "," : "", stdout);
		print_item_json(stdout, it);
		return 0;
	}
	o->n++;
	printf("  %6llu %s %-17s %-9s %12llu ", (unsigned long long)r->member, it->id_hex, r->outcome,
	       custos_kind_name(r->kind), (unsigned long long)r->size);
	print_bytes(stdout, r->path.p, r->path.n);
	if (custos_kind_has_target(r->kind)) {
		fputs(" -> ", stdout);
		print_bytes(stdout, r->target.p, r->target.n);
	}
	putchar('\n');
	return 0;
}

/* For a container: its reading result and members. Returns <0 on error, else the number
 * of members whose signature failed. */
static int show_container(custos_vault *v, const custos_item *it, bool json, bool *opened)
{
	custos_container_info ci;
	members_out o = {.json = json};
	int rc = custos_container_members(v, it, &ci, NULL, NULL);
	*opened = rc == 0 && ci.opened;
	if (rc < 0 || !ci.opened)
		return rc;
	if (json) {
		printf(",\"archive\":{\"result\":\"%s\",\"members_read\":%llu,\"consumed\":%llu,\"format\":",
		       ci.result, (unsigned long long)ci.members, (unsigned long long)ci.consumed);
		json_bytes(stdout, ci.format.p, ci.format.n);
		fputs(",\"detail\":", stdout);
		json_bytes(stdout, ci.detail.p, ci.detail.n);
		fputs(",\"members\":[", stdout);
	} else {
		printf("container   %s, %llu members, %llu bytes read", ci.result,
		       (unsigned long long)ci.members, (unsigned long long)ci.consumed);
		if (ci.format.n) {
			fputs(" (", stdout);
			print_bytes(stdout, ci.format.p, ci.format.n);
			fputc(')', stdout);
		}
		if (ci.detail.n) {
			fputs(": ", stdout);
			print_bytes(stdout, ci.detail.p, ci.detail.n);
		}
		puts(ci.members ? "\nmembers     #      item                             outcome           kind              size path" : "");
	}
	custos_container_info ci2;
	rc = custos_container_members(v, it, &ci2, print_member, &o);
	custos_container_info_clear(&ci2);
	custos_container_info_clear(&ci);
	if (json)
		fputs("]}", stdout);
	return rc < 0 ? rc : (int)(o.bad_sigs > 0);
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
	bool opened = false;
	if (json) {
		print_item_json_fields(stdout, it);
		rc = show_container(v, it, true, &opened);
		puts("}");
	} else {
		show_text(it);
		rc = show_container(v, it, false, &opened);
	}
	st = rc < 0 ? fail_last(rc) : it->sig_ok && rc == 0 ? 0 : EXIT_CHECK;
	custos_item_free(it);
	custos_vault_close(v);
	return st;
}
