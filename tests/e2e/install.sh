#!/bin/bash
# `make deps` is silent when nothing is missing; `make install` honours
# PREFIX and DESTDIR and the installed den runs.
. "$(dirname "$0")/lib/assert.sh"

out=$("$SRC/scripts/deps.sh" 2>&1) && RC=0 || RC=$?
OUT=$out ERR=
expect_rc 0 "deps.sh when everything is installed"
expect_true '[ -z "$out" ]' "deps.sh says nothing when nothing is missing"

build=$(dirname "$DEN")
DESTDIR="$T_DIR/root" cmake --install "$build" --prefix /opt/den >/dev/null 2>&1 && RC=0 || RC=$?
expect_rc 0 "cmake --install with DESTDIR"
expect_true '[ -x "$T_DIR/root/opt/den/bin/den" ]' "den installed under DESTDIR/PREFIX/bin"
expect_true '[ -f "$T_DIR/root/opt/den/share/man/man1/den.1" ]' "man page installed"
for page in man1/den-up.1 man1/den-box.1 man1/den-doctor.1 man5/Envfile.5 man5/den-box.5; do
	expect_true '[ -f "$T_DIR/root/opt/den/share/man/$page" ]' "$page installed"
done
OUT=$(MANPATH="$T_DIR/root/opt/den/share/man" man -w den-up 2>&1) && RC=0 || RC=$?
expect_true '[ "$OUT" = "$T_DIR/root/opt/den/share/man/man1/den-up.1" ]' "man den-up finds it (got: $OUT)"
OUT=$(MANPATH="$T_DIR/root/opt/den/share/man" MANWIDTH=80 man 5 Envfile 2>&1) && RC=0 || RC=$?
expect_true 'echo "$OUT" | grep -q "synced_folders"' "man 5 Envfile shows the format"
expect_true '[ -f "$T_DIR/root/opt/den/share/bash-completion/completions/den" ]' "bash completion installed"
expect_true '[ -f "$T_DIR/root/opt/den/share/zsh/site-functions/_den" ]' "zsh completion installed"
expect_true '[ -f "$T_DIR/root/opt/den/share/fish/vendor_completions.d/den.fish" ]' "fish completion installed"
expect_true 'grep -q "complete -F _den den" "$T_DIR/root/opt/den/share/bash-completion/completions/den"' "the bash script is den's"
mkdir -p "$T_DIR/p"
OUT=$(cd "$T_DIR/p" && "$T_DIR/root/opt/den/bin/den" init 2>&1) && RC=0 || RC=$?
expect_rc 0 "installed den runs init (templates are built in)"
OUT=$("$T_DIR/root/opt/den/bin/den" -C "$T_DIR/p" validate 2>&1) && RC=0 || RC=$?
expect_rc 0 "the Envfile it wrote validates"

t_done
