/* tarfix.h - for the harnesses that feed tar archives: valid checksums */
#ifndef TARFIX_H
#define TARFIX_H
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Sets the checksum of every tar header reached by walking the blocks as
 * a reader would, so that mutations of names and sizes get past it. */
static inline void fix_tar(uint8_t *b, size_t n)
{
	size_t off = 0;
	while (off + 512 <= n) {
		uint8_t *h = b + off;
		unsigned long sum = 0;
		unsigned long long size = 0;
		int i, zero = 1;
		for (i = 0; i < 512; i++)
			zero &= !h[i];
		if (zero) {
			off += 512;
			continue;
		}
		memset(h + 148, ' ', 8);
		for (i = 0; i < 512; i++)
			sum += h[i];
		snprintf((char *)h + 148, 8, "%06lo", sum & 0777777);
		for (i = 124; i < 136 && h[i] == ' '; i++)
			;
		for (; i < 136 && h[i] >= '0' && h[i] <= '7'; i++)
			size = size << 3 | (unsigned)(h[i] - '0');
		if (h[156] >= '1' && h[156] <= '6')
			size = 0;
		if (size > n)
			break;
		off += 512 + (size_t)((size + 511) / 512 * 512);
	}
}
#endif
