/* img-grid - lay out the images of one or more streams as a PNG grid */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pngio.h"
#include "stream.h"
#include "util.h"

#define DEF_COUNT 100
#define MAX_COUNT 1000000L
#define MAX_INPUTS 64
#define MAX_PIXELS (1u << 26)   /* output limit: 64 megapixels */

struct opts {
	const char *in[MAX_INPUTS];
	int nin;
	const char *output;
	long cols, rows, count;  /* 0: automatic / all */
	long scale, gap, panel_gap;
	unsigned char color[3];
};

/* Images of one input, as u8 planar C x H x W each, one after another. */
struct panel {
	const char *name;
	unsigned char *pix;
	uint64_t n;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: %s [options] [STREAM...]\n"
	        "Writes the images of each stream (default stdin) as a grid in one PNG;\n"
	        "several streams become panels side by side, in the order given.\n"
	        "  -c, --cols N          columns per panel (default: rows or a square)\n"
	        "  -r, --rows N          rows per panel (default: enough for the images)\n"
	        "  -n, --count N         images per stream (default %d, or rows x cols;\n"
	        "                        0: all)\n"
	        "  -s, --scale K         enlarge each image K times (nearest neighbour)\n"
	        "  -g, --gap PX          pixels between images (default 1)\n"
	        "      --panel-gap PX    pixels between panels (default 8)\n"
	        "      --gap-color C     #rrggbb, #rgb, a gray level 0-255 or a name:\n"
	        "                        white (default), black, gray, red, green, blue\n"
	        "  -o, --output FILE     write the PNG to FILE (atomically), not stdout\n"
	        "  -h, --help            show this help\n"
	        "  -V, --version         show the version\n", argv0, DEF_COUNT);
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Parses a colour into RGB; -1 if it is not one. */
static int parse_color(const char *s, unsigned char rgb[3])
{
	static const struct { const char *name; unsigned char rgb[3]; } names[] = {
		{ "white", { 255, 255, 255 } }, { "black", { 0, 0, 0 } },
		{ "gray", { 128, 128, 128 } }, { "grey", { 128, 128, 128 } },
		{ "red", { 255, 0, 0 } }, { "green", { 0, 255, 0 } }, { "blue", { 0, 0, 255 } },
	};
	long v;
	size_t i, len = strlen(s);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].name)) {
			memcpy(rgb, names[i].rgb, 3);
			return 0;
		}
	if (s[0] == '#' && (len == 7 || len == 4)) {
		int d = len == 7 ? 2 : 1;
		for (i = 0; i < 3; i++) {
			int hi = hexval(s[1 + i * d]), lo = hexval(s[1 + i * d + d - 1]);
			if (hi < 0 || lo < 0)
				return -1;
			rgb[i] = (unsigned char)(d == 2 ? hi * 16 + lo : hi * 17);
		}
		return 0;
	}
	if (!parse_long(s, 0, 255, &v)) {
		rgb[0] = rgb[1] = rgb[2] = (unsigned char)v;
		return 0;
	}
	return -1;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "cols", required_argument, 0, 'c' }, { "rows", required_argument, 0, 'r' },
		{ "count", required_argument, 0, 'n' }, { "scale", required_argument, 0, 's' },
		{ "gap", required_argument, 0, 'g' }, { "panel-gap", required_argument, 0, 'P' },
		{ "gap-color", required_argument, 0, 'C' }, { "output", required_argument, 0, 'o' },
		{ "help", no_argument, 0, 'h' }, { "version", no_argument, 0, 'V' }, { 0, 0, 0, 0 }
	};
	int c, have_count = 0, nstdin = 0;

	memset(o, 0, sizeof(*o));
	o->scale = 1;
	o->gap = 1;
	o->panel_gap = 8;
	memset(o->color, 255, 3);
	while ((c = getopt_long(argc, argv, "c:r:n:s:g:o:hV", lo, NULL)) != -1) {
		switch (c) {
		case 'c': o->cols = opt_long("--cols", optarg, 1, 65536); break;
		case 'r': o->rows = opt_long("--rows", optarg, 1, 65536); break;
		case 'n': o->count = opt_long("--count", optarg, 0, MAX_COUNT); have_count = 1; break;
		case 's': o->scale = opt_long("--scale", optarg, 1, 64); break;
		case 'g': o->gap = opt_long("--gap", optarg, 0, 1024); break;
		case 'P': o->panel_gap = opt_long("--panel-gap", optarg, 0, 1024); break;
		case 'C':
			if (parse_color(optarg, o->color))
				usage_die("invalid colour '%s' for --gap-color: expected #rrggbb, #rgb, "
				          "a gray level 0-255 or white, black, gray, red, green, blue", optarg);
			break;
		case 'o': o->output = optarg; break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("%s (cae) %s\n", argv0, VERSION); exit(0);
		default: usage_die("unknown option");
		}
	}
	if (argc - optind > MAX_INPUTS)
		usage_die("too many streams (at most %d)", MAX_INPUTS);
	for (int i = optind; i < argc; i++) {
		o->in[o->nin++] = argv[i];
		nstdin += !strcmp(argv[i], "-");
	}
	if (!o->nin)
		o->in[o->nin++] = "-";
	if (nstdin > 1)
		usage_die("only one of the streams can be standard input");
	if (o->rows && o->cols) {
		long cap = o->rows * o->cols;
		if (have_count && o->count > cap)
			usage_die("--count %ld does not fit in %ld rows x %ld columns", o->count,
			          o->rows, o->cols);
		if (!have_count || o->count == 0)
			o->count = cap;
	} else if (!have_count) {
		o->count = DEF_COUNT;
	}
}

