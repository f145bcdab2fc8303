/* winograd.c - Winograd F(2x2,3x3) convolutions, see winograd.h
 *
 * With
 *     B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],
 *     G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1],
 *     A^T = [1 1 1 0; 0 1 -1 -1],
 * element xi = 4 i + j of a transform is row i, column j. Tiles are
 * numbered row after row; a vector holds 16 of them. The input transform
 * reads each tile's four rows straight from the source plane (masked
 * loads give the zero border), splits them into even and odd columns with
 * permutes, and writes V (16, C, tiles). The products sweep 8 output
 * channels at a time (weights packed [xi][block][c][8], zero past OC)
 * into M (16, 8, tiles); the output transform of those channels follows
 * while M is in L1/L2, then the epilogue on the 4 outputs of each tile,
 * then their interleaving into the output plane.
 */
#include <string.h>

#include "nn.h"
#include "winograd.h"

#ifdef __AVX512F__
#include <immintrin.h>

static int ob_count(int cout) { return (cout + 7) / 8; }
static long tiles(int h, int w) { return (long)((h + 1) / 2) * ((w + 1) / 2); }
/* tiles rounded up to whole vectors */
static long tpad(int h, int w) { return (tiles(h, w) + 15) & ~15L; }

int wino_ok(int k, int s, int pt, int pl, int h, int w, int oh, int ow)
{
	return k == 3 && s == 1 && pt == 1 && pl == 1 && oh == h && ow == w && h > 0 && w > 0;
}

size_t wino_wfloats(int cin, int cout)
{
	return (size_t)16 * ob_count(cout) * 8 * cin;
}

/* V (16, C, tp), M (16, 8, tp), sums (4, tp). */
size_t wino_scratch(int cin, int h, int w)
{
	long tp = tpad(h, w);
	return (size_t)(16 * (cin + 8) * tp + 4 * tp);
}

void wino_weights(const float *w, int cin, int cout, float *u)
{
	int nob = ob_count(cout);
	for (int o = 0; o < nob * 8; o++)
	for (int c = 0; c < cin; c++) {
		double g[3][3] = { { 0 } }, t[4][3], v[4][4];
		if (o < cout)
			for (int i = 0; i < 9; i++)
				g[i / 3][i % 3] = w[((long)o * cin + c) * 9 + i];
		for (int j = 0; j < 3; j++) {   /* G g */
			t[0][j] = g[0][j];
			t[1][j] = (g[0][j] + g[1][j] + g[2][j]) / 2;
			t[2][j] = (g[0][j] - g[1][j] + g[2][j]) / 2;
			t[3][j] = g[2][j];
		}
		for (int i = 0; i < 4; i++) {   /* (G g) G^T */
			v[i][0] = t[i][0];
			v[i][1] = (t[i][0] + t[i][1] + t[i][2]) / 2;
			v[i][2] = (t[i][0] - t[i][1] + t[i][2]) / 2;
			v[i][3] = t[i][2];
		}
		int ob = o / 8;
		for (int xi = 0; xi < 16; xi++)
			u[(((long)xi * nob + ob) * cin + c) * 8 + o % 8] = (float)v[xi / 4][xi % 4];
	}
}

static __mmask16 lanes(long left)
{
	return left >= 16 ? 0xffff : left <= 0 ? 0 : (__mmask16)((1u << left) - 1);
}

static const int ZIPLO[16] = { 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23 };
static const int ZIPHI[16] = { 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31 };

/* Lanes of 16 columns from padded column x0 that hold input columns
 * (padded column x is input column x - 1). */
static __mmask16 cols_in(int x0, int w)
{
	return (__mmask16)(lanes(w + 1 - x0) & ~(x0 ? 0 : 1));
}

