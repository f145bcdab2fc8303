/* test_winograd.c - Winograd F(2x2,3x3) and F(4x4,3x3) convolutions, the
 * F(2x2,2x2) and F(4x4,2x2) ones of an upsampling and a conv, and the
 * stride-2 ones, against the direct ones
 *
 * The kernels (winograd.h) on their own, for shapes the network does not
 * send them (1 and 3 input channels, odd sizes, a single pixel, rows of
 * more than 16 tiles), against a plain loop in double (for the fused up +
 * conv: the upsampled image, then that loop; for stride 2: the loop with
 * no padding before, as 'same' on even sizes and 'valid' on odd ones,
 * and 0 past the input): max |a - b| <= 1e-4 max |b|,
 * with each activation, with and without a folded bn. Then
 * networks that only infer, Winograd on and off (conv2d_set_winograd):
 * the same bound; the output for one image the same bits whether it is
 * alone or among 3, and with 1 or 2 threads, and after a training pass
 * (which ends the bn folds).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "netfill.h"
#include "conv.h"
#include "rng.h"
#include "winograd.h"

#define TOL 1e-4

static struct rng r;

static float rnd(double lo, double hi)
{
	return (float)(lo + (hi - lo) * rng_uniform(&r));
}

/* Random inputs x, weights wt, and bias, bn scale and shift par (3, OC). */
static void fill(float *x, size_t nx, float *wt, long nw, float *par, int oc)
{
	for (size_t i = 0; i < nx; i++)
		x[i] = rnd(-1, 1);
	for (long i = 0; i < nw; i++)
		wt[i] = rnd(-0.5, 0.5);
	for (int o = 0; o < 3 * oc; o++)
		par[o] = o < oc ? rnd(-0.3, 0.3) : o < 2 * oc ? rnd(0.5, 2) : rnd(-1, 1);
}

/* y (OC, n, oh, ow) = the 3x3 conv of x (C, n, h, w) at stride st with
 * padding before pad, + bias, act, then * scale + shift when scale is
 * not NULL. */
static void conv_ref_s(const float *x, const float *w, int c, int oc, int n, int h, int wd,
                       int st, int pad, int oh, int ow, const struct depi *ep, float *y)
{
	long hw = (long)h * wd, ohw = (long)oh * ow;
	for (int o = 0; o < oc; o++)
	for (int m = 0; m < n; m++)
	for (int i = 0; i < oh; i++)
	for (int j = 0; j < ow; j++) {
		double s = ep->bias[o];
		for (int ci = 0; ci < c; ci++)
		for (int ki = 0; ki < 3; ki++)
		for (int kj = 0; kj < 3; kj++) {
			int ii = st * i + ki - pad, jj = st * j + kj - pad;
			if (ii >= 0 && ii < h && jj >= 0 && jj < wd)
				s += (double)w[((o * c + ci) * 3 + ki) * 3 + kj] *
				     x[((long)ci * n + m) * hw + (long)ii * wd + jj];
		}
		if (ep->act == ACT_RELU)
			s = s > 0 ? s : 0;
		else if (ep->act == ACT_SIGMOID)
			s = 1 / (1 + exp(-s));
		if (ep->scale)
			s = s * ep->scale[o] + ep->shift[o];
		y[((long)o * n + m) * ohw + (long)i * ow + j] = (float)s;
	}
}

/* The 'same' stride-1 conv. */
static void conv_ref(const float *x, const float *w, int c, int oc, int n, int h, int wd,
                     const struct depi *ep, float *y)
{
	conv_ref_s(x, w, c, oc, n, h, wd, 1, 1, h, wd, ep, y);
}

/* F(2x2,3x3), or with f4 F(4x4,3x3). */
static void kernel_check_f(int f4, int c, int oc, int h, int w, int n, int act, int bn)
{
	long hw = (long)h * w;
	size_t nx = (size_t)c * n * hw, ny = (size_t)oc * n * hw;
	float *x = malloc(sizeof *x * nx), *wt = malloc(sizeof *wt * (size_t)oc * c * 9);
	float *par = malloc(sizeof *par * 3 * (size_t)oc);
	float *y = malloc(sizeof *y * ny), *yr = malloc(sizeof *yr * ny);
	float *u = malloc(sizeof *u * (f4 ? w4_wfloats(c, oc) : wino_wfloats(c, oc)));
	float *s = malloc(sizeof *s * (f4 ? w4_scratch(c, h, w) : wino_scratch(c, h, w)));
	CHECK(!f4 || w4_ok(h, w));
	fill(x, nx, wt, (long)oc * c * 9, par, oc);
	struct depi ep = { par, bn ? par + oc : NULL, bn ? par + 2 * oc : NULL, act };
	conv_ref(x, wt, c, oc, n, h, w, &ep, yr);
	if (f4)
		w4_weights(wt, c, oc, u);
	else
		wino_weights(wt, c, oc, u);
	for (size_t i = 0; i < ny; i++)
		y[i] = NAN;   /* every output must be written */
	for (int m = 0; m < n; m++) {
		if (f4)
			w4_run(u, x, c, oc, n, h, w, m, y, &ep, s);
		else
			wino_run(u, x, c, oc, n, h, w, m, y, &ep, s);
	}
	double sc, d = maxdiff(y, yr, ny, &sc);
	CHECKF(d <= TOL * sc, "%s %d->%d %dx%d n %d act %d bn %d: max diff %g, max %g",
	       f4 ? "F(4x4,3x3)" : "F(2x2,3x3)", c, oc, h, w, n, act, bn, d, sc);
	free(x), free(wt), free(par), free(y), free(yr), free(u), free(s);
}

