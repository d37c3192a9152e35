#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ctl_msg.h"
#include "ctl_proto.h"

static void test_round_trip(void **state)
{
	struct sta_buf b = STA_BUF_INIT;
	size_t start = ctl_frame_begin(&b, CTL_MSG_REQUEST);
	be_enc_kv_cstr(&b, "target", "hello_big.txt");
	assert_true(ctl_frame_end(&b, start));

	struct ctl_frame f;
	size_t consumed = 0;
	const char *why = NULL;
	/* Every strict prefix is "need more", never an error. */
	for (size_t i = 0; i < b.len; i++)
		assert_int_equal(ctl_frame_parse(b.data, i, &f, &consumed, &why), CTL_NEED_MORE);
	assert_int_equal(ctl_frame_parse(b.data, b.len, &f, &consumed, &why), CTL_FRAME_OK);
	assert_int_equal(consumed, b.len);
	assert_int_equal(f.version, CTL_PROTO_VERSION);
	assert_int_equal(f.type, CTL_MSG_REQUEST);
	assert_string_equal(ctl_msg_name(f.type), "REQUEST");

	struct be_doc doc;
	assert_int_equal(ctl_payload_decode(&f, &doc), BE_OK);
	size_t len = 0;
	const uint8_t *t = be_dict_get_str(&doc, be_root(&doc), "target", &len);
	assert_non_null(t);
	assert_int_equal(len, 13);
	assert_memory_equal(t, "hello_big.txt", 13);
	be_doc_free(&doc);
	buf_free(&b);
}

static void test_two_frames_back_to_back(void **state)
{
	struct sta_buf b = STA_BUF_INIT;
	ctl_frame_end(&b, ctl_frame_begin(&b, CTL_MSG_STATUS));
	size_t first = b.len;
	ctl_frame_error(&b, "not_found", "no such file in the catalog");

	struct ctl_frame f;
	size_t consumed;
	const char *why;
	assert_int_equal(ctl_frame_parse(b.data, b.len, &f, &consumed, &why), CTL_FRAME_OK);
	assert_int_equal(consumed, first);
	assert_int_equal(f.payload_len, 2); /* "de" */
	assert_int_equal(ctl_frame_parse(b.data + consumed, b.len - consumed, &f, &consumed, &why),
	                 CTL_FRAME_OK);
	assert_int_equal(f.type, CTL_MSG_ERROR);
	buf_free(&b);
}

static void test_oversized_length_rejected_from_header_alone(void **state)
{
	uint8_t hdr[CTL_HEADER_LEN];
	struct ctl_frame f;
	size_t consumed;
	const char *why = NULL;

	store_u32be(hdr, CTL_FRAME_MAX + 1);
	store_u16be(hdr + 4, CTL_PROTO_VERSION);
	store_u16be(hdr + 6, CTL_MSG_STATUS);
	assert_int_equal(ctl_frame_parse(hdr, sizeof hdr, &f, &consumed, &why), CTL_FRAME_ERROR);
	assert_non_null(why);
}

static void test_unknown_type_and_non_dict_payload(void **state)
{
	uint8_t pkt[CTL_HEADER_LEN + 3] = { 0 };
	struct ctl_frame f;
	size_t consumed;
	const char *why;

	store_u32be(pkt, 3);
	store_u16be(pkt + 4, CTL_PROTO_VERSION);
	store_u16be(pkt + 6, 0x7777);
	memcpy(pkt + CTL_HEADER_LEN, "i1e", 3);
	assert_int_equal(ctl_frame_parse(pkt, sizeof pkt, &f, &consumed, &why), CTL_FRAME_ERROR);
	store_u16be(pkt + 6, CTL_MSG_STATUS);
	assert_int_equal(ctl_frame_parse(pkt, sizeof pkt, &f, &consumed, &why), CTL_FRAME_ERROR);
}

static void test_other_version_is_reported_not_rejected(void **state)
{
	uint8_t pkt[CTL_HEADER_LEN + 2];
	struct ctl_frame f;
	size_t consumed;
	const char *why;

	store_u32be(pkt, 2);
	store_u16be(pkt + 4, CTL_PROTO_VERSION + 1);
	store_u16be(pkt + 6, 0x0999);
	memcpy(pkt + CTL_HEADER_LEN, "de", 2);
	assert_int_equal(ctl_frame_parse(pkt, sizeof pkt, &f, &consumed, &why), CTL_FRAME_OK);
	assert_int_equal(f.version, CTL_PROTO_VERSION + 1);
}

static void test_oversized_reply_is_refused(void **state)
{
	struct sta_buf b = STA_BUF_INIT;
	static char big[CTL_FRAME_MAX];

	memset(big, 'x', sizeof big);
	buf_append_str(&b, "prefix");
	size_t start = ctl_frame_begin(&b, CTL_MSG_OK);
	be_enc_kv_str(&b, "blob", big, sizeof big);
	assert_false(ctl_frame_end(&b, start));
	assert_int_equal(b.len, 6);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_two_frames_back_to_back),
		cmocka_unit_test(test_oversized_length_rejected_from_header_alone),
		cmocka_unit_test(test_unknown_type_and_non_dict_payload),
		cmocka_unit_test(test_other_version_is_reported_not_rejected),
		cmocka_unit_test(test_oversized_reply_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
