/*
 * bgwrite.c — see bgwrite.h.
 */
#include "bgwrite.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BG_NBUF 4
#define BG_BUFSZ ((size_t)2 << 20)
#define BG_ALIGN ((size_t)4096)    /* direct I/O: offsets, lengths and memory */
#define BG_HOLE ((size_t)64 << 10) /* zero runs of this granularity become holes */
/* Ask for a flush to stable storage every so often, on a third thread, while the writer
 * goes on writing and the caller hashing: otherwise the device cache (on a VM, the host's
 * page cache) absorbs the whole file and the final fsync waits for all of it at once. */
#define BG_SYNC_EVERY ((uint64_t)64 << 20)

struct bgwrite {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	int fd;
	bool direct;
	char *path;
	uint8_t *buf[BG_NBUF];
	size_t len[BG_NBUF];
	/* Buffers queued for the writer are the counters tail .. head-1 (mod BG_NBUF); the
	 * caller fills buffer head once it is free (head - tail < BG_NBUF). */
	size_t head, tail;
	size_t fill; /* bytes the caller has put in buffer head */
	bool closing, cancel;
	uint64_t size; /* bytes the writer has placed, holes included */
	uint64_t unsynced; /* bytes written since the last fdatasync */
	bool sync_wanted, sync_stop; /* to the syncer thread */
	int sync_errno;              /* its first failure: sticky, as fsync errors are seen once */
	pthread_t syncer;
	int err;
	char msg[512];
};

/* ------------------------------------------------------------ writer thread */

static void drop_direct(bgwrite *w)
{
	int fl = fcntl(w->fd, F_GETFL);
	if (fl >= 0)
		fcntl(w->fd, F_SETFL, fl & ~O_DIRECT);
	w->direct = false;
}

static int fail(bgwrite *w, const char *what)
{
	snprintf(w->msg, sizeof w->msg, "cannot %s %s: %s", what, w->path, strerror(errno));
	return -1;
}

static int write_run(bgwrite *w, const uint8_t *p, size_t n)
{
	if (w->direct && n % BG_ALIGN != 0)
		drop_direct(w); /* a last partial block */
	while (n > 0) {
		ssize_t r = write(w->fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EINVAL && w->direct) {
			drop_direct(w); /* this file system takes no direct I/O after all */
			continue;
		}
		if (r < 0)
			return fail(w, "write");
		if ((size_t)r < n && w->direct)
			drop_direct(w); /* what is left may no longer be aligned */
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static bool zero_run(const uint8_t *p, size_t n)
{
	return p[0] == 0 && memcmp(p, p + 1, n - 1) == 0;
}

/* Write one buffer: whole BG_HOLE segments of zeros are skipped (a hole), the rest is
 * written in as few calls as possible. */
static int write_buffer(bgwrite *w, const uint8_t *p, size_t n)
{
	size_t off = 0;
	while (off < n) {
		size_t seg = n - off < BG_HOLE ? n - off : BG_HOLE;
		if (seg == BG_HOLE && zero_run(p + off, seg)) {
			if (lseek(w->fd, (off_t)seg, SEEK_CUR) < 0)
				return fail(w, "seek in");
			off += seg;
			continue;
		}
		size_t end = off + seg;
		while (end < n && !(n - end >= BG_HOLE && zero_run(p + end, BG_HOLE)))
			end += n - end < BG_HOLE ? n - end : BG_HOLE;
		if (write_run(w, p + off, end - off) < 0)
			return -1;
		w->unsynced += end - off;
		off = end;
	}
	w->size += n;
	if (w->unsynced >= BG_SYNC_EVERY) {
		pthread_mutex_lock(&w->mu);
		w->sync_wanted = true;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		w->unsynced = 0;
	}
	return 0;
}

static void *writer_main(void *arg)
{
	bgwrite *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->tail == w->head && !w->closing && !w->cancel)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->cancel || w->tail == w->head)
			break;
		size_t i = w->tail % BG_NBUF;
		pthread_mutex_unlock(&w->mu);
		int rc = write_buffer(w, w->buf[i], w->len[i]);
		pthread_mutex_lock(&w->mu);
		if (rc < 0) {
			w->err = CUSTOS_ERROR;
			pthread_cond_broadcast(&w->cv);
			break;
		}
		w->tail++;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static void *syncer_main(void *arg)
{
	bgwrite *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->sync_wanted && !w->sync_stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->sync_stop)
			break;
		w->sync_wanted = false;
		pthread_mutex_unlock(&w->mu);
		int e = fdatasync(w->fd) == 0 ? 0 : errno;
		pthread_mutex_lock(&w->mu);
		if (e && !w->sync_errno)
			w->sync_errno = e;
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static void stop_syncer(bgwrite *w)
{
	pthread_mutex_lock(&w->mu);
	w->sync_stop = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->syncer, NULL);
}

