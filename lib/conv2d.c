/* conv2d.c - 2-D convolution: im2col + GEMM over many images at once
 *
 * Parameters: weights (OC,C,k,k), the PyTorch layout, then bias (OC).
 * Padding "same" follows Keras/TensorFlow: total = max((OH-1)*s + k - H, 0)
 * with OH = ceil(H/s), pad before = total/2, the rest after; "valid" pads
 * nothing and OH = (H-k)/s + 1. The activation is folded in.
 *
 * With activations stored (C,N,H,W), output columns are (n,oh,ow) over the
 * whole batch: y (OC, N*OH*OW) = W (OC, C*k*k) * cols (C*k*k, N*OH*OW). The
 * columns are cut into items (whole images, or bands of output rows of one
 * image when an image is big) so that one item's cols stay near L2-sized;
 * threads take items. Backward adds dW per slot (NN_SLOTS fixed groups of
 * images, each owning its images' dx) and sums the slots in order, so the
 * result does not depend on the number of threads.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gemm.h"
#include "layer.h"
#include "par.h"
#include "rng.h"

/* Floats of cols per item: 512 KiB, half an L2, measured best here. */
#ifndef COLS_BUDGET
#define COLS_BUDGET (128 * 1024)
#endif

static int imax(int a, int b) { return a > b ? a : b; }

/* Items: g whole images each (g >= 1), or (g == 0) bands of r output rows
 * of one image. p = OH*OW columns per image. */
struct items { long p; int ow, oh, g, r, bands, n; long count; };

static void items_make(const struct layer *l, int n, struct items *it)
{
	long ckk = (long)l->ic * l->s.k * l->s.k;
	it->p = (long)l->oh * l->ow;
	it->oh = l->oh, it->ow = l->ow, it->n = n;
	if (ckk * it->p <= COLS_BUDGET) {
		long g = COLS_BUDGET / (ckk * it->p);
		it->g = (int)(g > n ? n : g);
		it->count = (n + it->g - 1) / it->g;
		it->r = it->bands = 0;
	} else {
		long r = COLS_BUDGET / (ckk * l->ow);
		it->g = 0;
		it->r = (int)(r < 1 ? 1 : r > l->oh ? l->oh : r);
		it->bands = (l->oh + it->r - 1) / it->r;
		it->r = (l->oh + it->bands - 1) / it->bands;   /* even bands */
		it->count = (long)n * it->bands;
	}
}

/* Column range [j0,j1) of item i; returns the item's first image. */
static int item_range(const struct items *it, long i, long *j0, long *j1)
{
	if (it->g) {
		long m0 = i * it->g, m1 = m0 + it->g;
		*j0 = m0 * it->p, *j1 = (m1 < it->n ? m1 : it->n) * it->p;
		return (int)m0;
	}
	long m = i / it->bands, r0 = i % it->bands * it->r, r1 = r0 + it->r;
	*j0 = m * it->p + r0 * it->ow;
	*j1 = m * it->p + (r1 < it->oh ? r1 : it->oh) * it->ow;
	return (int)m;
}

/* Output columns [lo,hi) whose input column ow*s + off lies in [0,w). */
static void valid_cols(int ow, int w, int s, int off, int *lo, int *hi)
{
	int a = off >= 0 ? 0 : (-off + s - 1) / s;
	int b = w - 1 - off < 0 ? 0 : (w - 1 - off) / s + 1;
	*lo = a < ow ? a : ow;
	*hi = b < ow ? b : ow;
	if (*hi < *lo)
		*hi = *lo;
}

/* Items are whole output rows: [j0,j1) covers rows oh0 of image m0 up to
 * (not including) row oh1 of image m1 (oh1 = OH when it ends an image). */
struct span { int m0, oh0, m1, oh1; };

static void span_of(const struct layer *l, long j0, long j1, struct span *sp)
{
	long P = (long)l->oh * l->ow;
	sp->m0 = (int)(j0 / P), sp->oh0 = (int)(j0 % P / l->ow);
	sp->m1 = (int)((j1 - 1) / P), sp->oh1 = (int)((j1 - 1) % P / l->ow) + 1;
}

