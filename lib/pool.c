/* pool.c - max-pooling 2x2 with stride 2
 *
 * Odd sizes drop the last row or column (floor, like Keras "valid"), which
 * then get a zero gradient. Forward keeps which of the four won (the first
 * one on ties) so backward routes the gradient without comparing floats.
 */
#include <stdio.h>
#include <string.h>

#include "layer.h"
#include "par.h"

static int pool_setup(struct layer *l, int max_batch, char *err, size_t errlen)
{
	if (l->ih < 2 || l->iw < 2) {
		snprintf(err, errlen, "input %dx%d too small", l->ih, l->iw);
		return -1;
	}
	l->oc = l->ic, l->oh = l->ih / 2, l->ow = l->iw / 2;
	l->idx_n = (size_t)max_batch * l->oc * l->oh * l->ow;
	return 0;
}

struct job { struct layer *l; const float *src; float *dst; };

/* Planes per work item: some 64K input values. */
static long grain(const struct layer *l)
{
	long g = 65536 / ((long)l->ih * l->iw);
	return g < 1 ? 1 : g;
}

static void forward_planes(void *ctx, long lo, long hi, int worker)
{
	struct job *jb = ctx;
	struct layer *l = jb->l;
	int H = l->ih, W = l->iw, OH = l->oh, OW = l->ow;
	for (long pl = lo; pl < hi; pl++) {
		const float *xp = jb->src + pl * H * W;
		float *yp = jb->dst + pl * OH * OW;
		/* a frozen copy keeps no choices (they are for backward) */
		unsigned char *ip = l->frozen ? NULL : l->idx + pl * OH * OW;
		for (int oh = 0; oh < OH; oh++) {
			const float *r0 = xp + 2 * oh * W, *r1 = r0 + W;
			for (int ow = 0; ow < OW; ow++) {
				float a = r0[2 * ow], b = r0[2 * ow + 1];
				float c = r1[2 * ow], d = r1[2 * ow + 1];
				float m = a;
				unsigned char k = 0;
				if (b > m) m = b, k = 1;
				if (c > m) m = c, k = 2;
				if (d > m) m = d, k = 3;
				yp[oh * OW + ow] = m;
				if (ip)
					ip[oh * OW + ow] = k;
			}
		}
	}
}

static void pool_forward(struct layer *l, const float *x /* (C,N,H,W) */,
                         float *y /* (C,N,H/2,W/2) */, int n, int training)
{
	struct job jb = { l, x, y };
	par_range((long)l->ic * n, grain(l), forward_planes, &jb);
}

static void backward_planes(void *ctx, long lo, long hi, int worker)
{
	struct job *jb = ctx;
	struct layer *l = jb->l;
	int H = l->ih, W = l->iw, OH = l->oh, OW = l->ow;
	for (long pl = lo; pl < hi; pl++) {
		float *xp = jb->dst + pl * H * W;
		const float *yp = jb->src + pl * OH * OW;
		const unsigned char *ip = l->idx + pl * OH * OW;
		memset(xp, 0, sizeof *xp * (size_t)H * W);
		for (int oh = 0; oh < OH; oh++)
			for (int ow = 0; ow < OW; ow++) {
				int k = ip[oh * OW + ow];
				xp[(2 * oh + (k >> 1)) * W + 2 * ow + (k & 1)] = yp[oh * OW + ow];
			}
	}
}

static void pool_backward(struct layer *l, const float *x, const float *y,
                          float *dy /* (C,N,H/2,W/2) */, float *dx /* (C,N,H,W) */,
                          int n)
{
	struct job jb = { l, dy, dx };
	if (l->need_dx)
		par_range((long)l->ic * n, grain(l), backward_planes, &jb);
}

const struct layer_ops pool_ops = { pool_setup, NULL, pool_forward, pool_backward, NULL };
