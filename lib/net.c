/* net.c - a network: layers in a row, one buffer of parameters
 *
 * net_create() sets up every layer's shapes first and only then allocates:
 * parameters, gradients and state in one buffer each (layer after layer, in
 * spec order), two buffers of the largest activation, and the per-thread
 * scratch. Inference passes through the two buffers in turn; the first
 * training pass allocates a buffer per activation, which backward needs
 * (and inference keeps using from then on), so a network that only infers
 * needs a fraction of the memory, whatever its image size. The output of a
 * save layer always has a buffer of its own, allocated up front, for the
 * add and concat layers that use it further on. A network that only
 * infers also folds each bn that follows a conv into that conv (conv.h)
 * and skips the bn; the first training pass ends that for good, so that
 * a backward pass after an inference pass finds every activation.
 *
 * Such a network also infers depth first: each thread takes a few images
 * (a micro-batch) through all the layers in buffers of its own, which stay
 * in its cache, where a layer at a time over the whole batch would stream
 * every activation through memory; and threads meet only at the end of
 * the batch. The layers it runs are frozen copies (layer.h): what they
 * derive from the parameters is prepared once per pass. Every image's
 * output is the same either way. CAE_NO_MICRO=1 in the environment turns
 * it off, CAE_MICRO=N sets the images per micro-batch. The batch-sized
 * buffers of a layer at a time (the input, the two activations, the save
 * layers' outputs) are then never allocated: memory does not grow with
 * the batch but for the input and output.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "conv.h"
#include "layer.h"
#include "par.h"
#include "rng.h"
#include "util.h"

struct net {
	int nl;
	struct layer l[ARCH_MAX_LAYERS];
	int c, h, w, max_batch;
	size_t np, ns;
	float *params, *grads, *state;
	float *act[ARCH_MAX_LAYERS + 1];   /* act[i]: input of layer i (C,N,H,W),
	                                    * i > 0 allocated by the first
	                                    * training pass (after a save layer:
	                                    * by net_create) */
	float *dsave[ARCH_MAX_LAYERS];     /* gradient w.r.t. the output of
	                                    * save layer i, from its users */
	const float *yint;                 /* last output, (C',N,H',W') */
	float *out;                        /* (N,C',H',W') */
	float *d[2];                       /* gradients, largest activation size */
	float *dx_in;                      /* (N,C,H,W) when input_grad */
	double *part;                      /* loss partial sums */
	int input_grad, n_fwd, kept;       /* kept: act[] holds the last pass */
	int all_acts;                      /* act[] all allocated */
	int batch_bufs;                    /* act[0], d[], saves' act[] are */
	size_t maxact;                     /* floats of the largest activation */
	int micro;                         /* images per micro-batch, 0: off */
	int nmicro;                        /* threads with micro buffers */
	float **mbuf;                      /* theirs, see micro_forward() */
	float *ymicro;                     /* yint after micro_forward() */
	float *prepared;                   /* parameters and state the layers
	                                    * were last prepared from */
	unsigned prep_modes;               /* and conv2d_modes() then */
	struct nn_ws ws;
};

static const struct layer_ops *kind_ops(int kind)
{
	switch (kind) {
	case L_CONV: return &conv2d_ops;
	case L_BN: return &bn_ops;
	case L_RELU: return &relu_ops;
	case L_SIGMOID: return &sigmoid_ops;
	case L_MAXPOOL: return &pool_ops;
	case L_UP: return &up_ops;
	case L_DENSE: return &dense_ops;
	case L_FLATTEN: return &flatten_ops;
	case L_RESHAPE: return &reshape_ops;
	case L_SAVE: return &save_ops;
	case L_ADD: return &add_ops;
	case L_CONCAT: return &concat_ops;
	case L_S2D: return &s2d_ops;
	case L_D2S: return &d2s_ops;
	case L_CLIP: return &clip_ops;
	}
	return NULL;
}

