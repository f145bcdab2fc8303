/* test_cifar.c - the tar.gz reader and the CIFAR batch reader, on archives
 * and batches built here (and the real CIFAR-10 training set if present) */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "cifar.h"
#include "targz.h"

static char dir[] = "/tmp/test_cifar.XXXXXX";

/* A growing buffer holding a tar archive. */
struct buf {
	unsigned char *p;
	size_t n, cap;
};

static void put(struct buf *b, const void *d, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2;
		if (!(b->p = realloc(b->p, b->cap)))
			abort();
	}
	if (d)
		memcpy(b->p + b->n, d, n);
	else
		memset(b->p + b->n, 0, n);
	b->n += n;
}

static void pad(struct buf *b)
{
	put(b, NULL, (512 - b->n % 512) % 512);
}

/* Appends a header. B256 writes the size in base-256; PREFIX goes into
 * the ustar prefix field; GNU uses the GNU magic. */
static void header(struct buf *b, const char *name, char type, uint64_t size,
                   int b256, const char *prefix, int gnu)
{
	unsigned char h[512] = { 0 };
	unsigned sum = 0;
	memcpy(h, name, strlen(name) < 100 ? strlen(name) : 100);
	memcpy(h + 100, "0000644", 8);
	memcpy(h + 108, "0000000", 8);
	memcpy(h + 116, "0000000", 8);
	if (b256) {
		h[124] = 0x80;
		for (int i = 0; i < 8; i++)
			h[135 - i] = (unsigned char)(size >> (8 * i));
	} else {
		snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)(size & 077777777777));
	}
	memcpy(h + 136, "00000000000", 12);
	h[156] = (unsigned char)type;
	memcpy(h + 257, gnu ? "ustar  " : "ustar\0" "00", 8);
	if (prefix)
		memcpy(h + 345, prefix, strlen(prefix));
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	put(b, h, 512);
}

static void member(struct buf *b, const char *name, const void *data, size_t n)
{
	header(b, name, '0', n, 0, NULL, 0);
	put(b, data, n);
	pad(b);
}

