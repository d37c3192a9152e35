/* stad's peer connection logic driven over a socketpair: a real session
 * (private event_base, temp state dir, one worker) with one real torrent
 * (12 pieces on disk, or none for the download side), and a fake remote
 * peer in the test speaking the wire protocol through common/peer_wire.
 * Covers the handshake and intro, unchoke on interest, served blocks,
 * BEP 6 reject and allowed-fast both ways, and hostile messages that must
 * drop the connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <ftw.h>
#include <syslog.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "metainfo.h"
#include "peer.h"
#include "peer_wire.h"
#include "sconfig.h"
#include "session.h"
#include "sha1.h"
#include "torrent.h"
#include "upload_rules.h"

#define PLEN (32u * 1024)
#define NPIECES 12u
#define TOTAL ((NPIECES - 1) * PLEN + 5000u) /* the last piece is short */
#define WAIT_MS 3000
#define QUIET_MS 300

struct env {
	char dir[64];
	struct sconfig cfg;
	struct event_base *base;
	struct event *tick;
	struct session s;
	struct torrent *t;
	uint8_t *data;           /* the file's bytes */
	int fd;                  /* the remote's end */
	struct sta_buf in;       /* what the remote received, not yet parsed */
	bool eof;
	uint8_t msg_data[PW_MAX_BLOCK]; /* the last message's payload */
	struct pw_limits lim;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void nothing(evutil_socket_t fd, short what, void *arg)
{
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}

/* One loop turn (at most 10 ms) and whatever the remote can read. */
static void pump(struct env *e)
{
	uint8_t b[65536];

	event_base_loop(e->base, EVLOOP_ONCE);
	while (e->fd >= 0 && !e->eof) {
		ssize_t n = recv(e->fd, b, sizeof b, MSG_DONTWAIT);
		if (n > 0)
			buf_append(&e->in, b, (size_t)n);
		else if (n == 0 || (errno != EAGAIN && errno != EINTR))
			e->eof = true;
		else
			break;
	}
}

static void run_until_state(struct env *e, enum torrent_state want)
{
	uint64_t end = now_ms() + WAIT_MS;

	while (e->t->state != want && now_ms() < end)
		pump(e);
	assert_int_equal(e->t->state, want);
}

static void make_file(struct env *e, const char *path)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(e->data, 1, TOTAL, f), TOTAL);
	fclose(f);
}

