#!/bin/sh
# bench/run.sh - speed and memory of the toolkit against OpenBLAS's sgemm
# peak and against PyTorch (bench/torch_ref.py), on this machine.
# Usage: sh bench/run.sh      (or: make bench). Takes a few minutes.
# REPS=N (default 2): runs per speed figure, of which the best is kept.
# Everything it makes goes to bench/out/; the summary is a Markdown table.
# Data: the first 10,000 images of $CIFAR10 (default data/cifar-10-batches-bin),
# or, without it, 10,000 random 3x32x32 images (the speed is the same).
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
make >/dev/null || { echo "run.sh: make failed" >&2; exit 1; }
PATH="$top/bin:$PATH"
PY=/usr/bin/python3
out=bench/out
cifar=${CIFAR10:-$top/data/cifar-10-batches-bin}
N=10000
REPS=${REPS:-2}
case $REPS in ''|*[!0-9]*|0) echo "run.sh: REPS must be a positive number" >&2; exit 2 ;; esac
mkdir -p "$out" || exit 1
rm -f "$out"/*.txt "$out"/*.tsv
# FLOPs per image of seed-best's convolutions at 3x32x32, 2*OC*IC*k*k*OH*OW:
# conv3->32 1.77M, conv32s2 4.72M, conv32 (16x16) 4.72M, conv32 (32x32)
# 18.87M, conv32->3 k1 0.20M: forward 30.28M. A training step adds the
# weight gradient (= forward) and the input gradient (= forward but for the
# first conv): 89.06M.
FWD=30277632
TRAIN=89063424

# note KEY VALUE: remember a figure for the table (empty value = not measured)
note() { echo "$2" > "$out/$1.txt"; }
get() { cat "$out/$1.txt" 2>/dev/null; }

# timed FILE command...: runs the command, "seconds maxrss_kB" into FILE
if [ -x /usr/bin/time ]; then
	timed() { _f=$1; shift; /usr/bin/time -f '%e %M' -o "$_f" "$@"; }
else
	timed() {
		_f=$1; shift; _t0=$(date +%s.%N); "$@"; _rc=$?
		echo "$(date +%s.%N) $_t0" | awk '{ printf "%.2f -\n", $1 - $2 }' > "$_f"
		return $_rc
	}
fi
secs() { awk '{ print $1 }' "$1"; }
rss_mb() { awk '$2 != "-" { printf "%.1f", $2 / 1024 }' "$1"; }
# best X...: the largest of the numbers given
best() { printf '%s\n' "$@" | awk 'NF && (m == "" || $1 + 0 > m + 0) { m = $1 } END { print m }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b > 0) printf "%.1f", a / b }'; }

echo "# cae benchmark"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- CPU: $(awk -F ': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) cores online"
echo "- kernel: $(uname -sr); compiler: $(cc --version | head -n 1)"
# other work on the machine skews every figure: say how busy it was
echo "- load average at start: $(cut -d ' ' -f 1-3 /proc/loadavg)$(awk '$1 > 0.5 {
	printf " (busy: the figures will be low and noisy)" }' /proc/loadavg)"

# (a) OpenBLAS sgemm peak
bl="$(pkg-config --cflags openblas) -o $out/sgemm_peak bench/sgemm_peak.c $(pkg-config --libs openblas)"
# shellcheck disable=SC2086
cc -std=c11 -O2 -march=native $bl || { echo "run.sh: cannot build sgemm_peak" >&2; exit 1; }
echo "- BLAS: $("$out/sgemm_peak" config)"
for t in 1 2; do
	note sq$t "$("$out/sgemm_peak" 2048 2048 2048 $t | awk '{ print $4 }')"
	# the forward GEMM of the 32x32 conv32 layer at batch 100:
	# weights (32, 32*3*3) times im2col columns (288, 100*32*32)
	note thin$t "$("$out/sgemm_peak" 32 102400 288 $t | awk '{ print $4 }')"
done

# data
if [ -f "$cifar/data_batch_1.bin" ] && [ -x bin/cifar-extract ]; then
	data="the first $N CIFAR-10 training images"
	cifar-extract --count $N "$cifar/data_batch_1.bin" "$cifar/data_batch_2.bin" > "$out/train.ts" &&
	cifar-extract --count 1000 "$cifar/data_batch_1.bin" > "$out/apply1k.ts" &&
	cifar-extract --count 1000 "$cifar/data_batch_5.bin" > "$out/val.ts" || exit 1
else
	data="$N random 3x32x32 images (no CIFAR-10 data or no cifar-extract)"
	# a u8 3x32x32 stream header for COUNT records, then random samples
	synth() {
		printf '\211TNS\r\n\032\n\001\000\100\000\001\000\000\000'
		printf '\003\000\000\000\040\000\000\000\040\000\000\000\000\000\000\000'
		# u64 count, little-endian, as octal escapes (POSIX printf has no \x)
		printf "$(awk -v n="$1" 'BEGIN { for (i = 0; i < 8; i++) {
			printf "\\%03o", n % 256; n = int(n / 256) } }')"
		head -c 24 /dev/zero
		head -c $(($1 * 3072)) /dev/urandom
	}
	synth $N > "$out/train.ts" && synth 1000 > "$out/apply1k.ts" &&
	synth 1000 > "$out/val.ts" || exit 1
fi
echo "- data: $data, in memory for PyTorch, streamed from disk for ours"

# (b) ours; every speed is the best of $REPS runs, as other load only slows
if [ -x bin/ae-train ] && [ -x bin/ae-apply ]; then
	for t in 1 2; do
		v="" m=""
		for _ in $(seq "$REPS"); do
			timed "$out/train$t.time" ae-train -q --arch seed-best --epochs 1 \
				--batch 100 --threads $t --seed 1 --log "$out/train$t.tsv" \
				-o "$out/seed-best.model" "$out/train.ts" || exit 1
			v="$v $(awk -F '\t' '$1 ~ /^[0-9]+$/ { v = $6 } END { print v }' "$out/train$t.tsv")"
			m="$m $(rss_mb "$out/train$t.time")"
		done
		note ours_train$t "$(best $v)"
		note ours_train_rss$t "$(best $m)"
	done
	for t in 1 2; do
		v=""
		for _ in $(seq "$REPS"); do
			timed "$out/apply$t.time" ae-apply -m "$out/seed-best.model" --threads $t \
				--batch 100 "$out/train.ts" > /dev/null || exit 1
			v="$v $(div $N "$(secs "$out/apply$t.time")")"
		done
		note ours_apply$t "$(best $v)"
	done
	note ours_apply_rss10k "$(rss_mb "$out/apply1.time")"
	timed "$out/apply1k.time" ae-apply -m "$out/seed-best.model" --threads 1 \
		--batch 100 "$out/apply1k.ts" > /dev/null || exit 1
	note ours_apply_rss1k "$(rss_mb "$out/apply1k.time")"
	# the whole stream: extract, add noise and denoise in one pipeline;
	# "cores busy" is the CPU time of all three over the wall time
	if [ -f "$cifar/data_batch_1.bin" ] && [ -x /usr/bin/time ]; then
		v="" c=""
		for _ in $(seq "$REPS"); do
			/usr/bin/time -f '%e %U %S' -o "$out/stream.time" sh -c 'cifar-extract \
				--count '$N' "$1/data_batch_1.bin" "$1/data_batch_2.bin" |
				noise-add --sigma 0.3 --seed 1 | ae-apply -m "$2" > /dev/null' sh \
				"$cifar" "$out/seed-best.model" || exit 1
			v="$v $(div $N "$(secs "$out/stream.time")")"
			c="$c $(awk '{ if ($1 > 0) printf "%.2f", ($2 + $3) / $1 }' "$out/stream.time")"
		done
		note stream "$(best $v)"
		note stream_busy "$(best $c)"
	fi
else
	echo "- ours: bin/ae-train or bin/ae-apply not built, skipped"
fi
if [ -f "$cifar/data_batch_1.bin" ] && [ -x bin/cifar-extract ] && [ -x bin/noise-add ]; then
	mb=$(cat "$cifar"/data_batch_[1-5].bin | wc -c)
	v=""
	for _ in $(seq "$REPS"); do
		timed "$out/pipe.time" sh -c 'cifar-extract "$1"/data_batch_[1-5].bin |
			noise-add --sigma 0.1 --seed 1 > /dev/null' sh "$cifar" || exit 1
		# f32 output: 4 bytes for each of a record's 3072 samples (3073 bytes in)
		v="$v $(div "$(div "$mb" 250000)" "$(secs "$out/pipe.time")" | awk '{ printf "%.0f", $1 * 3072 / 3073 }')"
	done
	note pipe "$(best $v)"
else
	echo "- cifar-extract | noise-add: needs CIFAR-10 data and both programs, skipped"
fi

# (c) PyTorch
if [ -x $PY ] && $PY -c 'import numpy, torch' 2>/dev/null; then
	echo "- PyTorch: $($PY -c 'import torch; print(torch.__version__)')"
	for t in 1 2; do
		v="" e=""
		for _ in $(seq "$REPS"); do
			$PY bench/torch_ref.py train --train "$out/train.ts" --val "$out/val.ts" \
				--epochs 1 --batch 100 --threads $t --seed 1 > "$out/torch_train$t.log" || exit 1
			v="$v $(sed -n 's/^RESULT train_ips=\([^ ]*\).*/\1/p' "$out/torch_train$t.log")"
			$PY bench/torch_ref.py eval --input "$out/train.ts" --batch 100 \
				--threads $t > "$out/torch_eval$t.log" || exit 1
			e="$e $(sed -n 's/^RESULT eval_ips=\([^ ]*\).*/\1/p' "$out/torch_eval$t.log")"
		done
		note torch_train$t "$(best $v)"
		note torch_apply$t "$(best $e)"
	done
