/* test_nn_train.c - training really learns, and is reproducible
 *
 * A small convolutional autoencoder learns to reproduce smooth random
 * 3x8x8 images with Adam: the mean squared error on the training set must
 * fall at least 5-fold in 300 steps (Keras defaults: lr 1e-3; the error is
 * measured with batch statistics). Training twice with one thread gives
 * bit-identical parameters and batch-norm state, and so does training with
 * two threads (the engine splits work in a way that does not depend on the
 * thread count). A network used only for inference, which keeps no
 * activations, computes exactly what a trained one does.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "nn.h"
#include "rng.h"

#define NIMG 256
#define BATCH 32
#define STEPS 300
#define SHORT 20   /* steps of the thread-count comparison */
#define C 3
#define S 8
#define SPEC "conv16,bn,conv16s2,conv16,bn,up,conv16,bn,conv3k1:sigmoid"
#define DENSE "conv8,pool,dense300,dense192:sigmoid,reshape3x8x8"

/* Smooth images: a few low-frequency waves per channel, in [0.1, 0.9]. */
static void make_data(float *x)
{
	struct rng r;
	rng_seed(&r, 99);
	for (int m = 0; m < NIMG; m++)
		for (int c = 0; c < C; c++) {
			double a[3], fy[3], fx[3], ph[3];
			for (int k = 0; k < 3; k++) {
				a[k] = rng_uniform(&r);
				fy[k] = rng_uniform(&r) * 0.8, fx[k] = rng_uniform(&r) * 0.8;
				ph[k] = rng_uniform(&r) * 6.28;
			}
			for (int i = 0; i < S; i++)
				for (int j = 0; j < S; j++) {
					double v = 0;
					for (int k = 0; k < 3; k++)
						v += a[k] * sin(fy[k] * i + fx[k] * j + ph[k]);
					x[((m * C + c) * S + i) * S + j] = (float)(0.5 + 0.4 * tanh(v));
				}
		}
}

static double eval(struct net *net, const float *x)
{
	double s = 0;
	for (int b = 0; b < NIMG; b += BATCH) {
		const float *xb = x + (long)b * C * S * S;
		net_forward(net, xb, BATCH, 1);   /* batch statistics */
		s += net_loss(net, xb, BATCH, LOSS_MSE);
	}
	return s / (NIMG / BATCH);
}

/* A network that has only inferred runs through two shared buffers; its
 * outputs must be those of a trained network with the same parameters,
 * which keeps every activation. */
static void check_inference(const float *x, const float *p)
{
	char err[256];
	struct arch a;
	CHECK(arch_parse(SPEC, &a, err, sizeof err) == 0);
	struct net *fresh = net_create(&a, C, S, S, BATCH, err, sizeof err);
	struct net *trained = net_create(&a, C, S, S, BATCH, err, sizeof err);
	if (!fresh || !trained)
		exit(1);
	net_forward(trained, x, BATCH, 1);   /* now it keeps activations */
	size_t np = net_nparams(fresh), ns = net_nstate(fresh);
	memcpy(net_params(fresh), p, sizeof *p * np);
	memcpy(net_state(fresh), p + np, sizeof *p * ns);
	memcpy(net_params(trained), p, sizeof *p * np);
	memcpy(net_state(trained), p + np, sizeof *p * ns);
	size_t ny = (size_t)BATCH * C * S * S;
	float *y = malloc(sizeof *y * ny);
	memcpy(y, net_forward(fresh, x, BATCH, 0), sizeof *y * ny);
	CHECK(!memcmp(y, net_forward(trained, x, BATCH, 0), sizeof *y * ny));
	CHECK(net_loss(fresh, x, BATCH, LOSS_MSE) == net_loss(trained, x, BATCH, LOSS_MSE));
	CHECK(net_backward(fresh, x, BATCH, LOSS_MSE) == -1);   /* nothing kept */
	CHECK(net_forward(fresh, x, BATCH + 1, 0) == NULL);
	CHECK(net_forward(fresh, x, 0, 0) == NULL);
	free(y);
	net_free(fresh);
	net_free(trained);
}

/* Trains SPEC from seed 1; returns the parameters then the batch-norm
 * state (caller frees), their count, and the losses before and after. */
static float *train(const char *spec, const float *x, int threads, int steps,
                    size_t *count, double *before, double *after)
{
	char err[256];
	struct arch a;
	nn_set_threads(threads);
	CHECK(arch_parse(spec, &a, err, sizeof err) == 0);
	struct net *net = net_create(&a, C, S, S, BATCH, err, sizeof err);
	CHECKF(net != NULL, "%s", err);
	if (!net)
		exit(1);
	net_init(net, 1);
	struct optim o;
	optim_init(&o, OPT_ADAM, net_nparams(net));
	*before = eval(net, x);
	for (int step = 0; step < steps; step++) {
		const float *xb = x + (long)(step % (NIMG / BATCH)) * BATCH * C * S * S;
		net_forward(net, xb, BATCH, 1);
		net_backward(net, xb, BATCH, LOSS_MSE);
		optim_step(&o, net_params(net), net_grads(net));
	}
	*after = eval(net, x);
	size_t n = *count = net_nparams(net) + net_nstate(net);
	float *p = malloc(sizeof *p * n);
	memcpy(p, net_params(net), sizeof *p * net_nparams(net));
	memcpy(p + net_nparams(net), net_state(net), sizeof *p * net_nstate(net));
	optim_free(&o);
	net_free(net);
	return p;
}

int main(void)
{
	float *x = malloc(sizeof *x * NIMG * C * S * S);
	make_data(x);
	double b1, a1, b2, a2, b3, a3;
	size_t n;
	float *p1 = train(SPEC, x, 1, STEPS, &n, &b1, &a1);
	float *p2 = train(SPEC, x, 1, STEPS, &n, &b2, &a2);
	printf("mse %.5f -> %.5f after %d steps\n", b1, a1, STEPS);
	CHECKF(a1 * 5 < b1, "mse only fell from %g to %g", b1, a1);
	CHECK(!memcmp(p1, p2, sizeof *p1 * n) && a1 == a2);
	check_inference(x, p1);
	free(p1), free(p2);
	/* a shorter run with one and with two threads */
	p1 = train(SPEC, x, 1, SHORT, &n, &b1, &a1);
	p2 = train(SPEC, x, 2, SHORT, &n, &b2, &a2);
	float *p3 = train(SPEC, x, 2, SHORT, &n, &b3, &a3);
	CHECK(!memcmp(p1, p2, sizeof *p1 * n) && a1 == a2);
	CHECK(!memcmp(p2, p3, sizeof *p1 * n) && a2 == a3);
	free(p1), free(p2), free(p3);
	/* dense layers split their work too */
	p1 = train(DENSE, x, 1, SHORT, &n, &b1, &a1);
	p2 = train(DENSE, x, 2, SHORT, &n, &b2, &a2);
	CHECK(!memcmp(p1, p2, sizeof *p1 * n) && a1 == a2);
	free(p1), free(p2), free(x);
	CHECK_DONE();
}
