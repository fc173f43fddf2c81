# Assertions for den's shell end-to-end tests. Source it; call t_done last.
# Each test runs the real den binary ($DEN_BIN) in a temporary folder.
set -u
DEN=${DEN_BIN:?run through ctest, which sets DEN_BIN}
SRC=${DEN_SOURCE_DIR:?run through ctest, which sets DEN_SOURCE_DIR}
T_PASS=0
T_FAIL=0
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/den-e2e-XXXXXX")
trap 'rm -rf "$T_DIR"' EXIT

# run ARGS...: runs den, keeping $OUT, $ERR and $RC.
run() {
	OUT=$("$DEN" "$@" 2>"$T_DIR/.err") && RC=0 || RC=$?
	ERR=$(cat "$T_DIR/.err")
}

ok() { T_PASS=$((T_PASS + 1)); }
fail() {
	T_FAIL=$((T_FAIL + 1))
	echo "FAIL: $*" >&2
	echo "  exit: $RC" >&2
	echo "  stdout: $OUT" | head -20 >&2
	echo "  stderr: ${ERR-}" | head -20 >&2
}

# expect_rc N WHAT
expect_rc() { [ "$RC" -eq "$1" ] && ok || fail "$2: exit $RC, want $1"; }
# expect_out TEXT WHAT / expect_err TEXT WHAT: fixed-string search
expect_out() { printf '%s' "$OUT" | grep -qF -- "$1" && ok || fail "$2: stdout lacks '$1'"; }
expect_err() { printf '%s' "$ERR" | grep -qF -- "$1" && ok || fail "$2: stderr lacks '$1'"; }
expect_no_out() { printf '%s' "$OUT" | grep -qF -- "$1" && fail "$2: stdout has '$1'" || ok; }
expect_no_err() { printf '%s' "$ERR" | grep -qF -- "$1" && fail "$2: stderr has '$1'" || ok; }
expect_true() { if eval "$1"; then ok; else fail "$2: [$1] is false"; fi; }

# t_skip REASON: the test cannot run on this machine (no root, no /dev/kvm, a
# tool missing). One line saying why, and exit 77: ctest's SKIP_RETURN_CODE
# (CMakeLists.txt), so it shows as "***Skipped", never as passed.
t_skip() {
	echo "skipped: $*"
	exit 77
}

t_done() {
	echo "$T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ]
}
