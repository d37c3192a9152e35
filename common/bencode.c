/* Bencode decoder: one iterative pass over the input into a flat node array.
 * Open containers live on an explicit stack, so hostile nesting costs heap
 * bounded by limits.max_depth, never C stack. */
#include <stdlib.h>
#include <string.h>

#include "bencode.h"
#include "strnum.h"
#include "xmalloc.h"

const struct be_limits be_default_limits = {
	.max_depth = 64,
	.max_nodes = 1000000,
	.strict_key_order = false,
};

/* An open list or dict. */
struct be_frame {
	uint32_t node;       /* the container's index */
	uint32_t last_child; /* 0 = no child yet (node 0 is never a child) */
	uint32_t last_key;   /* dicts: previous key, 0 = none */
	bool want_value;     /* dicts: a key was read, its value comes next */
	bool unsorted;       /* dicts: keys seen out of order */
};

/* A key for the duplicate check: qsort has no context argument, so each
 * entry carries its own bytes. */
struct be_key {
	const uint8_t *s;
	uint32_t len;
	uint32_t off; /* raw offset, to report the later duplicate */
};

struct be_parser {
	const uint8_t *data;
	uint32_t len;
	uint32_t pos;
	const struct be_limits *lim;
	struct be_node *nodes;
	uint32_t n_nodes, cap_nodes;
	struct be_frame *stack;
	uint32_t depth, cap_stack;
	struct be_key *scratch; /* for the duplicate check of unsorted dicts */
	uint32_t cap_scratch;
	struct be_error err;
};

static enum be_err be_fail(struct be_parser *p, enum be_err code, size_t offset)
{
	p->err.code = code;
	p->err.offset = offset;
	return code;
}

static bool be_isdigit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* Doubles cap (starting at first) without passing max; false when full. */
static bool be_grow(uint32_t *cap, uint32_t need, uint32_t first, uint32_t max)
{
	if (need <= *cap)
		return true;
	if (need > max)
		return false;
	uint32_t c = *cap ? *cap : first;
	while (c < need)
		c = c > max / 2 ? max : c * 2;
	*cap = c < max ? c : max;
	return true;
}

static enum be_err be_node_new(struct be_parser *p, uint8_t type, uint32_t *idx)
{
	uint32_t cap = p->cap_nodes;

	if (!be_grow(&cap, p->n_nodes + 1, 64, p->lim->max_nodes))
		return be_fail(p, BE_ERR_TOO_MANY, p->pos);
	if (cap != p->cap_nodes) {
		p->nodes = xreallocarray(p->nodes, cap, sizeof *p->nodes);
		p->cap_nodes = cap;
	}
	*idx = p->n_nodes++;
	p->nodes[*idx] = (struct be_node){ .type = type, .raw_off = p->pos };
	return BE_OK;
}

/* Reads the digit run at p->pos; returns its length (0 if none). */
static uint32_t be_digits(const struct be_parser *p, uint32_t at)
{
	uint32_t n = 0;

	while (at + n < p->len && be_isdigit(p->data[at + n]))
		n++;
	return n;
}

static enum be_err be_parse_int(struct be_parser *p, struct be_node *n)
{
	uint32_t at = p->pos + 1; /* past 'i' */
	bool neg = at < p->len && p->data[at] == '-';

	if (neg)
		at++;
	uint32_t nd = be_digits(p, at);
	if (at + nd >= p->len)
		return be_fail(p, BE_ERR_TRUNCATED, p->len);
	if (nd == 0 || p->data[at + nd] != 'e')
		return be_fail(p, BE_ERR_SYNTAX, at + nd);
	if (p->data[at] == '0' && nd > 1)
		return be_fail(p, BE_ERR_LEADING_ZERO, at);
	if (p->data[at] == '0' && neg)
		return be_fail(p, BE_ERR_NEG_ZERO, at - 1);

	uint64_t mag;
	uint64_t max = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	if (!strnum_u64((const char *)p->data + at, nd, 0, max, &mag))
		return be_fail(p, BE_ERR_INT_RANGE, p->pos);
	n->ival = !neg ? (int64_t)mag : mag > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)mag;
	p->pos = at + nd + 1;
	return BE_OK;
}

