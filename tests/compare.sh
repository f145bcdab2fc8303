# img-compare: figures against numpy and scikit-image, formats, errors.
. "$TOP/tests/lib.sh"
PY=/usr/bin/python3
cd "$TMPD" || exit 1
[ -x $PY ] && $PY -c 'import numpy' 2>/dev/null || skip "python3 with numpy not found"
PYTHONPATH="$TOP/examples" $PY - <<'PYEOF' || exit 1
import numpy as np, cae_stream as cs
rng = np.random.default_rng(7)
a = rng.random((6, 3, 32, 32)).astype(np.float32)
b = np.clip(a + rng.normal(0, 0.1, a.shape), -0.2, 1.2).astype(np.float32)
b[2] = a[2]
lab = np.array([1, 1, 0, 3, 0, 1], np.int32)
cs.write("a.ts", a, lab); cs.write("b.ts", b, lab)
g = rng.random((2, 1, 20, 13)).astype(np.float32)
cs.write("g.ts", g); cs.write("g2.ts", np.flip(g, 3).copy())
cs.write("s.ts", rng.random((2, 3, 8, 8)).astype(np.float32))
cs.write("u.ts", (a * 255).round().astype(np.uint8), lab)
cs.write("a5.ts", a[:5], lab[:5])
cs.write("l.ts", a, lab + 8)
PYEOF

img-compare --per-image a.ts b.ts > per.tsv || fail "img-compare --per-image"
img-compare --format tsv a.ts b.ts > agg.tsv || fail "img-compare --format tsv"
img-compare --per-image g.ts g2.ts > gper.tsv || fail "grayscale"
PYTHONPATH="$TOP/examples" $PY - <<'PYEOF' || fail "figures disagree with numpy/scikit-image"
import numpy as np, cae_stream as cs, csv, math
a, lab = cs.read("a.ts"); b, _ = cs.read("b.ts")
rows = list(csv.DictReader(open("per.tsv"), delimiter="\t"))
assert len(rows) == 6
try:
    from skimage.metrics import structural_similarity as ssim
except ImportError:
    ssim = None
for i, r in enumerate(rows):
    mse = np.mean((a[i].astype(np.float64) - b[i]) ** 2)
    assert abs(float(r["mse"]) - mse) <= 1e-5 * max(mse, 1e-12), (r, mse)
    if mse == 0:
        assert r["psnr"] == "inf"
    else:
        assert abs(float(r["psnr"]) - 10 * math.log10(1 / mse)) < 1e-4
    assert int(r["label"]) == lab[i]
    if ssim:
        s = ssim(a[i].astype(np.float64), b[i].astype(np.float64), gaussian_weights=True, sigma=1.5,
                 use_sample_covariance=False, data_range=1, channel_axis=0)
        assert abs(float(r["ssim"]) - s) < 1e-4, (float(r["ssim"]), s)
agg = list(csv.DictReader(open("agg.tsv"), delimiter="\t"))
assert agg[0]["class"] == "all" and int(agg[0]["images"]) == 6
mse = np.mean((a.astype(np.float64) - b) ** 2)
assert abs(float(agg[0]["mse"]) - mse) < 1e-5 * mse
assert abs(float(agg[0]["psnr"]) - 10 * math.log10(1 / mse)) < 1e-4
assert [r["class"] for r in agg] == ["all", "0", "1", "3"]
assert [int(r["images"]) for r in agg] == [6, 2, 3, 1]
g, _ = cs.read("g.ts"); g2, _ = cs.read("g2.ts")
rows = list(csv.DictReader(open("gper.tsv"), delimiter="\t"))
if ssim:
    for i, r in enumerate(rows):
        s = ssim(g[i, 0].astype(np.float64), g2[i, 0].astype(np.float64), gaussian_weights=True,
                 sigma=1.5, use_sample_covariance=False, data_range=1)
        assert abs(float(r["ssim"]) - s) < 1e-4, (float(r["ssim"]), s)
else:
    print("scikit-image not found: SSIM not cross-checked")
PYEOF
ok
# identical streams: mse 0, psnr inf, ssim 1
img-compare a.ts a.ts > same.txt || fail "identical"
grep -q '^mse        0$' same.txt && grep -q '^psnr       inf dB' same.txt && grep -q '^ssim       1$' same.txt ||
	fail "identical streams: $(cat same.txt)"
img-compare --format json a.ts a.ts | grep -q '"psnr": null' || fail "json inf as null"
img-compare --format json a.ts b.ts | grep -q '"classes": \[{"label": 0' || fail "json classes"
# u8 against f32 works; small images have no SSIM
img-compare --format tsv u.ts a.ts > /dev/null || fail "u8 vs f32"
img-compare --per-image s.ts s.ts | awk 'NR==2 && $5 != "nan" {exit 1}' || fail "small image ssim nan"
# stdin as one side
img-compare - b.ts < a.ts > /dev/null || fail "stdin"
ok
expect 1 "a.ts has more images than a5.ts (5 compared)" img-compare a.ts a5.ts
expect 1 "image 0: labels differ (1 in a.ts, 9 in l.ts)" img-compare a.ts l.ts
expect 1 "image 0: shapes differ (3x32x32 in a.ts, 3x8x8 in s.ts)" img-compare a.ts s.ts
expect 1 "bad magic" sh -c 'echo hello > t.txt; img-compare t.txt a.ts'
expect 2 "expected two streams" img-compare a.ts
expect 2 "unknown format 'xml'" img-compare --format xml a.ts b.ts
expect 2 "only one of the streams" img-compare - -
finish