/* Reads up to o->count images of stream P->name (all if 0) as u8, and
 * checks their shape against *SHAPE (set from the first stream). */
static void read_panel(const struct opts *o, struct panel *p, struct ts_shape *shape, int first)
{
	struct ts_reader rd;
	FILE *f = in_open(p->name);
	const char *nm = strcmp(p->name, "-") ? p->name : "<stdin>";
	uint64_t per, cap = 0, limit;
	float *fbuf = NULL;

	if (ts_open(&rd, f, nm, 1))
		die("%s", rd.err);
	if (rd.shape.c != 1 && rd.shape.c != 3)
		die("%s: images have %u channels; a PNG grid needs 1 (gray) or 3 (RGB)", nm,
		    rd.shape.c);
	if (first) {
		*shape = rd.shape;
	} else if (rd.shape.c != shape->c || rd.shape.h != shape->h || rd.shape.w != shape->w) {
		die("%s: images are %ux%ux%u but %s has %ux%ux%u: all streams need the same shape",
		    nm, rd.shape.c, rd.shape.h, rd.shape.w, o->in[0], shape->c, shape->h, shape->w);
	}
	per = ts_samples(&rd.shape);
	/* the grid's pixels without gaps bound how many images can fit */
	limit = MAX_PIXELS / ((uint64_t)rd.shape.h * rd.shape.w * o->scale * o->scale);
	if (rd.shape.dtype == TS_F32)
		fbuf = xmalloc_n(per, sizeof(*fbuf));
	p->n = 0;
	for (;;) {
		long k;
		if (o->count && p->n == (uint64_t)o->count)
			break;
		if ((k = ts_more(&rd)) < 0)
			die("%s", rd.err);
		if (!k)
			break;
		if (p->n + 1 > limit / (uint64_t)o->nin)
			die("%s: %llu images of %ux%u at scale %ld (in each of %d panels) exceed "
			    "the limit of %u pixels (use --count or a smaller --scale)", nm,
			    (unsigned long long)p->n + 1, shape->h, shape->w, o->scale, o->nin,
			    MAX_PIXELS);
		if (p->n == cap) {
			/* doubling, but never past what the grid (or --count)
			 * can take: images may be large */
			uint64_t most = limit / (uint64_t)o->nin;
			if (o->count && (uint64_t)o->count < most)
				most = (uint64_t)o->count;
			cap = cap ? 2 * cap : 64;
			cap = cap < most ? cap : most;
			p->pix = xrealloc(p->pix, (size_t)cap * per);
		}
		if (rd.shape.dtype == TS_F32) {
			if (ts_read(&rd, fbuf, NULL, 1) != 1)
				die("%s", rd.err);
			ts_f32_to_u8(fbuf, p->pix + p->n * per, per);
		} else if (ts_read(&rd, p->pix + p->n * per, NULL, 1) != 1) {
			die("%s", rd.err);
		}
		p->n++;
	}
	if (!p->n)
		die("%s: no images", nm);
	free(fbuf);
	if (f != stdin)
		fclose(f);
}

