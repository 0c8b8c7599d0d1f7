/*
 * isolate.c — see isolate.h. The wire between child and parent is a stream of messages:
 * one type byte, a 32-bit little-endian payload length, the payload.
 *
 *   'B' member begins: u64 index, u8 type, u8 flags (1 has_mtime, 2 encrypted), u32 mode,
 *       i64 mtime, u32 path length, u32 link length, path bytes, link bytes
 *   'D' member data: the bytes
 *   'E' member ends: u8 outcome length, outcome, detail (the rest)
 *   'R' result, last: i32 rc, u64 members, expanded, consumed, u8 stop length, stop,
 *       u8 format length, format, detail (the rest)
 */
#include "isolate.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MSG_DATA_MAX ((size_t)64 << 10)
#define MSG_NAME_MAX ((size_t)64 << 10) /* a longer member path or link target is cut */
#define MSG_MAX (MSG_NAME_MAX * 2 + 64)
#define WBUF_SIZE ((size_t)256 << 10)
#define CHILD_IN 3  /* the input, in the child */
#define CHILD_OUT 4 /* the pipe, in the child */

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

void isolate_limits_default(isolate_limits *il)
{
	il->memory = (uint64_t)1 << 30;
	il->cpu_seconds = 600;
}

/* ------------------------------------------------------------ the child */

typedef struct wire {
	int fd;
	uint8_t *p;
	size_t n;
} wire;

static int wire_flush(wire *w)
{
	size_t off = 0;
	while (off < w->n) {
		ssize_t k = write(w->fd, w->p + off, w->n - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		off += (size_t)k;
	}
	w->n = 0;
	return 0;
}

/* Append one message made of up to three pieces. */
static int wire_put(wire *w, char type, const void *a, size_t an, const void *b, size_t bn,
		    const void *c, size_t cn)
{
	size_t len = an + bn + cn;
	if (w->n + 5 + len > WBUF_SIZE && wire_flush(w) < 0)
		return -1;
	uint8_t *p = w->p + w->n;
	p[0] = (uint8_t)type;
	le32_store(p + 1, (uint32_t)len);
	if (an)
		memcpy(p + 5, a, an);
	if (bn)
		memcpy(p + 5 + an, b, bn);
	if (cn)
		memcpy(p + 5 + an + bn, c, cn);
	w->n += 5 + len;
	return 0;
}

static int child_begin(const container_member *m, void *ud)
{
	uint8_t h[34];
	size_t pl = m->path_len < MSG_NAME_MAX ? m->path_len : MSG_NAME_MAX;
	size_t ll = m->link_len < MSG_NAME_MAX ? m->link_len : MSG_NAME_MAX;
	le64_store(h, m->index);
	h[8] = (uint8_t)m->type;
	h[9] = (uint8_t)((m->has_mtime ? 1 : 0) | (m->encrypted ? 2 : 0));
	le32_store(h + 10, m->mode);
	le64_store(h + 14, (uint64_t)m->mtime);
	le32_store(h + 22, (uint32_t)pl);
	le32_store(h + 26, (uint32_t)ll);
	return wire_put(ud, 'B', h, 30, m->path, pl, m->link, ll) < 0 ? CUSTOS_ERROR : 0;
}

/* A large block goes out as it is (header and bytes in one writev), not through the
 * buffer: one copy fewer on the path that carries every decoded byte. */
static int wire_put_direct(wire *w, const uint8_t *p, size_t n)
{
	uint8_t h[5] = {'D'};
	le32_store(h + 1, (uint32_t)n);
	if (wire_flush(w) < 0)
		return -1;
	struct iovec v[2] = {{h, 5}, {(void *)p, n}};
	size_t left = 5 + n;
	while (left) {
		ssize_t k = writev(w->fd, v, 2);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		left -= (size_t)k;
		for (int i = 0; i < 2 && k > 0; i++) {
			size_t take = (size_t)k < v[i].iov_len ? (size_t)k : v[i].iov_len;
			v[i].iov_base = (uint8_t *)v[i].iov_base + take;
			v[i].iov_len -= take;
			k -= (ssize_t)take;
		}
	}
	return 0;
}

static int child_data(const uint8_t *p, size_t n, void *ud)
{
	for (size_t off = 0; off < n; off += MSG_DATA_MAX) {
		size_t k = n - off < MSG_DATA_MAX ? n - off : MSG_DATA_MAX;
		int rc = k >= MSG_DATA_MAX / 4 ? wire_put_direct(ud, p + off, k)
					       : wire_put(ud, 'D', p + off, k, NULL, 0, NULL, 0);
		if (rc < 0)
			return CUSTOS_ERROR;
	}
	return 0;
}

static int child_end(const container_member *m, const char *outcome, const char *detail, void *ud)
{
	(void)m;
	uint8_t ol = (uint8_t)strlen(outcome);
	size_t dl = detail ? strnlen(detail, 1024) : 0;
	return wire_put(ud, 'E', &ol, 1, outcome, ol, detail, dl) < 0 ? CUSTOS_ERROR : 0;
}

static int child_result(wire *w, int rc, const container_result *r)
{
	uint8_t h[4 + 24 + 1 + 255 + 1 + 64];
	const char *stop = r->stop ? r->stop : "";
	size_t sl = strlen(stop), fl = strnlen(r->format, sizeof r->format);
	le32_store(h, (uint32_t)rc);
	le64_store(h + 4, r->members);
	le64_store(h + 12, r->expanded);
	le64_store(h + 20, r->consumed);
	size_t n = 28;
	h[n++] = (uint8_t)sl;
	memcpy(h + n, stop, sl);
	n += sl;
	h[n++] = (uint8_t)fl;
	memcpy(h + n, r->format, fl);
	n += fl;
	const char *detail = rc < 0 ? custos_error_last() : r->detail;
	return wire_put(w, 'R', h, n, detail, strnlen(detail, 255), NULL, 0);
}

static int allow(scmp_filter_ctx f, int nr)
{
	return seccomp_rule_add(f, SCMP_ACT_ALLOW, nr, 0);
}

static int allow_fd(scmp_filter_ctx f, int nr, int fd)
{
	return seccomp_rule_add(f, SCMP_ACT_ALLOW, nr, 1, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)fd));
}

