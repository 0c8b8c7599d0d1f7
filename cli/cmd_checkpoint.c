/*
 * cmd_checkpoint.c — custos checkpoint: issue a signed checkpoint of the Merkle log, show
 * the latest one, write a consistency proof for a witness, record a witness's cosignature.
 */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOTE_FILE_MAX (64 << 10)

enum mode { ISSUE, SHOW, CONSISTENCY, ADD_COSIG };

typedef struct cp_args {
	enum mode mode;
	const char *out, *from, *cosig, *witness;
	bool json;
} cp_args;

/* Write text to -o FILE (a new file), else stdout. */
static int emit(const char *out, const char *text, size_t n)
{
	if (!out) {
		fwrite(text, 1, n, stdout);
		return 0;
	}
	int rc = custos_file_write(out, text, n);
	return rc < 0 ? fail(rc, "cannot write %s", out) : 0;
}

static void print_checkpoint_json(const custos_checkpoint *cp, const char *out)
{
	char root[65], t[21];
	custos_hex(root, cp->root, 32);
	custos_time_format(t, cp->time);
	printf("{\"size\":%llu,\"root\":\"%s\",\"seq\":%llu,\"time\":\"%s\",\"cosignatures\":%zu,"
	       "\"file\":",
	       (unsigned long long)cp->size, root, (unsigned long long)cp->seq, t, cp->cosignatures);
	if (out)
		json_str(stdout, out);
	else
		fputs("null", stdout);
	fputs(",\"note\":", stdout);
	json_str(stdout, cp->note);
	puts("}");
}

static int show_or_issue(cli *c, const cp_args *a)
{
	custos_vault *v = NULL;
	custos_key *key = NULL;
	custos_checkpoint cp = {0};
	/* Refuse before the checkpoint event is recorded, not after. */
	if (a->out && access(a->out, F_OK) == 0) {
		fprintf(stderr, "custos: %s exists; refusing to overwrite it\n", a->out);
		return EXIT_OPERATIONAL;
	}
	int st = open_vault(c, &v, a->mode == ISSUE ? CUSTOS_OPEN_WRITE : CUSTOS_OPEN_READ);
	if (st)
		return st;
	if (a->mode == ISSUE && (st = load_key(c, &key)) != 0) {
		custos_vault_close(v);
		return st;
	}
	int rc = a->mode == ISSUE ? custos_checkpoint_issue(v, key, &cp)
				  : custos_checkpoint_latest(v, &cp);
	if (rc < 0)
		st = fail(rc, a->mode == ISSUE ? "cannot issue a checkpoint" : "no checkpoint");
	else if (a->json) {
		st = a->out ? emit(a->out, cp.note, cp.note_len) : 0;
		if (st == 0)
			print_checkpoint_json(&cp, a->out);
	} else {
		st = emit(a->out, cp.note, cp.note_len);
		if (st == 0 && a->out)
			printf("checkpoint of tree size %llu (event %llu, %zu cosignature%s) written to %s\n",
			       (unsigned long long)cp.size, (unsigned long long)cp.seq, cp.cosignatures,
			       cp.cosignatures == 1 ? "" : "s", a->out);
	}
	custos_checkpoint_clear(&cp);
	custos_key_free(key);
	custos_vault_close(v);
	return st;
}

static int consistency(cli *c, const cp_args *a)
{
	uint8_t *old = NULL;
	size_t n = 0, pn = 0;
	char *proof = NULL;
	custos_vault *v = NULL;
	int rc = custos_file_read(a->from, NOTE_FILE_MAX, &old, &n);
	if (rc < 0)
		return fail(rc, "cannot read the old checkpoint");
	int st = open_vault(c, &v, CUSTOS_OPEN_READ);
	if (st == 0) {
		rc = custos_consistency_proof(v, old, n, &proof, &pn);
		st = rc < 0 ? fail(rc, "%s", a->from) : emit(a->out, proof, pn);
		custos_vault_close(v);
	}
	free(old);
	free(proof);
	return st;
}

static int add_cosignature(cli *c, const cp_args *a)
{
	uint8_t *note = NULL;
	size_t n = 0;
	custos_vault *v = NULL;
	custos_key *key = NULL;
	uint64_t seq = 0;
	int rc = custos_file_read(a->cosig, NOTE_FILE_MAX, &note, &n);
	if (rc < 0)
		return fail(rc, "cannot read the cosigned checkpoint");
	char *vkey = NULL;
	rc = read_vkey_arg(a->witness, &vkey);
	int st = rc == 0 ? open_vault(c, &v, CUSTOS_OPEN_WRITE) : fail(rc, "--witness");
	if (st == 0 && (st = load_key(c, &key)) == 0) {
		rc = custos_cosignature_add(v, key, note, n, vkey, &seq);
		if (rc < 0)
			st = fail(rc, "%s", a->cosig);
		else if (a->json)
			printf("{\"recorded\":true,\"seq\":%llu}\n", (unsigned long long)seq);
		else
			printf("cosignature recorded as event %llu\n", (unsigned long long)seq);
	}
	custos_key_free(key);
	custos_vault_close(v);
	free(note);
	free(vkey);
	return st;
}

int cmd_checkpoint(cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"show", no_argument, NULL, 's'},
		{"consistency-from", required_argument, NULL, 'f'},
		{"add-cosignature", required_argument, NULL, 'a'},
		{"witness", required_argument, NULL, 'w'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	cp_args a = {.mode = ISSUE};
	int ch, modes = 0;
	while ((ch = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			a.out = optarg;
			break;
		case 's':
			a.mode = SHOW;
			modes++;
			break;
		case 'f':
			a.mode = CONSISTENCY;
			a.from = optarg;
			modes++;
			break;
		case 'a':
			a.mode = ADD_COSIG;
			a.cosig = optarg;
			modes++;
			break;
		case 'w':
			a.witness = optarg;
			break;
		case 'j':
			a.json = true;
			break;
		default:
			return usage_error("checkpoint", "bad option");
		}
	}
	if (optind != argc)
		return usage_error("checkpoint", "unexpected argument '%s'", argv[optind]);
	if (modes > 1)
		return usage_error("checkpoint",
				   "--show, --consistency-from and --add-cosignature exclude each other");
	if ((a.mode == ADD_COSIG) != (a.witness != NULL))
		return usage_error("checkpoint", "--add-cosignature and --witness go together");
	switch (a.mode) {
	case CONSISTENCY:
		return consistency(c, &a);
	case ADD_COSIG:
		return add_cosignature(c, &a);
	default:
		return show_or_issue(c, &a);
	}
}
