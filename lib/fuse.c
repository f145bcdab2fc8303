/* fuse.c - which layers get a variant that works with a neighbour, see
 * conv.h */
#include <stdlib.h>

#include "conv.h"

static int fusing(void)
{
	const char *off = getenv("CAE_NO_FUSE");
	return !(off && *off && *off != '0');
}

/* Layer i is an up feeding a stride-1 conv. */
static int up_conv(const struct arch *a, int i)
{
	return i >= 0 && i + 1 < a->n && a->l[i].kind == L_UP &&
	       a->l[i + 1].kind == L_CONV && a->l[i + 1].stride == 1;
}

/* Layer i is a relu conv feeding a bn. */
static int conv_bn(const struct arch *a, int i)
{
	return i >= 0 && i + 1 < a->n && a->l[i].kind == L_CONV &&
	       a->l[i].act == ACT_RELU && a->l[i + 1].kind == L_BN;
}

const struct layer_ops *layer_ops_fused(const struct arch *a, int i,
                                        const struct layer_ops *def)
{
	if (!fusing())
		return def;
	if (def == &up_ops && up_conv(a, i))
		return &up_small_ops;
	if (def == &bn_ops && conv_bn(a, i - 1))
		return &bn_relu_ops;
	if (def == &conv2d_ops) {
		int up = up_conv(a, i - 1), bn = conv_bn(a, i);
		return up ? (bn ? &conv2d_up_bnr_ops : &conv2d_up_ops)
		          : (bn ? &conv2d_bnr_ops : def);
	}
	return def;
}

int layer_folds_bn(const struct arch *a, int i)
{
	return fusing() && i >= 0 && i + 1 < a->n && a->l[i].kind == L_CONV &&
	       a->l[i + 1].kind == L_BN;
}
