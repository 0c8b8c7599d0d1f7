/*
 * cmd_ingest.c — custos ingest PATH...
 */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct ingest_out {
	bool json, quiet, tty;
	bool progress_shown;
} ingest_out;

static void on_outcome(const custos_outcome *o, void *ud)
{
	ingest_out *out = ud;
	if (out->progress_shown) {
		fputs("\r\033[K", stderr);
		out->progress_shown = false;
	}
	if (out->quiet && o->kind != CUSTOS_REFUSED)
		return;
	static const char *const kinds[] = {"stored", "duplicate", "refused"};
	if (out->json) {
		printf("{\"path\":");
		json_bytes(stdout, o->path, o->path_len);
		printf(",\"outcome\":\"%s\"", kinds[o->kind]);
		if (o->kind == CUSTOS_REFUSED) {
			printf(",\"reason\":\"%s\",\"detail\":", o->reason);
			json_str(stdout, o->detail ? o->detail : "");
		} else {
			char sha[65];
			custos_hex(sha, o->sha256, 32);
			printf(",\"id\":\"%s\",\"sha256\":\"%s\",\"size\":%llu", o->item_hex, sha,
			       (unsigned long long)o->size);
		}
		puts("}");
		return;
	}
	FILE *f = o->kind == CUSTOS_REFUSED ? stderr : stdout;
	if (o->kind == CUSTOS_REFUSED) {
		fprintf(f, "refused   %-12s ", o->reason);
		print_bytes(f, o->path, o->path_len);
		fprintf(f, ": %s\n", o->detail ? o->detail : "");
	} else {
		fprintf(f, "%-9s %s ", kinds[o->kind], o->item_hex);
		print_bytes(f, o->path, o->path_len);
		fputc('\n', f);
	}
}

static void on_progress(const custos_progress *p, void *ud)
{
	ingest_out *out = ud;
	if (!out->tty)
		return;
	fprintf(stderr, "\r\033[K%llu files, %.1f MB: %llu stored, %llu duplicate, %llu refused",
		(unsigned long long)p->files, (double)p->bytes / 1e6, (unsigned long long)p->stored,
		(unsigned long long)p->duplicates, (unsigned long long)p->refused);
	out->progress_shown = true;
}

int cmd_ingest(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"source", required_argument, NULL, 's'},
		{"note", required_argument, NULL, 'n'},
		{"also-hash", required_argument, NULL, 'a'},
		{"json", no_argument, NULL, 'j'},
		{"quiet", no_argument, NULL, 'q'},
		{"passphrase-file", required_argument, NULL, 'p'},
		{NULL, 0, NULL, 0},
	};
	custos_ingest_opts io = {0};
	ingest_out out = {.tty = isatty(STDERR_FILENO)};
	const char *also = NULL;
	int ch;
	while ((ch = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			io.source = optarg;
			break;
		case 'n':
			io.note = optarg;
			break;
		case 'a':
			also = optarg;
			break;
		case 'j':
			out.json = true;
			break;
		case 'q':
			out.quiet = true;
			break;
		case 'p':
			c->passphrase_file = optarg;
			break;
		default:
			return usage_error("ingest", "bad option");
		}
	}
	if (optind >= argc)
		return usage_error("ingest", "expected at least one PATH");
	if (also && custos_hash_algs_parse(&io.also_hash, also) < 0)
		return usage_error("ingest", "%s", custos_error_last());
	io.on_outcome = on_outcome;
	io.on_progress = on_progress;
	io.ud = &out;
	custos_vault *v = NULL;
	custos_key *key = NULL;
	int st = open_vault(c, &v, CUSTOS_OPEN_WRITE);
	if (st == 0)
		st = load_key(c, &key);
	if (st != 0) {
		custos_vault_close(v);
		return st;
	}
	custos_ingest_summary sum;
	int rc = custos_ingest(v, key, (const char *const *)argv + optind, (size_t)(argc - optind), &io,
			       &sum);
	if (out.progress_shown)
		fputs("\r\033[K", stderr);
	custos_key_free(key);
	custos_vault_close(v);
	if (rc < 0) {
		st = fail(rc, "ingest failed; nothing was recorded");
		return st == EXIT_CHECK ? EXIT_OPERATIONAL : st;
	}
	if (out.json)
		printf("{\"summary\":{\"stored\":%llu,\"duplicate\":%llu,\"refused\":%llu,\"bytes\":%llu,"
		       "\"event\":%llu,\"commit\":\"%s\"}}\n",
		       (unsigned long long)sum.stored, (unsigned long long)sum.duplicates,
		       (unsigned long long)sum.refused, (unsigned long long)sum.bytes,
		       (unsigned long long)sum.seq, sum.commit);
	else
		printf("ingest event %llu (commit %.12s): %llu stored, %llu duplicate, %llu refused, "
		       "%llu bytes\n",
		       (unsigned long long)sum.seq, sum.commit, (unsigned long long)sum.stored,
		       (unsigned long long)sum.duplicates, (unsigned long long)sum.refused,
		       (unsigned long long)sum.bytes);
	return sum.refused ? EXIT_CHECK : EXIT_OK;
}
