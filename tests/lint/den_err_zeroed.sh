#!/bin/bash
# Every local struct den_err starts zeroed (`= { 0 }`): den_err_is_set()
# reads msg[0], and a function that fills an error only on some paths must
# not leave stack garbage behind for its caller to print. Members of a
# struct are the struct's initialiser's business and are not looked at.
cd "${DEN_SOURCE_DIR:?run through ctest}" || exit 1
hits=$(find cmd core boxes registry vagrantfile providers provisioners tests bench -name '*.c' -print0 |
	xargs -0 awk '
		FNR == 1 { in_struct = 0 }
		/^(static |typedef )?struct [a-z_]+ \{/ { in_struct = 1 }
		/^\}/ { in_struct = 0 }
		!in_struct && /^[ \t]+struct den_err [a-z_0-9]+(, *[a-z_0-9]+)*;/ {
			print FILENAME ":" FNR ": " $0
		}')
if [ -n "$hits" ]; then
	echo "struct den_err not zeroed (write = { 0 }):"
	echo "$hits" | sed 's/^/  /'
	exit 1
fi
echo "1 passed, 0 failed"
