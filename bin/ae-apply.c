/* ae-apply - run a trained autoencoder over a tensor stream
 *
 * Batches come in through two slots: while the main thread computes the
 * batch in one and writes its output, a second thread reads and decodes
 * the next batch into the other. Only the main thread dies, and only with
 * the reader idle or ended (after a write error it is cancelled in the
 * middle of its read, as the input may have stalled); the reader stops at
 * a change of shape until the main thread has checked it. So output and
 * errors are those of one thread reading, computing and writing in turn.
 */
#include "model.h"
#include "nn.h"
#include "stream.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct opts {
	const char *model, *input, *output;
	long batch;
	int threads, u8, pad, quiet, ensemble;
};

/* The network for one input shape and the buffers around it. */
struct runner {
	struct ts_shape in;        /* input shape the net was built for */
	struct ts_shape out;       /* output records as written */
	struct net *net;
	int ph, pw;                /* padded input size (= h, w without --pad) */
	int oc, oh, ow;            /* network output */
	float *xp, *yc;            /* padded input, cropped output */
	float *xt, *acc;           /* --ensemble: transformed input, output sum */
	unsigned char *scratch;    /* u8 output */
};

/* A batch as read. */
struct slot {
	struct ts_shape in;        /* shape of its records */
	long n;                    /* records; 0 at the end, -1 on a read error */
	int fresh;                 /* in is a new shape, its records not read yet */
	float *x;                  /* (n,C,H,W) */
	size_t cap;                /* floats x holds */
	int32_t *labels;           /* (batch) */
};

/* The reader thread and its job: the next batch into one slot. It
 * reports errors in the slot and the reader, never dies, and touches
 * nothing but the slot and the reader. */
struct io {
	struct ts_reader *r;
	long batch;
	struct ts_shape shape;     /* records of another shape wait for main */
	struct slot *job;
	unsigned char *scratch;    /* u8 input */
	size_t scap;
	pthread_t t;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int started, busy, quit;
};

static void usage(void)
{
	printf("usage: %s -m MODEL [options] [INPUT]\n"
	       "Runs the model over the tensor stream INPUT (default stdin).\n"
	       "  -m, --model MODEL   model file written by ae-train\n"
	       "  -o, --output FILE   output stream (default stdout)\n"
	       "      --u8            write u8 samples (default f32)\n"
	       "  -b, --batch N       images per step and output segment (default 100)\n"
	       "      --pad           pad inputs to a multiple of the model's stride\n"
	       "      --ensemble N    average over N flips/rotations (1, 2, 4 or 8)\n"
	       "      --threads N     threads (default: online CPUs)\n"
	       "  -q, --quiet         no progress\n"
	       "  -h, --help, -V, --version\n", argv0);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_U8 = 256, O_PAD, O_THREADS, O_ENSEMBLE };
	static const struct option lo[] = {
		{ "model", required_argument, 0, 'm' },
		{ "output", required_argument, 0, 'o' },
		{ "batch", required_argument, 0, 'b' },
		{ "u8", no_argument, 0, O_U8 },
		{ "pad", no_argument, 0, O_PAD },
		{ "ensemble", required_argument, 0, O_ENSEMBLE },
		{ "threads", required_argument, 0, O_THREADS },
		{ "quiet", no_argument, 0, 'q' },
		{ "help", no_argument, 0, 'h' },
		{ "version", no_argument, 0, 'V' },
		{ 0, 0, 0, 0 }
	};
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int ch;

	memset(o, 0, sizeof(*o));
	o->batch = 100;
	o->ensemble = 1;
	o->threads = cpus < 1 ? 1 : cpus > 64 ? 64 : (int)cpus;
	while ((ch = getopt_long(argc, argv, "m:o:b:qhV", lo, NULL)) != -1) {
		switch (ch) {
		case 'm': o->model = optarg; break;
		case 'o': o->output = optarg; break;
		case 'b': o->batch = opt_long("--batch", optarg, 1, 65536); break;
		case O_U8: o->u8 = 1; break;
		case O_PAD: o->pad = 1; break;
		case O_ENSEMBLE:
			o->ensemble = (int)opt_long("--ensemble", optarg, 1, 8);
			if (o->ensemble & (o->ensemble - 1))
				usage_die("invalid value '%s' for --ensemble: expected 1, 2, 4 or 8",
				          optarg);
			break;
		case O_THREADS: o->threads = (int)opt_long("--threads", optarg, 1, 256); break;
		case 'q': o->quiet = 1; break;
		case 'h': usage(); exit(0);
		case 'V': printf("%s (cae) %s\n", argv0, VERSION); exit(0);
		default: usage_die("unknown option");
		}
	}
	if (argc - optind > 1)
		usage_die("too many arguments: one INPUT at most");
	o->input = optind < argc ? argv[optind] : "-";
	if (!o->model)
		usage_die("no model given: use -m MODEL");
	if (!strcmp(o->model, "-") && !strcmp(o->input, "-"))
		usage_die("the model and the input cannot both come from stdin");
}

