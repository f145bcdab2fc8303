/* test_grad.c - backward passes against central finite differences
 *
 * For each layer kind alone, and for small whole networks, the gradient of
 * the loss w.r.t. every parameter and every input value is compared with
 * the fourth-order central difference with h = 7e-3 (truncation error
 * O(h^4), so cross-entropy's curvature does not show). Pass:
 *   max |analytic - numeric| / max(|analytic|, |numeric|, floor) < 1e-2
 * with floor the larger of 1e-3 x the largest numeric gradient of that
 * tensor and 4e-6 |L| / h: float rounding of the loss (a few 1e-8 |L|)
 * makes smaller gradients noise. Moves that flip a relu or max-pool
 * choice anywhere in the network straddle a kink and are skipped (under
 * 15% of all values must be); inputs keep away from 0. The losses
 * themselves are checked on values worked out by hand. (Clip's backward
 * is not the gradient by design: test_skip checks it.)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "layer.h"
#include "rng.h"

#define STEP 7e-3f
#define TOL 1e-2
#define FLOOR 1e-3
#define NOISE 4e-6
#define MAX_SKIP 15   /* percent */

static struct rng r;

/* The piecewise-linear choices of the last forward pass (which relu
 * outputs are positive, which max-pool input won), packed in pat. */
static size_t pattern(struct net *net, int n, unsigned char *pat)
{
	size_t k = 0;
	for (int i = 0; i < net_nlayers(net); i++) {
		struct layer *l = net_layer(net, i);
		long len = (long)n * l->oc * l->oh * l->ow;
		int relu = l->s.kind == L_RELU ||
		           ((l->s.kind == L_CONV || l->s.kind == L_DENSE) && l->s.act == ACT_RELU);
		if (relu) {
			const float *y = net_activation(net, i);
			for (long j = 0; j < len; j++)
				pat[k++] = y[j] > 0;
		} else if (l->s.kind == L_MAXPOOL) {
			memcpy(pat + k, l->idx, (size_t)len);
			k += (size_t)len;
		}
	}
	return k;
}

static double loss_at(struct net *net, const float *x, const float *t, int n,
                      int loss, int training)
{
	net_forward(net, x, n, training);
	return net_loss(net, t, n, loss);
}

static unsigned char *pat0, *pat1;
static long skipped, tried;

/* Checks the analytic gradient ana[i] of v[i] (a parameter or input) by
 * moving v[i] itself. Values whose move flips a relu or a max-pool choice
 * are skipped: the loss has a kink there. */
static double fd_error(struct net *net, float *v, const float *ana, long count,
                       const float *x, const float *t, int n, int loss, int training)
{
	double *num = malloc(sizeof *num * (size_t)(count ? count : 1)), maxnum = 0, err = 0;
	char *skip = calloc((size_t)(count ? count : 1), 1);
	double l0 = loss_at(net, x, t, n, loss, training);
	size_t plen = pattern(net, n, pat0);
	for (long i = 0; i < count; i++) {
		/* f'(v) = (8 (f(v+h) - f(v-h)) - (f(v+2h) - f(v-2h))) / 12h + O(h^4),
		 * with h the float step actually taken */
		float keep = v[i];
		double f[4], hs[4];
		static const float mult[4] = { 1, -1, 2, -2 };
		for (int k = 0; k < 4; k++) {
			v[i] = keep + mult[k] * STEP;
			hs[k] = fabs((double)v[i] - keep);
			f[k] = loss_at(net, x, t, n, loss, training);
			skip[i] |= memcmp(pat0, pat1, pattern(net, n, pat1)) != 0;
		}
		v[i] = keep;
		double h = (hs[0] + hs[1] + (hs[2] + hs[3]) / 2) / 4;
		num[i] = (8 * (f[0] - f[1]) - (f[2] - f[3])) / (12 * h);
		tried++;
		if (skip[i])
			skipped++;
		else if (fabs(num[i]) > maxnum)
			maxnum = fabs(num[i]);
	}
	(void)plen;
	double floor = fmax(FLOOR * maxnum, NOISE * fabs(l0) / STEP) + 1e-30;
	for (long i = 0; i < count; i++) {
		if (skip[i])
			continue;
		double d = fabs(ana[i] - num[i]);
		double m = fmax(fmax(fabs(ana[i]), fabs(num[i])), floor);
		if (getenv("GRAD_DEBUG") && d / m > 3e-3)
			fprintf(stderr, "  [%ld] analytic %g numeric %g\n", i, ana[i], num[i]);
		if (d / m > err || d != d)
			err = d != d ? INFINITY : d / m;
	}
	free(num);
	free(skip);
	return err;
}

