/*
 * pool.c — see pool.h.
 */
#include "pool.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct slot {
	void *job;
	bool needs_work, done;
	int rc;
	char err[512];
} slot;

struct pool {
	pool_ops ops;
	slot *ring;
	size_t depth;
	size_t head, claim, tail; /* head <= claim <= tail, as running counters */
	pthread_mutex_t mu;
	pthread_cond_t work_cv, done_cv;
	bool stop;
	pthread_t *threads;
	size_t n_threads;
	int first_rc;
	char first_err[512];
};

size_t pool_default_workers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	return n > 16 ? 16 : (size_t)n;
}

static void *worker_main(void *arg)
{
	pool *p = arg;
	void *ctx = p->ops.ctx_new ? p->ops.ctx_new() : NULL;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && p->claim == p->tail)
			pthread_cond_wait(&p->work_cv, &p->mu);
		if (p->claim == p->tail)
			break; /* stopping and nothing left */
		slot *s = &p->ring[p->claim++ % p->depth];
		if (!s->needs_work)
			continue; /* already done: it only holds its place in the order */
		pthread_mutex_unlock(&p->mu);
		int rc = ctx || !p->ops.ctx_new ? p->ops.work(s->job, ctx)
						 : custos_error_set(CUSTOS_ERROR, "worker setup failed");
		pthread_mutex_lock(&p->mu);
		s->rc = rc;
		if (rc < 0)
			snprintf(s->err, sizeof s->err, "%s", custos_error_last());
		s->done = true;
		pthread_cond_broadcast(&p->done_cv);
	}
	pthread_mutex_unlock(&p->mu);
	if (ctx && p->ops.ctx_free)
		p->ops.ctx_free(ctx);
	return NULL;
}

int pool_start(pool **out, size_t workers, size_t depth, const pool_ops *ops)
{
	pool *p = xcalloc(1, sizeof *p);
	if (!p)
		return CUSTOS_ERROR;
	p->ops = *ops;
	p->depth = depth;
	p->ring = xcalloc(depth, sizeof *p->ring);
	p->threads = xcalloc(workers, sizeof *p->threads);
	if (!p->ring || !p->threads) {
		free(p->ring);
		free(p->threads);
		free(p);
		return CUSTOS_ERROR;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work_cv, NULL);
	pthread_cond_init(&p->done_cv, NULL);
	for (; p->n_threads < workers; p->n_threads++)
		if (pthread_create(&p->threads[p->n_threads], NULL, worker_main, p) != 0)
			break;
	if (p->n_threads == 0) {
		pool_abort(p, NULL);
		return custos_error_set(CUSTOS_ERROR, "cannot start worker threads");
	}
	*out = p;
	return 0;
}

/* Finish the job at the head if it is done (or wait for it when `wait`). Called with the
 * lock held; drops it around the done() callback. Returns 1 if a job was finished. */
static int finish_head(pool *p, bool wait)
{
	if (p->head == p->tail)
		return 0;
	slot *s = &p->ring[p->head % p->depth];
	while (!s->done) {
		if (!wait)
			return 0;
		pthread_cond_wait(&p->done_cv, &p->mu);
	}
	p->head++;
	/* Slots the workers have not reached yet but that are already finished can only be
	 * no-work slots; never let a worker claim a slot after it has been reused. */
	if (p->claim < p->head)
		p->claim = p->head;
	pthread_mutex_unlock(&p->mu);
	int rc = s->rc;
	if (rc < 0)
		custos_error_set(rc, "%s", s->err);
	else
		rc = p->ops.done(s->job, p->ops.ud);
	pthread_mutex_lock(&p->mu);
	if (rc < 0 && p->first_rc == 0) {
		p->first_rc = rc;
		snprintf(p->first_err, sizeof p->first_err, "%s", custos_error_last());
	}
	return 1;
}

int pool_submit(pool *p, void *job, bool needs_work)
{
	pthread_mutex_lock(&p->mu);
	while (p->tail - p->head == p->depth)
		finish_head(p, true);
	slot *s = &p->ring[p->tail % p->depth];
	*s = (slot){.job = job, .needs_work = needs_work, .done = !needs_work};
	p->tail++;
	pthread_cond_signal(&p->work_cv);
	while (finish_head(p, false) == 1)
		;
	int rc = p->first_rc;
	pthread_mutex_unlock(&p->mu);
	if (rc < 0)
		custos_error_set(rc, "%s", p->first_err);
	return rc;
}

static void join_all(pool *p)
{
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->work_cv);
	pthread_mutex_unlock(&p->mu);
	for (size_t i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
}

static void pool_free(pool *p)
{
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work_cv);
	pthread_cond_destroy(&p->done_cv);
	free(p->ring);
	free(p->threads);
	free(p);
}

int pool_finish(pool *p)
{
	pthread_mutex_lock(&p->mu);
	while (finish_head(p, true) == 1)
		;
	int rc = p->first_rc;
	char err[512];
	snprintf(err, sizeof err, "%s", p->first_err);
	pthread_mutex_unlock(&p->mu);
	join_all(p);
	pool_free(p);
	if (rc < 0)
		custos_error_set(rc, "%s", err);
	return rc;
}

void pool_abort(pool *p, void (*discard)(void *job))
{
	if (!p)
		return;
	join_all(p); /* workers finish what they claimed, then exit */
	for (size_t i = p->head; i < p->tail; i++)
		if (discard)
			discard(p->ring[i % p->depth].job);
	pool_free(p);
}
