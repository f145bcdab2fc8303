#!/bin/sh
# Runs every test: the C unit tests (tests/unit/NAME) and the shell tests
# (tests/*.sh). A test passes with exit 0, is skipped with exit 77, and
# fails otherwise. Ends with the line "N passed, N failed, N skipped".
# Usage: sh tests/run.sh [PATTERN]   (only tests whose name contains it)
# WRAP="valgrind -q --error-exitcode=99" runs each program under a wrapper.
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
PATH="$top/bin:$PATH"
TOP=$top
export TOP
export PATH
out="$top/tests/out"
mkdir -p "$out"
pass=0 fail=0 skip=0 failed=""
for t in tests/unit/*.c tests/*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t"); name=${name%.c}; name=${name%.sh}
	case "$name" in run|lib) continue ;; esac
	[ -n "$1" ] && case "$name" in *"$1"*) ;; *) continue ;; esac
	log="$out/$name.log"
	case "$t" in
	*.c) (cd "$out" && "$top/tests/unit/$name") >"$log" 2>&1 ;;
	*.sh) (cd "$out" && sh "$top/$t") >"$log" 2>&1 ;;
	esac
	rc=$?
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1)); echo "PASS $name"
	elif [ $rc -eq 77 ]; then
		skip=$((skip + 1)); echo "SKIP $name: $(tail -n 1 "$log")"
	else
		fail=$((fail + 1)); failed="$failed $name"; echo "FAIL $name (exit $rc)"
		sed 's/^/    /' "$log" | tail -n 30
	fi
done
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