static void kernel_check(int c, int oc, int h, int w, int n, int act, int bn)
{
	kernel_check_f(0, c, oc, h, w, n, act, bn);
}

/* The same for the fused up + conv: x (C, n, h, w) upsampled (nearest,
 * x2) into xu (C, n, 2h, 2w), then conv_ref, against wup_run. */
/* F(2x2,2x2) per phase, or with f4 F(4x4,2x2). */
static void up_check_f(int f4, int c, int oc, int h, int w, int n, int act, int bn)
{
	long hw = (long)h * w, hw4 = 4 * hw;
	size_t nx = (size_t)c * n * hw, ny = (size_t)oc * n * hw4;
	float *x = malloc(sizeof *x * nx), *xu = malloc(sizeof *xu * 4 * nx);
	float *wt = malloc(sizeof *wt * (size_t)oc * c * 9);
	float *par = malloc(sizeof *par * 3 * (size_t)oc);
	float *y = malloc(sizeof *y * ny), *yr = malloc(sizeof *yr * ny);
	float *u = malloc(sizeof *u * (f4 ? wu4_wfloats(c, oc) : wup_wfloats(c, oc)));
	float *s = malloc(sizeof *s * (f4 ? wu4_scratch(c, h, w) : wup_scratch(c, h, w)));
	CHECK(!f4 || w4_ok(h, w));
	fill(x, nx, wt, (long)oc * c * 9, par, oc);
	for (long p = 0; p < (long)c * n; p++)
	for (int i = 0; i < 2 * h; i++)
	for (int j = 0; j < 2 * w; j++)
		xu[p * hw4 + (long)i * 2 * w + j] = x[p * hw + (long)(i / 2) * w + j / 2];
	struct depi ep = { par, bn ? par + oc : NULL, bn ? par + 2 * oc : NULL, act };
	conv_ref(xu, wt, c, oc, n, 2 * h, 2 * w, &ep, yr);
	if (f4)
		wu4_weights(wt, c, oc, u);
	else
		wup_weights(wt, c, oc, u);
	for (size_t i = 0; i < ny; i++)
		y[i] = NAN;
	for (int m = 0; m < n; m++) {
		if (f4)
			wu4_run(u, x, c, oc, n, h, w, m, y, &ep, s);
		else
			wup_run(u, x, c, oc, n, h, w, m, y, &ep, s);
	}
	double sc, d = maxdiff(y, yr, ny, &sc);
	CHECKF(d <= TOL * sc, "up %s %d->%d %dx%d n %d act %d bn %d: max diff %g, max %g",
	       f4 ? "F(4x4,2x2)" : "F(2x2,2x2)", c, oc, h, w, n, act, bn, d, sc);
	free(x), free(xu), free(wt), free(par), free(y), free(yr), free(u), free(s);
}

static void up_check(int c, int oc, int h, int w, int n, int act, int bn)
{
	up_check_f(0, c, oc, h, w, n, act, bn);
}

/* The same for stride 2: output oh x ow of an h x w input. */
static void s2_check(int c, int oc, int h, int w, int oh, int ow, int n, int act, int bn)
{
	long hw = (long)h * w;
	size_t nx = (size_t)c * n * hw, ny = (size_t)oc * n * oh * ow;
	float *x = malloc(sizeof *x * nx), *wt = malloc(sizeof *wt * (size_t)oc * c * 9);
	float *par = malloc(sizeof *par * 3 * (size_t)oc);
	float *y = malloc(sizeof *y * ny), *yr = malloc(sizeof *yr * ny);
	float *u = malloc(sizeof *u * ws2_wfloats(c, oc));
	float *s = malloc(sizeof *s * ws2_scratch(c, oh, ow));
	CHECK(ws2_ok(3, 2, 0, 0, oh, ow));
	fill(x, nx, wt, (long)oc * c * 9, par, oc);
	struct depi ep = { par, bn ? par + oc : NULL, bn ? par + 2 * oc : NULL, act };
	conv_ref_s(x, wt, c, oc, n, h, w, 2, 0, oh, ow, &ep, yr);
	ws2_weights(wt, c, oc, u);
	for (size_t i = 0; i < ny; i++)
		y[i] = NAN;
	for (int m = 0; m < n; m++)
		ws2_run(u, x, c, oc, n, h, w, oh, ow, m, y, &ep, s);
	double sc, d = maxdiff(y, yr, ny, &sc);
	CHECKF(d <= TOL * sc, "s2 %d->%d %dx%d -> %dx%d n %d act %d bn %d: max diff %g, max %g",
	       c, oc, h, w, oh, ow, n, act, bn, d, sc);
	free(x), free(wt), free(par), free(y), free(yr), free(u), free(s);
}

