#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bitfield.h"
#include "picker.h"
#include "xmalloc.h"

#define BS PICKER_BLOCK_SIZE

static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 16;
}

/* A peer bitfield with the given pieces set; ends at UINT32_MAX. */
static void bf_of(struct bitfield *bf, uint32_t n, const uint32_t *pieces)
{
	bitfield_init(bf, n);
	for (; *pieces != UINT32_MAX; pieces++)
		bitfield_set(bf, *pieces);
}

/* Receives a whole request list from peer tag, expecting no cancels. */
static void receive_all(struct picker *p, const struct block_req *r, size_t n, uint32_t tag)
{
	struct picker_recv rc;

	for (size_t i = 0; i < n; i++) {
		picker_block_received(p, r[i].piece, r[i].offset, r[i].length, tag, &rc);
		assert_true(rc.wanted);
		assert_false(rc.cancel_other);
	}
}

static void test_geometry(void **state)
{
	/* 3 pieces of 40000 bytes (not a block multiple), last one 5000. */
	struct picker *p = picker_new(3, 40000, 85000, 0);

	assert_int_equal(picker_piece_size(p, 0), 40000);
	assert_int_equal(picker_piece_size(p, 2), 5000);
	assert_int_equal(picker_piece_size(p, 3), 0);
	assert_int_equal(picker_piece_blocks(p, 0), 3);
	assert_int_equal(picker_piece_blocks(p, 2), 1);
	assert_int_equal(picker_block_length(p, 0, 0), BS);
	assert_int_equal(picker_block_length(p, 0, 2 * BS), 40000 - 2 * BS);
	assert_int_equal(picker_block_length(p, 0, 3 * BS), 0);
	assert_int_equal(picker_block_length(p, 0, 100), 0);
	assert_int_equal(picker_block_length(p, 2, 0), 5000);
	assert_int_equal(picker_block_length(p, 2, BS), 0);
	assert_int_equal(picker_block_length(p, 3, 0), 0);

	/* Every block of the torrent, once, with those sizes. */
	struct block_req r[16];
	size_t n = picker_next_blocks(p, NULL, 1, r, 16);
	assert_int_equal(n, 7);
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(r[i].length, picker_block_length(p, r[i].piece, r[i].offset));
		total += r[i].length;
	}
	assert_int_equal(total, 85000);
	assert_int_equal(picker_outstanding(p), 7);
	picker_free(p);
}

static void test_last_piece_short_block(void **state)
{
	/* 4 pieces of 64 KiB, the last 20000 bytes: 2 blocks, the second
	 * 20000 - 16384 = 3616 bytes. */
	uint64_t total = 3 * 65536 + 20000;
	struct picker *p = picker_new(4, 65536, total, 0);
	struct block_req r[32];

	for (uint32_t i = 0; i < 3; i++)
		assert_true(picker_set_have(p, i));
	assert_int_equal(picker_next_blocks(p, NULL, 1, r, 32), 2);
	assert_int_equal(r[0].piece, 3);
	assert_int_equal(r[0].offset, 0);
	assert_int_equal(r[0].length, BS);
	assert_int_equal(r[1].offset, BS);
	assert_int_equal(r[1].length, 3616);

	/* A wrong length for the short block is not taken. */
	struct picker_recv rc;
	picker_block_received(p, 3, BS, BS, 1, &rc);
	assert_false(rc.wanted);
	receive_all(p, r, 1, 1);
	picker_block_received(p, 3, BS, 3616, 1, &rc);
	assert_true(rc.wanted);
	assert_true(rc.piece_done);
	assert_true(picker_piece_passed(p, 3));
	assert_true(picker_is_complete(p));
	assert_int_equal(picker_have_count(p), 4);
	assert_int_equal(picker_next_blocks(p, NULL, 1, r, 32), 0);
	assert_false(picker_interesting(p, NULL));
	picker_free(p);
}

static void test_single_block_torrent(void **state)
{
	struct picker *p = picker_new(1, 1000, 1000, 0);
	struct block_req r[4];
	struct picker_recv rc;

	assert_int_equal(picker_next_blocks(p, NULL, 5, r, 4), 1);
	assert_int_equal(r[0].length, 1000);
	picker_block_received(p, 0, 0, 1000, 5, &rc);
	assert_true(rc.wanted && rc.piece_done);
	assert_int_equal(picker_piece_sender(p, 0), 5);
	assert_true(picker_piece_passed(p, 0));
	assert_true(picker_is_complete(p));
	picker_free(p);
}

