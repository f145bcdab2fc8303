#!/bin/sh
# One figure of the study: train a model on CIFAR-10, run it over held-out
# images (data_batch_5), write the picture and the figures of merit.
#
# Usage: examples/figure.sh NAME ARCH KIND [CIFAR10-DIR-OR-TARBALL]  (or $CIFAR10)
#   KIND plain        a plain autoencoder; picture: original | reconstruction
#   KIND noisy:SIGMA  a denoiser trained at SIGMA, applied to held-out images
#                     with noise of SIGMA; picture: original | noisy | denoised
#   KIND clean:SIGMA  a denoiser trained at SIGMA, applied to the clean
#                     held-out images; picture: original | output
# The examples/fig-*.sh scripts call it for each figure of the study.
#
# Environment, with defaults: TRAIN=20000 training images (of
# data_batch_1..4), TEST=1000 held-out images, EPOCHS=3, BATCH=100, SEED=1,
# THREADS (all CPUs), OUT=fig (where the files go).
# Writes OUT/NAME.png (the first 32 held-out images), OUT/NAME.tsv
# (img-compare against the originals, per class) and OUT/NAME.model.
set -eu
[ $# -ge 3 ] || { echo "usage: $0 NAME ARCH KIND [DATA]" >&2; exit 2; }
name=$1 arch=$2 kind=$3
top=$(cd "$(dirname "$0")/.." && pwd)
PATH="$top/bin:$PATH"
data=$(sh "$top/examples/get-cifar10.sh" "${4:-}")
out=${OUT:-fig}
ntrain=${TRAIN:-20000}
ntest=${TEST:-1000}
threads=${THREADS:+--threads $THREADS}
mkdir -p "$out"

case $kind in
plain) noise= sigma= ;;
noisy:* | clean:*) sigma=${kind#*:} noise="--noise $sigma" ;;
*) echo "$0: KIND must be plain, noisy:SIGMA or clean:SIGMA" >&2; exit 2 ;;
esac

echo "== $ntrain training images, $ntest held-out images (data_batch_5)"
[ -s "$out/train-$ntrain.ts" ] ||
	cifar-extract -q --split train --count "$ntrain" "$data" > "$out/train-$ntrain.ts"
cifar-extract -q --split train --skip 40000 --count "$ntest" "$data" > "$out/test.ts"

echo "== train $arch${sigma:+ as a sigma $sigma denoiser}"
ae-train -q --arch "$arch" $noise --epochs "${EPOCHS:-3}" --batch "${BATCH:-100}" \
	--seed "${SEED:-1}" $threads --no-state -o "$out/$name.model" "$out/train-$ntrain.ts"

echo "== apply it to the held-out images"
case $kind in
noisy:*)
	noise-add --sigma "$sigma" --seed 7 "$out/test.ts" > "$out/$name.in.ts"
	panels="$out/test.ts $out/$name.in.ts" ;;
*)
	cp "$out/test.ts" "$out/$name.in.ts"
	panels="$out/test.ts" ;;
esac
ae-apply -q $threads -m "$out/$name.model" "$out/$name.in.ts" > "$out/$name.out.ts"

echo "== picture and figures of merit"
img-grid --count 32 --cols 8 --scale 2 $panels "$out/$name.out.ts" -o "$out/$name.png"
img-compare --format tsv "$out/test.ts" "$out/$name.out.ts" > "$out/$name.tsv"
if [ "${kind%%:*}" = noisy ]; then
	printf 'noisy input: '
	img-compare --format tsv --no-classes "$out/test.ts" "$out/$name.in.ts" |
		awk -F'\t' '$1 == "all" { printf "MSE %.5f  PSNR %.2f dB  SSIM %.4f\n", $3, $4, $6 }'
fi
printf '%-12s ' "$name:"
awk -F'\t' '$1 == "all" { printf "MSE %.5f  PSNR %.2f dB  SSIM %.4f\n", $3, $4, $6 }' \
	"$out/$name.tsv"
rm -f "$out/$name.in.ts" "$out/$name.out.ts"
echo "wrote $out/$name.png and $out/$name.tsv"
