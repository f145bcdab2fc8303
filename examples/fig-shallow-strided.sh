#!/bin/sh
# Figure: shallow convolutional, stride-2 convolution (original | reconstruction).
# Usage: examples/fig-shallow-strided.sh [CIFAR10-DIR-OR-TARBALL]   (or $CIFAR10; see figure.sh)
exec sh "$(dirname "$0")/figure.sh" shallow-strided shallow-strided plain "$@"
