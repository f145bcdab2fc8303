/* test_model.c - model file round trip and every kind of damage detected */
#include "check.h"
#include "model.h"
#include "nn.h"
#include "stream.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define SPEC "conv8,bn,conv8s2,up,conv3k1:sigmoid"

static char err[512];

/* A small model built by the engine, with a training state. */
static struct net *make(struct model *m, int with_train)
{
	struct net *net;
	char e[256];
	memset(m, 0, sizeof(*m));
	if (arch_parse(SPEC, &m->arch, e, sizeof(e)))
		return NULL;
	arch_format(&m->arch, m->spec, sizeof(m->spec));
	net = net_create(&m->arch, 3, 8, 8, 4, e, sizeof(e));
	if (!net)
		return NULL;
	net_init(net, 7);
	m->c = 3;
	m->h = m->w = 8;
	m->nparams = net_nparams(net);
	m->nstate = net_nstate(net);
	m->params = net_params(net);
	m->state = net_state(net);
	for (uint64_t i = 0; i < m->nstate; i++)
		m->state[i] = 0.25f + (float)i / 8;
	if (with_train) {
		struct train_state *t = &m->tr;
		m->has_train = 1;
		t->optimizer = OPT_ADAM;
		t->loss = LOSS_BCE;
		t->batch = 7;
		t->lr = 1e-3f;
		t->beta1 = 0.9f;
		t->beta2 = 0.999f;
		t->eps = 1e-7f;
		t->momentum = 0.5f;
		t->t = 123;
		t->seed = UINT64_C(0xfeedbeefcafe);
		t->epochs = 5;
		t->epoch = 2;
		t->step = 3;
		t->noise = NOISE_RANGE;
		t->sigma_lo = 0.05f;
		t->sigma_hi = 0.3f;
		t->flags = TRAIN_CLIP;
		t->ntrain = 90;
		t->nheld = 10;
		t->data_crc = 0xdeadbeef;
		t->loss_sum = 1.0 / 3;
		t->loss_count = 21;
		t->nm = t->nv = m->nparams;
		t->m = malloc(m->nparams * sizeof(float));
		t->v = malloc(m->nparams * sizeof(float));
		for (uint64_t i = 0; i < m->nparams; i++) {
			t->m[i] = (float)i * 1e-3f - 0.1f;
			t->v[i] = (float)i * 1e-6f;
		}
	}
	return net;
}

static unsigned char *encode(const struct model *m, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	if (!f || model_write(f, m) || fclose(f))
		return NULL;
	return (unsigned char *)buf;
}

static void fix_crc(unsigned char *b, size_t len)
{
	wr32(b + len - 4, (uint32_t)crc32(0, b, (uInt)(len - 4)));
}

/* Decodes and expects failure with a message containing WHAT. */
static void expect_bad(const unsigned char *b, size_t len, const char *what, const char *why)
{
	struct model m;
	int rc = model_decode(b, len, "x.model", &m, err, sizeof(err));
	CHECKF(rc == -1 && strstr(err, what), "%s: rc %d, message '%s', expected '%s'",
	       why, rc, rc ? err : "", what);
	if (rc == 0)
		model_free(&m);
}

static int same_floats(const float *a, const float *b, uint64_t n)
{
	return n == 0 || !memcmp(a, b, n * sizeof(float));
}

