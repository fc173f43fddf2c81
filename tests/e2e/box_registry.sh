#!/bin/bash
# Boxes shared through a container registry (docs/boxes.md, "Sharing boxes
# through a registry"), against Debian's docker-registry (the CNCF
# distribution registry) on 127.0.0.1, over TLS with a certificate made
# here, with htpasswd auth: den/debian-12 pushed (container and VM), pulled
# into a clean store and brought up; pushed again with no blob sent; the
# lock pinning the digest while the tag moves; a podman image pushed by
# skopeo, pulled as docker:// and brought up. Through a misbehaving proxy:
# a corrupted blob, a cut connection (resumed), a busy registry, Bearer
# tokens. Wrong credentials and an untrusted certificate. Every failure
# leaves the store as it was.
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/machines.sh"
. "$(dirname "$0")/lib/registry.sh"
require_root "registry boxes (den's containers, podman's storage)"

add_debian_box
add_box debian-12 qemu
HOME1=$DEN_HOME
PROJ="$T_DIR/proj"
PROJ2="$T_DIR/proj2"
mkdir -p "$PROJ" "$PROJ2"
cleanup() {
	for p in "$PROJ" "$PROJ2"; do
		for h in "$T_DIR"/home*; do
			DEN_HOME=$h "$DEN" -q -C "$p" destroy -f >/dev/null 2>&1
		done
	done
	stop_proxy
	stop_registry
	rm -rf "$T_DIR"
}
trap cleanup EXIT
start_registry || { echo "FAIL: the test registry did not start" >&2; exit 1; }
start_proxy || { echo "FAIL: the test proxy did not start" >&2; exit 1; }
auth_file() { # FILE HOST PASSWORD [HOST...]: a podman auth file with HOST's login
	local file=$1 pw=$2
	shift 2
	python3 - "$file" "$REG_USER" "$pw" "$@" <<'PY'
import base64, json, sys
file, user, pw, *hosts = sys.argv[1:]
auth = base64.b64encode(f"{user}:{pw}".encode()).decode()
json.dump({"auths": {h: {"auth": auth} for h in hosts}}, open(file, "w"))
PY
}
auth_file "$T_DIR/auth.json" "$REG_PASSWORD" "$REG_HOST" "$PROXY_HOST"
export REGISTRY_AUTH_FILE="$T_DIR/auth.json" DEN_REGISTRY_CA="$REG_CA"
uploads() { grep -cE '"(PUT|PATCH) /v2/[^ ]*/blobs/uploads/' "$REG_DIR/log"; }
# The store, byte for byte: every path, size and checksum.
store_print() { (cd "$DEN_HOME" && find boxes -type f -print0 2>/dev/null | sort -z | xargs -0r sha256sum; find boxes 2>/dev/null | sort); }
R="$REG_HOST/team/debian-12"

# --- push: both boxes of den/debian-12 under one tag --------------------------------
run box push den/debian-12 "oci://$R"
expect_rc 0 "den box push of den/debian-12"
expect_out "oci://$R:1.0.0@sha256:" "prints the pushed reference with its digest"
expect_err "2 boxes pushed" "the container and the VM box"
INDEX_DIGEST=$(printf '%s' "$OUT" | sed 's/.*@//')
curl_reg() { curl -s --cacert "$REG_CA" -u "$REG_USER:$REG_PASSWORD" "$@"; }
curl_reg -H "Accept: application/vnd.oci.image.index.v1+json" "https://$REG_HOST/v2/team/debian-12/manifests/1.0.0" -o "$T_DIR/index.json"
expect_true '[ "sha256:$(sha256sum < "$T_DIR/index.json" | cut -d" " -f1)" = "$INDEX_DIGEST" ]' "the tag's index is the one den printed"
expect_true 'python3 - "$T_DIR/index.json" <<'"'"'PY'"'"'
import json, sys
i = json.load(open(sys.argv[1]))
assert i["mediaType"] == "application/vnd.oci.image.index.v1+json", i
assert i["annotations"]["dev.den.box.name"] == "den/debian-12", i
provs = sorted(m["annotations"]["dev.den.box.provider"] for m in i["manifests"])
assert provs == ["container", "libvirt"], provs
assert all(m["platform"] == {"architecture": "amd64", "os": "linux"} for m in i["manifests"]), i
PY' "one index, a manifest for each provider, platform linux/amd64"
N_UPLOADS=$(uploads)
run box push den/debian-12 "$R"
expect_rc 0 "pushed again"
expect_err "0 sent" "says nothing was sent"
expect_true '[ "$(uploads)" = "$N_UPLOADS" ]' "no blob upload reached the registry (its log)"
run box push den/debian-12 "$REG_HOST/other/deb:stable" --provider container
expect_rc 0 "pushed to another repository"
expect_err "1 mounted from another repository" "the layer mounted, not sent"
expect_true '[ "$(uploads)" = "$N_UPLOADS" ]' "still no upload"

