#!/bin/bash
# Start-up figures of den (issue: foundation). Prints, never asserts.
#   bench/startup.sh [DEN] [BENCH_STARTUP] [RUNS]
# Targets: `den --version` and `den status` (10 machines) under 5 ms each,
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
