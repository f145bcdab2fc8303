/* cifar-extract - CIFAR-10/CIFAR-100 binary batches to a tensor stream */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cifar.h"
#include "stream.h"
#include "util.h"

struct opts {
	const char *out;
	int quiet;
	int split;         /* CIFAR_TRAIN, CIFAR_TEST */
	int label;         /* CIFAR_FINE, CIFAR_COARSE */
	int kind;          /* CIFAR_AUTO, CIFAR_10, CIFAR_100 */
	uint64_t count;    /* UINT64_MAX: all */
	uint64_t skip;
	const char *classes;
	int f32;
	int labels;
	int list;
	char **in;
	int nin;
};

static char *stdin_only[] = { "-" };

static void usage(void)
{
	printf("usage: %s [options] [FILE|DIR|ARCHIVE ...]\n"
	       "Converts CIFAR-10/CIFAR-100 binary batches (files, a cifar-10-batches-bin or\n"
	       "cifar-100-binary directory, or the official .tar.gz; '-' or nothing is a\n"
	       "raw batch on standard input) to a 3x32x32 tensor stream.\n\n"
	       "  -o, --output FILE   write to FILE instead of standard output\n"
	       "      --split S       train (default) or test, for directories and archives\n"
	       "      --label L       fine (default) or coarse, for CIFAR-100\n"
	       "      --cifar10       treat the input as CIFAR-10 (3073-byte records)\n"
	       "      --cifar100      treat the input as CIFAR-100 (3074-byte records)\n"
	       "  -n, --count N       output at most N records\n"
	       "      --skip N        drop the first N records (after --class)\n"
	       "  -c, --class LIST    only these classes: comma-separated numbers or names\n"
	       "      --float         f32 samples (v/255) instead of u8\n"
	       "      --no-labels     records without the int32 label\n"
	       "      --list-classes  print \"N<TAB>name\" for each class and exit\n"
	       "  -q, --quiet         no progress on a terminal\n"
	       "  -h, --help          show this help\n"
	       "  -V, --version       show the version\n", argv0);
}

static uint64_t opt_u64(const char *name, const char *s, uint64_t min)
{
	uint64_t v;
	if (parse_u64(s, &v) || v < min)
		usage_die("invalid value '%s' for %s: expected an integer of at least %llu",
		          s, name, (unsigned long long)min);
	return v;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_SPLIT = 256, O_LABEL, O_C10, O_C100, O_SKIP, O_FLOAT, O_NOLAB, O_LIST };
	static const struct option lo[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "split", required_argument, NULL, O_SPLIT },
		{ "label", required_argument, NULL, O_LABEL },
		{ "cifar10", no_argument, NULL, O_C10 },
		{ "cifar100", no_argument, NULL, O_C100 },
		{ "count", required_argument, NULL, 'n' },
		{ "skip", required_argument, NULL, O_SKIP },
		{ "class", required_argument, NULL, 'c' },
		{ "float", no_argument, NULL, O_FLOAT },
		{ "no-labels", no_argument, NULL, O_NOLAB },
		{ "list-classes", no_argument, NULL, O_LIST },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, k10 = 0, k100 = 0, ndash = 0, coarse_set = 0;

	memset(o, 0, sizeof(*o));
	o->count = UINT64_MAX;
	o->labels = 1;
	while ((ch = getopt_long(argc, argv, "o:n:c:qhV", lo, NULL)) != -1) {
		switch (ch) {
		case 'o': o->out = optarg; break;
		case O_SPLIT:
			if (!strcmp(optarg, "train"))
				o->split = CIFAR_TRAIN;
			else if (!strcmp(optarg, "test"))
				o->split = CIFAR_TEST;
			else
				usage_die("invalid value '%s' for --split: expected train or test", optarg);
			break;
		case O_LABEL:
			if (!strcmp(optarg, "fine"))
				o->label = CIFAR_FINE;
			else if (!strcmp(optarg, "coarse"))
				o->label = CIFAR_COARSE;
			else
				usage_die("invalid value '%s' for --label: expected fine or coarse", optarg);
			coarse_set = o->label == CIFAR_COARSE;
			break;
		case O_C10: k10 = 1; break;
		case O_C100: k100 = 1; break;
		case 'n': o->count = opt_u64("--count", optarg, 1); break;
		case O_SKIP: o->skip = opt_u64("--skip", optarg, 0); break;
		case 'c': o->classes = optarg; break;
		case O_FLOAT: o->f32 = 1; break;
		case O_NOLAB: o->labels = 0; break;
		case O_LIST: o->list = 1; break;
		case 'q': o->quiet = 1; break;
		case 'h': usage(); fshut(stdout, "<stdout>"); exit(0);
		case 'V': printf("%s (cae) %s\n", argv0, VERSION); fshut(stdout, "<stdout>"); exit(0);
		default: usage_die("unknown option");
		}
	}
	if (k10 && k100)
		usage_die("--cifar10 and --cifar100 exclude each other");
	o->kind = k10 ? CIFAR_10 : k100 ? CIFAR_100 : CIFAR_AUTO;
	if (k10 && coarse_set)
		usage_die("--label coarse needs CIFAR-100 data, not --cifar10");
	if (o->classes && !*o->classes)
		usage_die("--class needs at least one class");
	o->in = argv + optind;
	o->nin = argc - optind;
	if (o->nin == 0) {
		o->in = stdin_only;
		o->nin = 1;
	}
	for (int i = 0; i < o->nin; i++)
		ndash += !strcmp(o->in[i], "-");
	if (ndash > 1)
		usage_die("standard input ('-') named more than once");
}

