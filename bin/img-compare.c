/* img-compare - MSE, PSNR and SSIM between two image streams */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "stream.h"
#include "util.h"

#define MAXCLASS 1000

struct opts {
	const char *ref, *cand;
	int per_image;
	enum { FMT_TEXT, FMT_TSV, FMT_JSON } format;
	int by_class; /* -1 auto */
};

struct acc {
	uint64_t n;
	double sse, samples, psnr_sum, ssim_sum;
	uint64_t psnr_inf, ssim_n;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: %s [options] REFERENCE CANDIDATE\n"
	        "Compares two aligned image streams (either may be '-'): MSE, PSNR, SSIM.\n"
	        "  --per-image          one TSV line per image instead of the summary\n"
	        "  --format FMT         text (default), tsv or json\n"
	        "  --no-classes         no per-class breakdown even when labels are present\n"
	        "  -h, --help           show this help\n"
	        "  -V, --version        show the version\n", argv0);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "per-image", no_argument, 0, 'p' }, { "format", required_argument, 0, 'f' },
		{ "no-classes", no_argument, 0, 'n' }, { "help", no_argument, 0, 'h' },
		{ "version", no_argument, 0, 'V' }, { 0, 0, 0, 0 }
	};
	int c;
	memset(o, 0, sizeof(*o));
	o->by_class = -1;
	while ((c = getopt_long(argc, argv, "hV", lo, NULL)) != -1) {
		switch (c) {
		case 'p': o->per_image = 1; break;
		case 'n': o->by_class = 0; break;
		case 'f':
			if (!strcmp(optarg, "text")) o->format = FMT_TEXT;
			else if (!strcmp(optarg, "tsv")) o->format = FMT_TSV;
			else if (!strcmp(optarg, "json")) o->format = FMT_JSON;
			else usage_die("unknown format '%s' (text, tsv or json)", optarg);
			break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("%s (cae) %s\n", argv0, VERSION); exit(0);
		default: usage_die("unknown option");
		}
	}
	if (argc - optind != 2)
		usage_die("expected two streams: REFERENCE CANDIDATE");
	o->ref = argv[optind];
	o->cand = argv[optind + 1];
	if (!strcmp(o->ref, "-") && !strcmp(o->cand, "-"))
		usage_die("only one of the streams can be standard input");
}

static void add(struct acc *a, double sse, uint64_t samples, double ssim)
{
	double mse = sse / samples;
	a->n++;
	a->sse += sse;
	a->samples += samples;
	if (mse > 0)
		a->psnr_sum += metric_psnr(mse);
	else
		a->psnr_inf++;
	if (!isnan(ssim)) {
		a->ssim_sum += ssim;
		a->ssim_n++;
	}
}

/* Prints a number, or "inf"/"nan" (JSON: null). */
static void num(double v, int json)
{
	if (isfinite(v))
		printf("%.6g", v);
	else
		printf("%s", json ? "null" : isnan(v) ? "nan" : "inf");
}

static void stats(const struct acc *a, double *mse, double *psnr, double *pmean, double *ssim)
{
	*mse = a->samples ? a->sse / a->samples : NAN;
	*psnr = metric_psnr(*mse);
	*pmean = a->psnr_inf ? INFINITY : a->n ? a->psnr_sum / a->n : NAN;
	*ssim = a->ssim_n ? a->ssim_sum / a->ssim_n : NAN;
}

static void report(const struct opts *o, const struct acc *all, const struct acc *cls, int ncls)
{
	double m, p, pm, s;
	int json = o->format == FMT_JSON;
	stats(all, &m, &p, &pm, &s);
	if (o->format == FMT_TEXT) {
		printf("images     %llu\nmse        ", (unsigned long long)all->n);
		num(m, 0); printf("\npsnr       "); num(p, 0);
		printf(" dB\npsnr_mean  "); num(pm, 0);
		printf(" dB (mean of per-image PSNR)\nssim       "); num(s, 0);
		printf("\n");
		if (ncls) {
			printf("\nclass\timages\tmse\tpsnr\tssim\n");
			for (int k = 0; k < MAXCLASS; k++) {
				if (!cls[k].n)
					continue;
				stats(&cls[k], &m, &p, &pm, &s);
				printf("%d\t%llu\t", k, (unsigned long long)cls[k].n);
				num(m, 0); putchar('\t'); num(p, 0); putchar('\t'); num(s, 0); putchar('\n');
			}
		}
	} else if (o->format == FMT_TSV) {
		printf("class\timages\tmse\tpsnr\tpsnr_mean\tssim\n");
		for (int k = -1; k < (ncls ? MAXCLASS : 0); k++) {
			const struct acc *a = k < 0 ? all : &cls[k];
			if (!a->n)
				continue;
			stats(a, &m, &p, &pm, &s);
			if (k < 0) printf("all"); else printf("%d", k);
			printf("\t%llu\t", (unsigned long long)a->n);
			num(m, 0); putchar('\t'); num(p, 0); putchar('\t');
			num(pm, 0); putchar('\t'); num(s, 0); putchar('\n');
		}
	} else {
		printf("{\"images\": %llu, \"mse\": ", (unsigned long long)all->n);
		num(m, json); printf(", \"psnr\": "); num(p, json);
		printf(", \"psnr_mean\": "); num(pm, json);
		printf(", \"ssim\": "); num(s, json);
		if (ncls) {
			const char *sep = "";
			printf(", \"classes\": [");
			for (int k = 0; k < MAXCLASS; k++) {
				if (!cls[k].n)
					continue;
				stats(&cls[k], &m, &p, &pm, &s);
				printf("%s{\"label\": %d, \"images\": %llu, \"mse\": ", sep, k,
				       (unsigned long long)cls[k].n);
				num(m, 1); printf(", \"psnr\": "); num(p, 1);
				printf(", \"ssim\": "); num(s, 1); printf("}");
				sep = ", ";
			}
			printf("]");
		}
		printf("}\n");
	}
}

