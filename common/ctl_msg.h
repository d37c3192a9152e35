/* The payloads of the control protocol (ctl_proto.h) as C structs: one
 * encoder and one decoder for each, shared by stad and stactl, so that no
 * payload key is spelled anywhere else. Each struct member is named after
 * its key on the wire.
 *
 * Integers are sent only when >= 0; a decoded integer that is missing, not
 * an integer or negative is CTL_UNKNOWN. Strings point into the caller's
 * memory (encoding) or into the decoded frame (decoding: valid while the
 * be_doc's input is); p == NULL means absent. Request arguments marked
 * "arg" must be 1 to CTL_ARG_MAX bytes without a NUL, so that stad can
 * use them as C strings (ctl_str_dup). Decoders take a payload dict from
 * ctl_payload_decode; they fail, with a sentence in err, only when a
 * required field is missing or an argument is malformed. A list item that
 * is not a dict decodes with every field unknown, so that a client shows
 * "?" for what it cannot read. Lists and nested dicts are allocated:
 * free them with the struct's _free function.
 */
#ifndef STA_CTL_MSG_H
#define STA_CTL_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bencode.h"
#include "buf.h"
#include "catalog_proto.h"

#define CTL_UNKNOWN (-1)
#define CTL_ARG_MAX 4096

/* ERROR codes. */
#define CTL_ERR_VERSION "version"
#define CTL_ERR_NOT_FOUND "not_found"
#define CTL_ERR_BAD_REQUEST "bad_request"
#define CTL_ERR_BUSY "busy"
#define CTL_ERR_IO "io"
#define CTL_ERR_INTERNAL "internal"

/* A torrent's state. */
#define CTL_STATE_METADATA "metadata"   /* a magnet link's, fetching its info dict */
#define CTL_STATE_CHECKING "checking"
#define CTL_STATE_DOWNLOADING "downloading"
#define CTL_STATE_SEEDING "seeding"
#define CTL_STATE_PAUSED "paused"
#define CTL_STATE_ERROR "error"
#define CTL_STATE_CLOSED "closed"   /* after CLOSE, until START */

struct ctl_str {
	const char *p;
	size_t len;
};

/* HELLO. */
struct ctl_hello {
	struct ctl_str client;          /* arg, required: "stactl 0.1.0" */
};
/* OK to HELLO. */
struct ctl_hello_reply {
	struct ctl_str server;          /* "stad 0.1.0" */
	int64_t version;                /* CTL_PROTO_VERSION of stad */
};
/* ERROR. */
struct ctl_error {
	struct ctl_str code;            /* CTL_ERR_* */
	struct ctl_str message;         /* a sentence for the user */
};

/* STATUS. */
struct ctl_status_args {
	int64_t peers;                  /* 1: add each torrent's peer_list */
	struct ctl_str torrent;         /* arg: info-hash hex prefix or name */
};
/* REQUEST. */
struct ctl_request_args {
	struct ctl_str target;          /* arg, required: catalog name, info-hash
	                                   prefix, or absolute .torrent path */
};
/* SHARE. */
struct ctl_share_args {
	struct ctl_str path;            /* arg, required: absolute path */
};
/* UPDATE: a page of the catalog. */
struct ctl_update_args {
	struct ctl_str after;           /* arg: the "next" of the previous page */
	int64_t limit;                  /* entries, 1 to CATALOG_LIMIT_MAX */
};
/* SEARCH: a page of the entries whose names hold the words. */
struct ctl_search_args {
	struct ctl_str after;
	int64_t limit;
	struct ctl_str words;           /* arg, required */
};
/* REMOVE, PAUSE, RESUME, WATCH. */
struct ctl_torrent_args {
	int64_t delete_data;            /* REMOVE: 1 also deletes the data */
	struct ctl_str torrent;         /* arg, required */
};

/* One peer of a torrent (STATUS with peers). */
struct ctl_peer {
	struct ctl_str addr;            /* "127.0.0.1:6881", "[::1]:6881" */
	int64_t blocks;                 /* blocks received */
	int64_t blocks_up;              /* blocks sent */
	struct ctl_str client;          /* from its peer id or BEP 10 "v" */
	int64_t down;                   /* payload bytes received */
	int64_t down_rate;              /* bytes/s */
	struct ctl_str flags;           /* letters, see stactl(1) */
	int64_t hash_fails;             /* failed pieces it sent blocks of */
	int64_t up;                     /* payload bytes sent */
	int64_t up_rate;
};

