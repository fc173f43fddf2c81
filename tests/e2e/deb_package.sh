#!/bin/bash
# den's Debian package, end to end (slow: a whole Release build): `make
# deb`'s script builds den_VERSION_amd64.deb, lintian finds no error, dpkg
# installs it, the installed den brings Envfile.example up and provisions
# it, `man den-up` and the completions work, and removing the package
# leaves no file of it behind: none dpkg listed, and nothing named like den
# in /usr or /etc that was not there before.
. "$(dirname "$0")/lib/assert.sh"
. "$SRC/tests/e2e/lib/machines.sh"

require_root "installing a package"
if dpkg-query -W -f='${db:Status-Status}' den 2>/dev/null | grep -qx installed; then
	t_skip "a den package is installed on this machine already; this test installs its own"
fi

# What of /usr and /etc could be den's (other tests may run beside this one).
listing() { find /usr /etc -xdev -iname '*den*' 2>/dev/null | sort; }
installed=0
cleanup() {
	if [ "$installed" -eq 1 ]; then
		(cd "$T_DIR/p" 2>/dev/null && /usr/bin/den destroy -f >/dev/null 2>&1)
		dpkg --purge den >/dev/null 2>&1
	fi
	rm -rf "$T_DIR"
}
trap cleanup EXIT

OUT=$("$SRC/scripts/deb.sh" "$T_DIR/out" 2>&1) && RC=0 || RC=$?
expect_rc 0 "scripts/deb.sh (make deb) builds the package"
version=$(cd "$SRC" && dpkg-parsechangelog -S Version)
deb="$T_DIR/out/den_${version}_amd64.deb"
expect_true '[ -f "$deb" ]' "den_${version}_amd64.deb made"
[ -f "$deb" ] || t_done

OUT=$(lintian --fail-on error "$deb" 2>&1) && RC=0 || RC=$?
expect_rc 0 "lintian: no error"
expect_no_out " E: " "lintian says no E: line"
depends=$(dpkg-deb -f "$deb" Depends)
recommends=$(dpkg-deb -f "$deb" Recommends)
for lib in libyaml-0-2 libjansson4 libseccomp2 libcurl4 libarchive13 libssh-4 libslirp0 libssl3 libext2fs2 libblkid1 libxml2; do
	expect_true 'echo "$depends" | grep -qw "$lib"' "Depends names $lib (the ones den loads on first use too)"
done
for pkg in qemu-system-x86 ansible-core openssh-client; do
	expect_true 'echo "$recommends" | grep -qw "$pkg"' "Recommends $pkg"
done

before=$(listing)
OUT=$(dpkg -i "$deb" 2>&1) && RC=0 || RC=$?
expect_rc 0 "dpkg -i"
installed=1
files=$(dpkg -L den | while read -r f; do [ -d "$f" ] || echo "$f"; done)
expect_true 'echo "$files" | grep -qx /usr/bin/den' "dpkg -L den names /usr/bin/den"
OUT=$(/usr/bin/den --version 2>&1) && RC=0 || RC=$?
expect_rc 0 "the installed den runs"
expect_out "$version" "den --version says $version"
OUT=$(man -w den-up 2>&1)
expect_true '[ "$OUT" = /usr/share/man/man1/den-up.1.gz ]' "man den-up (got: $OUT)"
OUT=$(MANWIDTH=80 man 5 Envfile 2>&1)
expect_out "synced_folders" "man 5 Envfile"
OUT=$(bash --norc -c '. /usr/share/bash-completion/bash_completion; _completion_loader den; complete -p den' 2>&1)
expect_true '[ "$OUT" = "complete -F _den den" ]' "bash-completion loads den's completion on demand (got: $OUT)"
OUT=$(cd "$T_DIR" && HOME="$T_DIR" fish -c 'complete -C "den doc"' 2>&1)
expect_true 'echo "$OUT" | grep -q "^doctor"' "fish finds den's completion (got: $OUT)"
expect_true '[ -f /usr/share/zsh/vendor-completions/_den ]' "zsh's completion where Debian's zsh looks"

# Envfile.example, up and provisioned by the installed den.
add_debian_box
mkdir -p "$T_DIR/p"
cp "$SRC/Envfile.example" "$T_DIR/p/Envfile"
OUT=$(cd "$T_DIR/p" && /usr/bin/den up 2>&1) && RC=0 || RC=$?
expect_rc 0 "the installed den brings Envfile.example up"
OUT=$(cd "$T_DIR/p" && /usr/bin/den ssh -c 'cat /tmp/den-provisioned' 2>&1) && RC=0 || RC=$?
expect_out "provisioned dev" "and provisions it"
OUT=$(cd "$T_DIR/p" && /usr/bin/den destroy 2>&1) && RC=0 || RC=$?
expect_rc 0 "den destroy"

OUT=$(dpkg -r den 2>&1) && RC=0 || RC=$?
expect_rc 0 "dpkg -r"
OUT=$(dpkg --purge den 2>&1) && RC=0 || RC=$?
expect_rc 0 "dpkg --purge"
installed=0
expect_true '[ ! -e /usr/bin/den ]' "den is gone"
for f in $files; do
	expect_true '[ ! -e "$f" ]' "$f is gone"
done
after=$(listing)
left=$(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | head -20)
expect_true '[ -z "$left" ]' "no file left in /usr or /etc, none taken: $left"

t_done
