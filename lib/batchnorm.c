/* batchnorm.c - batch normalisation over channels (Keras semantics)
 *
 * Parameters gamma (C), beta (C); state running mean (C), variance (C).
 * Training normalises with the batch mean and biased variance and moves
 * the running statistics: r = 0.99 r + 0.01 batch (Keras momentum 0.99,
 * Keras also uses the biased variance there). Inference uses the running
 * statistics. Epsilon 1e-3 (Keras). With activations (C,N,H,W), each
 * channel is one contiguous run of N*H*W values. bn_relu_ops, after a
 * relu conv (conv.h), also applies that relu's derivative to dx, in the
 * pass that writes it. Inference may instead fold a bn into the conv
 * before it (conv.h), with the scale and shift of bn_affine().
 */
#include <math.h>

#include "conv.h"
#include "layer.h"
#include "par.h"

#define BN_EPS 1e-3
#define BN_MOMENTUM 0.99

/* Sums in float blocks of 16 lanes that vectorise, blocks added in
 * double: fast, and accurate enough for a million values. */
#define BLOCK 4096

/* One pass over n values: *s1 = sum of a[i] - k and *s2 = sum of
 * (a[i] - k)^2, or with b, *s1 = sum of a[i] and *s2 = sum of
 * a[i] * (b[i] - k). */
static void sums2(const float *a, const float *b, float k, long n, double *s1, double *s2)
{
	double t1 = 0, t2 = 0;
	for (long i0 = 0; i0 < n; i0 += BLOCK) {
		long len = n - i0 < BLOCK ? n - i0 : BLOCK, i = 0;
		const float *p = a + i0, *q = b ? b + i0 : NULL;
		float u[16] = { 0 }, v[16] = { 0 };
		if (q) {
			for (; i + 16 <= len; i += 16)
				#pragma omp simd
				for (int j = 0; j < 16; j++) {
					u[j] += p[i + j];
					v[j] += p[i + j] * (q[i + j] - k);
				}
		} else {
			for (; i + 16 <= len; i += 16)
				#pragma omp simd
				for (int j = 0; j < 16; j++) {
					float d = p[i + j] - k;
					u[j] += d;
					v[j] += d * d;
				}
		}
		double b1 = 0, b2 = 0;
		for (; i < len; i++) {
			float d = q ? p[i] : p[i] - k, e = q ? p[i] * (q[i] - k) : d * d;
			b1 += d, b2 += e;
		}
		for (int j = 0; j < 16; j++)
			b1 += u[j], b2 += v[j];
		t1 += b1, t2 += b2;
	}
	*s1 = t1, *s2 = t2;
}

static int bn_setup(struct layer *l, int max_batch, char *err, size_t errlen)
{
	l->oc = l->ic, l->oh = l->ih, l->ow = l->iw;
	l->np = 2 * (size_t)l->ic;
	l->ns = 2 * (size_t)l->ic;
	l->save_n = 2 * (size_t)l->ic;
	return 0;
}

static void bn_init(struct layer *l, struct rng *r)
{
	int C = l->ic;
	for (int c = 0; c < C; c++) {
		l->p[c] = 1, l->p[C + c] = 0;       /* gamma, beta */
		l->st[c] = 0, l->st[C + c] = 1;     /* running mean, variance */
	}
}

/* Channel c normalised with mean mu and variance var, then gamma and
 * beta: y = x * scale + shift. Returns 1/std. */
static float affine(const struct layer *l, int c, float mu, float var, float *scale,
                    float *shift)
{
	float is = (float)(1 / sqrt((double)var + BN_EPS));
	*scale = l->p[c] * is;
	*shift = l->p[l->ic + c] - mu * *scale;
	return is;
}

void bn_affine(const struct layer *l, float *scale, float *shift)
{
	const float *rmean = l->st, *rvar = l->st + l->ic;   /* (C), (C) */
	for (int c = 0; c < l->ic; c++)
		affine(l, c, rmean[c], rvar[c], &scale[c], &shift[c]);
}