# --- pull into a clean store, and up --------------------------------------------------
export DEN_HOME="$T_DIR/home2"
run box add "oci://$R" --provider libvirt
expect_rc 0 "the VM box pulled"
expect_err "den/debian-12 1.0.0 (libvirt, amd64) added" "under its own name and version"
expect_true 'cmp -s "$HOME1/boxes/den/debian-12/1.0.0/libvirt-amd64/box.img" "$DEN_HOME/boxes/den/debian-12/1.0.0/libvirt-amd64/box.img"' "its disk is byte for byte the pushed one"
run box add "oci://$R"
expect_rc 2 "an index of two providers needs --provider"
expect_err "container (amd64), libvirt (amd64)" "names what it holds"
cat > "$PROJ/Envfile" <<EOF
den: 1
machines:
  web:
    box: den/debian-12
    box_url: oci://$R
    provider: container
    provision:
      - shell: echo from-registry > /tmp/where
EOF
run -C "$PROJ" up
expect_rc 0 "den up pulls the container box from the registry"
expect_err "pulling den/debian-12 1.0.0 (container)" "through box_url: oci://"
run -C "$PROJ" exec web -- cat /tmp/where
expect_out "from-registry" "the machine runs and was provisioned"
diff <(cd "$HOME1/boxes/den/debian-12/1.0.0/container-amd64/rootfs" && find . -printf '%p %m %U %G %s %l\n' | sort) \
	<(cd "$DEN_HOME/boxes/den/debian-12/1.0.0/container-amd64/rootfs" && find . -printf '%p %m %U %G %s %l\n' | sort) >"$T_DIR/tree.diff"
expect_true '[ ! -s "$T_DIR/tree.diff" ]' "the pulled root file system is the pushed one (paths, modes, owners, sizes, links)"
MANIFEST=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["boxes"][0]["checksum"])' "$PROJ/Envfile.lock")
expect_true 'grep -q "\"url\": \"oci://$R:1.0.0@sha256:$MANIFEST\"" "$PROJ/Envfile.lock"' "Envfile.lock pins the manifest digest"
run box list
expect_out "oci://$R:1.0.0@sha256:${MANIFEST:0:12}" "den box list shows the reference and digest"
run --json box list
expect_out "\"url\": \"oci://$R:1.0.0@sha256:$MANIFEST\"" "--json gives the whole digest"
"$DEN" -q -C "$PROJ" destroy -f >/dev/null

