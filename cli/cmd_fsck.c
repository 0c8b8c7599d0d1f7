/*
 * cmd_fsck.c — custos fsck [--full] [--trust KEY] [--against CHECKPOINT]: check the whole
 * vault, and that its log extends a checkpoint held elsewhere.
 */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>

typedef struct fsck_out {
	bool json;
} fsck_out;

static void on_problem(const custos_problem *p, void *ud)
{
	fsck_out *o = ud;
	if (o->json) {
		printf("{\"problem\":\"%s\",\"where\":", p->kind);
		json_str(stdout, p->where);
		fputs(",\"detail\":", stdout);
		json_str(stdout, p->detail);
		puts("}");
	} else {
		printf("PROBLEM %s: %s: %s\n", p->kind, p->where, p->detail);
	}
}

static void on_note(const char *msg, void *ud)
{
	fsck_out *o = ud;
	if (o->json) {
		fputs("{\"note\":", stdout);
		json_str(stdout, msg);
		puts("}");
	} else {
		printf("note: %s\n", msg);
	}
}

int cmd_fsck(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"full", no_argument, NULL, 'f'},
		{"trust", required_argument, NULL, 't'},
		{"json", no_argument, NULL, 'j'},
		{"against", required_argument, NULL, 'a'},
		{NULL, 0, NULL, 0},
	};
	fsck_out o = {0};
	uint8_t *against = NULL;
	custos_fsck_opts fo = {.on_problem = on_problem, .on_note = on_note, .ud = &o};
	custos_pubkey trust;
	int ch;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			fo.full = 1;
			break;
		case 't':
			if (custos_pubkey_load(&trust, optarg) < 0)
				return usage_error("fsck", "--trust: %s", custos_error_last());
			fo.trust = &trust;
			break;
		case 'j':
			o.json = true;
			break;
		case 'a':
			free(against);
			against = NULL;
			if (custos_file_read(optarg, 64 << 10, &against, &fo.against_len) < 0)
				return fail(CUSTOS_ERROR, "--against");
			fo.against = against;
			break;
		default:
			free(against);
			return usage_error("fsck", "bad option");
		}
	}
	if (optind != argc)
		return usage_error("fsck", "unexpected argument '%s'", argv[optind]);
	custos_vault *v = NULL;
	int st = open_vault(c, &v, CUSTOS_OPEN_READ);
	if (st) {
		free(against);
		return st;
	}
	custos_fsck_summary sum;
	int rc = custos_fsck(v, &fo, &sum);
	custos_vault_close(v);
	free(against);
	if (rc < 0 && rc != CUSTOS_EINTEGRITY)
		return fail(rc, "fsck failed");
	if (o.json)
		printf("{\"summary\":{\"events\":%llu,\"items\":%llu,\"objects\":%llu,\"bytes_hashed\":%llu,"
		       "\"problems\":%llu,\"ok\":%s}}\n",
		       (unsigned long long)sum.events, (unsigned long long)sum.items,
		       (unsigned long long)sum.objects, (unsigned long long)sum.bytes_hashed,
		       (unsigned long long)sum.problems, sum.problems ? "false" : "true");
	else
		printf("%s: %llu events, %llu items, %llu objects%s, %llu problem%s\n",
		       sum.problems ? "FAILED" : "ok", (unsigned long long)sum.events,
		       (unsigned long long)sum.items, (unsigned long long)sum.objects,
		       fo.full ? " (re-hashed)" : "", (unsigned long long)sum.problems,
		       sum.problems == 1 ? "" : "s");
	return sum.problems ? EXIT_CHECK : EXIT_OK;
}
