# Runs every example of every section-1 man page on small fixtures: each
# literal block of EXAMPLES is one shell script that must succeed.
. "$TOP/tests/lib.sh"
[ -n "${CAE_SANITIZED:-}" ] && skip "slow under sanitizers; the other tests cover the same code"
cd "$TMPD" || exit 1
mkdir -p fx/cifar-10-batches-bin && cd fx || exit 1
# fake CIFAR-10: 10 records (labels 0-9, smooth-ish pixels) repeated
i=0
while [ $i -lt 10 ]; do
	printf "\\$(printf '%03o' $i)" > rec
	head -c 3072 /dev/zero | tr '\0' "\\$(printf '%03o' $((i * 20 + 30)))" >> rec
	cat rec >> ten.bin
	i=$((i + 1))
done
for k in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do cat ten.bin; done > b200.bin
for b in data_batch_1 data_batch_2 data_batch_3 data_batch_4 data_batch_5 test_batch; do
	cp b200.bin cifar-10-batches-bin/$b.bin
done
cp b200.bin test_batch.bin
mkdir -p cifar-100-binary
i=0
while [ $i -lt 20 ]; do
	printf "\\$(printf '%03o' $i)\\$(printf '%03o' $((i * 5)))" >> c100.bin
	head -c 3072 /dev/zero >> c100.bin
	i=$((i + 1))
done
cp c100.bin cifar-100-binary/train.bin
cp c100.bin cifar-100-binary/test.bin
tar czf cifar-100-binary.tar.gz cifar-100-binary
tar czf cifar-10-binary.tar.gz cifar-10-batches-bin
cifar-extract -n 200 test_batch.bin > clean.ts
ae-train -q --arch conv8,conv8s2,up,conv3k1:sigmoid --epochs 1 --batch 50 --noise 0.1 \
	-o denoise.model clean.ts || fail "fixture model"
cifar-extract -n 2 test_batch.bin | img-grid --gap 1 --cols 1 -o photo.png || fail "fixture png"
img-read photo.png > big.ts || fail "fixture big.ts"
for page in "$TOP"/man/*.1; do
	n=0
	awk '
		/^\.Sh EXAMPLES/ { ex = 1; next }
		/^\.Sh/ { ex = 0 }
		ex && /^\.Bd -literal/ { blk++; inb = 1; next }
		ex && /^\.Ed/ { inb = 0; next }
		ex && inb {
			sub(/^\$ /, "")
			gsub(/\\e/, "\\")
			print > ("ex-" blk ".sh")
		}' "$page"
	for ex in ex-*.sh; do
		[ -e "$ex" ] || continue
		n=$((n + 1))
		ok
		if ! sh -e "$ex" >out 2>err; then
			fail "$(basename "$page") example $n failed: $(cat "$ex") -- $(cat err)"
		fi
		rm -f "$ex"
	done
	echo "$(basename "$page"): $n examples"
done
finish
