#!/bin/bash
# den upload and the file provisioner never follow host symlinks that code
# in a machine planted in the project (a synced `host: .` lets it): a link
# to a secret file, to a folder outside, to /proc/self/environ arrives as a
# link; a link on the way to a source is refused, naming it; fifos do not
# hang den. Real files and folders still upload.
. "$(dirname "$0")/lib/assert.sh"

. "$(dirname "$0")/lib/machines.sh"
require_root "the container provider"
add_debian_box

P="$T_DIR/project"
O="$T_DIR/outside" # host files outside the project: must never reach the machine
SECRET="den-secret-$$-$RANDOM"
mkdir -p "$P/code/sub" "$P/real" "$P/misc" "$O/dir"
echo "$SECRET" > "$O/secret"
chmod 600 "$O/secret"
echo "$SECRET-in-dir" > "$O/dir/inner"
echo hi > "$P/code/a.txt"
echo deep > "$P/code/sub/b.txt"
echo conf > "$P/real/app.conf"
ln -s real "$P/via"                 # in the project: the Envfile accepts it
ln -s real/app.conf "$P/alias.conf" # a source that is itself a symlink
cat > "$P/Envfile" <<'EOF2'
den: 1
machines:
  c:
    box: den/debian-12
    provider: container
    provision:
      - file: { name: tree, source: code, destination: ~/prov-code, run: never }
      - file: { name: tree-root, source: code, destination: /opt/den-code, run: never }
      - file: { name: alias, source: alias.conf, destination: ~/prov-alias.conf, run: never }
      - file: { name: through, source: via/app.conf, destination: ~/prov-via.conf, run: never }
EOF2
cd "$P"
trap '"$DEN" -C "$P" destroy >/dev/null 2>&1; rm -rf "$T_DIR"' EXIT
c() { "$DEN" -q ssh c -c "$1"; }
# No file in the machine holds the secret (grep -r follows no symlink).
no_secret() { [ -z "$(c "sudo grep -rlsF -- $SECRET /home /tmp /opt /root; true")" ]; }

run up
expect_rc 0 "den up"

# What a machine plants, once it runs (here from the host: the same bytes).
ln -s "$O/secret" "$P/code/leak"
ln -s "$O/dir" "$P/code/leakdir"
ln -s /proc/self/environ "$P/code/env"
ln -s "$O/secret" "$P/leak"
ln -s "$O/dir" "$P/leakdir"
ln -s /proc/self "$P/proc"
ln -s "$O" "$P/out"
echo ok > "$P/misc/ok"
mkfifo "$P/misc/fifo"
mkfifo "$P/fifo"

run upload code "~/up-code" c
expect_rc 0 "den upload of a folder holding symlinks"
expect_true '[ "$(c "cat ~/up-code/a.txt ~/up-code/sub/b.txt")" = "hi
deep" ]' "its files and subfolders arrive"
expect_true '[ "$(c "readlink ~/up-code/leak")" = "$O/secret" ]' "a symlink to a secret arrives as that symlink"
expect_true '[ "$(c "readlink ~/up-code/leakdir")" = "$O/dir" ]' "a symlink to a folder arrives as a symlink"
expect_true '[ "$(c "readlink ~/up-code/env")" = /proc/self/environ ]' "so does one to /proc/self/environ"
expect_true 'c "test ! -e ~/up-code/leakdir/inner"' "the outside folder is not copied"
expect_true no_secret "the secret is nowhere in the machine"

run upload leak "~/up-leak" c
expect_rc 0 "den upload of a symlink"
expect_true '[ "$(c "readlink ~/up-leak")" = "$O/secret" ]' "arrives as a symlink"
run upload leakdir
expect_rc 0 "den upload of a symlink to a folder (to ~/leakdir by default)"
expect_true '[ "$(c "readlink ~/leakdir")" = "$O/dir" ]' "arrives as a symlink"
run upload leak "~/up-leak" c
expect_rc 0 "den upload of a symlink again replaces the first"
expect_true no_secret "still no secret"

run upload out/secret "~/up-out" c
expect_rc 1 "a symlink on the way is refused"
expect_err "out is a symlink" "the error names it"
run upload "$P/out/dir/inner" "~/up-out" c
expect_rc 1 "in an absolute path too"
expect_err "$P/out is a symlink" "named as typed"
run upload proc/environ "~/up-env" c
expect_rc 1 "a symlink to /proc/self on the way is refused"
expect_err "proc is a symlink" "the error names it"
run upload via/app.conf "~/up-via" c
expect_rc 1 "even one that stays in the project"
expect_true 'c "test ! -e ~/up-out -a ! -e ~/up-env -a ! -e ~/up-via"' "nothing arrived from refused uploads"

run upload misc "~/up-misc" c
expect_rc 0 "a folder holding a fifo uploads"
expect_err "skipped misc/fifo: it is a fifo" "the fifo is skipped with a message"
expect_true '[ "$(c "cat ~/up-misc/ok")" = ok ] && c "test ! -e ~/up-misc/fifo"' "the rest arrives"
run upload fifo "~/up-fifo" c
expect_rc 1 "a fifo as the source is refused"
expect_err "fifo: it is a fifo" "and says why"
run upload real/app.conf "~/up-real.conf" c
expect_rc 0 "a plain file uploads"
expect_true '[ "$(c "cat ~/up-real.conf")" = conf ]' "and arrives"

run provision c --provision-with tree,tree-root,alias
expect_rc 0 "file steps with symlinks in their sources"
expect_true '[ "$(c "cat ~/prov-code/a.txt ~/prov-code/sub/b.txt")" = "hi
deep" ]' "the file provisioner copies the folder"
expect_true '[ "$(c "readlink ~/prov-code/leak")" = "$O/secret" ]' "a planted symlink arrives as a symlink"
expect_true '[ "$(c "readlink /opt/den-code/leak")" = "$O/secret" ]' "also through sudo (outside the home)"
expect_true '[ "$(c "readlink /opt/den-code/leakdir")" = "$O/dir" ]' "a folder symlink too"
expect_true '[ "$(c "cat /opt/den-code/sub/b.txt")" = deep ]' "with the real files"
expect_true '[ "$(c "readlink ~/prov-alias.conf")" = real/app.conf ]' "a source that is a symlink arrives as one"
expect_true no_secret "the secret is nowhere in the machine"

run provision c --provision-with through
expect_rc 1 "a file step whose source goes through a symlink"
expect_err "via/app.conf: via is a symlink" "is refused, naming the symlink"
expect_true 'c "test ! -e ~/prov-via.conf"' "and nothing arrived"
t_done
