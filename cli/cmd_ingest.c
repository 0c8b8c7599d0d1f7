/*
 * cmd_ingest.c — custos ingest PATH...
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
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
		if (o->container_hex)
			printf(",\"container\":\"%s\",\"member_outcome\":\"%s\"", o->container_hex,
			       o->member_outcome);
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
		if (o->member_outcome && strcmp(o->member_outcome, "ok") != 0)
			fprintf(f, "  [%s]", o->member_outcome);
		fputc('\n', f);
	}
}

static void tally_json(const char *label, const custos_tally *t)
{
	printf(",\"%s\":{\"total\":%llu", label, (unsigned long long)t->total);
	for (size_t i = 0; i < t->n_kinds; i++)
		printf(",\"%s\":%llu", t->kind[i].name, (unsigned long long)t->kind[i].n);
	putchar('}');
}

static void tally_text(const char *label, const custos_tally *t)
{
	if (!t->total)
		return;
	printf("  %s: %llu (", label, (unsigned long long)t->total);
	for (size_t i = 0; i < t->n_kinds; i++)
		printf("%s%s %llu", i ? ", " : "", t->kind[i].name, (unsigned long long)t->kind[i].n);
	puts(")");
}

/* Members not read whole, or containers not read to their end: worth a look. */
static bool tally_has_other_than(const custos_tally *t, const char *fine)
{
	for (size_t i = 0; i < t->n_kinds; i++)
		if (strcmp(t->kind[i].name, fine) != 0 && t->kind[i].n)
			return true;
	return false;
}

