/*
 * forge.c — the attacker's tool for tests/e2e/attacks.sh: it holds the custodian key and
 * rewrites the custody log with it, so that every signature in the forged history is
 * valid and only the checks that do not trust the key can catch it.
 *
 *   forge VAULT KEY PARENT SOURCE [--time T] [--swap-sig A B] [--key-as NEWKEY]
 *                                 [--sig-keynum HEX] [--analysis-item HEX]
 *                                 [--analysis-replace OLD NEW]
 *
 * Writes a commit on PARENT (hex) holding SOURCE's event and item files (copied, or
 * re-encoded with event time T and re-signed; --swap-sig gives item B the signature
 * file of item A; --sig-keynum names another key number in the event's source-signature
 * line, re-signed; --analysis-item names another item in an analysis event's first item
 * line, --analysis-replace puts NEW for the first OLD in its lines, re-signed), signs it
 * with KEY, moves refs/heads/main from PARENT to it and prints
 * its id. The caller first points main at PARENT (git update-ref).
 */
#include "custody.h"
#include "keys.h"
#include "record.h"
#include "fsutil.h"

#include <stdio.h>
#include <stdlib.h>

static void die(const char *what)
{
	fprintf(stderr, "forge: %s: %s\n", what, custos_error_last());
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc < 5)
		return fprintf(stderr, "usage: forge VAULT KEY PARENT SOURCE [options]\n"), 2;
	const char *time_s = NULL, *swap_a = NULL, *swap_b = NULL, *keynum = NULL, *item = NULL;
	const char *old_text = NULL, *new_text = NULL;
	for (int i = 5; i < argc; i++) {
		if (strcmp(argv[i], "--time") == 0 && i + 1 < argc)
			time_s = argv[++i];
		else if (strcmp(argv[i], "--sig-keynum") == 0 && i + 1 < argc)
			keynum = argv[++i];
		else if (strcmp(argv[i], "--analysis-item") == 0 && i + 1 < argc)
			item = argv[++i];
		else if (strcmp(argv[i], "--analysis-replace") == 0 && i + 2 < argc) {
			old_text = argv[++i];
			new_text = argv[++i];
		}
		else if (strcmp(argv[i], "--swap-sig") == 0 && i + 2 < argc) {
			swap_a = argv[++i];
			swap_b = argv[++i];
		} else
			return fprintf(stderr, "forge: bad option %s\n", argv[i]), 2;
	}
	custos_global_init();
	custos_key *key = NULL;
	custody *log = NULL;
	char *git = path_join(argv[1], "custody.git");
	uint8_t parent[20], source[20], out[20];
	if (custos_key_load(&key, argv[2], NULL, NULL) < 0)
		die("key");
	if (custody_open(&log, git, true) < 0)
		die("custody.git");
	if (hex_decode(parent, 20, argv[3], 40) < 0 || hex_decode(source, 20, argv[4], 40) < 0)
		die("commit ids");
	custody_commit cc;
	event ev;
	if (custody_read_commit(log, source, &cc) < 0 || event_parse(&ev, cc.event, cc.event_len) < 0)
		die("source commit");
	buf eb, sb;
	buf_init(&eb, EVENT_MAX);
	buf_init(&sb, 256);
	if (time_s || keynum || item || old_text) {
		int64_t t;
		uint8_t sig[64];
		if (time_s && i64_parse(&t, time_s, strlen(time_s)) < 0)
			die("--time");
		if (time_s)
			ev.time = t;
		if (keynum && hex_decode(ev.source_sig_keynum, 8, keynum, strlen(keynum)) < 0)
			die("--sig-keynum");
		for (size_t i = 0; item && i < ev.n_lines; i++)
			if (strncmp(ev.lines[i], "item ", 5) == 0 && strlen(item) == 32 &&
			    strlen(ev.lines[i]) > 37) {
				memcpy(ev.lines[i] + 5, item, 32);
				break;
			}
		for (size_t i = 0; old_text && i < ev.n_lines; i++) {
			char *at = strstr(ev.lines[i], old_text);
			if (!at)
				continue;
			size_t head = (size_t)(at - ev.lines[i]), tail = strlen(at + strlen(old_text));
			char *l = malloc(head + strlen(new_text) + tail + 1);
			if (!l)
				die("memory");
			sprintf(l, "%.*s%s%s", (int)head, ev.lines[i], new_text, at + strlen(old_text));
			free(ev.lines[i]);
			ev.lines[i] = l;
			break;
		}
		if (event_encode(&eb, &ev) < 0 || key_sign(sig, key, eb.p, eb.n) < 0 ||
		    sigfile_encode(&sb, custos_key_public(key)->id, sig) < 0)
			die("re-sign");
	} else {
		buf_put(&eb, cc.event, cc.event_len);
		buf_put(&sb, cc.event_sig, cc.event_sig_len);
	}
	custody_txn *t = NULL;
	if (custody_txn_begin(&t, log) < 0)
		die("txn");
	uint8_t *swap_sig = NULL;
	size_t swap_n = 0;
	if (swap_a) {
		uint8_t *rec;
		size_t rn;
		if (custody_read_item(log, source, swap_a, &rec, &rn, &swap_sig, &swap_n) < 0)
			die("--swap-sig A");
		free(rec);
	}
	for (size_t i = 0; i < ev.n_items; i++) {
		char hex[33];
		uint8_t *rec, *sig;
		size_t rn, sn;
		custos_hex(hex, ev.items[i].id, 16);
		if (custody_read_item(log, source, hex, &rec, &rn, &sig, &sn) < 0)
			die("item");
		bool swap = swap_b && strcmp(hex, swap_b) == 0;
		if (custody_txn_add_item(t, hex, rec, rn, swap ? swap_sig : sig, swap ? swap_n : sn) < 0)
			die("add item");
		free(rec);
		free(sig);
	}
	if (custody_txn_commit(t, key, eb.p, eb.n, sb.p, sb.n, "forged\n", ev.time, parent, out) < 0)
		die("commit");
	char hex[41];
	custos_hex(hex, out, 20);
	puts(hex);
	free(swap_sig);
	buf_free(&eb);
	buf_free(&sb);
	event_clear(&ev);
	custody_commit_clear(&cc);
	custody_close(log);
	custos_key_free(key);
	free(git);
	custos_global_shutdown();
	return 0;
}