static void runner_free(struct runner *R)
{
	net_free(R->net);
	free(R->xp);
	free(R->yc);
	free(R->scratch);
	free(R->xt);
	free(R->acc);
	memset(R, 0, sizeof(*R));
}

/* (Re)builds the network for input shape S, checking it suits the model. */
static void runner_build(struct runner *R, const struct model *m, int stride,
                         const struct ts_shape *s, const struct opts *o)
{
	char e[600];
	size_t osz;

	runner_free(R);
	if (s->c != m->c)
		die("input has %u channel%s, the model expects %u", s->c, s->c == 1 ? "" : "s", m->c);
	R->in = *s;
	R->ph = (int)s->h;
	R->pw = (int)s->w;
	if (stride == 0 && (s->h != m->h || s->w != m->w))
		die("input %ux%ux%u: this model has dense layers and takes only its trained "
		    "shape %ux%ux%u", s->c, s->h, s->w, m->c, m->h, m->w);
	if (stride > 0 && (s->h % stride || s->w % stride)) {
		if (!o->pad)
			die("input %ux%ux%u: height and width must be multiples of %d for this "
			    "model (use --pad)", s->c, s->h, s->w, stride);
		R->ph = (int)((s->h + stride - 1) / stride * stride);
		R->pw = (int)((s->w + stride - 1) / stride * stride);
	}
	R->net = model_net(m, (int)s->c, R->ph, R->pw, (int)o->batch, e, sizeof(e));
	if (!R->net)
		die("input %ux%ux%u: %s", s->c, s->h, s->w, e);
	net_out_shape(R->net, &R->oc, &R->oh, &R->ow);
	R->out.dtype = o->u8 ? TS_U8 : TS_F32;
	R->out.labels = s->labels;
	R->out.c = (uint32_t)R->oc;
	/* cropping back keeps the model's output/input size ratio, rounded up */
	R->out.h = (uint32_t)(((uint64_t)s->h * R->oh + R->ph - 1) / R->ph);
	R->out.w = (uint32_t)(((uint64_t)s->w * R->ow + R->pw - 1) / R->pw);
	osz = (size_t)ts_samples(&R->out);
	if (R->ph != (int)s->h || R->pw != (int)s->w) {
		R->xp = xmalloc_n((size_t)o->batch, (size_t)s->c * R->ph * R->pw * sizeof(float));
		R->yc = xmalloc_n((size_t)o->batch, osz * sizeof(float));
	}
	if (o->ensemble > 1) {
		if (R->oh != R->ph || R->ow != R->pw)
			die("--ensemble: the model's output (%dx%d) must have the size of its "
			    "input (%dx%d)", R->oh, R->ow, R->ph, R->pw);
		if (o->ensemble == 8 && R->ph != R->pw)
			die("--ensemble 8: input %ux%u is not square (2 and 4 only flip)",
			    s->h, s->w);
		R->xt = xmalloc_n((size_t)o->batch, (size_t)s->c * R->ph * R->pw * sizeof(float));
		R->acc = xmalloc_n((size_t)o->batch, (size_t)R->oc * R->oh * R->ow * sizeof(float));
	}
	if (o->u8)
		R->scratch = xmalloc_n((size_t)o->batch, osz);
}

/* Edge replication: rows and columns past the image repeat its last ones. */
static void pad(const float *x, float *xp, long n, int c, int h, int w, int ph, int pw)
{
	for (long i = 0; i < n * c; i++) {
		const float *src = x + i * h * w;
		float *dst = xp + i * ph * pw;
		for (int yy = 0; yy < ph; yy++) {
			const float *row = src + (yy < h ? yy : h - 1) * w;
			for (int xx = 0; xx < pw; xx++)
				dst[yy * pw + xx] = row[xx < w ? xx : w - 1];
		}
	}
}

static void crop(const float *y, float *yc, long n, int c, int h, int w, int ch, int cw)
{
	for (long i = 0; i < n * c; i++)
		for (int yy = 0; yy < ch; yy++)
			memcpy(yc + (i * ch + yy) * cw, y + (i * h + yy) * w, cw * sizeof(float));
}

/* Transform T of the square's symmetries (bit 0: mirror left-right, bit 1:
 * upside down, bit 2: transpose; the transpose needs h == w) of N planes of
 * H x W: with ADD 0, dst = T(src); with ADD 1, dst += T^-1(src). */
