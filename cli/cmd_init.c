/*
 * cmd_init.c — custos init DIR [--name NAME], and custos init --replica-of KEY DIR (an empty
 * replica of another custodian's vault, FS §11.4).
 */
#include "cli.h"

#include <getopt.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

static int init_replica(cli *c, const char *dir, const char *origin, const char *name, bool json)
{
	custos_pubkey of;
	custos_key *key = NULL;
	if (name)
		return usage_error("init", "--name does not go with --replica-of: a replica takes the "
				   "origin's name");
	if (custos_pubkey_load(&of, origin) < 0)
		return usage_error("init", "--replica-of: %s", custos_error_last());
	int st = load_key(c, &key);
	if (st != 0)
		return st;
	int rc = custos_replica_init(dir, &of, key);
	char oid[17], kid[17];
	custos_keyid_hex(oid, of.id);
	custos_keyid_hex(kid, custos_key_public(key)->id);
	custos_key_free(key);
	if (rc < 0)
		return fail(rc, "cannot create replica %s", dir);
	if (json) {
		printf("{\"replica\":");
		json_str(stdout, dir);
		printf(",\"of\":\"%s\",\"custodian\":\"%s\"}\n", oid, kid);
	} else {
		printf("replica created in %s\n  of the vault of key: %s\n  its own custodian:   %s "
		       "(signs its imports)\n  empty until the first 'custos import'\n",
		       dir, oid, kid);
	}
	return 0;
}

int cmd_init(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"name", required_argument, NULL, 'n'},
		{"json", no_argument, NULL, 'j'},
		{"passphrase-file", required_argument, NULL, 'p'},
		{"replica-of", required_argument, NULL, 'r'},
		{NULL, 0, NULL, 0},
	};
	const char *name = NULL, *origin = NULL;
	bool json = false;
	int ch;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			name = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'p':
			c->passphrase_file = optarg;
			break;
		case 'r':
			origin = optarg;
			break;
		default:
			return usage_error("init", "bad option");
		}
	}
	if (argc - optind != 1)
		return usage_error("init", "expected one DIR");
	const char *dir = argv[optind];
	if (origin)
		return init_replica(c, dir, origin, name, json);
	char *copy = strdup(dir);
	if (!name)
		name = basename(copy);
	custos_key *key = NULL;
	int st = load_key(c, &key);
	if (st != 0) {
		free(copy);
		return st;
	}
	custos_vault *v = NULL;
	int rc = custos_vault_init(&v, dir, name, key);
	custos_key_free(key);
	if (rc < 0) {
		st = fail(rc, "cannot create vault %s", dir);
		free(copy);
		return st == EXIT_USAGE ? st : EXIT_OPERATIONAL;
	}
	const custos_vault_info *info = custos_vault_get_info(v);
	char kid[17];
	custos_keyid_hex(kid, info->owner.id);
	if (json) {
		printf("{\"vault\":");
		json_str(stdout, dir);
		printf(",\"id\":\"%s\",\"name\":", info->id);
		json_str(stdout, info->name);
		printf(",\"custodian\":\"%s\",\"head\":\"%s\"}\n", kid, info->head);
	} else {
		printf("vault %s created in %s\n  name:      ", info->id, dir);
		print_bytes(stdout, (const uint8_t *)info->name, strlen(info->name));
		printf("\n  custodian: %s\n  log head:  %s\n", kid, info->head);
	}
	custos_vault_close(v);
	free(copy);
	return 0;
}
