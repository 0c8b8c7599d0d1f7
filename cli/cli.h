/*
 * cli.h — shared pieces of the custos command-line front end: the context every command
 * gets, exit statuses, vault and key resolution, passphrases, output helpers. The CLI only
 * parses, calls custos_* and prints.
 */
#ifndef CUSTOS_CLI_H
#define CUSTOS_CLI_H

#include "custos.h"

#include <stdbool.h>
#include <stdio.h>

enum { EXIT_OK = 0, EXIT_CHECK = 1, EXIT_USAGE = 2, EXIT_OPERATIONAL = 3 };

typedef struct cli {
	const char *vault;           /* --vault, else $CUSTOS_VAULT, else cwd if a vault */
	const char *key;             /* --key, else $CUSTOS_KEY, else ~/.config/custos/custodian.key */
	const char *passphrase_file; /* --passphrase-file, else $CUSTOS_PASSPHRASE_FILE */
	const char *prog;
} cli;

typedef struct command {
	const char *name;
	int (*run)(cli *c, int argc, char **argv);
	const char *summary;
	const char *usage; /* full help text */
} command;

extern const command commands[];

int cmd_key(cli *c, int argc, char **argv);
int cmd_init(cli *c, int argc, char **argv);
int cmd_ingest(cli *c, int argc, char **argv);
int cmd_ls(cli *c, int argc, char **argv);
int cmd_show(cli *c, int argc, char **argv);
int cmd_cat(cli *c, int argc, char **argv);
int cmd_log(cli *c, int argc, char **argv);
int cmd_verify(cli *c, int argc, char **argv);
int cmd_fsck(cli *c, int argc, char **argv);
int cmd_reindex(cli *c, int argc, char **argv);
int cmd_checkpoint(cli *c, int argc, char **argv);
int cmd_witness(cli *c, int argc, char **argv);
int cmd_prove(cli *c, int argc, char **argv);
int cmd_verify_proof(cli *c, int argc, char **argv);
int cmd_export(cli *c, int argc, char **argv);
int cmd_bundle(cli *c, int argc, char **argv);
int cmd_source(cli *c, int argc, char **argv);
int cmd_import(cli *c, int argc, char **argv);
int cmd_verify_package(cli *c, int argc, char **argv);
int cmd_dkim_verify(cli *c, int argc, char **argv);
int cmd_dkim_key(cli *c, int argc, char **argv);
int cmd_inspect(cli *c, int argc, char **argv);
/* DKIM reports (cmd_dkim.c), shared with inspect. */
void print_dkim_sig_json(FILE *f, const custos_dkim_sig *s);
void print_dkim_sig_text(FILE *f, const custos_dkim_sig *s, const char *indent);
void print_arc_json(FILE *f, const custos_arc *a);
void print_arc_text(FILE *f, const custos_arc *a, const char *indent);
/* A time given as YYYY-MM-DDTHH:MM:SSZ. */
int parse_time_arg(const char *s, int64_t *out);
const command *find_command(const char *name);

/* Print "custos: <msg>: <library message>" to stderr and return the exit status for rc. */
int fail(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print the library's last message and return the exit status for rc. */
int fail_last(int rc);
/* Exit status for a library code (0 ok, 1 check/not found, 2 usage, 3 operational). */
int exit_status(int rc);
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print a command's help to stdout; returns 0. */
int print_help(const char *cmd);
/* True (and help printed) if argv holds -h/--help. */
bool wants_help(const char *cmd, int argc, char **argv);

/* Resolve and open the vault; on failure prints and returns the exit status (>0). */
int open_vault(cli *c, custos_vault **out, int mode);
/* $XDG_CONFIG_HOME/custos/LEAF, else ~/.config/custos/LEAF (malloc'd; NULL without HOME). */
char *config_path(const char *leaf);
/* A signed-note verifier key given on the command line: the key itself (it holds '+'),
 * or a file whose first line is one. *out is malloc'd; <0 with the library's message. */
int read_vkey_arg(const char *arg, char **out);
/* The key path in effect (malloc'd). */
char *key_path(const cli *c);
/* Load the custodian key, asking for the passphrase if it is sealed. */
int load_key(cli *c, custos_key **out);
/* Read a passphrase (file, else terminal with confirmation when `confirm`). */
int read_passphrase(const cli *c, char **out, size_t *len, bool confirm);

/* Passphrases, one per line, from a file into secret memory: *lines point into *mem
 * (free with custos_secret_free(*mem) and free(*lines)). */
int read_secret_lines(const char *path, char **mem, char ***lines, size_t *n);

/* JSON: print a string value, with quotes. */
void json_str(FILE *f, const char *s);
void json_bytes(FILE *f, const uint8_t *p, size_t n);
/* Human output of hostile bytes. */
void print_bytes(FILE *f, const uint8_t *p, size_t n);
void print_item_json(FILE *f, const custos_item *it);
/* The same without the closing brace, for callers that add fields. */
void print_item_json_fields(FILE *f, const custos_item *it);

/* Problems of a check printed as they come: "PROBLEM kind: where: detail" lines, or JSON
 * objects separated by commas (the caller prints the enclosing array). */
typedef struct problem_out {
	bool json;
	bool first;
} problem_out;
void print_problem(const custos_problem *p, void *ud);

/* What every check with no vault takes: --trust KEY, --witness KEY..., --min-witnesses N
 * (by default, every witness given). */
#define TRUST_OPTIONS                                                                        \
	{"trust", required_argument, NULL, 't'}, {"witness", required_argument, NULL, 'w'},    \
	{                                                                                     \
		"min-witnesses", required_argument, NULL, 'm'                                \
	}
typedef struct trust_args {
	custos_pubkey trust;
	bool have_trust, have_min;
	char **witnesses;
	size_t n_witnesses, min_witnesses;
} trust_args;
int trust_args_init(trust_args *t, int argc);
/* Option ch if it is one of TRUST_OPTIONS: 1 when taken, 0 when not one of them, or the
 * exit status of a usage error (> 1). */
int trust_args_option(trust_args *t, const char *cmd, int ch, const char *arg);
/* After the options: --trust is required; the default --min-witnesses. 0 or an exit status. */
int trust_args_finish(trust_args *t, const char *cmd);
void trust_args_free(trust_args *t);

/* Parse --opt value or --opt=value forms by getopt_long; commands use this table shape. */
#define OPT_HELP 'h'

#endif