# --- the lock holds while the tag moves; den box update moves it ------------------------
export DEN_HOME=$HOME1
run box add "$T_DIR/boxes/den-debian-12-1.0.0-container-amd64.box" --name den/debian-12 --box-version 1.0.1
expect_rc 0 "the same box again as 1.0.1"
run box push den/debian-12 "$REG_HOST/team/deb:stable" --box-version 1.0.0 --provider container
expect_rc 0 "1.0.0 pushed as :stable"
sed "s#oci://$R#oci://$REG_HOST/team/deb:stable#" "$PROJ/Envfile" >"$PROJ2/Envfile"
export DEN_HOME="$T_DIR/home3"
run -C "$PROJ2" up
expect_rc 0 "up from :stable"
LOCKED=$(cat "$PROJ2/Envfile.lock")
"$DEN" -q -C "$PROJ2" destroy -f >/dev/null
export DEN_HOME=$HOME1
run box push den/debian-12 "$REG_HOST/team/deb:stable" --box-version 1.0.1 --provider container
expect_rc 0 ":stable moved to 1.0.1"
export DEN_HOME="$T_DIR/home4"
run -C "$PROJ2" up
expect_rc 0 "a teammate's up with the lock"
expect_err "den/debian-12 1.0.0" "gets the locked 1.0.0, not what :stable is now"
expect_true '[ "$(cat "$PROJ2/Envfile.lock")" = "$LOCKED" ]' "the lock is unchanged"
"$DEN" -q -C "$PROJ2" destroy -f >/dev/null
run -C "$PROJ2" box outdated
expect_rc 0 "den box outdated"
expect_true 'printf "%s" "$OUT" | grep -qE "^den/debian-12 +container +1\.0\.0 +1\.0\.1 +1\.0\.1"' "shows 1.0.0 locked and 1.0.1 in the registry"
run -C "$PROJ2" box update
expect_rc 0 "den box update"
expect_true 'grep -q "\"version\": \"1.0.1\"" "$PROJ2/Envfile.lock"' "moves the lock to what :stable names now"
expect_true '! grep -q "$(echo "$LOCKED" | python3 -c "import json,sys; print(json.load(sys.stdin)[\"boxes\"][0][\"checksum\"])")" "$PROJ2/Envfile.lock"' "with the new digest"

# --- a podman image pushed by skopeo, as docker:// ----------------------------------------
STORE="$T_DIR/podman"
pm() {
	podman --root "$STORE/root" --runroot "$STORE/run" --storage-driver vfs \
		--cgroup-manager cgroupfs --events-backend none "$@"
}
# No sshd: den's own SSH server, which gives sessions the image's Env.
tar -C "$HOME1/boxes/den/debian-12/1.0.0/container-amd64/rootfs" --exclude=./usr/sbin/sshd -cf - . |
	pm import -q --change 'ENV APP=demo' - localhost/deb:2.0 >/dev/null
mkdir -p "$T_DIR/certs" && cp "$REG_CA" "$T_DIR/certs/ca.crt"
pm save -q --format docker-archive -o "$T_DIR/app.tar" localhost/deb:2.0 >/dev/null
skopeo copy -q --dest-creds "$REG_USER:$REG_PASSWORD" --dest-cert-dir "$T_DIR/certs" \
	docker-archive:"$T_DIR/app.tar" "docker://$REG_HOST/team/app:2.0" >/dev/null 2>&1 && SK=0 || SK=$?
expect_true '[ "$SK" = 0 ]' "skopeo pushed podman's image to the registry"
export DEN_HOME="$T_DIR/home5"
cat > "$PROJ/Envfile" <<EOF
den: 1
machines:
  app:
    box: team/app
    box_url: docker://$REG_HOST/team/app:2.0
    provider: container
    provision:
      - shell: "echo APP=\$APP"
EOF
rm -f "$PROJ/Envfile.lock"
run -C "$PROJ" up
expect_rc 0 "up from a plain image in the registry"
expect_true 'printf "%s\n%s" "$OUT" "$ERR" | grep -q "APP=demo"' "the image's config came with it (its Env in the session)"
expect_true 'grep -q "\"url\": \"docker://$REG_HOST/team/app:2.0@sha256:" "$PROJ/Envfile.lock"' "the lock pins the image's manifest"
"$DEN" -q -C "$PROJ" destroy -f >/dev/null
run box add "docker://$R:1.0.0"
expect_rc 1 "a den box named as an image"
expect_err "is a den box, not a container image" "says so"
run box add "oci://$REG_HOST/team/app:2.0"
expect_rc 1 "an image named as a den box"
expect_err "is not a den box" "says so"
expect_err "docker://$REG_HOST/team/app" "and how to name it"

