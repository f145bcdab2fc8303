/* test_fold.c - batch norm folded into the conv before it, in inference
 *
 * A network that only infers lets each conv followed by a bn apply that
 * bn to its output and skips the bn's own pass (conv.h). Its outputs must
 * match, for every architecture below, on the direct kernels and on
 * im2col + GEMM:
 *   - a network built with CAE_NO_FUSE=1 (plain layers, every bn a pass
 *     of its own): max |a - b| <= 1e-5 max |b|, as the pairs of fuse.c
 *     add their terms in another order;
 *   - a network with the same layers that has had a training pass (it
 *     keeps its activations, so it folds nothing): the same bound. The
 *     fold computes the bn's own x * scale + shift, so without contraction
 *     into fused multiply-adds (-std=c11) the bits agree too, which
 *     test_nn_train and test_skip check.
 * The architectures have a bn after a relu conv, after a linear and a
 * sigmoid conv, after a strided and an upsampling conv, as the network's
 * last layer, before a save, and bns with no conv before them (at the
 * input, after a pool, after a concat). Running statistics, gamma and beta
 * are random, so that every fold changes the values.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "netfill.h"
#include "conv.h"
#include "rng.h"

#define N 3
#define TOL 1e-5

static struct rng r;

static struct net *make(const char *spec, int c, int h, int w, int nofuse)
{
	char err[256];
	struct arch a;
	CHECKF(arch_parse(spec, &a, err, sizeof err) == 0, "%s: %s", spec, err);
	if (nofuse)
		setenv("CAE_NO_FUSE", "1", 1);
	struct net *net = net_create(&a, c, h, w, N, err, sizeof err);
	unsetenv("CAE_NO_FUSE");
	CHECKF(net != NULL, "%s: %s", spec, err);
	if (!net)
		exit(1);
	net_fill_random(net, 7);
	return net;
}

/* Convs in net with a bn folded into them. */
static int folds(struct net *net)
{
	int k = 0;
	for (int i = 0; i < net_nlayers(net); i++)
		k += net_layer(net, i)->bn != NULL;
	return k;
}

/* want: how many convs of spec fold a bn. */
static void check(const char *spec, int c, int h, int w, int want)
{
	struct net *fold = make(spec, c, h, w, 0), *plain = make(spec, c, h, w, 1);
	struct net *kept = make(spec, c, h, w, 0);
	int oc, oh, ow;
	net_out_shape(fold, &oc, &oh, &ow);
	size_t nx = (size_t)N * c * h * w, ny = (size_t)N * oc * oh * ow;
	float *x = malloc(sizeof *x * nx), *y = malloc(sizeof *y * ny);
	for (size_t i = 0; i < nx; i++)
		x[i] = (float)rng_uniform(&r);
	CHECKF(folds(fold) == want, "%s: %d folds, want %d", spec, folds(fold), want);
	CHECKF(folds(plain) == 0, "%s: folds with CAE_NO_FUSE=1", spec);
	/* a training pass moves the running statistics: put them back */
	float *st = malloc(sizeof *st * (net_nstate(kept) + 1));
	memcpy(st, net_state(kept), sizeof *st * net_nstate(kept));
	net_forward(kept, x, N, 1);
	memcpy(net_state(kept), st, sizeof *st * net_nstate(kept));
	CHECKF(folds(kept) == 0, "%s: folds after a training pass", spec);

	memcpy(y, net_forward(fold, x, N, 0), sizeof *y * ny);
	double m, d = maxdiff(y, net_forward(plain, x, N, 0), ny, &m);
	CHECKF(d <= TOL * m, "%s: folded vs plain layers: max diff %g, max %g", spec, d, m);
	d = maxdiff(y, net_forward(kept, x, N, 0), ny, &m);
	CHECKF(d <= TOL * m, "%s: folded vs trained net: max diff %g, max %g", spec, d, m);
	/* a second pass folds from the same state again */
	d = maxdiff(y, net_forward(fold, x, N, 0), ny, &m);
	CHECKF(d == 0, "%s: second pass differs by %g", spec, d);
	free(st), free(x), free(y);
	net_free(fold), net_free(plain), net_free(kept);
}

int main(void)
{
	rng_seed(&r, 3);
	nn_set_threads(2);
	for (int direct = 1; direct >= 0; direct--) {
		conv2d_set_direct(direct);
		/* seed-best's shape: relu convs, one after an up, one strided */
		check("conv8,bn,conv8s2,conv8,bn,up,conv8,bn,conv3k1:sigmoid", 3, 8, 8, 3);
		check("conv8s2,bn,up,conv8,bn,conv3k1:sigmoid", 3, 8, 8, 2);
		/* no relu before the bn; channels that do not fill a tile */
		check("conv8:linear,bn,conv11:sigmoid,bn,conv3k1:linear", 3, 6, 10, 2);
		check("conv20k5:linear,bn,conv3:linear", 2, 7, 5, 1);
		/* the last layer a folded bn */
		check("conv4,bn", 3, 5, 4, 1);
		/* bns with no conv before them */
		check("bn,conv8,pool,bn,up,conv3k1:sigmoid", 3, 8, 8, 0);
		check("save:in,conv8,bn,save:e,conv8s2,bn,up,concat:e,bn,conv8,bn,"
		      "conv3k1:linear,add:in", 3, 8, 8, 3);
		check("flatten,dense12,reshape3x2x2,bn,conv4,bn,conv2:linear", 2, 3, 2, 1);
	}
	CHECK_DONE();
}
