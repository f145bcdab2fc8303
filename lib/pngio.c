/* pngio.c - PNG images in and out through libpng
 *
 * libpng reports errors by calling an error function that must not
 * return; ours records the message and longjmp()s back to the setjmp()
 * of the public function that was running, which then returns -1.
 * Pointers assigned between setjmp and a possible longjmp are volatile,
 * so they are still valid for the clean-up.
 */
#include <png.h>
#include "pngio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"
#include "util.h"

struct errbuf {
	char *s;
	size_t n;
};

static void on_read_error(png_structp p, png_const_charp msg)
{
	struct errbuf *e = png_get_error_ptr(p);
	snprintf(e->s, e->n, "%s", msg);
	png_longjmp(p, 1);
}

static void on_warning(png_structp p, png_const_charp msg)
{
	/* warnings (odd ancillary chunks, colour profiles) do not change
	 * the samples we use: stay quiet */
	(void)p;
	(void)msg;
}

/* --- writer -------------------------------------------------------- */

/* The writer's messages go to w->err. The pointer is set again on every
 * call, so the caller may keep the struct wherever it likes. */
static void on_write_error(png_structp p, png_const_charp msg)
{
	struct pngio_writer *w = png_get_error_ptr(p);
	snprintf(w->err, sizeof(w->err), "%s", msg);
	png_longjmp(p, 1);
}

/* Writes through stdio, so that a failed write names its cause (libpng's
 * own writer says only "Write Error"). */
static void write_data(png_structp p, png_bytep d, size_t n)
{
	char m[160];
	errno = 0;
	if (fwrite(d, 1, n, png_get_io_ptr(p)) != n) {
		snprintf(m, sizeof(m), "write error: %s", strerror(errno ? errno : EIO));
		png_error(p, m);
	}
}

/* Errors of the final flush are the caller's to see, when it closes F. */
static void flush_data(png_structp p)
{
	fflush(png_get_io_ptr(p));
}

