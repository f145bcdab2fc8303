#!/bin/sh
# The whole story in one minute or two: extract CIFAR-10, train a denoising
# autoencoder briefly, apply it to noisy held-out images, write the
# clean | noisy | denoised grid and print PSNR and SSIM before and after.
# Usage: examples/demo.sh [CIFAR10-DIR-OR-TARBALL]   (or $CIFAR10)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
PATH="$top/bin:$PATH"
data=$(sh "$top/examples/get-cifar10.sh" "${1:-}")
out=${DEMO_OUT:-demo}
sigma=${SIGMA:-0.3}
mkdir -p "$out"

echo "== 1. 10,000 training images, 1,000 validation images (data_batch_5)"
cifar-extract --split train --count 10000 "$data" > "$out/train.ts"
cifar-extract --split train --skip 40000 --count 1000 "$data" > "$out/val.ts"

echo "== 2. train the study's best model (seed-best) as a sigma $sigma denoiser, 3 epochs"
ae-train --arch seed-best --noise "$sigma" --epochs 3 --batch 100 --seed 1 \
	--val "$out/val.ts" --log "$out/train.log" -o "$out/denoise.model" "$out/train.ts"

echo "== 3. add noise to the validation images and denoise them"
noise-add --sigma "$sigma" --seed 7 "$out/val.ts" > "$out/noisy.ts"
ae-apply -m "$out/denoise.model" "$out/noisy.ts" > "$out/denoised.ts"

echo "== 4. clean | noisy | denoised"
img-grid --count 32 --cols 8 --scale 2 "$out/val.ts" "$out/noisy.ts" "$out/denoised.ts" \
	-o "$out/noisy-denoised.png"
echo "wrote $out/noisy-denoised.png"

echo "== 5. quality on the 1,000 validation images"
printf 'noisy input:  '
img-compare --format tsv "$out/val.ts" "$out/noisy.ts" | awk -F'\t' 'NR==2 {printf "PSNR %.2f dB  SSIM %.4f\n", $4, $6}'
printf 'denoised:     '
img-compare --format tsv "$out/val.ts" "$out/denoised.ts" | awk -F'\t' 'NR==2 {printf "PSNR %.2f dB  SSIM %.4f\n", $4, $6}'
