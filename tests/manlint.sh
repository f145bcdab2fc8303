# Every program has a man page; every page is mandoc -Tlint clean.
. "$TOP/tests/lib.sh"
command -v mandoc >/dev/null || skip "mandoc not installed"
for p in "$TOP"/bin/*.c; do
	[ -e "$p" ] || continue
	n=$(basename "$p" .c)
	ok
	[ -f "$TOP/man/$n.1" ] || fail "no man page for $n"
done
for m in "$TOP"/man/*.[15]; do
	ok
	out=$(mandoc -Tlint -Wwarning "$m" 2>&1) || fail "mandoc -Tlint: $out"
	[ -z "$out" ] || fail "mandoc -Tlint: $out"
done
for m in cae-stream.5 cae-model.5; do
	ok
	[ -f "$TOP/man/$m" ] || fail "no man page $m"
done
finish