/* A size: digits with an optional K, M, G or T (powers of 1024). */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	int shift = 0;
	if (*end) {
		const char *units = "KMGT";
		const char *u = strchr(units, *end);
		if (!u || end[1])
			return -1;
		shift = 10 * (int)(u - units + 1);
	}
	if (v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return *out ? 0 : -1;
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

/* "analysis event N: 3 messages, 4 DKIM signatures (3 pass, 1 fail); 2 documents, ..." */
static void print_analysis(const custos_analysis_summary *an)
{
	printf("analysis event %llu:", (unsigned long long)an->seq);
	if (an->messages)
		printf(" %llu message%s, %llu DKIM signature%s (%llu pass, %llu fail)%s",
		       (unsigned long long)an->messages, an->messages == 1 ? "" : "s",
		       (unsigned long long)an->signatures, an->signatures == 1 ? "" : "s",
		       (unsigned long long)an->pass, (unsigned long long)an->fail,
		       an->documents ? ";" : "");
	if (an->documents)
		printf(" %llu document%s, %llu metadata signal%s", (unsigned long long)an->documents,
		       an->documents == 1 ? "" : "s", (unsigned long long)an->flags,
		       an->flags == 1 ? "" : "s");
	puts(" ('custos inspect ITEM' shows them)");
}

int cmd_ingest(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"source", required_argument, NULL, 's'},
		{"source-sig", required_argument, NULL, 'G'},
		{"note", required_argument, NULL, 'n'},
		{"also-hash", required_argument, NULL, 'a'},
		{"json", no_argument, NULL, 'j'},
		{"quiet", no_argument, NULL, 'q'},
		{"passphrase-file", required_argument, NULL, 'p'},
		{"opaque", no_argument, NULL, 'O'},
		{"max-depth", required_argument, NULL, 'D'},
		{"max-members", required_argument, NULL, 'M'},
		{"max-ratio", required_argument, NULL, 'R'},
		{"max-member-size", required_argument, NULL, 'S'},
		{"max-expanded", required_argument, NULL, 'E'},
		{"archive-passphrase-file", required_argument, NULL, 'A'},
		{"no-analysis", no_argument, NULL, 'N'},
		{NULL, 0, NULL, 0},
	};
	const char *archive_pass = NULL;
	custos_ingest_opts io = {0};
	ingest_out out = {.tty = isatty(STDERR_FILENO)};
	const char *also = NULL;
	bool no_analysis = false;
	int ch;
	while ((ch = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			io.source = optarg;
			break;
		case 'G':
			io.source_sig = optarg;
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
		case 'O':
			io.archives.opaque = 1;
			break;
		case 'D':
		case 'M':
		case 'R':
		case 'S':
		case 'E': {
			uint64_t *dst = ch == 'D' ? &io.archives.max_depth
					: ch == 'M' ? &io.archives.max_members
					: ch == 'R' ? &io.archives.max_ratio
					: ch == 'S' ? &io.archives.max_member_size
						    : &io.archives.max_expanded;
			if (parse_size(optarg, dst) < 0)
				return usage_error("ingest", "--%s needs a positive number, not '%s'",
						   ch == 'D' ? "max-depth" : ch == 'M' ? "max-members"
						   : ch == 'R' ? "max-ratio" : ch == 'S' ? "max-member-size"
						   : "max-expanded", optarg);
			break;
		}
		case 'A':
			archive_pass = optarg;
			break;
		case 'N':
			no_analysis = true;
			break;
		default:
			return usage_error("ingest", "bad option");
		}
	}
	if (optind >= argc)
		return usage_error("ingest", "expected at least one PATH");
	if (also && custos_hash_algs_parse(&io.also_hash, also) < 0)
		return usage_error("ingest", "%s", custos_error_last());
	char *pass_mem = NULL, **pass = NULL;
	size_t n_pass = 0;
	if (archive_pass && read_secret_lines(archive_pass, &pass_mem, &pass, &n_pass) < 0)
		return EXIT_USAGE;
	io.archives.passphrases = (const char *const *)pass;
	io.archives.n_passphrases = n_pass;
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
		custos_secret_free(pass_mem);
		free(pass);
		return st;
	}
	custos_ingest_summary sum;
	int rc = custos_ingest(v, key, (const char *const *)argv + optind, (size_t)(argc - optind), &io,
			       &sum);
	if (out.progress_shown)
		fputs("\r\033[K", stderr);
	/* The signals in what was received (DKIM, FS §13.4), as their own signed event. */
	custos_analysis_summary an = {0};
	int arc = rc >= 0 && !no_analysis ? custos_analyse_event(v, key, sum.seq, "at ingest", &an) : 0;
	if (arc < 0)
		fail(arc, "the analysis failed (the ingest is recorded; run 'custos inspect --rerun')");
	custos_key_free(key);
	custos_vault_close(v);
	custos_secret_free(pass_mem);
	free(pass);
	if (rc < 0) {
		st = fail(rc, "ingest failed; nothing was recorded");
		return st == EXIT_CHECK ? EXIT_OPERATIONAL : st;
	}
	if (out.json) {
		printf("{\"summary\":{\"stored\":%llu,\"duplicate\":%llu,\"refused\":%llu,\"bytes\":%llu,"
		       "\"event\":%llu,\"commit\":\"%s\"",
		       (unsigned long long)sum.stored, (unsigned long long)sum.duplicates,
		       (unsigned long long)sum.refused, (unsigned long long)sum.bytes,
		       (unsigned long long)sum.seq, sum.commit);
		tally_json("members", &sum.members);
		tally_json("containers", &sum.containers);
		if (sum.source_verdict)
			printf(",\"source_signature\":\"%s\"", sum.source_verdict);
		if (an.seq)
			printf(",\"analysis\":{\"event\":%llu,\"messages\":%llu,\"dkim_signatures\":%llu,"
			       "\"dkim_pass\":%llu,\"dkim_fail\":%llu,\"documents\":%llu,\"flags\":%llu}",
			       (unsigned long long)an.seq, (unsigned long long)an.messages,
			       (unsigned long long)an.signatures, (unsigned long long)an.pass,
			       (unsigned long long)an.fail, (unsigned long long)an.documents,
			       (unsigned long long)an.flags);
		puts("}}");
	} else {
		printf("ingest event %llu (commit %.12s): %llu stored, %llu duplicate, %llu refused, "
		       "%llu bytes\n",
		       (unsigned long long)sum.seq, sum.commit, (unsigned long long)sum.stored,
		       (unsigned long long)sum.duplicates, (unsigned long long)sum.refused,
		       (unsigned long long)sum.bytes);
		tally_text("containers", &sum.containers);
		tally_text("members", &sum.members);
		if (sum.source_verdict)
			printf("  source signature: %s%s\n", sum.source_verdict,
			       strcmp(sum.source_verdict, "good") == 0
				       ? " (by the source's key, over these exact bytes)"
				       : " (DOES NOT VERIFY with the source's key; the bytes are kept as received)");
		if (an.seq)
			print_analysis(&an);
	}
	/* 1 when anything was not taken in whole: a refusal, a member cut or locked, a
	 * container not read to its end */
	bool bad_sig = sum.source_verdict && strcmp(sum.source_verdict, "good") != 0;
	if (arc < 0)
		return exit_status(arc);
	return bad_sig || sum.refused || tally_has_other_than(&sum.members, "ok") ||
			       tally_has_other_than(&sum.containers, "complete")
		       ? EXIT_CHECK
		       : EXIT_OK;
}
