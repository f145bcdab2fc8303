/* test_conv_ref.c - the convolution's fast paths against the direct loops,
 * gemm against gemm_ref, the vectorised sigmoid against libm
 *
 * Every shape runs on both paths (the direct kernels where they are built,
 * and im2col + GEMM), with 1 and 2 threads, as a plain conv and as the
 * variant that follows an upsampling (conv2d_up_ops, fed the small image):
 * forward, dW, db and dx against conv2d_forward_ref and conv2d_backward_ref
 * on the upsampled image; the variant's dx, the small image's gradient,
 * against the 2x2 block sums of the reference's (what the upsampling's
 * backward makes of it).
 *
 * Tolerance: max |fast - ref| <= 1e-5 * max |ref| over each whole tensor
 * (float sums of up to a few thousand products against double ones).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "conv.h"
#include "dconv.h"
#include "gemm.h"
#include "layer.h"
#include "rng.h"

#define TOL 1e-5

static struct rng r;

static float *randv(long n)
{
	float *v = malloc(sizeof *v * (size_t)(n ? n : 1));
	for (long i = 0; i < n; i++)
		v[i] = (float)(2 * rng_uniform(&r) - 1);
	return v;
}

static float *zv(long n)
{
	return calloc((size_t)(n ? n : 1), sizeof(float));
}

/* max |a-b| / max |b| */
static double relerr(const float *a, const float *b, long n)
{
	double e = 0, m = 1e-30;
	for (long i = 0; i < n; i++) {
		double d = fabs((double)a[i] - b[i]);
		if (d > e || d != d)
			e = d != d ? INFINITY : d;
		if (fabs(b[i]) > m)
			m = fabs(b[i]);
	}
	return e / m;
}

static void test_gemm(void)
{
	int sizes[][3] = { { 1, 1, 1 }, { 7, 5, 3 }, { 32, 300, 27 }, { 33, 17, 129 } };
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
	for (int ta = 0; ta < 2; ta++)
	for (int tb = 0; tb < 2; tb++) {
		int m = sizes[s][0], n = sizes[s][1], k = sizes[s][2];
		/* padded leading dimensions */
		int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 1;
		long na = (long)(ta ? k : m) * lda, nb = (long)(tb ? n : k) * ldb;
		float *a = randv(na), *b = randv(nb), *c1 = randv((long)m * ldc);
		float *c2 = malloc(sizeof *c2 * (size_t)m * ldc);
		memcpy(c2, c1, sizeof *c2 * (size_t)m * ldc);
		gemm(ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 0.25f, c1, ldc);
		gemm_ref(ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 0.25f, c2, ldc);
		double e = relerr(c1, c2, (long)m * ldc);
		CHECKF(e < TOL, "gemm %dx%dx%d ta %d tb %d: error %g", m, n, k, ta, tb, e);
		free(a), free(b), free(c1), free(c2);
	}
}

static void test_sigmoid(void)
{
	float v[67];
	double e = 0;
	for (int i = 0; i < 67; i++)
		v[i] = (float)(i - 33) * 3.1f;   /* -102 .. 102: saturates both ways */
	v[0] = -1e30f, v[66] = 1e30f;
	float w[67];
	memcpy(w, v, sizeof w);
	dconv_sigmoid(w, 67);
	for (int i = 0; i < 67; i++) {
		double want = 1 / (1 + exp(-(double)v[i]));
		double d = fabs(w[i] - want) / (want > 1e-30 ? want : 1e-30);
		if (want < 1e-37)   /* below the float normals: absolute */
			d = fabs(w[i] - want);
		if (d > e)
			e = d;
	}
	CHECKF(e < 1e-6, "sigmoid: relative error %g", e);
	float nan = NAN;
	dconv_sigmoid(&nan, 1);
	CHECK(nan != nan);   /* a NaN stays one */
}

/* A conv layer built by hand with the given ops, its scratch for two
 * threads, and random parameters. */
struct tl {
	struct layer l;
	struct nn_ws ws;
	float *cols[2], *dcols[2];
};

