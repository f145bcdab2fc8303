/* train.c - the training loop of ae-train, see train.h */
#include "train.h"
#include "metrics.h"
#include "model.h"
#include "nn.h"
#include "noise.h"
#include "par.h"
#include "rng.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* Sub-streams of the seed, one per purpose. */
enum { SEED_INIT = 1, SEED_SHUFFLE, SEED_NOISE, SEED_VALNOISE };

static volatile sig_atomic_t stop_sig;

static void on_stop(int sig)
{
	stop_sig = sig;
}

void dataset_load(struct dataset *d, const char *path)
{
	struct ts_reader r;
	struct stat st;
	FILE *f = in_open(path);
	uint64_t cap, hw, k;
	long got;

	memset(d, 0, sizeof(*d));
	d->name = !path || !strcmp(path, "-") ? "<stdin>" : path;
	if (ts_open(&r, f, d->name, 1))
		die("%s", r.err);
	d->shape = r.first;
	d->dbytes = ts_data_bytes(&r.first);
	hw = (uint64_t)d->shape.h * d->shape.w;
	/* The first segment's count sizes the buffer, if the input can hold
	 * that much: one segment of 50,000 images is then read in place. */
	cap = r.left < UINT32_MAX ? r.left : UINT32_MAX;
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode))
		cap = cap < (uint64_t)st.st_size / ts_record_bytes(&r.first) ? cap :
		      (uint64_t)st.st_size / ts_record_bytes(&r.first);
	else if (cap > (UINT64_C(1) << 30) / d->dbytes)
		cap = (UINT64_C(1) << 30) / d->dbytes;
	if (cap)
		d->data = xmalloc_n(cap, d->dbytes);
	for (;;) {
		uint64_t want;
		if (d->n == cap) {
			size_t bytes;
			if (cap >= UINT32_MAX)
				die("%s: more than %u records", d->name, UINT32_MAX);
			/* from an empty first segment: grow from what 1 GiB holds */
			cap = cap ? 2 * cap : (UINT64_C(1) << 30) / d->dbytes < 1024 ?
			      ((UINT64_C(1) << 30) / d->dbytes ? (UINT64_C(1) << 30) / d->dbytes : 1) : 1024;
			if (cap > UINT32_MAX)
				cap = UINT32_MAX;
			if (__builtin_mul_overflow(cap, d->dbytes, &bytes))
				die("%s: data set too large for memory", d->name);
			d->data = xrealloc(d->data, bytes);
		}
		want = cap - d->n;
		got = ts_read(&r, d->data + d->n * d->dbytes, NULL, want > LONG_MAX ? LONG_MAX : (long)want);
		if (got < 0)
			die("%s", r.err);
		if (got == 0)
			break;
		if (d->shape.dtype == TS_F32) {
			const unsigned char *p = d->data + d->n * d->dbytes;
			for (k = 0; k < (uint64_t)got * d->dbytes / 4; k++) {
				float v;
				uint64_t s = k % (d->dbytes / 4);
				memcpy(&v, p + 4 * k, 4);
				if (!isfinite(v))
					die("%s: record %llu has %s sample (channel %llu, row %llu, "
					    "column %llu): clean the data first", d->name,
					    (unsigned long long)(d->n + k / (d->dbytes / 4)),
					    isnan(v) ? "a NaN" : "an infinite",
					    (unsigned long long)(s / hw),
					    (unsigned long long)(s % hw / d->shape.w),
					    (unsigned long long)(s % d->shape.w));
			}
		}
		d->n += (uint64_t)got;
	}
	if (f != stdin)
		fclose(f);
	if (!d->n)
		die("%s: no records", d->name);
	d->data = xrealloc(d->data, d->n * d->dbytes);
}

void dataset_image(const struct dataset *d, uint64_t i, float *out)
{
	const unsigned char *p = d->data + i * d->dbytes;
	if (d->shape.dtype == TS_U8)
		ts_u8_to_f32(p, out, d->dbytes);
	else
		memcpy(out, p, d->dbytes);
}

void dataset_free(struct dataset *d)
{
	free(d->data);
	d->data = NULL;
}

