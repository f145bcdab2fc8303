# ae-train on small synthetic streams: learning, bit-identical reruns and
# resumes, interrupts, logs, the printed architecture, and every bad input.
. "$TOP/tests/lib.sh"
cd "$TMPD" || exit 1
command -v python3 >/dev/null || skip "python3 not found"

# gen N C H W u8|f32 LABELS SEED: smooth synthetic images as a tensor stream
cat > gen.py <<'PYEOF'
import sys, struct, math
n, c, h, w = map(int, sys.argv[1:5]); dt = sys.argv[5]; lab = int(sys.argv[6])
seed = int(sys.argv[7])
hdr = bytearray(64); hdr[0:8] = b'\x89TNS\r\n\x1a\n'
struct.pack_into('<HHBB', hdr, 8, 1, 64, 1 if dt == 'u8' else 2, lab)
struct.pack_into('<III', hdr, 16, c, h, w); struct.pack_into('<Q', hdr, 32, n)
out = sys.stdout.buffer; out.write(hdr)
for i in range(n):
    k = i * 7919 + seed * 104729
    a, b = 0.3 + (k % 13) / 10.0, 0.2 + (k % 7) / 8.0
    if lab: out.write(struct.pack('<i', i % 10))
    v = [0.5 + 0.4 * math.sin(a * x + b * y + ch * 1.3 + k % 5)
         for ch in range(c) for y in range(h) for x in range(w)]
    if dt == 'u8': out.write(bytes(int(s * 255 + 0.5) for s in v))
    else: out.write(struct.pack('<%df' % len(v), *v))
PYEOF
gen() { python3 gen.py "$@"; }
gen 200 3 8 8 u8 1 1 > d8.ts || exit 1
gen 1000 3 16 16 u8 0 2 > d16.ts || exit 1
gen 200 3 8 8 f32 0 1 > f8.ts || exit 1
gen 50 3 8 8 u8 0 3 > v8.ts || exit 1
gen 200 3 16 16 u8 0 4 > t16.ts || exit 1

TINY="--arch conv8,conv8s2,up,conv3k1:sigmoid --threads 1"

# 1. a tiny model learns: validation MSE falls; the log has a line per epoch
ae-train $TINY --epochs 3 --val-split 0.2 --log log.tsv -o m.model d8.ts 2>err ||
	fail "training the tiny model: $(cat err)"
ok
[ "$(wc -l < log.tsv)" -eq 4 ] || fail "log has $(wc -l < log.tsv) lines, expected 4"
head -n 1 log.tsv | grep -q '^epoch	train_loss	val_mse	val_psnr	seconds	images_per_s$' ||
	fail "log header: $(head -n 1 log.tsv)"
awk -F'\t' 'NR == 2 { a = $3 } NR == 4 { b = $3 } END { exit !(b < a) }' log.tsv ||
	fail "validation MSE did not fall: $(cut -f3 log.tsv | tr '\n' ' ')"
grep -q '^epoch 3/3: loss' err || fail "no per-epoch lines: $(cat err)"
ncheck=$((ncheck + 3))

# 2. the same command twice gives the same bytes
ae-train $TINY --epochs 3 --val-split 0.2 -q -o m2.model d8.ts || fail "second run"
same m.model m2.model
# ... also with batch-norm, noise and two threads (the engine sums in a fixed order)
BN="--arch conv8,bn,conv8s2,up,conv3k1:sigmoid --batch 16 --noise-range 0.05:0.2 --val-split 0.1"
ae-train $BN --threads 1 --epochs 4 -q -o a.model d8.ts || fail "bn run"
ae-train $BN --threads 2 --epochs 4 -q -o b.model d8.ts || fail "bn run, 2 threads"
same a.model b.model

# 3. resume: 2 epochs then --resume to 4 equals 4 epochs straight
ae-train $BN --threads 1 --epochs 2 -q -o r.model d8.ts || fail "2 epochs"
ae-train --resume r.model --epochs 4 --threads 1 -q d8.ts || fail "resume to 4"
same a.model r.model
ae-train $BN --threads 1 --epochs 4 -q --checkpoint-every 3 -o c.model d8.ts ||
	fail "with checkpoints"
