/* fuzz_container.c — the container reader (vault/container.c) on hostile bytes: it never
 * crashes, every member it begins it ends, and limits hold (tight ones here, so that a
 * mutated bomb stays cheap). */
#include "container.h"
#include "intake.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct state {
	uint64_t begun, ended, bytes, member_bytes;
	bool open;
} state;

static int f_begin(const container_member *m, void *ud)
{
	state *s = ud;
	if (s->open || m->index != s->begun)
		abort();
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
	return 0;
}

static int f_end(const container_member *m, const char *outcome, const char *detail, void *ud)
{
	(void)m;
	(void)detail;
	state *s = ud;
	if (!s->open || !outcome)
		abort();
	s->open = false;
	s->ended++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	container_limits l;
	container_limits_default(&l);
	l.max_members = 1000;
	l.max_member_size = (uint64_t)16 << 20;
	l.max_expanded = (uint64_t)64 << 20;
	l.max_ratio = 200;
	l.ratio_floor = (uint64_t)1 << 20;
	state s = {0};
	container_ops ops = {f_begin, f_data, f_end, &s};
	container_result r;
	int rc = container_read_memory(data, size, &l, &ops, &r);
	if (rc == 0 && (s.begun != s.ended || s.begun != r.members || s.bytes > r.expanded))
		abort();
	/* a limit may be passed by at most one block of the member that passed it */
	if (r.expanded > l.max_expanded + (1u << 20) || r.members > l.max_members)
		abort();
	(void)unpack_looks_like_container(data, size);
	return 0;
}
