/*
 * util.c — shared helpers of the custos CLI (see cli.h).
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

int exit_status(int rc)
{
	switch (rc) {
	case CUSTOS_OK:
		return EXIT_OK;
	case CUSTOS_EINTEGRITY:
	case CUSTOS_ENOTFOUND:
		return EXIT_CHECK;
	case CUSTOS_EINVALID:
	case CUSTOS_EAMBIGUOUS:
		return EXIT_USAGE;
	default:
		return EXIT_OPERATIONAL;
	}
}

int fail(int rc, const char *fmt, ...)
{
	va_list ap;
	fputs("custos: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	const char *msg = custos_error_last();
	if (msg[0])
		fprintf(stderr, "%s%s", fmt[0] ? ": " : "", msg);
	fputc('\n', stderr);
	return exit_status(rc);
}

int fail_last(int rc)
{
	fprintf(stderr, "custos: %s\n", custos_error_last());
	return exit_status(rc);
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "custos %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'custos help %s'.\n", cmd);
	return EXIT_USAGE;
}

int print_help(const char *cmd)
{
	const command *c = find_command(cmd);
	if (!c)
		return usage_error("help", "unknown command '%s'", cmd);
	fputs(c->usage, stdout);
	return EXIT_OK;
}

bool wants_help(const char *cmd, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			print_help(cmd);
			return true;
		}
	}
	return false;
}

/* ------------------------------------------------------------ vault and key */

int open_vault(cli *c, custos_vault **out, int mode)
{
	const char *dir = c->vault ? c->vault : getenv("CUSTOS_VAULT");
	if (!dir || !dir[0]) {
		if (!custos_vault_detect(".")) {
			fprintf(stderr, "custos: no vault: give --vault DIR, set CUSTOS_VAULT, or run "
					"inside a vault\n");
			return EXIT_OPERATIONAL;
		}
		dir = ".";
	}
	int rc = custos_vault_open(out, dir, mode);
	if (rc < 0) {
		fail(rc, "cannot open vault %s", dir);
		return EXIT_OPERATIONAL;
	}
	return 0;
}

char *config_path(const char *leaf)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	char path[PATH_MAX];
	if (xdg && xdg[0])
		snprintf(path, sizeof path, "%s/custos/%s", xdg, leaf);
	else if (home && home[0])
		snprintf(path, sizeof path, "%s/.config/custos/%s", home, leaf);
	else
		return NULL;
	return strdup(path);
}

int read_vkey_arg(const char *arg, char **out)
{
	uint8_t *t = NULL;
	size_t n = 0;
	int rc = 0;
	*out = NULL;
	if (strchr(arg, '+'))
		*out = strdup(arg);
	else if ((rc = custos_file_read(arg, 4096, &t, &n)) == 0)
		*out = strndup((char *)t, strcspn((char *)t, "\n"));
	free(t);
	if (rc == 0 && !*out)
		rc = CUSTOS_ERROR;
	return rc;
}

char *key_path(const cli *c)
{
	const char *k = c->key ? c->key : getenv("CUSTOS_KEY");
	if (k && k[0])
		return strdup(k);
	return config_path("custodian.key");
}

/* Read one line from fd into secret memory, without its line end. */
static int read_secret_line(int fd, char **out, size_t *len, const char *what)
{
	enum { MAXPASS = 1024 };
	char *p = custos_secret_alloc(MAXPASS + 1);
	size_t n = 0;
	if (!p)
		return CUSTOS_ERROR;
	for (;;) {
		char ch;
		ssize_t r = read(fd, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || ch == '\n')
			break;
		if (n == MAXPASS) {
			custos_secret_free(p);
			fprintf(stderr, "custos: the passphrase in %s is longer than %d bytes\n", what, MAXPASS);
			return CUSTOS_EINVALID;
		}
		p[n++] = ch;
	}
	if (n && p[n - 1] == '\r')
		n--;
	p[n] = '\0';
	if (n == 0) {
		custos_secret_free(p);
		fprintf(stderr, "custos: empty passphrase from %s\n", what);
		return CUSTOS_EPASSPHRASE;
	}
	*out = p;
	*len = n;
	return 0;
}

static int prompt_tty(const char *prompt, char **out, size_t *len)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return CUSTOS_EPASSPHRASE;
	struct termios old, quiet;
	bool restore = tcgetattr(fd, &old) == 0;
	if (restore) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	if (write(fd, prompt, strlen(prompt)) < 0) {
		/* nothing to do: the read below still works */
	}
	int rc = read_secret_line(fd, out, len, "the terminal");
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0) {
		/* cosmetic only */
	}
	close(fd);
	return rc;
}

