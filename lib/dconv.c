/* dconv.c - direct convolution kernels for phase plans, see dconv.h
 *
 * A destination phase is cut into 16-pixel vectors (image, row, vector)
 * in order; a register tile is MB output channels times RB such vectors
 * (at most 24 accumulators of the 32 registers). For every group and
 * source channel it loads RB source vectors, shifted by the group's
 * offset in the zero-padded planes, and adds each times MB broadcast
 * weights. The weight gradient tiles 4 output channels times 5 (channel,
 * group) pairs (29 registers with the 9 loaded vectors) and sweeps the
 * item's vectors, dy times shifted source.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "dconv.h"
#include "nn.h"

#ifdef __AVX512F__
#include <immintrin.h>
#endif

/* Largest shift of any group, and which source phases are read. */
static void extents(const struct cplan *p, int *dimin, int *dimax, int *djmin,
                    int *djmax, int *phases)
{
	*dimin = *dimax = *djmin = *djmax = 0;
	*phases = 0;
	for (int i = 0; i < p->ng; i++) {
		const struct cgroup *g = &p->g[i];
		if (g->di < *dimin) *dimin = g->di;
		if (g->di > *dimax) *dimax = g->di;
		if (g->dj < *djmin) *djmin = g->dj;
		if (g->dj > *djmax) *djmax = g->dj;
		if (g->sr || g->sc)
			*phases = 1;
	}
}

static int imax(int a, int b) { return a > b ? a : b; }

void dconv_geom(const struct cplan *p, struct dgeom *gm)
{
	int dimin, dimax, djmin, djmax, ph4, st = p->sstep;
	extents(p, &dimin, &dimax, &djmin, &djmax, &ph4);
	memset(gm, 0, sizeof *gm);
	gm->direct = p->direct;
	gm->ns = ph4 ? st * st : 1;
	int hs = (p->sh + st - 1) / st, ws = (p->sw + st - 1) / st;
	int nv = (p->cols + 15) / 16;
	gm->top = imax(0, -dimin);
	gm->left = imax(0, -djmin);
	gm->ph = gm->top + imax(hs, p->rows + dimax);
	gm->pitch = gm->left + imax(ws, 16 * nv + djmax);
	gm->plane = (long)gm->ph * gm->pitch;
	gm->image = gm->ns * p->cin * gm->plane;
}

#ifdef __AVX512F__

int dconv_ok(const struct cplan *p, long max_image)
{
	struct dgeom gm;
	if (p->cin < 1 || p->cout < 1 || p->sstep > 2 || p->dstep > 2)
		return 0;
	dconv_geom(p, &gm);
	return gm.direct || gm.image + 64 <= max_image;
}

static int ob_count(const struct cplan *p) { return (p->cout + 7) / 8; }

size_t dconv_wfloats(const struct cplan *p)
{
	size_t n = 0;
	for (int q = 0; q < p->nph; q++)
		n += (size_t)ob_count(p) * 8 * p->cin * p->ph[q].ng;
	return n;
}

/* Offset of phase q's packed weights. */
static size_t woff(const struct cplan *p, int q)
{
	size_t n = 0;
	for (int i = 0; i < q; i++)
		n += (size_t)ob_count(p) * 8 * p->cin * p->ph[i].ng;
	return n;
}

void dconv_weights(const struct cplan *p, const float *a, float *wp)
{
	for (int q = 0; q < p->nph; q++) {
		const struct cphase *ph = &p->ph[q];
		const float *aq = p->rearranged ? a + ph->woff : a;
		float *w = wp + woff(p, q);
		int ng = ph->ng, cin = p->cin;
		for (int ob = 0; ob < ob_count(p); ob++)
		for (int g = 0; g < ng; g++)
		for (int c = 0; c < cin; c++)
		for (int i = 0; i < 8; i++) {
			int o = ob * 8 + i;
			w[(((long)ob * ng + g) * cin + c) * 8 + i] =
				o < p->cout ? aq[((long)o * cin + c) * ng + g] : 0;
		}
	}
}