static void test_rarest_first(void **state)
{
	/* 10 one-block pieces; pieces 0-3 ours so the early random pick is off.
	 * Availability: 9:1, 5:2, 7:3, 4:4, 6:4, 8:5 (from bitfields). */
	struct picker *p = picker_new(10, BS, 10 * BS, 0);
	uint32_t avail[10] = { 0, 0, 0, 0, 4, 2, 4, 3, 5, 1 };
	struct bitfield peers[5];
	struct block_req r[1];

	for (uint32_t i = 0; i < 4; i++)
		picker_set_have(p, i);
	for (uint32_t k = 0; k < 5; k++) {
		bitfield_init(&peers[k], 10);
		for (uint32_t i = 0; i < 10; i++)
			if (avail[i] > k)
				bitfield_set(&peers[k], i);
		picker_peer_bitfield_add(p, &peers[k]);
	}
	for (uint32_t i = 0; i < 10; i++)
		assert_int_equal(picker_availability(p, i), avail[i]);

	/* A seed asks one block at a time: rarest first; 4 and 6 tie. */
	assert_int_equal(picker_next_blocks(p, NULL, 1, r, 1), 1);
	assert_int_equal(r[0].piece, 9);
	assert_int_equal(picker_next_blocks(p, NULL, 1, r, 1), 1);
	assert_int_equal(r[0].piece, 5);
	assert_int_equal(picker_next_blocks(p, NULL, 1, r, 1), 1);
	assert_int_equal(r[0].piece, 7);
	assert_int_equal(picker_next_blocks(p, NULL, 1, r, 1), 1);
	uint32_t a = r[0].piece;
	assert_int_equal(picker_next_blocks(p, NULL, 1, r, 1), 1);
	assert_true((a == 4 && r[0].piece == 6) || (a == 6 && r[0].piece == 4));
	assert_int_equal(picker_next_blocks(p, NULL, 1, r, 1), 1);
	assert_int_equal(r[0].piece, 8);

	/* Availability changes move pieces: a have raises a piece, a peer
	 * leaving lowers its pieces. */
	picker_peer_bitfield_remove(p, &peers[0]);
	assert_int_equal(picker_availability(p, 9), 0);
	assert_int_equal(picker_availability(p, 8), 4);
	assert_false(picker_peer_have(p, 10));
	assert_true(picker_peer_have(p, 8));
	assert_int_equal(picker_availability(p, 8), 5);
	picker_seed_add(p);
	assert_int_equal(picker_availability(p, 8), 6);
	picker_seed_remove(p);
	assert_int_equal(picker_availability(p, 8), 5);
	for (uint32_t k = 0; k < 5; k++)
		bitfield_free(&peers[k]);
	picker_free(p);
}

/* Pieces a fresh picker asks a seed for first, one a call (one-block
 * pieces), after the early random picks. */
static void first_picks(uint64_t seed, uint32_t n, uint32_t k, bool *picked)
{
	struct picker *p = picker_new(n, BS, (uint64_t)n * BS, seed);
	struct block_req r;

	picker_seed_add(p);
	for (uint32_t i = 0; i < PICKER_RANDOM_UNTIL; i++) {
		assert_int_equal(picker_next_blocks(p, NULL, 1, &r, 1), 1);
		receive_all(p, &r, 1, 1);
		assert_true(picker_piece_passed(p, r.piece));
	}
	for (uint32_t i = 0; i < k; i++) {
		assert_int_equal(picker_next_blocks(p, NULL, 1, &r, 1), 1);
		picked[r.piece] = true;
	}
	picker_free(p);
}

/* Leechers of one origin that take equally rare pieces in the same order
 * fetch the same pieces at the same time and have nothing to trade (issue
 * 6: every stad had the same order). Two seeds must give near-disjoint
 * first picks; random overlap of 64 of 4096 is about one piece. One seed
 * gives the same picks (tests stay deterministic). */
