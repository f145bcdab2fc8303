/* optim.c - Adam and SGD with momentum, as Keras computes them
 *
 * Adam (Keras/TensorFlow form): m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2,
 * lr_t = lr sqrt(1 - b2^t) / (1 - b1^t), p -= lr_t m / (sqrt(v) + eps).
 * SGD (Keras, not Nesterov): v = momentum v - lr g, p += v; the velocity
 * lives in m. One loop over the whole parameter buffer.
 */
#include <math.h>
#include <stdlib.h>

#include "nn.h"
#include "par.h"
#include "util.h"

void optim_init(struct optim *o, int kind, size_t nparams)
{
	o->kind = kind;
	o->lr = kind == OPT_SGD ? 1e-2f : 1e-3f;
	o->beta1 = 0.9f, o->beta2 = 0.999f, o->eps = 1e-7f;
	o->momentum = 0.9f;
	o->t = 0;
	o->n = nparams;
	o->m = xalloc_aligned((nparams ? nparams : 1) * sizeof *o->m);
	o->v = kind == OPT_ADAM ? xalloc_aligned((nparams ? nparams : 1) * sizeof *o->v)
	                        : NULL;
}

struct job { struct optim *o; float *p; const float *g; float lr_t; };

static void sgd_range(void *ctx, long lo, long hi, int worker)
{
	struct job *jb = ctx;
	float *m = jb->o->m, *p = jb->p, lr = jb->o->lr, mom = jb->o->momentum;
	const float *g = jb->g;
	#pragma omp simd
	for (long i = lo; i < hi; i++) {
		m[i] = mom * m[i] - lr * g[i];
		p[i] += m[i];
	}
}

static void adam_range(void *ctx, long lo, long hi, int worker)
{
	struct job *jb = ctx;
	float *m = jb->o->m, *v = jb->o->v, *p = jb->p, lr_t = jb->lr_t;
	float b1 = jb->o->beta1, b2 = jb->o->beta2, eps = jb->o->eps;
	const float *g = jb->g;
	#pragma omp simd
	for (long i = lo; i < hi; i++) {
		m[i] = b1 * m[i] + (1 - b1) * g[i];
		v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
		p[i] -= lr_t * m[i] / (sqrtf(v[i]) + eps);
	}
}

void optim_step(struct optim *o, float *params, const float *grads)
{
	struct job jb = { o, params, grads, 0 };
	o->t++;
	if (o->kind == OPT_SGD) {
		par_range((long)o->n, 65536, sgd_range, &jb);
		return;
	}
	jb.lr_t = (float)(o->lr * sqrt(1 - pow(o->beta2, (double)o->t)) /
	                  (1 - pow(o->beta1, (double)o->t)));
	par_range((long)o->n, 65536, adam_range, &jb);
}

void optim_free(struct optim *o)
{
	free(o->m);
	free(o->v);
	o->m = o->v = NULL;
}
