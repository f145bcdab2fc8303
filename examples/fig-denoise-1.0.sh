#!/bin/sh
# Figure: seed-best denoising noise of sigma 1.0 (original | noisy | denoised).
# Usage: examples/fig-denoise-1.0.sh [CIFAR10-DIR-OR-TARBALL]   (or $CIFAR10; see figure.sh)
exec sh "$(dirname "$0")/figure.sh" denoise-1.0 seed-best noisy:1.0 "$@"
