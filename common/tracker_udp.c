/* UDP tracker protocol (BEP 15) and the compact peer format it shares with
 * HTTP replies. Every layout is fixed; lengths are checked before any load. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "tracker_proto.h"
#include "xmalloc.h"

#define UDP_HEADER_LEN 16          /* connection_id, action, transaction_id */
#define UDP_ANNOUNCE_LEN 98
#define UDP_REPLY_HEADER_LEN 8     /* action, transaction_id */
#define UDP_ANNOUNCE_REPLY_LEN 20
#define UDP_SCRAPE_ENTRY_LEN 12

static size_t compact_entry_len(int family)
{
	return family == AF_INET ? 6 : family == AF_INET6 ? 18 : 0;
}

size_t tracker_compact_peers_encode(struct sta_buf *out, const struct tracker_peer *peers,
                                    size_t n, int family, size_t max)
{
	size_t elen = compact_entry_len(family), done = 0;

	if (elen == 0)
		return 0;
	/* One reservation, then plain stores (fixed-size copies the compiler
	 * inlines): this runs for every announce. */
	buf_reserve(out, (n < max ? n : max) * elen);
	uint8_t *w = out->data + out->len;
	for (size_t i = 0; i < n && done < max; i++) {
		if (peers[i].family != family)
			continue;
		if (family == AF_INET)
			memcpy(w, peers[i].addr, 4);
		else
			memcpy(w, peers[i].addr, 16);
		store_u16be(w + elen - 2, peers[i].port);
		w += elen;
		done++;
	}
	out->len += done * elen;
	return done;
}

size_t tracker_compact_peers_decode(const uint8_t *p, size_t len, int family,
                                    struct tracker_peer *out, size_t room)
{
	size_t elen = compact_entry_len(family), done = 0;

	for (size_t off = 0; elen && len - off >= elen && done < room; off += elen) {
		uint16_t port = load_u16be(p + off + elen - 2);
		if (port == 0)
			continue;
		memset(&out[done], 0, sizeof out[done]);
		out[done].family = family;
		memcpy(out[done].addr, p + off, elen - 2);
		out[done].port = port;
		done++;
	}
	return done;
}

/* ---- server side ---- */

static bool udp_decode_announce(const uint8_t *pkt, struct announce_req *a,
                                struct tracker_error *err)
{
	uint32_t event = load_u32be(pkt + 80), numwant = load_u32be(pkt + 92);

	if (event > TRACKER_EVENT_PAUSED) {
		tracker_error_set(err, "invalid event %u", event);
		return false;
	}
	memcpy(a->info_hash, pkt + 16, TRACKER_HASH_LEN);
	memcpy(a->peer_id, pkt + 36, TRACKER_HASH_LEN);
	a->downloaded = load_u64be(pkt + 56);
	a->left = load_u64be(pkt + 64);
	a->uploaded = load_u64be(pkt + 72);
	a->event = (enum tracker_event)event;
	if (load_u32be(pkt + 84) != 0) {
		a->ip_family = AF_INET;
		memcpy(a->ip, pkt + 84, 4);
	}
	a->has_key = true;
	a->key = load_u32be(pkt + 88);
	/* num_want is signed on the wire: -1 (or any negative) means default. */
	a->numwant = numwant > INT32_MAX ? TRACKER_NUMWANT_DEFAULT :
	             numwant > TRACKER_NUMWANT_MAX ? TRACKER_NUMWANT_MAX : numwant;
	a->port = load_u16be(pkt + 96);
	a->compact = true;
	if (a->port == 0) {
		tracker_error_set(err, "invalid port 0");
		return false;
	}
	return true;
}

