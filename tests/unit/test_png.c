/* test_png.c - the PNG reader and writer (lib/pngio.c) against files
 * written directly with libpng in every colour type and bit depth.
 *
 * With arguments, `test_png --dump FILE.png` instead prints the image as
 * text for the shell tests: "W H C" on the first line, then one line per
 * row of interleaved 8-bit samples.
 */
#include <png.h>
#include "check.h"
#include "pngio.h"
#include "stream.h"

#include <setjmp.h>
#include <stdint.h>
#include <string.h>

static unsigned lcg_state = 12345;
static unsigned lcg(void)
{
	lcg_state = lcg_state * 1103515245u + 12345u;
	return lcg_state >> 8;
}

/* Writes a PNG with libpng itself. SAMP[y][x][ch] are the raw sample
 * values (or palette indices) of NCH channels; packed per BITS. */
static FILE *raw_png(uint32_t w, uint32_t h, int ctype, int bits, int interlace,
                     const unsigned *samp, int nch, const png_color *pal, int npal,
                     const png_byte *trns, int ntrns)
{
	FILE *f = tmpfile();
	png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(p);
	size_t rb = ((size_t)w * nch * bits + 7) / 8;
	unsigned char *row = calloc(rb, 1);
	int passes;
	if (setjmp(png_jmpbuf(p))) {
		fprintf(stderr, "libpng failed writing a fixture\n");
		exit(2);
	}
	png_init_io(p, f);
	png_set_IHDR(p, info, w, h, bits, ctype, interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
	             PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	if (pal)
		png_set_PLTE(p, info, pal, npal);
	if (trns) {
		png_color_16 tc = { 0 };
		png_set_tRNS(p, info, trns, ntrns, &tc);
	}
	png_write_info(p, info);
	passes = png_set_interlace_handling(p);
	for (int pass = 0; pass < passes; pass++)
		for (uint32_t y = 0; y < h; y++) {
			memset(row, 0, rb);
			for (uint32_t i = 0; i < w * (uint32_t)nch; i++) {
				unsigned v = samp[(size_t)y * w * nch + i];
				if (bits == 16) {
					row[2 * i] = v >> 8;
					row[2 * i + 1] = v & 255;
				} else if (bits == 8) {
					row[i] = v;
				} else {
					size_t bit = (size_t)i * bits;
					row[bit / 8] |= v << (8 - bits - bit % 8);
				}
			}
			png_write_row(p, row);
		}
	png_write_end(p, info);
	png_destroy_write_struct(&p, &info);
	free(row);
	rewind(f);
	return f;
}

/* Reads F as u8 and as f32, and compares with EXP (planar, C x H x W,
 * 8-bit) and EXPF (planar floats; NULL: EXP/255). */
static void expect_image(FILE *f, const char *what, uint32_t w, uint32_t h, int c, int bits,
                         const unsigned char *exp, const float *expf)
{
	struct pngio_image img;
	char err[256];
	size_t n = (size_t)c * w * h, bad = 0;
	int rc;

	rc = pngio_read(f, what, TS_U8, &img, err, sizeof(err));
	CHECKF(rc == 0, "%s: %s", what, err);
	if (rc)
		return;
	CHECKF(img.w == w && img.h == h && img.c == c && img.bits == bits,
	       "%s: got %ux%u c=%d bits=%d", what, img.w, img.h, img.c, img.bits);
	if (img.w == w && img.h == h && img.c == c)
		for (size_t i = 0; i < n; i++)
			bad += ((unsigned char *)img.data)[i] != exp[i];
	CHECKF(bad == 0, "%s: %zu u8 samples differ", what, bad);
	free(img.data);

	rewind(f);
	rc = pngio_read(f, what, TS_F32, &img, err, sizeof(err));
	CHECKF(rc == 0, "%s (f32): %s", what, err);
	if (rc)
		return;
	bad = 0;
	if (img.w == w && img.h == h && img.c == c)
		for (size_t i = 0; i < n; i++) {
			float e = expf ? expf[i] : exp[i] / 255.0f;
			bad += ((float *)img.data)[i] != e;
		}
	CHECKF(bad == 0, "%s: %zu f32 samples differ", what, bad);
	free(img.data);
}

/* Gray or gray+alpha, 1 to 16 bits. */
static void test_gray(int bits, int alpha, int interlace)
{
	const uint32_t w = 13, h = 7;
	int nch = alpha ? 2 : 1;
	unsigned maxv = (1u << bits) - 1, *samp = malloc(sizeof(unsigned) * w * h * nch);
	unsigned char *exp = malloc(w * h);
	float *expf = malloc(sizeof(float) * w * h);
	char what[64];
	FILE *f;
	for (uint32_t i = 0; i < w * h; i++) {
		unsigned v = lcg() & maxv;
		samp[i * nch] = v;
		if (alpha)
			samp[i * nch + 1] = lcg() & maxv;
		if (bits == 16) {
			exp[i] = (unsigned char)((v * 255u + 32767u) / 65535u);
			expf[i] = v / 65535.0f;
		} else {
			exp[i] = (unsigned char)(v * (255 / maxv)); /* libpng's bit replication */
			expf[i] = exp[i] / 255.0f;
		}
	}
	snprintf(what, sizeof(what), "gray%s %d-bit%s", alpha ? "+alpha" : "", bits,
	         interlace ? " interlaced" : "");
	f = raw_png(w, h, alpha ? PNG_COLOR_TYPE_GRAY_ALPHA : PNG_COLOR_TYPE_GRAY, bits, interlace,
	            samp, nch, NULL, 0, NULL, 0);
	expect_image(f, what, w, h, 1, bits, exp, expf);
	fclose(f);
	free(samp);
	free(exp);
	free(expf);
}

/* RGB or RGBA, 8 or 16 bits. */
static void test_rgb(int bits, int alpha, int interlace)
{
	const uint32_t w = 11, h = 9;
	int nch = alpha ? 4 : 3;
	unsigned maxv = (1u << bits) - 1, *samp = malloc(sizeof(unsigned) * w * h * nch);
	unsigned char *exp = malloc(3 * w * h);
	float *expf = malloc(sizeof(float) * 3 * w * h);
	char what[64];
	FILE *f;
	for (uint32_t i = 0; i < w * h; i++)
		for (int ch = 0; ch < nch; ch++) {
			unsigned v = lcg() & maxv;
			samp[i * nch + ch] = v;
			if (ch == 3)
				continue;
			exp[ch * w * h + i] = bits == 16 ? (unsigned char)((v * 255u + 32767u) / 65535u) : v;
			expf[ch * w * h + i] = bits == 16 ? v / 65535.0f : v / 255.0f;
		}
	snprintf(what, sizeof(what), "rgb%s %d-bit%s", alpha ? "a" : "", bits,
	         interlace ? " interlaced" : "");
	f = raw_png(w, h, alpha ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB, bits, interlace,
	            samp, nch, NULL, 0, NULL, 0);
	expect_image(f, what, w, h, 3, bits, exp, expf);
	fclose(f);
	free(samp);
	free(exp);
	free(expf);
}

/* Palette, 1 to 8 bits, with or without tRNS transparency. */
static void test_palette(int bits, int trns)
{
	const uint32_t w = 10, h = 5;
	int npal = 1 << bits;
	png_color pal[256];
	png_byte alpha[256];
	unsigned samp[50];
	unsigned char exp[150];
	char what[64];
	FILE *f;
	for (int i = 0; i < npal; i++) {
		pal[i].red = lcg() & 255;
		pal[i].green = lcg() & 255;
		pal[i].blue = lcg() & 255;
		alpha[i] = lcg() & 255;
	}
	for (uint32_t i = 0; i < w * h; i++) {
		unsigned k = lcg() % npal;
		samp[i] = k;
		exp[i] = pal[k].red;
		exp[w * h + i] = pal[k].green;
		exp[2 * w * h + i] = pal[k].blue;
	}
	snprintf(what, sizeof(what), "palette %d-bit%s", bits, trns ? " tRNS" : "");
	f = raw_png(w, h, PNG_COLOR_TYPE_PALETTE, bits, 0, samp, 1, pal, npal,
	            trns ? alpha : NULL, npal);
	expect_image(f, what, w, h, 3, bits, exp, NULL);
	fclose(f);
}

/* pngio_write, read back by pngio_read. */
static void test_roundtrip(int c, uint32_t w, uint32_t h)
{
	size_t n = (size_t)c * w * h;
	unsigned char *pix = malloc(n), *planar = malloc(n);
	char err[256];
	FILE *f = tmpfile();
	int rc;
	for (size_t i = 0; i < n; i++)
		pix[i] = lcg() & 255;
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			for (int ch = 0; ch < c; ch++)
				planar[(size_t)ch * w * h + (size_t)y * w + x] = pix[((size_t)y * w + x) * c + ch];
	rc = pngio_write(f, pix, w, h, c, err, sizeof(err));
	CHECKF(rc == 0, "write: %s", err);
	rewind(f);
	expect_image(f, c == 1 ? "roundtrip gray" : "roundtrip rgb", w, h, c, 8, planar, NULL);
	fclose(f);
	free(pix);
	free(planar);
}

static void test_writer_errors(void)
{
	struct pngio_writer w;
	unsigned char row[30] = { 0 };
	char err[256];
	FILE *f = tmpfile();
	CHECK(pngio_write_begin(&w, f, 10, 2, 2) == -1 && strstr(w.err, "1 or 3"));
	pngio_writer_free(&w);
	CHECK(pngio_write_begin(&w, f, 0, 2, 1) == -1);
	pngio_writer_free(&w);
	CHECK(pngio_write_begin(&w, f, 10, 1, 3) == 0);
	CHECK(pngio_write_row(&w, row) == 0);
	CHECK(pngio_write_row(&w, row) == -1 && strstr(w.err, "more rows"));
	CHECK(pngio_write_end(&w) == 0);
	pngio_writer_free(&w);
	CHECK(pngio_write_begin(&w, f, 10, 2, 3) == 0);
	CHECK(pngio_write_row(&w, row) == 0);
	CHECK(pngio_write_end(&w) == -1 && strstr(w.err, "missing"));
	pngio_writer_free(&w);
	fclose(f);
	/* an unbuffered stream on a full disk fails inside libpng */
	if ((f = fopen("/dev/full", "wb"))) {
		setvbuf(f, NULL, _IONBF, 0);
		CHECK(pngio_write(f, row, 10, 1, 3, err, sizeof(err)) == -1);
		CHECKF(strstr(err, "write error: No space left on device") != NULL,
		       "/dev/full: '%s'", err);
		fclose(f);
	}
}

/* Returns a reader error message for the bytes BUF[0..N). */
static const char *read_error(const void *buf, size_t n)
{
	static char err[256];
	struct pngio_image img;
	FILE *f = tmpfile();
	if (n)
		fwrite(buf, 1, n, f);
	rewind(f);
	err[0] = 0;
	if (pngio_read(f, "x.png", TS_U8, &img, err, sizeof(err)) == 0) {
		free(img.data);
		snprintf(err, sizeof(err), "(no error)");
	}
	fclose(f);
	return err;
}

static void test_reader_errors(void)
{
	unsigned char png[4096], ts[64] = { 0x89, 'T', 'N', 'S', '\r', '\n', 0x1a, '\n' };
	unsigned char pix[3 * 40 * 30];
	char err[256];
	const char *e;
	long n;
	FILE *f = tmpfile();
	for (size_t i = 0; i < sizeof(pix); i++)
		pix[i] = lcg() & 255;
	pngio_write(f, pix, 40, 30, 3, err, sizeof(err));
	n = ftell(f);
	rewind(f);
	CHECK(n > 100 && n < (long)sizeof(png) && fread(png, 1, n, f) == (size_t)n);
	fclose(f);

	e = read_error(png, 0);
	CHECKF(strstr(e, "x.png: empty input"), "empty: %s", e);
	e = read_error("hello world, this is text", 25);
	CHECKF(strstr(e, "x.png: not a PNG image"), "text: %s", e);
	e = read_error(ts, sizeof(ts));
	CHECKF(strstr(e, "tensor stream"), "stream: %s", e);
	e = read_error(png, 4);
	CHECKF(strstr(e, "not a PNG image"), "4 bytes: %s", e);
	e = read_error(png, n / 2);
	CHECKF(strstr(e, "x.png: truncated PNG"), "half: %s", e);
	e = read_error(png, n - 6);
	CHECKF(strstr(e, "x.png: truncated PNG"), "no IEND: %s", e);
	png[30] ^= 0x55; /* the CRC of IHDR, a critical chunk */
	e = read_error(png, n);
	CHECKF(strstr(e, "x.png: bad PNG"), "crc: %s", e);
	png[30] ^= 0x55;
	e = read_error(png, n);
	CHECKF(!strcmp(e, "(no error)"), "intact: %s", e);
}

/* Dump mode for the shell tests. */
static int dump(const char *path)
{
	struct pngio_image img;
	char err[256];
	FILE *f = fopen(path, "rb");
	size_t plane;
	if (!f) {
		perror(path);
		return 1;
	}
	if (pngio_read(f, path, TS_U8, &img, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	fclose(f);
	plane = (size_t)img.w * img.h;
	printf("%u %u %d\n", img.w, img.h, img.c);
	for (uint32_t y = 0; y < img.h; y++) {
		for (uint32_t x = 0; x < img.w; x++)
			for (int ch = 0; ch < img.c; ch++)
				printf("%s%u", x || ch ? " " : "",
				       ((unsigned char *)img.data)[ch * plane + (size_t)y * img.w + x]);
		putchar('\n');
	}
	free(img.data);
	return fflush(stdout) ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--dump"))
		return dump(argv[2]);
	for (int bits = 1; bits <= 16; bits *= 2) {
		test_gray(bits, 0, 0);
		test_gray(bits, 0, 1);
	}
	test_gray(8, 1, 0);
	test_gray(16, 1, 1);
	test_rgb(8, 0, 0);
	test_rgb(16, 0, 0);
	test_rgb(8, 1, 0);
	test_rgb(16, 1, 1);
	test_rgb(8, 0, 1);
	for (int bits = 1; bits <= 8; bits *= 2) {
		test_palette(bits, 0);
		test_palette(bits, 1);
	}
	test_roundtrip(1, 37, 23);
	test_roundtrip(3, 64, 48);
	test_roundtrip(3, 1, 1);
	test_writer_errors();
	test_reader_errors();
	CHECK_DONE();
}
