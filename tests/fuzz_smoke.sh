# The libFuzzer harnesses (fuzz/*.c), briefly: built with clang (ASan,
# UBSan), each run for FUZZ_SMOKE_SECS seconds (default 8, two at a time)
# on the seeds fuzz/seeds.sh makes, and every regression input in
# tests/crashers/HARNESS-* replayed through its harness. Inputs in
# tests/crashers/open/ are known bugs not fixed yet: replayed and reported,
# not failed. Skipped without clang and its fuzzer runtime
# (apt-get install clang libclang-rt-14-dev). `make fuzz` runs them longer.
. "$TOP/tests/lib.sh"
# the harnesses are sanitizer builds of their own: once is enough
[ -n "${CAE_SANITIZED:-}" ] && skip "the harnesses are built with ASan anyway (run in the plain pass)"
command -v clang >/dev/null || skip "clang not installed (apt-get install clang libclang-rt-14-dev)"
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' > "$TMPD/t.c"
clang -fsanitize=fuzzer,address,undefined -o "$TMPD/t" "$TMPD/t.c" 2>/dev/null ||
	skip "clang cannot link libFuzzer programs (apt-get install libclang-rt-14-dev)"
secs=${FUZZ_SMOKE_SECS:-8}

cd "$TOP" || exit 1
make -s -j2 fuzz-build > "$TMPD/build.log" 2>&1 || { cat "$TMPD/build.log"; exit 1; }
sh fuzz/seeds.sh > "$TMPD/seeds.log" 2>&1 || { cat "$TMPD/seeds.log"; exit 1; }
harnesses=$(ls fuzz/*.c | sed 's|fuzz/\(.*\)\.c|\1|')
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1

# run H: H for $secs seconds on a copy of its seeds
run() {
	mkdir -p "$TMPD/corpus/$1" "$TMPD/crash/$1"
	cp fuzz/out/seeds/${1#fuzz_}/* "$TMPD/corpus/$1/"
	fuzz/out/$1 -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-artifact_prefix="$TMPD/crash/$1/" -print_final_stats=1 "$TMPD/corpus/$1" \
		> "$TMPD/$1.log" 2>&1
	echo $? > "$TMPD/$1.status"
}
set -- $harnesses
while [ $# -gt 0 ]; do
	run "$1" &
	[ $# -gt 1 ] && { run "$2" & }
	wait
	shift; [ $# -gt 0 ] && shift
done
for h in $harnesses; do
	ncheck=$((ncheck + 1))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$TMPD/$h.log")
	echo "$h: ${execs:-?} executions in $secs s"
	if [ "$(cat "$TMPD/$h.status")" -ne 0 ]; then
		fail "$h found a problem:"
		grep -E -A 12 '^==[0-9]+==ERROR|runtime error|deadly signal' "$TMPD/$h.log" | head -n 30 >&2
		for c in "$TMPD/crash/$h"/*; do
			[ -f "$c" ] || continue
			mkdir -p "$TOP/fuzz/out/crash/$h"
			cp "$c" "$TOP/fuzz/out/crash/$h/"
			echo "    input kept as fuzz/out/crash/$h/$(basename "$c")" >&2
		done
	fi
done

# regression inputs: each must now pass through its harness
for c in tests/crashers/*; do
	[ -f "$c" ] || continue
	h=$(basename "$c" | sed 's/-.*//')
	ncheck=$((ncheck + 1))
	if [ ! -x "fuzz/out/$h" ]; then
		fail "$c: no harness fuzz/out/$h"
	elif ! fuzz/out/$h "$c" > "$TMPD/replay.log" 2>&1; then
		fail "$c crashes $h again:"
		grep -E -A 8 '^==[0-9]+==ERROR|runtime error|deadly signal' "$TMPD/replay.log" | head -n 20 >&2
	fi
done
unset CAE_FUZZ_SKIP_OPEN
for c in tests/crashers/open/*; do
	[ -f "$c" ] || continue
	h=$(basename "$c" | sed 's/-.*//')
	if fuzz/out/$h "$c" > "$TMPD/replay.log" 2>&1; then
		echo "note: $c passes now: move it to tests/crashers/"
	else
		echo "known open bug: $c ($(grep -m 1 -E 'ERROR|runtime error' "$TMPD/replay.log" | cut -c 1-100))"
	fi
done
finish
