/* conv2d.c - 2-D convolution over many images at once
 *
 * Parameters: weights (OC,C,k,k), the PyTorch layout, then bias (OC).
 * Padding "same" follows Keras/TensorFlow: total = max((OH-1)*s + k - H, 0)
 * with OH = ceil(H/s), pad before = total/2, the rest after; "valid" pads
 * nothing and OH = (H-k)/s + 1. The activation is folded in.
 *
 * Activations are stored (C,N,H,W). Each pass is a phase plan (im2col.h):
 * forward y from x, and the input gradient as a convolution of dy with
 * rearranged weights (written once per pixel: no col2im, no zeroing). A
 * stride 2 reads the input by its four phases. conv2d_up_ops is the same
 * layer right after a nearest x2 upsampling (whose variant up_small_ops
 * passes on the small image itself): it computes each output phase from
 * the small image with kernels of summed taps, 4/9 of the work for a 3x3
 * kernel, and its input gradient is the small image's. The _bnr variants
 * are followed by a bn that applies their relu's derivative to dy. In
 * inference, any conv whose l->bn is set applies that bn to its output
 * (conv.h).
 *
 * A plan runs on the direct kernels (dconv.h) when they are built and the
 * images are small enough to pack, else as im2col + GEMM (gemm.h) on
 * items: whole images, or bands of rows of a big image, so that one item's
 * cols stay near L2-sized. Threads take items. Backward adds dW per slot
 * (NN_SLOTS fixed groups of images, each owning its images' dx) and sums
 * the slots in order, so results do not depend on the number of threads.
 * CAE_CONV_GEMM=1 in the environment keeps every plan on im2col + GEMM.
 *
 * Inference passes run stride-1 3x3 'same' convs of at least
 * WINO_MIN_CIN input channels with Winograd F(2x2,3x3), and those after
 * an upsampling with enough channels (WINO_UP_MIN_*) as four F(2x2,2x2),
 * one per output phase, and stride-2 3x3 convs with no padding before
 * as F(2x2,2x2) on their input's even samples (ws2), image by image;
 * stride-1 ones on planes 16 or 32 wide take F(4x4,3x3) (w4_ok), and
 * up + convs from such small images F(4x4,2x2) per phase (wu4)
 * (winograd.h), in a network that has trained as in one that has not,
 * so that both give the same bits;
 * CAE_NO_WINOGRAD=1 keeps them direct. Training passes never use it.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv.h"
#include "dconv.h"
#include "gemm.h"
#include "im2col.h"
#include "layer.h"
#include "par.h"
#include "rng.h"
#include "winograd.h"

/* Floats of cols per GEMM item: 512 KiB, half an L2, measured best here. */
#ifndef COLS_BUDGET
#define COLS_BUDGET (128 * 1024)
#endif
/* Floats of packed source images per direct item. */
#ifndef PACK_BUDGET
#define PACK_BUDGET (96 * 1024)
#endif

static int imax(int a, int b) { return a > b ? a : b; }
static size_t zmax(size_t a, size_t b) { return a > b ? a : b; }

/* The variants (conv.h): after an upsampling; before a bn that applies
 * the relu's derivative itself. */
static int is_up(const struct layer *l)
{
	return l->ops == &conv2d_up_ops || l->ops == &conv2d_up_bnr_ops;
}

static int masked(const struct layer *l)
{
	return l->ops == &conv2d_bnr_ops || l->ops == &conv2d_up_bnr_ops;
}

static void make_plan(const struct layer *l, struct cplan *p, int dx)
{
	int up = is_up(l);
	/* after an upsampling, the input is the small image */
	plan_make(p, dx ? (up ? PLAN_UP_DX : PLAN_DX) : (up ? PLAN_UP_FWD : PLAN_FWD),
	          l->s.k, l->s.stride, l->pt, l->pl, l->ic, l->ih >> up, l->iw >> up,
	          l->oc, l->oh, l->ow);
}

static int direct_mode = -1;   /* -1: not yet read from the environment */
static unsigned mode_changes;

void conv2d_set_direct(int on)
{
	direct_mode = on;
	mode_changes++;
}

static int wino_mode = -1;

void conv2d_set_winograd(int on)
{
	wino_mode = on;
	mode_changes++;
}

