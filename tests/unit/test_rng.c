/* test_rng.c - the seeded generator: reference values, statistics and
 * reproducibility of the normal and Poisson samplers */
#include "check.h"
#include "rng.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* An independent transcription of the reference algorithms (Vigna's
 * splitmix64.c and xoshiro256starstar.c) for the golden values. */
static uint64_t ref_sm_state;
static uint64_t ref_sm_next(void)
{
	uint64_t z = (ref_sm_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t ref_s[4];
static uint64_t ref_next(void)
{
	const uint64_t result = ((ref_s[1] * 5) << 7 | (ref_s[1] * 5) >> 57) * 9;
	const uint64_t t = ref_s[1] << 17;
	ref_s[2] ^= ref_s[0];
	ref_s[3] ^= ref_s[1];
	ref_s[1] ^= ref_s[2];
	ref_s[0] ^= ref_s[3];
	ref_s[2] ^= t;
	ref_s[3] = (ref_s[3] << 45) | (ref_s[3] >> 19);
	return result;
}

static void test_golden(void)
{
	struct rng r;
	int i, ok = 1;
	ref_sm_state = 42;
	for (i = 0; i < 4; i++)
		ref_s[i] = ref_sm_next();
	rng_seed(&r, 42);
	for (i = 0; i < 1000; i++)
		if (rng_next(&r) != ref_next())
			ok = 0;
	CHECKF(ok, "rng_next(seed 42) differs from reference xoshiro256**");
	/* the first outputs for seed 42, computed apart (arbitrary precision
	 * integers) and written out */
	rng_seed(&r, 42);
	CHECK(rng_next(&r) == UINT64_C(0x15780b2e0c2ec716));
	CHECK(rng_next(&r) == UINT64_C(0x6104d9866d113a7e));
	CHECK(rng_next(&r) == UINT64_C(0xae17533239e499a1));
	CHECK(rng_next(&r) == UINT64_C(0xecb8ad4703b360a1));
	CHECK(rng_uniform(&r) >= 0 && rng_uniform(&r) < 1);
}

/* The exact bits of the samplers for fixed seeds: any change here means
 * different noise (and different results) from the same command. */
static uint64_t hash_bits(uint64_t h, double x)
{
	uint64_t b;
	memcpy(&b, &x, 8);
	h ^= b;
	h *= 0x100000001b3ULL;
	return h ^ (h >> 29);
}

static void test_reproducible(void)
{
	struct rng r;
	uint64_t h = 0xcbf29ce484222325ULL;
	int i;
	rng_seed(&r, 42);
	for (i = 0; i < 200000; i++)
		h = hash_bits(h, rng_normal(&r));
	CHECKF(h == UINT64_C(0x63b4232635fd2bef), "normal hash %#llx", (unsigned long long)h);
	h = 0xcbf29ce484222325ULL;
	rng_seed(&r, 7);
	for (i = 0; i < 20000; i++) {
		static const double lam[] = { 0.3, 4, 12, 90, 3000, 1e7 };
		h = hash_bits(h, (double)rng_poisson(&r, lam[i % 6]));
	}
	CHECKF(h == UINT64_C(0x0dad6516ac775ed9), "poisson hash %#llx", (unsigned long long)h);
	/* a few values written out, to see what changed if the hash does */
	rng_seed(&r, 42);
	{
		double a = rng_normal(&r), b = rng_normal(&r);
		CHECKF(a == -0x1.b93c3f928ef7cp-3 && b == 0x1.2c8cd6d008acbp-1, "normals %a %a", a, b);
	}
}

static void test_derive(void)
{
	struct rng a, b;
	uint64_t x;
	rng_derive(&a, 42, 0);
	rng_derive(&b, 42, 0);
	x = rng_next(&a);
	CHECK(x == rng_next(&b));
	rng_derive(&b, 42, 1);
	CHECK(x != rng_next(&b));
	rng_derive(&b, 43, 0);
	CHECK(x != rng_next(&b));
	rng_seed(&b, 42);
	CHECK(x != rng_next(&b));
	/* generators of neighbouring ids (noise-add's records i and i+1)
	 * are uncorrelated */
	{
		const long n = 1000000;
		double sab = 0, saa = 0, sbb = 0;
		rng_derive(&a, 42, 1000);
		rng_derive(&b, 42, 1001);
		for (long i = 0; i < n; i++) {
			double u = rng_normal(&a), v = rng_normal(&b);
			sab += u * v;
			saa += u * u;
			sbb += v * v;
		}
		CHECKF(fabs(sab / sqrt(saa * sbb)) < 0.005, "derived ids 1000/1001: r = %g",
		       sab / sqrt(saa * sbb));
	}
}

static void test_normal(void)
{
	const long n = 10000000;
	struct rng r, r2;
	double s1 = 0, s2 = 0, s4 = 0, sxy = 0, sab = 0, sb = 0, sbb = 0, prev;
	long big1 = 0, big2 = 0, tail = 0;
	long i;
	rng_seed(&r, 42);
	rng_seed(&r2, 43);
	prev = rng_normal(&r);
	for (i = 0; i < n; i++) {
		double x = rng_normal(&r), y = rng_normal(&r2), ax = fabs(x);
		s1 += x;
		s2 += x * x;
		s4 += x * x * x * x;
		sxy += x * prev;
		sab += x * y;
		sb += y;
		sbb += y * y;
		big1 += ax > 1;
		big2 += ax > 2;
		tail += ax > 3.6541528853610088;
		prev = x;
	}
	{
		double mean = s1 / n, var = s2 / n - mean * mean, sd = sqrt(var);
		double kurt = (s4 / n) / (var * var);
		double rc = (sxy / n - mean * mean) / var;
		double mb = sb / n, vb = sbb / n - mb * mb;
		double r12 = (sab / n - mean * mb) / sqrt(var * vb);
		double p1 = (double)big1 / n, p2 = (double)big2 / n, pt = (double)tail / n;
		double e1 = erfc(1 / sqrt(2.0)), e2 = erfc(2 / sqrt(2.0));
		double et = erfc(3.6541528853610088 / sqrt(2.0));
		CHECKF(fabs(mean) < 0.005, "mean %g", mean);
		CHECKF(fabs(sd - 1) < 0.005, "sd %g", sd);
		CHECKF(fabs(kurt - 3) < 0.02, "kurtosis %g", kurt);
		CHECKF(fabs(rc) < 0.002, "lag-1 correlation %g", rc);
		CHECKF(fabs(r12) < 0.002, "correlation between seeds %g", r12);
		/* 5 standard errors of a binomial proportion */
		CHECKF(fabs(p1 - e1) < 5 * sqrt(e1 * (1 - e1) / n), "P(|z|>1) %g vs %g", p1, e1);
		CHECKF(fabs(p2 - e2) < 5 * sqrt(e2 * (1 - e2) / n), "P(|z|>2) %g vs %g", p2, e2);
		CHECKF(fabs(pt - et) < 5 * sqrt(et / n), "tail P(|z|>R) %g vs %g", pt, et);
	}
}

/* Chi-square of 64 equiprobable cells of the normal, against the CDF. */
static void test_normal_shape(void)
{
	enum { K = 64 };
	const long n = 2000000;
	double edge[K - 1], chi = 0;
	long cnt[K] = { 0 };
	struct rng r;
	long i;
	int k;
	/* cell edges by bisection of the CDF */
	for (k = 0; k < K - 1; k++) {
		double lo = -10, hi = 10, p = (k + 1.0) / K;
		for (int it = 0; it < 80; it++) {
			double mid = 0.5 * (lo + hi);
			if (0.5 * erfc(-mid / sqrt(2.0)) < p)
				lo = mid;
			else
				hi = mid;
		}
		edge[k] = 0.5 * (lo + hi);
	}
	rng_seed(&r, 5);
	for (i = 0; i < n; i++) {
		double x = rng_normal(&r);
		int a = 0, b = K - 1;
		while (a < b) {
			int m = (a + b) / 2;
			if (x < edge[m])
				b = m;
			else
				a = m + 1;
		}
		cnt[a]++;
	}
	for (k = 0; k < K; k++) {
		double e = (double)n / K;
		chi += (cnt[k] - e) * (cnt[k] - e) / e;
	}
	/* 63 degrees of freedom: the 0.999 quantile is 103.4 */
	CHECKF(chi < 103.4, "normal chi-square %g (63 df)", chi);
}

static void test_uniform(void)
{
	const long n = 2000000;
	struct rng r;
	double s1 = 0, s2 = 0, lo = 1, hi = 0;
	rng_seed(&r, 1);
	for (long i = 0; i < n; i++) {
		double u = rng_uniform(&r);
		s1 += u;
		s2 += u * u;
		if (u < lo)
			lo = u;
		if (u > hi)
			hi = u;
	}
	s1 /= n;
	s2 = s2 / n - s1 * s1;
	CHECKF(fabs(s1 - 0.5) < 0.001, "uniform mean %g", s1);
	CHECKF(fabs(s2 - 1.0 / 12) < 0.0005, "uniform variance %g", s2);
	CHECK(lo >= 0 && hi < 1);
}

static void test_below(void)
{
	enum { N = 10 };
	const long n = 1000000;
	long cnt[N] = { 0 };
	struct rng r;
	double chi = 0;
	int bad = 0;
	rng_seed(&r, 3);
	for (long i = 0; i < n; i++) {
		uint64_t v = rng_below(&r, N);
		if (v >= N)
			bad = 1;
		else
			cnt[v]++;
	}
	CHECK(!bad);
	for (int k = 0; k < N; k++)
		chi += (cnt[k] - n / (double)N) * (cnt[k] - n / (double)N) / (n / (double)N);
	/* 9 degrees of freedom: the 0.999 quantile is 27.9 */
	CHECKF(chi < 27.9, "rng_below chi-square %g", chi);
	/* a range that is not a power of two and near 2^64: the rejection
	 * zone is large, so bias would show */
	{
		uint64_t m = (UINT64_C(1) << 63) + (UINT64_C(1) << 62), top = 0;
		for (long i = 0; i < 100000; i++) {
			uint64_t v = rng_below(&r, m);
			if (v >= m)
				bad = 1;
			top += v >= m / 2;
		}
		CHECK(!bad);
		CHECKF(fabs(top / 1e5 - 0.5) < 0.01, "upper half %g", top / 1e5);
	}
	CHECK(rng_below(&r, 1) == 0);
}

static void test_shuffle(void)
{
	enum { N = 5 };
	long pos[N][N] = { { 0 } };
	uint32_t idx[N];
	struct rng r;
	const long n = 200000;
	double chi = 0;
	int perm = 1;
	rng_seed(&r, 9);
	for (long t = 0; t < n; t++) {
		unsigned seen = 0;
		for (uint32_t i = 0; i < N; i++)
			idx[i] = i;
		rng_shuffle(&r, idx, N);
		for (int i = 0; i < N; i++) {
			seen |= 1u << idx[i];
			pos[idx[i]][i]++;
		}
		if (seen != (1u << N) - 1)
			perm = 0;
	}
	CHECK(perm);
	for (int a = 0; a < N; a++)
		for (int b = 0; b < N; b++) {
			double e = (double)n / N;
			chi += (pos[a][b] - e) * (pos[a][b] - e) / e;
		}
	/* 16 degrees of freedom: the 0.999 quantile is 39.3 */
	CHECKF(chi < 39.3, "shuffle position chi-square %g", chi);
	rng_shuffle(&r, idx, 0);
	rng_shuffle(&r, idx, 1);
}

static void test_poisson(void)
{
	static const double lams[] = { 0.5, 5, 50, 5000, 2e9 };
	struct rng r;
	rng_seed(&r, 11);
	for (unsigned t = 0; t < sizeof(lams) / sizeof(lams[0]); t++) {
		const long n = 400000;
		double lam = lams[t], s1 = 0, s2 = 0, mean, var;
		for (long i = 0; i < n; i++) {
			double k = (double)rng_poisson(&r, lam);
			s1 += k;
			s2 += (k - lam) * (k - lam);
		}
		mean = s1 / n;
		var = s2 / n - (mean - lam) * (mean - lam);
		/* 6 standard errors: sd(mean) = sqrt(lam/n), sd(var) ~ lam sqrt(2/n) */
		CHECKF(fabs(mean - lam) < 6 * sqrt(lam / n), "lambda %g: mean %g", lam, mean);
		CHECKF(fabs(var - lam) < 6 * sqrt((2 * lam * lam + lam) / n),
		       "lambda %g: variance %g", lam, var);
	}
	CHECK(rng_poisson(&r, 0) == 0);
	CHECK(rng_poisson(&r, -1) == 0);
	CHECK(rng_poisson(&r, NAN) == 0);
	CHECK(rng_poisson(&r, INFINITY) == UINT64_MAX);
}

/* Chi-square of the Poisson against its exact probabilities, on both
 * sides of the switch between the two methods. */
static void test_poisson_pmf(void)
{
	static const double lams[] = { 3, 10, 50 };
	struct rng r;
	rng_seed(&r, 12);
	for (unsigned t = 0; t < sizeof(lams) / sizeof(lams[0]); t++) {
		enum { K = 200 };
		const long n = 300000;
		double lam = lams[t], chi = 0, eacc = 0;
		long cnt[K] = { 0 }, oacc = 0;
		int df = -1;
		for (long i = 0; i < n; i++) {
			uint64_t k = rng_poisson(&r, lam);
			cnt[k < K ? k : K - 1]++;
		}
		/* pool cells until each expects at least 20 */
		for (int k = 0; k < K; k++) {
			eacc += n * exp(k * log(lam) - lam - lgamma(k + 1.0));
			oacc += cnt[k];
			if (eacc >= 20 || k == K - 1) {
				chi += (oacc - eacc) * (oacc - eacc) / eacc;
				df++;
				eacc = 0;
				oacc = 0;
			}
		}
		/* 0.999 quantile of chi-square: about df + 3.1 sqrt(2 df) + 6 */
		CHECKF(chi < df + 3.1 * sqrt(2.0 * df) + 6, "lambda %g: chi-square %g (%d df)",
		       lam, chi, df);
	}
}

int main(void)
{
	test_golden();
	test_reproducible();
	test_derive();
	test_normal();
	test_normal_shape();
	test_uniform();
	test_below();
	test_shuffle();
	test_poisson();
	test_poisson_pmf();
	CHECK_DONE();
}
