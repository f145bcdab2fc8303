/* reshape.c - flatten and reshape, and the layout conversions
 *
 * Both keep each image's values in (C,H,W) order, as Keras (after moving
 * channels first) and PyTorch do; only the internal (C,N,H,W) arrangement
 * of the batch has to move.
 */
#include <stdio.h>
#include <string.h>

#include "layer.h"
#include "par.h"

struct job { const float *x; float *y; int n, c, c2; long hw, hw2; };

static void to_cnhw(void *ctx, long ch, int worker)
{
	struct job *jb = ctx;
	for (int m = 0; m < jb->n; m++)
		memcpy(jb->y + (ch * jb->n + m) * jb->hw, jb->x + (m * jb->c + ch) * jb->hw,
		       sizeof *jb->y * (size_t)jb->hw);
}

void nchw_to_cnhw(const float *x, float *y, int n, int c, long hw)
{
	struct job jb = { x, y, n, c, 0, hw, 0 };
	par_for_w(c, (double)n * c * hw, to_cnhw, &jb);
}

static void to_nchw(void *ctx, long m, int worker)
{
	struct job *jb = ctx;
	for (int ch = 0; ch < jb->c; ch++)
		memcpy(jb->y + (m * jb->c + ch) * jb->hw, jb->x + (ch * jb->n + m) * jb->hw,
		       sizeof *jb->y * (size_t)jb->hw);
}

void cnhw_to_nchw(const float *x, float *y, int n, int c, long hw)
{
	struct job jb = { x, y, n, c, 0, hw, 0 };
	par_for_w(n, (double)n * c * hw, to_nchw, &jb);
}

/* One image's values from (C1,.,HW1) to (C2,.,HW2), in runs. */
static void relayout_image(void *ctx, long m, int worker)
{
	struct job *jb = ctx;
	long total = jb->c * jb->hw, hw1 = jb->hw, hw2 = jb->hw2, n = jb->n, f = 0;
	while (f < total) {
		long a = f / hw1, ar = f % hw1, b = f / hw2, br = f % hw2;
		long run = hw1 - ar < hw2 - br ? hw1 - ar : hw2 - br;
		const float *src = jb->x + (a * n + m) * hw1 + ar;
		float *dst = jb->y + (b * n + m) * hw2 + br;
		if (run == 1)
			*dst = *src;
		else
			memcpy(dst, src, sizeof *dst * (size_t)run);
		f += run;
	}
}

void relayout(const float *x, int c1, long hw1, float *y, int c2, long hw2, int n)
{
	struct job jb = { x, y, n, c1, c2, hw1, hw2 };
	par_for_w(n, 4.0 * n * c1 * hw1, relayout_image, &jb);
}

static int flatten_setup(struct layer *l, int max_batch, char *err, size_t errlen)
{
	l->oc = l->ic * l->ih * l->iw, l->oh = l->ow = 1;
	return 0;
}

static int reshape_setup(struct layer *l, int max_batch, char *err, size_t errlen)
{
	long in = (long)l->ic * l->ih * l->iw;
	long out = (long)l->s.rc * l->s.rh * l->s.rw;
	if (in != out) {
		snprintf(err, errlen, "input has %ld values (%dx%dx%d), the reshape needs %ld",
		         in, l->ic, l->ih, l->iw, out);
		return -1;
	}
	l->oc = l->s.rc, l->oh = l->s.rh, l->ow = l->s.rw;
	return 0;
}

static void reshape_forward(struct layer *l, const float *x, float *y, int n,
                            int training)
{
	relayout(x, l->ic, (long)l->ih * l->iw, y, l->oc, (long)l->oh * l->ow, n);
}

static void reshape_backward(struct layer *l, const float *x, const float *y,
                             float *dy, float *dx, int n)
{
	if (l->need_dx)
		relayout(dy, l->oc, (long)l->oh * l->ow, dx, l->ic, (long)l->ih * l->iw, n);
}

const struct layer_ops flatten_ops = {
	flatten_setup, NULL, reshape_forward, reshape_backward, NULL
};
const struct layer_ops reshape_ops = {
	reshape_setup, NULL, reshape_forward, reshape_backward, NULL
};
