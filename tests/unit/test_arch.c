/* test_arch.c - architecture specs: presets, grammar, errors, shapes */
#include <string.h>

#include "check.h"
#include "nn.h"

static struct { const char *name; size_t params, state; int stride; } want[] = {
	/* counted by hand, 3x32x32 input */
	{ "dense1", 6295552, 0, 0 },            /* 3072*1024+1024 + 1024*3072+3072 */
	{ "dense3", 20980736, 0, 0 },
	{ "conv-dense", 8421443, 0, 0 },        /* 896 + 3*9248 + 99 + 2*4196352 */
	{ "conv-dense-bn", 8431011, 320, 0 },
	{ "shallow-pool", 19491, 0, 2 },
	{ "shallow-strided", 28739, 0, 2 },
	{ "seed-best", 28931, 192, 2 },         /* 896+64+9248+9248+64+9248+64+99 */
	{ "deep-strided", 56483, 0, 4 },        /* 896 + 6*9248 + 99 */
	{ "shrink4", 56483, 0, 8 },
	{ "dn-unet", 348099, 1024, 4 },
};

/* Parsing TEXT fails with a message containing MSG. */
static void bad(const char *text, const char *msg)
{
	struct arch a;
	char err[256] = "";
	int r = arch_parse(text, &a, err, sizeof err);
	CHECKF(r < 0 && strstr(err, msg), "'%s' gave %d '%s', want '%s'", text, r, err, msg);
}

/* Building TEXT on CxHxW fails with a message containing MSG. */
static void bad_shape(const char *text, int c, int h, int w, const char *msg)
{
	struct arch a;
	char err[256] = "";
	CHECK(arch_parse(text, &a, err, sizeof err) == 0);
	struct net *net = net_create(&a, c, h, w, 4, err, sizeof err);
	CHECKF(!net && strstr(err, msg), "'%s' on %dx%dx%d gave '%s', want '%s'",
	       text, c, h, w, net ? "success" : err, msg);
	net_free(net);
	size_t np, ns;
	err[0] = 0;
	CHECKF(net_plan(&a, c, h, w, &np, &ns, err, sizeof err) < 0 && strstr(err, msg),
	       "net_plan: '%s' on %dx%dx%d gave '%s', want '%s'", text, c, h, w, err, msg);
}

static void round_trip(const char *text, const char *canon)
{
	struct arch a, b;
	char err[256], s1[2048], s2[2048];
	CHECKF(arch_parse(text, &a, err, sizeof err) == 0, "%s: %s", text, err);
	arch_format(&a, s1, sizeof s1);
	CHECKF(!strcmp(s1, canon), "'%s' formats as '%s', want '%s'", text, s1, canon);
	CHECK(arch_parse(s1, &b, err, sizeof err) == 0);
	arch_format(&b, s2, sizeof s2);
	CHECK(!strcmp(s1, s2));
	CHECK(a.n == b.n && !memcmp(a.l, b.l, sizeof a.l[0] * (size_t)a.n));
}

