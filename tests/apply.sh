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

# 5. bad models, bad inputs, bad options
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
