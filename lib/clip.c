/* clip.c - clamping to [0,1], the range of the images
 *
 * For a network whose last layer is linear (one that adds its input back,
 * say): it may not answer outside the range any target lies in. Backward
 * passes the gradient straight through, as if the clamp were not there
 * (the straight-through estimator): the loss is that of the clamped
 * value, but a value clamped on the wrong side of its target still learns
 * to move back, where the true gradient, zero outside (0,1), would leave
 * it stuck there. A freshly initialised linear output is below 0 about
 * half of the time.
 */
#include <stdio.h>
#include <string.h>

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

static void copy_range(void *ctx, long lo, long hi, int worker)
{
	struct job *jb = ctx;
	memcpy(jb->y + lo, jb->x + lo, sizeof *jb->y * (size_t)(hi - lo));
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
	struct job jb = { dx, dy };
	if (l->need_dx)
		par_range((long)n * l->ic * l->ih * l->iw, GRAIN, copy_range, &jb);
}

const struct layer_ops clip_ops = { clip_setup, NULL, clip_forward, clip_backward, NULL };
