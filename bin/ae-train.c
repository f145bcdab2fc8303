/* ae-train - train a convolutional autoencoder on a tensor stream */
#include "model.h"
#include "nn.h"
#include "train.h"
#include "util.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct opts {
	struct train_opts t;
	int print_arch;
	long c, h, w;             /* --shape for --print-arch */
};

static void usage(void)
{
	printf("usage: %s -o MODEL [options] [INPUT]\n"
	       "Trains an autoencoder on the tensor stream INPUT (default stdin).\n"
	       "  -o, --output MODEL       model file to write (checkpoints too)\n"
	       "  -a, --arch NAME|SPEC     preset or layer spec (default %s)\n"
	       "  -e, --epochs N           passes over the data (default %d)\n"
	       "  -b, --batch N            images per step (default %d)\n"
	       "      --lr X               learning rate (adam 0.001, sgd 0.01)\n"
	       "      --lr-decay KIND      none (default), or cosine: down to 0 over the run\n"
	       "      --optimizer adam|sgd\n"
	       "      --loss mse|bce\n"
	       "      --noise SIGMA        denoising: Gaussian noise on the inputs\n"
	       "      --noise-range A:B    sigma drawn per image from [A,B]\n"
	       "      --clip               clip noisy inputs to [0,1]\n"
	       "      --target FILE        explicit targets, paired with INPUT\n"
	       "      --val FILE           validation images (--val-target FILE: targets)\n"
	       "      --val-split F        hold out the last fraction F of INPUT\n"
	       "      --seed N             initialisation, shuffling, noise (default 42)\n"
	       "      --threads N          threads (default: online CPUs)\n"
	       "      --checkpoint-every N write a checkpoint every N steps\n"
	       "      --resume MODEL       continue the run saved in MODEL\n"
	       "      --no-state           leave the training state out of the final model\n"
	       "      --log FILE           per-epoch figures as TSV\n"
	       "      --print-arch         print the network for --shape CxHxW (3x32x32)\n"
	       "  -q, --quiet              no progress or per-epoch lines\n"
	       "  -h, --help, -V, --version\n", argv0, TRAIN_DEF_ARCH, TRAIN_DEF_EPOCHS,
	       TRAIN_DEF_BATCH);
}

static void parse_shape(const char *s, long *c, long *h, long *w)
{
	char *e;
	long v[3];
	for (int i = 0; i < 3; i++) {
		char buf[32];
		size_t n = strcspn(s, "x");
		if (n == 0 || n >= sizeof(buf) || (i < 2) != (s[n] == 'x'))
			usage_die("invalid value '%s' for --shape: expected CxHxW", s);
		memcpy(buf, s, n);
		buf[n] = 0;
		v[i] = strtol(buf, &e, 10);
		if (*e || v[i] < 1 || v[i] > 65536)
			usage_die("invalid value '%s' for --shape: expected CxHxW", s);
		s += n + (i < 2);
	}
	*c = v[0];
	*h = v[1];
	*w = v[2];
}

static void parse_range(const char *s, double *lo, double *hi)
{
	const char *colon = strchr(s, ':');
	char a[64];
	if (!colon || (size_t)(colon - s) >= sizeof(a))
		usage_die("invalid value '%s' for --noise-range: expected A:B", s);
	memcpy(a, s, colon - s);
	a[colon - s] = 0;
	if (parse_double(a, 0, 100, lo) || parse_double(colon + 1, 0, 100, hi) || *lo > *hi)
		usage_die("invalid value '%s' for --noise-range: expected A:B with 0 <= A <= B", s);
}

enum {
	O_LR = 256, O_OPTIMIZER, O_LOSS, O_NOISE, O_NOISE_RANGE, O_CLIP, O_TARGET, O_VAL,
	O_VAL_TARGET, O_VAL_SPLIT, O_LR_DECAY, O_SEED, O_THREADS, O_CHECKPOINT, O_RESUME, O_NO_STATE,
	O_LOG, O_PRINT_ARCH, O_SHAPE
};

