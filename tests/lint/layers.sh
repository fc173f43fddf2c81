#!/bin/bash
# The layers of DESIGN.md, as #include lines: cmd -> provisioners,
# providers, boxes (with registry/, boxes through registries) -> core.
# core includes none of the others; boxes/, registry/,
# providers/ and provisioners/ never include cmd/; provisioners/ reaches
# machines through the engine's callbacks, never providers/; a provider's
# folder never includes another provider's (what two share sits in
# providers/ itself); vagrantfile/ (den init --from) stands on core/ alone.
cd "${DEN_SOURCE_DIR:?run through ctest}" || exit 1
bad=0
check() { # FILES PATTERN WHY
	local hits
	# shellcheck disable=SC2086 # a list of files
	hits=$(grep -Hn -E "^#include \"($2" $1 2>/dev/null)
	if [ -n "$hits" ]; then
		echo "$3:"
		echo "$hits" | sed 's/^/  /'
		bad=$((bad + 1))
	fi
}
check "core/*.[ch]" "boxes|registry|providers|provisioners|cmd)/" "core/ includes a layer above it"
check "boxes/*.[ch] registry/*.[ch]" "providers|provisioners|cmd)/" "boxes/ or registry/ includes a layer beside or above it"
check "providers/*.[ch] providers/*/*.[ch] provisioners/*.[ch]" "cmd)/" "a module includes cmd/"
check "provisioners/*.[ch]" "providers)/" "provisioners/ includes providers/ (use the engine's callbacks)"
check "vagrantfile/*.[ch]" "boxes|registry|providers|provisioners|cmd)/" "vagrantfile/ includes more than core/"
for dir in providers/*/; do
	name=$(basename "$dir")
	others=$(ls -d providers/*/ | xargs -n1 basename | grep -vx "$name" | paste -sd'|')
	[ -n "$others" ] && check "$dir*.[ch]" "providers/($others)/" "providers/$name includes another provider's folder"
done
echo "$((6 - (bad > 6 ? 6 : bad))) rules kept, $bad broken"
[ "$bad" -eq 0 ]