int pngio_write_begin(struct pngio_writer *w, FILE *f, uint32_t width, uint32_t height, int c)
{
	png_structp p;
	png_infop info;

	memset(w, 0, sizeof(*w));
	if (c != 1 && c != 3) {
		snprintf(w->err, sizeof(w->err), "PNG needs 1 or 3 channels, not %d", c);
		return -1;
	}
	if (width == 0 || height == 0 || width > PNG_UINT_31_MAX || height > PNG_UINT_31_MAX) {
		snprintf(w->err, sizeof(w->err), "PNG size %ux%u out of range", width, height);
		return -1;
	}
	p = png_create_write_struct(PNG_LIBPNG_VER_STRING, w, on_write_error, on_warning);
	if (!p || !(info = png_create_info_struct(p))) {
		png_destroy_write_struct(&p, NULL);
		snprintf(w->err, sizeof(w->err), "out of memory");
		return -1;
	}
	w->png = p;
	w->info = info;
	w->rows_left = height;
	if (setjmp(png_jmpbuf(p)))
		return -1;
	png_set_write_fn(p, f, write_data, flush_data);
	png_set_IHDR(p, info, width, height, 8, c == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
	             PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(p, info);
	return 0;
}

int pngio_write_row(struct pngio_writer *w, const unsigned char *row)
{
	png_structp p = w->png;
	if (!p)
		return -1;
	if (!w->rows_left) {
		snprintf(w->err, sizeof(w->err), "more rows than the image height");
		return -1;
	}
	png_set_error_fn(p, w, on_write_error, on_warning);
	if (setjmp(png_jmpbuf(p)))
		return -1;
	png_write_row(p, row);
	w->rows_left--;
	return 0;
}

int pngio_write_end(struct pngio_writer *w)
{
	png_structp p = w->png;
	if (!p)
		return -1;
	if (w->rows_left) {
		snprintf(w->err, sizeof(w->err), "%u rows missing", w->rows_left);
		return -1;
	}
	png_set_error_fn(p, w, on_write_error, on_warning);
	if (setjmp(png_jmpbuf(p)))
		return -1;
	png_write_end(p, w->info);
	return 0;
}

void pngio_writer_free(struct pngio_writer *w)
{
	png_structp p = w->png;
	png_infop info = w->info;
	if (p)
		png_destroy_write_struct(&p, &info);
	w->png = w->info = NULL;
}

int pngio_write(FILE *f, const unsigned char *pix, uint32_t width, uint32_t height, int c,
                char *err, size_t n)
{
	struct pngio_writer w;
	int rc = pngio_write_begin(&w, f, width, height, c);
	for (uint32_t y = 0; !rc && y < height; y++)
		rc = pngio_write_row(&w, pix + (size_t)y * width * c);
	if (!rc)
		rc = pngio_write_end(&w);
	if (rc)
		snprintf(err, n, "%s", w.err);
	pngio_writer_free(&w);
	return rc;
}

/* --- reader -------------------------------------------------------- */

/* Copies one decoded row (interleaved, NCH channels of DEPTH bits, big
 * endian for 16) into the planar output, keeping the first C channels. */
static void put_row(struct pngio_image *img, uint32_t y, const unsigned char *row, int nch, int depth)
{
	size_t plane = (size_t)img->w * img->h, off = (size_t)y * img->w;
	for (int ch = 0; ch < img->c; ch++)
		for (uint32_t x = 0; x < img->w; x++) {
			size_t i = (size_t)x * nch + ch;
			size_t o = ch * plane + off + x;
			unsigned v = depth == 16 ? (unsigned)row[2 * i] << 8 | row[2 * i + 1] : row[i];
			if (img->dtype == TS_F32)
				((float *)img->data)[o] = depth == 16 ? v / 65535.0f : v / 255.0f;
			else
				((unsigned char *)img->data)[o] =
					depth == 16 ? (unsigned char)((v * 255u + 32767u) / 65535u) : (unsigned char)v;
		}
}

int pngio_read(FILE *f, const char *name, int dtype, struct pngio_image *img,
               char *err, size_t n)
{
	unsigned char sig[8];
	char msg[200];
	struct errbuf eb = { msg, sizeof(msg) };
	png_structp p;
	png_infop info;
	unsigned char *volatile rows = NULL;      /* one row, or all rows if interlaced */
	unsigned char **volatile rowp = NULL;
	void *volatile data = NULL;
	png_uint_32 w, h;
	int depth, ctype, passes, nch;
	size_t rowbytes;
	uint64_t samples;
	long got;

	memset(img, 0, sizeof(*img));
	got = read_full(f, sig, 8);
	if (got < 0) {
		snprintf(err, n, "%s: read error: %s", name, strerror(errno));
		return -1;
	}
	if (got == 0) {
		snprintf(err, n, "%s: empty input, not a PNG image", name);
		return -1;
	}
	if (got < 8 || png_sig_cmp(sig, 0, 8)) {
		snprintf(err, n, "%s: not a PNG image%s", name,
		         got >= 8 && !memcmp(sig, ts_magic, 8) ? " (a tensor stream)" : "");
		return -1;
	}
	p = png_create_read_struct(PNG_LIBPNG_VER_STRING, &eb, on_read_error, on_warning);
	if (!p || !(info = png_create_info_struct(p))) {
		png_destroy_read_struct(&p, NULL, NULL);
		snprintf(err, n, "%s: out of memory", name);
		return -1;
	}
	if (setjmp(png_jmpbuf(p))) {
		if (feof(f))
			snprintf(err, n, "%s: truncated PNG (%s)", name, msg);
		else
			snprintf(err, n, "%s: bad PNG: %s", name, msg);
		png_destroy_read_struct(&p, &info, NULL);
		free(rows);
		free(rowp);
		free(data);
		memset(img, 0, sizeof(*img));
		return -1;
	}
	png_init_io(p, f);
	png_set_sig_bytes(p, 8);
	png_set_user_limits(p, TS_MAX_HW, TS_MAX_HW);
	png_read_info(p, info);
	png_get_IHDR(p, info, &w, &h, &depth, &ctype, NULL, NULL, NULL);
	img->bits = depth;
	if (ctype == PNG_COLOR_TYPE_PALETTE)
		png_set_palette_to_rgb(p);
	if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8)
		png_set_expand_gray_1_2_4_to_8(p);
	passes = png_set_interlace_handling(p);
	png_read_update_info(p, info);
	nch = png_get_channels(p, info);
	depth = png_get_bit_depth(p, info);
	rowbytes = png_get_rowbytes(p, info);
	if ((nch < 1 || nch > 4) || (depth != 8 && depth != 16))
		png_error(p, "unexpected layout after expansion");

	img->w = w;
	img->h = h;
	img->c = nch >= 3 ? 3 : 1; /* alpha, if any, is the last channel */
	img->dtype = dtype == TS_F32 ? TS_F32 : TS_U8;
	samples = (uint64_t)img->c * w * h;
	if (samples > TS_MAX_SAMPLES) {
		snprintf(msg, sizeof(msg), "image of %ux%ux%u samples exceeds the limit of %u",
		         img->c, (unsigned)h, (unsigned)w, TS_MAX_SAMPLES);
		png_longjmp(p, 1);
	}
	data = malloc(samples * (img->dtype == TS_F32 ? 4 : 1));
	if (!data)
		png_error(p, "out of memory");
	img->data = data;
	if (passes == 1) {
		/* row by row: memory for one row only */
		rows = malloc(rowbytes);
		if (!rows)
			png_error(p, "out of memory");
		for (uint32_t y = 0; y < h; y++) {
			png_read_row(p, rows, NULL);
			put_row(img, y, rows, nch, depth);
		}
	} else {
		/* interlaced: passes refine the whole image */
		if (rowbytes && h > SIZE_MAX / rowbytes)
			png_error(p, "image too large");
		rows = malloc(rowbytes * h);
		rowp = malloc(sizeof(*rowp) * h);
		if (!rows || !rowp)
			png_error(p, "out of memory");
		for (uint32_t y = 0; y < h; y++)
			rowp[y] = rows + (size_t)y * rowbytes;
		png_read_image(p, rowp);
		for (uint32_t y = 0; y < h; y++)
			put_row(img, y, rowp[y], nch, depth);
	}
	png_read_end(p, NULL);
	png_destroy_read_struct(&p, &info, NULL);
	free(rows);
	free(rowp);
	return 0;
}
