# noise-add: the same bytes for the same seed, labels untouched, the
# statistics of each noise type, option and input errors.
. "$TOP/tests/lib.sh"
cd "$TMPD" || exit 1

# Fixtures from printf and /dev/zero only (cae-stream(5) headers).
le32() {
	printf "\\$(printf %03o $(($1 & 255)))\\$(printf %03o $(($1 >> 8 & 255)))"
	printf "\\$(printf %03o $(($1 >> 16 & 255)))\\$(printf %03o $(($1 >> 24 & 255)))"
}
# hdr DTYPE LABELS C H W COUNT
hdr() {
	printf '\211TNS\r\n\032\n\001\000\100\000'
	printf "\\$(printf %03o "$1")\\$(printf %03o "$2")\\000\\000"
	le32 "$3"; le32 "$4"; le32 "$5"; le32 0; le32 "$6"; le32 0
	for _ in 1 2 3 4 5 6; do le32 0; done
}
zeros() { head -c "$1" /dev/zero; }

# 20 labelled u8 3x8x8 images of zeros, labels 7i-3, then random images
{ hdr 1 1 3 8 8 20; i=0; while [ $i -lt 20 ]; do le32 $((7 * i - 3)); zeros 192; i=$((i + 1)); done; } > z.ts
noise-add -t uniform --mean 0.5 --amount 0.5 --u8 --seed 1 z.ts > img.ts || fail "making img.ts"
# 250 unlabelled 1x32x32 f32 images of exactly 0.5 (0 + 0.5 + 0 * u)
{ hdr 1 0 1 32 32 250; zeros 256000; } | noise-add -t uniform --mean 0.5 --amount 0 > half.ts ||
	fail "making half.ts"

# --- reproducibility: fixed bytes for a fixed seed on every machine
ok; [ "$(wc -c < img.ts)" -eq $((64 + 20 * 196)) ] || fail "img.ts has the wrong size"
ok; [ "$(sum img.ts)" = 60e78dfb8306d948af9608d942560fddeea3572c1b456cfc9fa3f5cd89597d91 ] ||
	fail "uniform --u8 --seed 1 checksum changed: $(sum img.ts)"
noise-add --sigma 0.3 img.ts > g1.ts || fail "noise-add --sigma 0.3"
ok; [ "$(sum g1.ts)" = 44cacc229be1e9d6398ccf3726d37d9eec49f95aa01c90ed69c145965c6bb604 ] ||
	fail "gaussian --sigma 0.3 checksum changed: $(sum g1.ts)"
noise-add -t poisson --peak 30 --seed 5 img.ts > p1.ts || fail "poisson"
ok; [ "$(sum p1.ts)" = 5d1245bc34410d7c49c89f79db73bdf1fc2a5ce3576a1079b90da74b14041990 ] ||
	fail "poisson --peak 30 checksum changed: $(sum p1.ts)"
noise-add --sigma 0.3 --seed 42 < img.ts > g2.ts
same g1.ts g2.ts
noise-add --threads 1 --sigma 0.3 img.ts > g3.ts
same g1.ts g3.ts
noise-add --threads 3 --sigma 0.3 img.ts > g3.ts
same g1.ts g3.ts
noise-add --sigma 0.3 --seed 43 img.ts > g4.ts
ok; cmp -s g1.ts g4.ts && fail "seeds 42 and 43 give the same noise"
noise-add --sigma 0.3 -o g5.ts img.ts
same g1.ts g5.ts
ok; [ "$(wc -c < g1.ts)" -eq $((64 + 20 * (4 + 768))) ] || fail "f32 output has the wrong size"

# record i always gets the same noise: split the stream into two
# segments (3 + 17 records) and the samples come out the same
{ hdr 1 1 3 8 8 3; tail -c +65 img.ts | head -c $((3 * 196));
  hdr 1 1 3 8 8 17; tail -c +$((65 + 3 * 196)) img.ts; } > split.ts
noise-add --sigma 0.3 split.ts > gs.ts
tail -c +65 g1.ts | head -c $((3 * 772)) > a.bin
tail -c +65 gs.ts | head -c $((3 * 772)) > b.bin
same a.bin b.bin
tail -c +$((65 + 3 * 772)) g1.ts > a.bin
tail -c +$((129 + 3 * 772)) gs.ts > b.bin
same a.bin b.bin

# --- labels and headers pass through: zero noise gives back the input
noise-add -t uniform --amount 0 --u8 img.ts > id.ts
same img.ts id.ts
# with noise, only sample bytes change (cmp -l lists 1-based offsets)
noise-add --sigma 0.2 --u8 img.ts > n8.ts
ok; cmp -l img.ts n8.ts | awk '($1 - 65) % 196 < 4 || $1 <= 64 { bad = 1 } END { exit bad }' ||
	fail "noise-add changed a header or label byte"
ok; [ "$(cmp -l img.ts n8.ts | wc -l)" -gt 1000 ] || fail "--sigma 0.2 changed too few samples"

# --- --u8 and --clip
ok; [ "$(od -An -tu1 -j12 -N1 n8.ts | tr -d ' ')" = 1 ] || fail "--u8 output is not u8"
noise-add --sigma 0.5 --clip half.ts > c.ts
ok; tail -c +65 c.ts | od -An -v -tf4 |
	awk '{ for (i = 1; i <= NF; i++) { if ($i < 0 || $i > 1) bad = 1; if ($i == 0) lo++; if ($i == 1) hi++ } }
	     END { exit bad || lo < 1000 || hi < 1000 }' || fail "--clip: values outside [0,1] or none clipped"