/* The torrent, its file on disk when seed, and a started session. */
static void env_start(struct env *e, bool seed)
{
	uint8_t hashes[NPIECES * SHA1_LEN];
	struct sta_buf tor = STA_BUF_INIT;
	struct metainfo mi;
	struct mi_error me;
	char path[128], err[256];

	snprintf(e->dir, sizeof e->dir, "/tmp/sta-peerconn-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	e->data = malloc(TOTAL);
	for (uint32_t i = 0; i < TOTAL; i++)
		e->data[i] = (uint8_t)(i * 2654435761u >> 13);
	for (uint32_t i = 0; i < NPIECES; i++)
		sha1(e->data + (size_t)i * PLEN, i + 1 < NPIECES ? PLEN : TOTAL - i * PLEN,
		     hashes + i * SHA1_LEN);
	struct mi_create c = {
		.name = "f.bin", .files = &(struct mi_create_file){ "f.bin", TOTAL }, .n_files = 1,
		.piece_length = PLEN, .pieces = hashes, .n_pieces = NPIECES,
	};
	assert_true(metainfo_create(&c, &tor, &mi, &me));
	buf_free(&tor);

	sconfig_defaults(&e->cfg);
	snprintf(path, sizeof path, "%s/state", e->dir);
	config_set_str(&e->cfg.state_dir, path);
	snprintf(path, sizeof path, "%s/share", e->dir);
	config_set_str(&e->cfg.share_dir, path);
	snprintf(path, sizeof path, "%s/data", e->dir);
	config_set_str(&e->cfg.download_dir, path);
	config_set_str(&e->cfg.listen_address, "127.0.0.1");
	config_set_str(&e->cfg.tracker, "");
	e->cfg.listen_port = 0;
	e->cfg.dht_enabled = false; /* the suite never asks the public routers */
	e->cfg.workers = 1;
	e->cfg.upload_slots = 1;
	e->base = event_base_new();
	struct timeval tv = { 0, 10000 };
	e->tick = event_new(e->base, -1, EV_PERSIST, nothing, NULL);
	event_add(e->tick, &tv);
	assert_true(session_init(&e->s, e->base, &e->cfg));
	if (seed) {
		snprintf(path, sizeof path, "%s/data/f.bin", e->dir);
		make_file(e, path);
	}
	e->t = torrent_add(&e->s, &mi, e->cfg.download_dir, NULL, false, false, NULL, err,
	                           sizeof err);
	assert_non_null(e->t);
	torrent_start(e->t);
	run_until_state(e, seed ? TS_SEEDING : TS_DOWNLOADING);
	pw_limits_init(&e->lim, NPIECES);
}

static int teardown(void **state)
{
	struct env *e = *state;

	if (e->fd >= 0)
		close(e->fd);
	session_fini(&e->s);
	event_free(e->tick);
	event_base_free(e->base);
	sconfig_free(&e->cfg);
	nftw(e->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	buf_free(&e->in);
	free(e->data);
	free(e);
	return 0;
}

static int setup_seed(void **state)
{
	struct env *e = calloc(1, sizeof *e);

	e->fd = -1;
	env_start(e, true);
	*state = e;
	return 0;
}

static int setup_leech(void **state)
{
	struct env *e = calloc(1, sizeof *e);

	e->fd = -1;
	env_start(e, false);
	*state = e;
	return 0;
}

static void send_raw(struct env *e, const void *b, size_t n)
{
	assert_int_equal(write(e->fd, b, n), (ssize_t)n);
}

/* send_raw for bulk data: runs the loop while the socket is full, so
 * stad keeps reading. */
static void send_pumped(struct env *e, const uint8_t *b, size_t n)
{
	uint64_t end = now_ms() + WAIT_MS;

	while (n > 0) {
		ssize_t k = send(e->fd, b, n, MSG_DONTWAIT);
		if (k > 0) {
			b += k;
			n -= (size_t)k;
			continue;
		}
		assert_true(k < 0 && (errno == EAGAIN || errno == EINTR));
		assert_true(now_ms() < end);
		pump(e);
	}
}

static void send_simple(struct env *e, enum pw_msg_type type)
{
	uint8_t m[PW_LEN_SIMPLE];

	send_raw(e, m, peer_wire_put_simple(m, type));
}

static void send_index(struct env *e, enum pw_msg_type type, uint32_t index)
{
	uint8_t m[PW_LEN_INDEX];

	send_raw(e, m, peer_wire_put_index(m, type, index));
}

static void send_block(struct env *e, enum pw_msg_type type, uint32_t piece, uint32_t begin,
                       uint32_t length)
{
	uint8_t m[PW_LEN_BLOCK];

	send_raw(e, m, peer_wire_put_block(m, type, piece, begin, length));
}

/* The next message the remote received (keep-alives skipped); false on
 * timeout or when the connection closed first. The payload is copied to
 * e->msg_data. */
static bool next_msg(struct env *e, struct pw_msg *m, unsigned ms)
{
	uint64_t end = now_ms() + ms;
	struct pw_error err;

	for (;;) {
		enum pw_status st = peer_wire_parse(e->in.data, e->in.len, &e->lim, m, &err);
		assert_int_not_equal(st, PW_ERROR);
		if (st == PW_OK) {
			assert_true(m->data_len <= sizeof e->msg_data);
			if (m->data_len)
				memcpy(e->msg_data, m->data, m->data_len);
			m->data = e->msg_data;
			memmove(e->in.data, e->in.data + m->consumed, e->in.len - m->consumed);
			e->in.len -= m->consumed;
			if (m->type == PW_MSG_KEEPALIVE)
				continue;
			return true;
		}
		if (e->eof || now_ms() >= end)
			return false;
		pump(e);
	}
}

static void expect_msg(struct env *e, enum pw_msg_type type, struct pw_msg *m)
{
	struct pw_msg tmp;

	if (m == NULL)
		m = &tmp;
	assert_true(next_msg(e, m, WAIT_MS));
	assert_int_equal(m->type, type);
}

static void expect_index(struct env *e, enum pw_msg_type type, uint32_t index)
{
	struct pw_msg m;

	expect_msg(e, type, &m);
	assert_int_equal(m.index, index);
}

static void expect_closed(struct env *e)
{
	struct pw_msg m;
	uint64_t end = now_ms() + WAIT_MS;

	/* Whatever was sent before the close may still be read. */
	while (next_msg(e, &m, WAIT_MS) && now_ms() < end)
		;
	assert_true(e->eof);
	assert_int_equal(e->t->n_peers, 0);
}

static void expect_quiet(struct env *e)
{
	struct pw_msg m;

	assert_false(next_msg(e, &m, QUIET_MS));
	assert_false(e->eof);
}

/* A remote connected at 10.1.2.3 (for the allowed-fast set), handshake
 * exchanged; fast sets the Fast bit. No extension protocol, so the intro
 * is just have all / bitfield and the allowed-fast set. */
static void connect_remote(struct env *e, bool fast)
{
	int sv[2];
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(6881) };
	uint8_t hs[PW_HANDSHAKE_LEN], id[20];
	struct pw_handshake got;
	struct pw_error err;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	inet_pton(AF_INET, "10.1.2.3", &sin.sin_addr);
	assert_non_null(peer_accept(&e->s, sv[0], (struct sockaddr *)&sin, sizeof sin));
	e->fd = sv[1];
	memcpy(id, "-XX0001-remote-peer!", 20);
	peer_wire_handshake_build(hs, e->t->mi.info_hash, id);
	hs[20 + PW_RES_EXT_BYTE] = 0;
	if (!fast)
		hs[20 + PW_RES_FAST_BYTE] = 0;
	send_raw(e, hs, sizeof hs);
	uint64_t end = now_ms() + WAIT_MS;
	while (e->in.len < PW_HANDSHAKE_LEN && !e->eof && now_ms() < end)
		pump(e);
	assert_int_equal(peer_wire_handshake_parse(e->in.data, PW_HANDSHAKE_LEN, &got, &err), PW_OK);
	assert_memory_equal(got.info_hash, e->t->mi.info_hash, 20);
	assert_true(pw_handshake_fast(&got));
	memmove(e->in.data, e->in.data + PW_HANDSHAKE_LEN, e->in.len - PW_HANDSHAKE_LEN);
	e->in.len -= PW_HANDSHAKE_LEN;
	assert_int_equal(e->t->n_peers, 1);
}

/* Our allowed-fast set for 10.1.2.3. */
static size_t af_set(struct env *e, uint32_t out[UPLOAD_AF_K])
{
	static const uint8_t ip[4] = { 10, 1, 2, 3 };

	return peer_wire_allowed_fast(ip, e->t->mi.info_hash, NPIECES, out, UPLOAD_AF_K);
}

static bool in_set(const uint32_t *set, size_t n, uint32_t piece)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == piece)
			return true;
	return false;
}

