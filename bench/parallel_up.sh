#!/bin/bash
# Parallel lifecycle figures (issue 17, docs/envfile.md "Many machines").
# Prints, never asserts.   bench/parallel_up.sh [DEN] [CONTAINERS]
# `den up` of N containers (den/debian-12) side by side and with
# --no-parallel, from created-nothing to SSH-ready, each then destroyed;
# and the same for one container alone, the floor. Needs root.
set -eu
DEN=$(realpath "${1:-build/den}")
N=${2:-5}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/den-bench-XXXXXX")
export DEN_HOME="$work/home"
export DEN_BUILD_CACHE=${DEN_BUILD_CACHE:-/var/cache/den-test}
trap '"$DEN" -q -C "$work/p" destroy >/dev/null 2>&1; "$DEN" -q -C "$work/one" destroy >/dev/null 2>&1; rm -rf "$work"' EXIT
"$DEN" -q box build debian-12 --provider container --output "$work/boxes" --add >/dev/null
mkdir -p "$work/p" "$work/one"
{
	printf 'den: 1\ndefaults: { box: den/debian-12, provider: container }\nmachines:\n'
	for i in $(seq "$N"); do printf '  m%d: {}\n' "$i"; done
} > "$work/p/Envfile"
printf 'den: 1\nmachines:\n  m: { box: den/debian-12, provider: container }\n' > "$work/one/Envfile"
now() { date +%s.%N; }
timed() { local t0; t0=$(now); "$@" >/dev/null 2>&1; echo "$(now) - $t0" | bc; }

one=$(timed "$DEN" -q -C "$work/one" up); "$DEN" -q -C "$work/one" destroy
par=$(timed "$DEN" -q -C "$work/p" up); par_down=$(timed "$DEN" -q -C "$work/p" destroy)
ser=$(timed "$DEN" -q -C "$work/p" up --no-parallel); ser_down=$(timed "$DEN" -q -C "$work/p" destroy --no-parallel)
echo "den up of $N containers ($(nproc) cores), seconds"
printf '  one container alone:   %.2f\n' "$one"
printf '  %d side by side:        %.2f (destroy %.2f), %.2fx the one alone\n' "$N" "$par" "$par_down" "$(echo "$par / $one" | bc -l)"
printf '  %d with --no-parallel:  %.2f (destroy %.2f)\n' "$N" "$ser" "$ser_down"