/* A net of SPEC with random parameters and bn statistics. */
static struct net *make(const char *spec, int c, int h, int w, int maxn)
{
	char err[256];
	struct arch a;
	CHECKF(arch_parse(spec, &a, err, sizeof err) == 0, "%s: %s", spec, err);
	struct net *net = net_create(&a, c, h, w, maxn, err, sizeof err);
	CHECKF(net != NULL, "%s: %s", spec, err);
	if (!net)
		exit(1);
	net_fill_random(net, 11);
	return net;
}

#define N 3

static void net_check(const char *spec, int c, int h, int w)
{
	struct net *net = make(spec, c, h, w, N);
	int oc, oh, ow;
	net_out_shape(net, &oc, &oh, &ow);
	size_t nx = (size_t)N * c * h * w, ny = (size_t)N * oc * oh * ow, n1 = ny / N;
	float *x = malloc(sizeof *x * nx), *yw = malloc(sizeof *yw * ny);
	float *yd = malloc(sizeof *yd * ny), *y1 = malloc(sizeof *y1 * n1);
	for (size_t i = 0; i < nx; i++)
		x[i] = (float)rng_uniform(&r);
	double m, d;

	conv2d_set_winograd(0);
	memcpy(yd, net_forward(net, x, N, 0), sizeof *yd * ny);
	conv2d_set_winograd(1);
	nn_set_threads(2);
	memcpy(yw, net_forward(net, x, N, 0), sizeof *yw * ny);
	d = maxdiff(yw, yd, ny, &m);
	CHECKF(d <= TOL * m, "%s %dx%dx%d: Winograd vs direct: max diff %g, max %g",
	       spec, c, h, w, d, m);
	CHECKF(d > 0, "%s: the same bits: Winograd not used?", spec);
	nn_set_threads(1);
	memcpy(y1, net_forward(net, x, 1, 0), sizeof *y1 * n1);
	CHECKF(!memcmp(y1, yw, sizeof *y1 * n1), "%s: image 0 alone differs", spec);
	d = maxdiff(yw, net_forward(net, x, N, 0), ny, &m);
	CHECKF(d == 0, "%s: 1 and 2 threads differ by %g", spec, d);

	/* after a training pass (statistics put back, nothing folded) the
	 * same bits: inference uses Winograd whether or not a net trained */
	float *st = malloc(sizeof *st * (net_nstate(net) + 1));
	memcpy(st, net_state(net), sizeof *st * net_nstate(net));
	net_forward(net, x, N, 1);
	memcpy(net_state(net), st, sizeof *st * net_nstate(net));
	d = maxdiff(yw, net_forward(net, x, N, 0), ny, &m);
	CHECKF(d == 0, "%s: trained net differs by %g", spec, d);
	free(st), free(x), free(yw), free(yd), free(y1);
	net_free(net);
}