int read_secret_lines(const char *path, char **mem, char ***lines, size_t *n)
{
	enum { MAXFILE = 64 << 10 };
	*mem = NULL;
	*lines = NULL;
	*n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		fprintf(stderr, "custos: cannot open %s: %s\n", path, strerror(errno));
		return CUSTOS_EINVALID;
	}
	char *p = custos_secret_alloc(MAXFILE + 1);
	size_t got = 0;
	int rc = p ? 0 : CUSTOS_ERROR;
	while (rc == 0) {
		ssize_t r = read(fd, p + got, MAXFILE + 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "custos: cannot read %s: %s\n", path, strerror(errno));
			rc = CUSTOS_EINVALID;
		} else if (r == 0) {
			break;
		} else if ((got += (size_t)r) > MAXFILE) {
			fprintf(stderr, "custos: %s is larger than %d bytes\n", path, MAXFILE);
			rc = CUSTOS_EINVALID;
		}
	}
	close(fd);
	size_t count = 0;
	for (size_t i = 0; rc == 0 && i < got; i++)
		count += p[i] == '\n';
	char **v = rc == 0 ? calloc(count + 2, sizeof *v) : NULL;
	if (rc == 0 && !v)
		rc = CUSTOS_ERROR;
	/* one passphrase per line; line ends (LF or CRLF) are not part of it; empty lines skipped */
	for (size_t i = 0, start = 0; rc == 0 && i <= got; i++) {
		if (i < got && p[i] != '\n')
			continue;
		size_t end = i;
		if (end > start && p[end - 1] == '\r')
			end--;
		if (i < got)
			p[i] = '\0';
		p[end] = '\0';
		if (end > start)
			v[(*n)++] = p + start;
		start = i + 1;
	}
	if (rc == 0 && *n == 0) {
		fprintf(stderr, "custos: no passphrase in %s\n", path);
		rc = CUSTOS_EINVALID;
	}
	if (rc < 0) {
		custos_secret_free(p);
		free(v);
		*n = 0;
		return rc;
	}
	*mem = p;
	*lines = v;
	return 0;
}

int read_passphrase(const cli *c, char **out, size_t *len, bool confirm)
{
	const char *file = c->passphrase_file ? c->passphrase_file : getenv("CUSTOS_PASSPHRASE_FILE");
	if (file && file[0]) {
		int fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "custos: cannot open passphrase file %s: %s\n", file, strerror(errno));
			return CUSTOS_EPASSPHRASE;
		}
		int rc = read_secret_line(fd, out, len, file);
		close(fd);
		return rc;
	}
	int rc = prompt_tty("Passphrase: ", out, len);
	if (rc == CUSTOS_EPASSPHRASE && !isatty(STDIN_FILENO)) {
		fprintf(stderr, "custos: a passphrase is needed and there is no terminal to ask on: "
				"use --passphrase-file FILE or CUSTOS_PASSPHRASE_FILE\n");
		return rc;
	}
	if (rc < 0 || !confirm)
		return rc;
	char *again = NULL;
	size_t alen = 0;
	if ((rc = prompt_tty("Again: ", &again, &alen)) < 0) {
		custos_secret_free(*out);
		return rc;
	}
	bool same = alen == *len && memcmp(again, *out, alen) == 0;
	custos_secret_free(again);
	if (!same) {
		custos_secret_free(*out);
		fprintf(stderr, "custos: the passphrases differ\n");
		return CUSTOS_EPASSPHRASE;
	}
	return 0;
}

static int ask_cb(char **out, size_t *len, void *ud)
{
	return read_passphrase(ud, out, len, false);
}

int load_key(cli *c, custos_key **out)
{
	char *path = key_path(c);
	if (!path) {
		fprintf(stderr, "custos: no key: give --key FILE or set CUSTOS_KEY\n");
		return EXIT_OPERATIONAL;
	}
	int rc = custos_key_load(out, path, ask_cb, c);
	if (rc < 0) {
		if (rc == CUSTOS_ENOTFOUND)
			fprintf(stderr, "custos: no key at %s: create one with 'custos key new' or give --key\n",
				path);
		else if (custos_error_last()[0] || rc != CUSTOS_EPASSPHRASE)
			fail(rc, "cannot load key %s", path);
		free(path);
		return EXIT_OPERATIONAL;
	}
	free(path);
	return 0;
}

/* ------------------------------------------------------------ output */

void json_str(FILE *f, const char *s)
{
	json_bytes(f, (const uint8_t *)s, strlen(s));
}

void json_bytes(FILE *f, const uint8_t *p, size_t n)
{
	char *e = custos_json_escape(p, n);
	fprintf(f, "\"%s\"", e ? e : "");
	free(e);
}

