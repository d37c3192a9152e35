#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "krpc.h"

#define S(lit) (const uint8_t *)(lit), sizeof(lit) - 1

/* The examples of BEP 5, byte for byte. */
static const char PING_Q[] = "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe";
static const char PING_R[] = "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re";
static const char FIND_Q[] = "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e"
                             "1:q9:find_node1:t2:aa1:y1:qe";
static const char GETP_Q[] = "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e"
                             "1:q9:get_peers1:t2:aa1:y1:qe";
static const char GETP_R[] = "d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl"
                             "6:axje.u6:idhtnmee1:t2:aa1:y1:re";
static const char ANN_Q[] = "d1:ad2:id20:abcdefghij012345678912:implied_porti1e"
                            "9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe"
                            "1:q13:announce_peer1:t2:aa1:y1:qe";
static const char ERR_E[] = "d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee";

/* Decodes, checks the type and tid "aa", and encodes back to the same bytes. */
static void decode_reencode(const char *wire, size_t len, struct krpc_msg *m, enum krpc_type type)
{
	struct sta_buf b = STA_BUF_INIT;

	assert_int_equal(krpc_decode((const uint8_t *)wire, len, m, NULL), KRPC_OK);
	assert_int_equal(m->type, type);
	assert_int_equal(m->tid_len, 2);
	assert_memory_equal(m->tid, "aa", 2);
	krpc_encode(&b, m);
	assert_int_equal(b.len, len);
	assert_memory_equal(b.data, wire, len);
	buf_free(&b);
}

static void test_bep5_queries(void **state)
{
	struct krpc_msg m;

	decode_reencode(PING_Q, sizeof PING_Q - 1, &m, KRPC_QUERY);
	assert_int_equal(m.method, KRPC_PING);
	assert_memory_equal(m.id, "abcdefghij0123456789", 20);

	decode_reencode(FIND_Q, sizeof FIND_Q - 1, &m, KRPC_QUERY);
	assert_int_equal(m.method, KRPC_FIND_NODE);
	assert_memory_equal(m.target, "mnopqrstuvwxyz123456", 20);
	assert_int_equal(m.want, 0);

	decode_reencode(GETP_Q, sizeof GETP_Q - 1, &m, KRPC_QUERY);
	assert_int_equal(m.method, KRPC_GET_PEERS);
	assert_memory_equal(m.target, "mnopqrstuvwxyz123456", 20);

	decode_reencode(ANN_Q, sizeof ANN_Q - 1, &m, KRPC_QUERY);
	assert_int_equal(m.method, KRPC_ANNOUNCE_PEER);
	assert_true(m.implied_port);
	assert_int_equal(m.port, 6881);
	assert_int_equal(m.token_len, 8);
	assert_memory_equal(m.token, "aoeusnth", 8);
	assert_string_equal(krpc_method_name(m.method), "announce_peer");
}

static void test_bep5_replies(void **state)
{
	struct krpc_msg m;

	decode_reencode(PING_R, sizeof PING_R - 1, &m, KRPC_RESPONSE);
	assert_memory_equal(m.id, "mnopqrstuvwxyz123456", 20);
	assert_int_equal(m.n_nodes + m.n_values + m.token_len, 0);

	decode_reencode(GETP_R, sizeof GETP_R - 1, &m, KRPC_RESPONSE);
	assert_int_equal(m.n_values, 2);
	assert_int_equal(m.values[0].family, AF_INET);
	assert_memory_equal(m.values[0].ip, "axje", 4);
	assert_int_equal(m.values[0].port, ('.' << 8) | 'u');
	assert_memory_equal(m.values[1].ip, "idht", 4);
	assert_int_equal(krpc_check_response(&m, KRPC_GET_PEERS), KRPC_OK);

	decode_reencode(ERR_E, sizeof ERR_E - 1, &m, KRPC_ERROR);
	assert_int_equal(m.error_code, KRPC_E_GENERIC);
	assert_string_equal(m.error_msg, "A Generic Error Ocurred");
}

static struct krpc_node node(int family, uint8_t fill, uint16_t port)
{
	struct krpc_node n = { .addr = { .family = family, .port = port } };

	memset(n.id, fill, sizeof n.id);
	memset(n.addr.ip, fill, family == AF_INET ? 4 : 16);
	return n;
}

