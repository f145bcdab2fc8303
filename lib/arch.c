/* arch.c - architectures: presets and the one-line spec grammar
 *
 * A spec is comma-separated layers, blanks around each allowed:
 *   convN[kK][sS][:same|:valid][:relu|:sigmoid|:linear]   (k3 s1 same relu)
 *   bn  relu  sigmoid  clip  pool  up  flatten
 *   denseN[:relu|:sigmoid|:linear]                        (relu)
 *   reshapeCxHxW
 *   s2d  d2s                              (space to depth, depth to space, by 2)
 *   save:NAME  add:NAME  concat:NAME      (NAME: 1-15 of A-Z a-z 0-9 _)
 * Each add:NAME and concat:NAME uses the output of the save:NAME before
 * it; a name is saved once. A preset name stands for its whole spec (presets win over look-alike
 * specs: "dense1" is the preset, not one dense unit).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "nn.h"

#define MAX_FILTERS 4096
#define MAX_KERNEL 15
#define MAX_UNITS 65536
#define MAX_DIM 65536

static const char *const presets[][2] = {
	{ "dense1", "flatten,dense1024,dense3072:sigmoid,reshape3x32x32" },
	{ "dense3", "flatten,dense3072,dense2048,dense1024,dense3072:sigmoid,reshape3x32x32" },
	{ "conv-dense", "conv32,pool,conv32,pool,conv32,dense2048,dense2048,"
	  "reshape32x8x8,up,conv32,up,conv3k1:sigmoid" },
	{ "conv-dense-bn", "conv32,bn,pool,conv32,bn,pool,conv32,bn,conv32,bn,"
	  "dense2048,dense2048,reshape32x8x8,up,conv32,bn,up,conv3k1:sigmoid" },
	{ "shallow-pool", "conv32,pool,conv32,up,conv32,conv3k1:sigmoid" },
	{ "shallow-strided", "conv32,conv32s2,conv32,up,conv32,conv3k1:sigmoid" },
	{ "seed-best", "conv32,bn,conv32s2,conv32,bn,up,conv32,bn,conv3k1:sigmoid" },
	/* for the findings: deeper, down to 8x8; as many convolutions,
	 * striding down to 4x4 */
	{ "deep-strided", "conv32,conv32s2,conv32,conv32s2,conv32,up,conv32,up,conv32,"
	  "conv3k1:sigmoid" },
	{ "shrink4", "conv32,conv32s2,conv32s2,conv32s2,up,conv32,up,conv32,up,conv32,"
	  "conv3k1:sigmoid" },
	/* a denoiser: U-Net down to 8x8, channels doubling at each level,
	 * each level's activations concatenated on the way up */
	{ "dn-unet", "conv32,bn,save:e1,conv64s2,bn,conv64,bn,save:e2,conv128s2,bn,"
	  "conv128,bn,d2s,concat:e2,conv64,bn,d2s,concat:e1,conv32,bn,conv3k1:sigmoid" },
};
#define NPRESETS (int)(sizeof presets / sizeof presets[0])

const char *arch_preset_name(int i)
{
	return i >= 0 && i < NPRESETS ? presets[i][0] : NULL;
}

const char *arch_preset_spec(int i)
{
	return i >= 0 && i < NPRESETS ? presets[i][1] : NULL;
}

static const struct { const char *name; int kind; } plain[] = {
	{ "bn", L_BN }, { "relu", L_RELU }, { "sigmoid", L_SIGMOID },
	{ "pool", L_MAXPOOL }, { "up", L_UP }, { "flatten", L_FLATTEN },
	{ "s2d", L_S2D }, { "d2s", L_D2S }, { "clip", L_CLIP },
};

static const struct { const char *name; int kind; } named[] = {
	{ "save", L_SAVE }, { "add", L_ADD }, { "concat", L_CONCAT },
};

static const char *named_kind(int kind)
{
	for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
		if (named[i].kind == kind)
			return named[i].name;
	return NULL;
}

/* "save:NAME" and the like: 0 done, 1 not this kind of token, -1 bad. */
static int parse_named(const char *tok, struct layer_spec *l, char *msg, size_t n)
{
	for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
		size_t len = strlen(named[i].name);
		if (strncmp(tok, named[i].name, len) || (tok[len] != ':' && tok[len]))
			continue;
		const char *nm = tok + len + !!tok[len];
		size_t nlen = strspn(nm, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		                         "0123456789_");
		if (nlen == 0 || nlen > ARCH_MAX_NAME || nm[nlen]) {
			snprintf(msg, n, "%s needs a name of 1 to %d letters, digits or _, "
			         "as in %s:in", named[i].name, ARCH_MAX_NAME, named[i].name);
			return -1;
		}
		l->kind = named[i].kind;
		memcpy(l->name, nm, nlen);
		return 0;
	}
	return 1;
}

/* Reads decimal digits at *p (advancing) into *v; -1 if there are none.
 * Values beyond 10^9 saturate there, to be refused by the range check. */
