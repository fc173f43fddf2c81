#!/bin/bash
# provider: lxd over HTTPS (`lxd: remote:`) on an LXD of the test's own
# listening on 127.0.0.1: `den lxd trust` with a token pins the server's
# certificate and has LXD trust den's; a machine comes up, provisions,
# syncs an rsync folder, halts and is destroyed over HTTPS. Refused, each
# with its own message and nothing made: an LXD den has not trusted, a
# forged token, a used token, a client certificate LXD does not trust, a
# server certificate other than the pinned one, a native folder.
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/machines.sh"
. "$(dirname "$0")/lib/lxd.sh"
require_root "LXD"
command -v openssl >/dev/null || t_skip "openssl is missing (make deps installs it)"
add_box debian-12-systemd

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
FPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL="https://127.0.0.1:$PORT"
P="$T_DIR/project"
mkdir -p "$P/src"
echo "copied in" >"$P/src/hello.txt"
cat >"$P/Envfile" <<EOF2
den: 1
defaults:
  box: den/debian-12-systemd
  provider: lxd
  lxd: { remote: "$URL" }
machines:
  far:
    synced_folders:
      - { host: ./src, guest: /work, type: rsync }
    forwarded_ports:
      - { guest: 8000, host: $FPORT }
    provision:
      - shell: echo provisioned > /tmp/shell-ran
EOF2
cd "$P"
lxd_cleanup_at_exit "$P"

start_lxd
lxc config set core.https_address "127.0.0.1:$PORT" </dev/null >/dev/null || lxd_fail "cannot make LXD listen on 127.0.0.1:$PORT"
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
token() { lxc config trust add --name "den-$1" </dev/null 2>/dev/null | tail -1; }
instances() { lxc list --format csv -c n </dev/null | grep -c '^den-'; }
trusted() { lxc config trust list --format csv </dev/null | grep -c '^client,'; }
PINNED="$DEN_HOME/lxd/servers/127.0.0.1_$PORT.crt"

# Before any trust: said, with what to do, and nothing made.
run up
expect_rc 1 "up on an LXD den has not trusted fails"
expect_err "den does not know LXD at $URL yet" "it says den has not trusted that LXD"
expect_err "den lxd trust $URL --token TOKEN" "and how to"
expect_true '[ "$(instances)" = 0 ]' "no instance was made"

