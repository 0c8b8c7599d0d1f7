/* fuzz_isolate.c — the parent's side of the sandboxed archive reader (vault/isolate.c):
 * whatever a subverted reader child sends, custos never crashes, ends every member it
 * begins exactly once, never delivers data outside a file member, and takes only tokens
 * it knows. */
#include "isolate.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct state {
	uint64_t begun, ended;
	bool open, is_file;
} state;

static int f_begin(const container_member *m, void *ud)
{
	state *s = ud;
	if (s->open || m->index != s->begun || m->type > MEMBER_OTHER || m->mode > 07777 ||
	    (m->path_len && !m->path))
		abort();
	s->open = true;
	s->is_file = m->type == MEMBER_FILE;
	s->begun++;
	return 0;
}

static int f_data(const uint8_t *p, size_t n, void *ud)
{
	state *s = ud;
	if (!s->open || !s->is_file || !p || n == 0)
		abort();
	return 0;
}

static int f_end(const container_member *m, const char *outcome, const char *detail, void *ud)
{
	(void)m;
	(void)detail;
	state *s = ud;
	if (!s->open || !outcome || !outcome[0])
		abort();
	s->open = false;
	s->ended++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("wire", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	lseek(fd, 0, SEEK_SET);
	state s = {0};
	container_ops ops = {f_begin, f_data, f_end, &s};
	container_result r;
	int rc = isolate_replay(fd, &ops, &r);
	close(fd);
	if (rc == 0 && (s.open || s.begun != s.ended || r.members != s.begun))
		abort();
	return 0;
}
