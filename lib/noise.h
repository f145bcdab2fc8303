/* noise.h - per-sample noise models of noise-add(1) */
#ifndef CAE_NOISE_H
#define CAE_NOISE_H

#include <stddef.h>

#include "rng.h"

enum noise_type { NOISE_GAUSSIAN, NOISE_UNIFORM, NOISE_SALT_PEPPER, NOISE_POISSON };

/* Above this mean count a Poisson draw is left out: its relative spread
 * 1/sqrt(x*peak) < 2^-25 is below the resolution of a float. */
#define NOISE_POISSON_MAX_COUNT 0x1p50

struct noise {
	enum noise_type type;
	double sigma;   /* gaussian: standard deviation */
	double mean;    /* gaussian, uniform: added offset */
	double amount;  /* uniform: half width; salt-pepper: fraction hit */
	double peak;    /* poisson: count that x = 1 stands for */
	int clip;       /* clamp the result to [0,1] */
};

/* Parses "gaussian", "uniform", "salt-pepper" or "poisson"; -1 if none. */
int noise_type_parse(const char *s);
const char *noise_type_name(enum noise_type t);

/* Adds noise to the N samples of X in place, drawing from R in sample
 * order, so the result depends only on R's state and the parameters
 * (bit-identical on every IEEE-754 machine). NaN samples stay NaN
 * unless NZ->clip is set, which makes them 0. */
void noise_apply(const struct noise *nz, struct rng *r, float *x, size_t n);

#endif