bool udp_decode_request(const uint8_t *pkt, size_t len, struct udp_request *req,
                        struct tracker_error *err)
{
	/* Not the whole struct: the scrape's hash array alone is 1480 bytes, and
	 * this runs for every datagram. Each action clears what it fills. */
	req->action = UDP_ACTION_CONNECT;
	req->connection_id = 0;
	req->transaction_id = 0;
	req->scrape.n = 0;
	if (len < UDP_HEADER_LEN) {
		tracker_error_set(err, "packet too short: %zu bytes", len);
		return false;
	}
	req->connection_id = load_u64be(pkt);
	req->transaction_id = load_u32be(pkt + 12);
	uint32_t action = load_u32be(pkt + 8);
	req->action = (enum udp_action)action;
	switch (action) {
	case UDP_ACTION_CONNECT:
		if (req->connection_id != UDP_TRACKER_PROTOCOL_ID) {
			tracker_error_set(err, "bad protocol id");
			return false;
		}
		return true;
	case UDP_ACTION_ANNOUNCE:
		if (len < UDP_ANNOUNCE_LEN) {
			tracker_error_set(err, "announce too short: %zu bytes, need %d", len,
			                  UDP_ANNOUNCE_LEN);
			return false;
		}
		memset(&req->announce, 0, sizeof req->announce);
		return udp_decode_announce(pkt, &req->announce, err);
	case UDP_ACTION_SCRAPE: {
		size_t body = len - UDP_HEADER_LEN, n = body / TRACKER_HASH_LEN;
		if (n == 0 || body % TRACKER_HASH_LEN != 0 || n > TRACKER_SCRAPE_MAX) {
			tracker_error_set(err, "bad scrape length %zu", len);
			return false;
		}
		req->scrape.n = n;
		memcpy(req->scrape.info_hash, pkt + UDP_HEADER_LEN, body);
		return true;
	}
	default:
		tracker_error_set(err, "unknown action %u", action);
		return false;
	}
}

static void udp_reply_header(struct sta_buf *out, enum udp_action action, uint32_t tid)
{
	buf_append_u32be(out, (uint32_t)action);
	buf_append_u32be(out, tid);
}

void udp_encode_connect_reply(struct sta_buf *out, uint32_t transaction_id, uint64_t connection_id)
{
	udp_reply_header(out, UDP_ACTION_CONNECT, transaction_id);
	buf_append_u64be(out, connection_id);
}

/* Peers beyond what fits UDP_TRACKER_MAX_PACKET are left out. */
void udp_encode_announce_reply(struct sta_buf *out, uint32_t transaction_id,
                               const struct announce_resp *resp, int family)
{
	size_t elen = compact_entry_len(family);

	udp_reply_header(out, UDP_ACTION_ANNOUNCE, transaction_id);
	buf_append_u32be(out, resp->interval);
	buf_append_u32be(out, resp->incomplete);
	buf_append_u32be(out, resp->complete);
	if (elen != 0)
		tracker_compact_peers_encode(out, resp->peers, resp->n_peers, family,
		                             (UDP_TRACKER_MAX_PACKET - UDP_ANNOUNCE_REPLY_LEN) / elen);
}

void udp_encode_scrape_reply(struct sta_buf *out, uint32_t transaction_id,
                             const struct scrape_entry *e, size_t n)
{
	udp_reply_header(out, UDP_ACTION_SCRAPE, transaction_id);
	for (size_t i = 0; i < n; i++) {
		buf_append_u32be(out, e[i].complete);
		buf_append_u32be(out, e[i].downloaded);
		buf_append_u32be(out, e[i].incomplete);
	}
}

void udp_encode_error(struct sta_buf *out, uint32_t transaction_id, const char *msg)
{
	size_t len = strlen(msg);

	udp_reply_header(out, UDP_ACTION_ERROR, transaction_id);
	if (len > UDP_TRACKER_MAX_PACKET - UDP_REPLY_HEADER_LEN)
		len = UDP_TRACKER_MAX_PACKET - UDP_REPLY_HEADER_LEN;
	buf_append(out, msg, len);
}

/* ---- client side ---- */

static void udp_request_header(struct sta_buf *out, uint64_t cid, enum udp_action action,
                               uint32_t tid)
{
	buf_append_u64be(out, cid);
	buf_append_u32be(out, (uint32_t)action);
	buf_append_u32be(out, tid);
}

void udp_encode_connect(struct sta_buf *out, uint32_t transaction_id)
{
	udp_request_header(out, UDP_TRACKER_PROTOCOL_ID, UDP_ACTION_CONNECT, transaction_id);
}

