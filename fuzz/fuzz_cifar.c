/* fuzz_cifar.c - libFuzzer harness for the CIFAR-10/100 reader
 *
 * cifar_open() takes a path, so each input becomes a file (or a directory,
 * or a .tar.gz) in a private temporary directory. The first byte chooses:
 *   bits 0-2  what the rest is: 0 data_batch_1.bin, 1 train.bin, 2 an oddly
 *             named file (kind from its size), 3 the same forced to
 *             CIFAR-10 or -100, 4 tar content gzipped into an archive,
 *             5 a gzip file as is, 6 a directory with batches.meta.txt,
 *             7 a CIFAR-100 directory with both label-name files
 *   bit 3     split test instead of train
 *   bit 4     modes 3, 5 and 6: CIFAR-100 forced instead of CIFAR-10;
 *             mode 4: the kind detected instead of CIFAR-10 forced
 *   bit 5     mode 4: tar header checksums are repaired first
 *   bits 6-7  records per cifar_read call: 1, 7, 1000 or 1001
 * Every record read must have labels in range, the records must add up to
 * the count announced, and every error must come with a message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "cifar.h"
#include "tarfix.h"

static char dir[64];

static const char *const names[] = {
	"data_batch_1.bin", "train.bin", "x.dat", "a.tar.gz", "b.tar.gz",
	"d/batches.meta.txt", "d/data_batch_1.bin", "d/data_batch_2.bin",
	"d/data_batch_3.bin", "d/data_batch_4.bin", "d/data_batch_5.bin",
	"d/test_batch.bin", "d/fine_label_names.txt", "d/coarse_label_names.txt",
	"d/train.bin", "d/test.bin", "d",
};

/* Leaves nothing for the next input to find. */
static void clean(void)
{
	char p[256];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		(void)remove(p);
	}
}

static void cleanup(void)
{
	clean();
	(void)rmdir(dir);
}

static void put_file(const char *name, const uint8_t *d, size_t n)
{
	char p[256];
	FILE *f;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (!(f = fopen(p, "wb")) || (n && fwrite(d, 1, n, f) != n) || fclose(f))
		abort();
}

/* Gzips D into the file NAME. */
static void put_gzip(const char *name, const uint8_t *d, size_t n)
{
	char p[256];
	gzFile g;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (!(g = gzopen(p, "wb1")))
		abort();
	if (n && gzwrite(g, d, (unsigned)n) != (int)n)
		abort();
	if (gzclose(g) != Z_OK)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long maxes[4] = { 1, 7, 1000, 1001 };
	static unsigned char pix[CIFAR_BLOCK * CIFAR_PIXELS];
	static int32_t fine[CIFAR_BLOCK], coarse[CIFAR_BLOCK];
	struct cifar c;
	char path[256];
	const uint8_t *rest;
	size_t n, m;
	int mode, kind = CIFAR_AUTO, split, r;
	long max, got;

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/fuzz_cifar.XXXXXX");
		if (!mkdtemp(dir))
			abort();
		atexit(cleanup);
	}
	if (size < 1)
		return 0;
	mode = data[0] & 7;
	split = data[0] & 8 ? CIFAR_TEST : CIFAR_TRAIN;
	max = maxes[data[0] >> 6];
	rest = data + 1;
	n = size - 1;
	if (mode >= 3)
		kind = data[0] & 16 ? CIFAR_100 : CIFAR_10;
	switch (mode) {
	case 0:
		put_file("data_batch_1.bin", rest, n);
		snprintf(path, sizeof(path), "%s/data_batch_1.bin", dir);
		kind = CIFAR_AUTO;
		break;
	case 1:
		put_file("train.bin", rest, n);
		snprintf(path, sizeof(path), "%s/train.bin", dir);
		kind = CIFAR_AUTO;
		break;
	case 2:
	case 3:
		put_file("x.dat", rest, n);
		snprintf(path, sizeof(path), "%s/x.dat", dir);
		if (mode == 2)
			kind = CIFAR_AUTO;
		break;
	case 4: {
		uint8_t *t = malloc(n ? n : 1);
		memcpy(t, rest, n);
		if (data[0] & 32)
			fix_tar(t, n);
		put_gzip("a.tar.gz", t, n);
		free(t);
		snprintf(path, sizeof(path), "%s/a.tar.gz", dir);
		if (data[0] & 16)
			kind = CIFAR_AUTO;
		break;
	}
	case 5:
		put_file("b.tar.gz", rest, n);
		snprintf(path, sizeof(path), "%s/b.tar.gz", dir);
		break;
	default:
		/* a directory: the first byte of the rest is the length of the
		 * label-name text that follows, the remainder is the batch */
		snprintf(path, sizeof(path), "%s/d", dir);
		mkdir(path, 0700);
		m = n ? rest[0] : 0;
		if (m > n - (n > 0))
			m = n - (n > 0);
		rest += n > 0;
		n -= n > 0;
		if (mode == 6) {
			put_file("d/batches.meta.txt", rest, m);
			put_file(split == CIFAR_TEST ? "d/test_batch.bin" : "d/data_batch_1.bin",
			         rest + m, n - m);
			if (split == CIFAR_TRAIN)
				for (int i = 2; i <= 5; i++) {
					char b[32];
					snprintf(b, sizeof(b), "d/data_batch_%d.bin", i);
					put_file(b, rest + m, (n - m) / 3073 * 3073);
				}
		} else {
			put_file("d/fine_label_names.txt", rest, m);
			put_file("d/coarse_label_names.txt", rest + m / 2, m - m / 2);
			put_file(split == CIFAR_TEST ? "d/test.bin" : "d/train.bin", rest + m, n - m);
			kind = CIFAR_AUTO;
		}
		break;
	}

	r = cifar_open(&c, path, kind, split);
	if (r == 0) {
		uint64_t total = 0;
		if (c.kind != CIFAR_10 && c.kind != CIFAR_100)
			abort();
		for (int w = 0; w < (c.kind == CIFAR_100 ? 2 : 1); w++)
			for (int i = 0; i < c.nnames[w]; i++)
				if (!c.names[w][i] || !c.names[w][i][0] ||
				    cifar_class_find(&c, w, c.names[w][i]) < 0)
					abort();
		while ((got = cifar_read(&c, pix, fine, coarse, max)) > 0) {
			if (got > max)
				abort();
			for (long i = 0; i < got; i++)
				if (fine[i] < 0 || fine[i] > (c.kind == CIFAR_100 ? 99 : 9) ||
				    coarse[i] > 19 || (c.kind == CIFAR_10 && coarse[i] != -1))
					abort();
			total += (uint64_t)got;
		}
		if (got < 0 && !c.err[0])
			abort();
		if (got == 0 && c.records != CIFAR_UNKNOWN && total != c.records)
			abort();
	} else if (!c.err[0]) {
		abort();
	}
	cifar_close(&c);
	clean();
	return 0;
}
