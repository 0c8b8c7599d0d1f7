/*
 * cmd_dkim.c — custos dkim-verify (no vault) and custos dkim-key add|ls (the vault's
 * offline key store), FS §13.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
		fprintf(f, "%s  signed %s, %s%s%s\n", indent, t, s->has_x ? "expires " : "no expiry",
			s->has_x ? x : "", s->expired ? " (expired before this analysis)" : "");
	}
	if (s->key_type[0])
		fprintf(f, "%s  key %s: %s, %u bits%s%s\n", indent, s->key_name, s->key_type,
			s->key_bits, s->key_from[0] ? ", from " : "", s->key_from);
	if (s->weak[0])
		fprintf(f, "%s  weak: %s\n", indent, s->weak);
}

void print_arc_json(FILE *f, const custos_arc *a)
{
	fputs("{\"verdict\":", f);
	json_str(f, a->verdict);
	fprintf(f, ",\"instances\":%u,\"reason\":", a->instances);
	json_str(f, a->reason);
	fputs(",\"sets\":[", f);
	for (size_t i = 0; i < a->n_sets; i++) {
		const custos_arc_set *s = &a->sets[i];
		fprintf(f, "%s{\"instance\":%u,\"ams_verdict\":", i ? "," : "", s->instance);
		json_str(f, s->ams_verdict);
		const struct {
			const char *k, *v;
		} str[] = {{"ams_d", s->ams_d}, {"ams_s", s->ams_s}, {"as_verdict", s->as_verdict},
			   {"as_d", s->as_d}, {"as_s", s->as_s}, {"cv", s->cv}, {"reason", s->reason}};
		for (size_t k = 0; k < sizeof str / sizeof *str; k++) {
			fprintf(f, ",\"%s\":", str[k].k);
			json_str(f, str[k].v);
		}
		fputs("}", f);
	}
	fputs("]}", f);
}

void print_arc_text(FILE *f, const custos_arc *a, const char *indent)
{
	fprintf(f, "%sARC chain of %u set%s: %s%s%s\n", indent, a->instances, a->instances == 1 ? "" : "s",
		a->verdict, a->reason[0] ? ": " : "", a->reason);
	for (size_t i = 0; i < a->n_sets; i++) {
		const custos_arc_set *s = &a->sets[i];
		fprintf(f, "%s  i=%u: message signature %s (d=%s s=%s), seal %s (d=%s s=%s) cv=%s%s%s\n",
			indent, s->instance, s->ams_verdict, s->ams_d, s->ams_s, s->as_verdict, s->as_d,
			s->as_s, s->cv, s->reason[0] ? ": " : "", s->reason);
	}
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

typedef struct report {
	bool json, first;
	int st;
	const char *file;
} report;

static void worst(report *r, int st)
{
	if (r->st == EXIT_OK || st > r->st)
		r->st = st;
}

/* One message's signatures, as text or JSON objects. */
static void report_message(report *r, const char *label, int rc, const custos_dkim_sig *sigs,
			   size_t n, const custos_arc *arc)
{
	if (rc < 0) {
		worst(r, fail(rc, "%s", label));
		return;
	}
	if (arc && arc->instances) {
		if (strcmp(arc->verdict, "pass") != 0)
			worst(r, EXIT_CHECK);
		if (r->json) {
			printf("%s{\"file\":", r->first ? "" : ",");
			r->first = false;
			json_str(stdout, label);
			fputs(",\"arc\":", stdout);
			print_arc_json(stdout, arc);
			fputs("}", stdout);
		} else {
			printf("%s:\n", label);
			print_arc_text(stdout, arc, "  ");
		}
	}
	for (size_t k = 0; k < n; k++) {
		if (strcmp(sigs[k].verdict, "pass") != 0)
			worst(r, EXIT_CHECK);
		if (r->json) {
			printf("%s{\"file\":", r->first ? "" : ",");
			r->first = false;
			json_str(stdout, label);
			fputs(",\"signature\":", stdout);
			print_dkim_sig_json(stdout, &sigs[k]);
			fputs("}", stdout);
		} else {
			printf("%s:\n", label);
			print_dkim_sig_text(stdout, &sigs[k], "  ");
		}
	}
	if (n == 0 && !r->json && !(arc && arc->instances))
		printf("%s: no DKIM signature\n", label);
}

static int report_mbox_message(uint64_t k, int rc, const custos_dkim_sig *sigs, size_t n,
			       const custos_arc *arc, void *ud)
{
	report *r = ud;
	char label[4096];
	snprintf(label, sizeof label, "%s!/message-%llu.eml", r->file, (unsigned long long)k);
	report_message(r, label, rc, sigs, n, arc);
	return 0;
}

static void verify_mbox(report *r, const uint8_t *zone, size_t zn, const char *path, int64_t now)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		worst(r, fail(CUSTOS_ERROR, "cannot open %s: %s", path, strerror(errno)));
		return;
	}
	r->file = path;
	int rc = custos_dkim_check_mbox(zone, zn, fd, now, report_mbox_message, r);
	close(fd);
	if (rc < 0)
		worst(r, fail(rc, "%s", path));
}

static void verify_file(report *r, const uint8_t *zone, size_t zn, const char *path, int64_t now)
{
	uint8_t *m = NULL;
	size_t mn = 0;
	custos_dkim_sig *sigs = NULL;
	size_t ns = 0;
	custos_arc arc = {0};
	int rc = custos_file_read(path, MESSAGE_READ_MAX, &m, &mn);
	if (rc == 0)
		rc = custos_dkim_check(zone, zn, m, mn, now, &sigs, &ns, &arc);
	free(m);
	report_message(r, path, rc, sigs, ns, &arc);
	custos_arc_clear(&arc);
	free(sigs);
}

