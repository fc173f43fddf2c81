#!/bin/bash
# `den status` and `den validate` on real projects, including 50 machines.
. "$(dirname "$0")/lib/assert.sh"
cd "$T_DIR"
export DEN_HOME="$T_DIR/home"

{
	echo "den: 1"
	echo "defaults: { box: den/debian-12, provider: container }"
	echo "machines:"
	for i in $(seq 1 50); do echo "  m$i: { forwarded_ports: [\"$((20000 + i)):80\"] }"; done
} > Envfile

run status
expect_rc 0 "status with 50 machines"
expect_true '[ "$(printf "%s\n" "$OUT" | grep -c "not created")" -eq 50 ]' "50 rows, all not created"
expect_true '[ "$(printf "%s\n" "$OUT" | head -1 | tr -s " ")" = "MACHINE STATE PROVIDER BOX" ]' "header row"
expect_true 'printf "%s\n" "$OUT" | grep -qE "^m50 +not created +container +den/debian-12$"' "columns line up"
expect_true '[ ! -e .den ] && [ ! -e "$DEN_HOME" ]' "status changes nothing"
SD=$("$DEN" -q status --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["state_dir"])')
expect_true 'case "$SD" in "$DEN_HOME"/projects/*) true ;; *) false ;; esac' "machine state lives under DEN_HOME, out of the project"

run status --json
expect_rc 0 "status --json"
expect_true 'printf "%s" "$OUT" | python3 -c "
import json, sys
d = json.load(sys.stdin)
ms = d[\"machines\"]
assert len(ms) == 50, len(ms)
assert all(m[\"state\"] == \"not_created\" and m[\"provider\"] == \"container\" and m[\"box\"] == \"den/debian-12\" for m in ms)
assert d[\"envfile\"].endswith(\"/Envfile\")
"' "status --json lists 50 machines"

run status m7 'm4*'
expect_rc 0 "status with names and patterns"
expect_true '[ "$(printf "%s\n" "$OUT" | grep -c "not created")" -eq 12 ]' "m7 and m4* (m4, m40..m49): 12 rows"
run status m51
expect_rc 2 "status of an unknown machine"
expect_err "no machine 'm51'" "names the machine"
expect_err "did you mean" "suggests one"

# A machine with state on disk whose provider this build lacks: unknown, said why.
mkdir -p "$SD/machines/m1"
echo '{"version": 1, "provider": "virtualbox"}' > "$SD/machines/m1/state.json"
run status m1
expect_out "unknown" "state from state.json"
expect_out "not part of this den build" "explains unknown"
echo '{ broken' > "$SD/machines/m1/state.json"
run status m1 --json
expect_rc 0 "status survives a damaged state.json"
expect_out "den destroy" "damaged state.json points at destroy"
# Values den would hand to ssh, ansible or a terminal are checked like an Envfile's.
for bad in '"ssh_user": "den ansible_connection=local"' '"ssh_user": "den\nProxyCommand touch /tmp/x"' \
	'"ssh_port": 70000' '"ssh_key": "relative/key"' '"ports": [{"guest": 80, "host": 8080, "host_ip": "1.2.3.4 -oX", "protocol": "tcp"}]' \
	'"provider": "../../x"'; do
	echo "{\"version\": 1, \"provider\": \"container\", $bad}" > "$SD/machines/m1/state.json"
	run status m1
	expect_out "is damaged" "a state.json with $bad is refused as damaged"
done
ln -sf /etc/hostname "$SD/machines/m1/target"
rm -f "$SD/machines/m1/state.json"
ln -s target "$SD/machines/m1/state.json"
run status m1
expect_out "is a link" "a state.json that is a link is not followed"
rm -rf "$SD"

# validate is read-only and says what it found.
run validate
expect_rc 0 "validate"
expect_out "Envfile is valid: 50 machines" "counts machines"
expect_true '[ ! -e .den ] && [ ! -e "$SD" ]' "validate changes nothing"

# Envfile.example is the reference: it must validate as it is.
cp -r "$SRC/Envfile.example" ./ex
mkdir -p exdir && cp "$SRC/Envfile.example" exdir/Envfile
run -C exdir validate
expect_rc 0 "Envfile.example validates"

t_done