void udp_encode_announce(struct sta_buf *out, uint64_t connection_id, uint32_t transaction_id,
                         const struct announce_req *req)
{
	udp_request_header(out, connection_id, UDP_ACTION_ANNOUNCE, transaction_id);
	buf_append(out, req->info_hash, TRACKER_HASH_LEN);
	buf_append(out, req->peer_id, TRACKER_HASH_LEN);
	buf_append_u64be(out, req->downloaded);
	buf_append_u64be(out, req->left);
	buf_append_u64be(out, req->uploaded);
	buf_append_u32be(out, (uint32_t)req->event);
	if (req->ip_family == AF_INET)
		buf_append(out, req->ip, 4);
	else
		buf_append_u32be(out, 0);
	buf_append_u32be(out, req->key);
	buf_append_u32be(out, req->numwant > INT32_MAX ? INT32_MAX : req->numwant);
	buf_append_u16be(out, req->port);
}

void udp_encode_scrape(struct sta_buf *out, uint64_t connection_id, uint32_t transaction_id,
                       const struct scrape_req *req)
{
	size_t n = req->n < TRACKER_SCRAPE_MAX ? req->n : TRACKER_SCRAPE_MAX;

	udp_request_header(out, connection_id, UDP_ACTION_SCRAPE, transaction_id);
	buf_append(out, req->info_hash, n * TRACKER_HASH_LEN);
}

static bool udp_decode_announce_reply(const uint8_t *pkt, size_t len, int family,
                                      size_t max_peers, struct udp_reply *reply,
                                      struct tracker_error *err)
{
	size_t elen = compact_entry_len(family);

	if (elen == 0) {
		tracker_error_set(err, "unknown address family %d", family);
		return false;
	}
	if (len < UDP_ANNOUNCE_REPLY_LEN || (len - UDP_ANNOUNCE_REPLY_LEN) % elen != 0) {
		tracker_error_set(err, "bad announce reply length %zu", len);
		return false;
	}
	size_t body = len - UDP_ANNOUNCE_REPLY_LEN;
	reply->interval = load_u32be(pkt + 8);
	reply->leechers = load_u32be(pkt + 12);
	reply->seeders = load_u32be(pkt + 16);
	size_t room = body / elen < max_peers ? body / elen : max_peers;
	if (room > 0) {
		reply->peers = xcalloc(room, sizeof *reply->peers);
		reply->n_peers = tracker_compact_peers_decode(pkt + UDP_ANNOUNCE_REPLY_LEN, body,
		                                              family, reply->peers, room);
	}
	return true;
}

bool udp_decode_reply(const uint8_t *pkt, size_t len, int family, size_t max_peers,
                      struct udp_reply *reply, struct tracker_error *err)
{
	memset(reply, 0, sizeof *reply);
	if (len < UDP_REPLY_HEADER_LEN) {
		tracker_error_set(err, "packet too short: %zu bytes", len);
		return false;
	}
	uint32_t action = load_u32be(pkt);
	reply->action = (enum udp_action)action;
	reply->transaction_id = load_u32be(pkt + 4);
	switch (action) {
	case UDP_ACTION_CONNECT:
		if (len < UDP_HEADER_LEN) {
			tracker_error_set(err, "connect reply too short: %zu bytes", len);
			return false;
		}
		reply->connection_id = load_u64be(pkt + 8);
		return true;
	case UDP_ACTION_ANNOUNCE:
		return udp_decode_announce_reply(pkt, len, family, max_peers, reply, err);
	case UDP_ACTION_SCRAPE: {
		size_t body = len - UDP_REPLY_HEADER_LEN, n = body / UDP_SCRAPE_ENTRY_LEN;
		if (body % UDP_SCRAPE_ENTRY_LEN != 0 || n > TRACKER_SCRAPE_MAX) {
			tracker_error_set(err, "bad scrape reply length %zu", len);
			return false;
		}
		for (size_t i = 0; i < n; i++) {
			const uint8_t *e = pkt + UDP_REPLY_HEADER_LEN + i * UDP_SCRAPE_ENTRY_LEN;
			reply->scrape[i].complete = load_u32be(e);
			reply->scrape[i].downloaded = load_u32be(e + 4);
			reply->scrape[i].incomplete = load_u32be(e + 8);
		}
		reply->n_scrape = n;
		return true;
	}
	case UDP_ACTION_ERROR:
		log_escape(reply->error, sizeof reply->error, pkt + UDP_REPLY_HEADER_LEN,
		           len - UDP_REPLY_HEADER_LEN);
		return true;
	default:
		tracker_error_set(err, "unknown action %u", action);
		return false;
	}
}

void udp_reply_free(struct udp_reply *reply)
{
	free(reply->peers);
	reply->peers = NULL;
	reply->n_peers = 0;
}