/* nodes and nodes6 (BEP 32), values of both families, the BEP 42 ip. */
static void test_nodes_both_families(void **state)
{
	struct krpc_msg m = { .type = KRPC_RESPONSE, .tid = "xy", .tid_len = 2 }, back;
	struct sta_buf b = STA_BUF_INIT;

	memset(m.id, 7, sizeof m.id);
	m.nodes[m.n_nodes++] = node(AF_INET6, 1, 6881);
	m.nodes[m.n_nodes++] = node(AF_INET, 2, 1);
	m.nodes[m.n_nodes++] = node(AF_INET, 3, 65535);
	m.values[m.n_values++] = node(AF_INET6, 4, 51413).addr;
	m.has_ip = true;
	m.ip = node(AF_INET, 9, 4242).addr;
	memcpy(m.token, "tok", 3);
	m.token_len = 3;
	krpc_encode(&b, &m);
	assert_non_null(memmem(b.data, b.len, "5:nodes52:", 10));
	assert_non_null(memmem(b.data, b.len, "6:nodes638:", 11));
	assert_non_null(memmem(b.data, b.len, "2:ip6:", 6));
	assert_int_equal(krpc_decode(b.data, b.len, &back, NULL), KRPC_OK);
	/* IPv4 entries come first after a round trip ("nodes" before "nodes6"). */
	assert_int_equal(back.n_nodes, 3);
	assert_memory_equal(&back.nodes[0], &m.nodes[1], sizeof m.nodes[0]);
	assert_memory_equal(&back.nodes[1], &m.nodes[2], sizeof m.nodes[0]);
	assert_memory_equal(&back.nodes[2], &m.nodes[0], sizeof m.nodes[0]);
	assert_int_equal(back.n_values, 1);
	assert_memory_equal(&back.values[0], &m.values[0], sizeof m.values[0]);
	assert_true(back.has_ip);
	assert_memory_equal(&back.ip, &m.ip, sizeof m.ip);
	buf_free(&b);
}

static void test_want(void **state)
{
	struct krpc_msg m;
	struct sta_buf b = STA_BUF_INIT;

	assert_int_equal(krpc_decode(S("d1:ad2:id20:abcdefghij01234567896:target20:"
	                               "mnopqrstuvwxyz1234564:wantl2:n62:n42:n5ee"
	                               "1:q9:find_node1:t1:z1:y1:qe"), &m, NULL), KRPC_OK);
	assert_int_equal(m.want, KRPC_WANT_N4 | KRPC_WANT_N6);
	krpc_encode(&b, &m);
	assert_non_null(memmem(b.data, b.len, "4:wantl2:n42:n6e", 16));
	buf_free(&b);
	assert_int_equal(krpc_decode(S("d1:ad2:id20:abcdefghij01234567896:target20:"
	                               "mnopqrstuvwxyz1234564:wantli4eee"
	                               "1:q9:find_node1:t1:z1:y1:qe"), &m, NULL), KRPC_ERR_WANT);
}

struct bad_case {
	const char *wire;
	enum krpc_err err;
};

static void test_malformed(void **state)
{
	static const struct bad_case cases[] = {
		{ "", KRPC_ERR_BENCODE },
		{ "le", KRPC_ERR_NOT_DICT },
		{ "d1:y1:qe", KRPC_ERR_TID },
		{ "d1:t0:1:y1:qe", KRPC_ERR_TID },
		{ "d1:t17:aaaaaaaaaaaaaaaaa1:y1:qe", KRPC_ERR_TID },
		{ "d1:t2:aa1:y1:xe", KRPC_ERR_TYPE },
		{ "d1:t2:aa1:y2:qqe", KRPC_ERR_TYPE },
		{ "d1:ad2:id20:abcdefghij0123456789e1:t2:aa1:y1:qe", KRPC_ERR_METHOD },
		{ "d1:q4:ping1:t2:aa1:y1:qe", KRPC_ERR_ARGS },
		{ "d1:ad2:id19:abcdefghij012345678e1:q4:ping1:t2:aa1:y1:qe", KRPC_ERR_ID },
		{ "d1:ad2:id20:abcdefghij01234567896:target5:shorte1:q9:find_node1:t2:aa1:y1:qe",
		  KRPC_ERR_TARGET },
		{ "d1:ad2:id20:abcdefghij0123456789e1:q9:get_peers1:t2:aa1:y1:qe",
		  KRPC_ERR_INFO_HASH },
		{ "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456"
		  "4:porti0e5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe", KRPC_ERR_PORT },
		{ "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456"
		  "4:porti65536e5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe", KRPC_ERR_PORT },
		{ "d1:ad2:id20:abcdefghij012345678912:implied_porti2e9:info_hash20:"
		  "mnopqrstuvwxyz1234564:porti1e5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe",
		  KRPC_ERR_IMPLIED_PORT },
		{ "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456"
		  "4:porti1ee1:q13:announce_peer1:t2:aa1:y1:qe", KRPC_ERR_NO_TOKEN },
		{ "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456"
		  "4:porti1e5:token0:e1:q13:announce_peer1:t2:aa1:y1:qe", KRPC_ERR_TOKEN },
		{ "d1:t2:aa1:y1:re", KRPC_ERR_REPLY },
		{ "d1:rd2:id20:abcdefghij01234567895:nodes25:"
		  "abcdefghij0123456789abcdee1:t2:aa1:y1:re", KRPC_ERR_NODES },
		{ "d1:rd2:id20:abcdefghij01234567896:nodes65:xxxxxe1:t2:aa1:y1:re", KRPC_ERR_NODES6 },
		{ "d1:rd2:id20:abcdefghij01234567896:valuesl5:axje.ee1:t2:aa1:y1:re",
		  KRPC_ERR_VALUES },
		{ "d1:rd2:id20:abcdefghij01234567896:valuesli1eee1:t2:aa1:y1:re", KRPC_ERR_VALUES },
		{ "d2:ip5:abcde1:rd2:id20:abcdefghij0123456789e1:t2:aa1:y1:re", KRPC_ERR_IP },
		{ "d1:rd2:id20:abcdefghij0123456789e2:ro1:x1:t2:aa1:y1:re", KRPC_ERR_READ_ONLY },
		{ "d1:eli201ee1:t2:aa1:y1:ee", KRPC_ERR_ERROR_LIST },
		{ "d1:el3:abci201ee1:t2:aa1:y1:ee", KRPC_ERR_ERROR_LIST },
		/* Deeper than any KRPC message: refused by the bencode limits. */
		{ "d1:ad2:idllllleeeeee1:t2:aa1:y1:qe", KRPC_ERR_BENCODE },
	};
	struct krpc_msg m;
	struct krpc_error err;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *w = cases[i].wire;
		enum krpc_err got = krpc_decode((const uint8_t *)w, strlen(w), &m, &err);
		if (got != cases[i].err)
			fail_msg("case %zu (%s): got \"%s\", want \"%s\"", i, w, krpc_strerror(got),
			         krpc_strerror(cases[i].err));
		assert_int_equal(err.code, got);
		assert_string_not_equal(krpc_strerror(got), "unknown error");
	}
}