/* No executable mappings: prot (argument 2) without PROT_EXEC. */
static int allow_noexec(scmp_filter_ctx f, int nr)
{
	return seccomp_rule_add(f, SCMP_ACT_ALLOW, nr, 1,
				SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
}

static int load_filter(void)
{
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!f)
		return -1;
	int rc = 0;
	const int plain[] = {SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
			     SCMP_SYS(futex), SCMP_SYS(exit), SCMP_SYS(exit_group),
			     SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
			     SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(close)};
	for (size_t i = 0; rc == 0 && i < sizeof plain / sizeof *plain; i++)
		rc = allow(f, plain[i]);
	if (rc == 0)
		rc = allow_noexec(f, SCMP_SYS(mmap));
	if (rc == 0)
		rc = allow_noexec(f, SCMP_SYS(mprotect));
	/* the input: read, seek, stat; the pipe and stderr (sanitizer reports): write */
	const int in_calls[] = {SCMP_SYS(read), SCMP_SYS(pread64), SCMP_SYS(lseek),
				SCMP_SYS(fstat), SCMP_SYS(newfstatat)};
	for (size_t i = 0; rc == 0 && i < sizeof in_calls / sizeof *in_calls; i++)
		rc = allow_fd(f, in_calls[i], CHILD_IN);
	if (rc == 0)
		rc = allow_fd(f, SCMP_SYS(write), CHILD_OUT);
	if (rc == 0)
		rc = allow_fd(f, SCMP_SYS(writev), CHILD_OUT);
	if (rc == 0)
		rc = allow_fd(f, SCMP_SYS(write), 2);
	if (UNDER_ASAN) {
		/* ASan's runtime, when it reports, maps and signals: tolerated in those builds */
		const int asan[] = {SCMP_SYS(sigaltstack), SCMP_SYS(rt_sigaction), SCMP_SYS(getpid),
				    SCMP_SYS(gettid), SCMP_SYS(tgkill), SCMP_SYS(sched_yield),
				    SCMP_SYS(getrlimit), SCMP_SYS(prlimit64)};
		for (size_t i = 0; rc == 0 && i < sizeof asan / sizeof *asan; i++)
			rc = allow(f, asan[i]);
	}
	if (rc == 0)
		rc = seccomp_load(f);
	seccomp_release(f);
	return rc;
}