/* ------------------------------------------------------------ caller side */

static void bg_free(bgwrite *w)
{
	for (size_t i = 0; i < BG_NBUF; i++)
		free(w->buf[i]);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w->path);
	free(w);
}

int bgwrite_start(bgwrite **out, int fd, const char *path)
{
	bgwrite *w = xcalloc(1, sizeof *w);
	if (!w)
		return CUSTOS_ERROR;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->fd = fd;
	w->path = xstrdup(path);
	bool ok = w->path != NULL;
	for (size_t i = 0; ok && i < BG_NBUF; i++)
		ok = posix_memalign((void **)&w->buf[i], BG_ALIGN, BG_BUFSZ) == 0;
	if (!ok) {
		bg_free(w);
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	}
	int fl = fcntl(fd, F_GETFL);
	w->direct = fl >= 0 && fcntl(fd, F_SETFL, fl | O_DIRECT) == 0;
	if (pthread_create(&w->syncer, NULL, syncer_main, w) != 0) {
		bg_free(w);
		return custos_error_set(CUSTOS_ERROR, "cannot start a sync thread for %s", path);
	}
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
		stop_syncer(w);
		bg_free(w);
		return custos_error_set(CUSTOS_ERROR, "cannot start a writer thread for %s", path);
	}
	*out = w;
	return 0;
}

/* Called with the lock held. */
static int writer_error(bgwrite *w)
{
	return w->err ? custos_error_set(w->err, "%s", w->msg) : 0;
}

int bgwrite_space(bgwrite *w, uint8_t **p, size_t *room)
{
	pthread_mutex_lock(&w->mu);
	while (w->head - w->tail >= BG_NBUF && !w->err)
		pthread_cond_wait(&w->cv, &w->mu);
	int rc = writer_error(w);
	pthread_mutex_unlock(&w->mu);
	*p = w->buf[w->head % BG_NBUF] + w->fill;
	*room = BG_BUFSZ - w->fill;
	return rc;
}

static void queue_current(bgwrite *w)
{
	w->len[w->head % BG_NBUF] = w->fill;
	w->head++;
	w->fill = 0;
	pthread_cond_broadcast(&w->cv);
}

int bgwrite_advance(bgwrite *w, size_t n)
{
	w->fill += n;
	pthread_mutex_lock(&w->mu);
	if (w->fill == BG_BUFSZ)
		queue_current(w);
	int rc = writer_error(w);
	pthread_mutex_unlock(&w->mu);
	return rc;
}

int bgwrite_finish(bgwrite *w, uint64_t *size)
{
	pthread_mutex_lock(&w->mu);
	if (w->fill > 0 && !w->err)
		queue_current(w);
	w->closing = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	stop_syncer(w);
	int rc = writer_error(w);
	if (rc == 0 && w->sync_errno)
		rc = custos_error_set(CUSTOS_ERROR, "cannot sync %s: %s", w->path,
				      strerror(w->sync_errno));
	*size = w->size;
	bg_free(w);
	return rc;
}

void bgwrite_cancel(bgwrite *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->cancel = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	stop_syncer(w);
	bg_free(w);
}