/* V (16, C, tp) of one image: plane c of it at x + c * cs. Tile (ti, j)
 * reads padded rows 2 ti .. 2 ti + 3 and columns 2 j .. 2 j + 3. A vector
 * holds 16 tiles: 16 of a tile row from j0, or, for rows of at most 8
 * tiles, a row and the next one. Each padded row is read from column
 * 2 j0 into a and from 2 j0 + 2 into a2, and the 16 columns after them
 * (or the same of the next tile row) into b and b2; the even and odd
 * columns of each pair (e, o; e1, o1) are then those of the tiles. Zero
 * outside the input. */
static void in_transform(const float *x, long cs, int cin, int h, int w, long tp, float *v)
{
	int th = (h + 1) / 2, tw = (w + 1) / 2, pair = tw <= 8;
	long vs = (long)cin * tp;
	int ie[16], io[16];
	for (int l = 0; l < 16; l++) {
		ie[l] = !pair ? 2 * l : l < tw ? 2 * l : l < 2 * tw ? 16 + 2 * (l - tw) : 0;
		io[l] = ie[l] + 1;
	}
	__m512i even = _mm512_loadu_si512(ie), odd = _mm512_loadu_si512(io);
	for (int xi = 0; xi < 16; xi++)
		for (int c = 0; c < cin; c++)
			memset(v + ((long)xi * cin + c) * tp + th * tw, 0,
			       sizeof *v * (size_t)(tp - th * tw));
	for (int j0 = 0; j0 < tw; j0 += 16) {
		__mmask16 ma = cols_in(2 * j0, w), mb = cols_in(2 * j0 + 16, w);
		__mmask16 mc = cols_in(2 * j0 + 2, w), md = cols_in(2 * j0 + 18, w);
		if (pair)
			mb = ma, md = mc;
		for (int c = 0; c < cin; c++)
		for (int ti = 0; ti < th; ti += 1 + pair) {
			__mmask16 st = pair ? lanes((th - ti > 1 ? 2 : 1) * tw) : lanes(tw - j0);
			__m512 e[4], o[4], e1[4], o1[4];
			#pragma GCC unroll 4
			for (int k = 0; k < 4; k++) {
				int y = 2 * ti - 1 + k, yb = pair ? y + 2 : y;
				/* from input column 2 j0 - 1 (r - 1): lane 0 is
				 * masked off for j0 = 0 */
				const float *pl = x + c * cs + 2 * j0;
				__m512 z = _mm512_setzero_ps(), a = z, a2 = z, b = z, b2 = z;
				if (y >= 0 && y < h) {
					const float *r = pl + (long)y * w;
					a = _mm512_maskz_loadu_ps(ma, r - 1);
					a2 = _mm512_maskz_loadu_ps(mc, r + 1);
				}
				if (yb >= 0 && yb < h) {
					const float *r = pair ? pl + (long)yb * w : pl + (long)y * w + 16;
					b = _mm512_maskz_loadu_ps(mb, r - 1);
					b2 = _mm512_maskz_loadu_ps(md, r + 1);
				}
				e[k] = _mm512_permutex2var_ps(a, even, b);
				o[k] = _mm512_permutex2var_ps(a, odd, b);
				e1[k] = _mm512_permutex2var_ps(a2, even, b2);
				o1[k] = _mm512_permutex2var_ps(a2, odd, b2);
			}
			/* B^T on the rows */
			__m512 be[4], bo[4], be1[4], bo1[4];
#define BT(d, s) d[0] = _mm512_sub_ps(s[0], s[2]); d[1] = _mm512_add_ps(s[1], s[2]); \
	d[2] = _mm512_sub_ps(s[2], s[1]); d[3] = _mm512_sub_ps(s[1], s[3]);
			BT(be, e) BT(bo, o) BT(be1, e1) BT(bo1, o1)
#undef BT
			/* B on the columns */
			float *o0 = v + (long)c * tp + (long)ti * tw + j0;
			#pragma GCC unroll 4
			for (int k = 0; k < 4; k++, o0 += 4 * vs) {
				_mm512_mask_storeu_ps(o0, st, _mm512_sub_ps(be[k], be1[k]));
				_mm512_mask_storeu_ps(o0 + vs, st, _mm512_add_ps(bo[k], be1[k]));
				_mm512_mask_storeu_ps(o0 + 2 * vs, st, _mm512_sub_ps(be1[k], bo[k]));
				_mm512_mask_storeu_ps(o0 + 3 * vs, st, _mm512_sub_ps(bo[k], bo1[k]));
			}
		}
	}
}

