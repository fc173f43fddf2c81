#!/bin/bash
# den compiles clean (-Werror) as packagers build it: Release (gcc -O3),
# Debug (gcc -O0) and clang. Build only; the tests run once, in the
# sanitized build. Each variant keeps its folder under $DEN_VARIANTS_DIR,
# so a second run rebuilds only what changed.
src="${DEN_SOURCE_DIR:?run through ctest}"
out="${DEN_VARIANTS_DIR:?run through ctest}"
bad=0
build() { # NAME CC BUILD_TYPE
	local dir="$out/$1" log="$out/$1.log"
	mkdir -p "$dir"
	if CC=$2 cmake -S "$src" -B "$dir" -DCMAKE_BUILD_TYPE="$3" -DDEN_TESTS=OFF >"$log" 2>&1 &&
		cmake --build "$dir" -j "$(nproc)" >>"$log" 2>&1; then
		echo "ok: $1 ($2, $3)"
	else
		echo "FAILED: $1 ($2, $3); the end of $log:"
		tail -n 30 "$log"
		bad=$((bad + 1))
	fi
}
build release gcc Release
build debug gcc Debug
build clang clang RelWithDebInfo
echo "$((3 - bad)) passed, $bad failed"
[ "$bad" -eq 0 ]