unsigned conv2d_modes(void)
{
	return mode_changes;
}

/* Fewer input channels than this stay on the direct kernels: there the
 * output transform costs about what the products save (measured with 32
 * outputs on 32x32 images: 3 channels 20% slower, 8 channels 5% faster,
 * 16 channels 20% faster). */
#define WINO_MIN_CIN 8
/* The fused up + conv (wup_run) has four phases of transforms to pay
 * for: it stays direct below these (measured at inference, one thread,
 * 16x16 small images, direct time / Winograd time of the layer: 8->8
 * 0.48, 8->32 0.84, 16->32 1.03, 32->8 1.02, 32->16 1.09, 24->32 1.21,
 * 32->32 1.15, 64->64 1.36). */
#define WINO_UP_MIN_CIN 24
#define WINO_UP_MIN_COUT 16
/* They transform a whole image at a time: larger images (16 MiB of
 * scratch per thread, some 128x128 at 32 channels) stay direct. */
#define WINO_MAX_SCRATCH (4 << 20)

/* A stride-2 conv runs on ws2 (winograd.h) from this many input
 * channels on (measured as above, 32x32 input, 32 outputs: 8 channels
 * 1.00, 16 1.17, 32 1.43, 64 1.34). */
#define WINO_S2_MIN_CIN 8

static int is_w4(const struct layer *l);

/* An up + conv on F(4x4,2x2) per phase. */
static int is_wu4(const struct layer *l)
{
	return is_up(l) && w4_ok(l->ih / 2, l->iw / 2);
}

/* Floats of its transformed weights and of its scratch per thread. */
static size_t wino_wn(const struct layer *l)
{
	return is_wu4(l) ? wu4_wfloats(l->ic, l->oc) :
	       is_up(l) ? wup_wfloats(l->ic, l->oc) :
	       l->s.stride == 2 ? ws2_wfloats(l->ic, l->oc) :
	       is_w4(l) ? w4_wfloats(l->ic, l->oc) : wino_wfloats(l->ic, l->oc);
}

static size_t wino_sn(const struct layer *l)
{
	return is_wu4(l) ? wu4_scratch(l->ic, l->ih / 2, l->iw / 2) :
	       is_up(l) ? wup_scratch(l->ic, l->ih / 2, l->iw / 2) :
	       l->s.stride == 2 ? ws2_scratch(l->ic, l->oh, l->ow) :
	       is_w4(l) ? w4_scratch(l->ic, l->ih, l->iw) : wino_scratch(l->ic, l->ih, l->iw);
}

/* Whether layer l runs on the Winograd kernels in inference, whatever the
 * mode. */
static int wino_fits(const struct layer *l)
{
	if (l->s.stride == 2)
		return l->ic >= WINO_S2_MIN_CIN && !is_up(l) &&
		       ws2_ok(l->s.k, 2, l->pt, l->pl, l->oh, l->ow) &&
		       ws2_scratch(l->ic, l->oh, l->ow) <= WINO_MAX_SCRATCH;
	if (l->ic < WINO_MIN_CIN ||
	    !wino_ok(l->s.k, l->s.stride, l->pt, l->pl, l->ih, l->iw, l->oh, l->ow))
		return 0;
	if (is_up(l))
		return l->ic >= WINO_UP_MIN_CIN && l->oc >= WINO_UP_MIN_COUT &&
		       wino_sn(l) <= WINO_MAX_SCRATCH;
	return wino_sn(l) <= WINO_MAX_SCRATCH;
}

/* A stride-1 one (wino_fits) on F(4x4,3x3). */
static int is_w4(const struct layer *l)
{
	return !is_up(l) && l->s.stride == 1 && w4_ok(l->ih, l->iw);
}

/* The modes from the environment, unless set: called as layers are set
 * up, before any parallel pass reads them. */
static void read_modes(void)
{
	if (wino_mode < 0) {
		const char *e = getenv("CAE_NO_WINOGRAD");
		wino_mode = !(e && *e && *e != '0');
	}
	if (direct_mode < 0) {
		const char *e = getenv("CAE_CONV_GEMM");
		direct_mode = !(e && *e && *e != '0');
	}
}

/* Whether this inference pass of l runs on them. */
static int use_wino(const struct layer *l)
{
	if (wino_mode < 0)
		read_modes();
	return wino_mode && wino_fits(l);
}

