/* Decodes arbitrary bytes; on success walks every node and checks that spans
 * nest inside the input and that the sibling links cover exactly count
 * children. Strict key order is toggled by the first byte's low bit so both
 * duplicate-check paths get exercised. */
#include <stdlib.h>
#include <string.h>

#include "bencode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_node(const struct be_doc *doc, const struct be_node *n)
{
	if ((size_t)n->raw_off + n->raw_len > doc->len || n->raw_len == 0)
		abort();
	if (n->type == BE_STR) {
		if (n->str_off < n->raw_off ||
		    (size_t)n->str_off + n->str_len != (size_t)n->raw_off + n->raw_len)
			abort();
		return;
	}
	if (n->type == BE_INT)
		return;
	if (n->type != BE_LIST && n->type != BE_DICT)
		abort();
	uint32_t want = n->type == BE_DICT ? 2 * n->count : n->count;
	uint32_t seen = 0;
	size_t end = (size_t)n->raw_off + 1;
	for (const struct be_node *c = be_first(doc, n); c != NULL; c = be_next(doc, c)) {
		/* Children are contiguous, in order, inside the parent. */
		if (c->raw_off != end)
			abort();
		if (n->type == BE_DICT && seen % 2 == 0 && c->type != BE_STR)
			abort();
		end += c->raw_len;
		seen++;
	}
	if (seen != want || end + 1 != (size_t)n->raw_off + n->raw_len ||
	    doc->data[end] != 'e')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct be_limits lim = be_default_limits;
	struct be_doc doc;
	struct be_error err;

	lim.max_nodes = 100000;
	lim.strict_key_order = size > 0 && (data[0] & 1);
	if (be_decode(&doc, data, size, &lim, &err) != BE_OK) {
		if (err.offset > size)
			abort();
		return 0;
	}
	if (doc.n_nodes == 0 || doc.nodes[0].raw_len != size)
		abort();
	for (uint32_t i = 0; i < doc.n_nodes; i++)
		check_node(&doc, &doc.nodes[i]);
	be_doc_free(&doc);
	return 0;
}