/* Zeroed, 64-byte aligned; NULL on failure (the caller reports it). */
static void *zalloc(size_t n, size_t size)
{
	size_t bytes;
	if (__builtin_mul_overflow(n ? n : 1, size, &bytes) || bytes > SIZE_MAX - 64)
		return NULL;
	bytes = (bytes + 63) / 64 * 64;
	void *p = aligned_alloc(64, bytes);
	if (p)
		memset(p, 0, bytes);
	return p;
}

/* The engine runs one GEMM per thread itself, so OpenBLAS runs on the
 * calling thread. Its pthreads build also starts threads as it loads,
 * before main, one per core unless OPENBLAS_NUM_THREADS says otherwise,
 * and each spins for some 0.1 s of CPU before it sleeps: time taken from
 * the engine's threads and the other programs of a pipeline. They are
 * ended with the call OpenBLAS's own fork handler makes, once: setting
 * the thread count again would start them again. Weak: other builds and
 * other BLAS libraries may not have it. */
extern int blas_thread_shutdown_(void) __attribute__((weak));

static void blas_serial(void)
{
	static int done;
	if (done)
		return;
	openblas_set_num_threads(1);
	if (blas_thread_shutdown_)
		blas_thread_shutdown_();
	done = 1;
}

int nn_threads(void)
{
	return par_threads();
}

void nn_set_threads(int n)
{
	if (n < 1)
		n = 1;
	par_set_threads(n);
	blas_serial();
}

/* Makes sure there is scratch for every thread the next region may use. */
static int ws_grow(struct nn_ws *ws, int threads)
{
	if (threads <= ws->nthreads)
		return 0;
	float **c = realloc(ws->cols, sizeof *c * (size_t)threads);
	if (!c)
		return -1;
	ws->cols = c;
	float **d = realloc(ws->dcols, sizeof *d * (size_t)threads);
	if (!d)
		return -1;
	ws->dcols = d;
	for (int t = ws->nthreads; t < threads; t++) {
		ws->cols[t] = zalloc(ws->cols_n, sizeof(float));
		ws->dcols[t] = zalloc(ws->cols_n, sizeof(float));
		if (!ws->cols[t] || !ws->dcols[t]) {
			free(ws->cols[t]);
			free(ws->dcols[t]);
			return -1;
		}
		ws->nthreads = t + 1;
	}
	return 0;
}

static void ws_ensure(struct net *net)
{
	if (ws_grow(&net->ws, nn_threads()) < 0)
		die("out of memory for %d threads of scratch", nn_threads());
}

void net_free(struct net *net)
{
	if (!net)
		return;
	for (int i = 0; i < net->nl; i++) {
		free(net->l[i].save);
		free(net->l[i].idx);
		free(net->dsave[i]);
	}
	for (int i = 0; i <= net->nl; i++)
		free(net->act[i]);
	for (int t = 0; t < net->ws.nthreads; t++) {
		free(net->ws.cols[t]);
		free(net->ws.dcols[t]);
	}
	free(net->ws.cols);
	free(net->ws.dcols);
	for (int t = 0; t < net->nmicro; t++)
		free(net->mbuf[t]);
	free(net->mbuf);
	free(net->ymicro);
	free(net->prepared);
	free(net->ws.part);
	free(net->params);
	free(net->grads);
	free(net->state);
	free(net->out);
	free(net->d[0]);
	free(net->d[1]);
	free(net->dx_in);
	free(net->part);
	free(net);
}

static size_t act_size(int c, int h, int w) { return (size_t)c * h * w; }

/* Floats of the largest activation of a micro-batch: 256 KiB, a quarter
 * of this machine's L2 per core. */
#define MICRO_FLOATS (64 * 1024)

/* Images per micro-batch for net, or 0 when it infers a layer at a time:
 * networks with a dense layer (whose weights a micro-batch would read
 * from memory once per few images), or when the environment says so. */