static enum be_err be_parse_str(struct be_parser *p, struct be_node *n)
{
	uint32_t start = p->pos;
	uint32_t nd = be_digits(p, start);

	if (start + nd >= p->len)
		return be_fail(p, BE_ERR_TRUNCATED, p->len);
	if (p->data[start + nd] != ':')
		return be_fail(p, BE_ERR_SYNTAX, start + nd);
	if (p->data[start] == '0' && nd > 1)
		return be_fail(p, BE_ERR_LEADING_ZERO, start);

	uint64_t slen;
	if (!strnum_u64((const char *)p->data + start, nd, 0, UINT32_MAX, &slen))
		return be_fail(p, BE_ERR_INT_RANGE, start);
	uint32_t body = start + nd + 1;
	if (slen > p->len - body)
		return be_fail(p, BE_ERR_TRUNCATED, start);
	n->str_off = body;
	n->str_len = (uint32_t)slen;
	p->pos = body + (uint32_t)slen;
	return BE_OK;
}

/* Byte order of two keys, shorter first on a common prefix (BEP 3). */
static int be_bytes_cmp(const uint8_t *x, uint32_t xlen, const uint8_t *y, uint32_t ylen)
{
	int c = memcmp(x, y, xlen < ylen ? xlen : ylen);

	return c != 0 ? c : (xlen > ylen) - (xlen < ylen);
}

static int be_key_cmp(const void *a, const void *b)
{
	const struct be_key *x = a, *y = b;
	int c = be_bytes_cmp(x->s, x->len, y->s, y->len);

	return c != 0 ? c : (x->off > y->off) - (x->off < y->off);
}

/* Keys arrived out of order, so adjacent comparison missed duplicates:
 * sort them (O(n log n)) and compare neighbours. */
static enum be_err be_dict_check_dups(struct be_parser *p, const struct be_frame *f)
{
	uint32_t n = p->nodes[f->node].count;
	uint32_t cap = p->cap_scratch;

	be_grow(&cap, n, 16, UINT32_MAX);
	if (cap != p->cap_scratch) {
		p->scratch = xreallocarray(p->scratch, cap, sizeof *p->scratch);
		p->cap_scratch = cap;
	}
	uint32_t k = f->node + 1;
	for (uint32_t i = 0; i < n; i++) {
		const struct be_node *kn = &p->nodes[k];
		p->scratch[i] = (struct be_key){ p->data + kn->str_off, kn->str_len, kn->raw_off };
		k = p->nodes[kn->next].next;
	}
	qsort(p->scratch, n, sizeof *p->scratch, be_key_cmp);
	for (uint32_t i = 1; i < n; i++) {
		const struct be_key *a = &p->scratch[i - 1], *b = &p->scratch[i];
		if (be_bytes_cmp(a->s, a->len, b->s, b->len) == 0)
			return be_fail(p, BE_ERR_DUP_KEY, b->off);
	}
	return BE_OK;
}

/* A key was just parsed into node idx of the dict on top of the stack. */
static enum be_err be_dict_key(struct be_parser *p, struct be_frame *f, uint32_t idx)
{
	if (f->last_key != 0) {
		const struct be_node *x = &p->nodes[f->last_key], *y = &p->nodes[idx];
		int c = be_bytes_cmp(p->data + x->str_off, x->str_len, p->data + y->str_off,
		                     y->str_len);
		if (c == 0)
			return be_fail(p, BE_ERR_DUP_KEY, p->nodes[idx].raw_off);
		if (c > 0 && p->lim->strict_key_order)
			return be_fail(p, BE_ERR_KEY_ORDER, p->nodes[idx].raw_off);
		if (c > 0)
			f->unsorted = true;
	}
	f->last_key = idx;
	return BE_OK;
}