static void parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "output", required_argument, 0, 'o' },
		{ "arch", required_argument, 0, 'a' },
		{ "epochs", required_argument, 0, 'e' },
		{ "batch", required_argument, 0, 'b' },
		{ "lr", required_argument, 0, O_LR },
		{ "lr-decay", required_argument, 0, O_LR_DECAY },
		{ "optimizer", required_argument, 0, O_OPTIMIZER },
		{ "loss", required_argument, 0, O_LOSS },
		{ "noise", required_argument, 0, O_NOISE },
		{ "noise-range", required_argument, 0, O_NOISE_RANGE },
		{ "clip", no_argument, 0, O_CLIP },
		{ "target", required_argument, 0, O_TARGET },
		{ "val", required_argument, 0, O_VAL },
		{ "val-target", required_argument, 0, O_VAL_TARGET },
		{ "val-split", required_argument, 0, O_VAL_SPLIT },
		{ "seed", required_argument, 0, O_SEED },
		{ "threads", required_argument, 0, O_THREADS },
		{ "checkpoint-every", required_argument, 0, O_CHECKPOINT },
		{ "resume", required_argument, 0, O_RESUME },
		{ "no-state", no_argument, 0, O_NO_STATE },
		{ "log", required_argument, 0, O_LOG },
		{ "print-arch", no_argument, 0, O_PRINT_ARCH },
		{ "shape", required_argument, 0, O_SHAPE },
		{ "quiet", no_argument, 0, 'q' },
		{ "help", no_argument, 0, 'h' },
		{ "version", no_argument, 0, 'V' },
		{ 0, 0, 0, 0 }
	};
	struct train_opts *t = &o->t;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int ch, stdins = 0;

	memset(o, 0, sizeof(*o));
	t->optimizer = t->loss = t->noise = t->clip = t->cosine = -1;
	t->val_split = -1;
	t->threads = cpus < 1 ? 1 : cpus > 64 ? 64 : (int)cpus;
	o->c = 3;
	o->h = o->w = 32;
	while ((ch = getopt_long(argc, argv, "o:a:e:b:qhV", lo, NULL)) != -1) {
		switch (ch) {
		case 'o': t->output = optarg; break;
		case 'a': t->arch = optarg; break;
		case 'e': t->epochs = opt_long("--epochs", optarg, 1, 1000000); break;
		case 'b': t->batch = opt_long("--batch", optarg, 1, 65536); break;
		case O_LR: t->lr = opt_double("--lr", optarg, 1e-12, 1e3); break;
		case O_LR_DECAY:
			if (!strcmp(optarg, "none"))
				t->cosine = 0;
			else if (!strcmp(optarg, "cosine"))
				t->cosine = 1;
			else
				usage_die("unknown --lr-decay '%s' (none or cosine)", optarg);
			break;
		case O_OPTIMIZER:
			if (!strcmp(optarg, "adam"))
				t->optimizer = OPT_ADAM;
			else if (!strcmp(optarg, "sgd"))
				t->optimizer = OPT_SGD;
			else
				usage_die("unknown optimizer '%s' (adam or sgd)", optarg);
			break;
		case O_LOSS:
			if (!strcmp(optarg, "mse"))
				t->loss = LOSS_MSE;
			else if (!strcmp(optarg, "bce"))
				t->loss = LOSS_BCE;
			else
				usage_die("unknown loss '%s' (mse or bce)", optarg);
			break;
		case O_NOISE:
			if (t->noise == NOISE_RANGE)
				usage_die("--noise and --noise-range exclude each other");
			t->noise = NOISE_SIGMA;
			t->sigma_lo = t->sigma_hi = opt_double("--noise", optarg, 0, 100);
			break;
		case O_NOISE_RANGE:
			if (t->noise == NOISE_SIGMA)
				usage_die("--noise and --noise-range exclude each other");
			t->noise = NOISE_RANGE;
			parse_range(optarg, &t->sigma_lo, &t->sigma_hi);
			break;
		case O_CLIP: t->clip = 1; break;
		case O_TARGET: t->target = optarg; break;
		case O_VAL: t->val = optarg; break;
		case O_VAL_TARGET: t->val_target = optarg; break;
		case O_VAL_SPLIT: t->val_split = opt_double("--val-split", optarg, 0, 0.999); break;
		case O_SEED:
			if (parse_u64(optarg, &t->seed))
				usage_die("invalid value '%s' for --seed: expected an integer from 0 "
				          "to 18446744073709551615", optarg);
			t->seed_set = 1;
			break;
		case O_THREADS: t->threads = (int)opt_long("--threads", optarg, 1, 256); break;
		case O_CHECKPOINT:
			t->checkpoint_every = opt_long("--checkpoint-every", optarg, 1, 1L << 40);
			break;
		case O_RESUME: t->resume = optarg; break;
		case O_NO_STATE: t->no_state = 1; break;
		case O_LOG: t->log = optarg; break;
		case O_PRINT_ARCH: o->print_arch = 1; break;
		case O_SHAPE: parse_shape(optarg, &o->c, &o->h, &o->w); break;
		case 'q': t->quiet = 1; break;
		case 'h': usage(); exit(0);
		case 'V': printf("%s (cae) %s\n", argv0, VERSION); exit(0);
		default: usage_die("unknown option");
		}
	}
	if (argc - optind > 1)
		usage_die("too many arguments: one INPUT at most");
	t->input = optind < argc ? argv[optind] : "-";

	if (t->arch && !o->print_arch) {
		struct arch a;
		char e[256];
		if (arch_parse(t->arch, &a, e, sizeof(e)))
			usage_die("--arch: %s", e);
	}
	if (o->print_arch)
		return;
	if (!t->output)
		t->output = t->resume;
	if (!t->output)
		usage_die("no model file given: use -o MODEL");
	if (t->val && t->val_split >= 0)
		usage_die("--val and --val-split exclude each other");
	if (t->val_target && (!t->val || !t->target))
		usage_die("--val-target needs --val and --target");
	if (t->val && t->target && !t->val_target)
		usage_die("--val with --target needs --val-target FILE");
	if (t->clip > 0 && t->noise < 0 && !t->resume)
		usage_die("--clip needs --noise or --noise-range");
	stdins = !strcmp(t->input, "-") + (t->target && !strcmp(t->target, "-")) +
	         (t->val && !strcmp(t->val, "-")) + (t->val_target && !strcmp(t->val_target, "-"));
	if (stdins > 1)
		usage_die("only one input can be read from stdin");
	if (!strcmp(t->input, "-") && isatty(STDIN_FILENO))
		usage_die("refusing to read a tensor stream from a terminal (give INPUT or a pipe)");
}

static void print_arch(const struct opts *o)
{
	struct arch a;
	struct net *net;
	char e[512];

	if (arch_parse(o->t.arch ? o->t.arch : TRAIN_DEF_ARCH, &a, e, sizeof(e)))
		usage_die("--arch: %s", e);
	net = net_create(&a, (int)o->c, (int)o->h, (int)o->w, 1, e, sizeof(e));
	if (!net)
		die("input %ldx%ldx%ld: %s", o->c, o->h, o->w, e);
	net_print(net, stdout);
	net_free(net);
	fshut(stdout, "<stdout>");
}

int main(int argc, char **argv)
{
	struct opts o;

	prog_init(argc, argv);
	parse_args(argc, argv, &o);
	if (o.print_arch) {
		print_arch(&o);
		return 0;
	}
	return train_run(&o.t);
}
