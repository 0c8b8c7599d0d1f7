/*
 * fsutil — crash-safe file writing and bounded reading. An atomic write is: a temp file in
 * the destination's directory, write, fsync, rename into place (or link, when the name must
 * not be replaced), fsync of the directory. A crash at any instant leaves either the old
 * state or the new one, never a half-written file under the final name.
 */
#ifndef CUSTOS_FSUTIL_H
#define CUSTOS_FSUTIL_H

#include "common.h"

#include <sys/types.h>

int fs_write_all(int fd, const void *p, size_t n, const char *what);
int fs_read_all(int fd, void *p, size_t n, size_t *got, const char *what);
int fs_fsync_dir(const char *dir);
/* Write data to path atomically. With no_replace, fails with CUSTOS_EEXISTS if path exists. */
int fs_atomic_write(const char *path, const void *data, size_t n, mode_t mode, bool no_replace);
/* The same in steps, for files written as a stream: a temp file next to path (*tmp
 * malloc'd), then publish (fchmod, fsync, link or rename, fsync of the directory; takes
 * fd and tmp over) or discard (close, unlink, free). */
int fs_temp_create(const char *path, int *fd, char **tmp);
int fs_temp_publish(int fd, char *tmp, const char *path, mode_t mode, bool no_replace);
void fs_temp_discard(int fd, char *tmp);
/* Read a whole file of at most limit bytes. *out is malloc'd and NUL-terminated. */
int fs_read_file(uint8_t **out, size_t *len, const char *path, size_t limit);
int fs_mkdirs(const char *path, mode_t mode);
/* malloc'd "a/b" */
char *path_join(const char *a, const char *b);
/* Directory part of path, malloc'd ("." if none). */
char *path_dirname(const char *path);

#endif
