/* noise.c - per-sample noise models of noise-add(1)
 *
 * Each sample is computed in double and rounded once to float, in a fixed
 * order, with contraction into fused multiply-add switched off (as in
 * rng.c), so the same generator state gives the same bytes everywhere.
 */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#else
#pragma GCC optimize("fp-contract=off")
#endif

#include "noise.h"

#include <string.h>

static const char *const names[] = {
	[NOISE_GAUSSIAN] = "gaussian",
	[NOISE_UNIFORM] = "uniform",
	[NOISE_SALT_PEPPER] = "salt-pepper",
	[NOISE_POISSON] = "poisson",
};

int noise_type_parse(const char *s)
{
	for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

const char *noise_type_name(enum noise_type t)
{
	return names[t];
}

/* Written so that it compiles to max/min without branches (noise makes
 * the comparisons unpredictable); NaN becomes 0, as in u8 output. */
static inline float clip01(float v)
{
	v = v > 0.0f ? v : 0.0f;
	return v < 1.0f ? v : 1.0f;
}

void noise_apply(const struct noise *nz, struct rng *r, float *x, size_t n)
{
	size_t i;

	switch (nz->type) {
	case NOISE_GAUSSIAN:
		for (i = 0; i < n; i++)
			x[i] = (float)((double)x[i] + (nz->mean + nz->sigma * rng_normal(r)));
		break;
	case NOISE_UNIFORM:
		for (i = 0; i < n; i++) {
			double u = 2.0 * rng_uniform(r) - 1.0; /* [-1,1) */
			x[i] = (float)((double)x[i] + (nz->mean + nz->amount * u));
		}
		break;
	case NOISE_SALT_PEPPER:
		for (i = 0; i < n; i++) {
			/* one draw: the top 53 bits decide whether the sample is
			 * hit, the lowest bit whether it turns 0 or 1 */
			uint64_t b = rng_next(r);
			if ((double)(b >> 11) * 0x1p-53 < nz->amount)
				x[i] = (float)(b & 1);
		}
		break;
	case NOISE_POISSON:
		for (i = 0; i < n; i++) {
			/* a count of photons with mean x*peak, scaled back */
			double lam = (double)x[i] * nz->peak;
			if (lam != lam)
				continue;
			if (lam < NOISE_POISSON_MAX_COUNT)
				x[i] = (float)((double)rng_poisson(r, lam) / nz->peak);
		}
		break;
	}
	if (nz->clip)
		for (i = 0; i < n; i++)
			x[i] = clip01(x[i]);
}
