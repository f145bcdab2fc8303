# cifar-extract on bad input and bad options: exact messages, exit status
# 1 for bad data, 2 for usage errors, and no output file left behind.
TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
. "$TOP/tests/lib.sh"
cd "$TMPD" || exit 1
P=cifar-extract

# poke FILE OFFSET BYTE: overwrite one byte in place
poke() { printf "\\$(printf %o "$3")" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null; }
# zeros N RECSIZE FILE
zeros() { head -c $(($1 * $2)) /dev/zero > "$3"; }

d=ok/cifar-10-batches-bin
mkdir -p $d
for b in 1 2 3 4 5; do zeros 2 3073 $d/data_batch_$b.bin; done
zeros 2 3073 $d/test_batch.bin
poke $d/data_batch_2.bin 3073 7
TAR="tar --owner=0 --group=0 --mtime=@0"
(cd ok && $TAR -czf ../good.tar.gz cifar-10-batches-bin) || fail "tar"
$P good.tar.gz > good.ts || fail "good archive"

# sizes
mkdir bad
head -c 6151 /dev/zero > bad/data_batch_1.bin
expect 1 "$P: bad/data_batch_1.bin: size 6151 is not a multiple of the CIFAR-10 record size 3073" \
	$P bad/data_batch_1.bin
head -c 6151 /dev/zero > bad/train.bin
expect 1 "$P: bad/train.bin: size 6151 is not a multiple of the CIFAR-100 record size 3074" \
	$P bad/train.bin
expect 1 "$P: bad/data_batch_1.bin: size 6151 is not a multiple of the CIFAR-100 record size 3074" \
	$P --cifar100 bad/data_batch_1.bin
head -c 100 /dev/zero > x.dat
expect 1 "$P: x.dat: size 100 is not a multiple of the CIFAR-10 record size 3073 or the CIFAR-100 record size 3074" \
	$P x.dat
: > empty.dat
expect 1 "$P: empty.dat: empty file" $P empty.dat
: > bad/test_batch.bin
expect 1 "$P: bad/test_batch.bin: empty file" $P bad/test_batch.bin
expect 1 "$P: <stdin>: empty input" $P - < empty.dat
head -c 3083 /dev/zero > x2.dat
expect 1 "$P: <stdin>: size 3083 is not a multiple of the CIFAR-10 record size 3073" $P < x2.dat
head -c $((3073 * 3074)) /dev/zero > both.dat
expect 1 "$P: both.dat: size 9446402 is a multiple of both the CIFAR-10 and the CIFAR-100 record size: use --cifar10 or --cifar100" \
	$P both.dat

# labels
zeros 20 3073 lab.bin
poke lab.bin $((17 * 3073)) 12
expect 1 "$P: lab.bin: record 17: label 12 out of range (0-9)" $P lab.bin
expect 1 "$P: <stdin>: record 17: label 12 out of range (0-9)" $P - < lab.bin
expect 1 "$P: lab.bin: record 17: label 12 out of range (0-9)" $P --class 1 -o out.ts lab.bin
ncheck=$((ncheck + 1))
[ -e out.ts ] && fail "output file left behind"
ls out.ts.tmp.* >/dev/null 2>&1 && fail "temporary file left behind"
$P -n 17 lab.bin > /dev/null || fail "the bad record is not read with -n 17"
zeros 4 3074 c100.bin
poke c100.bin $((2 * 3074)) 20
expect 1 "$P: c100.bin: record 2: coarse label 20 out of range (0-19)" $P --cifar100 c100.bin
zeros 4 3074 train.bin
poke train.bin $((3 * 3074 + 1)) 100
expect 1 "$P: train.bin: record 3: fine label 100 out of range (0-99)" $P train.bin

# directories
expect 1 "$P: nope: No such file or directory" $P nope
mkdir emptydir
expect 1 "$P: emptydir: no CIFAR batches here (expected data_batch_1.bin ... data_batch_5.bin and test_batch.bin for CIFAR-10, or train.bin and test.bin for CIFAR-100)" \
	$P emptydir
mkdir -p part/cifar-10-batches-bin
cp $d/data_batch_1.bin $d/data_batch_2.bin $d/data_batch_4.bin part/cifar-10-batches-bin/
expect 1 "$P: part/cifar-10-batches-bin: missing data_batch_3.bin (needed for --split train)" $P part
expect 1 "$P: part/cifar-10-batches-bin: missing test_batch.bin (needed for --split test)" \
	$P --split test part/cifar-10-batches-bin
expect 1 "$P: part/cifar-10-batches-bin: missing train.bin (needed for --split train)" \
	$P --cifar100 part/cifar-10-batches-bin