static void test_order_differs_between_clients(void **state)
{
	enum { N = 4096, K = 64 };
	static bool a[N], b[N], c[N];
	uint32_t common = 0, same = 0;

	(void)state;
	first_picks(0x1234, N, K, a);
	first_picks(0x5678, N, K, b);
	first_picks(0x1234, N, K, c);
	for (uint32_t i = 0; i < N; i++) {
		common += a[i] && b[i];
		same += a[i] && c[i];
	}
	assert_true(common <= 8);
	assert_int_equal(same, K);
}

static void test_rarest_first_after_changes(void **state)
{
	/* Pieces 4..7 start equal, then haves make 6 the rarest and 5 the
	 * most common. */
	struct picker *p = picker_new(8, BS, 8 * BS, 0);
	struct block_req r[1];

	for (uint32_t i = 0; i < 4; i++)
		picker_set_have(p, i);
	for (uint32_t i = 4; i < 8; i++)
		picker_peer_have(p, i);
	picker_peer_have(p, 4);
	picker_peer_have(p, 7);
	picker_peer_have(p, 5);
	picker_peer_have(p, 5);
	uint32_t order[4] = { 6, 4, 7, 5 };
	uint32_t got[4];
	for (int i = 0; i < 4; i++) {
		assert_int_equal(picker_next_blocks(p, NULL, 1, r, 1), 1);
		got[i] = r[0].piece;
	}
	assert_int_equal(got[0], order[0]);
	assert_int_equal(got[3], order[3]);
	assert_true((got[1] == 4 && got[2] == 7) || (got[1] == 7 && got[2] == 4));
	picker_free(p);
}

static void test_only_pieces_peer_has(void **state)
{
	struct picker *p = picker_new(64, 2 * BS, 64ull * 2 * BS, 0);
	struct bitfield bf;
	uint32_t has[] = { 3, 17, 63, UINT32_MAX };
	struct block_req r[32];

	bf_of(&bf, 64, has);
	picker_peer_bitfield_add(p, &bf);
	assert_true(picker_interesting(p, &bf));
	size_t n = picker_next_blocks(p, &bf, 1, r, 32);
	assert_int_equal(n, 6);
	for (size_t i = 0; i < n; i++)
		assert_true(bitfield_test(&bf, r[i].piece));
	/* All its pieces requested: nothing more, though 61 pieces are left. */
	assert_int_equal(picker_next_blocks(p, &bf, 1, r, 32), 0);

	/* Another peer with piece 3 only: pieces still unstarted mean no
	 * end-game, whether a seed could give them now or nobody has them
	 * yet (a super-seed shows pieces one by one): it gets nothing... */
	struct bitfield other;
	uint32_t has2[] = { 3, UINT32_MAX };
	bf_of(&other, 64, has2);
	picker_peer_bitfield_add(p, &other);
	picker_seed_add(p);
	assert_int_equal(picker_next_blocks(p, &other, 2, r, 32), 0);
	picker_seed_remove(p);
	assert_int_equal(picker_next_blocks(p, &other, 2, r, 32), 0);
	/* ...until every missing piece is started: then it duplicates. */
	struct bitfield rest;
	bitfield_init(&rest, 64);
	bitfield_set_all(&rest);
	for (int i = 0; has[i] != UINT32_MAX; i++)
		bitfield_clear(&rest, has[i]);
	picker_peer_bitfield_add(p, &rest);
	size_t taken = 0, k;
	while ((k = picker_next_blocks(p, &rest, 4, r, 32)) > 0)
		taken += k;
	assert_int_equal(taken, 122); /* the other 61 pieces */
	assert_int_equal(picker_next_blocks(p, &other, 2, r, 32), 2);
	assert_int_equal(r[0].piece, 3);
	assert_int_equal(r[1].piece, 3);
	bitfield_free(&rest);

	/* A peer with nothing we lack. */
	struct bitfield none;
	bitfield_init(&none, 64);
	assert_false(picker_interesting(p, &none));
	assert_int_equal(picker_next_blocks(p, &none, 3, r, 32), 0);
	bitfield_free(&none);
	bitfield_free(&other);
	bitfield_free(&bf);
	picker_free(p);
}

