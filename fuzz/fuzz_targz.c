/* fuzz_targz.c - libFuzzer harness for the streaming tar.gz reader
 *
 * tgz_open() takes a path, so each input becomes a file in a private
 * temporary directory. The first byte chooses:
 *   bit 0     the rest is tar content, gzipped here (else a gzip file as is)
 *   bit 1     tar header checksums are repaired before gzipping
 *   bit 2     the gzipped file is cut short by the second byte's share
 *   bit 3     after the walk, rewind and walk again (the result must agree)
 *   bits 4-5  bytes per tgz_read call: 1, 100, 512 or 65536
 *   bit 6     stop reading members early and drain (checks the trailer)
 * The reader must never report more data than a member's size, and every
 * error must come with a message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "targz.h"
#include "tarfix.h"

static char dir[64], path[128];

static void cleanup(void)
{
	(void)remove(path);
	(void)rmdir(dir);
}

/* Walks the archive once; returns a checksum of names, sizes and data, or
 * 0 if the walk ended in an error. */
static uint64_t walk(struct targz *t, size_t chunk, int early)
{
	static unsigned char buf[65536];
	uint64_t h = 1469598103934665603u;
	int k, members = 0;
	while ((k = tgz_next(t)) == 1) {
		uint64_t got = 0;
		long r;
		if (t->ordinal != members++ || strlen(t->name) >= TGZ_NAME_MAX)
			abort();
		for (const char *p = t->name; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211u;
		h = (h ^ t->size) * 1099511628211u;
		if (early && members == 2)
			break;
		while ((r = tgz_read(t, buf, chunk)) > 0) {
			if ((size_t)r > chunk)
				abort();
			got += (uint64_t)r;
			if (got > t->size)
				abort();
			for (long i = 0; i < r; i++)
				h = (h ^ buf[i]) * 1099511628211u;
		}
		if (r < 0) {
			if (!t->err[0])
				abort();
			return 0;
		}
		if (got != t->size)
			abort();
	}
	if (k < 0) {
		if (!t->err[0])
			abort();
		return 0;
	}
	if (tgz_drain(t)) {
		if (!t->err[0])
			abort();
		return 0;
	}
	return h | 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t chunks[4] = { 1, 100, 512, 65536 };
	struct targz t;
	const uint8_t *rest;
	size_t n;
	int flags;

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/fuzz_targz.XXXXXX");
		if (!mkdtemp(dir))
			abort();
		snprintf(path, sizeof(path), "%s/a.tar.gz", dir);
		atexit(cleanup);
	}
	if (size < 2)
		return 0;
	flags = data[0];
	rest = data + 2;
	n = size - 2;

	{
		uint8_t cb[8];
		uint64_t v;
		/* the number parser on its own, over the first bytes */
		memcpy(cb, data, 2);
		memcpy(cb + 2, rest, n < 6 ? n : 6);
		if (tgz_number(cb, 2 + (n < 6 ? n : 6), &v) == 0 && v > TGZ_SIZE_MAX)
			abort();
	}

	if (flags & 1) {
		uint8_t *tar = malloc(n ? n : 1);
		gzFile g;
		memcpy(tar, rest, n);
		if (flags & 2)
			fix_tar(tar, n);
		if (!(g = gzopen(path, "wb1")))
			abort();
		if (n && gzwrite(g, tar, (unsigned)n) != (int)n)
			abort();
		if (gzclose(g) != Z_OK)
			abort();
		free(tar);
		if (flags & 4) {
			FILE *f = fopen(path, "rb+");
			long len;
			if (!f || fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0)
				abort();
			fclose(f);
			if (truncate(path, len * data[1] / 256))
				abort();
		}
	} else {
		FILE *f = fopen(path, "wb");
		if (!f || (n && fwrite(rest, 1, n, f) != n) || fclose(f))
			abort();
	}

	if (tgz_open(&t, path) == 0) {
		size_t chunk = chunks[flags >> 4 & 3];
		uint64_t a = walk(&t, chunk, flags & 64);
		if (flags & 8) {
			if (tgz_rewind(&t) == 0) {
				uint64_t b = walk(&t, chunk, flags & 64);
				if (a != b)
					abort();
			} else if (!t.err[0]) {
				abort();
			}
		}
		tgz_close(&t);
	} else if (!t.err[0]) {
		abort();
	}
	(void)remove(path);
	return 0;
}