same a.model c.model
expect 0 "has completed its 4 epochs" ae-train --resume r.model --threads 1 d8.ts
same a.model r.model
# ... with the cosine decay too (its position comes from the checkpoint)
ae-train $BN --lr-decay cosine --threads 1 --epochs 3 -q -o cos.model d8.ts || fail "cosine"
ae-train $BN --lr-decay cosine --threads 1 --epochs 3 -q --checkpoint-every 5 \
	-o cosc.model d8.ts || fail "cosine with checkpoints"
same cos.model cosc.model
cmp -s cos.model a.model && fail "--lr-decay cosine changed nothing"
ae-train $BN --lr-decay cosine --threads 1 --epochs 1 -q -o cos1.model d8.ts ||
	fail "cosine, 1 epoch"
expect 2 "--lr-decay: the run in cos1.model was started with --lr-decay cosine" \
	ae-train --resume cos1.model --lr-decay none d8.ts
expect 2 "unknown --lr-decay 'step'" ae-train -o x.model --lr-decay step d8.ts
ncheck=$((ncheck + 1))

# 4. SIGINT and SIGTERM leave a checkpoint that resumes to the same model
SLOW="--arch conv16,bn,conv16s2,up,conv3k1:sigmoid --threads 1 --batch 8 --noise 0.1
	--epochs 12 --val-split 0.1"
ae-train $SLOW -q -o full.model d16.ts || fail "uninterrupted run"
for sig in INT TERM; do
	rm -f int.model
	ae-train $SLOW -q --checkpoint-every 7 -o int.model d16.ts 2>int.err &
	pid=$!
	i=0
	while [ ! -f int.model ] && [ $i -lt 200 ] && kill -0 $pid 2>/dev/null; do
		sleep 0.05; i=$((i + 1))
	done
	kill -$sig $pid
	wait $pid
	rc=$?
	ncheck=$((ncheck + 1))
	case $sig in INT) want=130 ;; TERM) want=143 ;; esac
	[ $rc -eq $want ] || fail "SIG$sig: exit $rc, expected $want ($(cat int.err))"
	grep -q "interrupted; checkpoint written to int.model (resume with --resume int.model)" \
		int.err || fail "SIG$sig message: $(cat int.err)"
	ls int.model.tmp.* >/dev/null 2>&1 && fail "SIG$sig left a temporary file"
	ae-apply -m int.model d8.ts > /dev/null || fail "checkpoint after SIG$sig unusable"
	ae-train --resume int.model -q d16.ts || fail "resume after SIG$sig"
	same full.model int.model
done

# 5. the printed architecture
ae-train --print-arch > arch.txt || fail "--print-arch"
grep -q '^total: 28,*931 parameters' arch.txt || fail "seed-best total: $(tail -n 1 arch.txt)"
ae-train --print-arch --arch conv8,conv8s2,up,conv3k1:sigmoid --shape 1x16x16 > a2.txt ||
	fail "--print-arch --shape"
grep -q 'total: ' a2.txt || fail "--print-arch --shape: $(cat a2.txt)"
ncheck=$((ncheck + 2))

# 6. options, targets, validation files, the state
ae-train $TINY --epochs 1 -q --no-state -o ns.model d8.ts || fail "--no-state"
[ "$(wc -c < ns.model)" -lt "$(wc -c < m.model)" ] || fail "--no-state is not smaller"
expect 1 "no training state" ae-train --resume ns.model d8.ts
ae-train $TINY --epochs 2 -q --target f8.ts -o t.model d8.ts || fail "--target"
ae-train $TINY --epochs 2 --val v8.ts -o v.model d8.ts 2>err || fail "--val"
grep -q 'val mse' err || fail "--val reports no validation: $(cat err)"
ae-train $TINY --epochs 1 --noise 0.1 --val-split 0.2 -o n.model d8.ts 2>err || fail "--noise"
grep -q 'noisy validation inputs: mse' err || fail "noisy PSNR not reported: $(cat err)"
ae-train $TINY --epochs 1 -q -o q.model d8.ts 2>err || fail "-q"
[ -s err ] && fail "-q printed: $(cat err)"
ae-train $TINY --epochs 1 -q -o stdin.model < d8.ts || fail "stdin"
ncheck=$((ncheck + 8))