static struct tl *make_layer(const char *spec, const struct layer_ops *ops,
                             int c, int h, int w, int n)
{
	char err[256];
	struct arch a;
	if (arch_parse(spec, &a, err, sizeof err)) {
		CHECKF(0, "%s: %s", spec, err);
		return NULL;
	}
	struct tl *t = calloc(1, sizeof *t);
	struct layer *l = &t->l;
	l->s = a.l[0];
	l->ops = ops;
	l->ic = c, l->ih = h, l->iw = w;
	l->need_dx = 1;
	l->ws = &t->ws;
	if (ops->setup(l, n, err, sizeof err)) {
		CHECKF(0, "%s: %s", spec, err);
		free(t);
		return NULL;
	}
	l->p = randv((long)l->np);
	for (size_t i = 0; i < l->np; i++)
		l->p[i] *= 0.5f;
	l->g = zv((long)l->np);
	l->save = zv((long)l->save_n);
	t->ws.nthreads = 2;
	t->ws.cols_n = l->cols_n;
	t->ws.part_n = l->part_n;
	for (int i = 0; i < 2; i++) {
		t->cols[i] = zv((long)l->cols_n);
		t->dcols[i] = zv((long)l->cols_n);
	}
	t->ws.cols = t->cols, t->ws.dcols = t->dcols;
	t->ws.part = zv((long)l->part_n * NN_SLOTS);
	return t;
}

static void free_layer(struct tl *t)
{
	free(t->l.p), free(t->l.g), free(t->l.save), free(t->ws.part);
	for (int i = 0; i < 2; i++)
		free(t->cols[i]), free(t->dcols[i]);
	free(t);
}

/* x (N,C,H,W) upsampled by 2 into y (N,C,2H,2W). */
static void upsample(const float *x, float *y, long planes, int h, int w)
{
	for (long p = 0; p < planes; p++)
		for (int i = 0; i < 2 * h; i++)
			for (int j = 0; j < 2 * w; j++)
				y[(p * 2 * h + i) * 2 * w + j] = x[(p * h + i / 2) * w + j / 2];
}

/* The upsampling's backward: 2x2 block sums of dy (N,C,2H,2W). */
static void fold(const float *dy, float *dx, long planes, int h, int w)
{
	for (long p = 0; p < planes; p++)
		for (int i = 0; i < h; i++)
			for (int j = 0; j < w; j++) {
				const float *b = dy + (p * 2 * h + 2 * i) * 2 * w + 2 * j;
				dx[(p * h + i) * w + j] = b[0] + b[1] + b[2 * w] + b[2 * w + 1];
			}
}

struct shape { int c, h, w, oc, k, s, valid, act, n; };

static void test_conv(const struct shape *t, int up, const char *path)
{
	char spec[64], what[160];
	snprintf(spec, sizeof spec, "conv%dk%ds%d%s%s", t->oc, t->k, t->s,
	         t->valid ? ":valid" : "",
	         t->act == ACT_RELU ? "" : t->act == ACT_SIGMOID ? ":sigmoid" : ":linear");
	int n = t->n, h = up ? 2 * t->h : t->h, w = up ? 2 * t->w : t->w;
	snprintf(what, sizeof what, "%s%s on %dx%dx%dx%d, %s, %d threads", up ? "up," : "",
	         spec, n, t->c, t->h, t->w, path, nn_threads());
	struct tl *tl = make_layer(spec, up ? &conv2d_up_ops : &conv2d_ops, t->c, h, w, n);
	if (!tl)
		return;
	struct layer *l = &tl->l;
	long nx = (long)n * t->c * h * w, ny = (long)n * l->oc * l->oh * l->ow;
	long nsmall = (long)n * t->c * t->h * t->w;
	long hw = (long)h * w, ohw = (long)l->oh * l->ow;
	float *x = randv(nx), *dy = randv(ny), *xs = randv(nsmall);
	if (up)
		upsample(xs, x, (long)n * t->c, t->h, t->w);
	/* what the layer reads: the small image after an upsampling */
	long nin = up ? nsmall : nx, hwin = up ? (long)t->h * t->w : hw;
	float *xi = zv(nx), *yi = zv(ny), *dyi = zv(ny), *dxi = zv(nx);
	float *y = zv(ny), *dx = zv(nx), *yr = zv(ny), *dxr = zv(nx);
	float *dwr = zv((long)l->np);
	float *dbr = dwr + (long)l->oc * t->c * t->k * t->k;

	nchw_to_cnhw(up ? xs : x, xi, n, t->c, hwin);
	for (long i = 0; i < ny; i++)
		yi[i] = NAN;   /* every value must be written */
	l->ops->forward(l, xi, yi, n, 1);
	cnhw_to_nchw(yi, y, n, l->oc, ohw);
	conv2d_forward_ref(l, x, yr, n);
	double e = relerr(y, yr, ny);
	CHECKF(e < TOL, "%s forward: error %g", what, e);

	nchw_to_cnhw(dy, dyi, n, l->oc, ohw);
	for (long i = 0; i < nin; i++)
		dxi[i] = NAN;
	l->ops->backward(l, xi, yi, dyi, dxi, n);
	cnhw_to_nchw(dxi, dx, n, t->c, hwin);
	conv2d_backward_ref(l, x, yr, dy, dxr, dwr, dbr, n);
	if (up) {
		float *fr = zv(nsmall);
		fold(dxr, fr, (long)n * t->c, t->h, t->w);
		e = relerr(dx, fr, nsmall);
		free(fr);
	} else {
		e = relerr(dx, dxr, nx);
	}
	CHECKF(e < TOL, "%s dx: error %g", what, e);
	e = relerr(l->g, dwr, (long)l->np);
	CHECKF(e < TOL, "%s dW, db: error %g", what, e);

	free(xs), free(x), free(dy), free(xi), free(yi), free(dyi), free(dxi);
	free(y), free(dx), free(yr), free(dxr), free(dwr);
	free_layer(tl);
}

