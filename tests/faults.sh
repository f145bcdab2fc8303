# Faults from outside: (a) kill -9 during training at fixed pseudo-random
# points, resumed each time, must reach the bytes of an uninterrupted run,
# and whatever model is on disk must load; (b) full disks (/dev/full, and a
# 64 KiB tmpfs when this user may mount one): exit 1 with a message,
# nothing left under the target name or as a temporary; (c) `| head -c 100`
# after every writer: quiet, status 0 or SIGPIPE, no core; (d) slow and
# stalled pipes, and a reader stopped and continued mid-stream: the same
# bytes as reading the file directly.
. "$TOP/tests/lib.sh"
cd "$TMPD" || exit 1

le32() {
	printf "\\$(printf %03o $(($1 & 255)))\\$(printf %03o $(($1 >> 8 & 255)))"
	printf "\\$(printf %03o $(($1 >> 16 & 255)))\\$(printf %03o $(($1 >> 24 & 255)))"
}
# noise N C H W SEED: N varied u8 images (no labels)
noise() {
	{
		printf '\211TNS\r\n\032\n\001\000\100\000\001\000\000\000'
		le32 "$2"; le32 "$3"; le32 "$4"; le32 0; le32 "$1"; le32 0
		head -c 24 /dev/zero; head -c $(($1 * $2 * $3 * $4)) /dev/zero
	} | noise-add --u8 -t uniform --mean 0.5 --amount 0.5 --seed "$5"
}
# a temporary or partial file in directory D? (none, or fail)
no_temps() {
	ncheck=$((ncheck + 1))
	t=$(ls -A "$1" | grep '\.tmp\.' | tr '\n' ' ')
	[ -z "$t" ] || fail "$2: temporary files left in $1: $t"
}

noise 400 3 16 16 1 > d.ts || exit 1
noise 3000 3 32 32 2 > big.ts || exit 1
noise 20000 1 4 4 3 > many.ts && noise 20000 1 4 4 4 > many2.ts || exit 1
head -c $((3000 * 3073)) /dev/zero > big.bin
img-grid -n 256 -g 0 big.ts -o big.png || exit 1
ARCH="--arch conv8,conv8s2,up,conv3k1:sigmoid --threads 1 --batch 8"
ae-train -q $ARCH --epochs 1 -o tiny.model d.ts || exit 1

# --- (a) kill -9 at pseudo-random points, resuming each time
EP=24
t0=$(date +%s%N)
ae-train -q $ARCH --epochs $EP -o full.model d.ts || fail "uninterrupted run"
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
echo "uninterrupted run: $ms ms"
kills=0 starts=0 seed=12345
rm -f k.model
while :; do
	# five kills, each after a time from a fixed LCG sequence (2% to 12% of
	# a whole run), then a run to the end
	seed=$(( (seed * 1103515245 + 12345) % 2147483648 ))
	delay=$(( ms * (2 + seed / 65536 % 11) / 100 ))
	if [ -f k.model ]; then
		ae-train -q --resume k.model d.ts 2>err.txt &
	else
		ae-train -q $ARCH --epochs $EP --checkpoint-every 3 -o k.model d.ts 2>err.txt &
	fi
	pid=$!
	starts=$((starts + 1))
	if [ $kills -lt 5 ]; then
		sleep "$((delay / 1000)).$(printf %03d $((delay % 1000)))"
		if kill -9 $pid 2>/dev/null; then
			wait $pid 2>/dev/null
			kills=$((kills + 1))
			rm -f k.model.tmp.*   # SIGKILL leaves the temporary it was writing
			ncheck=$((ncheck + 1))
			if [ -f k.model ] && ! ae-apply -q -m k.model d.ts > /dev/null 2>err2.txt; then
				fail "after kill $kills the model on disk does not load: $(cat err2.txt)"
			fi
			continue
		fi
	fi
	wait $pid || fail "a resumed run failed: $(cat err.txt)"
	break
done
echo "kill -9: $kills kills in $starts runs"
ncheck=$((ncheck + 1))
[ $kills -eq 5 ] || fail "only $kills runs were killed (the machine is too fast?)"
same full.model k.model

# --- (b) full disks
for w in "cifar-extract big.bin" "noise-add d.ts" "ae-apply -m tiny.model d.ts" \
	"img-read big.png" "img-grid -o - d.ts" "img-compare --per-image d.ts d.ts"; do
	expect 1 "write error: No space left on device" sh -c "$w > /dev/full"
done
for w in "cifar-extract -o /dev/full big.bin" "noise-add -o /dev/full d.ts" \
	"ae-apply -o /dev/full -m tiny.model d.ts" "img-read -o /dev/full big.png" \
	"img-grid -o /dev/full d.ts" "ae-train -q $ARCH --epochs 1 -o /dev/full d.ts"; do
	expect 1 "/dev/full: write error: No space left on device" $w
