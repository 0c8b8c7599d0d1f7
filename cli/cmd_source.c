/*
 * cmd_source.c — custos source add|ls|show: pseudonymous sources and their keys (FS §12).
 */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SOURCE_KEY_FILE_MAX (64 << 10)

static int source_add(cli *c, int argc, char **argv, bool json)
{
	static const struct option opts[] = {
		{"pubkey", required_argument, NULL, 'k'},
		{"note", required_argument, NULL, 'n'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	const char *keyfile = NULL, *note = NULL;
	int ch;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'k')
			keyfile = optarg;
		else if (ch == 'n')
			note = optarg;
		else if (ch == 'j')
			json = true;
		else
			return usage_error("source", "bad option");
	}
	if (argc - optind != 1)
		return usage_error("source", "expected: source add NAME");
	uint8_t *text = NULL;
	size_t tn = 0;
	int rc = keyfile ? custos_file_read(keyfile, SOURCE_KEY_FILE_MAX, &text, &tn) : 0;
	if (rc < 0)
		return fail(rc, "cannot read the source's key %s", keyfile);
	custos_vault *v = NULL;
	custos_key *key = NULL;
	int st = open_vault(c, &v, CUSTOS_OPEN_WRITE);
	if (st == 0 && (st = load_key(c, &key)) == 0) {
		uint64_t seq = 0;
		rc = custos_source_add(v, key, argv[optind], (const char *)text, tn, note, &seq);
		if (rc < 0)
			st = fail(rc, "cannot register source '%s'", argv[optind]);
		else if (json)
			printf("{\"source\":\"%s\",\"event\":%llu}\n", argv[optind],
			       (unsigned long long)seq);
		else
			printf("source '%s' registered (event %llu)%s\n", argv[optind],
			       (unsigned long long)seq, keyfile ? " with its key" : "");
	}
	custos_key_free(key);
	custos_vault_close(v);
	free(text);
	return st;
}

typedef struct src_out {
	bool json;
	const char *only; /* show: this source */
	bool found;
} src_out;

/* The key id as the key's own tool prints it: minisign shows its 8-byte key number read as
 * a little-endian u64 in upper-case hex, without leading zeros (printf "%" PRIX64); for
 * ssh keys, the custos key id. */
static void tool_key_id(char out[17], const custos_source *s)
{
	if (strcmp(s->scheme, "minisign") != 0) {
		snprintf(out, 17, "%s", s->keynum);
		return;
	}
	unsigned long long v = 0;
	for (int i = 7; i >= 0; i--) {
		unsigned b = 0;
		sscanf(s->keynum + 2 * i, "%2x", &b);
		v = v << 8 | b;
	}
	snprintf(out, 17, "%llX", v);
}

static int print_source(const custos_source *s, void *ud)
{
	src_out *o = ud;
	if (o->only && (s->name.n != strlen(o->only) || memcmp(s->name.p, o->only, s->name.n) != 0))
		return 0;
	o->found = true;
	char ts[21];
	custos_time_format(ts, s->time);
	if (o->json) {
		fputs("{\"name\":", stdout);
		json_bytes(stdout, s->name.p, s->name.n);
		printf(",\"event\":%llu,\"time\":\"%s\",\"ingests\":%llu,\"good\":%llu,\"bad\":%llu",
		       (unsigned long long)s->seq, ts, (unsigned long long)s->ingests,
		       (unsigned long long)s->good, (unsigned long long)s->bad);
		if (s->has_key) {
			char id[17];
			tool_key_id(id, s);
			printf(",\"key\":{\"scheme\":\"%s\",\"keynum\":\"%s\",\"id\":\"%s\"}",
			       s->scheme, s->keynum, id);
		}
		if (s->note.n) {
			fputs(",\"note\":", stdout);
			json_bytes(stdout, s->note.p, s->note.n);
		}
		puts("}");
		return 0;
	}
	print_bytes(stdout, s->name.p, s->name.n);
	printf("  registered %s (event %llu)  %llu ingest(s)", ts, (unsigned long long)s->seq,
	       (unsigned long long)s->ingests);
	if (s->has_key) {
		char id[17];
		tool_key_id(id, s);
		printf(", key %s %s: %llu good, %llu bad signature(s)", s->scheme, id,
		       (unsigned long long)s->good, (unsigned long long)s->bad);
	}
	putchar('\n');
	if (s->note.n) {
		fputs("    note: ", stdout);
		print_bytes(stdout, s->note.p, s->note.n);
		putchar('\n');
	}
	return 0;
}

typedef struct ingest_filter {
	const char *name;
	bool json;
} ingest_filter;

static int print_ingest(const custos_event_info *e, void *ud)
{
	ingest_filter *f = ud;
	if (strcmp(e->action, "ingest") != 0 || e->source.n != strlen(f->name) ||
	    memcmp(e->source.p, f->name, e->source.n) != 0)
		return 0;
	char ts[21];
	custos_time_format(ts, e->time);
	if (f->json)
		printf("{\"ingest\":%llu,\"time\":\"%s\",\"stored\":%llu,\"duplicate\":%llu,"
		       "\"source_signature\":%s%s%s}\n",
		       (unsigned long long)e->seq, ts, (unsigned long long)e->stored,
		       (unsigned long long)e->duplicates, e->source_verdict ? "\"" : "",
		       e->source_verdict ? e->source_verdict : "null", e->source_verdict ? "\"" : "");
	else
		printf("  ingest event %llu  %s  %llu stored, %llu duplicate%s%s\n",
		       (unsigned long long)e->seq, ts, (unsigned long long)e->stored,
		       (unsigned long long)e->duplicates, e->source_verdict ? "; signature " : "",
		       e->source_verdict ? e->source_verdict : "");
	return 0;
}

static int source_list(cli *c, int argc, char **argv, bool show)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
	src_out o = {0};
	int ch;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'j')
			return usage_error("source", "bad option");
		o.json = true;
	}
	if (argc - optind != (show ? 1 : 0))
		return usage_error("source", show ? "expected: source show NAME" : "expected: source ls");
	o.only = show ? argv[optind] : NULL;
	custos_vault *v = NULL;
	int st = open_vault(c, &v, CUSTOS_OPEN_READ);
	if (st)
		return st;
	int rc = custos_sources_foreach(v, print_source, &o);
	if (rc == 0 && show && !o.found) {
		fprintf(stderr, "custos: no source named '%s'\n", o.only);
		st = EXIT_CHECK;
	} else if (rc == 0 && show) {
		ingest_filter f = {o.only, o.json};
		rc = custos_log_foreach(v, NULL, print_ingest, &f);
	}
	if (rc < 0)
		st = fail_last(rc);
	custos_vault_close(v);
	return st;
}

int cmd_source(cli *c, int argc, char **argv)
{
	if (argc < 2)
		return usage_error("source", "expected add, ls or show");
	const char *sub = argv[1];
	argc--;
	argv++;

	if (strcmp(sub, "add") == 0)
		return source_add(c, argc, argv, false);
	if (strcmp(sub, "ls") == 0)
		return source_list(c, argc, argv, false);
	if (strcmp(sub, "show") == 0)
		return source_list(c, argc, argv, true);
	return usage_error("source", "unknown subcommand '%s' (add, ls, show)", sub);
}
