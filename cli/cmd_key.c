/*
 * cmd_key.c — custos key new | show.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int make_parent_dir(const char *path)
{
	char *copy = strdup(path);
	if (!copy)
		return -1;
	char *dir = dirname(copy);
	int rc = 0;
	/* Only the default location is created; a path the user names must already exist. */
	for (char *s = dir + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	if (rc == 0 && mkdir(dir, 0700) != 0 && errno != EEXIST)
		rc = -1;
	free(copy);
	return rc;
}

static int key_new(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"no-passphrase", no_argument, NULL, 'n'},
		{"passphrase-file", required_argument, NULL, 'p'},
		{"kdf", required_argument, NULL, 'K'},
		{NULL, 0, NULL, 0},
	};
	const char *out = NULL;
	bool nopass = false;
	enum custos_kdf_cost cost = CUSTOS_KDF_MODERATE;
	int ch;
	while ((ch = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			out = optarg;
			break;
		case 'n':
			nopass = true;
			break;
		case 'p':
			c->passphrase_file = optarg;
			break;
		case 'K':
			if (strcmp(optarg, "interactive") == 0)
				cost = CUSTOS_KDF_INTERACTIVE;
			else if (strcmp(optarg, "moderate") == 0)
				cost = CUSTOS_KDF_MODERATE;
			else if (strcmp(optarg, "sensitive") == 0)
				cost = CUSTOS_KDF_SENSITIVE;
			else
				return usage_error("key", "--kdf is interactive, moderate or sensitive");
			break;
		default:
			return usage_error("key", "bad option");
		}
	}
	if (optind != argc)
		return usage_error("key", "unexpected argument '%s'", argv[optind]);
	char *path = out ? strdup(out) : key_path(c);
	if (!path)
		return usage_error("key", "no output path: give -o FILE");
	if (!out && !c->key && !getenv("CUSTOS_KEY") && make_parent_dir(path) != 0) {
		fprintf(stderr, "custos: cannot create the directory for %s: %s\n", path, strerror(errno));
		free(path);
		return EXIT_OPERATIONAL;
	}
	custos_key *key = NULL;
	char *pass = NULL;
	size_t passlen = 0;
	int rc = 0;
	if (!nopass && (rc = read_passphrase(c, &pass, &passlen, true)) < 0) {
		free(path);
		return EXIT_OPERATIONAL;
	}
	if ((rc = custos_key_generate(&key)) == 0)
		rc = custos_key_write(key, path, pass, passlen, cost);
	custos_secret_free(pass);
	int status = 0;
	if (rc < 0) {
		status = fail(rc, "cannot write key");
		if (status != EXIT_USAGE)
			status = EXIT_OPERATIONAL;
	} else {
		char id[17];
		custos_keyid_hex(id, custos_key_public(key)->id);
		if (nopass)
			fprintf(stderr, "custos: warning: %s is NOT sealed with a passphrase; anyone who "
					"can read it can sign as this custodian\n",
				path);
		printf("key %s written to %s\n", id, path);
	}
	custos_key_free(key);
	free(path);
	return status;
}

/* The signed-note verifier key names the vault (its origin), so it needs one. */
static int show_note_vkey(cli *c, const custos_pubkey *pub)
{
	custos_vault *v = NULL;
	int st = open_vault(c, &v, CUSTOS_OPEN_READ);
	if (st)
		return st;
	char *vkey = custos_note_vkey(custos_vault_get_info(v)->id, pub);
	custos_vault_close(v);
	if (!vkey)
		return fail(CUSTOS_ERROR, "cannot format the verifier key");
	puts(vkey);
	free(vkey);
	return 0;
}

static int key_show(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"ssh", no_argument, NULL, 's'},
		{"allowed-signers", no_argument, NULL, 'a'},
		{"minisign", no_argument, NULL, 'm'},
		{"json", no_argument, NULL, 'j'},
		{"note-vkey", no_argument, NULL, 'n'},
		{NULL, 0, NULL, 0},
	};
	int form = CUSTOS_PUB_CUSTOS, ch;
	bool json = false, note_vkey = false;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			form = CUSTOS_PUB_SSH;
			break;
		case 'a':
			form = CUSTOS_PUB_ALLOWED_SIGNERS;
			break;
		case 'm':
			form = CUSTOS_PUB_MINISIGN;
			break;
		case 'j':
			json = true;
			break;
		case 'n':
			note_vkey = true;
			break;
		default:
			return usage_error("key", "bad option");
		}
	}
	if (argc - optind > 1)
		return usage_error("key", "show takes at most one FILE");
	char *path = optind < argc ? strdup(argv[optind]) : key_path(c);
	if (!path)
		return usage_error("key", "no key: give FILE or --key");
	custos_pubkey pub;
	int rc = custos_pubkey_load(&pub, path);
	if (rc < 0) {
		int st = fail(rc, "cannot read public key");
		free(path);
		return st == EXIT_USAGE ? st : EXIT_OPERATIONAL;
	}
	free(path);
	if (note_vkey)
		return show_note_vkey(c, &pub);
	if (json) {
		char *forms[4] = {NULL};
		for (int i = 0; i < 4; i++)
			custos_pubkey_format(&forms[i], &pub, (enum custos_pubkey_form)i);
		char id[17], principal[64];
		custos_keyid_hex(id, pub.id);
		custos_principal(principal, &pub);
		printf("{\"keyid\":\"%s\",\"principal\":\"%s\",\"custos\":", id, principal);
		const char *labels[] = {NULL, "ssh", "allowed_signers", "minisign"};
		for (int i = 0; i < 4; i++) {
			if (i)
				printf(",\"%s\":", labels[i]);
			json_str(stdout, forms[i] ? forms[i] : "");
			free(forms[i]);
		}
		puts("}");
		return 0;
	}
	char *text = NULL;
	if ((rc = custos_pubkey_format(&text, &pub, (enum custos_pubkey_form)form)) < 0)
		return fail(rc, "cannot format public key");
	fputs(text, stdout);
	free(text);
	return 0;
}

int cmd_key(cli *c, int argc, char **argv)
{
	if (argc < 2)
		return usage_error("key", "expected 'new' or 'show'");
	if (strcmp(argv[1], "new") == 0)
		return key_new(c, argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return key_show(c, argc - 1, argv + 1);
	return usage_error("key", "unknown subcommand '%s' (expected 'new' or 'show')", argv[1]);
}
