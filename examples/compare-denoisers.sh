#!/bin/sh
# Denoisers side by side, each trained on the first 40,000 CIFAR-10
# training images (data_batch_1..4) with Gaussian noise of sigma $SIGMA
# drawn afresh every epoch and clean targets, batches of 100, seed 1; then
# applied to the 10,000 images of data_batch_5 with the same noise (seed 7)
# and compared with the clean images.
#
# Usage: examples/compare-denoisers.sh [CIFAR10-DIR-OR-TARBALL]   (or $CIFAR10)
# Environment, with defaults:
#   RUNS        one run per line: "LABEL ARCH [ae-train options]"; default
#               the study's best as the study trained it (Adam 0.001, 3
#               epochs) and dn-unet with a cosine-decayed rate for 3 and
#               for 5 epochs
#   ENSEMBLE=8  also apply each model with --ensemble 8 (0: do not)
#   SIGMA=0.3 EPOCHS=3 BATCH=100 SEED=1 THREADS=2 TRAIN=40000 TEST=10000
#   OUT=compare working directory
# Prints a Markdown table (training time with the process's CPU time and
# the load average before and after, PSNR and SSIM) and writes
# OUT/denoisers.png: original | noisy | each run's output, first 32 images.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
PATH="$top/bin:$PATH"
data=$(sh "$top/examples/get-cifar10.sh" "${1:-}")
runs=${RUNS:-"seed-best seed-best
dn-unet dn-unet --lr 0.002 --lr-decay cosine
dn-unet-5 dn-unet --lr 0.002 --lr-decay cosine --epochs 5"}
sigma=${SIGMA:-0.3}
threads=${THREADS:-2}
ensemble=${ENSEMBLE:-8}
out=${OUT:-compare}
mkdir -p "$out"
rm -f "$out/rows" "$out/panels"

load() { cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?'; }
# quality REF CANDIDATE: "psnr ssim" over all images
quality() {
	img-compare --format tsv --no-classes "$1" "$2" |
		awk -F'\t' '$1 == "all" { printf "%.2f %.4f\n", $4, $6 }'
}
# cpu CMD...: runs CMD, printing its user+sys CPU seconds to fd 3
cpu() {
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f '%U %S' -o "$out/cpu" "$@" && awk '{ print $1 + $2 }' "$out/cpu" >&3
	else
		"$@" && echo '?' >&3
	fi
}

echo "== ${TRAIN:-40000} training images, ${TEST:-10000} held-out images with noise of sigma $sigma" >&2
cifar-extract -q --split train --count "${TRAIN:-40000}" "$data" > "$out/train.ts"
cifar-extract -q --split train --skip 40000 --count "${TEST:-10000}" "$data" > "$out/test.ts"
noise-add --sigma "$sigma" --seed 7 "$out/test.ts" > "$out/noisy.ts"
r=$(quality "$out/test.ts" "$out/noisy.ts")
set -- $r
rows="| noisy input | | | | | | | $1 | $2 |"
panels="$out/test.ts $out/noisy.ts"
labels=""

i=0
echo "$runs" | while read -r label arch opts; do
	[ -n "$label" ] || continue
	i=$((i + 1))
	echo "== train $label: $arch $opts" >&2
	before=$(load)
	# shellcheck disable=SC2086 # opts are words
	cpus=$(cpu ae-train -q --arch "$arch" --noise "$sigma" --epochs "${EPOCHS:-3}" \
		--batch "${BATCH:-100}" --seed "${SEED:-1}" --threads "$threads" --no-state \
		--log "$out/$i.tsv" $opts -o "$out/$i.model" "$out/train.ts" 3>&1 >&2)
	after=$(load)
	r=$(awk -F'\t' 'NR > 1 { e++; s += $5; n += $5 * $6 } END { printf "%d %.1f %.0f\n", e, s, n / s }' \
		"$out/$i.tsv")
	set -- $r
	ep=$1 secs=$2 ips=$3
	np=$(ae-train --print-arch --arch "$arch" | awk '/^total:/ { print $2 }')
	ae-apply -q --threads "$threads" -m "$out/$i.model" "$out/noisy.ts" > "$out/$i.out.ts"
	r=$(quality "$out/test.ts" "$out/$i.out.ts")
	set -- $r
	echo "| $label | $np | $ep | $secs s | $cpus s | $ips | $before / $after | $1 | $2 |" >> "$out/rows"
	if [ "$ensemble" -gt 1 ]; then
		ae-apply -q --ensemble "$ensemble" --threads "$threads" -m "$out/$i.model" \
			"$out/noisy.ts" > "$out/$i.ens.ts"
		r=$(quality "$out/test.ts" "$out/$i.ens.ts")
		set -- $r
		echo "| $label, --ensemble $ensemble | | | | | | | $1 | $2 |" >> "$out/rows"
		rm -f "$out/$i.ens.ts"
	fi
	echo "$out/$i.out.ts" >> "$out/panels"
done
img-grid --count 32 --cols 4 --scale 2 $panels $(cat "$out/panels") -o "$out/denoisers.png"
echo "| run | parameters | epochs | training time | CPU time | images/s | load before / after | PSNR (dB) | SSIM |"
echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|"
echo "$rows"
cat "$out/rows"
rm -f "$out/rows" "$out/panels" "$out/cpu"
echo "wrote $out/denoisers.png (original | noisy | $(echo "$runs" | cut -d' ' -f1 | tr '\n' ' '))" >&2
