/* act.c - activations: relu and sigmoid, as layers and folded into others
 *
 * Backward works from the output y alone (relu: y > 0; sigmoid: y (1 - y)),
 * so a layer keeps no copy of its pre-activation.
 */
#include <string.h>

#include "dconv.h"
#include "layer.h"
#include "par.h"

/* Values per work item of the elementwise loops. */
#define GRAIN 65536

void act_sigmoid(float *y, long n)
{
	/* the conv kernels' vectorised form, so that every path computes the
	 * same sigmoid */
	dconv_sigmoid(y, n);
}

/* dy *= act'(y) over n values, single-threaded. */
static void grad_serial(float *dy, const float *y, long n, int act)
{
	if (act == ACT_RELU) {
		#pragma omp simd
		for (long i = 0; i < n; i++)
			dy[i] = y[i] > 0 ? dy[i] : 0;
	} else if (act == ACT_SIGMOID) {
		#pragma omp simd
		for (long i = 0; i < n; i++)
			dy[i] *= y[i] * (1 - y[i]);
	}
}

struct elem { float *a; const float *b; int act; };

static void fwd_range(void *ctx, long lo, long hi, int worker)
{
	struct elem *e = ctx;
	float *y = e->a;
	if (e->act == ACT_RELU) {
		#pragma omp simd
		for (long i = lo; i < hi; i++)
			y[i] = y[i] > 0 ? y[i] : 0;
	} else if (e->act == ACT_SIGMOID) {
		act_sigmoid(y + lo, hi - lo);
	}
}

static void bwd_range(void *ctx, long lo, long hi, int worker)
{
	struct elem *e = ctx;
	grad_serial(e->a + lo, e->b + lo, hi - lo, e->act);
}

static void copy_range(void *ctx, long lo, long hi, int worker)
{
	struct elem *e = ctx;
	memcpy(e->a + lo, e->b + lo, sizeof *e->a * (size_t)(hi - lo));
}

void act_forward(float *y, long n, int act)
{
	struct elem e = { y, NULL, act };
	if (act != ACT_NONE)
		par_range(n, GRAIN, fwd_range, &e);
}

void act_backward(float *dy, const float *y, long n, int act)
{
	struct elem e = { dy, y, act };
	if (act != ACT_NONE)
		par_range(n, GRAIN, bwd_range, &e);
}

#define BLOCK 4096

double vsum(const float *a, long n)
{
	double total = 0;
	for (long i0 = 0; i0 < n; i0 += BLOCK) {
		long len = n - i0 < BLOCK ? n - i0 : BLOCK, i = 0;
		const float *p = a + i0;
		float acc[16] = { 0 };
		for (; i + 16 <= len; i += 16)
			#pragma omp simd
			for (int j = 0; j < 16; j++)
				acc[j] += p[i + j];
		double blk = 0;
		for (; i < len; i++)
			blk += p[i];
		for (int j = 0; j < 16; j++)
			blk += acc[j];
		total += blk;
	}
	return total;
}

double act_grad_sum(float *dy, const float *y, long n, int act)
{
	if (act != ACT_RELU) {
		grad_serial(dy, y, n, act);
		return vsum(dy, n);
	}
	/* one pass: the relu mask and the sum, as vsum adds */
	double total = 0;
	for (long i0 = 0; i0 < n; i0 += BLOCK) {
		long len = n - i0 < BLOCK ? n - i0 : BLOCK, i = 0;
		float *p = dy + i0;
		const float *q = y + i0;
		float acc[16] = { 0 };
		for (; i + 16 <= len; i += 16)
			#pragma omp simd
			for (int j = 0; j < 16; j++) {
				float v = q[i + j] > 0 ? p[i + j] : 0;
				p[i + j] = v;
				acc[j] += v;
			}
		double blk = 0;
		for (; i < len; i++) {
			p[i] = q[i] > 0 ? p[i] : 0;
			blk += p[i];
		}
		for (int j = 0; j < 16; j++)
			blk += acc[j];
		total += blk;
	}
	return total;
}

static int act_setup(struct layer *l, int max_batch, char *err, size_t errlen)
{
	l->oc = l->ic, l->oh = l->ih, l->ow = l->iw;
	return 0;
}

static void act_layer_forward(struct layer *l, const float *x, float *y, int n,
                              int act)
{
	long len = (long)n * l->ic * l->ih * l->iw;
	struct elem e = { y, x, act };
	par_range(len, GRAIN, copy_range, &e);
	act_forward(y, len, act);
}

static void act_layer_backward(struct layer *l, const float *y, float *dy,
                               float *dx, int n, int act)
{
	if (!l->need_dx)
		return;
	long len = (long)n * l->ic * l->ih * l->iw;
	if (!l->fused)
		act_backward(dy, y, len, act);
	struct elem e = { dx, dy, act };
	par_range(len, GRAIN, copy_range, &e);
}

static void relu_fwd(struct layer *l, const float *x, float *y, int n, int training)
{
	act_layer_forward(l, x, y, n, ACT_RELU);
}

static void relu_bwd(struct layer *l, const float *x, const float *y,
                     float *dy, float *dx, int n)
{
	act_layer_backward(l, y, dy, dx, n, ACT_RELU);
}

static void sigmoid_fwd(struct layer *l, const float *x, float *y, int n, int training)
{
	act_layer_forward(l, x, y, n, ACT_SIGMOID);
}

static void sigmoid_bwd(struct layer *l, const float *x, const float *y,
                        float *dy, float *dx, int n)
{
	act_layer_backward(l, y, dy, dx, n, ACT_SIGMOID);
}

const struct layer_ops relu_ops = { act_setup, NULL, relu_fwd, relu_bwd, NULL };
const struct layer_ops sigmoid_ops = { act_setup, NULL, sigmoid_fwd, sigmoid_bwd, NULL };
