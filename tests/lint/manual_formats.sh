#!/bin/bash
# The format pages name every key den reads: Envfile(5) each key the
# Envfile's checks accept (the arrays of names core/envfile_*.c hands to
# ectx_unknown_key and ectx_enum), den-box(5) each key of a recipe, a
# catalog and Envfile.lock (boxes/recipe.c, catalog.c, lock.c). A key added
# to den and not to its page fails here. The command pages cannot drift:
# den makes them from its own help (`den help --man`).
cd "${DEN_SOURCE_DIR:?run through ctest}" || exit 1
failed=0 checked=0

# The strings of the C arrays called $2.. in the files $1 (a glob).
array_strings()
{
	local files=$1
	shift
	local names
	names=$(
		IFS='|'
		echo "$*"
	)
	awk -v names="^($names)$" '
		match($0, /static const char \*const [a-z_]+\[[A-Z_0-9]*\] = \{/) {
			name = $0
			sub(/.*static const char \*const /, "", name)
			sub(/\[.*/, "", name)
			on = name ~ names
		}
		on { print }
		on && /\};/ { on = 0 }' $files | grep -oE '"[a-z_]+"' | tr -d '"'
}

check()
{
	local page=$1 what=$2
	shift 2
	for key in "$@"; do
		checked=$((checked + 1))
		if ! grep -qw -- "$key" "$page"; then
			echo "$page does not name $what '$key'"
			failed=$((failed + 1))
		fi
	done
}

envfile_keys=$(array_strings 'core/envfile_*.c' known lxd_keys machine_key_names matrix_keys \
	kind_names | sort -u)
[ "$(echo "$envfile_keys" | wc -l)" -gt 60 ] || {
	echo "found only $(echo "$envfile_keys" | wc -l) Envfile keys: has the parser changed shape?"
	exit 1
}
check docs/man/Envfile.5 "the Envfile key" $envfile_keys

box_keys=$( (grep -ohE '(json_object_get|str)\([a-z_>.-]+, "[a-z_]+"\)' boxes/recipe.c boxes/catalog.c |
	grep -oE '"[a-z_]+"' | tr -d '"'
	array_strings boxes/lock.c keys
	grep -ohE '"(comment|boxes)"' boxes/lock.c | tr -d '"') | sort -u)
[ "$(echo "$box_keys" | wc -l)" -gt 20 ] || {
	echo "found only $(echo "$box_keys" | wc -l) box keys: have the readers changed shape?"
	exit 1
}
check docs/man/den-box.5 "the key" $box_keys

echo "$((checked - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
