# cifar-extract on small fake CIFAR-10/CIFAR-100 batches (and the real
# CIFAR-10 training set when it is present): pixels and labels round trip
# exactly, selection options, archives equal directories.
TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
. "$TOP/tests/lib.sh"
cd "$TMPD" || exit 1

# byte N: the byte N (0-255)
byte() { printf "\\$(printf %o "$1")"; }
# pixels OFF: 3072 bytes counting up from OFF, modulo 256
i=0
while [ $i -lt 256 ]; do byte $i; i=$((i + 1)); done > ramp1
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14; do cat ramp1; done > ramp
pixels() { tail -c +$(($1 + 1)) ramp | head -c 3072; }
# ts_header DTYPE FLAGS COUNT: a 3x32x32 segment header, cae-stream(5)
ts_header() {
	printf '\211TNS\r\n\032\n\001\000\100\000'
	byte "$1"; byte "$2"
	printf '\000\000\003\000\000\000\040\000\000\000\040\000\000\000\000\000\000\000'
	byte $(($3 % 256)); byte $(($3 / 256 % 256)); byte $(($3 / 65536 % 256))
	head -c 29 /dev/zero
}
# list10 B: "label offset" of each record of CIFAR-10 batch B (6: test)
list10() {
	case $1 in 1) n=4 ;; 2) n=3 ;; 3) n=5 ;; 4) n=2 ;; 5) n=3 ;; 6) n=6 ;; esac
	r=0
	while [ $r -lt $n ]; do
		echo "$(((r * 3 + $1) % 10)) $((($1 * 37 + r * 11) % 256))"
		r=$((r + 1))
	done
}
# list100 train|test [coarse|both]: "fine offset", "coarse offset" or
# "coarse fine offset" of each CIFAR-100 record
list100() {
	if [ "$1" = train ]; then n=5 t=0; else n=3 t=1; fi
	r=0
	while [ $r -lt $n ]; do
		c=$(((r * 3 + t) % 20)) f=$(((r * 7 + 3 + t * 50) % 100)) o=$(((t * 91 + r * 13 + 5) % 256))
		case $2 in coarse) echo "$c $o" ;; both) echo "$c $f $o" ;; *) echo "$f $o" ;; esac
		r=$((r + 1))
	done
}
d=c10/cifar-10-batches-bin
mkdir -p $d c100/cifar-100-binary
for b in 1 2 3 4 5 6; do
	f=$d/data_batch_$b.bin
	[ $b -eq 6 ] && f=$d/test_batch.bin
	list10 $b | while read -r l o; do byte "$l"; pixels "$o"; done > $f
done
printf 'Airplane\nAutomobile\nBird\nCat\nDeer\nDog\nFrog\nHorse \r\nShip\n\n  Truck\n\n' \
	> $d/batches.meta.txt
for s in train test; do
	list100 $s both | while read -r c f o; do byte "$c"; byte "$f"; pixels "$o"; done \
		> c100/cifar-100-binary/$s.bin
done
i=0
while [ $i -lt 20 ]; do
	if [ $i -eq 2 ]; then echo Flowers; else echo "super$i"; fi
	i=$((i + 1))
done > c100/cifar-100-binary/coarse_label_names.txt

# the tensor stream of the fixture records listed in $TMPD/rec.list
# ("label offset" lines) with dtype 1 and labels
expect_file() { # OUT COUNT [nolabels]
	if [ -n "$3" ]; then ts_header 1 0 "$2"; else ts_header 1 1 "$2"; fi > "$1"
	while read -r l o; do
		[ -n "$3" ] || { byte "$l"; byte 0; byte 0; byte 0; }
		pixels "$o"
	done < rec.list >> "$1"
}