noise-add --sigma 0.5 half.ts > nc.ts
ok; tail -c +65 nc.ts | od -An -v -tf4 |
	awk '{ for (i = 1; i <= NF; i++) if ($i < 0 || $i > 1) n++ } END { exit n < 1000 }' ||
	fail "without --clip the noise should leave [0,1]"

# --- statistics of the added noise on the constant 0.5: mean and
# standard deviation within 1% (of sigma), 256000 samples
# stats FILE -> "MEAN SD" of x - 0.5
stats() {
	tail -c +65 "$1" | od -An -v -tf4 |
	awk '{ for (i = 1; i <= NF; i++) { d = $i - 0.5; s += d; ss += d * d; n++ } }
	     END { m = s / n; printf "%.6f %.6f\n", m, sqrt(ss / n - m * m) }'
}
# within MEASURED EXPECTED TOL
within() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }
check_stats() { # FILE MEAN SD what
	set -- "$1" "$2" "$3" "$4" $(stats "$1")
	ok; within "$5" "$2" "$(awk -v s="$3" 'BEGIN { print 0.01 * s }')" ||
		fail "$4: noise mean $5, expected $2"
	ok; within "$6" "$3" "$(awk -v s="$3" 'BEGIN { print 0.01 * s }')" ||
		fail "$4: noise sd $6, expected $3"
}
noise-add --sigma 0.1 half.ts > s.ts; check_stats s.ts 0 0.1 "gaussian 0.1"
noise-add --sigma 0.3 --mean 0.05 --seed 9 half.ts > s.ts; check_stats s.ts 0.05 0.3 "gaussian 0.3"
noise-add half.ts > s.ts; check_stats s.ts 0 0.1 "default sigma"
noise-add -t uniform --amount 0.2 half.ts > s.ts; check_stats s.ts 0 0.11547 "uniform 0.2"
noise-add -t poisson --peak 100 half.ts > s.ts; check_stats s.ts 0 0.070711 "poisson peak 100"
noise-add -t salt-pepper --amount 0.2 half.ts > s.ts
ok; tail -c +65 s.ts | od -An -v -tf4 |
	awk '{ for (i = 1; i <= NF; i++) { n++; if ($i == 0) z++; else if ($i == 1) o++; else if ($i != 0.5) bad = 1 } }
	     END { exit bad || z / n < 0.098 || z / n > 0.102 || o / n < 0.098 || o / n > 0.102 }' ||
	fail "salt-pepper 0.2: not 10% zeros and 10% ones"

# an input without records gives a header without records
hdr 1 1 3 8 8 0 > empty.ts
noise-add empty.ts > e.ts || fail "noise-add on an empty stream"
{ hdr 2 1 3 8 8 0; } > e_exp.ts
same e.ts e_exp.ts

# --- option errors: exit 2 with a message
expect 2 "invalid value '-1' for --sigma" noise-add --sigma -1 img.ts
expect 2 "invalid value 'nan' for --sigma" noise-add --sigma nan img.ts
expect 2 "invalid value 'inf' for --sigma" noise-add --sigma inf img.ts
expect 2 "invalid value '1.5' for --amount" noise-add -t salt-pepper --amount 1.5 img.ts
expect 2 "invalid value '-0.1' for --amount" noise-add -t uniform --amount -0.1 img.ts
expect 2 "--peak: must be positive" noise-add -t poisson --peak 0 img.ts
expect 2 "--peak applies to poisson" noise-add --peak 3 img.ts
expect 2 "--sigma applies to gaussian" noise-add -t uniform --sigma 3 img.ts
expect 2 "--amount applies to uniform and salt-pepper" noise-add --amount 0.1 img.ts
expect 2 "--mean applies to gaussian and uniform" noise-add -t poisson --mean 1 img.ts
expect 2 "unknown noise type 'pink'" noise-add -t pink img.ts
expect 2 "invalid value '-1' for --seed" noise-add --seed -1 img.ts
expect 2 "invalid value 'x' for --seed" noise-add --seed x img.ts
expect 2 "invalid value '0' for --threads" noise-add --threads 0 img.ts
expect 2 "at most one input stream" noise-add img.ts img.ts
expect 2 "unknown option" noise-add --bogus img.ts
noise-add --help > help.txt || fail "--help"
ok; grep -q -- '--sigma' help.txt || fail "--help lacks --sigma"
ok; [ "$(noise-add --version)" = "noise-add (cae) $(sed -n 's/^VERSION = //p' "$TOP/config.mk")" ] ||
	fail "--version: $(noise-add --version)"

# --- input and output errors: exit 1 with the reader's message
head -c 1000 img.ts > trunc.ts
expect 1 "truncated record" noise-add trunc.ts
expect 1 "empty input" noise-add /dev/null
printf 'hello world, not a stream' > text.txt
expect 1 "bad magic" noise-add text.txt
expect 1 "nonexistent.ts: No such file" noise-add nonexistent.ts
expect 1 "write error" sh -c 'noise-add img.ts > /dev/full'
ok; noise-add -o out.ts trunc.ts 2>/dev/null; [ -e out.ts ] && fail "a failed run left out.ts"
ok; ls out.ts.tmp.* >/dev/null 2>&1 && fail "a failed run left a temporary file"
if command -v script >/dev/null 2>&1; then
	ok
	script -qec "noise-add $TMPD/img.ts" /dev/null > tty.txt 2>&1
	grep -q "refusing to write binary data to a terminal" tty.txt || fail "noise-add wrote to a terminal"
fi
# a reader that stops early ends the writer quietly
ok; noise-add half.ts 2>err.txt | head -c 100 > /dev/null; [ -s err.txt ] && fail "| head: $(cat err.txt)"

finish
