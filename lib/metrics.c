/* metrics.c - image quality: MSE, PSNR and SSIM */
#include "metrics.h"

#include <math.h>
#include <stddef.h>

#define SSIM_R 5 /* window radius: int(3.5 * 1.5 + 0.5) */

double metric_sse(const float *a, const float *b, uint64_t n)
{
	double s = 0;
	for (uint64_t i = 0; i < n; i++) {
		double d = (double)a[i] - b[i];
		s += d * d;
	}
	return s;
}

double metric_psnr(double mse)
{
	return mse > 0 ? -10.0 * log10(mse) : INFINITY;
}

/* Normalised 1-D Gaussian taps, as scipy.ndimage.gaussian_filter makes them. */
static void gauss_taps(double *g)
{
	double s = 0;
	for (int i = -SSIM_R; i <= SSIM_R; i++)
		s += g[i + SSIM_R] = exp(-0.5 * i * i / (1.5 * 1.5));
	for (int i = 0; i <= 2 * SSIM_R; i++)
		g[i] /= s;
}

/* Filters the five moment planes along rows then columns, for the interior
 * pixels only (the ones the mean is taken over). */
static double ssim_plane(const float *x, const float *y, int h, int w, double *t)
{
	const double C1 = 0.01 * 0.01, C2 = 0.03 * 0.03;
	double g[2 * SSIM_R + 1], sum = 0;
	int ow = w - 2 * SSIM_R;
	double *r[5];

	gauss_taps(g);
	for (int k = 0; k < 5; k++)
		r[k] = t + (size_t)k * h * ow;
	/* horizontal pass: every row, interior columns */
	for (int i = 0; i < h; i++)
		for (int j = 0; j < ow; j++) {
			double m[5] = { 0, 0, 0, 0, 0 };
			for (int d = 0; d <= 2 * SSIM_R; d++) {
				double a = x[(size_t)i * w + j + d], b = y[(size_t)i * w + j + d];
				m[0] += g[d] * a;
				m[1] += g[d] * b;
				m[2] += g[d] * a * a;
				m[3] += g[d] * b * b;
				m[4] += g[d] * a * b;
			}
			for (int k = 0; k < 5; k++)
				r[k][(size_t)i * ow + j] = m[k];
		}
	/* vertical pass at interior rows, then the SSIM map */
	for (int i = SSIM_R; i < h - SSIM_R; i++)
		for (int j = 0; j < ow; j++) {
			double m[5] = { 0, 0, 0, 0, 0 };
			for (int d = 0; d <= 2 * SSIM_R; d++)
				for (int k = 0; k < 5; k++)
					m[k] += g[d] * r[k][(size_t)(i - SSIM_R + d) * ow + j];
			double vx = m[2] - m[0] * m[0], vy = m[3] - m[1] * m[1];
			double vxy = m[4] - m[0] * m[1];
			sum += ((2 * m[0] * m[1] + C1) * (2 * vxy + C2)) /
			       ((m[0] * m[0] + m[1] * m[1] + C1) * (vx + vy + C2));
		}
	return sum / ((double)(h - 2 * SSIM_R) * ow);
}

double metric_ssim(const float *ref, const float *img, int c, int h, int w, double *scratch)
{
	double s = 0;
	if (h < 2 * SSIM_R + 1 || w < 2 * SSIM_R + 1)
		return NAN;
	for (int k = 0; k < c; k++)
		s += ssim_plane(ref + (size_t)k * h * w, img + (size_t)k * h * w, h, w, scratch);
	return s / c;
}