static int micro_size(const struct net *net)
{
	const char *off = getenv("CAE_NO_MICRO"), *m = getenv("CAE_MICRO");
	if (off && *off && *off != '0')
		return 0;
	for (int i = 0; i < net->nl; i++)
		if (net->l[i].s.kind == L_DENSE)
			return 0;
	long k = m && *m ? atol(m) : (long)(MICRO_FLOATS / net->maxact);
	return (int)(k < 1 ? 1 : k > net->max_batch ? net->max_batch : k);
}

/* Points add or concat layer l[i] at the latest save of its name before
 * it, whose output shape it then knows. Returns its index, or -1. */
static int find_save(struct layer *l, int i)
{
	for (int j = i - 1; j >= 0; j--)
		if (l[j].s.kind == L_SAVE && !strcmp(l[j].s.name, l[i].s.name)) {
			l[i].ref = j, l[i].sc = l[j].oc, l[i].sh = l[j].oh, l[i].sw = l[j].ow;
			return j;
		}
	return -1;
}

/* What the layers need, summed or maxed over them. */
struct plan { size_t np, ns, maxact, cols_n, part_n; };

/* Sets up the layers l[0..a->n) of A for input (c,h,w) and batches of up
 * to max_batch: every shape checked, nothing allocated. 0, or -1 with
 * err set. */
static int setup_layers(struct layer *l, const struct arch *a, int c, int h, int w,
                        int max_batch, struct plan *p, char *err, size_t errlen)
{
	char spec[96], msg[160];
	memset(p, 0, sizeof *p);
	if (a->n < 1 || a->n > ARCH_MAX_LAYERS) {
		snprintf(err, errlen, "%d layers: need 1 to %d", a->n, ARCH_MAX_LAYERS);
		return -1;
	}
	if (c < 1 || h < 1 || w < 1 || max_batch < 1) {
		snprintf(err, errlen, "bad input shape %dx%dx%d or batch %d", c, h, w, max_batch);
		return -1;
	}
	p->maxact = act_size(c, h, w);
	if ((double)p->maxact * max_batch > INT_MAX) {
		snprintf(err, errlen, "input %dx%dx%d x %d images: too large", c, h, w, max_batch);
		return -1;
	}
	for (int i = 0; i < a->n; i++) {
		l[i].s = a->l[i];
		l[i].ops = layer_ops_fused(a, i, kind_ops(l[i].s.kind));
		l[i].ic = i ? l[i - 1].oc : c;
		l[i].ih = i ? l[i - 1].oh : h;
		l[i].iw = i ? l[i - 1].ow : w;
		l[i].need_dx = i > 0;
		arch_format_layer(&l[i].s, spec, sizeof spec);
		if (!l[i].ops) {
			snprintf(err, errlen, "layer %d: unknown kind %d", i + 1, l[i].s.kind);
			return -1;
		}
		if ((l[i].s.kind == L_ADD || l[i].s.kind == L_CONCAT) && find_save(l, i) < 0) {
			snprintf(err, errlen, "layer %d (%s): no save:%s before it", i + 1, spec,
			         l[i].s.name);
			return -1;
		}
		if (l[i].ops->setup(&l[i], max_batch, msg, sizeof msg) < 0) {
			snprintf(err, errlen, "layer %d (%s): %s", i + 1, spec, msg);
			return -1;
		}
		size_t sz = act_size(l[i].oc, l[i].oh, l[i].ow);
		if ((double)sz * max_batch > INT_MAX || l[i].oh < 1 || l[i].ow < 1) {
			snprintf(err, errlen, "layer %d (%s): output %dx%dx%d x %d images: too large",
			         i + 1, spec, l[i].oc, l[i].oh, l[i].ow, max_batch);
			return -1;
		}
		if (sz > p->maxact)
			p->maxact = sz;
		p->np += l[i].np;
		p->ns += l[i].ns;
		if (l[i].cols_n > p->cols_n)
			p->cols_n = l[i].cols_n;
		if (l[i].part_n > p->part_n)
			p->part_n = l[i].part_n;
	}
	return 0;
}