/* A seeding stad and a Fast remote: have all, then the allowed-fast set. */
static void fast_intro(struct env *e, uint32_t af[UPLOAD_AF_K])
{
	assert_int_equal(af_set(e, af), UPLOAD_AF_K);
	connect_remote(e, true);
	expect_msg(e, PW_MSG_HAVE_ALL, NULL);
	for (size_t i = 0; i < UPLOAD_AF_K; i++)
		expect_index(e, PW_MSG_ALLOWED_FAST, af[i]);
}

/* A Fast remote connected to the downloading stad, which sends have none
 * and its allowed-fast set; with seed, the remote then says have all and
 * stad becomes interested. */
static void connect_to_leech(struct env *e, bool seed)
{
	connect_remote(e, true);
	expect_msg(e, PW_MSG_HAVE_NONE, NULL);
	for (size_t i = 0; i < UPLOAD_AF_K; i++)
		expect_msg(e, PW_MSG_ALLOWED_FAST, NULL);
	if (!seed)
		return;
	send_simple(e, PW_MSG_HAVE_ALL);
	expect_msg(e, PW_MSG_INTERESTED, NULL);
}

static void expect_piece(struct env *e, uint32_t piece, uint32_t begin, uint32_t length)
{
	struct pw_msg m;

	expect_msg(e, PW_MSG_PIECE, &m);
	assert_int_equal(m.index, piece);
	assert_int_equal(m.begin, begin);
	assert_int_equal(m.data_len, length);
	assert_memory_equal(m.data, e->data + (size_t)piece * PLEN + begin, length);
}

