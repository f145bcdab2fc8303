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
/* Floats from one position of V (C planes) or M (8) to the next: a
 * little more than the planes, so that positions are not a multiple of
 * 4 KiB apart (stores and loads 4 KiB apart stall on some CPUs). */
static long vstr(int cin, long tp) { return (long)cin * tp + 48; }
static long mstr(long tp) { return 8 * tp + 48; }
/* Tiles of F(4x4,.) on an h x w plane (both multiples of 4), whole
 * vectors. */
static long tp4(int h, int w) { return ((long)(h / 4) * (w / 4) + 15) & ~15L; }
/* Floats of transformed weights: np positions, blocks of 8 outputs. */
static size_t ufloats(int np, int cin, int cout)
{
	return (size_t)np * ((cout + 7) / 8) * 8 * cin;
}

/* u (nq, a * a, blocks of 8 outputs, C, 8) = G k G^T for each output o
 * and channel c, G (a, r) row-major: k their 3x3 kernel (r = 3), or
 * (r = 2) the 2x2 kernel of phase q of an upsampled input, taps landing
 * on the same small pixel summed. In double, rounded once. */
static void weights_g(const float *w, int cin, int cout, const double *G, int a, int r,
                      int nq, float *u)
{
	int nob = ob_count(cout), np = a * a;
	for (int q = 0; q < nq; q++)
	for (int o = 0; o < nob * 8; o++)
	for (int c = 0; c < cin; c++) {
		double g[3][3] = { { 0 } }, k[3][3] = { { 0 } }, t[6][3] = { { 0 } };
		double v[6][6] = { { 0 } };
		int pa = q / 2, pb = q % 2;
		if (o < cout)
			for (int i = 0; i < 9; i++)
				g[i / 3][i % 3] = w[((long)o * cin + c) * 9 + i];
		for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++) {
			if (r == 3)
				k[i][j] = g[i][j];
			else
				k[(i + pa + 1) / 2 - pa][(j + pb + 1) / 2 - pb] += g[i][j];
		}
		for (int i = 0; i < a; i++)     /* G k */
		for (int j = 0; j < r; j++)
		for (int l = 0; l < r; l++)
			t[i][j] += G[i * r + l] * k[l][j];
		for (int i = 0; i < a; i++)     /* (G k) G^T */
		for (int j = 0; j < a; j++)
		for (int l = 0; l < r; l++)
			v[i][j] += t[i][l] * G[j * r + l];
		int ob = o / 8;
		for (int xi = 0; xi < np; xi++)
			u[((((long)q * np + xi) * nob + ob) * cin + c) * 8 + o % 8] =
				(float)v[xi / a][xi % a];
	}
}

int wino_ok(int k, int s, int pt, int pl, int h, int w, int oh, int ow)
{
	return k == 3 && s == 1 && pt == 1 && pl == 1 && oh == h && ow == w && h > 0 && w > 0;
}

size_t wino_wfloats(int cin, int cout)
{
	return ufloats(16, cin, cout);
}

/* V (16, C, tp), M (16, 8, tp), sums (4, tp). */
size_t wino_scratch(int cin, int h, int w)
{
	long tp = tpad(h, w);
	return (size_t)(16 * (vstr(cin, tp) + mstr(tp)) + 4 * tp);
}