int main(void)
{
	static const struct shape shapes[] = {
		/* c  h  w  oc k s valid act          n */
		{ 3, 32, 32, 32, 3, 1, 0, ACT_RELU, 4 },
		{ 32, 32, 32, 32, 3, 2, 0, ACT_RELU, 3 },
		{ 32, 16, 16, 32, 3, 1, 0, ACT_RELU, 3 },
		{ 32, 16, 16, 3, 1, 1, 0, ACT_SIGMOID, 5 },
		{ 5, 7, 9, 4, 3, 1, 0, ACT_NONE, 3 },
		{ 5, 7, 9, 4, 3, 2, 0, ACT_SIGMOID, 3 },
		{ 3, 9, 8, 6, 5, 2, 1, ACT_RELU, 2 },
		{ 4, 6, 6, 3, 1, 1, 0, ACT_SIGMOID, 3 },
		{ 4, 7, 5, 3, 1, 2, 0, ACT_NONE, 3 },
		{ 2, 5, 5, 3, 4, 1, 0, ACT_NONE, 2 },
		{ 2, 6, 6, 3, 4, 2, 1, ACT_NONE, 2 },
		{ 2, 5, 6, 3, 5, 1, 1, ACT_NONE, 3 },
		{ 1, 3, 3, 2, 7, 1, 0, ACT_NONE, 2 },   /* kernel larger than image */
		{ 2, 1, 1, 3, 3, 2, 0, ACT_RELU, 2 },
		{ 3, 17, 21, 9, 3, 1, 0, ACT_RELU, 2 },   /* vector tails, channel tails */
		{ 64, 48, 40, 8, 3, 1, 0, ACT_RELU, 3 },   /* bands of rows */
		{ 64, 47, 41, 8, 3, 2, 0, ACT_NONE, 2 },
		{ 3, 8, 8, 4, 3, 1, 0, ACT_RELU, 37 },     /* many images, uneven groups */
		{ 32, 12, 130, 4, 5, 1, 0, ACT_RELU, 2 },  /* k5 with bands of a few rows */
		{ 32, 9, 140, 3, 7, 2, 0, ACT_NONE, 2 },   /* k7, stride 2, bands */
		{ 40, 3, 200, 3, 9, 1, 0, ACT_NONE, 1 },   /* padding taller than the input */
	};
	/* the variant after an upsampling; h, w are the small image's */
	static const struct shape ups[] = {
		{ 32, 16, 16, 32, 3, 1, 0, ACT_RELU, 3 },
		{ 3, 5, 7, 4, 3, 1, 0, ACT_NONE, 3 },
		{ 2, 3, 4, 3, 4, 1, 0, ACT_NONE, 2 },      /* even kernel */
		{ 2, 4, 3, 3, 5, 1, 1, ACT_NONE, 2 },      /* valid */
		{ 4, 3, 3, 2, 1, 1, 0, ACT_SIGMOID, 3 },
		{ 5, 1, 1, 3, 3, 1, 0, ACT_RELU, 2 },
		{ 4, 2, 2, 3, 3, 1, 0, ACT_SIGMOID, 2 },
		{ 3, 9, 11, 17, 3, 1, 0, ACT_SIGMOID, 2 },
		{ 64, 24, 20, 8, 3, 1, 0, ACT_RELU, 2 },   /* bands of rows */
		{ 3, 4, 4, 4, 3, 1, 0, ACT_RELU, 37 },
	};
	rng_seed(&r, 1);
	test_gemm();
	test_sigmoid();
	for (int direct = 1; direct >= 0; direct--) {
		conv2d_set_direct(direct);
		for (int th = 1; th <= 2; th++) {
			nn_set_threads(th);
			for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
				test_conv(&shapes[i], 0, direct ? "direct" : "gemm");
			for (size_t i = 0; i < sizeof ups / sizeof ups[0]; i++)
				test_conv(&ups[i], 1, direct ? "direct" : "gemm");
		}
	}
	CHECK_DONE();
}
