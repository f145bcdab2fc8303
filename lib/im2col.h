/* im2col.h - convolutions as phase plans: which shifted planes make the
 * columns of each matrix product
 *
 * Every pass of a convolution (forward, input gradient; plain, strided, or
 * right after a nearest x2 upsampling) is one "plan": a source tensor
 * (cin, N, sh, sw) is read every sstep-th row and column, a destination
 * tensor (cout, N, dh, dw) is written every dstep-th row and column, and
 * each destination phase (qr, qc) is a product
 *     D_q (cout, P) = A_q (cout, cin * ng) * cols_q (cin * ng, P)
 * where row c * ng + g of cols_q is source channel c, phase (sr, sc) of
 * group g, shifted by (di, dj), zero outside. A group's weight is the sum
 * of its kernel taps: several taps land on the same source pixel when the
 * source was upsampled. With sstep == dstep == 1 and one phase this is
 * plain im2col; a stride 2 reads the source by phases instead of skipping
 * through it, and an input gradient becomes a forward convolution of the
 * output gradient with rearranged weights (no col2im, no zeroing).
 */
#ifndef CAE_IM2COL_H
#define CAE_IM2COL_H

#include <stddef.h>

#define PLAN_MAX_K 15
#define PLAN_MAX_GROUPS (4 * PLAN_MAX_K * PLAN_MAX_K)

enum plan_kind {
	PLAN_FWD,       /* y from x, a conv of stride 1 or 2 */
	PLAN_DX,        /* dx from dy, its adjoint */
	PLAN_UP_FWD,    /* y from the small x, a stride-1 conv of x upsampled
	                 * by 2 */
	PLAN_UP_DX      /* d(small x) from dy */
};

struct cgroup {
	int sr, sc;      /* source phase */
	int di, dj;      /* shift on the source phase grid */
	int t0, nt;      /* kernel taps (ki * k + kj): plan tap[t0 .. t0 + nt) */
};

struct cphase {
	int qr, qc;      /* destination phase */
	int oh, ow;      /* its grid */
	int g0, ng;      /* its groups */
	long woff;       /* its weights A_q in the rearranged weights */
};

struct cplan {
	int k;
	int sstep, sh, sw;    /* source planes, read every sstep */
	int dstep, dh, dw;    /* destination planes, written every dstep */
	int cin, cout;
	int forward;          /* weights (cout, cin, k, k), else (cin, cout, k, k) */
	int nph;
	struct cphase ph[4];
	int rows, cols;       /* the largest phase grid */
	int kmax;             /* the largest cin * ng */
	int direct;           /* one phase, one unshifted group, same grid:
	                       * the source is its own cols */
	int rearranged;       /* weights A_q made by plan_weights; else A is
	                       * the (cout, cin*k*k) layer weights themselves */
	long wn;              /* floats of rearranged weights */
	int ng, nt;           /* groups, taps */
	struct cgroup g[PLAN_MAX_GROUPS];
	short tap[PLAN_MAX_GROUPS];
};

/* Builds plan KIND for a conv with kernel k, stride s, padding before the
 * rows and columns pt, pl, input c x h x w, output oc x oh x ow (for the
 * UP kinds h x w is the small image, before the upsampling, and s is 1). */
void plan_make(struct cplan *p, int kind, int k, int s, int pt, int pl,
               int c, int h, int w, int oc, int oh, int ow);

/* The rearranged weights A_q of all phases into a (p->wn floats) from the
 * layer weights w (OC, C, k, k); for PLAN_DX and PLAN_UP_DX transposed. */
void plan_weights(const struct cplan *p, const float *w, float *a);
/* The adjoint of plan_weights for a forward plan: dw (OC, C, k, k) += the
 * gradients da of the rearranged weights. */
void plan_weights_adjoint(const struct cplan *p, const float *da, float *dw);

/* Work items: g whole images each, or (g == 0) bands of r phase-grid rows
 * of one image, so that one item's columns stay near budget floats. */
struct items { int g, r, bands, n; long count; };
void items_make(const struct cplan *p, int n, long budget, struct items *it);
/* Item i: images [*m0, *m1) and phase-grid rows [*r0, *r1). */
void item_span(const struct items *it, const struct cplan *p, long i,
               int *m0, int *m1, int *r0, int *r1);
/* Floats of cols an item of IT needs (largest phase), and of a
 * destination block (cout times the columns of an item). */
size_t items_cols_floats(const struct items *it, const struct cplan *p);
size_t items_out_floats(const struct items *it, const struct cplan *p);

/* Columns of phase q for images [m0, m1), rows [r0, r1) (clipped to the
 * phase grid): cols (cin * ng, ncols) from the source src (cin, n, sh, sw).
 * Returns ncols. */
long plan_im2col(const struct cplan *p, int q, const float *src, int n,
                 int m0, int m1, int r0, int r1, float *cols);
/* The number of columns of phase q over images [m0, m1), rows [r0, r1). */
long plan_phase_cols(const struct cplan *p, int q, int m0, int m1, int r0, int r1);

/* Between a phase block blk (nch, ncols) of phase q and the destination
 * tensor dst (nch, n, dh, dw): scatter writes blk into its pixels of dst,
 * gather reads them into blk. */
void plan_scatter(const struct cplan *p, int q, const float *blk, int nch,
                  float *dst, int n, int m0, int m1, int r0, int r1);
void plan_gather(const struct cplan *p, int q, float *blk, int nch,
                 const float *dst, int n, int m0, int m1, int r0, int r1);
/* The destination columns [*j0, *j1) of the whole span: all its phases,
 * rows r0.. of the phase grid covering destination rows dstep * r0... */
void plan_dst_range(const struct cplan *p, int m0, int m1, int r0, int r1,
                    long *j0, long *j1);

#endif
