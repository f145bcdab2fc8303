#!/bin/sh
# Writes the seed corpora of the fuzz harnesses into fuzz/out/seeds/NAME/,
# made with the project's own programs from small generated inputs (no
# downloaded data). Builds the programs first if they are missing.
# Usage: fuzz/seeds.sh
set -u
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
PATH="$top/bin:$PATH"
export LC_ALL=C
for p in cifar-extract noise-add img-grid img-read ae-train ae-apply; do
	[ -x "bin/$p" ] || { make -s >/dev/null || exit 1; break; }
done
S=$top/fuzz/out/seeds
rm -rf "$S"
mkdir -p "$S/stream" "$S/cifar" "$S/targz" "$S/model" "$S/arch" "$S/png" || exit 1
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1

die() { echo "seeds: $*" >&2; exit 1; }
# byte N: one raw byte
byte() { printf "\\$(printf %o "$1")"; }

# Varied pixels: a stream of N zero images with uniform noise, as raw bytes
# (headerless, no labels): pixels N FILE
pixels() {
	head -c $(($1 * 3073)) /dev/zero > z.bin
	cifar-extract --cifar10 --no-labels z.bin | noise-add --u8 --type uniform --amount 1 \
		--seed "$1" | tail -c +65 > "$2" || die "pixels"
}
pixels 4 px.raw
# cifar10 N SEED FILE / cifar100 N FILE: batches with labels in range
cifar10() {
	: > "$3"
	i=0
	while [ $i -lt "$1" ]; do
		{ byte $(( ($i + $2) % 10 )); dd if=px.raw bs=3072 skip=$(($i % 4)) count=1 2>/dev/null; } >> "$3"
		i=$((i + 1))
	done
}
cifar100() {
	: > "$2"
	i=0
	while [ $i -lt "$1" ]; do
		{ byte $((i * 7 % 20)); byte $((i * 31 % 100)); dd if=px.raw bs=3072 skip=$(($i % 4)) count=1 2>/dev/null; } >> "$2"
		i=$((i + 1))
	done
}

# --- CIFAR batches, directories and archives
mkdir -p c10/cifar-10-batches-bin c100/cifar-100-binary
for b in 1 2 3 4 5; do cifar10 1 $b c10/cifar-10-batches-bin/data_batch_$b.bin; done
cifar10 2 7 c10/cifar-10-batches-bin/test_batch.bin
printf 'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n' \
	> c10/cifar-10-batches-bin/batches.meta.txt
cifar100 2 c100/cifar-100-binary/train.bin
cifar100 1 c100/cifar-100-binary/test.bin
i=0; while [ $i -lt 20 ]; do echo "coarse$i"; i=$((i + 1)); done > c100/cifar-100-binary/coarse_label_names.txt
i=0; while [ $i -lt 100 ]; do echo "fine$i"; i=$((i + 1)); done > c100/cifar-100-binary/fine_label_names.txt
TAR="tar --owner=0 --group=0 --mtime=@0 --format=gnu"
(cd c10 && $TAR -cf ../c10.tar cifar-10-batches-bin) || die "tar"
(cd c100 && $TAR -cf ../c100.tar cifar-100-binary) || die "tar"
(cd c10 && tar --owner=0 --group=0 --mtime=@0 --format=pax -cf ../c10pax.tar cifar-10-batches-bin) ||
	die "tar"
gzip -9n < c10.tar > c10.tar.gz && gzip -9n < c100.tar > c100.tar.gz || die "gzip"
# a GNU long name, a directory, a symlink and an empty member
deep=long/$(printf 'd%.0s' $(seq 1 60))/$(printf 'e%.0s' $(seq 1 60))
mkdir -p $deep
cp c10/cifar-10-batches-bin/test_batch.bin $deep/
ln -s test_batch.bin $deep/link
: > long/empty
(cd long && $TAR -cf ../long.tar .) || die "tar"

