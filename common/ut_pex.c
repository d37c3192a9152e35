/* ut_pex messages (BEP 11). */
#include "ut_pex.h"

#include <string.h>
#include <sys/socket.h>

#include "bencode.h"
#include "peer_wire.h"

static const struct be_limits pex_be_limits = {
	.max_depth = 4,
	.max_nodes = 64,
	.strict_key_order = false,
};

static size_t entry_len(int family)
{
	return family == AF_INET6 ? 18 : 6;
}

static bool pex_fail(enum ut_pex_err *err, enum ut_pex_err code)
{
	*err = code;
	return false;
}

/* One list and, when flags_key is set, its flags. */
static bool pex_list(const struct be_doc *doc, const struct be_node *root, const char *key,
                     const char *flags_key, int family, struct ut_pex_list *l,
                     enum ut_pex_err *err)
{
	const struct be_node *n = be_dict_get(doc, root, key);
	size_t el = entry_len(family), flen;

	l->family = family;
	if (n == NULL)
		return true;
	if (n->type != BE_STR)
		return pex_fail(err, UT_PEX_ERR_TYPE);
	if (n->str_len % el != 0)
		return pex_fail(err, UT_PEX_ERR_LENGTH);
	if (n->str_len / el > UT_PEX_MAX_LIST)
		return pex_fail(err, UT_PEX_ERR_TOO_MANY);
	l->addrs = be_str(doc, n);
	l->n = n->str_len / el;
	const uint8_t *f = flags_key ? be_dict_get_str(doc, root, flags_key, &flen) : NULL;
	/* Flags are hints: a list of the wrong length is ignored, not fatal. */
	if (f != NULL && flen == l->n)
		l->flags = f;
	return true;
}

bool ut_pex_parse(const uint8_t *payload, size_t len, struct ut_pex *out, enum ut_pex_err *err)
{
	struct be_doc doc;

	memset(out, 0, sizeof *out);
	*err = UT_PEX_ERR_NONE;
	if (be_decode(&doc, payload, len, &pex_be_limits, NULL) != BE_OK)
		return pex_fail(err, UT_PEX_ERR_DICT);
	const struct be_node *root = be_root(&doc);
	bool ok = root->type == BE_DICT;
	if (!ok)
		pex_fail(err, UT_PEX_ERR_DICT);
	ok = ok && pex_list(&doc, root, "added", "added.f", AF_INET, &out->added, err) &&
	     pex_list(&doc, root, "dropped", NULL, AF_INET, &out->dropped, err) &&
	     pex_list(&doc, root, "added6", "added6.f", AF_INET6, &out->added6, err) &&
	     pex_list(&doc, root, "dropped6", NULL, AF_INET6, &out->dropped6, err);
	be_doc_free(&doc);
	if (!ok)
		memset(out, 0, sizeof *out);
	return ok;
}

const char *ut_pex_strerror(enum ut_pex_err e)
{
	switch (e) {
	case UT_PEX_ERR_NONE: return "no error";
	case UT_PEX_ERR_DICT: return "ut_pex: not a bencoded dict";
	case UT_PEX_ERR_TYPE: return "ut_pex: a peer list is not a string";
	case UT_PEX_ERR_LENGTH: return "ut_pex: a peer list is not whole entries";
	case UT_PEX_ERR_TOO_MANY: return "ut_pex: a peer list is too long";
	}
	return "ut_pex: unknown error";
}

bool ut_pex_entry(const struct ut_pex_list *l, size_t i, struct tracker_peer *out,
                  uint8_t *flags)
{
	size_t el = entry_len(l->family), alen = el - 2;
	const uint8_t *e = l->addrs + i * el;

	memset(out, 0, sizeof *out);
	out->family = l->family;
	memcpy(out->addr, e, alen);
	out->port = load_u16be(e + alen);
	*flags = l->flags ? l->flags[i] : 0;
	return out->port != 0;
}

static size_t count_family(const struct ut_pex_peer *p, size_t n, int family)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += p[i].addr.family == family;
	return c < UT_PEX_MAX_LIST ? c : UT_PEX_MAX_LIST;
}

/* "key" and the compact entries of family, then "key.f" and their flags. */
static void put_list(struct sta_buf *out, const char *key, const char *flags_key,
                     const struct ut_pex_peer *p, size_t n, int family)
{
	size_t count = count_family(p, n, family), el = entry_len(family);

	be_enc_cstr(out, key);
	buf_printf(out, "%zu:", count * el);
	for (size_t i = 0, k = 0; i < n && k < count; i++) {
		if (p[i].addr.family != family)
			continue;
		buf_append(out, p[i].addr.addr, el - 2);
		buf_append_u16be(out, p[i].addr.port);
		k++;
	}
	if (flags_key == NULL)
		return;
	be_enc_cstr(out, flags_key);
	buf_printf(out, "%zu:", count);
	for (size_t i = 0, k = 0; i < n && k < count; i++) {
		if (p[i].addr.family == family) {
			buf_append_byte(out, p[i].flags);
			k++;
		}
	}
}

void ut_pex_put(struct sta_buf *out, uint8_t ext_id, const struct ut_pex_peer *added,
                size_t n_added, const struct ut_pex_peer *dropped, size_t n_dropped)
{
	size_t start = peer_wire_ext_begin(out, ext_id);

	/* Keys in byte order: added, added.f, added6, added6.f, dropped, dropped6. */
	be_enc_dict_begin(out);
	put_list(out, "added", "added.f", added, n_added, AF_INET);
	put_list(out, "added6", "added6.f", added, n_added, AF_INET6);
	put_list(out, "dropped", NULL, dropped, n_dropped, AF_INET);
	put_list(out, "dropped6", NULL, dropped, n_dropped, AF_INET6);
	be_enc_end(out);
	peer_wire_ext_end(out, start);
}
