#!/bin/sh
# Figure: convolutions and dense layers (original | reconstruction).
# Usage: examples/fig-conv-dense.sh [CIFAR10-DIR-OR-TARBALL]   (or $CIFAR10; see figure.sh)
exec sh "$(dirname "$0")/figure.sh" conv-dense conv-dense plain "$@"
