/* test_stream.c - the tensor stream format: round trips and every rejection */
#include "check.h"
#include "stream.h"
#include "util.h"

#include <string.h>

/* Writes into a memory buffer and returns a FILE reading it back. */
static FILE *mem(const void *buf, size_t n)
{
	FILE *f = tmpfile();
	if (!f) {
		perror("tmpfile");
		exit(1);
	}
	if (n && fwrite(buf, 1, n, f) != n)
		exit(1);
	rewind(f);
	return f;
}

static size_t header(unsigned char *h, int dtype, int flags, uint32_t c, uint32_t hh,
                     uint32_t w, uint64_t count)
{
	memset(h, 0, 64);
	memcpy(h, ts_magic, 8);
	wr16(h + 8, 1);
	wr16(h + 10, 64);
	h[12] = dtype;
	h[13] = flags;
	wr32(h + 16, c);
	wr32(h + 20, hh);
	wr32(h + 24, w);
	wr64(h + 32, count);
	return 64;
}

/* Reads a whole stream; returns records read or -1 with the error in err. */
static long read_all(const unsigned char *buf, size_t n, int uniform, char *err)
{
	struct ts_reader r;
	static unsigned char data[1 << 16];
	long total = 0, k;
	FILE *f = mem(buf, n);
	err[0] = 0;
	if (ts_open(&r, f, "x", uniform)) {
		strcpy(err, r.err);
		fclose(f);
		return -1;
	}
	while ((k = ts_read(&r, data, NULL, 4)) > 0)
		total += k;
	if (k < 0) {
		strcpy(err, r.err);
		total = -1;
	}
	fclose(f);
	return total;
}

static void expect_err(const unsigned char *buf, size_t n, int uniform, const char *msg)
{
	char err[256];
	long k = read_all(buf, n, uniform, err);
	CHECKF(k < 0 && strstr(err, msg), "expected '%s', got %ld '%s'", msg, k, err);
}

static void test_roundtrip(void)
{
	for (int dtype = TS_U8; dtype <= TS_F32; dtype++)
		for (int labels = 0; labels <= 1; labels++) {
			struct ts_shape s = { dtype, labels, 3, 4, 5 };
			float in[2 * 60], out[2 * 60];
			unsigned char raw[2 * 60 * 4];
			int32_t lab[2] = { -7, 123456 }, lab2[2] = { 0, 0 };
			FILE *f = tmpfile();
			struct ts_reader r;
			for (int i = 0; i < 120; i++)
				in[i] = dtype == TS_U8 ? (i * 7 % 256) / 255.0f : i * 0.37f - 3;
			CHECK(ts_write_segment_f32(f, &s, in, lab, 1, raw) == 0);
			CHECK(ts_write_segment_f32(f, &s, in + 60, lab + 1, 1, raw) == 0);
			CHECK(ts_write_header(f, &s, 0) == 0); /* empty segment */
			rewind(f);
			CHECK(ts_open(&r, f, "rt", 1) == 0);
			CHECK(ts_read_f32(&r, out, lab2, 2, raw) == 1);
			CHECK(ts_read_f32(&r, out + 60, lab2 + 1, 2, raw) == 1);
			CHECK(ts_read_f32(&r, out, NULL, 2, raw) == 0);
			CHECK(r.seg == 2);
			CHECK(memcmp(in, out, sizeof(in)) == 0);
			if (labels)
				CHECK(lab2[0] == -7 && lab2[1] == 123456);
			else
				CHECK(lab2[0] == 0 && lab2[1] == 0);
			fclose(f);
		}
}

static void test_concat(void)
{
	/* cat of two streams with different shapes: fine unless uniform */
	unsigned char b[64 + 12 + 64 + 2 * 4 * 2];
	char err[256];
	size_t n = header(b, TS_U8, 0, 3, 2, 2, 1);
	memset(b + n, 9, 12);
	n += 12;
	n += header(b + n, TS_F32, 1, 1, 1, 1, 2);
	memset(b + n, 0, 16);
	n += 16;
	CHECK(read_all(b, n, 0, err) == 3);
	expect_err(b, n, 1, "segment 2, record 1, byte 76: segment shape f32 1x1x1 labelled differs from the first segment's u8 3x2x2");
}

