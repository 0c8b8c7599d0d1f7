/*
 * fsutil.c — see fsutil.h.
 */
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int fs_write_all(int fd, const void *p, size_t n, const char *what)
{
	const uint8_t *q = p;
	while (n > 0) {
		ssize_t w = write(fd, q, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return custos_error_errno(CUSTOS_ERROR, "cannot write %s", what);
		}
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

int fs_read_all(int fd, void *p, size_t n, size_t *got, const char *what)
{
	uint8_t *q = p;
	size_t total = 0;
	while (total < n) {
		ssize_t r = read(fd, q + total, n - total);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return custos_error_errno(CUSTOS_ERROR, "cannot read %s", what);
		}
		if (r == 0)
			break;
		total += (size_t)r;
	}
	*got = total;
	return 0;
}

int fs_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return custos_error_errno(CUSTOS_ERROR, "cannot open directory %s", dir);
	int rc = 0;
	if (fsync(fd) != 0)
		rc = custos_error_errno(CUSTOS_ERROR, "cannot fsync directory %s", dir);
	close(fd);
	return rc;
}

char *path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *p = malloc(la + lb + 2);
	if (!p) {
		custos_error_set(CUSTOS_ERROR, "out of memory");
		return NULL;
	}
	memcpy(p, a, la);
	size_t off = la;
	if (la && a[la - 1] != '/')
		p[off++] = '/';
	memcpy(p + off, b, lb + 1);
	return p;
}

char *path_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

int fs_temp_create(const char *path, int *fd, char **tmp)
{
	size_t tl = strlen(path) + 32;
	*fd = -1;
	*tmp = malloc(tl);
	if (!*tmp)
		return custos_error_set(CUSTOS_ERROR, "out of memory");
	snprintf(*tmp, tl, "%s.tmp-XXXXXX", path);
	*fd = mkostemp(*tmp, O_CLOEXEC);
	if (*fd < 0) {
		int rc = custos_error_errno(CUSTOS_ERROR, "cannot create temporary file for %s", path);
		free(*tmp);
		*tmp = NULL;
		return rc;
	}
	return 0;
}

void fs_temp_discard(int fd, char *tmp)
{
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
}

int fs_temp_publish(int fd, char *tmp, const char *path, mode_t mode, bool no_replace)
{
	int rc = 0;
	char *dir = path_dirname(path);
	if (!dir) {
		fs_temp_discard(fd, tmp);
		return CUSTOS_ERROR;
	}
	if (fchmod(fd, mode) != 0 || fsync(fd) != 0)
		rc = custos_error_errno(CUSTOS_ERROR, "cannot sync %s", path);
	close(fd);
	if (rc == 0 && no_replace && link(tmp, path) != 0)
		rc = errno == EEXIST ? custos_error_set(CUSTOS_EEXISTS, "%s already exists", path)
				     : custos_error_errno(CUSTOS_ERROR, "cannot create %s", path);
	else if (rc == 0 && !no_replace && rename(tmp, path) != 0)
		rc = custos_error_errno(CUSTOS_ERROR, "cannot rename into %s", path);
	if (rc < 0 || no_replace)
		unlink(tmp);
	free(tmp);
	if (rc == 0)
		rc = fs_fsync_dir(dir);
	free(dir);
	return rc;
}

int fs_atomic_write(const char *path, const void *data, size_t n, mode_t mode, bool no_replace)
{
	int fd;
	char *tmp;
	int rc = fs_temp_create(path, &fd, &tmp);
	if (rc < 0)
		return rc;
	if ((rc = fs_write_all(fd, data, n, path)) < 0) {
		fs_temp_discard(fd, tmp);
		return rc;
	}
	return fs_temp_publish(fd, tmp, path, mode, no_replace);
}

int fs_read_file(uint8_t **out, size_t *len, const char *path, size_t limit)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return custos_error_errno(errno == ENOENT ? CUSTOS_ENOTFOUND : CUSTOS_ERROR,
					  "cannot open %s", path);
	buf b;
	buf_init(&b, limit + 1); /* one byte past the limit tells "too large" from "exactly" */
	int rc = 0;
	for (;;) {
		size_t want = limit + 1 - b.n;
		if (want > 65536)
			want = 65536;
		if ((rc = buf_reserve(&b, want)) < 0)
			break;
		ssize_t r = read(fd, b.p + b.n, want);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = custos_error_errno(CUSTOS_ERROR, "cannot read %s", path);
			break;
		}
		if (r == 0)
			break;
		b.n += (size_t)r;
		if (b.n > limit) {
			rc = custos_error_set(CUSTOS_ELIMIT, "%s is larger than %zu bytes", path, limit);
			break;
		}
	}
	close(fd);
	if (rc < 0) {
		buf_free(&b);
		return rc;
	}
	*out = (uint8_t *)buf_steal(&b, len);
	return *out ? 0 : CUSTOS_ERROR;
}

int fs_mkdirs(const char *path, mode_t mode)
{
	char *p = xstrdup(path);
	if (!p)
		return CUSTOS_ERROR;
	int rc = 0;
	for (char *s = p + 1;; s++) {
		if (*s == '/' || *s == '\0') {
			char saved = *s;
			*s = '\0';
			if (mkdir(p, mode) != 0 && errno != EEXIST) {
				rc = custos_error_errno(CUSTOS_ERROR, "cannot create directory %s", p);
				break;
			}
			*s = saved;
			if (saved == '\0')
				break;
		}
	}
	free(p);
	return rc;
}

int custos_file_read(const char *path, size_t limit, uint8_t **out, size_t *n)
{
	return fs_read_file(out, n, path, limit);
}

int custos_file_write(const char *path, const void *p, size_t n)
{
	int rc = fs_atomic_write(path, p, n, 0644, true);
	if (rc == CUSTOS_EEXISTS)
		rc = custos_error_set(CUSTOS_EEXISTS, "%s exists; refusing to overwrite it", path);
	return rc;
}
