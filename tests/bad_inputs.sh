# Malformed inputs through the real programs, one case per line of the
# table below (82 cases): every header field of a stream corrupted in turn, truncation
# at every boundary, absurd sizes, mixed segments, bad CIFAR batches and
# archives, bad model files, NaN and infinite samples, bad option values.
# Each must end with the expected exit status (1 bad data, 2 bad usage), a
# message naming the problem, no sanitizer report, and no output file or
# temporary left behind. Then: records claimed by a header are never
# allocated before they are read (fail fast in little memory).
. "$TOP/tests/lib.sh"
cd "$TMPD" || exit 1

le32() {
	printf "\\$(printf %03o $(($1 & 255)))\\$(printf %03o $(($1 >> 8 & 255)))"
	printf "\\$(printf %03o $(($1 >> 16 & 255)))\\$(printf %03o $(($1 >> 24 & 255)))"
}
le64() { le32 $(($1 & 4294967295)); le32 $(($1 >> 32 & 4294967295)); }
# hdr DTYPE FLAGS C H W COUNT: a stream header
hdr() {
	printf '\211TNS\r\n\032\n\001\000\100\000'
	printf "\\$(printf %03o "$1")\\$(printf %03o "$2")\\000\\000"
	le32 "$3"; le32 "$4"; le32 "$5"; le32 0; le64 "$6"
	head -c 24 /dev/zero
}
# poke FILE OFFSET BYTE: one byte overwritten in place
poke() { printf "\\$(printf %03o "$3")" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null; }
# variant NEW FROM OFFSET BYTE: a copy of FROM with one byte changed
variant() { cp "$2" "$1" && poke "$1" "$3" "$4"; }
# pixels N: N bytes of a varied pattern
pixels() { i=0; while [ $i -lt "$1" ]; do printf '\001\100\200\377'; i=$((i + 4)); done | head -c "$1"; }
# crc FILE: its CRC-32, little-endian (gzip's trailer holds it)
crc() { gzip -c < "$1" | tail -c 8 | head -c 4; }
# model SPEC C H W NPARAMS NSTATE: a model file of zero parameters
model() {
	{
		printf '\211CAEMOD\n'; le32 1
		printf 'ARCH'; le64 ${#1}; printf '%s' "$1"
		printf 'SHAP'; le64 12; le32 "$2"; le32 "$3"; le32 "$4"
		printf 'PARM'; le64 $((8 + 4 * $5)); le64 "$5"; head -c $((4 * $5)) /dev/zero
		printf 'STAT'; le64 $((8 + 4 * $6)); le64 "$6"; head -c $((4 * $6)) /dev/zero
		printf 'END '; le64 0
	} > body.tmp
	cat body.tmp
	crc body.tmp
}
# lowmem CMD...: runs CMD with 1 GB of address space at most (ASan builds
# reserve terabytes of shadow: there no allocation may exceed 1 GB, and
# the process is stopped if its RSS does)
lowmem() {
	if [ -n "${CAE_SANITIZED:-}" ]; then
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}max_allocation_size_mb=1024:allocator_may_return_null=1:hard_rss_limit_mb=1024" "$@"
	else
		(ulimit -v 1048576 2>/dev/null; "$@")
	fi
}
# piped FILE CMD...: CMD reads FILE from a pipe
piped() { _f=$1; shift; cat "$_f" | "$@"; }

