/* dconv.h - direct convolution kernels for phase plans (AVX-512)
 *
 * The products of a plan (im2col.h) without columns: the source images of
 * a work item are copied once into zero-padded planes, and register tiles
 * of 16-pixel vectors times output channels add up shifted source vectors
 * times broadcast weights. Nothing is copied per kernel tap, and the
 * bias, activation, a folded batch norm and the interleaving of
 * destination phases happen in registers. Built only where the compiler
 * targets AVX-512; dconv_ok() is 0 elsewhere and callers use im2col +
 * GEMM.
 */
#ifndef CAE_DCONV_H
#define CAE_DCONV_H

#include <stddef.h>

#include "im2col.h"

/* Source geometry of a plan in the packed buffer. */
struct dgeom {
	int ns;                  /* source phases packed (1 or 4) */
	int top, left;           /* zero rows above, columns left of a plane */
	int ph, pitch;           /* padded plane rows, row pitch */
	long plane, image;       /* floats per plane, per image (ns * cin planes) */
	int direct;              /* no shifts: read the source tensor itself */
};

/* 1 if the kernels were built and can run plan p with images of at most
 * max_image packed floats each. */
int dconv_ok(const struct cplan *p, long max_image);
void dconv_geom(const struct cplan *p, struct dgeom *gm);

/* Floats of packed weights for p (all phases). */
size_t dconv_wfloats(const struct cplan *p);
/* Packs the weights: a is w (plans with rearranged == 0) or the plan's
 * rearranged weights. */
void dconv_weights(const struct cplan *p, const float *a, float *wp);

/* Copies images [m0, m1) of src (cin, n, sh, sw) into buf, by phases,
 * with zero borders. Not needed (and a no-op) for direct geometries. */
void dconv_pack(const struct cplan *p, const struct dgeom *gm, const float *src,
                int n, int m0, int m1, float *buf);

/* What happens to the sums of output channel o before they are stored:
 * + bias[o] (bias may be NULL), the activation act (enum act_kind), then,
 * if scale is not NULL, * scale[o] + shift[o]: a batch norm in inference
 * (conv.h). */
struct depi { const float *bias, *scale, *shift; int act; };

/* Phase q of the destination for images [m0, m1): dst (cout, n, dh, dw)
 * gets the sum over the phase's groups, then what ep says (NULL: nothing).
 * src is buf from dconv_pack, or for a direct geometry the source
 * tensor. */
void dconv_run(const struct cplan *p, const struct dgeom *gm, int q, const float *wp,
               const float *src, int n, int m0, int m1, float *dst,
               const struct depi *ep);

/* Weight gradients of phase q: dwq (cout, cin * ng) += dyq * cols^T over
 * images [m0, m1), dyq (cout, ld) the phase's pixels of those images in
 * order (image, row, column) from column 0; src as for dconv_run. */
void dconv_wgrad(const struct cplan *p, const struct dgeom *gm, int q,
                 const float *dyq, long ld, const float *src, int n, int m0, int m1,
                 float *dwq);

/* The activations in place over n values, vectorised: for the engine's
 * sigmoid wherever it is computed. */
void dconv_sigmoid(float *y, long n);

/* The epilogue of output channel o over len values of y outside the
 * kernels' registers (GEMM and Winograd paths): += bias, the activation,
 * then the folded bn's scale and shift, in the kernels' order. */
void dconv_epilogue(const struct depi *ep, int o, float *y, long len);

#endif
