#!/bin/sh
# The findings table: every preset of the study trained with one budget
# (same images, epochs, batch and seed), measured on held-out images, then
# denoisers at three noise levels, then the study's six findings marked
# held or not held by rules computed from the numbers.
#
# Usage: examples/study.sh [CIFAR10-DIR-OR-TARBALL]   (or $CIFAR10)
#        examples/study.sh TRAIN.ts TEST.ts           (any 3x32x32 streams)
# From CIFAR-10 the training images are the first $STUDY_TRAIN of
# data_batch_1..4 and the held-out images the first $STUDY_TEST of
# data_batch_5, which no model sees in training.
#
# Environment, with defaults (some 25 minutes on two cores):
#   STUDY_TRAIN=20000      training images (CIFAR-10 only)
#   STUDY_TEST=10000       held-out images (CIFAR-10 only)
#   STUDY_EPOCHS=2         epochs, every model
#   STUDY_BATCH=100        images per step
#   STUDY_SEED=1           seed of every run: weights, order, training noise
#   STUDY_THREADS=2        threads of every run
#   STUDY_MODELS="dense1 dense3 conv-dense conv-dense-bn shallow-pool
#                 shallow-strided seed-best deep-strided shrink4"
#                          plain autoencoders (target: the input itself)
#   STUDY_DENOISERS="seed-best dn-unet"
#   STUDY_SIGMAS="0.1 0.3 1.0"
#                          each denoiser is trained at each sigma (fresh
#                          noise every epoch) and applied to the held-out
#                          images with noise of that sigma (seed 7)
#   OUT=study              working directory: streams, models, logs
# Prints the Markdown table and findings, also written to $OUT/study.md.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
PATH="$top/bin:$PATH"
out=${OUT:-study}
ntrain=${STUDY_TRAIN:-20000}
ntest=${STUDY_TEST:-10000}
epochs=${STUDY_EPOCHS:-2}
batch=${STUDY_BATCH:-100}
seed=${STUDY_SEED:-1}
threads=${STUDY_THREADS:-2}
models=${STUDY_MODELS:-dense1 dense3 conv-dense conv-dense-bn shallow-pool shallow-strided seed-best deep-strided shrink4}
denoisers=${STUDY_DENOISERS:-seed-best dn-unet}
sigmas=${STUDY_SIGMAS:-0.1 0.3 1.0}
mkdir -p "$out"

say() { echo "study: $*" >&2; }

if [ $# -eq 2 ]; then
	cp "$1" "$out/train.ts"
	cp "$2" "$out/test.ts"
	source="training stream $1, held-out stream $2"
else
	data=$(sh "$top/examples/get-cifar10.sh" "${1:-}")
	say "extracting $ntrain training and $ntest held-out images from $data"
	cifar-extract -q --split train --count "$ntrain" "$data" > "$out/train.ts"
	cifar-extract -q --split train --skip 40000 --count "$ntest" "$data" > "$out/test.ts"
	source="CIFAR-10: $ntrain images of data_batch_1..4, $ntest held out from data_batch_5"
fi

# train NAME ARCH [ae-train options]: trains $out/NAME.model, logging to
# $out/NAME.tsv; prints "seconds images/s" of the training (no validation
# runs, so the log's seconds are training only).
train() {
	name=$1 arch=$2
	shift 2
	say "training $name"
	ae-train -q --arch "$arch" --epochs "$epochs" --batch "$batch" --seed "$seed" \
		--threads "$threads" --no-state --log "$out/$name.tsv" "$@" \
		-o "$out/$name.model" "$out/train.ts"
	awk -F'\t' 'NR > 1 { s += $5; n += $5 * $6 } END { printf "%.1f %.0f\n", s, n / s }' \
		"$out/$name.tsv"
}

# params ARCH: parameter count, with thousands separators
params() { ae-train --print-arch --arch "$1" | awk '/^total:/ { print $2 }'; }

# quality REF CANDIDATE: "mse psnr ssim" over all images
quality() {
	img-compare --format tsv --no-classes "$1" "$2" |
		awk -F'\t' '$1 == "all" { printf "%.6f %.2f %.4f\n", $3, $4, $6 }'
}

load() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown; }
load0=$(load)
start=$(date -u '+%Y-%m-%d %H:%M UTC')

