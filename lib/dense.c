/* dense.c - fully connected layer, flattening its input itself
 *
 * Parameters: weights (out,in), then bias (out), with `in` in (C,H,W)
 * order of the input, as PyTorch (and Keras after a channels-first
 * transpose) flatten. Inside the network a batch of flat vectors is
 * (in,N), so y (out,N) = W (out,in) * x (in,N). Threads take bands of
 * rows of the result: no reductions, so results do not depend on threads.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gemm.h"
#include "layer.h"
#include "par.h"
#include "rng.h"

static int dense_setup(struct layer *l, int max_batch, char *err, size_t errlen)
{
	long in = (long)l->ic * l->ih * l->iw, out = l->s.units;
	if (in > INT_MAX / 4 || in * out > INT_MAX / 4) {
		snprintf(err, errlen, "%ld weights: too many", in * out);
		return -1;
	}
	l->oc = (int)out, l->oh = l->ow = 1;
	l->np = (size_t)(in * out + out);
	if ((long)l->ih * l->iw > 1)
		l->save_n = (size_t)in * (size_t)max_batch;
	return 0;
}

static void dense_init(struct layer *l, struct rng *r)
{
	long in = (long)l->ic * l->ih * l->iw, out = l->oc;
	double lim = sqrt(6.0 / (double)(in + out));
	for (long i = 0; i < in * out; i++)
		l->p[i] = (float)((2 * rng_uniform(r) - 1) * lim);
	memset(l->p + in * out, 0, sizeof *l->p * (size_t)out);
}

/* Rows of the result per work item. */
#define BAND 128

struct job {
	struct layer *l;
	const float *xf, *y;   /* (in,N), (out,N) */
	float *out, *dy, *dxf;
	int n;
};

static void forward_band(void *ctx, long band, int worker)
{
	struct job *jb = ctx;
	struct layer *l = jb->l;
	int in = l->ic * l->ih * l->iw, out = l->oc, act = l->s.act, n = jb->n;
	const float *w = l->p /* (out,in) */, *bias = l->p + (long)out * in;
	int r0 = (int)band * BAND, r1 = r0 + BAND < out ? r0 + BAND : out;
	gemm(0, 0, r1 - r0, n, in, 1, w + (long)r0 * in, in, jb->xf, n,
	     0, jb->out + (long)r0 * n, n);
	for (int r = r0; r < r1; r++) {
		float *yr = jb->out + (long)r * n;
		#pragma omp simd
		for (int j = 0; j < n; j++)
			yr[j] += bias[r];
		if (act == ACT_RELU)
			#pragma omp simd
			for (int j = 0; j < n; j++)
				yr[j] = yr[j] > 0 ? yr[j] : 0;
		else if (act == ACT_SIGMOID)
			act_sigmoid(yr, n);
	}
}

static void dense_forward(struct layer *l, const float *x /* (C,N,H,W) */,
                          float *y /* (out,N) */, int n, int training)
{
	int in = l->ic * l->ih * l->iw, out = l->oc;
	struct job jb = { l, x, NULL, y, NULL, NULL, n };
	if (l->save_n) {
		relayout(x, l->ic, (long)l->ih * l->iw, l->save, in, 1, n);
		jb.xf = l->save;
	}
	par_for_w((out + BAND - 1) / BAND, (double)out * in * n, forward_band, &jb);
}

/* dW, db of a band of output rows. */
static void weight_band(void *ctx, long band, int worker)
{
	struct job *jb = ctx;
	struct layer *l = jb->l;
	int in = l->ic * l->ih * l->iw, out = l->oc, n = jb->n;
	float *dw = l->g /* (out,in) */, *db = l->g + (long)out * in;
	int r0 = (int)band * BAND, r1 = r0 + BAND < out ? r0 + BAND : out;
	for (int r = r0; r < r1; r++)
		db[r] = (float)act_grad_sum(jb->dy + (long)r * n, jb->y + (long)r * n, n,
		                            l->fused ? ACT_NONE : l->s.act);
	gemm(0, 1, r1 - r0, in, n, 1, jb->dy + (long)r0 * n, n, jb->xf, n,
	     0, dw + (long)r0 * in, in);
}

/* dx (in,N) = W^T dy for a band of input rows. */
static void input_band(void *ctx, long band, int worker)
{
	struct job *jb = ctx;
	struct layer *l = jb->l;
	int in = l->ic * l->ih * l->iw, out = l->oc, n = jb->n;
	int i0 = (int)band * BAND, i1 = i0 + BAND < in ? i0 + BAND : in;
	gemm(1, 0, i1 - i0, n, out, 1, l->p + i0, in, jb->dy, n,
	     0, jb->dxf + (long)i0 * n, n);
}

static void dense_backward(struct layer *l, const float *x, const float *y,
                           float *dy /* (out,N) */, float *dx /* (C,N,H,W) */, int n)
{
	int in = l->ic * l->ih * l->iw, out = l->oc;
	/* the flat input, and dx flat through save when the input was not */
	struct job jb = { l, l->save_n ? l->save : x, y, NULL, dy,
	                  l->save_n ? l->save : dx, n };
	double work = (double)out * in * n;
	par_for_w((out + BAND - 1) / BAND, work, weight_band, &jb);
	if (!l->need_dx)
		return;
	par_for_w((in + BAND - 1) / BAND, work, input_band, &jb);
	if (l->save_n)
		relayout(jb.dxf, in, 1, dx, l->ic, (long)l->ih * l->iw, n);
}

const struct layer_ops dense_ops = {
	dense_setup, dense_init, dense_forward, dense_backward, NULL
};