static uint32_t first_not_allowed(const uint32_t *af)
{
	uint32_t p = 0;

	while (in_set(af, UPLOAD_AF_K, p))
		p++;
	return p;
}

static void test_fast_serve(void **state)
{
	struct env *e = *state;
	uint32_t af[UPLOAD_AF_K];

	fast_intro(e, af);
	send_simple(e, PW_MSG_INTERESTED);
	expect_msg(e, PW_MSG_UNCHOKE, NULL);
	send_block(e, PW_MSG_REQUEST, 3, 0, MI_BLOCK_SIZE);
	expect_piece(e, 3, 0, MI_BLOCK_SIZE);
	send_block(e, PW_MSG_REQUEST, 3, MI_BLOCK_SIZE, MI_BLOCK_SIZE);
	expect_piece(e, 3, MI_BLOCK_SIZE, MI_BLOCK_SIZE);
	/* The last piece's one short block. */
	send_block(e, PW_MSG_REQUEST, NPIECES - 1, 0, 5000);
	expect_piece(e, NPIECES - 1, 0, 5000);
	/* Longer than a block but inside the piece: rejected, kept. */
	send_block(e, PW_MSG_REQUEST, 1, 0, PLEN);
	expect_msg(e, PW_MSG_REJECT, NULL);
	send_block(e, PW_MSG_REQUEST, 0, 100, 200);
	expect_piece(e, 0, 100, 200);
	assert_int_equal(e->t->n_peers, 1);
	/* Suggest is a hint: ignored, connection kept. */
	send_index(e, PW_MSG_SUGGEST, 2);
	expect_quiet(e);
	/* Past the piece's end: a protocol violation. */
	send_block(e, PW_MSG_REQUEST, NPIECES - 1, 4096, 1000);
	expect_closed(e);
}

/* Choked: allowed-fast pieces are served, everything else rejected. */
static void test_fast_choked(void **state)
{
	struct env *e = *state;
	uint32_t af[UPLOAD_AF_K];

	fast_intro(e, af);
	uint32_t other = first_not_allowed(af);
	send_block(e, PW_MSG_REQUEST, other, 0, MI_BLOCK_SIZE);
	struct pw_msg m;
	expect_msg(e, PW_MSG_REJECT, &m);
	assert_int_equal(m.index, other);
	assert_int_equal(m.length, MI_BLOCK_SIZE);
	send_block(e, PW_MSG_REQUEST, af[0], MI_BLOCK_SIZE, MI_BLOCK_SIZE);
	expect_piece(e, af[0], MI_BLOCK_SIZE, MI_BLOCK_SIZE);
	/* Same bounds checks inside the set. */
	uint32_t psize = metainfo_piece_size(&e->t->mi, af[1]);
	send_block(e, PW_MSG_REQUEST, af[1], psize - 10, 11);
	expect_closed(e);
}

/* Without the Fast extension: bitfield intro, no allowed-fast, requests
 * while choked go unanswered, an over-long request drops the peer. */
static void test_plain_peer(void **state)
{
	struct env *e = *state;
	struct pw_msg m;

	connect_remote(e, false);
	expect_msg(e, PW_MSG_BITFIELD, &m);
	assert_int_equal(m.data_len, 2);
	assert_int_equal(m.data[0], 0xff);
	assert_int_equal(m.data[1], 0xf0);
	send_block(e, PW_MSG_REQUEST, 2, 0, MI_BLOCK_SIZE);
	expect_quiet(e);
	send_simple(e, PW_MSG_INTERESTED);
	expect_msg(e, PW_MSG_UNCHOKE, NULL);
	send_block(e, PW_MSG_REQUEST, 2, 0, MI_BLOCK_SIZE);
	expect_piece(e, 2, 0, MI_BLOCK_SIZE);
	send_block(e, PW_MSG_REQUEST, 2, 0, MI_BLOCK_SIZE + 1);
	expect_closed(e);
}

