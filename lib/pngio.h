/* pngio.h - PNG images in and out through libpng
 *
 * (Not named png.h: that name is libpng's, and which of the two an
 * #include finds would depend on the order of the -I options.)
 */
#ifndef CAE_PNGIO_H
#define CAE_PNGIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Streaming writer of 8-bit grayscale (c = 1) or RGB (c = 3) images, one
 * row of interleaved samples at a time, so an image never has to be
 * held whole. Errors (including write errors) return -1 with w->err set;
 * call pngio_writer_free() in every case. */
struct pngio_writer {
	void *png, *info;   /* libpng's structures */
	uint32_t rows_left;
	char err[256];
};
int pngio_write_begin(struct pngio_writer *w, FILE *f, uint32_t width, uint32_t height, int c);
/* ROW holds width * c bytes: gray, or r g b r g b ... */
int pngio_write_row(struct pngio_writer *w, const unsigned char *row);
/* Finishes the file after the last row (it does not close F). */
int pngio_write_end(struct pngio_writer *w);
void pngio_writer_free(struct pngio_writer *w);

/* Writes a whole image of interleaved rows in one call. Returns 0, or -1
 * with a message in ERR (N bytes). */
int pngio_write(FILE *f, const unsigned char *pix, uint32_t width, uint32_t height, int c,
                char *err, size_t n);

/* A decoded image: C planes of H rows of W samples (C x H x W, planar). */
struct pngio_image {
	uint32_t w, h;
	int c;          /* 1 (gray) or 3 (RGB) */
	int bits;       /* bit depth of the file's samples (1 to 16) */
	int dtype;      /* TS_U8 (1) or TS_F32 (2), as asked */
	void *data;     /* c*h*w samples; the caller frees it */
};

/* Reads a PNG from F: grayscale, RGB or palette, 1 to 16 bits, with or
 * without alpha or tRNS transparency (dropped: only the colour is kept),
 * interlaced or not. Samples are taken as stored (no gamma or colour
 * profile handling). DTYPE TS_F32 gives v/maxval as float, TS_U8 gives
 * 8-bit values (16-bit samples rounded to the nearest v/257).
 * Width and height are limited to TS_MAX_HW, c*h*w to TS_MAX_SAMPLES.
 * NAME is used in messages. Returns 0, or -1 with a message in ERR. */
int pngio_read(FILE *f, const char *name, int dtype, struct pngio_image *img,
               char *err, size_t n);

#endif
