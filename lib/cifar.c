/* cifar.c - reading CIFAR-10 and CIFAR-100 binary batches
 *
 * An input (file, stream, directory or .tar.gz) is first reduced to a
 * list of batches and checked as far as possible without reading the
 * records: file sizes, the archive's integrity (one inflating pass over
 * it) and the presence of every batch of the split. Reading then goes
 * batch by batch in blocks of CIFAR_BLOCK records. Archive members that
 * are stored out of order are reached by rewinding, so memory never
 * depends on the size of the input. */
#include "cifar.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define NAMES_MAX 65536     /* largest label-name file accepted */

static const char *const names10[10] = {
	"airplane", "automobile", "bird", "cat", "deer",
	"dog", "frog", "horse", "ship", "truck",
};

static const char *const names100[100] = {
	"apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle",
	"bicycle", "bottle", "bowl", "boy", "bridge", "bus", "butterfly", "camel",
	"can", "castle", "caterpillar", "cattle", "chair", "chimpanzee", "clock",
	"cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur",
	"dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster",
	"house", "kangaroo", "keyboard", "lamp", "lawn_mower", "leopard", "lion",
	"lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain", "mouse",
	"mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear",
	"pickup_truck", "pine_tree", "plain", "plate", "poppy", "porcupine",
	"possum", "rabbit", "raccoon", "ray", "road", "rocket", "rose", "sea",
	"seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake", "spider",
	"squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank",
	"telephone", "television", "tiger", "tractor", "train", "trout", "tulip",
	"turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm",
};

static const char *const coarse100[20] = {
	"aquatic_mammals", "fish", "flowers", "food_containers",
	"fruit_and_vegetables", "household_electrical_devices",
	"household_furniture", "insects", "large_carnivores",
	"large_man-made_outdoor_things", "large_natural_outdoor_scenes",
	"large_omnivores_and_herbivores", "medium_mammals",
	"non-insect_invertebrates", "people", "reptiles", "small_mammals",
	"trees", "vehicles_1", "vehicles_2",
};

/* The file names an input may hold, by base name. */
enum { K_BATCH1, K_TEST10 = 5, K_TRAIN100, K_TEST100, K_META10, K_FINE, K_COARSE, NKNOWN };
static const char *const known[NKNOWN] = {
	"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
	"data_batch_4.bin", "data_batch_5.bin", "test_batch.bin",
	"train.bin", "test.bin",
	"batches.meta.txt", "fine_label_names.txt", "coarse_label_names.txt",
};

/* What was found of each known name. */
struct found {
	int have;
	char *name;        /* path, or full member name */
	long member;
	uint64_t size;
	char *text;        /* contents of a label-name member */
};