done
no_temps /dev "/dev/full"

mkdir mnt
if mount -t tmpfs -o size=64k tmpfs mnt 2>/dev/null; then
	trap 'umount "$TMPD/mnt" 2>/dev/null; rm -rf "$TMPD"' EXIT
	for w in "cifar-extract big.bin" "noise-add big.ts" "ae-apply -m tiny.model big.ts" \
		"img-read big.png" "img-grid -s 3 big.ts" \
		"ae-train -q --arch seed-best --threads 1 --epochs 1 d.ts" \
		"ae-train -q --arch seed-best --threads 1 --epochs 1 --checkpoint-every 1 d.ts"; do
		printf 'old\n' > mnt/out
		expect 1 "mnt/out: write error: No space left on device" $w -o mnt/out
		ncheck=$((ncheck + 1))
		[ "$(cat mnt/out)" = old ] || fail "$w -o mnt/out: the earlier file was replaced"
		no_temps mnt "$w"
		rm -f mnt/out
		expect 1 "mnt/new: write error: No space left on device" $w -o mnt/new
		ncheck=$((ncheck + 1))
		[ -e mnt/new ] && fail "$w -o mnt/new: a partial file was left"
		no_temps mnt "$w"
	done
	expect 1 "write error: No space left on device" sh -c 'noise-add big.ts > mnt/x'
	rm -f mnt/x
	umount mnt
else
	echo "(b) skipped the tmpfs part: cannot mount a tmpfs here"
fi

# --- (c) a reader that stops after 100 bytes
for w in "cifar-extract big.bin" "noise-add big.ts" "ae-apply -m tiny.model big.ts" \
	"img-read big.png" "img-grid -o - -s 3 big.ts" "img-compare --per-image many.ts many2.ts"; do
	rm -f core core.*
	{ $w 2>err.txt; echo $? > st.txt; } | head -c 100 > head.out
	st=$(cat st.txt)
	ncheck=$((ncheck + 1))
	case $st in
	0|141) ;;
	*) fail "$w | head -c 100: exit $st" ;;
	esac
	[ -s err.txt ] && fail "$w | head -c 100: said '$(cat err.txt)'"
	[ "$(wc -c < head.out)" -eq 100 ] || fail "$w | head -c 100: $(wc -c < head.out) bytes"
	ls core core.* >/dev/null 2>&1 && fail "$w | head -c 100: dumped core"
done

# --- (d) slow and stalled pipes, stopped readers
# slow FILE: FILE in three pieces with pauses (a cut inside the header,
# then one inside a record)
slow() {
	head -c 10 "$1"; sleep 0.2
	tail -c +11 "$1" | head -c 1000; sleep 0.2
	tail -c +1011 "$1"
}
for w in "noise-add" "ae-apply -m tiny.model" "img-grid -o -" "ae-train -q $ARCH --epochs 1 -o"; do
	case $w in
	*-o) direct() { $w direct.out d.ts; cat direct.out; }; piped() { slow d.ts | $w piped.out; cat piped.out; } ;;
	*) direct() { $w d.ts; }; piped() { slow d.ts | $w; } ;;
	esac
	direct > a.out 2>err.txt || fail "$w d.ts: $(cat err.txt)"
	piped > b.out 2>err.txt || fail "slow pipe | $w: $(cat err.txt)"
	same a.out b.out
done
slow d.ts | img-compare --per-image - d.ts > b.out || fail "slow pipe | img-compare"
img-compare --per-image d.ts d.ts > a.out
same a.out b.out
# (from a pipe of unknown length, a segment per block of records: the same
# images and labels, differently segmented)
slow big.bin | cifar-extract > b.out || fail "slow pipe | cifar-extract"
cifar-extract big.bin > a.out
ncheck=$((ncheck + 1))
img-compare --per-image a.out b.out > cmp.txt || fail "img-compare after cifar-extract"
[ "$(awk -F'\t' 'NR > 1 && $3 == 0' cmp.txt | wc -l)" -eq 3000 ] ||
	fail "slow pipe | cifar-extract: other images"
slow big.png | img-read > b.out || fail "slow pipe | img-read"
img-read big.png > a.out
same a.out b.out

# a reader stopped and continued while its input stalls and flows
feed() { head -c 5000 big.ts; sleep 0.3; tail -c +5001 big.ts | head -c 200000; sleep 0.3; tail -c +205001 big.ts; }
feed | noise-add --seed 9 > b.out &
pid=$!
for i in 1 2 3 4 5 6; do
	sleep 0.1
	kill -STOP $pid 2>/dev/null
	sleep 0.05
	kill -CONT $pid 2>/dev/null
done
wait $pid || fail "a stopped and continued noise-add failed"
noise-add --seed 9 big.ts > a.out
same a.out b.out

finish
