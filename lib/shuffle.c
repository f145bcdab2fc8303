/* shuffle.c - space-to-depth and depth-to-space by 2 (pixel unshuffle and
 * pixel shuffle)
 *
 * s2d turns (C,H,W) into (4C,H/2,W/2): output channel 4c + 2i + j holds the
 * samples (2h+i, 2w+j) of channel c, PyTorch's PixelUnshuffle(2) order;
 * d2s is its inverse. Nothing is lost, so a network can work at half the
 * resolution on four times the channels (FFDNet) and come back. Each is
 * the other's backward.
 */
#include <limits.h>
#include <stdio.h>

#include "layer.h"
#include "par.h"

/* Copies between full-resolution planes (C,N,2h,2w) and their four
 * half-resolution planes (4C+k,N,h,w), from src to dst. */
struct job { const float *src; float *dst; int n, h, w, to_half; };

/* Full planes per work item: some 64K values. */
static long grain(int h, int w)
{
	long g = 65536 / (4L * h * w);
	return g < 1 ? 1 : g;
}

static void planes(void *ctx, long lo, long hi, int worker)
{
	struct job *jb = ctx;
	int h = jb->h, w = jb->w, n = jb->n;
	long hw = (long)h * w;
	for (long p = lo; p < hi; p++) {
		long c = p / n, m = p % n, full = p * 4 * hw;
		for (int k = 0; k < 4; k++) {
			long half = ((4 * c + k) * n + m) * hw;
			for (int r = 0; r < h; r++) {
				long f = full + (long)(2 * r + (k >> 1)) * 2 * w + (k & 1);
				long s = half + (long)r * w;
				if (jb->to_half)
					for (int q = 0; q < w; q++)
						jb->dst[s + q] = jb->src[f + 2 * q];
				else
					for (int q = 0; q < w; q++)
						jb->dst[f + 2 * q] = jb->src[s + q];
			}
		}
	}
}

/* src (C,N,2h,2w) -> dst (4C,N,h,w) if to_half, else the way back. */
static void shuffle(const float *src, float *dst, int c, int n, int h, int w, int to_half)
{
	struct job jb = { src, dst, n, h, w, to_half };
	par_range((long)c * n, grain(h, w), planes, &jb);
}

static int s2d_setup(struct layer *l, int max_batch, char *err, size_t errlen)
{
	if (l->ih % 2 || l->iw % 2) {
		snprintf(err, errlen, "input %dx%d: height and width must be even", l->ih, l->iw);
		return -1;
	}
	if (l->ic > INT_MAX / 4) {
		snprintf(err, errlen, "too many channels");
		return -1;
	}
	l->oc = 4 * l->ic, l->oh = l->ih / 2, l->ow = l->iw / 2;
	return 0;
}

static void s2d_forward(struct layer *l, const float *x /* (C,N,H,W) */,
                        float *y /* (4C,N,H/2,W/2) */, int n, int training)
{
	shuffle(x, y, l->ic, n, l->oh, l->ow, 1);
}

static void s2d_backward(struct layer *l, const float *x, const float *y,
                         float *dy, float *dx, int n)
{
	if (l->need_dx)
		shuffle(dy, dx, l->ic, n, l->oh, l->ow, 0);
}

static int d2s_setup(struct layer *l, int max_batch, char *err, size_t errlen)
{
	if (l->ic % 4) {
		snprintf(err, errlen, "input has %d channels, not a multiple of 4", l->ic);
		return -1;
	}
	if (l->ih > 32768 || l->iw > 32768) {
		snprintf(err, errlen, "input %dx%d too large", l->ih, l->iw);
		return -1;
	}
	l->oc = l->ic / 4, l->oh = 2 * l->ih, l->ow = 2 * l->iw;
	return 0;
}

static void d2s_forward(struct layer *l, const float *x /* (4C,N,H,W) */,
                        float *y /* (C,N,2H,2W) */, int n, int training)
{
	shuffle(x, y, l->oc, n, l->ih, l->iw, 0);
}

static void d2s_backward(struct layer *l, const float *x, const float *y,
                         float *dy, float *dx, int n)
{
	if (l->need_dx)
		shuffle(dy, dx, l->oc, n, l->ih, l->iw, 1);
}

const struct layer_ops s2d_ops = { s2d_setup, NULL, s2d_forward, s2d_backward, NULL };
const struct layer_ops d2s_ops = { d2s_setup, NULL, d2s_forward, d2s_backward, NULL };