# A token whose certificate is another's: refused before anything is sent.
T=$(token one)
FORGED=$(printf '%s' "$T" | base64 -d | python3 -c 'import base64, json, sys
d = json.load(sys.stdin); d["fingerprint"] = "ab" * 32; print(base64.b64encode(json.dumps(d).encode()).decode())')
run lxd trust "$URL" --token "$FORGED"
expect_rc 1 "a token naming another certificate is refused"
expect_err "and the token names abab" "it says the certificates differ"
expect_true '[ ! -e "$PINNED" ] && [ "$(trusted)" = 0 ]' "nothing pinned, nothing trusted"
run lxd trust "$URL" --token "not-a-token"
expect_rc 1 "garbage is not a token"
expect_err "that is not an LXD trust token" "it says so"

# The token on stdin: pinned, trusted, den's key kept private.
OUT=$(printf '%s\n' "$T" | "$DEN" lxd trust "$URL" 2>"$T_DIR/.err") && RC=0 || RC=$?
ERR=$(cat "$T_DIR/.err")
expect_rc 0 "den lxd trust with the token on stdin"
expect_out "it now trusts den's certificate" "it says LXD trusts den now"
expect_true '[ -s "$PINNED" ] && [ "$(trusted)" = 1 ]' "the server's certificate is pinned and LXD holds den's"
expect_true '[ "$(stat -c %a "$DEN_HOME/lxd/client.key")" = 600 ]' "den's client key is private (0600)"
SERVER_FP=$(openssl x509 -in "$LXD_DIR/server.crt" -outform DER | sha256sum | cut -d' ' -f1)
expect_out "certificate $SERVER_FP pinned" "the pinned certificate is the server's own"
run lxd trust "$URL" --token "$T"
expect_rc 0 "trusting again is no error"
expect_out "it trusted den's certificate" "it says LXD trusted den already"

# A used token with a new client certificate: refused, nothing kept.
OTHER="$T_DIR/other-home"
OUT=$(DEN_HOME="$OTHER" "$DEN" lxd trust "$URL" --token "$T" 2>&1) && RC=0 || RC=$?
expect_rc 1 "a used token is refused"
expect_true 'printf "%s" "$OUT" | grep -qF "the token was refused"' "it says the token was refused"
expect_true '[ ! -e "$OTHER/lxd/servers/127.0.0.1_$PORT.crt" ]' "and pins nothing"

# The machine over HTTPS.
run up
expect_rc 0 "den up on LXD over HTTPS"
expect_err "far is up" "far answers on SSH"
expect_err "to LXD at $URL as an image" "the box went to that LXD"
run ssh far -c 'cat /tmp/shell-ran /work/hello.txt; hostname'
expect_out "provisioned" "the shell provisioner ran"
expect_out "copied in" "the rsync folder was copied in"
expect_true '[ "$(instances)" = 1 ]' "one instance on that LXD"
expect_true 'grep -q "\"ssh_host\": \"127.0.0.1\"" "$(mdir far)/state.json"' "state.json records where SSH listens"
run ssh far -c 'nohup python3 -m http.server 8000 --directory /work >/dev/null 2>&1 & sleep 0.5'
expect_true 'curl -s --max-time 10 "http://127.0.0.1:$FPORT/hello.txt" | grep -q "copied in"' "the forwarded port serves"
run port far
expect_out "127.0.0.1:$FPORT" "den port lists it"

# A client certificate LXD does not trust: said, with what to do.
cp "$DEN_HOME/lxd/client.crt" "$DEN_HOME/lxd/client.key" "$T_DIR/"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:secp384r1 -nodes -subj /CN=stranger -days 2 \
	-keyout "$DEN_HOME/lxd/client.key" -out "$DEN_HOME/lxd/client.crt" 2>/dev/null
run snapshot list far
expect_rc 1 "a client certificate LXD does not trust is refused"
expect_err "LXD at $URL does not trust den's client certificate" "it says so"
expect_err "den lxd trust $URL --token TOKEN" "and what to do"
cp "$T_DIR/client.crt" "$T_DIR/client.key" "$DEN_HOME/lxd/"

# A server certificate other than the pinned one: refused.
cp "$PINNED" "$T_DIR/pinned.crt"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:secp384r1 -nodes -subj /CN=impostor -days 2 \
	-addext "subjectAltName=IP:127.0.0.1" -keyout "$T_DIR/impostor.key" -out "$PINNED" 2>/dev/null
run snapshot list far
expect_rc 1 "a server showing another certificate is refused"
expect_err "showed a certificate other than the one den pinned" "it says the certificate is not the pinned one"
cp "$T_DIR/pinned.crt" "$PINNED"
run snapshot list far
expect_rc 0 "with the pinned certificate back, LXD answers again"

run halt far
expect_rc 0 "halt over HTTPS"
expect_true '[ "$(lxc list --format csv -c s </dev/null)" = STOPPED ]' "LXD says stopped"
run up far
expect_rc 0 "up again"
run destroy -f far
expect_rc 0 "destroy over HTTPS"
expect_true '[ "$(instances)" = 0 ] && [ "$(lxc image list --format csv </dev/null | grep -c .)" = 0 ]' "no instance and no image left"

# A native folder cannot reach a remote LXD: refused with its line, nothing made.
sed -i 's/, type: rsync }/ }/' Envfile
run up
expect_rc 1 "a native folder on a remote LXD is refused"
expect_err "synced folder /work (line 9): LXD at $URL cannot see this host's files; give it type: rsync" "it says which folder and what to write"
expect_true '[ "$(instances)" = 0 ]' "no instance was made"
t_done
