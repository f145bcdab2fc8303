/* metrics.h - image quality: MSE, PSNR and SSIM */
#ifndef CAE_METRICS_H
#define CAE_METRICS_H

#include <stdint.h>

/* Sum of squared differences over n samples (double accumulation). */
double metric_sse(const float *a, const float *b, uint64_t n);

/* PSNR in dB for data range 1: 10*log10(1/mse); +inf when mse is 0. */
double metric_psnr(double mse);

/* Mean SSIM of one image (c,h,w planar), Wang et al. 2004 as computed by
 * scikit-image's structural_similarity(gaussian_weights=True, sigma=1.5,
 * use_sample_covariance=False, data_range=1): an 11x11 Gaussian window
 * (sigma 1.5, truncated at 3.5 sigma), K1 0.01, K2 0.03, the SSIM map
 * averaged over the pixels whose window lies inside the image, per channel,
 * then the channels averaged. Returns NaN if h or w is below 11.
 * SCRATCH holds 5*h*w doubles. */
double metric_ssim(const float *ref, const float *img, int c, int h, int w, double *scratch);

#endif