void wino_weights(const float *w, int cin, int cout, float *u)
{
	static const double G[4 * 3] = { 1, 0, 0, .5, .5, .5, .5, -.5, .5, 0, 0, 1 };
	weights_g(w, cin, cout, G, 4, 3, 1, u);
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

/* The lanes' even and odd source columns for tile rows TW tiles wide
 * (two rows to a vector when TW <= 8, see in_transform), and zeros in the
 * padding tiles past th * tw of each of the N planes of TP tiles in V. */
static int tile_setup(int th, int tw, long n, long tp, float *v, __m512i *even,
                      __m512i *odd)
{
	int pair = tw <= 8, ie[16], io[16];
	for (int l = 0; l < 16; l++) {
		ie[l] = !pair ? 2 * l : l < tw ? 2 * l : l < 2 * tw ? 16 + 2 * (l - tw) : 0;
		io[l] = ie[l] + 1;
	}
	*even = _mm512_loadu_si512(ie);
	*odd = _mm512_loadu_si512(io);
	for (long i = 0; tp > (long)th * tw && i < n; i++)
		memset(v + i * tp + (long)th * tw, 0, sizeof *v * (size_t)(tp - (long)th * tw));
	return pair;
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
	int th = (h + 1) / 2, tw = (w + 1) / 2;
	long vs = vstr(cin, tp);
	__m512i even, odd;
	int pair = tile_setup(th, tw, 16L * cin, tp, v, &even, &odd);
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

/* M (np, 8, tp) of output block ob: M[xi] = U[xi] (8 of nob * 8, C)
 * times V[xi] (C, tp), for the np positions of a transform. */
static void products(int np, int cin, int nob, int ob, const float *u, const float *v,
                     long tp, float *mo)
{
	for (int xi = 0; xi < np; xi++)
		mproduct(cin, u + ((long)xi * nob + ob) * cin * 8, v + xi * vstr(cin, tp), tp,
		         mo + xi * mstr(tp));
}

/* What each form does after its input transform: np positions, nsum sums
 * per tile and output channel made by out from M, and scatter to write
 * them into an output plane. */
struct wform {
	int np, nsum;
	void (*out)(const float *mo, long ms, long tp, float *t);
	void (*scatter)(const float *t, long tp, int h, int w, float *y);
};

/* The products, then for each output channel o the sums, what ep says,
 * and the plane y + o * ys (h x w as scatter takes them). */
static void finish(const struct wform *f, const float *u, const float *v, int cin,
                   int cout, long tp, float *mo, float *t, int h, int w, float *y, long ys,
                   const struct depi *ep)
{
	int nob = ob_count(cout);
	for (int ob = 0; ob < nob; ob++) {
		products(f->np, cin, nob, ob, u, v, tp, mo);
		for (int i = 0; i < 8 && ob * 8 + i < cout; i++) {
			int o = ob * 8 + i;
			f->out(mo + (long)i * tp, mstr(tp), tp, t);
			if (ep)
				dconv_epilogue(ep, o, t, f->nsum * tp);
			f->scatter(t, tp, h, w, y + o * ys);
		}
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
			/* (stores of nothing are slow on some CPUs) */
			_mm512_mask_storeu_ps(yr + 2 * j0, lanes(w - 2 * j0),
			                      _mm512_permutex2var_ps(a, lo, b));
			if (w - 2 * j0 > 16)
				_mm512_mask_storeu_ps(yr + 2 * j0 + 16, lanes(w - 2 * j0 - 16),
				                      _mm512_permutex2var_ps(a, hi, b));
		}
	}
}

/* bias, activation, folded bn over one plane of channel o, as dconv_run. */
void wino_run(const float *u, const float *x, int cin, int cout, int n, int h, int w,
              int m, float *y, const struct depi *ep, float *scratch)
{
	static const struct wform f = { 16, 4, out_transform, scatter };
	long tp = tpad(h, w), hw = (long)h * w;
	float *v = scratch, *mo = v + 16 * vstr(cin, tp), *t = mo + 16 * mstr(tp);
	in_transform(x + m * hw, (long)n * hw, cin, h, w, tp, v);
	finish(&f, u, v, cin, cout, tp, mo, t, h, w, y + m * hw, n * hw, ep);
}

/* The fused up + conv (winograd.h): F(2x2,2x2) per phase, with
 *     B^T = [1 -1 0; 0 1 0; 0 -1 1], G = [1 0; 1 1; 0 1],
 *     A^T = [1 1 0; 0 1 1],
 * xi = 3 i + j. Phase q = 2 a + b (output rows 2 i + a, columns 2 j + b)
 * is a 2x2 conv of the small image whose tile (ti, tj) reads small rows
 * 2 ti + a - 1 .. + 2 and columns 2 tj + b - 1 .. + 2. V (4, 9, C, tp),
 * M (4, 9, 8, tp), sums (4, 4, tp). */

size_t wup_wfloats(int cin, int cout)
{
	return ufloats(36, cin, cout);
}

size_t wup_scratch(int cin, int h, int w)
{
	long tp = tpad(h, w);
	return (size_t)(36 * (vstr(cin, tp) + mstr(tp)) + 16 * tp);
}

void wup_weights(const float *w, int cin, int cout, float *u)
{
	static const double G[3 * 2] = { 1, 0, 1, 1, 0, 1 };
	weights_g(w, cin, cout, G, 3, 2, 4, u);
}

/* V of one image, as above; plane c of x at x + c * cs. The three rows
 * of a tile row are read from columns 2 j0 + b - 1 and 2 j0 + b + 1 on
 * (16 each, masked loads give the zero border; for rows of at most 8
 * tiles, a second load of each from the next tile row, as in_transform),
 * through B^T, then split into even and odd columns: those of 16 tiles. */
static void up_in_transform(const float *x, long cs, int cin, int h, int w, long tp,
                            float *v)
{
	int th = (h + 1) / 2, tw = (w + 1) / 2;
	long vs = vstr(cin, tp);
	__m512i even, odd;
	int pair = tile_setup(th, tw, 36L * cin, tp, v, &even, &odd);
	for (int b = 0; b < 2; b++)
	for (int j0 = 0; j0 < tw; j0 += 16) {
		int x0 = 2 * j0 + b;   /* padded column: input column x0 - 1 */
		__mmask16 ma = cols_in(x0, w), mb = cols_in(x0 + 16, w);
		__mmask16 mc = cols_in(x0 + 2, w), md = cols_in(x0 + 18, w);
		if (pair)
			mb = ma, md = mc;
		for (int a = 0; a < 2; a++)
		for (int c = 0; c < cin; c++)
		for (int ti = 0; ti < th; ti += 1 + pair) {
			__mmask16 st = pair ? lanes((th - ti > 1 ? 2 : 1) * tw) : lanes(tw - j0);
			__m512 lo[3], hi[3], lo2[3], hi2[3];
			#pragma GCC unroll 3
			for (int k = 0; k < 3; k++) {
				int y = 2 * ti + a - 1 + k, yb = pair ? y + 2 : y;
				const float *p = x + c * cs + x0 - 1;
				__m512 z = _mm512_setzero_ps();
				lo[k] = hi[k] = lo2[k] = hi2[k] = z;
				if (y >= 0 && y < h) {
					const float *r = p + (long)y * w;
					lo[k] = _mm512_maskz_loadu_ps(ma, r);
					lo2[k] = _mm512_maskz_loadu_ps(mc, r + 2);
				}
				if (yb >= 0 && yb < h) {
					const float *r = pair ? p + (long)yb * w : p + (long)y * w + 16;
					hi[k] = _mm512_maskz_loadu_ps(mb, r);
					hi2[k] = _mm512_maskz_loadu_ps(md, r + 2);
				}
			}
			/* B^T on the rows */
#define BT(s) s[0] = _mm512_sub_ps(s[0], s[1]); s[2] = _mm512_sub_ps(s[2], s[1]);
			BT(lo) BT(hi) BT(lo2) BT(hi2)
#undef BT
			float *o = v + (long)(2 * a + b) * 9 * vs + (long)c * tp + (long)ti * tw + j0;
			#pragma GCC unroll 3
			for (int k = 0; k < 3; k++) {
				__m512 d0 = _mm512_permutex2var_ps(lo[k], even, hi[k]);
				__m512 d1 = _mm512_permutex2var_ps(lo[k], odd, hi[k]);
				__m512 d2 = _mm512_permutex2var_ps(lo2[k], even, hi2[k]);
				float *o0 = o + 3 * k * vs;
				_mm512_mask_storeu_ps(o0, st, _mm512_sub_ps(d0, d1));
				_mm512_mask_storeu_ps(o0 + vs, st, d1);
				_mm512_mask_storeu_ps(o0 + 2 * vs, st, _mm512_sub_ps(d2, d1));
			}
		}
	}
}

/* The sums t (4, tp) of one channel and phase from its M (9 rows of
 * stride ms). */
static void up_out_transform(const float *mo, long ms, long tp, float *t)
{
	for (long j = 0; j < tp; j += 16) {
		__m512 r0[3], r1[3];
		#pragma GCC unroll 3
		for (int l = 0; l < 3; l++) {
			__m512 m1 = _mm512_loadu_ps(mo + (3 + l) * ms + j);
			r0[l] = _mm512_add_ps(_mm512_loadu_ps(mo + l * ms + j), m1);
			r1[l] = _mm512_add_ps(m1, _mm512_loadu_ps(mo + (6 + l) * ms + j));
		}
		_mm512_storeu_ps(t + j, _mm512_add_ps(r0[0], r0[1]));
		_mm512_storeu_ps(t + tp + j, _mm512_add_ps(r0[1], r0[2]));
		_mm512_storeu_ps(t + 2 * tp + j, _mm512_add_ps(r1[0], r1[1]));
		_mm512_storeu_ps(t + 3 * tp + j, _mm512_add_ps(r1[1], r1[2]));
	}
}

/* All four phases' sums t (4, 4, tp) of one channel from its M (4, 9
 * rows of stride ms). */
static void up_out_all(const float *mo, long ms, long tp, float *t)
{
	for (int q = 0; q < 4; q++)
		up_out_transform(mo + q * 9 * ms, ms, tp, t + (long)q * 4 * tp);
}

static const long long PZLO[8] = { 0, 8, 1, 9, 2, 10, 3, 11 };
static const long long PZHI[8] = { 4, 12, 5, 13, 6, 14, 7, 15 };

/* The plane y (2 h, 2 w) from the sums t (4 phases, 4, tp): a row of
 * phase (a, .) and tile row component r takes, for each tile, the values
 * (b, c) = (0, 0), (1, 0), (0, 1), (1, 1) in turn. */
static void up_scatter(const float *t, long tp, int h, int w, float *y)
{
	int tw = (w + 1) / 2, w2 = 2 * w;
	__m512i lo = _mm512_loadu_si512(ZIPLO), hi = _mm512_loadu_si512(ZIPHI);
	__m512i plo = _mm512_loadu_si512(PZLO), phi = _mm512_loadu_si512(PZHI);
	for (int yy = 0; yy < 2 * h; yy++) {
		int i = yy / 2, a = yy % 2, ti = i / 2, r = i % 2;
		const float *t0 = t + (long)(8 * a + 2 * r) * tp + (long)ti * tw;
		const float *t1 = t0 + 4 * tp;   /* b = 1 */
		float *yr = y + (long)yy * w2;
		for (int j0 = 0; j0 < tw; j0 += 16) {
			__mmask16 m = lanes(tw - j0);
			__m512 pa = _mm512_maskz_loadu_ps(m, t0 + j0);
			__m512 pb = _mm512_maskz_loadu_ps(m, t1 + j0);
			__m512 pc = _mm512_maskz_loadu_ps(m, t0 + tp + j0);
			__m512 pd = _mm512_maskz_loadu_ps(m, t1 + tp + j0);
			__m512d ab0 = _mm512_castps_pd(_mm512_permutex2var_ps(pa, lo, pb));
			__m512d cd0 = _mm512_castps_pd(_mm512_permutex2var_ps(pc, lo, pd));
			float *o = yr + 4 * j0;
			long left = w2 - 4L * j0;
			/* (stores of nothing are slow on some CPUs) */
			_mm512_mask_storeu_ps(o, lanes(left),
				_mm512_castpd_ps(_mm512_permutex2var_pd(ab0, plo, cd0)));
			if (left > 16)
				_mm512_mask_storeu_ps(o + 16, lanes(left - 16),
					_mm512_castpd_ps(_mm512_permutex2var_pd(ab0, phi, cd0)));
			if (left > 32) {
				__m512d ab1 = _mm512_castps_pd(_mm512_permutex2var_ps(pa, hi, pb));
				__m512d cd1 = _mm512_castps_pd(_mm512_permutex2var_ps(pc, hi, pd));
				_mm512_mask_storeu_ps(o + 32, lanes(left - 32),
					_mm512_castpd_ps(_mm512_permutex2var_pd(ab1, plo, cd1)));
				if (left > 48)
					_mm512_mask_storeu_ps(o + 48, lanes(left - 48),
						_mm512_castpd_ps(_mm512_permutex2var_pd(ab1, phi, cd1)));
			}
		}
	}
}

void wup_run(const float *u, const float *x, int cin, int cout, int n, int h, int w,
             int m, float *y, const struct depi *ep, float *scratch)
{
	static const struct wform f = { 36, 16, up_out_all, up_scatter };
	long tp = tpad(h, w), hw = (long)h * w;
	float *v = scratch, *mo = v + 36 * vstr(cin, tp), *t = mo + 36 * mstr(tp);
	up_in_transform(x + m * hw, (long)n * hw, cin, h, w, tp, v);
	finish(&f, u, v, cin, cout, tp, mo, t, h, w, y + m * 4 * hw, n * 4 * hw, ep);
}

/* Stride-2 3x3 convs (winograd.h). In 1-D, the outputs y0, y1 of a tile
 * read inputs x0 .. x4 (from 4 t), and with
 *     T x = (x0 - x2, x2, x4 - x2, x1, x3),
 *     Gw g = (g0, g0 + g2, g2, g1, g1),
 *     y0 = m0 + m1 + m3,  y1 = m1 + m2 + m4
 * (m = T x .* Gw g) the even inputs go through F(2,2) with taps (g0, g2)
 * and the odd ones meet g1 alone: 5 multiplications instead of 6, 25
 * instead of 36 in 2-D, xi = 5 i + j. D (25, tp + 16) holds one
 * channel's 5x5 patches, V (25, C, tp), M (25, 8, tp), sums (4, tp). */

size_t ws2_wfloats(int cin, int cout)
{
	return ufloats(25, cin, cout);
}

size_t ws2_scratch(int cin, int oh, int ow)
{
	long tp = tpad(oh, ow);
	return (size_t)(25 * (tp + 16) + 25 * (vstr(cin, tp) + mstr(tp)) + 4 * tp);
}

int ws2_ok(int k, int s, int pt, int pl, int oh, int ow)
{
	return k == 3 && s == 2 && pt == 0 && pl == 0 && oh > 0 && ow > 0;
}

void ws2_weights(const float *w, int cin, int cout, float *u)
{
	static const double G[5 * 3] = { 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0 };
	weights_g(w, cin, cout, G, 5, 3, 1, u);
}

/* Lane l of S4[s]: 4 l + s (lanes 8-15 unused). */
static const int S4[4][16] = {
	{ 0, 4, 8, 12, 16, 20, 24, 28, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ 1, 5, 9, 13, 17, 21, 25, 29, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ 2, 6, 10, 14, 18, 22, 26, 30, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ 3, 7, 11, 15, 19, 23, 27, 31, 0, 0, 0, 0, 0, 0, 0, 0 },
};

/* D of the plane x (h, w) for th x tw tiles: D[5 r + s][ti tw + tj] =
 * x[4 ti + r][4 tj + s], 0 outside x, rows ds apart. Each input row is
 * read 64 columns (16 tiles) at a time and split by column mod 4 with
 * permutes; s = 4 is s = 0 of the next tile. Whole vectors are stored
 * (masked stores are slow on some CPUs): lanes past a tile row land where
 * the next tile row's come later, and past the last one, in the tiles
 * past th tw (with whatever finite values) and the 16 floats of slack. */
static void s2_patches(const float *x, int h, int w, int th, int tw, long ds, float *d)
{
	__m512i ix[4];
	for (int s = 0; s < 4; s++)
		ix[s] = _mm512_loadu_si512(S4[s]);
	for (int y = 0; y <= 4 * th; y++) {
		const float *row = x + (long)y * w;
		/* row y is r = y mod 4 of tile row y / 4, and r = 4 of the one
		 * before when y mod 4 = 0 */
		int ti = y / 4, r = y % 4;
		float *o0 = ti < th ? d + 5L * r * ds + (long)ti * tw : NULL;
		float *o1 = r == 0 && ti > 0 ? d + 20 * ds + (long)(ti - 1) * tw : NULL;
		for (int j0 = 0; j0 < tw; j0 += 16) {
			long c0 = 4L * j0;
			int wide = tw - j0 > 8;   /* lanes 8-15 hold tiles */
			__m512 z = _mm512_setzero_ps(), a0 = z, a1 = z, a2 = z, a3 = z, v[5];
			if (y < h) {
				a0 = _mm512_maskz_loadu_ps(lanes(w - c0), row + c0);
				a1 = _mm512_maskz_loadu_ps(lanes(w - c0 - 16), row + c0 + 16);
				if (wide) {
					a2 = _mm512_maskz_loadu_ps(lanes(w - c0 - 32), row + c0 + 32);
					a3 = _mm512_maskz_loadu_ps(lanes(w - c0 - 48), row + c0 + 48);
				}
			}
			#pragma GCC unroll 4
			for (int s = 0; s < 4; s++) {
				v[s] = _mm512_permutex2var_ps(a0, ix[s], a1);
				if (wide)
					v[s] = _mm512_shuffle_f32x4(v[s], _mm512_permutex2var_ps(a2, ix[s], a3),
					                            _MM_SHUFFLE(1, 0, 1, 0));
			}
			float next = y < h && c0 + 64 < w ? row[c0 + 64] : 0;
			v[4] = _mm512_castsi512_ps(_mm512_alignr_epi32(
				_mm512_castps_si512(_mm512_set1_ps(next)), _mm512_castps_si512(v[0]), 1));
			if (!wide)   /* lane 8 is past the row's tiles */
				v[4] = _mm512_mask_blend_ps(0x80, v[4], _mm512_set1_ps(
					y < h && c0 + 32 < w ? row[c0 + 32] : 0));
			if (o0) {
				#pragma GCC unroll 5
				for (int s = 0; s < 5; s++)
					_mm512_storeu_ps(o0 + s * ds + j0, v[s]);
			}
			if (o1) {
				#pragma GCC unroll 5
				for (int s = 0; s < 5; s++)
					_mm512_storeu_ps(o1 + s * ds + j0, v[s]);
			}
		}
	}
}

/* V (25, C, tp) of one image: plane c of x at x + c * cs. */
/* T on the columns of the patches d[r][s] of 16 tiles, in place. */
static inline __attribute__((always_inline)) void s2_cols(__m512 *d)
{
	__m512 d0 = d[0], d1 = d[1], d2 = d[2], d3 = d[3], d4 = d[4];
	d[0] = _mm512_sub_ps(d0, d2);
	d[1] = d2;
	d[2] = _mm512_sub_ps(d4, d2);
	d[3] = d1;
	d[4] = d3;
}

/* T on the rows of the column-transformed e[r][k], into V from o. */
static inline __attribute__((always_inline)) void s2_rows(__m512 e[5][5], float *o, long vs)
{
	#pragma GCC unroll 5
	for (int k = 0; k < 5; k++) {
		_mm512_storeu_ps(o + k * vs, _mm512_sub_ps(e[0][k], e[2][k]));
		_mm512_storeu_ps(o + (5 + k) * vs, e[2][k]);
		_mm512_storeu_ps(o + (10 + k) * vs, _mm512_sub_ps(e[4][k], e[2][k]));
		_mm512_storeu_ps(o + (15 + k) * vs, e[1][k]);
		_mm512_storeu_ps(o + (20 + k) * vs, e[3][k]);
	}
}

/* Samples s = 0 .. 4 of 16 tiles into v: lanes 0-7 those of the tiles
 * from column ca of row ya (lane l: column ca + 4 l + s), lanes 8-15
 * from column cb of row yb; 0 outside the plane x (h, w). */
static inline __attribute__((always_inline)) void s2_row16(
	const float *x, int h, int w, int ya, long ca, int yb, long cb, const __m512i *ix,
	__m512 *v)
{
	__m512 z = _mm512_setzero_ps(), a0 = z, a1 = z, b0 = z, b1 = z;
	float la = 0, lb = 0;   /* column 32 on: s = 4 of lanes 7 and 15 */
	if (ya < h) {
		const float *p = x + (long)ya * w + ca;
		a0 = _mm512_maskz_loadu_ps(lanes(w - ca), p);
		a1 = _mm512_maskz_loadu_ps(lanes(w - ca - 16), p + 16);
		la = ca + 32 < w ? p[32] : 0;
	}
	if (yb < h) {
		const float *p = x + (long)yb * w + cb;
		b0 = _mm512_maskz_loadu_ps(lanes(w - cb), p);
		b1 = _mm512_maskz_loadu_ps(lanes(w - cb - 16), p + 16);
		lb = cb + 32 < w ? p[32] : 0;
	}
	#pragma GCC unroll 4
	for (int s = 0; s < 4; s++)
		v[s] = _mm512_shuffle_f32x4(_mm512_permutex2var_ps(a0, ix[s], a1),
		                            _mm512_permutex2var_ps(b0, ix[s], b1),
		                            _MM_SHUFFLE(1, 0, 1, 0));
	__m512 v4 = _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(z),
	                                                    _mm512_castps_si512(v[0]), 1));
	v4 = _mm512_mask_blend_ps(0x0080, v4, _mm512_set1_ps(la));
	v[4] = _mm512_mask_blend_ps(0x8000, v4, _mm512_set1_ps(lb));
}

