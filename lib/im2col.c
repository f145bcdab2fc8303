/* im2col.c - phase plans of convolutions and their column copies, see
 * im2col.h */
#include <stddef.h>
#include <string.h>

#include "im2col.h"

/* Floor division and the matching non-negative remainder. */
static int fdiv(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
static int fmodp(int a, int b) { return a - fdiv(a, b) * b; }

/* Entries of phase r of an axis of n entries taken every step. */
static int phase_len(int n, int r, int step) { return n > r ? (n - r + step - 1) / step : 0; }

struct key { int sr, sc, di, dj; };

/* Where tap (ki, kj) reads from for destination phase (qr, qc) of a plan
 * of KIND; 0 if the tap does not reach that phase. */
static int tap_key(int kind, int qr, int qc, int ki, int kj, int s, int pt, int pl,
                   struct key *key)
{
	key->sr = key->sc = 0;
	switch (kind) {
	case PLAN_FWD:
		/* y[oh] reads x[s oh + ki - pt] = phase (ki-pt) mod s, row oh + di */
		key->sr = fmodp(ki - pt, s), key->sc = fmodp(kj - pl, s);
		key->di = fdiv(ki - pt, s), key->dj = fdiv(kj - pl, s);
		return 1;
	case PLAN_DX:
		/* dx[s i + qr] gets dy[oh] for s oh + ki - pt = s i + qr */
		if ((qr + pt - ki) % s || (qc + pl - kj) % s)
			return 0;
		key->di = (qr + pt - ki) / s, key->dj = (qc + pl - kj) / s;
		return 1;
	default:
		/* y[2 i + qr] reads u[2 i + qr + ki - pt], u[r] = x[floor(r/2)] */
		key->di = fdiv(qr + ki - pt, 2), key->dj = fdiv(qc + kj - pl, 2);
		return 1;
	}
}

static int same_key(const struct cgroup *g, const struct key *k)
{
	return g->sr == k->sr && g->sc == k->sc && g->di == k->di && g->dj == k->dj;
}

/* Groups and taps of phase (qr, qc): taps reading the same source pixel
 * form one group (only the UP kinds have such), in order of first tap. */
static void add_phase(struct cplan *p, int kind, int qr, int qc, int s, int pt, int pl)
{
	struct cphase *ph = &p->ph[p->nph++];
	int k = p->k;
	struct key key;
	ph->qr = qr, ph->qc = qc;
	ph->oh = phase_len(p->dh, qr, p->dstep);
	ph->ow = phase_len(p->dw, qc, p->dstep);
	ph->g0 = p->ng, ph->ng = 0, ph->woff = 0;
	if (kind == PLAN_UP_DX)
		return;
	for (int t = 0; t < k * k; t++) {
		if (!tap_key(kind, qr, qc, t / k, t % k, s, pt, pl, &key))
			continue;
		int found = 0;
		for (int i = ph->g0; i < p->ng && !found; i++)
			found = same_key(&p->g[i], &key);
		if (found)
			continue;
		struct cgroup *g = &p->g[p->ng++];
		g->sr = key.sr, g->sc = key.sc, g->di = key.di, g->dj = key.dj;
		g->t0 = p->nt, g->nt = 0;
		for (int u = t; u < k * k; u++)
			if (tap_key(kind, qr, qc, u / k, u % k, s, pt, pl, &key) && same_key(g, &key))
				p->tap[p->nt + g->nt++] = (short)u;
		p->nt += g->nt;
		ph->ng++;
	}
}

void plan_make(struct cplan *p, int kind, int k, int s, int pt, int pl,
               int c, int h, int w, int oc, int oh, int ow)
{
	memset(p, 0, offsetof(struct cplan, g));
	p->k = k;
	p->forward = kind == PLAN_FWD || kind == PLAN_UP_FWD;
	p->cin = p->forward ? c : oc, p->cout = p->forward ? oc : c;
	switch (kind) {
	case PLAN_FWD:
		p->sstep = s, p->sh = h, p->sw = w;
		p->dstep = 1, p->dh = oh, p->dw = ow;
		add_phase(p, kind, 0, 0, s, pt, pl);
		break;
	case PLAN_DX:
		p->sstep = 1, p->sh = oh, p->sw = ow;
		p->dstep = s, p->dh = h, p->dw = w;
		for (int q = 0; q < s * s; q++)
			add_phase(p, kind, q / s, q % s, s, pt, pl);
		break;
	case PLAN_UP_FWD:
		/* the source is the small image: h x w */
		p->sstep = 1, p->sh = h, p->sw = w;
		p->dstep = 2, p->dh = oh, p->dw = ow;
		for (int q = 0; q < 4; q++)
			add_phase(p, kind, q / 2, q % 2, 1, pt, pl);
		break;
	default: {
		/* the adjoint of PLAN_UP_FWD: its groups, read from the phases
		 * of dy and shifted the other way, all into the small image */
		plan_make(p, PLAN_UP_FWD, k, 1, pt, pl, c, h, w, oc, oh, ow);
		struct cphase fph[4];
		memcpy(fph, p->ph, sizeof fph);
		for (int q = 0; q < 4; q++)
			for (int i = fph[q].g0; i < fph[q].g0 + fph[q].ng; i++) {
				struct cgroup *g = &p->g[i];
				g->sr = fph[q].qr, g->sc = fph[q].qc;
				g->di = -g->di, g->dj = -g->dj;
			}
		int ng = p->ng;
		p->forward = 0;
		p->cin = oc, p->cout = c;
		p->sstep = 2, p->sh = oh, p->sw = ow;
		p->dstep = 1, p->dh = h, p->dw = w;
		p->nph = 0;
		add_phase(p, PLAN_UP_DX, 0, 0, 1, pt, pl);
		p->ph[0].g0 = 0, p->ph[0].ng = ng;
		p->ng = ng;
		p->rows = p->cols = p->kmax = 0;
		break;
	}
	}
	p->rearranged = kind != PLAN_FWD;
	long off = 0;
	for (int q = 0; q < p->nph; q++) {
		struct cphase *ph = &p->ph[q];
		ph->woff = off;
		off += (long)p->cout * p->cin * ph->ng;
		if (ph->oh > p->rows)
			p->rows = ph->oh;
		if (ph->ow > p->cols)
			p->cols = ph->ow;
		if (p->cin * ph->ng > p->kmax)
			p->kmax = p->cin * ph->ng;
	}
	p->wn = p->rearranged ? off : 0;
	const struct cgroup *g0 = &p->g[p->ph[0].g0];
	p->direct = p->nph == 1 && p->ph[0].ng == 1 && p->sstep == 1 && p->dstep == 1 &&
	            g0->di == 0 && g0->dj == 0 && p->ph[0].oh == p->sh && p->ph[0].ow == p->sw;
}

/* Offset of w[o][i][0][0] in the layer weights for plan rows o, columns i. */
static long wbase(const struct cplan *p, int o, int i)
{
	long kk = (long)p->k * p->k;
	return p->forward ? ((long)o * p->cin + i) * kk : ((long)i * p->cout + o) * kk;
}

void plan_weights(const struct cplan *p, const float *w, float *a)
{
	for (int q = 0; q < p->nph; q++) {
		const struct cphase *ph = &p->ph[q];
		float *aq = a + ph->woff;
		for (int o = 0; o < p->cout; o++)
		for (int i = 0; i < p->cin; i++) {
			const float *wi = w + wbase(p, o, i);
			float *ai = aq + ((long)o * p->cin + i) * ph->ng;
			for (int gi = 0; gi < ph->ng; gi++) {
				const struct cgroup *g = &p->g[ph->g0 + gi];
				float s = 0;
				for (int t = 0; t < g->nt; t++)
					s += wi[p->tap[g->t0 + t]];
				ai[gi] = s;
			}
		}
	}
}

void plan_weights_adjoint(const struct cplan *p, const float *da, float *dw)
{
	for (int q = 0; q < p->nph; q++) {
		const struct cphase *ph = &p->ph[q];
		const float *aq = da + ph->woff;
		for (int o = 0; o < p->cout; o++)
		for (int i = 0; i < p->cin; i++) {
			float *wi = dw + wbase(p, o, i);
			const float *ai = aq + ((long)o * p->cin + i) * ph->ng;
			for (int gi = 0; gi < ph->ng; gi++) {
				const struct cgroup *g = &p->g[ph->g0 + gi];
				for (int t = 0; t < g->nt; t++)
					wi[p->tap[g->t0 + t]] += ai[gi];
			}
		}
	}
}

void items_make(const struct cplan *p, int n, long budget, struct items *it)
{
	long kmax = p->kmax > 0 ? p->kmax : 1, per = (long)p->rows * p->cols;
	it->n = n;
	if (per < 1)
		per = 1;
	if (kmax * per <= budget) {
		long g = budget / (kmax * per);
		it->g = (int)(g > n ? n : g);
		it->count = (n + it->g - 1) / it->g;
		it->r = it->bands = 0;
	} else {
		long r = budget / (kmax * (p->cols > 0 ? p->cols : 1));
		it->g = 0;
		it->r = (int)(r < 1 ? 1 : r > p->rows ? p->rows : r);
		it->bands = (p->rows + it->r - 1) / it->r;
		it->r = (p->rows + it->bands - 1) / it->bands;   /* even bands */
		it->count = (long)n * it->bands;
	}
}

void item_span(const struct items *it, const struct cplan *p, long i,
               int *m0, int *m1, int *r0, int *r1)
{
	if (it->g) {
		*m0 = (int)(i * it->g);
		*m1 = *m0 + it->g < it->n ? *m0 + it->g : it->n;
		*r0 = 0, *r1 = p->rows;
		return;
	}
	*m0 = (int)(i / it->bands), *m1 = *m0 + 1;
	*r0 = (int)(i % it->bands) * it->r;
	*r1 = *r0 + it->r < p->rows ? *r0 + it->r : p->rows;
}

size_t items_cols_floats(const struct items *it, const struct cplan *p)
{
	long w = it->g ? (long)it->g * p->rows * p->cols : (long)it->r * p->cols;
	return (size_t)((p->kmax > 0 ? p->kmax : 1) * w);
}

size_t items_out_floats(const struct items *it, const struct cplan *p)
{
	long w = it->g ? (long)it->g * p->rows * p->cols : (long)it->r * p->cols;
	return (size_t)((long)p->cout * w);
}

static int clip(int v, int hi) { return v < hi ? v : hi; }

long plan_phase_cols(const struct cplan *p, int q, int m0, int m1, int r0, int r1)
{
	const struct cphase *ph = &p->ph[q];
	return (long)(m1 - m0) * (clip(r1, ph->oh) - clip(r0, ph->oh)) * ph->ow;
}

void plan_dst_range(const struct cplan *p, int m0, int m1, int r0, int r1,
                    long *j0, long *j1)
{
	long hw = (long)p->dh * p->dw;
	*j0 = m0 * hw + (long)clip(p->dstep * r0, p->dh) * p->dw;
	*j1 = (m1 - 1) * hw + (long)clip(p->dstep * r1, p->dh) * p->dw;
}

/* Rows [a, b) of one phase grid of width ow: dst gets the source grid
 * (hs x ws: plane[(step i + sr) * sw + step j + sc]) shifted by (di, dj),
 * zero outside it. */
static void shift_rows(float *dst, int a, int b, int ow, const float *plane, int sw,
                       int step, int sr, int sc, int hs, int ws, int di, int dj)
{
	/* rows and columns of dst that read inside the source grid */
	int va = -di > a ? -di : a, vb = hs - di < b ? hs - di : b;
	int lo = -dj > 0 ? -dj : 0, hi = ws - dj < ow ? ws - dj : ow;
	/* padding wider than the input or the band: clamp, or sizes go negative */
	if (va > b)
		va = b;
	if (vb < va)
		vb = va;
	if (lo > ow)
		lo = ow;
	if (hi < lo)
		hi = lo;
	memset(dst, 0, sizeof *dst * (size_t)(va - a) * ow);
	memset(dst + (long)(vb - a) * ow, 0, sizeof *dst * (size_t)(b - vb) * ow);
	float *d = dst + (long)(va - a) * ow;
	if (vb == va)
		return;
	if (step == 1 && ow == sw && sr == 0 && sc == 0) {
		/* one flat shifted copy; the values it wraps round are zeroed */
		long f0 = (long)(va + di) * sw + dj, f1 = f0 + (long)(vb - va) * sw;
		long c0 = f0 < 0 ? 0 : f0, c1 = f1 > (long)hs * sw ? (long)hs * sw : f1;
		if (c1 > c0)
			memcpy(d + (c0 - f0), plane + c0, sizeof *d * (size_t)(c1 - c0));
		if (lo > 0 || hi < ow)
			for (int i = va; i < vb; i++, d += ow) {
				for (int j = 0; j < lo; j++)
					d[j] = 0;
				for (int j = hi; j < ow; j++)
					d[j] = 0;
			}
		return;
	}
	for (int i = va; i < vb; i++, d += ow) {
		const float *row = plane + (long)(step * (i + di) + sr) * sw + sc + (long)step * dj;
		for (int j = 0; j < lo; j++)
			d[j] = 0;
		if (step == 1) {
			memcpy(d + lo, row + lo, sizeof *d * (size_t)(hi - lo));
		} else if (step == 2) {
			#pragma omp simd
			for (int j = lo; j < hi; j++)
				d[j] = row[2 * j];
		} else {
			for (int j = lo; j < hi; j++)
				d[j] = row[(long)step * j];
		}
		for (int j = hi; j < ow; j++)
			d[j] = 0;
	}
}

long plan_im2col(const struct cplan *p, int q, const float *src, int n,
                 int m0, int m1, int r0, int r1, float *cols)
{
	const struct cphase *ph = &p->ph[q];
	int a = clip(r0, ph->oh), b = clip(r1, ph->oh);
	long hw = (long)p->sh * p->sw, per = (long)(b - a) * ph->ow;
	float *d = cols;
	for (int c = 0; c < p->cin; c++)
	for (int gi = 0; gi < ph->ng; gi++) {
		const struct cgroup *g = &p->g[ph->g0 + gi];
		int hs = phase_len(p->sh, g->sr, p->sstep), ws = phase_len(p->sw, g->sc, p->sstep);
		for (int m = m0; m < m1; m++, d += per)
			shift_rows(d, a, b, ph->ow, src + ((long)c * n + m) * hw, p->sw,
			           p->sstep, g->sr, g->sc, hs, ws, g->di, g->dj);
	}
	return (long)(m1 - m0) * per;
}

/* Copies between a phase block and its destination pixels: to_dst 1
 * scatters, 0 gathers. blk is NULL to scatter zeros. */
static void move(const struct cplan *p, int q, float *blk, int nch, float *dst, int n,
                 int m0, int m1, int r0, int r1, int to_dst)
{
	const struct cphase *ph = &p->ph[q];
	int a = clip(r0, ph->oh), b = clip(r1, ph->oh), ow = ph->ow, st = p->dstep;
	long hw = (long)p->dh * p->dw, ncols = (long)(m1 - m0) * (b - a) * ow;
	for (int c = 0; c < nch; c++)
	for (int m = m0; m < m1; m++) {
		float *bp = blk ? blk + (long)c * ncols + (long)(m - m0) * (b - a) * ow : NULL;
		float *plane = dst + ((long)c * n + m) * hw;
		for (int i = a; i < b; i++) {
			float *row = plane + (long)(st * i + ph->qr) * p->dw + ph->qc;
			if (!bp) {
				for (int j = 0; j < ow; j++)
					row[(long)st * j] = 0;
				continue;
			}
			if (to_dst) {
				#pragma omp simd
				for (int j = 0; j < ow; j++)
					row[(long)st * j] = bp[j];
			} else {
				#pragma omp simd
				for (int j = 0; j < ow; j++)
					bp[j] = row[(long)st * j];
			}
			bp += ow;
		}
	}
}

void plan_scatter(const struct cplan *p, int q, const float *blk, int nch,
                  float *dst, int n, int m0, int m1, int r0, int r1)
{
	move(p, q, (float *)blk, nch, dst, n, m0, m1, r0, r1, 1);
}

void plan_gather(const struct cplan *p, int q, float *blk, int nch,
                 const float *dst, int n, int m0, int m1, int r0, int r1)
{
	move(p, q, blk, nch, (float *)dst, n, m0, m1, r0, r1, 0);
}
