/* upsample.c - nearest-neighbour upsampling by 2
 *
 * up_small_ops is the variant before a conv that upsamples by itself
 * (conv.h): it passes the small image on, and its gradient back.
 */
#include <stdio.h>
#include <string.h>

#include "conv.h"
#include "layer.h"
#include "par.h"

static int up_setup(struct layer *l, int max_batch, char *err, size_t errlen)
{
	if (l->ih > 32768 || l->iw > 32768) {
		snprintf(err, errlen, "input %dx%d too large", l->ih, l->iw);
		return -1;
	}
	l->oc = l->ic, l->oh = 2 * l->ih, l->ow = 2 * l->iw;
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
	int H = jb->l->ih, W = jb->l->iw, OW = jb->l->ow;
	for (long pl = lo; pl < hi; pl++) {
		const float *xp = jb->src + pl * H * W;
		float *yp = jb->dst + pl * 4 * H * W;
		for (int h = 0; h < H; h++) {
			float *r0 = yp + 2 * h * OW, *r1 = r0 + OW;
			#pragma omp simd
			for (int w = 0; w < W; w++) {
				float v = xp[h * W + w];
				r0[2 * w] = r0[2 * w + 1] = v;
				r1[2 * w] = r1[2 * w + 1] = v;
			}
		}
	}
}

static void up_forward(struct layer *l, const float *x /* (C,N,H,W) */,
                       float *y /* (C,N,2H,2W) */, int n, int training)
{
	struct job jb = { l, x, y };
	par_range((long)l->ic * n, grain(l), forward_planes, &jb);
}

static void backward_planes(void *ctx, long lo, long hi, int worker)
{
	struct job *jb = ctx;
	int H = jb->l->ih, W = jb->l->iw, OW = jb->l->ow;
	for (long pl = lo; pl < hi; pl++) {
		float *xp = jb->dst + pl * H * W;
		const float *yp = jb->src + pl * 4 * H * W;
		for (int h = 0; h < H; h++) {
			const float *r0 = yp + 2 * h * OW, *r1 = r0 + OW;
			#pragma omp simd
			for (int w = 0; w < W; w++)
				xp[h * W + w] = (r0[2 * w] + r0[2 * w + 1]) +
				                (r1[2 * w] + r1[2 * w + 1]);
		}
	}
}

static void up_backward(struct layer *l, const float *x, const float *y,
                        float *dy /* (C,N,2H,2W) */, float *dx /* (C,N,H,W) */, int n)
{
	struct job jb = { l, dy, dx };
	if (l->need_dx)
		par_range((long)l->ic * n, grain(l), backward_planes, &jb);
}

const struct layer_ops up_ops = { up_setup, NULL, up_forward, up_backward, NULL };

struct copy { float *dst; const float *src; };

static void copy_range(void *ctx, long lo, long hi, int worker)
{
	struct copy *c = ctx;
	memcpy(c->dst + lo, c->src + lo, sizeof *c->dst * (size_t)(hi - lo));
}

static void small_forward(struct layer *l, const float *x /* (C,N,H,W) */,
                          float *y /* (C,N,H,W) of (C,N,2H,2W) */, int n, int training)
{
	struct copy c = { y, x };
	par_range((long)l->ic * n * l->ih * l->iw, 65536, copy_range, &c);
}

static void small_backward(struct layer *l, const float *x, const float *y,
                           float *dy /* (C,N,H,W) */, float *dx /* (C,N,H,W) */, int n)
{
	struct copy c = { dx, dy };
	if (l->need_dx)
		par_range((long)l->ic * n * l->ih * l->iw, 65536, copy_range, &c);
}

const struct layer_ops up_small_ops = {
	up_setup, NULL, small_forward, small_backward, NULL
};