/* Output rows [*va,*vb) within [a,b) whose input row oh*s + di is inside. */
static void valid_rows(int h, int s, int di, int a, int b, int *va, int *vb)
{
	int lo = di >= 0 ? 0 : (-di + s - 1) / s;
	int hi = h - di <= 0 ? 0 : (h - di + s - 1) / s;
	*va = lo > a ? lo : a;
	*vb = hi < b ? hi : b;
	if (*vb < *va)
		*vb = *va;
}

/* Row (ki,kj) of one channel's cols for output rows [a,b) of one image:
 * dst (b-a, OW) gets plane (H,W) shifted by the tap, 0 in the padding.
 * Stride 1 with OW == W is one flat shifted copy whose few wrapped-round
 * values are then zeroed; otherwise row by row. */
static void im2col_plane(const struct layer *l, const float *plane, int ki, int kj,
                         int a, int b, float *dst)
{
	int H = l->ih, W = l->iw, OW = l->ow, s = l->s.stride;
	int di = ki - l->pt, dj = kj - l->pl, lo, hi, va, vb;
	valid_cols(OW, W, s, dj, &lo, &hi);
	valid_rows(H, s, di, a, b, &va, &vb);
	memset(dst, 0, sizeof *dst * (size_t)(va - a) * OW);
	memset(dst + (long)(vb - a) * OW, 0, sizeof *dst * (size_t)(b - vb) * OW);
	if (vb == va)
		return;
	float *d = dst + (long)(va - a) * OW;
	if (s == 1 && OW == W) {
		long f0 = (long)(va + di) * W + dj, f1 = f0 + (long)(vb - va) * W;
		long c0 = f0 < 0 ? 0 : f0, c1 = f1 > (long)H * W ? (long)H * W : f1;
		memcpy(d + (c0 - f0), plane + c0, sizeof *d * (size_t)(c1 - c0));
		for (int oh = va; oh < vb; oh++, d += OW) {
			for (int ow = 0; ow < lo; ow++)
				d[ow] = 0;
			for (int ow = hi; ow < OW; ow++)
				d[ow] = 0;
		}
		return;
	}
	for (int oh = va; oh < vb; oh++, d += OW) {
		const float *row = plane + (long)(oh * s + di) * W;
		#pragma omp simd
		for (int ow = 0; ow < lo; ow++)
			d[ow] = 0;
		#pragma omp simd
		for (int ow = lo; ow < hi; ow++)
			d[ow] = row[ow * s + dj];
		#pragma omp simd
		for (int ow = hi; ow < OW; ow++)
			d[ow] = 0;
	}
}

/* The adjoint of im2col_plane: plane += src put back; src (b-a, OW) is
 * scratch and gets its padding positions zeroed. */
static void col2im_plane(const struct layer *l, float *src, int ki, int kj,
                         int a, int b, float *plane)
{
	int H = l->ih, W = l->iw, OW = l->ow, s = l->s.stride;
	int di = ki - l->pt, dj = kj - l->pl, lo, hi, va, vb;
	valid_cols(OW, W, s, dj, &lo, &hi);
	valid_rows(H, s, di, a, b, &va, &vb);
	if (vb == va)
		return;
	float *d = src + (long)(va - a) * OW;
	if (s == 1 && OW == W) {
		for (int oh = va; oh < vb; oh++, d += OW) {
			for (int ow = 0; ow < lo; ow++)
				d[ow] = 0;
			for (int ow = hi; ow < OW; ow++)
				d[ow] = 0;
		}
		d = src + (long)(va - a) * OW;
		long f0 = (long)(va + di) * W + dj, f1 = f0 + (long)(vb - va) * W;
		long c0 = f0 < 0 ? 0 : f0, c1 = f1 > (long)H * W ? (long)H * W : f1;
		const float *dd = d + (c0 - f0);
		float *pp = plane + c0;
		#pragma omp simd
		for (long i = 0; i < c1 - c0; i++)
			pp[i] += dd[i];
		return;
	}
	for (int oh = va; oh < vb; oh++, d += OW) {
		float *row = plane + (long)(oh * s + di) * W;
		#pragma omp simd
		for (int ow = lo; ow < hi; ow++)
			row[ow * s + dj] += d[ow];
	}
}

/* cols (C*k*k, j1-j0): row (c,ki,kj), column j = (n,oh,ow) of the output,
 * holds x[c, n, oh*s+ki-pt, ow*s+kj-pl], or 0 in the padding.
 * x is (C,N,H,W). */
