#!/bin/sh
# Figure: the study's best: strided with batch norm (original | reconstruction).
# Usage: examples/fig-seed-best.sh [CIFAR10-DIR-OR-TARBALL]   (or $CIFAR10; see figure.sh)
exec sh "$(dirname "$0")/figure.sh" seed-best seed-best plain "$@"