# --- what goes wrong: the store stays as it was -----------------------------------------
export DEN_HOME="$T_DIR/home6"
P="$PROXY_HOST/team/debian-12"
run box add "oci://$P" --provider container
expect_rc 0 "through the proxy (plain HTTP on loopback)"
BEFORE=$(store_print)
proxy_mode corrupt
run box add "oci://$P" --provider libvirt
expect_rc 1 "a blob that does not match its digest"
expect_err "with other bytes" "says the registry sent other bytes"
expect_err "refused, nothing was stored" "and that nothing was kept"
expect_true '[ "$(store_print)" = "$BEFORE" ]' "the store is byte for byte as it was"
proxy_mode cut
run -v box add "oci://$P" --provider libvirt
expect_rc 0 "a connection cut mid-blob is resumed"
expect_err "resuming" "says it resumes"
expect_true 'grep -q "bytes=[1-9][0-9]*- 206" "$REG_DIR/proxy.log"' "with a Range request, answered 206"
run box remove den/debian-12 --provider libvirt --force
BEFORE=$(store_print)
proxy_mode cutall
run box add "oci://$P" --provider libvirt
expect_rc 1 "a connection cut every time"
expect_err "run again to resume" "says to run again"
expect_true '[ "$(store_print)" = "$BEFORE" ]' "the store is as it was"
KEPT=$(find "$DEN_HOME/cache/blobs" -type f -size +1M | head -1)
expect_true '[ -n "$KEPT" ]' "the part downloaded is kept in the cache"
proxy_mode pass
N_RANGE=$(grep -c "bytes=" "$REG_DIR/proxy.log")
run box add "oci://$P" --provider libvirt
expect_rc 0 "run again"
expect_true '[ "$(grep -c "bytes=" "$REG_DIR/proxy.log")" -gt "$N_RANGE" ]' "it resumed from the kept part"
expect_true '[ ! -e "$KEPT" ]' "and the cache is emptied after"
proxy_mode busy
run -v box add "oci://$P" --provider container --force
expect_rc 0 "a registry answering 503 twice"
expect_err "the registry is busy; trying again" "is asked again, after a while"
proxy_mode bearer
run box add "oci://$P" --provider container --force
expect_rc 0 "Bearer: the token from the challenge's realm, for the auth file's login"
expect_true 'grep -q "^GET /token" "$REG_DIR/proxy.log"' "den asked the realm for a token"
auth_file "$T_DIR/wrong.json" "not-the-password" "$REG_HOST" "$PROXY_HOST"
BEFORE=$(store_print)
REGISTRY_AUTH_FILE="$T_DIR/wrong.json" run box add "oci://$P" --provider container --force
expect_rc 1 "Bearer with a wrong password"
expect_err "refused the credentials from $T_DIR/wrong.json" "names the auth file"
proxy_mode pass
REGISTRY_AUTH_FILE="$T_DIR/wrong.json" run box add "oci://$R" --provider container --force
expect_rc 1 "Basic with a wrong password"
expect_err "refused the user name and password from $T_DIR/wrong.json" "names the auth file"
expect_err "podman login $REG_HOST" "and how to log in"
REGISTRY_AUTH_FILE="$T_DIR/none.json" run box add "oci://$R" --provider container --force
expect_rc 1 "no login at all"
expect_err "no auth file has them" "says so"
DEN_REGISTRY_CA= run box add "oci://$R" --provider container --force
expect_rc 1 "a certificate den does not trust"
expect_err "TLS certificate is not trusted" "says so"
expect_err "DEN_REGISTRY_CA" "and how to trust it"
expect_true '[ "$(store_print)" = "$BEFORE" ]' "the store is as it was after all of them"
DEN_REGISTRY_CA= run box push den/debian-12 "oci://$R"
expect_rc 1 "a push to an untrusted registry"

# An upload whose answer is lost after half a chunk reached the registry.
export DEN_HOME=$HOME1
proxy_mode cutup
run -v box push den/debian-12 "$PROXY_HOST/team/up:1.0.0" --provider container
expect_rc 0 "a push whose chunk was cut goes through"
expect_true 'grep -q "^PATCH .* cut$" "$REG_DIR/proxy.log"' "the proxy cut a chunk"
expect_err "asking the registry how far it got" "den asked where the upload stood"
proxy_mode pass
export DEN_HOME="$T_DIR/home7"
run box add "oci://$REG_HOST/team/up:1.0.0"
expect_rc 0 "and what it pushed pulls back whole (every digest checked)"

t_done