static void round_trip(int with_train)
{
	struct model m, r;
	struct net *net = make(&m, with_train);
	unsigned char *b;
	size_t len;

	CHECK(net != NULL);
	if (!net)
		return;
	b = encode(&m, &len);
	CHECK(b != NULL);
	CHECK(!memcmp(b, "\x89" "CAEMOD\n", 8));
	CHECK(model_decode(b, len, "x.model", &r, err, sizeof(err)) == 0);
	CHECKF(!strcmp(r.spec, m.spec), "%s vs %s", r.spec, m.spec);
	CHECK(r.c == 3 && r.h == 8 && r.w == 8);
	CHECK(r.nparams == m.nparams && r.nstate == m.nstate);
	CHECK(same_floats(r.params, m.params, m.nparams));
	CHECK(same_floats(r.state, m.state, m.nstate));
	CHECK(r.has_train == with_train);
	if (with_train) {
		struct train_state *a = &m.tr, *c = &r.tr;
		CHECK(c->optimizer == a->optimizer && c->loss == a->loss && c->batch == a->batch);
		CHECK(c->lr == a->lr && c->beta1 == a->beta1 && c->beta2 == a->beta2 &&
		      c->eps == a->eps && c->momentum == a->momentum);
		CHECK(c->t == a->t && c->seed == a->seed && c->epochs == a->epochs &&
		      c->epoch == a->epoch && c->step == a->step);
		CHECK(c->noise == a->noise && c->sigma_lo == a->sigma_lo &&
		      c->sigma_hi == a->sigma_hi && c->flags == a->flags);
		CHECK(c->ntrain == a->ntrain && c->nheld == a->nheld && c->data_crc == a->data_crc);
		CHECK(c->loss_sum == a->loss_sum && c->loss_count == a->loss_count);
		CHECK(c->nm == a->nm && c->nv == a->nv);
		CHECK(same_floats(c->m, a->m, a->nm) && same_floats(c->v, a->v, a->nv));
	}

	/* the network rebuilt from the model computes what the original does */
	{
		float x[4 * 3 * 8 * 8];
		struct net *n2 = model_net(&r, 3, 8, 8, 4, err, sizeof(err));
		const float *y1;
		float *keep;
		size_t ny = 4 * 3 * 8 * 8;
		CHECKF(n2 != NULL, "%s", err);
		for (size_t i = 0; i < sizeof(x) / sizeof(x[0]); i++)
			x[i] = (float)((i * 37) % 101) / 100;
		y1 = net_forward(net, x, 4, 0);
		keep = malloc(ny * sizeof(float));
		memcpy(keep, y1, ny * sizeof(float));
		if (n2) {
			CHECK(!memcmp(net_forward(n2, x, 4, 0), keep, ny * sizeof(float)));
			net_free(n2);
		}
		free(keep);
		/* any size for a fully convolutional model */
		n2 = model_net(&r, 3, 16, 24, 2, err, sizeof(err));
		CHECKF(n2 != NULL, "%s", err);
		if (n2)
			net_free(n2);
		n2 = model_net(&r, 1, 8, 8, 2, err, sizeof(err));
		CHECK(n2 == NULL);
	}
	model_free(&r);
	free(m.tr.m);
	free(m.tr.v);
	free(b);
	net_free(net);
}