int main(int argc, char **argv)
{
	struct opts o;
	struct panel pn[MAX_INPUTS];
	struct ts_shape shape = { 0 };
	struct outfile out;
	struct pngio_writer pw;
	const char *oname;
	uint64_t nmax = 0, cols, rows, cw, chh, panel_w, width, height, plane;
	unsigned char *row;
	int oc, i;

	prog_init(argc, argv);
	parse_args(argc, argv, &o);
	out_open(&out, o.output, 0);
	memset(pn, 0, sizeof(pn));
	for (i = 0; i < o.nin; i++) {
		pn[i].name = o.in[i];
		read_panel(&o, &pn[i], &shape, i == 0);
		if (pn[i].n > nmax)
			nmax = pn[i].n;
	}

	/* layout: every panel gets the same grid, sized for the largest */
	if (o.rows && o.cols) {
		rows = o.rows;
		cols = o.cols;
	} else if (o.cols) {
		cols = o.cols;
		rows = (nmax + cols - 1) / cols;
	} else if (o.rows) {
		rows = o.rows;
		cols = (nmax + rows - 1) / rows;
	} else {
		cols = (uint64_t)ceil(sqrt((double)nmax));
		rows = (nmax + cols - 1) / cols;
	}
	cw = (uint64_t)shape.w * o.scale;
	chh = (uint64_t)shape.h * o.scale;
	panel_w = cols * cw + (cols - 1) * o.gap;
	width = o.nin * panel_w + (o.nin - 1) * o.panel_gap;
	height = rows * chh + (rows - 1) * o.gap;
	if (width > MAX_PIXELS || height > MAX_PIXELS || width * height > MAX_PIXELS)
		die("a grid of %llux%llu pixels exceeds the limit of %u pixels "
		    "(use fewer --rows/--cols, a smaller --scale or --gap)",
		    (unsigned long long)width, (unsigned long long)height, MAX_PIXELS);
	/* gray output unless the images or the gap need colour */
	oc = shape.c == 3 || o.color[0] != o.color[1] || o.color[1] != o.color[2] ? 3 : 1;

	oname = o.output && strcmp(o.output, "-") ? o.output : "<stdout>";
	row = xmalloc_n(width, oc);
	plane = (uint64_t)shape.h * shape.w;
	if (pngio_write_begin(&pw, out.f, (uint32_t)width, (uint32_t)height, oc))
		die("%s: %s", oname, pw.err);
	for (uint64_t y = 0; y < height; y++) {
		uint64_t gr = y / (chh + o.gap), in = y % (chh + o.gap);
		for (uint64_t x = 0; x < width; x++)
			memcpy(row + x * oc, o.color, oc);
		for (i = 0; in < chh && i < o.nin; i++) {
			uint64_t sy = in / o.scale, x0 = i * (panel_w + o.panel_gap);
			for (uint64_t gc = 0; gc < cols; gc++) {
				uint64_t idx = gr * cols + gc;
				const unsigned char *img;
				unsigned char *d = row + (x0 + gc * (cw + o.gap)) * oc;
				if (idx >= pn[i].n)
					break;
				img = pn[i].pix + idx * plane * shape.c + sy * shape.w;
				for (uint64_t x = 0; x < cw; x++) {
					uint64_t sx = x / o.scale;
					/* gray images in an RGB grid repeat their one plane */
					for (int ch = 0; ch < oc; ch++)
						d[x * oc + ch] = img[(shape.c == 3 ? ch * plane : 0) + sx];
				}
			}
		}
		if (pngio_write_row(&pw, row))
			die("%s: %s", oname, pw.err);
	}
	if (pngio_write_end(&pw))
		die("%s: %s", oname, pw.err);
	pngio_writer_free(&pw);
	free(row);
	for (i = 0; i < o.nin; i++)
		free(pn[i].pix);
	out_commit(&out);
	return 0;
}