static void test_partial_first_and_own_preferred(void **state)
{
	/* 8 pieces of 4 blocks; we have 4 so picks are rarest-first. */
	struct picker *p = picker_new(8, 4 * BS, 8ull * 4 * BS, 0);
	struct block_req a[4], b[4], r[8];

	for (uint32_t i = 0; i < 4; i++)
		picker_set_have(p, i);
	assert_int_equal(picker_next_blocks(p, NULL, 1, a, 4), 4);
	assert_int_equal(picker_next_blocks(p, NULL, 2, b, 4), 4);
	uint32_t pa = a[0].piece, pb = b[0].piece;
	assert_int_not_equal(pa, pb);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(a[i].piece, pa);
		assert_int_equal(a[i].offset, (uint32_t)i * BS);
		assert_int_equal(b[i].piece, pb);
	}

	/* Both give one block back; each gets back its own piece's block. */
	assert_true(picker_block_cancel(p, pa, 2 * BS, 1));
	assert_false(picker_block_cancel(p, pa, 2 * BS, 1));
	assert_true(picker_block_cancel(p, pb, BS, 2));
	assert_int_equal(picker_next_blocks(p, NULL, 2, r, 1), 1);
	assert_int_equal(r[0].piece, pb);
	assert_int_equal(r[0].offset, BS);
	assert_int_equal(picker_next_blocks(p, NULL, 1, r, 1), 1);
	assert_int_equal(r[0].piece, pa);
	assert_int_equal(r[0].offset, 2 * BS);

	/* A free block of someone else's partial comes before a new piece. */
	assert_true(picker_block_cancel(p, pa, 3 * BS, 1));
	assert_int_equal(picker_next_blocks(p, NULL, 3, r, 2), 2);
	assert_int_equal(r[0].piece, pa);
	assert_int_equal(r[0].offset, 3 * BS);
	assert_int_not_equal(r[1].piece, pa);
	assert_int_not_equal(r[1].piece, pb);
	assert_int_equal(r[1].offset, 0);
	picker_free(p);
}

static void test_failed_piece(void **state)
{
	/* 6 pieces of 2 blocks; we have 4. */
	struct picker *p = picker_new(6, 2 * BS, 6ull * 2 * BS, 0);
	struct block_req r[8];

	for (uint32_t i = 0; i < 4; i++)
		picker_set_have(p, i);
	assert_int_equal(picker_next_blocks(p, NULL, 7, r, 2), 2);
	uint32_t bad = r[0].piece;
	assert_false(picker_piece_failed(p, bad, 7)); /* not complete yet */
	assert_false(picker_piece_passed(p, bad));
	receive_all(p, r, 2, 7);
	assert_int_equal(picker_piece_sender(p, bad), 7);
	assert_true(picker_piece_failed(p, bad, 7));
	assert_false(picker_piece_passed(p, bad)); /* blocks are free again */
	assert_int_equal(picker_have_count(p), 4);

	/* Peer 7 is steered to the other piece; peer 8 gets the failed one. */
	assert_int_equal(picker_next_blocks(p, NULL, 7, r, 2), 2);
	assert_int_not_equal(r[0].piece, bad);
	assert_int_equal(picker_next_blocks(p, NULL, 8, r, 1), 1);
	assert_int_equal(r[0].piece, bad);
	assert_int_equal(r[0].offset, 0);
	/* Once another peer took from it, peer 7 may help too. */
	assert_int_equal(picker_next_blocks(p, NULL, 7, r, 1), 1);
	assert_int_equal(r[0].piece, bad);
	assert_int_equal(r[0].offset, BS);
	picker_free(p);
}

static void test_failed_piece_only_source(void **state)
{
	/* The avoided peer still gets the piece when nobody else can take it,
	 * and several senders mean no single suspect. */
	struct picker *p = picker_new(1, 2 * BS, 2 * BS, 0);
	struct block_req r[4];
	struct picker_recv rc;

	assert_int_equal(picker_next_blocks(p, NULL, 1, r, 1), 1);
	assert_int_equal(picker_next_blocks(p, NULL, 2, r + 1, 1), 1);
	receive_all(p, r, 1, 1);
	assert_int_equal(picker_piece_sender(p, 0), PICKER_NO_TAG); /* incomplete */
	picker_block_received(p, 0, r[1].offset, r[1].length, 2, &rc);
	assert_true(rc.piece_done);
	assert_int_equal(picker_piece_sender(p, 0), PICKER_NO_TAG);
	assert_true(picker_piece_failed(p, 0, 1));
	assert_int_equal(picker_next_blocks(p, NULL, 1, r, 4), 2);
	receive_all(p, r, 2, 1);
	assert_int_equal(picker_piece_sender(p, 0), 1);
	assert_true(picker_piece_passed(p, 0));
	assert_true(picker_is_complete(p));
	picker_free(p);
}