void print_bytes(FILE *f, const uint8_t *p, size_t n)
{
	char *s = custos_printable(p, n);
	fputs(s ? s : "?", f);
	free(s);
}

void print_item_json(FILE *f, const custos_item *it)
{
	print_item_json_fields(f, it);
	fputc('}', f);
}

void print_item_json_fields(FILE *f, const custos_item *it)
{
	const custos_record *r = &it->rec;
	char sha[65], kid[17], ts[21];
	custos_hex(sha, r->sha256, 32);
	custos_keyid_hex(kid, r->custodian);
	custos_time_format(ts, r->ingested);
	fprintf(f, "{\"id\":\"%s\",\"sha256\":\"%s\",\"size\":%llu,\"name\":", it->id_hex, sha,
		(unsigned long long)r->size);
	json_bytes(f, r->name.p, r->name.n);
	fputs(",\"path\":", f);
	json_bytes(f, r->path.p, r->path.n);
	fputs(",\"mime\":", f);
	json_str(f, r->mime);
	fputs(",\"description\":", f);
	json_str(f, r->description);
	fprintf(f, ",\"kind\":\"%s\"", custos_kind_name(r->kind));
	if (custos_kind_has_target(r->kind)) {
		fputs(",\"target\":", f);
		json_bytes(f, r->target.p, r->target.n);
	}
	if (r->is_member) {
		char c[33];
		custos_hex(c, r->container, CUSTOS_ITEM_ID_LEN);
		fprintf(f, ",\"container\":\"%s\",\"member\":%llu,\"mode\":\"%04o\",\"member_outcome\":\"%s\"",
			c, (unsigned long long)r->member, (unsigned)r->mode, r->outcome);
	}
	if (r->source.n) {
		fputs(",\"source\":", f);
		json_bytes(f, r->source.p, r->source.n);
	}
	if (r->ext_mismatch) {
		fputs(",\"ext_mismatch\":", f);
		json_str(f, r->ext_mismatch);
	}
	if (r->has_mtime)
		fprintf(f, ",\"mtime\":%lld", (long long)r->mtime);
	const char *names[] = {"md5", "sha1", "sha512", "blake2b"};
	const char *vals[] = {r->md5, r->sha1, r->sha512, r->blake2b};
	for (int i = 0; i < 4; i++)
		if (vals[i][0])
			fprintf(f, ",\"%s\":\"%s\"", names[i], vals[i]);
	fprintf(f, ",\"ingested\":\"%s\",\"custodian\":\"%s\",\"event\":%llu,\"commit\":\"%s\","
		   "\"outcome\":\"%s\",\"signature_ok\":%s",
		ts, kid, (unsigned long long)r->seq, it->commit, it->outcome,
		it->sig_ok ? "true" : "false");
}

void print_problem(const custos_problem *p, void *ud)
{
	problem_out *o = ud;
	if (o->json) {
		printf("%s{\"problem\":\"%s\",\"where\":", o->first ? "" : ",", p->kind);
		json_str(stdout, p->where);
		fputs(",\"detail\":", stdout);
		json_str(stdout, p->detail);
		putchar('}');
		o->first = false;
	} else {
		printf("PROBLEM %s: %s: %s\n", p->kind, p->where, p->detail);
	}
}

int trust_args_init(trust_args *t, int argc)
{
	memset(t, 0, sizeof *t);
	t->witnesses = calloc((size_t)argc + 1, sizeof *t->witnesses);
	return t->witnesses ? 0 : fail(CUSTOS_ERROR, "out of memory");
}

int trust_args_option(trust_args *t, const char *cmd, int ch, const char *arg)
{
	char *end = NULL;
	switch (ch) {
	case 't':
		t->have_trust = true;
		return custos_pubkey_load(&t->trust, arg) < 0
			       ? usage_error(cmd, "--trust: %s", custos_error_last())
			       : 1;
	case 'w':
		if (read_vkey_arg(arg, &t->witnesses[t->n_witnesses]) < 0)
			return usage_error(cmd, "--witness: %s", custos_error_last());
		t->n_witnesses++;
		return 1;
	case 'm':
		t->have_min = true;
		t->min_witnesses = strtoul(arg, &end, 10);
		return !end || *end || arg[0] == '-' ? usage_error(cmd, "--min-witnesses takes a number")
						     : 1;
	default:
		return 0;
	}
}

int trust_args_finish(trust_args *t, const char *cmd)
{
	if (!t->have_trust)
		return usage_error(cmd, "--trust KEY is required: the custodian's public key");
	if (!t->have_min)
		t->min_witnesses = t->n_witnesses;
	return 0;
}

void trust_args_free(trust_args *t)
{
	for (size_t i = 0; i < t->n_witnesses; i++)
		free(t->witnesses[i]);
	free(t->witnesses);
}
