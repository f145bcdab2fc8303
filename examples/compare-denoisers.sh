#!/bin/sh
# Denoisers side by side, trained the same way as the study's: the first
# 40,000 CIFAR-10 training images (data_batch_1..4), Gaussian noise of
# sigma $SIGMA drawn afresh every epoch, clean targets, 3 epochs of batches
# of 100, the same seed; then applied to the 10,000 images of data_batch_5
# with the same noise (seed 7) and compared with the clean images.
#
# Usage: examples/compare-denoisers.sh [CIFAR10-DIR-OR-TARBALL]   (or $CIFAR10)
# Environment, with defaults: MODELS="seed-best dn-fast dn-wide" (presets or
# specs), SIGMA=0.3, EPOCHS=3, BATCH=100, SEED=1, THREADS=2, TRAIN=40000,
# TEST=10000, OUT=compare.
# Prints a Markdown table (training time, with the load average of the
# machine before and after, PSNR and SSIM) and writes OUT/denoisers.png:
# original | noisy | each model's output, for the first 32 test images.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
PATH="$top/bin:$PATH"
data=${1:-${CIFAR10:-}}
[ -n "$data" ] || data=$(sh "$top/examples/get-cifar10.sh")
case $data in /*) ;; *) [ -e "$data" ] || data="$top/$data" ;; esac
models=${MODELS:-seed-best dn-fast dn-wide}
sigma=${SIGMA:-0.3}
threads=${THREADS:-2}
out=${OUT:-compare}
mkdir -p "$out"

load() { cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?'; }
# quality REF CANDIDATE: "psnr ssim" over all images
quality() {
	img-compare --format tsv --no-classes "$1" "$2" |
		awk -F'\t' '$1 == "all" { printf "%.2f %.4f\n", $4, $6 }'
}

echo "== ${TRAIN:-40000} training images, ${TEST:-10000} held-out images with noise of sigma $sigma" >&2
cifar-extract -q --split train --count "${TRAIN:-40000}" "$data" > "$out/train.ts"
cifar-extract -q --split train --skip 40000 --count "${TEST:-10000}" "$data" > "$out/test.ts"
noise-add --sigma "$sigma" --seed 7 "$out/test.ts" > "$out/noisy.ts"
r=$(quality "$out/test.ts" "$out/noisy.ts")
set -- $r
rows="| noisy input | | | | | $1 | $2 |"
panels="$out/test.ts $out/noisy.ts"

i=0
for m in $models; do
	i=$((i + 1))
	echo "== train $m" >&2
	before=$(load)
	ae-train -q --arch "$m" --noise "$sigma" --epochs "${EPOCHS:-3}" --batch "${BATCH:-100}" \
		--seed "${SEED:-1}" --threads "$threads" --no-state --log "$out/$i.tsv" \
		-o "$out/$i.model" "$out/train.ts"
	after=$(load)
	r=$(awk -F'\t' 'NR > 1 { s += $5; n += $5 * $6 } END { printf "%.1f %.0f\n", s, n / s }' \
		"$out/$i.tsv")
	set -- $r
	secs=$1 ips=$2
	np=$(ae-train --print-arch --arch "$m" | awk '/^total:/ { print $2 }')
	ae-apply -q --threads "$threads" -m "$out/$i.model" "$out/noisy.ts" > "$out/$i.out.ts"
	r=$(quality "$out/test.ts" "$out/$i.out.ts")
	set -- $r
	rows="$rows
| $m | $np | $secs s | $ips | $before / $after | $1 | $2 |"
	panels="$panels $out/$i.out.ts"
done
img-grid --count 32 --cols 4 --scale 2 $panels -o "$out/denoisers.png"
echo "| model | parameters | training time | images/s | load before / after | PSNR (dB) | SSIM |"
echo "|---|--:|--:|--:|--:|--:|--:|"
echo "$rows"
echo "wrote $out/denoisers.png (original | noisy | $models)" >&2
