/*
 * cmd_ls.c — custos ls: every item in log order.
 */
#include "cli.h"

#include <getopt.h>
#include <string.h>

typedef struct ls_state {
	bool json;
	unsigned long long n;
} ls_state;

static int print_one(const custos_item *it, void *ud)
{
	ls_state *s = ud;
	s->n++;
	if (s->json) {
		print_item_json(stdout, it);
		fputc('\n', stdout);
		return 0;
	}
	char sha[65];
	custos_hex(sha, it->rec.sha256, 32);
	printf("%s %.16s %12llu %-28s ", it->id_hex, sha, (unsigned long long)it->rec.size,
	       it->rec.mime);
	if (it->rec.is_member) { /* "<container>!/<member path>", as ingest prints it */
		char c[33];
		custos_hex(c, it->rec.container, CUSTOS_ITEM_ID_LEN);
		printf("%.12s!/", c);
	}
	print_bytes(stdout, it->rec.path.p, it->rec.path.n);
	if (it->rec.is_member && strcmp(it->rec.outcome, "ok") != 0)
		printf("  [%s]", it->rec.outcome);
	fputs(it->sig_ok ? "\n" : "  [BAD SIGNATURE]\n", stdout);
	return 0;
}

int cmd_ls(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
	ls_state s = {0};
	int ch;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'j')
			return usage_error("ls", "bad option");
		s.json = true;
	}
	if (optind != argc)
		return usage_error("ls", "unexpected argument '%s'", argv[optind]);
	custos_vault *v = NULL;
	int st = open_vault(c, &v, CUSTOS_OPEN_READ);
	if (st)
		return st;
	int rc = custos_items_foreach(v, print_one, &s);
	custos_vault_close(v);
	if (rc < 0)
		return fail(rc, "cannot list the vault");
	return 0;
}
