#!/bin/bash
# Provisioning figures (issue: provisioners). Prints, never asserts.
#   bench/provision.sh [DEN] [STEPS]
# Per-step overhead of a shell provisioner running `true` over den's one
# SSH session (den provision with STEPS steps, less den provision with
# one, divided), beside `ssh -F <(den ssh-config) web true` (a new OpenSSH
# connection each time) in the same run; and den up of Envfile.example,
# provisioning included. Needs root.
set -eu
DEN=$(realpath "${1:-build/den}")
STEPS=${2:-50}
SRC=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/var/tmp}/den-bench-XXXXXX")
export DEN_HOME="$work/home"
export DEN_BUILD_CACHE=${DEN_BUILD_CACHE:-/var/cache/den-test}
trap '"$DEN" -C "$work/p" destroy -f >/dev/null 2>&1; "$DEN" -C "$work/ex" destroy -f >/dev/null 2>&1; rm -rf "$work"' EXIT
"$DEN" -q box build debian-12 --provider container --output "$work/boxes" --add >/dev/null
now() { date +%s.%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

mkdir -p "$work/p"
{ echo "den: 1"; echo "machines:"; echo "  web:"; echo "    box: den/debian-12"
  echo "    provider: container"; echo "    provision:"
  for i in $(seq "$STEPS"); do echo "      - shell: { name: s$i, inline: 'true', privileged: false }"; done
} > "$work/p/Envfile"
"$DEN" -q -C "$work/p" up --no-provision
one=() many=()
for r in 1 2 3 4 5; do
	t0=$(now); "$DEN" -q -C "$work/p" provision --provision-with s1 >/dev/null; one+=("$(echo "($(now) - $t0) * 1000" | bc)")
	t0=$(now); "$DEN" -q -C "$work/p" provision >/dev/null; many+=("$(echo "($(now) - $t0) * 1000" | bc)")
done
m1=$(printf '%s\n' "${one[@]}" | median)
mn=$(printf '%s\n' "${many[@]}" | median)
"$DEN" -C "$work/p" ssh-config web > "$work/ssh_config"
sshs=()
for r in $(seq 20); do
	t0=$(now); ssh -F "$work/ssh_config" web true; sshs+=("$(echo "($(now) - $t0) * 1000" | bc)")
done
echo "provisioning, median of 5 ($(nproc) cores, debian-12 container)"
printf '  den provision, 1 step                     %7.1f ms\n' "$m1"
printf '  den provision, %d steps                   %7.1f ms\n' "$STEPS" "$mn"
printf '  per step (shell `true`, den'"'"'s session)     %7.2f ms\n' "$(echo "($mn - $m1) / ($STEPS - 1)" | bc -l)"
printf '  ssh -F <(den ssh-config) web true         %7.1f ms (median of 20: a new connection)\n' "$(printf '%s\n' "${sshs[@]}" | median)"

# den up of Envfile.example, provisioning included (fresh machine each time).
mkdir -p "$work/ex"
cp "$SRC/Envfile.example" "$work/ex/Envfile"
ups=()
for r in 1 2 3 4 5; do
	t0=$(now); "$DEN" -q -C "$work/ex" up >/dev/null; ups+=("$(echo "($(now) - $t0) * 1000" | bc)")
	"$DEN" -q -C "$work/ex" destroy -f
done
printf '  den up of Envfile.example, provisioned    %7.1f ms\n' "$(printf '%s\n' "${ups[@]}" | median)"
