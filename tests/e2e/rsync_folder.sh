#!/bin/bash
# rsync synced folders work for every provider: here a container (the qemu
# provider's are in qemu_machine.sh). den up copies the folder in (owned by
# the login user, rsync_exclude left out), den rsync copies changes and
# deletions, and a hostile guest path stays a path.
. "$(dirname "$0")/lib/assert.sh"

. "$(dirname "$0")/lib/machines.sh"
require_root "the container provider"
add_debian_box

P="$T_DIR/project"
mkdir -p "$P/code/skip"
echo hi > "$P/code/a.txt"
echo gone > "$P/code/b.txt"
echo no > "$P/code/skip/x"
cat > "$P/Envfile" <<'EOF2'
den: 1
machines:
  c:
    box: den/debian-12
    provider: container
    synced_folders:
      - { host: ./code, guest: /code, type: rsync, rsync_exclude: [skip] }
      - { host: ./code, guest: "/odd dir; touch /tmp/injected", type: rsync }
EOF2
cd "$P"
trap '"$DEN" -C "$P" destroy >/dev/null 2>&1; rm -rf "$T_DIR"' EXIT
c() { "$DEN" -q ssh c -c "$1"; }

run up
expect_rc 0 "den up with rsync folders"
expect_err "c: rsync ./code -> /code" "says what it syncs"
expect_true '[ "$(c "cat /code/a.txt")" = hi ]' "the folder is copied in"
expect_true '[ "$(c "stat -c %U /code/a.txt")" = den ]' "owned by the login user"
expect_true '! c "test -e /code/skip"' "rsync_exclude is left out"
expect_true '[ "$(c "cat \"/odd dir; touch /tmp/injected/a.txt\"")" = hi ]' "an odd guest path is one path"
expect_true '! c "test -e /tmp/injected"' "and nothing ran from it"
echo changed > "$P/code/a.txt"
rm "$P/code/b.txt"
run rsync
expect_rc 0 "den rsync"
expect_true '[ "$(c "cat /code/a.txt")" = changed ]' "changes are copied"
expect_true '! c "test -e /code/b.txt"' "deletions are copied"
t_done
