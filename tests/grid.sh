# img-grid: exact pixels of the grid (read back with lib/pngio.c through
# `test_png --dump`, and with PIL when it is there), layout options,
# panels, gap colour, scale, limits and errors.
. "$TOP/tests/lib.sh"
cd "$TMPD" || exit 1
DUMP="$TOP/tests/unit/test_png"
[ -x "$DUMP" ] || skip "tests/unit/test_png not built"

le32() {
	printf "\\$(printf %03o $(($1 & 255)))\\$(printf %03o $(($1 >> 8 & 255)))"
	printf "\\$(printf %03o $(($1 >> 16 & 255)))\\$(printf %03o $(($1 >> 24 & 255)))"
}
# hdr DTYPE LABELS C H W COUNT: a cae-stream(5) segment header
hdr() {
	printf '\211TNS\r\n\032\n\001\000\100\000'
	printf "\\$(printf %03o "$1")\\$(printf %03o "$2")\\000\\000"
	le32 "$3"; le32 "$4"; le32 "$5"; le32 0; le32 "$6"; le32 0
	for _ in 1 2 3 4 5 6; do le32 0; done
}
# mkimg C H W N OFF: N labelled u8 images, sample (k,c,y,x) =
# (OFF + 40k + 60c + 12y + 3x) mod 256, so every position is told apart
mkimg() {
	hdr 1 1 "$1" "$2" "$3" "$4"
	k=0
	while [ $k -lt "$4" ]; do
		le32 $k
		c=0
		while [ $c -lt "$1" ]; do
			y=0
			while [ $y -lt "$2" ]; do
				x=0
				while [ $x -lt "$3" ]; do
					printf "\\$(printf %03o $((($5 + 40 * k + 60 * c + 12 * y + 3 * x) % 256)))"
					x=$((x + 1))
				done
				y=$((y + 1))
			done
			c=$((c + 1))
		done
		k=$((k + 1))
	done
}

# verify PNG C H W SCALE GAP PGAP COLS ROWS OC "R G B" "N1 OFF1" "N2 OFF2"...:
# compares every pixel of PNG (OC channels) with the expected layout
verify() {
	_png=$1 _c=$2 _h=$3 _w=$4 _s=$5 _g=$6 _pg=$7 _cols=$8 _rows=$9
	shift 9
	_oc=$1 _gc=$2
	shift 2
	ok
	"$DUMP" --dump "$_png" > dump.txt || { fail "$_png: cannot read it back"; return; }
	awk -v C="$_c" -v H="$_h" -v W="$_w" -v S="$_s" -v G="$_g" -v PG="$_pg" \
	    -v COLS="$_cols" -v ROWS="$_rows" -v OC="$_oc" -v GC="$_gc" -v PANELS="$*" '
	BEGIN {
		np = split(PANELS, t, " ") / 2
		for (p = 0; p < np; p++) { n[p] = t[2 * p + 1]; off[p] = t[2 * p + 2] }
		split(GC, gcol, " ")
		cw = W * S; ch = H * S
		pw = COLS * cw + (COLS - 1) * G
		ew = np * pw + (np - 1) * PG; eh = ROWS * ch + (ROWS - 1) * G
	}
	NR == 1 {
		if ($1 != ew || $2 != eh || $3 != OC) {
			printf "size %sx%s c=%s, expected %dx%d c=%d\n", $1, $2, $3, ew, eh, OC
			bad = 1; exit
		}
		next
	}
	{
		y = NR - 2
		for (x = 0; x < ew; x++)
			for (c = 0; c < OC; c++) {
				e = -1
				p = int(x / (pw + PG)); xp = x - p * (pw + PG)
				gcx = int(xp / (cw + G)); xin = xp - gcx * (cw + G)
				gr = int(y / (ch + G)); yin = y - gr * (ch + G)
				k = gr * COLS + gcx
				if (xp < pw && xin < cw && yin < ch && k < n[p])
					e = (off[p] + 40 * k + 60 * (C == 3 ? c : 0) + 12 * int(yin / S) + 3 * int(xin / S)) % 256
				else
					e = gcol[c + 1]
				got = $(x * OC + c + 1)
				if (got != e && !bad) {
					printf "pixel (%d,%d) channel %d is %s, expected %d\n", x, y, c, got, e
					bad = 1
				}
			}
	}
	END { exit bad }' dump.txt > why.txt || fail "$_png: $(cat why.txt)"
}

# pil PNG: the PNG decoded by PIL, in the same text form as --dump
PY=/usr/bin/python3
have_pil() { [ -x $PY ] && $PY -c 'import PIL.Image' 2>/dev/null; }
pil() {
	$PY - "$1" <<'EOF'
import sys
from PIL import Image
im = Image.open(sys.argv[1])
c = {"L": 1, "RGB": 3}[im.mode]
w, h = im.size
px = list(im.getdata())
print(w, h, c)
for y in range(h):
    row = px[y * w:(y + 1) * w]
    print(" ".join(str(v) for p in row for v in ((p,) if c == 1 else p)))
EOF
}
pil_same() {
	have_pil || return 0
	ok
	pil "$1" > pil.txt || { fail "PIL cannot read $1"; return; }
	"$DUMP" --dump "$1" > dump.txt
	cmp -s pil.txt dump.txt || fail "$1: PIL decodes other pixels than lib/pngio.c"
}

