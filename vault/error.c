/*
 * error.c — one thread-local error message, set where a failure happens and read by the
 * caller (libgit2's model). Callers propagate codes; they wrap to add context, never
 * overwrite.
 */
#include "common.h"

#include <errno.h>
#include <stdio.h>

static _Thread_local char last_error[1024];

const char *custos_error_last(void)
{
	return last_error;
}

void custos_error_clear(void)
{
	last_error[0] = '\0';
}

static void error_vset(const char *fmt, va_list ap)
{
	vsnprintf(last_error, sizeof last_error, fmt, ap);
}

int custos_error_set(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	error_vset(fmt, ap);
	va_end(ap);
	return code;
}

int custos_error_errno(int code, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	error_vset(fmt, ap);
	va_end(ap);
	size_t len = strlen(last_error);
	snprintf(last_error + len, sizeof last_error - len, ": %s", strerror(saved));
	errno = saved;
	return code;
}

int custos_error_wrap(int code, const char *fmt, ...)
{
	char prefix[512], old[sizeof last_error];
	memcpy(old, last_error, sizeof old);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	/* "prefix: old", truncated to fit. */
	size_t pos = strlen(prefix);
	memcpy(last_error, prefix, pos + 1);
	if (old[0] && pos + 2 < sizeof last_error) {
		size_t ol = strlen(old), room = sizeof last_error - 1 - pos - 2;
		if (ol > room)
			ol = room;
		memcpy(last_error + pos, ": ", 2);
		memcpy(last_error + pos + 2, old, ol);
		last_error[pos + 2 + ol] = '\0';
	}
	return code;
}

int custos_error_corrupt(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	error_vset(fmt, ap);
	va_end(ap);
	/* The detection point helps a maintainer; a user reads the message first. */
	size_t len = strlen(last_error);
	const char *base = strrchr(file, '/');
	snprintf(last_error + len, sizeof last_error - len, " [%s:%d]", base ? base + 1 : file,
		 line);
	return CUSTOS_EINTEGRITY;
}

void problem_emit(void (*on_problem)(const custos_problem *p, void *ud), void *ud,
		  const char *kind, const char *where, const char *fmt, va_list ap)
{
	char detail[1024];
	vsnprintf(detail, sizeof detail, fmt, ap);
	if (on_problem) {
		custos_problem p = {kind, where, detail};
		on_problem(&p, ud);
	}
}

void problem_report(problem_fn on_problem, void *ud, uint64_t *problems, const char *kind,
		    const char *where, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	(*problems)++;
	problem_emit(on_problem, ud, kind, where, fmt, ap);
	va_end(ap);
}