/* ws samples of a source row read every step (1 or 2) into d. */
static void copy_row(float *d, const float *row, int ws, int step)
{
	const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16,
	                                      14, 12, 10, 8, 6, 4, 2, 0);
	for (int j = 0; j < ws; j += 16) {
		int left = ws - j < 16 ? ws - j : 16;
		__mmask16 m = (__mmask16)((1u << left) - 1);
		__m512 v;
		if (step == 1) {
			v = _mm512_maskz_loadu_ps(m, row + j);
		} else {
			/* samples 2j .. 2j + 2 left - 2 */
			int n2 = 2 * left - 1;
			__mmask16 ma = (__mmask16)(n2 >= 16 ? 0xffff : (1u << n2) - 1);
			__mmask16 mb = (__mmask16)(n2 > 16 ? (1u << (n2 - 16)) - 1 : 0);
			__m512 a = _mm512_maskz_loadu_ps(ma, row + 2 * j);
			__m512 b = _mm512_maskz_loadu_ps(mb, row + 2 * j + 16);
			v = _mm512_permutex2var_ps(a, even, b);
		}
		_mm512_mask_storeu_ps(d + j, m, v);
	}
}

void dconv_pack(const struct cplan *p, const struct dgeom *gm, const float *src,
                int n, int m0, int m1, float *buf)
{
	if (gm->direct)
		return;
	int st = p->sstep;
	long hw = (long)p->sh * p->sw;
	for (int m = m0; m < m1; m++)
	for (int s = 0; s < gm->ns; s++) {
		int sr = s / st, sc = s % st;
		int hs = p->sh > sr ? (p->sh - sr + st - 1) / st : 0;
		int ws = p->sw > sc ? (p->sw - sc + st - 1) / st : 0;
		int right = gm->pitch - gm->left - ws;
		for (int c = 0; c < p->cin; c++) {
			const float *pl = src + ((long)c * n + m) * hw;
			float *d = buf + (m - m0) * gm->image + ((long)s * p->cin + c) * gm->plane;
			/* zero borders, source rows in between */
			memset(d, 0, sizeof *d * (size_t)gm->top * gm->pitch);
			d += (long)gm->top * gm->pitch;
			for (int i = 0; i < hs; i++, d += gm->pitch) {
				for (int j = 0; j < gm->left; j++)
					d[j] = 0;
				copy_row(d + gm->left, pl + (long)(st * i + sr) * p->sw + sc, ws, st);
				for (int j = 0; j < right; j++)
					d[gm->left + ws + j] = 0;
			}
			memset(d, 0, sizeof *d * (size_t)(gm->ph - gm->top - hs) * gm->pitch);
		}
	}
}

static __m512 exp512(__m512 x)
{
	/* Cephes expf: x = n ln2 + r, |r| <= ln2/2, degree-6 polynomial;
	 * x as the second operand of max and min, which keeps a NaN */
	x = _mm512_min_ps(_mm512_set1_ps(88.3f), _mm512_max_ps(_mm512_set1_ps(-87.3f), x));
	__m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
	                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
	__m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
	r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
	__m512 y = _mm512_set1_ps(1.9875691500e-4f);
	y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.3981999507e-3f));
	y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(8.3334519073e-3f));
	y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(4.1665795894e-2f));
	y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.6666665459e-1f));
	y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(5.0000001201e-1f));
	y = _mm512_fmadd_ps(y, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1)));
	return _mm512_scalef_ps(y, n);
}

static __m512 sigmoid512(__m512 x)
{
	__m512 one = _mm512_set1_ps(1);
	return _mm512_div_ps(one, _mm512_add_ps(one, exp512(_mm512_sub_ps(_mm512_setzero_ps(), x))));
}