static void limit(int res, rlim_t soft, rlim_t hard)
{
	struct rlimit r = {soft, hard};
	(void)setrlimit(res, &r);
}

/* Put the input and the pipe at known numbers, close everything else, and lock down. */
static int confine(int in, int out, const isolate_limits *il)
{
	/* move both above the targets first, so neither overwrites the other */
	int hi_in = in >= 0 ? fcntl(in, F_DUPFD, 16) : -1;
	int hi_out = fcntl(out, F_DUPFD, 16);
	if (hi_out < 0 || (in >= 0 && hi_in < 0))
		return -1;
	if ((hi_in >= 0 && dup2(hi_in, CHILD_IN) != CHILD_IN) || dup2(hi_out, CHILD_OUT) != CHILD_OUT)
		return -1;
	close(0);
	close(1);
	if (hi_in < 0)
		close(CHILD_IN);
	if (close_range(CHILD_OUT + 1, ~0U, 0) != 0)
		return -1;
	limit(RLIMIT_CORE, 0, 0);
	limit(RLIMIT_FSIZE, 0, 0); /* no file can be written, or grown */
	limit(RLIMIT_NOFILE, CHILD_OUT + 1, CHILD_OUT + 1);
	limit(RLIMIT_NPROC, 0, 0);
	limit(RLIMIT_CPU, il->cpu_seconds, il->cpu_seconds + 1);
	if (!UNDER_ASAN) /* ASan reserves terabytes of address space */
		limit(RLIMIT_AS, il->memory, il->memory);
	/* dies with custos (a killed ingest leaves no reader behind) */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return -1;
	return load_filter();
}

/* Tests: one forbidden act; reaching the line after it means the sandbox failed. */
static void child_probe(int probe)
{
	switch (probe) {
	case ISOLATE_PROBE_OPEN:
		(void)open("/etc/hostname", O_RDONLY);
		break;
	case ISOLATE_PROBE_FORK:
		(void)fork();
		break;
	case ISOLATE_PROBE_EXEC:
		(void)mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		break;
	case ISOLATE_PROBE_SOCKET:
		(void)socket(AF_UNIX, SOCK_STREAM, 0);
		break;
	case ISOLATE_PROBE_WRITE:
		(void)write(1, "x", 1);
		(void)write(5, "x", 1);
		break;
	default:
		return;
	}
	_exit(5);
}

static void child_main(int in, int probe, const container_limits *l, const isolate_limits *il,
		       int out)
{
	static uint8_t wb[WBUF_SIZE];
	signal(SIGPIPE, SIG_DFL);
	/* zip and 7z times are local times: libarchive converts them with localtime(), which
	 * reads the zone file. Load it now, before the sandbox forbids that; with TZ unset glibc
	 * would stat the file again at every call, with TZ set to the same file it does not. */
	if (!getenv("TZ"))
		setenv("TZ", ":/etc/localtime", 1);
	tzset();
	/* Names stored as UTF-16 (7z, Joliet, rar) become UTF-8 with libarchive's own
	 * converter under a UTF-8 locale; any other locale would need iconv modules loaded
	 * from disk (forbidden) and would lose what the locale cannot spell. */
	(void)setlocale(LC_CTYPE, "C.UTF-8");
	if (confine(in, out, il) != 0)
		_exit(3);
	child_probe(probe);
	wire w = {CHILD_OUT, wb, 0};
	container_ops ops = {child_begin, child_data, child_end, &w};
	container_result r;
	(void)lseek(CHILD_IN, 0, SEEK_SET); /* the container fills the file from its start */
	int rc = container_read(CHILD_IN, l, &ops, &r);
	if (child_result(&w, rc, &r) < 0 || wire_flush(&w) < 0)
		_exit(4);
	_exit(0);
}

/* ------------------------------------------------------------ the parent */