static enum be_err be_push(struct be_parser *p, uint32_t idx)
{
	if (p->depth >= p->lim->max_depth)
		return be_fail(p, BE_ERR_DEPTH, p->pos);
	uint32_t cap = p->cap_stack;
	be_grow(&cap, p->depth + 1, 16, UINT32_MAX);
	if (cap != p->cap_stack) {
		p->stack = xreallocarray(p->stack, cap, sizeof *p->stack);
		p->cap_stack = cap;
	}
	p->stack[p->depth++] = (struct be_frame){ .node = idx };
	p->pos++;
	return BE_OK;
}

/* 'e' at p->pos closes the container on top of the stack. */
static enum be_err be_pop(struct be_parser *p)
{
	struct be_frame *f = &p->stack[p->depth - 1];
	struct be_node *n = &p->nodes[f->node];

	if (f->want_value)
		return be_fail(p, BE_ERR_SYNTAX, p->pos);
	if (f->unsorted && be_dict_check_dups(p, f) != BE_OK)
		return p->err.code;
	p->pos++;
	n->raw_len = p->pos - n->raw_off;
	p->depth--;
	return BE_OK;
}

/* Links the new node into the open container and checks dict keys. */
static enum be_err be_attach(struct be_parser *p, uint32_t idx)
{
	if (p->depth == 0)
		return BE_OK;
	struct be_frame *f = &p->stack[p->depth - 1];
	struct be_node *parent = &p->nodes[f->node];

	if (f->last_child != 0)
		p->nodes[f->last_child].next = idx;
	f->last_child = idx;
	if (parent->type == BE_LIST) {
		parent->count++;
		return BE_OK;
	}
	if (f->want_value) {
		parent->count++;
		f->want_value = false;
		return BE_OK;
	}
	f->want_value = true;
	return be_dict_key(p, f, idx);
}

/* One step: close a container, or read one value (opening it if it is one). */
static enum be_err be_step(struct be_parser *p)
{
	struct be_frame *top = p->depth ? &p->stack[p->depth - 1] : NULL;

	if (p->pos >= p->len)
		return be_fail(p, BE_ERR_TRUNCATED, p->len);
	uint8_t c = p->data[p->pos];
	if (top != NULL && c == 'e')
		return be_pop(p);
	bool is_key = top != NULL && p->nodes[top->node].type == BE_DICT && !top->want_value;
	if (is_key && !be_isdigit(c))
		return be_fail(p, BE_ERR_KEY_TYPE, p->pos);

	uint8_t type = c == 'i' ? BE_INT : c == 'l' ? BE_LIST : c == 'd' ? BE_DICT
	             : be_isdigit(c) ? BE_STR : 0;
	if (type == 0)
		return be_fail(p, BE_ERR_SYNTAX, p->pos);
	uint32_t idx;
	enum be_err e = be_node_new(p, type, &idx);
	if (e != BE_OK)
		return e;
	if (type == BE_LIST || type == BE_DICT) {
		e = be_attach(p, idx);
		return e != BE_OK ? e : be_push(p, idx);
	}
	e = type == BE_INT ? be_parse_int(p, &p->nodes[idx]) : be_parse_str(p, &p->nodes[idx]);
	if (e != BE_OK)
		return e;
	p->nodes[idx].raw_len = p->pos - p->nodes[idx].raw_off;
	/* Attached after parsing: a key needs its bytes for the order check. */
	return be_attach(p, idx);
}

/* consumed NULL: the value must fill buf; else it may be followed by
 * anything and *consumed says where it ended. */
static enum be_err be_decode_at(struct be_doc *doc, const uint8_t *buf, size_t len,
                                const struct be_limits *limits, struct be_error *err,
                                size_t *consumed)
{
	struct be_parser p = {
		.data = buf,
		.lim = limits ? limits : &be_default_limits,
	};
	enum be_err e = BE_OK;

	memset(doc, 0, sizeof *doc);
	if (len == 0) {
		e = be_fail(&p, BE_ERR_EMPTY, 0);
	} else if (len > UINT32_MAX) {
		e = be_fail(&p, BE_ERR_INT_RANGE, 0);
	} else {
		p.len = (uint32_t)len;
		do
			e = be_step(&p);
		while (e == BE_OK && p.depth > 0);
		if (e == BE_OK && p.pos < p.len && consumed == NULL)
			e = be_fail(&p, BE_ERR_TRAILING, p.pos);
	}
	free(p.stack);
	free(p.scratch);
	if (e != BE_OK) {
		free(p.nodes);
		if (err != NULL)
			*err = p.err;
		return e;
	}
	doc->data = buf;
	doc->len = len;
	doc->nodes = p.nodes;
	doc->n_nodes = p.n_nodes;
	if (consumed != NULL) {
		doc->len = p.pos;
		*consumed = p.pos;
	}
	if (err != NULL)
		*err = (struct be_error){ BE_OK, 0 };
	return BE_OK;
}

