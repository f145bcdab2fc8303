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
	CHECK(npre == (int)(sizeof want / sizeof want[0]));
	for (int i = 0; i < npre; i++) {
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
		CHECKF(net_total_stride(net) == want[i].stride, "%s: stride %d",
		       name, net_total_stride(net));
		net_free(net);
	}

	/* grammar */
	round_trip(" conv64k5s2:valid:linear , bn,dense10:sigmoid ",
	           "conv64k5s2:valid:linear,bn,dense10:sigmoid");
	round_trip("conv32k3s1:same:relu,relu,sigmoid,pool,up,flatten,dense7:relu,reshape7x1x1",
	           "conv32,relu,sigmoid,pool,up,flatten,dense7,reshape7x1x1");
	round_trip("conv8s2k1:sigmoid:valid", "conv8k1s2:valid:sigmoid");
	round_trip("conv1k15,conv4096k1,dense65536:linear", "conv1k15,conv4096k1,dense65536:linear");

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