typedef struct replay {
	int fd;
	uint8_t *buf; /* MSG_MAX + 5 + read room */
	size_t cap, start, end;
	const container_ops *ops;
	container_result *out;
	bool in_member, is_file, got_result, broken;
	container_member m;
	uint8_t *path, *link; /* copies for the member in flight */
	uint64_t next_index;
	int rc;
	char why[128]; /* a protocol violation */
} replay;

/* A child's token, accepted only if it is one custos knows; returns the static name. */
static const char *known_token(const uint8_t *p, size_t n, bool result)
{
	static const char *const member[] = {"ok", "mismatch", "encrypted", "corrupt", "unsupported",
					     "limit:member-size", "limit:ratio", "limit:expanded"};
	static const char *const stop[] = {"corrupt", "encrypted", "limit:members",
					   "limit:expanded", "limit:ratio", "limit:member-size"};
	const char *const *t = result ? stop : member;
	size_t k = result ? sizeof stop / sizeof *stop : sizeof member / sizeof *member;
	for (size_t i = 0; i < k; i++)
		if (strlen(t[i]) == n && memcmp(t[i], p, n) == 0)
			return t[i];
	return NULL;
}

static int violation(replay *r, const char *why)
{
	r->broken = true;
	snprintf(r->why, sizeof r->why, "%s", why);
	return 1;
}

static int on_begin(replay *r, const uint8_t *p, size_t n)
{
	if (r->in_member || n < 30)
		return violation(r, "member begins inside another");
	uint32_t pl = le32_load(p + 22), ll = le32_load(p + 26);
	if (pl > MSG_NAME_MAX || ll > MSG_NAME_MAX || n != 30 + (size_t)pl + ll ||
	    le64_load(p) != r->next_index || p[8] > MEMBER_OTHER)
		return violation(r, "malformed member header");
	free(r->path);
	free(r->link);
	r->path = malloc((size_t)pl + 1);
	r->link = ll ? malloc((size_t)ll + 1) : NULL;
	if (!r->path || (ll && !r->link))
		return r->rc = CUSTOS_ERROR;
	memcpy(r->path, p + 30, pl);
	if (ll)
		memcpy(r->link, p + 30 + pl, ll);
	container_member *m = &r->m;
	memset(m, 0, sizeof *m);
	m->index = r->next_index++;
	m->type = p[8];
	m->has_mtime = p[9] & 1;
	m->encrypted = (p[9] & 2) != 0;
	m->mode = le32_load(p + 10) & 07777;
	m->mtime = m->has_mtime ? (int64_t)le64_load(p + 14) : 0;
	m->path = r->path;
	m->path_len = pl;
	m->link = r->link;
	m->link_len = ll;
	r->in_member = true;
	r->is_file = m->type == MEMBER_FILE;
	r->out->members++;
	return r->rc = r->ops->begin(m, r->ops->ud);
}

static int on_end(replay *r, const uint8_t *p, size_t n)
{
	if (!r->in_member || n < 1 || (size_t)p[0] + 1 > n)
		return violation(r, "member end out of place");
	const char *outcome = known_token(p + 1, p[0], false);
	if (!outcome)
		return violation(r, "unknown member outcome");
	char detail[256];
	size_t dl = n - 1 - p[0];
	if (dl >= sizeof detail)
		dl = sizeof detail - 1;
	memcpy(detail, p + 1 + p[0], dl);
	detail[dl] = '\0';
	r->in_member = false;
	return r->rc = r->ops->end(&r->m, outcome, dl ? detail : NULL, r->ops->ud);
}

static int on_result(replay *r, const uint8_t *p, size_t n)
{
	if (r->in_member || n < 30)
		return violation(r, "result out of place");
	size_t sl = p[28];
	if (29 + sl + 1 > n || 29 + sl + 1 + p[29 + sl] > n)
		return violation(r, "malformed result");
	size_t fl = p[29 + sl];
	container_result *o = r->out;
	int32_t rc = (int32_t)le32_load(p);
	if (le64_load(p + 4) != o->members)
		return violation(r, "result disagrees with the members sent");
	o->expanded = le64_load(p + 12);
	o->consumed = le64_load(p + 20);
	o->stop = sl ? known_token(p + 29, sl, true) : NULL;
	if (sl && !o->stop)
		return violation(r, "unknown stop reason");
	fl = fl < sizeof o->format ? fl : sizeof o->format - 1;
	memcpy(o->format, p + 30 + sl, fl);
	o->format[fl] = '\0';
	size_t off = 30 + sl + p[29 + sl], dl = n - off;
	dl = dl < sizeof o->detail ? dl : sizeof o->detail - 1;
	memcpy(o->detail, p + off, dl);
	o->detail[dl] = '\0';
	r->got_result = true;
	if (rc == CUSTOS_EINVALID && o->members) /* "not a container" comes before any member */
		return violation(r, "not a container, after members");
	if (rc == CUSTOS_EINVALID)
		r->rc = custos_error_set(CUSTOS_EINVALID, "not a container: %s", o->detail);
	else if (rc < 0)
		return violation(r, "the reader failed");
	return 0;
}