mkdir -p meta/cifar-10-batches-bin
cp $d/*.bin meta/cifar-10-batches-bin/
printf 'a\nb\nc\n' > meta/cifar-10-batches-bin/batches.meta.txt
expect 1 "$P: meta/cifar-10-batches-bin/batches.meta.txt: 3 class names, expected 10" $P meta

# archives
(cd part && $TAR -czf ../part.tar.gz cifar-10-batches-bin) || fail "tar"
expect 1 "$P: part.tar.gz: missing member data_batch_3.bin (needed for --split train)" $P part.tar.gz
expect 1 "$P: part.tar.gz: missing member test_batch.bin (needed for --split test)" \
	$P --split test part.tar.gz
n=$(wc -c < good.tar.gz)
head -c $((n / 2)) good.tar.gz > trunc.tar.gz
expect 1 "$P: trunc.tar.gz: truncated" $P trunc.tar.gz
head -c $((n - 4)) good.tar.gz > trunc2.tar.gz
expect 1 "$P: trunc2.tar.gz: truncated gzip data (unexpected end of file)" $P trunc2.tar.gz
cp good.tar.gz crc.tar.gz
poke crc.tar.gz $((n - 8)) $(( ($(od -An -tu1 -j$((n - 8)) -N1 good.tar.gz) + 1) % 256 ))
expect 1 "$P: crc.tar.gz: corrupt gzip data (zlib: incorrect data check)" $P crc.tar.gz
cp good.tar.gz method.tar.gz
poke method.tar.gz 2 9
expect 1 "$P: method.tar.gz: corrupt gzip data (zlib: unknown compression method)" $P method.tar.gz
(cd ok && tar -cf ../t.tar cifar-10-batches-bin/data_batch_1.bin) || fail "tar"
head -c 1000 t.tar | gzip > ttrunc.tar.gz
expect 1 "$P: ttrunc.tar.gz: truncated tar member cifar-10-batches-bin/data_batch_1.bin (488 of 6146 bytes)" \
	$P ttrunc.tar.gz
yes | head -c 5000 | gzip > notar.tar.gz
expect 1 "$P: notar.tar.gz: bad tar header checksum at byte 0 (not a tar archive?)" $P notar.tar.gz
cp lab.bin fake.tar.gz
expect 1 "$P: fake.tar.gz: not gzip data" $P fake.tar.gz
mkdir -p dup/a dup/b
cp $d/data_batch_1.bin dup/a/ && cp $d/data_batch_1.bin dup/b/
(cd dup && tar -czf ../dup.tar.gz a b) || fail "tar"
expect 1 "$P: dup.tar.gz: two members named data_batch_1.bin (a/data_batch_1.bin and b/data_batch_1.bin)" \
	$P dup.tar.gz
(cd dup && tar -czf ../other.tar.gz --exclude '*.bin' .) || fail "tar"
expect 1 "$P: other.tar.gz: no CIFAR batches in the archive" $P other.tar.gz

# mixing, classes and option values
expect 1 "$P: train.bin: CIFAR-100 data cannot follow CIFAR-10 data from $d/data_batch_1.bin" \
	$P $d/data_batch_1.bin train.bin
expect 2 "$P: unknown class 'wombat' for CIFAR-10 (see --list-classes)" $P --class wombat $d
expect 2 "$P: unknown class '10' for CIFAR-10 (see --list-classes)" $P --class 1,10 $d
expect 2 "$P: unknown class 'cat' for CIFAR-100 coarse labels (see --list-classes)" \
	$P --class cat --label coarse --cifar100 c100.bin
expect 2 "$P: --class needs at least one class" $P --class '' $d
expect 2 "$P: --class needs at least one class" $P --class ' , ' $d
expect 2 "$P: invalid value 'foo' for --split: expected train or test" $P --split foo $d
expect 2 "$P: invalid value 'foo' for --label: expected fine or coarse" $P --label foo $d
expect 2 "$P: invalid value '0' for --count: expected an integer of at least 1" $P --count 0 $d
expect 2 "$P: invalid value '-1' for --count: expected an integer of at least 1" $P -n -1 $d
expect 2 "$P: invalid value '1x' for --count: expected an integer of at least 1" $P --count 1x $d
expect 2 "$P: invalid value 'x' for --skip: expected an integer of at least 0" $P --skip x $d
expect 2 "$P: invalid value '-3' for --skip: expected an integer of at least 0" $P --skip -3 $d
expect 2 "$P: --cifar10 and --cifar100 exclude each other" $P --cifar10 --cifar100 $d
expect 2 "$P: --label coarse needs CIFAR-100 data (ok/cifar-10-batches-bin is CIFAR-10)" \
	$P --label coarse $d
expect 2 "$P: --label coarse needs CIFAR-100 data, not --cifar10" $P --label coarse --cifar10 x.dat
expect 2 "$P: standard input ('-') named more than once" $P - $d -
expect 2 "Try '$P --help'" $P --bogus $d

# output errors
if [ -w /dev/full ]; then
	expect 1 "$P: <stdout>: write error: No space left on device" sh -c "$P $d > /dev/full"
fi
$P $d | head -c 100 > /dev/null
ncheck=$((ncheck + 1))
[ "$($P --version)" = "$P (cae) $(sed -n 's/^VERSION = //p' "$TOP/config.mk")" ] || fail "--version"
$P --help | grep -q -- --list-classes || fail "--help"
finish