void dconv_sigmoid(float *y, long n)
{
	long i = 0;
	for (; i + 16 <= n; i += 16)
		_mm512_storeu_ps(y + i, sigmoid512(_mm512_loadu_ps(y + i)));
	if (i < n) {
		__mmask16 m = (__mmask16)((1u << (n - i)) - 1);
		_mm512_mask_storeu_ps(y + i, m, sigmoid512(_mm512_maskz_loadu_ps(m, y + i)));
	}
}

static __m512 activate(__m512 v, int act)
{
	if (act == ACT_RELU)
		return _mm512_max_ps(v, _mm512_setzero_ps());
	if (act == ACT_SIGMOID)
		return sigmoid512(v);
	return v;
}

/* Where vector e of a tile reads and writes. */
struct vec {
	long src;          /* source offset without group shift and channel */
	long dst;          /* destination offset without output channel */
	__mmask16 ld, st;  /* lanes loaded (direct geometry), stored */
	__mmask16 lo, hi;  /* stride-2 destinations: the stores of store2 */
};

/* Lane L of 16 to float 2L: the even lanes of two stores. */
static void spread(__mmask16 m, __mmask16 *lo, __mmask16 *hi)
{
	*lo = *hi = 0;
	for (int i = 0; i < 8; i++) {
		*lo |= (__mmask16)(((m >> i) & 1) << 2 * i);
		*hi |= (__mmask16)(((m >> (8 + i)) & 1) << 2 * i);
	}
}

/* Interleaves v into every second float from d (phase column qc of a
 * stride-2 destination). */
static inline void store2(float *d, __m512 v, const struct vec *e)
{
	const __m512i lo = _mm512_set_epi32(0, 7, 0, 6, 0, 5, 0, 4, 0, 3, 0, 2, 0, 1, 0, 0);
	const __m512i hi = _mm512_set_epi32(0, 15, 0, 14, 0, 13, 0, 12, 0, 11, 0, 10, 0, 9, 0, 8);
	_mm512_mask_storeu_ps(d, e->lo, _mm512_permutexvar_ps(lo, v));
	if (e->hi)
		_mm512_mask_storeu_ps(d + 16, e->hi, _mm512_permutexvar_ps(hi, v));
}

#define UNROLL _Pragma("GCC unroll 8")

/* One forward tile: MB channels of block w ([ng][cin][8]) times RB
 * vectors. nt: whole aligned vectors of a stride-1 destination bypass the
 * cache. */
static inline __attribute__((always_inline)) void ftile(
	const int MB, const int RB, int ng, int cin, const float *w, const long *goff,
	long cstride, const float *src, const struct vec *v, float *dst, long ostride,
	int dstep, int nt, const float *bias, const float *scale, const float *shift, int act)
{
	__m512 acc[8][8];   /* fixed sizes: no VLA, so they become registers */
	UNROLL for (int i = 0; i < MB; i++)
		UNROLL for (int r = 0; r < RB; r++)
			acc[i][r] = _mm512_setzero_ps();
	for (int g = 0; g < ng; g++) {
		const float *p[8];
		UNROLL for (int r = 0; r < RB; r++)
			p[r] = src + v[r].src + goff[g];
		const float *wg = w + (long)g * cin * 8;
		#pragma GCC unroll 1
		for (int c = 0; c < cin; c++) {
			__m512 x[8];
			UNROLL for (int r = 0; r < RB; r++)
				x[r] = _mm512_maskz_loadu_ps(v[r].ld, p[r] + c * cstride);
			UNROLL for (int i = 0; i < MB; i++) {
				__m512 wv = _mm512_set1_ps(wg[c * 8 + i]);
				UNROLL for (int r = 0; r < RB; r++)
					acc[i][r] = _mm512_fmadd_ps(wv, x[r], acc[i][r]);
			}
		}
	}
	UNROLL for (int i = 0; i < MB; i++) {
		__m512 b = _mm512_set1_ps(bias ? bias[i] : 0);
		__m512 s = _mm512_set1_ps(scale ? scale[i] : 1);
		__m512 t = _mm512_set1_ps(scale ? shift[i] : 0);
		UNROLL for (int r = 0; r < RB; r++) {
			if (!v[r].st)
				continue;
			__m512 y = activate(_mm512_add_ps(acc[i][r], b), act);
			if (scale)   /* mul then add, as the bn's own pass */
				y = _mm512_add_ps(_mm512_mul_ps(y, s), t);
			float *d = dst + i * ostride + v[r].dst;
			if (dstep != 1)
				store2(d, y, &v[r]);
			else if (nt && v[r].st == 0xffff && !((uintptr_t)d & 63))
				_mm512_stream_ps(d, y);
			else
				_mm512_mask_storeu_ps(d, v[r].st, y);
		}
	}
}