/* Dispatch one message; non-zero stops the replay (r->rc < 0: the caller's error). */
static int on_message(replay *r, uint8_t type, const uint8_t *p, size_t n)
{
	if (r->got_result)
		return violation(r, "bytes after the result");
	switch (type) {
	case 'B':
		return on_begin(r, p, n);
	case 'D':
		if (!r->in_member || !r->is_file || n == 0 || n > MSG_DATA_MAX)
			return violation(r, "data out of place");
		return r->rc = r->ops->data(p, n, r->ops->ud);
	case 'E':
		return on_end(r, p, n);
	case 'R':
		return on_result(r, p, n);
	default:
		return violation(r, "unknown message");
	}
}

/* Read and dispatch until the child closes the pipe or something stops the replay. */
static void replay_run(replay *r)
{
	for (;;) {
		size_t have = r->end - r->start;
		if (have >= 5) {
			const uint8_t *h = r->buf + r->start;
			size_t len = le32_load(h + 1);
			if (len > MSG_MAX) {
				violation(r, "oversized message");
				return;
			}
			if (have >= 5 + len) {
				r->start += 5 + len;
				if (on_message(r, h[0], h + 5, len) != 0)
					return;
				continue;
			}
		}
		if (r->start && r->end - r->start < MSG_MAX + 5) { /* make room */
			memmove(r->buf, r->buf + r->start, r->end - r->start);
			r->end -= r->start;
			r->start = 0;
		}
		ssize_t k = read(r->fd, r->buf + r->end, r->cap - r->end);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (have)
				violation(r, "message cut short");
			return;
		}
		r->end += (size_t)k;
	}
}