int main(void)
{
	rng_seed(&r, 5);
	if (wino_wfloats(8, 8) == 0) {
		printf("no Winograd kernels in this build\n");
		return 77;
	}
	for (int act = ACT_NONE; act <= ACT_SIGMOID; act++) {
		for (int bn = 0; bn < 2; bn++) {
			kernel_check(1, 1, 5, 7, 1, act, bn);
			kernel_check(3, 32, 5, 7, 3, act, bn);
			kernel_check(32, 32, 16, 16, 3, act, bn);
			kernel_check(48, 32, 9, 11, 1, act, bn);
		}
	}
	kernel_check(3, 32, 32, 32, 1, ACT_RELU, 0);
	kernel_check(5, 9, 1, 1, 2, ACT_NONE, 0);
	kernel_check(16, 7, 35, 33, 1, ACT_RELU, 1);   /* 17 tiles a row */
	kernel_check(8, 8, 2, 40, 1, ACT_SIGMOID, 1);
	kernel_check(8, 8, 6, 1, 1, ACT_RELU, 0);
	/* F(4x4,3x3): 16 and 32 wide, four and two tile rows to a vector,
	 * and a last vector with some of them past the plane */
	for (int act = ACT_NONE; act <= ACT_SIGMOID; act++) {
		for (int bn = 0; bn < 2; bn++) {
			kernel_check_f(1, 1, 1, 4, 16, 1, act, bn);
			kernel_check_f(1, 3, 32, 8, 32, 3, act, bn);
			kernel_check_f(1, 32, 32, 16, 16, 3, act, bn);
			kernel_check_f(1, 48, 32, 12, 32, 1, act, bn);
		}
	}
	kernel_check_f(1, 8, 8, 20, 16, 2, ACT_RELU, 1);
	kernel_check_f(1, 64, 16, 32, 32, 1, ACT_NONE, 0);
	for (int act = ACT_NONE; act <= ACT_SIGMOID; act++) {
		for (int bn = 0; bn < 2; bn++) {
			up_check(1, 1, 5, 7, 1, act, bn);
			up_check(8, 8, 5, 7, 3, act, bn);
			up_check(32, 32, 16, 16, 3, act, bn);
			up_check(48, 32, 9, 11, 1, act, bn);
		}
	}
	up_check(5, 9, 1, 1, 2, ACT_NONE, 0);
	up_check(16, 7, 35, 33, 1, ACT_RELU, 1);
	up_check(8, 8, 2, 40, 1, ACT_SIGMOID, 1);
	up_check(8, 8, 6, 1, 1, ACT_RELU, 0);
	/* F(4x4,2x2) per phase: small images 16 and 32 wide */
	for (int act = ACT_NONE; act <= ACT_SIGMOID; act++) {
		for (int bn = 0; bn < 2; bn++) {
			up_check_f(1, 1, 1, 4, 16, 1, act, bn);
			up_check_f(1, 8, 8, 8, 32, 3, act, bn);
			up_check_f(1, 32, 32, 16, 16, 3, act, bn);
			up_check_f(1, 48, 32, 12, 32, 1, act, bn);
		}
	}
	up_check_f(1, 24, 16, 20, 16, 2, ACT_RELU, 1);
	for (int act = ACT_NONE; act <= ACT_SIGMOID; act++) {
		for (int bn = 0; bn < 2; bn++) {
			s2_check(1, 1, 6, 8, 3, 4, 1, act, bn);
			s2_check(8, 8, 10, 14, 5, 7, 3, act, bn);
			s2_check(32, 32, 32, 32, 16, 16, 3, act, bn);
			s2_check(48, 32, 9, 11, 4, 5, 1, act, bn);   /* 'valid' */
		}
	}
	s2_check(5, 9, 2, 2, 1, 1, 2, ACT_NONE, 0);
	s2_check(3, 5, 3, 3, 1, 1, 1, ACT_NONE, 1);     /* 'valid', one output */
	s2_check(16, 7, 70, 66, 35, 33, 1, ACT_RELU, 1);   /* 17 tiles a row */
	s2_check(8, 8, 4, 80, 2, 40, 1, ACT_SIGMOID, 1);   /* 20 tiles, one row */
	s2_check(8, 8, 12, 2, 6, 1, 1, ACT_RELU, 0);
	s2_check(8, 8, 7, 130, 3, 64, 1, ACT_RELU, 0);     /* 32 tiles a row */
	s2_check(8, 8, 34, 33, 17, 16, 1, ACT_NONE, 0);    /* 8 tiles, column 32 */

	/* seed-best's shape: the 32->32 conv at 16x16 with a folded bn */
	net_check("conv32,bn,conv32s2,conv32,bn,up,conv32,bn,conv3k1:sigmoid", 3, 32, 32);
	net_check("conv32:linear,bn,conv16:sigmoid", 48, 5, 7);
	net_check("conv8,conv5:linear", 32, 9, 6);
	net_check("conv32,bn,conv32,bn,conv1k1:linear", 8, 3, 3);
	net_check("conv16,conv16:linear,bn", 8, 12, 32);   /* F(4x4,3x3) */
	net_check("conv24,bn,up,conv16,conv2:linear", 3, 8, 16);   /* F(4x4,2x2) */
	/* up + conv (the kernels above from 8->8; nets from 24 channels in):
	 * 32->32, 48->32 with a linear conv and a bn, odd small sizes */
	net_check("conv32,up,conv32,conv3k1:sigmoid", 3, 10, 14);
	net_check("conv48,up,conv32:linear,bn,conv3k1:sigmoid", 3, 5, 7);
	net_check("conv32s2,up,conv32:sigmoid,conv3k1:linear", 8, 18, 22);
	/* stride 2: 'same' on even sizes, and odd ones (padding before: not
	 * on ws2), 'valid' */
	net_check("conv16s2,bn,conv8:linear", 8, 14, 18);
	net_check("conv16s2,conv8s2:linear,bn", 8, 11, 12);
	net_check("conv16k3s2:valid,conv8:linear", 12, 13, 10);
	CHECK_DONE();
}