/* V (25, C, tp) of one image: plane c of x at x + c * cs. Rows of 8 tiles
 * (CIFAR's 32x32 inputs) take two tile rows to a vector, rows of a
 * multiple of 16 tiles 16 of one; both straight from the input. Other
 * widths go through D (s2_patches). */
static void s2_in_transform(const float *x, long cs, int cin, int h, int w, int oh, int ow,
                            long tp, float *d, float *v)
{
	int th = (oh + 1) / 2, tw = (ow + 1) / 2;
	long vs = vstr(cin, tp), ds = tp + 16;
	__m512i ix[4];
	for (int s = 0; s < 4; s++)
		ix[s] = _mm512_loadu_si512(S4[s]);
	if (tw == 8 || tw % 16 == 0) {
		for (int c = 0; c < cin; c++)
		for (long t0 = 0; t0 < tp; t0 += 16) {
			int ti = (int)(t0 / tw), ya = 4 * ti, yb = tw == 8 ? ya + 4 : ya;
			long ca = 4 * (t0 % tw), cb = tw == 8 ? ca : ca + 32;
			__m512 e[5][5];
			#pragma GCC unroll 5
			for (int r = 0; r < 5; r++) {
				s2_row16(x + c * cs, h, w, ya + r, ca, yb + r, cb, ix, e[r]);
				s2_cols(e[r]);
			}
			s2_rows(e, v + (long)c * tp + t0, vs);
		}
		return;
	}
	/* tiles past th tw: 0 until the first channel's spill */
	memset(d, 0, sizeof *d * 25 * (size_t)ds);
	for (int c = 0; c < cin; c++) {
		s2_patches(x + c * cs, h, w, th, tw, ds, d);
		for (long j = 0; j < tp; j += 16) {
			__m512 e[5][5];
			#pragma GCC unroll 5
			for (int r = 0; r < 5; r++) {
				#pragma GCC unroll 5
				for (int s = 0; s < 5; s++)
					e[r][s] = _mm512_loadu_ps(d + (5 * r + s) * ds + j);
				s2_cols(e[r]);
			}
			s2_rows(e, v + (long)c * tp + j, vs);
		}
	}
}

