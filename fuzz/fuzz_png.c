/* fuzz_png.c - libFuzzer harness for the PNG reader
 *
 * The input is a PNG file, read from memory through fmemopen() as u8 or,
 * when its size is odd, as f32. A decoded image must have the shape and
 * sample range pngio_read() promises.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "pngio.h"
#include "stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pngio_image img;
	char err[256];
	FILE *f;
	int dtype = size & 1 ? TS_F32 : TS_U8;

	if (!size)
		return 0;
	if (!(f = fmemopen((void *)data, size, "rb")))
		return 0;
	err[0] = '\0';
	if (pngio_read(f, "fuzz", dtype, &img, err, sizeof(err)) == 0) {
		uint64_t n = (uint64_t)img.c * img.w * img.h;
		if ((img.c != 1 && img.c != 3) || !img.w || !img.h || img.w > TS_MAX_HW ||
		    img.h > TS_MAX_HW || n > TS_MAX_SAMPLES || img.dtype != dtype || !img.data ||
		    img.bits < 1 || img.bits > 16)
			abort();
		if (dtype == TS_F32)
			for (uint64_t i = 0; i < n; i++) {
				float v = ((float *)img.data)[i];
				if (!(v >= 0.0f && v <= 1.0f))
					abort();
			}
		else {
			/* every sample read: uninitialised ones would show up
			 * when the harness runs under valgrind */
			volatile unsigned sum = 0;
			for (uint64_t i = 0; i < n; i++)
				sum += ((unsigned char *)img.data)[i];
		}
		free(img.data);
	} else if (!err[0] || img.data) {
		abort();
	}
	fclose(f);
	return 0;
}
