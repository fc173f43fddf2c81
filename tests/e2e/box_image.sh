#!/bin/bash
# Container images as container boxes (docs/boxes.md, "Container images"):
# den's debian-12 root file system made an image by podman (import, then a
# build whose layer deletes a file), saved as a docker-archive and an
# oci-archive, copied to an OCI layout by skopeo; each added, brought up,
# reached by `den ssh`, provisioned. Images with no sshd (busybox only;
# Debian without openssh-server) get den's own SSH server: ssh, exec, a pty,
# upload, SFTP, shell and file provisioners, Ansible. LXD images, unified
# and split. Hostile images are refused with the store byte-for-byte as it
# was.
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/machines.sh"
require_root "container images (podman's storage, den's containers)"

add_debian_box
STORE="$T_DIR/podman"
pm() {
	podman --root "$STORE/root" --runroot "$STORE/run" --storage-driver vfs \
		--cgroup-manager cgroupfs --events-backend none "$@"
}
PROJ="$T_DIR/proj"
mkdir -p "$PROJ" "$T_DIR/ctx" "$T_DIR/bb/bin" "$T_DIR/bb/etc"
trap '"$DEN" -q -C "$PROJ" destroy -f >/dev/null 2>&1; rm -rf "$T_DIR"' EXIT
cd "$T_DIR"

