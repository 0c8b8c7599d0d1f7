/*
 * merkle.c — see merkle.h. Hashing uses libsodium's streaming SHA-256: it never fails and
 * allocates nothing, which suits millions of 65-byte node hashes.
 */
#include "merkle.h"

#include "fsutil.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------ hashing (RFC 9162 §2.1.1) */

void merkle_leaf_hash(merkle_hash out, const uint8_t *data, size_t n)
{
	static const uint8_t prefix = 0x00;
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &prefix, 1);
	crypto_hash_sha256_update(&st, data, n);
	crypto_hash_sha256_final(&st, out);
}

void merkle_node_hash(merkle_hash out, const merkle_hash left, const merkle_hash right)
{
	uint8_t in[1 + 2 * MERKLE_HASH];
	in[0] = 0x01;
	memcpy(in + 1, left, MERKLE_HASH);
	memcpy(in + 1 + MERKLE_HASH, right, MERKLE_HASH);
	crypto_hash_sha256(out, in, sizeof in);
}

void merkle_empty_root(merkle_hash out)
{
	crypto_hash_sha256(out, (const uint8_t *)"", 0);
}

/* The largest power of two smaller than n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
	uint64_t k = 1;
	while (k << 1 < n)
		k <<= 1;
	return k;
}

/* ------------------------------------------------------------ verification */

static bool is_hash(merkle_bytes b)
{
	return b.p && b.n == MERKLE_HASH;
}

static int proof_hashes_ok(const merkle_bytes *proof, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_hash(proof[i]))
			return custos_error_set(CUSTOS_EINTEGRITY,
						"proof hash %zu is %zu bytes, not 32", i, proof[i].n);
	return 0;
}