static void test_endgame(void **state)
{
	struct picker *p = picker_new(2, 2 * BS, 4 * BS, 0);
	struct block_req r[8], d[8];
	struct picker_recv rc;
	struct bitfield has_x;

	/* Peer 1: both blocks of piece x, the first of piece y. */
	assert_int_equal(picker_next_blocks(p, NULL, 1, r, 3), 3);
	uint32_t x = r[0].piece, y = r[2].piece;
	assert_int_equal(r[1].piece, x);
	assert_int_not_equal(x, y);
	uint32_t has[] = { x, UINT32_MAX };
	bf_of(&has_x, 2, has);
	picker_peer_bitfield_add(p, &has_x);
	picker_seed_add(p);

	/* A block of y is still free: no end-game, peer 2 (x only) gets
	 * nothing. */
	assert_int_equal(picker_next_blocks(p, &has_x, 2, d, 8), 0);
	/* Peer 1 takes the last free block; it never gets its own twice. */
	assert_int_equal(picker_next_blocks(p, NULL, 1, r + 3, 8), 1);
	assert_int_equal(r[3].piece, y);
	assert_int_equal(picker_outstanding(p), 4);

	/* End-game: peer 2 duplicates x's blocks, peer 3 y's; then every
	 * block has two requesters and nobody gets more. */
	assert_int_equal(picker_next_blocks(p, &has_x, 2, d, 8), 2);
	assert_int_equal(d[0].piece, x);
	assert_int_equal(d[1].piece, x);
	assert_int_equal(picker_next_blocks(p, NULL, 3, d + 2, 8), 2);
	assert_int_equal(d[2].piece, y);
	assert_int_equal(picker_next_blocks(p, NULL, 4, d + 4, 8), 0);
	assert_int_equal(picker_next_blocks(p, NULL, 1, d + 4, 8), 0);
	assert_int_equal(picker_outstanding(p), 4);

	/* Peer 3 delivers first: peer 1 is to be cancelled, and its late copy
	 * is dropped. */
	picker_block_received(p, d[2].piece, d[2].offset, d[2].length, 3, &rc);
	assert_true(rc.wanted);
	assert_true(rc.cancel_other);
	assert_int_equal(rc.other_tag, 1);
	picker_block_received(p, d[2].piece, d[2].offset, d[2].length, 1, &rc);
	assert_false(rc.wanted);
	assert_int_equal(picker_outstanding(p), 3);

	/* A cancelled duplicate leaves the block with its first requester. */
	assert_true(picker_block_cancel(p, d[0].piece, d[0].offset, 2));
	assert_int_equal(picker_outstanding(p), 3);
	picker_block_received(p, d[0].piece, d[0].offset, d[0].length, 1, &rc);
	assert_true(rc.wanted);
	assert_false(rc.cancel_other);
	assert_int_equal(picker_outstanding(p), 2);
	bitfield_free(&has_x);
	picker_free(p);
}

/* The start budget caps the pieces started; blocks of started pieces are
 * handed out whatever it is. */
static void test_start_budget(void **state)
{
	struct picker *p = picker_new(8, 4 * BS, 8ull * 4 * BS, 0);
	struct block_req r[64];

	picker_seed_add(p);
	picker_set_start_budget(p, 1);
	size_t n = picker_next_blocks(p, NULL, 1, r, 64);
	assert_int_equal(n, 4);
	for (size_t i = 1; i < n; i++)
		assert_int_equal(r[i].piece, r[0].piece);
	uint32_t first = r[0].piece;
	assert_int_equal(picker_next_blocks(p, NULL, 1, r, 64), 0); /* budget spent */
	assert_true(picker_block_cancel(p, first, BS, 1));
	picker_set_start_budget(p, 0);
	assert_int_equal(picker_next_blocks(p, NULL, 2, r, 64), 1); /* started piece: still given */
	assert_int_equal(r[0].piece, first);
	assert_int_equal(r[0].offset, BS);
	picker_set_start_budget(p, 2);
	n = picker_next_blocks(p, NULL, 1, r, 64);
	assert_int_equal(n, 8);
	assert_true(r[0].piece != first && r[4].piece != first && r[0].piece != r[4].piece);
	picker_free(p);
}