static void test_plain_peer_fast_message(void **state)
{
	struct env *e = *state;

	connect_remote(e, false);
	expect_msg(e, PW_MSG_BITFIELD, NULL);
	send_index(e, PW_MSG_ALLOWED_FAST, 1);
	expect_closed(e);
}

/* Hostile framing and values: each drops the connection. */
struct hostile {
	const char *what;
	uint8_t bytes[24];
	size_t len;
};

static const struct hostile hostile[] = {
	{ "have with a wrong length", { 0, 0, 0, 6, 4, 0, 0, 0, 1, 0 }, 10 },
	{ "choke with a body", { 0, 0, 0, 2, 0, 0 }, 6 },
	{ "request with a short body", { 0, 0, 0, 9, 6, 0, 0, 0, 1, 0, 0, 0, 0 }, 13 },
	{ "length prefix 4 GiB", { 0xff, 0xff, 0xff, 0xff, 7 }, 5 },
	{ "request of length 0", { 0, 0, 0, 13, 6, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0 }, 17 },
	{ "request past the last piece", { 0, 0, 0, 13, 6, 0, 0, 0, NPIECES, 0, 0, 0, 0,
	                                   0, 0, 0x40, 0 }, 17 },
	{ "request with wrapping begin", { 0, 0, 0, 13, 6, 0, 0, 0, 1, 0xff, 0xff, 0xc0, 0,
	                                   0, 0, 0x80, 0 }, 17 },
	{ "have out of range", { 0, 0, 0, 5, 4, 0, 0, 0, NPIECES }, 9 },
	{ "have far out of range", { 0, 0, 0, 5, 4, 0xff, 0xff, 0xff, 0xff }, 9 },
	{ "allowed fast out of range", { 0, 0, 0, 5, 0x11, 0, 0, 0, NPIECES }, 9 },
	{ "bitfield too short", { 0, 0, 0, 2, 5, 0xff }, 6 },
	{ "bitfield too long", { 0, 0, 0, 4, 5, 0xff, 0xf0, 0 }, 8 },
	{ "bitfield with a spare bit", { 0, 0, 0, 3, 5, 0xff, 0xf8 }, 7 },
	{ "block over 128 KiB", { 0, 2, 0, 0x0a, 7, 0, 0, 0, 1, 0, 0, 0, 0 }, 13 },
};

static void test_hostile(void **state)
{
	for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
		struct env *e = calloc(1, sizeof *e);
		uint32_t af[UPLOAD_AF_K];

		e->fd = -1;
		print_message("hostile: %s\n", hostile[i].what);
		env_start(e, true);
		fast_intro(e, af);
		send_raw(e, hostile[i].bytes, hostile[i].len);
		expect_closed(e);
		void *st = e;
		teardown(&st);
	}
}

/* A remote that is a seed, chokes us and allows pieces 5 and 7: we ask
 * for their blocks only, take them and verify them. */
