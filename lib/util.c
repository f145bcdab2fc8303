/* util.c - diagnostics, checked allocation, number parsing, safe output */
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *argv0 = "cae";

/* Temporary files to remove on die() or a fatal signal. */
#define MAXTMP 8
static char *tmpnames[MAXTMP];

static void remove_tmps(void)
{
	for (int i = 0; i < MAXTMP; i++)
		if (tmpnames[i])
			unlink(tmpnames[i]);
}

static void on_signal(int sig)
{
	remove_tmps();
	signal(sig, SIG_DFL);
	raise(sig);
}

void prog_init(int argc, char **argv)
{
	(void)argc;
	if (argv && argv[0]) {
		const char *s = strrchr(argv[0], '/');
		argv0 = s ? s + 1 : argv[0];
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
}

static void vmsg(const char *fmt, va_list ap)
{
	fflush(stdout);
	fprintf(stderr, "%s: ", argv0);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	remove_tmps();
	exit(1);
}

void usage_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n", argv0);
	remove_tmps();
	exit(2);
}

void warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (!p)
		die("out of memory (%zu bytes)", size);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		die("out of memory (%zu x %zu bytes)", n, size);
	return p;
}

void *xmalloc_n(size_t n, size_t size)
{
	size_t t;
	if (__builtin_mul_overflow(n, size, &t))
		die("allocation size overflows (%zu x %zu bytes)", n, size);
	return xmalloc(t);
}

void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size ? size : 1);
	if (!p)
		die("out of memory (%zu bytes)", size);
	return p;
}

void *xalloc_aligned(size_t size)
{
	void *p = NULL;
	size_t sz = (size + 63) & ~(size_t)63;
	if (sz < size || posix_memalign(&p, 64, sz ? sz : 64))
		die("out of memory (%zu bytes)", size);
	memset(p, 0, sz);
	return p;
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(xmalloc(n), s, n);
}

int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;
	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || end == s)
		return -1;
	*out = v;
	return 0;
}

int parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v;
	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || end == s || !isfinite(v) || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

long opt_long(const char *name, const char *s, long min, long max)
{
	long v;
	if (parse_long(s, min, max, &v))
		usage_die("invalid value '%s' for %s: expected an integer from %ld to %ld",
		          s, name, min, max);
	return v;
}

double opt_double(const char *name, const char *s, double min, double max)
{
	double v;
	if (parse_double(s, min, max, &v))
		usage_die("invalid value '%s' for %s: expected a number from %g to %g",
		          s, name, min, max);
	return v;
}

FILE *in_open(const char *path)
{
	FILE *f;
	if (!path || !strcmp(path, "-"))
		return stdin;
	if (!(f = fopen(path, "rb")))
		die("%s: %s", path, strerror(errno));
	return f;
}

void out_open(struct outfile *o, const char *path, int tty_ok)
{
	struct stat st;
	int fd, i;
	size_t n;
	memset(o, 0, sizeof(*o));
	if (!path || !strcmp(path, "-")) {
		if (!tty_ok && isatty(STDOUT_FILENO))
			usage_die("refusing to write binary data to a terminal (use -o FILE or a pipe)");
		o->f = stdout;
		return;
	}
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* a device or a fifo (/dev/null, /dev/full, a pipe): write to it
		 * directly; renaming over it would replace it */
		if (!(o->f = fopen(path, "wb")))
			die("%s: %s", path, strerror(errno));
		o->path = xstrdup(path);
		return;
	}
	n = strlen(path);
	o->path = xstrdup(path);
	o->tmp = xmalloc(n + 16);
	snprintf(o->tmp, n + 16, "%s.tmp.XXXXXX", path);
	if ((fd = mkstemp(o->tmp)) < 0)
		die("%s: %s", path, strerror(errno));
	(void)fchmod(fd, 0644); /* not fatal: the file keeps mkstemp's 0600 */
	for (i = 0; i < MAXTMP && tmpnames[i]; i++)
		;
	if (i < MAXTMP)
		tmpnames[i] = o->tmp;
	if (!(o->f = fdopen(fd, "wb"))) {
		unlink(o->tmp);
		die("%s: %s", path, strerror(errno));
	}
}

static void forget_tmp(const char *t)
{
	for (int i = 0; i < MAXTMP; i++)
		if (tmpnames[i] == t)
			tmpnames[i] = NULL;
}

void out_commit(struct outfile *o)
{
	if (!o->tmp) {
		fshut(o->f, o->path ? o->path : "<stdout>");
		o->f = NULL;
		free(o->path);
		o->path = NULL;
		return;
	}
	if (fflush(o->f) || ferror(o->f) || fsync(fileno(o->f)) || fclose(o->f)) {
		int e = errno;
		o->f = NULL;
		die("%s: write error: %s", o->path, strerror(e));
	}
	o->f = NULL;
	if (rename(o->tmp, o->path) < 0)
		die("%s: %s", o->path, strerror(errno));
	forget_tmp(o->tmp);
	free(o->tmp);
	free(o->path);
	o->tmp = o->path = NULL;
}

void out_abort(struct outfile *o)
{
	if (o->f && o->f != stdout)
		fclose(o->f);
	o->f = NULL;
	if (o->tmp) {
		unlink(o->tmp);
		forget_tmp(o->tmp);
	}
	free(o->tmp);
	free(o->path);
	o->tmp = o->path = NULL;
}

void fshut(FILE *f, const char *name)
{
	int err = 0;
	if (fflush(f) || ferror(f))
		err = errno ? errno : EIO;
	if (fclose(f) && !err)
		err = errno ? errno : EIO;
	if (err) {
		if (err == EPIPE)
			exit(0); /* reader went away: quiet, like `| head` */
		die("%s: write error: %s", name, strerror(err));
	}
}

long read_full(FILE *f, void *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		size_t r = fread((char *)buf + got, 1, n - got, f);
		got += r;
		if (got < n) {
			if (ferror(f)) {
				if (errno == EINTR) {
					clearerr(f);
					continue;
				}
				return -1;
			}
			break; /* EOF */
		}
	}
	return (long)got;
}

double now_sec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}
