#!/bin/sh
# Builds the libFuzzer harnesses (clang, ASan, UBSan) and runs each for
# SECONDS (default 60) on a seed corpus the project generates itself.
# Crashers are copied to tests/crashers/ for the regression test.
# Usage: fuzz/run.sh [SECONDS] [HARNESS...]
set -u
cd "$(dirname "$0")/.." || exit 1
secs=${1:-60}; [ $# -gt 0 ] && shift
command -v clang >/dev/null || { echo "fuzz: clang not installed (apt-get install clang libclang-rt-14-dev)"; exit 1; }
make -s fuzz-build || exit 1
sh fuzz/seeds.sh || exit 1
harnesses=${*:-$(ls fuzz/*.c | sed 's|fuzz/\(.*\)\.c|\1|')}
status=0
for h in $harnesses; do
	mkdir -p fuzz/out/$h/corpus fuzz/out/$h/crash tests/crashers
	cp -n fuzz/out/seeds/$h/* fuzz/out/$h/corpus/ 2>/dev/null
	echo "== $h: ${secs}s"
	if ! fuzz/out/$h -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-artifact_prefix=fuzz/out/$h/crash/ -print_final_stats=1 fuzz/out/$h/corpus \
		>fuzz/out/$h.log 2>&1; then
		status=1
		echo "$h: FAILED (see fuzz/out/$h.log)"
		for c in fuzz/out/$h/crash/*; do [ -f "$c" ] && cp "$c" "tests/crashers/$h-$(basename "$c")"; done
	fi
	grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb|Done [0-9]+ runs' fuzz/out/$h.log | tr '\n' ' '
	echo
done
exit $status