static void im2col(const struct layer *l, const float *x, int n,
                   long j0, long j1, float *cols)
{
	int C = l->ic, k = l->s.k, OH = l->oh, OW = l->ow;
	long hw = (long)l->ih * l->iw;
	struct span sp;
	span_of(l, j0, j1, &sp);
	float *dst = cols;
	for (int c = 0; c < C; c++)
	for (int ki = 0; ki < k; ki++)
	for (int kj = 0; kj < k; kj++)
		for (int m = sp.m0; m <= sp.m1; m++) {
			int a = m == sp.m0 ? sp.oh0 : 0, b = m == sp.m1 ? sp.oh1 : OH;
			im2col_plane(l, x + ((long)c * n + m) * hw, ki, kj, a, b, dst);
			dst += (long)(b - a) * OW;
		}
}

/* The adjoint of im2col: dx += cols scattered back (padding dropped);
 * cols is scratch. */
static void col2im(const struct layer *l, float *cols, int n,
                   long j0, long j1, float *dx)
{
	int C = l->ic, k = l->s.k, OH = l->oh, OW = l->ow;
	long hw = (long)l->ih * l->iw;
	struct span sp;
	span_of(l, j0, j1, &sp);
	float *src = cols;
	for (int c = 0; c < C; c++)
	for (int ki = 0; ki < k; ki++)
	for (int kj = 0; kj < k; kj++)
		for (int m = sp.m0; m <= sp.m1; m++) {
			int a = m == sp.m0 ? sp.oh0 : 0, b = m == sp.m1 ? sp.oh1 : OH;
			col2im_plane(l, src, ki, kj, a, b, dx + ((long)c * n + m) * hw);
			src += (long)(b - a) * OW;
		}
}

static int conv_setup(struct layer *l, int max_batch, char *err, size_t errlen)
{
	int k = l->s.k, s = l->s.stride;
	if (l->s.valid) {
		if (l->ih < k || l->iw < k) {
			snprintf(err, errlen, "input %dx%d smaller than the %dx%d kernel",
			         l->ih, l->iw, k, k);
			return -1;
		}
		l->oh = (l->ih - k) / s + 1, l->ow = (l->iw - k) / s + 1;
		l->pt = l->pl = 0;
	} else {
		l->oh = (l->ih + s - 1) / s, l->ow = (l->iw + s - 1) / s;
		l->pt = imax((l->oh - 1) * s + k - l->ih, 0) / 2;
		l->pl = imax((l->ow - 1) * s + k - l->iw, 0) / 2;
	}
	l->oc = l->s.units;
	long ckk = (long)l->ic * k * k;
	if (ckk > INT_MAX / 4 || ckk * l->oc > INT_MAX / 4) {
		snprintf(err, errlen, "%ld weights: too many", ckk * l->oc);
		return -1;
	}
	l->np = (size_t)(ckk * l->oc + l->oc);
	l->part_n = l->np;
	if (k == 1 && s == 1) {
		l->cols_n = 0;   /* the input is its own cols */
	} else {
		struct items it;
		items_make(l, max_batch, &it);
		l->cols_n = it.g ? (size_t)(ckk * it.g * it.p)
		                 : (size_t)(ckk * it.r * l->ow);
	}
	return 0;
}

/* Glorot uniform: limit sqrt(6 / (fan_in + fan_out)), fan_in = C*k*k,
 * fan_out = OC*k*k (as Keras); bias 0. */
static void conv_init(struct layer *l, struct rng *r)
{
	long kk = (long)l->s.k * l->s.k, nw = (long)l->oc * l->ic * kk;
	double lim = sqrt(6.0 / (double)((l->ic + l->oc) * kk));
	for (long i = 0; i < nw; i++)
		l->p[i] = (float)((2 * rng_uniform(r) - 1) * lim);
	memset(l->p + nw, 0, sizeof *l->p * (size_t)l->oc);
}

/* One convolution pass over a batch, for the work items. */
struct job {
	struct layer *l;
	const float *x, *y;   /* (C,N,H,W), (OC,N,OH,OW) */
	float *out, *dy, *dx;
	int n, direct;
	long ncols;           /* N*OH*OW */
	struct items it;
};

static void job_make(struct job *jb, struct layer *l, const float *x, int n)
{
	jb->l = l, jb->x = x, jb->n = n;
	jb->direct = l->s.k == 1 && l->s.stride == 1;
	jb->ncols = (long)n * l->oh * l->ow;
	items_make(l, n, &jb->it);
}

