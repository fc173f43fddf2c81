#!/bin/bash
# Container provider figures (issue: container provider). Prints, never asserts.
#   bench/container_up.sh [DEN] [RUNS]
# den up to SSH-ready (cached box), den destroy, the same with a systemd
# box, and den status with 10 running machines, beside `unshare ... chroot /bin/true` and `crun run`
# of /bin/true on the same root file system. Needs root.
set -eu
DEN=$(realpath "${1:-build/den}")
RUNS=${2:-10}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/den-bench-XXXXXX")
export DEN_HOME="$work/home"
export DEN_BUILD_CACHE=${DEN_BUILD_CACHE:-/var/cache/den-test}
trap '"$DEN" -C "$work/p" destroy >/dev/null 2>&1; "$DEN" -C "$work/sd" destroy >/dev/null 2>&1; "$DEN" -C "$work/ten" destroy >/dev/null 2>&1; rm -rf "$work"' EXIT
"$DEN" -q box build debian-12 --provider container --output "$work/boxes" --add >/dev/null
ROOTFS="$DEN_HOME/boxes/den/debian-12/1.0.0/container-amd64/rootfs"
mkdir -p "$work/p"
printf 'den: 1\nmachines:\n  web: { box: den/debian-12, provider: container }\n' > "$work/p/Envfile"

now() { date +%s.%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
ups=() downs=()
for i in $(seq "$RUNS"); do
	t0=$(now); "$DEN" -q -C "$work/p" up; ups+=("$(echo "($(now) - $t0) * 1000" | bc)")
	t0=$(now); "$DEN" -q -C "$work/p" destroy; downs+=("$(echo "($(now) - $t0) * 1000" | bc)")
done
# The same with systemd as PID 1 (debian-12-systemd, "init": "system"): up, halt, destroy.
"$DEN" -q box build debian-12-systemd --output "$work/boxes" --add >/dev/null
mkdir -p "$work/sd"
printf 'den: 1\nmachines:\n  sd: { box: den/debian-12-systemd, provider: container }\n' > "$work/sd/Envfile"
sd_ups=() sd_halts=()
for i in $(seq "$RUNS"); do
	t0=$(now); "$DEN" -q -C "$work/sd" up; sd_ups+=("$(echo "($(now) - $t0) * 1000" | bc)")
	t0=$(now); "$DEN" -q -C "$work/sd" halt; sd_halts+=("$(echo "($(now) - $t0) * 1000" | bc)")
	"$DEN" -q -C "$work/sd" destroy
done
unsh=()
for i in $(seq "$RUNS"); do
	t0=$(now); unshare -m -u -i -n -p -f chroot "$ROOTFS" /bin/true; unsh+=("$(echo "($(now) - $t0) * 1000" | bc)")
done
echo "container provider, median of $RUNS ($(nproc) cores, debian-12 box)"
printf '  den up to SSH-ready (cached box)      %7.1f ms\n' "$(printf '%s\n' "${ups[@]}" | median)"
printf '  den destroy                           %7.1f ms\n' "$(printf '%s\n' "${downs[@]}" | median)"
printf '  systemd box: den up to SSH-ready      %7.1f ms\n' "$(printf '%s\n' "${sd_ups[@]}" | median)"
printf '  systemd box: den halt (units stopped) %7.1f ms\n' "$(printf '%s\n' "${sd_halts[@]}" | median)"
printf '  unshare -mnuipf chroot /bin/true      %7.1f ms\n' "$(printf '%s\n' "${unsh[@]}" | median)"
if command -v crun >/dev/null; then
	b="$work/bundle"; mkdir -p "$b"
	(cd "$b" && crun spec >/dev/null && python3 - "$ROOTFS" <<'PY'
import json, sys
c = json.load(open("config.json"))
c["root"] = {"path": sys.argv[1], "readonly": True}
c["process"]["args"] = ["/bin/true"]; c["process"]["terminal"] = False
json.dump(c, open("config.json", "w"))
PY
	)
	cr=()
	for i in $(seq "$RUNS"); do
		t0=$(now)
		if crun run --bundle "$b" "den-bench-$$-$i" >/dev/null 2>&1; then
			cr+=("$(echo "($(now) - $t0) * 1000" | bc)")
		fi
	done
	if [ ${#cr[@]} -gt 0 ]; then
		printf '  crun run /bin/true                    %7.1f ms\n' "$(printf '%s\n' "${cr[@]}" | median)"
	else
		echo "  crun run /bin/true                    (crun refuses this cgroup layout: hybrid with controllers in cgroup2)"
	fi
fi
# den status with 10 running machines.
mkdir -p "$work/ten"
{ echo "den: 1"; echo "defaults: { box: den/debian-12, provider: container, memory: 256M }"; echo "machines:"
  for i in $(seq 10); do echo "  m$i:"; done; } > "$work/ten/Envfile"
"$DEN" -q -C "$work/ten" up
st=()
for i in $(seq 20); do t0=$(now); "$DEN" -C "$work/ten" status >/dev/null; st+=("$(echo "($(now) - $t0) * 1000" | bc)"); done
printf '  den status, 10 running machines       %7.1f ms\n' "$(printf '%s\n' "${st[@]}" | median)"