static int fail(struct cifar *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* malloc'ed printf, or NULL with c->err set. */
static char *fmt(struct cifar *c, const char *f, ...)
{
	va_list ap;
	char *s;
	int n;
	va_start(ap, f);
	n = vsnprintf(NULL, 0, f, ap);
	va_end(ap);
	if (n < 0 || !(s = malloc((size_t)n + 1))) {
		fail(c, "out of memory");
		return NULL;
	}
	va_start(ap, f);
	vsnprintf(s, (size_t)n + 1, f, ap);
	va_end(ap);
	return s;
}

int cifar_record_size(int kind) { return kind == CIFAR_100 ? CIFAR100_RECORD : CIFAR10_RECORD; }
const char *cifar_kind_name(int kind) { return kind == CIFAR_100 ? "CIFAR-100" : "CIFAR-10"; }

int cifar_builtin_names(int kind, int which, const char *const **names)
{
	if (kind != CIFAR_100) {
		*names = names10;
		return 10;
	}
	*names = which == CIFAR_COARSE ? coarse100 : names100;
	return which == CIFAR_COARSE ? 20 : 100;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static int known_index(const char *base)
{
	for (int i = 0; i < NKNOWN; i++)
		if (!strcmp(base, known[i]))
			return i;
	return -1;
}

/* Checks a batch's size against the record size of KIND. */
static int check_size(struct cifar *c, const char *name, uint64_t size, int kind)
{
	if (size == 0)
		return fail(c, "%s: empty file", name);
	if (size % (uint64_t)cifar_record_size(kind))
		return fail(c, "%s: size %llu is not a multiple of the %s record size %d", name,
		            (unsigned long long)size, cifar_kind_name(kind), cifar_record_size(kind));
	return 0;
}

/* Reads a whole small file (a label-name list) into a malloc'ed string.
 * Returns 1, 0 if it does not exist, -1 on error. */
static int slurp(struct cifar *c, const char *path, char **out)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long n;
	if (!f)
		return errno == ENOENT ? 0 : fail(c, "%s: %s", path, strerror(errno));
	if (!(s = malloc(NAMES_MAX + 1))) {
		fclose(f);
		return fail(c, "out of memory");
	}
	n = read_full(f, s, NAMES_MAX + 1);
	fclose(f);
	if (n < 0 || n > NAMES_MAX) {
		free(s);
		return n < 0 ? fail(c, "%s: read error", path)
		             : fail(c, "%s: too large for a list of class names", path);
	}
	s[n] = '\0';
	*out = s;
	return 1;
}

/* Splits TEXT (owned by c afterwards) into WANT names, one per non-empty
 * line, surrounding blanks removed. */
static int parse_names(struct cifar *c, int which, char *text, const char *name, int want)
{
	int n = 0;
	char *line = text, *next;
	c->nametext[which] = text;
	for (; line && *line; line = next) {
		char *e;
		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		for (e = line + strlen(line); e > line && strchr(" \t\r", e[-1]); e--)
			;
		*e = '\0';
		if (!*line)
			continue;
		if (n < want)
			c->names[which][n] = line;
		n++;
	}
	if (n != want)
		return fail(c, "%s: %d class names, expected %d", name, n, want);
	c->nnames[which] = n;
	return 0;
}

/* Sets the class names from the label-name files found (K_META10,
 * K_FINE, K_COARSE), falling back on the built-in lists. */
static int load_names(struct cifar *c, struct found *fd)
{
	const char *const *bi;
	int w, r, nw = c->kind == CIFAR_100 ? 2 : 1;
	for (w = 0; w < nw; w++) {
		int k = c->kind == CIFAR_100 ? (w == CIFAR_FINE ? K_FINE : K_COARSE) : K_META10;
		int n = cifar_builtin_names(c->kind, w, &bi);
		char *text = NULL, *shown;
		if (c->src == CIFAR_SRC_TGZ) {
			text = fd[k].text;
			fd[k].text = NULL;
		} else if (fd[k].have && slurp(c, fd[k].name, &text) < 0) {
			return -1;
		}
		if (text) {
			shown = c->src == CIFAR_SRC_TGZ ? fmt(c, "%s: %s", c->path, fd[k].name)
			                                : fmt(c, "%s", fd[k].name);
			if (!shown) {
				free(text);
				return -1;
			}
			r = parse_names(c, w, text, shown, n);
			free(shown);
			if (r)
				return -1;
		} else {
			for (int i = 0; i < n; i++)
				c->names[w][i] = bi[i];
			c->nnames[w] = n;
		}
	}
	return 0;
}

/* Index pass over an archive: records where each known name is. */
static int scan_archive(struct cifar *c, struct found *fd)
{
	struct targz *t = &c->tz;
	int k;
	if (tgz_open(t, c->path))
		return fail(c, "%s", t->err);
	c->tz_open = 1;
	while ((k = tgz_next(t)) == 1) {
		int i = known_index(base_name(t->name));
		if (i < 0)
			continue;
		if (fd[i].have)
			return fail(c, "%s: two members named %s (%s and %s)", c->path, known[i],
			            fd[i].name, t->name);
		fd[i].have = 1;
		fd[i].member = t->ordinal;
		fd[i].size = t->size;
		if (!(fd[i].name = fmt(c, "%s", t->name)))
			return -1;
		if (i >= K_META10) {
			if (t->size > NAMES_MAX)
				return fail(c, "%s: %s: too large for a list of class names", c->path, t->name);
			if (!(fd[i].text = malloc((size_t)t->size + 1)))
				return fail(c, "out of memory");
			if (t->size && tgz_read(t, fd[i].text, (size_t)t->size) != (long)t->size)
				return fail(c, "%s", t->err);
			fd[i].text[t->size] = '\0';
		}
	}
	if (k < 0 || tgz_drain(t))
		return fail(c, "%s", t->err);
	return 0;
}

/* Looks for the known names in directory DIR. Returns how many batch
 * files (not label lists) are there. */
static int scan_dir(struct cifar *c, const char *dir, struct found *fd)
{
	int nb = 0;
	for (int i = 0; i < NKNOWN; i++) {
		struct stat st;
		free(fd[i].name);
		if (!(fd[i].name = fmt(c, "%s/%s", dir, known[i])))
			return -1;
		fd[i].have = !stat(fd[i].name, &st) && S_ISREG(st.st_mode);
		fd[i].size = fd[i].have ? (uint64_t)st.st_size : 0;
		nb += fd[i].have && i < K_META10;
	}
	return nb;
}

/* A directory holding no batches may hold the unpacked official
 * directory instead. */
static int open_dir(struct cifar *c, struct found *fd, int kind)
{
	static const char *const sub[2] = { "cifar-10-batches-bin", "cifar-100-binary" };
	int nb = scan_dir(c, c->path, fd);
	if (nb < 0)
		return -1;
	for (int j = 0; nb == 0 && j < 2; j++) {
		const char *s = sub[kind == CIFAR_100 ? 1 - j : j];
		char *p = fmt(c, "%s/%s", c->path, s);
		struct stat st;
		if (!p)
			return -1;
		if (stat(p, &st) || !S_ISDIR(st.st_mode)) {
			free(p);
			continue;
		}
		free(c->path);
		c->path = p;
		if ((nb = scan_dir(c, c->path, fd)) < 0)
			return -1;
	}
	if (nb == 0)
		return fail(c, "%s: no CIFAR batches here (expected data_batch_1.bin ... "
		            "data_batch_5.bin and test_batch.bin for CIFAR-10, or train.bin and "
		            "test.bin for CIFAR-100)", c->path);
	return 0;
}

/* Chooses the kind and the batches of SPLIT from what a directory or an
 * archive holds. */
static int pick_parts(struct cifar *c, struct found *fd, int kind, int split)
{
	int first, n, i;
	if (kind == CIFAR_AUTO) {
		kind = 0;
		for (i = K_BATCH1; i <= K_TEST10; i++)
			if (fd[i].have)
				kind = CIFAR_10;
		if (!kind && (fd[K_TRAIN100].have || fd[K_TEST100].have))
			kind = CIFAR_100;
		if (!kind)
			return fail(c, "%s: no CIFAR batches in the archive (expected members "
			            "cifar-10-batches-bin/data_batch_1.bin ... or "
			            "cifar-100-binary/train.bin ...)", c->path);
	}
	c->kind = kind;
	if (kind == CIFAR_10) {
		first = split == CIFAR_TEST ? K_TEST10 : K_BATCH1;
		n = split == CIFAR_TEST ? 1 : 5;
	} else {
		first = split == CIFAR_TEST ? K_TEST100 : K_TRAIN100;
		n = 1;
	}
	for (i = first; i < first + n; i++) {
		struct cifar_part *p = &c->part[c->nparts];
		if (!fd[i].have)
			return fail(c, "%s: missing %s%s (needed for --split %s)", c->path,
			            c->src == CIFAR_SRC_TGZ ? "member " : "", known[i],
			            split == CIFAR_TEST ? "test" : "train");
		if (c->src == CIFAR_SRC_TGZ)
			p->name = fmt(c, "%s: %s", c->path, fd[i].name);
		else
			p->name = fmt(c, "%s", fd[i].name);
		if (!p->name)
			return -1;
		c->nparts++;
		if (c->src == CIFAR_SRC_DIR && !(p->path = fmt(c, "%s", fd[i].name)))
			return -1;
		p->member = fd[i].member;
		p->size = fd[i].size;
		if (check_size(c, p->name, p->size, kind))
			return -1;
	}
	return 0;
}

/* A single batch file: the kind comes from its name, else its size. */
static int open_file(struct cifar *c, struct found *fd, int kind, uint64_t size)
{
	struct cifar_part *p = &c->part[0];
	const char *base = base_name(c->path);
	int i = known_index(base);
	char *dir;

	if (kind == CIFAR_AUTO && i >= K_BATCH1 && i <= K_TEST10)
		kind = CIFAR_10;
	else if (kind == CIFAR_AUTO && (i == K_TRAIN100 || i == K_TEST100))
		kind = CIFAR_100;
	if (kind == CIFAR_AUTO && c->src == CIFAR_SRC_STREAM)
		kind = CIFAR_10;
	if (kind == CIFAR_AUTO) {
		int m10 = size % CIFAR10_RECORD == 0, m100 = size % CIFAR100_RECORD == 0;
		if (size == 0)
			return fail(c, "%s: empty file", c->path);
		if (m10 && m100)
			return fail(c, "%s: size %llu is a multiple of both the CIFAR-10 and the "
			            "CIFAR-100 record size: use --cifar10 or --cifar100", c->path,
			            (unsigned long long)size);
		if (!m10 && !m100)
			return fail(c, "%s: size %llu is not a multiple of the CIFAR-10 record size "
			            "%d or the CIFAR-100 record size %d", c->path,
			            (unsigned long long)size, CIFAR10_RECORD, CIFAR100_RECORD);
		kind = m10 ? CIFAR_10 : CIFAR_100;
	}
	c->kind = kind;
	c->nparts = 1;
	p->size = size;
	if (!(p->name = fmt(c, "%s", c->src == CIFAR_SRC_STREAM && !strcmp(c->path, "-") ?
	                    "<stdin>" : c->path)))
		return -1;
	if (strcmp(c->path, "-") && !(p->path = fmt(c, "%s", c->path)))
		return -1;
	if (size != CIFAR_UNKNOWN && check_size(c, p->name, size, kind))
		return -1;
	if (!strcmp(c->path, "-"))
		return 0;
	/* label-name files beside the batch */
	if (!(dir = fmt(c, "%.*s", (int)(base - c->path), c->path)))
		return -1;
	for (i = K_META10; i < NKNOWN; i++) {
		struct stat st;
		if (!(fd[i].name = fmt(c, "%s%s", dir, known[i]))) {
			free(dir);
			return -1;
		}
		fd[i].have = !stat(fd[i].name, &st) && S_ISREG(st.st_mode);
	}
	free(dir);
	return 0;
}

/* 1 if the file starts like gzip data. */
static int gzip_magic(const char *path)
{
	unsigned char b[2];
	FILE *f = fopen(path, "rb");
	long n;
	if (!f)
		return 0;
	n = read_full(f, b, 2);
	fclose(f);
	return n == 2 && b[0] == 0x1f && b[1] == 0x8b;
}

static int has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n >= m && !strcmp(s + n - m, suf);
}

