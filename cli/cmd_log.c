/*
 * cmd_log.c — custos log [ITEM]: the custody trail; custos log --imports: a replica's own log.
 */
#include "cli.h"

#include <getopt.h>
#include <string.h>
#include <stdlib.h>

typedef struct log_out {
	bool json;
} log_out;

static int print_event(const custos_event_info *e, void *ud)
{
	log_out *o = ud;
	char ts[21], kid[17];
	custos_time_format(ts, e->time);
	custos_keyid_hex(kid, e->custodian);
	if (o->json) {
		printf("{\"seq\":%llu,\"time\":\"%s\",\"action\":\"%s\",\"commit\":\"%s\",\"custodian\":\"%s\","
		       "\"stored\":%llu,\"duplicate\":%llu,\"refused\":%llu",
		       (unsigned long long)e->seq, ts, e->action, e->commit, kid,
		       (unsigned long long)e->stored, (unsigned long long)e->duplicates,
		       (unsigned long long)e->refused);
		if (e->source.n) {
			fputs(",\"source\":", stdout);
			json_bytes(stdout, e->source.p, e->source.n);
		}
		if (e->note.n) {
			fputs(",\"note\":", stdout);
			json_bytes(stdout, e->note.p, e->note.n);
		}
		if (e->tree_size) {
			char root[65];
			custos_hex(root, e->root, 32);
			printf(",\"tree_size\":%llu,\"root\":\"%s\"", (unsigned long long)e->tree_size, root);
		}
		if (e->witness) {
			fputs(",\"witness\":", stdout);
			json_str(stdout, e->witness);
		}
		if (strcmp(e->action, "import") == 0) {
			char b[65];
			custos_hex(b, e->bundle, 32);
			printf(",\"from\":%llu,\"to\":%llu,\"head\":\"%s\",\"bundle\":\"%s\"",
			       (unsigned long long)e->import_from, (unsigned long long)e->import_to,
			       e->import_head, b);
		}
		puts("}");
		return 0;
	}
	printf("event %llu  %s  %-7s commit %.12s  custodian %s\n", (unsigned long long)e->seq, ts,
	       e->action, e->commit, kid);
	if (e->stored + e->duplicates + e->refused)
		printf("    %llu stored, %llu duplicate, %llu refused\n", (unsigned long long)e->stored,
		       (unsigned long long)e->duplicates, (unsigned long long)e->refused);
	if (e->tree_size) {
		char root[65];
		custos_hex(root, e->root, 32);
		printf("    tree size %llu, root %.16s…\n", (unsigned long long)e->tree_size, root);
	}
	if (e->witness)
		printf("    cosigned by %.*s\n", (int)strcspn(e->witness, "+"), e->witness);
	if (strcmp(e->action, "import") == 0) {
		char b[65];
		custos_hex(b, e->bundle, 32);
		printf("    events %llu to %llu of the origin's log, head %.12s; bundle sha256 %s\n",
		       (unsigned long long)e->import_from, (unsigned long long)e->import_to,
		       e->import_head, b);
	}
	if (e->source.n) {
		fputs("    source: ", stdout);
		print_bytes(stdout, e->source.p, e->source.n);
		fputc('\n', stdout);
	}
	if (e->note.n) {
		fputs("    note:   ", stdout);
		print_bytes(stdout, e->note.p, e->note.n);
		fputc('\n', stdout);
	}
	return 0;
}

int cmd_log(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
					     {"imports", no_argument, NULL, 'i'},
					     {NULL, 0, NULL, 0}};
	log_out o = {0};
	bool imports = false;
	int ch;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'j')
			o.json = true;
		else if (ch == 'i')
			imports = true;
		else
			return usage_error("log", "bad option");
	}
	if (imports && optind < argc)
		return usage_error("log", "--imports takes no ITEM");
	if (argc - optind > 1)
		return usage_error("log", "expected at most one ITEM");
	custos_vault *v = NULL;
	int st = open_vault(c, &v, CUSTOS_OPEN_READ);
	if (st)
		return st;
	custos_item *it = NULL;
	int rc = 0;
	if (optind < argc)
		rc = custos_item_find(&it, v, argv[optind], CUSTOS_FIND_EXACT);
	if (rc == 0 && imports)
		rc = custos_imports_foreach(v, print_event, &o);
	else if (rc == 0)
		rc = custos_log_foreach(v, it ? it->id_hex : NULL, print_event, &o);
	custos_item_free(it);
	custos_vault_close(v);
	return rc < 0 ? fail_last(rc) : 0;
}
