#!/bin/sh
# Figure: the sigma 0.3 denoiser applied to clean images (original | output).
# Usage: examples/fig-denoise-clean.sh [CIFAR10-DIR-OR-TARBALL]   (or $CIFAR10; see figure.sh)
exec sh "$(dirname "$0")/figure.sh" denoise-clean seed-best clean:0.3 "$@"
