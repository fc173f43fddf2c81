#!/bin/bash
# `den exec` across a matrix of three boxes (debian-11, 12, 13): the command
# runs on every machine in parallel, output prefixed, then a table of
# machine, box, exit code and time; exit 1 when any failed or is not running.
. "$(dirname "$0")/lib/assert.sh"

. "$(dirname "$0")/lib/machines.sh"
require_root "the container provider"
for r in debian-11 debian-12 debian-13; do add_box "$r"; done

P="$T_DIR/project"
mkdir -p "$P"
cd "$P"
trap '"$DEN" -C "$P" destroy -f >/dev/null 2>&1; rm -rf "$T_DIR"' EXIT
cat > Envfile <<'EOF2'
den: 1
defaults:
  provider: container
  memory: 256M
machines:
  test:
    matrix:
      box: [den/debian-11, den/debian-12, den/debian-13]
  spare:
    box: den/debian-12
    autostart: false
EOF2

run up test
expect_rc 0 "den up of the whole matrix"
run exec test -- '. /etc/os-release && echo "$VERSION_CODENAME"'
expect_rc 0 "den exec on the matrix"
expect_out "test-debian-11: bullseye" "debian-11 answers, prefixed"
expect_out "test-debian-12: bookworm" "debian-12 answers"
expect_out "test-debian-13: trixie" "debian-13 answers"
expect_true 'printf "%s\n" "$OUT" | grep -qE "^MACHINE +BOX +EXIT +TIME"' "a summary table follows"
expect_true 'printf "%s\n" "$OUT" | grep -qE "^test-debian-13 +den/debian-13 +0 +[0-9.]+s"' "a row per machine with its box, exit code and time"

run exec test --quiet -- 'test "$(. /etc/os-release; echo $VERSION_ID)" = 12'
expect_rc 1 "exit 1 when the command fails anywhere"
expect_true 'printf "%s\n" "$OUT" | grep -qE "^test-debian-12 +den/debian-12 +0 "' "the passing machine shows 0"
expect_true 'printf "%s\n" "$OUT" | grep -qE "^test-debian-11 +den/debian-11 +1 "' "a failing one shows its exit code"
expect_no_out "test-debian-11:" "--quiet prints only the table"
expect_err "failed or could not run on 2 of 3 machines" "the error counts them"

# Parallel: three one-second sleeps take about one second, not three (not asserted on time;
# the table's times show it).
run exec --all -- 'sleep 1'
expect_rc 1 "--all includes the machine that is not running"
expect_true 'printf "%s\n" "$OUT" | grep -qE "^spare +den/debian-12 +not running"' "which the table shows"

run exec test --json -- 'echo hi; exit 3'
expect_true 'printf "%s" "$OUT" | python3 -c "import json,sys; j = json.load(sys.stdin); assert len(j) == 3 and all(m[\"exit_code\"] == 3 for m in j)"' "--json gives each machine's exit code"
t_done
