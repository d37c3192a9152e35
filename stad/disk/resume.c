/* Resume data codec and its atomic file replacement. */
#include "resume.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bencode.h"
#include "fileio.h"
#include "xmalloc.h"

/* A resume dict has 9 keys; leave room for a few added by later versions,
 * but not for a file padded with junk. */
static const struct be_limits resume_limits = { .max_depth = 4, .max_nodes = 256 };

static bool __attribute__((format(printf, 3, 4))) rs_fail(char *err, size_t errlen,
                                                           const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return false;
}

void resume_data_free(struct resume_data *rd)
{
	bitfield_free(&rd->have);
	free(rd->data_dir);
	rd->data_dir = NULL;
}

void resume_encode(const struct resume_data *rd, struct sta_buf *out)
{
	uint32_t n = rd->have.nbits;
	size_t wlen = bitfield_wire_len(n);

	assert(n >= 1 && n <= RESUME_MAX_PIECES && rd->data_dir);
	assert(rd->uploaded <= INT64_MAX && rd->downloaded <= INT64_MAX);
	be_enc_dict_begin(out);
	be_enc_kv_int(out, "added", rd->added);
	be_enc_kv_cstr(out, "data_dir", rd->data_dir);
	be_enc_kv_int(out, "downloaded", (int64_t)rd->downloaded);
	uint8_t *wire = xmalloc(wlen);
	bitfield_export(&rd->have, wire);
	be_enc_kv_str(out, "have", wire, wlen);
	free(wire);
	be_enc_kv_str(out, "info_hash", rd->info_hash, SHA1_LEN);
	be_enc_kv_int(out, "paused", rd->paused);
	be_enc_kv_int(out, "pieces", n);
	be_enc_kv_int(out, "uploaded", (int64_t)rd->uploaded);
	be_enc_kv_int(out, "version", RESUME_VERSION);
	be_enc_end(out);
}

/* A required integer in [lo, hi]. */
static bool rs_int(const struct be_doc *doc, const struct be_node *root, const char *key,
                   int64_t lo, int64_t hi, int64_t *out, char *err, size_t errlen)
{
	if (!be_dict_get_int(doc, root, key, out))
		return rs_fail(err, errlen, "resume data: \"%s\" is missing or not an integer", key);
	if (*out < lo || *out > hi)
		return rs_fail(err, errlen, "resume data: \"%s\" is %" PRId64 ", outside %" PRId64
		               "..%" PRId64, key, *out, lo, hi);
	return true;
}

static bool rs_str(const struct be_doc *doc, const struct be_node *root, const char *key,
                   const uint8_t **s, size_t *len, char *err, size_t errlen)
{
	*s = be_dict_get_str(doc, root, key, len);
	if (!*s)
		return rs_fail(err, errlen, "resume data: \"%s\" is missing or not a string", key);
	return true;
}

static bool rs_decode_doc(const struct be_doc *doc, struct resume_data *rd, char *err,
                          size_t errlen)
{
	const struct be_node *root = be_root(doc);
	int64_t version, pieces, added, up, down, paused;
	const uint8_t *ih, *dir, *have;
	size_t ih_len, dir_len, have_len;

	if (!root || root->type != BE_DICT)
		return rs_fail(err, errlen, "resume data: not a dictionary");
	if (!rs_int(doc, root, "version", RESUME_VERSION, RESUME_VERSION, &version, err, errlen) ||
	    !rs_int(doc, root, "pieces", 1, RESUME_MAX_PIECES, &pieces, err, errlen) ||
	    !rs_int(doc, root, "added", 0, INT64_MAX, &added, err, errlen) ||
	    !rs_int(doc, root, "uploaded", 0, INT64_MAX, &up, err, errlen) ||
	    !rs_int(doc, root, "downloaded", 0, INT64_MAX, &down, err, errlen) ||
	    !rs_int(doc, root, "paused", 0, 1, &paused, err, errlen) ||
	    !rs_str(doc, root, "info_hash", &ih, &ih_len, err, errlen) ||
	    !rs_str(doc, root, "data_dir", &dir, &dir_len, err, errlen) ||
	    !rs_str(doc, root, "have", &have, &have_len, err, errlen))
		return false;
	if (ih_len != SHA1_LEN)
		return rs_fail(err, errlen, "resume data: \"info_hash\" is %zu bytes, not 20", ih_len);
	if (dir_len == 0 || dir_len > RESUME_MAX_DIR || dir[0] != '/' || memchr(dir, '\0', dir_len))
		return rs_fail(err, errlen, "resume data: \"data_dir\" is not an absolute path of at "
		               "most %u bytes without NUL", RESUME_MAX_DIR);
	if (have_len != bitfield_wire_len((uint32_t)pieces))
		return rs_fail(err, errlen, "resume data: \"have\" is %zu bytes, expected %zu for %"
		               PRId64 " pieces", have_len, bitfield_wire_len((uint32_t)pieces), pieces);

	bitfield_init(&rd->have, (uint32_t)pieces);
	if (!bitfield_import(&rd->have, have, have_len)) {
		bitfield_free(&rd->have);
		return rs_fail(err, errlen, "resume data: \"have\" has spare bits set");
	}
	memcpy(rd->info_hash, ih, SHA1_LEN);
	rd->data_dir = xstrndup((const char *)dir, dir_len);
	rd->added = added;
	rd->uploaded = (uint64_t)up;
	rd->downloaded = (uint64_t)down;
	rd->paused = paused != 0;
	return true;
}