int net_plan(const struct arch *a, int c, int h, int w, size_t *np, size_t *ns,
             char *err, size_t errlen)
{
	struct layer *l = calloc(ARCH_MAX_LAYERS, sizeof *l);
	struct plan p;
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int r = setup_layers(l, a, c, h, w, 1, &p, err, errlen);
	free(l);
	*np = p.np, *ns = p.ns;
	return r;
}

struct net *net_create(const struct arch *a, int c, int h, int w, int max_batch,
                       char *err, size_t errlen)
{
	struct plan p;
	struct net *net = calloc(1, sizeof *net);
	if (!net) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (setup_layers(net->l, a, c, h, w, max_batch, &p, err, errlen) < 0) {
		free(net);
		return NULL;
	}
	net->nl = a->n, net->c = c, net->h = h, net->w = w, net->max_batch = max_batch;
	net->np = p.np, net->ns = p.ns;
	net->ws.cols_n = p.cols_n, net->ws.part_n = p.part_n;
	size_t maxact = p.maxact;
	net->maxact = maxact;
	net->micro = micro_size(net);
	for (int i = 0; i < net->nl; i++) {
		net->l[i].ws = &net->ws;
		if (layer_folds_bn(a, i))
			net->l[i].bn = &net->l[i + 1];
	}
	/* shapes are fine: allocate */
	struct layer *last = &net->l[net->nl - 1];
	int ok = (net->params = zalloc(net->np, sizeof(float))) &&
	         (net->grads = zalloc(net->np, sizeof(float))) &&
	         (net->state = zalloc(net->ns, sizeof(float))) &&
	         (net->out = zalloc(act_size(last->oc, last->oh, last->ow) * max_batch, sizeof(float))) &&
	         (net->part = zalloc((size_t)last->oc * max_batch, sizeof(double))) &&
	         (net->ws.part = zalloc(net->ws.part_n * NN_SLOTS, sizeof(float)));
	size_t po = 0, so = 0;
	for (int i = 0; ok && i < net->nl; i++) {
		struct layer *l = &net->l[i];
		l->p = net->params + po, l->g = net->grads + po, l->st = net->state + so;
		po += l->np, so += l->ns;
		ok = (!l->save_n || (l->save = zalloc(l->save_n, sizeof(float)))) &&
		     (!l->idx_n || (l->idx = zalloc(l->idx_n, 1)));
	}
	blas_serial();
	if (!ok || ws_grow(&net->ws, nn_threads()) < 0) {
		net_free(net);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return net;
}

void net_out_shape(const struct net *net, int *c, int *h, int *w)
{
	const struct layer *l = &net->l[net->nl - 1];
	*c = l->oc, *h = l->oh, *w = l->ow;
}

size_t net_nparams(const struct net *net) { return net->np; }
float *net_params(struct net *net) { return net->params; }
float *net_grads(struct net *net) { return net->grads; }
size_t net_nstate(const struct net *net) { return net->ns; }
float *net_state(struct net *net) { return net->state; }
int net_nlayers(const struct net *net) { return net->nl; }
struct layer *net_layer(struct net *net, int i) { return &net->l[i]; }

void net_init(struct net *net, uint64_t seed)
{
	struct rng r;
	rng_seed(&r, seed);
	for (int i = 0; i < net->nl; i++)
		if (net->l[i].ops->init)
			net->l[i].ops->init(&net->l[i], &r);
	memset(net->grads, 0, sizeof *net->grads * net->np);
}

void net_set_input_grad(struct net *net, int on)
{
	net->input_grad = on;
	net->l[0].need_dx = on;
	if (on && !net->dx_in)
		net->dx_in = zalloc(act_size(net->c, net->h, net->w) * net->max_batch,
		                    sizeof(float));
	if (on && !net->dx_in)
		die("out of memory");
}

const float *net_activation(struct net *net, int i)
{
	return net->kept ? net->act[i + 1] : NULL;
}

const float *net_input_grad(struct net *net)
{
	return net->dx_in;
}

/* The buffers of a layer at a time over whole batches: the input, two
 * for the activations in turn, the output of each save layer (which its
 * add and concat layers then read). */
static void batch_buffers(struct net *net)
{
	if (net->batch_bufs)
		return;
	size_t b = (size_t)net->max_batch;
	int ok = (net->d[0] = zalloc(net->maxact * b, sizeof(float))) &&
	         (net->d[1] = zalloc(net->maxact * b, sizeof(float))) &&
	         (net->act[0] = zalloc(act_size(net->c, net->h, net->w) * b, sizeof(float)));
	for (int i = 0; ok && i < net->nl; i++) {
		struct layer *l = &net->l[i];
		if (l->s.kind == L_SAVE)
			ok = !!(net->act[i + 1] = zalloc(act_size(l->oc, l->oh, l->ow) * b,
			                                 sizeof(float)));
	}
	if (!ok)
		die("out of memory for batches of %d images", net->max_batch);
	for (int i = 0; i < net->nl; i++)
		if (net->l[i].s.kind == L_ADD || net->l[i].s.kind == L_CONCAT)
			net->l[i].skip = net->act[net->l[i].ref + 1];
	net->batch_bufs = 1;
}

/* Buffers for every activation, and the gradients of saved ones, for
 * backward. */
static void keep_activations(struct net *net)
{
	if (net->all_acts)
		return;
	batch_buffers(net);
	for (int i = 0; i < net->nl; i++) {
		struct layer *l = &net->l[i];
		l->bn = NULL;   /* inference from now on computes every layer */
		size_t sz = act_size(l->oc, l->oh, l->ow) * net->max_batch;
		if (!net->act[i + 1] && !(net->act[i + 1] = zalloc(sz, sizeof(float))))
			die("out of memory for the activations of %d layers", net->nl);
		if (l->s.kind == L_SAVE && !(net->dsave[i] = zalloc(sz, sizeof(float))))
			die("out of memory for the activations of %d layers", net->nl);
	}
	for (int i = 0; i < net->nl; i++) {
		struct layer *l = &net->l[i];
		if (l->s.kind == L_SAVE)
			l->dskip = net->dsave[i];
		else if (l->s.kind == L_ADD || l->s.kind == L_CONCAT)
			l->dskip = net->dsave[l->ref];
	}
	net->all_acts = 1;
}

/* Floats of one thread's micro-batch buffers: the input, two activations
 * in turn, the output of every save layer. */
static size_t micro_floats(const struct net *net)
{
	size_t f = act_size(net->c, net->h, net->w) + 2 * net->maxact;
	for (int i = 0; i < net->nl; i++)
		if (net->l[i].s.kind == L_SAVE)
			f += act_size(net->l[i].oc, net->l[i].oh, net->l[i].ow);
	return f * (size_t)net->micro;
}

static void micro_ensure(struct net *net)
{
	int t = nn_threads();
	if (t <= net->nmicro)
		return;
	float **b = realloc(net->mbuf, sizeof *b * (size_t)t);
	if (!b)
		die("out of memory for %d threads of buffers", t);
	net->mbuf = b;
	for (; net->nmicro < t; net->nmicro++)
		if (!(net->mbuf[net->nmicro] = zalloc(micro_floats(net), sizeof(float))))
			die("out of memory for %d threads of buffers", t);
	const struct layer *l = &net->l[net->nl - 1];
	if (!net->ymicro && !(net->ymicro = zalloc(act_size(l->oc, l->oh, l->ow) *
	                                           (size_t)net->max_batch, sizeof(float))))
		die("out of memory for batches of %d images", net->max_batch);
}

struct micro { struct net *net; const float *x; int n; };

/* Micro-batch i through every layer, on frozen copies of the layers. */
static void micro_item(void *ctx, long i, int worker)
{
	struct micro *mj = ctx;
	struct net *net = mj->net;
	int m0 = (int)i * net->micro, m = mj->n - m0 < net->micro ? mj->n - m0 : net->micro;
	long hw = (long)net->h * net->w;
	struct layer lw[ARCH_MAX_LAYERS];
	float *save[ARCH_MAX_LAYERS];
	float *in = net->mbuf[worker], *buf[2], *next;
	buf[0] = in + act_size(net->c, net->h, net->w) * net->micro;
	buf[1] = buf[0] + net->maxact * net->micro;
	next = buf[1] + net->maxact * net->micro;
	memcpy(lw, net->l, sizeof *lw * (size_t)net->nl);
	for (int j = 0; j < net->nl; j++) {
		lw[j].frozen = 1;
		save[j] = NULL;
		if (lw[j].s.kind == L_SAVE) {
			save[j] = next;
			next += act_size(lw[j].oc, lw[j].oh, lw[j].ow) * net->micro;
		} else if (lw[j].s.kind == L_ADD || lw[j].s.kind == L_CONCAT) {
			lw[j].skip = save[lw[j].ref];
		}
	}
	nchw_to_cnhw(mj->x + (long)m0 * net->c * hw, in, m, net->c, hw);
	const float *cur = in;
	for (int j = 0; j < net->nl; j++) {
		if (j > 0 && net->l[j - 1].bn)
			continue;   /* a bn the conv before has applied */
		float *y = save[j] ? save[j] : cur == buf[0] ? buf[1] : buf[0];
		lw[j].ops->forward(&lw[j], cur, y, m, 0);
		cur = y;
	}
	const struct layer *l = &net->l[net->nl - 1];
	long ohw = (long)l->oh * l->ow;
	cnhw_to_nchw(cur, net->out + (long)m0 * l->oc * ohw, m, l->oc, ohw);
}

static void prepare_item(void *ctx, long i, int worker)
{
	struct net *net = ctx;
	if (net->l[i].ops->prepare && !(i > 0 && net->l[i - 1].bn))
		net->l[i].ops->prepare(&net->l[i]);
}

/* Prepares the layers, unless their parameters, state and the conv modes
 * are those they were last prepared from (a comparison costs a fraction
 * of a preparation). */
static void prepare(struct net *net)
{
	size_t np = net->np, ns = net->ns;
	if (net->prepared && net->prep_modes == conv2d_modes() &&
	    !memcmp(net->prepared, net->params, sizeof(float) * np) &&
	    !memcmp(net->prepared + np, net->state, sizeof(float) * ns))
		return;
	par_for(net->nl, prepare_item, net);   /* layers write their own save */
	if (!net->prepared && !(net->prepared = zalloc(np + ns, sizeof(float))))
		die("out of memory");
	memcpy(net->prepared, net->params, sizeof(float) * np);
	memcpy(net->prepared + np, net->state, sizeof(float) * ns);
	net->prep_modes = conv2d_modes();
}

/* Inference of a network that keeps no activations, depth first. */
static void micro_forward(struct net *net, const float *x, int n)
{
	micro_ensure(net);
	prepare(net);
	struct micro mj = { net, x, n };
	par_for((n + net->micro - 1) / net->micro, micro_item, &mj);
	net->yint = NULL;   /* net_loss() makes it from out when asked */
}

const float *net_forward(struct net *net, const float *x, int n, int training)
{
	if (n < 1 || n > net->max_batch)
		return NULL;
	ws_ensure(net);
	if (training)
		keep_activations(net);
	net->kept = net->all_acts;
	if (!training && !net->all_acts && net->micro) {
		micro_forward(net, x, n);
		net->n_fwd = n;
		return net->out;
	}
	batch_buffers(net);
	nchw_to_cnhw(x, net->act[0], n, net->c, (long)net->h * net->w);
	const float *in = net->act[0];
	for (int i = 0; i < net->nl; i++) {
		if (!training && i > 0 && net->l[i - 1].bn)
			continue;   /* a bn the conv before has applied */
		/* saved outputs have their own buffer in inference too */
		float *y = net->act[i + 1] ? net->act[i + 1] :
		           in == net->d[0] ? net->d[1] : net->d[0];
		net->l[i].ops->forward(&net->l[i], in, y, n, training);
		in = y;
	}
	const struct layer *l = &net->l[net->nl - 1];
	net->yint = in;
	cnhw_to_nchw(in, net->out, n, l->oc, (long)l->oh * l->ow);
	net->n_fwd = n;
	return net->out;
}

/* Cross-entropy on a sigmoid output: the gradient w.r.t. the sigmoid's
 * input is (p - t)/count, exact and never vanishing when p saturates (the
 * form Keras uses when a sigmoid feeds this loss). */
static int fuses(const struct layer *l, int loss)
{
	return loss == LOSS_BCE && (l->s.kind == L_SIGMOID ||
	       ((l->s.kind == L_CONV || l->s.kind == L_DENSE) && l->s.act == ACT_SIGMOID));
}

double net_loss(struct net *net, const float *target, int n, int loss)
{
	const struct layer *l = &net->l[net->nl - 1];
	if (n != net->n_fwd)
		return -1;
	if (!net->yint) {   /* after micro_forward() */
		nchw_to_cnhw(net->out, net->ymicro, n, l->oc, (long)l->oh * l->ow);
		net->yint = net->ymicro;
	}
	return loss_eval(net->yint, target, n, l->oc, (long)l->oh * l->ow,
	                 loss, 0, NULL, net->part);
}

double net_backward(struct net *net, const float *target, int n, int loss)
{
	struct layer *last = &net->l[net->nl - 1];
	if (n != net->n_fwd || !net->kept)
		return -1;
	ws_ensure(net);
	for (int i = 0; i < net->nl; i++)
		net->l[i].fused = 0;
	last->fused = fuses(last, loss);
	for (int i = 0; i < net->nl; i++)
		if (net->dsave[i])
			memset(net->dsave[i], 0, sizeof(float) * act_size(net->l[i].oc,
			       net->l[i].oh, net->l[i].ow) * (size_t)n);
	float *dy = net->d[0], *dx = net->d[1];
	double v = loss_eval(net->yint, target, n, last->oc,
	                     (long)last->oh * last->ow, loss, last->fused, dy, net->part);
	for (int i = net->nl - 1; i >= 0; i--) {
		struct layer *l = &net->l[i];
		l->ops->backward(l, net->act[i], net->act[i + 1], dy, dx, n);
		float *t = dy;
		dy = dx, dx = t;
	}
	if (net->input_grad)
		cnhw_to_nchw(dy, net->dx_in, n, net->c, (long)net->h * net->w);
	return v;
}

/* v with thousands separated by commas, as Keras prints counts. */
static const char *grouped(size_t v, char *buf, size_t n)
{
	char digits[32];
	int len = snprintf(digits, sizeof digits, "%zu", v), o = 0;
	for (int i = 0; i < len && (size_t)o + 2 < n; i++) {
		if (i && (len - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = 0;
	return buf;
}

void net_print(const struct net *net, FILE *f)
{
	char spec[96], shape[48], num[48], num2[48];
	fprintf(f, "%5s  %-24s %-16s %12s\n", "#", "layer", "output", "params");
	fprintf(f, "%5s  %-24s %dx%dx%d\n", "", "input", net->c, net->h, net->w);
	for (int i = 0; i < net->nl; i++) {
		const struct layer *l = &net->l[i];
		arch_format_layer(&l->s, spec, sizeof spec);
		snprintf(shape, sizeof shape, "%dx%dx%d", l->oc, l->oh, l->ow);
		fprintf(f, "%5d  %-24s %-16s %12s\n", i + 1, spec, shape,
		        grouped(l->np, num, sizeof num));
	}
	fprintf(f, "total: %s parameters, %s state values (batch-norm statistics)\n",
	        grouped(net->np, num, sizeof num), grouped(net->ns, num2, sizeof num2));
}
