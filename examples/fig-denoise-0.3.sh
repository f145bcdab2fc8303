#!/bin/sh
# Figure: seed-best denoising noise of sigma 0.3 (original | noisy | denoised).
# Usage: examples/fig-denoise-0.3.sh [CIFAR10-DIR-OR-TARBALL]   (or $CIFAR10; see figure.sh)
exec sh "$(dirname "$0")/figure.sh" denoise-0.3 seed-best noisy:0.3 "$@"