# fuzz_cifar: mode byte, then the input (see fuzz/fuzz_cifar.c)
C=$S/cifar
{ byte 0; cat c10/cifar-10-batches-bin/data_batch_1.bin; } > $C/batch10
{ byte $((0 | 64)); cat c10/cifar-10-batches-bin/test_batch.bin; } > $C/batch10-7
{ byte 1; cat c100/cifar-100-binary/train.bin; } > $C/batch100
{ byte 2; cat c10/cifar-10-batches-bin/test_batch.bin; } > $C/auto10
{ byte 2; cat c100/cifar-100-binary/train.bin; } > $C/auto100
{ byte $((3 | 16)); cat c100/cifar-100-binary/test.bin; } > $C/forced100
{ byte $((4 | 32)); cat c10.tar; } > $C/tar10
{ byte $((4 | 8 | 32)); cat c10.tar; } > $C/tar10-test
{ byte $((4 | 16 | 32)); cat c100.tar; } > $C/tar100
{ byte $((4 | 32)); cat c10pax.tar; } > $C/tar10-pax
{ byte 5; cat c10.tar.gz; } > $C/gz10
{ byte $((5 | 8 | 16)); cat c100.tar.gz; } > $C/gz100
{ byte $((6 | 8)); byte 71; head -c 71 c10/cifar-10-batches-bin/batches.meta.txt;
  cat c10/cifar-10-batches-bin/test_batch.bin; } > $C/dir10
cat c100/cifar-100-binary/fine_label_names.txt c100/cifar-100-binary/coarse_label_names.txt > names100
{ byte 7; byte 255; head -c 255 names100; cat c100/cifar-100-binary/train.bin; } > $C/dir100

# fuzz_targz: flags, a byte, then tar content or gzip data
G=$S/targz
{ byte $((1 | 2)); byte 0; cat c10.tar; } > $G/tar10
{ byte $((1 | 2 | 8 | 16)); byte 0; cat c100.tar; } > $G/tar100-rewind
{ byte $((1 | 2 | 32)); byte 0; cat long.tar; } > $G/long
{ byte $((1 | 2 | 64)); byte 0; cat c10pax.tar; } > $G/pax-early
{ byte $((1 | 2 | 4)); byte 200; cat c10.tar; } > $G/cut
{ byte 0; byte 0; cat c10.tar.gz; } > $G/gz10
{ byte 8; byte 0; cat c100.tar.gz; } > $G/gz100
{ byte 1; byte 0; printf 'plain text, not a tar archive\n'; } > $G/text

# --- tensor streams
ST=$S/stream
cifar-extract -n 2 c10/cifar-10-batches-bin/test_batch.bin > $ST/u8-labels || die "cifar-extract"
cifar-extract -n 1 --float --no-labels c10/cifar-10-batches-bin/test_batch.bin > $ST/f32 || die "f32"
cifar-extract -n 2 c10/cifar-10-batches-bin/test_batch.bin | noise-add --sigma 0.2 > $ST/noisy-f32 ||
	die "noise-add"
# many small segments, one of them empty: img-read of two PNGs, then a
# zero-count header (as a writer that knew nothing would leave it)
img-grid -c 2 -g 0 -s 1 $ST/u8-labels -o two.png || die "img-grid"
img-read two.png two.png > $ST/segments || die "img-read"
head -c 64 $ST/segments | dd bs=1 count=32 2>/dev/null > hdr0
{ cat hdr0; head -c 32 /dev/zero; } >> $ST/segments
cp $ST/segments "$T/segments.ts"
{ cat hdr0; head -c 32 /dev/zero; } > $ST/empty-segment
# small shapes: 1x2x2 u8, 2 records, with and without labels
{ head -c 8 $ST/u8-labels; byte 1; byte 0; byte 64; byte 0; byte 1; byte 1; byte 0; byte 0;
  byte 1; byte 0; byte 0; byte 0; byte 2; byte 0; byte 0; byte 0; byte 2; byte 0; byte 0; byte 0;
  head -c 4 /dev/zero; byte 2; head -c 31 /dev/zero;
  byte 3; head -c 3 /dev/zero; printf 'abcd'; byte 9; head -c 3 /dev/zero; printf 'efgh'; } > $ST/small
cifar-extract -n 1 c100/cifar-100-binary/train.bin | head -c 100 > $ST/truncated
printf '\211PNG\r\n\032\n' > $ST/png-magic

# --- models: small architectures trained for a step or two
cifar-extract -n 4 --no-labels c10/cifar-10-batches-bin/data_batch_1.bin \
	c10/cifar-10-batches-bin/data_batch_2.bin c10/cifar-10-batches-bin/data_batch_3.bin \
	c10/cifar-10-batches-bin/data_batch_4.bin > train.ts || die "train data"
