/* check.h - a minimal assertion harness for the unit tests */
#ifndef CHECK_H
#define CHECK_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int check_failures, check_count;

#define CHECK(cond) do { check_count++; if (!(cond)) { check_failures++; \
	fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECKF(cond, ...) do { check_count++; if (!(cond)) { check_failures++; \
	fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)
/* Ends a test's main(): prints a summary, exit 1 on any failure. */
#define CHECK_DONE() do { printf("%d checks, %d failed\n", check_count, check_failures); \
	return check_failures ? 1 : 0; } while (0)

/* The largest |a[i] - b[i]| (infinite if any is NaN), and in *scale the
 * largest |b[i]|, to judge it against. */
static inline double maxdiff(const float *a, const float *b, size_t n, double *scale)
{
	double d = 0, m = 0;
	for (size_t i = 0; i < n; i++) {
		double e = fabs((double)a[i] - b[i]);
		if (e > d || e != e)
			d = e != e ? INFINITY : e;
		if (fabs(b[i]) > m)
			m = fabs(b[i]);
	}
	*scale = m;
	return d;
}
#endif
