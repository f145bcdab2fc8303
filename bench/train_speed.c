/* train_speed - the engine's training and inference speed on random data
 *
 * Usage: train_speed [-t THREADS] [-b BATCH] [-n STEPS] [-a ARCH] [-i] [-l] [-c]
 *   -t  threads (default 1)            -b  images per step (default 100)
 *   -n  steps per timing (default 20)  -a  preset or spec (default seed-best)
 *   -i  inference (forward passes) instead of training steps
 *   -l  also the forward and backward time of each layer (with -i, the
 *       inference forward time; not for nets with skip connections)
 *   -c  count process CPU time instead of wall time: steadier on a busy
 *       machine for one thread (with more, it sums the threads' times)
 * Prints "train|apply T threads: X images/s", the best of 3 timings, for
 * 3x32x32 images; a training step is forward, backward and an Adam update.
 * No I/O: this is the engine alone (ae-train and ae-apply add reading and
 * converting the data). Build, from the top directory after make:
 *   cc -O2 -march=native -Ilib -o bench/out/train_speed \
 *      bench/train_speed.c lib/libcae.a $(pkg-config --libs libpng openblas zlib) -lm
 * Results do not depend on the environment variables CAE_CONV_GEMM and
 * CAE_NO_FUSE, the speed does: they switch off the direct kernels and the
 * upsampling + conv pairs, to compare (see README, Performance).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "layer.h"
#include "nn.h"

static int cpu_time;

static double now(void)
{
	struct timespec t;
	clock_gettime(cpu_time ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static long num(const char *s, long lo, long hi)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "train_speed: bad number '%s' (%ld to %ld)\n", s, lo, hi);
		exit(2);
	}
	return v;
}

/* Forward and backward time of each layer over steps passes; with infer,
 * the inference forward pass alone (a bn folded into the conv before it
 * shows as 0). */
static void layer_times(struct net *net, const float *x, const float *t, int b, int steps,
                        int infer)
{
	int nl = net_nlayers(net);
	double tf[ARCH_MAX_LAYERS] = { 0 }, tb[ARCH_MAX_LAYERS] = { 0 };
	size_t big = 0;
	if (!infer) {
		net_forward(net, x, b, 1);   /* keeps every activation from now on */
		net_backward(net, t, b, LOSS_MSE);
	}
	for (int i = 0; i < nl; i++) {
		const struct layer *l = net_layer(net, i);
		size_t o = (size_t)l->oc * l->oh * l->ow, in = (size_t)l->ic * l->ih * l->iw;
		big = o > big ? o : big;
		big = in > big ? in : big;
	}
	float *dy = calloc(big * (size_t)b, sizeof *dy), *dx = calloc(big * (size_t)b, sizeof *dx);
	float *in0 = malloc(sizeof *in0 * (size_t)b * 3 * 32 * 32);
	if (!dy || !dx || !in0) {
		fprintf(stderr, "train_speed: out of memory\n");
		exit(1);
	}
	nchw_to_cnhw(x, in0, b, 3, 32 * 32);
	float *last = NULL;
	for (int s = 0; s < steps; s++) {
		for (int i = 0; i < nl; i++) {
			struct layer *l = net_layer(net, i);
			if (infer && i > 0 && net_layer(net, i - 1)->bn)
				continue;   /* folded into the conv before */
			/* inference: from buffer to buffer, as net_forward */
			const float *xi = !i ? in0 : infer ? (last == dy ? dy : dx) :
			                  net_activation(net, i - 1);
			float *yi = infer ? (xi == dx ? dy : dx) : (float *)net_activation(net, i);
			double t0 = now();
			l->ops->forward(l, xi, yi, b, !infer);
			tf[i] += now() - t0;
			last = yi;
		}
		for (int i = nl - 1; !infer && i >= 0; i--) {
			struct layer *l = net_layer(net, i);
			const float *xi = i ? net_activation(net, i - 1) : in0;
			size_t o = (size_t)l->oc * l->oh * l->ow * (size_t)b;
			for (size_t k = 0; k < o; k++)
				dy[k] = 1e-3f * (float)((k * 2654435761u) % 1000) / 1000.0f - 5e-4f;
			double t0 = now();
			l->ops->backward(l, xi, net_activation(net, i), dy, dx, b);
			tb[i] += now() - t0;
		}
	}
	for (int i = 0; i < nl; i++) {
		char spec[96];
		arch_format_layer(&net_layer(net, i)->s, spec, sizeof spec);
		printf("%3d %-20s forward %8.3f ms  backward %8.3f ms\n", i + 1, spec,
		       tf[i] / steps * 1e3, tb[i] / steps * 1e3);
	}
	free(dy), free(dx), free(in0);
}

int main(int argc, char **argv)
{
	int threads = 1, b = 100, steps = 20, infer = 0, layers = 0, c;
	const char *spec = "seed-best";
	while ((c = getopt(argc, argv, "t:b:n:a:ilc")) != -1) {
		switch (c) {
		case 't': threads = (int)num(optarg, 1, 64); break;
		case 'b': b = (int)num(optarg, 1, 10000); break;
		case 'n': steps = (int)num(optarg, 1, 1000000); break;
		case 'a': spec = optarg; break;
		case 'i': infer = 1; break;
		case 'l': layers = 1; break;
		case 'c': cpu_time = 1; break;
		default:
			fprintf(stderr, "usage: train_speed [-t THREADS] [-b BATCH] [-n STEPS] "
			        "[-a ARCH] [-i] [-l] [-c]\n");
			return 2;
		}
	}
	char err[256];
	struct arch a;
	if (arch_parse(spec, &a, err, sizeof err)) {
		fprintf(stderr, "train_speed: %s\n", err);
		return 2;
	}
	nn_set_threads(threads);
	struct net *net = net_create(&a, 3, 32, 32, b, err, sizeof err);
	if (!net) {
		fprintf(stderr, "train_speed: %s\n", err);
		return 1;
	}
	net_init(net, 1);
	int oc, oh, ow;
	net_out_shape(net, &oc, &oh, &ow);
	size_t nx = (size_t)b * 3 * 32 * 32, nt = (size_t)b * oc * oh * ow;
	float *x = malloc(sizeof *x * nx), *t = malloc(sizeof *t * nt);
	if (!x || !t) {
		fprintf(stderr, "train_speed: out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < nx; i++)
		x[i] = (float)((i * 2654435761u) % 1000) / 1000.0f;
	for (size_t i = 0; i < nt; i++)
		t[i] = x[i % nx];
	struct optim o;
	optim_init(&o, OPT_ADAM, net_nparams(net));
	double best = 1e30;
	for (int rep = 0; rep < 3; rep++) {
		double t0 = now();
		for (int s = 0; s < steps; s++) {
			if (infer) {
				net_forward(net, x, b, 0);
				continue;
			}
			net_forward(net, x, b, 1);
			net_backward(net, t, b, LOSS_MSE);
			optim_step(&o, net_params(net), net_grads(net));
		}
		double dt = now() - t0;
		if (dt < best)
			best = dt;
	}
	printf("%s %d threads: %.1f images/s\n", infer ? "apply" : "train", threads,
	       (double)steps * b / best);
	if (layers)
		layer_times(net, x, t, b, steps > 5 ? 5 : steps, infer);
	optim_free(&o);
	free(x), free(t);
	net_free(net);
	return 0;
}