/* The sums t (4, tp) of one channel from its M (25 rows of stride ms). */
static void s2_out_transform(const float *mo, long ms, long tp, float *t)
{
	for (long j = 0; j < tp; j += 16) {
		__m512 a[5], b[5];
		#pragma GCC unroll 5
		for (int l = 0; l < 5; l++) {
			__m512 m1 = _mm512_loadu_ps(mo + (5 + l) * ms + j);
			a[l] = _mm512_add_ps(_mm512_add_ps(_mm512_loadu_ps(mo + l * ms + j), m1),
			                     _mm512_loadu_ps(mo + (15 + l) * ms + j));
			b[l] = _mm512_add_ps(_mm512_add_ps(m1, _mm512_loadu_ps(mo + (10 + l) * ms + j)),
			                     _mm512_loadu_ps(mo + (20 + l) * ms + j));
		}
		_mm512_storeu_ps(t + j, _mm512_add_ps(_mm512_add_ps(a[0], a[1]), a[3]));
		_mm512_storeu_ps(t + tp + j, _mm512_add_ps(_mm512_add_ps(a[1], a[2]), a[4]));
		_mm512_storeu_ps(t + 2 * tp + j, _mm512_add_ps(_mm512_add_ps(b[0], b[1]), b[3]));
		_mm512_storeu_ps(t + 3 * tp + j, _mm512_add_ps(_mm512_add_ps(b[1], b[2]), b[4]));
	}
}

