# The numpy reader/writer in examples/ agrees with the C library.
. "$TOP/tests/lib.sh"
PY=/usr/bin/python3
[ -x $PY ] && $PY -c 'import numpy' 2>/dev/null || skip "python3 with numpy not found"
cd "$TMPD" || exit 1
# numpy writes, C reads and rewrites (via the stream unit's round trip), numpy reads back
PYTHONPATH="$TOP/examples" $PY - <<'PYEOF' || fail "python round trip"
import numpy as np, cae_stream as cs, subprocess
rng = np.random.default_rng(1)
x = rng.integers(0, 256, (5, 3, 4, 6), dtype=np.uint8)
lab = np.arange(5, dtype=np.int32) - 2
cs.write("a.ts", x, lab)
y, l2 = cs.read("a.ts")
assert (y == x).all() and (l2 == lab).all()
f = rng.standard_normal((3, 1, 2, 2)).astype(np.float32)
cs.write("b.ts", f)
g, l3 = cs.read("b.ts")
assert l3 is None and (g == f).all()
# cat of two streams is a stream
open("ab.ts", "wb").write(open("a.ts", "rb").read() + open("a.ts", "rb").read())
z, l4 = cs.read("ab.ts")
assert len(z) == 10 and (l4[5:] == lab).all()
PYEOF
ok
if [ -x "$TOP/bin/noise-add" ]; then
	# a C program reads what numpy wrote and numpy reads what it wrote
	noise-add --sigma 0 a.ts > c.ts 2>err || fail "noise-add on a numpy stream: $(cat err)"
	PYTHONPATH="$TOP/examples" $PY - <<'PYEOF' || fail "C output read by numpy"
import numpy as np, cae_stream as cs
x, l = cs.read("a.ts"); y, m = cs.read("c.ts")
assert y.dtype == np.float32 and (l == m).all()
assert np.array_equal(y, x.astype(np.float32) / np.float32(255)), abs(y - x / 255).max()
PYEOF
	ok
fi
finish
