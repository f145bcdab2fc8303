/* img-read - PNG images (grayscale or RGB) to a tensor stream */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "pngio.h"
#include "stream.h"
#include "util.h"

struct opts {
	char **files;
	int nfiles;
	const char *output;
	int dtype;        /* TS_U8 or TS_F32 */
	int channels;     /* 0 as stored, 1 gray, 3 rgb */
	int labels;
	long label;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: %s [options] [FILE.png ...]\n"
	        "Reads PNG images (default: one from stdin) and writes them as a tensor stream,\n"
	        "one segment per image.\n"
	        "      --float         write f32 samples (keeps 16-bit precision; default u8)\n"
	        "      --gray          convert colour images to one channel (ITU-R BT.601 luma)\n"
	        "      --rgb           write three channels (grayscale images are replicated)\n"
	        "      --label N       label every record with N\n"
	        "  -o, --output FILE   write to FILE (atomically) instead of stdout\n"
	        "  -h, --help          show this help\n"
	        "  -V, --version       show the version\n", argv0);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "float", no_argument, 0, 'f' }, { "gray", no_argument, 0, 'g' },
		{ "rgb", no_argument, 0, 'r' }, { "label", required_argument, 0, 'l' },
		{ "output", required_argument, 0, 'o' }, { "help", no_argument, 0, 'h' },
		{ "version", no_argument, 0, 'V' }, { 0, 0, 0, 0 }
	};
	int c;
	memset(o, 0, sizeof(*o));
	o->dtype = TS_U8;
	while ((c = getopt_long(argc, argv, "o:hV", lo, NULL)) != -1) {
		switch (c) {
		case 'f': o->dtype = TS_F32; break;
		case 'g':
			if (o->channels == 3) usage_die("--gray and --rgb exclude each other");
			o->channels = 1;
			break;
		case 'r':
			if (o->channels == 1) usage_die("--gray and --rgb exclude each other");
			o->channels = 3;
			break;
		case 'l': o->labels = 1; o->label = opt_long("--label", optarg, INT32_MIN, INT32_MAX); break;
		case 'o': o->output = optarg; break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("%s (cae) %s\n", argv0, VERSION); exit(0);
		default: usage_die("unknown option");
		}
	}
	o->files = argv + optind;
	o->nfiles = argc - optind;
	for (int i = 0, nstdin = 0; i < o->nfiles; i++)
		if (!strcmp(o->files[i], "-") && ++nstdin > 1)
			usage_die("standard input can be read only once");
}

/* Converts the planar image in place between 1 and 3 channels. */
static void convert(struct pngio_image *im, int want)
{
	size_t plane = (size_t)im->w * im->h, sz = im->dtype == TS_F32 ? 4 : 1;
	if (!want || want == im->c)
		return;
	if (want == 3) {
		im->data = xrealloc(im->data, 3 * plane * sz);
		memcpy((char *)im->data + plane * sz, im->data, plane * sz);
		memcpy((char *)im->data + 2 * plane * sz, im->data, plane * sz);
	} else if (im->dtype == TS_F32) {
		float *p = im->data;
		for (size_t i = 0; i < plane; i++)
			p[i] = 0.299f * p[i] + 0.587f * p[plane + i] + 0.114f * p[2 * plane + i];
	} else {
		unsigned char *p = im->data;
		for (size_t i = 0; i < plane; i++)
			p[i] = (unsigned char)((299 * p[i] + 587 * p[plane + i] + 114 * p[2 * plane + i] + 500) / 1000);
	}
	im->c = want;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct outfile out;
	char *stdin_name = "-";
	char **files;
	int n;

	prog_init(argc, argv);
	parse_args(argc, argv, &o);
	files = o.nfiles ? o.files : &stdin_name;
	n = o.nfiles ? o.nfiles : 1;
	out_open(&out, o.output, 0);
	for (int i = 0; i < n; i++) {
		struct pngio_image im;
		struct ts_shape s;
		char err[256];
		const char *name = strcmp(files[i], "-") ? files[i] : "<stdin>";
		FILE *f = in_open(files[i]);
		int32_t label = (int32_t)o.label;
		if (pngio_read(f, name, o.dtype, &im, err, sizeof(err)))
			die("%s", err);
		if (f != stdin)
			fclose(f);
		convert(&im, o.channels);
		s.dtype = o.dtype;
		s.labels = o.labels;
		s.c = im.c;
		s.h = im.h;
		s.w = im.w;
		if (ts_write_header(out.f, &s, 1) || ts_write(out.f, &s, im.data, &label, 1))
			die("%s: write error: %s", o.output && strcmp(o.output, "-") ? o.output :
			    "<stdout>", strerror(errno));
		free(im.data);
	}
	out_commit(&out);
	return 0;
}