int cmd_dkim_verify(cli *c, int argc, char **argv)
{
	(void)c;
	if (wants_help("dkim-verify", argc, argv))
		return 0;
	static const struct option opts[] = {
		{"keys", required_argument, NULL, 'k'},
		{"at", required_argument, NULL, 'a'},
		{"mbox", no_argument, NULL, 'm'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	const char *keys = NULL;
	bool mbox = false;
	report r = {.first = true};
	int64_t now = (int64_t)time(NULL);
	int ch;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'k')
			keys = optarg;
		else if (ch == 'j')
			r.json = true;
		else if (ch == 'm')
			mbox = true;
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
	if (r.json)
		fputs("[", stdout);
	for (int i = optind; i < argc; i++) {
		if (mbox)
			verify_mbox(&r, zone, zn, argv[i], now);
		else
			verify_file(&r, zone, zn, argv[i], now);
	}
	if (r.json)
		fputs("]\n", stdout);
	free(zone);
	return r.st;
}

/* ------------------------------------------------------------ dkim-key add | ls */

static int dkim_key_add(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"obtained-from", required_argument, NULL, 'f'},
		{"obtained-at", required_argument, NULL, 'a'},
		{"note", required_argument, NULL, 'n'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	const char *from = NULL, *note = NULL;
	int64_t at = 0;
	bool json = false;
	int ch;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'f')
			from = optarg;
		else if (ch == 'n')
			note = optarg;
		else if (ch == 'j')
			json = true;
		else if (ch == 'a' && parse_time_arg(optarg, &at) == 0)
			continue;
		else
			return usage_error("dkim-key", "bad option or time (YYYY-MM-DDTHH:MM:SSZ)");
	}
	if (argc - optind != 1 || !from)
		return usage_error("dkim-key", "expected: dkim-key add FILE --obtained-from TEXT");
	uint8_t *zone = NULL;
	size_t zn = 0;
	int rc = custos_file_read(argv[optind], ZONE_READ_MAX, &zone, &zn);
	if (rc < 0)
		return fail(rc, "cannot read the key records %s", argv[optind]);
	custos_vault *v = NULL;
	custos_key *key = NULL;
	int st = open_vault(c, &v, CUSTOS_OPEN_WRITE);
	if (st == 0 && (st = load_key(c, &key)) == 0) {
		uint64_t seq = 0;
		size_t n = 0;
		rc = custos_dkim_key_add(v, key, zone, zn, from, at, note, &seq, &n);
		if (rc < 0)
			st = fail(rc, "%s", argv[optind]);
		else if (json)
			printf("{\"event\":%llu,\"records\":%zu}\n", (unsigned long long)seq, n);
		else
			printf("%zu DKIM key record%s stored (event %llu)\n", n, n == 1 ? "" : "s",
			       (unsigned long long)seq);
	}
	custos_key_free(key);
	custos_vault_close(v);
	free(zone);
	return st;
}

typedef struct key_out {
	bool json, first;
} key_out;

static int print_key(const custos_dkim_key_info *k, void *ud)
{
	key_out *o = ud;
	char when[21] = "", at[21] = "";
	custos_time_format(when, k->time);
	if (k->has_obtained_at)
		custos_time_format(at, k->obtained_at);
	if (o->json) {
		printf("%s{\"name\":", o->first ? "" : ",");
		o->first = false;
		json_str(stdout, k->name);
		fputs(",\"value\":", stdout);
		json_bytes(stdout, k->value, k->value_len);
		printf(",\"event\":%llu,\"stored\":\"%s\",\"obtained_from\":", (unsigned long long)k->seq,
		       when);
		json_str(stdout, k->obtained_from ? k->obtained_from : "");
		fputs(",\"obtained_at\":", stdout);
		if (at[0])
			printf("\"%s\"", at);
		else
			fputs("null", stdout);
		fputs(",\"type\":", stdout);
		json_str(stdout, k->type);
		printf(",\"bits\":%u,\"problem\":", k->bits);
		json_str(stdout, k->problem);
		fputs("}", stdout);
		return 0;
	}
	printf("%s  event %llu (%s)  ", k->name, (unsigned long long)k->seq, when);
	if (k->type[0])
		printf("%s %u bits", k->type, k->bits);
	else
		printf("not usable: %s", k->problem);
	printf("\n  obtained from: %s%s%s\n", k->obtained_from ? k->obtained_from : "?",
	       at[0] ? ", at " : "", at);
	return 0;
}

static int dkim_key_ls(cli *c, int argc, char **argv)
{
	key_out o = {.first = true};
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			o.json = true;
		else
			return usage_error("dkim-key", "unexpected '%s'", argv[i]);
	}
	custos_vault *v = NULL;
	int st = open_vault(c, &v, CUSTOS_OPEN_READ);
	if (st)
		return st;
	if (o.json)
		fputs("[", stdout);
	int rc = custos_dkim_keys_foreach(v, print_key, &o);
	if (o.json)
		fputs("]\n", stdout);
	custos_vault_close(v);
	return rc < 0 ? fail_last(rc) : EXIT_OK;
}

int cmd_dkim_key(cli *c, int argc, char **argv)
{
	if (wants_help("dkim-key", argc, argv))
		return 0;
	if (argc < 2)
		return usage_error("dkim-key", "expected: dkim-key add|ls");
	if (strcmp(argv[1], "add") == 0)
		return dkim_key_add(c, argc - 1, argv + 1);
	if (strcmp(argv[1], "ls") == 0)
		return dkim_key_ls(c, argc, argv);
	return usage_error("dkim-key", "unknown subcommand '%s'", argv[1]);
}