enum be_err be_decode(struct be_doc *doc, const uint8_t *buf, size_t len,
                      const struct be_limits *limits, struct be_error *err)
{
	return be_decode_at(doc, buf, len, limits, err, NULL);
}

enum be_err be_decode_prefix(struct be_doc *doc, const uint8_t *buf, size_t len,
                             const struct be_limits *limits, struct be_error *err,
                             size_t *consumed)
{
	return be_decode_at(doc, buf, len, limits, err, consumed);
}

void be_doc_free(struct be_doc *doc)
{
	free(doc->nodes);
	memset(doc, 0, sizeof *doc);
}

const char *be_strerror(enum be_err e)
{
	switch (e) {
	case BE_OK: return "success";
	case BE_ERR_TRUNCATED: return "truncated input";
	case BE_ERR_SYNTAX: return "syntax error";
	case BE_ERR_LEADING_ZERO: return "leading zero";
	case BE_ERR_NEG_ZERO: return "negative zero";
	case BE_ERR_INT_RANGE: return "number out of range";
	case BE_ERR_DEPTH: return "nesting too deep";
	case BE_ERR_TOO_MANY: return "too many values";
	case BE_ERR_TRAILING: return "trailing bytes after the value";
	case BE_ERR_KEY_TYPE: return "dictionary key is not a string";
	case BE_ERR_KEY_ORDER: return "dictionary keys out of order";
	case BE_ERR_DUP_KEY: return "duplicate dictionary key";
	case BE_ERR_EMPTY: return "empty input";
	}
	return "unknown error";
}

const struct be_node *be_root(const struct be_doc *doc)
{
	return doc->n_nodes ? &doc->nodes[0] : NULL;
}

const struct be_node *be_first(const struct be_doc *doc, const struct be_node *container)
{
	if (container == NULL || (container->type != BE_LIST && container->type != BE_DICT) ||
	    container->count == 0)
		return NULL;
	return container + 1;
}

const struct be_node *be_next(const struct be_doc *doc, const struct be_node *n)
{
	if (n == NULL || n->next == 0)
		return NULL;
	return &doc->nodes[n->next];
}

const struct be_node *be_dict_get(const struct be_doc *doc, const struct be_node *dict,
                                  const char *key)
{
	if (dict == NULL || dict->type != BE_DICT)
		return NULL;
	size_t klen = strlen(key);
	for (const struct be_node *k = be_first(doc, dict); k != NULL; k = be_next(doc, be_next(doc, k))) {
		if (k->str_len == klen && memcmp(be_str(doc, k), key, klen) == 0)
			return be_next(doc, k);
	}
	return NULL;
}

const struct be_node *be_dict_get_type(const struct be_doc *doc, const struct be_node *dict,
                                       const char *key, enum be_type type)
{
	const struct be_node *v = be_dict_get(doc, dict, key);

	return v != NULL && v->type == type ? v : NULL;
}

bool be_dict_get_int(const struct be_doc *doc, const struct be_node *dict, const char *key,
                     int64_t *out)
{
	const struct be_node *v = be_dict_get_type(doc, dict, key, BE_INT);

	if (v == NULL)
		return false;
	*out = v->ival;
	return true;
}

const uint8_t *be_dict_get_str(const struct be_doc *doc, const struct be_node *dict,
                               const char *key, size_t *len)
{
	const struct be_node *v = be_dict_get_type(doc, dict, key, BE_STR);

	if (v == NULL)
		return NULL;
	*len = v->str_len;
	return be_str(doc, v);
}
