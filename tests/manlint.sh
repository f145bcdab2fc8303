# Every program has a man page in man/, which man(1) also finds (man -M man
# NAME); every page is mandoc -Tlint clean.
. "$TOP/tests/lib.sh"
command -v mandoc >/dev/null || skip "mandoc not installed"
for p in "$TOP"/bin/*.c; do
	[ -e "$p" ] || continue
	n=$(basename "$p" .c)
	ok
	[ -f "$TOP/man/$n.1" ] || fail "no man page for $n"
done
for m in "$TOP"/man/*.1 "$TOP"/man/*.5; do
	ok
	out=$(mandoc -Tlint -Wwarning "$m" 2>&1) || fail "mandoc -Tlint: $out"
	[ -z "$out" ] || fail "mandoc -Tlint: $out"
done
for m in cae-stream.5 cae-model.5; do
	ok
	[ -f "$TOP/man/$m" ] || fail "no man page $m"
done
if command -v man >/dev/null; then
	for n in ae-apply cae-stream; do
		ok
		man -M "$TOP/man" -w "$n" >/dev/null 2>&1 || fail "man -M man $n finds no page"
	done
fi
finish