mkimg 1 4 3 7 5 > g7.ts
mkimg 3 4 3 5 17 > c5.ts
mkimg 3 4 3 4 101 > c4u.ts
noise-add -t uniform --amount 0 c4u.ts > c4.ts || fail "f32 fixture"   # exact v/255
mkimg 1 4 3 3 77 > g3.ts

# defaults: 7 images -> 3 columns, 3 rows, gap 1, white
img-grid g7.ts > a.png || fail "img-grid g7.ts"
verify a.png 1 4 3 1 1 8 3 3 1 "255" "7 5"
pil_same a.png
img-grid -o b.png < g7.ts || fail "img-grid from stdin"
same a.png b.png
img-grid -o b.png - < g7.ts || fail "img-grid -"
same a.png b.png

# two RGB panels (u8 and f32), scale, gap, panel gap, colour
img-grid --cols 2 --scale 3 --gap 2 --panel-gap 5 --gap-color '#102030' c5.ts c4.ts -o c.png ||
	fail "two panels"
verify c.png 3 4 3 3 2 5 2 3 3 "16 32 48" "5 17" "4 101"
pil_same c.png

# gray images with a coloured gap become RGB; 3 panels, one from stdin
img-grid --gap-color red --rows 2 g7.ts - g3.ts < g3.ts > d.png || fail "gray + red gap"
verify d.png 1 4 3 1 1 8 4 2 3 "255 0 0" "7 5" "3 77" "3 77"
pil_same d.png

# rows x cols limits the count; --count; gap 0; gray level and #rgb
img-grid --rows 2 --cols 2 g7.ts > e.png || fail "--rows 2 --cols 2"
verify e.png 1 4 3 1 1 8 2 2 1 "255" "4 5"
img-grid --count 2 --gap 0 --gap-color 77 g7.ts > f.png || fail "--count 2 --gap 0"
verify f.png 1 4 3 1 0 8 2 1 1 "77" "2 5"
img-grid --count 3 --cols 5 --gap-color '#abc' --scale 2 g7.ts > h.png || fail "#abc"
verify h.png 1 4 3 2 1 8 5 1 3 "170 187 204" "3 5"
img-grid --count 0 --cols 7 --gap-color black g7.ts > i.png || fail "--count 0"
verify i.png 1 4 3 1 1 8 7 1 1 "0" "7 5"

# --- errors
mkimg 3 4 4 2 0 > sq.ts
mkimg 2 4 3 2 0 > two.ts
expect 1 "same shape" img-grid g7.ts c5.ts
expect 1 "same shape" img-grid c5.ts sq.ts
expect 1 "a PNG grid needs 1 (gray) or 3 (RGB)" img-grid two.ts
expect 2 "only one of the streams can be standard input" img-grid - g7.ts -
expect 2 "does not fit in 2 rows x 2 columns" img-grid --rows 2 --cols 2 --count 5 g7.ts
expect 2 "invalid colour 'purple'" img-grid --gap-color purple g7.ts
expect 2 "invalid colour '#12345'" img-grid --gap-color '#12345' g7.ts
expect 2 "invalid colour '#12345g'" img-grid --gap-color '#12345g' g7.ts
expect 2 "invalid colour '256'" img-grid --gap-color 256 g7.ts
expect 2 "invalid value '0' for --scale" img-grid --scale 0 g7.ts
expect 2 "invalid value '-1' for --gap" img-grid --gap -1 g7.ts
expect 2 "invalid value '0' for --cols" img-grid --cols 0 g7.ts
expect 2 "unknown option" img-grid --bogus g7.ts
expect 1 "exceeds the limit" img-grid --rows 1000 --cols 1000 --scale 64 g7.ts
{ hdr 1 0 1 64 64 5; head -c $((5 * 4096)) /dev/zero; } > big.ts
expect 1 "exceed the limit" img-grid --scale 64 big.ts
hdr 1 0 1 4 3 0 > empty.ts
expect 1 "no images" img-grid empty.ts
head -c 100 g7.ts > trunc.ts
expect 1 "truncated record" img-grid trunc.ts
expect 1 "empty input" img-grid /dev/null
expect 1 "bad magic" img-grid a.png
expect 1 "nonexistent.ts: No such file" img-grid nonexistent.ts
expect 1 "write error" sh -c 'img-grid g7.ts > /dev/full'
ok; img-grid -o out.png g7.ts trunc.ts 2>/dev/null; [ -e out.png ] && fail "a failed run left out.png"
ok; ls out.png.tmp.* >/dev/null 2>&1 && fail "a failed run left a temporary file"
img-grid --help > help.txt || fail "--help"
ok; grep -q -- '--gap-color' help.txt || fail "--help lacks --gap-color"
ok; [ "$(img-grid --version)" = "img-grid (cae) $(sed -n 's/^VERSION = //p' "$TOP/config.mk")" ] ||
	fail "--version: $(img-grid --version)"
if command -v script >/dev/null 2>&1; then
	ok
	script -qec "img-grid $TMPD/g7.ts" /dev/null > tty.txt 2>&1
	grep -q "refusing to write binary data to a terminal" tty.txt || fail "img-grid wrote PNG to a terminal"
fi

finish
