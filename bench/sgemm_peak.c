/* sgemm_peak - OpenBLAS single-precision GEMM throughput
 *
 * Usage: sgemm_peak M N K THREADS
 *        sgemm_peak config      (prints OpenBLAS's build configuration)
 * Times C(M,N) = A(M,K) B(K,N), row-major, after one untimed warm-up call,
 * repeating for at least one second, and prints "sgemm MxNxK tT GFLOP/s"
 * counting 2*M*N*K operations per call. bench/run.sh uses it for the peak
 * the convolution GEMMs are measured against.
 */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static long arg(const char *s, long max)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end || v < 1 || v > max) {
		fprintf(stderr, "sgemm_peak: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

static float *fill(size_t n)
{
	float *p = malloc(n * sizeof *p);
	size_t i;

	if (!p) {
		fprintf(stderr, "sgemm_peak: out of memory\n");
		exit(1);
	}
	for (i = 0; i < n; i++)
		p[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
	return p;
}

int main(int argc, char **argv)
{
	long m, n, k, t, reps = 0;
	float *a, *b, *c;
	double t0, sec;

	if (argc == 2 && !strcmp(argv[1], "config")) {
		printf("%s\n", openblas_get_config());
		return 0;
	}
	if (argc != 5) {
		fprintf(stderr, "usage: sgemm_peak M N K THREADS\n");
		return 2;
	}
	/* each dimension and each product of two stays far below 2^31 elements */
	m = arg(argv[1], 1L << 20);
	n = arg(argv[2], 1L << 20);
	k = arg(argv[3], 1L << 20);
	t = arg(argv[4], 1024);
	if (m * k > 1L << 28 || k * n > 1L << 28 || m * n > 1L << 28) {
		fprintf(stderr, "sgemm_peak: matrices too large\n");
		return 2;
	}
	openblas_set_num_threads((int)t);
	a = fill((size_t)m * k);
	b = fill((size_t)k * n);
	c = fill((size_t)m * n);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k,
	            1.0f, a, k, b, n, 0.0f, c, n);
	t0 = now();
	do {
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k,
		            1.0f, a, k, b, n, 0.0f, c, n);
		reps++;
		sec = now() - t0;
	} while (sec < 1.0 || reps < 3);
	printf("sgemm %ldx%ldx%ld t%ld %.1f GFLOP/s\n", m, n, k, t,
	       2.0 * m * n * k * reps / sec / 1e9);
	free(a);
	free(b);
	free(c);
	return 0;
}