/* The end-game filter: here, duplicates only of blocks peer 1 holds. */
static bool only_from_one(void *ctx, uint32_t holder)
{
	unsigned *calls = ctx;

	(*calls)++;
	return holder == 1;
}

static void test_endgame_filter(void **state)
{
	struct picker *p = picker_new(2, 2 * BS, 4 * BS, 0);
	struct block_req r[4], d[8];
	unsigned calls = 0;

	(void)state;
	picker_seed_add(p);
	/* Peer 1 holds piece x, peer 2 piece y: end-game. */
	assert_int_equal(picker_next_blocks(p, NULL, 1, r, 2), 2);
	assert_int_equal(picker_next_blocks(p, NULL, 2, r + 2, 2), 2);
	assert_int_not_equal(r[0].piece, r[2].piece);
	picker_set_dup_filter(p, only_from_one, &calls);
	/* Peer 3 may take peer 1's blocks only. */
	assert_int_equal(picker_next_blocks(p, NULL, 3, d, 8), 2);
	assert_int_equal(d[0].piece, r[0].piece);
	assert_int_equal(d[1].piece, r[0].piece);
	assert_true(calls >= 3);
	/* Without a filter peer 4 takes peer 2's. */
	picker_set_dup_filter(p, NULL, NULL);
	assert_int_equal(picker_next_blocks(p, NULL, 4, d, 8), 2);
	assert_int_equal(d[0].piece, r[2].piece);
	assert_int_equal(picker_outstanding(p), 4);
	picker_free(p);
}

static void test_peer_gone(void **state)
{
	struct picker *p = picker_new(4, 4 * BS, 16 * BS, 0);
	struct block_req r[16], r2[16];

	assert_int_equal(picker_next_blocks(p, NULL, 1, r, 6), 6);
	assert_int_equal(picker_next_blocks(p, NULL, 2, r2, 2), 2);
	assert_int_equal(picker_outstanding(p), 8);
	assert_int_equal(picker_peer_gone(p, 1), 6);
	assert_int_equal(picker_peer_gone(p, 1), 0);
	assert_int_equal(picker_outstanding(p), 2);
	/* Its blocks are free for others, before any new piece. */
	assert_int_equal(picker_next_blocks(p, NULL, 3, r2, 14), 14);
	assert_int_equal(picker_outstanding(p), 16);
	for (int i = 0; i < 6; i++) {
		bool found = false;
		for (int j = 0; j < 14; j++)
			found |= r2[j].piece == r[i].piece && r2[j].offset == r[i].offset;
		assert_true(found);
	}
	/* Gone in end-game: only its duplicates go, the others stay. */
	assert_int_equal(picker_next_blocks(p, NULL, 4, r, 16), 16);
	assert_int_equal(picker_peer_gone(p, 4), 16);
	assert_int_equal(picker_outstanding(p), 16);
	assert_int_equal(picker_next_blocks(p, NULL, 5, r, 16), 16);
	picker_free(p);
}

