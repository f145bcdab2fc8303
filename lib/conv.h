/* conv.h - variants of the engine's layers that work together
 *
 * A layer's implementation may depend on the layers around it: an "up"
 * followed by a stride-1 conv become a pair that computes the same from
 * the small image with less work and memory traffic; a relu conv followed
 * by a bn leaves the relu's derivative to the bn's backward pass, which
 * reads the conv's output anyway; in inference a conv followed by a bn
 * applies the bn itself. net_create picks the implementation of each
 * layer with layer_ops_fused() and the folds with layer_folds_bn().
 */
#ifndef CAE_CONV_H
#define CAE_CONV_H

#include "layer.h"

/* The pair: up_small_ops passes its input on as it is, (C,N,H,W) in the
 * first quarter of its (C,N,2H,2W) output buffer; conv2d_up_ops, a
 * stride-1 conv whose input shape is that of the upsampled image, reads
 * that small image and computes the conv of its upsampling; its input
 * gradient is the small image's (C,N,H,W), which up_small_ops passes on.
 * Only for an up whose output goes to the conv alone. */
extern const struct layer_ops up_small_ops, conv2d_up_ops;

/* The other pair: bn_relu_ops, a bn whose input is the output of a relu
 * conv, multiplies its dx by that relu's derivative (x > 0); the conv,
 * conv2d_bnr_ops or (after an up) conv2d_up_bnr_ops, takes its dy as the
 * gradient w.r.t. its pre-activation. */
extern const struct layer_ops bn_relu_ops, conv2d_bnr_ops, conv2d_up_bnr_ops;

/* Inference folds a bn into the conv before it: its running statistics
 * make it a per-channel y = x * scale + shift, which the conv applies to
 * its output (after bias and activation) while it is still in registers,
 * and the bn's own pass is skipped. Only in networks that keep no
 * activations (net.c), so backward after an inference pass still sees
 * the bn's input. bn_affine gives the bn's scale and shift per channel
 * (C) of inference, computed exactly as its own forward pass does. */
void bn_affine(const struct layer *l, float *scale, float *shift);

/* 0 keeps every convolution on im2col + GEMM, 1 (the default unless
 * CAE_CONV_GEMM=1 is in the environment) lets them use the direct kernels
 * where they are built. For comparisons; set it before net_create. */
void conv2d_set_direct(int on);

/* 0 keeps every convolution off the Winograd kernels (winograd.h), 1
 * (the default unless CAE_NO_WINOGRAD=1 is in the environment) lets
 * inference passes use them for the 3x3 ones they fit with enough input
 * channels (conv2d.c). For comparisons; may be switched between
 * passes. */
void conv2d_set_winograd(int on);
/* How many times the two above were called: weights prepared for
 * inference (layer.h) under other settings are stale. */
unsigned conv2d_modes(void);

/* The implementation of layer i of a: def (the ops of its kind), or a
 * variant of it that computes the same together with its neighbour.
 * Assumes layer i reads the output of layer i - 1, nothing else reads the
 * output of an up layer followed by a conv, and the gradient a relu conv
 * followed by a bn gets comes from that bn alone. CAE_NO_FUSE=1 in the
 * environment keeps every layer plain, for comparisons. */
const struct layer_ops *layer_ops_fused(const struct arch *a, int i,
                                        const struct layer_ops *def);
/* 1 if layer i of a is a conv (any activation) whose output goes to a bn
 * that inference can fold into it; 0 too with CAE_NO_FUSE=1. */
int layer_folds_bn(const struct arch *a, int i);

#endif