struct trainer {
	const struct train_opts *o;
	char spec[MODEL_MAX_SPEC];
	struct arch arch;
	const char *label;          /* preset name or spec, for messages */
	uint32_t epochs, batch;
	int optimizer, loss, noise, clip, cosine;
	float lr;                   /* base learning rate */
	float sigma_lo, sigma_hi;
	uint64_t seed;

	struct dataset in, tg, val, vtg;
	int has_tg;
	const struct dataset *tout;           /* training targets */
	const struct dataset *vin, *vout;     /* validation inputs, targets */
	uint64_t v0, nval;                    /* first validation record, count */
	uint64_t ntrain, nheld;
	uint32_t data_crc;

	struct net *net;
	struct optim opt;
	int c, h, w;
	size_t isz, osz;            /* samples per input, output image */
	float *x, *y;               /* (batch, C, H, W) inputs and targets */
	uint32_t *perm;
	uint64_t seed_shuffle, seed_noise, seed_valnoise;

	uint32_t epoch;             /* position: epochs done ... */
	uint64_t step, steps;       /* ... steps done in this epoch, per epoch */
	double loss_sum;
	uint64_t loss_count;

	int saved;                  /* a checkpoint is on disk */
	uint32_t saved_epoch;
	uint64_t saved_step;
	FILE *log;
	int tty;
	double last_bar;
	uint64_t imgs_run;
};

static uint64_t sub_seed(uint64_t seed, uint64_t purpose)
{
	struct rng r;
	rng_derive(&r, seed, purpose);
	return rng_next(&r);
}

/* Gaussian noise on one image from its own generator R, as noise-add(1)
 * adds it; the sigma of a range is drawn first. */
static void add_noise(const struct trainer *T, float *x, struct rng *r)
{
	struct noise nz = { NOISE_GAUSSIAN, T->sigma_lo, 0, 0, 0, T->clip };
	if (T->noise == NOISE_RANGE)
		nz.sigma = T->sigma_lo + (T->sigma_hi - (double)T->sigma_lo) * rng_uniform(r);
	noise_apply(&nz, r, x, T->isz);
}

struct fill_job { struct trainer *T; uint64_t p0; };

static void fill_one(void *ctx, long i, int worker)
{
	const struct fill_job *jb = ctx;
	struct trainer *T = jb->T;
	uint64_t idx = T->perm[jb->p0 + i];
	float *x = T->x + (size_t)i * T->isz;
	(void)worker;
	dataset_image(&T->in, idx, x);
	dataset_image(T->tout, idx, T->y + (size_t)i * T->osz);
	if (T->noise != NOISE_NONE) {
		struct rng r;
		rng_derive(&r, T->seed_noise, (uint64_t)T->epoch * T->ntrain + jb->p0 + i);
		add_noise(T, x, &r);
	}
}

/* Inputs and targets of the N images at positions p0... of this epoch;
 * each image's noise has its own generator, so threads change nothing. */
static void fill_batch(struct trainer *T, uint64_t p0, int n)
{
	struct fill_job jb = { T, p0 };
	par_for_w(n, 8.0 * n * T->isz, fill_one, &jb);
}

/* Mean squared error over the validation set: of the network's outputs,
 * or with INPUT_ONLY of the (noisy) inputs themselves. */
static double validate(struct trainer *T, int input_only)
{
	double sse = 0;
	for (uint64_t i = 0; i < T->nval; i += T->batch) {
		int n = (int)(T->nval - i < T->batch ? T->nval - i : T->batch);
		for (int k = 0; k < n; k++) {
			float *x = T->x + (size_t)k * T->isz;
			dataset_image(T->vin, T->v0 + i + k, x);
			dataset_image(T->vout, T->v0 + i + k, T->y + (size_t)k * T->osz);
			if (T->noise != NOISE_NONE) {
				struct rng r;
				rng_derive(&r, T->seed_valnoise, i + k);
				add_noise(T, x, &r);
			}
		}
		if (input_only)
			sse += metric_sse(T->x, T->y, (uint64_t)n * T->osz);
		else
			sse += metric_sse(net_forward(T->net, T->x, n, 0), T->y, (uint64_t)n * T->osz);
	}
	return sse / ((double)T->nval * T->osz);
}

