#!/bin/bash
# `den box build` figures (issue: boxes): a cold build (debootstrap from the
# Debian archive) and a cached one. Prints, never asserts. Needs root.
#   bench/box_build.sh [DEN] [RECIPE]
set -eu
DEN=$(realpath "${1:-build/den}")
RECIPE=${2:-debian-12}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/den-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }

t0=$(now)
DEN_HOME="$work/home" DEN_BUILD_CACHE="$work/cache" "$DEN" -q box build "$RECIPE" --provider container \
	--output "$work/out" --no-cache >/dev/null
cold=$(echo "$(now) - $t0" | bc)
t0=$(now)
DEN_HOME="$work/home" DEN_BUILD_CACHE="$work/cache" "$DEN" -q box build "$RECIPE" --provider container \
	--output "$work/out2" >/dev/null
cached=$(echo "$(now) - $t0" | bc)
size=$(stat -c %s "$work"/out/*.box)
t0=$(now)
DEN_HOME="$work/home" "$DEN" -q box add "$work"/out/*.box
add=$(echo "$(now) - $t0" | bc)
echo "den box build $RECIPE ($(nproc) cores)"
printf '  cold (debootstrap, configure, pack)   %7.2f s   box %d MiB\n' "$cold" $((size >> 20))
printf '  cached (recipe unchanged)             %7.3f s\n' "$cached"
printf '  den box add of the built box          %7.2f s\n' "$add"
