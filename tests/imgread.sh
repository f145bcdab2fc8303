# img-read: PNG files to streams, and the any-size denoising pipeline.
. "$TOP/tests/lib.sh"
PY=/usr/bin/python3
cd "$TMPD" || exit 1
[ -x $PY ] && $PY -c 'import numpy' 2>/dev/null || skip "python3 with numpy not found"
PYTHONPATH="$TOP/examples" $PY - <<'PYEOF' || exit 1
import numpy as np, cae_stream as cs
rng = np.random.default_rng(3)
cs.write("rgb.ts", rng.integers(0, 256, (1, 3, 37, 53), dtype=np.uint8))
cs.write("gray.ts", rng.integers(0, 256, (1, 1, 20, 30), dtype=np.uint8))
PYEOF
img-grid --gap 0 rgb.ts -o rgb.png || fail "img-grid rgb"
img-grid --gap 0 gray.ts -o gray.png || fail "img-grid gray"
img-read rgb.png > back.ts || fail "img-read rgb"
PYTHONPATH="$TOP/examples" $PY -c '
import numpy as np, cae_stream as cs
a, _ = cs.read("rgb.ts"); b, _ = cs.read("back.ts")
assert a.shape == b.shape and (a == b).all(), (a.shape, b.shape)' || fail "rgb round trip"
img-read --float gray.png rgb.png --label 5 > two.ts || fail "img-read two files"
PYTHONPATH="$TOP/examples" $PY -c '
import numpy as np, cae_stream as cs
segs = list(cs.segments(open("two.ts", "rb")))
assert len(segs) == 2
(s1, d1, l1), (s2, d2, l2) = segs
assert s1 == (1, 20, 30) and s2 == (3, 37, 53) and d1.dtype == np.float32
g, _ = cs.read("gray.ts")
assert np.array_equal(d1[0], g[0].astype(np.float32) / 255) and (l1 == 5).all()' || fail "float, labels, segments"
img-read --rgb gray.png > g3.ts && img-read --gray rgb.png > r1.ts || fail "--rgb/--gray"
PYTHONPATH="$TOP/examples" $PY -c '
import numpy as np, cae_stream as cs
g3, _ = cs.read("g3.ts"); g, _ = cs.read("gray.ts")
assert g3.shape == (1, 3, 20, 30) and (g3[:, 0] == g[:, 0]).all() and (g3[:, 2] == g[:, 0]).all()
r1, _ = cs.read("r1.ts"); r, _ = cs.read("rgb.ts")
r = r.astype(np.int64); y = (299 * r[:, 0] + 587 * r[:, 1] + 114 * r[:, 2] + 500) // 1000
assert r1.shape == (1, 1, 37, 53) and (r1[:, 0] == y).all()' || fail "channel conversion"
if $PY -c 'import PIL' 2>/dev/null; then
	$PY -c '
import numpy as np
from PIL import Image
a = (np.arange(16 * 24, dtype=np.uint16).reshape(16, 24) * 170)
Image.fromarray(a.astype(np.uint16)).save("g16.png")
Image.fromarray(np.zeros((4, 5, 4), np.uint8), "RGBA").save("rgba.png")' &&
	img-read --float g16.png > g16.ts && img-read rgba.png > rgba.ts || fail "16-bit/RGBA png"
	PYTHONPATH="$TOP/examples" $PY -c '
import numpy as np, cae_stream as cs
x, _ = cs.read("g16.ts")
a = np.arange(16 * 24).reshape(16, 24) * 170
assert np.allclose(x[0, 0], a / 65535, atol=1e-6)
y, _ = cs.read("rgba.ts"); assert y.shape == (1, 3, 4, 5)' || fail "16-bit precision, alpha dropped"
fi
ok
expect 1 "not a PNG" sh -c 'echo hello > x.png; img-read x.png'
expect 1 "nope.png" img-read nope.png
expect 2 "exclude each other" img-read --gray --rgb rgb.png
expect 2 "standard input can be read only once" img-read - -
# the any-size pipeline of the README, with a tiny fully convolutional model
if [ -x "$TOP/bin/ae-train" ]; then
	PYTHONPATH="$TOP/examples" $PY -c '
import numpy as np, cae_stream as cs
rng = np.random.default_rng(5)
y, x = np.mgrid[0:16, 0:16] / 16.0
imgs = [np.stack([np.sin(6 * (a * x + b * y) + c) * 0.4 + 0.5 for c in (0, 1, 2)])
        for a, b in rng.random((64, 2))]
cs.write("train.ts", np.array(imgs, np.float32))' &&
	ae-train -q --arch conv8,conv8s2,up,conv3k1:sigmoid --epochs 1 --batch 16 --noise 0.1 \
		-o tiny.model train.ts || fail "tiny model"
	img-read rgb.png 2>/dev/null | noise-add --sigma 0.1 | ae-apply --pad -m tiny.model | img-grid -o out.png ||
		fail "img-read | noise-add | ae-apply | img-grid"
	[ -s out.png ] || fail "no out.png"
fi
finish