static void dihedral(const float *src, float *dst, long n, int h, int w, int t, int add)
{
	for (long i = 0; i < n; i++, src += (size_t)h * w, dst += (size_t)h * w)
		for (int yy = 0; yy < h; yy++)
			for (int xx = 0; xx < w; xx++) {
				int a = t & 4 ? xx : yy, b = t & 4 ? yy : xx;
				size_t p = (size_t)yy * w + xx, q;
				if (t & 1)
					b = w - 1 - b;
				if (t & 2)
					a = h - 1 - a;
				q = (size_t)a * w + b;
				if (add)
					dst[q] += src[p];
				else
					dst[p] = src[q];
			}
}

/* The mean of the network's outputs over ENSEMBLE symmetries of X. */
static const float *forward(struct runner *R, const float *x, long n, int ensemble)
{
	size_t osz = (size_t)n * R->oc * R->oh * R->ow;
	if (ensemble == 1)
		return net_forward(R->net, x, (int)n, 0);
	memset(R->acc, 0, osz * sizeof(float));
	for (int t = 0; t < ensemble; t++) {
		dihedral(x, R->xt, n * R->in.c, R->ph, R->pw, t, 0);
		dihedral(net_forward(R->net, R->xt, (int)n, 0), R->acc, n * R->oc, R->oh, R->ow,
		         t, 1);
	}
	for (size_t i = 0; i < osz; i++)
		R->acc[i] /= (float)ensemble;
	return R->acc;
}

/* The output of batch s, valid until the next call. */
static const float *compute(struct runner *R, const struct slot *s, int ensemble)
{
	if (!R->xp)
		return forward(R, s->x, s->n, ensemble);
	pad(s->x, R->xp, s->n, (int)R->in.c, (int)R->in.h, (int)R->in.w, R->ph, R->pw);
	crop(forward(R, R->xp, s->n, ensemble), R->yc, s->n, R->oc, R->oh, R->ow,
	     (int)R->out.h, (int)R->out.w);
	return R->yc;
}

/* A buffer of n elements of sz bytes in place of p, whose contents go:
 * p itself if it holds them (*cap >= n), NULL if out of memory. */
static void *fit(void *p, size_t *cap, size_t n, size_t sz)
{
	size_t bytes;
	if (n <= *cap)
		return p;
	free(p);
	*cap = 0;
	if (__builtin_mul_overflow(n, sz, &bytes) || !(p = malloc(bytes ? bytes : 1)))
		return NULL;
	*cap = n;
	return p;
}

/* The next batch into s; or, when its shape is not io->shape, only that
 * shape (s->fresh), for main to check before the records are read. */
static void read_batch(struct io *io, struct slot *s)
{
	struct ts_reader *r = io->r;
	const struct ts_shape *sh = &r->shape;
	size_t isz;
	int k = ts_more(r);
	s->n = k < 0 ? -1 : 0;
	s->fresh = 0;
	if (k <= 0)
		return;
	s->in = *sh;
	if (sh->c != io->shape.c || sh->h != io->shape.h || sh->w != io->shape.w ||
	    sh->labels != io->shape.labels) {
		s->fresh = 1;
		return;
	}
	isz = (size_t)ts_samples(sh) * (size_t)io->batch;
	s->x = fit(s->x, &s->cap, isz, sizeof(float));
	io->scratch = fit(io->scratch, &io->scap, isz, 1);
	if (!s->x || !io->scratch) {
		snprintf(r->err, sizeof(r->err), "out of memory (%zu bytes)", isz * sizeof(float));
		s->n = -1;
		return;
	}
	s->n = ts_read_f32(r, s->x, s->labels, io->batch, io->scratch);
}

/* The reader can be cancelled only while it reads a batch (blocked in a
 * read, say), never while it holds the mutex. */
static void *io_main(void *arg)
{
	struct io *io = arg;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	pthread_mutex_lock(&io->mu);
	for (;;) {
		while (!io->busy && !io->quit)
			pthread_cond_wait(&io->cv, &io->mu);
		if (io->quit)
			break;
		pthread_mutex_unlock(&io->mu);
		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
		read_batch(io, io->job);
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
		pthread_mutex_lock(&io->mu);
		io->busy = 0;
		pthread_cond_broadcast(&io->cv);
	}
	pthread_mutex_unlock(&io->mu);
	return NULL;
}

static void io_init(struct io *io, struct ts_reader *r, long batch)
{
	memset(io, 0, sizeof(*io));
	io->r = r, io->batch = batch;
	io->shape = r->shape;
	pthread_mutex_init(&io->mu, NULL);
	pthread_cond_init(&io->cv, NULL);
	/* should it fail to start, the main thread reads itself */
	io->started = !pthread_create(&io->t, NULL, io_main, io);
}

/* Starts reading the next batch into s; io_wait() waits for it. The
 * reader is idle outside the two. */