/* The tile shapes for MB = 8, 7, ..., 1 output channels. */
static void ftile_any(int mb, int ng, int cin, const float *w, const long *goff,
                      long cstride, const float *src, const struct vec *v, float *dst,
                      long ostride, int dstep, int nt, const float *bias,
                      const float *scale, const float *shift, int act)
{
#define F(MB, RB) ftile(MB, RB, ng, cin, w, goff, cstride, src, v, dst, ostride, dstep, \
                        nt, bias, scale, shift, act)
	switch (mb) {
	case 8: F(8, 3); break;
	case 7: F(7, 3); break;
	case 6: F(6, 4); break;
	case 5: F(5, 4); break;
	case 4: F(4, 6); break;
	case 3: F(3, 8); break;
	case 2: F(2, 8); break;
	default: F(1, 8); break;
	}
#undef F
}

static int tile_rows(int mb)
{
	static const int rb[9] = { 8, 8, 8, 8, 6, 4, 4, 3, 3 };
	return rb[mb];
}

/* Vectors e0 .. e0 + ne - 1 (in order image, row, vector) of phase ph
 * over images from m0: offsets and masks into vs, and if dyoff is not NULL
 * their offsets in a block of the phase's pixels. */
static void vec_list(const struct cplan *p, const struct dgeom *gm, const struct cphase *ph,
                     int m0, long e0, long ne, struct vec *vs, long *dyoff)
{
	int nv = (ph->ow + 15) / 16;
	long per = (long)ph->oh * nv;
	int m = (int)(e0 / per), i = (int)(e0 % per / nv), k = (int)(e0 % nv);
	for (long e = 0; e < ne; e++) {
		struct vec *v = &vs[e];
		int j = k * 16, left = ph->ow - j < 16 ? ph->ow - j : 16;
		v->st = (__mmask16)((1u << left) - 1);
		if (gm->direct) {
			v->src = (long)(m0 + m) * p->sh * p->sw + (long)i * p->sw + j;
			v->ld = v->st;
		} else {
			v->src = m * gm->image + (long)(i + gm->top) * gm->pitch + gm->left + j;
			v->ld = 0xffff;
		}
		v->dst = (long)(m0 + m) * p->dh * p->dw + (long)(p->dstep * i + ph->qr) * p->dw +
		         p->dstep * j + ph->qc;
		spread(v->st, &v->lo, &v->hi);
		if (dyoff)
			dyoff[e] = ((long)m * ph->oh + i) * ph->ow + j;
		if (++k == nv) {
			k = 0;
			if (++i == ph->oh)
				i = 0, m++;
		}
	}
}

/* Group offsets in the packed planes (channel 0). */
static void group_offsets(const struct cplan *p, const struct dgeom *gm,
                          const struct cphase *ph, long *goff)
{
	for (int g = 0; g < ph->ng; g++) {
		const struct cgroup *gr = &p->g[ph->g0 + g];
		int s = gm->ns > 1 ? gr->sr * p->sstep + gr->sc : 0;
		goff[g] = gm->direct ? 0 : s * p->cin * gm->plane + (long)gr->di * gm->pitch + gr->dj;
	}
}