static int all_finite(const float *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(a[i]))
			return 0;
	return 1;
}

static void clear_bar(struct trainer *T)
{
	if (T->tty && T->last_bar > 0) {
		fputs("\r\033[K", stderr);
		T->last_bar = 0;
	}
}

/* Writes the model at the current position, with or without the state
 * to resume from. Never writes non-finite numbers. */
static void save(struct trainer *T, int with_state)
{
	struct model m;
	struct train_state *t = &m.tr;

	memset(&m, 0, sizeof(m));
	memcpy(m.spec, T->spec, sizeof(m.spec));
	m.arch = T->arch;
	m.c = (uint32_t)T->c;
	m.h = (uint32_t)T->h;
	m.w = (uint32_t)T->w;
	m.nparams = net_nparams(T->net);
	m.nstate = net_nstate(T->net);
	m.params = net_params(T->net);
	m.state = net_state(T->net);
	if (!all_finite(m.params, m.nparams) || !all_finite(m.state, m.nstate))
		die("refusing to write a model with non-finite parameters");
	if (with_state) {
		m.has_train = 1;
		t->optimizer = (uint32_t)T->optimizer;
		t->loss = (uint32_t)T->loss;
		t->batch = T->batch;
		t->lr = T->lr;
		t->beta1 = T->opt.beta1;
		t->beta2 = T->opt.beta2;
		t->eps = T->opt.eps;
		t->momentum = T->opt.momentum;
		t->t = T->opt.t;
		t->seed = T->seed;
		t->epochs = T->epochs;
		t->epoch = T->epoch;
		t->step = T->step;
		t->noise = (uint32_t)T->noise;
		t->sigma_lo = T->sigma_lo;
		t->sigma_hi = T->sigma_hi;
		t->flags = (T->clip ? TRAIN_CLIP : 0) | (T->has_tg ? TRAIN_TARGETS : 0) |
		           (T->cosine ? TRAIN_COSINE : 0);
		t->ntrain = T->ntrain;
		t->nheld = T->nheld;
		t->data_crc = T->data_crc;
		t->loss_sum = T->loss_sum;
		t->loss_count = T->loss_count;
		t->nm = T->opt.m ? T->opt.n : 0;
		t->nv = T->opt.v ? T->opt.n : 0;
		t->m = T->opt.m;
		t->v = T->opt.v;
	}
	model_save(T->o->output, &m);
	if (with_state) {
		T->saved = 1;
		T->saved_epoch = T->epoch;
		T->saved_step = T->step;
	}
}

/* Where the last checkpoint stands, for messages. */
static void where(uint32_t epoch, uint64_t step, char *buf, size_t n)
{
	if (step)
		snprintf(buf, n, "after step %llu of epoch %u", (unsigned long long)step, epoch + 1);
	else
		snprintf(buf, n, "after epoch %u", epoch);
}

static void diverged(struct trainer *T, double loss)
{
	char kept[600], at[64];
	clear_bar(T);
	where(T->saved_epoch, T->saved_step, at, sizeof(at));
	if (T->saved)
		snprintf(kept, sizeof(kept), "%s keeps the checkpoint %s", T->o->output, at);
	else
		snprintf(kept, sizeof(kept), "no model was written");
	die("%s at step %llu of epoch %u (is the learning rate too high?); training stopped, %s",
	    isnan(loss) ? "loss is NaN" : isfinite(loss) ? "parameters became non-finite" :
	    "loss is infinite", (unsigned long long)T->step + 1, T->epoch + 1, kept);
}

