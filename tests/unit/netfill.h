/* netfill.h - random parameters for the unit tests' networks */
#ifndef NETFILL_H
#define NETFILL_H
#include <stdint.h>

#include "layer.h"
#include "nn.h"
#include "rng.h"

/* Random weights, biases, bn scales and shifts and bn statistics, the same
 * for every net of one spec and seed: nets built alike compute alike. */
static inline void net_fill_random(struct net *net, uint64_t seed)
{
	struct rng q;
	rng_seed(&q, seed);
	net_init(net, seed);
	float *p = net_params(net), *st = net_state(net);
	for (int i = 0; i < net_nlayers(net); i++) {
		struct layer *l = net_layer(net, i);
		if (l->s.kind != L_BN)
			continue;
		size_t po = (size_t)(l->p - p), so = (size_t)(l->st - st);
		for (int c = 0; c < l->ic; c++) {
			p[po + c] = (float)(0.5 + rng_uniform(&q));              /* gamma */
			p[po + l->ic + c] = (float)(rng_uniform(&q) - 0.5);      /* beta */
			st[so + c] = (float)(rng_uniform(&q) - 0.3);             /* mean */
			st[so + l->ic + c] = (float)(0.05 + rng_uniform(&q));    /* var */
		}
	}
	for (size_t i = 0; i < net_nparams(net); i++)
		if (p[i] == 0)   /* biases */
			p[i] = (float)(0.2 * (rng_uniform(&q) - 0.5));
}
#endif
