/* noise-add - add seeded random noise to a tensor stream */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "noise.h"
#include "par.h"
#include "rng.h"
#include "stream.h"
#include "util.h"

#define DEF_SIGMA 0.1
#define DEF_AMOUNT_UNIFORM 0.1
#define DEF_AMOUNT_SP 0.05
#define DEF_PEAK 255.0
#define BATCH_MAX 256               /* records per output segment */
#define BATCH_BYTES (4u << 20)      /* f32 bytes per batch, at least one record */
#define GRAIN_SAMPLES 16384         /* samples per work item of the threads */

struct opts {
	const char *input, *output;
	struct noise nz;
	uint64_t seed;
	int u8, threads;
};

/* A batch: records of per samples, the first of them record number first
 * of the stream. */
struct job {
	const struct opts *o;
	float *x;
	uint64_t per, first;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: %s [options] [STREAM]\n"
	        "Adds seeded random noise to every sample of a tensor stream (default stdin).\n"
	        "  -t, --type TYPE     gaussian (default), uniform, salt-pepper or poisson\n"
	        "      --sigma S       gaussian standard deviation (default %g)\n"
	        "      --mean M        offset added with gaussian or uniform noise (default 0)\n"
	        "      --amount A      uniform: noise in [-A,A) (default %g);\n"
	        "                      salt-pepper: fraction of samples set to 0 or 1 (default %g)\n"
	        "      --peak P        poisson: x becomes Poisson(x*P)/P (default %g)\n"
	        "      --clip          clamp the result to [0,1]\n"
	        "      --u8            write u8 samples (implies --clip; rounds)\n"
	        "  -s, --seed N        random seed (default %d)\n"
	        "  -o, --output FILE   write to FILE (atomically) instead of stdout\n"
	        "      --threads N     threads (default: online CPUs)\n"
	        "  -h, --help          show this help\n"
	        "  -V, --version       show the version\n",
	        argv0, DEF_SIGMA, DEF_AMOUNT_UNIFORM, DEF_AMOUNT_SP, DEF_PEAK, RNG_DEFAULT_SEED);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "type", required_argument, 0, 't' }, { "sigma", required_argument, 0, 'S' },
		{ "mean", required_argument, 0, 'M' }, { "amount", required_argument, 0, 'A' },
		{ "peak", required_argument, 0, 'P' }, { "clip", no_argument, 0, 'c' },
		{ "u8", no_argument, 0, 'u' }, { "seed", required_argument, 0, 's' },
		{ "output", required_argument, 0, 'o' }, { "threads", required_argument, 0, 'T' },
		{ "help", no_argument, 0, 'h' }, { "version", no_argument, 0, 'V' },
		{ 0, 0, 0, 0 }
	};
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	const char *sigma = NULL, *mean = NULL, *amount = NULL, *peak = NULL;
	const char *type = NULL;
	int c, t;

	memset(o, 0, sizeof(*o));
	o->seed = RNG_DEFAULT_SEED;
	o->threads = cpus < 1 ? 1 : cpus > 64 ? 64 : (int)cpus;
	while ((c = getopt_long(argc, argv, "t:s:o:hV", lo, NULL)) != -1) {
		switch (c) {
		case 't': type = optarg; break;
		case 'S': sigma = optarg; break;
		case 'M': mean = optarg; break;
		case 'A': amount = optarg; break;
		case 'P': peak = optarg; break;
		case 'c': o->nz.clip = 1; break;
		case 'u': o->u8 = 1; break;
		case 's':
			if (parse_u64(optarg, &o->seed))
				usage_die("invalid value '%s' for --seed: expected an integer "
				          "from 0 to 18446744073709551615", optarg);
			break;
		case 'o': o->output = optarg; break;
		case 'T': o->threads = (int)opt_long("--threads", optarg, 1, 256); break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("%s (cae) %s\n", argv0, VERSION); exit(0);
		default: usage_die("unknown option");
		}
	}
	if (argc - optind > 1)
		usage_die("expected at most one input stream, got %d", argc - optind);
	o->input = optind < argc ? argv[optind] : "-";

	t = type ? noise_type_parse(type) : NOISE_GAUSSIAN;
	if (t < 0)
		usage_die("unknown noise type '%s' (gaussian, uniform, salt-pepper or poisson)", type);
	o->nz.type = (enum noise_type)t;
	/* each parameter belongs to some types only: a stray one is a mistake */
	if (sigma && t != NOISE_GAUSSIAN)
		usage_die("--sigma applies to gaussian noise, not %s", type);
	if (mean && t != NOISE_GAUSSIAN && t != NOISE_UNIFORM)
		usage_die("--mean applies to gaussian and uniform noise, not %s", type);
	if (amount && t != NOISE_UNIFORM && t != NOISE_SALT_PEPPER)
		usage_die("--amount applies to uniform and salt-pepper noise, not %s",
		          type ? type : "gaussian");
	if (peak && t != NOISE_POISSON)
		usage_die("--peak applies to poisson noise, not %s", type ? type : "gaussian");
	o->nz.sigma = sigma ? opt_double("--sigma", sigma, 0, 1e6) : DEF_SIGMA;
	o->nz.mean = mean ? opt_double("--mean", mean, -1e6, 1e6) : 0;
	if (t == NOISE_SALT_PEPPER)
		o->nz.amount = amount ? opt_double("--amount", amount, 0, 1) : DEF_AMOUNT_SP;
	else
		o->nz.amount = amount ? opt_double("--amount", amount, 0, 1e6) : DEF_AMOUNT_UNIFORM;
	o->nz.peak = peak ? opt_double("--peak", peak, 0, 1e9) : DEF_PEAK;
	if (!(o->nz.peak > 0))
		usage_die("invalid value '%s' for --peak: must be positive", peak);
	if (o->u8)
		o->nz.clip = 1;
}

