#!/bin/bash
# Every C file is clang-format clean (STYLE.md). Fix with `make format`.
cd "${DEN_SOURCE_DIR:?run through ctest}" || exit 1
files=$(git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null || find cmd core boxes registry vagrantfile providers provisioners tests bench -name '*.[ch]')
bad=0
n=0
for f in $files; do
	[ -e "$f" ] || continue # deleted or moved, not yet committed
	n=$((n + 1))
	if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "not clang-format clean: $f (run make format)"
		bad=$((bad + 1))
	fi
done
echo "$((n - bad)) passed, $bad failed"
[ "$bad" -eq 0 ]
