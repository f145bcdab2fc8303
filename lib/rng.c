/* rng.c - xoshiro256** with reproducible normal and Poisson samplers
 *
 * The generator is Blackman and Vigna's xoshiro256**, seeded through
 * splitmix64. Normal and Poisson variates must come out bit for bit the
 * same on every IEEE-754 machine, so this file never calls a libm
 * transcendental (their last bits differ between C libraries): it has its
 * own log and exp made of + - * / only, which IEEE rounds exactly, and
 * the only libm calls are sqrt, floor and fabs, which are exact too.
 * Fused multiply-add would change the rounding of a*b+c, so contraction
 * is switched off for this file whatever the compiler flags (the same
 * binary result with and without -mfma or -ffp-contract=fast).
 * This assumes double arithmetic is evaluated in double (FLT_EVAL_METHOD
 * 0, as on every SSE2, ARM and POWER target), not in x87 extended
 * precision.
 * SLP vectorization is off too: it packs the four state words into one
 * 256-bit store that the next call's 64-bit loads cannot be forwarded
 * from, which made every draw about three times slower.
 */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#else
#pragma GCC optimize("fp-contract=off", "no-tree-slp-vectorize")
#endif

#include "rng.h"

#include <math.h>
#include <string.h>

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* splitmix64: the recommended way to expand one 64-bit seed into the
 * 256-bit xoshiro state (never all zero in practice). */
static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* splitmix64's output function alone: a bijection of 64-bit words that
 * spreads every input bit over the whole word. */
static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

void rng_seed(struct rng *r, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
	if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
		r->s[0] = 1; /* the one state xoshiro cannot leave */
	/* the ziggurat keeps no second value: the spare stays unused */
	r->have_spare = 0;
	r->spare = 0;
}

/* Each step is a bijection in the value mixed in, so for one seed every
 * id gives a different 64-bit key, and keys of nearby ids (0, 1, 2...)
 * or nearby seeds share no visible structure. */
void rng_derive(struct rng *out, uint64_t seed, uint64_t id)
{
	uint64_t k = mix64(seed + UINT64_C(0x9E3779B97F4A7C15));
	k = mix64(k ^ mix64(id * UINT64_C(0xD1B54A32D192ED03) + UINT64_C(0x8CB92BA72F3D8DD7)));
	k = mix64(k + UINT64_C(0x9E3779B97F4A7C15));
	rng_seed(out, k);
}

uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

double rng_uniform(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1p-53;
}

/* Lemire's multiply-and-reject: the high word of x*n is uniform on [0,n)
 * once the few low words below 2^64 mod n are rejected. */