else
	echo "- PyTorch: $PY cannot import torch (Debian: python3-torch), skipped"
fi

# (d) table
# row WHAT OURS TORCH [FLOPS_PER_IMAGE PEAK_KEY]
row() {
	awk -v w="$1" -v a="$2" -v b="$3" -v f="$4" -v p="$5" 'BEGIN {
		r = (a != "" && b != "" && b > 0) ? sprintf("%.2f", a / b) : ""
		ga = gb = pa = pb = ""
		if (f != "") {
			if (a != "") ga = sprintf("%.1f", a * f / 1e9)
			if (b != "") gb = sprintf("%.1f", b * f / 1e9)
			if (ga != "" && p > 0) pa = sprintf("%.0f%%", 100 * ga / p)
			if (gb != "" && p > 0) pb = sprintf("%.0f%%", 100 * gb / p)
		}
		printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", w, a, b, r, ga, gb, pa, pb
	}'
}
echo
echo "Images/s exclude nothing for ours (whole process: reading the stream,"
echo "converting, and for ae-apply writing the output); PyTorch's exclude"
echo "reading and u8->float conversion (done once, up front). Train: 1 epoch of"
echo "$N images, batch 100, seed-best; % of peak: of the 2048^3 sgemm at the"
echo "same thread count."
echo
echo "| what | ours | PyTorch | ours/PyTorch | GFLOP/s ours | GFLOP/s PyTorch | % peak ours | % peak PyTorch |"
echo "|---|---|---|---|---|---|---|---|"
for t in 1 2; do
	row "sgemm 2048^3, $t thr (GFLOP/s)" "$(get sq$t)" ""
	row "sgemm 32x288 x 288x102400, $t thr (GFLOP/s)" "$(get thin$t)" ""