void ws2_run(const float *u, const float *x, int cin, int cout, int n, int h, int w,
             int oh, int ow, int m, float *y, const struct depi *ep, float *scratch)
{
	static const struct wform f = { 25, 4, s2_out_transform, scatter };
	long tp = tpad(oh, ow), hw = (long)h * w, ohw = (long)oh * ow;
	float *d = scratch, *v = d + 25 * (tp + 16), *mo = v + 25 * vstr(cin, tp);
	float *t = mo + 25 * mstr(tp);
	s2_in_transform(x + m * hw, (long)n * hw, cin, h, w, oh, ow, tp, d, v);
	finish(&f, u, v, cin, cout, tp, mo, t, oh, ow, y + m * ohw, n * ohw, ep);
}

/* F(4x4,3x3) for stride-1 3x3 'same' convs on planes 16 or 32 wide
 * (winograd.h), with the points 0, +-1, +-2 and infinity:
 *     B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0;
 *            0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1],
 *     G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6;
 *            1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1],
 *     A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1],
 * xi = 6 i + j. Tile (ti, tj) reads input rows 4 ti - 1 .. 4 ti + 4 and
 * columns 4 tj - 1 .. 4 tj + 4. A vector holds 16 tiles: four tile rows of
 * a 16-wide plane, two of a 32-wide one. V (36, C, tp), M (36, 8, tp),
 * sums (16, tp). */

int w4_ok(int h, int w)
{
	return h > 0 && h % 4 == 0 && (w == 16 || w == 32);
}

size_t w4_wfloats(int cin, int cout)
{
	return ufloats(36, cin, cout);
}

size_t w4_scratch(int cin, int h, int w)
{
	long tp = tp4(h, w);
	return (size_t)(36 * (vstr(cin, tp) + mstr(tp)) + 16 * tp);
}

void w4_weights(const float *w, int cin, int cout, float *u)
{
	static const double G[6 * 3] = {
		1 / 4.0, 0, 0, -1 / 6.0, -1 / 6.0, -1 / 6.0, -1 / 6.0, 1 / 6.0, -1 / 6.0,
		1 / 24.0, 1 / 12.0, 1 / 6.0, 1 / 24.0, -1 / 12.0, 1 / 6.0, 0, 0, 1,
	};
	weights_g(w, cin, cout, G, 6, 3, 1, u);
}

/* B^T d, six vectors. */
static inline __attribute__((always_inline)) void bt6(__m512 *d)
{
	const __m512 k2 = _mm512_set1_ps(2), k4 = _mm512_set1_ps(4), k5 = _mm512_set1_ps(5);
	__m512 t1 = _mm512_fnmadd_ps(k4, d[2], d[4]), t2 = _mm512_fnmadd_ps(k4, d[1], d[3]);
	__m512 t3 = _mm512_sub_ps(d[4], d[2]), t4 = _mm512_mul_ps(k2, _mm512_sub_ps(d[3], d[1]));
	__m512 o0 = _mm512_fmadd_ps(k4, d[0], _mm512_fnmadd_ps(k5, d[2], d[4]));
	__m512 o5 = _mm512_fmadd_ps(k4, d[1], _mm512_fnmadd_ps(k5, d[3], d[5]));
	d[0] = o0;
	d[1] = _mm512_add_ps(t1, t2);
	d[2] = _mm512_sub_ps(t1, t2);
	d[3] = _mm512_add_ps(t3, t4);
	d[4] = _mm512_sub_ps(t3, t4);
	d[5] = o5;
}