static void fmt_time(double s, char *buf, size_t n)
{
	long t = s > 0 && s < 1e8 ? (long)(s + 0.5) : 0;
	if (t >= 3600)
		snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

static void progress(struct trainer *T, double t0, uint64_t done)
{
	double t = now_sec(), rate, left;
	char bar[21], eta[32];
	int fill;

	if (!T->tty || t - T->last_bar < 0.2)
		return;
	T->last_bar = t;
	rate = done / (t - t0 > 1e-9 ? t - t0 : 1e-9);
	left = (double)(T->steps - T->step) * T->batch +
	       (double)(T->epochs - T->epoch - 1) * T->ntrain;
	fmt_time(left / rate, eta, sizeof(eta));
	fill = (int)(20 * T->step / T->steps);
	memset(bar, '=', 20);
	memset(bar + fill, ' ', 20 - fill);
	bar[20] = 0;
	fprintf(stderr, "\repoch %u/%u [%s] %llu/%llu loss %.5f %.0f img/s ETA %s\033[K",
	        T->epoch + 1, T->epochs, bar, (unsigned long long)T->step,
	        (unsigned long long)T->steps, T->loss_count ? T->loss_sum / T->loss_count : 0,
	        rate, eta);
}

/* The learning rate of the step at the current position: the base rate,
 * or with cosine decay lr/2 (1 + cos(pi s / S)) for step s of S planned. */
static float step_lr(const struct trainer *T)
{
	double s = (double)T->epoch * T->steps + T->step, all = (double)T->epochs * T->steps;
	if (!T->cosine || all <= 0)
		return T->lr;
	return (float)(T->lr * 0.5 * (1 + cos(M_PI * (s < all ? s : all) / all)));
}

/* One step on the batch at the current position. */
static void step(struct trainer *T)
{
	uint64_t p0 = T->step * T->batch;
	int n = (int)(T->ntrain - p0 < T->batch ? T->ntrain - p0 : T->batch);
	double loss;

	fill_batch(T, p0, n);
	T->opt.lr = step_lr(T);
	net_forward(T->net, T->x, n, 1);
	loss = net_backward(T->net, T->y, n, T->loss);
	if (!isfinite(loss))
		diverged(T, loss);
	optim_step(&T->opt, net_params(T->net), net_grads(T->net));
	if (!all_finite(net_params(T->net), net_nparams(T->net)))
		diverged(T, 0);
	T->loss_sum += loss * n;
	T->loss_count += (uint64_t)n;
	T->imgs_run += (uint64_t)n;
}

static void end_epoch(struct trainer *T, double t0, double ttrain, uint64_t done)
{
	double mse = NAN, psnr = NAN, secs, loss = T->loss_count ? T->loss_sum / T->loss_count : NAN;
	double rate = ttrain > 0 ? done / ttrain : 0;

	if (T->nval) {
		mse = validate(T, 0);
		psnr = metric_psnr(mse);
	}
	secs = now_sec() - t0;
	if (!T->o->quiet) {
		clear_bar(T);
		fprintf(stderr, "epoch %u/%u: loss %.6f", T->epoch + 1, T->epochs, loss);
		if (T->nval)
			fprintf(stderr, ", val mse %.6f psnr %.2f dB", mse, psnr);
		fprintf(stderr, ", %.1f s, %.0f img/s\n", secs, rate);
	}
	if (T->log) {
		fprintf(T->log, "%u\t%.6g\t%.6g\t%.4f\t%.3f\t%.1f\n", T->epoch + 1, loss, mse,
		        psnr, secs, rate);
		if (fflush(T->log) || ferror(T->log))
			die("%s: write error: %s", T->o->log, strerror(errno));
	}
}

static int interrupted(struct trainer *T)
{
	clear_bar(T);
	fprintf(stderr, "%s: interrupted; checkpoint written to %s (resume with --resume %s)\n",
	        argv0, T->o->output, T->o->output);
	return 128 + stop_sig;
}

/* The epochs from the current position on. Returns the exit status. */
static int run(struct trainer *T)
{
	const struct train_opts *o = T->o;
	int ran = 0;

	while (T->epoch < T->epochs) {
		double t0 = now_sec();
		uint64_t done = 0;
		struct rng r;

		for (uint32_t i = 0; i < T->ntrain; i++)
			T->perm[i] = i;
		rng_derive(&r, T->seed_shuffle, T->epoch);
		rng_shuffle(&r, T->perm, (uint32_t)T->ntrain);
		while (T->step < T->steps) {
			uint64_t before = T->imgs_run;
			step(T);
			done += T->imgs_run - before;
			T->step++;
			progress(T, t0, done);
			if (T->step < T->steps && (stop_sig || (o->checkpoint_every &&
			    T->opt.t % (uint64_t)o->checkpoint_every == 0)))
				save(T, 1);
			if (T->step < T->steps && stop_sig)
				return interrupted(T);
		}
		end_epoch(T, t0, now_sec() - t0, done);
		T->epoch++;
		T->step = 0;
		T->loss_sum = 0;
		T->loss_count = 0;
		save(T, 1);
		ran = 1;
		if (stop_sig && T->epoch < T->epochs)
			return interrupted(T);
	}
	if (!ran || o->no_state)
		save(T, !o->no_state);
	return 0;
}

static const char *optim_name(int k) { return k == OPT_SGD ? "sgd" : "adam"; }
static const char *loss_name(int k) { return k == LOSS_BCE ? "bce" : "mse"; }

/* A resumed run keeps its options: an explicit one must agree. */
static void keep(const struct train_opts *o, int differs, const char *opt, const char *was)
{
	if (differs)
		usage_die("%s: the run in %s was started with %s; a resumed run keeps its "
		          "options (only --epochs, --lr and --val may change)", opt, o->resume, was);
}

static void resume_opts(struct trainer *T, const struct model *rm)
{
	const struct train_opts *o = T->o;
	const struct train_state *t = &rm->tr;
	char buf[MODEL_MAX_SPEC + 64], e[256];

	if (!rm->has_train)
		die("%s: no training state (written with --no-state): it cannot be resumed", o->resume);
	if (o->arch) {
		struct arch a;
		char s[MODEL_MAX_SPEC];
		if (arch_parse(o->arch, &a, e, sizeof(e)))
			usage_die("--arch: %s", e);
		arch_format(&a, s, sizeof(s));
		snprintf(buf, sizeof(buf), "--arch %s", rm->spec);
		keep(o, strcmp(s, rm->spec) != 0, "--arch", buf);
	}
	snprintf(buf, sizeof(buf), "--batch %u", t->batch);
	keep(o, o->batch && (uint64_t)o->batch != t->batch, "--batch", buf);
	snprintf(buf, sizeof(buf), "--optimizer %s", optim_name((int)t->optimizer));
	keep(o, o->optimizer >= 0 && (uint32_t)o->optimizer != t->optimizer, "--optimizer", buf);
	snprintf(buf, sizeof(buf), "--loss %s", loss_name((int)t->loss));
	keep(o, o->loss >= 0 && (uint32_t)o->loss != t->loss, "--loss", buf);
	snprintf(buf, sizeof(buf), "seed %llu", (unsigned long long)t->seed);
	keep(o, o->seed_set && o->seed != t->seed, "--seed", buf);
	if (t->noise == NOISE_NONE)
		snprintf(buf, sizeof(buf), "no noise");
	else if (t->noise == NOISE_SIGMA)
		snprintf(buf, sizeof(buf), "--noise %g", t->sigma_lo);
	else
		snprintf(buf, sizeof(buf), "--noise-range %g:%g", t->sigma_lo, t->sigma_hi);
	keep(o, o->noise >= 0 && ((uint32_t)o->noise != t->noise ||
	     (float)o->sigma_lo != t->sigma_lo || (float)o->sigma_hi != t->sigma_hi),
	     "noise", buf);
	keep(o, o->clip >= 0 && o->clip != !!(t->flags & TRAIN_CLIP), "--clip",
	     t->flags & TRAIN_CLIP ? "--clip" : "unclipped noise");
	keep(o, o->cosine >= 0 && o->cosine != !!(t->flags & TRAIN_COSINE), "--lr-decay",
	     t->flags & TRAIN_COSINE ? "--lr-decay cosine" : "--lr-decay none");
	keep(o, !!o->target != !!(t->flags & TRAIN_TARGETS), "--target",
	     t->flags & TRAIN_TARGETS ? "--target FILE" : "no --target");
	if (o->epochs && (uint64_t)o->epochs < t->epoch)
		usage_die("--epochs %ld: the run in %s has already completed %u epochs",
		          o->epochs, o->resume, t->epoch);

	memcpy(T->spec, rm->spec, sizeof(T->spec));
	T->arch = rm->arch;
	T->label = T->spec;
	T->epochs = o->epochs ? (uint32_t)o->epochs : t->epochs;
	T->batch = t->batch;
	T->optimizer = (int)t->optimizer;
	T->loss = (int)t->loss;
	T->noise = (int)t->noise;
	T->clip = !!(t->flags & TRAIN_CLIP);
	T->cosine = !!(t->flags & TRAIN_COSINE);
	T->sigma_lo = t->sigma_lo;
	T->sigma_hi = t->sigma_hi;
	T->seed = t->seed;
	T->epoch = t->epoch;
	T->step = t->step;
	T->loss_sum = t->loss_sum;
	T->loss_count = t->loss_count;
}

static void fresh_opts(struct trainer *T)
{
	const struct train_opts *o = T->o;
	char e[256];

	T->label = o->arch ? o->arch : TRAIN_DEF_ARCH;
	if (arch_parse(T->label, &T->arch, e, sizeof(e)))
		usage_die("--arch: %s", e);
	arch_format(&T->arch, T->spec, sizeof(T->spec));
	T->epochs = o->epochs ? (uint32_t)o->epochs : TRAIN_DEF_EPOCHS;
	T->batch = o->batch ? (uint32_t)o->batch : TRAIN_DEF_BATCH;
	T->optimizer = o->optimizer >= 0 ? o->optimizer : OPT_ADAM;
	T->loss = o->loss >= 0 ? o->loss : LOSS_MSE;
	T->noise = o->noise >= 0 ? o->noise : NOISE_NONE;
	T->clip = o->clip > 0;
	T->cosine = o->cosine > 0;
	T->sigma_lo = T->noise ? (float)o->sigma_lo : 0;
	T->sigma_hi = T->noise ? (float)o->sigma_hi : 0;
	T->seed = o->seed_set ? o->seed : RNG_DEFAULT_SEED;
}

static void same_shape(const struct dataset *a, const struct dataset *b, const char *what)
{
	if (a->shape.c != b->shape.c || a->shape.h != b->shape.h || a->shape.w != b->shape.w)
		die("%s: %s %ux%ux%u differs from %s's %ux%ux%u", b->name, what, b->shape.c,
		    b->shape.h, b->shape.w, a->name, a->shape.c, a->shape.h, a->shape.w);
}

static void same_count(const struct dataset *a, const struct dataset *b)
{
	if (a->n != b->n)
		die("%s has %llu records but %s has %llu: inputs and targets must pair up",
		    b->name, (unsigned long long)b->n, a->name, (unsigned long long)a->n);
}

/* Loads the data and decides what is trained on and what validated. */
static void load_data(struct trainer *T, const struct model *rm)
{
	const struct train_opts *o = T->o;
	uLong crc;
	unsigned char dt;

	dataset_load(&T->in, o->input);
	T->has_tg = o->target != NULL;
	if (T->has_tg) {
		dataset_load(&T->tg, o->target);
		same_count(&T->in, &T->tg);
	}
	T->tout = T->has_tg ? &T->tg : &T->in;
	if (o->val) {
		dataset_load(&T->val, o->val);
		same_shape(&T->in, &T->val, "validation input");
		if (T->has_tg) {
			dataset_load(&T->vtg, o->val_target);
			same_shape(&T->tg, &T->vtg, "validation target");
			same_count(&T->val, &T->vtg);
		}
	}

	if (rm) {
		T->nheld = rm->tr.nheld;
		if (o->val_split >= 0 && (uint64_t)(o->val_split * T->in.n) != T->nheld)
			usage_die("--val-split: the run in %s held out %llu images", o->resume,
			          (unsigned long long)T->nheld);
	} else if (o->val_split > 0) {
		T->nheld = (uint64_t)(o->val_split * T->in.n);
		if (!T->nheld)
			die("--val-split %g of %llu images holds out none", o->val_split,
			    (unsigned long long)T->in.n);
	}
	if (T->nheld >= T->in.n)
		die("%s: %llu images, all held out for validation: none left to train on",
		    T->in.name, (unsigned long long)T->in.n);
	T->ntrain = T->in.n - T->nheld;

	if (o->val) {
		T->vin = &T->val;
		T->vout = T->has_tg ? &T->vtg : &T->val;
		T->v0 = 0;
		T->nval = T->val.n;
	} else if (T->nheld) {
		T->vin = &T->in;
		T->vout = T->tout;
		T->v0 = T->ntrain;
		T->nval = T->nheld;
	}

	crc = crc32_z(0, Z_NULL, 0);
	dt = (unsigned char)T->in.shape.dtype;
	crc = crc32_z(crc, &dt, 1);
	crc = crc32_z(crc, T->in.data, T->ntrain * T->in.dbytes);
	if (T->has_tg)
		crc = crc32_z(crc, T->tg.data, T->ntrain * T->tg.dbytes);
	T->data_crc = (uint32_t)crc;
	if (rm && (rm->tr.ntrain != T->ntrain || rm->tr.data_crc != T->data_crc))
		die("the training data differs from the data the run in %s was trained on "
		    "(%llu images, CRC-32 0x%08x; now %llu images, 0x%08x): --resume continues "
		    "a run on the same data", o->resume, (unsigned long long)rm->tr.ntrain,
		    rm->tr.data_crc, (unsigned long long)T->ntrain, T->data_crc);
}

/* Builds the network and optimizer, fresh or from the resumed model. */
static void setup_net(struct trainer *T, const struct model *rm)
{
	char e[512];
	int oc, oh, ow, maxb;
	uint64_t most = T->ntrain > T->nval ? T->ntrain : T->nval;

	T->c = (int)T->in.shape.c;
	T->h = (int)T->in.shape.h;
	T->w = (int)T->in.shape.w;
	maxb = (int)(T->batch < most ? T->batch : most);
	if (rm) {
		if (rm->c != (uint32_t)T->c || rm->h != (uint32_t)T->h || rm->w != (uint32_t)T->w)
			die("the run in %s was trained on %ux%ux%u images; %s has %dx%dx%d",
			    T->o->resume, rm->c, rm->h, rm->w, T->in.name, T->c, T->h, T->w);
		T->net = model_net(rm, T->c, T->h, T->w, maxb, e, sizeof(e));
	} else {
		T->net = net_create(&T->arch, T->c, T->h, T->w, maxb, e, sizeof(e));
		if (T->net)
			net_init(T->net, sub_seed(T->seed, SEED_INIT));
	}
	if (!T->net)
		die("architecture '%s' on %dx%dx%d input: %s", T->label, T->c, T->h, T->w, e);
	net_out_shape(T->net, &oc, &oh, &ow);
	if ((uint32_t)oc != T->tout->shape.c || (uint32_t)oh != T->tout->shape.h ||
	    (uint32_t)ow != T->tout->shape.w) {
		if (T->has_tg)
			die("%s: targets %ux%ux%u do not match the model's output %dx%dx%d",
			    T->tg.name, T->tg.shape.c, T->tg.shape.h, T->tg.shape.w, oc, oh, ow);
		die("the model's output %dx%dx%d differs from its input %dx%dx%d: give "
		    "targets with --target", oc, oh, ow, T->c, T->h, T->w);
	}
	T->isz = (size_t)T->c * T->h * T->w;
	T->osz = (size_t)oc * oh * ow;
	T->x = xmalloc_n((size_t)maxb * T->isz, sizeof(float));
	T->y = xmalloc_n((size_t)maxb * T->osz, sizeof(float));
	T->perm = xmalloc_n(T->ntrain, sizeof(uint32_t));
	T->steps = T->ntrain / T->batch + (T->ntrain % T->batch != 0);

	optim_init(&T->opt, T->optimizer, net_nparams(T->net));
	if (T->o->lr > 0)
		T->opt.lr = (float)T->o->lr;
	T->lr = T->opt.lr;
	if (rm) {
		const struct train_state *t = &rm->tr;
		if (!!t->nm != !!T->opt.m || !!t->nv != !!T->opt.v)
			die("%s: the optimizer state does not match the %s optimizer", T->o->resume,
			    optim_name(T->optimizer));
		if (T->o->lr <= 0)
			T->opt.lr = T->lr = t->lr;
		T->opt.beta1 = t->beta1;
		T->opt.beta2 = t->beta2;
		T->opt.eps = t->eps;
		T->opt.momentum = t->momentum;
		T->opt.t = t->t;
		if (t->nm)
			memcpy(T->opt.m, t->m, t->nm * sizeof(float));
		if (t->nv)
			memcpy(T->opt.v, t->v, t->nv * sizeof(float));
	}
	T->seed_shuffle = sub_seed(T->seed, SEED_SHUFFLE);
	T->seed_noise = sub_seed(T->seed, SEED_NOISE);
	T->seed_valnoise = sub_seed(T->seed, SEED_VALNOISE);
}

static void open_log(struct trainer *T)
{
	const char *path = T->o->log;
	struct stat st;
	int append = T->o->resume && stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;

	if (!(T->log = fopen(path, append ? "a" : "w")))
		die("%s: %s", path, strerror(errno));
	if (!append)
		fputs("epoch\ttrain_loss\tval_mse\tval_psnr\tseconds\timages_per_s\n", T->log);
}

static void announce(struct trainer *T)
{
	char s[64];
	fprintf(stderr, "%s: %s, %zu parameters; %llu images %s", argv0, T->label,
	        net_nparams(T->net), (unsigned long long)T->ntrain,
	        ts_shape_str(&T->in.shape, s, sizeof(s)));
	if (T->nval)
		fprintf(stderr, ", %llu for validation", (unsigned long long)T->nval);
	fprintf(stderr, "; %u epochs of %llu steps of %u, %s lr %g%s, %s loss", T->epochs,
	        (unsigned long long)T->steps, T->batch, optim_name(T->optimizer), T->lr,
	        T->cosine ? " (cosine decay)" : "", loss_name(T->loss));
	if (T->noise == NOISE_SIGMA)
		fprintf(stderr, ", noise sigma %g", T->sigma_lo);
	else if (T->noise == NOISE_RANGE)
		fprintf(stderr, ", noise sigma %g to %g", T->sigma_lo, T->sigma_hi);
	fputc('\n', stderr);
	if (T->o->resume) {
		char at[64];
		where(T->epoch, T->step, at, sizeof(at));
		if (T->epoch >= T->epochs)
			fprintf(stderr, "%s: %s has completed its %u epochs (--epochs N trains "
			        "longer)\n", argv0, T->o->resume, T->epochs);
		else
			fprintf(stderr, "%s: resuming %s %s\n", argv0, T->o->resume, at);
	}
	if (T->nval && T->noise != NOISE_NONE && T->isz == T->osz) {
		double mse = validate(T, 1);
		fprintf(stderr, "%s: noisy validation inputs: mse %.6f psnr %.2f dB\n", argv0,
		        mse, metric_psnr(mse));
	}
}

/* Fails before hours of loading and training if PATH cannot be written. */
static void probe_output(const char *path)
{
	struct outfile t;
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		die("%s: %s", path, strerror(EISDIR));
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return; /* a device or fifo: opened when written */
	out_open(&t, path, 1);
	out_abort(&t);
}

int train_run(const struct train_opts *o)
{
	struct trainer T;
	struct model rm;
	struct sigaction sa;
	int rc;

	memset(&T, 0, sizeof(T));
	memset(&rm, 0, sizeof(rm));
	T.o = o;
	nn_set_threads(o->threads);
	probe_output(o->output);
	if (o->resume) {
		char e[600];
		if (model_load(o->resume, &rm, e, sizeof(e)))
			die("%s", e);
		resume_opts(&T, &rm);
	} else {
		fresh_opts(&T);
	}
	load_data(&T, o->resume ? &rm : NULL);
	setup_net(&T, o->resume ? &rm : NULL);
	model_free(&rm);
	if (o->log)
		open_log(&T);
	T.tty = !o->quiet && isatty(STDERR_FILENO);
	if (!o->quiet)
		announce(&T);

	/* from here on a signal ends the run with a checkpoint */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rc = run(&T);

	if (T.log && fclose(T.log))
		die("%s: write error: %s", o->log, strerror(errno));
	optim_free(&T.opt);
	net_free(T.net);
	free(T.x);
	free(T.y);
	free(T.perm);
	dataset_free(&T.in);
	dataset_free(&T.tg);
	dataset_free(&T.val);
	dataset_free(&T.vtg);
	return rc;
}
