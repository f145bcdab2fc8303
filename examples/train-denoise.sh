#!/bin/sh
# Trains a denoising autoencoder: Gaussian noise of sigma $SIGMA (default
# 0.1) is added afresh to every training image in every epoch and the clean
# image is the target. Checkpoints every 100 steps; an interrupted run
# (Ctrl-C) continues where it stopped with the command printed at the end.
# Usage: examples/train-denoise.sh [CIFAR10-DIR-OR-TARBALL]   (or $CIFAR10)
# Writes train.ts, denoise.model and denoise.tsv in the current directory
# ($OUT).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
PATH="$top/bin:$PATH"
data=$(sh "$top/examples/get-cifar10.sh" "${1:-}")
out=${OUT:-.}
sigma=${SIGMA:-0.1}
epochs=${EPOCHS:-2}

echo "== 20,000 training images, kept in a file so that a run can be resumed"
cifar-extract --count 20000 "$data" > "$out/train.ts"

echo "== train seed-best as a sigma $sigma denoiser for $epochs epochs"
echo "   (the last 10% validate; the noisy inputs' PSNR is the figure to beat)"
ae-train --noise "$sigma" --epochs "$epochs" --batch 64 --val-split 0.1 \
	--checkpoint-every 100 --log "$out/denoise.tsv" -o "$out/denoise.model" "$out/train.ts"

echo "wrote $out/denoise.model; to train it further:"
echo "  ae-train --resume $out/denoise.model --epochs $((epochs + 2)) $out/train.ts"