static char *path(const char *name)
{
	static char p[4][256];
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

static void write_gz(const char *name, const void *d, size_t n)
{
	gzFile g = gzopen(path(name), "wb");
	if (!g || (n && gzwrite(g, d, (unsigned)n) != (int)n) || gzclose(g) != Z_OK)
		abort();
}

static void write_file(const char *name, const void *d, size_t n)
{
	FILE *f = fopen(path(name), "wb");
	if (!f || fwrite(d, 1, n, f) != n || fclose(f))
		abort();
}

static void test_number(void)
{
	uint64_t v = 0;
	unsigned char f[12];
	CHECK(tgz_number((const unsigned char *)"0000644\0", 8, &v) == 0 && v == 0644);
	CHECK(tgz_number((const unsigned char *)"  123 \0\0", 8, &v) == 0 && v == 0123);
	CHECK(tgz_number((const unsigned char *)"00000001750", 12, &v) == 0 && v == 01750);
	CHECK(tgz_number((const unsigned char *)"12a\0", 4, &v) == -1);
	CHECK(tgz_number((const unsigned char *)"\0\0\0\0", 4, &v) == -1);
	CHECK(tgz_number((const unsigned char *)"12 3", 4, &v) == -1);
	CHECK(tgz_number((const unsigned char *)"8", 1, &v) == -1);
	CHECK(tgz_number((const unsigned char *)"20000000000000", 14, &v) == 0 && v == TGZ_SIZE_MAX);
	CHECK(tgz_number((const unsigned char *)"20000000000001", 14, &v) == -1);
	CHECK(tgz_number((const unsigned char *)"10000000000000", 14, &v) == 0 && v == UINT64_C(1) << 39);
	CHECK(tgz_number((const unsigned char *)"17777777777", 11, &v) == 0 && v == 017777777777);
	memset(f, 0, sizeof(f));
	f[0] = 0x80;
	f[10] = 0x12;
	f[11] = 0x34;
	CHECK(tgz_number(f, 12, &v) == 0 && v == 0x1234);
	f[5] = 1;       /* 2^48: beyond the limit */
	CHECK(tgz_number(f, 12, &v) == -1);
	memset(f, 0xff, sizeof(f));     /* -1 */
	CHECK(tgz_number(f, 12, &v) == -1);
}

static void test_tar(void)
{
	struct buf b = { 0 };
	struct targz t;
	char longname[151], got[700], data[600];
	long r;

	for (int i = 0; i < 150; i++)
		longname[i] = (char)('a' + i % 26);
	longname[150] = '\0';
	for (int i = 0; i < 600; i++)
		data[i] = (char)(i * 7);
	header(&b, "././@PaxHeader", 'x', 30, 0, NULL, 0);
	put(&b, "30 path=ignored/by/this/reader", 30);
	pad(&b);
	header(&b, "dir/", '5', 0, 0, NULL, 0);
	member(&b, "dir/a.txt", "hello", 5);
	header(&b, "././@LongLink", 'L', 151, 0, NULL, 1);
	put(&b, longname, 151);
	pad(&b);
	header(&b, "truncated-name", '0', 3, 0, NULL, 1);
	put(&b, "abc", 3);
	pad(&b);
	header(&b, "link", '2', 1000, 0, NULL, 0);      /* no data follows */
	header(&b, "b.bin", '0', 600, 1, "pre/fix", 0);
	put(&b, data, 600);
	pad(&b);
	header(&b, "odd", 'Z', 10, 0, NULL, 0);
	put(&b, "0123456789", 10);
	pad(&b);
	member(&b, "c.bin", NULL, 0);
	put(&b, NULL, 512 * 4);
	write_gz("t.tgz", b.p, b.n);

	CHECKF(tgz_open(&t, path("t.tgz")) == 0, "%s", t.err);
	CHECK(tgz_next(&t) == 1 && !strcmp(t.name, "dir/a.txt") && t.size == 5 && t.ordinal == 0);
	r = tgz_read(&t, got, sizeof(got));
	CHECK(r == 5 && !memcmp(got, "hello", 5));
	CHECK(tgz_read(&t, got, sizeof(got)) == 0);
	CHECK(tgz_next(&t) == 1 && !strcmp(t.name, longname) && t.size == 3 && t.ordinal == 1);
	/* the rest of a member is skipped by tgz_next */
	CHECK(tgz_read(&t, got, 1) == 1 && got[0] == 'a');
	CHECKF(tgz_next(&t) == 1 && !strcmp(t.name, "pre/fix/b.bin") && t.size == 600,
	       "%s %llu", t.name, (unsigned long long)t.size);
	r = tgz_read(&t, got, 100);
	r += tgz_read(&t, got + 100, sizeof(got) - 100);
	CHECK(r == 600 && !memcmp(got, data, 600));
	CHECK(tgz_next(&t) == 1 && !strcmp(t.name, "c.bin") && t.size == 0 && t.ordinal == 3);
	CHECK(tgz_read(&t, got, sizeof(got)) == 0);
	CHECK(tgz_next(&t) == 0);
	CHECK(tgz_next(&t) == 0);
	CHECKF(tgz_drain(&t) == 0, "%s", t.err);
	CHECK(tgz_rewind(&t) == 0);
	CHECK(tgz_next(&t) == 1 && !strcmp(t.name, "dir/a.txt") && t.ordinal == 0);
	tgz_close(&t);

	/* the end of the data without zero blocks ends the archive too */
	write_gz("t2.tgz", b.p, 512 * 5);
	CHECK(tgz_open(&t, path("t2.tgz")) == 0);
	CHECK(tgz_next(&t) == 1);
	CHECK(tgz_next(&t) == 0);
	tgz_close(&t);

	/* a member cut short */
	write_gz("t3.tgz", b.p, 512 * 11 + 100);
	CHECK(tgz_open(&t, path("t3.tgz")) == 0);
	CHECK(tgz_next(&t) == 1 && tgz_next(&t) == 1 && tgz_next(&t) == 1);
	CHECK(tgz_read(&t, got, sizeof(got)) == -1);
	CHECKF(strstr(t.err, "t3.tgz: truncated tar member pre/fix/b.bin (100 of 600 bytes)") != NULL,
	       "%s", t.err);
	tgz_close(&t);
	CHECK(tgz_open(&t, path("t3.tgz")) == 0);
	CHECK(tgz_next(&t) == 1 && tgz_next(&t) == 1 && tgz_next(&t) == 1);
	CHECK(tgz_next(&t) == -1 && strstr(t.err, "(100 of 600 bytes)"));
	tgz_close(&t);

	/* a header cut short */
	write_gz("t4.tgz", b.p, 512 * 2 + 100);
	CHECK(tgz_open(&t, path("t4.tgz")) == 0);
	CHECK(tgz_next(&t) == -1);
	CHECKF(strstr(t.err, "truncated tar header at byte 1024 (100 of 512 bytes)") != NULL,
	       "%s", t.err);
	tgz_close(&t);

	/* a bad checksum */
	b.p[512 * 2 + 3] ^= 1;
	write_gz("t5.tgz", b.p, b.n);
	CHECK(tgz_open(&t, path("t5.tgz")) == 0);
	CHECK(tgz_next(&t) == -1);
	CHECKF(strstr(t.err, "bad tar header checksum at byte 1024") != NULL, "%s", t.err);
	tgz_close(&t);
	b.p[512 * 2 + 3] ^= 1;

	/* compressed data cut short, corrupt, or not gzip at all */
	{
		FILE *f = fopen(path("t.tgz"), "rb");
		unsigned char z[65536];
		size_t zn = fread(z, 1, sizeof(z), f);
		fclose(f);
		write_file("t6.tgz", z, zn - 6);
		CHECK(tgz_open(&t, path("t6.tgz")) == 0);
		while ((r = tgz_next(&t)) == 1)
			;
		CHECK(r == -1 || tgz_drain(&t) == -1);
		CHECKF(strstr(t.err, "t6.tgz: truncated gzip data") != NULL, "%s", t.err);
		tgz_close(&t);
		z[zn - 7] ^= 0x55;      /* CRC */
		write_file("t7.tgz", z, zn);
		CHECK(tgz_open(&t, path("t7.tgz")) == 0);
		while ((r = tgz_next(&t)) == 1)
			;
		/* zlib may check the trailer as soon as it inflates the end */
		CHECK(r == -1 || tgz_drain(&t) == -1);
		CHECKF(strstr(t.err, "t7.tgz: corrupt gzip data (zlib: incorrect data check)") != NULL,
		       "%s", t.err);
		tgz_close(&t);
		write_file("t8.tgz", "plain", 5);
		CHECK(tgz_open(&t, path("t8.tgz")) == -1 && strstr(t.err, "not gzip data"));
	}

	/* an over-long GNU name is not matched by anything */
	b.n = 0;
	header(&b, "././@LongLink", 'L', 5000, 0, NULL, 1);
	put(&b, NULL, 5000);
	pad(&b);
	member(&b, "short", "x", 1);
	member(&b, "next", "y", 1);
	put(&b, NULL, 1024);
	write_gz("t9.tgz", b.p, b.n);
	CHECK(tgz_open(&t, path("t9.tgz")) == 0);
	CHECK(tgz_next(&t) == 1 && t.name[0] == '\0' && t.size == 1);
	CHECK(tgz_next(&t) == 1 && !strcmp(t.name, "next"));
	tgz_close(&t);

	/* a size beyond the limit */
	b.n = 0;
	header(&b, "huge", '0', 0, 0, NULL, 0);
	b.p[124] = 0x80;
	b.p[128] = 1;   /* 2^56 */
	{
		unsigned sum = 0;
		memset(b.p + 148, ' ', 8);
		for (int i = 0; i < 512; i++)
			sum += b.p[i];
		snprintf((char *)b.p + 148, 8, "%06o", sum);
	}
	put(&b, NULL, 1024);
	write_gz("t10.tgz", b.p, b.n);
	CHECK(tgz_open(&t, path("t10.tgz")) == 0);
	CHECK(tgz_next(&t) == -1 && strstr(t.err, "bad size field in the tar header at byte 0"));
	tgz_close(&t);
	free(b.p);
}

/* Record I of a fake batch: label, pixels (I*7 + J) mod 256. */
static void fake10(unsigned char *r, int i)
{
	r[0] = (unsigned char)(i % 10);
	for (int j = 0; j < CIFAR_PIXELS; j++)
		r[1 + j] = (unsigned char)(i * 7 + j);
}

static int check_pix(const unsigned char *p, int i)
{
	for (int j = 0; j < CIFAR_PIXELS; j++)
		if (p[j] != (unsigned char)(i * 7 + j))
			return 0;
	return 1;
}

static void test_batches(void)
{
	static unsigned char raw[2500 * CIFAR100_RECORD], pix[CIFAR_BLOCK * CIFAR_PIXELS];
	int32_t fine[CIFAR_BLOCK], coarse[CIFAR_BLOCK];
	struct cifar c;
	long n, total = 0, bad = 0;
	int sizes[6] = { 3, 1, 2, 1, 1, 4 }, at = 0;
	struct buf b = { 0 };

	for (int i = 0; i < 2500; i++)
		fake10(raw + (size_t)i * CIFAR10_RECORD, i);
	write_file("odd.name", raw, 2500 * CIFAR10_RECORD);
	CHECKF(cifar_open(&c, path("odd.name"), CIFAR_AUTO, CIFAR_TRAIN) == 0, "%s", c.err);
	CHECK(c.kind == CIFAR_10 && c.records == 2500 && c.nparts == 1 && c.nnames[0] == 10);
	while ((n = cifar_read(&c, pix, fine, coarse, 100000)) > 0) {
		CHECK(n <= CIFAR_BLOCK);
		for (long i = 0; i < n; i++)
			bad += fine[i] != (total + i) % 10 || coarse[i] != -1 ||
			       !check_pix(pix + i * CIFAR_PIXELS, (int)(total + i));
		total += n;
	}
	CHECK(n == 0 && total == 2500 && bad == 0);
	CHECK(cifar_class_find(&c, CIFAR_FINE, "cat") == 3);
	CHECK(cifar_class_find(&c, CIFAR_FINE, "TRUCK") == 9);
	CHECK(cifar_class_find(&c, CIFAR_FINE, "0") == 0);
	CHECK(cifar_class_find(&c, CIFAR_FINE, "10") == -1);
	CHECK(cifar_class_find(&c, CIFAR_FINE, "wombat") == -1);
	CHECK(cifar_class_find(&c, CIFAR_COARSE, "0") == -1);
	cifar_close(&c);

	/* a label out of range */
	raw[1234 * CIFAR10_RECORD] = 10;
	write_file("bad.bin", raw, 2500 * CIFAR10_RECORD);
	CHECK(cifar_open(&c, path("bad.bin"), CIFAR_AUTO, CIFAR_TRAIN) == 0);
	while ((n = cifar_read(&c, pix, fine, NULL, 7)) > 0)
		;
	CHECKF(n == -1 && strstr(c.err, "bad.bin: record 1234: label 10 out of range (0-9)"), "%s", c.err);
	cifar_close(&c);
	raw[1234 * CIFAR10_RECORD] = 4;

	/* a directory and an archive with its members out of order */
	mkdir(path("cifar-10-batches-bin"), 0755);
	for (int k = 0; k < 6; k++) {
		char name[64];
		snprintf(name, sizeof(name), k < 5 ? "cifar-10-batches-bin/data_batch_%d.bin" :
		         "cifar-10-batches-bin/test_batch.bin", k + 1);
		write_file(name, raw + (size_t)at * CIFAR10_RECORD, (size_t)sizes[k] * CIFAR10_RECORD);
		at += sizes[k];
	}
	for (int k = 5; k >= 0; k--) {
		char name[64];
		int first = 0;
		for (int j = 0; j < k; j++)
			first += sizes[j];
		snprintf(name, sizeof(name), k < 5 ? "x/data_batch_%d.bin" : "x/test_batch.bin", k + 1);
		member(&b, name, raw + (size_t)first * CIFAR10_RECORD, (size_t)sizes[k] * CIFAR10_RECORD);
	}
	put(&b, NULL, 1024);
	write_gz("c.tar.gz", b.p, b.n);
	free(b.p);
	for (int src = 0; src < 2; src++) {
		const char *in = src ? path("c.tar.gz") : dir;
		CHECKF(cifar_open(&c, in, CIFAR_AUTO, CIFAR_TRAIN) == 0, "%s", c.err);
		CHECK(c.src == (src ? CIFAR_SRC_TGZ : CIFAR_SRC_DIR) && c.nparts == 5 && c.records == 8);
		total = bad = 0;
		while ((n = cifar_read(&c, pix, fine, NULL, 2)) > 0) {
			for (long i = 0; i < n; i++)
				bad += fine[i] != (total + i) % 10 || !check_pix(pix + i * CIFAR_PIXELS, (int)(total + i));
			total += n;
		}
		CHECKF(n == 0 && total == 8 && bad == 0, "%s: %ld %ld %s", in, total, bad, c.err);
		cifar_close(&c);
		CHECK(cifar_open(&c, in, CIFAR_AUTO, CIFAR_TEST) == 0 && c.records == 4);
		n = cifar_read(&c, pix, fine, NULL, 10);
		CHECK(n == 4 && fine[0] == 8 && check_pix(pix, 8) && check_pix(pix + 3 * CIFAR_PIXELS, 11));
		cifar_close(&c);
	}

	/* CIFAR-100: both labels, names from a file beside the batch */
	for (int i = 0; i < 30; i++) {
		unsigned char *r = raw + (size_t)i * CIFAR100_RECORD;
		r[0] = (unsigned char)(i % 20);
		r[1] = (unsigned char)(99 - i);
		memset(r + 2, i, CIFAR_PIXELS);
	}
	write_file("train.bin", raw, 30 * CIFAR100_RECORD);
	{
		char names[400] = "";
		for (int i = 0; i < 20; i++)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "sc%d\r\n", i);
		write_file("coarse_label_names.txt", names, strlen(names));
	}
	CHECKF(cifar_open(&c, path("train.bin"), CIFAR_AUTO, CIFAR_TRAIN) == 0, "%s", c.err);
	CHECK(c.kind == CIFAR_100 && c.records == 30 && c.nnames[0] == 100 && c.nnames[1] == 20);
	CHECK(!strcmp(c.names[CIFAR_COARSE][7], "sc7") && !strcmp(c.names[CIFAR_FINE][99], "worm"));
	CHECK(cifar_class_find(&c, CIFAR_COARSE, "SC19") == 19);
	n = cifar_read(&c, pix, fine, coarse, 30);
	CHECK(n == 30 && fine[29] == 70 && coarse[29] == 9 && pix[29 * CIFAR_PIXELS] == 29);
	cifar_close(&c);
}

