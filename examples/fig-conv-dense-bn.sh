#!/bin/sh
# Figure: convolutions and dense layers with batch norm (original | reconstruction).
# Usage: examples/fig-conv-dense-bn.sh [CIFAR10-DIR-OR-TARBALL]   (or $CIFAR10; see figure.sh)
exec sh "$(dirname "$0")/figure.sh" conv-dense-bn conv-dense-bn plain "$@"