static void test_download_allowed_fast(void **state)
{
	struct env *e = *state;
	struct pw_msg m;
	unsigned got[NPIECES] = { 0 };

	connect_to_leech(e, true);
	expect_quiet(e); /* choked, nothing allowed: no requests */
	send_index(e, PW_MSG_ALLOWED_FAST, 5);
	send_index(e, PW_MSG_ALLOWED_FAST, 7);
	send_index(e, PW_MSG_ALLOWED_FAST, 7); /* a repeat is harmless */
	for (unsigned n = 0; n < 4; n++) {
		expect_msg(e, PW_MSG_REQUEST, &m);
		assert_true(m.index == 5 || m.index == 7);
		assert_int_equal(m.begin % MI_BLOCK_SIZE, 0);
		assert_int_equal(m.length, MI_BLOCK_SIZE);
		got[m.index]++;
	}
	assert_int_equal(got[5], 2);
	assert_int_equal(got[7], 2);
	expect_quiet(e);
	/* Serve them; the pieces pass their hash and are announced. */
	for (uint32_t piece = 5; piece <= 7; piece += 2) {
		for (uint32_t b = 0; b < PLEN; b += MI_BLOCK_SIZE) {
			uint8_t hdr[PW_LEN_PIECE_HDR];
			send_raw(e, hdr, peer_wire_put_piece_header(hdr, piece, b, MI_BLOCK_SIZE));
			send_raw(e, e->data + (size_t)piece * PLEN + b, MI_BLOCK_SIZE);
		}
	}
	uint64_t end = now_ms() + WAIT_MS;
	while (picker_have_count(e->t->picker) < 2 && now_ms() < end)
		pump(e);
	assert_int_equal(picker_have_count(e->t->picker), 2);
	assert_true(bitfield_test(picker_have(e->t->picker), 5));
	assert_true(bitfield_test(picker_have(e->t->picker), 7));
	expect_quiet(e); /* no HAVE to a seed, no other request while choked */
	/* Unchoked, the rest is asked for. */
	send_simple(e, PW_MSG_UNCHOKE);
	expect_msg(e, PW_MSG_REQUEST, &m);
	assert_true(m.index != 5 && m.index != 7);
}

static unsigned torrent_events;
static uint8_t torrent_event_hash[20];

static void count_torrent_event(void *arg, const uint8_t info_hash[20])
{
	torrent_events++;
	memcpy(torrent_event_hash, info_hash, 20);
}

/* A full download from a seed that serves every request: the session's
 * torrent event (what the control server relays to watchers at once)
 * fires once, as the last piece passes, and not before. */
static void test_complete_event(void **state)
{
	struct env *e = *state;
	struct pw_msg m;

	torrent_events = 0;
	e->s.on_torrent_event = count_torrent_event;
	connect_to_leech(e, true);
	send_simple(e, PW_MSG_UNCHOKE);
	while (!torrent_is_complete(e->t) && next_msg(e, &m, WAIT_MS)) {
		assert_int_equal(torrent_events, 0);
		if (m.type != PW_MSG_REQUEST)
			continue;
		uint8_t hdr[PW_LEN_PIECE_HDR];
		send_pumped(e, hdr, peer_wire_put_piece_header(hdr, m.index, m.begin, m.length));
		send_pumped(e, e->data + (size_t)m.index * PLEN + m.begin, m.length);
	}
	assert_true(torrent_is_complete(e->t));
	assert_int_equal(torrent_events, 1);
	assert_memory_equal(torrent_event_hash, e->t->mi.info_hash, 20);
	e->s.on_torrent_event = NULL;
}

/* Real clients send the BEP 10 handshake before have all (libtorrent)
 * and repeat the bitfield (aria2): each bitfield, have all or have none
 * replaces what we knew of the remote's pieces. */
static void test_intro_out_of_order(void **state)
{
	struct env *e = *state;
	struct sta_buf ext = STA_BUF_INIT;
	struct pw_ext_hs hs = { .n_ext = 1, .ext = { { "ut_metadata", 2 } }, .version = "test 1.0" };
	uint8_t bits[2] = { 0x10, 0 }; /* piece 3 only */
	struct sta_buf bf = STA_BUF_INIT;

	connect_to_leech(e, false);
	peer_wire_ext_hs_build(&ext, &hs);
	send_raw(e, ext.data, ext.len);
	send_index(e, PW_MSG_HAVE, 1);
	expect_msg(e, PW_MSG_INTERESTED, NULL);
	assert_int_equal(picker_availability(e->t->picker, 1), 1);
	peer_wire_append_bitfield(&bf, bits, sizeof bits);
	send_raw(e, bf.data, bf.len);
	send_raw(e, bf.data, bf.len); /* the same again */
	expect_quiet(e);
	assert_int_equal(picker_availability(e->t->picker, 1), 0);
	assert_int_equal(picker_availability(e->t->picker, 3), 1);
	send_simple(e, PW_MSG_HAVE_NONE);
	expect_msg(e, PW_MSG_NOT_INTERESTED, NULL);
	assert_int_equal(picker_availability(e->t->picker, 3), 0);
	send_simple(e, PW_MSG_HAVE_ALL);
	expect_msg(e, PW_MSG_INTERESTED, NULL);
	assert_int_equal(picker_availability(e->t->picker, 1), 1);
	send_raw(e, bf.data, bf.len); /* a seed counted as such becomes a bitfield peer */
	expect_quiet(e);
	assert_int_equal(picker_availability(e->t->picker, 1), 0);
	assert_int_equal(picker_availability(e->t->picker, 3), 1);
	assert_int_equal(e->t->n_peers, 1);
	buf_free(&ext);
	buf_free(&bf);
}