static void test_hostile_replies(void **state)
{
	struct picker *p = picker_new(3, 2 * BS, 6 * BS, 0);
	struct block_req r[8];
	struct picker_recv rc;

	assert_int_equal(picker_next_blocks(p, NULL, 1, r, 2), 2);
	assert_int_equal(r[1].piece, r[0].piece);
	uint32_t pc = r[0].piece;
	uint32_t other = pc == 0 ? 1 : 0;
	struct {
		uint32_t piece, offset, length;
	} bad[] = {
		{ pc, 1, BS },              /* unaligned */
		{ pc, 2 * BS, BS },         /* past the piece */
		{ pc, 0, BS - 1 },          /* short */
		{ pc, 0, BS + 1 },          /* long */
		{ pc, 0, 0 },
		{ 3, 0, BS },               /* no such piece */
		{ UINT32_MAX, 0, BS },
		{ pc, UINT32_MAX - 16383, BS },
		{ other, 0, BS },           /* never requested: not started */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		picker_block_received(p, bad[i].piece, bad[i].offset, bad[i].length, 1, &rc);
		assert_false(rc.wanted);
		assert_false(rc.piece_done);
		assert_false(rc.cancel_other);
		if (bad[i].offset != 0 || bad[i].piece != pc)
			assert_false(picker_block_cancel(p, bad[i].piece, bad[i].offset, 1));
	}
	assert_int_equal(picker_outstanding(p), 2);
	/* Cancel by a peer that did not request it changes nothing. */
	assert_false(picker_block_cancel(p, pc, 0, 2));
	assert_false(picker_block_cancel(p, pc, 0, PICKER_NO_TAG));
	assert_int_equal(picker_next_blocks(p, NULL, PICKER_NO_TAG, r + 2, 4), 0);

	/* An unrequested block of a started piece is still useful: taken, and
	 * its requester is told to cancel. Again: a duplicate, dropped. */
	picker_block_received(p, pc, 0, BS, 9, &rc);
	assert_true(rc.wanted);
	assert_true(rc.cancel_other);
	assert_int_equal(rc.other_tag, 1);
	picker_block_received(p, pc, 0, BS, 1, &rc);
	assert_false(rc.wanted);
	assert_false(picker_block_cancel(p, pc, 0, 1));
	picker_block_received(p, pc, BS, BS, 1, &rc);
	assert_true(rc.piece_done);
	assert_true(picker_piece_passed(p, pc));
	assert_false(picker_piece_passed(p, pc));
	assert_false(picker_piece_failed(p, pc, 1));
	picker_block_received(p, pc, 0, BS, 1, &rc);
	assert_false(rc.wanted);
	assert_false(picker_set_have(p, 3));
	assert_true(picker_set_have(p, pc));
	assert_int_equal(picker_have_count(p), 1);
	picker_free(p);
}

static void test_set_have_drops_partial(void **state)
{
	struct picker *p = picker_new(2, 2 * BS, 4 * BS, 0);
	struct block_req r[4];

	assert_int_equal(picker_next_blocks(p, NULL, 1, r, 1), 1);
	assert_true(picker_set_have(p, r[0].piece));
	assert_int_equal(picker_outstanding(p), 0);
	assert_int_equal(picker_next_blocks(p, NULL, 1, r + 1, 4), 2);
	assert_int_not_equal(r[1].piece, r[0].piece);
	picker_free(p);
}

/* Peers with random bitfields download the whole torrent through the
 * picker; the requests of each peer are answered in random order, some of
 * them cancelled (timeouts), a peer leaves and comes back, one piece fails
 * once. Outside end-game every block must arrive exactly once. */
struct sim_peer {
	struct bitfield has;
	struct block_req q[64];
	size_t nq;
};

static void sim_drop(struct sim_peer *sp, size_t i)
{
	sp->q[i] = sp->q[--sp->nq];
}

static void sim_cancel(struct sim_peer *sp, uint32_t piece, uint32_t offset)
{
	for (size_t i = 0; i < sp->nq; i++)
		if (sp->q[i].piece == piece && sp->q[i].offset == offset) {
			sim_drop(sp, i);
			return;
		}
}