/* Turns --class LIST into a table of selected labels (names resolved
 * against the first input's class names). */
static void parse_classes(const struct opts *o, const struct cifar *c, unsigned char *sel)
{
	char *list = xstrdup(o->classes), *tok, *save = NULL;
	int any = 0;
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *e = tok + strlen(tok);
		int k;
		while (*tok == ' ')
			tok++;
		while (e > tok && e[-1] == ' ')
			*--e = '\0';
		if (!*tok)
			continue;
		if ((k = cifar_class_find(c, o->label, tok)) < 0)
			usage_die("unknown class '%s' for %s%s (see --list-classes)", tok,
			          cifar_kind_name(c->kind),
			          c->kind == CIFAR_100 ? (o->label == CIFAR_COARSE ? " coarse labels" :
			                                  " fine labels") : "");
		sel[k] = 1;
		any = 1;
	}
	free(list);
	if (!any)
		usage_die("--class needs at least one class");
}

static void list_classes(const struct opts *o, const struct cifar *c)
{
	for (int i = 0; i < c->nnames[o->label]; i++)
		printf("%d\t%s\n", i, c->names[o->label][i]);
	fshut(stdout, "<stdout>");
}

/* Output state: a block of up to CIFAR_BLOCK selected records. */
struct out {
	struct outfile f;
	const char *name;
	struct ts_shape shape;
	int known;             /* one segment whose count was written up front */
	unsigned char *pix;    /* (CIFAR_BLOCK,3,32,32) u8 */
	float *fpix;           /* (CIFAR_BLOCK,3,32,32) for --float */
	float lut[256];        /* u8 -> f32 */
	int32_t *lab, *fine, *coarse;
	long n;                /* records in the block */
	uint64_t written;
};

static void flush_block(struct out *w, int quiet)
{
	const void *data = w->pix;
	if (!w->n)
		return;
	if (!w->known && ts_write_header(w->f.f, &w->shape, (uint64_t)w->n))
		die("%s: write error: %s", w->name, strerror(errno));
	if (w->shape.dtype == TS_F32) {
		/* a table gives exactly ts_u8_to_f32's v/255, several times faster */
		uint64_t k, ns = (uint64_t)w->n * CIFAR_PIXELS;
		for (k = 0; k < ns; k++)
			w->fpix[k] = w->lut[w->pix[k]];
		data = w->fpix;
	}
	if (ts_write(w->f.f, &w->shape, data, w->lab, w->n))
		die("%s: write error: %s", w->name, strerror(errno));
	w->written += (uint64_t)w->n;
	w->n = 0;
	if (!quiet)
		fprintf(stderr, "\r%s: %llu records", argv0, (unsigned long long)w->written);
}