# results: one line per run, for the findings
: > "$out/results.tsv"
{
	echo "| model | parameters | epochs | training time | images/s | MSE | PSNR (dB) | SSIM |"
	echo "|---|--:|--:|--:|--:|--:|--:|--:|"
} > "$out/plain.md"
for m in $models; do
	r=$(train "$m" "$m") || exit 1
	set -- $r
	secs=$1 ips=$2
	ae-apply -q --threads "$threads" -m "$out/$m.model" "$out/test.ts" > "$out/$m.out.ts"
	r=$(quality "$out/test.ts" "$out/$m.out.ts") || exit 1
	set -- $r
	# the last epoch's training loss, computed with batch statistics
	tl=$(awk -F'\t' 'NR > 1 { l = $2 } END { print l }' "$out/$m.tsv")
	printf 'plain\t%s\t0\t%s\t%s\t%s\t%s\t%s\t%s\n' "$m" "$ips" "$secs" "$1" "$2" "$3" \
		"$tl" >> "$out/results.tsv"
	printf '| %s | %s | %s | %s s | %s | %s | %s | %s |\n' "$m" "$(params "$m")" \
		"$epochs" "$secs" "$ips" "$1" "$2" "$3" >> "$out/plain.md"
	rm -f "$out/$m.out.ts"
done

{
	echo "| model | sigma | parameters | training time | images/s | noisy PSNR | noisy SSIM | PSNR (dB) | SSIM |"
	echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|"
} > "$out/denoise.md"
for s in $sigmas; do
	noise-add --sigma "$s" --seed 7 "$out/test.ts" > "$out/noisy-$s.ts"
	r=$(quality "$out/test.ts" "$out/noisy-$s.ts") || exit 1
	set -- $r
	npsnr=$2 nssim=$3
	for m in $denoisers; do
		r=$(train "$m-$s" "$m" --noise "$s") || exit 1
		set -- $r
		secs=$1 ips=$2
		ae-apply -q --threads "$threads" -m "$out/$m-$s.model" "$out/noisy-$s.ts" \
			> "$out/$m-$s.out.ts"
		r=$(quality "$out/test.ts" "$out/$m-$s.out.ts") || exit 1
		set -- $r
		printf 'denoise\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$m" "$s" "$ips" "$secs" \
			"$1" "$2" "$3" >> "$out/results.tsv"
		printf '| %s | %s | %s | %s s | %s | %s | %s | %s | %s |\n' "$m" "$s" \
			"$(params "$m")" "$secs" "$ips" "$npsnr" "$nssim" "$2" "$3" \
			>> "$out/denoise.md"
		rm -f "$out/$m-$s.out.ts"
	done
	rm -f "$out/noisy-$s.ts"
done

