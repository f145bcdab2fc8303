#!/bin/sh
# Applies a denoising model to noisy CIFAR-10 images it was not trained on
# (the last 1,000 of the training set) and compares noisy and denoised
# images with the clean ones (PSNR, SSIM).
# Usage: examples/apply.sh [CIFAR10-DIR-OR-TARBALL]   (or $CIFAR10)
# The model is $MODEL (default denoise.model, from train-denoise.sh); the
# noise sigma $SIGMA (default 0.1) should be the one it was trained for.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
PATH="$top/bin:$PATH"
data=$(sh "$top/examples/get-cifar10.sh" "${1:-}")
out=${OUT:-.}
model=${MODEL:-$out/denoise.model}
sigma=${SIGMA:-0.1}

echo "== images 49,001 to 50,000, with Gaussian noise of sigma $sigma"
cifar-extract --skip 49000 --count 1000 "$data" > "$out/clean.ts"
noise-add --sigma "$sigma" --seed 7 "$out/clean.ts" > "$out/noisy.ts"

echo "== denoise them with $model (the stream flows through batch by batch)"
ae-apply -m "$model" "$out/noisy.ts" > "$out/denoised.ts"

echo "== noisy input against the clean images"
img-compare --no-classes "$out/clean.ts" "$out/noisy.ts"
echo "== denoised output against the clean images"
img-compare --no-classes "$out/clean.ts" "$out/denoised.ts"
