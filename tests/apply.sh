# ae-apply: same results for any batch size, labels, u8 output, any image
# size for fully convolutional models, --pad, streaming, and bad inputs.
. "$TOP/tests/lib.sh"
cd "$TMPD" || exit 1
command -v python3 >/dev/null || skip "python3 not found"

cat > ts.py <<'PYEOF'
import sys, struct, hashlib
def segments(path):
    b = open(path, 'rb').read(); off = 0
    while off < len(b):
        assert b[off:off + 8] == b'\x89TNS\r\n\x1a\n', 'bad magic at %d' % off
        dt, fl = b[off + 12], b[off + 13]
        c, h, w = struct.unpack_from('<III', b, off + 16)
        n, = struct.unpack_from('<Q', b, off + 32); off += 64
        rb = c * h * w * (4 if dt == 2 else 1) + (4 if fl & 1 else 0)
        yield dt, fl, c, h, w, n, b[off:off + n * rb]; off += n * rb
def records(path):
    for dt, fl, c, h, w, n, data in segments(path):
        ds = c * h * w * (4 if dt == 2 else 1); rb = ds + (4 if fl & 1 else 0)
        for i in range(n):
            r = data[i * rb:(i + 1) * rb]
            lab = struct.unpack_from('<i', r)[0] if fl & 1 else None
            d = r[-ds:]
            v = struct.unpack('<%df' % (c * h * w), d) if dt == 2 else list(d)
            yield lab, v
cmd, f = sys.argv[1], sys.argv[2]
if cmd == 'sum':    # records only: the same for any segmentation
    hs = hashlib.sha256(); k = 0
    for s in segments(f): hs.update(s[6]); k += s[5]
    print(k, hs.hexdigest())
elif cmd == 'segs':
    for s in segments(f): print(*s[:6])
elif cmd == 'labels':
    print(' '.join(str(l) for l, v in records(f)))
elif cmd == 'u8of':  # f32 file F, u8 file G: G = round(clamp(F) * 255)
    for (la, a), (lb, b) in zip(records(f), records(sys.argv[3])):
        assert la == lb
        for x, y in zip(a, b):
            e = int(min(max(x, 0.0), 1.0) * 255 + 0.5)
            assert abs(e - y) <= 1 and 0 <= y <= 255, (x, y)
elif cmd == 'sym':   # f32 or u8 file F -> f32 stream of symmetry T of each image
    t = int(sys.argv[3]); out = sys.stdout.buffer
    for dt, fl, c, h, w, n, data in segments(f):
        hdr = bytearray(64); hdr[0:8] = b'\x89TNS\r\n\x1a\n'
        struct.pack_into('<HHBB', hdr, 8, 1, 64, 2, fl)
        struct.pack_into('<III', hdr, 16, c, w if t & 4 else h, h if t & 4 else w)
        struct.pack_into('<Q', hdr, 32, n); out.write(hdr)
        ds = c * h * w * (4 if dt == 2 else 1); rb = ds + (4 if fl & 1 else 0)
        for i in range(n):
            r = data[i * rb:(i + 1) * rb]
            if fl & 1: out.write(r[:4])
            v = struct.unpack('<%df' % (c * h * w), r[-ds:]) if dt == 2 else [x / 255 for x in r[-ds:]]
            o = []
            for ch in range(c):
                p = [v[ch * h * w + y * w:ch * h * w + (y + 1) * w] for y in range(h)]
                if t & 4: p = [list(q) for q in zip(*p)]
                if t & 1: p = [q[::-1] for q in p]
                if t & 2: p = p[::-1]
                o += [x for q in p for x in q]
            out.write(struct.pack('<%df' % len(o), *o))
elif cmd == 'maxdiff':
    print(max(abs(x - y) for (la, a), (lb, b) in zip(records(f), records(sys.argv[3]))
              for x, y in zip(a, b)))
elif cmd == 'finite':
    import math
    assert all(math.isfinite(x) for l, v in records(f) for x in v)
PYEOF
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
    if lab: out.write(struct.pack('<i', i % 10 + 100))
    v = [0.5 + 0.4 * math.sin(a * x + b * y + ch * 1.3 + k % 5)
         for ch in range(c) for y in range(h) for x in range(w)]
    if dt == 'u8': out.write(bytes(int(s * 255 + 0.5) for s in v))
    else: out.write(struct.pack('<%df' % len(v), *v))
