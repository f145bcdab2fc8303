/* clip.c - clamping to [0,1], the range of the images
 *
 * For a network whose last layer is linear (one that adds its input back,
 * say): it may not answer outside the range any target lies in. Backward
 * passes the gradient where the input was inside (0,1) and stops it where
 * the clamp bit; y alone tells which (0 < y < 1).
 */
#include <stdio.h>

#include "layer.h"
#include "par.h"

/* Values per work item. */
#define GRAIN 65536

struct job { float *y; const float *x; };

static void fwd_range(void *ctx, long lo, long hi, int worker)
{
	struct job *jb = ctx;
	#pragma omp simd
	for (long i = lo; i < hi; i++) {
		float v = jb->x[i];
		jb->y[i] = v < 0 ? 0 : v > 1 ? 1 : v;
	}
}

/* dx = dy where the output is inside (0,1), else 0. */
struct bjob { float *dx; const float *dy, *out; };

static void bwd_range(void *ctx, long lo, long hi, int worker)
{
	struct bjob *jb = ctx;
	#pragma omp simd
	for (long i = lo; i < hi; i++)
		jb->dx[i] = jb->out[i] > 0 && jb->out[i] < 1 ? jb->dy[i] : 0;
}

static int clip_setup(struct layer *l, int max_batch, char *err, size_t errlen)
{
	l->oc = l->ic, l->oh = l->ih, l->ow = l->iw;
	return 0;
}

static void clip_forward(struct layer *l, const float *x, float *y, int n, int training)
{
	struct job jb = { y, x };
	par_range((long)n * l->ic * l->ih * l->iw, GRAIN, fwd_range, &jb);
}

static void clip_backward(struct layer *l, const float *x, const float *y,
                          float *dy, float *dx, int n)
{
	struct bjob jb = { dx, dy, y };
	if (l->need_dx)
		par_range((long)n * l->ic * l->ih * l->iw, GRAIN, bwd_range, &jb);
}

const struct layer_ops clip_ops = { clip_setup, NULL, clip_forward, clip_backward };