static int number(const char **p, long *v)
{
	if (!isdigit((unsigned char)**p))
		return -1;
	long x = 0;
	while (isdigit((unsigned char)**p)) {
		if (x < 1000000000)
			x = x * 10 + (**p - '0');
		(*p)++;
	}
	*v = x;
	return 0;
}

/* Parses one token (no blanks) into l. Returns 0 or -1 with msg set. */
static int parse_token(const char *tok, struct layer_spec *l, char *msg, size_t n)
{
	memset(l, 0, sizeof *l);
	for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
		if (!strcmp(tok, plain[i].name)) {
			l->kind = plain[i].kind;
			return 0;
		}
	int r = parse_named(tok, l, msg, n);
	if (r <= 0)
		return r;
	const char *p = tok;
	long v;
	if (!strncmp(p, "reshape", 7)) {
		long d[3];
		p += 7;
		for (int i = 0; i < 3; i++) {
			if ((i && *p++ != 'x') || number(&p, &d[i]) < 0) {
				snprintf(msg, n, "reshape needs CxHxW, as in reshape32x8x8");
				return -1;
			}
			if (d[i] < 1 || d[i] > MAX_DIM) {
				snprintf(msg, n, "reshape sizes must be 1 to %d", MAX_DIM);
				return -1;
			}
		}
		if (*p) {
			snprintf(msg, n, "reshape needs CxHxW, as in reshape32x8x8");
			return -1;
		}
		l->kind = L_RESHAPE;
		l->rc = (int)d[0], l->rh = (int)d[1], l->rw = (int)d[2];
		return 0;
	}
	if (!strncmp(p, "conv", 4)) {
		p += 4;
		l->kind = L_CONV, l->k = 3, l->stride = 1, l->act = ACT_RELU;
		if (number(&p, &v) < 0) {
			snprintf(msg, n, "conv needs a filter count, as in conv32");
			return -1;
		}
		if (v < 1 || v > MAX_FILTERS) {
			snprintf(msg, n, "conv filters must be 1 to %d", MAX_FILTERS);
			return -1;
		}
		l->units = (int)v;
		int seen_k = 0, seen_s = 0;
		while (*p == 'k' || *p == 's') {
			char what = *p++;
			int *seen = what == 'k' ? &seen_k : &seen_s;
			if ((*seen)++ || number(&p, &v) < 0) {
				snprintf(msg, n, "conv takes one kernel kN and one stride sN, as in conv32k3s2");
				return -1;
			}
			if (what == 'k' && (v < 1 || v > MAX_KERNEL)) {
				snprintf(msg, n, "conv kernel must be 1 to %d", MAX_KERNEL);
				return -1;
			}
			if (what == 's' && v != 1 && v != 2) {
				snprintf(msg, n, "conv stride must be 1 or 2");
				return -1;
			}
			*(what == 'k' ? &l->k : &l->stride) = (int)v;
		}
	} else if (!strncmp(p, "dense", 5)) {
		p += 5;
		l->kind = L_DENSE, l->act = ACT_RELU;
		if (number(&p, &v) < 0) {
			snprintf(msg, n, "dense needs a unit count, as in dense1024");
			return -1;
		}
		if (v < 1 || v > MAX_UNITS) {
			snprintf(msg, n, "dense units must be 1 to %d", MAX_UNITS);
			return -1;
		}
		l->units = (int)v;
	} else {
		snprintf(msg, n, "unknown layer");
		return 1;
	}
	/* options */
	int seen_pad = 0, seen_act = 0;
	while (*p == ':') {
		const char *o = ++p;
		size_t len = strcspn(o, ":");
		p += len;
		if (len == 4 && !strncmp(o, "same", 4) && l->kind == L_CONV && !seen_pad++)
			l->valid = 0;
		else if (len == 5 && !strncmp(o, "valid", 5) && l->kind == L_CONV && !seen_pad++)
			l->valid = 1;
		else if (len == 4 && !strncmp(o, "relu", 4) && !seen_act++)
			l->act = ACT_RELU;
		else if (len == 7 && !strncmp(o, "sigmoid", 7) && !seen_act++)
			l->act = ACT_SIGMOID;
		else if (len == 6 && !strncmp(o, "linear", 6) && !seen_act++)
			l->act = ACT_NONE;
		else {
			snprintf(msg, n, "bad option ':%.*s' (%s)", (int)len, o,
			         l->kind == L_CONV ? "conv takes one of :same :valid and one of :relu :sigmoid :linear"
			                           : "dense takes one of :relu :sigmoid :linear");
			return -1;
		}
	}
	if (*p) {
		snprintf(msg, n, "unexpected '%s'", p);
		return -1;
	}
	return 0;
}

/* The last layer of a, a->l[a->n], against the ones before it: an add or
 * concat needs an earlier save of its name, a save a name not saved yet. */
static int check_name(const struct arch *a, char *msg, size_t n)
{
	const struct layer_spec *l = &a->l[a->n];
	if (!named_kind(l->kind))
		return 0;
	int saved = 0;
	for (int i = 0; i < a->n; i++)
		saved |= a->l[i].kind == L_SAVE && !strcmp(a->l[i].name, l->name);
	if (l->kind == L_SAVE && saved) {
		snprintf(msg, n, "save:%s: the name is saved already", l->name);
		return -1;
	}
	if (l->kind != L_SAVE && !saved) {
		snprintf(msg, n, "%s:%s: no save:%s before it", named_kind(l->kind),
		         l->name, l->name);
		return -1;
	}
	return 0;
}

