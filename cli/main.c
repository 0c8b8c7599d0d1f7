/*
 * main.c — the custos program: global options, then a table of commands, one file each.
 */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static int cmd_help(cli *c, int argc, char **argv);

#define GLOBAL_OPTS                                                                           \
	"Global options (before the command):\n"                                              \
	"  --vault DIR            the vault (else $CUSTOS_VAULT, else the current directory)\n" \
	"  --key FILE             the custodian key (else $CUSTOS_KEY, else\n"                 \
	"                         ~/.config/custos/custodian.key)\n"                           \
	"  --passphrase-file FILE read the key passphrase from FILE (else\n"                   \
	"                         $CUSTOS_PASSPHRASE_FILE, else ask on the terminal)\n"

#define EXIT_CODES                                                                            \
	"Exit status: 0 done/verified, 1 a check failed or not in the vault, 2 usage error,\n" \
	"3 operational error (unreadable input, no vault, I/O).\n"

const command commands[] = {
	{"key", cmd_key, "make or show the custodian key",
	 "usage: custos key new [-o FILE] [--no-passphrase] [--kdf interactive|moderate|sensitive]\n"
	 "       custos key show [--ssh | --allowed-signers | --minisign | --json] [FILE]\n\n"
	 "key new makes an Ed25519 custodian key. Its secret is sealed with a passphrase\n"
	 "(Argon2id + XChaCha20-Poly1305) and written with mode 0600; it never overwrites a\n"
	 "file. Without -o it goes to the --key path (default ~/.config/custos/custodian.key).\n"
	 "--no-passphrase writes an unsealed key (tests and demos only).\n\n"
	 "key show prints the public key of the key file (or FILE): by default in custos form;\n"
	 "--ssh as an ssh-ed25519 line, --allowed-signers as a git/ssh-keygen allowed_signers\n"
	 "line, --minisign as a minisign public key file. Needs no passphrase.\n\n" GLOBAL_OPTS
		 EXIT_CODES},
	{"init", cmd_init, "create a vault owned by the current key",
	 "usage: custos init DIR [--name NAME] [--json]\n\n"
	 "Creates a vault in DIR (new or empty): the VAULT marker, the object store, the\n"
	 "custody log (a bare git repository, DIR/custody.git) whose first signed event records\n"
	 "the vault and its custodian key, and the derived index.\n\n" GLOBAL_OPTS EXIT_CODES},
	{"ingest", cmd_ingest, "take files and directory trees into the vault",
	 "usage: custos ingest [--source NAME] [--note TEXT] [--also-hash LIST] [--json] [-q] PATH...\n\n"
	 "Stores every regular file under each PATH by its SHA-256, writes a signed item record\n"
	 "for it, and records the whole command as one signed custody event (one git commit).\n"
	 "Symlinks are recorded as links, never followed. Devices, sockets and fifos are refused\n"
	 "with a reason; so is a file that changes while it is read. Every input ends with an\n"
	 "outcome: stored, duplicate (bytes already held: new record, existing object) or\n"
	 "refused.\n\n"
	 "  --source NAME     who or where the files came from (recorded in every record)\n"
	 "  --note TEXT       a note recorded in the custody event\n"
	 "  --also-hash LIST  extra digests in the same pass: md5,sha1,sha512,blake2b\n"
	 "  --json            one JSON object per outcome, then a summary object\n"
	 "  -q, --quiet       only the summary\n\n"
	 "Exit status 1 when some input was refused (all outcomes are still recorded).\n\n" GLOBAL_OPTS
		 EXIT_CODES},
	{"ls", cmd_ls, "list the items in the vault",
	 "usage: custos ls [--json]\n\nEvery item in log order: id, SHA-256, size, type, path.\n"
	 "--json prints one object per line with id, sha256, size, name, path, mime and more.\n\n" GLOBAL_OPTS
		 EXIT_CODES},
	{"show", cmd_show, "show an item's record",
	 "usage: custos show ITEM [--json]\n\n"
	 "ITEM is an item id, a unique item id prefix, or a unique SHA-256 prefix of at least\n"
	 "8 hex digits.\n\n" GLOBAL_OPTS EXIT_CODES},
	{"cat", cmd_cat, "write an item's stored bytes to stdout",
	 "usage: custos cat ITEM\n\n"
	 "The bytes are checked against the item's SHA-256 while they are written; a mismatch\n"
	 "is reported and exits 1.\n\n" GLOBAL_OPTS EXIT_CODES},
	{"log", cmd_log, "show the custody trail",
	 "usage: custos log [ITEM] [--json]\n\n"
	 "Every custody event, oldest first; with ITEM, the events that concern it.\n\n" GLOBAL_OPTS
		 EXIT_CODES},
	{"verify", cmd_verify, "is this exact file in the vault?",
	 "usage: custos verify [--json] FILE...\n\n"
	 "Hashes each FILE and reports whether those exact bytes are in the vault, with every\n"
	 "receipt (item id, time, source, original name, signer key id) and whether its record\n"
	 "signature, commit signature and the custody chain verify. Exit 0 when every file is\n"
	 "held and verifies, 1 otherwise.\n\n" GLOBAL_OPTS EXIT_CODES},
	{"fsck", cmd_fsck, "check the whole vault",
	 "usage: custos fsck [--full] [--trust KEY] [--json]\n\n"
	 "Checks the vault's structure, every record, event and commit signature, the event\n"
	 "chain, and that each referenced object exists with the right size. --full also\n"
	 "re-hashes every object. --trust KEY checks against that public key (custos, ssh or\n"
	 "minisign form) instead of the key the vault names. Each problem is named; exit 1 if\n"
	 "there is any.\n\n" GLOBAL_OPTS EXIT_CODES},
	{"reindex", cmd_reindex, "rebuild the derived index",
	 "usage: custos reindex\n\nRebuilds index/ from custody.git and objects/.\n\n" GLOBAL_OPTS
		 EXIT_CODES},
	{"help", cmd_help, "help on a command", "usage: custos help [COMMAND]\n"},
	{NULL, NULL, NULL, NULL},
};