/* Incoming handshakes that cannot be served are dropped before a torrent
 * is attached. With encryption on, a first byte other than 19 would start
 * an MSE handshake (test_stad_mse covers those), so it is off here. */
static void test_bad_handshakes(void **state)
{
	struct env *e = *state;
	uint8_t hs[PW_HANDSHAKE_LEN], other[20];

	config_set_str(&e->cfg.encryption, "off");
	memset(other, 0x5a, sizeof other);
	for (int i = 0; i < 3; i++) {
		int sv[2];
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(1) };
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
		assert_non_null(peer_accept(&e->s, sv[0], (struct sockaddr *)&sin, sizeof sin));
		e->fd = sv[1];
		e->eof = false;
		peer_wire_handshake_build(hs, i == 0 ? other : e->t->mi.info_hash, e->s.peer_id);
		if (i == 1)
			hs[0] = 18;           /* wrong protocol string length */
		/* i == 2: our own peer id: we dialled ourselves */
		send_raw(e, hs, sizeof hs);
		uint64_t end = now_ms() + WAIT_MS;
		while (!e->eof && now_ms() < end)
			pump(e);
		assert_true(e->eof);
		assert_true(TAILQ_EMPTY(&e->s.handshaking));
		assert_int_equal(e->t->n_peers, 0);
		close(e->fd);
		e->fd = -1;
	}
}

/* Blocks nobody asked for are dropped without taking a piece buffer: a
 * peer spraying them must not eat the cache budget and stall downloads. */
static void test_unsolicited_blocks(void **state)
{
	struct env *e = *state;
	uint8_t hdr[PW_LEN_PIECE_HDR];

	connect_to_leech(e, true);
	for (uint32_t piece = 0; piece < NPIECES; piece++) {
		uint32_t len = TOTAL - piece * PLEN < MI_BLOCK_SIZE ? TOTAL - piece * PLEN : MI_BLOCK_SIZE;
		send_raw(e, hdr, peer_wire_put_piece_header(hdr, piece, 0, len));
		send_raw(e, e->data + (size_t)piece * PLEN, len);
	}
	expect_quiet(e);
	assert_int_equal(e->s.pool.in_use, 0);
	for (uint32_t piece = 0; piece < NPIECES; piece++)
		assert_null(torrent_piece_buf(e->t, piece));
	assert_int_equal(picker_have_count(e->t->picker), 0);
	assert_int_equal(e->t->n_peers, 1);
}

int main(void)
{
	if (getenv("STA_TEST_DEBUG"))
		log_set_level(LOG_DEBUG);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fast_serve, setup_seed, teardown),
		cmocka_unit_test_setup_teardown(test_fast_choked, setup_seed, teardown),
		cmocka_unit_test_setup_teardown(test_plain_peer, setup_seed, teardown),
		cmocka_unit_test_setup_teardown(test_plain_peer_fast_message, setup_seed, teardown),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test_setup_teardown(test_bad_handshakes, setup_seed, teardown),
		cmocka_unit_test_setup_teardown(test_download_allowed_fast, setup_leech, teardown),
		cmocka_unit_test_setup_teardown(test_unsolicited_blocks, setup_leech, teardown),
		cmocka_unit_test_setup_teardown(test_intro_out_of_order, setup_leech, teardown),
		cmocka_unit_test_setup_teardown(test_complete_event, setup_leech, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