bool resume_decode(const uint8_t *data, size_t len, struct resume_data *rd, char *err,
                   size_t errlen)
{
	struct be_doc doc;
	struct be_error be;

	memset(rd, 0, sizeof(*rd));
	if (len > RESUME_MAX_FILE)
		return rs_fail(err, errlen, "resume data: %zu bytes, more than %u", len,
		               (unsigned)RESUME_MAX_FILE);
	if (be_decode(&doc, data, len, &resume_limits, &be) != BE_OK)
		return rs_fail(err, errlen, "resume data: bencode: %s at byte %zu",
		               be_strerror(be.code), be.offset);
	bool ok = rs_decode_doc(&doc, rd, err, errlen);
	be_doc_free(&doc);
	if (!ok)
		memset(rd, 0, sizeof(*rd));
	return ok;
}

bool resume_matches(const struct resume_data *rd, const uint8_t info_hash[SHA1_LEN],
                    uint32_t n_pieces, char *err, size_t errlen)
{
	if (memcmp(rd->info_hash, info_hash, SHA1_LEN) != 0)
		return rs_fail(err, errlen, "resume data is for another torrent (info-hash differs)");
	if (rd->have.nbits != n_pieces)
		return rs_fail(err, errlen, "resume data has %" PRIu32 " pieces, the torrent %" PRIu32,
		               rd->have.nbits, n_pieces);
	return true;
}

static int rs_fail_errno(char *err, size_t errlen, const char *what, const char *path)
{
	int saved = errno;

	rs_fail(err, errlen, "%s %s: %s", what, path, strerror(saved));
	errno = saved;
	return -1;
}

int resume_save(const char *path, const struct resume_data *rd, char *err, size_t errlen)
{
	struct sta_buf b = STA_BUF_INIT;

	resume_encode(rd, &b);
	bool ok = file_write_atomic(path, b.data, b.len, 0600);
	int saved = errno;
	buf_free(&b);
	errno = saved;
	if (!ok)
		return rs_fail_errno(err, errlen, "cannot write resume data to", path);
	return 0;
}

int resume_load(const char *path, struct resume_data *rd, char *err, size_t errlen)
{
	size_t len = 0;
	uint8_t *data = file_read_all(path, RESUME_MAX_FILE, &len);

	memset(rd, 0, sizeof(*rd));
	if (data == NULL) {
		if (errno == EFBIG || errno == EINVAL) {
			errno = EINVAL;
			rs_fail(err, errlen, "%s: not a regular file of at most %u bytes", path,
			        (unsigned)RESUME_MAX_FILE);
			return -1;
		}
		return rs_fail_errno(err, errlen, "cannot read", path);
	}
	char msg[256];
	bool ok = resume_decode(data, len, rd, msg, sizeof msg);
	free(data);
	if (!ok) {
		errno = EINVAL;
		rs_fail(err, errlen, "%s: %s", path, msg);
		return -1;
	}
	return 0;
}