# --- fixtures
# good.ts: 2 labelled u8 3x8x8 images (196 bytes a record)
{ hdr 1 1 3 8 8 2; le32 3; pixels 192; le32 5; pixels 192; } > good.ts
# f8.ts: 4 f32 3x8x8 images, values in [0,1]
{ hdr 2 0 3 8 8 4; i=0; while [ $i -lt 768 ]; do printf '\000\000\000\077'; i=$((i + 1)); done; } > f8.ts
cp f8.ts nan.ts; poke nan.ts $((64 + 4 * 100 + 2)) 192; poke nan.ts $((64 + 4 * 100 + 3)) 127
cp f8.ts inf.ts; poke inf.ts $((64 + 4 * 700 + 2)) 128; poke inf.ts $((64 + 4 * 700 + 3)) 255
variant magic0.ts good.ts 0 137; poke magic0.ts 0 0
variant magic7.ts good.ts 7 13
variant version.ts good.ts 8 2
variant hlen32.ts good.ts 10 32
variant hlen128.ts good.ts 10 128
variant dtype0.ts good.ts 12 0
variant dtype3.ts good.ts 12 3
variant flags.ts good.ts 13 2
variant res14.ts good.ts 14 1
variant res29.ts good.ts 29 1
variant res40.ts good.ts 40 1
variant res63.ts good.ts 63 255
{ hdr 1 1 0 8 8 2; tail -c +65 good.ts; } > c0.ts
{ hdr 1 1 4097 8 8 2; tail -c +65 good.ts; } > c4097.ts
{ hdr 1 1 3 0 8 2; tail -c +65 good.ts; } > h0.ts
{ hdr 1 1 3 65537 8 2; tail -c +65 good.ts; } > h65537.ts
{ hdr 1 1 3 8 0 2; tail -c +65 good.ts; } > w0.ts
{ hdr 1 1 3 8 4294967295 2; tail -c +65 good.ts; } > wmax.ts
{ hdr 1 1 4096 256 257 1; pixels 10; } > samples.ts
{ hdr 2 0 1 16384 16384 3; pixels 10; } > huge.ts
{ hdr 2 0 3 8192 8192 3; pixels 10; } > huge3.ts
{ hdr 1 0 3 4096 4096 1; pixels 10; } > grid3.ts
{ hdr 1 1 3 8 8 9223372036854775807; tail -c +65 good.ts; } > count63.ts
{ hdr 1 1 3 8 8 -1; tail -c +65 good.ts; } > countmax.ts
: > empty.ts
head -c 4 good.ts > cut4.ts
head -c 63 good.ts > cut63.ts
head -c 64 good.ts > cut64.ts
head -c 66 good.ts > cut66.ts
head -c 100 good.ts > cut100.ts
head -c 260 good.ts > cut260.ts
head -c 300 good.ts > cut300.ts
{ cat good.ts; head -c 10 good.ts; } > seg2cut.ts
{ cat good.ts; printf 'garbage!'; } > seg2bad.ts
{ cat good.ts; hdr 1 1 3 8 8 1; le32 1; pixels 100; } > seg2short.ts
# mixed segments: dtype, shape, labels
{ hdr 1 0 3 8 8 1; pixels 192; hdr 2 0 3 8 8 1; head -c 768 /dev/zero; } > mixdtype.ts
{ hdr 1 0 3 8 8 1; pixels 192; hdr 1 0 3 8 9 1; pixels 216; } > mixshape.ts
{ hdr 1 0 3 8 8 1; pixels 192; hdr 1 1 3 8 8 1; le32 0; pixels 192; } > mixlabels.ts
{ hdr 1 0 3 8 8 2; pixels 384; } > two.ts
{ hdr 1 0 3 8 8 3; pixels 576; } > three.ts
{ hdr 1 0 1 8 8 2; pixels 128; } > gray.ts
{ hdr 1 0 3 8 9 2; pixels 432; } > wide.ts
# CIFAR batches: sizes and labels
head -c 3073 /dev/zero > one10.bin
head -c 100 /dev/zero > size100.bin
head -c 6147 /dev/zero > size6147.bin
head -c $((3 * 3073)) /dev/zero > lab10.bin; poke lab10.bin 3073 10
head -c $((2 * 3074)) /dev/zero > train.bin; poke train.bin 3074 20
head -c $((2 * 3074)) /dev/zero > test.bin; poke test.bin 3075 100
mkdir -p c10/cifar-10-batches-bin
for b in 1 2 3 4 5; do cp one10.bin c10/cifar-10-batches-bin/data_batch_$b.bin; done
cp one10.bin c10/cifar-10-batches-bin/test_batch.bin
(cd c10 && tar --owner=0 --group=0 --mtime=@0 -cf ../c10.tar cifar-10-batches-bin) || exit 1
gzip -9n < c10.tar > c10.tar.gz
head -c $(($(wc -c < c10.tar.gz) / 2)) c10.tar.gz > cut.tar.gz
cp c10.tar.gz flip.tar.gz; poke flip.tar.gz 100 0; poke flip.tar.gz 101 0; poke flip.tar.gz 102 0
printf 'not a tar archive, but gzipped\n' | gzip -n > text.tar.gz
printf 'not gzip\n' > fake.tar.gz
cp c10.tar.gz badcrc.tar.gz
n=$(wc -c < badcrc.tar.gz); poke badcrc.tar.gz $((n - 8)) 0; poke badcrc.tar.gz $((n - 7)) 0
# models: a real one, then damaged copies and hand-made ones
ae-train -q --threads 1 --epochs 1 --batch 2 --arch conv4,conv4s2,up,conv3k1:sigmoid \
	-o tiny.model f8.ts || fail "training the fixture model"
