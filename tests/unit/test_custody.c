/* test_custody.c — the git custody log: signed commits that read back with their trees,
 * SSH signatures that verify over exactly the signed data, linear walks. */
#include "custody.h"
#include "fsutil.h"
#include "harness.h"
#include "keys.h"
#include "sshsig.h"

#include <stdlib.h>

static int collect_cb(const uint8_t oid[20], void *ud)
{
	uint8_t(*list)[20] = ud;
	static int n;
	memcpy(list[n++ % 8], oid, 20);
	return 0;
}

int main(void)
{
	test_init();
	char *git = path_join(test_tmpdir(), "custody.git");
	custos_key *k = NULL;
	custody *c = NULL;
	CHECK_RC(custos_key_generate(&k), 0);
	CHECK_RC(custody_create(git), 0);
	CHECK_RC(custody_open(&c, git, true), 0);
	uint8_t head[20], first[20], second[20];
	CHECK_RC(custody_head(c, head), CUSTOS_ENOTFOUND);
	custody_txn *t = NULL;
	CHECK_RC(custody_txn_begin(&t, c), 0);
	CHECK_RC(custody_txn_commit(t, k, (uint8_t *)"ev0\n", 4, (uint8_t *)"sig0\n", 5, "zero\n", 1000,
				    NULL, first),
		 0);
	CHECK_RC(custody_txn_begin(&t, c), 0);
	char id[33] = "0123456789abcdef0123456789abcdef";
	CHECK_RC(custody_txn_add_item(t, id, (uint8_t *)"rec\n", 4, (uint8_t *)"rsig\n", 5), 0);
	CHECK_RC(custody_txn_commit(t, k, (uint8_t *)"ev1\n", 4, (uint8_t *)"sig1\n", 5, "one\n", 2000,
				    first, second),
		 0);
	/* A stale parent is refused: the head moves by compare-and-swap only. */
	uint8_t third[20];
	CHECK_RC(custody_txn_begin(&t, c), 0);
	CHECK(custody_txn_commit(t, k, (uint8_t *)"ev2\n", 4, (uint8_t *)"s\n", 2, "x\n", 3000, first,
				 third) < 0);
	CHECK_RC(custody_head(c, head), 0);
	CHECK(memcmp(head, second, 20) == 0);

	custody_commit cc;
	CHECK_RC(custody_read_commit(c, second, &cc), 0);
	CHECK(cc.event_len == 4 && memcmp(cc.event, "ev1\n", 4) == 0);
	CHECK(cc.n_parents == 1 && memcmp(cc.parent, first, 20) == 0 && cc.time == 2000);
	CHECK(cc.n_item_entries == 2 && cc.n_extra == 0);
	custos_pubkey signer;
	CHECK(cc.gpgsig != NULL);
	CHECK_RC(sshsig_verify(&signer, cc.gpgsig, cc.gpgsig_len, "git", cc.signed_data, cc.signed_len), 0);
	CHECK(pubkey_equal(&signer, custos_key_public(k)));
	/* The signed data is the commit without its signature header. */
	CHECK(strstr((char *)cc.signed_data, "gpgsig") == NULL);
	CHECK(strstr((char *)cc.signed_data, "committer custos custodian") != NULL);
	cc.signed_data[cc.signed_len - 2] ^= 1;
	CHECK_RC(sshsig_verify(&signer, cc.gpgsig, cc.gpgsig_len, "git", cc.signed_data, cc.signed_len),
		 CUSTOS_EINTEGRITY);
	custody_commit_clear(&cc);
	uint8_t *rec = NULL, *sig = NULL;
	size_t rn, sn;
	CHECK_RC(custody_read_item(c, second, id, &rec, &rn, &sig, &sn), 0);
	CHECK(rn == 4 && memcmp(rec, "rec\n", 4) == 0 && sn == 5);
	free(rec);
	free(sig);
	char other[33] = "ffffffffffffffffffffffffffffffff";
	CHECK_RC(custody_read_item(c, second, other, &rec, &rn, &sig, &sn), CUSTOS_ENOTFOUND);
	uint8_t list[8][20];
	CHECK_RC(custody_walk(c, head, collect_cb, list), 0);
	CHECK(memcmp(list[0], first, 20) == 0 && memcmp(list[1], second, 20) == 0);
	int64_t tm;
	CHECK_RC(custody_commit_time(c, first, &tm), 0);
	CHECK(tm == 1000);
	custody_close(c);
	custos_key_free(k);
	free(git);
	return test_finish("custody");
}
