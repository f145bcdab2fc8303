/* model.c - writing and checking model files, cae-model(5) */
#include "model.h"
#include "stream.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

const unsigned char model_magic[8] = { 0x89, 'C', 'A', 'E', 'M', 'O', 'D', '\n' };

#define SECT_HDR 12          /* 4-byte tag, u64 length */
#define TRAN_FIXED 120       /* TRAN bytes before the moment counts */
#define MAX_SECTIONS 16

/* Writing: every byte goes through put(), which keeps the running CRC. */
struct wctx {
	FILE *f;
	uLong crc;
	int err;
};

static void put(struct wctx *w, const void *p, size_t n)
{
	if (w->err || !n)
		return;
	if (fwrite(p, 1, n, w->f) != n) {
		w->err = errno ? errno : EIO;
		return;
	}
	w->crc = crc32_z(w->crc, p, n);
}

static void put32(struct wctx *w, uint32_t v)
{
	unsigned char b[4];
	wr32(b, v);
	put(w, b, 4);
}

static void put64(struct wctx *w, uint64_t v)
{
	unsigned char b[8];
	wr64(b, v);
	put(w, b, 8);
}

static uint32_t f2u(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	return u;
}

static float u2f(uint32_t u)
{
	float f;
	memcpy(&f, &u, 4);
	return f;
}

static void putf(struct wctx *w, float v) { put32(w, f2u(v)); }

/* Floats as little-endian bit patterns, a chunk at a time. */
static void put_floats(struct wctx *w, const float *a, uint64_t n)
{
	unsigned char b[4096];
	while (n) {
		size_t k = n < sizeof(b) / 4 ? (size_t)n : sizeof(b) / 4;
		for (size_t i = 0; i < k; i++)
			wr32(b + 4 * i, f2u(a[i]));
		put(w, b, 4 * k);
		a += k;
		n -= k;
	}
}

static void put_head(struct wctx *w, const char *tag, uint64_t len)
{
	put(w, tag, 4);
	put64(w, len);
}

static void put_array(struct wctx *w, const char *tag, const float *a, uint64_t n)
{
	put_head(w, tag, 8 + 4 * n);
	put64(w, n);
	put_floats(w, a, n);
}

static void put_train(struct wctx *w, const struct train_state *t)
{
	uint64_t bits;
	put_head(w, "TRAN", TRAN_FIXED + 8 + 4 * t->nm + 8 + 4 * t->nv);
	put32(w, t->optimizer);
	put32(w, t->loss);
	putf(w, t->lr);
	putf(w, t->beta1);
	putf(w, t->beta2);
	putf(w, t->eps);
	putf(w, t->momentum);
	put32(w, t->batch);
	put64(w, t->t);
	put64(w, t->seed);
	put32(w, t->epochs);
	put32(w, t->epoch);
	put64(w, t->step);
	put32(w, t->noise);
	putf(w, t->sigma_lo);
	putf(w, t->sigma_hi);
	put32(w, t->flags);
	put64(w, t->ntrain);
	put64(w, t->nheld);
	put32(w, t->data_crc);
	put32(w, 0);
	memcpy(&bits, &t->loss_sum, 8);
	put64(w, bits);
	put64(w, t->loss_count);
	put64(w, t->nm);
	put_floats(w, t->m, t->nm);
	put64(w, t->nv);
	put_floats(w, t->v, t->nv);
}

int model_write(FILE *f, const struct model *m)
{
	struct wctx w = { f, crc32_z(0, Z_NULL, 0), 0 };
	size_t sl = strlen(m->spec);

	put(&w, model_magic, 8);
	put32(&w, MODEL_VERSION);
	put_head(&w, "ARCH", sl);
	put(&w, m->spec, sl);
	put_head(&w, "SHAP", 12);
	put32(&w, m->c);
	put32(&w, m->h);
	put32(&w, m->w);
	put_array(&w, "PARM", m->params, m->nparams);
	put_array(&w, "STAT", m->state, m->nstate);
	if (m->has_train)
		put_train(&w, &m->tr);
	put_head(&w, "END ", 0);
	if (!w.err) {
		unsigned char b[4];
		wr32(b, (uint32_t)w.crc);
		if (fwrite(b, 1, 4, f) != 4)
			w.err = errno ? errno : EIO;
	}
	if (w.err) {
		errno = w.err;
		return -1;
	}
	return 0;
}