/* The child is gone: what did it die of? */
static void judge_exit(replay *r, int status, const isolate_limits *il)
{
	container_result *o = r->out;
	const char *stop = NULL;
	if (r->broken) {
		stop = "crashed";
		snprintf(o->detail, sizeof o->detail, "the reader broke protocol: %s", r->why);
	} else if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		/* RLIMIT_CPU's soft limit sends SIGXCPU (the hard one, a second later, SIGKILL) */
		stop = sig == SIGXCPU ? "limit:time" : "crashed";
		if (sig == SIGXCPU)
			snprintf(o->detail, sizeof o->detail, "the reader used its %u s of CPU time",
				 il->cpu_seconds);
		else
			snprintf(o->detail, sizeof o->detail, "the reader died of signal %d (%s)%s", sig,
				 strsignal(sig), sig == SIGSYS ? ": a system call the sandbox forbids" : "");
	} else if (!r->got_result) {
		stop = "crashed";
		snprintf(o->detail, sizeof o->detail, "the reader exited (status %d) without a result",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	if (stop)
		o->stop = stop;
	/* libarchive says "Can't allocate memory" when the address-space limit bites */
	if (o->stop && strcmp(o->stop, "limit:time") != 0 && strstr(o->detail, "allocate"))
		o->stop = "limit:memory";
}

/* After the child is gone: judge how, end a member left in flight, free. */
static int replay_finish(replay *r, int status, const isolate_limits *il)
{
	if (r->rc == 0 || r->broken) {
		judge_exit(r, status, il);
		if (r->in_member && r->rc == 0) /* the member in flight ends with the container */
			r->rc = r->ops->end(&r->m, r->out->stop ? r->out->stop : "crashed",
					    r->out->detail, r->ops->ud);
	}
	if (r->rc > 0)
		r->rc = 0;
	free(r->path);
	free(r->link);
	free(r->buf);
	return r->rc;
}

static int replay_init(replay *r, int fd, const container_ops *ops, container_result *out)
{
	memset(out, 0, sizeof *out);
	*r = (replay){.fd = fd, .cap = 4 * (MSG_MAX + 5), .ops = ops, .out = out};
	return (r->buf = malloc(r->cap)) ? 0 : custos_error_set(CUSTOS_ERROR, "out of memory");
}

int isolate_replay(int fd, const container_ops *ops, container_result *out)
{
	replay r;
	isolate_limits il;
	isolate_limits_default(&il);
	int rc = replay_init(&r, fd, ops, out);
	if (rc < 0)
		return rc;
	replay_run(&r);
	return replay_finish(&r, 0, &il);
}

/* ------------------------------------------------------------ the server
 *
 * Readers are not forked from custos itself: by the time an archive is met, custos runs
 * worker and writer threads, and a fork copies whatever lock one of them holds (the time
 * zone lock while a record's time is formatted, the locale lock inside libmagic) into a
 * child that would then wait on it forever. The server is forked once, at the start of
 * an ingest, while custos is still single-threaded; it forks each reader on request,
 * passes back how it ended, and holds nothing of the vault (its descriptors are closed;
 * secret memory reads as zeros after a fork, see keys.c). */

struct isolate_server {
	pid_t pid;
	int sock;
	/* readers that ended while custos waited for another one (nested archives: several
	 * readers run at once, and end in any order) */
	struct ended {
		int32_t pid, status;
	} *ended;
	size_t n_ended, cap_ended;
};

/* What the server says: a reader started (its pid), ended (pid and wait status), or the
 * request was refused. */
enum { SAY_STARTED = 1, SAY_ENDED = 2, SAY_REFUSED = 3 };
typedef struct say {
	int32_t what, pid, status;
} say;

#define REQ_MAGIC 0x72656164u /* "read" */
#define REQ_PASS_MAX ((size_t)64 << 10)

typedef struct request {
	uint32_t magic;
	int32_t probe;
	uint64_t max_members, max_member_size, max_expanded, max_ratio, ratio_floor;
	uint64_t tree_base, tree_used, memory;
	uint32_t cpu_seconds;
	uint32_t n_pass; /* that many NUL-terminated passphrases follow */
} request;

static int send_with_fds(int sock, const void *p, size_t n, const int *fds, int nfds)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(2 * sizeof(int))];
	} u;
	struct iovec v = {(void *)p, n};
	struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1};
	if (nfds) {
		memset(&u, 0, sizeof u);
		m.msg_control = u.space;
		m.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
	}
	ssize_t k;
	while ((k = sendmsg(sock, &m, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	return k == (ssize_t)n ? 0 : -1;
}

/* One request: its bytes, and exactly two descriptors (else the request is refused). */
static ssize_t recv_request(int sock, uint8_t *p, size_t n, int fds[2])
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(2 * sizeof(int))];
	} u;
	struct iovec v = {p, n};
	struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1, .msg_control = u.space,
			   .msg_controllen = sizeof u.space};
	ssize_t k;
	while ((k = recvmsg(sock, &m, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	fds[0] = fds[1] = -1;
	struct cmsghdr *c = k > 0 ? CMSG_FIRSTHDR(&m) : NULL;
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
	    c->cmsg_len == CMSG_LEN(2 * sizeof(int)))
		memcpy(fds, CMSG_DATA(c), 2 * sizeof(int));
	return k;
}

static void serve_one(int sock, const uint8_t *p, size_t n, int in, int out,
		      const sigset_t *mask)
{
	request q;
	const char *pass[256];
	memcpy(&q, p, sizeof q);
	size_t np = 0;
	for (size_t off = sizeof q; off < n && np < q.n_pass && np < 256; np++) {
		const uint8_t *z = memchr(p + off, '\0', n - off);
		if (!z)
			break;
		pass[np] = (const char *)p + off;
		off = (size_t)(z - p) + 1;
	}
	container_limits l;
	container_limits_default(&l);
	l.max_members = q.max_members;
	l.max_member_size = q.max_member_size;
	l.max_expanded = q.max_expanded;
	l.max_ratio = q.max_ratio;
	l.ratio_floor = q.ratio_floor;
	l.tree_base = q.tree_base;
	l.tree_used = q.tree_used;
	l.passphrases = pass;
	l.n_passphrases = np;
	isolate_limits il = {q.memory, q.cpu_seconds};
	pid_t pid = q.magic == REQ_MAGIC && np == q.n_pass ? fork() : -1;
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, mask, NULL);
		child_main(in, q.probe, &l, &il, out);
	}
	close(in);
	close(out);
	say a = {pid > 0 ? SAY_STARTED : SAY_REFUSED, pid, 0};
	send_with_fds(sock, &a, sizeof a, NULL, 0);
}

