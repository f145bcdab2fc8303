/* fuzz_stream.c - libFuzzer harness for the tensor stream reader */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static float buf[1 << 16];
	static unsigned char scratch[1 << 16];
	struct ts_reader r;
	int32_t labels[4];
	FILE *f;

	if (!size)
		return 0;
	f = fmemopen((void *)data, size, "rb");
	if (!f)
		return 0;
	if (ts_open(&r, f, "fuzz", size & 1) == 0) {
		for (;;) {
			int k = ts_more(&r);
			long n;
			if (k <= 0)
				break;
			/* the harness's buffer bounds the batch: 4 records of at most 64 KiB */
			if (ts_data_bytes(&r.shape) * 4 > sizeof(buf))
				break;
			n = ts_read_f32(&r, buf, labels, 4, scratch);
			if (n <= 0)
				break;
		}
	}
	fclose(f);
	return 0;
}