/* Vectors per chunk of a sweep (stack arrays). */
#define CHUNK 512
/* Destinations of at least this many bytes are written with streaming
 * stores. */
#define NT_BYTES (8 << 20)

void dconv_run(const struct cplan *p, const struct dgeom *gm, int q, const float *wp,
               const float *src, int n, int m0, int m1, float *dst,
               const struct depi *ep)
{
	static const struct depi none = { NULL, NULL, NULL, ACT_NONE };
	const struct cphase *ph = &p->ph[q];
	long goff[PLAN_MAX_GROUPS];
	long cstride = gm->direct ? (long)n * p->sh * p->sw : gm->plane;
	long ostride = (long)n * p->dh * p->dw;
	long nvec = (long)(m1 - m0) * ph->oh * ((ph->ow + 15) / 16);
	const float *w = wp + woff(p, q);
	struct vec vs[CHUNK + 8];
	/* a destination much larger than the caches goes to memory anyway:
	 * writing it around them saves reading each line first */
	int nt = (double)p->cout * ostride * sizeof(float) >= NT_BYTES;
	if (!ep)
		ep = &none;
	group_offsets(p, gm, ph, goff);
	for (long c0 = 0; c0 < nvec; c0 += CHUNK) {
		long ne = nvec - c0 < CHUNK ? nvec - c0 : CHUNK;
		vec_list(p, gm, ph, m0, c0, ne, vs, NULL);
		for (int r = 0; r < 8; r++) {
			vs[ne + r] = vs[0];   /* tile tails: read in bounds, store nothing */
			vs[ne + r].st = 0;
		}
		for (int ob = 0; ob < ob_count(p); ob++) {
			int mb = p->cout - ob * 8 < 8 ? p->cout - ob * 8 : 8, rb = tile_rows(mb);
			const float *wb = w + (long)ob * ph->ng * p->cin * 8;
			float *db = dst + (long)ob * 8 * ostride;
			const float *bb = ep->bias ? ep->bias + ob * 8 : NULL;
			const float *sb = ep->scale ? ep->scale + ob * 8 : NULL;
			const float *tb = ep->scale ? ep->shift + ob * 8 : NULL;
			for (long e0 = 0; e0 < ne; e0 += rb)
				ftile_any(mb, ph->ng, p->cin, wb, goff, cstride, src, vs + e0, db,
				          ostride, p->dstep, nt, bb, sb, tb, ep->act);
		}
	}
	if (nt)
		_mm_sfence();   /* the streamed stores before what follows */
}

/* One weight-gradient tile: MB output channels times NB (channel, group)
 * pairs, summed over nvec vectors. */
static inline __attribute__((always_inline)) void wtile(
	const int MB, const int NB, long nvec, const struct vec *vs, const long *dyoff,
	const float *dy, long ld, const float *src, const long *poff, float *dw, long ldw)
{
	__m512 acc[4][5];
	UNROLL for (int i = 0; i < MB; i++)
		UNROLL for (int j = 0; j < NB; j++)
			acc[i][j] = _mm512_setzero_ps();
	for (long e = 0; e < nvec; e++) {
		const struct vec *v = &vs[e];
		__m512 d[4], x[5];
		UNROLL for (int i = 0; i < MB; i++)
			d[i] = _mm512_maskz_loadu_ps(v->st, dy + i * ld + dyoff[e]);
		UNROLL for (int j = 0; j < NB; j++)
			x[j] = _mm512_maskz_loadu_ps(v->ld, src + v->src + poff[j]);
		UNROLL for (int i = 0; i < MB; i++)
			UNROLL for (int j = 0; j < NB; j++)
				acc[i][j] = _mm512_fmadd_ps(d[i], x[j], acc[i][j]);
	}
	UNROLL for (int i = 0; i < MB; i++)
		UNROLL for (int j = 0; j < NB; j++)
			dw[i * ldw + j] += _mm512_reduce_add_ps(acc[i][j]);
}

