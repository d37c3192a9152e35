/* Decodes a control payload as one of the typed messages (the first byte
 * picks which), then checks that a decoded message encodes in sorted-key
 * order and that decoding and encoding it again gives the same bytes. Any
 * payload is also read for a listing's announce URL. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_msg.h"
#include "ctl_proto.h"
#include "metainfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

union any {
	struct ctl_hello hello;
	struct ctl_hello_reply hello_reply;
	struct ctl_error error;
	struct ctl_status_args status_args;
	struct ctl_request_args request_args;
	struct ctl_share_args share_args;
	struct ctl_torrent_args torrent_args;
	struct ctl_start_reply start_reply;
	struct ctl_status status;
	struct ctl_close_reply close_reply;
	struct ctl_torrent_reply torrent_reply;
	struct ctl_torrent event;
	struct ctl_update_args update_args;
	struct ctl_search_args search_args;
};

/* Decodes doc into m as message kind; encodes m into b. */
static bool decode(unsigned kind, const struct be_doc *doc, union any *m)
{
	char err[256];

	switch (kind) {
	case 0: return ctl_hello_decode(doc, &m->hello, err, sizeof err);
	case 1: return ctl_hello_reply_decode(doc, &m->hello_reply, err, sizeof err);
	case 2: return ctl_error_decode(doc, &m->error, err, sizeof err);
	case 3: return ctl_status_args_decode(doc, &m->status_args, err, sizeof err);
	case 4: return ctl_request_args_decode(doc, &m->request_args, err, sizeof err);
	case 5: return ctl_share_args_decode(doc, &m->share_args, err, sizeof err);
	case 6: return ctl_torrent_args_decode(doc, &m->torrent_args, err, sizeof err);
	case 7: return ctl_start_reply_decode(doc, &m->start_reply, err, sizeof err);
	case 8: return ctl_status_decode(doc, &m->status, err, sizeof err);
	case 9: return ctl_close_reply_decode(doc, &m->close_reply, err, sizeof err);
	case 10: return ctl_torrent_reply_decode(doc, &m->torrent_reply, err, sizeof err);
	case 11: return ctl_event_decode(doc, &m->event, err, sizeof err);
	case 12: return ctl_update_args_decode(doc, &m->update_args, err, sizeof err);
	default: return ctl_search_args_decode(doc, &m->search_args, err, sizeof err);
	}
}

static bool encode(unsigned kind, struct sta_buf *b, const union any *m)
{
	switch (kind) {
	case 0: return ctl_hello_encode(b, &m->hello);
	case 1: return ctl_hello_reply_encode(b, &m->hello_reply);
	case 2: return ctl_error_encode(b, &m->error);
	case 3: return ctl_status_args_encode(b, &m->status_args);
	case 4: return ctl_request_args_encode(b, &m->request_args);
	case 5: return ctl_share_args_encode(b, &m->share_args);
	case 6: return ctl_torrent_args_encode(b, CTL_MSG_PAUSE, &m->torrent_args);
	case 7: return ctl_start_reply_encode(b, &m->start_reply);
	case 8: return ctl_status_encode(b, &m->status);
	case 9: return ctl_close_reply_encode(b, &m->close_reply);
	case 10: return ctl_torrent_reply_encode(b, &m->torrent_reply);
	case 11: return ctl_event_encode(b, &m->event);
	case 12: return ctl_update_args_encode(b, &m->update_args);
	default: return ctl_search_args_encode(b, &m->search_args);
	}
}

static void release(unsigned kind, union any *m)
{
	if (kind == 8)
		ctl_status_free(&m->status);
	else if (kind == 9)
		ctl_close_reply_free(&m->close_reply);
	else if (kind == 10)
		ctl_torrent_reply_free(&m->torrent_reply);
	else if (kind == 11)
		ctl_torrent_free(&m->event);
}

/* The payload of the one frame in b, decoded with sorted keys required. */
static bool payload(const struct sta_buf *b, struct be_doc *doc)
{
	static const struct be_limits strict = { 8, 200000, true };
	struct ctl_frame f;
	size_t consumed;
	const char *why;

	if (ctl_frame_parse(b->data, b->len, &f, &consumed, &why) != CTL_FRAME_OK ||
	    consumed != b->len)
		abort();
	return be_decode(doc, f.payload, f.payload_len, &strict, NULL) == BE_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned kind = data[0] % 14;
	struct ctl_frame f = { CTL_PROTO_VERSION, CTL_MSG_OK, data + 1, (uint32_t)(size - 1) };
	struct be_doc doc, doc2;
	union any m, m2;
	struct sta_buf b1 = STA_BUF_INIT, b2 = STA_BUF_INIT;

	if (size - 1 > CTL_FRAME_MAX || ctl_payload_decode(&f, &doc) != BE_OK)
		return 0;
	/* A listing's announce URL, whatever the kind: a URL stad could use. */
	char url[128], problem[80];
	if (ctl_listing_announce(&doc, url, sizeof url) &&
	    (memchr(url, '\0', sizeof url) == NULL ||
	     metainfo_url_kind(url, strlen(url), problem, sizeof problem) != 1))
		abort();
	if (!decode(kind, &doc, &m)) {
		be_doc_free(&doc);
		return 0;
	}
	/* What decoded is re-encoded (it may be too large only if the input
	 * was), decodes again, and encodes to the same bytes. */
	if (encode(kind, &b1, &m)) {
		if (!payload(&b1, &doc2) || !decode(kind, &doc2, &m2))
			abort();
		if (!encode(kind, &b2, &m2) || b1.len != b2.len || memcmp(b1.data, b2.data, b1.len))
			abort();
		release(kind, &m2);
		be_doc_free(&doc2);
	}
	release(kind, &m);
	be_doc_free(&doc);
	buf_free(&b1);
	buf_free(&b2);
	return 0;
}