# 1. a single batch file
list10 1 > rec.list
expect_file e1.ts 4
cifar-extract c10/cifar-10-batches-bin/data_batch_1.bin > o1.ts || fail "batch file"
same o1.ts e1.ts
cifar-extract - < c10/cifar-10-batches-bin/data_batch_1.bin > o1s.ts || fail "stdin"
same o1s.ts e1.ts
cifar-extract < c10/cifar-10-batches-bin/data_batch_1.bin > o1s.ts || fail "no input"
same o1s.ts e1.ts
cifar-extract -o o1o.ts c10/cifar-10-batches-bin/data_batch_1.bin || fail "-o"
same o1o.ts e1.ts

# 2. the directory, train and test splits, and the parent directory
for b in 1 2 3 4 5; do list10 $b; done > rec.list
expect_file etrain.ts 17
cifar-extract c10/cifar-10-batches-bin > otrain.ts || fail "directory"
same otrain.ts etrain.ts
cifar-extract c10 > otrain2.ts || fail "parent directory"
same otrain2.ts etrain.ts
list10 6 > rec.list
expect_file etest.ts 6
cifar-extract --split test c10/cifar-10-batches-bin > otest.ts || fail "--split test"
same otest.ts etest.ts

# 3. archives, members out of order, equal the directory byte for byte
(cd c10 && tar czf ../cifar-10-binary.tar.gz cifar-10-batches-bin/test_batch.bin \
	cifar-10-batches-bin/data_batch_4.bin cifar-10-batches-bin/batches.meta.txt \
	cifar-10-batches-bin/data_batch_2.bin cifar-10-batches-bin/data_batch_1.bin \
	cifar-10-batches-bin/data_batch_5.bin cifar-10-batches-bin/data_batch_3.bin) ||
	fail "tar czf"
cifar-extract cifar-10-binary.tar.gz > otgz.ts || fail "archive"
same otgz.ts etrain.ts
cifar-extract --split test cifar-10-binary.tar.gz > test.ts || fail "archive test split"
same test.ts etest.ts
(cd c10 && tar czf ../c10b.tgz --format=gnu cifar-10-batches-bin) || fail "tar czf gnu"
cifar-extract c10b.tgz > otgz2.ts || fail "gnu archive"
same otgz2.ts etrain.ts
(cd c10 && tar czf ../c10p.tgz --format=pax cifar-10-batches-bin) || fail "tar czf pax"
cifar-extract c10p.tgz > otgz3.ts || fail "pax archive"
same otgz3.ts etrain.ts

# 4. several inputs make one stream
{ list10 1; list10 6; list10 2; } > rec.list
expect_file emulti.ts 13
cifar-extract c10/cifar-10-batches-bin/data_batch_1.bin cifar-10-binary.tar.gz \
	c10/cifar-10-batches-bin/data_batch_2.bin --split test > omulti.ts || fail "several inputs"
same omulti.ts emulti.ts

# 5. --skip, --count, --no-labels
for b in 1 2 3 4 5; do list10 $b; done | sed -n '4,9p' > rec.list
expect_file esc.ts 6
cifar-extract --skip 3 --count 6 c10/cifar-10-batches-bin > osc.ts || fail "--skip --count"
same osc.ts esc.ts
cifar-extract --skip 3 -n 6 cifar-10-binary.tar.gz > osc2.ts || fail "archive --skip -n"
same osc2.ts esc.ts
expect_file escn.ts 6 nolabels
cifar-extract --skip 3 --count 6 --no-labels c10 > oscn.ts || fail "--no-labels"
same oscn.ts escn.ts
ts_header 1 1 0 > eempty.ts
cifar-extract --skip 17 c10 > oempty.ts || fail "skip all"
same oempty.ts eempty.ts
cifar-extract --skip 1000 --class 3 c10 > oempty2.ts || fail "skip all of a class"
same oempty2.ts eempty.ts