/* One torrent: a STATUS entry, an EVENT, the torrent of a reply. */
struct ctl_torrent {
	int64_t complete;               /* 1: every piece verified. In an EVENT: the
	                                   last of a download; down_rate is then
	                                   its average and peers those that sent
	                                   blocks */
	int64_t done;                   /* bytes verified */
	int64_t down_rate;              /* bytes/s */
	int64_t downloaded;             /* payload bytes, over its life */
	struct ctl_str error;           /* state "error": why, and the fix */
	int64_t eta;                    /* seconds; unknown without a rate */
	struct ctl_str info_hash;       /* 40 hex digits */
	struct ctl_str name;
	struct ctl_str path;            /* where its data is (file or directory) */
	struct ctl_peer *peer_list;     /* STATUS with peers only */
	size_t n_peer_list;
	int64_t peers;                  /* connected peers */
	int64_t pieces;
	int64_t pieces_done;
	int64_t ratio_milli;            /* uploaded per byte downloaded (per byte
	                                   verified when nothing was downloaded,
	                                   as for a share), x 1000 */
	int64_t seeds;                  /* connected peers that have everything */
	int64_t shared;                 /* 1: stad shares it (its own data) */
	int64_t size;                   /* bytes */
	struct ctl_str state;           /* CTL_STATE_* */
	int64_t super_seeding;          /* 1: seeding as a super-seed (BEP 16) */
	struct ctl_str tracker;         /* the last announce: "ok, 3 peers", ... */
	int64_t tracker_seeders;        /* seeders the tracker last reported */
	int64_t up_rate;
	int64_t uploaded;
	int64_t wasted;                 /* bytes received and dropped (duplicates) */
	struct ctl_str dht;             /* its DHT lookups: "5 peers from 8 nodes", ... */
};

/* OK to START. */
struct ctl_start_reply {
	int64_t announced;              /* torrents announced now */
};

/* The DHT node's health, in STATUS (absent when the node is off). */
struct ctl_dht {
	int64_t good_nodes;             /* answered within 15 minutes (BEP 5) */
	int64_t lookups;                /* in flight */
	int64_t nodes;                  /* in the routing tables, IPv4 and IPv6 */
	int64_t nodes6;                 /* of those, IPv6 (BEP 32) */
	int64_t stored_peers;           /* announced to us by other nodes */
};

/* OK to STATUS. */
struct ctl_status {
	int64_t closed;                 /* 1: after CLOSE, until START */
	struct ctl_torrent *torrents;   /* required (may be empty) */
	size_t n_torrents;
	struct ctl_dht *dht;            /* NULL: the DHT node is off */
};

/* OK to CLOSE, once the stopped announces are out. */
struct ctl_close_reply {
	int64_t changed;                /* 0: stad was closed already */
	struct ctl_torrent *torrents;   /* required: the torrents that left
	                                   their swarms */
	size_t n_torrents;
};

/* OK to REQUEST, SHARE, REMOVE, PAUSE and RESUME: the torrent after the
 * change (REMOVE: before it), and whether anything changed (0: it was
 * known already, paused already, ...). */
struct ctl_torrent_reply {
	int64_t changed;
	struct ctl_str note;            /* REQUEST: which of several same-named
	                                   catalog entries was chosen */
	struct ctl_torrent *torrent;
};

/* Each encoder appends one whole frame to b; false, with b as it was, when
 * it would exceed CTL_FRAME_MAX. */