static void forward_item(void *ctx, long i, int worker)
{
	struct job *jb = ctx;
	struct layer *l = jb->l;
	int OC = l->oc, ckk = l->ic * l->s.k * l->s.k, act = l->s.act;
	const float *w = l->p /* (OC,C*k*k) */, *bias = l->p + (long)OC * ckk;
	long j0, j1, ncols = jb->ncols;
	item_range(&jb->it, i, &j0, &j1);
	int cw = (int)(j1 - j0);
	const float *b = jb->x + j0;   /* direct: x is (C, ncols) */
	int ldb = (int)ncols;
	if (!jb->direct) {
		float *cols = l->ws->cols[worker];
		im2col(l, jb->x, jb->n, j0, j1, cols);
		b = cols, ldb = cw;
	}
	gemm(0, 0, OC, cw, ckk, 1, w, ckk, b, ldb, 0, jb->out + j0, (int)ncols);
	for (int oc = 0; oc < OC; oc++) {
		float *yy = jb->out + oc * ncols + j0, bb = bias[oc];
		if (act == ACT_RELU)
			#pragma omp simd
			for (int j = 0; j < cw; j++)
				yy[j] = yy[j] + bb > 0 ? yy[j] + bb : 0;
		else
			#pragma omp simd
			for (int j = 0; j < cw; j++)
				yy[j] += bb;
		if (act == ACT_SIGMOID)
			act_sigmoid(yy, cw);
	}
}

static void conv_forward(struct layer *l, const float *x /* (C,N,H,W) */,
                         float *y /* (OC,N,OH,OW) */, int n, int training)
{
	struct job jb;
	job_make(&jb, l, x, n);
	jb.out = y;
	par_for_w(jb.it.count, (double)l->oc * l->ic * l->s.k * l->s.k * jb.ncols,
	          forward_item, &jb);
}

/* Backward for the items of slot sl: dW, db partial sums into the slot's
 * part of the scratch, and dx of the slot's images. */
static void backward_slot(void *ctx, long sl, int worker)
{
	struct job *jb = ctx;
	struct layer *l = jb->l;
	struct nn_ws *ws = l->ws;
	int OC = l->oc, C = l->ic, ckk = C * l->s.k * l->s.k, n = jb->n;
	long ncols = jb->ncols, hw = (long)l->ih * l->iw, p = jb->it.p;
	const float *w = l->p;
	float *dy = jb->dy, *dx = jb->dx;
	float *pw = ws->part + sl * ws->part_n   /* (OC,C*k*k) */;
	float *pb = pw + (long)OC * ckk          /* (OC) */;
	float *cols = ws->cols[worker], *dcols = ws->dcols[worker];
	memset(pw, 0, sizeof *pw * l->np);
	for (long i = 0; i < jb->it.count; i++) {
		long j0, j1;
		int m0 = item_range(&jb->it, i, &j0, &j1);
		if ((long)m0 * NN_SLOTS / n != sl)
			continue;
		int cw = (int)(j1 - j0);
		for (int oc = 0; oc < OC; oc++)
			pb[oc] += (float)act_grad_sum(dy + oc * ncols + j0,
			                              jb->y + oc * ncols + j0, cw,
			                              l->fused ? ACT_NONE : l->s.act);
		const float *b = jb->x + j0;
		int ldb = (int)ncols;
		if (!jb->direct) {
			im2col(l, jb->x, n, j0, j1, cols);
			b = cols, ldb = cw;
		}
		gemm(0, 1, OC, ckk, cw, 1, dy + j0, (int)ncols, b, ldb, 1, pw, ckk);
		if (!l->need_dx)
			continue;
		if (jb->direct) {
			gemm(1, 0, C, cw, OC, 1, w, ckk, dy + j0, (int)ncols,
			     0, dx + j0, (int)ncols);
			continue;
		}
		/* zero the images that start in this item: every later item
		 * touching them is in this slot, after this one */
		for (long m = (j0 + p - 1) / p; m < (j1 + p - 1) / p; m++)
			for (int c = 0; c < C; c++)
				memset(dx + (c * n + m) * hw, 0, sizeof *dx * (size_t)hw);
		gemm(1, 0, ckk, cw, OC, 1, w, ckk, dy + j0, (int)ncols, 0, dcols, cw);
		col2im(l, dcols, n, j0, j1, dx);
	}
}

