/* test_micro.c - depth-first inference in micro-batches (net.c)
 *
 * A network that only infers takes a few images at a time through all its
 * layers, each thread in buffers of its own, on frozen copies of the
 * layers. For every architecture below, batch size, micro-batch size
 * (CAE_MICRO) and thread count, its outputs and net_loss() must equal
 * those of the same network inferring a layer at a time over the whole
 * batch (CAE_NO_MICRO=1): bit for bit on the direct and Winograd kernels,
 * which compute each image alone; within 1e-5 of the largest value on
 * im2col + GEMM, whose products may block differently for other widths.
 * A second pass must repeat the first bit for bit, and a network that has
 * trained (which keeps its activations) must not use micro-batches.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "netfill.h"
#include "conv.h"
#include "rng.h"

#define MAXB 11

static struct rng r;

static struct net *make(const char *spec, int c, int h, int w, const char *micro)
{
	char err[256];
	struct arch a;
	CHECKF(arch_parse(spec, &a, err, sizeof err) == 0, "%s: %s", spec, err);
	if (micro)
		setenv("CAE_MICRO", micro, 1);
	else
		setenv("CAE_NO_MICRO", "1", 1);
	struct net *net = net_create(&a, c, h, w, MAXB, err, sizeof err);
	unsetenv("CAE_MICRO");
	unsetenv("CAE_NO_MICRO");
	CHECKF(net != NULL, "%s: %s", spec, err);
	if (!net)
		exit(1);
	net_fill_random(net, 5);
	return net;
}

static void check(const char *spec, int c, int h, int w, int exact)
{
	static const char *micro[] = { "1", "3", "" };   /* "": the default */
	struct net *ref = make(spec, c, h, w, NULL);
	int oc, oh, ow;
	net_out_shape(ref, &oc, &oh, &ow);
	size_t nx = (size_t)MAXB * c * h * w, ny = (size_t)MAXB * oc * oh * ow;
	float *x = malloc(sizeof *x * nx), *y = malloc(sizeof *y * ny);
	float *t = malloc(sizeof *t * ny);
	for (size_t i = 0; i < nx; i++)
		x[i] = (float)rng_uniform(&r);
	for (size_t i = 0; i < ny; i++)
		t[i] = (float)rng_uniform(&r);
	for (size_t k = 0; k < sizeof micro / sizeof *micro; k++) {
		struct net *net = make(spec, c, h, w, micro[k]);
		static const int batches[] = { 1, 5, MAXB };
		for (int th = 1; th <= 2; th++)
		for (int b = 0; b < 3; b++) {
			int n = batches[b];
			size_t m = (size_t)n * oc * oh * ow;
			nn_set_threads(th);
			memcpy(y, net_forward(ref, x, n, 0), sizeof *y * m);
			double lr = net_loss(ref, t, n, LOSS_MSE), scale;
			double d = maxdiff(net_forward(net, x, n, 0), y, m, &scale);
			double ln = net_loss(net, t, n, LOSS_MSE);
			if (exact) {
				CHECKF(d == 0, "%s, micro '%s', %d images, %d threads: max diff %g",
				       spec, micro[k], n, th, d);
				CHECKF(ln == lr, "%s, micro '%s', %d images: loss %.17g vs %.17g",
				       spec, micro[k], n, ln, lr);
			} else {
				CHECKF(d <= 1e-5 * scale, "%s, micro '%s', %d images, %d threads: "
				       "max diff %g, max %g", spec, micro[k], n, th, d, scale);
				CHECKF(fabs(ln - lr) <= 1e-5 * lr, "%s, micro '%s': loss %.17g vs %.17g",
				       spec, micro[k], ln, lr);
			}
			memcpy(t, net_forward(net, x, n, 0), sizeof *t * m);
			d = maxdiff(net_forward(net, x, n, 0), t, m, &scale);
			CHECKF(d == 0, "%s, micro '%s': second pass differs by %g", spec, micro[k], d);
			for (size_t i = 0; i < ny; i++)
				t[i] = (float)rng_uniform(&r);
		}
		net_free(net);
	}
	/* after a training pass every layer runs over the whole batch; its
	 * outputs (bn in training mode) differ from inference's, so compare
	 * the inference pass after it with the reference's kept net */
	struct net *net = make(spec, c, h, w, "1"), *kept = make(spec, c, h, w, NULL);
	net_forward(net, x, MAXB, 1);
	net_forward(kept, x, MAXB, 1);
	memcpy(net_state(net), net_state(kept), sizeof(float) * net_nstate(net));
	memcpy(y, net_forward(kept, x, MAXB, 0), sizeof *y * ny);
	double scale, d = maxdiff(net_forward(net, x, MAXB, 0), y, ny, &scale);
	CHECKF(d == 0, "%s: trained net with CAE_MICRO=1 differs by %g", spec, d);
	net_free(net), net_free(kept), net_free(ref);
	free(x), free(y), free(t);
}

int main(void)
{
	rng_seed(&r, 11);
#ifdef __AVX512F__
	int built = 1;
#else
	int built = 0;
#endif
	for (int direct = 1; direct >= 0; direct--) {
		conv2d_set_direct(direct);
		int exact = built && direct;
		/* seed-best and the U-Net denoiser */
		check("seed-best", 3, 32, 32, exact);
		check("dn-unet", 3, 16, 16, exact);
		/* pooling, odd sizes, adds, space-to-depth and back, clip */
		check("conv8,pool,conv8,up,conv3k1:sigmoid", 3, 8, 12, exact);
		check("save:in,conv8,bn,save:e,conv8s2,bn,up,concat:e,bn,conv8,bn,"
		      "conv3k1:linear,add:in,clip", 3, 10, 6, exact);
		check("s2d,conv12,bn,conv12:linear,d2s,sigmoid", 3, 6, 8, exact);
		check("bn,relu,conv5k5s2,conv4k1,up,conv2:linear", 2, 9, 7, exact);
		/* a dense layer: a layer at a time (the comparison still holds) */
		check("conv4s2,flatten,dense12,reshape3x2x2,conv2:linear", 2, 4, 4, exact);
	}
	CHECK_DONE();
}