uint64_t rng_below(struct rng *r, uint64_t n)
{
	unsigned __int128 m;
	uint64_t lo;
	if (n == 0)
		return 0;
	m = (unsigned __int128)rng_next(r) * n;
	lo = (uint64_t)m;
	if (lo < n) {
		uint64_t thresh = (0 - n) % n;
		while (lo < thresh) {
			m = (unsigned __int128)rng_next(r) * n;
			lo = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

void rng_shuffle(struct rng *r, uint32_t *idx, uint32_t n)
{
	for (uint32_t i = n; i > 1; i--) {
		uint32_t j = (uint32_t)rng_below(r, i);
		uint32_t t = idx[i - 1];
		idx[i - 1] = idx[j];
		idx[j] = t;
	}
}

/* --- log and exp from + - * / only --------------------------------- */

/* ln 2 split so that k * LN2_HI is exact for |k| < 2^11. */
static const double LN2_HI = 6.93147180369123816490e-01;
static const double LN2_LO = 1.90821492927058770002e-10;
static const double INV_LN2 = 1.44269504088896338700e+00;
static const double SQRT2 = 1.41421356237309514547e+00;
static const double LN_SQRT_2PI = 0.918938533204672741780329736406;
static const double TWO_PI = 6.283185307179586476925286766559;

static inline uint64_t dbits(double x) { uint64_t b; memcpy(&b, &x, 8); return b; }
static inline double bitsd(uint64_t b) { double x; memcpy(&x, &b, 8); return x; }

/* Natural log, error about one ulp. x = m * 2^e with m in [sqrt(1/2),
 * sqrt(2)), then log(m) = 2 atanh(s), s = (m-1)/(m+1), |s| < 0.172,
 * summed as a Taylor series in s^2 (11 terms reach 2^-60 relative). */
static double xlog(double x)
{
	uint64_t b;
	double m, f, s, z, hfsq, R, dk;
	int e;

	if (!(x > 0))
		return x == 0 ? -HUGE_VAL : NAN;
	if (x > 1.7976931348623157e308)
		return x;
	b = dbits(x);
	e = 0;
	if ((b >> 52) == 0) { /* subnormal: scale into the normal range */
		x *= 0x1p54;
		b = dbits(x);
		e = -54;
	}
	e += (int)(b >> 52) - 1023;
	m = bitsd((b & UINT64_C(0x000FFFFFFFFFFFFF)) | UINT64_C(0x3FF0000000000000));
	if (m > SQRT2) {
		m *= 0.5;
		e++;
	}
	f = m - 1.0; /* exact (Sterbenz) */
	s = f / (2.0 + f);
	z = s * s;
	R = z * (2.0 / 3 + z * (2.0 / 5 + z * (2.0 / 7 + z * (2.0 / 9 + z * (2.0 / 11 +
	    z * (2.0 / 13 + z * (2.0 / 15 + z * (2.0 / 17 + z * (2.0 / 19 +
	    z * (2.0 / 21 + z * (2.0 / 23)))))))))));
	/* log(1+f) = f - f^2/2 + s (f^2/2 + R): the large part f - hfsq is
	 * kept apart from the small correction to limit rounding */
	hfsq = 0.5 * f * f;
	dk = (double)e;
	return dk * LN2_HI - ((hfsq - (s * (hfsq + R) + dk * LN2_LO)) - f);
}

/* e^x, error a few ulp. x = k ln2 + t with |t| <= ln2/2, e^t by its
 * Taylor series to t^14 (remainder below 2^-57), times 2^k. */
static double xexp(double x)
{
	double hi, t, p, kd;
	int k;

	if (x != x)
		return x;
	if (x > 709.782712893384)
		return HUGE_VAL;
	if (x < -745.2)
		return 0;
	kd = x * INV_LN2;
	k = (int)(kd < 0 ? kd - 0.5 : kd + 0.5);
	kd = (double)k;
	hi = x - kd * LN2_HI;
	t = hi - kd * LN2_LO;
	p = 1.0 + t * (1.0 + t * (1.0 / 2 + t * (1.0 / 6 + t * (1.0 / 24 + t * (1.0 / 120 +
	    t * (1.0 / 720 + t * (1.0 / 5040 + t * (1.0 / 40320 + t * (1.0 / 362880 +
	    t * (1.0 / 3628800 + t * (1.0 / 39916800 + t * (1.0 / 479001600 +
	    t * (1.0 / 6227020800.0 + t * (1.0 / 87178291200.0))))))))))))));
	if (k >= -1021)
		return p * bitsd((uint64_t)(k + 1023) << 52);
	/* result is subnormal: scale in two exact steps */
	return p * bitsd((uint64_t)(k + 1023 + 60) << 52) * 0x1p-60;
}

/* --- normal: 256-layer ziggurat (Marsaglia and Tsang 2000) ----------- */

#define ZIG_N 256
static const double ZIG_R = 3.6541528853610088; /* start of the tail */
static const double ZIG_V = 4.92867323399e-3;   /* area of each layer */

/* zx[i]: right edge of layer i (zx[0] is the base layer's equivalent
 * width V/f(R)); zf[i] = f(zx[i]), f(x) = exp(-x^2/2). Built once at
 * load time from xlog/xexp, so the tables are the same everywhere. */
static double zx[ZIG_N + 1], zf[ZIG_N + 1];

__attribute__((constructor)) static void zig_init(void)
{
	double fr = xexp(-0.5 * ZIG_R * ZIG_R);
	zx[0] = ZIG_V / fr;
	zf[0] = 0; /* unused: layer 0 goes to the tail, not a wedge */
	zx[1] = ZIG_R;
	zf[1] = fr;
	for (int i = 1; i < ZIG_N - 1; i++) {
		/* layer i spans f(x_i)..f(x_{i+1}) over [0,x_i] with area V */
		double y = zf[i] + ZIG_V / zx[i];
		zx[i + 1] = sqrt(-2.0 * xlog(y));
		zf[i + 1] = y;
	}
	zx[ZIG_N] = 0;
	zf[ZIG_N] = 1;
}

/* One ziggurat step for the 64 random bits B, which were rejected by the
 * rectangle test of rng_normal, then whole steps until one is accepted.
 * Kept out of line so that the common path stays a few instructions. */
static __attribute__((noinline)) double normal_slow(struct rng *r, uint64_t b)
{
	for (;;) {
		unsigned i = (unsigned)(b & 0xff);
		int neg = (int)(b >> 8) & 1;
		double z = (double)(b >> 11) * 0x1p-53 * zx[i];
		if (z < zx[i + 1])
			return neg ? -z : z;
		if (i == 0) {
			/* tail beyond R (Marsaglia 1964); uniforms in (0,1] */
			double t, y;
			do {
				t = -xlog(1.0 - rng_uniform(r)) / ZIG_R;
				y = -xlog(1.0 - rng_uniform(r));
			} while (y + y < t * t);
			z = ZIG_R + t;
			return neg ? -z : z;
		}
		/* wedge between the rectangle and the curve */
		if (zf[i] + rng_uniform(r) * (zf[i + 1] - zf[i]) < xexp(-0.5 * z * z))
			return neg ? -z : z;
		b = rng_next(r);
	}
}

double rng_normal(struct rng *r)
{
	/* disjoint bits: 8 pick the layer, 1 the sign, 53 the abscissa */
	uint64_t b = rng_next(r);
	unsigned i = (unsigned)(b & 0xff);
	double z = (double)(b >> 11) * 0x1p-53 * zx[i];
	if (__builtin_expect(z < zx[i + 1], 1)) /* sign by bit 8, without a branch */
		return bitsd(dbits(z) ^ ((b & 0x100) << 55));
	return normal_slow(r, b);
}

/* --- Poisson ------------------------------------------------------- */

/* Stirling's series error for integer n: log n! - [(n+1/2) log n - n +
 * log sqrt(2 pi)]. Small n from exact factorials, large from the
 * asymptotic series (coefficients B_2k / (2k (2k-1))). */
#define STIRL_TAB 16
static double stirl_tab[STIRL_TAB];

__attribute__((constructor)) static void stirl_init(void)
{
	double fact = 1;
	stirl_tab[0] = 0; /* unused: k = 0 is handled apart */
	for (int n = 1; n < STIRL_TAB; n++) {
		fact *= n; /* exact: 15! < 2^53 */
		stirl_tab[n] = xlog(fact) - ((n + 0.5) * xlog(n) - n + LN_SQRT_2PI);
	}
}

static double stirlerr(double n)
{
	double nn;
	if (n < STIRL_TAB)
		return stirl_tab[(int)n];
	nn = 1.0 / (n * n);
	return (1.0 / 12 - nn * (1.0 / 360 - nn * (1.0 / 1260 - nn * (1.0 / 1680 -
	        nn * (1.0 / 1188))))) / n;
}

/* x log(x/m) + m - x without cancellation when x is near m (Loader):
 * with v = (x-m)/(x+m) it is (x-m) v + 2x (v^3/3 + v^5/5 + ...). */
static double bd0(double x, double m)
{
	double d = x - m;
	if (fabs(d) < 0.1 * (x + m)) {
		double v = d / (x + m), s = d * v, ej = 2.0 * x * v, v2 = v * v;
		for (int j = 1; j < 1000; j++) {
			double s1;
			ej *= v2;
			s1 = s + ej / (2 * j + 1);
			if (s1 == s)
				return s1;
			s = s1;
		}
		return s;
	}
	return x * xlog(x / m) + m - x;
}

/* P(K = k) for K ~ Poisson(lam), k >= 1, accurate for any lam and k
 * (Loader's saddle point form: no cancellation of large logarithms). */
static double poisson_pmf(double k, double lam)
{
	return xexp(-stirlerr(k) - bd0(k, lam)) / sqrt(TWO_PI * k);
}

/* Transformed rejection with squeeze, PTRS (Hormann 1993), lam >= 10. */
static uint64_t poisson_ptrs(struct rng *r, double lam)
{
	double slam = sqrt(lam);
	double b = 0.931 + 2.53 * slam;
	double a = -0.059 + 0.02483 * b;
	double inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
	double vr = 0.9277 - 3.6224 / (b - 2);

	for (;;) {
		double u = rng_uniform(r) - 0.5;
		double v = rng_uniform(r);
		double us = 0.5 - fabs(u), k;
		if (us == 0)
			continue; /* u = -1/2: the hat has no mass there */
		k = floor((2 * a / us + b) * u + lam + 0.43);
		if (us >= 0.07 && v <= vr)
			return (uint64_t)k;
		if (!(k >= 0) || (us < 0.013 && v > us))
			continue;
		/* Hormann's test log(v inv_alpha / (a/us^2 + b)) <= log p(k),
		 * taken without the logarithms */
		if (k == 0 ? v * inv_alpha / (a / (us * us) + b) <= xexp(-lam)
		           : v * inv_alpha / (a / (us * us) + b) <= poisson_pmf(k, lam))
			return (uint64_t)k;
	}
}

uint64_t rng_poisson(struct rng *r, double lam)
{
	if (!(lam > 0))
		return 0;
	if (lam < 10) {
		/* multiply uniforms until the product drops below e^-lam */
		double lim = xexp(-lam), p = rng_uniform(r);
		uint64_t k = 0;
		while (p > lim) {
			p *= rng_uniform(r);
			k++;
		}
		return k;
	}
	if (lam < 0x1p62)
		return poisson_ptrs(r, lam);
	/* beyond 2^62 a double cannot tell Poisson from its normal
	 * approximation (skewness 1/sqrt(lam) < 2^-31); saturate at the top */
	if (lam >= 0x1p64)
		return UINT64_MAX;
	{
		double k = floor(lam + sqrt(lam) * rng_normal(r) + 0.5);
		return k >= 0x1p64 ? UINT64_MAX : k > 0 ? (uint64_t)k : 0;
	}
}
