#!/bin/bash
# The manual pages: `den help --man` writes one page per command and den(1);
# each renders with man-db's own checks (groff warnings on), and each names
# every option its command takes, as `den help` shows them. A command or an
# option missing from its page fails here; Envfile(5) and den-box(5) are
# checked too (their keys: tests/lint/manual_formats.sh).
. "$(dirname "$0")/lib/assert.sh"

run help --man "$T_DIR/man"
expect_rc 0 "den help --man DIR"
run help
commands=$(echo "$OUT" | awk '/^   [a-z]/ {print $1}')
expect_true '[ "$(echo "$commands" | wc -l)" -ge 25 ]' "den help lists the commands"

render() { MANWIDTH=80 man --warnings -E UTF-8 -l "$1" 2>"$T_DIR/warn"; }
pages=("$T_DIR/man/den.1" "$SRC/docs/man/Envfile.5" "$SRC/docs/man/den-box.5")
for c in $commands; do
	pages+=("$T_DIR/man/den-$c.1")
done
for page in "${pages[@]}"; do
	if [ ! -f "$page" ]; then
		fail "no manual page $page"
		continue
	fi
	text=$(render "$page")
	expect_true '[ ! -s "$T_DIR/warn" ]' "$(basename "$page") renders without warnings: $(head -3 "$T_DIR/warn")"
	expect_true '[ "$(echo "$text" | wc -l)" -gt 10 ]' "$(basename "$page") has text"
done

# Each command's page has its synopsis, its summary and every option `den help CMD` lists.
for c in $commands; do
	[ -f "$T_DIR/man/den-$c.1" ] || continue
	text=$(render "$T_DIR/man/den-$c.1")
	run help "$c"
	help=$OUT
	expect_true 'echo "$text" | grep -q "^NAME" && echo "$text" | grep -qE "den-$c +- "' "den-$c.1: NAME"
	synopsis=$(echo "$help" | head -1 | sed 's/^usage: //; s/  */ /g')
	expect_true 'echo "$text" | sed "s/  */ /g" | grep -qF -- "$synopsis"' "den-$c.1: the synopsis '$synopsis'"
	for opt in $(echo "$help" | grep -oE '^  (-[a-zA-Z], )?--[a-z][a-z0-9-]*' | grep -oE -- '--[a-z0-9-]+'); do
		expect_true 'echo "$text" | grep -qE -- "(^|[ ,])$opt( |$)"' "den-$c.1 names $opt"
	done
done
# den(1) names every command's page.
text=$(render "$T_DIR/man/den.1")
for c in $commands; do
	expect_true 'echo "$text" | grep -q "den-$c(1)"' "den(1) names den-$c(1)"
done

# The options den help shows are the parser's (tests/lint/usage.sh), so one
# that works shows: --no-provision is up's, and --provision-with provision's.
run help up
expect_out "--no-provision" "den help up lists --no-provision"
expect_out "--no-parallel" "den help up lists the parallel options"
run help net
expect_out "--lock FILE" "den help net lists net switch's --lock"

run help --man
expect_rc 2 "--man without a folder"

t_done
