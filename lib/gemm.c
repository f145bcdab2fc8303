/* gemm.c - matrix multiply through OpenBLAS, and a reference loop */
#include <cblas.h>

#include "gemm.h"

void gemm(int ta, int tb, int m, int n, int k, float alpha,
          const float *a, int lda, const float *b, int ldb,
          float beta, float *c, int ldc)
{
	if (m <= 0 || n <= 0)
		return;
	cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
	            tb ? CblasTrans : CblasNoTrans, m, n, k, alpha,
	            a, lda, b, ldb, beta, c, ldc);
}

void gemm_ref(int ta, int tb, int m, int n, int k, float alpha,
              const float *a, int lda, const float *b, int ldb,
              float beta, float *c, int ldc)
{
	for (int i = 0; i < m; i++)
		for (int j = 0; j < n; j++) {
			double s = 0;
			for (int p = 0; p < k; p++) {
				float av = ta ? a[(long)p * lda + i] : a[(long)i * lda + p];
				float bv = tb ? b[(long)j * ldb + p] : b[(long)p * ldb + j];
				s += (double)av * bv;
			}
			float *cv = &c[(long)i * ldc + j];
			/* beta 0 overwrites, so C may hold garbage (as in BLAS) */
			*cv = (float)(alpha * s + (beta == 0 ? 0 : (double)beta * *cv));
		}
}
