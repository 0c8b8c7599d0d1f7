/* test_index.c — the derived index: lookups by prefix across many merged runs, events,
 * packed objects, persistence across reopen. */
#include "fsutil.h"
#include "harness.h"
#include "index.h"

#include <stdlib.h>

typedef struct hits {
	size_t n;
	index_item last;
} hits;

static int count_cb(const index_item *it, void *ud)
{
	hits *h = ud;
	h->n++;
	h->last = *it;
	return 0;
}

static void make_item(index_item *it, uint64_t i)
{
	uint64_t st = i * 2654435761u + 1;
	test_random(it->sha256, 32, &st);
	test_random(it->id, 16, &st);
	it->seq = i / 100 + 1;
}

int main(void)
{
	test_init();
	char *dir = path_join(test_tmpdir(), "index");
	vindex *ix = NULL;
	CHECK_RC(index_open(&ix, dir), 0);
	CHECK(index_event_count(ix) == 0);
	/* 40 updates of 100 items each: runs get merged along the way. */
	enum { BATCHES = 40, PER = 100 };
	index_item items[PER];
	for (uint64_t b = 0; b < BATCHES; b++) {
		index_event ev;
		memset(&ev, (int)b, sizeof ev);
		for (uint64_t i = 0; i < PER; i++)
			make_item(&items[i], b * PER + i);
		store_packed pk = {0};
		memcpy(pk.sha256, items[0].sha256, 32);
		memset(pk.pack, (int)(b % 3), 32);
		pk.offset = b * 512;
		pk.length = b;
		index_update u = {.events = &ev, .n_events = 1, .items = items, .n_items = PER,
				  .packed = &pk, .n_packed = 1};
		memset(u.head, (int)b, 20);
		CHECK_RC(index_apply(ix, &u), 0);
	}
	CHECK(index_item_count(ix) == BATCHES * PER);
	CHECK(index_event_count(ix) == BATCHES);
	for (int reopen = 0; reopen < 2; reopen++) {
		for (uint64_t i = 0; i < BATCHES * PER; i += 37) {
			index_item want;
			make_item(&want, i);
			char hex[65];
			hits h = {0};
			custos_hex(hex, want.sha256, 32);
			CHECK_RC(index_items_by_sha(ix, hex, count_cb, &h), 0);
			CHECK(h.n == 1 && memcmp(h.last.id, want.id, 16) == 0 && h.last.seq == want.seq);
			hits p = {0};
			hex[9] = '\0'; /* an odd-length prefix */
			CHECK_RC(index_items_by_sha(ix, hex, count_cb, &p), 0);
			CHECK(p.n >= 1);
			custos_hex(hex, want.id, 16);
			hits d = {0};
			CHECK_RC(index_items_by_id(ix, hex, count_cb, &d), 0);
			CHECK(d.n == 1 && memcmp(d.last.sha256, want.sha256, 32) == 0);
		}
		hits none = {0};
		CHECK_RC(index_items_by_sha(ix, "", count_cb, &none), CUSTOS_EINVALID);
		CHECK_RC(index_items_by_sha(ix, "ABCD", count_cb, &none), CUSTOS_EINVALID);
		index_event ev;
		CHECK_RC(index_event_get(ix, 7, &ev), 0);
		CHECK(ev.commit[0] == 7 && ev.event_sha[31] == 7);
		CHECK_RC(index_event_get(ix, BATCHES, &ev), CUSTOS_ENOTFOUND);
		index_item first;
		make_item(&first, 5 * PER);
		store_packed loc;
		CHECK_RC(index_find_packed(ix, first.sha256, &loc), 0);
		CHECK(loc.offset == 5 * 512 && loc.length == 5 && loc.pack[0] == 5 % 3);
		uint8_t absent[32] = {0};
		CHECK_RC(index_find_packed(ix, absent, &loc), CUSTOS_ENOTFOUND);
		uint8_t head[20];
		index_head(ix, head);
		CHECK(head[0] == BATCHES - 1);
		index_close(ix);
		ix = NULL;
		CHECK_RC(index_open(&ix, dir), 0);
	}
	CHECK_RC(index_reset(ix), 0);
	CHECK(index_item_count(ix) == 0 && index_event_count(ix) == 0);
	index_close(ix);
	free(dir);
	return test_finish("index");
}
