/* Resume data decoder: anything it accepts must be internally consistent
 * and survive an encode/decode round trip unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resume.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct resume_data rd, back;
	char err[256];

	if (!resume_decode(data, size, &rd, err, sizeof err)) {
		if (memchr(err, '\0', sizeof err) == NULL || err[0] == '\0')
			abort();
		return 0;
	}
	if (rd.have.nbits == 0 || rd.have.nbits > RESUME_MAX_PIECES || rd.data_dir[0] != '/' ||
	    bitfield_count(&rd.have) > rd.have.nbits)
		abort();

	struct sta_buf a = STA_BUF_INIT, b = STA_BUF_INIT;
	resume_encode(&rd, &a);
	if (!resume_decode(a.data, a.len, &back, err, sizeof err))
		abort();
	resume_encode(&back, &b);
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0 ||
	    memcmp(rd.info_hash, back.info_hash, SHA1_LEN) != 0 ||
	    strcmp(rd.data_dir, back.data_dir) != 0 || rd.uploaded != back.uploaded ||
	    rd.downloaded != back.downloaded || rd.added != back.added || rd.paused != back.paused ||
	    bitfield_count(&rd.have) != bitfield_count(&back.have))
		abort();
	buf_free(&a);
	buf_free(&b);
	resume_data_free(&rd);
	resume_data_free(&back);
	return 0;
}
