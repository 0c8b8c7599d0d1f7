/*
 * cmd_bundle.c — custos bundle -o FILE [--since CHECKPOINT] and custos import FILE: moving
 * a vault's history to a replica on another machine (FS §11).
 */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define CHECKPOINT_FILE_MAX (1 << 20)

int cmd_bundle(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"since", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	const char *out = NULL, *since = NULL;
	bool json = false;
	int ch;
	while ((ch = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (ch == 'o')
			out = optarg;
		else if (ch == 's')
			since = optarg;
		else if (ch == 'j')
			json = true;
		else
			return usage_error("bundle", "bad option");
	}
	if (argc != optind)
		return usage_error("bundle", "unexpected argument '%s'", argv[optind]);
	if (!out)
		return usage_error("bundle", "-o FILE is required");
	uint8_t *cp = NULL;
	size_t cpn = 0;
	int rc = since ? custos_file_read(since, CHECKPOINT_FILE_MAX, &cp, &cpn) : 0;
	if (rc < 0)
		return fail(rc, "cannot read the checkpoint %s", since);
	custos_vault *v = NULL;
	int st = open_vault(c, &v, CUSTOS_OPEN_READ);
	if (st) {
		free(cp);
		return st;
	}
	custos_bundle_summary s;
	rc = custos_bundle(v, cp, cpn, out, &s);
	if (rc < 0)
		st = fail(rc, "cannot write the bundle %s", out);
	else if (json) {
		printf("{\"bundle\":");
		json_str(stdout, out);
		printf(",\"from\":%llu,\"to\":%llu,\"events\":%llu,\"items\":%llu,\"objects\":%llu,"
		       "\"object_bytes\":%llu}\n",
		       (unsigned long long)s.from, (unsigned long long)s.to,
		       (unsigned long long)s.events, (unsigned long long)s.items,
		       (unsigned long long)s.objects, (unsigned long long)s.object_bytes);
	} else {
		printf("bundle %s: events %llu to %llu (%llu events, %llu items), %llu objects "
		       "(%llu bytes)\n",
		       out, (unsigned long long)s.from, (unsigned long long)s.to,
		       (unsigned long long)s.events, (unsigned long long)s.items,
		       (unsigned long long)s.objects, (unsigned long long)s.object_bytes);
	}
	custos_vault_close(v);
	free(cp);
	return st;
}

int cmd_import(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	problem_out po = {.first = true};
	int ch;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'j')
			po.json = true;
		else
			return usage_error("import", "bad option");
	}
	if (argc - optind != 1)
		return usage_error("import", "expected one bundle FILE");
	custos_vault *v = NULL;
	custos_key *key = NULL;
	int st = open_vault(c, &v, CUSTOS_OPEN_WRITE);
	if (st)
		return st;
	if ((st = load_key(c, &key)) != 0) {
		custos_vault_close(v);
		return st;
	}
	custos_import_opts o = {.on_problem = print_problem, .ud = &po};
	custos_import_summary s;
	if (po.json)
		fputs("{\"problems\":[", stdout);
	int rc = custos_import(v, key, argv[optind], &o, &s);
	const custos_vault_info *info = custos_vault_get_info(v);
	if (po.json) {
		printf("],\"ok\":%s,\"from\":%llu,\"to\":%llu,\"held_before\":%llu,\"events\":%llu,"
		       "\"items\":%llu,\"objects_stored\":%llu,\"bytes_stored\":%llu,\"head\":\"%s\","
		       "\"import\":%llu}\n",
		       rc == 0 ? "true" : "false", (unsigned long long)s.from,
		       (unsigned long long)s.to, (unsigned long long)s.held_before,
		       (unsigned long long)s.events, (unsigned long long)s.items,
		       (unsigned long long)s.objects, (unsigned long long)s.objects_stored_bytes,
		       rc == 0 ? info->head : "", (unsigned long long)s.import_seq);
	}
	if (rc < 0) {
		st = fail(rc, "import of %s", argv[optind]);
	} else if (!po.json) {
		printf("imported %s: events %llu to %llu (%llu new items), %llu objects stored "
		       "(%llu bytes); log head %s (%llu events); import %llu recorded\n",
		       argv[optind], (unsigned long long)(s.held_before > s.from ? s.held_before : s.from),
		       (unsigned long long)s.to, (unsigned long long)s.items,
		       (unsigned long long)s.objects, (unsigned long long)s.objects_stored_bytes,
		       info->head, (unsigned long long)info->events,
		       (unsigned long long)s.import_seq);
	}
	custos_key_free(key);
	custos_vault_close(v);
	return st;
}