static void damage(void)
{
	struct model m;
	struct net *net = make(&m, 1);
	unsigned char *b, *c;
	size_t len, i;
	char spec[MODEL_MAX_SPEC];

	if (!net)
		return;
	b = encode(&m, &len);
	c = malloc(len + 64);

	expect_bad(b, 0, "empty file, not a cae model file", "empty");
	memcpy(c, b, len);
	c[1] = 'X';
	expect_bad(c, len, "bad magic: not a cae model file", "magic");
	memcpy(c, b, len);
	c[7] = '\r';
	expect_bad(c, len, "text-mode", "magic CR");
	memcpy(c, ts_magic, 8);
	expect_bad(c, len, "a tensor stream, not a cae model file", "stream");
	memcpy(c, b, len);
	wr32(c + 8, 2);
	expect_bad(c, len, "unknown model file version 2", "version");

	/* a flipped bit anywhere in the payloads or the CRC */
	for (i = 12; i < len; i += 7) {
		memcpy(c, b, len);
		c[i] ^= 0x10;
		{
			struct model r;
			int rc = model_decode(c, len, "x.model", &r, err, sizeof(err));
			CHECKF(rc == -1, "flip at byte %zu not detected", i);
			if (!rc)
				model_free(&r);
		}
	}
	memcpy(c, b, len);
	c[len - 30] ^= 1;
	expect_bad(c, len, "CRC-32 mismatch", "crc");
	memcpy(c, b, len);
	c[len - 1] ^= 1;
	expect_bad(c, len, "CRC-32 mismatch", "crc itself");

	/* truncation at every point */
	for (i = 1; i < len; i++)
		expect_bad(b, i, "truncated", "truncation");
	memcpy(c, b, len);
	c[len] = 0;
	expect_bad(c, len + 1, "trailing data", "trailing");

	/* an unknown section, with a correct CRC */
	memcpy(c, b, len - 16);
	memcpy(c + len - 16, "XTRA", 4);
	wr64(c + len - 12, 3);
	memcpy(c + len - 4, "abc", 3);
	memcpy(c + len - 1, b + len - 16, 16);
	fix_crc(c, len + 15);
	expect_bad(c, len + 15, "unknown section 'XTRA'", "unknown section");
	/* a section twice: END moved after a second SHAP */
	memcpy(c, b, len - 16);
	memcpy(c + len - 16, "SHAP", 4);
	wr64(c + len - 12, 12);
	memcpy(c + len - 4, b + 12 + 12 + strlen(m.spec) + 12, 12);
	memcpy(c + len + 8, b + len - 16, 16);
	fix_crc(c, len + 24);
	expect_bad(c, len + 24, "appears twice", "duplicate");

	/* parameter count that does not fit the architecture */
	m.nparams--;
	m.tr.nm = m.tr.nv = 0;
	free(b);
	b = encode(&m, &len);
	expect_bad(b, len, "parameter count", "nparams");
	m.nparams++;
	m.nstate -= 2;
	free(b);
	b = encode(&m, &len);
	expect_bad(b, len, "state count", "nstate");
	m.nstate += 2;

	/* moments that do not match the parameters */
	m.tr.nm = m.nparams - 1;
	m.tr.nv = 0;
	free(b);
	b = encode(&m, &len);
	expect_bad(b, len, "moments", "moment count");
	m.tr.nm = 0;

	/* architecture that does not parse, or does not take the shape */
	memcpy(spec, m.spec, sizeof(spec));
	strcpy(m.spec, "conv8,bogus7");
	free(b);
	b = encode(&m, &len);
	expect_bad(b, len, "does not parse", "arch");
	strcpy(m.spec, "conv8,bn,conv8s2,conv8s2,conv8s2,conv8s2,up,conv3k1:sigmoid");
	free(b);
	b = encode(&m, &len);
	expect_bad(b, len, "x.model:", "arch shape or count");
	memcpy(m.spec, spec, sizeof(spec));

	/* training state out of range */
	m.tr.epoch = 9;
	free(b);
	b = encode(&m, &len);
	expect_bad(b, len, "section TRAN", "epoch > epochs");
	m.tr.epoch = 2;

	/* a non-finite parameter */
	m.params[3] = NAN;
	free(b);
	b = encode(&m, &len);
	expect_bad(b, len, "parameter 3 is not a finite number", "nan");
	m.params[3] = 0;

	free(b);
	free(c);
	free(m.tr.m);
	free(m.tr.v);
	net_free(net);
}

static void files(void)
{
	struct model m, r;
	struct net *net = make(&m, 0);
	char path[] = "/tmp/test_model.XXXXXX";
	int fd = mkstemp(path);
	FILE *f;
	struct ts_shape s = { TS_U8, 0, 3, 8, 8 };

	CHECK(net && fd >= 0);
	if (!net || fd < 0)
		return;
	close(fd);
	model_save(path, &m);
	CHECKF(model_load(path, &r, err, sizeof(err)) == 0, "%s", err);
	CHECK(r.nparams == m.nparams && same_floats(r.params, m.params, m.nparams));
	model_free(&r);

	/* a tensor stream is named as such */
	f = fopen(path, "wb");
	CHECK(f && ts_write_header(f, &s, 0) == 0 && fclose(f) == 0);
	CHECK(model_load(path, &r, err, sizeof(err)) == -1);
	CHECKF(strstr(err, "a tensor stream, not a cae model file") != NULL, "%s", err);
	CHECK(strstr(err, path) != NULL);
	unlink(path);
	CHECK(model_load(path, &r, err, sizeof(err)) == -1);
	CHECKF(strstr(err, "No such file") != NULL, "%s", err);
	net_free(net);
}

int main(void)
{
	nn_set_threads(1);
	round_trip(0);
	round_trip(1);
	damage();
	files();
	CHECK_DONE();
}