bool ctl_hello_encode(struct sta_buf *b, const struct ctl_hello *m);
bool ctl_hello_reply_encode(struct sta_buf *b, const struct ctl_hello_reply *m);
bool ctl_error_encode(struct sta_buf *b, const struct ctl_error *m);
bool ctl_status_args_encode(struct sta_buf *b, const struct ctl_status_args *m);
bool ctl_request_args_encode(struct sta_buf *b, const struct ctl_request_args *m);
bool ctl_share_args_encode(struct sta_buf *b, const struct ctl_share_args *m);
/* type: CTL_MSG_REMOVE, _PAUSE, _RESUME or _WATCH. */
bool ctl_torrent_args_encode(struct sta_buf *b, uint16_t type, const struct ctl_torrent_args *m);
bool ctl_update_args_encode(struct sta_buf *b, const struct ctl_update_args *m);
bool ctl_search_args_encode(struct sta_buf *b, const struct ctl_search_args *m);
/* A message without a payload: START, UPDATE, CLOSE, an empty OK. */
bool ctl_empty_encode(struct sta_buf *b, uint16_t type);
bool ctl_start_reply_encode(struct sta_buf *b, const struct ctl_start_reply *m);
bool ctl_status_encode(struct sta_buf *b, const struct ctl_status *m);
bool ctl_close_reply_encode(struct sta_buf *b, const struct ctl_close_reply *m);
bool ctl_torrent_reply_encode(struct sta_buf *b, const struct ctl_torrent_reply *m);
bool ctl_event_encode(struct sta_buf *b, const struct ctl_torrent *m);
/* OK to UPDATE and SEARCH: the page in the catalog's own listing format
 * (catalog_proto.h), decoded with its rules (an entry stad could not vouch
 * for is skipped and counted), and "announce": the tracker's announce URL
 * (NULL: none), the tr of the entries' magnet links (catalog_entry_magnet). */
bool ctl_listing_encode(struct sta_buf *b, const struct catalog_listing *l, const char *announce);
bool ctl_listing_decode(const struct be_doc *doc, struct catalog_listing *l, size_t *skipped,
                        char *err, size_t errlen);
/* The listing's announce URL into url (NUL-terminated); false when there
 * is none or it is not an http, https or udp URL of at most urlsz - 1 bytes. */
bool ctl_listing_announce(const struct be_doc *doc, char *url, size_t urlsz);

bool ctl_hello_decode(const struct be_doc *doc, struct ctl_hello *m, char *err, size_t errlen);
bool ctl_hello_reply_decode(const struct be_doc *doc, struct ctl_hello_reply *m, char *err,
                            size_t errlen);
bool ctl_error_decode(const struct be_doc *doc, struct ctl_error *m, char *err, size_t errlen);
bool ctl_status_args_decode(const struct be_doc *doc, struct ctl_status_args *m, char *err,
                            size_t errlen);
bool ctl_request_args_decode(const struct be_doc *doc, struct ctl_request_args *m, char *err,
                             size_t errlen);
bool ctl_share_args_decode(const struct be_doc *doc, struct ctl_share_args *m, char *err,
                           size_t errlen);
bool ctl_torrent_args_decode(const struct be_doc *doc, struct ctl_torrent_args *m, char *err,
                             size_t errlen);
bool ctl_update_args_decode(const struct be_doc *doc, struct ctl_update_args *m, char *err,
                            size_t errlen);
bool ctl_search_args_decode(const struct be_doc *doc, struct ctl_search_args *m, char *err,
                            size_t errlen);
bool ctl_start_reply_decode(const struct be_doc *doc, struct ctl_start_reply *m, char *err,
                            size_t errlen);
bool ctl_status_decode(const struct be_doc *doc, struct ctl_status *m, char *err, size_t errlen);
bool ctl_close_reply_decode(const struct be_doc *doc, struct ctl_close_reply *m, char *err,
                            size_t errlen);
bool ctl_torrent_reply_decode(const struct be_doc *doc, struct ctl_torrent_reply *m, char *err,
                              size_t errlen);
/* An EVENT; free with ctl_torrent_free. */
bool ctl_event_decode(const struct be_doc *doc, struct ctl_torrent *m, char *err, size_t errlen);

/* Free what a decoder (or an encoder's caller, with malloc) allocated:
 * lists and nested dicts, not the strings. */
void ctl_status_free(struct ctl_status *m);
void ctl_close_reply_free(struct ctl_close_reply *m);
void ctl_torrent_reply_free(struct ctl_torrent_reply *m);
void ctl_torrent_free(struct ctl_torrent *m);

/* Every field unknown or absent, to fill in some. */
void ctl_torrent_init(struct ctl_torrent *m);

/* An ERROR frame in one call. */
void ctl_frame_error(struct sta_buf *b, const char *code, const char *message);

static inline struct ctl_str ctl_str_c(const char *s)
{
	struct ctl_str r = { s, 0 };

	while (s && s[r.len])
		r.len++;
	return r;
}
/* s as a heap C string ("" when absent); for args, which hold no NUL. */
char *ctl_str_dup(struct ctl_str s);
bool ctl_str_eq(struct ctl_str s, const char *c);

#endif