static void check(const char *spec, int c, int h, int w, int n, int loss, int training)
{
	char err[256];
	struct arch a;
	CHECKF(arch_parse(spec, &a, err, sizeof err) == 0, "%s: %s", spec, err);
	struct net *net = net_create(&a, c, h, w, n, err, sizeof err);
	CHECKF(net != NULL, "%s: %s", spec, err);
	if (!net)
		return;
	net_init(net, 3);
	size_t np = net_nparams(net);
	float *p = net_params(net);
	/* random biases and batch-norm affine parts too */
	for (size_t i = 0; i < np; i++)
		if (p[i] == 0 || p[i] == 1)
			p[i] = (float)(rng_uniform(&r) - 0.5) + p[i];
	struct layer *last = net_layer(net, net_nlayers(net) - 1);
	if (loss == LOSS_BCE && last->s.kind == L_CONV && last->s.act == ACT_NONE) {
		/* a linear output feeding cross-entropy: mostly inside (0,1),
		 * away from the clamp, where log has little curvature */
		for (size_t i = 0; i < last->np - (size_t)last->oc; i++)
			last->p[i] *= 0.05f;
		for (int i = 0; i < last->oc; i++)
			last->p[last->np - (size_t)last->oc + (size_t)i] = 0.5f;
	}
	long nx = (long)n * c * h * w;
	float *x = malloc(sizeof *x * (size_t)nx);
	for (long i = 0; i < nx; i++) {
		double mag = 0.05 + 0.95 * rng_uniform(&r);
		x[i] = (float)(rng_uniform(&r) < 0.5 ? -mag : mag);
	}
	int oc, oh, ow;
	net_out_shape(net, &oc, &oh, &ow);
	long nt = (long)n * oc * oh * ow;
	float *t = malloc(sizeof *t * (size_t)nt);
	for (long i = 0; i < nt; i++)
		t[i] = (float)rng_uniform(&r);

	net_set_input_grad(net, 1);
	if (!training)   /* backward needs the buffers of a training pass */
		net_forward(net, x, n, 1);
	net_forward(net, x, n, training);
	net_backward(net, t, n, loss);
	float *gp = malloc(sizeof *gp * (np ? np : 1)), *gx = malloc(sizeof *gx * (size_t)nx);
	memcpy(gp, net_grads(net), sizeof *gp * np);
	memcpy(gx, net_input_grad(net), sizeof *gx * (size_t)nx);

	const char *ln = loss == LOSS_MSE ? "mse" : "bce";
	double e = fd_error(net, p, gp, (long)np, x, t, n, loss, training);
	CHECKF(e < TOL, "%s (%s%s): parameter gradient error %g", spec, ln,
	       training ? "" : ", inference", e);
	e = fd_error(net, x, gx, nx, x, t, n, loss, training);
	CHECKF(e < TOL, "%s (%s%s): input gradient error %g", spec, ln,
	       training ? "" : ", inference", e);
	free(gp), free(gx), free(x), free(t);
	net_free(net);
}

/* The losses on values worked out by hand, the clamp included. */
static void check_losses(void)
{
	const float y[4] = { 0.5f, 2.0f, -1.0f, 0.25f }, t[4] = { 1, 1, 0, 0 };
	float g[4];
	double part[1], v;
	v = loss_eval(y, t, 1, 1, 4, LOSS_MSE, 0, g, part);
	CHECK(fabs(v - (0.25 + 1 + 1 + 0.0625) / 4) < 1e-12);
	CHECK(g[0] == -0.25f && g[1] == 0.5f && g[2] == -0.5f && g[3] == 0.125f);
	/* 2 and -1 clamp to 1 - 1e-7 and 1e-7, where the loss is flat */
	v = loss_eval(y, t, 1, 1, 4, LOSS_BCE, 0, g, part);
	double want = -(log(0.5) + log((double)(1 - 1e-7f)) + log(1 - (double)1e-7f) +
	                log(0.75)) / 4;
	CHECKF(fabs(v - want) < 1e-9, "bce %.12g, want %.12g", v, want);
	CHECK(fabs(g[0] - (-0.5 / 0.25 / 4)) < 1e-7 && g[1] == 0 && g[2] == 0 &&
	      fabs(g[3] - (0.25 / (0.25 * 0.75) / 4)) < 1e-7);
	/* after a sigmoid: (p - t)/count, also where p saturates */
	loss_eval(y, t, 1, 1, 4, LOSS_BCE, 1, g, part);
	CHECK(g[0] == -0.125f && g[1] == 0.25f && g[2] == -0.25f && g[3] == 0.0625f);
}