int main(void)
{
	char err[256], buf[2048];
	int npre = 0;
	while (arch_preset_name(npre))
		npre++;
	int nwant = (int)(sizeof want / sizeof want[0]);
	CHECKF(npre == nwant, "%d presets, %d expected", npre, nwant);
	for (int i = 0; i < npre && i < nwant; i++) {
		struct arch a;
		const char *name = arch_preset_name(i);
		CHECKF(!strcmp(name, want[i].name), "preset %d is %s", i, name);
		CHECKF(arch_parse(name, &a, err, sizeof err) == 0, "%s: %s", name, err);
		round_trip(name, arch_preset_spec(i));
		struct net *net = net_create(&a, 3, 32, 32, 8, err, sizeof err);
		CHECKF(net != NULL, "%s: %s", name, err);
		if (!net)
			continue;
		int c, h, w;
		net_out_shape(net, &c, &h, &w);
		CHECKF(c == 3 && h == 32 && w == 32, "%s gives %dx%dx%d", name, c, h, w);
		CHECKF(net_nparams(net) == want[i].params, "%s: %zu params, want %zu",
		       name, net_nparams(net), want[i].params);
		CHECKF(net_nstate(net) == want[i].state, "%s: %zu state, want %zu",
		       name, net_nstate(net), want[i].state);
		CHECKF(arch_total_stride(&a) == want[i].stride, "%s: stride %d",
		       name, arch_total_stride(&a));
		size_t np, ns;
		CHECK(net_plan(&a, 3, 32, 32, &np, &ns, err, sizeof err) == 0 &&
		      np == want[i].params && ns == want[i].state);
		net_free(net);
	}

	/* grammar */
	round_trip(" conv64k5s2:valid:linear , bn,dense10:sigmoid ",
	           "conv64k5s2:valid:linear,bn,dense10:sigmoid");
	round_trip("conv32k3s1:same:relu,relu,sigmoid,pool,up,flatten,dense7:relu,reshape7x1x1",
	           "conv32,relu,sigmoid,pool,up,flatten,dense7,reshape7x1x1");
	round_trip("conv8s2k1:sigmoid:valid", "conv8k1s2:valid:sigmoid");
	round_trip("conv1k15,conv4096k1,dense65536:linear", "conv1k15,conv4096k1,dense65536:linear");
	round_trip(" save:in , s2d,conv48:linear , d2s, add:in,save:Skip_2,concat:Skip_2 ",
	           "save:in,s2d,conv48:linear,d2s,add:in,save:Skip_2,concat:Skip_2");
	round_trip("save:abcdefghijklmno,add:abcdefghijklmno",
	           "save:abcdefghijklmno,add:abcdefghijklmno");

	bad("conv32,foo,bn", "unknown layer 'foo' (token 2)");
	bad("conv", "conv needs a filter count, as in conv32 (token 1");
	bad("bn,convk3", "conv needs a filter count");
	bad("conv32s3", "stride must be 1 or 2 (token 1");
	bad("conv32s0", "stride must be 1 or 2");
	bad("conv32k0", "kernel must be 1 to 15");
	bad("conv32k16", "kernel must be 1 to 15");
	bad("conv32k3k3", "one kernel");
	bad("conv0", "filters must be 1 to 4096");
	bad("conv4097", "filters must be 1 to 4096");
	bad("conv99999999999999999999", "filters must be 1 to 4096");
	bad("dense0", "units must be 1 to 65536");
	bad("dense65537", "units must be 1 to 65536");
	bad("dense", "dense needs a unit count");
	bad("dense10:valid", "bad option ':valid'");
	bad("conv32:foo", "bad option ':foo'");
	bad("conv32:sigmoid:relu", "bad option ':relu'");
	bad("conv32x", "unexpected 'x'");
	bad("reshape3x32", "reshape needs CxHxW");
	bad("reshape3x32x0", "reshape sizes must be 1 to");
	bad("conv32,,bn", "empty layer (token 2)");
	bad("conv32,", "empty layer (token 2)");
	bad("  ", "empty architecture");
	bad("con v32", "unknown layer 'con v32' (token 1)");
	bad("Seed-best", "unknown layer 'Seed-best'");
	bad("save", "save needs a name of 1 to 15 letters, digits or _, as in save:in (token 1");
	bad("save:", "save needs a name");
	bad("save:a-b", "save needs a name");
	bad("bn,add:", "as in add:in (token 2: 'add:')");
	bad("save:abcdefghijklmnop", "save needs a name of 1 to 15");
	bad("conv8,add:x", "add:x: no save:x before it (token 2: 'add:x')");
	bad("concat:x,save:x", "concat:x: no save:x before it (token 1");
	bad("save:x,conv8,save:x", "save:x: the name is saved already (token 3");
	bad("save:x,add:X", "add:X: no save:X before it");
	bad("saveit", "unknown layer 'saveit'");
	bad("s2d2", "unknown layer 's2d2'");
	buf[0] = 0;
	for (int i = 0; i < ARCH_MAX_LAYERS + 1; i++)
		strcat(buf, i ? ",bn" : "bn");
	bad(buf, "too many layers (at most 64)");
	struct arch a;
	CHECK(arch_parse(buf + 3, &a, err, sizeof err) == 0 && a.n == ARCH_MAX_LAYERS);

	/* shapes */
	bad_shape("flatten,dense100,reshape3x8x8", 3, 8, 8,
	          "layer 3 (reshape3x8x8): input has 100 values");
	bad_shape("pool,pool,pool,pool,pool,pool", 3, 32, 32, "layer 6 (pool): input 1x1 too small");
	bad_shape("conv8,conv8k5:valid", 3, 4, 4, "layer 2 (conv8k5:valid): input 4x4 smaller than");
	bad_shape("save:in,conv8,add:in", 3, 8, 8,
	          "layer 3 (add:in): input 8x8x8 does not match save:in, 3x8x8");
	bad_shape("save:in,conv8s2,add:in", 3, 8, 8,
	          "layer 3 (add:in): input 8x4x4 does not match save:in, 3x8x8");
	bad_shape("save:in,conv8s2,concat:in", 3, 8, 8,
	          "layer 3 (concat:in): input 4x4 does not match save:in, 8x8");
	bad_shape("save:e,conv8s2,up,concat:e", 3, 7, 8,
	          "layer 4 (concat:e): input 8x8 does not match save:e, 7x8");
	bad_shape("s2d", 3, 7, 8, "layer 1 (s2d): input 7x8: height and width must be even");
	bad_shape("conv6,d2s", 3, 8, 8, "layer 2 (d2s): input has 6 channels, not a multiple of 4");
	{
		/* an arch not made by arch_parse: the network checks names too */
		struct arch b;
		CHECK(arch_parse("save:in,conv3,add:in", &b, err, sizeof err) == 0);
		strcpy(b.l[2].name, "out");
		CHECK(net_create(&b, 3, 8, 8, 2, err, sizeof err) == NULL &&
		      strstr(err, "layer 3 (add:out): no save:out before it"));
	}
	{
		/* the dense presets build on other sizes but cannot give the
		 * input shape back: callers compare net_out_shape */
		struct net *net;
		int c, h, w;
		CHECK(arch_parse("dense1", &a, err, sizeof err) == 0);
		net = net_create(&a, 1, 28, 28, 2, err, sizeof err);
		CHECK(net != NULL);
		if (net) {
			net_out_shape(net, &c, &h, &w);
			CHECK(c == 3 && h == 32 && w == 32);
			net_free(net);
		}
	}
	/* odd sizes, same padding and stride 2 round up */
	CHECK(arch_parse("conv4s2,conv4k1s2,pool,up", &a, err, sizeof err) == 0);
	struct net *net = net_create(&a, 2, 13, 7, 3, err, sizeof err);
	CHECKF(net != NULL, "%s", err);
	if (net) {
		int c, h, w;
		net_out_shape(net, &c, &h, &w);
		/* 13x7 -> 7x4 -> 4x2 -> 2x1 -> 4x2 */
		CHECKF(c == 4 && h == 4 && w == 2, "got %dx%dx%d", c, h, w);
		net_print(net, stdout);
		net_free(net);
	}
	CHECK_DONE();
}
