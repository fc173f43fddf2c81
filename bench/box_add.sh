#!/bin/bash
# Box download figures (issue: boxes). Prints, never asserts.
#   bench/box_add.sh [DEN] [SIZE_MIB] [RUNS]
# den box add (download + sha256 + unpack into the store) of a SIZE_MIB box
# served from 127.0.0.1, beside the pipeline a user would script:
# curl -o, then sha256sum, then tar -x, on the same file, same server.
set -eu
DEN=$(realpath "${1:-build/den}")
MIB=${2:-1024}
RUNS=${3:-3}
SRC=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/var/tmp}/den-bench-XXXXXX")
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT

mkdir -p "$work/srv" "$work/box"
echo '{"provider": "qemu", "architecture": "amd64"}' > "$work/box/metadata.json"
head -c $((MIB << 20)) /dev/urandom > "$work/box/disk.raw"
tar -C "$work/box" -cf "$work/srv/bench.box" .
rm -rf "$work/box"
sum=$(sha256sum "$work/srv/bench.box" | cut -d' ' -f1)
python3 "$SRC/tests/helpers/boxserver.py" "$work/srv" > "$work/port" &
server=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
url="http://127.0.0.1:$(cat "$work/port")/bench.box"

now() { date +%s.%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
den_times=() pipe_times=()
for i in $(seq "$RUNS"); do
	sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
	rm -rf "$work/home"
	t0=$(now)
	DEN_HOME="$work/home" "$DEN" -q box add "$url" --name bench/box --checksum "$sum" \
		--checksum-type sha256
	den_times+=("$(echo "$(now) - $t0" | bc)")

	sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
	rm -rf "$work/pipe" && mkdir -p "$work/pipe/d"
	t0=$(now)
	curl -s -o "$work/pipe/f" "$url"
	echo "$sum  $work/pipe/f" | sha256sum -c --quiet -
	tar -xf "$work/pipe/f" -C "$work/pipe/d"
	pipe_times+=("$(echo "$(now) - $t0" | bc)")
done
d=$(printf '%s\n' "${den_times[@]}" | median)
p=$(printf '%s\n' "${pipe_times[@]}" | median)
echo "box of $MIB MiB from 127.0.0.1, median of $RUNS ($(nproc) cores)"
printf '  den box add (download+sha256+unpack)  %6.2f s  %6.0f MiB/s\n' "$d" "$(echo "$MIB / $d" | bc -l)"
printf '  curl -o; sha256sum; tar -x            %6.2f s  %6.0f MiB/s\n' "$p" "$(echo "$MIB / $p" | bc -l)"
printf '  den / pipeline                        %6.2f\n' "$(echo "$d / $p" | bc -l)"
