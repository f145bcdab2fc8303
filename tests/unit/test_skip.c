/* test_skip.c - networks with skip connections and pixel (un)shuffling
 *
 * A small U-Net (concat) with a residual output (add) and an FFDNet-like
 * network (s2d ... d2s, add) learn to denoise smooth random 3x8x8 images
 * with Adam: after 1500 steps the error of their output must be under a third
 * that of the noisy input. Their training gives the same bits with one
 * and with two threads, and a network that has only inferred (its saved
 * activations in buffers of their own, the rest through two shared
 * buffers) computes exactly what a trained one does. Clip clamps and
 * passes the gradient of the clamped values straight through.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "layer.h"
#include "rng.h"

#define NIMG 256
#define BATCH 32
#define STEPS 1500
#define SHORT 20
#define C 3
#define S 8
#define SIGMA 0.2
#define UNET "save:in,conv8,save:e,conv8s2,bn,conv8,up,concat:e,conv8,conv3k1:linear,add:in,clip"
#define FFD "save:in,s2d,conv16,bn,conv16,conv12:linear,d2s,add:in"

static const long SZ = (long)C * S * S;

/* Smooth images (a few low-frequency waves per channel) and noisy copies. */
static void make_data(float *x, float *noisy)
{
	struct rng r;
	rng_seed(&r, 5);
	for (int m = 0; m < NIMG; m++)
		for (int c = 0; c < C; c++) {
			double a[2], fy[2], fx[2], ph[2];
			for (int k = 0; k < 2; k++) {
				a[k] = rng_uniform(&r);
				fy[k] = rng_uniform(&r) * 0.6, fx[k] = rng_uniform(&r) * 0.6;
				ph[k] = rng_uniform(&r) * 6.28;
			}
			for (int i = 0; i < S; i++)
				for (int j = 0; j < S; j++) {
					double v = 0;
					for (int k = 0; k < 2; k++)
						v += a[k] * sin(fy[k] * i + fx[k] * j + ph[k]);
					long o = (long)m * SZ + (long)c * S * S + i * S + j;
					x[o] = (float)(0.5 + 0.2 * v);
					noisy[o] = x[o] + (float)(SIGMA * rng_normal(&r));
				}
		}
}

static double mse(const float *a, const float *b, long n)
{
	double s = 0;
	for (long i = 0; i < n; i++)
		s += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
	return s / (double)n;
}

static struct net *build(const char *spec)
{
	char err[256];
	struct arch a;
	CHECKF(arch_parse(spec, &a, err, sizeof err) == 0, "%s: %s", spec, err);
	struct net *net = net_create(&a, C, S, S, BATCH, err, sizeof err);
	CHECKF(net != NULL, "%s: %s", spec, err);
	if (!net)
		exit(1);
	return net;
}

/* Trains SPEC for steps from seed 1 with threads; returns the parameters
 * and batch-norm state (caller frees) and their count, and the inference
 * error on the training images before and after. */
static float *train(const char *spec, const float *x, const float *noisy, int threads,
                    int steps, size_t *count, double *before, double *after)
{
	nn_set_threads(threads);
	struct net *net = build(spec);
	net_init(net, 1);
	struct optim o;
	optim_init(&o, OPT_ADAM, net_nparams(net));
	for (int pass = 0; pass < 2; pass++) {
		double e = 0;
		for (int b = 0; b < NIMG; b += BATCH)
			e += mse(net_forward(net, noisy + b * SZ, BATCH, 0), x + b * SZ, BATCH * SZ);
		*(pass ? after : before) = e / (NIMG / BATCH);
		for (int step = 0; !pass && step < steps; step++) {
			long b = (long)(step % (NIMG / BATCH)) * BATCH;
			net_forward(net, noisy + b * SZ, BATCH, 1);
			net_backward(net, x + b * SZ, BATCH, LOSS_MSE);
			optim_step(&o, net_params(net), net_grads(net));
		}
	}
	size_t n = *count = net_nparams(net) + net_nstate(net);
	float *p = malloc(sizeof *p * n);
	memcpy(p, net_params(net), sizeof *p * net_nparams(net));
	memcpy(p + net_nparams(net), net_state(net), sizeof *p * net_nstate(net));
	optim_free(&o);
	net_free(net);
	return p;
}