# 7. bad options: exit 2 with a message
expect 2 "--batch" ae-train -o x.model --batch 0 d8.ts
expect 2 "--noise" ae-train -o x.model --noise -0.1 d8.ts
expect 2 "--noise-range" ae-train -o x.model --noise-range 0.3:0.1 d8.ts
expect 2 "unknown layer 'no-such-preset'" ae-train -o x.model --arch no-such-preset d8.ts
expect 2 "unknown optimizer 'rmsprop'" ae-train -o x.model --optimizer rmsprop d8.ts
expect 2 "unknown loss" ae-train -o x.model --loss l1 d8.ts
expect 2 "use -o MODEL" ae-train d8.ts
expect 2 "exclude each other" ae-train -o x.model --val v8.ts --val-split 0.1 d8.ts
expect 2 "--val-split" ae-train -o x.model --val-split 1 d8.ts
expect 2 "--epochs" ae-train -o x.model --epochs 0 d8.ts
expect 2 "--shape" ae-train --print-arch --shape 3x32 d8.ts
expect 2 "--batch: the run in r.model was started with --batch 16" \
	ae-train --resume r.model --batch 32 d8.ts
expect 2 "--epochs 1: the run in r.model has already completed 4 epochs" \
	ae-train --resume r.model --epochs 1 d8.ts
expect 2 "too many arguments" ae-train -o x.model d8.ts d8.ts

# 8. bad data and bad runs: exit 1 with a message, no model left behind
python3 - <<'PYEOF' || exit 1
import struct
b = bytearray(open('f8.ts', 'rb').read())
struct.pack_into('<f', b, 64 + 4 * (3 * 8 * 8 * 5 + 70), float('nan'))
open('fnan.ts', 'wb').write(b)
PYEOF
expect 1 "fnan.ts: record 5 has a NaN sample (channel 1, row 0, column 6)" \
	ae-train -o x.model fnan.ts
expect 1 "the training data differs" ae-train --resume r.model --epochs 5 d16.ts
expect 1 "differs from its input" ae-train --arch conv8 -o x.model d8.ts
expect 1 "targets 3x16x16 do not match" ae-train $TINY -o x.model --target t16.ts d8.ts
expect 1 "inputs and targets must pair up" ae-train $TINY -o x.model --target v8.ts d8.ts
expect 1 "a cae model file, not a tensor stream" ae-train -o x.model m.model
expect 1 "/dev/full: write error" ae-train $TINY -q -o /dev/full d8.ts
ls /dev/full.tmp.* >/dev/null 2>&1 && fail "temporary file left in /dev"
expect 1 "nodir/x.model" ae-train $TINY -o nodir/x.model d8.ts
[ -e x.model ] && fail "a model was written by a failed run"
DIVERGE="--arch conv8:linear,conv8:linear,conv3k1:linear --optimizer sgd --lr 10 --threads 1"
expect 1 "training stopped, no model was written" ae-train $DIVERGE -o nan.model d8.ts
[ -e nan.model ] && fail "a diverged run wrote a model"
expect 1 "nan.model keeps the checkpoint after step" \
	ae-train $DIVERGE --checkpoint-every 1 -o nan.model d8.ts
ae-apply -m nan.model d8.ts > /dev/null || fail "the kept checkpoint is unusable"
ls ./*.tmp.* >/dev/null 2>&1 && fail "temporary files left: $(ls ./*.tmp.*)"
ncheck=$((ncheck + 5))

# 9. real CIFAR-10 images, when present: a short run, then applied
if have_cifar; then
	cifar-extract -q --count 600 "$CIFAR_DIR" > c.ts || fail "cifar-extract"
	ae-train -q --epochs 1 --batch 50 --noise 0.1 --val-split 0.1 -o cifar.model c.ts ||
		fail "training on CIFAR-10"
	ae-apply -m cifar.model c.ts > cout.ts || fail "applying the CIFAR-10 model"
	[ "$(wc -c < cout.ts)" -eq $((64 * 6 + 600 * (4 + 3 * 32 * 32 * 4))) ] ||
		fail "CIFAR-10 output has $(wc -c < cout.ts) bytes"
	ok
fi

finish
