/*
 * cmd_inspect.c — custos inspect ITEM [--rerun]: the signals recorded about an item
 * (FS §13.4): every analysis event's findings, and the type signals of its record.
 */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct inspect_out {
	bool json;
	size_t runs;
} inspect_out;

static void print_signals_json(const char *key, const char *k1, const char *k2,
			       const custos_signal *s, size_t n)
{
	printf(",\"%s\":[", key);
	for (size_t i = 0; i < n; i++) {
		printf("%s{\"%s\":", i ? "," : "", k1);
		json_str(stdout, s[i].name);
		printf(",\"%s\":", k2);
		json_str(stdout, s[i].value);
		fputs("}", stdout);
	}
	fputs("]", stdout);
}

static int print_run(const custos_analysis_info *a, void *ud)
{
	inspect_out *o = ud;
	char when[21];
	custos_time_format(when, a->time);
	if (o->json) {
		printf("%s{\"event\":%llu,\"time\":\"%s\",\"note\":", o->runs ? "," : "",
		       (unsigned long long)a->seq, when);
		json_bytes(stdout, a->note.p, a->note.n);
		fputs(",\"kind\":", stdout);
		json_str(stdout, a->kind);
		fputs(",\"dkim\":[", stdout);
		for (size_t i = 0; i < a->n_sigs; i++) {
			if (i)
				fputs(",", stdout);
			print_dkim_sig_json(stdout, &a->sigs[i]);
		}
		fputs("]", stdout);
		if (a->arc) {
			fputs(",\"arc\":", stdout);
			print_arc_json(stdout, a->arc);
		}
		print_signals_json("meta", "name", "value", a->meta, a->n_meta);
		print_signals_json("flags", "flag", "detail", a->flags, a->n_flags);
		fputs("}", stdout);
	} else {
		printf("analysis event %llu (%s)%s", (unsigned long long)a->seq, when,
		       a->note.n ? ", " : "");
		print_bytes(stdout, a->note.p, a->note.n);
		if (strcmp(a->kind, "message") == 0)
			printf(": message, %zu DKIM signature%s\n", a->n_sigs, a->n_sigs == 1 ? "" : "s");
		else
			printf(": %s, %zu metadata field%s, %zu flag%s\n", a->kind, a->n_meta,
			       a->n_meta == 1 ? "" : "s", a->n_flags, a->n_flags == 1 ? "" : "s");
		for (size_t i = 0; i < a->n_sigs; i++)
			print_dkim_sig_text(stdout, &a->sigs[i], "  ");
		if (a->arc)
			print_arc_text(stdout, a->arc, "  ");
		for (size_t i = 0; i < a->n_meta; i++) {
			printf("  %-28s ", a->meta[i].name);
			print_bytes(stdout, (const uint8_t *)a->meta[i].value, strlen(a->meta[i].value));
			putchar('\n');
		}
		for (size_t i = 0; i < a->n_flags; i++)
			printf("  signal %s: %s\n", a->flags[i].name, a->flags[i].value);
	}
	o->runs++;
	return 0;
}

static int rerun(cli *c, custos_vault *v, const custos_item *it, bool json)
{
	custos_key *key = NULL;
	int st = load_key(c, &key);
	if (st)
		return st;
	custos_analysis_summary sum;
	int rc = custos_analyse_items(v, key, &it, 1, "rerun", &sum);
	custos_key_free(key);
	if (rc < 0)
		return fail(rc, "cannot analyse item %s", it->id_hex);
	if (!json)
		printf(sum.seq ? "analysed again: event %llu\n" : "nothing to analyse in this item%.0llu\n",
		       (unsigned long long)sum.seq);
	return 0;
}

static void print_header(const custos_item *it, bool json)
{
	const custos_record *r = &it->rec;
	if (json) {
		printf("{\"item\":\"%s\",\"path\":", it->id_hex);
		json_bytes(stdout, r->path.p, r->path.n);
		fputs(",\"mime\":", stdout);
		json_str(stdout, r->mime ? r->mime : "");
		fputs(",\"description\":", stdout);
		json_str(stdout, r->description ? r->description : "");
		fputs(",\"ext_mismatch\":", stdout);
		if (r->ext_mismatch)
			json_str(stdout, r->ext_mismatch);
		else
			fputs("null", stdout);
		fputs(",\"analyses\":[", stdout);
		return;
	}
	printf("item %s  ", it->id_hex);
	print_bytes(stdout, r->path.p, r->path.n);
	printf("\n  type: %s (%s)\n", r->mime ? r->mime : "?", r->description ? r->description : "?");
	if (r->ext_mismatch)
		printf("  signal: the extension '.%s' names another type than the content's\n",
		       r->ext_mismatch);
}

int cmd_inspect(cli *c, int argc, char **argv)
{
	if (wants_help("inspect", argc, argv))
		return 0;
	static const struct option opts[] = {
		{"rerun", no_argument, NULL, 'r'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	bool json = false, again = false;
	int ch;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'j')
			json = true;
		else if (ch == 'r')
			again = true;
		else
			return usage_error("inspect", "bad option");
	}
	if (argc - optind != 1)
		return usage_error("inspect", "expected: inspect ITEM");
	custos_vault *v = NULL;
	int st = open_vault(c, &v, again ? CUSTOS_OPEN_WRITE : CUSTOS_OPEN_READ);
	if (st)
		return st;
	custos_item *it = NULL;
	int rc = custos_item_find(&it, v, argv[optind], CUSTOS_FIND_EXACT);
	if (rc < 0) {
		custos_vault_close(v);
		return fail(rc, "%s", argv[optind]);
	}
	if (again)
		st = rerun(c, v, it, json);
	inspect_out o = {.json = json};
	if (st == 0) {
		print_header(it, json);
		rc = custos_analyses_of(v, it->id, print_run, &o);
		if (json)
			puts("]}");
		else if (rc == 0 && o.runs == 0)
			puts("  no analysis recorded (not a message; or ingested before analysis: --rerun)");
		if (rc < 0)
			st = fail_last(rc);
	}
	custos_item_free(it);
	custos_vault_close(v);
	return st;
}
