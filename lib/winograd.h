/* winograd.h - Winograd F(2x2,3x3) for stride-1 3x3 'same' convolutions,
 * forward, inference only
 *
 * Each 2x2 block of outputs ("tile") comes from a 4x4 patch d of the
 * zero-padded input: Y = A^T [ sum_c (G g G^T) .* (B^T d B) ] A, 16
 * multiplications per tile and channel pair instead of 36. The 16 sums
 * over channels are 16 small products U[xi] (OC, C) * V[xi] (C, tiles),
 * run on AVX-512 register tiles. One image at a time, each output a sum
 * over channels in channel order: the results do not depend on the batch
 * or the thread count. Built only where the compiler targets AVX-512;
 * wino_ok() is 0 elsewhere.
 */
#ifndef CAE_WINOGRAD_H
#define CAE_WINOGRAD_H

#include <stddef.h>

#include "dconv.h"

/* 1 if a conv with kernel k, stride s, padding before pt, pl, input h x w
 * and output oh x ow can run here: 3x3, stride 1, 'same'. */
int wino_ok(int k, int s, int pt, int pl, int h, int w, int oh, int ow);

/* Floats of transformed weights, and of scratch for one image. */
size_t wino_wfloats(int cin, int cout);
size_t wino_scratch(int cin, int h, int w);

/* The transformed weights u (wino_wfloats) from w (OC, C, 3, 3). */
void wino_weights(const float *w, int cin, int cout, float *u);

/* Image m of x (C, n, h, w) into y (OC, n, h, w): the conv with weights
 * u, then what ep says (as dconv_run). scratch: wino_scratch floats. */
void wino_run(const float *u, const float *x, int cin, int cout, int n, int h, int w,
              int m, float *y, const struct depi *ep, float *scratch);

/* The same for a stride-1 3x3 'same' conv of a nearest x2 upsampling,
 * computed from the small image: each of the four output phases is a 2x2
 * conv of it (taps landing on the same small pixel summed), run as
 * Winograd F(2x2,2x2), 9 multiplications per tile and channel pair
 * instead of 16. h x w is the small image, the output 2h x 2w. */
size_t wup_wfloats(int cin, int cout);
size_t wup_scratch(int cin, int h, int w);
void wup_weights(const float *w, int cin, int cout, float *u);
/* Image m of x (C, n, h, w) into y (OC, n, 2h, 2w). */
void wup_run(const float *u, const float *x, int cin, int cout, int n, int h, int w,
             int m, float *y, const struct depi *ep, float *scratch);

/* Stride-2 3x3 convs with no padding before (Keras 'same' on even sizes,
 * 'valid'): output (i, j) reads input rows 2 i .. 2 i + 2 and columns
 * 2 j .. 2 j + 2, 0 past the input. The input split by row and column
 * parity, a 2x2 tile of outputs is F(2x2,2x2) on the even-even samples,
 * F(2,2) along one axis times the middle tap on the two mixed ones, and
 * the centre tap on the odd-odd ones: 25 multiplications per tile and
 * channel pair instead of 36. oh x ow is the output. */
int ws2_ok(int k, int s, int pt, int pl, int oh, int ow);
size_t ws2_wfloats(int cin, int cout);
size_t ws2_scratch(int cin, int oh, int ow);
void ws2_weights(const float *w, int cin, int cout, float *u);
/* Image m of x (C, n, h, w) into y (OC, n, oh, ow). */
void ws2_run(const float *u, const float *x, int cin, int cout, int n, int h, int w,
             int oh, int ow, int m, float *y, const struct depi *ep, float *scratch);

/* F(4x4,3x3) for the stride-1 3x3 'same' convs of wino_ok on planes 16
 * or 32 wide with h a multiple of 4 (w4_ok): 36 multiplications per 4x4
 * tile and channel pair, 2.25 per output where F(2x2,3x3) takes 4, at
 * an error some 4 times larger (about 2e-6 of the largest term). */
int w4_ok(int h, int w);
size_t w4_wfloats(int cin, int cout);
size_t w4_scratch(int cin, int h, int w);
void w4_weights(const float *w, int cin, int cout, float *u);
/* Image m of x (C, n, h, w) into y (OC, n, h, w). */
void w4_run(const float *u, const float *x, int cin, int cout, int n, int h, int w,
            int m, float *y, const struct depi *ep, float *scratch);

/* The fused up + conv (wup_*) with F(4x4,2x2) per phase, for small
 * images that w4_ok takes: 25 multiplications per phase's 4x4 tile, 1.56
 * per output where F(2x2,2x2) takes 2.25. h x w is the small image. */
size_t wu4_wfloats(int cin, int cout);
size_t wu4_scratch(int cin, int h, int w);
void wu4_weights(const float *w, int cin, int cout, float *u);
/* Image m of x (C, n, h, w) into y (OC, n, 2h, 2w). */
void wu4_run(const float *u, const float *x, int cin, int cout, int n, int h, int w,
             int m, float *y, const struct depi *ep, float *scratch);

#endif
