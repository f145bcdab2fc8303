/* nn.h - the neural-network engine: architectures, networks, training
 *
 * Data crosses this interface as (N,C,H,W) float arrays, the layout of the
 * tensor stream; how layers lay out activations inside is the engine's
 * business. All parameters live in one contiguous buffer, with gradients
 * and optimizer moments in parallel buffers of the same layout.
 */
#ifndef CAE_NN_H
#define CAE_NN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum layer_kind {
	L_CONV = 1, L_BN, L_RELU, L_SIGMOID, L_MAXPOOL, L_UP, L_DENSE,
	L_FLATTEN, L_RESHAPE, L_SAVE, L_ADD, L_CONCAT, L_S2D, L_D2S, L_CLIP
};
enum act_kind { ACT_NONE = 0, ACT_RELU, ACT_SIGMOID };
enum loss_kind { LOSS_MSE = 0, LOSS_BCE };
enum optim_kind { OPT_ADAM = 0, OPT_SGD };

#define ARCH_MAX_LAYERS 64
#define ARCH_MAX_NAME 15   /* characters in a save/add/concat name */

/* One layer of an architecture, as written in a spec. */
struct layer_spec {
	int kind;         /* enum layer_kind */
	int units;        /* conv: filters; dense: units */
	int k, stride;    /* conv kernel size and stride */
	int valid;        /* conv padding: 0 same, 1 valid */
	int act;          /* conv/dense activation folded in (default relu) */
	int rc, rh, rw;   /* reshape target */
	char name[ARCH_MAX_NAME + 1];   /* save, add, concat: the activation */
};

struct arch {
	int n;
	struct layer_spec l[ARCH_MAX_LAYERS];
};

/* Parses a preset name (seed-best, dense1, ...) or a spec string such as
 * "conv32,bn,conv32s2,conv32,bn,up,conv32,bn,conv3k1:sigmoid". Every
 * add:NAME and concat:NAME must follow a save:NAME, each NAME saved once.
 * Returns 0, or -1 with a message naming the bad token in err. */
int arch_parse(const char *text, struct arch *a, char *err, size_t errlen);
/* Canonical spec string of A (round-trips through arch_parse). */
void arch_format(const struct arch *a, char *buf, size_t n);
/* Total stride (input H / output-of-narrowest H), for any-size checks,
 * from the layers alone (no network need be built); 0 if A has dense
 * layers (fixed input shape only). */
int arch_total_stride(const struct arch *a);
/* Canonical spec of one layer ("conv32s2", "reshape32x8x8"). */
void arch_format_layer(const struct layer_spec *l, char *buf, size_t n);
/* Preset table: name and spec of preset i, NULL past the end. */
const char *arch_preset_name(int i);
const char *arch_preset_spec(int i);

struct net;

/* Builds a network for input (c,h,w), checking every layer's shapes before
 * allocating; batches up to max_batch images. Returns NULL with err set. */
struct net *net_create(const struct arch *a, int c, int h, int w, int max_batch,
                       char *err, size_t errlen);
void net_free(struct net *net);
/* The shape checks of net_create and the parameter and state counts,
 * without allocating the network: for untrusted architectures and shapes.
 * 0, or -1 with err set. */
int net_plan(const struct arch *a, int c, int h, int w, size_t *np, size_t *ns,
             char *err, size_t errlen);
/* Output shape of the whole network. */
void net_out_shape(const struct net *net, int *c, int *h, int *w);

/* Parameters (weights and biases, all layers) and their gradients. */
size_t net_nparams(const struct net *net);
float *net_params(struct net *net);
float *net_grads(struct net *net);
/* Non-trained state: batch-norm running mean and variance. */
size_t net_nstate(const struct net *net);
float *net_state(struct net *net);

/* Glorot-uniform weights, zero biases, BN gamma 1 beta 0, running mean 0
 * variance 1; draws from a generator seeded with SEED. */
void net_init(struct net *net, uint64_t seed);

/* Forward pass over n <= max_batch images x (n,C,H,W). training selects
 * batch statistics for BN (and updates running statistics). Returns the
 * output (n,C',H',W'), valid until the next call. */
const float *net_forward(struct net *net, const float *x, int n, int training);
/* Loss of the last forward output against target (n,C',H',W'), mean over
 * all samples; then the backward pass, which sets net_grads() (overwriting,
 * not accumulating). Returns the loss. */
double net_backward(struct net *net, const float *target, int n, int loss);
/* Loss only (no backward): for validation. */
double net_loss(struct net *net, const float *target, int n, int loss);

/* Prints layers, output shapes and parameter counts. */
void net_print(const struct net *net, FILE *f);
/* Threads for GEMMs and loops (1 = fully deterministic). */
void nn_set_threads(int n);

struct optim {
	int kind;                  /* enum optim_kind */
	float lr, beta1, beta2, eps, momentum;
	uint64_t t;                /* steps taken */
	size_t n;
	float *m, *v;              /* moments, same layout as the parameters */
};
/* Keras defaults: Adam lr 1e-3, beta1 0.9, beta2 0.999, eps 1e-7;
 * SGD lr 1e-2, momentum 0.9. */
void optim_init(struct optim *o, int kind, size_t nparams);
void optim_step(struct optim *o, float *params, const float *grads);
void optim_free(struct optim *o);

#endif
