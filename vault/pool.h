/*
 * pool — an ordered worker pool. The submitting thread hands jobs in; worker threads run
 * the CPU-heavy part (libmagic classification, record encoding and signing); the submitting
 * thread then finishes each job strictly in submission order (adding it to the custody
 * commit, reporting its outcome), so the parallelism never changes what gets recorded or
 * in which order. At most `depth` jobs are in flight, which bounds memory.
 */
#ifndef CUSTOS_POOL_H
#define CUSTOS_POOL_H

#include "common.h"

typedef struct pool pool;

typedef struct pool_ops {
	void *(*ctx_new)(void);               /* one per worker (e.g. a libmagic handle) */
	void (*ctx_free)(void *ctx);
	int (*work)(void *job, void *ctx);    /* on a worker thread */
	int (*done)(void *job, void *ud);     /* on the submitting thread, in order */
	void *ud;
} pool_ops;

int pool_start(pool **out, size_t workers, size_t depth, const pool_ops *ops);
/* Queue a job; when needs_work is false it skips the workers but keeps its place in the
 * order. May block while the pool is full, finishing earlier jobs meanwhile. */
int pool_submit(pool *p, void *job, bool needs_work);
/* Finish every queued job and stop the workers. The first error of any work or done call
 * is returned (with its message). */
int pool_finish(pool *p);
/* Stop without finishing (after an error); queued jobs are passed to done() never, and to
 * `discard` instead. */
void pool_abort(pool *p, void (*discard)(void *job));
size_t pool_default_workers(void);

#endif