/* Report every reader that has ended. */
static void reap(int sock)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		say a = {SAY_ENDED, pid, status};
		send_with_fds(sock, &a, sizeof a, NULL, 0);
	}
}

static void server_main(int sock)
{
	/* nothing of custos' but the socket: the vault's and the log's descriptors are closed */
	if (dup2(sock, 3) != 3 || close_range(4, ~0U, 0) != 0)
		_exit(2);
	close(0);
	close(1);
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	sigset_t chld, old;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	int sfd = signalfd(-1, &chld, SFD_CLOEXEC);
	size_t cap = sizeof(request) + REQ_PASS_MAX;
	uint8_t *req = malloc(cap);
	if (!req || sfd < 0)
		_exit(2);
	for (;;) {
		struct pollfd pf[2] = {{3, POLLIN, 0}, {sfd, POLLIN, 0}};
		if (poll(pf, 2, -1) < 0 && errno != EINTR)
			_exit(2);
		if (pf[1].revents) {
			struct signalfd_siginfo si;
			(void)!read(sfd, &si, sizeof si);
			reap(3);
		}
		if (!pf[0].revents)
			continue;
		int fds[2];
		ssize_t n = recv_request(3, req, cap, fds);
		if (n <= 0)
			_exit(0); /* custos closed its end; readers still running die with us */
		if (fds[0] < 0 || (size_t)n < sizeof(request)) {
			say no = {SAY_REFUSED, -1, 0};
			if (fds[0] >= 0) {
				close(fds[0]);
				close(fds[1]);
			}
			send_with_fds(3, &no, sizeof no, NULL, 0);
			continue;
		}
		serve_one(3, req, (size_t)n, fds[0], fds[1], &old);
		explicit_bzero(req, (size_t)n); /* the passphrases */
	}
}

/* The next thing the server says, or -1 when it is gone. */
static int hear(isolate_server *s, say *a)
{
	ssize_t k;
	while ((k = recv(s->sock, a, sizeof *a, 0)) < 0 && errno == EINTR)
		;
	return k == (ssize_t)sizeof *a ? 0 : -1;
}

static void keep_ended(isolate_server *s, const say *a)
{
	if (array_grow(&s->ended, &s->cap_ended, s->n_ended, sizeof *s->ended, 8) == 0)
		s->ended[s->n_ended++] = (struct ended){a->pid, a->status};
}

/* The pid of the reader just requested; -1 if the server refused or is gone. */
static pid_t hear_started(isolate_server *s)
{
	say a;
	while (hear(s, &a) == 0) {
		if (a.what == SAY_ENDED)
			keep_ended(s, &a);
		else
			return a.what == SAY_STARTED ? a.pid : -1;
	}
	return -1;
}

/* The wait status of reader pid; -1 if the server is gone. */
static int hear_ended(isolate_server *s, pid_t pid, int *status)
{
	for (size_t i = 0; i < s->n_ended; i++)
		if (s->ended[i].pid == pid) {
			*status = s->ended[i].status;
			s->ended[i] = s->ended[--s->n_ended];
			return 0;
		}
	say a;
	while (hear(s, &a) == 0) {
		if (a.what != SAY_ENDED)
			continue;
		if (a.pid == pid) {
			*status = a.status;
			return 0;
		}
		keep_ended(s, &a);
	}
	return -1;
}