/* Whether plan p runs on the direct kernels. */
static int use_direct(const struct cplan *p)
{
	if (direct_mode < 0)
		read_modes();
	return direct_mode && dconv_ok(p, PACK_BUDGET);
}

/* Items of the direct kernels: whole images, as many as fit the budget. */
static void direct_items(const struct cplan *p, int n, struct items *it)
{
	struct dgeom gm;
	dconv_geom(p, &gm);
	long per = gm.direct ? (long)p->rows * p->cols * p->cout : gm.image + 64;
	long g = PACK_BUDGET / (per > 0 ? per : 1);
	it->g = (int)(g < 1 ? 1 : g > n ? n : g);
	it->n = n, it->r = it->bands = 0;
	it->count = (n + it->g - 1) / it->g;
}

static void plan_items(const struct cplan *p, int n, struct items *it)
{
	if (use_direct(p))
		direct_items(p, n, it);
	else
		items_make(p, n, COLS_BUDGET, it);
}

/* Scratch floats for plan p's items over up to n images: cols (or packed
 * sources), and blocks of one destination phase; enough for either path,
 * so that conv2d_set_direct() may switch at any time. */
static void plan_scratch(const struct cplan *p, int n, size_t *cols, size_t *blk)
{
	struct items it;
	*cols = *blk = 0;
	if (dconv_ok(p, PACK_BUDGET)) {
		struct dgeom gm;
		direct_items(p, n, &it);
		dconv_geom(p, &gm);
		if (!gm.direct)
			*cols = (size_t)(gm.image * it.g + 64);
		if (p->nph > 1 || p->dstep > 1)
			*blk = items_out_floats(&it, p);
	}
	items_make(p, n, COLS_BUDGET, &it);
	if (!p->direct)
		*cols = zmax(*cols, items_cols_floats(&it, p));
	if (p->nph > 1 || p->dstep > 1)
		*blk = zmax(*blk, items_out_floats(&it, p));
}

/* Floats of dW partial sums: the forward plan's weights, then the bias. */
static size_t wgrad_floats(const struct layer *l, const struct cplan *pf)
{
	return pf->rearranged ? (size_t)pf->wn : l->np - (size_t)l->oc;
}

/* Layout of l->save: rearranged weights of the forward and input-gradient
 * plans, their packed forms for the direct kernels, the scale and shift
 * (2,OC) of a bn folded into inference, then the Winograd weights. */
struct wlayout { size_t fa, da, fp, dp, bn, wu, total; };

static void wlayout(const struct layer *l, const struct cplan *pf, const struct cplan *pd,
                    struct wlayout *w)
{
	w->fa = 0;
	w->da = (size_t)pf->wn;
	w->fp = w->da + (size_t)pd->wn;
	w->dp = w->fp + (dconv_ok(pf, PACK_BUDGET) ? dconv_wfloats(pf) : 0);
	w->bn = w->dp + (dconv_ok(pd, PACK_BUDGET) ? dconv_wfloats(pd) : 0);
	w->wu = w->bn + 2 * (size_t)pf->cout;
	w->total = w->wu + (wino_fits(l) ? wino_wn(l) : 0);
}

