# ae-train reaches the validation PSNR of the PyTorch reference
# (bench/torch_ref.py: same seed-best network, Glorot init, Adam, MSE) on
# real CIFAR-10. To keep the run to a few minutes both train 2 epochs with
# batch 100 on the first 10,000 training images (--count 10000 of
# data_batch_1..4, i.e. all of data_batch_1) and validate on
# the first 2,000 of data_batch_5. Validation runs in inference mode (BN
# running statistics, which after 200 steps at Keras momentum 0.99 are
# still far from the data's): both land near 15-16 dB, and over seeds
# PyTorch varies by a few tenths of a dB. PyTorch runs on one thread: its
# OpenMP threads spin, and on a busy machine two of them run 5-10x slower.
. "$TOP/tests/lib.sh"
PY=/usr/bin/python3
MARGIN=1.0	# dB, |ours - PyTorch|
[ -n "${CAE_SANITIZED:-}" ] && skip "a timing-heavy comparison; not run under sanitizers"
have_cifar || skip "no CIFAR-10 data in $CIFAR_DIR (examples/get-cifar10.sh)"
[ -x $PY ] && $PY -c 'import numpy, torch' 2>/dev/null ||
	skip "$PY cannot import numpy and torch (Debian: python3-torch)"
for p in ae-train cifar-extract; do
	[ -x "$TOP/bin/$p" ] || skip "bin/$p not built"
done
cd "$TMPD" || exit 1

cifar-extract --count 10000 "$CIFAR_DIR"/data_batch_[1-4].bin > train.ts ||
	fail "cifar-extract (train)"
cifar-extract --count 2000 "$CIFAR_DIR/data_batch_5.bin" > val.ts ||
	fail "cifar-extract (val)"
[ "$nfail" -eq 0 ] || finish

ae-train -q --arch seed-best --epochs 2 --batch 100 --threads 2 --seed 1 \
	--val val.ts --log ours.tsv -o ours.model train.ts 2>err ||
	fail "ae-train: $(cat err)"
$PY "$TOP/bench/torch_ref.py" train --train train.ts --val val.ts --epochs 2 \
	--batch 100 --threads 1 --seed 1 > torch.txt 2>err ||
	fail "torch_ref.py: $(cat err)"
[ "$nfail" -eq 0 ] || finish

ours=$(awk -F '\t' '$1 ~ /^[0-9]+$/ { p = $4 } END { print p }' ours.tsv)
ref=$(sed -n 's/^RESULT .*val_psnr=\([^ ]*\).*/\1/p' torch.txt)
echo "ours:"; cat ours.tsv
echo "PyTorch:"; cat torch.txt
echo "validation PSNR after 2 epochs: ours $ours dB, PyTorch $ref dB (margin $MARGIN dB)"
ncheck=$((ncheck + 1))
awk -v a="$ours" -v b="$ref" -v m="$MARGIN" 'BEGIN {
	d = a - b; if (d < 0) d = -d
	exit !(a != "" && b != "" && d <= m) }' ||
	fail "validation PSNR ours $ours dB vs PyTorch $ref dB: differ by more than $MARGIN dB"
finish