/* 8 channels times RB vectors of tiles from t0: mo (8, tp) = u (C, 8)^T
 * * v (C, tp). */
static inline __attribute__((always_inline)) void mtile(
	const int RB, int cin, const float *u, const float *v, long tp, long t0, float *mo)
{
	__m512 acc[8][3];
	_Pragma("GCC unroll 8") for (int i = 0; i < 8; i++)
		_Pragma("GCC unroll 3") for (int r = 0; r < RB; r++)
			acc[i][r] = _mm512_setzero_ps();
	const float *vp = v + t0;
	#pragma GCC unroll 1
	for (int c = 0; c < cin; c++, vp += tp) {
		__m512 x[3];
		_Pragma("GCC unroll 3") for (int r = 0; r < RB; r++)
			x[r] = _mm512_loadu_ps(vp + 16 * r);
		_Pragma("GCC unroll 8") for (int i = 0; i < 8; i++) {
			__m512 wv = _mm512_set1_ps(u[c * 8 + i]);
			_Pragma("GCC unroll 3") for (int r = 0; r < RB; r++)
				acc[i][r] = _mm512_fmadd_ps(wv, x[r], acc[i][r]);
		}
	}
	_Pragma("GCC unroll 8") for (int i = 0; i < 8; i++)
		_Pragma("GCC unroll 3") for (int r = 0; r < RB; r++)
			_mm512_storeu_ps(mo + i * tp + t0 + 16 * r, acc[i][r]);
}

static void mproduct(int cin, const float *u, const float *v, long tp, float *mo)
{
	long nv = tp / 16, e = 0;
	while (e < nv) {
		long left = nv - e;
		if (left >= 3 && left != 4)
			mtile(3, cin, u, v, tp, 16 * e, mo), e += 3;
		else if (left >= 2)
			mtile(2, cin, u, v, tp, 16 * e, mo), e += 2;
		else
			mtile(1, cin, u, v, tp, 16 * e, mo), e += 1;
	}
}

/* The sums t (4, tp) of one channel, the outputs (r, c) of each tile in
 * row 2 r + c, from its M (16 rows of stride ms). */
static void out_transform(const float *mo, long ms, long tp, float *t)
{
	for (long j = 0; j < tp; j += 16) {
		__m512 s0[4], s1[4];
		#pragma GCC unroll 4
		for (int l = 0; l < 4; l++) {
			__m512 a = _mm512_loadu_ps(mo + l * ms + j);
			__m512 b = _mm512_loadu_ps(mo + (4 + l) * ms + j);
			__m512 c = _mm512_loadu_ps(mo + (8 + l) * ms + j);
			__m512 d = _mm512_loadu_ps(mo + (12 + l) * ms + j);
			s0[l] = _mm512_add_ps(_mm512_add_ps(a, b), c);
			s1[l] = _mm512_sub_ps(_mm512_sub_ps(b, c), d);
		}
		_mm512_storeu_ps(t + j, _mm512_add_ps(_mm512_add_ps(s0[0], s0[1]), s0[2]));
		_mm512_storeu_ps(t + tp + j, _mm512_sub_ps(_mm512_sub_ps(s0[1], s0[2]), s0[3]));
		_mm512_storeu_ps(t + 2 * tp + j, _mm512_add_ps(_mm512_add_ps(s1[0], s1[1]), s1[2]));
		_mm512_storeu_ps(t + 3 * tp + j, _mm512_sub_ps(_mm512_sub_ps(s1[1], s1[2]), s1[3]));
	}
}