int cifar_open(struct cifar *c, const char *path, int kind, int split)
{
	struct found fd[NKNOWN];
	struct stat st;
	int r = -1, i;

	memset(c, 0, sizeof(*c));
	memset(fd, 0, sizeof(fd));
	if (!(c->path = fmt(c, "%s", path)))
		return -1;
	if (!strcmp(path, "-")) {
		c->src = CIFAR_SRC_STREAM;
		if (open_file(c, fd, kind, CIFAR_UNKNOWN) == 0)
			r = load_names(c, fd);
		goto done;
	}
	if (stat(path, &st)) {
		fail(c, "%s: %s", path, strerror(errno));
		goto done;
	}
	if (S_ISDIR(st.st_mode)) {
		size_t n = strlen(c->path);
		while (n > 1 && c->path[n - 1] == '/')
			c->path[--n] = '\0';   /* "dir/" names files as "dir/x", not "dir//x" */
		c->src = CIFAR_SRC_DIR;
		if (open_dir(c, fd, kind) || pick_parts(c, fd, kind, split))
			goto done;
	} else if (S_ISREG(st.st_mode) && gzip_magic(path)) {
		c->src = CIFAR_SRC_TGZ;
		if (scan_archive(c, fd) || pick_parts(c, fd, kind, split))
			goto done;
	} else if (S_ISREG(st.st_mode)) {
		if (has_suffix(path, ".gz") || has_suffix(path, ".tgz")) {
			fail(c, "%s: not gzip data", path);
			goto done;
		}
		c->src = CIFAR_SRC_FILE;
		if (open_file(c, fd, kind, (uint64_t)st.st_size))
			goto done;
	} else {
		/* a pipe or device: read to its end, size unknown */
		c->src = CIFAR_SRC_STREAM;
		if (open_file(c, fd, kind, CIFAR_UNKNOWN))
			goto done;
	}
	r = load_names(c, fd);
done:
	for (i = 0; i < NKNOWN; i++) {
		free(fd[i].name);
		free(fd[i].text);
	}
	if (r == 0) {
		c->records = 0;
		for (i = 0; i < c->nparts; i++) {
			if (c->part[i].size == CIFAR_UNKNOWN) {
				c->records = CIFAR_UNKNOWN;
				break;
			}
			c->records += c->part[i].size / (uint64_t)cifar_record_size(c->kind);
		}
	}
	return r;
}