M=$S/model
n=0
for spec in conv4,conv4s2,up,conv3k1:sigmoid conv2,bn,pool,conv2k1:valid,up,conv3k1:linear \
	conv2k5:same,relu,sigmoid,conv3k1; do
	n=$((n + 1))
	ae-train -q --threads 1 --epochs 1 --batch 2 --arch "$spec" -o m$n.model train.ts ||
		die "ae-train $spec"
	ae-train -q --threads 1 --epochs 1 --batch 2 --arch "$spec" --no-state -o s$n.model train.ts ||
		die "ae-train --no-state $spec"
	{ cat m$n.model; byte 0; } > $M/state$n
	{ cat s$n.model; byte 1; } > $M/nostate$n
done
# a dense model on a small input shape
head -c 64 train.ts | dd bs=1 count=16 2>/dev/null > h16
{ cat h16; byte 3; head -c 3 /dev/zero; byte 4; head -c 3 /dev/zero; byte 4; head -c 7 /dev/zero;
  byte 8; head -c 31 /dev/zero; head -c $((8 * 48)) px.raw; } > small.ts
ae-train -q --threads 1 --epochs 1 --batch 4 --arch flatten,dense4,dense48:sigmoid,reshape3x4x4 \
	-o d.model small.ts || die "ae-train dense"
{ cat d.model; byte 0; } > $M/dense
cp m1.model "$T/tiny.model"

# --- architectures: every preset by name and by spec, and one of each form
A=$S/arch
for p in dense1 dense3 conv-dense conv-dense-bn shallow-pool shallow-strided seed-best; do
	printf '%s' "$p" > $A/preset-$p
	ae-train --print-arch --arch "$p" > /dev/null || die "preset $p"
done
n=0
for spec in 'conv32,bn,conv32s2,conv32,bn,up,conv32,bn,conv3k1:sigmoid' \
	'conv8k5s2:valid:linear, relu ,pool,up,sigmoid' 'flatten,dense16:linear,dense3072:sigmoid,reshape3x32x32' \
	'conv4k1,conv4k7:same:relu,conv3k3s1:valid:sigmoid' 'reshape12x16x16,conv3,reshape3x32x32' \
	'conv16,pool,pool,pool,up,up,up,conv3k1:sigmoid' 'bn,relu' \
	'conv8,save:a,conv8s2,up,add:a,conv3k1:sigmoid' 'conv4,s2d,conv8,d2s,conv3k1,clip' \
	'save:x,conv4,concat:x,conv3k1:linear'; do
	n=$((n + 1))
	printf '%s' "$spec" > $A/spec$n
done
# with a shape after the NUL: C-1, H-1, W-1 (two bytes)
{ printf 'conv8,conv8s2,up,conv3k1:sigmoid'; byte 0; byte 0; byte 15; byte 255; byte 1; } > $A/wide-gray
{ printf 'conv32,bn,conv3k3:sigmoid'; byte 0; byte 2; byte 7; byte 199; byte 0; } > $A/wide-rgb
{ printf 'conv4,pool,up,conv3'; byte 0; byte 3; byte 0; byte 0; byte 0; } > $A/one-pixel

# --- PNG images: written by img-grid, and by PIL in the other colour
# types, bit depths and interlacing when /usr/bin/python3 has it
P=$S/png
cp two.png $P/rgb
cifar-extract -n 1 --no-labels c10/cifar-10-batches-bin/test_batch.bin > one.ts
img-grid -s 2 one.ts -o $P/scaled || die "img-grid"
if /usr/bin/python3 -c 'import PIL' 2>/dev/null; then
	(cd "$P" && /usr/bin/python3 - <<'PYEOF') || die "PIL seeds"
from PIL import Image
w, h = 7, 5
rgb = Image.new("RGB", (w, h))
rgb.putdata([(x * 30, y * 50, (x + y) * 20) for y in range(h) for x in range(w)])
rgb.save("rgb-interlaced", "PNG", interlace=1)
rgb.convert("RGBA").save("rgba", "PNG")
rgb.convert("L").save("gray", "PNG")
rgb.convert("LA").save("gray-alpha", "PNG")
rgb.convert("1").save("bits1", "PNG")
rgb.convert("P", palette=Image.ADAPTIVE, colors=4).save("palette2", "PNG", bits=2)
p = rgb.convert("P", palette=Image.ADAPTIVE, colors=16)
p.info["transparency"] = 3
p.save("palette-trns", "PNG", transparency=3)
Image.new("I;16", (w, h), 40000).save("gray16", "PNG")
PYEOF
fi
for d in "$S"/*; do
	echo "seeds: $(basename "$d"): $(ls "$d" | wc -l) files"
done