static void test_rejections(void)
{
	unsigned char b[256], g[256];
	size_t n = header(g, TS_U8, 1, 1, 2, 2, 2);
	memset(g + n, 1, 16);
	n += 16;
	char err[256];
	CHECK(read_all(g, n, 1, err) == 2);

	expect_err(g, 0, 0, "empty input");
	memcpy(b, g, n); b[1] = 'X';
	expect_err(b, n, 0, "bad magic");
	expect_err((const unsigned char *)"\x89PNG\r\n\x1a\nxxxxxxxx", 16, 0, "a PNG image");
	expect_err((const unsigned char *)"P6\n32 32\n255\n", 13, 0, "a PNM/PAM image");
	expect_err((const unsigned char *)"\x93NUMPY\x01\x00", 8, 0, "NumPy");
	expect_err((const unsigned char *)"\x06\x3b\x2b\x1f\x01\x02\x03\x04", 8, 0, "raw CIFAR batch");
	expect_err((const unsigned char *)"\x1f\x8b\x08\x00\x00", 5, 0, "gzip data");
	expect_err((const unsigned char *)"\x89" "CAEMOD\n", 8, 0, "a cae model file");
	memcpy(b, g, n); wr16(b + 8, 2);
	expect_err(b, n, 0, "byte 8: unknown version 2");
	memcpy(b, g, n); wr16(b + 10, 32);
	expect_err(b, n, 0, "byte 10: header length 32 is less than 64");
	memcpy(b, g, n); wr16(b + 10, 128);
	expect_err(b, n, 0, "header length 128 not supported");
	memcpy(b, g, n); b[12] = 3;
	expect_err(b, n, 0, "byte 12: unknown dtype 3");
	memcpy(b, g, n); b[12] = 0;
	expect_err(b, n, 0, "unknown dtype 0");
	memcpy(b, g, n); b[13] = 3;
	expect_err(b, n, 0, "byte 13: unknown flag bits 0x02");
	for (int i = 14; i < 64; i++) {
		if (i >= 16 && i < 28)
			continue;
		if (i >= 32 && i < 40)
			continue;
		char msg[64];
		memcpy(b, g, n);
		b[i] = 1;
		snprintf(msg, sizeof(msg), "byte %d: reserved byte %d is not zero", i, i);
		expect_err(b, n, 0, msg);
	}
	memcpy(b, g, n); wr32(b + 16, 0);
	expect_err(b, n, 0, "byte 16: channel count 0 out of range");
	memcpy(b, g, n); wr32(b + 16, 5000);
	expect_err(b, n, 0, "channel count 5000 out of range");
	memcpy(b, g, n); wr32(b + 20, 0);
	expect_err(b, n, 0, "byte 20: height 0 out of range");
	memcpy(b, g, n); wr32(b + 24, 70000);
	expect_err(b, n, 0, "byte 24: width 70000 out of range");
	memcpy(b, g, n); wr32(b + 16, 4096); wr32(b + 20, 65536); wr32(b + 24, 65536);
	expect_err(b, n, 0, "exceeds the limit");
	memcpy(b, g, n); wr64(b + 32, UINT64_MAX);
	expect_err(b, n, 0, "byte 32: record count 18446744073709551615 overflows");
	/* truncation at every boundary */
	expect_err(g, 4, 0, "byte 0: truncated header (4 of 64 bytes)");
	expect_err(g, 40, 0, "byte 0: truncated header (40 of 64 bytes)");
	expect_err(g, 66, 0, "record 0, byte 66: truncated record (inside the label");
	expect_err(g, 70, 0, "record 0, byte 70: truncated record (6 of 8 bytes; 2 records");
	expect_err(g, 75, 0, "record 1, byte 75: truncated record (inside the label; 1 records");
	expect_err(g, 78, 0, "record 1, byte 78: truncated record (6 of 8 bytes; 1 records");
	/* a partial second header */
	memcpy(b, g, n);
	memcpy(b + n, g, 10);
	expect_err(b, n + 10, 0, "segment 2, record 2, byte 80: truncated header (10 of 64 bytes)");
	memcpy(b + n, "garbage!", 8);
	expect_err(b, n + 8, 0, "segment 2, record 2, byte 80: bad magic");
}

static void test_u8_conv(void)
{
	float f[6] = { -0.5f, 0.0f, 0.5f, 1.0f, 2.0f, 0.0f / 0.0f };
	unsigned char u[6];
	float back[256];
	unsigned char all[256];
	ts_f32_to_u8(f, u, 6);
	CHECK(u[0] == 0 && u[1] == 0 && u[2] == 128 && u[3] == 255 && u[4] == 255 && u[5] == 0);
	for (int i = 0; i < 256; i++)
		all[i] = i;
	ts_u8_to_f32(all, back, 256);
	ts_f32_to_u8(back, u, 0);
	unsigned char again[256];
	ts_f32_to_u8(back, again, 256);
	CHECK(memcmp(all, again, 256) == 0);
	CHECK(back[255] == 1.0f && back[0] == 0.0f && back[51] == 0.2f);
}

int main(void)
{
	test_roundtrip();
	test_concat();
	test_rejections();
	test_u8_conv();
	CHECK_DONE();
}