/* A^T m of six vectors into four. */
static inline __attribute__((always_inline)) void at6(const __m512 *m, __m512 *o)
{
	__m512 p = _mm512_add_ps(m[1], m[2]), q = _mm512_sub_ps(m[1], m[2]);
	__m512 r = _mm512_add_ps(m[3], m[4]), s = _mm512_sub_ps(m[3], m[4]);
	o[0] = _mm512_add_ps(_mm512_add_ps(m[0], p), r);
	o[1] = _mm512_fmadd_ps(_mm512_set1_ps(2), s, q);
	o[2] = _mm512_fmadd_ps(_mm512_set1_ps(4), r, p);
	o[3] = _mm512_add_ps(_mm512_fmadd_ps(_mm512_set1_ps(8), s, q), m[5]);
}

/* The six samples s = 0 .. 5 of 16 tiles from one window row r: lanes
 * of tile row q (k tiles each) from input row y[q], column 4 j - 1 + s of
 * tile j; 0 outside the plane x (h, w). */
static inline __attribute__((always_inline)) void w4_row(
	const float *x, int h, int w, int k, const int *y, const __m512i *ix, __m512 *v)
{
	const int nq = 16 / k;
	__m512 z = _mm512_setzero_ps(), a[4], b[4];
	float c31[4];   /* k = 8: column 31, s = 4 of lane 7 */
	#pragma GCC unroll 4
	for (int q = 0; q < nq; q++) {
		a[q] = b[q] = z, c31[q] = 0;
		if (y[q] >= 0 && y[q] < h) {
			const float *p = x + (long)y[q] * w - 1;   /* from column -1 */
			a[q] = _mm512_maskz_loadu_ps(0xfffe, p);
			b[q] = _mm512_maskz_loadu_ps(lanes(w - 15), p + 16);
			c31[q] = k == 8 ? p[32] : 0;
		}
	}
	#pragma GCC unroll 6
	for (int s = 0; s < 6; s++) {
		__m512i idx = ix[s];
		if (k == 4) {
			__m512 r = _mm512_permutex2var_ps(a[0], idx, b[0]);
			r = _mm512_mask_blend_ps(0x00f0, r, _mm512_permutex2var_ps(a[1], idx, b[1]));
			r = _mm512_mask_blend_ps(0x0f00, r, _mm512_permutex2var_ps(a[2], idx, b[2]));
			v[s] = _mm512_mask_blend_ps(0xf000, r, _mm512_permutex2var_ps(a[3], idx, b[3]));
		} else {   /* k = 8: offsets 32, 33 (s = 4, 5 of lane 7) wrap */
			__m512 r = _mm512_mask_blend_ps(0xff00, _mm512_permutex2var_ps(a[0], idx, b[0]),
			                                _mm512_permutex2var_ps(a[1], idx, b[1]));
			if (s == 4) {
				r = _mm512_mask_blend_ps(0x0080, r, _mm512_set1_ps(c31[0]));
				r = _mm512_mask_blend_ps(0x8000, r, _mm512_set1_ps(c31[1]));
			} else if (s == 5) {
				r = _mm512_mask_blend_ps(0x8080, r, z);
			}
			v[s] = r;
		}
	}
}

/* B^T d for F(4,2) (wu4 below), five vectors. */
static inline __attribute__((always_inline)) void bt5(const __m512 *d, __m512 *o)
{
	const __m512 k2 = _mm512_set1_ps(2), k3 = _mm512_set1_ps(3);
	__m512 d31 = _mm512_sub_ps(d[3], d[1]);
	o[0] = _mm512_fmadd_ps(k2, _mm512_sub_ps(d[0], d[2]), d31);
	o[1] = _mm512_fnmadd_ps(k2, d[1], _mm512_sub_ps(d[3], d[2]));
	o[2] = _mm512_fmadd_ps(k2, d[1], _mm512_fnmadd_ps(k3, d[2], d[3]));
	o[3] = d31;
	o[4] = _mm512_fnmadd_ps(k2, d31, _mm512_sub_ps(d[4], d[2]));
}

/* The 6x6 patches d of 16 tiles (see w4_row) go to V: with up = 0 as
 * F(4x4,3x3) (36 positions), with up = 1 as the four phases of wu4,
 * phase (a, b) the 5x5 from row a, column b (4 x 25 positions). */
static inline __attribute__((always_inline)) void w4_in_k(
	const int k, const int up, const float *x, long cs, int cin, int h, int w, long tp,
	float *v)
{
	const int tw = k, nq = 16 / k;
	long vs = vstr(cin, tp), ntiles = (long)(h / 4) * tw;
	__m512i ix[6];   /* lane l: offset 4 (l mod k) + s in the row */
	for (int s = 0; s < 6; s++) {
		int o[16];
		for (int l = 0; l < 16; l++)
			o[l] = 4 * (l % k) + s;
		ix[s] = _mm512_loadu_si512(o);
	}
	for (int c = 0; c < cin; c++)
	for (long t0 = 0; t0 < tp; t0 += 16) {
		__m512 d[6][6];
		int ti = (int)(t0 / tw);
		#pragma GCC unroll 6
		for (int r = 0; r < 6; r++) {
			int y[4];
			#pragma GCC unroll 4
			for (int q = 0; q < nq; q++)   /* past the last tile row: 0 */
				y[q] = t0 + (long)q * k < ntiles ? 4 * (ti + q) - 1 + r : h;
			w4_row(x + c * cs, h, w, k, y, ix, d[r]);
			if (!up)
				bt6(d[r]);
		}
		float *o = v + (long)c * tp + t0;
		if (up) {
			__m512 e[2][6][5];   /* B^T on each row's 5 from column b */
			#pragma GCC unroll 2
			for (int b = 0; b < 2; b++)
				#pragma GCC unroll 6
				for (int r = 0; r < 6; r++)
					bt5(d[r] + b, e[b][r]);
			#pragma GCC unroll 2
			for (int a = 0; a < 2; a++)
			#pragma GCC unroll 2
			for (int b = 0; b < 2; b++)
			#pragma GCC unroll 5
			for (int j = 0; j < 5; j++) {   /* and on the columns from row a */
				__m512 col[5], t[5];
				#pragma GCC unroll 5
				for (int i = 0; i < 5; i++)
					col[i] = e[b][a + i][j];
				bt5(col, t);
				#pragma GCC unroll 5
				for (int i = 0; i < 5; i++)
					_mm512_storeu_ps(o + ((2 * a + b) * 25 + 5 * i + j) * vs, t[i]);
			}
			continue;
		}
		#pragma GCC unroll 6
		for (int j = 0; j < 6; j++) {   /* B^T on the columns of the rows */
			__m512 col[6];
			#pragma GCC unroll 6
			for (int i = 0; i < 6; i++)
				col[i] = d[i][j];
			bt6(col);
			#pragma GCC unroll 6
			for (int i = 0; i < 6; i++)
				_mm512_storeu_ps(o + (6 * i + j) * vs, col[i]);
		}
	}
}