# The findings, each from the PSNR (and speed) of the plain autoencoders.
findings() {
	awk -F'\t' '
	$1 == "plain" { psnr[$2] = $7; ips[$2] = $4; tloss[$2] = $9; n++; order[n] = $2 }
	function have(list,   k, i, a) {
		k = split(list, a, " ")
		for (i = 1; i <= k; i++)
			if (!(a[i] in psnr)) { missing = a[i]; return 0 }
		return 1
	}
	function verdict(ok) { return ok ? "**held**" : "**not held**" }
	function untested(no, what) {
		printf "%d. %s: not tested (%s was not trained).\n", no, what, missing
	}
	function f(x) { return sprintf("%.2f dB", x) }
	END {
		what = "Fully connected layers hurt"
		if (have("dense1 dense3 conv-dense conv-dense-bn shallow-pool shallow-strided seed-best")) {
			best = ""; worst = ""
			split("dense1 dense3 conv-dense conv-dense-bn", d, " ")
			for (i = 1; i <= 4; i++) if (best == "" || psnr[d[i]] > psnr[best]) best = d[i]
			split("shallow-pool shallow-strided seed-best", c, " ")
			for (i = 1; i <= 3; i++) if (worst == "" || psnr[c[i]] < psnr[worst]) worst = c[i]
			printf "1. %s: %s. The best model with dense layers, %s (%s), is %s the worst shallow convolutional one, %s (%s). Rule: held if every model with dense layers (dense1, dense3, conv-dense, conv-dense-bn) has a lower PSNR than every shallow convolutional one (shallow-pool, shallow-strided, seed-best).\n", what, verdict(psnr[best] < psnr[worst]), best, f(psnr[best]), psnr[best] < psnr[worst] ? "below" : "not below", worst, f(psnr[worst])
		} else untested(1, what)
		what = "Shrinking to 4x4 hurts"
		if (have("shrink4 deep-strided")) {
			printf "2. %s: %s. shrink4 (down to 4x4) %s, deep-strided (the same down to 8x8) %s. Rule: held if shrink4 has the lower PSNR.\n", what, verdict(psnr["shrink4"] < psnr["deep-strided"]), f(psnr["shrink4"]), f(psnr["deep-strided"])
		} else untested(2, what)
		what = "Strided convolution beats max pooling"
		if (have("shallow-strided shallow-pool")) {
			printf "3. %s: %s. shallow-strided %s, shallow-pool %s. Rule: held if shallow-strided has the higher PSNR.\n", what, verdict(psnr["shallow-strided"] > psnr["shallow-pool"]), f(psnr["shallow-strided"]), f(psnr["shallow-pool"])
		} else untested(3, what)
		what = "Batch norm helps a little"
		if (have("seed-best shallow-strided conv-dense-bn conv-dense")) {
			g1 = psnr["seed-best"] - psnr["shallow-strided"]
			g2 = psnr["conv-dense-bn"] - psnr["conv-dense"]
			printf "4. %s: %s. Adding it changes PSNR by %+.2f dB (shallow-strided to seed-best) and %+.2f dB (conv-dense to conv-dense-bn). Rule: held if both changes are gains. (In training mode, with the statistics of each batch, the last epoch'"'"'s training loss goes from %s to %s and from %s to %s; held-out images see the running statistics.)\n", what, verdict(g1 > 0 && g2 > 0), g1, g2, tloss["shallow-strided"], tloss["seed-best"], tloss["conv-dense"], tloss["conv-dense-bn"]
		} else untested(4, what)
		what = "Shallow trains well and fast"
		if (have("shallow-pool shallow-strided seed-best")) {
			top = ""
			for (i = 1; i <= n; i++) if (top == "" || psnr[order[i]] > psnr[top]) top = order[i]
			sh = ""
			split("shallow-pool shallow-strided seed-best", c, " ")
			for (i = 1; i <= 3; i++) if (sh == "" || psnr[c[i]] > psnr[sh]) sh = c[i]
			ok = psnr[sh] >= psnr[top] - 0.5; slower = ""
			for (i = 1; i <= n; i++) {
				m = order[i]
				if (psnr[m] > psnr[sh] && ips[m] > ips[sh]) { ok = 0; slower = slower " " m }
			}
			printf "5. %s: %s. The best shallow model, %s (%s, %d images/s), against the best of all, %s (%s)%s. Rule: held if the best shallow model (shallow-pool, shallow-strided, seed-best) is within 0.5 dB of the best PSNR of all and no model with a higher PSNR trains faster (images/s).\n", what, verdict(ok), sh, f(psnr[sh]), ips[sh], top, f(psnr[top]), slower == "" ? "" : "; faster and better:" slower
		} else untested(5, what)
		what = "Deep convolutional models do worse than shallow ones"
		if (have("deep-strided shallow-strided")) {
			printf "6. %s: %s. deep-strided (down to 8x8) %s, shallow-strided (16x16) %s. Rule: held if deep-strided has the lower PSNR.\n", what, verdict(psnr["deep-strided"] < psnr["shallow-strided"]), f(psnr["deep-strided"]), f(psnr["shallow-strided"])
		} else untested(6, what)
	}' "$out/results.tsv"
}

load1=$(load)
{
	echo "Run $start on $(uname -m), $(nproc 2>/dev/null || echo '?') CPUs; load average (1, 5, 15 min) $load0 at the start, $load1 at the end."
	echo
	echo "## Plain autoencoders"
	echo
	echo "$source; epochs $epochs, batch $batch, seed $seed, threads $threads; MSE, PSNR and SSIM on the held-out images."
	echo
	cat "$out/plain.md"
	echo
	echo "## Denoisers"
	echo
	echo "Trained on noisy inputs (fresh Gaussian noise every epoch, clean targets), same budget; applied to the held-out images with noise of the same sigma (seed 7). Noisy PSNR and SSIM: the noisy input itself."
	echo
	cat "$out/denoise.md"
	echo
	echo "## Findings"
	echo
	findings
} > "$out/study.md"
cat "$out/study.md"
