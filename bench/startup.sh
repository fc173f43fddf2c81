#!/bin/bash
# Start-up figures of den (issue: foundation). Prints, never asserts.
#   bench/startup.sh [DEN] [BENCH_STARTUP] [RUNS]
# Targets: `den --version` and `den status` (10 machines) under 5 ms each,
# and what den status would take with libcurl, libarchive, libssh, libslirp
# and libcrypto linked instead of loaded on first use (LD_PRELOAD),
# median of 50 runs. /bin/true is the floor of fork+exec on this machine.
set -eu
DEN=$(realpath "${1:-build/den}")
BENCH=$(realpath "${2:-build/bench_startup}")
RUNS=${3:-50}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

{
	echo "den: 1"
	echo "defaults: { box: den/debian-12, box_version: '~> 1.0', provider: container }"
	echo "machines:"
	for i in $(seq 1 10); do
		echo "  m$i:"
		echo "    forwarded_ports: [{ guest: 80, host: $((18000 + i)) }]"
		echo "    synced_folders: [{ host: ., guest: /work }]"
		echo "    provision: [{ shell: 'echo hi' }]"
	done
} > "$dir/Envfile"

echo "den start-up, median of $RUNS runs ($(nproc) cores, $(uname -r))"
"$BENCH" "$RUNS" "/bin/true (fork+exec floor)" /bin/true
"$BENCH" "$RUNS" "den --version" "$DEN" --version
"$BENCH" "$RUNS" "den status (10 machines)" "$DEN" -C "$dir" status
"$BENCH" "$RUNS" "den status --json (10 machines)" "$DEN" -C "$dir" status --json
"$BENCH" "$RUNS" "den validate (10 machines)" "$DEN" -C "$dir" validate
echo "shared libraries den loads: $(ldd "$DEN" | wc -l)"
# What linking the heavy libraries normally would cost (docs/decisions.md,
# "Heavy libraries load on first use"): the same run with them preloaded.
heavy=""
for so in libcurl.so.4 libarchive.so.13 libssh.so.4 libslirp.so.0 libcrypto.so.3; do
	path=$(ldconfig -p | awk -v l="$so" '$1 == l { print $NF; exit }')
	[ -n "$path" ] && heavy="${heavy:+$heavy:}$path"
done
LD_PRELOAD="$heavy" "$BENCH" "$RUNS" "den status, libraries linked" "$DEN" -C "$dir" status