int main(int argc, char **argv)
{
	struct opts o;
	struct cifar *c;
	struct out w;
	unsigned char sel[100];
	uint64_t total = 0, skip;
	int i, quiet;

	prog_init(argc, argv);
	parse_args(argc, argv, &o);

	/* prepare: open (and check) every input before writing anything */
	c = xcalloc((size_t)o.nin, sizeof(*c));
	for (i = 0; i < (o.list ? 1 : o.nin); i++) {
		if (cifar_open(&c[i], o.in[i], o.kind, o.split))
			die("%s", c[i].err);
		if (c[i].kind != c[0].kind)
			die("%s: %s data cannot follow %s data from %s", o.in[i],
			    cifar_kind_name(c[i].kind), cifar_kind_name(c[0].kind), o.in[0]);
		if (c[i].records == CIFAR_UNKNOWN || total == CIFAR_UNKNOWN)
			total = CIFAR_UNKNOWN;
		else
			total += c[i].records;
	}
	if (o.label == CIFAR_COARSE && c[0].kind != CIFAR_100)
		usage_die("--label coarse needs CIFAR-100 data (%s is CIFAR-10)", o.in[0]);
	if (o.list) {
		list_classes(&o, &c[0]);
		cifar_close(&c[0]);
		free(c);
		return 0;
	}
	memset(sel, o.classes ? 0 : 1, sizeof(sel));
	if (o.classes)
		parse_classes(&o, &c[0], sel);

	memset(&w, 0, sizeof(w));
	w.shape.dtype = o.f32 ? TS_F32 : TS_U8;
	w.shape.labels = o.labels;
	w.shape.c = 3;
	w.shape.h = w.shape.w = CIFAR_SIDE;
	w.name = o.out ? o.out : "<stdout>";
	w.pix = xmalloc_n(CIFAR_BLOCK, CIFAR_PIXELS);
	w.fpix = o.f32 ? xmalloc_n(CIFAR_BLOCK, CIFAR_PIXELS * sizeof(float)) : NULL;
	for (i = 0; i < 256; i++) {
		unsigned char v = (unsigned char)i;
		ts_u8_to_f32(&v, &w.lut[i], 1);
	}
	w.lab = xmalloc_n(CIFAR_BLOCK, sizeof(int32_t));
	w.fine = xmalloc_n(CIFAR_BLOCK, sizeof(int32_t));
	w.coarse = xmalloc_n(CIFAR_BLOCK, sizeof(int32_t));
	quiet = o.quiet || !isatty(STDERR_FILENO);
	out_open(&w.f, o.out, 0);
	if (setvbuf(w.f.f, NULL, _IOFBF, 1u << 20))
		die("%s: cannot set a buffer", w.name);
	/* without --class the record count is known unless a stream is read:
	 * then the output is a single segment, else one segment per block */
	w.known = !o.classes && total != CIFAR_UNKNOWN;
	if (w.known) {
		total = total > o.skip ? total - o.skip : 0;
		if (total > o.count)
			total = o.count;
		o.count = total;   /* also stops a --skip past the end from reading on */
		if (ts_write_header(w.f.f, &w.shape, total))
			die("%s: write error: %s", w.name, strerror(errno));
	}

	/* stream: read into the free end of the block, then keep the
	 * selected records by moving them down in place */
	skip = o.skip;
	for (i = 0; i < o.nin && w.written + (uint64_t)w.n < o.count; i++) {
		for (;;) {
			uint64_t room = o.count - w.written - (uint64_t)w.n;
			long base = w.n, max = CIFAR_BLOCK - base, n, j;
			if (room == 0)
				break;
			/* read no further than needed, so that --count 1 reads one record */
			if (!o.classes && room < (uint64_t)max && skip < (uint64_t)max - room)
				max = (long)(room + skip);
			n = cifar_read(&c[i], w.pix + (size_t)base * CIFAR_PIXELS, w.fine, w.coarse, max);
			if (n < 0)
				die("%s", c[i].err);
			if (n == 0)
				break;
			for (j = 0; j < n && w.written + (uint64_t)w.n < o.count; j++) {
				int32_t l = o.label == CIFAR_COARSE ? w.coarse[j] : w.fine[j];
				if (!sel[l])
					continue;
				if (skip) {
					skip--;
					continue;
				}
				if (w.n != base + j)
					memmove(w.pix + (size_t)w.n * CIFAR_PIXELS,
					        w.pix + (size_t)(base + j) * CIFAR_PIXELS, CIFAR_PIXELS);
				w.lab[w.n++] = l;
			}
			if (w.n == CIFAR_BLOCK)
				flush_block(&w, quiet);
		}
		cifar_close(&c[i]);
	}
	flush_block(&w, quiet);
	if (!w.known && w.written == 0 && ts_write_header(w.f.f, &w.shape, 0))
		die("%s: write error: %s", w.name, strerror(errno));
	if (!quiet && w.written)
		fputc('\n', stderr);
	out_commit(&w.f);

	for (; i < o.nin; i++)
		cifar_close(&c[i]);
	free(c);
	free(w.pix);
	free(w.fpix);
	free(w.lab);
	free(w.fine);
	free(w.coarse);
	return 0;
}
