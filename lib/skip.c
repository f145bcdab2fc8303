/* skip.c - skip connections: save, add and concat
 *
 * save:NAME passes its input through, and the network keeps its output in
 * a buffer of its own (in inference too) for the layers further on that
 * name it: add:NAME adds it to their input (shapes must match), concat:NAME
 * puts its channels after those of their input (heights and widths must
 * match). With activations (C,N,H,W) a concatenation over channels is the
 * two arrays one after the other, so it is two copies.
 *
 * Backward: add and concat add the saved activation's share of the
 * gradient to l->dskip, which the network zeroes before each backward pass
 * (several layers may use one save); save adds what they collected to the
 * gradient that reaches it from the layer above.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "layer.h"
#include "par.h"

/* Values per work item of the elementwise loops. */
#define GRAIN 65536

struct job { float *y; const float *a, *b; };

static void copy_range(void *ctx, long lo, long hi, int worker)
{
	struct job *jb = ctx;
	memcpy(jb->y + lo, jb->a + lo, sizeof *jb->y * (size_t)(hi - lo));
}

static void sum_range(void *ctx, long lo, long hi, int worker)
{
	struct job *jb = ctx;
	float *y = jb->y;
	const float *a = jb->a, *b = jb->b;
	#pragma omp simd
	for (long i = lo; i < hi; i++)
		y[i] = a[i] + b[i];
}

/* y = a, or y = a + b when b is not NULL; len values. */
static void ew(float *y, const float *a, const float *b, long len)
{
	struct job jb = { y, a, b };
	par_range(len, GRAIN, b ? sum_range : copy_range, &jb);
}

static int save_setup(struct layer *l, int max_batch, char *err, size_t errlen)
{
	l->oc = l->ic, l->oh = l->ih, l->ow = l->iw;
	return 0;
}

static void save_forward(struct layer *l, const float *x, float *y, int n, int training)
{
	ew(y, x, NULL, (long)n * l->ic * l->ih * l->iw);
}

static void save_backward(struct layer *l, const float *x, const float *y,
                          float *dy, float *dx, int n)
{
	if (l->need_dx)
		ew(dx, dy, l->dskip, (long)n * l->ic * l->ih * l->iw);
}

static int add_setup(struct layer *l, int max_batch, char *err, size_t errlen)
{
	if (l->ic != l->sc || l->ih != l->sh || l->iw != l->sw) {
		snprintf(err, errlen, "input %dx%dx%d does not match save:%s, %dx%dx%d",
		         l->ic, l->ih, l->iw, l->s.name, l->sc, l->sh, l->sw);
		return -1;
	}
	l->oc = l->ic, l->oh = l->ih, l->ow = l->iw;
	return 0;
}

static void add_forward(struct layer *l, const float *x, float *y, int n, int training)
{
	ew(y, x, l->skip, (long)n * l->ic * l->ih * l->iw);
}

static void add_backward(struct layer *l, const float *x, const float *y,
                         float *dy, float *dx, int n)
{
	long len = (long)n * l->ic * l->ih * l->iw;
	ew(l->dskip, l->dskip, dy, len);
	if (l->need_dx)
		ew(dx, dy, NULL, len);
}

static int concat_setup(struct layer *l, int max_batch, char *err, size_t errlen)
{
	if (l->ih != l->sh || l->iw != l->sw) {
		snprintf(err, errlen, "input %dx%d does not match save:%s, %dx%d",
		         l->ih, l->iw, l->s.name, l->sh, l->sw);
		return -1;
	}
	if (l->ic > INT_MAX - l->sc) {
		snprintf(err, errlen, "too many channels");
		return -1;
	}
	l->oc = l->ic + l->sc, l->oh = l->ih, l->ow = l->iw;
	return 0;
}

static void concat_forward(struct layer *l, const float *x, float *y, int n, int training)
{
	long plane = (long)n * l->ih * l->iw;
	ew(y, x, NULL, l->ic * plane);
	ew(y + l->ic * plane, l->skip, NULL, l->sc * plane);
}

static void concat_backward(struct layer *l, const float *x, const float *y,
                            float *dy, float *dx, int n)
{
	long plane = (long)n * l->ih * l->iw;
	ew(l->dskip, l->dskip, dy + l->ic * plane, l->sc * plane);
	if (l->need_dx)
		ew(dx, dy, NULL, l->ic * plane);
}

const struct layer_ops save_ops = { save_setup, NULL, save_forward, save_backward, NULL };
const struct layer_ops add_ops = { add_setup, NULL, add_forward, add_backward, NULL };
const struct layer_ops concat_ops = {
	concat_setup, NULL, concat_forward, concat_backward, NULL
};