PYEOF
ts() { python3 ts.py "$@"; }
gen() { python3 gen.py "$@"; }
gen 150 3 8 8 u8 1 1 > d8.ts || exit 1
gen 20 3 16 16 f32 1 2 > d16.ts || exit 1
gen 6 3 9 9 u8 0 3 > d9.ts || exit 1
gen 4 1 8 8 u8 0 4 > g8.ts || exit 1
gen 10 3 8 8 f32 1 5 > s1.ts || exit 1
gen 10 3 8 8 f32 1 6 > s2.ts || exit 1
gen 0 3 8 8 u8 1 7 > empty.ts || exit 1

ae-train -q --arch conv8,bn,conv8s2,up,conv3k1:sigmoid --epochs 2 --threads 1 \
	-o m.model d8.ts || fail "training the model"
ae-train -q --arch flatten,dense16,dense192:sigmoid,reshape3x8x8 --epochs 1 \
	--threads 1 -o dense.model d8.ts || fail "training the dense model"

# 1. batch sizes and threads change nothing but the segmentation
ae-apply -m m.model --threads 1 -b 1 d8.ts > o1.ts || fail "-b 1"
ae-apply -m m.model --threads 1 -b 7 d8.ts > o7.ts || fail "-b 7"
ae-apply -m m.model --threads 1 d8.ts > o100.ts || fail "-b 100"
ae-apply -m m.model --threads 2 -b 33 d8.ts > o33.ts || fail "-b 33, 2 threads"
ts sum o1.ts > s1; ts sum o7.ts > s7; ts sum o100.ts > s100; ts sum o33.ts > s33
same s1 s7
same s1 s100
same s1 s33
[ "$(ts segs o7.ts | wc -l)" -eq 22 ] || fail "-b 7: $(ts segs o7.ts | wc -l) segments"
[ "$(ts segs o100.ts)" = "$(printf '2 1 3 8 8 100\n2 1 3 8 8 50')" ] ||
	fail "segments: $(ts segs o100.ts)"
ncheck=$((ncheck + 2))

# 2. labels pass through; --u8; -o; the model from stdin
[ "$(ts labels o100.ts)" = "$(ts labels d8.ts)" ] || fail "labels differ"
ae-apply -m m.model --u8 d8.ts > u8.ts || fail "--u8"
[ "$(ts segs u8.ts | head -n 1)" = "1 1 3 8 8 100" ] || fail "--u8 header: $(ts segs u8.ts)"
ts u8of o100.ts u8.ts || fail "--u8 samples differ from the f32 output"
ae-apply -m m.model -o out.ts d8.ts || fail "-o"
same o100.ts out.ts
ae-apply -m - d8.ts < m.model > stdin.ts || fail "-m -"
same o100.ts stdin.ts
ncheck=$((ncheck + 4))

# 3. a fully convolutional model takes any multiple of its stride
ae-apply -m m.model d16.ts > o16.ts || fail "3x16x16 on a 3x8x8 model"
[ "$(ts segs o16.ts)" = "2 1 3 16 16 20" ] || fail "3x16x16: $(ts segs o16.ts)"
expect 1 "input 3x9x9: height and width must be multiples of 2 for this model (use --pad)" \
	ae-apply -m m.model d9.ts
ae-apply -m m.model --pad d9.ts > o9.ts || fail "--pad"
[ "$(ts segs o9.ts)" = "2 0 3 9 9 6" ] || fail "--pad: $(ts segs o9.ts)"
ts finite o9.ts || fail "--pad output not finite"
cat d8.ts d16.ts d8.ts > mixed.ts
ae-apply -m m.model mixed.ts > omixed.ts || fail "shapes changing between segments"
[ "$(ts segs omixed.ts | cut -d' ' -f4,6 | tr '\n' ' ')" = "8 100 8 50 16 20 8 100 8 50 " ] ||
	fail "mixed shapes: $(ts segs omixed.ts | tr '\n' ' ')"
ae-apply -m dense.model d8.ts > od.ts || fail "dense model on its own shape"
expect 1 "this model has dense layers and takes only its trained shape 3x8x8" \
	ae-apply -m dense.model d16.ts
ae-apply -m m.model empty.ts > oe.ts || fail "empty input"
[ "$(ts segs oe.ts)" = "2 1 3 8 8 0" ] || fail "empty input: $(ts segs oe.ts)"
ncheck=$((ncheck + 7))