int main(void)
{
	check_losses();
	rng_seed(&r, 11);
	nn_set_threads(2);   /* results do not depend on it; covers the split */
	pat0 = malloc(1 << 20);
	pat1 = malloc(1 << 20);
	/* every layer kind */
	check("conv4", 3, 6, 5, 2, LOSS_MSE, 1);
	check("conv4s2:linear", 3, 7, 6, 2, LOSS_MSE, 1);
	check("conv4s2:sigmoid", 2, 6, 6, 2, LOSS_MSE, 1);
	check("conv3k1:sigmoid", 4, 3, 5, 2, LOSS_MSE, 1);
	check("conv3k1s2:linear", 2, 5, 4, 2, LOSS_MSE, 1);
	check("conv3:valid:sigmoid", 2, 6, 5, 2, LOSS_MSE, 1);
	check("conv3s2:valid:relu", 2, 7, 7, 2, LOSS_MSE, 1);
	check("conv2k4:linear", 2, 5, 6, 2, LOSS_MSE, 1);
	check("conv2k5s2:linear", 2, 6, 5, 2, LOSS_MSE, 1);
	check("bn", 3, 4, 5, 3, LOSS_MSE, 1);
	check("bn", 3, 4, 5, 3, LOSS_MSE, 0);
	check("relu", 2, 4, 3, 2, LOSS_MSE, 1);
	check("sigmoid", 2, 4, 3, 2, LOSS_MSE, 1);
	check("pool", 2, 5, 7, 2, LOSS_MSE, 1);
	check("up", 2, 3, 4, 2, LOSS_MSE, 1);
	check("dense5:sigmoid", 2, 3, 3, 3, LOSS_MSE, 1);
	check("flatten,dense4:linear", 2, 2, 3, 3, LOSS_MSE, 1);
	check("dense6,dense4", 3, 1, 1, 4, LOSS_MSE, 1);
	check("flatten,dense12:linear,reshape3x2x2,conv2:linear", 2, 3, 2, 2, LOSS_MSE, 1);
	check("reshape4x3x1", 2, 2, 3, 2, LOSS_MSE, 1);
	/* whole networks, both losses; sigmoid outputs take the fused path */
	check("conv4,bn,conv4s2,up,conv3:sigmoid", 3, 4, 4, 2, LOSS_MSE, 1);
	check("conv4,bn,conv4s2,up,conv3:sigmoid", 3, 4, 4, 2, LOSS_BCE, 1);
	check("conv4,bn,pool,conv4,up,conv3k1:linear,sigmoid", 3, 6, 6, 2, LOSS_BCE, 1);
	check("conv4,pool,dense8,reshape2x2x2,up,conv3k1:sigmoid", 2, 4, 4, 2, LOSS_BCE, 1);
	check("conv4,bn,conv3k1:linear", 2, 4, 4, 2, LOSS_BCE, 1);   /* clamped BCE */
	check("conv4,bn,conv3:sigmoid", 2, 4, 4, 2, LOSS_MSE, 0);
	/* the layers of skip connections and pixel (un)shuffling, alone and
	 * in networks */
	check("s2d", 2, 4, 6, 2, LOSS_MSE, 1);
	check("d2s", 8, 2, 3, 2, LOSS_MSE, 1);
	check("s2d,conv8:linear,d2s", 2, 4, 4, 2, LOSS_MSE, 1);
	check("save:a", 2, 3, 4, 2, LOSS_MSE, 1);
	check("save:in,conv2:linear,add:in", 2, 4, 3, 2, LOSS_MSE, 1);
	check("conv3,save:x,conv2,concat:x,conv2:linear", 2, 3, 4, 2, LOSS_MSE, 1);
	/* one save used twice, and names re-used after a concat */
	check("save:in,conv3:linear,add:in,conv3:linear,add:in,concat:in", 3, 3, 3, 2,
	      LOSS_MSE, 1);
	/* a small U-Net with a residual output, in training and (with batch
	 * norm) inference */
	check("save:in,conv4,save:e1,conv4s2,conv4,up,concat:e1,conv4,conv3k1:linear,add:in",
	      3, 4, 4, 2, LOSS_MSE, 1);
	check("save:in,conv4:sigmoid,save:e1,conv4s2:sigmoid,bn,conv4:sigmoid,up,concat:e1,"
	      "conv4:sigmoid,conv3k1:linear,add:in", 3, 4, 4, 2, LOSS_MSE, 0);
	check("save:in,s2d,conv8,bn,conv12:linear,d2s,add:in,sigmoid", 3, 4, 6, 2, LOSS_BCE, 1);
	/* kinks must stay rare, or the check checks little */
	CHECKF(skipped * 100 < tried * MAX_SKIP, "%ld of %ld values skipped at kinks", skipped, tried);
	printf("%ld of %ld values skipped at relu/max-pool kinks\n", skipped, tried);
	free(pat0);
	free(pat1);
	CHECK_DONE();
}