/* Opens part c->cur: a file, stdin, or the archive positioned at the
 * member (rewinding when the member lies behind the current one). */
static int open_part(struct cifar *c)
{
	struct cifar_part *p = &c->part[c->cur];
	c->rec = c->bytes = 0;
	if (c->src == CIFAR_SRC_TGZ) {
		struct targz *t = &c->tz;
		if (!c->tz_open) {
			if (tgz_open(t, c->path))
				return fail(c, "%s", t->err);
			c->tz_open = 1;
		}
		if (t->ordinal >= p->member && tgz_rewind(t))
			return fail(c, "%s", t->err);
		while (t->ordinal < p->member) {
			int k = tgz_next(t);
			if (k < 0)
				return fail(c, "%s", t->err);
			if (k == 0)
				return fail(c, "%s: member vanished (archive changed while reading?)", p->name);
		}
		if (t->size != p->size)
			return fail(c, "%s: member changed size (archive changed while reading?)", p->name);
	} else if (!p->path) {
		c->f = stdin;
	} else if (!(c->f = fopen(p->path, "rb"))) {
		return fail(c, "%s: %s", p->name, strerror(errno));
	}
	c->opened = 1;
	return 0;
}

static void close_part(struct cifar *c)
{
	if (c->f && c->f != stdin)
		fclose(c->f);
	c->f = NULL;
	c->opened = 0;
	c->cur++;
}

