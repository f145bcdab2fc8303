# tests/lib.sh - helpers sourced by the shell tests (run from tests/out)
# Each test script: . "$TOP/tests/lib.sh", then calls the helpers; it exits
# 1 if any check failed (via finish), 77 to skip.
TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
PATH="$TOP/bin:$PATH"
export TOP PATH
nfail=0
ncheck=0

fail() { nfail=$((nfail + 1)); echo "FAIL: $*" >&2; }
ok() { ncheck=$((ncheck + 1)); }
skip() { echo "skipped: $*"; exit 77; }

# expect STATUS 'MESSAGE SUBSTRING' command args...: runs the command, checks
# its exit status and that stderr contains the message.
expect() {
	_st=$1 _msg=$2; shift 2
	"$@" >/dev/null 2>"$TMPD/stderr"
	_rc=$?
	ncheck=$((ncheck + 1))
	if [ "$_rc" -ne "$_st" ]; then
		fail "$* -> exit $_rc, expected $_st ($(cat "$TMPD/stderr"))"
	elif ! grep -qF -- "$_msg" "$TMPD/stderr"; then
		fail "$* -> message '$(cat "$TMPD/stderr")' lacks '$_msg'"
	fi
}

# same A B: files A and B are identical.
same() {
	ncheck=$((ncheck + 1))
	cmp -s "$1" "$2" || fail "$1 and $2 differ"
}

# sum FILE: sha256 of FILE
sum() { sha256sum "$1" | cut -d' ' -f1; }

finish() {
	echo "$ncheck checks, $nfail failed"
	[ "$nfail" -eq 0 ]
	exit $?
}

TMPD=$(mktemp -d)
trap 'rm -rf "$TMPD"' EXIT

# Real CIFAR-10 batches, if any: $CIFAR10 or data/cifar-10-batches-bin.
CIFAR_DIR=${CIFAR10:-$TOP/data/cifar-10-batches-bin}
have_cifar() { [ -f "$CIFAR_DIR/data_batch_1.bin" ]; }
