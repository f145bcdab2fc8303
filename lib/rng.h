/* rng.h - the project's own seeded random generator (xoshiro256**)
 *
 * Every random draw of every program comes from here, so the same command
 * gives the same bytes on every machine: no rand(), no time(0), and no
 * libm transcendental whose last bit may differ between C libraries.
 */
#ifndef CAE_RNG_H
#define CAE_RNG_H

#include <stdint.h>

#define RNG_DEFAULT_SEED 42

struct rng {
	uint64_t s[4];
	int have_spare;     /* normal sampler keeps a second value */
	double spare;
};

/* Seeds from a 64-bit value (via splitmix64). */
void rng_seed(struct rng *r, uint64_t seed);
/* Derives an independent generator for sub-stream ID (e.g. per epoch or
 * per image) from a seed, so results do not depend on thread scheduling. */
void rng_derive(struct rng *out, uint64_t seed, uint64_t id);
uint64_t rng_next(struct rng *r);
/* Uniform double in [0,1) with 53 random bits. */
double rng_uniform(struct rng *r);
/* Uniform integer in [0,n), unbiased. */
uint64_t rng_below(struct rng *r, uint64_t n);
/* Standard normal N(0,1), bit-reproducible on every IEEE-754 machine. */
double rng_normal(struct rng *r);
/* Poisson with mean lambda >= 0. */
uint64_t rng_poisson(struct rng *r, double lambda);
/* Fisher-Yates shuffle of n indices. */
void rng_shuffle(struct rng *r, uint32_t *idx, uint32_t n);

#endif
