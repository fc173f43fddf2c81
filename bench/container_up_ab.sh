#!/bin/bash
# Container up to SSH-ready, two den builds side by side (e.g. before and
# after a change), runs interleaved so both see the same machine state.
# Prints, never asserts.
#   bench/container_up_ab.sh DEN_A DEN_B [RUNS]
# Issue 13 used it for the user namespace: build the commit before in
# another folder and pass both binaries. Needs root.
set -eu
A=$(realpath "$1")
B=$(realpath "$2")
RUNS=${3:-15}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/den-bench-XXXXXX")
export DEN_HOME="$work/home"
export DEN_BUILD_CACHE=${DEN_BUILD_CACHE:-/var/cache/den-test}
trap '"$B" -C "$work/p" destroy >/dev/null 2>&1; rm -rf "$work"' EXIT
"$B" -q box build debian-12 --provider container --output "$work/boxes" --add >/dev/null
mkdir -p "$work/p"
printf 'den: 1\nmachines:\n  web: { box: den/debian-12, provider: container }\n' > "$work/p/Envfile"

now() { date +%s%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { printf "%.1f", a[int((NR + 1) / 2)] / 1e6 }'; }
a=() b=()
# One warm-up each, then A and B in turn.
for den in "$A" "$B"; do "$den" -q -C "$work/p" up && "$den" -q -C "$work/p" destroy; done
for _ in $(seq "$RUNS"); do
	t0=$(now); "$A" -q -C "$work/p" up; a+=("$(($(now) - t0))"); "$A" -q -C "$work/p" destroy
	t0=$(now); "$B" -q -C "$work/p" up; b+=("$(($(now) - t0))"); "$B" -q -C "$work/p" destroy
done
echo "container up to SSH-ready, median of $RUNS interleaved ($(nproc) cores, debian-12 box)"
printf '  A %-40s %7s ms\n' "$A" "$(printf '%s\n' "${a[@]}" | median)"
printf '  B %-40s %7s ms\n' "$B" "$(printf '%s\n' "${b[@]}" | median)"
