/* util.h - diagnostics, checked allocation, number parsing, safe output */
#ifndef CAE_UTIL_H
#define CAE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Program name used as the prefix of every diagnostic; set by prog_init(). */
extern const char *argv0;

/* Sets argv0 from argv[0] (basename) and installs the cleanup hooks. */
void prog_init(int argc, char **argv);

/* "argv0: message" on stderr, then exit 1 (runtime error). Temporary
 * output files registered with out_open() are removed first. */
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* Same, exit 2, followed by "Try 'argv0 --help'." (usage error). */
void usage_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* "argv0: message" on stderr, continue. */
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Checked allocation: die() on failure. xmalloc_n checks n*size overflow. */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xmalloc_n(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
/* 64-byte aligned allocation (free with free()); zeroed; dies on failure. */
void *xalloc_aligned(size_t size);
char *xstrdup(const char *s);

/* Strict number parsing: the whole string must be a number in [min,max].
 * Return 0 on success, -1 otherwise (value untouched). */
int parse_long(const char *s, long min, long max, long *out);
int parse_u64(const char *s, uint64_t *out);
int parse_double(const char *s, double min, double max, double *out);

/* Option helpers for programs: parse or usage_die naming the option. */
long opt_long(const char *name, const char *s, long min, long max);
double opt_double(const char *name, const char *s, double min, double max);

/* Opens a named input: "-" or NULL is stdin. die()s naming the file. */
FILE *in_open(const char *path);

/* Output file written atomically: a temporary in the same directory,
 * renamed over PATH by out_commit(). "-" or NULL means stdout (refused
 * by out_open() if tty_ok is 0 and stdout is a terminal). If the program
 * die()s or is killed by SIGINT/SIGTERM, the temporary is removed. */
struct outfile {
	FILE *f;
	char *path;   /* final name, NULL for stdout */
	char *tmp;    /* temporary name, NULL for stdout */
};
void out_open(struct outfile *o, const char *path, int tty_ok);
/* Flushes, fsyncs and closes; renames the temporary into place. die()s on
 * any error (leaving nothing under the target name). */
void out_commit(struct outfile *o);
/* Removes the temporary (if any) without committing. */
void out_abort(struct outfile *o);

/* Flushes and closes a stream, die()ing on error (farbfeld's fshut). */
void fshut(FILE *f, const char *name);

/* Reads exactly n bytes. Returns n on success, fewer at end of input
 * (a short count), or -1 (errno set) on a read error. Retries EINTR. */
long read_full(FILE *f, void *buf, size_t n);

/* Wall clock in seconds (monotonic). */
double now_sec(void);

/* Little-endian helpers. */
static inline uint16_t rd16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t rd32(const unsigned char *p)
{ return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static inline uint64_t rd64(const unsigned char *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static inline void wr16(unsigned char *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static inline void wr32(unsigned char *p, uint32_t v)
{ p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24; }
static inline void wr64(unsigned char *p, uint64_t v) { wr32(p, (uint32_t)v); wr32(p + 4, (uint32_t)(v >> 32)); }

#endif
