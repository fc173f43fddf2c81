#!/bin/bash
# Synced folder throughput in a container (issue 13). Prints, never asserts.
#   bench/synced_folder.sh [DEN] [MIB] [RUNS]
# Sequential write and read of MIB MiB (dd: fsync at the end of the
# write, O_DIRECT for the read, so neither is the page cache) inside a container, through a plain bind
# (a folder of host root's, mapped to no one; world-writable here, so root
# inside writes as its unprivileged host id) and through an idmapped bind (a
# user's folder: the login user writes as its owner), beside the same dd on
# the host.
# Median of RUNS. Needs root.
set -eu
DEN=$(realpath "${1:-build/den}")
MIB=${2:-256}
RUNS=${3:-3}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/den-bench-XXXXXX")
export DEN_HOME="$work/home"
export DEN_BUILD_CACHE=${DEN_BUILD_CACHE:-/var/cache/den-test}
trap '"$DEN" -C "$work/p" destroy -f >/dev/null 2>&1; rm -rf "$work"' EXIT
"$DEN" -q box build debian-12 --provider container --output "$work/boxes" --add >/dev/null
mkdir -p "$work/p/plain" "$work/p/mapped" "$work/host"
chmod 1777 "$work/p/plain"
chown 4321:4321 "$work/p/mapped"
cat > "$work/p/Envfile" <<'EOF'
den: 1
machines:
  b:
    box: den/debian-12
    provider: container
    memory: 1G
    synced_folders:
      - { host: ./plain, guest: /plain }
      - { host: ./mapped, guest: /mapped }
EOF
"$DEN" -q -C "$work/p" up

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
# MiB/s from dd's "copied, S s" line.
rate() { awk -v mib="$MIB" '/copied/ { for (i = 1; i <= NF; i++) if ($i == "s," || $i == "s") { printf "%.0f\n", mib / $(i - 1); exit } }'; }
inside() { "$DEN" -q -C "$work/p" ssh b -c "$1" 2>&1; }
write_cmd() { echo "dd if=/dev/zero of=$1/f bs=1M count=$MIB conv=fsync 2>&1; sync"; }
read_cmd() { echo "dd if=$1/f of=/dev/null bs=1M iflag=direct 2>&1"; }
drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }

declare -A w r
for where in plain mapped host; do
	ws=() rs=()
	for _ in $(seq "$RUNS"); do
		if [ "$where" = host ]; then
			ws+=("$(sh -c "$(write_cmd "$work/host")" | rate)")
			drop
			rs+=("$(sh -c "$(read_cmd "$work/host")" | rate)")
			rm -f "$work/host/f"
		else
			# /plain is host root's (nobody's inside); /mapped the den user's inside.
			sudo=""
			[ "$where" = plain ] && sudo="sudo"
			ws+=("$(inside "$sudo sh -c '$(write_cmd "/$where")'" | rate)")
			drop
			rs+=("$(inside "$(read_cmd "/$where")" | rate)")
			inside "$sudo rm -f /$where/f"
		fi
	done
	w[$where]=$(printf '%s\n' "${ws[@]}" | median)
	r[$where]=$(printf '%s\n' "${rs[@]}" | median)
done
echo "synced folder, $MIB MiB sequential, median of $RUNS ($(nproc) cores, $(df -T "$work" | awk 'NR == 2 { print $2 }'))"
printf '  %-34s %6s MiB/s write  %6s MiB/s read\n' "plain bind (host: ./plain)" "${w[plain]}" "${r[plain]}"
printf '  %-34s %6s MiB/s write  %6s MiB/s read\n' "idmapped bind (login user = owner)" "${w[mapped]}" "${r[mapped]}"
printf '  %-34s %6s MiB/s write  %6s MiB/s read\n' "the host itself (no container)" "${w[host]}" "${r[host]}"
