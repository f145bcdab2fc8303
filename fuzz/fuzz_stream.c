/* fuzz_stream.c - libFuzzer harness for the tensor stream reader
 *
 * The input is a stream, read from memory (fmemopen, length unknown to
 * the reader) or, when bit 1 of its size is set, from a temporary regular
 * file (whose length the reader checks against the headers). Bit 0 of
 * the size asks for uniform segments. Records are read a few at a time
 * and converted to float; the counts must add up.
 */
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
	uint64_t got = 0;
	FILE *f;

	if (!size)
		return 0;
	if (size & 2) {
		if (!(f = tmpfile()) || fwrite(data, 1, size, f) != size || fseek(f, 0, SEEK_SET))
			abort();
	} else if (!(f = fmemopen((void *)data, size, "rb"))) {
		return 0;
	}
	if (ts_open(&r, f, "fuzz", size & 1) == 0) {
		for (;;) {
			int k = ts_more(&r);
			long n;
			if (k < 0 && !r.err[0])
				abort();
			if (k <= 0)
				break;
			if (r.shape.c == 0 || r.shape.h == 0 || r.shape.w == 0 ||
			    ts_samples(&r.shape) > TS_MAX_SAMPLES)
				abort();
			/* the harness's buffer bounds the batch: 4 records of at most 64 KiB */
			if (ts_data_bytes(&r.shape) * 4 > sizeof(buf))
				break;
			n = ts_read_f32(&r, buf, labels, 4, scratch);
			if (n < 0 && !r.err[0])
				abort();
			if (n <= 0)
				break;
			if (n > 4)
				abort();
			got += (uint64_t)n;
			if (got != r.rec)
				abort();
		}
	} else if (!r.err[0]) {
		abort();
	}
	fclose(f);
	return 0;
}