/* g = the slot partial sums added in slot order. */
static void sum_slots(void *ctx, long lo, long hi, int worker)
{
	struct layer *l = ctx;
	const float *part = l->ws->part;
	size_t stride = l->ws->part_n;
	for (long i = lo; i < hi; i++) {
		float s = 0;
		for (int sl = 0; sl < NN_SLOTS; sl++)
			s += part[sl * stride + (size_t)i];
		l->g[i] = s;
	}
}

static void conv_backward(struct layer *l, const float *x, const float *y,
                          float *dy /* (OC,N,OH,OW) */, float *dx /* (C,N,H,W) */,
                          int n)
{
	struct job jb;
	job_make(&jb, l, x, n);
	jb.y = y, jb.dy = dy, jb.dx = dx;
	par_for_w(NN_SLOTS, (double)l->oc * l->ic * l->s.k * l->s.k * jb.ncols,
	          backward_slot, &jb);
	par_range((long)l->np, 65536, sum_slots, l);
}

const struct layer_ops conv2d_ops = { conv_setup, conv_init, conv_forward, conv_backward };

static float act_ref(double v, int act)
{
	if (act == ACT_RELU)
		return v > 0 ? (float)v : 0;
	if (act == ACT_SIGMOID)
		return (float)(1 / (1 + exp(-v)));
	return (float)v;
}

void conv2d_forward_ref(const struct layer *l, const float *x /* (N,C,H,W) */,
                        float *y /* (N,OC,OH,OW) */, int n)
{
	int C = l->ic, H = l->ih, W = l->iw, k = l->s.k, s = l->s.stride;
	int OC = l->oc, OH = l->oh, OW = l->ow;
	const float *w = l->p, *bias = l->p + (long)OC * C * k * k;
	for (int m = 0; m < n; m++)
	for (int oc = 0; oc < OC; oc++)
	for (int oh = 0; oh < OH; oh++)
	for (int ow = 0; ow < OW; ow++) {
		double sum = bias[oc];
		for (int c = 0; c < C; c++)
		for (int ki = 0; ki < k; ki++)
		for (int kj = 0; kj < k; kj++) {
			int ih = oh * s + ki - l->pt, iw = ow * s + kj - l->pl;
			if (ih < 0 || ih >= H || iw < 0 || iw >= W)
				continue;
			sum += (double)w[((oc * C + c) * k + ki) * k + kj] *
			       x[(((long)m * C + c) * H + ih) * W + iw];
		}
		y[(((long)m * OC + oc) * OH + oh) * OW + ow] = act_ref(sum, l->s.act);
	}
}

void conv2d_backward_ref(const struct layer *l, const float *x, const float *y,
                         const float *dy, float *dx, float *dw, float *db, int n)
{
	int C = l->ic, H = l->ih, W = l->iw, k = l->s.k, s = l->s.stride;
	int OC = l->oc, OH = l->oh, OW = l->ow;
	const float *w = l->p;
	memset(dw, 0, sizeof *dw * (size_t)OC * C * k * k);
	memset(db, 0, sizeof *db * (size_t)OC);
	if (dx)
		memset(dx, 0, sizeof *dx * (size_t)n * C * H * W);
	for (int m = 0; m < n; m++)
	for (int oc = 0; oc < OC; oc++)
	for (int oh = 0; oh < OH; oh++)
	for (int ow = 0; ow < OW; ow++) {
		long o = (((long)m * OC + oc) * OH + oh) * OW + ow;
		float dz = dy[o], yv = y[o];
		if (l->s.act == ACT_RELU)
			dz = yv > 0 ? dz : 0;
		else if (l->s.act == ACT_SIGMOID)
			dz *= yv * (1 - yv);
		db[oc] += dz;
		for (int c = 0; c < C; c++)
		for (int ki = 0; ki < k; ki++)
		for (int kj = 0; kj < k; kj++) {
			int ih = oh * s + ki - l->pt, iw = ow * s + kj - l->pl;
			if (ih < 0 || ih >= H || iw < 0 || iw >= W)
				continue;
			long xi = (((long)m * C + c) * H + ih) * W + iw;
			long wi = ((oc * C + c) * k + ki) * k + kj;
			dw[wi] += dz * x[xi];
			if (dx)
				dx[xi] += dz * w[wi];
		}
	}
}
