/*
 * cmd_witness.c — custos witness init | show | add-log | cosign: an independent witness
 * that cosigns a log's checkpoints only while the log stays append-only.
 */
#include "cli.h"

#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define NOTE_FILE_MAX (64 << 10)
#define PROOF_FILE_MAX (8 << 10)

/* --dir, else $CUSTOS_WITNESS_DIR, else ~/.config/custos/witness (malloc'd). */
static char *witness_dir(const char *given)
{
	const char *d = given ? given : getenv("CUSTOS_WITNESS_DIR");
	if (d && d[0])
		return strdup(d);
	return config_path("witness");
}

static char *witness_key_path(const char *dir)
{
	size_t n = strlen(dir) + sizeof "/witness.key";
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/witness.key", dir);
	return p;
}

typedef struct w_args {
	char *dir;
	const char *name, *proof, *out;
	bool nopass, json;
} w_args;

static int parse_args(w_args *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'},
		{"name", required_argument, NULL, 'n'},
		{"proof", required_argument, NULL, 'p'},
		{"output", required_argument, NULL, 'o'},
		{"no-passphrase", no_argument, NULL, 'N'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = NULL;
	int ch;
	while ((ch = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'n':
			a->name = optarg;
			break;
		case 'p':
			a->proof = optarg;
			break;
		case 'o':
			a->out = optarg;
			break;
		case 'N':
			a->nopass = true;
			break;
		case 'j':
			a->json = true;
			break;
		default:
			return usage_error("witness", "bad option");
		}
	}
	if (!(a->dir = witness_dir(dir)))
		return usage_error("witness", "no witness directory: give --dir DIR");
	return 0;
}

/* Load the witness key through the usual passphrase machinery. */
static int load_witness_key(cli *c, const char *dir, custos_key **key)
{
	char *path = witness_key_path(dir);
	cli wc = *c;
	wc.key = path;
	int st = path ? load_key(&wc, key) : EXIT_OPERATIONAL;
	free(path);
	return st;
}

static int print_vkey(cli *c, const w_args *a)
{
	char *name = NULL, *path = witness_key_path(a->dir), *vkey = NULL;
	custos_pubkey pub;
	int rc = custos_witness_name(a->dir, &name);
	if (rc == 0)
		rc = custos_pubkey_load(&pub, path);
	if (rc == 0 && !(vkey = custos_witness_vkey(name, &pub)))
		rc = CUSTOS_ERROR;
	int st = rc < 0 ? fail(rc, "witness %s", a->dir) : 0;
	if (st == 0 && a->json) {
		fputs("{\"name\":", stdout);
		json_str(stdout, name);
		fputs(",\"vkey\":", stdout);
		json_str(stdout, vkey);
		fputs(",\"dir\":", stdout);
		json_str(stdout, a->dir);
		puts("}");
	} else if (st == 0) {
		puts(vkey);
	}
	(void)c;
	free(name);
	free(path);
	free(vkey);
	return st;
}

static int w_init(cli *c, w_args *a)
{
	custos_key *key = NULL;
	char *pass = NULL, *path = witness_key_path(a->dir), gen[64];
	size_t passlen = 0;
	int rc = path ? custos_key_generate(&key) : CUSTOS_ERROR;
	if (rc == 0 && !a->name) {
		char id[17];
		custos_keyid_hex(id, custos_key_public(key)->id);
		snprintf(gen, sizeof gen, "custos-witness-%s", id);
		a->name = gen;
	}
	if (rc == 0)
		rc = custos_witness_init(a->dir, a->name);
	if (rc == 0 && !a->nopass && read_passphrase(c, &pass, &passlen, true) < 0)
		rc = CUSTOS_EPASSPHRASE;
	if (rc == 0)
		rc = custos_key_write(key, path, pass, passlen, CUSTOS_KDF_MODERATE);
	custos_secret_free(pass);
	custos_key_free(key);
	free(path);
	if (rc < 0)
		return fail(rc, "cannot make witness %s", a->dir);
	if (a->nopass)
		fprintf(stderr, "custos: warning: the witness key is NOT sealed with a passphrase\n");
	if (!a->json)
		fprintf(stderr, "witness '%s' made in %s; its verifier key:\n", a->name, a->dir);
	return print_vkey(c, a);
}

static int w_add_log(const w_args *a, const char *vkey_arg)
{
	char *vkey = NULL;
	int rc = read_vkey_arg(vkey_arg, &vkey);
	if (rc < 0)
		return fail(rc, "cannot read the log key");
	rc = custos_witness_add_log(a->dir, vkey);
	int st = rc < 0 ? fail(rc, "cannot follow the log") : 0;
	if (st == 0)
		printf("following %.*s\n", (int)strcspn(vkey, "+"), vkey);
	free(vkey);
	return st;
}

static int w_cosign(cli *c, const w_args *a, const char *cp_path)
{
	uint8_t *note = NULL, *proof = NULL;
	size_t n = 0, pn = 0, on = 0;
	char *out = NULL;
	const char *reason = NULL;
	custos_key *key = NULL;
	int rc = custos_file_read(cp_path, NOTE_FILE_MAX, &note, &n);
	if (rc == 0 && a->proof)
		rc = custos_file_read(a->proof, PROOF_FILE_MAX, &proof, &pn);
	if (rc < 0) {
		free(note);
		return fail(rc, "cannot read input");
	}
	int st = load_witness_key(c, a->dir, &key);
	if (st == 0) {
		rc = custos_witness_cosign(a->dir, key, note, n, proof, pn, &out, &on, &reason);
		if (rc < 0 && a->json) {
			printf("{\"cosigned\":false,\"reason\":\"%s\",\"detail\":", reason ? reason : "error");
			json_str(stdout, custos_error_last());
			puts("}");
			st = exit_status(rc);
		} else if (rc < 0) {
			st = fail(rc, "refused to cosign %s", cp_path);
		} else {
			st = a->out ? (custos_file_write(a->out, out, on) < 0
					       ? fail(CUSTOS_ERROR, "cannot write %s", a->out)
					       : 0)
				    : (fwrite(out, 1, on, stdout), 0);
			if (st == 0 && a->json)
				puts("{\"cosigned\":true}");
			else if (st == 0 && a->out)
				printf("cosigned; written to %s\n", a->out);
		}
	}
	custos_key_free(key);
	free(note);
	free(proof);
	free(out);
	return st;
}

int cmd_witness(cli *c, int argc, char **argv)
{
	w_args a = {0};
	int st = parse_args(&a, argc, argv);
	/* Options may come before or after the subcommand: it is the first operand. */
	int rest = argc - optind - 1;
	const char *sub = optind < argc ? argv[optind] : NULL;
	char **args = argv + optind + 1;
	if (st == 0) {
		if (!sub)
			st = usage_error("witness", "expected init, show, add-log or cosign");
		else if (strcmp(sub, "init") == 0 && rest == 0)
			st = w_init(c, &a);
		else if (strcmp(sub, "show") == 0 && rest == 0)
			st = print_vkey(c, &a);
		else if (strcmp(sub, "add-log") == 0 && rest == 1)
			st = w_add_log(&a, args[0]);
		else if (strcmp(sub, "cosign") == 0 && rest == 1)
			st = w_cosign(c, &a, args[0]);
		else
			st = usage_error("witness", "unknown subcommand or wrong arguments: '%s'", sub);
	}
	free(a.dir);
	return st;
}