# 6. --class by number and by name (names from batches.meta.txt)
for b in 1 2 3 4 5; do list10 $b; done | awk '$1 == 3 || $1 == 7' > rec.list
n=$(wc -l < rec.list)
expect_file ecls.ts "$n"
cifar-extract --class 3,horse c10 > ocls.ts || fail "--class"
same ocls.ts ecls.ts
cifar-extract -c 'CAT, 7' cifar-10-binary.tar.gz > ocls2.ts || fail "--class archive"
same ocls2.ts ecls.ts
sed 1d rec.list > rec2.list && mv rec2.list rec.list
expect_file ecls3.ts 2
cifar-extract -c 3,7 --skip 1 --count 2 c10 > ocls3.ts || fail "--class --skip --count"
same ocls3.ts ecls3.ts

# 7. --list-classes: meta file, archive, built-in lists
cifar-extract --list-classes c10 > l1 || fail "--list-classes"
printf '0\tAirplane\n1\tAutomobile\n2\tBird\n3\tCat\n4\tDeer\n5\tDog\n6\tFrog\n7\tHorse\n8\tShip\n9\tTruck\n' > l1e
same l1 l1e
cifar-extract --list-classes cifar-10-binary.tar.gz > l2 || fail "--list-classes archive"
same l2 l1e
cifar-extract --list-classes > l3 || fail "--list-classes built-in"
printf '0\tairplane\n1\tautomobile\n2\tbird\n3\tcat\n4\tdeer\n5\tdog\n6\tfrog\n7\thorse\n8\tship\n9\ttruck\n' > l3e
same l3 l3e
cp c10/cifar-10-batches-bin/data_batch_1.bin lone.bin
cifar-extract --list-classes lone.bin > l4 || fail "--list-classes beside a file"
same l4 l3e
cifar-extract --class cat lone.bin > ocat.ts || fail "--class built-in name"
cifar-extract --class 3 lone.bin > ocat3.ts || fail "--class 3"
same ocat.ts ocat3.ts
ncheck=$((ncheck + 1))
[ "$(cifar-extract --list-classes --cifar100 | wc -l)" -eq 100 ] || fail "CIFAR-100 fine list"
ncheck=$((ncheck + 1))
[ "$(cifar-extract --list-classes --cifar100 | sed -n '42p')" = "$(printf '41\tlawn_mower')" ] ||
	fail "CIFAR-100 fine name 41"
ncheck=$((ncheck + 1))
[ "$(cifar-extract --list-classes --cifar100 --label coarse | sed -n '20p')" = \
	"$(printf '19\tvehicles_2')" ] || fail "CIFAR-100 coarse list"

# 8. --float: v/255, same records
cifar-extract --float --no-labels c10 > of.ts || fail "--float"
cifar-extract --no-labels c10 > ou.ts
ncheck=$((ncheck + 1))
[ "$(od -An -tu1 -j12 -N2 of.ts | tr -s ' ')" = " 2 0" ] || fail "--float header"
ncheck=$((ncheck + 1))
[ "$(wc -c < of.ts)" -eq $((64 + 17 * 3072 * 4)) ] || fail "--float size"
tail -c +65 of.ts | od -An -v -tf4 -w4 | awk '{ printf "%d\n", $1 * 255 + 0.5 }' > f.txt
tail -c +65 ou.ts | od -An -v -tu1 -w1 | awk '{ print $1 + 0 }' > u.txt
same f.txt u.txt
cifar-extract --float c10 > ofl.ts || fail "--float labelled"
ncheck=$((ncheck + 1))
[ "$(od -An -tu1 -j12 -N2 ofl.ts | tr -s ' ')" = " 2 1" ] || fail "--float labelled header"
ncheck=$((ncheck + 1))
[ "$(od -An -td4 -j64 -N4 ofl.ts | tr -d ' ')" = 1 ] || fail "--float label"