done
for t in 1 2; do
	row "train images/s, $t thr" "$(get ours_train$t)" "$(get torch_train$t)" $TRAIN "$(get sq$t)"
done
for t in 1 2; do
	row "apply images/s, $t thr" "$(get ours_apply$t)" "$(get torch_apply$t)" $FWD "$(get sq$t)"
done
row "ae-train peak RSS MB, 1 thr" "$(get ours_train_rss1)" ""
row "ae-train peak RSS MB, 2 thr" "$(get ours_train_rss2)" ""
row "ae-apply peak RSS MB, 1,000 images" "$(get ours_apply_rss1k)" ""
row "ae-apply peak RSS MB, $N images" "$(get ours_apply_rss10k)" ""
row "cifar-extract \\| noise-add, MB/s of f32 output" "$(get pipe)" ""
row "cifar-extract \\| noise-add \\| ae-apply, images/s" "$(get stream)" ""
row "... CPUs busy (CPU time / wall time)" "$(get stream_busy)" ""
row "training speed-up, 1 to 2 threads" "$(awk -v a="$(get ours_train2)" -v b="$(get ours_train1)" \
	'BEGIN { if (a != "" && b > 0) printf "%.2f", a / b }')" ""
echo
echo "Load average at end: $(cut -d ' ' -f 1-3 /proc/loadavg)"
