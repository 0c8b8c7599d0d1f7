/*
 * isolate — run the container reader (container.h) in a child process that can do
 * nothing but read its input and write member bytes back (issue 4, "Isolation").
 *
 * The child: every descriptor closed but the input and one pipe; resource limits on
 * address space, CPU time, file size (0: it cannot grow a file), descriptors and
 * processes; no new privileges; a seccomp filter (libseccomp) that kills it on any
 * system call outside read/write on those descriptors, memory management and exit. It
 * streams begin/data/end messages and a result through the pipe; the parent checks
 * every length and token (a subverted child is just another hostile input) and replays
 * them through the caller's container_ops, so the caller cannot tell the difference.
 *
 * A child that dies is an outcome, never a crash of custos: the member in flight ends
 * "crashed" (or "limit:time", "limit:memory") and so does the container.
 *
 * Children are forked by a server process (isolate_server_start) that the caller starts
 * while it is still single-threaded: see isolate.c, "the server".
 */
#ifndef CUSTOS_ISOLATE_H
#define CUSTOS_ISOLATE_H

#include "container.h"

typedef struct isolate_limits {
	uint64_t memory;      /* the child's address space, bytes (not applied under ASan) */
	unsigned cpu_seconds; /* CPU time before the child is stopped */
} isolate_limits;

void isolate_limits_default(isolate_limits *il);

/* The container to read: an open file (from offset 0 to its end: a loose object or an
 * input file) or bytes in memory. */
typedef struct isolate_source {
	int fd; /* -1 when reading memory */
	const uint8_t *p;
	size_t n;
	/* Tests only: after confinement the child first tries one forbidden act, which the
	 * sandbox must stop (ISOLATE_PROBE_*); 0 in real use. */
	int probe;
} isolate_source;

enum {
	ISOLATE_PROBE_NONE,
	ISOLATE_PROBE_OPEN,   /* open a file by name */
	ISOLATE_PROBE_FORK,   /* start a process */
	ISOLATE_PROBE_EXEC,   /* map memory executable */
	ISOLATE_PROBE_SOCKET, /* make a socket */
	ISOLATE_PROBE_WRITE,  /* write to a descriptor other than the pipe (stdout) */
};

/* The process that starts readers: start it while the caller is still single-threaded
 * (before worker threads exist), stop it when done. */
typedef struct isolate_server isolate_server;
int isolate_server_start(isolate_server **out);
void isolate_server_stop(isolate_server *s);

/* As container_read, in a sandboxed child started by s. out->stop may also be "crashed",
 * "limit:time" or "limit:memory" (with out->detail saying what the child died of). */
int container_read_isolated(isolate_server *s, const isolate_source *src,
			    const container_limits *l, const isolate_limits *il,
			    const container_ops *ops, container_result *out);

/* The parent's side alone: replay a child's message stream read from fd, as if the child
 * had exited normally (fuzzing: everything a subverted child could send). */
int isolate_replay(int fd, const container_ops *ops, container_result *out);

#endif