/* V (36, C, tp) of one image (w4_ok): plane c of x at x + c * cs. */
static void w4_in_transform(const float *x, long cs, int cin, int h, int w, long tp,
                            float *v)
{
	if (w == 16)
		w4_in_k(4, 0, x, cs, cin, h, w, tp, v);
	else
		w4_in_k(8, 0, x, cs, cin, h, w, tp, v);
}

/* The sums t (16, tp) of one channel, output (i, j) of each tile in row
 * 4 i + j, from its M (36 rows of stride ms). */
static void w4_out_transform(const float *mo, long ms, long tp, float *t)
{
	for (long jj = 0; jj < tp; jj += 16) {
		__m512 e[4][6];
		for (int j = 0; j < 6; j++) {   /* A^T on each column */
			__m512 m[6], o[4];
			for (int i = 0; i < 6; i++)
				m[i] = _mm512_loadu_ps(mo + (6 * i + j) * ms + jj);
			at6(m, o);
			for (int i = 0; i < 4; i++)
				e[i][j] = o[i];
		}
		for (int i = 0; i < 4; i++) {   /* and on each row */
			__m512 o[4];
			at6(e[i], o);
			for (int j = 0; j < 4; j++)
				_mm512_storeu_ps(t + (4 * i + j) * tp + jj, o[j]);
		}
	}
}

/* The plane y (h, w) from t (16, tp): an output row's 16 columns from
 * 4 tiles at lane L0 on, (i, j) of tile L0 + u to column 4 u + j. */
static void w4_scatter(const float *t, long tp, int h, int w, float *y)
{
	int tw = w / 4, k = tw < 16 ? tw : 16, nq = 16 / k, th = h / 4;
	int ia[16], ib[16];
	for (int l = 0; l < 16; l++) {
		ia[l] = l % 4 == 1 ? 16 + l / 4 : l / 4;   /* j = 0 from a, 1 from b */
		ib[l] = l % 4 == 3 ? 16 + l / 4 : l / 4;   /* j = 2, 3 */
	}
	__m512i ja = _mm512_loadu_si512(ia), jb = _mm512_loadu_si512(ib);
	for (int ti = 0; ti < th; ti++) {
		long t0 = (long)(ti / nq) * 16;
		int lane = (ti % nq) * k;
		for (int i = 0; i < 4; i++) {
			const float *ti0 = t + (long)(4 * i) * tp + t0;
			__m512 r0 = _mm512_loadu_ps(ti0), r1 = _mm512_loadu_ps(ti0 + tp);
			__m512 r2 = _mm512_loadu_ps(ti0 + 2 * tp), r3 = _mm512_loadu_ps(ti0 + 3 * tp);
			float *yr = y + (long)(4 * ti + i) * w;
			for (int u0 = 0; u0 < k; u0 += 4) {
				__m512i off = _mm512_set1_epi32(lane + u0);
				__m512 a = _mm512_permutex2var_ps(r0, _mm512_add_epi32(ja, off), r1);
				__m512 b = _mm512_permutex2var_ps(r2, _mm512_add_epi32(jb, off), r3);
				_mm512_storeu_ps(yr + 4 * u0, _mm512_mask_blend_ps(0xcccc, a, b));
			}
		}
	}
}

void w4_run(const float *u, const float *x, int cin, int cout, int n, int h, int w,
            int m, float *y, const struct depi *ep, float *scratch)
{
	static const struct wform f = { 36, 16, w4_out_transform, w4_scatter };
	long tp = tp4(h, w), hw = (long)h * w;
	float *v = scratch, *mo = v + 36 * vstr(cin, tp), *t = mo + 36 * mstr(tp);
	w4_in_transform(x + m * hw, (long)n * hw, cin, h, w, tp, v);
	finish(&f, u, v, cin, cout, tp, mo, t, h, w, y + m * hw, n * hw, ep);
}

/* The fused up + conv (wup above) with F(4x4,2x2) per phase, small images
 * 16 or 32 wide (w4_ok), with the points 0, +-1, 2 and infinity:
 *     B^T = [2 -1 -2 1 0; 0 -2 -1 1 0; 0 2 -3 1 0; 0 -1 0 1 0; 0 2 -1 -2 1],
 *     G   = [1/2 0; -1/2 -1/2; -1/6 1/6; 1/6 1/3; 0 1],
 *     A^T = [1 1 1 1 0; 0 1 -1 2 0; 0 1 1 4 0; 0 1 -1 8 1],
 * xi = 5 i + j. Phase (a, b)'s tile (ti, tj) reads small rows
 * 4 ti + a - 1 .. + 4 and columns 4 tj + b - 1 .. + 4: the four phases
 * share one 6x6 patch. V (4, 25, C, tp), M (4, 25, 8, tp), sums
 * (4, 16, tp): 100 multiplications per tile of 4x4 small pixels (64
 * outputs) and channel pair, where four F(2x2,2x2) take 144. */

size_t wu4_wfloats(int cin, int cout)
{
	return ufloats(100, cin, cout);
}

size_t wu4_scratch(int cin, int h, int w)
{
	long tp = tp4(h, w);
	return (size_t)(100 * (vstr(cin, tp) + mstr(tp)) + 64 * tp);
}

void wu4_weights(const float *w, int cin, int cout, float *u)
{
	static const double G[5 * 2] = {
		1 / 2.0, 0, -1 / 2.0, -1 / 2.0, -1 / 6.0, 1 / 6.0, 1 / 6.0, 1 / 3.0, 0, 1,
	};
	weights_g(w, cin, cout, G, 5, 2, 4, u);
}

/* A^T m of five vectors into four. */
static inline __attribute__((always_inline)) void at5(const __m512 *m, __m512 *o)
{
	__m512 p = _mm512_add_ps(m[1], m[2]), q = _mm512_sub_ps(m[1], m[2]);
	o[0] = _mm512_add_ps(_mm512_add_ps(m[0], p), m[3]);
	o[1] = _mm512_fmadd_ps(_mm512_set1_ps(2), m[3], q);
	o[2] = _mm512_fmadd_ps(_mm512_set1_ps(4), m[3], p);
	o[3] = _mm512_add_ps(_mm512_fmadd_ps(_mm512_set1_ps(8), m[3], q), m[4]);
}

