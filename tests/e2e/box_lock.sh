#!/bin/bash
# Envfile.lock: `den box add` in a project records the box; with a lock,
# den uses exactly the locked version and refuses other bytes; `den box
# outdated`, `den box update` and `den box prune` work from the Envfile.
. "$(dirname "$0")/lib/assert.sh"
export DEN_HOME="$T_DIR/home"
SRV="$T_DIR/srv"
mkdir -p "$SRV/den" "$T_DIR/proj"
. "$(dirname "$0")/lib/boxes.sh"

make_box "$SRV/den/t1.box" container
make_box "$SRV/den/t2.box" container
catalog den/test den/t1.box 1.0.0 1.1.0 > "$SRV/den/test"
start_server
export DEN_BOX_SERVER="$URL"
cd "$T_DIR/proj"
cat > Envfile <<'EOF2'
den: 1
defaults: { box: den/test, box_version: "~> 1.0", provider: container }
machines:
  web:
  db:
EOF2

lock_version() {
	python3 -c 'import json,sys; print(" ".join(b["version"] for b in json.load(open("Envfile.lock"))["boxes"]))'
}

run box add den/test --box-version "~> 1.0"
expect_rc 0 "box add inside a project"
expect_err "recorded den/test 1.1.0 in" "says it recorded the lock"
expect_true '[ "$(lock_version)" = 1.1.0 ]' "Envfile.lock names 1.1.0, once for both machines"
expect_true 'python3 -c "import json; b=json.load(open(\"Envfile.lock\"))[\"boxes\"][0]; assert b[\"checksum\"] and b[\"url\"].endswith(\"t1.box\") and b[\"constraint\"] == \"~> 1.0\" and b[\"provider\"] == \"container\""' "the lock has url, checksum, constraint"
cp Envfile.lock lock.1

run box add den/test --box-version "~> 1.0"
expect_true 'cmp -s Envfile.lock lock.1' "adding again leaves the lock as it was"

# A newer version appears on the server.
catalog den/test den/t2.box 1.0.0 1.1.0 1.2.0 > "$SRV/den/test"
python3 - "$SRV/den/test" "$(sha "$SRV/den/t1.box")" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
for v in c["versions"]:
    if v["version"] != "1.2.0":
        v["providers"][0]["url"] = "t1.box"; v["providers"][0]["checksum"] = sys.argv[2]
json.dump(c, open(sys.argv[1], "w"))
PY
run box outdated
expect_rc 0 "box outdated"
expect_true 'printf "%s\n" "$OUT" | grep -qE "^den/test +container +1\.1\.0 +1\.2\.0 +1\.2\.0$"' "current 1.1.0, allowed and latest 1.2.0"
run box outdated --json
expect_true 'printf "%s" "$OUT" | python3 -c "import json,sys; d=json.load(sys.stdin)[0]; assert (d[\"current\"], d[\"allowed\"]) == (\"1.1.0\", \"1.2.0\")"' "outdated --json"
run box outdated --global
expect_rc 0 "box outdated --global"
expect_out "den/test" "lists store boxes"

run box update
expect_rc 0 "box update"
expect_err "den/test (container): 1.1.0 -> 1.2.0" "says what changed"
expect_true '[ "$(lock_version)" = 1.2.0 ]' "the lock moves to 1.2.0"
expect_true '[ -d "$DEN_HOME/boxes/den/test/1.2.0/container-amd64/rootfs" ]' "1.2.0 is in the store"
run box update
expect_err "1.2.0 is the newest allowed" "a second update changes nothing"

# A teammate clones the project: an empty store, the committed lock.
cp Envfile.lock lock.2
export DEN_HOME="$T_DIR/home2"
python3 - Envfile.lock <<'PY'
import json, sys
l = json.load(open(sys.argv[1]))
l["boxes"][0]["checksum"] = "00" * 32   # the server's bytes differ from what was locked
json.dump(l, open(sys.argv[1], "w"))
PY
run box add
expect_rc 1 "fetching by a lock whose checksum the server's bytes do not match"
expect_err "checksum mismatch" "refused"
expect_true '[ ! -e "$DEN_HOME/boxes/den/test" ]' "nothing entered the store"
cp lock.2 Envfile.lock
run box add
expect_rc 0 "box add with no box: every box the lock names"
expect_err "fetching den/test 1.2.0, as Envfile.lock says" "takes the locked version"
expect_true 'cmp -s Envfile.lock lock.2' "the lock is unchanged"
python3 - Envfile.lock <<'PY'
import json, sys
l = json.load(open(sys.argv[1]))
l["boxes"][0]["checksum"] = "00" * 32
json.dump(l, open(sys.argv[1], "w"))
PY
run box add
expect_rc 1 "a store box that differs from the lock"
expect_err "is not the one Envfile.lock names" "says so"
run box update
expect_rc 0 "update resolves again past a bad lock entry"
cp lock.2 Envfile.lock
python3 - Envfile.lock <<'PY'
import json, sys
l = json.load(open(sys.argv[1]))
l["boxes"][0]["checksum"] = "00" * 32
json.dump(l, open(sys.argv[1], "w"))
PY
python3 - Envfile.lock <<'PY'
import json, sys
l = json.load(open(sys.argv[1]))
l["boxes"][0]["checksum"] = "00" * 32
json.dump(l, open(sys.argv[1], "w"))
PY
rm -rf "$DEN_HOME"
run box prune
expect_rc 0 "prune on an empty store"

# den box remove and prune keep what the lock names.
export DEN_HOME="$T_DIR/home"
cp lock.1 Envfile.lock          # the project is locked to 1.1.0 again
run box add den/test --box-version 1.0.0
expect_rc 0 "an old version"
expect_true '[ "$(lock_version)" = 1.1.0 ]' "an add does not move a lock: that is box update's job"
run box prune --dry-run
expect_out "would remove den/test 1.0.0" "1.0.0 would go"
expect_no_out "1.1.0" "1.1.0 stays: the lock names it"
expect_no_out "1.2.0" "1.2.0 stays: the newest"
run box prune
expect_rc 0 "box prune"
expect_true '[ ! -e "$DEN_HOME/boxes/den/test/1.0.0" ] && [ -e "$DEN_HOME/boxes/den/test/1.1.0" ] && [ -e "$DEN_HOME/boxes/den/test/1.2.0" ]' "prune removed only 1.0.0"

# box_url in the Envfile is the box server for that box.
mkdir -p "$T_DIR/proj2" && cd "$T_DIR/proj2"
printf 'den: 1\nmachines:\n  web: { box: den/test, box_url: "%s", provider: container }\n' "$URL" > Envfile
DEN_BOX_SERVER= DEN_HOME="$T_DIR/home3" run box add den/test
expect_rc 0 "box add NAME uses the Envfile's box_url"
expect_true '[ -f Envfile.lock ]' "and locks it"
cd "$T_DIR/proj"

echo '{ "boxes": "no" }' > Envfile.lock
run box update
expect_rc 1 "a damaged lock"
expect_err "Envfile.lock is damaged" "says so and what to do"

t_done
