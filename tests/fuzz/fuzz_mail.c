/* fuzz_mail.c — the mbox and MIME readers (vault/mail.c) on hostile bytes: any mail a
 * custodian ingests is a stranger's, and the readers run in the sandbox like libarchive.
 * Every input is read both as an mbox and as a lone message, under tight limits. Members
 * must begin and end in turn, data only inside one, nothing made up (no more bytes out
 * than came in), no member past a limit:expanded stop, every outcome a known token. */
#include "mail.h"
#include "mailmsg.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME_MAX_BYTES 1024 /* mail.c caps a part's name at 1 KiB */

typedef struct state {
	const container_limits *l;
	int kind;
	uint64_t begun, ended, bytes, member_bytes;
	bool open, stopped;
	uint8_t path[NAME_MAX_BYTES];
	size_t path_len;
} state;

static int f_begin(const container_member *m, void *ud)
{
	state *s = ud;
	if (s->open || s->stopped || m->index != s->begun || !m->path || m->path_len == 0 ||
	    m->path_len > sizeof s->path)
		abort();
	if (s->kind == MAIL_MBOX) { /* mail.h: message-<k>.eml, k from 1 */
		char want[48];
		int k = snprintf(want, sizeof want, "message-%llu.eml", (unsigned long long)m->index + 1);
		if ((size_t)k != m->path_len || memcmp(want, m->path, m->path_len) != 0)
			abort();
	}
	memcpy(s->path, m->path, m->path_len);
	s->path_len = m->path_len;
	s->open = true;
	s->begun++;
	s->member_bytes = 0;
	return 0;
}

static int f_data(const uint8_t *p, size_t n, void *ud)
{
	state *s = ud;
	if (!s->open || (n && !p))
		abort();
	s->bytes += n;
	s->member_bytes += n;
	if (s->member_bytes > s->l->max_member_size || s->bytes > s->l->max_expanded)
		abort();
	return 0;
}

static bool known_outcome(const char *o)
{
	static const char *const known[] = {"ok", "corrupt", "unsupported", "limit:member-size",
					    "limit:expanded"};
	for (size_t i = 0; i < ARRAY_LEN(known); i++)
		if (strcmp(o, known[i]) == 0)
			return true;
	return false;
}

static int f_end(const container_member *m, const char *outcome, const char *detail, void *ud)
{
	state *s = ud;
	if (!s->open || !outcome || !known_outcome(outcome) || m->index + 1 != s->begun ||
	    m->path_len != s->path_len || memcmp(m->path, s->path, s->path_len) != 0)
		abort();
	/* "ok" and "corrupt" need no words; the others say what (the encoding, the count) */
	bool plain = strcmp(outcome, "ok") == 0 || strcmp(outcome, "corrupt") == 0;
	if ((detail && !detail[0]) || (!plain && !detail))
		abort();
	s->stopped = strcmp(outcome, "limit:expanded") == 0;
	s->open = false;
	s->ended++;
	return 0;
}

static void read_as(const uint8_t *data, size_t size, int kind)
{
	container_limits l;
	container_limits_default(&l);
	l.max_members = 64;
	l.max_member_size = 16 << 10;
	l.max_expanded = 32 << 10;
	state s = {.l = &l, .kind = kind};
	container_ops ops = {f_begin, f_data, f_end, &s};
	container_result r;
	int rc = mail_read_memory(data, size, kind, &l, &ops, &r);
	/* A message is always readable (all body at worst); an mbox needs its "From " line. */
	bool readable = kind == MAIL_MESSAGE || size == 0 || (size >= 5 && memcmp(data, "From ", 5) == 0);
	if ((rc == 0) != readable || s.open || s.begun != s.ended || s.begun != r.members ||
	    r.members > l.max_members)
		abort();
	/* mbox and MIME decoding only ever shrink: every byte counted came from the input */
	if (s.bytes > r.expanded || r.expanded > size)
		abort();
	if (r.stop && strcmp(r.stop, "limit:members") != 0 && strcmp(r.stop, "limit:expanded") != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	read_as(data, size, MAIL_MBOX);
	read_as(data, size, MAIL_MESSAGE);
	int kind = mail_kind(data, size);
	if (kind == MAIL_MESSAGE && !mail_looks_like_message(data, size))
		abort();
	if (kind == MAIL_MBOX && memcmp(data, "From ", 5) != 0)
		abort();
	return 0;
}