void model_save(const char *path, const struct model *m)
{
	struct outfile o;
	struct stat st;

	/* A device or fifo cannot be replaced by a rename: write through it. */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		FILE *f = fopen(path, "wb");
		if (!f)
			die("%s: %s", path, strerror(errno));
		if (model_write(f, m)) {
			int e = errno;
			fclose(f);
			die("%s: write error: %s", path, strerror(e));
		}
		fshut(f, path);
		return;
	}
	out_open(&o, path, 1);
	if (model_write(o.f, m)) {
		int e = errno;
		out_abort(&o);
		die("%s: write error: %s", path, strerror(e));
	}
	out_commit(&o);
}

/* Reading. */

static int bad(char *err, size_t n, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int bad(char *err, size_t n, const char *name, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, n, "%s: %s", name, msg);
	return -1;
}

/* The tag as text, non-printable bytes shown as '?'. */
static const char *tagstr(const unsigned char *p, char *buf)
{
	for (int i = 0; i < 4; i++)
		buf[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	buf[4] = 0;
	return buf;
}

struct sect {
	const unsigned char *p;  /* payload */
	uint64_t len;
	size_t off;              /* of the section header */
};

static void read_floats(const unsigned char *p, float *a, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		a[i] = u2f(rd32(p + 4 * i));
}

/* Checks an array section (u64 count, floats) and returns its count. */
static int array_count(const struct sect *s, const char *tag, uint64_t *n,
                       const char *name, char *err, size_t errlen)
{
	uint64_t k;
	if (s->len < 8)
		return bad(err, errlen, name, "section %s at byte %zu is too short (%llu bytes)",
		           tag, s->off, (unsigned long long)s->len);
	k = rd64(s->p);
	if ((s->len - 8) % 4 || (s->len - 8) / 4 != k)
		return bad(err, errlen, name, "section %s at byte %zu: %llu bytes cannot hold "
		           "the %llu numbers it announces", tag, s->off,
		           (unsigned long long)s->len, (unsigned long long)k);
	*n = k;
	return 0;
}

static int finite_all(const float *a, uint64_t n, uint64_t *at)
{
	for (uint64_t i = 0; i < n; i++)
		if (!isfinite(a[i])) {
			*at = i;
			return 0;
		}
	return 1;
}

static int decode_train(const struct sect *s, struct model *m, const char *name,
                        char *err, size_t errlen)
{
	struct train_state *t = &m->tr;
	const unsigned char *p = s->p;
	uint64_t nm, nv, bits;

	if (s->len < TRAN_FIXED + 16)
		return bad(err, errlen, name, "section TRAN at byte %zu is too short (%llu bytes)",
		           s->off, (unsigned long long)s->len);
	nm = rd64(p + TRAN_FIXED);
	if (nm > (s->len - TRAN_FIXED - 16) / 4)
		return bad(err, errlen, name, "section TRAN at byte %zu: %llu bytes cannot hold "
		           "%llu first moments", s->off, (unsigned long long)s->len,
		           (unsigned long long)nm);
	nv = rd64(p + TRAN_FIXED + 8 + 4 * nm);
	if (s->len != TRAN_FIXED + 16 + 4 * nm + 4 * nv || nv > s->len / 4)
		return bad(err, errlen, name, "section TRAN at byte %zu: %llu bytes do not match "
		           "%llu + %llu moments", s->off, (unsigned long long)s->len,
		           (unsigned long long)nm, (unsigned long long)nv);
	t->optimizer = rd32(p);
	t->loss = rd32(p + 4);
	t->lr = u2f(rd32(p + 8));
	t->beta1 = u2f(rd32(p + 12));
	t->beta2 = u2f(rd32(p + 16));
	t->eps = u2f(rd32(p + 20));
	t->momentum = u2f(rd32(p + 24));
	t->batch = rd32(p + 28);
	t->t = rd64(p + 32);
	t->seed = rd64(p + 40);
	t->epochs = rd32(p + 48);
	t->epoch = rd32(p + 52);
	t->step = rd64(p + 56);
	t->noise = rd32(p + 64);
	t->sigma_lo = u2f(rd32(p + 68));
	t->sigma_hi = u2f(rd32(p + 72));
	t->flags = rd32(p + 76);
	t->ntrain = rd64(p + 80);
	t->nheld = rd64(p + 88);
	t->data_crc = rd32(p + 96);
	bits = rd64(p + 104);
	memcpy(&t->loss_sum, &bits, 8);
	t->loss_count = rd64(p + 112);
	t->nm = nm;
	t->nv = nv;
	if (t->optimizer > OPT_SGD || t->loss > LOSS_BCE || t->noise > NOISE_RANGE ||
	    (t->flags & ~(TRAIN_CLIP | TRAIN_TARGETS | TRAIN_COSINE)) || rd32(p + 100))
		return bad(err, errlen, name, "section TRAN: unknown optimizer, loss, noise or flag value");
	if (!t->batch || !t->ntrain || t->epoch > t->epochs ||
	    t->step >= t->ntrain / t->batch + (t->ntrain % t->batch != 0) ||
	    (t->epoch == t->epochs && t->step))
		return bad(err, errlen, name, "section TRAN: inconsistent batch size, epoch or step");
	if (!(t->lr > 0) || !isfinite(t->lr) || !isfinite(t->beta1) || !isfinite(t->beta2) ||
	    !isfinite(t->eps) || !isfinite(t->momentum) || !isfinite(t->loss_sum) ||
	    !(t->sigma_lo >= 0) || !(t->sigma_hi >= t->sigma_lo) || !isfinite(t->sigma_hi))
		return bad(err, errlen, name, "section TRAN: a hyperparameter is out of range");
	if ((nm && nm != m->nparams) || (nv && nv != m->nparams))
		return bad(err, errlen, name, "section TRAN: %llu and %llu optimizer moments for "
		           "%llu parameters", (unsigned long long)nm, (unsigned long long)nv,
		           (unsigned long long)m->nparams);
	return 0;
}

/* Walks the section headers: everything must fit in the file, END must
 * come last, and exactly the 4 CRC bytes must follow it. */
static int walk(const unsigned char *buf, size_t len, struct sect *s, char (*tags)[5],
                int *ns, size_t *end, const char *name, char *err, size_t errlen)
{
	size_t off = 12;
	*ns = 0;
	for (;;) {
		uint64_t l;
		char t[5];
		if (len - off < SECT_HDR)
			return bad(err, errlen, name, "truncated at byte %zu: a section header "
			           "(or the END section) is missing", len);
		l = rd64(buf + off + 4);
		tagstr(buf + off, t);
		if (l > len - off - SECT_HDR)
			return bad(err, errlen, name, "truncated: section '%s' at byte %zu is %llu "
			           "bytes long, but only %zu bytes follow its header",
			           t, off, (unsigned long long)l, len - off - SECT_HDR);
		if (!memcmp(buf + off, "END ", 4)) {
			if (l)
				return bad(err, errlen, name, "END section at byte %zu has length %llu "
				           "(must be 0)", off, (unsigned long long)l);
			*end = off + SECT_HDR;
			if (len - *end < 4)
				return bad(err, errlen, name, "truncated: the CRC-32 after the END "
				           "section is missing (%zu of 4 bytes)", len - *end);
			if (len - *end > 4)
				return bad(err, errlen, name, "%zu bytes of trailing data after the "
				           "CRC-32", len - *end - 4);
			return 0;
		}
		if (*ns == MAX_SECTIONS)
			return bad(err, errlen, name, "more than %d sections", MAX_SECTIONS);
		s[*ns].p = buf + off + SECT_HDR;
		s[*ns].len = l;
		s[*ns].off = off;
		memcpy(tags[*ns], t, 5);
		(*ns)++;
		off += SECT_HDR + (size_t)l;
	}
}

static int decode_head(const unsigned char *buf, size_t len, const char *name,
                       char *err, size_t errlen)
{
	uint32_t v;
	if (len == 0)
		return bad(err, errlen, name, "empty file, not a cae model file");
	if (len >= 7 && !memcmp(buf, ts_magic, 7))
		return bad(err, errlen, name, "a tensor stream, not a cae model file "
		           "(models are written by ae-train)");
	if (memcmp(buf, model_magic, len < 8 ? len : 8)) {
		if (len >= 8 && !memcmp(buf, model_magic, 7))
			return bad(err, errlen, name, "bad magic: not a cae model file "
			           "(damaged by a text-mode transfer?)");
		return bad(err, errlen, name, "bad magic: not a cae model file");
	}
	if (len < 12)
		return bad(err, errlen, name, "truncated: %zu bytes, too short for a model file", len);
	v = rd32(buf + 8);
	if (v != MODEL_VERSION)
		return bad(err, errlen, name, "unknown model file version %u (this program reads "
		           "version %d)", v, MODEL_VERSION);
	return 0;
}

static const char *const known[] = { "ARCH", "SHAP", "PARM", "STAT", "TRAN" };
enum { S_ARCH, S_SHAP, S_PARM, S_STAT, S_TRAN, S_N };

/* Checks the parameter and state counts against the architecture,
 * without building the network: the file is untrusted, and a network for
 * a shape or an architecture of a few bytes (256x32x65000, or "up" nine
 * times) could need gigabytes just to be counted. */
static int check_counts(const struct model *m, const char *name, char *err, size_t errlen)
{
	char e[320];
	size_t np, ns;
	if (net_plan(&m->arch, (int)m->c, (int)m->h, (int)m->w, &np, &ns, e, sizeof(e)))
		return bad(err, errlen, name, "architecture '%s' does not accept its input "
		           "shape %ux%ux%u: %s", m->spec, m->c, m->h, m->w, e);
	if (np != m->nparams)
		return bad(err, errlen, name, "parameter count %llu does not match the %zu "
		           "parameters of architecture '%s'", (unsigned long long)m->nparams,
		           np, m->spec);
	if (ns != m->nstate)
		return bad(err, errlen, name, "state count %llu does not match the %zu "
		           "batch-norm statistics of architecture '%s'",
		           (unsigned long long)m->nstate, ns, m->spec);
	return 0;
}

int model_decode(const unsigned char *buf, size_t len, const char *name,
                 struct model *m, char *err, size_t errlen)
{
	struct sect s[MAX_SECTIONS], *by[S_N] = { 0 };
	char tags[MAX_SECTIONS][5], e[256];
	size_t end = 0;
	uint32_t stored, crc;
	uint64_t at;
	int ns, i, k;

	memset(m, 0, sizeof(*m));
	if (decode_head(buf, len, name, err, errlen) ||
	    walk(buf, len, s, tags, &ns, &end, name, err, errlen))
		return -1;
	stored = rd32(buf + end);
	crc = (uint32_t)crc32_z(crc32_z(0, Z_NULL, 0), buf, end);
	if (stored != crc)
		return bad(err, errlen, name, "CRC-32 mismatch (stored 0x%08x, computed 0x%08x): "
		           "the file is corrupt", stored, crc);
	for (i = 0; i < ns; i++) {
		for (k = 0; k < S_N && strcmp(tags[i], known[k]); k++)
			;
		if (k == S_N)
			return bad(err, errlen, name, "unknown section '%s' at byte %zu",
			           tags[i], s[i].off);
		if (by[k])
			return bad(err, errlen, name, "section %s appears twice (bytes %zu and %zu)",
			           known[k], by[k]->off, s[i].off);
		by[k] = &s[i];
	}
	for (k = 0; k < S_TRAN; k++)
		if (!by[k])
			return bad(err, errlen, name, "section %s is missing", known[k]);

	if (by[S_ARCH]->len == 0 || by[S_ARCH]->len >= MODEL_MAX_SPEC)
		return bad(err, errlen, name, "architecture of %llu bytes (1 to %d allowed)",
		           (unsigned long long)by[S_ARCH]->len, MODEL_MAX_SPEC - 1);
	for (at = 0; at < by[S_ARCH]->len; at++)
		if (by[S_ARCH]->p[at] < 0x20 || by[S_ARCH]->p[at] >= 0x7f)
			return bad(err, errlen, name, "architecture contains a non-printable byte");
	memcpy(m->spec, by[S_ARCH]->p, by[S_ARCH]->len);
	if (arch_parse(m->spec, &m->arch, e, sizeof(e)))
		return bad(err, errlen, name, "architecture '%s' does not parse: %s", m->spec, e);

	if (by[S_SHAP]->len != 12)
		return bad(err, errlen, name, "section SHAP has %llu bytes (must be 12)",
		           (unsigned long long)by[S_SHAP]->len);
	m->c = rd32(by[S_SHAP]->p);
	m->h = rd32(by[S_SHAP]->p + 4);
	m->w = rd32(by[S_SHAP]->p + 8);
	if (!m->c || m->c > TS_MAX_C || !m->h || m->h > TS_MAX_HW || !m->w || m->w > TS_MAX_HW)
		return bad(err, errlen, name, "input shape %ux%ux%u out of range", m->c, m->h, m->w);

	if (array_count(by[S_PARM], "PARM", &m->nparams, name, err, errlen) ||
	    array_count(by[S_STAT], "STAT", &m->nstate, name, err, errlen))
		return -1;
	if (check_counts(m, name, err, errlen))
		return -1;
	if (by[S_TRAN]) {
		if (decode_train(by[S_TRAN], m, name, err, errlen))
			return -1;
		m->has_train = 1;
	}

	/* all sizes are bounded by the file's: now allocate */
	m->params = xmalloc_n(m->nparams, sizeof(float));
	m->state = xmalloc_n(m->nstate, sizeof(float));
	read_floats(by[S_PARM]->p + 8, m->params, m->nparams);
	read_floats(by[S_STAT]->p + 8, m->state, m->nstate);
	if (m->has_train) {
		const unsigned char *p = by[S_TRAN]->p + TRAN_FIXED + 8;
		m->tr.m = xmalloc_n(m->tr.nm, sizeof(float));
		m->tr.v = xmalloc_n(m->tr.nv, sizeof(float));
		read_floats(p, m->tr.m, m->tr.nm);
		read_floats(p + 4 * m->tr.nm + 8, m->tr.v, m->tr.nv);
	}
	if (!finite_all(m->params, m->nparams, &at)) {
		model_free(m);
		return bad(err, errlen, name, "parameter %llu is not a finite number",
		           (unsigned long long)at);
	}
	if (!finite_all(m->state, m->nstate, &at)) {
		model_free(m);
		return bad(err, errlen, name, "batch-norm statistic %llu is not a finite number",
		           (unsigned long long)at);
	}
	return 0;
}

int model_load(const char *path, struct model *m, char *err, size_t errlen)
{
	int stdin_ = !path || !strcmp(path, "-");
	const char *name = stdin_ ? "<stdin>" : path;
	FILE *f = stdin_ ? stdin : fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0;
	struct stat st;
	int rc;

	memset(m, 0, sizeof(*m));
	if (!f)
		return bad(err, errlen, name, "%s", strerror(errno));
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)) {
		if ((uint64_t)st.st_size > MODEL_MAX_BYTES) {
			if (!stdin_)
				fclose(f);
			return bad(err, errlen, name, "%llu bytes: larger than any model file "
			           "(limit %llu)", (unsigned long long)st.st_size,
			           (unsigned long long)MODEL_MAX_BYTES);
		}
		cap = (size_t)st.st_size + 1;
		buf = xmalloc(cap);
	}
	for (;;) {
		long got;
		if (len == cap) {
			if (cap >= MODEL_MAX_BYTES) {
				rc = bad(err, errlen, name, "larger than any model file (limit %llu bytes)",
				         (unsigned long long)MODEL_MAX_BYTES);
				goto out;
			}
			cap = cap ? 2 * cap : 65536;
			buf = xrealloc(buf, cap);
		}
		got = read_full(f, buf + len, cap - len);
		if (got < 0) {
			rc = bad(err, errlen, name, "read error: %s", strerror(errno));
			goto out;
		}
		len += (size_t)got;
		if (len < cap)
			break;
	}
	rc = model_decode(buf, len, name, m, err, errlen);
out:
	free(buf);
	if (!stdin_)
		fclose(f);
	return rc;
}

void model_free(struct model *m)
{
	free(m->params);
	free(m->state);
	free(m->tr.m);
	free(m->tr.v);
	m->params = m->state = m->tr.m = m->tr.v = NULL;
}

struct net *model_net(const struct model *m, int c, int h, int w, int max_batch,
                      char *err, size_t errlen)
{
	struct net *net = net_create(&m->arch, c, h, w, max_batch, err, errlen);
	if (!net)
		return NULL;
	if (net_nparams(net) != m->nparams || net_nstate(net) != m->nstate) {
		snprintf(err, errlen, "input %dx%dx%d needs %zu parameters and %zu statistics; "
		         "the model has %llu and %llu (it was trained on %ux%ux%u)", c, h, w,
		         net_nparams(net), net_nstate(net), (unsigned long long)m->nparams,
		         (unsigned long long)m->nstate, m->c, m->h, m->w);
		net_free(net);
		return NULL;
	}
	memcpy(net_params(net), m->params, m->nparams * sizeof(float));
	memcpy(net_state(net), m->state, m->nstate * sizeof(float));
	return net;
}
