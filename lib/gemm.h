/* gemm.h - the one matrix multiply of the engine, and its reference loop
 *
 * Row-major C (m x n) = alpha * op(A) * op(B) + beta * C, where op(A) is
 * (m x k) and op(B) is (k x n); ta/tb select the transpose (0 or 1), lda,
 * ldb, ldc are the row strides of the matrices as stored.
 */
#ifndef CAE_GEMM_H
#define CAE_GEMM_H

/* cblas_sgemm. The engine calls it from its own threads, one call per
 * thread, so OpenBLAS itself is kept single-threaded (see nn_set_threads). */
void gemm(int ta, int tb, int m, int n, int k, float alpha,
          const float *a, int lda, const float *b, int ldb,
          float beta, float *c, int ldc);
/* The same product as a naive triple loop with double accumulation: slow,
 * for tests only. */
void gemm_ref(int ta, int tb, int m, int n, int k, float alpha,
              const float *a, int lda, const float *b, int ldb,
              float beta, float *c, int ldc);

#endif