static void wtile_any(int mb, int nb, long nvec, const struct vec *vs, const long *dyoff,
                      const float *dy, long ld, const float *src, const long *poff,
                      float *dw, long ldw)
{
#define W(MB, NB) wtile(MB, NB, nvec, vs, dyoff, dy, ld, src, poff, dw, ldw)
#define WN(MB) switch (nb) { case 5: W(MB, 5); break; \
	case 4: W(MB, 4); break; case 3: W(MB, 3); break; case 2: W(MB, 2); break; \
	default: W(MB, 1); break; }
	switch (mb) {
	case 4: WN(4); break;
	case 3: WN(3); break;
	case 2: WN(2); break;
	default: WN(1); break;
	}
#undef WN
#undef W
}


void dconv_wgrad(const struct cplan *p, const struct dgeom *gm, int q,
                 const float *dyq, long ld, const float *src, int n, int m0, int m1,
                 float *dwq)
{
	const struct cphase *ph = &p->ph[q];
	long goff[PLAN_MAX_GROUPS];
	long cstride = gm->direct ? (long)n * p->sh * p->sw : gm->plane;
	int nv = (ph->ow + 15) / 16, npairs = p->cin * ph->ng;
	long nvec = (long)(m1 - m0) * ph->oh * nv, ldw = npairs;
	group_offsets(p, gm, ph, goff);
	struct vec vs[CHUNK];
	long dyoff[CHUNK];
	for (long e0 = 0; e0 < nvec; e0 += CHUNK) {
		long ne = nvec - e0 < CHUNK ? nvec - e0 : CHUNK;
		vec_list(p, gm, ph, m0, e0, ne, vs, dyoff);
		for (int o0 = 0; o0 < p->cout; o0 += 4) {
			int mb = p->cout - o0 < 4 ? p->cout - o0 : 4;
			for (int j0 = 0; j0 < npairs; j0 += 5) {
				int nb = npairs - j0 < 5 ? npairs - j0 : 5;
				long poff[5];
				for (int j = 0; j < nb; j++) {
					int c = (j0 + j) / ph->ng, g = (j0 + j) % ph->ng;
					poff[j] = c * cstride + goff[g];
				}
				wtile_any(mb, nb, ne, vs, dyoff, dyq + o0 * ld, ld, src, poff,
				          dwq + (long)o0 * ldw + j0, ldw);
			}
		}
	}
}

#else   /* no AVX-512: callers take the im2col + GEMM path */

int dconv_ok(const struct cplan *p, long max_image) { (void)p; (void)max_image; return 0; }
size_t dconv_wfloats(const struct cplan *p) { (void)p; return 0; }
void dconv_weights(const struct cplan *p, const float *a, float *wp) { (void)p; (void)a; (void)wp; }
void dconv_pack(const struct cplan *p, const struct dgeom *gm, const float *src,
                int n, int m0, int m1, float *buf) { }
void dconv_run(const struct cplan *p, const struct dgeom *gm, int q, const float *wp,
               const float *src, int n, int m0, int m1, float *dst,
               const struct depi *ep) { }
void dconv_wgrad(const struct cplan *p, const struct dgeom *gm, int q,
                 const float *dyq, long ld, const float *src, int n, int m0, int m1,
                 float *dwq) { }

void dconv_sigmoid(float *y, long n)
{
	for (long i = 0; i < n; i++) {
		/* never exp of a large positive number: no overflow, no NaN */
		float x = y[i];
		if (x >= 0) {
			y[i] = 1 / (1 + expf(-x));
		} else {
			float e = expf(x);
			y[i] = e / (1 + e);
		}
	}
}

#endif

void dconv_epilogue(const struct depi *ep, int o, float *y, long len)
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
		/* mul then add, as the bn's own pass */
		float s = ep->scale[o], t = ep->shift[o];
		#pragma omp simd
		for (long j = 0; j < len; j++)
			y[j] = y[j] * s + t;
	}
}
