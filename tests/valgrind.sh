# Every program once under valgrind memcheck: a short pipeline
# (cifar-extract | noise-add | ae-apply | img-grid), img-read, img-compare
# and a one-epoch ae-train, single- and multi-threaded. Any invalid access,
# use of uninitialised memory or leak fails the test.
# Valgrind cannot run AVX-512, and the normal build uses -march=native, so
# the programs are built again for x86-64-v3 (or plain x86-64 without AVX2)
# into tests/out/valgrind-build
# (kept between runs: only changed files are recompiled).
. "$TOP/tests/lib.sh"
command -v valgrind >/dev/null || skip "valgrind not installed"
[ -n "${CAE_SANITIZED:-}" ] && skip "valgrind does not run ASan builds"
case $(uname -m) in x86_64) ;; *) skip "the valgrind build is for x86-64" ;; esac

B=$TOP/tests/out/valgrind-build
mkdir -p "$B/lib" "$B/bin" || exit 1
rm -f "$B"/lib/*.c "$B"/lib/*.h "$B"/bin/*.c
cp -p "$TOP/Makefile" "$TOP/config.mk" "$B/" &&
	cp -p "$TOP"/lib/*.c "$TOP"/lib/*.h "$B/lib/" && cp -p "$TOP"/bin/*.c "$B/bin/" || exit 1
march=x86-64-v3
grep -q '^flags.* avx2' /proc/cpuinfo 2>/dev/null || march=x86-64
make -s -C "$B" -j2 OPT="-O1 -g -march=$march" all > "$TMPD/build.log" 2>&1 ||
	{ cat "$TMPD/build.log"; echo "building the valgrind copy failed"; exit 1; }
P=$B/bin
cd "$TMPD" || exit 1

# Worker threads (the engine's pool) live until exit; their TLS
# blocks are then "possibly lost". Only those are suppressed.
cat > vg.supp <<'EOF'
{
   thread-pool-tls
   Memcheck:Leak
   match-leak-kinds: possible
   fun:calloc
   ...
   fun:_dl_allocate_tls
   ...
   fun:pthread_create*
}
EOF
# vg NAME CMD...: CMD under memcheck, its report kept in vg-NAME.log
vg() {
	_name=$1; shift
	valgrind --error-exitcode=99 --leak-check=full -q --suppressions=vg.supp \
		--log-file="vg-$_name.log" "$@"
}
# check NAME STATUS: the command ended well and valgrind said nothing
check() {
	ncheck=$((ncheck + 1))
	if [ "$2" -ne 0 ] || [ -s "vg-$1.log" ]; then
		fail "$1: exit $2"
		sed 's/^/    /' "vg-$1.log" | head -n 40 >&2
	fi
}

head -c $((40 * 3073)) /dev/zero > b.bin
i=0; while [ $i -lt 40 ]; do printf "\\$(printf %03o $((i % 10)))" |
	dd of=b.bin bs=1 seek=$((i * 3073)) conv=notrunc 2>/dev/null; i=$((i + 1)); done
"$TOP/bin/cifar-extract" b.bin | "$TOP/bin/noise-add" --u8 -t uniform --mean 0.5 \
	--amount 0.5 > imgs.ts || exit 1

vg train1 "$P/ae-train" -q --threads 1 --epochs 1 --batch 8 \
	--arch conv4,bn,conv4s2,up,conv3k1:sigmoid --noise 0.1 --val-split 0.2 -o t.model imgs.ts
check train1 $?
vg train2 "$P/ae-train" -q --threads 2 --epochs 1 --batch 8 \
	--arch conv4,pool,conv4,up,conv3k1:sigmoid --checkpoint-every 2 -o t2.model imgs.ts
check train2 $?
vg resume "$P/ae-train" -q --threads 1 --resume t2.model --epochs 2 imgs.ts
check resume $?
vg dense "$P/ae-train" -q --threads 1 --epochs 1 --batch 8 \
	--arch flatten,dense8,dense3072:sigmoid,reshape3x32x32 -o d.model imgs.ts
check dense $?

# the pipeline, through pipes; each stage's status in its own file
{ vg extract "$P/cifar-extract" < b.bin; echo $? > st1; } |
	{ vg noise "$P/noise-add" --seed 3; echo $? > st2; } |
	{ vg apply "$P/ae-apply" --threads 2 -m t.model; echo $? > st3; } |
	{ vg grid "$P/img-grid" -s 2 -o grid.png; echo $? > st4; }
check extract "$(cat st1)"
check noise "$(cat st2)"
check apply "$(cat st3)"
check grid "$(cat st4)"
vg read "$P/img-read" grid.png > back.ts
check read $?
vg apply-u8 "$P/ae-apply" --threads 1 --u8 --pad -m t.model -o out.ts imgs.ts
check apply-u8 $?
vg compare "$P/img-compare" imgs.ts out.ts > cmp.txt
check compare $?
vg compare-json "$P/img-compare" --format json --per-image imgs.ts out.ts > cmp.json
check compare-json $?
mkdir -p d/cifar-10-batches-bin
for k in 1 2 3 4 5; do head -c 6146 b.bin > d/cifar-10-batches-bin/data_batch_$k.bin; done
head -c 3073 b.bin > d/cifar-10-batches-bin/test_batch.bin
tar -C d -czf c.tar.gz cifar-10-batches-bin || exit 1
vg extract-tgz "$P/cifar-extract" --split test --float c.tar.gz > tgz.ts
check extract-tgz $?
# an error path: a bad model ends with a message, and frees what it had
head -c 100 t.model > cut.model
vg bad-model "$P/ae-apply" -m cut.model imgs.ts 2> err.txt
ncheck=$((ncheck + 1))
[ -s vg-bad-model.log ] && fail "bad-model: $(head -n 20 vg-bad-model.log)"
finish