int main(int argc, char **argv)
{
	struct opts o;
	struct ts_reader ra, rb;
	struct acc all = { 0 }, *cls;
	FILE *fa, *fb;
	float *xa = NULL, *xb = NULL;
	void *scratch = NULL;
	double *ss = NULL;
	uint64_t cap = 0, idx = 0;
	int labels, ncls = 0;

	prog_init(argc, argv);
	parse_args(argc, argv, &o);
	fa = in_open(o.ref);
	fb = in_open(o.cand);
	if (ts_open(&ra, fa, strcmp(o.ref, "-") ? o.ref : "<stdin>", 0))
		die("%s", ra.err);
	if (ts_open(&rb, fb, strcmp(o.cand, "-") ? o.cand : "<stdin>", 0))
		die("%s", rb.err);
	cls = xcalloc(MAXCLASS, sizeof(*cls));
	if (o.per_image)
		printf("index\tlabel\tmse\tpsnr\tssim\n");
	for (;;) {
		int ka = ts_more(&ra), kb = ts_more(&rb);
		int32_t la = 0, lb = 0;
		uint64_t n;
		double sse, ssim;
		if (ka < 0)
			die("%s", ra.err);
		if (kb < 0)
			die("%s", rb.err);
		if (!ka || !kb) {
			if (ka || kb)
				die("%s has more images than %s (%llu compared)", ka ? o.ref : o.cand,
				    ka ? o.cand : o.ref, (unsigned long long)idx);
			break;
		}
		if (ra.shape.c != rb.shape.c || ra.shape.h != rb.shape.h || ra.shape.w != rb.shape.w)
			die("image %llu: shapes differ (%ux%ux%u in %s, %ux%ux%u in %s)",
			    (unsigned long long)idx, ra.shape.c, ra.shape.h, ra.shape.w, o.ref,
			    rb.shape.c, rb.shape.h, rb.shape.w, o.cand);
		n = ts_samples(&ra.shape);
		if (n > cap) {
			free(xa); free(xb); free(scratch); free(ss);
			xa = xmalloc_n(n, 4);
			xb = xmalloc_n(n, 4);
			scratch = xmalloc_n(n, 4);
			ss = xmalloc_n((size_t)5 * ra.shape.h * ra.shape.w, sizeof(double));
			cap = n;
		}
		if (ts_read_f32(&ra, xa, &la, 1, scratch) != 1)
			die("%s", ra.err);
		if (ts_read_f32(&rb, xb, &lb, 1, scratch) != 1)
			die("%s", rb.err);
		labels = ra.shape.labels && rb.shape.labels;
		if (labels && la != lb)
			die("image %llu: labels differ (%d in %s, %d in %s): are the streams aligned?",
			    (unsigned long long)idx, la, o.ref, lb, o.cand);
		if (!labels && (ra.shape.labels || rb.shape.labels))
			la = ra.shape.labels ? la : lb, labels = 1;
		sse = metric_sse(xa, xb, n);
		ssim = metric_ssim(xa, xb, ra.shape.c, ra.shape.h, ra.shape.w, ss);
		add(&all, sse, n, ssim);
		if (labels && o.by_class != 0) {
			if (la < 0 || la >= MAXCLASS)
				die("image %llu: label %d outside 0-%d (use --no-classes)",
				    (unsigned long long)idx, la, MAXCLASS - 1);
			add(&cls[la], sse, n, ssim);
			ncls = 1;
		}
		if (o.per_image) {
			printf("%llu\t%d\t", (unsigned long long)idx, la);
			num(sse / n, 0); putchar('\t'); num(metric_psnr(sse / n), 0); putchar('\t');
			num(ssim, 0); putchar('\n');
		}
		idx++;
	}
	if (!o.per_image)
		report(&o, &all, cls, ncls);
	free(xa); free(xb); free(scratch); free(ss); free(cls);
	if (fa != stdin) fclose(fa);
	if (fb != stdin) fclose(fb);
	fshut(stdout, "<stdout>");
	return 0;
}