static int conv_setup(struct layer *l, int max_batch, char *err, size_t errlen)
{
	read_modes();
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
	if (k > PLAN_MAX_K || s < 1 || s > 2) {
		snprintf(err, errlen, "kernel %d stride %d: not supported", k, s);
		return -1;
	}
	if (ckk > INT_MAX / 4 || ckk * l->oc > INT_MAX / 4) {
		snprintf(err, errlen, "%ld weights: too many", ckk * l->oc);
		return -1;
	}
	if (is_up(l) && (s != 1 || l->ih % 2 || l->iw % 2)) {
		snprintf(err, errlen, "no upsampled input for a stride-%d conv", s);
		return -1;
	}
	l->np = (size_t)(ckk * l->oc + l->oc);
	struct cplan *pf = malloc(2 * sizeof *pf), *pd = pf + 1;
	if (!pf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	make_plan(l, pf, 0);
	make_plan(l, pd, 1);
	size_t fc, fb, dc, db;
	/* the backward pass runs the forward plan's items per slot: fewer
	 * images, never more scratch */
	plan_scratch(pf, max_batch, &fc, &fb);
	plan_scratch(pd, max_batch, &dc, &db);
	l->cols_n = zmax(zmax(fc, dc), zmax(fb, db));
	if (wino_fits(l))
		l->cols_n = zmax(l->cols_n, wino_sn(l));
	l->part_n = wgrad_floats(l, pf) + (size_t)l->oc;
	struct wlayout wl;
	wlayout(l, pf, pd, &wl);
	l->save_n = wl.total;
	free(pf);
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

/* One convolution pass over a batch. */
struct job {
	struct layer *l;
	const float *x, *y;   /* (C,N,H,W), (OC,N,OH,OW) */
	float *out, *dy, *dx;
	int n;
	struct cplan pf, pd;  /* forward, input gradient */
	int df, dd;           /* they run on the direct kernels */
	struct dgeom gf, gd;
	const float *af, *ad; /* their weights A_q, or packed */
	struct items it;      /* forward items */
	struct depi ep;       /* forward: bias, activation, folded bn */
	struct wlayout wl;    /* where l->save keeps what */
};

/* Prepares the plans, and if write, their weights in l->save (else they
 * are there already: the layer is frozen, or runs on Winograd). */
static void job_make(struct job *jb, struct layer *l, int n, int dx, int write)
{
	jb->l = l, jb->n = n;
	make_plan(l, &jb->pf, 0);
	make_plan(l, &jb->pd, 1);
	jb->df = use_direct(&jb->pf);
	jb->dd = use_direct(&jb->pd);
	dconv_geom(&jb->pf, &jb->gf);
	dconv_geom(&jb->pd, &jb->gd);
	struct wlayout *wl = &jb->wl;
	wlayout(l, &jb->pf, &jb->pd, wl);
	const struct cplan *p = dx ? &jb->pd : &jb->pf;
	float *a = l->save + (dx ? wl->da : wl->fa);
	if (p->rearranged && write)
		plan_weights(p, l->p, a);
	const float *ar = p->rearranged ? a : l->p;
	if (dx ? jb->dd : jb->df) {
		float *wp = l->save + (dx ? wl->dp : wl->fp);
		if (write)
			dconv_weights(p, ar, wp);
		ar = wp;
	}
	*(dx ? &jb->ad : &jb->af) = ar;
}

/* y columns [j0, j1) of OC channels += bias, then the activation and a
 * folded bn, as ep says. */
static void epilogue(const struct depi *ep, int OC, float *y, long ldy, long j0, long j1)
{
	for (int oc = 0; oc < OC; oc++)
		dconv_epilogue(ep, oc, y + oc * ldy + j0, j1 - j0);
}

/* dst (cout, n, dh, dw) for one GEMM item of plan p from src (cin, n, sh,
 * sw): every phase's product, into dst directly or through blk. */
static void plan_run(const struct cplan *p, const float *a, const float *src,
                     float *dst, int n, int m0, int m1, int r0, int r1,
                     float *cols, float *blk)
{
	long sn = (long)n * p->sh * p->sw, dn = (long)n * p->dh * p->dw;
	for (int q = 0; q < p->nph; q++) {
		const struct cphase *ph = &p->ph[q];
		long nc = plan_phase_cols(p, q, m0, m1, r0, r1);
		if (nc == 0)
			continue;
		if (ph->ng == 0) {
			plan_scatter(p, q, NULL, p->cout, dst, n, m0, m1, r0, r1);
			continue;
		}
		int kq = p->cin * ph->ng;
		const float *b = src + (long)m0 * p->sh * p->sw + (long)r0 * p->sw;
		long ldb = sn;
		if (!p->direct) {
			plan_im2col(p, q, src, n, m0, m1, r0, r1, cols);
			b = cols, ldb = nc;
		}
		const float *aq = p->rearranged ? a + ph->woff : a;
		if (p->nph == 1 && p->dstep == 1) {
			long j0 = (long)m0 * p->dh * p->dw + (long)r0 * p->dw;
			gemm(0, 0, p->cout, (int)nc, kq, 1, aq, kq, b, (int)ldb, 0, dst + j0, (int)dn);
		} else {
			gemm(0, 0, p->cout, (int)nc, kq, 1, aq, kq, b, (int)ldb, 0, blk, (int)nc);
			plan_scatter(p, q, blk, p->cout, dst, n, m0, m1, r0, r1);
		}
	}
}

/* The same on the direct kernels, with what ep says after the sums. */
static void direct_run(const struct cplan *p, const struct dgeom *gm, const float *wp,
                       const float *src, float *dst, int n, int m0, int m1,
                       float *buf, const struct depi *ep)
{
	dconv_pack(p, gm, src, n, m0, m1, buf);
	for (int q = 0; q < p->nph; q++)
		dconv_run(p, gm, q, wp, gm->direct ? src : buf, n, m0, m1, dst, ep);
}

static void forward_item(void *ctx, long i, int worker)
{
	struct job *jb = ctx;
	struct layer *l = jb->l;
	const struct cplan *p = &jb->pf;
	int m0, m1, r0, r1;
	long j0, j1;
	item_span(&jb->it, p, i, &m0, &m1, &r0, &r1);
	if (jb->df) {
		direct_run(p, &jb->gf, jb->af, jb->x, jb->out, jb->n, m0, m1, l->ws->cols[worker],
		           &jb->ep);
		return;
	}
	plan_run(p, jb->af, jb->x, jb->out, jb->n, m0, m1, r0, r1,
	         l->ws->cols[worker], l->ws->dcols[worker]);
	plan_dst_range(p, m0, m1, r0, r1, &j0, &j1);
	epilogue(&jb->ep, l->oc, jb->out, (long)jb->n * l->oh * l->ow, j0, j1);
}

/* Image i on the Winograd kernels: jb->af holds their weights. */
static void wino_item(void *ctx, long i, int worker)
{
	struct job *jb = ctx;
	struct layer *l = jb->l;
	if (is_wu4(l))
		wu4_run(jb->af, jb->x, l->ic, l->oc, jb->n, l->ih / 2, l->iw / 2, (int)i, jb->out,
		        &jb->ep, l->ws->cols[worker]);
	else if (is_up(l))
		wup_run(jb->af, jb->x, l->ic, l->oc, jb->n, l->ih / 2, l->iw / 2, (int)i, jb->out,
		        &jb->ep, l->ws->cols[worker]);
	else if (l->s.stride == 2)
		ws2_run(jb->af, jb->x, l->ic, l->oc, jb->n, l->ih, l->iw, l->oh, l->ow, (int)i,
		        jb->out, &jb->ep, l->ws->cols[worker]);
	else if (is_w4(l))
		w4_run(jb->af, jb->x, l->ic, l->oc, jb->n, l->ih, l->iw, (int)i, jb->out, &jb->ep,
		       l->ws->cols[worker]);
	else
		wino_run(jb->af, jb->x, l->ic, l->oc, jb->n, l->ih, l->iw, (int)i, jb->out,
		         &jb->ep, l->ws->cols[worker]);
}

static double tiles_of(const struct layer *l)
{
	return (double)((l->oh + 1) / 2) * ((l->ow + 1) / 2);
}

/* The forward epilogue in jb->ep: bias and activation, and in inference
 * the bn after this conv (which the network then skips), its scale and
 * shift computed into l->save if write. */
static void forward_epi(struct layer *l, struct job *jb, int training, int write)
{
	jb->ep = (struct depi){ l->p + (l->np - (size_t)l->oc), NULL, NULL, l->s.act };
	if (!training && l->bn) {
		float *sc = l->save + jb->wl.bn, *sh = sc + l->oc;
		if (write)
			bn_affine(l->bn, sc, sh);
		jb->ep.scale = sc, jb->ep.shift = sh;
	}
}

/* The Winograd weights in l->save, transformed if write. */
static const float *wino_u(struct layer *l, const struct job *jb, int write)
{
	float *u = l->save + jb->wl.wu;
	if (write && is_wu4(l))
		wu4_weights(l->p, l->ic, l->oc, u);
	else if (write && is_up(l))
		wup_weights(l->p, l->ic, l->oc, u);
	else if (write && l->s.stride == 2)
		ws2_weights(l->p, l->ic, l->oc, u);
	else if (write && is_w4(l))
		w4_weights(l->p, l->ic, l->oc, u);
	else if (write)
		wino_weights(l->p, l->ic, l->oc, u);
	return u;
}

static void conv_prepare(struct layer *l)
{
	struct job jb;
	int wino = use_wino(l);
	job_make(&jb, l, 1, 0, !wino);
	forward_epi(l, &jb, 0, 1);
	if (wino)
		wino_u(l, &jb, 1);
}

static void conv_forward(struct layer *l, const float *x /* (C,N,H,W) */,
                         float *y /* (OC,N,OH,OW) */, int n, int training)
{
	struct job jb;
	int wino = !training && use_wino(l), write = !l->frozen;
	job_make(&jb, l, n, 0, write && !wino);
	jb.x = x, jb.out = y;
	forward_epi(l, &jb, training, write);
	if (wino) {
		double work;
		if (is_up(l)) {
			double t = (double)((l->ih / 2 + 1) / 2) * ((l->iw / 2 + 1) / 2);
			work = 2.0 * 36 * l->oc * l->ic * n * t;
		} else {
			work = 2.0 * (l->s.stride == 2 ? 25 : is_w4(l) ? 9 : 16) * l->oc * l->ic * n *
			       tiles_of(l);
		}
		jb.af = wino_u(l, &jb, write);
		par_for_w(n, work, wino_item, &jb);
		return;
	}
	plan_items(&jb.pf, n, &jb.it);
	if (jb.df && jb.it.count < 8 && jb.it.g > 1) {
		/* at least 8 items, so that threads share the work evenly even
		 * when one of them is kept off the CPU for a while */
		jb.it.g = (n + 7) / 8;
		jb.it.count = (n + jb.it.g - 1) / jb.it.g;
	}
	double work = 2.0 * l->oc * l->ic * l->s.k * l->s.k * n * l->oh * l->ow;
	par_for_w(jb.it.count, work, forward_item, &jb);
}

/* Images [*m0, *m1) of slot sl (those with m * NN_SLOTS / n == sl). */
static void slot_images(long sl, int n, int *m0, int *m1)
{
	*m0 = (int)((sl * n + NN_SLOTS - 1) / NN_SLOTS);
	*m1 = (int)(((sl + 1) * n + NN_SLOTS - 1) / NN_SLOTS);
}

/* dW of phase q of the forward plan over one item into pw. */
static void wgrad_item(struct job *jb, int q, int m0, int m1, int r0, int r1,
                       float *cols, float *blk, float *pw)
{
	struct layer *l = jb->l;
	const struct cplan *pf = &jb->pf;
	const struct cphase *ph = &pf->ph[q];
	int OC = l->oc, n = jb->n;
	long ndst = (long)n * l->oh * l->ow, nc = plan_phase_cols(pf, q, m0, m1, r0, r1);
	if (nc == 0 || ph->ng == 0)
		return;
	int kq = pf->cin * ph->ng;
	float *dw = pw + (pf->rearranged ? ph->woff : 0);
	const float *d = jb->dy + (long)m0 * l->oh * l->ow + (long)r0 * l->ow;
	long ldd = ndst;
	if (pf->nph > 1 || pf->dstep > 1) {
		plan_gather(pf, q, blk, OC, jb->dy, n, m0, m1, r0, r1);
		d = blk, ldd = nc;
	}
	if (jb->df) {
		/* cols holds the packed sources of the item */
		dconv_wgrad(pf, &jb->gf, q, d, ldd, jb->gf.direct ? jb->x : cols, n, m0, m1, dw);
		return;
	}
	const float *b = jb->x + (long)m0 * pf->sh * pf->sw + (long)r0 * pf->sw;
	long ldb = (long)n * pf->sh * pf->sw;
	if (!pf->direct) {
		plan_im2col(pf, q, jb->x, n, m0, m1, r0, r1, cols);
		b = cols, ldb = nc;
	}
	gemm(0, 1, OC, kq, (int)nc, 1, d, (int)ldd, b, (int)ldb, 1, dw, kq);
}

/* Backward for the images of slot sl: dW, db partial sums into the slot's
 * part of the scratch, then dx of its images. */
static void backward_slot(void *ctx, long sl, int worker)
{
	struct job *jb = ctx;
	struct layer *l = jb->l;
	struct nn_ws *ws = l->ws;
	const struct cplan *pf = &jb->pf, *pd = &jb->pd;
	int OC = l->oc, n = jb->n, ms, me;
	/* dy w.r.t. the pre-activation already: sigmoid + cross-entropy, or
	 * the relu done by the bn after */
	int act = l->fused || masked(l) ? ACT_NONE : l->s.act;
	long ndst = (long)n * l->oh * l->ow;
	size_t wsz = wgrad_floats(l, pf);
	float *pw = ws->part + sl * ws->part_n, *pb = pw + wsz;
	float *cols = ws->cols[worker], *blk = ws->dcols[worker];
	struct items it;
	memset(pw, 0, sizeof *pw * (wsz + (size_t)OC));
	slot_images(sl, n, &ms, &me);
	if (me <= ms)
		return;
	plan_items(pf, me - ms, &it);
	for (long i = 0; i < it.count; i++) {
		int m0, m1, r0, r1;
		long j0, j1;
		item_span(&it, pf, i, &m0, &m1, &r0, &r1);
		m0 += ms, m1 += ms;
		plan_dst_range(pf, m0, m1, r0, r1, &j0, &j1);
		for (int oc = 0; oc < OC; oc++)
			pb[oc] += (float)act_grad_sum(jb->dy + oc * ndst + j0,
			                              jb->y + oc * ndst + j0, j1 - j0, act);
		if (jb->df)
			dconv_pack(pf, &jb->gf, jb->x, n, m0, m1, cols);
		for (int q = 0; q < pf->nph; q++)
			wgrad_item(jb, q, m0, m1, r0, r1, cols, blk, pw);
	}
	if (!l->need_dx)
		return;
	plan_items(pd, me - ms, &it);
	for (long i = 0; i < it.count; i++) {
		int m0, m1, r0, r1;
		item_span(&it, pd, i, &m0, &m1, &r0, &r1);
		if (jb->dd)
			direct_run(pd, &jb->gd, jb->ad, jb->dy, jb->dx, n, m0 + ms, m1 + ms, cols,
			           NULL);
		else
			plan_run(pd, jb->ad, jb->dy, jb->dx, n, m0 + ms, m1 + ms, r0, r1, cols, blk);
	}
}

/* Slot sums in slot order: into g, or (rearranged weights) into slot 0. */
static void sum_slots(void *ctx, long lo, long hi, int worker)
{
	struct job *jb = ctx;
	struct layer *l = jb->l;
	float *part = l->ws->part;
	size_t stride = l->ws->part_n;
	float *out = jb->pf.rearranged ? part : l->g;
	for (long i = lo; i < hi; i++) {
		float s = 0;
		for (int sl = 0; sl < NN_SLOTS; sl++)
			s += part[sl * stride + (size_t)i];
		out[i] = s;
	}
}

static void conv_backward(struct layer *l, const float *x, const float *y,
                          float *dy /* (OC,N,OH,OW) */, float *dx /* (C,N,H,W) */,
                          int n)
{
	struct job jb;
	job_make(&jb, l, n, 1, 1);
	jb.x = x, jb.y = y, jb.dy = dy, jb.dx = dx;
	double work = 4.0 * l->oc * l->ic * l->s.k * l->s.k * n * l->oh * l->ow;
	par_for_w(NN_SLOTS, work, backward_slot, &jb);
	size_t wsz = wgrad_floats(l, &jb.pf);
	par_range((long)(wsz + (size_t)l->oc), 65536, sum_slots, &jb);
	if (jb.pf.rearranged) {
		size_t nw = l->np - (size_t)l->oc;
		memset(l->g, 0, sizeof *l->g * nw);
		plan_weights_adjoint(&jb.pf, l->ws->part, l->g);
		memcpy(l->g + nw, l->ws->part + wsz, sizeof *l->g * (size_t)l->oc);
	}
}

const struct layer_ops conv2d_ops = {
	conv_setup, conv_init, conv_forward, conv_backward, conv_prepare
};
const struct layer_ops conv2d_up_ops = {
	conv_setup, conv_init, conv_forward, conv_backward, conv_prepare
};
const struct layer_ops conv2d_bnr_ops = {
	conv_setup, conv_init, conv_forward, conv_backward, conv_prepare
};
const struct layer_ops conv2d_up_bnr_ops = {
	conv_setup, conv_init, conv_forward, conv_backward, conv_prepare
};

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
