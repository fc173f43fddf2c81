#!/bin/bash
# ctest, then why each skipped test was skipped: ctest itself shows only
# "***Skipped" (exit 77, SKIP_RETURN_CODE in CMakeLists.txt); the reason is
# the test's own "skipped: ..." line, kept in ctest's LastTest.log.
#   scripts/ctest.sh BUILD_DIR [CTEST ARGUMENTS...]
set -u
cd "${1:?usage: scripts/ctest.sh BUILD_DIR [CTEST ARGUMENTS...]}" || exit 1
shift
out=$(mktemp)
trap 'rm -f "$out"' EXIT
ctest "$@" | tee "$out"
rc=${PIPESTATUS[0]}
skipped=$(sed -n 's/^ *[0-9]*\/[0-9]* Test *#[0-9]*: \([^ ]*\) .*\*\*\*Skipped.*/\1/p' "$out")
[ -z "$skipped" ] && exit "$rc"
echo
echo "Skipped, and why (README.md, \"Tests that may skip\"):"
for t in $skipped; do
	# A Criterion suite prints "skipped: SUITE/TEST: REASON" per test: one line per reason here.
	awk -v t="$t" '
		/^[0-9]+\/[0-9]+ Testing: / { cur = $3; next }
		cur != t || !/^skipped: / { next }
		{
			line = substr($0, 10)
			if (match(line, /^[A-Za-z0-9_]+\/[A-Za-z0-9_]+: /)) {
				why = substr(line, RLENGTH + 1)
				if (!(why in count)) { order[++n] = why; first[why] = line }
				count[why]++
			} else {
				order[++n] = line; first[line] = line; count[line] = 1
			}
		}
		END {
			if (!n) print "  " t ": (it printed no \"skipped:\" line)"
			for (i = 1; i <= n; i++) {
				w = order[i]
				print "  " t ": " (count[w] > 1 ? count[w] " tests: " w : first[w])
			}
		}' Testing/Temporary/LastTest.log
done
exit "$rc"