static void simulate(uint32_t n_pieces, uint32_t piece_len, uint64_t total, uint32_t seed,
                     bool with_seed_peer)
{
	enum { NP = 4 };
	struct picker *p = picker_new(n_pieces, piece_len, total, seed);
	struct sim_peer peers[NP];
	uint32_t bpp = (piece_len + BS - 1) / BS;
	uint8_t *got = xcalloc((size_t)n_pieces * bpp, 1);
	uint32_t s = seed;
	bool failed_once = false;
	uint64_t bytes = 0;

	for (int k = 0; k < NP; k++) {
		bitfield_init(&peers[k].has, n_pieces);
		peers[k].nq = 0;
		for (uint32_t i = 0; i < n_pieces; i++)
			if (lcg(&s) % 3 == 0)
				bitfield_set(&peers[k].has, i);
	}
	/* Whatever no peer has, peer 0 gets; peer 3 may be a seed. */
	for (uint32_t i = 0; i < n_pieces; i++) {
		bool any = false;
		for (int k = 0; k < NP; k++)
			any |= bitfield_test(&peers[k].has, i);
		if (!any)
			bitfield_set(&peers[0].has, i);
	}
	if (with_seed_peer)
		bitfield_set_all(&peers[3].has);
	for (int k = 0; k < NP; k++) {
		if (bitfield_all(&peers[k].has))
			picker_seed_add(p);
		else
			picker_peer_bitfield_add(p, &peers[k].has);
	}

	for (uint32_t round = 0; !picker_is_complete(p); round++) {
		assert_true(round < 100u * n_pieces * bpp);
		int k = (int)(lcg(&s) % NP);
		struct sim_peer *sp = &peers[k];
		const struct bitfield *has = bitfield_all(&sp->has) ? NULL : &sp->has;
		sp->nq += picker_next_blocks(p, has, (uint32_t)k, sp->q + sp->nq,
		                             sizeof sp->q / sizeof sp->q[0] - sp->nq);
		if (sp->nq == 0)
			continue;
		size_t i = lcg(&s) % sp->nq;
		struct block_req b = sp->q[i];
		sim_drop(sp, i);
		uint32_t roll = lcg(&s) % 100;
		if (roll < 3) {
			assert_true(picker_block_cancel(p, b.piece, b.offset, (uint32_t)k));
			continue;
		}
		if (roll == 3 && round % 7 == 0) {
			/* The peer leaves (its queue is lost) and comes back. */
			sp->nq = 0;
			picker_peer_gone(p, (uint32_t)k);
			continue;
		}
		struct picker_recv rc;
		picker_block_received(p, b.piece, b.offset, b.length, (uint32_t)k, &rc);
		assert_true(rc.wanted);
		assert_int_equal(b.length, picker_block_length(p, b.piece, b.offset));
		uint8_t *g = &got[(size_t)b.piece * bpp + b.offset / BS];
		assert_int_equal(*g, 0);
		*g = 1;
		bytes += b.length;
		if (rc.cancel_other) {
			assert_int_not_equal(rc.other_tag, (uint32_t)k);
			assert_true(rc.other_tag < NP);
			sim_cancel(&peers[rc.other_tag], b.piece, b.offset);
			/* The picker already let go of that request. */
			assert_false(picker_block_cancel(p, b.piece, b.offset, rc.other_tag));
		}
		if (rc.piece_done) {
			if (!failed_once) {
				failed_once = true;
				assert_true(picker_piece_failed(p, b.piece, picker_piece_sender(p, b.piece)));
				memset(&got[(size_t)b.piece * bpp], 0, bpp);
				bytes -= picker_piece_size(p, b.piece);
			} else {
				assert_true(picker_piece_passed(p, b.piece));
			}
		}
	}
	assert_int_equal(bytes, total);
	assert_int_equal(picker_outstanding(p), 0);
	for (int k = 0; k < NP; k++) {
		assert_int_equal(peers[k].nq, 0);
		bitfield_free(&peers[k].has);
	}
	free(got);
	picker_free(p);
}

static void test_simulation(void **state)
{
	simulate(200, 4 * BS, 199ull * 4 * BS + 3 * BS + 1234, 1, false);
	simulate(57, 32768, 56ull * 32768 + 100, 2, true);
	simulate(1, 5 * BS, 5 * BS, 3, false);
}

/* Scale: 65536 blocks (4096 pieces of 16 blocks) to 4 peers with random
 * bitfields, a few hundred thousand picker calls; runs in a few ms. */
static void test_simulation_large(void **state)
{
	simulate(4096, 16 * BS, 4096ull * 16 * BS, 4, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_geometry),
		cmocka_unit_test(test_last_piece_short_block),
		cmocka_unit_test(test_single_block_torrent),
		cmocka_unit_test(test_rarest_first),
		cmocka_unit_test(test_rarest_first_after_changes),
		cmocka_unit_test(test_order_differs_between_clients),
		cmocka_unit_test(test_only_pieces_peer_has),
		cmocka_unit_test(test_partial_first_and_own_preferred),
		cmocka_unit_test(test_failed_piece),
		cmocka_unit_test(test_failed_piece_only_source),
		cmocka_unit_test(test_endgame),
		cmocka_unit_test(test_endgame_filter),
		cmocka_unit_test(test_peer_gone),
		cmocka_unit_test(test_start_budget),
		cmocka_unit_test(test_hostile_replies),
		cmocka_unit_test(test_set_have_drops_partial),
		cmocka_unit_test(test_simulation),
		cmocka_unit_test(test_simulation_large),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
