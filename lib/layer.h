/* layer.h - inside the engine: one struct per layer, one ops table per kind
 *
 * Activations inside the network are laid out (C,N,H,W): channel-major over
 * the whole batch, so a convolution is one wide matrix product over many
 * images and a batch-norm channel is one contiguous run. The network
 * converts from and to (N,C,H,W) at its input and output only.
 *
 * Each kind (conv2d.c, batchnorm.c, ...) provides setup (shapes and sizes,
 * checked before the network allocates anything), init, forward and
 * backward. Forward keeps nothing but what backward needs: backward gets
 * the layer's input x and output y back from the network.
 */
#ifndef CAE_LAYER_H
#define CAE_LAYER_H

#include <stddef.h>

#include "nn.h"

struct rng;

/* dW partial sums of a convolution are kept per slot, a fixed split of the
 * batch that does not depend on the thread count, and added in slot order:
 * so results are the same with any number of threads. */
#define NN_SLOTS 16

/* Scratch shared by every layer of a network; one cols buffer per thread. */
struct nn_ws {
	int nthreads;
	size_t cols_n;        /* floats in each of cols[t], dcols[t] */
	float **cols, **dcols;
	size_t part_n;        /* floats per slot in part */
	float *part;          /* (NN_SLOTS, part_n) */
};

struct layer {
	struct layer_spec s;
	const struct layer_ops *ops;
	int ic, ih, iw;         /* input shape */
	int oc, oh, ow;         /* output shape */
	int pt, pl;             /* conv: padding before the rows, the columns */
	int need_dx;            /* backward computes dx (not for layer 1) */
	int fused;              /* backward: dy is already w.r.t. the
	                         * pre-activation (sigmoid + cross-entropy) */
	int trained;            /* bn: the last forward used batch statistics */
	int frozen;             /* a worker's copy of the layer in inference
	                         * (net_forward): prepare has run, forward
	                         * reads the layer's buffers and writes none */
	struct layer *bn;       /* conv: the bn after it, which inference folds
	                         * into this conv (conv.h), while the network
	                         * keeps no activations; else NULL */
	size_t np, ns;          /* parameter and state counts */
	float *p, *g, *st;      /* this layer's part of the net's buffers */
	size_t save_n, idx_n;   /* floats in save, bytes in idx (per setup) */
	size_t cols_n, part_n;  /* workspace needs (per setup) */
	float *save;            /* bn: mean, 1/std (2,C); dense: (in,N) input */
	unsigned char *idx;     /* pool: which of the 2x2 was the max */
	int ref;                /* add, concat: index of the save layer */
	int sc, sh, sw;         /* add, concat: shape of the saved activation */
	const float *skip;      /* add, concat: the saved activation (SC,N,SH,SW) */
	float *dskip;           /* save: the gradient add and concat layers give
	                         * its output (SC,N,SH,SW), which they add to and
	                         * the network zeroes before each backward pass;
	                         * add, concat: that of their save layer */
	struct nn_ws *ws;
};

struct layer_ops {
	/* From spec and input shape: output shape, np, ns, save_n, idx_n,
	 * cols_n, part_n for batches of up to max_batch. 0, or -1 with err. */
	int (*setup)(struct layer *l, int max_batch, char *err, size_t errlen);
	/* Initial parameters and state (may be NULL: nothing to draw). */
	void (*init)(struct layer *l, struct rng *r);
	/* x (C,N,H,W) -> y (OC,N,OH,OW), n images. */
	void (*forward)(struct layer *l, const float *x, float *y, int n,
	                int training);
	/* From dy (OC,N,OH,OW), which it may overwrite, sets the gradients of
	 * the parameters l->g and, if l->need_dx, dx (C,N,H,W). */
	void (*backward)(struct layer *l, const float *x, const float *y,
	                 float *dy, float *dx, int n);
	/* Inference: computes into save what forward derives from the
	 * parameters (rearranged and transformed weights, a folded bn), for
	 * frozen copies to read. NULL: nothing to compute. */
	void (*prepare)(struct layer *l);
};

extern const struct layer_ops conv2d_ops, bn_ops, relu_ops, sigmoid_ops,
	pool_ops, up_ops, dense_ops, flatten_ops, reshape_ops, save_ops, add_ops,
	concat_ops, s2d_ops, d2s_ops, clip_ops;

/* act.c: activation in place over n values, and dy *= act'(y) in place. */
void act_forward(float *y, long n, int act);
void act_backward(float *dy, const float *y, long n, int act);
/* Single-threaded pieces for use inside parallel loops: sigmoid in place;
 * dy *= act'(y) returning the sum of the new dy (a bias gradient). */
void act_sigmoid(float *y, long n);
double act_grad_sum(float *dy, const float *y, long n, int act);
/* Sum of n floats: 16 float lanes that vectorise, blocks added in double. */
double vsum(const float *a, long n);

/* reshape.c: layout changes. x (N,C,HW) <-> (C,N,HW). */
void nchw_to_cnhw(const float *x, float *y, int n, int c, long hw);
void cnhw_to_nchw(const float *x, float *y, int n, int c, long hw);
/* x (C1,N,HW1) -> y (C2,N,HW2) with each image's C*HW values in order:
 * flatten and reshape inside the network (C1*HW1 == C2*HW2). */
void relayout(const float *x, int c1, long hw1, float *y, int c2, long hw2, int n);

/* loss.c: loss of y (C,N,HW) against t (N,C,HW), the mean over all
 * values; if g is not NULL also its gradient (C,N,HW) w.r.t. y, or, when
 * fused, w.r.t. the input of the sigmoid that made y (cross-entropy only).
 * part is scratch for C*n doubles. */
double loss_eval(const float *y, const float *t, int n, int c, long hw,
                 int kind, int fused, float *g, double *part);

/* conv2d.c: direct convolution loops on (N,C,H,W) data, for tests. The
 * reference forward writes y (N,OC,OH,OW) including bias and activation;
 * the backward takes dy w.r.t. y and sets dw (OC,C,k,k), db (OC) and, if
 * dx is not NULL, dx (N,C,H,W). */
void conv2d_forward_ref(const struct layer *l, const float *x, float *y, int n);
void conv2d_backward_ref(const struct layer *l, const float *x, const float *y,
                         const float *dy, float *dx, float *dw, float *db, int n);

/* For tests: the layers of a network (0-based), and gradients w.r.t. the
 * network input. After net_set_input_grad(net, 1), net_backward also
 * computes d loss / d x, read with net_input_grad() as (N,C,H,W). */
int net_nlayers(const struct net *net);
struct layer *net_layer(struct net *net, int i);
void net_set_input_grad(struct net *net, int on);
/* Output of layer i (0-based) of the last forward pass, (C,N,H,W); NULL
 * unless the network keeps its activations (after a training pass). */
const float *net_activation(struct net *net, int i);
const float *net_input_grad(struct net *net);

/* Number of threads the engine splits work into (nn_set_threads). */
int nn_threads(void);

#endif