/* The plane y (h, w) from t (4, tp): tile (ti, j) to y[2 ti + r][2 j + c]. */
static void scatter(const float *t, long tp, int h, int w, float *y)
{
	int th = (h + 1) / 2, tw = (w + 1) / 2;
	__m512i lo = _mm512_loadu_si512(ZIPLO), hi = _mm512_loadu_si512(ZIPHI);
	for (int ti = 0; ti < th; ti++)
	for (int r = 0; r < 2 && 2 * ti + r < h; r++) {
		const float *t0 = t + 2 * r * tp + (long)ti * tw, *t1 = t0 + tp;
		float *yr = y + (long)(2 * ti + r) * w;
		for (int j0 = 0; j0 < tw; j0 += 16) {
			__mmask16 m = lanes(tw - j0);
			__m512 a = _mm512_maskz_loadu_ps(m, t0 + j0);
			__m512 b = _mm512_maskz_loadu_ps(m, t1 + j0);
			_mm512_mask_storeu_ps(yr + 2 * j0, lanes(w - 2 * j0),
			                      _mm512_permutex2var_ps(a, lo, b));
			_mm512_mask_storeu_ps(yr + 2 * j0 + 16, lanes(w - 2 * j0 - 16),
			                      _mm512_permutex2var_ps(a, hi, b));
		}
	}
}

/* bias, activation, folded bn over one plane of channel o, as dconv_run. */
static void epilogue(const struct depi *ep, int o, float *y, long len)
{
	float b = ep->bias ? ep->bias[o] : 0;
	if (ep->act == ACT_RELU) {
		#pragma omp simd
		for (long j = 0; j < len; j++)
			y[j] = y[j] + b > 0 ? y[j] + b : 0;
	} else {
		#pragma omp simd
		for (long j = 0; j < len; j++)
			y[j] += b;
	}
	if (ep->act == ACT_SIGMOID)
		dconv_sigmoid(y, len);
	if (ep->scale) {
		float s = ep->scale[o], t = ep->shift[o];
		#pragma omp simd
		for (long j = 0; j < len; j++)
			y[j] = y[j] * s + t;
	}
}

void wino_run(const float *u, const float *x, int cin, int cout, int n, int h, int w,
              int m, float *y, const struct depi *ep, float *scratch)
{
	long tp = tpad(h, w), hw = (long)h * w;
	int nob = ob_count(cout);
	float *v = scratch, *mo = v + 16 * (long)cin * tp, *t = mo + 16 * 8 * tp;
	in_transform(x + m * hw, (long)n * hw, cin, h, w, tp, v);
	for (int ob = 0; ob < nob; ob++) {
		for (int xi = 0; xi < 16; xi++)
			mproduct(cin, u + ((long)xi * nob + ob) * cin * 8, v + (long)xi * cin * tp,
			         tp, mo + (long)xi * 8 * tp);
		for (int i = 0; i < 8 && ob * 8 + i < cout; i++) {
			int o = ob * 8 + i;
			out_transform(mo + (long)i * tp, 8 * tp, tp, t);
			if (ep)
				epilogue(ep, o, t, 4 * tp);
			scatter(t, tp, h, w, y + ((long)o * n + m) * hw);
		}
	}
}

#else   /* no AVX-512: convolutions stay on the other paths */

int wino_ok(int k, int s, int pt, int pl, int h, int w, int oh, int ow) { return 0; }
size_t wino_wfloats(int cin, int cout) { return 0; }
size_t wino_scratch(int cin, int h, int w) { return 0; }
void wino_weights(const float *w, int cin, int cout, float *u) { }
void wino_run(const float *u, const float *x, int cin, int cout, int n, int h, int w,
              int m, float *y, const struct depi *ep, float *scratch) { }

#endif