static int parse_spec(const char *text, struct arch *a, char *err, size_t errlen)
{
	char tok[128], msg[160];
	int count = 0;
	const char *p = text;
	a->n = 0;
	for (;;) {
		size_t len = strcspn(p, ",");
		const char *b = p, *e = p + len;
		while (b < e && isspace((unsigned char)*b))
			b++;
		while (e > b && isspace((unsigned char)e[-1]))
			e--;
		count++;
		if (e == b) {
			snprintf(err, errlen, "empty layer (token %d)", count);
			return -1;
		}
		if (count > ARCH_MAX_LAYERS) {
			snprintf(err, errlen, "too many layers (at most %d)", ARCH_MAX_LAYERS);
			return -1;
		}
		if ((size_t)(e - b) >= sizeof tok) {
			snprintf(err, errlen, "layer too long (token %d)", count);
			return -1;
		}
		memcpy(tok, b, (size_t)(e - b));
		tok[e - b] = 0;
		int r = parse_token(tok, &a->l[a->n], msg, sizeof msg);
		if (r > 0) {
			snprintf(err, errlen, "unknown layer '%s' (token %d)", tok, count);
			return -1;
		}
		if (r < 0) {
			snprintf(err, errlen, "%s (token %d: '%s')", msg, count, tok);
			return -1;
		}
		if (check_name(a, msg, sizeof msg) < 0) {
			snprintf(err, errlen, "%s (token %d: '%s')", msg, count, tok);
			return -1;
		}
		a->n++;
		if (!p[len])
			break;
		p += len + 1;
	}
	return 0;
}

int arch_parse(const char *text, struct arch *a, char *err, size_t errlen)
{
	size_t len = strlen(text);
	const char *b = text;
	while (isspace((unsigned char)*b))
		b++, len--;
	while (len && isspace((unsigned char)b[len - 1]))
		len--;
	if (!len) {
		snprintf(err, errlen, "empty architecture");
		a->n = 0;
		return -1;
	}
	for (int i = 0; i < NPRESETS; i++)
		if (strlen(presets[i][0]) == len && !strncmp(b, presets[i][0], len))
			return parse_spec(presets[i][1], a, err, errlen);
	return parse_spec(text, a, err, errlen);
}

static const char *act_name(int act)
{
	return act == ACT_SIGMOID ? ":sigmoid" : act == ACT_NONE ? ":linear" : "";
}

void arch_format_layer(const struct layer_spec *l, char *buf, size_t n)
{
	for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
		if (l->kind == plain[i].kind) {
			snprintf(buf, n, "%s", plain[i].name);
			return;
		}
	char k[16] = "", s[16] = "";
	if (named_kind(l->kind)) {
		snprintf(buf, n, "%s:%s", named_kind(l->kind), l->name);
		return;
	}
	switch (l->kind) {
	case L_CONV:
		if (l->k != 3)
			snprintf(k, sizeof k, "k%d", l->k);
		if (l->stride != 1)
			snprintf(s, sizeof s, "s%d", l->stride);
		snprintf(buf, n, "conv%d%s%s%s%s", l->units, k, s,
		         l->valid ? ":valid" : "", act_name(l->act));
		break;
	case L_DENSE:
		snprintf(buf, n, "dense%d%s", l->units, act_name(l->act));
		break;
	case L_RESHAPE:
		snprintf(buf, n, "reshape%dx%dx%d", l->rc, l->rh, l->rw);
		break;
	default:
		snprintf(buf, n, "?%d", l->kind);
	}
}

void arch_format(const struct arch *a, char *buf, size_t n)
{
	size_t used = 0;
	if (n)
		buf[0] = 0;
	for (int i = 0; i < a->n && used < n; i++) {
		char one[96];
		arch_format_layer(&a->l[i], one, sizeof one);
		int w = snprintf(buf + used, n - used, "%s%s", i ? "," : "", one);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	/* a one-layer spec such as dense3 must not read back as the preset */
	for (int i = 0; i < NPRESETS && a->n == 1; i++)
		if (!strcmp(buf, presets[i][0]) && used + 5 < n) {
			strcat(buf, ":relu");
			break;
		}
}

int arch_total_stride(const struct arch *a)
{
	int e = 0, maxe = 0;
	for (int i = 0; i < a->n; i++) {
		const struct layer_spec *s = &a->l[i];
		if (s->kind == L_DENSE || s->kind == L_FLATTEN || s->kind == L_RESHAPE)
			return 0;
		if ((s->kind == L_CONV && s->stride == 2) || s->kind == L_MAXPOOL ||
		    s->kind == L_S2D)
			e++;
		else if (s->kind == L_UP || s->kind == L_D2S)
			e--;
		if (e > maxe)
			maxe = e;
	}
	return 1 << (maxe < 30 ? maxe : 30); /* 32 stride-2 layers would overflow */
}