/* A query with bad arguments still yields its tid and method, so it can be
 * answered with error 203; an unknown method is no decoding error. */
static void test_bad_query_keeps_tid(void **state)
{
	struct krpc_msg m;

	assert_int_equal(krpc_decode(S("d1:ad2:id3:abce1:q4:ping1:t2:zz1:y1:qe"), &m, NULL),
	                 KRPC_ERR_ID);
	assert_int_equal(m.type, KRPC_QUERY);
	assert_int_equal(m.method, KRPC_PING);
	assert_int_equal(m.tid_len, 2);
	assert_memory_equal(m.tid, "zz", 2);

	assert_int_equal(krpc_decode(S("d1:ad2:id20:abcdefghij0123456789e1:q3:get1:t1:q1:y1:qe"),
	                             &m, NULL), KRPC_OK);
	assert_int_equal(m.method, KRPC_OTHER_METHOD);
}

/* Long lists are cut to what the struct holds; the datagram size is capped. */
static void test_limits(void **state)
{
	struct sta_buf b = STA_BUF_INIT;
	struct krpc_msg m;
	struct krpc_error err;
	uint8_t big[KRPC_MSG_MAX + 1];

	buf_append_str(&b, "d1:rd2:id20:abcdefghij01234567895:nodes");
	buf_printf(&b, "%d:", 20 * KRPC_NODE4_LEN);
	for (int i = 0; i < 20 * KRPC_NODE4_LEN; i++)
		buf_append_byte(&b, (uint8_t)i);
	buf_append_str(&b, "6:valuesl");
	for (int i = 0; i < KRPC_VALUES_MAX + 5; i++)
		buf_append_str(&b, "6:abcdef");
	buf_append_str(&b, "ee1:t2:aa1:y1:re");
	assert_int_equal(krpc_decode(b.data, b.len, &m, NULL), KRPC_OK);
	assert_int_equal(m.n_nodes, KRPC_NODES_MAX);
	assert_int_equal(m.n_values, KRPC_VALUES_MAX);
	assert_int_equal(m.nodes[1].id[0], KRPC_NODE4_LEN);
	buf_free(&b);

	memset(big, 'x', sizeof big);
	assert_int_equal(krpc_decode(big, sizeof big, &m, &err), KRPC_ERR_TOO_LONG);
}

/* A get_peers reply must carry a token; error text is made printable. */
static void test_reply_checks(void **state)
{
	struct krpc_msg m;

	assert_int_equal(krpc_decode(S(PING_R), &m, NULL), KRPC_OK);
	assert_int_equal(krpc_check_response(&m, KRPC_GET_PEERS), KRPC_ERR_NO_TOKEN);
	assert_int_equal(krpc_check_response(&m, KRPC_FIND_NODE), KRPC_OK);
	assert_int_equal(krpc_decode(S("d1:eli203e4:a\nb\x01" "e1:t2:aa1:y1:ee"), &m, NULL), KRPC_OK);
	assert_string_equal(m.error_msg, "a?b?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bep5_queries),
		cmocka_unit_test(test_bep5_replies),
		cmocka_unit_test(test_nodes_both_families),
		cmocka_unit_test(test_want),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_bad_query_keeps_tid),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_reply_checks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