# 4. output keeps pace with the input: a segment in, a segment out
mkfifo in.fifo || exit 1
ae-apply -m m.model in.fifo > stream.ts &
pid=$!
exec 3> in.fifo
cat s1.ts >&3
i=0
while [ "$(wc -c < stream.ts)" -lt 7784 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
[ "$(wc -c < stream.ts)" -eq 7784 ] || fail "no output before the input ended"
cat s2.ts >&3
exec 3>&-
wait $pid || fail "streaming run"
[ "$(ts segs stream.ts | wc -l)" -eq 2 ] || fail "streaming: $(ts segs stream.ts)"
ncheck=$((ncheck + 2))

# ... and a write error ends it at once, even while the input has stalled
mkfifo stall.fifo || exit 1
ae-apply -m m.model -b 50 -o /dev/full stall.fifo 2> stall.err &
pid=$!
exec 4> stall.fifo
head -c $((64 + 60 * 196)) d8.ts >&4   # 60 of the 150 records, then nothing
i=0
while kill -0 $pid 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
kill -0 $pid 2>/dev/null && fail "write error with a stalled input: still running after 5 s"
exec 4>&-
wait $pid
[ $? -eq 1 ] || fail "write error with a stalled input: exit status not 1"
grep -q "ae-apply: /dev/full: write error" stall.err || fail "stalled input: $(cat stall.err)"
ncheck=$((ncheck + 3))

# 5. --ensemble: the mean over the symmetries of the square makes the model
# commute with them (up to rounding), and --ensemble 1 changes nothing
ae-apply -m m.model --ensemble 1 d8.ts > e1.ts || fail "--ensemble 1"
same o100.ts e1.ts
ae-apply -m m.model --ensemble 8 d8.ts > e8.ts || fail "--ensemble 8"
cmp -s e8.ts o100.ts && fail "--ensemble 8 output equals the plain output"
for t in 1 2 5 6; do
	ts sym d8.ts $t > sym$t.ts || fail "making symmetry $t"
	ae-apply -m m.model --ensemble 8 sym$t.ts > esym$t.ts || fail "--ensemble 8 on symmetry $t"
	ts sym e8.ts $t > e8sym$t.ts || fail "symmetry $t of the output"
	d=$(ts maxdiff esym$t.ts e8sym$t.ts)
	awk -v d="$d" 'BEGIN { exit !(d < 1e-5) }' || fail "--ensemble 8, symmetry $t: differs by $d"
done
ae-apply -m m.model --ensemble 4 sym1.ts > esym4.ts || fail "--ensemble 4"
ts sym esym4.ts 1 > back4.ts
ae-apply -m m.model --ensemble 4 d8.ts > e4.ts || fail "--ensemble 4"
d=$(ts maxdiff back4.ts e4.ts)
awk -v d="$d" 'BEGIN { exit !(d < 1e-5) }' || fail "--ensemble 4, mirrored: differs by $d"
gen 3 3 8 16 u8 0 8 > wide.ts || exit 1
ae-apply -m m.model --ensemble 4 wide.ts > ewide.ts || fail "--ensemble 4 on 8x16"
expect 1 "--ensemble 8: input 8x16 is not square" ae-apply -m m.model --ensemble 8 wide.ts
expect 2 "invalid value '3' for --ensemble" ae-apply -m m.model --ensemble 3 d8.ts
gen 150 3 4 4 u8 0 9 > t4.ts || exit 1
ae-train -q --arch conv3s2:sigmoid --target t4.ts --epochs 1 --threads 1 -o half.model d8.ts ||
	fail "training a model with a smaller output"
expect 1 "--ensemble: the model's output (4x4) must have the size of its input (8x8)" \
	ae-apply -m half.model --ensemble 2 d8.ts
ncheck=$((ncheck + 7))

# 6. bad models, bad inputs, bad options
expect 1 "input has 1 channel, the model expects 3" ae-apply -m m.model g8.ts
cp m.model bad.model
printf '\125' | dd of=bad.model bs=1 seek=200 conv=notrunc 2>/dev/null
expect 1 "bad.model: CRC-32 mismatch" ae-apply -m bad.model d8.ts
head -c 1000 m.model > short.model
expect 1 "short.model: truncated" ae-apply -m short.model d8.ts
expect 1 "d8.ts: a tensor stream, not a cae model file" ae-apply -m d8.ts d8.ts
expect 1 "nosuch.model" ae-apply -m nosuch.model d8.ts
expect 1 "a cae model file, not a tensor stream" ae-apply -m m.model m.model
expect 2 "no model given: use -m MODEL" ae-apply d8.ts
expect 2 "--batch" ae-apply -m m.model -b 0 d8.ts
expect 1 "/dev/full: write error" ae-apply -m m.model -o /dev/full d8.ts
ls /dev/full.tmp.* >/dev/null 2>&1 && fail "temporary file left in /dev"
expect 1 "nodir/out.ts" ae-apply -m m.model -o nodir/out.ts d8.ts
ls ./*.tmp.* >/dev/null 2>&1 && fail "temporary files left: $(ls ./*.tmp.*)"
ncheck=$((ncheck + 2))

finish