# --- images made by the real tools ------------------------------------------------
ROOTFS=$(echo "$DEN_HOME"/boxes/den/debian-12/*/container-amd64/rootfs)
tar -C "$ROOTFS" -cf - . | pm import --change 'ENV APP=demo' --change 'WORKDIR /srv' - localhost/deb:1.0 >/dev/null
printf 'FROM localhost/deb:1.0\nRUN rm /etc/motd && echo layered > /etc/layered\n' >"$T_DIR/ctx/Containerfile"
pm build -q --isolation chroot -t localhost/deb:1.1 "$T_DIR/ctx" >/dev/null
pm save -q --format docker-archive -o deb-docker.tar localhost/deb:1.1 >/dev/null
pm save -q --format oci-archive -o deb-oci.tar localhost/deb:1.1 >/dev/null
skopeo copy -q docker-archive:deb-docker.tar oci:deb-layout:1.1 >/dev/null
expect_true '[ -s deb-docker.tar ] && [ -s deb-oci.tar ] && [ -f deb-layout/index.json ]' "podman and skopeo made the images"

printf 'FROM localhost/deb:1.0\nRUN rm /usr/sbin/sshd\n' >"$T_DIR/ctx/Containerfile"
pm build -q --isolation chroot -t localhost/nossh:1.0 "$T_DIR/ctx" >/dev/null
pm save -q --format docker-archive -o nossh.tar localhost/nossh:1.0 >/dev/null

cp "$(command -v busybox)" bb/bin/
ln -s busybox bb/bin/sh
echo bb > bb/etc/hostname
tar -C bb -cf - . | pm import - localhost/busybox:2.0 >/dev/null
pm save -q --format docker-archive -o busybox.tar localhost/busybox:2.0 >/dev/null

# --- den box add of each form -----------------------------------------------------
run box add docker-archive:deb-docker.tar
expect_rc 0 "add a docker-archive"
expect_err "localhost/deb 1.1 (container, amd64) added" "named after the image, versioned by its tag"
B="$DEN_HOME/boxes/localhost/deb/1.1/container-amd64"
expect_true '[ ! -e "$B/rootfs/etc/motd" ]' "the second layer's whiteout deleted /etc/motd"
expect_true '[ "$(cat "$B/rootfs/etc/layered")" = layered ]' "the second layer's file is there"
expect_true '[ -u "$B/rootfs/usr/bin/sudo" ]' "setuid programs survive in a rootfs"
expect_true '[ "$(stat -c %U "$B/rootfs/home/den")" = 1000 ] || [ "$(stat -c %u "$B/rootfs/home/den")" = 1000 ]' "owners are the image's"
expect_true 'python3 -c "
import json, sys
m = json.load(open(sys.argv[1]))[\"den\"]
assert m[\"ssh\"] == \"sshd\" and m[\"ssh_user\"] == \"den\", m
assert \"APP=demo\" in m[\"image\"][\"config\"][\"Env\"], m
assert m[\"image\"][\"config\"][\"WorkingDir\"] == \"/srv\", m
assert m[\"image\"][\"format\"] == \"docker-archive\" and m[\"image\"][\"id\"].startswith(\"sha256:\"), m
" "$B/metadata.json"' "the image's config is kept in the metadata"

run box add deb-oci.tar --name team/deb-oci
expect_rc 0 "add an oci-archive found by looking (no transport named)"
run box add oci:deb-layout:1.1 --name team/deb-layout --box-version 3.0
expect_rc 0 "add an OCI layout with a tag and a version"
run box add docker-archive:deb-docker.tar
expect_rc 0 "adding the same image again"
expect_err "already" "is a no-op that says so"
run box add busybox.tar --name team/busybox
expect_rc 0 "a busybox-only image is added"
expect_true 'grep -q "\"ssh\": \"den\"" "$DEN_HOME/boxes/team/busybox/2.0/container-amd64/metadata.json"' "den serves SSH for it"
run box add nossh.tar
expect_rc 0 "a Debian image without sshd is added"

run box list
expect_true 'printf "%s\n" "$OUT" | grep -E "^team/deb-layout +3\.0 " | grep -q "oci deb-layout:1.1"' "box list says where a box came from"

# --- den up from an Envfile's box_url, ssh, provision, the lock -------------------------
cd "$PROJ"
cat >Envfile <<'EOF'
den: 1
machines:
  app:
    box: team/app
    box_url: docker-archive:../deb-docker.tar
    provider: container
    provision:
      - shell: test ! -e /etc/motd && cat /etc/layered > /tmp/provisioned
EOF
run up
expect_rc 0 "den up of an image named by box_url"
run ssh app -c 'cat /tmp/provisioned; id -un'
expect_out "layered" "the shell provisioner ran in the image's root"
expect_out "den" "den logs in as the image's den user"
expect_true 'python3 -c "
import json
b = json.load(open(\"Envfile.lock\"))[\"boxes\"][0]
assert b[\"url\"] == \"docker-archive:../deb-docker.tar\" and b[\"version\"] == \"1.1\", b
"' "Envfile.lock names the image as the Envfile does, with its id"
run box outdated
expect_true 'printf "%s\n" "$OUT" | grep -qE "^team/app +container +1\.1 +1\.1 +1\.1"' "box outdated reads the image's version without unpacking it"
run destroy -f
expect_rc 0 "destroy"

for box in team/deb-oci team/deb-layout; do
	sed -i "s|box: .*|box: $box|; /box_url/d" Envfile
	rm -f Envfile.lock
	run up
	expect_rc 0 "den up of $box"
	run ssh app -c 'cat /tmp/provisioned'
	expect_out "layered" "$box: provisioned"
	run destroy -f
done

# --- images with no sshd: den's own SSH server -------------------------------------------
mkdir -p up/sub
echo one >up/a
ln -s a up/link
echo two >up/sub/b
cat >Envfile <<'YAML'
den: 1
machines:
  bb:
    box: team/busybox
    provider: container
    provision:
      - shell: "echo shell-ran as $(id -u)"
      - file: { source: up/a, destination: /etc/from-file }
      - shell: { inline: "echo file-says $(cat /etc/from-file) MODE=$MODE", env: { MODE: dev } }
YAML
rm -f Envfile.lock
run up
expect_rc 0 "den up of a busybox-only image (no libc, no sshd, no python)"
expect_true 'printf "%s\n%s" "$OUT" "$ERR" | grep -q "shell-ran as 0"' "a shell provisioner runs, as root"
expect_true 'printf "%s\n%s" "$OUT" "$ERR" | grep -q "file-says one MODE=dev"' "a file provisioner, then a step's env"
run ssh bb -c 'echo to-out; echo to-err >&2; exit 3'
expect_rc 3 "den ssh -c gives the command's exit code"
expect_out "to-out" "stdout"
expect_err "to-err" "stderr, apart"
run exec bb -- 'echo exec-ok'
expect_out "exec-ok" "den exec"
run upload up /tmp/up
expect_rc 0 "den upload (SFTP)"
run ssh bb -c 'readlink /tmp/up/link; cat /tmp/up/sub/b'
expect_out "a" "a symlink arrives as a symlink"
expect_out "two" "a folder's files arrive"
"$DEN" -q ssh-config bb >"$T_DIR/sshcfg"
printf 'put %s/up/a /tmp/put-by-sftp\nls -l /tmp\nget /tmp/put-by-sftp %s/got\n' "$PROJ" "$T_DIR" >"$T_DIR/batch"
OUT=$(sftp -F "$T_DIR/sshcfg" -b "$T_DIR/batch" bb 2>&1) && RC=0 || RC=$?
expect_rc 0 "OpenSSH's sftp works with den's server"
expect_true '[ "$(cat "$T_DIR/got")" = one ]' "put, then get, the same bytes"
expect_true 'printf "%s" "$OUT" | grep -q -- "-rw-r--r-- .* put-by-sftp"' "ls -l shows modes"
OUT=$(script -qc "$DEN -C $PROJ ssh bb" /dev/null <<<$'tty\nexit' 2>&1 | tr -d '\r') && RC=0 || RC=$?
expect_out "/dev/pts/" "den ssh gives a login shell on a pty"
ssh-keygen -q -t ed25519 -N "" -f "$T_DIR/stranger"
port=$(awk '$1 == "Port" { print $2 }' "$T_DIR/sshcfg")
known=$(awk '$1 == "UserKnownHostsFile" { print $2 }' "$T_DIR/sshcfg")
OUT=$(ssh -F /dev/null -p "$port" -i "$T_DIR/stranger" -o IdentitiesOnly=yes -o BatchMode=yes \
	-o UserKnownHostsFile="$known" -o StrictHostKeyChecking=yes root@127.0.0.1 true 2>&1) && RC=0 || RC=$?
expect_true '[ "$RC" -ne 0 ] && printf "%s" "$OUT" | grep -q "Permission denied"' "another key is refused ($OUT)"
run halt bb
run up bb
expect_rc 0 "halt, then up again"
run destroy -f
expect_rc 0 "destroy"

# A Debian image with no sshd: Ansible (its python3), the image's Env and WorkingDir.
printf -- '- hosts: all\n  tasks:\n    - copy: { content: "by-ansible\\n", dest: /tmp/ansible-file }\n    - fetch: { src: /tmp/ansible-file, dest: fetched/, flat: yes }\n' >site.yml
cat >Envfile <<'YAML'
den: 1
machines:
  deb:
    box: localhost/nossh
    provider: container
    provision:
      - ansible: { playbook: site.yml }
      - shell: "echo APP=$APP in $(pwd)"
YAML
rm -f Envfile.lock
run up
expect_rc 0 "den up and ansible on a Debian image without sshd"
expect_true '[ "$(cat fetched/ansible-file)" = by-ansible ]' "ansible copied and fetched over den's SFTP"
expect_true 'printf "%s\n%s" "$OUT" "$ERR" | grep -q "APP=demo in /srv"' "the image's Env and WorkingDir are the sessions'"
run destroy -f
cd "$T_DIR"

# --- LXD images: the unified tarball and the split form ------------------------------------
mkdir -p lxd/templates lxd/split lxd/squash
cat >lxd/metadata.yaml <<'YAML'
architecture: x86_64
creation_date: 1796300000
properties:
  architecture: amd64
  description: Debian bookworm amd64
  os: Debian
  release: bookworm
  serial: "20261203_00:00"
templates:
  /etc/hostname: { when: [create, copy], template: hostname.tpl }
YAML
echo '{{ container.name }}' >lxd/templates/hostname.tpl
tar -C lxd -czf lxd/unified.tar.gz metadata.yaml templates -C "$ROOTFS" --transform 's,^\.,rootfs,' .
tar -C lxd -cf lxd/split/meta.tar metadata.yaml templates
tar -C "$ROOTFS" -cf lxd/split/rootfs.tar .
run box add lxd/unified.tar.gz
expect_rc 0 "add LXD's unified tarball (found by looking)"
expect_err "debian/bookworm 0 (container, amd64) added" "named after its os and release"
L="$DEN_HOME/boxes/debian/bookworm/0/container-amd64"
expect_true '[ -x "$L/rootfs/usr/sbin/sshd" ] && [ ! -e "$L/metadata.yaml" ] && [ ! -e "$L/lxd" ]' "its rootfs/ is the box's root, the rest is gone"
expect_true '[ "$(stat -c %u "$L/rootfs/home/den")" = 1000 ]' "owners are the image's"
expect_true 'python3 -c "
import json, sys
m = json.load(open(sys.argv[1]))[\"den\"][\"image\"]
assert m[\"format\"] == \"lxd\" and m[\"config\"][\"properties\"][\"release\"] == \"bookworm\", m
" "$L/metadata.json"' "metadata.yaml's properties are kept"
run box add lxd:lxd/split --name team/lxd-split --box-version 2.0
expect_rc 0 "add LXD's split form (a folder of two tarballs)"
cp lxd/split/meta.tar lxd/squash/
printf 'hsqs-not-really' >lxd/squash/rootfs.squashfs
run box add lxd:lxd/squash --name team/squash
expect_rc 1 "a squashfs root is refused"
expect_err "squashfs" "saying what den reads instead"
sed -i 's/x86_64/aarch64/' lxd/metadata.yaml
tar -C lxd -cf lxd/arm.tar metadata.yaml -C "$ROOTFS" --transform 's,^\.,rootfs,' ./etc/hostname
run box add lxd:lxd/arm.tar --name team/arm
expect_rc 1 "an image for another architecture is refused"
expect_err "aarch64" "naming it"
cd "$PROJ"
printf 'den: 1\nmachines:\n  app: { box: team/lxd-split, provider: container }\n' >Envfile
rm -f Envfile.lock
run up
expect_rc 0 "den up of the LXD image"
run ssh app -c 'cat /etc/os-release'
expect_out "bookworm" "den ssh reaches it"
run destroy -f
cd "$T_DIR"

# --- hostile images: refused, the store unchanged -------------------------------------
store_snapshot() { (cd "$DEN_HOME" && find boxes -printf '%p %s %m %l %i %T@\n' | sort); }
hostile() { # KIND FORM MESSAGE
	rm -rf "h-$1" "h-$1.tar"
	python3 "$SRC/tests/helpers/oci_image.py" "h-$1" "$1"
	local ref="oci:h-$1"
	if [ "$2" != oci ]; then
		tar -C "h-$1" -cf "h-$1.tar" .
		ref="$2:h-$1.tar"
	fi
	run box add "$ref" --name test/hostile
	expect_rc 1 "$1 ($2) is refused"
	expect_err "$3" "$1 ($2) says why"
	expect_true '[ "$(store_snapshot)" = "$before" ]' "$1 ($2) leaves the store as it was"
	expect_true '[ -z "$(ls -A "$DEN_HOME/tmp")" ]' "$1 ($2) leaves nothing in tmp"
}
python3 "$SRC/tests/helpers/oci_image.py" h-good good
run box add oci:h-good --name test/good
expect_rc 0 "the helper's own image, whole, is added"
expect_true '[ "$(cat "$DEN_HOME/boxes/test/good/1.0/container-amd64/rootfs/etc/hello")" = hello ]' "its layer is applied"
run box remove test/good
python3 "$SRC/tests/helpers/oci_image.py" h-multi multi-arch
run box add oci:h-multi
expect_rc 0 "a multi-architecture image (an index in the index) is added"
expect_true '[ "$(cat "$DEN_HOME/boxes/test/multi/2.0/container-amd64/rootfs/etc/arch")" = amd64 ]' "amd64's image is taken"
run box remove test/multi
before=$(store_snapshot)
hostile digest-mismatch oci "does not match its digest"
hostile digest-mismatch oci-archive "does not match its digest"
hostile diff-id-mismatch oci "does not match its diff_id"
hostile dotdot-layer oci-archive "'..'"
hostile bad-digest oci "is not sha256:HEX"
hostile blob-link-out oci "leads outside the image"
hostile blob-link-out oci-archive "points outside"
hostile size-lie oci "its descriptor says"
hostile arm64 oci "linux/arm64"
hostile docker-config-outside docker-archive "leads outside the image"
hostile through-link oci "symlink"
hostile hardlink-through-link oci "symlink"
expect_true '[ ! -e /etc/den-escaped ]' "a layer never writes through a lower layer's link"
python3 "$SRC/tests/helpers/oci_image.py" h-big big
DEN_BOX_MAX_SIZE=1K run box add oci:h-big --name test/big
expect_rc 1 "an image past DEN_BOX_MAX_SIZE is refused"
expect_err "more than 1K" "saying the cap"
expect_true '[ "$(store_snapshot)" = "$before" ]' "the cap leaves the store as it was"
expect_true '[ ! -e /escaped ] && [ ! -e "$T_DIR/escaped" ]' "nothing was written outside"

t_done