const command *find_command(const char *name)
{
	for (const command *c = commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static void overview(FILE *f)
{
	fputs("usage: custos [--vault DIR] [--key FILE] [--passphrase-file FILE] COMMAND [ARGS]\n\n"
	      "custos keeps leaked documents as evidence: content-addressed, signed, with a\n"
	      "custody log that stock git can verify.\n\nCommands:\n",
	      f);
	for (const command *c = commands; c->name; c++)
		fprintf(f, "  %-9s %s\n", c->name, c->summary);
	fputs("\nRun 'custos help COMMAND' for details.\n", f);
}

static int cmd_help(cli *c, int argc, char **argv)
{
	(void)c;
	if (argc < 2) {
		overview(stdout);
		return 0;
	}
	return print_help(argv[1]);
}

int main(int argc, char **argv)
{
	cli c = {.prog = argv[0]};
	static const struct option opts[] = {
		{"vault", required_argument, NULL, 'v'},
		{"key", required_argument, NULL, 'k'},
		{"passphrase-file", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (ch) {
		case 'v':
			c.vault = optarg;
			break;
		case 'k':
			c.key = optarg;
			break;
		case 'p':
			c.passphrase_file = optarg;
			break;
		case 'h':
			overview(stdout);
			return 0;
		case 'V':
			puts("custos 0.1.0");
			return 0;
		default:
			overview(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		overview(stderr);
		return EXIT_USAGE;
	}
	const command *cmd = find_command(argv[optind]);
	if (!cmd) {
		fprintf(stderr, "custos: unknown command '%s'\n", argv[optind]);
		overview(stderr);
		return EXIT_USAGE;
	}
	if (custos_global_init() < 0)
		return fail(CUSTOS_ERROR, "cannot start");
	int sub_argc = argc - optind;
	char **sub_argv = argv + optind;
	optind = 0; /* each command parses its own options (0: glibc full reset) */
	int rc = strcmp(cmd->name, "help") == 0 || !wants_help(cmd->name, sub_argc, sub_argv)
			 ? cmd->run(&c, sub_argc, sub_argv)
			 : 0;
	custos_global_shutdown();
	if (fflush(stdout) != 0 && rc == 0) {
		fprintf(stderr, "custos: cannot write output\n");
		rc = EXIT_OPERATIONAL;
	}
	return rc;
}
