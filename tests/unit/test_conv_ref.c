/* test_conv_ref.c - im2col + GEMM convolution against the direct loops,
 * and gemm against gemm_ref
 *
 * Tolerance: max |fast - ref| <= 1e-5 * max |ref| over each whole tensor
 * (float sums of up to a few thousand products against double ones).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
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

struct shape { int c, h, w, oc, k, s, valid, act, n; };

static void test_conv(const struct shape *t)
{
	char spec[64], err[256];
	snprintf(spec, sizeof spec, "conv%dk%ds%d%s%s", t->oc, t->k, t->s,
	         t->valid ? ":valid" : "",
	         t->act == ACT_RELU ? "" : t->act == ACT_SIGMOID ? ":sigmoid" : ":linear");
	struct arch a;
	CHECK(arch_parse(spec, &a, err, sizeof err) == 0);
	struct net *net = net_create(&a, t->c, t->h, t->w, t->n, err, sizeof err);
	CHECKF(net != NULL, "%s: %s", spec, err);
	if (!net)
		return;
	net_init(net, 7);
	struct layer *l = net_layer(net, 0);
	l->need_dx = 1;
	int n = t->n;
	long nx = (long)n * t->c * t->h * t->w, ny = (long)n * l->oc * l->oh * l->ow;
	long hw = (long)t->h * t->w, ohw = (long)l->oh * l->ow;
	/* random bias too, so it is tested */
	for (size_t i = 0; i < net_nparams(net); i++)
		net_params(net)[i] = (float)(rng_uniform(&r) - 0.5);
	float *x = randv(nx), *dy = randv(ny);
	float *xi = malloc(sizeof(float) * (size_t)nx), *yi = malloc(sizeof(float) * (size_t)ny);
	float *dyi = malloc(sizeof(float) * (size_t)ny), *dxi = malloc(sizeof(float) * (size_t)nx);
	float *y = malloc(sizeof(float) * (size_t)ny), *dx = malloc(sizeof(float) * (size_t)nx);
	float *yr = malloc(sizeof(float) * (size_t)ny), *dxr = malloc(sizeof(float) * (size_t)nx);
	float *dwr = malloc(sizeof(float) * net_nparams(net));
	float *dbr = dwr + (long)l->oc * t->c * t->k * t->k;

	nchw_to_cnhw(x, xi, n, t->c, hw);
	l->ops->forward(l, xi, yi, n, 1);
	cnhw_to_nchw(yi, y, n, l->oc, ohw);
	conv2d_forward_ref(l, x, yr, n);
	double e = relerr(y, yr, ny);
	CHECKF(e < TOL, "%s on %dx%dx%dx%d forward: error %g", spec, n, t->c, t->h, t->w, e);

	nchw_to_cnhw(dy, dyi, n, l->oc, ohw);
	for (long i = 0; i < nx; i++)
		dxi[i] = NAN;   /* every value must be written */
	l->ops->backward(l, xi, yi, dyi, dxi, n);
	cnhw_to_nchw(dxi, dx, n, t->c, hw);
	conv2d_backward_ref(l, x, yr, dy, dxr, dwr, dbr, n);
	e = relerr(dx, dxr, nx);
	CHECKF(e < TOL, "%s on %dx%dx%dx%d dx: error %g", spec, n, t->c, t->h, t->w, e);
	e = relerr(net_grads(net), dwr, (long)net_nparams(net));
	CHECKF(e < TOL, "%s on %dx%dx%dx%d dW, db: error %g", spec, n, t->c, t->h, t->w, e);

	free(x), free(dy), free(xi), free(yi), free(dyi), free(dxi);
	free(y), free(dx), free(yr), free(dxr), free(dwr);
	net_free(net);
}

int main(void)
{
	static const struct shape shapes[] = {
		/* c  h  w  oc k s valid act          n */
		{ 3, 32, 32, 32, 3, 1, 0, ACT_RELU, 4 },
		{ 32, 32, 32, 32, 3, 2, 0, ACT_RELU, 3 },
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
		{ 64, 48, 40, 8, 3, 1, 0, ACT_RELU, 3 },   /* bands of rows */
		{ 64, 47, 41, 8, 3, 2, 0, ACT_NONE, 2 },
		{ 3, 8, 8, 4, 3, 1, 0, ACT_RELU, 37 },     /* many images, uneven groups */
	};
	rng_seed(&r, 1);
	test_gemm();
	for (int th = 1; th <= 2; th++) {
		nn_set_threads(th);
		for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
			test_conv(&shapes[i]);
	}
	CHECK_DONE();
}