/* Records [lo, hi) of a batch. Record i of the stream always draws from
 * generator (seed, i), so output does not depend on batching, segments
 * or threads. */
static void noise_records(void *ctx, long lo, long hi, int worker)
{
	struct job *jb = ctx;
	for (long i = lo; i < hi; i++) {
		struct rng g;
		rng_derive(&g, jb->o->seed, jb->first + (uint64_t)i);
		noise_apply(&jb->o->nz, &g, jb->x + (uint64_t)i * jb->per, jb->per);
	}
}

int main(int argc, char **argv)
{
	struct opts o;
	struct ts_reader rd;
	struct outfile out;
	FILE *in;
	float *x = NULL;
	int32_t *labels = NULL;
	unsigned char *scratch = NULL;
	uint64_t cap = 0; /* samples x and scratch can hold */
	uint64_t written = 0;

	prog_init(argc, argv);
	parse_args(argc, argv, &o);
	/* threads that sleep while they wait, where OpenMP's would spin */
	par_set_threads(o.threads);
	in = in_open(o.input);
	out_open(&out, o.output, 0);
	if (ts_open(&rd, in, strcmp(o.input, "-") ? o.input : NULL, 0))
		die("%s", rd.err);
	labels = xmalloc_n(BATCH_MAX, sizeof(*labels));

	for (;;) {
		struct ts_shape os;
		struct job jb;
		uint64_t per, first;
		long bmax, n;
		int k = ts_more(&rd);
		if (k < 0)
			die("%s", rd.err);
		if (k == 0)
			break;
		/* a batch stays within a few MiB whatever the record size, and
		 * the buffers grow only if a later segment has bigger records */
		per = ts_samples(&rd.shape);
		bmax = (long)(BATCH_BYTES / (per * 4));
		bmax = bmax < 1 ? 1 : bmax > BATCH_MAX ? BATCH_MAX : bmax;
		if (per * bmax > cap) {
			free(x);
			free(scratch);
			cap = per * bmax;
			x = xmalloc_n(cap, sizeof(*x));
			scratch = xmalloc_n(cap, 1);
		}
		first = rd.rec;
		n = ts_read_f32(&rd, x, labels, bmax, scratch);
		if (n < 0)
			die("%s", rd.err);
		jb = (struct job){ &o, x, per, first };
		par_range(n, (long)(GRAIN_SAMPLES / per), noise_records, &jb);
		os = rd.shape;
		os.dtype = o.u8 ? TS_U8 : TS_F32;
		if (ts_write_segment_f32(out.f, &os, x, labels, n, scratch))
			die("%s: write error: %s", o.output ? o.output : "<stdout>", strerror(errno));
		written += (uint64_t)n;
	}
	if (!written) {
		/* an input without records still gives a valid (empty) stream */
		struct ts_shape os = rd.first;
		os.dtype = o.u8 ? TS_U8 : TS_F32;
		if (ts_write_header(out.f, &os, 0))
			die("%s: write error: %s", o.output ? o.output : "<stdout>", strerror(errno));
	}
	free(x);
	free(scratch);
	free(labels);
	if (in != stdin)
		fclose(in);
	out_commit(&out);
	return 0;
}