/* Same parameters: a network that never trained gives the same bits. */
static void check_inference(const char *spec, const float *noisy, const float *p)
{
	struct net *fresh = build(spec), *trained = build(spec);
	net_forward(trained, noisy, BATCH, 1);   /* now it keeps activations */
	size_t np = net_nparams(fresh), ns = net_nstate(fresh), ny = (size_t)BATCH * SZ;
	memcpy(net_params(fresh), p, sizeof *p * np);
	memcpy(net_state(fresh), p + np, sizeof *p * ns);
	memcpy(net_params(trained), p, sizeof *p * np);
	memcpy(net_state(trained), p + np, sizeof *p * ns);
	float *y = malloc(sizeof *y * ny);
	for (int n = BATCH; n >= BATCH / 2; n -= BATCH / 2) {
		memcpy(y, net_forward(fresh, noisy, n, 0), sizeof *y * (size_t)n * SZ);
		CHECKF(!memcmp(y, net_forward(trained, noisy, n, 0), sizeof *y * (size_t)n * SZ),
		       "%s: inference differs", spec);
	}
	free(y);
	net_free(fresh);
	net_free(trained);
}

/* y = clamp(x); the gradient w.r.t. x is that w.r.t. y, unchanged. */
static void check_clip(void)
{
	const float x[6] = { -0.5f, 0, 0.25f, 1, 1.75f, 0.5f }, t[6] = { 0, 0.5f, 0.5f, 0.5f, 1, 1 };
	const float want[6] = { 0, 0, 0.25f, 1, 1, 0.5f };
	char err[256];
	struct arch a;
	CHECK(arch_parse("clip", &a, err, sizeof err) == 0);
	struct net *net = net_create(&a, 1, 2, 3, 1, err, sizeof err);
	CHECK(net != NULL);
	if (!net)
		return;
	net_set_input_grad(net, 1);
	const float *y = net_forward(net, x, 1, 1);
	CHECK(!memcmp(y, want, sizeof want));
	net_backward(net, t, 1, LOSS_MSE);
	const float *g = net_input_grad(net);
	for (int i = 0; i < 6; i++)
		CHECKF(fabsf(g[i] - 2 * (want[i] - t[i]) / 6) < 1e-7f, "clip: d/dx[%d] = %g", i, g[i]);
	net_free(net);
}

int main(void)
{
	check_clip();
	float *x = malloc(sizeof *x * NIMG * SZ), *noisy = malloc(sizeof *x * NIMG * SZ);
	make_data(x, noisy);
	double noisy_mse = mse(noisy, x, NIMG * SZ);
	const char *specs[] = { UNET, FFD };
	for (int i = 0; i < 2; i++) {
		double b1, a1, b2, a2;
		size_t n;
		float *p1 = train(specs[i], x, noisy, 2, STEPS, &n, &b1, &a1);
		printf("%s: mse %.5f -> %.5f in %d steps; noisy input %.5f\n", specs[i], b1,
		       a1, STEPS, noisy_mse);
		CHECKF(a1 * 3 < noisy_mse, "%s: mse %g, noisy input %g", specs[i], a1, noisy_mse);
		check_inference(specs[i], noisy, p1);
		free(p1);
		p1 = train(specs[i], x, noisy, 1, SHORT, &n, &b1, &a1);
		float *p2 = train(specs[i], x, noisy, 2, SHORT, &n, &b2, &a2);
		CHECKF(!memcmp(p1, p2, sizeof *p1 * n) && a1 == a2, "%s: threads differ", specs[i]);
		free(p1), free(p2);
	}
	free(x), free(noisy);
	CHECK_DONE();
}
