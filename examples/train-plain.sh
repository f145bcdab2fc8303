#!/bin/sh
# Trains a plain autoencoder (the target is the input itself) on 10,000
# CIFAR-10 training images for 2 epochs, holding out the last tenth to
# validate on, then shows the per-epoch figures.
# Usage: examples/train-plain.sh [CIFAR10-DIR-OR-TARBALL]   (or $CIFAR10)
# Writes plain.model and plain.tsv in the current directory ($OUT).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
PATH="$top/bin:$PATH"
data=$(sh "$top/examples/get-cifar10.sh" "${1:-}")
out=${OUT:-.}

echo "== the network: the seed-best preset on 3x32x32 images"
ae-train --print-arch --arch seed-best

echo "== train it for 2 epochs on 9,000 images, validating on 1,000"
cifar-extract --count 10000 "$data" |
	ae-train --arch seed-best --epochs 2 --val-split 0.1 \
		--log "$out/plain.tsv" -o "$out/plain.model"

echo "== per-epoch figures ($out/plain.tsv)"
column -t "$out/plain.tsv" 2>/dev/null || cat "$out/plain.tsv"
echo "wrote $out/plain.model"
