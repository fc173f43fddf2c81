#!/bin/bash
# Each command's usage (cmd/usage.h) names exactly the options its parser
# takes: shell completion, `den help` and the manual pages are made from
# the usages, so an option parsed but not named would be missing from all
# three, and one named but not parsed would be offered and then refused.
# Per file in cmd/: the long options of getopt tables and of strcmp()s
# against "--NAME" must be the CMD_OPT("NAME", ...) entries of that file.
# And every usage defined must be in cmd/usages.c's list.
cd "${DEN_SOURCE_DIR:?run through ctest}" || exit 1
failed=0 checked=0

for f in cmd/*.c; do
	parsed=$( (grep -oE '\{ *"[a-z][a-z0-9-]*", *(no|required|optional)_argument' "$f" |
		sed -E 's/\{ *"([^"]*)".*/\1/'
		grep -oE 'str(n)?cmp\([^,()]+, *"--[a-z][a-z0-9-]*' "$f" |
		sed -E 's/.*"--//') | sort -u)
	documented=$(grep -oE 'CMD_OPT\("[a-z][a-z0-9-]*"' "$f" | sed -E 's/CMD_OPT\("//; s/"$//' |
		sort -u)
	[ -z "$parsed$documented" ] && continue
	checked=$((checked + 1))
	missing=$(comm -23 <(echo "$parsed") <(echo "$documented") | sed '/^$/d')
	extra=$(comm -13 <(echo "$parsed") <(echo "$documented") | sed '/^$/d')
	if [ -n "$missing" ]; then
		echo "$f parses options its usage does not name (add CMD_OPT lines):" $missing
		failed=$((failed + 1))
	fi
	if [ -n "$extra" ]; then
		echo "$f names options in its usage that it does not parse:" $extra
		failed=$((failed + 1))
	fi
done

for u in $(grep -ohE '^const struct cmd_usage cmd_usage_[a-z_]+ =' cmd/*.c |
	sed -E 's/.*(cmd_usage_[a-z_]+).*/\1/'); do
	case $u in cmd_usage_global | cmd_usage_parallel) continue ;; esac
	checked=$((checked + 1))
	if ! grep -q "&$u," cmd/usages.c; then
		echo "$u is not in cmd/usages.c's list: completion and the manual miss it"
		failed=$((failed + 1))
	fi
done

# Every command of the table has a usage.
for c in $(sed -n '/^const struct den_cmd den_commands/,/^};/p' cmd/main.c |
	grep -oE '^\s*\{ "[a-z-]+"' | sed -E 's/.*"(.*)"/\1/'); do
	checked=$((checked + 1))
	if ! grep -qE "^\s*\.path = \"$c\"," cmd/*.c; then
		echo "den $c has no usage (const struct cmd_usage with .path = \"$c\")"
		failed=$((failed + 1))
	fi
done

echo "$((checked - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
