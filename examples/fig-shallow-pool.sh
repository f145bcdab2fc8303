#!/bin/sh
# Figure: shallow convolutional, max pooling (original | reconstruction).
# Usage: examples/fig-shallow-pool.sh [CIFAR10-DIR-OR-TARBALL]   (or $CIFAR10; see figure.sh)
exec sh "$(dirname "$0")/figure.sh" shallow-pool shallow-pool plain "$@"