variant mmagic.model tiny.model 1 88
variant mversion.model tiny.model 8 2
variant mcrc.model tiny.model 200 $(( ($(od -An -tu1 -j200 -N1 tiny.model) + 1) % 256 ))
head -c 100 tiny.model > mcut.model
head -c 8 tiny.model > mcut8.model
{ cat tiny.model; printf 'x'; } > mtrail.model
model conv4,conv4s2,up,conv3k1:sigmoid 256 32 64799 0 0 > bigshape.model
model up,up,up,up,up,up,up,up,up 3 32 32 0 0 > up9.model
model conv4,conv4s2,up,conv3k1:sigmoid 3 8 8 10 0 > mcount.model
model 'conv4,nonsense' 3 8 8 0 0 > march.model
model conv4,pool,pool,pool,pool 3 8 8 112 0 > mshape.model
model "conv1s2$(printf ',conv1s2%.0s' $(seq 1 31))" 3 8 8 338 0 > stride32.model

# --- the table: description | command | exit status | message
# (commands run in this directory; "lowmem" limits memory to 1 GB, "piped"
# feeds a file through a pipe)
cat > table <<'EOF'
stream magic, first byte         | noise-add magic0.ts     | 1 | byte 0: bad magic
stream magic, last byte          | img-compare magic7.ts good.ts | 1 | magic7.ts: segment 1, record 0, byte 0: bad magic
stream version                   | noise-add version.ts    | 1 | byte 8: unknown version 2 (this program reads version 1)
stream header length too small   | noise-add hlen32.ts     | 1 | byte 10: header length 32 is less than 64
stream header length unsupported | noise-add hlen128.ts    | 1 | byte 10: header length 128 not supported by version 1
stream dtype 0                   | noise-add dtype0.ts     | 1 | byte 12: unknown dtype 0 (1 = u8, 2 = f32)
stream dtype 3                   | img-compare good.ts dtype3.ts | 1 | dtype3.ts: segment 1, record 0, byte 12: unknown dtype 3
stream unknown flag              | noise-add flags.ts      | 1 | byte 13: unknown flag bits 0x02
stream reserved byte 14          | noise-add res14.ts      | 1 | byte 14: reserved byte 14 is not zero
stream reserved byte 29          | noise-add res29.ts      | 1 | byte 29: reserved byte 29 is not zero
stream reserved byte 40          | noise-add res40.ts      | 1 | byte 40: reserved byte 40 is not zero
stream reserved byte 63          | img-grid -o o-res63.png res63.ts | 1 | byte 63: reserved byte 63 is not zero
stream channels 0                | noise-add c0.ts         | 1 | byte 16: channel count 0 out of range (1 to 4096)
stream channels 4097             | noise-add c4097.ts      | 1 | byte 16: channel count 4097 out of range (1 to 4096)
stream height 0                  | noise-add h0.ts         | 1 | byte 20: height 0 out of range (1 to 65536)
stream height 65537              | img-compare h65537.ts good.ts | 1 | byte 20: height 65537 out of range
stream width 0                   | noise-add w0.ts         | 1 | byte 24: width 0 out of range (1 to 65536)
stream width 2^32-1              | noise-add wmax.ts       | 1 | byte 24: width 4294967295 out of range
stream record over 2^28 samples  | noise-add samples.ts    | 1 | record of 4096x256x257 samples exceeds the limit of 268435456
stream count 2^63-1              | noise-add count63.ts    | 1 | byte 32: record count 9223372036854775807 overflows the stream size
stream count 2^64-1              | ae-train -o o-cmax.model countmax.ts | 1 | byte 32: record count 18446744073709551615 overflows
empty input                      | noise-add empty.ts      | 1 | empty.ts: segment 1, record 0, byte 0: empty input
empty input on a pipe            | noise-add < empty.ts    | 1 | <stdin>: segment 1, record 0, byte 0: empty input
truncated inside the magic       | noise-add cut4.ts       | 1 | byte 0: truncated header (4 of 64 bytes)
truncated inside the header      | noise-add cut63.ts      | 1 | byte 0: truncated header (63 of 64 bytes)
truncated after the header       | noise-add cut64.ts      | 1 | record 0, byte 64: truncated record (inside the label; 2 records of the segment missing)
truncated inside a label         | noise-add cut66.ts      | 1 | record 0, byte 66: truncated record (inside the label; 2 records
truncated inside samples         | noise-add cut100.ts     | 1 | record 0, byte 100: truncated record (36 of 196 bytes; 2 records
truncated between records        | img-compare good.ts cut260.ts | 1 | record 1, byte 260: truncated record (inside the label; 1 records
truncated in samples, piped      | piped cut300.ts noise-add -o o-cut300.ts | 1 | <stdin>: segment 1, record 1, byte 300: truncated record (40 of 196 bytes; 1 records
truncated between segments       | noise-add seg2cut.ts    | 1 | segment 2, record 2, byte 456: truncated header (10 of 64 bytes)
garbage between segments         | noise-add seg2bad.ts    | 1 | segment 2, record 2, byte 456: bad magic
truncated second segment         | ae-apply -m tiny.model seg2short.ts | 1 | segment 2, record 2, byte 624: truncated record (104 of 196 bytes; 1 records
header claims 2^28 samples       | lowmem noise-add samples.ts | 1 | exceeds the limit
header claims 2^28 f32, 10 bytes | lowmem noise-add huge.ts | 1 | huge.ts: segment 1, record 0, byte 74: truncated record (10 of 1073741824 bytes; 3 records
same, training                   | lowmem ae-train -o o-huge.model huge.ts | 1 | byte 74: truncated record (10 of 1073741824 bytes
same, comparing                  | lowmem img-compare huge.ts huge.ts | 1 | byte 74: truncated record
same, grid of 3x4096x4096, piped | lowmem piped grid3.ts img-grid -o o-g.png | 1 | <stdin>: segment 1, record 0, byte 74: truncated record (10 of 50331648 bytes
same, applying                   | lowmem ae-apply -m tiny.model -b 1 huge3.ts | 1 | huge3.ts: segment 1, record 0, byte 74: truncated record (10 of 805306368 bytes
mixed dtypes (training)          | ae-train -o o-mix.model mixdtype.ts | 1 | segment 2, record 1, byte 256: segment shape f32 3x8x8 differs from the first segment's u8 3x8x8
mixed shapes (training)          | ae-train -o o-mix.model mixshape.ts | 1 | segment shape u8 3x8x9 differs from the first segment's u8 3x8x8
mixed labels (training)          | ae-train -o o-mix.model mixlabels.ts | 1 | segment shape u8 3x8x8 labelled differs from the first segment's u8 3x8x8
mixed shapes (comparing)         | img-compare good.ts wide.ts | 1 | image 0: shapes differ (3x8x8 in good.ts, 3x8x9 in wide.ts)
unequal counts (comparing)       | img-compare two.ts three.ts | 1 | three.ts has more images than two.ts (2 compared)
NaN sample (training)            | ae-train -o o-nan.model nan.ts | 1 | nan.ts: record 0 has a NaN sample (channel 1, row 4, column 4)
infinite sample (training)       | ae-train -o o-inf.model inf.ts | 1 | inf.ts: record 3 has an infinite sample (channel 1, row 7, column 4)
NaN sample (validation)          | ae-train -o o-nan.model --val nan.ts f8.ts | 1 | nan.ts: record 0 has a NaN sample
infinite sample (targets)        | ae-train -o o-inf.model --target inf.ts f8.ts | 1 | inf.ts: record 3 has an infinite sample
CIFAR file of 100 bytes          | cifar-extract size100.bin | 1 | size100.bin: size 100 is not a multiple of the CIFAR-10 record size 3073 or the CIFAR-100 record size 3074
CIFAR-10 file of 2 records - 1   | cifar-extract --cifar10 size6147.bin | 1 | size 6147 is not a multiple of the CIFAR-10 record size 3073
CIFAR-10 label 10                | cifar-extract -o o-lab.ts lab10.bin | 1 | lab10.bin: record 1: label 10 out of range (0-9)
CIFAR-100 coarse label 20        | cifar-extract train.bin | 1 | train.bin: record 1: coarse label 20 out of range (0-19)
CIFAR-100 fine label 100         | cifar-extract test.bin  | 1 | test.bin: record 1: fine label 100 out of range (0-99)
truncated tar.gz                 | cifar-extract -o o-cut.ts cut.tar.gz | 1 | cut.tar.gz: truncated
corrupt deflate data             | cifar-extract flip.tar.gz | 1 | flip.tar.gz: corrupt gzip data
gzip trailer CRC                 | cifar-extract badcrc.tar.gz | 1 | badcrc.tar.gz: corrupt gzip data (zlib: incorrect data check)
gzip data, not a tar archive     | cifar-extract text.tar.gz | 1 | text.tar.gz: truncated tar header at byte 0
.tar.gz that is not gzip         | cifar-extract fake.tar.gz | 1 | fake.tar.gz: not gzip data
model magic                      | ae-apply -m mmagic.model good.ts | 1 | mmagic.model: bad magic: not a cae model file
model version                    | ae-apply -m mversion.model good.ts | 1 | mversion.model: unknown model file version 2 (this program reads version 1)
model CRC                        | ae-apply -m mcrc.model good.ts | 1 | mcrc.model: CRC-32 mismatch
model truncated                  | ae-apply -m mcut.model good.ts | 1 | mcut.model: truncated
model of 8 bytes                 | ae-train --resume mcut8.model good.ts | 1 | mcut8.model: truncated: 8 bytes, too short for a model file
model with trailing data         | ae-apply -m mtrail.model good.ts | 1 | mtrail.model: 1 bytes of trailing data after the CRC-32
model parameter count            | ae-apply -m mcount.model good.ts | 1 | parameter count 10 does not match the 275 parameters
model architecture unparsable    | ae-apply -m march.model good.ts | 1 | architecture 'conv4,nonsense' does not parse: unknown layer 'nonsense'
model shape rejected by its arch | ae-apply -m mshape.model good.ts | 1 | does not accept its input shape 3x8x8
model of huge input shape        | lowmem ae-apply -m bigshape.model good.ts | 1 | parameter count 0 does not match the 9383 parameters
model asking for 3x16384x16384   | lowmem ae-apply -m up9.model good.ts | 1 | input 3x8x8: layer 9 (up): output 3x4096x4096 x 100 images: too large
model of stride 2^32             | ae-apply -m stride32.model good.ts | 1 | height and width must be multiples of 1073741824 for this model
model vs stream channels         | ae-apply -m tiny.model gray.ts | 1 | input has 1 channel, the model expects 3
a stream given as the model      | ae-apply -m good.ts good.ts | 1 | good.ts: a tensor stream, not a cae model file
a model given as the stream      | noise-add tiny.model    | 1 | a cae model file, not a tensor stream
a CIFAR batch given as a stream  | noise-add one10.bin     | 1 | not a tensor stream (a raw CIFAR batch? convert it with cifar-extract)
negative sigma                   | noise-add --sigma -0.5 good.ts | 2 | invalid value '-0.5' for --sigma
zero batch (training)            | ae-train -o o-b.model --batch 0 good.ts | 2 | --batch
zero batch (applying)            | ae-apply -m tiny.model -b 0 good.ts | 2 | --batch
unknown preset                   | ae-train -o o-p.model --arch no-such-preset good.ts | 2 | unknown layer 'no-such-preset'
unknown noise type               | noise-add -t pink good.ts | 2 | unknown noise type 'pink'
unknown split                    | cifar-extract --split valid c10 | 2 | valid
negative count                   | cifar-extract -n -5 one10.bin | 2 | -5
zero scale                       | img-grid -s 0 -o o-s.png good.ts | 2 | --scale
EOF

while IFS='|' read -r desc cmd want msg; do
	desc=$(echo "$desc" | sed 's/ *$//')
	cmd=$(echo "$cmd" | sed 's/^ *//; s/ *$//')
	want=$(echo "$want" | tr -d ' ')
	msg=$(echo "$msg" | sed 's/^ //')
	ncheck=$((ncheck + 1))
	eval "$cmd" > out.txt 2> err.txt < /dev/null
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		fail "$desc: '$cmd' exit $rc, expected $want: $(head -c 300 err.txt)"
	elif ! grep -qF -- "$msg" err.txt; then
		fail "$desc: '$cmd': message '$(head -c 300 err.txt)' lacks '$msg'"
	elif grep -qE 'Sanitizer|runtime error|LeakSanitizer' err.txt; then
		fail "$desc: '$cmd': sanitizer report: $(head -c 300 err.txt)"
	elif [ "$(grep -c . err.txt)" -gt 2 ]; then
		fail "$desc: '$cmd': more than a message: $(head -c 300 err.txt)"
	fi
done < table
echo "$(grep -c . table) cases"

# From a pipe the length is unknown: a header claiming 3 records of 2^28
# f32 samples, followed by 10 bytes, must still fail at once, with only
# the memory the data really filled (peak RSS, as /usr/bin/time reports it).
# (Not ae-apply: it builds its network for the header's image size before
# the first record arrives, and the engine zeroes what it allocates.)
if [ -x /usr/bin/time ]; then
	lim=65536
	[ -n "${CAE_SANITIZED:-}" ] && lim=524288   # ASan's own shadow and quarantine
	for cmd in "noise-add" "img-compare - huge.ts" "ae-train -o o-rss.model" \
		"img-grid -o o-rss.png"; do
		ncheck=$((ncheck + 1))
		cat huge.ts | /usr/bin/time -f %M -o rss.txt $cmd > /dev/null 2> err.txt
		rc=$?
		kb=$(tail -n 1 rss.txt)
		if [ $rc -ne 1 ] || ! grep -q "truncated record\|exceed the limit" err.txt; then
			fail "piped huge.ts | $cmd: exit $rc, $(cat err.txt)"
		elif [ "$kb" -gt $lim ]; then
			fail "piped huge.ts | $cmd: peak RSS $kb KB (limit $lim KB)"
		fi
	done
fi

# The fuzzers' regression inputs, through the programs as well (the
# harnesses replay them in tests/fuzz_smoke.sh when clang is there).
# A fuzz_model input ends with a byte that, when odd, asks for the CRC to
# be recomputed; fuzz_stream and fuzz_png inputs are files as they are.
for c in "$TOP"/tests/crashers/fuzz_model-* "$TOP"/tests/crashers/fuzz_stream-* \
	"$TOP"/tests/crashers/fuzz_png-*; do
	[ -f "$c" ] || continue
	case $(basename "$c") in
	fuzz_model-*)
		n=$(wc -c < "$c")
		head -c $((n - 1)) "$c" > crasher
		if [ $(( $(tail -c 1 "$c" | od -An -tu1) % 2 )) -eq 1 ] && [ "$n" -ge 5 ]; then
			head -c $((n - 5)) "$c" > body.tmp
			{ cat body.tmp; crc body.tmp; } > crasher
		fi
		set -- lowmem ae-apply -m crasher good.ts ;;
	fuzz_stream-*) cp "$c" crasher; set -- lowmem noise-add crasher ;;
	fuzz_png-*) cp "$c" crasher; set -- lowmem img-read crasher ;;
	esac
	ncheck=$((ncheck + 1))
	"$@" > /dev/null 2> err.txt
	rc=$?
	if [ $rc -gt 1 ] || grep -qE 'Sanitizer|runtime error' err.txt; then
		fail "$(basename "$c"): $* exit $rc: $(head -c 300 err.txt)"
	elif [ $rc -eq 1 ] && ! grep -q . err.txt; then
		fail "$(basename "$c"): $* failed without a message"
	fi
done

# no output and no temporary file left by any failed run
ncheck=$((ncheck + 1))
left=$(ls o-* ./*.tmp.* 2>/dev/null)
[ -z "$left" ] || fail "failed runs left files behind: $left"

finish