/* RFC 9162 §2.1.3.2 */
int merkle_verify_inclusion(uint64_t index, uint64_t size, merkle_bytes leaf,
			    const merkle_bytes *proof, size_t n, merkle_bytes root)
{
	if (!is_hash(leaf) || !is_hash(root))
		return custos_error_set(CUSTOS_EINTEGRITY, "a leaf or root hash is not 32 bytes");
	if (index >= size)
		return custos_error_set(CUSTOS_EINTEGRITY,
					"leaf index %" PRIu64 " is outside a tree of %" PRIu64, index,
					size);
	int rc = proof_hashes_ok(proof, n);
	if (rc < 0)
		return rc;
	uint64_t fn = index, sn = size - 1;
	merkle_hash r;
	memcpy(r, leaf.p, MERKLE_HASH);
	for (size_t i = 0; i < n; i++) {
		if (sn == 0)
			return custos_error_set(CUSTOS_EINTEGRITY, "inclusion proof is too long");
		if ((fn & 1) || fn == sn) {
			merkle_node_hash(r, proof[i].p, r);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			merkle_node_hash(r, r, proof[i].p);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return custos_error_set(CUSTOS_EINTEGRITY, "inclusion proof is too short");
	if (sodium_memcmp(r, root.p, MERKLE_HASH) != 0)
		return custos_error_set(CUSTOS_EINTEGRITY,
					"inclusion proof does not lead to the root");
	return 0;
}

/* RFC 9162 §2.1.4.2, for 1 <= size1 < size2 */
static int consistency_path(uint64_t size1, uint64_t size2, merkle_bytes root1,
			    merkle_bytes root2, const merkle_bytes *proof, size_t n)
{
	if (n == 0)
		return custos_error_set(CUSTOS_EINTEGRITY, "consistency proof is empty");
	/* When size1 is a power of two its root is the first element of the path. */
	bool pow2 = (size1 & (size1 - 1)) == 0;
	const uint8_t *first = pow2 ? root1.p : proof[0].p;
	size_t next = pow2 ? 0 : 1;
	uint64_t fn = size1 - 1, sn = size2 - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	merkle_hash fr, sr;
	memcpy(fr, first, MERKLE_HASH);
	memcpy(sr, first, MERKLE_HASH);
	for (size_t i = next; i < n; i++) {
		if (sn == 0)
			return custos_error_set(CUSTOS_EINTEGRITY, "consistency proof is too long");
		const uint8_t *c = proof[i].p;
		if ((fn & 1) || fn == sn) {
			merkle_node_hash(fr, c, fr);
			merkle_node_hash(sr, c, sr);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			merkle_node_hash(sr, sr, c);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return custos_error_set(CUSTOS_EINTEGRITY, "consistency proof is too short");
	if (sodium_memcmp(fr, root1.p, MERKLE_HASH) != 0)
		return custos_error_set(CUSTOS_EINTEGRITY,
					"consistency proof does not lead to the old root");
	if (sodium_memcmp(sr, root2.p, MERKLE_HASH) != 0)
		return custos_error_set(CUSTOS_EINTEGRITY,
					"consistency proof does not lead to the new root");
	return 0;
}

int merkle_verify_consistency(uint64_t size1, uint64_t size2, merkle_bytes root1,
			      merkle_bytes root2, const merkle_bytes *proof, size_t n)
{
	if (size1 == 0)
		return custos_error_set(CUSTOS_EINTEGRITY,
					"consistency with an empty tree proves nothing");
	if (size1 > size2)
		return custos_error_set(CUSTOS_EINTEGRITY,
					"the old tree (%" PRIu64 ") is larger than the new (%" PRIu64 ")",
					size1, size2);
	if (size1 == size2) {
		/* The same tree: nothing to prove but that the two roots are one byte string
		 * (whatever its length, as the reference implementation has it). */
		if (n != 0)
			return custos_error_set(CUSTOS_EINTEGRITY,
						"trees of the same size need an empty proof");
		if (root1.n != root2.n || (root1.n && memcmp(root1.p, root2.p, root1.n) != 0))
			return custos_error_set(CUSTOS_EINTEGRITY,
						"two trees of %" PRIu64 " leaves with different roots",
						size1);
		return 0;
	}
	if (!is_hash(root1) || !is_hash(root2))
		return custos_error_set(CUSTOS_EINTEGRITY, "a root hash is not 32 bytes");
	int rc = proof_hashes_ok(proof, n);
	return rc < 0 ? rc : consistency_path(size1, size2, root1, root2, proof, n);
}

/* ------------------------------------------------------------ the store */

#define WBUF_NODES 2048

struct merkle_log {
	int fd;
	char *path;
	uint64_t leaves;
	/* The right edge: peaks[h] is the complete subtree of 2^h leaves that bit h of
	 * `leaves` stands for; appending pairs a new leaf with them. */
	merkle_hash peaks[64];
	/* Appended nodes not yet written: positions nodes_written .. + wlen. */
	uint64_t nodes_written;
	merkle_hash *wbuf;
	size_t wlen;
	bool writable;
};

static uint64_t node_count(uint64_t leaves)
{
	return 2 * leaves - (uint64_t)__builtin_popcountll(leaves);
}

/* Post-order position of the complete subtree of 2^h leaves starting at leaf k * 2^h: it
 * is written right after its last leaf, m - 1 (m = (k + 1) * 2^h), which completes the
 * subtrees of levels 1 .. ctz(m), in that order. */
static uint64_t node_pos(unsigned h, uint64_t k)
{
	uint64_t m = (k + 1) << h;
	return node_count(m) - 1 - ((uint64_t)__builtin_ctzll(m) - h);
}

static int read_node(merkle_log *l, uint64_t pos, merkle_hash out)
{
	if (pos >= l->nodes_written) {
		memcpy(out, l->wbuf[pos - l->nodes_written], MERKLE_HASH);
		return 0;
	}
	ssize_t r = pread(l->fd, out, MERKLE_HASH, (off_t)(pos * MERKLE_HASH));
	if (r == MERKLE_HASH)
		return 0;
	if (r < 0)
		return custos_error_errno(CUSTOS_ERROR, "cannot read %s", l->path);
	return custos_error_set(CUSTOS_EINTEGRITY, "%s is truncated", l->path);
}

static int load_peaks(merkle_log *l)
{
	uint64_t start = 0;
	for (int h = 63; h >= 0; h--) {
		if (!(l->leaves >> h & 1))
			continue;
		int rc = read_node(l, node_pos((unsigned)h, start >> h), l->peaks[h]);
		if (rc < 0)
			return rc;
		start += (uint64_t)1 << h;
	}
	return 0;
}

int merkle_log_open(merkle_log **out, const char *path, uint64_t leaves, bool writable)
{
	merkle_log *l = xcalloc(1, sizeof *l);
	if (!l)
		return CUSTOS_ERROR;
	l->writable = writable;
	l->leaves = leaves;
	l->nodes_written = node_count(leaves);
	l->path = xstrdup(path);
	l->wbuf = writable ? malloc(WBUF_NODES * sizeof *l->wbuf) : NULL;
	l->fd = open(path, writable ? O_RDWR | O_CREAT | O_CLOEXEC : O_RDONLY | O_CLOEXEC, 0644);
	int rc = 0;
	struct stat st;
	if (!l->path || (writable && !l->wbuf))
		rc = custos_error_set(CUSTOS_ERROR, "out of memory");
	else if (l->fd < 0 || fstat(l->fd, &st) != 0)
		rc = custos_error_errno(errno == ENOENT ? CUSTOS_ENOTFOUND : CUSTOS_ERROR,
					"cannot open %s", path);
	else if ((uint64_t)st.st_size < l->nodes_written * MERKLE_HASH)
		rc = custos_error_set(CUSTOS_EINTEGRITY, "%s holds fewer than %" PRIu64 " leaves",
				      path, leaves);
	else if ((uint64_t)st.st_size > l->nodes_written * MERKLE_HASH && writable &&
		 ftruncate(l->fd, (off_t)(l->nodes_written * MERKLE_HASH)) != 0)
		rc = custos_error_errno(CUSTOS_ERROR, "cannot cut back %s", path);
	if (rc == 0)
		rc = load_peaks(l);
	if (rc < 0) {
		merkle_log_close(l);
		return rc;
	}
	*out = l;
	return 0;
}

void merkle_log_close(merkle_log *l)
{
	if (!l)
		return;
	if (l->fd >= 0)
		close(l->fd);
	free(l->wbuf);
	free(l->path);
	free(l);
}

uint64_t merkle_log_size(const merkle_log *l)
{
	return l->leaves;
}

static int flush(merkle_log *l)
{
	if (l->wlen == 0)
		return 0;
	size_t n = l->wlen * MERKLE_HASH;
	ssize_t w = pwrite(l->fd, l->wbuf, n, (off_t)(l->nodes_written * MERKLE_HASH));
	if (w != (ssize_t)n)
		return custos_error_errno(CUSTOS_ERROR, "cannot write %s", l->path);
	l->nodes_written += l->wlen;
	l->wlen = 0;
	return 0;
}

static int push_node(merkle_log *l, const merkle_hash h)
{
	if (l->wlen == WBUF_NODES) {
		int rc = flush(l);
		if (rc < 0)
			return rc;
	}
	memcpy(l->wbuf[l->wlen++], h, MERKLE_HASH);
	return 0;
}

int merkle_log_append(merkle_log *l, const merkle_hash leaf)
{
	if (!l->writable)
		return custos_error_set(CUSTOS_ERROR, "%s is open read-only", l->path);
	merkle_hash carry;
	memcpy(carry, leaf, MERKLE_HASH);
	int rc = push_node(l, carry);
	unsigned h = 0;
	for (; rc == 0 && (l->leaves >> h & 1); h++) {
		merkle_node_hash(carry, l->peaks[h], carry);
		rc = push_node(l, carry);
	}
	if (rc < 0)
		return rc;
	memcpy(l->peaks[h], carry, MERKLE_HASH);
	l->leaves++;
	return 0;
}

int merkle_log_sync(merkle_log *l)
{
	int rc = flush(l);
	if (rc == 0 && fsync(l->fd) != 0)
		rc = custos_error_errno(CUSTOS_ERROR, "cannot sync %s", l->path);
	return rc;
}

/* MTH(D[a:b]), 0 <= a < b <= leaves. In the recursion of RFC 9162 every left part is an
 * aligned complete subtree, so this reads O(log n) stored nodes. */
static int range_hash(merkle_log *l, uint64_t a, uint64_t b, merkle_hash out)
{
	uint64_t w = b - a;
	if ((w & (w - 1)) == 0 && a % w == 0)
		return read_node(l, node_pos((unsigned)__builtin_ctzll(w), a / w), out);
	uint64_t k = split_point(w);
	merkle_hash left, right;
	int rc = range_hash(l, a, a + k, left);
	if (rc == 0)
		rc = range_hash(l, a + k, b, right);
	if (rc == 0)
		merkle_node_hash(out, left, right);
	return rc;
}

static int check_size(const merkle_log *l, uint64_t size)
{
	if (size > l->leaves)
		return custos_error_set(CUSTOS_ENOTFOUND,
					"the log has %" PRIu64 " leaves, not %" PRIu64, l->leaves,
					size);
	return 0;
}

int merkle_log_root(merkle_log *l, uint64_t size, merkle_hash out)
{
	int rc = check_size(l, size);
	if (rc < 0)
		return rc;
	if (size == 0) {
		merkle_empty_root(out);
		return 0;
	}
	return range_hash(l, 0, size, out);
}

int merkle_log_leaf(merkle_log *l, uint64_t index, merkle_hash out)
{
	int rc = check_size(l, index + 1);
	return rc < 0 ? rc : read_node(l, node_pos(0, index), out);
}

/* PATH(m, D[a:b]) of RFC 9162 §2.1.3.1, siblings appended deepest first. */
static int path(merkle_log *l, uint64_t m, uint64_t a, uint64_t b,
		merkle_hash out[MERKLE_MAX_PROOF], size_t *n)
{
	if (b - a == 1)
		return 0;
	if (*n >= MERKLE_MAX_PROOF)
		return custos_error_set(CUSTOS_ERROR, "proof too long");
	uint64_t k = split_point(b - a);
	int rc = m < a + k ? path(l, m, a, a + k, out, n) : path(l, m, a + k, b, out, n);
	if (rc == 0)
		rc = m < a + k ? range_hash(l, a + k, b, out[*n]) : range_hash(l, a, a + k, out[*n]);
	if (rc == 0)
		(*n)++;
	return rc;
}

int merkle_log_inclusion(merkle_log *l, uint64_t index, uint64_t size,
			 merkle_hash out[MERKLE_MAX_PROOF], size_t *n)
{
	*n = 0;
	int rc = check_size(l, size);
	if (rc == 0 && index >= size)
		rc = custos_error_set(CUSTOS_ENOTFOUND,
				      "leaf %" PRIu64 " is not in a tree of %" PRIu64, index, size);
	return rc < 0 ? rc : path(l, index, 0, size, out, n);
}

/* SUBPROOF(m, D[a:b], whole) of RFC 9162 §2.1.4.1, m counted from a. */
static int subproof(merkle_log *l, uint64_t m, uint64_t a, uint64_t b, bool whole,
		    merkle_hash out[MERKLE_MAX_PROOF], size_t *n)
{
	int rc = 0;
	if (*n >= MERKLE_MAX_PROOF)
		return custos_error_set(CUSTOS_ERROR, "proof too long");
	if (m == b - a) {
		if (!whole && (rc = range_hash(l, a, b, out[*n])) == 0)
			(*n)++;
		return rc;
	}
	uint64_t k = split_point(b - a);
	if (m <= k) {
		rc = subproof(l, m, a, a + k, whole, out, n);
		if (rc == 0)
			rc = range_hash(l, a + k, b, out[*n]);
	} else {
		rc = subproof(l, m - k, a + k, b, false, out, n);
		if (rc == 0)
			rc = range_hash(l, a, a + k, out[*n]);
	}
	if (rc == 0)
		(*n)++;
	return rc;
}

int merkle_log_consistency(merkle_log *l, uint64_t size1, uint64_t size2,
			   merkle_hash out[MERKLE_MAX_PROOF], size_t *n)
{
	*n = 0;
	int rc = check_size(l, size2);
	if (rc == 0 && (size1 == 0 || size1 > size2))
		rc = custos_error_set(CUSTOS_ERROR,
				      "no consistency proof from %" PRIu64 " to %" PRIu64 " leaves",
				      size1, size2);
	return rc < 0 ? rc : subproof(l, size1, 0, size2, true, out, n);
}

/* ------------------------------------------------------------ streaming root */

size_t merkle_stream_push(merkle_stream *s, const merkle_hash leaf, merkle_hash *emitted)
{
	/* The peaks are the set bits of size, highest first; a new leaf merges with every
	 * peak of the low run of one bits. */
	size_t n = (size_t)__builtin_popcountll(s->size), k = 0;
	merkle_hash h;
	memcpy(h, leaf, MERKLE_HASH);
	if (emitted)
		memcpy(emitted[k], h, MERKLE_HASH);
	k++;
	for (uint64_t sz = s->size; sz & 1; sz >>= 1) {
		merkle_node_hash(h, s->peak[--n], h);
		if (emitted)
			memcpy(emitted[k], h, MERKLE_HASH);
		k++;
	}
	memcpy(s->peak[n], h, MERKLE_HASH);
	s->size++;
	return k;
}

void merkle_stream_root(const merkle_stream *s, merkle_hash out)
{
	size_t n = (size_t)__builtin_popcountll(s->size);
	if (n == 0) {
		merkle_empty_root(out);
		return;
	}
	memcpy(out, s->peak[n - 1], MERKLE_HASH);
	while (--n > 0)
		merkle_node_hash(out, s->peak[n - 1], out);
}
