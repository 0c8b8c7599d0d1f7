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
	 "       custos key show [--ssh | --allowed-signers | --minisign | --note-vkey | --json] [FILE]\n\n"
	 "key new makes an Ed25519 custodian key. Its secret is sealed with a passphrase\n"
	 "(Argon2id + XChaCha20-Poly1305) and written with mode 0600; it never overwrites a\n"
	 "file. Without -o it goes to the --key path (default ~/.config/custos/custodian.key).\n"
	 "--no-passphrase writes an unsealed key (tests and demos only).\n\n"
	 "key show prints the public key of the key file (or FILE): by default in custos form;\n"
	 "--ssh as an ssh-ed25519 line, --allowed-signers as a git/ssh-keygen allowed_signers\n"
	 "line, --minisign as a minisign public key file, --note-vkey as the signed-note verifier\n"
	 "key of the vault's checkpoints (needs the vault: its id is the key name). Needs no\n"
	 "passphrase.\n\n" GLOBAL_OPTS
		 EXIT_CODES},
	{"init", cmd_init, "create a vault owned by the current key",
	 "usage: custos init DIR [--name NAME] [--json]\n"
	 "       custos init --replica-of KEY DIR [--json]\n\n"
	 "Creates a vault in DIR (new or empty): the VAULT marker, the object store, the\n"
	 "custody log (a bare git repository, DIR/custody.git) whose first signed event records\n"
	 "the vault and its custodian key, and the derived index.\n\n"
	 "With --replica-of, an empty replica of the vault whose custodian key is KEY (custos,\n"
	 "ssh or minisign public key): it takes in that vault's history with 'custos import',\n"
	 "commit for commit, and refuses anything that forks or rolls it back. The current key\n"
	 "is the replica's own custodian: it signs the replica's record of its imports.\n\n"
	 GLOBAL_OPTS EXIT_CODES},
	{"ingest", cmd_ingest, "take files, directory trees and archives into the vault",
	 "usage: custos ingest [--source NAME [--source-sig SIG]] [--note TEXT] [--also-hash LIST]\n"
	 "                     [--json] [-q]\n"
	 "                     [--opaque] [--max-depth N] [--max-members N] [--max-ratio N]\n"
	 "                     [--max-member-size SIZE] [--max-expanded SIZE]\n"
	 "                     [--archive-passphrase-file FILE] [--no-analysis] PATH...\n\n"
	 "Stores every regular file under each PATH by its SHA-256, writes a signed item record\n"
	 "for it, and records the whole command as one signed custody event (one git commit).\n"
	 "Symlinks are recorded as links, never followed. Devices, sockets and fifos are refused\n"
	 "with a reason; so is a file that changes while it is read. Every input ends with an\n"
	 "outcome: stored, duplicate (bytes already held: new record, existing object) or\n"
	 "refused.\n\n"
	 "Archives (zip, 7z, tar, cpio, iso9660, rar, rar5, and lone gzip, bzip2, xz, lzma,\n"
	 "zstd, lz4 and compress streams, recognised by content) are stored whole and then read\n"
	 "in a sandboxed process: every member becomes an item whose record names its container,\n"
	 "member path (as bytes), mtime, mode and outcome (ok, encrypted, corrupt, limit:...).\n"
	 "Nothing is extracted to disk; names such as ../x or /etc/x are kept as data. Nested\n"
	 "archives are opened in turn. Output shows a member as CONTAINER-PATH!/MEMBER-PATH.\n\n"
	 "  --source NAME     the registered source ('custos source add') the files came from\n"
	 "                    (recorded in every record)\n"
	 "  --source-sig SIG  a detached signature by the source's key over the one PATH, a file;\n"
	 "                    the verdict is recorded (and a bad one makes the exit status 1)\n"
	 "  --note TEXT       a note recorded in the custody event\n"
	 "  --also-hash LIST  extra digests in the same pass: md5,sha1,sha512,blake2b\n"
	 "  --json            one JSON object per outcome, then a summary object\n"
	 "  -q, --quiet       only refusals and the summary\n"
	 "  --opaque          store archives whole without opening them\n"
	 "  --max-depth N     open nested archives to depth N (default 8; an input is depth 1)\n"
	 "  --max-members N   members per archive (default 1000000)\n"
	 "  --max-ratio N     bytes decoded per byte of input (default 1000)\n"
	 "  --max-member-size SIZE   bytes decoded per member (default 64G)\n"
	 "  --max-expanded SIZE      bytes decoded from one input, nested included (default 256G)\n"
	 "  --archive-passphrase-file FILE\n"
	 "                    passwords for encrypted zip and 7z members, one per line, tried in\n"
	 "                    order (the global --passphrase-file is the custodian key's)\n"
	 "  --no-analysis     do not analyse what was received (by default every email message,\n"
	 "                    whole or inside an mbox or archive, has its DKIM signatures verified\n"
	 "                    with the vault's DKIM keys and recorded in a signed analysis event)\n"
	 "mbox files and email messages are containers too: each message of an mbox, and each\n"
	 "attachment of a message (its transfer encoding decoded), becomes a member item.\n"
	 "SIZE is a number of bytes with an optional K, M, G or T suffix (powers of 1024).\n\n"
	 "Exit status 1 when some input was refused, some member was not read whole, or some\n"
	 "archive was not read to its end (all outcomes are still recorded).\n\n" GLOBAL_OPTS
		 EXIT_CODES},
	{"ls", cmd_ls, "list the items in the vault",
	 "usage: custos ls [--json]\n\nEvery item in log order: id, SHA-256, size, type, path.\n"
	 "--json prints one object per line with id, sha256, size, name, path, mime and more.\n\n" GLOBAL_OPTS
		 EXIT_CODES},
	{"show", cmd_show, "show an item's record (and an archive's members)",
	 "usage: custos show ITEM [--json]\n\n"
	 "ITEM is an item id, a unique item id prefix, or a unique SHA-256 prefix of at least\n"
	 "8 hex digits. For an archive custos opened: how its reading ended (complete, corrupt,\n"
	 "limit:...), then every member with its position, item, outcome, kind, size and path;\n"
	 "--json adds an \"archive\" object with the same. Exit status 1 if a signature fails.\n\n"
	 GLOBAL_OPTS EXIT_CODES},
	{"cat", cmd_cat, "write an item's stored bytes to stdout",
	 "usage: custos cat ITEM\n\n"
	 "The bytes are checked against the item's SHA-256 while they are written; a mismatch\n"
	 "is reported and exits 1.\n\n" GLOBAL_OPTS EXIT_CODES},
	{"log", cmd_log, "show the custody trail",
	 "usage: custos log [ITEM] [--json]\n"
	 "       custos log --imports [--json]\n\n"
	 "Every custody event, oldest first; with ITEM, the events that concern it. With\n"
	 "--imports, a replica's own log: each import, signed by the replica's custodian.\n\n" GLOBAL_OPTS
		 EXIT_CODES},
	{"verify", cmd_verify, "is this exact file in the vault?",
	 "usage: custos verify [--json] FILE...\n\n"
	 "Hashes each FILE and reports whether those exact bytes are in the vault, with every\n"
	 "receipt (item id, time, source, original name, signer key id) and whether its record\n"
	 "signature, commit signature and the custody chain verify. Exit 0 when every file is\n"
	 "held and verifies, 1 otherwise.\n\n" GLOBAL_OPTS EXIT_CODES},
	{"fsck", cmd_fsck, "check the whole vault",
	 "usage: custos fsck [--full] [--trust KEY] [--against CHECKPOINT] [--json]\n\n"
	 "Checks the vault's structure, every record, event and commit signature, the event\n"
	 "chain, and that each referenced object exists with the right size. --full also\n"
	 "re-hashes every object. --trust KEY checks against that public key (custos, ssh or\n"
	 "minisign form) instead of the key the vault names. It recomputes the Merkle tree of\n"
	 "the log and checks every checkpoint and cosignature the log records. --against\n"
	 "CHECKPOINT (a checkpoint file kept elsewhere) checks that the log extends it: a\n"
	 "shorter log is reported as rollback, another history as fork. Each problem is\n"
	 "named; exit 1 if there is any.\n\n" GLOBAL_OPTS EXIT_CODES},
	{"reindex", cmd_reindex, "rebuild the derived index",
	 "usage: custos reindex\n\nRebuilds index/ from custody.git and objects/.\n\n" GLOBAL_OPTS
		 EXIT_CODES},
	{"checkpoint", cmd_checkpoint, "sign a checkpoint of the Merkle log; proofs for witnesses",
	 "usage: custos checkpoint [-o FILE] [--json]\n"
	 "       custos checkpoint --show [-o FILE] [--json]\n"
	 "       custos checkpoint --consistency-from OLD [-o FILE]\n"
	 "       custos checkpoint --add-cosignature FILE --witness KEY [--json]\n\n"
	 "Every item record and custody event is a leaf of a Merkle tree (RFC 9162). A\n"
	 "checkpoint is a C2SP signed note naming the vault (custos.invalid/<vault id>), the\n"
	 "tree size and root, signed by the custodian key; issuing one is a custody event.\n"
	 "Give checkpoints to witnesses and keep copies elsewhere: they are what makes a\n"
	 "rollback or a rewritten history detectable.\n\n"
	 "  (none)                      issue a checkpoint of the log as it is; print it or write\n"
	 "                              it to -o FILE (never overwritten)\n"
	 "  --show                      the latest checkpoint, with every cosignature recorded\n"
	 "  --consistency-from OLD      a consistency proof from the checkpoint file OLD to the\n"
	 "                              latest one, for 'custos witness cosign --proof'; fails\n"
	 "                              (exit 1) if OLD is not in this log's history\n"
	 "  --add-cosignature FILE      record the cosignature in FILE (a checkpoint cosigned by\n"
	 "  --witness KEY               the witness whose verifier key, or a file holding it, is\n"
	 "                              KEY) as a custody event\n\n" GLOBAL_OPTS EXIT_CODES},
	{"witness", cmd_witness, "an independent witness that cosigns checkpoints",
	 "usage: custos witness init [--dir DIR] [--name NAME] [--no-passphrase] [--json]\n"
	 "       custos witness show [--dir DIR] [--json]\n"
	 "       custos witness add-log [--dir DIR] VKEY\n"
	 "       custos witness cosign [--dir DIR] CHECKPOINT [--proof FILE] [-o FILE] [--json]\n\n"
	 "A witness keeps its own Ed25519 key and, per log it follows, the last checkpoint it\n"
	 "cosigned (DIR, default $CUSTOS_WITNESS_DIR or ~/.config/custos/witness). It runs\n"
	 "anywhere, typically on another offline machine; checkpoints and proofs travel as\n"
	 "files.\n\n"
	 "  init      make the witness key (sealed with a passphrase unless --no-passphrase)\n"
	 "            and print its verifier key (give it to whoever checks proofs)\n"
	 "  show      print the witness's verifier key\n"
	 "  add-log   follow a log: VKEY is 'custos key show --note-vkey' of its custodian,\n"
	 "            or a file holding it\n"
	 "  cosign    check the checkpoint's signature by the log's key and, if an earlier one\n"
	 "            was cosigned, the consistency proof (--proof, from 'custos checkpoint\n"
	 "            --consistency-from'); then write the checkpoint with the witness's\n"
	 "            tlog-cosignature/v1 line appended. Refusals (exit 1) are named: rollback,\n"
	 "            fork, proof-required, bad-proof, inconsistent, bad-signature,\n"
	 "            unknown-log, malformed.\n\n" EXIT_CODES},
	{"prove", cmd_prove, "write a standalone proof that an item is in the log",
	 "usage: custos prove ITEM [-o FILE]\n\n"
	 "Writes an exhibit proof (FS §9.5): the item record and its signature, the inclusion\n"
	 "proof of its leaf, and the latest checkpoint with every cosignature held. It reveals\n"
	 "nothing else in the vault. Check it anywhere with 'custos verify-proof'. The item\n"
	 "must be older than the latest checkpoint ('custos checkpoint' first).\n\n" GLOBAL_OPTS
		 EXIT_CODES},
	{"verify-proof", cmd_verify_proof, "check an exhibit proof, with no vault",
	 "usage: custos verify-proof FILE [EXHIBIT] --trust KEY [--witness KEY]...\n"
	 "                           [--min-witnesses N] [--json]\n\n"
	 "Checks, with no vault: the record's signature by the trusted custodian KEY (custos,\n"
	 "ssh or minisign form), that the record is the stated leaf of the checkpoint's tree,\n"
	 "the checkpoint's signature, and the cosignatures of the given witnesses (verifier\n"
	 "keys, or files holding them; by default all of them must have cosigned, else N).\n"
	 "With EXHIBIT, that the file is the recorded bytes (SHA-256 and size). Each failure\n"
	 "is named; exit 0 when everything holds, 1 otherwise.\n\n" EXIT_CODES},
	{"export", cmd_export, "write an exhibit package: a signed BagIt bag with proofs",
	 "usage: custos export ITEM... -o FILE.tar [--no-content] [--json]\n\n"
	 "Writes a tar holding one BagIt 1.0 bag (RFC 8493, FS §10) whose payload, under data/,\n"
	 "is the exhibits' bytes, with manifest-sha256.txt, manifest-sha512.txt,\n"
	 "tagmanifest-sha256.txt and bag-info.txt, and a tag directory custos/ holding each\n"
	 "item record and its signature, the custody events that received the items and\n"
	 "issued the checkpoint, an exhibit proof per item against the latest checkpoint\n"
	 "(with every cosignature held), the custodian public key in custos, ssh and minisign\n"
	 "forms, a minisign signature per exhibit and one over the tag manifest (which seals\n"
	 "the bag), and VERIFY.txt: how to check it with sha256sum, minisign and\n"
	 "'custos verify-package'. Payload file names are '<item id>_<name made safe>'; the\n"
	 "original name is in the record.\n\n"
	 "  -o FILE.tar     the package; never overwritten. The bag's directory is FILE's name.\n"
	 "  --no-content    leave the exhibit files out: proofs of files the other side holds\n\n"
	 "Needs the custodian key (the package is signed). Every item must be older than the\n"
	 "latest checkpoint ('custos checkpoint' first).\n\n" GLOBAL_OPTS EXIT_CODES},
	{"dkim-verify", cmd_dkim_verify, "check the DKIM signatures of messages, with no vault",
	 "usage: custos dkim-verify --keys FILE [--at TIME] [--json] MESSAGE...\n"
	 "       custos dkim-verify --keys FILE [--at TIME] [--json] --mbox MBOX...\n\n"
	 "Verifies every DKIM-Signature of each MESSAGE (RFC 6376; rsa-sha256, rsa-sha1 and\n"
	 "ed25519-sha256 per RFC 8463) with the DKIM key records in FILE instead of DNS: TXT\n"
	 "records in dig's answer format, one a line ('sel._domainkey.example.org. 3600 IN TXT\n"
	 "\"v=DKIM1; k=rsa; p=...\"'). Reports per signature: verdict (pass or fail, with the\n"
	 "reason), domain, selector, algorithm, canonicalization, the signed headers and any of\n"
	 "them that also appear unsigned, how much of the body l= covers, t= and x= (x= before\n"
	 "TIME, default now, is reported as expired, not failed), the key's type, size and\n"
	 "weaknesses (rsa-sha1, RSA under 1024 bits: verified, and named). A message of two From\n"
	 "fields with one signed fails ('double From'). Lines end at LF, with or without CR.\n\n"
	 "  --keys FILE   the key records (at most 1 MiB)\n"
	 "  --at TIME     judge x= and t= at TIME (YYYY-MM-DDTHH:MM:SSZ) instead of now\n"
	 "  --mbox        each argument is an mbox (read as mboxrd, FS §13.1); its messages are\n"
	 "                named MBOX!/message-K.eml, K from 1\n"
	 "  --json        one JSON array of {file, signature} objects\n\n"
	 "Exit status: 0 every signature passed (or there were none), 1 a signature failed,\n"
	 "2 usage error, 3 an unreadable file or a header that is not a message header.\n"},
	{"dkim-key", cmd_dkim_key, "the vault's store of DKIM keys gathered elsewhere",
	 "usage: custos dkim-key add FILE --obtained-from TEXT [--obtained-at TIME] [--note TEXT]\n"
	 "                           [--json]\n"
	 "       custos dkim-key ls [--json]\n\n"
	 "DKIM keys rotate and old selectors vanish from DNS, so custos never looks them up: a\n"
	 "journalist gathers them elsewhere (dig TXT sel._domainkey.example.org on a networked\n"
	 "machine) and 'add' stores the TXT records of FILE (dig's answer format, one record a\n"
	 "line; ';' comments) in a signed dkim-key custody event, with where (--obtained-from,\n"
	 "required: the resolver, the machine, an archive) and when (--obtained-at\n"
	 "YYYY-MM-DDTHH:MM:SSZ) they were obtained (FS §13.2). Every name must be a DKIM key name\n"
	 "(selector._domainkey.domain). Later analyses verify with the record stored last for a\n"
	 "name. 'ls' lists the records with their event, provenance, key type and size, or why a\n"
	 "record is not a usable key (a revoked key: empty p=).\n\n" GLOBAL_OPTS EXIT_CODES},
	{"inspect", cmd_inspect, "show the signals recorded about an item (DKIM, ARC, metadata)",
	 "usage: custos inspect ITEM [--rerun] [--json]\n\n"
	 "Shows what custos found in the item: its detected type and whether its extension names\n"
	 "another (from the record), and every analysis event about it, oldest first — for an\n"
	 "email message, each DKIM signature's verdict, domain, selector, algorithm, signed\n"
	 "headers (and any also present unsigned: the double-From trick), how much of the body\n"
	 "l= covers, t= and x= (an x= before the analysis is reported as expired), the key used,\n"
	 "its size and where it was obtained, and its ARC chain set by set; for an office\n"
	 "document, PDF or JPEG, its metadata (as exiftool names the values) and the flags\n"
	 "raised on it (modified-before-created, date-in-future, edit-time-exceeds-span,\n"
	 "pdf-signature-partial, ...: FS §13.5). These are signals, not verdicts on authenticity.\n"
	 "Ingest analyses what it receives; --rerun analyses the item again now (with the keys\n"
	 "stored since) and records that as a new signed analysis event: analyses are never\n"
	 "edited, only added.\n\n" GLOBAL_OPTS EXIT_CODES},
	{"verify-package", cmd_verify_package, "check an exhibit package, with no vault",
	 "usage: custos verify-package FILE.tar --trust KEY [--witness KEY]... [--min-witnesses N]\n"
	 "                             [--exhibit FILE]... [--json]\n\n"
	 "Checks, with no vault: the bag (bagit.txt, both payload manifests, the tag manifest,\n"
	 "Payload-Oxum; no file unlisted, none missing), the custodian's signature over the\n"
	 "tag manifest, and per exhibit its record and signature, its custody event, its\n"
	 "exhibit proof against the package's checkpoint (and the given witnesses'\n"
	 "cosignatures: by default all of them, else N), its minisign signature and that its\n"
	 "bytes are the recorded ones. With --exhibit, that each file at hand is one of the\n"
	 "exhibits (the check a package made with --no-content is for). Every failure is named\n"
	 "(FS §10.3); exit 0 when everything holds, 1 otherwise.\n\n" EXIT_CODES},
	{"bundle", cmd_bundle, "write a transfer bundle: the custody history and its objects",
	 "usage: custos bundle -o FILE [--since CHECKPOINT] [--json]\n\n"
	 "Writes one file (a tar, FS §11) holding the custody log's events — each commit, its\n"
	 "event, records and signatures, byte for byte — and the objects they name: all of\n"
	 "them, or with --since (a checkpoint note this vault issued, as 'custos checkpoint -o'\n"
	 "writes it) the events from that checkpoint's own event on, and the objects no earlier\n"
	 "item named. A replica may already hold some of them: each is checked to be its very\n"
	 "commit, and only what is new is taken.\n"
	 "Carry it to a replica ('custos init --replica-of') and 'custos import' it there.\n"
	 "FILE is never overwritten.\n\n" GLOBAL_OPTS EXIT_CODES},
	{"import", cmd_import, "take a transfer bundle into a replica",
	 "usage: custos import FILE [--json]\n\n"
	 "Checks everything in the bundle before anything is written: that it extends what the\n"
	 "replica holds (refused by name: wrong-vault, wrong-key, gap, fork, rollback, replay),\n"
	 "that it is whole (truncated, bad-bundle, bad-object), and then the whole history as\n"
	 "it would be, as fsck checks a vault: every signature, the event chain, every record,\n"
	 "every checkpoint against the Merkle tree, every object. A refused bundle leaves the\n"
	 "replica exactly as it was (exit 1). An accepted one is stored (objects first, then the\n"
	 "history, then the branch moves) and recorded as an import event of the replica's own\n"
	 "log (custody.git, branch imports), signed by the current key, which must be the\n"
	 "replica's custodian.\n\n" GLOBAL_OPTS EXIT_CODES},
	{"source", cmd_source, "register pseudonymous sources and their keys",
	 "usage: custos source add NAME [--pubkey FILE] [--note TEXT] [--json]\n"
	 "       custos source ls [--json]\n"
	 "       custos source show NAME [--json]\n\n"
	 "A source is a pseudonym for whoever hands material over, registered as a signed\n"
	 "custody event (FS §12); 'ingest --source NAME' then refers to it (an unregistered name\n"
	 "is refused). A source may have an Ed25519 public key: a minisign public key file, or\n"
	 "an ssh-ed25519 line. With one, 'ingest --source NAME --source-sig SIG FILE' checks a\n"
	 "detached signature by that key over the submitted FILE — minisign (hashed, as\n"
	 "'minisign -Sm FILE' makes it) or SSH ('ssh-keygen -Y sign -n file') — and records\n"
	 "the verdict (good or bad), the key number and the signature itself in the ingest\n"
	 "event. A bad signature is recorded, the bytes are kept as received, and ingest exits\n"
	 "1. 'ls' lists the sources with their ingests and verdicts; 'show' one source and its\n"
	 "ingests.\n\n" GLOBAL_OPTS EXIT_CODES},
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
		fprintf(f, "  %-12s %s\n", c->name, c->summary);
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
