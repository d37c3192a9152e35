/* Feeds a byte stream through the control-frame parser as stad's control
 * server does: frames back to back, each payload decoded. */
#include <stdint.h>
#include <stdlib.h>

#include "ctl_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	while (off < size) {
		struct ctl_frame f;
		size_t consumed = 0;
		const char *why = NULL;
		enum ctl_parse_result r = ctl_frame_parse(data + off, size - off, &f, &consumed, &why);
		if (r != CTL_FRAME_OK)
			break;
		if (consumed < CTL_HEADER_LEN || consumed > size - off ||
		    f.payload + f.payload_len > data + size)
			abort();
		struct be_doc doc;
		if (f.version == CTL_PROTO_VERSION && ctl_payload_decode(&f, &doc) == BE_OK)
			be_doc_free(&doc);
		off += consumed;
	}
	return 0;
}
