#!/bin/sh
# Figure: dense autoencoder, one hidden layer of 1024 units (original | reconstruction).
# Usage: examples/fig-dense1.sh [CIFAR10-DIR-OR-TARBALL]   (or $CIFAR10; see figure.sh)
exec sh "$(dirname "$0")/figure.sh" dense1 dense1 plain "$@"