/* The real training set: 50000 records, 5000 of each class. */
static void test_real(void)
{
	const char *d = getenv("CIFAR10") ? getenv("CIFAR10") : "../../data/cifar-10-batches-bin";
	static unsigned char pix[CIFAR_BLOCK * CIFAR_PIXELS];
	int32_t fine[CIFAR_BLOCK];
	long hist[10] = { 0 }, n, total = 0;
	struct cifar c;
	char p[4096];
	snprintf(p, sizeof(p), "%s/data_batch_1.bin", d);
	if (access(p, R_OK)) {
		printf("real CIFAR-10 data absent: that check skipped\n");
		return;
	}
	CHECKF(cifar_open(&c, d, CIFAR_AUTO, CIFAR_TRAIN) == 0, "%s", c.err);
	CHECK(c.records == 50000);
	while ((n = cifar_read(&c, pix, fine, NULL, CIFAR_BLOCK)) > 0)
		for (long i = 0; i < n; i++, total++)
			hist[fine[i]]++;
	CHECKF(n == 0, "%s", c.err);
	CHECK(total == 50000);
	for (int k = 0; k < 10; k++)
		CHECKF(hist[k] == 5000, "class %d: %ld", k, hist[k]);
	cifar_close(&c);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	test_number();
	test_tar();
	test_batches();
	test_real();
	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd))
			fprintf(stderr, "could not remove %s\n", dir);
	}
	CHECK_DONE();
}