# 9. CIFAR-100: fine and coarse labels, detection by name and by size
list100 train > rec.list
expect_file e100f.ts 5
cifar-extract c100/cifar-100-binary/train.bin > o100f.ts || fail "CIFAR-100 file"
same o100f.ts e100f.ts
cifar-extract c100 > o100d.ts || fail "CIFAR-100 directory"
same o100d.ts e100f.ts
(cd c100 && tar czf ../cifar-100-binary.tar.gz cifar-100-binary) || fail "tar czf 100"
cifar-extract cifar-100-binary.tar.gz > o100t.ts || fail "CIFAR-100 archive"
same o100t.ts e100f.ts
list100 train coarse > rec.list
expect_file e100c.ts 5
cifar-extract --label coarse cifar-100-binary.tar.gz > o100c.ts || fail "--label coarse"
same o100c.ts e100c.ts
list100 test > rec.list
expect_file e100t.ts 3
cifar-extract --split test --label fine c100/cifar-100-binary > o100tt.ts || fail "CIFAR-100 test"
same o100tt.ts e100t.ts
cp c100/cifar-100-binary/test.bin odd100.dat
cifar-extract odd100.dat > o100odd.ts || fail "CIFAR-100 by size"
same o100odd.ts e100t.ts
cp c10/cifar-10-batches-bin/data_batch_1.bin odd10.dat
cifar-extract odd10.dat > o10odd.ts || fail "CIFAR-10 by size"
same o10odd.ts e1.ts
cifar-extract --cifar100 - < odd100.dat > o100s.ts || fail "CIFAR-100 on stdin"
same o100s.ts e100t.ts
cifar-extract --list-classes --label coarse cifar-100-binary.tar.gz > lc || fail "coarse names"
ncheck=$((ncheck + 1))
[ "$(sed -n 3p lc)" = "$(printf '2\tFlowers')" ] || fail "coarse names from the archive: $(sed -n 3p lc)"
cifar-extract -c flowers,0 --label coarse c100 > o100sel.ts || fail "--class coarse"
list100 train coarse | awk '$1 == 2 || $1 == 0' > rec.list
expect_file e100sel.ts "$(wc -l < rec.list)"
same o100sel.ts e100sel.ts

# 10. a size that fits both record sizes needs --cifar10 or --cifar100
head -c $((3073 * 3074)) /dev/zero > both.dat
cifar-extract --cifar10 both.dat | wc -c > n10 || fail "--cifar10"
cifar-extract --cifar100 both.dat | wc -c > n100 || fail "--cifar100"
ncheck=$((ncheck + 2))
[ "$(cat n10)" -eq $((64 + 3074 * 3076)) ] || fail "--cifar10 count $(cat n10)"
[ "$(cat n100)" -eq $((64 + 3073 * 3076)) ] || fail "--cifar100 count $(cat n100)"

# 11. the examples of the man page
cifar-extract --class cat,dog --float c10/cifar-10-batches-bin > pets.ts || fail "example pets"
if [ -x "$TOP/bin/noise-add" ] && [ -x "$TOP/bin/img-grid" ]; then
	cd c10 || exit 1
	cifar-extract -n 100 cifar-10-batches-bin/test_batch.bin |
		noise-add --sigma 0.3 | img-grid --cols 20 -o noisy.png || fail "example pipeline"
	ncheck=$((ncheck + 1))
	[ -s noisy.png ] || fail "example pipeline wrote nothing"
	cd .. || exit 1
fi

# 12. the real CIFAR-10 training set, when present
if have_cifar; then
	cifar-extract -q "$CIFAR_DIR" | wc -c > nall
	ncheck=$((ncheck + 1))
	[ "$(cat nall)" -eq $((64 + 50000 * 3076)) ] || fail "real data: $(cat nall) bytes"
	for k in 0 1 2 3 4 5 6 7 8 9; do
		# 5000 records: 5 segments of 1000
		n=$(cifar-extract -q --class $k --no-labels "$CIFAR_DIR" | wc -c)
		ncheck=$((ncheck + 1))
		[ "$n" -eq $((5000 * 3072 + 5 * 64)) ] || fail "real data: class $k: $n bytes"
	done
else
	echo "real CIFAR-10 data absent: those checks skipped"
fi
finish
