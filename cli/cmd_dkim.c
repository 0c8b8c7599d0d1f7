/*
 * cmd_dkim.c — custos dkim-verify (no vault) and custos dkim-key add|ls (the vault's
 * offline key store), FS §13.
 */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MESSAGE_READ_MAX ((size_t)256 << 20)
#define ZONE_READ_MAX ((size_t)1 << 20)

void print_dkim_sig_json(FILE *f, const custos_dkim_sig *s)
{
	fprintf(f, "{\"index\":%u,\"verdict\":", s->index);
	json_str(f, s->verdict);
	fputs(",\"reason\":", f);
	json_str(f, s->reason);
	const struct {
		const char *k, *v;
	} str[] = {{"d", s->d}, {"s", s->s}, {"i", s->i}, {"a", s->a}, {"c", s->c}, {"h", s->h},
		   {"unsigned_duplicates", s->unsigned_dup}, {"key_type", s->key_type},
		   {"weak", s->weak}, {"key", s->key_name}, {"key_from", s->key_from}};
	for (size_t i = 0; i < sizeof str / sizeof *str; i++) {
		fprintf(f, ",\"%s\":", str[i].k);
		json_str(f, str[i].v);
	}
	fprintf(f, ",\"key_bits\":%u,\"body_length\":%llu", s->key_bits,
		(unsigned long long)s->body_len);
	if (s->has_l)
		fprintf(f, ",\"l\":%llu", (unsigned long long)s->l);
	else
		fputs(",\"l\":null", f);
	if (s->has_t)
		fprintf(f, ",\"t\":%lld", (long long)s->t);
	else
		fputs(",\"t\":null", f);
	if (s->has_x)
		fprintf(f, ",\"x\":%lld", (long long)s->x);
	else
		fputs(",\"x\":null", f);
	fprintf(f, ",\"expired\":%s}", s->expired ? "true" : "false");
}

void print_dkim_sig_text(FILE *f, const custos_dkim_sig *s, const char *indent)
{
	fprintf(f, "%sDKIM signature %u: %s%s%s\n", indent, s->index, s->verdict,
		s->reason[0] ? ": " : "", s->reason);
	fprintf(f, "%s  d=%s s=%s a=%s c=%s%s%s\n", indent, s->d, s->s, s->a,
		s->c[0] ? s->c : "simple/simple", s->i[0] ? " i=" : "", s->i);
	if (s->h[0])
		fprintf(f, "%s  signed headers: %s\n", indent, s->h);
	if (s->unsigned_dup[0])
		fprintf(f, "%s  also present unsigned: %s\n", indent, s->unsigned_dup);
	if (s->has_l)
		fprintf(f, "%s  l=%llu covers %llu of %llu canonical body bytes%s\n", indent,
			(unsigned long long)s->l,
			(unsigned long long)(s->l < s->body_len ? s->l : s->body_len),
			(unsigned long long)s->body_len,
			s->l < s->body_len ? " (the rest is unsigned)" : "");
	if (s->has_t || s->has_x) {
		char t[21] = "-", x[21] = "-";
		if (s->has_t)
			custos_time_format(t, s->t);
		if (s->has_x)
			custos_time_format(x, s->x);
		fprintf(f, "%s  signed %s, expires %s%s\n", indent, t, x,
			s->expired ? " (expired before this analysis)" : "");
	}
	if (s->key_type[0])
		fprintf(f, "%s  key %s: %s, %u bits%s%s\n", indent, s->key_name, s->key_type,
			s->key_bits, s->key_from[0] ? ", from " : "", s->key_from);
	if (s->weak[0])
		fprintf(f, "%s  weak: %s\n", indent, s->weak);
}

int parse_time_arg(const char *s, int64_t *out)
{
	struct tm tm = {0};
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

int cmd_dkim_verify(cli *c, int argc, char **argv)
{
	(void)c;
	if (wants_help("dkim-verify", argc, argv))
		return 0;
	static const struct option opts[] = {
		{"keys", required_argument, NULL, 'k'},
		{"at", required_argument, NULL, 'a'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	const char *keys = NULL;
	bool json = false;
	int64_t now = (int64_t)time(NULL);
	int ch;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'k')
			keys = optarg;
		else if (ch == 'j')
			json = true;
		else if (ch == 'a' && parse_time_arg(optarg, &now) == 0)
			continue;
		else
			return usage_error("dkim-verify", "bad option or time (YYYY-MM-DDTHH:MM:SSZ)");
	}
	if (!keys || optind >= argc)
		return usage_error("dkim-verify", "expected: dkim-verify --keys FILE MESSAGE...");
	uint8_t *zone = NULL;
	size_t zn = 0;
	int rc = custos_file_read(keys, ZONE_READ_MAX, &zone, &zn);
	if (rc < 0)
		return fail(rc, "cannot read the key records %s", keys);
	int st = EXIT_OK;
	bool first = true;
	if (json)
		fputs("[", stdout);
	for (int i = optind; i < argc; i++) {
		uint8_t *m = NULL;
		size_t mn = 0;
		custos_dkim_sig *sigs = NULL;
		size_t ns = 0;
		rc = custos_file_read(argv[i], MESSAGE_READ_MAX, &m, &mn);
		if (rc == 0)
			rc = custos_dkim_check(zone, zn, m, mn, now, &sigs, &ns);
		free(m);
		if (rc < 0) {
			int e = fail(rc, "%s", argv[i]);
			st = st == EXIT_OK || e > st ? e : st;
			continue;
		}
		for (size_t k = 0; k < ns; k++) {
			if (strcmp(sigs[k].verdict, "pass") != 0 && st == EXIT_OK)
				st = EXIT_CHECK;
			if (json) {
				printf("%s{\"file\":", first ? "" : ",");
				first = false;
				json_str(stdout, argv[i]);
				fputs(",\"signature\":", stdout);
				print_dkim_sig_json(stdout, &sigs[k]);
				fputs("}", stdout);
			} else {
				printf("%s:\n", argv[i]);
				print_dkim_sig_text(stdout, &sigs[k], "  ");
			}
		}
		if (ns == 0 && !json)
			printf("%s: no DKIM signature\n", argv[i]);
		free(sigs);
	}
	if (json)
		fputs("]\n", stdout);
	free(zone);
	return st;
}
