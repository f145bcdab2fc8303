/* loss.c - mean squared error and binary cross-entropy
 *
 * Both are means over every value of the batch. Cross-entropy clamps the
 * prediction to [1e-7, 1 - 1e-7] as Keras does. The network output is
 * (C,N,HW) inside, the target (N,C,HW): the loss walks both by runs of HW.
 * Each (channel, image) run gets its own partial sum and the partials are
 * added in order, so the value does not depend on the thread count.
 */
#include <math.h>

#include "layer.h"
#include "par.h"

#define BCE_EPS 1e-7f

static double run_loss(const float *y, const float *t, long hw, int kind,
                       int grad_mode, float scale, float *g)
{
	double s = 0;
	for (long i = 0; i < hw; i++) {
		float p = y[i], q = t[i];
		if (kind == LOSS_MSE) {
			float d = p - q;
			s += (double)d * d;
			if (g)
				g[i] = 2 * d * scale;
			continue;
		}
		float pc = p < BCE_EPS ? BCE_EPS : p > 1 - BCE_EPS ? 1 - BCE_EPS : p;
		s -= q * log((double)pc) + (1 - q) * log(1 - (double)pc);
		if (!g)
			continue;
		if (grad_mode == 1)   /* w.r.t. the logit of a sigmoid output */
			g[i] = (p - q) * scale;
		else if (p != pc)     /* clamped: flat */
			g[i] = 0;
		else
			g[i] = (p - q) / (p * (1 - p)) * scale;
	}
	return s;
}

/* Loss of y (C,N,HW) against t (N,C,HW), n images; if g is not NULL, also
 * its gradient (C,N,HW) w.r.t. y, or w.r.t. the sigmoid's input when
 * fused. part holds C*n doubles. */
struct job { const float *y, *t; float *g; double *part; int n, c, kind, fused; long hw; float scale; };

static void loss_run(void *ctx, long r, int worker)
{
	struct job *jb = ctx;
	long ch = r / jb->n, m = r % jb->n, hw = jb->hw;
	jb->part[r] = run_loss(jb->y + r * hw, jb->t + (m * jb->c + ch) * hw, hw,
	                       jb->kind, jb->fused, jb->scale,
	                       jb->g ? jb->g + r * hw : NULL);
}

double loss_eval(const float *y, const float *t, int n, int c, long hw,
                 int kind, int fused, float *g, double *part)
{
	long runs = (long)c * n;
	struct job jb = { y, t, g, part, n, c, kind, fused, hw,
	                  1.0f / (float)((double)runs * hw) };
	par_for_w(runs, 10.0 * runs * hw, loss_run, &jb);
	double s = 0;
	for (long r = 0; r < runs; r++)
		s += part[r];
	return s / ((double)runs * hw);
}