static void io_start(struct io *io, struct slot *s)
{
	io->job = s;
	if (!io->started) {
		read_batch(io, s);
		return;
	}
	pthread_mutex_lock(&io->mu);
	io->busy = 1;
	pthread_cond_broadcast(&io->cv);
	pthread_mutex_unlock(&io->mu);
}

static void io_wait(struct io *io)
{
	pthread_mutex_lock(&io->mu);
	while (io->busy)
		pthread_cond_wait(&io->cv, &io->mu);
	pthread_mutex_unlock(&io->mu);
}

/* Ends the reader; with ABORT also in the middle of a read, which may
 * wait for an input that is slow or stalled. */
static void io_end(struct io *io, int abort)
{
	if (!io->started)
		return;
	pthread_mutex_lock(&io->mu);
	io->quit = 1;
	pthread_cond_broadcast(&io->cv);
	pthread_mutex_unlock(&io->mu);
	if (abort)
		pthread_cancel(io->t);
	pthread_join(io->t, NULL);
	io->started = 0;
}

static void io_stop(struct io *io)
{
	io_end(io, 0);
	pthread_mutex_destroy(&io->mu);
	pthread_cond_destroy(&io->cv);
	free(io->scratch);
}

/* Writes through an existing device or fifo instead of replacing it. */
static void open_output(struct outfile *out, const char *path)
{
	struct stat st;
	if (path && strcmp(path, "-") && stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		memset(out, 0, sizeof(*out));
		if (!(out->f = fopen(path, "wb")))
			die("%s: %s", path, strerror(errno));
		return;
	}
	out_open(out, path, 0);
}

int main(int argc, char **argv)
{
	struct opts o;
	struct model m;
	struct runner R;
	struct ts_reader r;
	struct outfile out;
	struct slot slot[2], *cur = slot;
	struct io io;
	char e[600];
	const char *oname;
	int stride, tty;
	uint64_t done = 0;
	double last = 0;
	FILE *in;

	prog_init(argc, argv);
	parse_args(argc, argv, &o);
	nn_set_threads(o.threads);
	if (model_load(o.model, &m, e, sizeof(e)))
		die("%s", e);
	stride = arch_total_stride(&m.arch);

	open_output(&out, o.output);
	oname = o.output && strcmp(o.output, "-") ? o.output : "<stdout>";
	in = in_open(o.input);
	if (ts_open(&r, in, !strcmp(o.input, "-") ? NULL : o.input, 0))
		die("%s", r.err);
	memset(&R, 0, sizeof(R));
	runner_build(&R, &m, stride, &r.shape, &o);
	tty = !o.quiet && isatty(STDERR_FILENO);

	/* the next batch comes in while cur is computed and written */
	memset(slot, 0, sizeof(slot));
	slot[0].labels = xmalloc_n((size_t)o.batch, sizeof(int32_t));
	slot[1].labels = xmalloc_n((size_t)o.batch, sizeof(int32_t));
	io_init(&io, &r, o.batch);
	io_start(&io, cur);
	io_wait(&io);
	for (;;) {
		struct slot *next = cur == slot ? &slot[1] : slot;
		const float *y;
		int bad, saved;
		if (cur->fresh) {
			/* the reader stopped at a new shape: check it, read on */
			runner_build(&R, &m, stride, &cur->in, &o);
			io.shape = cur->in;
			io_start(&io, cur);
			io_wait(&io);
		}
		if (cur->n <= 0)
			break;
		io_start(&io, next);
		y = compute(&R, cur, o.ensemble);
		/* one segment per batch, flushed: output keeps pace with input */
		bad = ts_write_segment_f32(out.f, &R.out, y, cur->labels, cur->n, R.scratch) ||
		      fflush(out.f);
		saved = errno;
		if (bad) {
			/* no waiting for a batch that may never come: the reader
			 * stops where it is, then the error is reported */
			io_end(&io, 1);
			errno = saved;
			break;
		}
		io_wait(&io);   /* not to die while the reader reads */
		done += (uint64_t)cur->n;
		cur = next;
		if (tty && now_sec() - last > 0.2) {
			last = now_sec();
			fprintf(stderr, "\r%s: %llu images\033[K", argv0, (unsigned long long)done);
		}
	}
	if (tty && last > 0)
		fputs("\r\033[K", stderr);
	if (cur->n < 0)
		die("%s", r.err);
	/* an input of empty segments still gives a valid (empty) stream */
	if (!ferror(out.f) && done == 0 && ts_write_header(out.f, &R.out, 0))
		die("%s: write error: %s", oname, strerror(errno));
	io_stop(&io);
	if (in != stdin)
		fclose(in);
	for (int i = 0; i < 2; i++) {
		free(slot[i].x);
		free(slot[i].labels);
	}
	runner_free(&R);
	model_free(&m);
	if (out.tmp)
		out_commit(&out);
	else
		fshut(out.f, oname);
	return 0;
}