struct job { struct layer *l; const float *x, *dy; float *y, *dx; long len; int training; };

static void forward_channel(void *ctx, long c, int worker)
{
	struct job *jb = ctx;
	struct layer *l = jb->l;
	int C = l->ic;
	long len = jb->len;
	float *mean = l->save, *invstd = l->save + C;    /* (C), (C) */
	float *rmean = l->st, *rvar = l->st + C;         /* (C), (C) */
	const float *xc = jb->x + c * len;
	float *yc = jb->y + c * len;
	float mu, var;
	if (jb->training) {
		/* two passes (the second from the cache: a channel is one
		 * run): no cancellation when |mean| >> std */
		double s1, s2;
		mu = (float)(vsum(xc, len) / (double)len);
		sums2(xc, NULL, mu, len, &s1, &s2);
		var = (float)(s2 / (double)len);
		rmean[c] = (float)(BN_MOMENTUM * rmean[c] + (1 - BN_MOMENTUM) * mu);
		rvar[c] = (float)(BN_MOMENTUM * rvar[c] + (1 - BN_MOMENTUM) * var);
	} else {
		mu = rmean[c], var = rvar[c];
	}
	float scale, shift, is = affine(l, c, mu, var, &scale, &shift);
	if (!l->frozen)
		mean[c] = mu, invstd[c] = is;
	#pragma omp simd
	for (long i = 0; i < len; i++)
		yc[i] = xc[i] * scale + shift;
}

static void bn_forward(struct layer *l, const float *x /* (C,N,H,W) */,
                       float *y /* (C,N,H,W) */, int n, int training)
{
	struct job jb = { l, x, NULL, y, NULL, (long)n * l->ih * l->iw, training };
	if (!l->frozen)
		l->trained = training;
	par_for_w(l->ic, 4.0 * l->ic * jb.len, forward_channel, &jb);
}

static void backward_channel(void *ctx, long c, int worker)
{
	struct job *jb = ctx;
	struct layer *l = jb->l;
	int C = l->ic;
	long len = jb->len;
	const float *mean = l->save, *invstd = l->save + C;
	const float *xc = jb->x + c * len, *dyc = jb->dy + c * len;
	float mu = mean[c], is = invstd[c], gamma = l->p[c];
	double sdy, sdyx;
	sums2(dyc, xc, mu, len, &sdy, &sdyx);
	sdyx *= is;   /* sum dy*xhat */
	l->g[c] = (float)sdyx;
	l->g[C + c] = (float)sdy;
	if (!l->need_dx)
		return;
	float *dxc = jb->dx + c * len;
	float scale = gamma * is, mdy = 0, k = 0;
	if (l->trained) {
		/* else the statistics were constants */
		mdy = (float)(sdy / (double)len);
		k = (float)(sdyx / (double)len) * is;
	}
	/* dx = gamma/std (dy - mean(dy) - xhat mean(dy xhat)) */
	if (l->ops == &bn_relu_ops) {
		/* and through the relu of the conv before, whose output x is */
		#pragma omp simd
		for (long i = 0; i < len; i++)
			dxc[i] = xc[i] > 0 ? scale * (dyc[i] - mdy - (xc[i] - mu) * k) : 0;
	} else {
		#pragma omp simd
		for (long i = 0; i < len; i++)
			dxc[i] = scale * (dyc[i] - mdy - (xc[i] - mu) * k);
	}
}

static void bn_backward(struct layer *l, const float *x, const float *y,
                        float *dy /* (C,N,H,W) */, float *dx /* (C,N,H,W) */, int n)
{
	struct job jb = { l, x, dy, NULL, dx, (long)n * l->ih * l->iw, 0 };
	par_for_w(l->ic, 4.0 * l->ic * jb.len, backward_channel, &jb);
}

const struct layer_ops bn_ops = { bn_setup, bn_init, bn_forward, bn_backward, NULL };
const struct layer_ops bn_relu_ops = { bn_setup, bn_init, bn_forward, bn_backward, NULL };
