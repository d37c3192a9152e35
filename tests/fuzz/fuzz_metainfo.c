/* Parses arbitrary bytes as a .torrent. When it parses, checks the
 * invariants storage relies on (file offsets, piece count, every piece maps
 * onto exactly its bytes, every path joins safely), then rebuilds the
 * torrent with metainfo_create and checks the copy parses to the same
 * content. */
#include <stdlib.h>
#include <string.h>

#include "metainfo.h"
#include "xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_layout(const struct metainfo *mi)
{
	uint64_t off = 0;

	for (uint32_t i = 0; i < mi->n_files; i++) {
		if (mi->files[i].offset != off)
			abort();
		off += mi->files[i].length;
		struct mi_error err;
		char *p = metainfo_path_join("/base", mi->files[i].path, &err);
		if (p == NULL)
			abort();
		free(p);
	}
	if (off != mi->total_length || off == 0 || off > MI_MAX_TOTAL)
		abort();
	if ((uint64_t)mi->n_pieces * mi->piece_length < off ||
	    (uint64_t)(mi->n_pieces - 1) * mi->piece_length >= off)
		abort();
	/* Mapping whole pieces covers exactly their bytes; cap the work. */
	struct mi_span sp[64];
	for (uint32_t p = 0; p < mi->n_pieces && p < 64; p++) {
		uint32_t len = metainfo_piece_size(mi, p);
		size_t n = metainfo_map(mi, p, 0, len, sp, 64);
		uint64_t sum = 0;
		if (n == 0)
			abort();
		for (size_t s = 0; s < n && s < 64; s++) {
			if (sp[s].length == 0 || sp[s].file >= mi->n_files ||
			    sp[s].file_offset + sp[s].length > mi->files[sp[s].file].length)
				abort();
			sum += sp[s].length;
		}
		if (n <= 64 && sum != len)
			abort();
	}
}

static void check_recreate(const struct metainfo *mi)
{
	struct mi_create_file *files = xcalloc(mi->n_files, sizeof *files);
	for (uint32_t i = 0; i < mi->n_files; i++)
		files[i] = (struct mi_create_file){ mi->files[i].path, mi->files[i].length };
	struct mi_create c = {
		.name = mi->name,
		.multi_file = mi->multi_file,
		.files = files,
		.n_files = mi->n_files,
		.piece_length = mi->piece_length,
		.pieces = mi->pieces,
		.n_pieces = mi->n_pieces,
		.tiers = mi->tiers,
		.n_tiers = mi->n_tiers,
		.is_private = mi->is_private,
	};
	struct sta_buf out = STA_BUF_INIT;
	struct metainfo again;
	struct mi_error err;

	if (!metainfo_create(&c, &out, &again, &err))
		abort();
	if (strcmp(again.name, mi->name) != 0 || again.n_files != mi->n_files ||
	    again.total_length != mi->total_length || again.is_private != mi->is_private ||
	    again.n_tiers != mi->n_tiers ||
	    memcmp(again.pieces, mi->pieces, (size_t)mi->n_pieces * SHA1_LEN) != 0)
		abort();
	for (uint32_t i = 0; i < mi->n_files; i++) {
		if (strcmp(again.files[i].path, mi->files[i].path) != 0)
			abort();
	}
	metainfo_free(&again);
	buf_free(&out);
	free(files);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct metainfo mi;
	struct mi_error err;

	if (!metainfo_parse(data, size, &mi, &err)) {
		if (memchr(err.msg, '\0', sizeof err.msg) == NULL || err.msg[0] == '\0')
			abort();
		return 0;
	}
	if (mi.raw_len != size || memcmp(mi.raw, data, size) != 0)
		abort();
	check_layout(&mi);
	check_recreate(&mi);
	metainfo_free(&mi);
	return 0;
}
