#!/bin/bash
# What a TAB costs with den's completion (issue 20), and den doctor. Prints,
# never asserts. den's scripts ask den itself for the candidates
# (`den completion --complete`), so a TAB is a den start plus the Envfile
# read; the floor is fork+exec of /bin/true. Median of RUNS runs.
#   bench/completion.sh [DEN] [BENCH_STARTUP] [RUNS]
set -eu
DEN=$(realpath "${1:-build/den}")
BENCH=$(realpath "${2:-build/bench_startup}")
RUNS=${3:-50}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

{
	echo "den: 1"
	echo "defaults: { box: den/debian-12 }"
	echo "machines:"
	for i in $(seq 1 50); do
		echo "  web-$i:"
		echo "    forwarded_ports: [{ guest: 80, host: $((20000 + i)) }]"
		echo "    provision: [{ shell: { inline: 'true', name: step-$i } }]"
	done
} > "$dir/Envfile"

echo "den completion, median of $RUNS runs ($(nproc) cores)"
"$BENCH" "$RUNS" "/bin/true (fork+exec floor)" /bin/true
"$BENCH" "$RUNS" "den <TAB> (the commands)" "$DEN" completion --complete -- ""
"$BENCH" "$RUNS" "den up <TAB> (50 machines' names)" "$DEN" -C "$dir" completion --complete -- up ""
"$BENCH" "$RUNS" "den provision --provision-with <TAB> (50 steps)" "$DEN" -C "$dir" completion --complete -- provision --provision-with ""
"$BENCH" "$RUNS" "den box remove <TAB> (the store's boxes)" "$DEN" completion --complete -- box remove ""
# The whole TAB as bash does it: bash-completion's word splitting, den, COMPREPLY.
"$DEN" completion bash > "$dir/den.bash"
start=$(date +%s%N)
(cd "$dir" && bash --norc --noprofile -c '
	. /usr/share/bash-completion/bash_completion; . "$1"
	for i in $(seq 100); do
		COMP_LINE="$2 up w"; COMP_POINT=${#COMP_LINE}; COMP_WORDS=("$2" up w); COMP_CWORD=2
		_den
	done' bash "$dir/den.bash" "$DEN")
end=$(date +%s%N)
echo "bash: den up w<TAB>, the whole completion function: $(((end - start) / 100000)) us each (mean of 100)"
"$BENCH" 10 "den doctor (every check)" "$DEN" doctor