/* Reads N bytes of the current part. Returns the count (short only at the
 * end of a stream) or -1. */
static long read_part(struct cifar *c, unsigned char *buf, size_t n)
{
	struct cifar_part *p = &c->part[c->cur];
	long got;
	if (c->src == CIFAR_SRC_TGZ) {
		size_t done = 0;
		while (done < n) {
			long r = tgz_read(&c->tz, buf + done, n - done);
			if (r < 0)
				return fail(c, "%s", c->tz.err);
			if (r == 0)
				break;
			done += (size_t)r;
		}
		got = (long)done;
	} else if ((got = read_full(c->f, buf, n)) < 0) {
		return fail(c, "%s: read error: %s", p->name, strerror(errno));
	}
	if (p->size != CIFAR_UNKNOWN && (size_t)got < n)
		return fail(c, "%s: unexpected end of file after %llu of %llu bytes "
		            "(file changed while reading?)", p->name,
		            (unsigned long long)(c->bytes + (uint64_t)got), (unsigned long long)p->size);
	return got;
}

long cifar_read(struct cifar *c, unsigned char *pix, int32_t *fine, int32_t *coarse, long max)
{
	const int rs = cifar_record_size(c->kind), hd = rs - CIFAR_PIXELS;
	if (max > CIFAR_BLOCK)
		max = CIFAR_BLOCK;
	if (max <= 0)
		return 0;
	if (!c->buf && !(c->buf = malloc((size_t)CIFAR_BLOCK * CIFAR100_RECORD)))
		return fail(c, "out of memory");
	while (c->cur < c->nparts) {
		struct cifar_part *p = &c->part[c->cur];
		uint64_t n = (uint64_t)max;
		long got, i;
		if (!c->opened && open_part(c))
			return -1;
		if (p->size != CIFAR_UNKNOWN && n > p->size / (uint64_t)rs - c->rec)
			n = p->size / (uint64_t)rs - c->rec;
		if (n == 0) {
			close_part(c);
			continue;
		}
		if ((got = read_part(c, c->buf, (size_t)n * (size_t)rs)) < 0)
			return -1;
		if (got % rs)
			return fail(c, "%s: size %llu is not a multiple of the %s record size %d", p->name,
			            (unsigned long long)(c->bytes + (uint64_t)got), cifar_kind_name(c->kind), rs);
		if (got == 0 && c->bytes == 0)
			return fail(c, "%s: empty input", p->name);
		if (p->size == CIFAR_UNKNOWN && (size_t)got < (size_t)n * (size_t)rs)
			p->size = c->bytes + (uint64_t)got;  /* the stream ended */
		n = (uint64_t)got / (uint64_t)rs;
		if (n == 0) {
			close_part(c);
			continue;
		}
		for (i = 0; i < (long)n; i++) {
			const unsigned char *b = c->buf + (size_t)i * (size_t)rs;
			unsigned long long at = (unsigned long long)(c->rec + (uint64_t)i);
			int f = b[hd - 1], k = c->kind == CIFAR_100 ? b[0] : -1;
			if (c->kind == CIFAR_10 && f > 9)
				return fail(c, "%s: record %llu: label %d out of range (0-9)", p->name, at, f);
			if (c->kind == CIFAR_100 && k > 19)
				return fail(c, "%s: record %llu: coarse label %d out of range (0-19)",
				            p->name, at, k);
			if (c->kind == CIFAR_100 && f > 99)
				return fail(c, "%s: record %llu: fine label %d out of range (0-99)",
				            p->name, at, f);
			if (fine)
				fine[i] = f;
			if (coarse)
				coarse[i] = k;
			if (pix)
				memcpy(pix + (size_t)i * CIFAR_PIXELS, b + hd, CIFAR_PIXELS);
		}
		c->rec += n;
		c->bytes += (uint64_t)got;
		return (long)n;
	}
	return 0;
}

void cifar_close(struct cifar *c)
{
	if (c->f && c->f != stdin)
		fclose(c->f);
	if (c->tz_open)
		tgz_close(&c->tz);
	for (int i = 0; i < c->nparts; i++) {
		free(c->part[i].name);
		free(c->part[i].path);
	}
	free(c->nametext[0]);
	free(c->nametext[1]);
	free(c->buf);
	free(c->path);
	memset(c, 0, sizeof(*c));
}

int cifar_class_find(const struct cifar *c, int which, const char *s)
{
	long v;
	int n = c->nnames[which];
	if (!parse_long(s, 0, n - 1, &v))
		return (int)v;
	for (int i = 0; i < n; i++)
		if (!strcasecmp(s, c->names[which][i]))
			return i;
	return -1;
}
