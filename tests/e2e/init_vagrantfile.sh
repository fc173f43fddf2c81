#!/bin/bash
# den init --from Vagrantfile over the Vagrantfiles in
# tests/fixtures/vagrantfiles/ (one machine, defines, loops, provider
# blocks, ansible, networks, folders, shell and file steps, Ruby logic,
# overrides, one that raises). Each is converted in a copy of its folder,
# then read back with `den validate --json` and checked against its
# `expect` file:
#   json: EXPR        a Python expression over d (the JSON), true
#   left: TEXT        a line den says it could not convert (stderr and the Envfile)
#   note: TEXT        a line den says is worth knowing
#   stderr: TEXT      on stderr
#   count-left: N     exactly N things not converted
#   fails: TEXT       den init fails saying TEXT, and writes no Envfile
. "$(dirname "$0")/lib/assert.sh"

command -v ruby >/dev/null || {
	fail "ruby is missing: scripts/deps.sh installs it"
	t_done
}
fixtures="$SRC/tests/fixtures/vagrantfiles"
n=0
for dir in "$fixtures"/*/; do
	name=$(basename "$dir")
	n=$((n + 1))
	work="$T_DIR/$name"
	cp -r "$dir" "$work"
	rm -f "$work/expect"
	OUT=$(cd "$work" && "$DEN" init --from Vagrantfile 2>"$T_DIR/err") && RC=0 || RC=$?
	ERR=$(cat "$T_DIR/err")
	if grep -q '^fails: ' "$dir/expect"; then
		expect_rc 1 "$name: den init --from fails"
		expect_err "$(sed -n 's/^fails: //p' "$dir/expect")" "$name: says why, with the line"
		expect_true '[ ! -e "$work/Envfile" ]' "$name: no Envfile written"
		continue
	fi
	expect_rc 0 "$name: den init --from Vagrantfile"
	conv_err=$ERR
	envfile=$(cat "$work/Envfile" 2>/dev/null)
	OUT=$("$DEN" -C "$work" validate --json 2>&1) && RC=0 || RC=$?
	expect_rc 0 "$name: the Envfile validates"
	json=$OUT
	left=$(echo "$conv_err" | sed -n '/could not convert/,/worth knowing/p' | grep -c '^  Vagrantfile:')
	while IFS= read -r line; do
		kind=${line%%: *}
		text=${line#*: }
		case $kind in
		json)
			expect_true 'echo "$json" | python3 -c "import json, sys; d = json.load(sys.stdin); sys.exit(0 if ($text) else 1)"' "$name: $text"
			;;
		left)
			expect_true 'echo "$conv_err" | sed -n "/could not convert/,/worth knowing/p" | grep -qF -- "$text"' "$name: says it could not convert '$text'"
			expect_true 'echo "$envfile" | grep -qF -- "#   $text"' "$name: the Envfile keeps '$text'"
			;;
		note)
			expect_true 'echo "$conv_err" | sed -n "/worth knowing/,\$p" | grep -qF -- "$text"' "$name: notes '$text'"
			;;
		stderr)
			expect_true 'echo "$conv_err" | grep -qF -- "$text"' "$name: stderr has '$text'"
			;;
		count-left)
			expect_true '[ "$left" -eq "$text" ]' "$name: $text things not converted, not $left: $conv_err"
			;;
		esac
	done <"$dir/expect"
done
expect_true '[ "$n" -ge 10 ]' "at least 10 Vagrantfiles ($n)"

# An Envfile already there is kept unless --force.
cp -r "$fixtures/single" "$T_DIR/again"
echo "den: 1" >"$T_DIR/again/Envfile"
OUT=$(cd "$T_DIR/again" && "$DEN" init --from Vagrantfile 2>&1) && RC=0 || RC=$?
expect_rc 1 "an Envfile already there"
expect_true '[ "$(cat "$T_DIR/again/Envfile")" = "den: 1" ]' "is left as it was"
OUT=$(cd "$T_DIR/again" && "$DEN" init --from Vagrantfile --force 2>&1) && RC=0 || RC=$?
expect_rc 0 "--force replaces it"

# From a folder below the project: the Envfile goes here, host paths lead down there.
mkdir -p "$T_DIR/proj"
cp -r "$fixtures/shell_file" "$T_DIR/proj/vagrant"
OUT=$(cd "$T_DIR/proj" && "$DEN" init --from vagrant 2>&1) && RC=0 || RC=$?
expect_rc 0 "--from a folder below the project"
expect_true 'grep -q "path: vagrant/scripts/setup.sh" "$T_DIR/proj/Envfile"' "a script's path leads down to it"
expect_true 'grep -q "^#   vagrant/Vagrantfile:14: " "$T_DIR/proj/Envfile"' "lines name vagrant/Vagrantfile"
OUT=$("$DEN" -C "$T_DIR/proj" validate 2>&1) && RC=0 || RC=$?
expect_rc 0 "and it validates"
# From a folder beside it: paths go outside the project, which den refuses for provisioners.
mkdir -p "$T_DIR/beside"
OUT=$(cd "$T_DIR/beside" && "$DEN" init --from "$T_DIR/shell_file" 2>&1) && RC=0 || RC=$?
expect_rc 2 "--from a folder outside the project"
expect_true 'echo "$OUT" | grep -q "does not validate yet" && echo "$OUT" | grep -q "outside the project"' "says the Envfile does not validate, and why"

OUT=$(cd "$T_DIR" && "$DEN" init --from nosuch/Vagrantfile 2>&1) && RC=0 || RC=$?
expect_rc 1 "a Vagrantfile that is not there"
expect_true 'echo "$OUT" | grep -q "cannot read"' "says so"
OUT=$(cd "$T_DIR" && "$DEN" init multi --from "$fixtures/single" 2>&1) && RC=0 || RC=$?
expect_rc 2 "--from with a template"

t_done