/* The sums t (16, tp) of one channel and phase, output (i, j) of each
 * tile in row 4 i + j, from its M (25 rows of stride ms). */
static void wu4_out_transform(const float *mo, long ms, long tp, float *t)
{
	for (long jj = 0; jj < tp; jj += 16) {
		__m512 e[4][5];
		#pragma GCC unroll 5
		for (int j = 0; j < 5; j++) {
			__m512 m[5], o[4];
			#pragma GCC unroll 5
			for (int i = 0; i < 5; i++)
				m[i] = _mm512_loadu_ps(mo + (5 * i + j) * ms + jj);
			at5(m, o);
			#pragma GCC unroll 4
			for (int i = 0; i < 4; i++)
				e[i][j] = o[i];
		}
		#pragma GCC unroll 4
		for (int i = 0; i < 4; i++) {
			__m512 o[4];
			at5(e[i], o);
			#pragma GCC unroll 4
			for (int j = 0; j < 4; j++)
				_mm512_storeu_ps(t + (4 * i + j) * tp + jj, o[j]);
		}
	}
}

/* All four phases' sums t (4, 16, tp) of one channel from its M (4, 25
 * rows of stride ms). */
static void wu4_out_all(const float *mo, long ms, long tp, float *t)
{
	for (int q = 0; q < 4; q++)
		wu4_out_transform(mo + q * 25 * ms, ms, tp, t + (long)q * 16 * tp);
}

/* The plane y (2h, 2w) from t (4 phases, 16, tp): output row
 * 2 (4 ti + i) + a, column 2 (4 tj + j) + b is phase (a, b)'s (i, j) of
 * tile (ti, tj). 16 columns are two tiles from lane L0: column 8 u + 2 j
 * + b from lane L0 + u of phase (a, b)'s row 4 i + j. */
static void wu4_scatter(const float *t, long tp, int h, int w, float *y)
{
	int tw = w / 4, k = tw < 16 ? tw : 16, nq = 16 / k, th = h / 4, w2 = 2 * w;
	int ix[16];
	for (int l = 0; l < 16; l++)   /* column l: b = l mod 2, u = l / 8 */
		ix[l] = (l % 2 ? 16 : 0) + l / 8;
	__m512i base = _mm512_loadu_si512(ix);
	for (int ti = 0; ti < th; ti++) {
		long t0 = (long)(ti / nq) * 16;
		int lane = (ti % nq) * k;
		for (int i = 0; i < 4; i++)
		for (int a = 0; a < 2; a++) {
			const float *p0 = t + (long)(2 * a * 16 + 4 * i) * tp + t0;   /* b = 0 */
			const float *p1 = p0 + 16 * tp;                               /* b = 1 */
			float *yr = y + (long)(2 * (4 * ti + i) + a) * w2;
			for (int u0 = 0; u0 < k; u0 += 2) {
				__m512i idx = _mm512_add_epi32(base, _mm512_set1_epi32(lane + u0));
				__m512 r = _mm512_setzero_ps();
				#pragma GCC unroll 4
				for (int j = 0; j < 4; j++)
					r = _mm512_mask_blend_ps((__mmask16)(0x0303 << (2 * j)), r,
						_mm512_permutex2var_ps(_mm512_loadu_ps(p0 + j * tp), idx,
						                       _mm512_loadu_ps(p1 + j * tp)));
				_mm512_storeu_ps(yr + 8 * u0, r);
			}
		}
	}
}

void wu4_run(const float *u, const float *x, int cin, int cout, int n, int h, int w,
             int m, float *y, const struct depi *ep, float *scratch)
{
	static const struct wform f = { 100, 64, wu4_out_all, wu4_scatter };
	long tp = tp4(h, w), hw = (long)h * w;
	float *v = scratch, *mo = v + 100 * vstr(cin, tp), *t = mo + 100 * mstr(tp);
	if (w == 16)
		w4_in_k(4, 1, x + m * hw, (long)n * hw, cin, h, w, tp, v);
	else
		w4_in_k(8, 1, x + m * hw, (long)n * hw, cin, h, w, tp, v);
	finish(&f, u, v, cin, cout, tp, mo, t, h, w, y + m * 4 * hw, n * 4 * hw, ep);
}

#else   /* no AVX-512: convolutions stay on the other paths */

int wino_ok(int k, int s, int pt, int pl, int h, int w, int oh, int ow) { return 0; }
size_t wino_wfloats(int cin, int cout) { return 0; }
size_t wino_scratch(int cin, int h, int w) { return 0; }
void wino_weights(const float *w, int cin, int cout, float *u) { }
void wino_run(const float *u, const float *x, int cin, int cout, int n, int h, int w,
              int m, float *y, const struct depi *ep, float *scratch) { }
size_t wup_wfloats(int cin, int cout) { return 0; }
size_t wup_scratch(int cin, int h, int w) { return 0; }
void wup_weights(const float *w, int cin, int cout, float *u) { }
void wup_run(const float *u, const float *x, int cin, int cout, int n, int h, int w,
             int m, float *y, const struct depi *ep, float *scratch) { }
size_t ws2_wfloats(int cin, int cout) { return 0; }
size_t ws2_scratch(int cin, int oh, int ow) { return 0; }
int ws2_ok(int k, int s, int pt, int pl, int oh, int ow) { return 0; }
void ws2_weights(const float *w, int cin, int cout, float *u) { }
void ws2_run(const float *u, const float *x, int cin, int cout, int n, int h, int w,
             int oh, int ow, int m, float *y, const struct depi *ep, float *scratch) { }
int w4_ok(int h, int w) { return 0; }
size_t wu4_wfloats(int cin, int cout) { return 0; }
size_t wu4_scratch(int cin, int h, int w) { return 0; }
void wu4_weights(const float *w, int cin, int cout, float *u) { }
void wu4_run(const float *u, const float *x, int cin, int cout, int n, int h, int w,
             int m, float *y, const struct depi *ep, float *scratch) { }
size_t w4_wfloats(int cin, int cout) { return 0; }
size_t w4_scratch(int cin, int h, int w) { return 0; }
void w4_weights(const float *w, int cin, int cout, float *u) { }
void w4_run(const float *u, const float *x, int cin, int cout, int n, int h, int w,
            int m, float *y, const struct depi *ep, float *scratch) { }

#endif
