#!/bin/sh
# Figure: dense autoencoder, 3072-2048-1024 (original | reconstruction).
# Usage: examples/fig-dense3.sh [CIFAR10-DIR-OR-TARBALL]   (or $CIFAR10; see figure.sh)
exec sh "$(dirname "$0")/figure.sh" dense3 dense3 plain "$@"
