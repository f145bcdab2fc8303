#!/bin/sh
# Builds the libFuzzer harnesses (clang, ASan, UBSan) and runs each for
# SECONDS (default 60) on a seed corpus the project generates itself
# (fuzz/seeds.sh), keeping the corpus in fuzz/out/corpus/NAME between runs.
# Crashers are copied to tests/crashers/ for the regression test
# (tests/fuzz_smoke.sh replays them). JOBS harnesses (default 1) run at
# once, at the lowest priority. Ends with one line per harness:
# executions, seconds, peak memory, and OK or FAILED.
# Usage: [JOBS=N] fuzz/run.sh [SECONDS] [HARNESS...]
set -u
cd "$(dirname "$0")/.." || exit 1
secs=${1:-60}; [ $# -gt 0 ] && shift
jobs=${JOBS:-1}
command -v clang >/dev/null || { echo "fuzz: clang not installed (apt-get install clang libclang-rt-14-dev)"; exit 1; }
make -s fuzz-build || exit 1
sh fuzz/seeds.sh >/dev/null || exit 1
harnesses=${*:-$(ls fuzz/*.c | sed 's|fuzz/\(.*\)\.c|\1|')}

# one harness: its log is fuzz/out/NAME.log, its verdict fuzz/out/NAME.status
run_one() {
	h=$1
	rm -f fuzz/out/$h.status
	mkdir -p fuzz/out/corpus/$h fuzz/out/crash/$h tests/crashers
	cp fuzz/out/seeds/${h#fuzz_}/* fuzz/out/corpus/$h/ 2>/dev/null
	if nice -n 19 fuzz/out/$h -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -artifact_prefix=fuzz/out/crash/$h/ -print_final_stats=1 \
		fuzz/out/corpus/$h >fuzz/out/$h.log 2>&1; then
		echo OK > fuzz/out/$h.status
	else
		echo FAILED > fuzz/out/$h.status
		for c in fuzz/out/crash/$h/*; do
			[ -f "$c" ] && cp "$c" "tests/crashers/$h-$(basename "$c")"
		done
	fi
}

i=0
while [ $i -lt "$jobs" ]; do
	(
		k=0
		for h in $harnesses; do
			[ $((k % jobs)) -eq $i ] && run_one "$h"
			k=$((k + 1))
		done
	) &
	i=$((i + 1))
done
wait

status=0
for h in $harnesses; do
	v=$(cat fuzz/out/$h.status 2>/dev/null || echo FAILED)
	[ "$v" = OK ] || status=1
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' fuzz/out/$h.log)
	rss=$(sed -n 's/^stat::peak_rss_mb: *//p' fuzz/out/$h.log)
	secs_done=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' fuzz/out/$h.log)
	if [ -n "$secs_done" ]; then
		echo "$h: ${execs:-?} executions in $secs_done s, peak ${rss:-?} MB: $v"
	else
		echo "$h: stopped after ${execs:-?} executions, peak ${rss:-?} MB: $v"
	fi
	[ "$v" = OK ] || echo "    see fuzz/out/$h.log; crashers copied to tests/crashers/"
done
exit $status
