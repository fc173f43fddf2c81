#!/bin/bash
# The command line: help, version, unknown commands, global options,
# exit codes, --json, NO_COLOR, commands of later issues.
. "$(dirname "$0")/lib/assert.sh"
cd "$T_DIR"

run --version
expect_rc 0 "--version"
expect_true '[[ "$OUT" =~ ^den\ [0-9]+\.[0-9]+\.[0-9]+$ ]]' "--version prints 'den X.Y.Z'"

run version --json
expect_rc 0 "version --json"
expect_true 'printf "%s" "$OUT" | python3 -c "import json,sys; d=json.load(sys.stdin); assert d[\"libraries\"][\"libyaml\"]"' "version --json has libraries"

run -v version
expect_out "libarchive" "-v version lists libraries"

run help
expect_rc 0 "help"
for c in up halt reload destroy status global-status ssh ssh-config provision exec \
	suspend resume snapshot port validate init box vmm version help; do
	expect_out "   $c " "help lists $c"
done

run help init
expect_rc 0 "help init"
expect_out "usage: den init" "help init shows usage"
run init --help
expect_out "usage: den init" "init --help"
run status -h
expect_out "usage: den status" "status -h"
run help nosuch
expect_rc 2 "help of an unknown command"

run stauts
expect_rc 2 "unknown command"
expect_err "'stauts' is not a den command; did you mean 'status'?" "suggests status"
run frobnicate
expect_rc 2 "unknown command without a near one"
expect_err "see \`den help\`" "points at den help"

run
expect_rc 2 "no command"
expect_err "usage: den" "no command shows usage"

run --frob status
expect_rc 2 "unknown global option"
expect_err "unknown option '--frob'" "names the option"

run box
expect_rc 2 "box without a sub-command"
expect_err "usage: den box add|list|remove" "box shows its sub-commands"
run box lst
expect_rc 2 "unknown box sub-command"
expect_err "did you mean 'list'?" "suggests list"
run init --json
expect_rc 2 "--json on a command that does not report"
expect_err "has no --json output" "explains --json"

# -C changes folder before anything else.
mkdir -p proj/sub
printf 'den: 1\nmachines:\n  web: { box: den/debian-12 }\n' > proj/Envfile
# Machine commands on a machine that is not created, and bad usage.
for c in suspend resume; do
	run -C proj $c web
	expect_rc 1 "$c of a machine not created"
	expect_err "web is not created: \`den up web\` first" "$c says what to do"
done
run -C proj snapshot frob
expect_rc 2 "snapshot with an unknown verb"
expect_err "usage: den snapshot save|restore|delete" "snapshot shows its usage"
run -C proj snapshot save web a b c
expect_rc 2 "snapshot save with too many words"
run -C proj snapshot list web
expect_rc 1 "snapshot list of a machine not created"
run -C proj box package web
expect_rc 1 "box package of a machine not created"
expect_err "web is not created" "box package says so"
run -C proj rsync
expect_rc 0 "den rsync with nothing running"
expect_err "web is not created: nothing to sync" "rsync says why it did nothing"

run -C proj/sub validate
expect_rc 0 "-C DIR finds the Envfile above DIR"
expect_out "valid: 1 machine (web)" "validate reports the machine"
run -C nonexistent validate
expect_rc 2 "-C to a missing folder"
expect_err "cannot change to folder nonexistent" "names the folder"
run -Cproj validate -q
expect_rc 0 "-CDIR and -q"
expect_true '[ -z "$OUT" ]' "-q prints nothing"

# No Envfile anywhere up: usage error with a hint.
mkdir -p empty
run -C empty status
expect_rc 2 "status without an Envfile"
expect_err "run \`den init\`" "hints at den init"

# Errors in --json mode are JSON on stdout as well.
run -C empty status --json
expect_rc 2 "status --json without an Envfile"
expect_true 'printf "%s" "$OUT" | python3 -c "import json,sys; d=json.load(sys.stdin); assert d[\"error\"][\"kind\"] == \"usage\""' "JSON error on stdout"

# Colour: on a terminal by default, never with NO_COLOR or --no-color.
if command -v script >/dev/null; then
	colored=$(cd proj && script -qec "$DEN stauts" /dev/null 2>&1 || true)
	expect_true 'printf "%s" "$colored" | grep -q $'"'"'\033\['"'"'' "colour on a terminal"
	plain=$(cd proj && NO_COLOR=1 script -qec "$DEN stauts" /dev/null 2>&1 || true)
	expect_true '! printf "%s" "$plain" | grep -q $'"'"'\033\['"'"'' "NO_COLOR turns colour off"
	plain=$(cd proj && script -qec "$DEN --no-color stauts" /dev/null 2>&1 || true)
	expect_true '! printf "%s" "$plain" | grep -q $'"'"'\033\['"'"'' "--no-color turns colour off"
	table=$(cd proj && script -qec "$DEN status" /dev/null 2>&1 || true)
	expect_true 'printf "%s" "$table" | grep -q $'"'"'\033\[1m'"'"'' "status header is bold on a terminal"
else
	expect_true false "script(1) (bsdutils, part of every Debian) is missing: no terminal to check colour on"
fi
run -C proj status
expect_true '! printf "%s" "$OUT$ERR" | grep -q $'"'"'\033'"'"'' "no colour when not a terminal"

# Any number of arguments works or is a usage error, never an overflow:
# reload with 200 --provision (and a --provision-with of 300 names) of a
# machine not created, whose box no server has (den's own store, no network).
export DEN_HOME="$T_DIR/home"
unset DEN_BOX_SERVER
mkdir -p many
printf 'den: 1\nmachines:\n  web: { box: den/no-such-box }\n' > many/Envfile
many=()
for _ in $(seq 200); do many+=(--provision); done
names=$(printf 's%d,' $(seq 300))
for args in "reload ${many[*]}" "reload web ${many[*]} --provision-with ${names%,}"; do
	# shellcheck disable=SC2086 # one word per argument
	run -C many $args
	expect_true '[ "$RC" -le 2 ]' "den ${args:0:30}... exits 0, 1 or 2 (got $RC)"
	expect_no_err "Sanitizer" "no sanitizer report"
	expect_no_err "runtime error" "no undefined behaviour"
done

# A size that is not one says so, not that it is too small.
run vmm run --kernel /nonexistent --memory banana
expect_rc 2 "den vmm run --memory banana"
expect_err "--memory banana: " "names the option"
expect_no_err "at least 16M" "and not a wrong reason"
run vmm run --kernel /nonexistent --memory 8M
expect_err "--memory 8M: at least 16M" "a size too small is told so"

t_done
