/* fuzz_model.c - libFuzzer harness for the model file loader
 *
 * The input is a model file, decoded from memory (model_decode, the work
 * of model_load). A model that decodes is written out again and decoded
 * once more: the two must agree. If it is small enough, the network is
 * built for its input shape and run once over a blank batch.
 *
 * The CRC-32 stands in front of nearly every mutation, so the last byte
 * of the input chooses: if it is odd, the CRC is recomputed over the rest
 * (the fuzzer then reaches the section checks); the byte is dropped.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "model.h"
#include "util.h"

/* Networks are only built and run when no activation can exceed this
 * many samples (the input, times 4 per upsampling, times the widest
 * layer), nor the work this many multiplications. */
#define RUN_MAX_SAMPLES (1 << 20)
#define RUN_MAX_WORK 2e8

static int small_net(const struct model *m)
{
	double a = (double)m->c * m->h * m->w, wide = 1, k = 1;
	for (int i = 0; i < m->arch.n; i++) {
		const struct layer_spec *l = &m->arch.l[i];
		if (l->kind == L_UP)
			a *= 4;
		if ((l->kind == L_CONV || l->kind == L_DENSE) && l->units > wide)
			wide = l->units;
		if (l->kind == L_RESHAPE && (double)l->rc * l->rh * l->rw > wide)
			wide = (double)l->rc * l->rh * l->rw;
		if (l->kind == L_CONV && l->k > k)
			k = l->k;
	}
	return a * wide <= RUN_MAX_SAMPLES &&
	       a * wide * wide * k * k * m->arch.n <= RUN_MAX_WORK;
}

static void same_model(const struct model *a, const struct model *b)
{
	if (strcmp(a->spec, b->spec) || a->c != b->c || a->h != b->h || a->w != b->w ||
	    a->nparams != b->nparams || a->nstate != b->nstate || a->has_train != b->has_train ||
	    memcmp(a->params, b->params, a->nparams * sizeof(float)) ||
	    memcmp(a->state, b->state, a->nstate * sizeof(float)))
		abort();
	if (a->has_train &&
	    (a->tr.nm != b->tr.nm || a->tr.nv != b->tr.nv || a->tr.t != b->tr.t ||
	     a->tr.step != b->tr.step || a->tr.epoch != b->tr.epoch ||
	     memcmp(a->tr.m, b->tr.m, a->tr.nm * sizeof(float)) ||
	     memcmp(a->tr.v, b->tr.v, a->tr.nv * sizeof(float))))
		abort();
}

/* With CAE_FUZZ_SKIP_OPEN set (tests/fuzz_smoke.sh sets it), networks
 * that may reach the open engine bug 1 of fuzz/fuzz_arch.c (a same-padded
 * conv whose padding exceeds its input or its band of rows) are not run. */
static int skip_open;

static int open_bug(const struct model *m)
{
	long h = m->h, w = m->w;
	for (int i = 0; i < m->arch.n; i++) {
		const struct layer_spec *l = &m->arch.l[i];
		switch (l->kind) {
		case L_CONV:
			if (!l->valid && (l->k > h || l->k > w || l->k > 3))
				return 1;
			h = l->valid ? (h - l->k) / l->stride + 1 : (h + l->stride - 1) / l->stride;
			w = l->valid ? (w - l->k) / l->stride + 1 : (w + l->stride - 1) / l->stride;
			break;
		case L_MAXPOOL: case L_S2D: h /= 2, w /= 2; break;
		case L_UP: case L_D2S: h *= 2, w *= 2; break;
		case L_DENSE: case L_FLATTEN: h = w = 1; break;
		case L_RESHAPE: h = l->rh, w = l->rw; break;
		}
	}
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	skip_open = getenv("CAE_FUZZ_SKIP_OPEN") != NULL;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct model m, m2;
	char err[512];
	unsigned char *buf;
	size_t n;

	if (size < 1)
		return 0;
	n = size - 1;
	buf = malloc(n ? n : 1);
	memcpy(buf, data, n);
	if ((data[n] & 1) && n >= 4) {
		uint32_t crc = (uint32_t)crc32_z(crc32_z(0, Z_NULL, 0), buf, n - 4);
		wr32(buf + n - 4, crc);
	}
	err[0] = 0;
	if (model_decode(buf, n, "fuzz", &m, err, sizeof(err)) == 0) {
		char *out = NULL;
		size_t outlen = 0;
		FILE *f = open_memstream(&out, &outlen);
		if (!f || model_write(f, &m) || fclose(f))
			abort();
		if (model_decode((unsigned char *)out, outlen, "again", &m2, err, sizeof(err)))
			abort();
		same_model(&m, &m2);
		model_free(&m2);
		free(out);
		if (small_net(&m) && !(skip_open && open_bug(&m))) {
			struct net *net = model_net(&m, (int)m.c, (int)m.h, (int)m.w, 2, err, sizeof(err));
			if (!net)
				abort();  /* model_decode checked exactly this */
			float *x = calloc((size_t)2 * m.c * m.h * m.w, sizeof(float));
			nn_set_threads(1);
			net_forward(net, x, 2, 0);
			free(x);
			net_free(net);
		}
		model_free(&m);
	} else if (!err[0] || m.params || m.state) {
		abort();
	}
	free(buf);
	return 0;
}
