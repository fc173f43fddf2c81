#!/bin/bash
# `den init`: every template writes a valid Envfile; no overwrite without --force.
. "$(dirname "$0")/lib/assert.sh"
cd "$T_DIR"

run init --list
expect_rc 0 "init --list"
for t in default multi matrix; do
	expect_out "$t" "template $t is listed"
done

for t in $OUT; do
	mkdir -p "$t" && cd "$t"
	run init "$t"
	expect_rc 0 "init $t"
	expect_true '[ -f Envfile ]' "init $t writes Envfile"
	run validate
	expect_rc 0 "the $t template validates"
	cd ..
done

run -C multi validate --json
expect_true 'printf "%s" "$OUT" | python3 -c "import json,sys; d=json.load(sys.stdin); assert [m[\"name\"] for m in d[\"machines\"]] == [\"web\", \"db\"]"' "multi has web and db"
run -C matrix status
expect_out "test-debian-11" "matrix expands to debian-11"
expect_out "test-debian-13" "matrix expands to debian-13"

cd default
cp Envfile Envfile.before
run init multi
expect_rc 1 "init refuses to overwrite"
expect_err "already exists; use --force" "says how to overwrite"
expect_true 'cmp -s Envfile Envfile.before' "the Envfile is untouched"
run init multi --force
expect_rc 0 "init --force overwrites"
expect_true '! cmp -s Envfile Envfile.before' "the Envfile was replaced"
cd ..

mkdir -p custom && cd custom
run init --box acme/ubuntu-24.04
expect_rc 0 "init --box"
expect_true 'grep -q "box: acme/ubuntu-24.04" Envfile' "the box is written in"
run init --force --box 'x: y'
expect_rc 2 "init refuses a box name that would break the YAML"
cd ..

mkdir -p typo && cd typo
run init mutli
expect_rc 2 "unknown template"
expect_err "did you mean 'multi'?" "suggests multi"
expect_true '[ ! -e Envfile ]' "nothing written for an unknown template"
run init a b
expect_rc 2 "two templates"
cd ..

t_done