int isolate_server_start(isolate_server **out)
{
	int sv[2];
	*out = NULL;
	isolate_server *s = xcalloc(1, sizeof *s);
	if (!s)
		return CUSTOS_ERROR;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		free(s);
		return custos_error_errno(CUSTOS_ERROR, "cannot make a socket for the archive readers");
	}
	fflush(NULL); /* nothing buffered is written twice */
	s->pid = fork();
	if (s->pid == 0) {
		close(sv[0]);
		server_main(sv[1]);
	}
	close(sv[1]);
	if (s->pid < 0) {
		close(sv[0]);
		free(s);
		return custos_error_errno(CUSTOS_ERROR, "cannot start the archive reader server");
	}
	s->sock = sv[0];
	*out = s;
	return 0;
}

void isolate_server_stop(isolate_server *s)
{
	if (!s)
		return;
	close(s->sock);
	while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
		;
	free(s->ended);
	free(s);
}

/* The descriptor the reader reads: the file, or the bytes put in an anonymous memory file. */
static int source_fd(const isolate_source *src)
{
	if (src->fd >= 0) {
		int fd = fcntl(src->fd, F_DUPFD_CLOEXEC, 0);
		return fd >= 0 ? fd : custos_error_errno(CUSTOS_ERROR, "cannot pass the archive on");
	}
	int fd = memfd_create("custos-archive", MFD_CLOEXEC);
	if (fd < 0)
		return custos_error_errno(CUSTOS_ERROR, "cannot make a memory file for the archive");
	size_t off = 0;
	while (off < src->n) {
		ssize_t k = write(fd, src->p + off, src->n - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			close(fd);
			return custos_error_errno(CUSTOS_ERROR, "cannot fill a memory file");
		}
		off += (size_t)k;
	}
	return fd;
}

static int send_request(isolate_server *s, const isolate_source *src, const container_limits *l,
			const isolate_limits *il, int in, int out)
{
	buf b;
	buf_init(&b, sizeof(request) + REQ_PASS_MAX);
	request q = {REQ_MAGIC, src->probe, l->max_members, l->max_member_size, l->max_expanded,
		     l->max_ratio, l->ratio_floor, l->tree_base, l->tree_used, il->memory,
		     il->cpu_seconds, (uint32_t)l->n_passphrases};
	buf_put(&b, &q, sizeof q);
	for (size_t i = 0; i < l->n_passphrases && i < 256; i++)
		buf_put(&b, l->passphrases[i], strlen(l->passphrases[i]) + 1);
	int fds[2] = {in, out};
	int rc = l->n_passphrases > 256 || buf_check(&b) < 0 ? -1
		 : send_with_fds(s->sock, b.p, b.n, fds, 2);
	if (b.p)
		explicit_bzero(b.p, b.n);
	buf_free(&b);
	return rc < 0 ? custos_error_set(CUSTOS_ERROR, "cannot reach the archive reader server") : 0;
}

int container_read_isolated(isolate_server *s, const isolate_source *src,
			    const container_limits *l, const isolate_limits *il,
			    const container_ops *ops, container_result *out)
{
	int pfd[2];
	int in = source_fd(src);
	if (in < 0)
		return in;
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		close(in);
		return custos_error_errno(CUSTOS_ERROR, "cannot make a pipe for the archive reader");
	}
	(void)fcntl(pfd[0], F_SETPIPE_SZ, 1 << 20); /* fewer wake-ups; the default still works */
	replay r;
	int rc = replay_init(&r, pfd[0], ops, out);
	if (rc == 0)
		rc = send_request(s, src, l, il, in, pfd[1]);
	close(in);
	close(pfd[1]);
	if (rc < 0) {
		close(pfd[0]);
		free(r.buf);
		return rc;
	}
	pid_t pid = hear_started(s);
	if (pid < 0) {
		close(pfd[0]);
		free(r.buf);
		return custos_error_set(CUSTOS_ERROR, "the archive reader server did not start a reader");
	}
	replay_run(&r);
	close(pfd[0]); /* a reader still writing gets EPIPE and ends */
	int status = 0;
	if (hear_ended(s, pid, &status) < 0 && !r.got_result) {
		r.broken = true;
		snprintf(r.why, sizeof r.why, "the reader server is gone");
	}
	return replay_finish(&r, status, il);
}
