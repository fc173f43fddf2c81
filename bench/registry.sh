#!/bin/bash
# Pushing and pulling a box through a registry (issue 21) against skopeo
# copy of the same bytes, to and from the same registry: Debian's
# docker-registry on 127.0.0.1, TLS with a certificate made here, htpasswd
# auth (tests/e2e/lib/registry.sh). Prints, never asserts. Median of RUNS.
#   bench/registry.sh [DEN] [MIB] [RUNS]
# The box: a VM box whose box.img is the first MIB MiB of den's debian-12
# qemu disk (real data, as compressible as a disk is); den box build makes
# it from its cache.
set -eu
DEN=$(realpath "${1:-build/den}")
MIB=${2:-500}
RUNS=${3:-3}
SRC=$(cd "$(dirname "$0")/.." && pwd)
T_DIR=$(mktemp -d /var/tmp/den-bench-registry-XXXXXX)
. "$SRC/tests/e2e/lib/registry.sh"
trap 'stop_registry || true; rm -rf "$T_DIR"' EXIT
export DEN_BUILD_CACHE=${DEN_BUILD_CACHE:-/var/cache/den-test}
export DEN_HOME="$T_DIR/home"
"$DEN" -q box build debian-12 --provider qemu --output "$T_DIR/boxes" --no-add >/dev/null
mkdir -p "$T_DIR/box"
tar -C "$T_DIR/box" -xf "$T_DIR/boxes/den-debian-12-1.0.0-libvirt-amd64.box" box.img Vagrantfile
head -c "$((MIB << 20))" "$T_DIR/box/box.img" > "$T_DIR/box/disk" && mv "$T_DIR/box/disk" "$T_DIR/box/box.img"
echo '{ "provider": "libvirt", "format": "qcow2", "architecture": "amd64", "den": { "name": "bench/box", "version": "1.0.0" } }' > "$T_DIR/box/metadata.json"
tar -C "$T_DIR/box" -cf "$T_DIR/bench.box" metadata.json box.img Vagrantfile
"$DEN" -q box add "$T_DIR/bench.box" >/dev/null
# An empty registry (on a new port, so no tool's cache knows it), and the login to it.
fresh() {
	stop_registry || true
	rm -rf "$T_DIR/registry"
	start_registry || { echo "the registry did not start" >&2; exit 1; }
	printf '{"auths":{"%s":{"auth":"%s"}}}' "$REG_HOST" \
		"$(printf '%s:%s' "$REG_USER" "$REG_PASSWORD" | base64 -w0)" > "$T_DIR/auth.json"
	export REGISTRY_AUTH_FILE="$T_DIR/auth.json" DEN_REGISTRY_CA="$REG_CA"
	mkdir -p "$T_DIR/certs" && cp "$REG_CA" "$T_DIR/certs/ca.crt"
	SK=(skopeo copy -q --src-creds "$REG_USER:$REG_PASSWORD" --dest-creds "$REG_USER:$REG_PASSWORD"
		--src-cert-dir "$T_DIR/certs" --dest-cert-dir "$T_DIR/certs")
}
fresh
B="$DEN_HOME/boxes/bench/box/1.0.0/libvirt-amd64"

# OCI layouts for skopeo: the raw disk as one layer, and den's zstd blob as one layer.
layout() { # DIR FILE MEDIATYPE
	python3 - "$@" <<'PY'
import hashlib, json, os, shutil, sys
d, f, mt = sys.argv[1:]
os.makedirs(f"{d}/blobs/sha256", exist_ok=True)
def put(data=None, path=None):
    h = hashlib.sha256()
    if path:
        with open(path, "rb") as src:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                h.update(chunk)
        shutil.copyfile(path, f"{d}/blobs/sha256/{h.hexdigest()}")
        return "sha256:" + h.hexdigest(), os.path.getsize(path)
    h.update(data)
    open(f"{d}/blobs/sha256/{h.hexdigest()}", "wb").write(data)
    return "sha256:" + h.hexdigest(), len(data)
ld, ls = put(path=f)
cfg = json.dumps({"architecture": "amd64", "os": "linux",
                  "rootfs": {"type": "layers", "diff_ids": [ld]}}).encode()
cd, cs = put(data=cfg)
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
                  "layers": [{"mediaType": mt, "digest": ld, "size": ls}]}).encode()
md, ms = put(data=man)
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
           "digest": md, "size": ms, "annotations": {"org.opencontainers.image.ref.name": "1"}}]},
          open(f"{d}/index.json", "w"))
open(f"{d}/oci-layout", "w").write('{"imageLayoutVersion": "1.0.0"}')
PY
}
now() { date +%s%N; }
ms() { echo $((($2 - $1) / 1000000)); }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
sz() { du -m "$1" | cut -f1; }
declare -A T
runs() { # NAME SETUP COMMAND...: times COMMAND, SETUP run before each
	local name=$1 setup=$2
	shift 2
	: > "$T_DIR/t"
	# Not in a pipe: a setup's registry and variables stay this shell's.
	for _ in $(seq "$RUNS"); do
		eval "$setup"
		local a b
		a=$(now)
		"$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
		b=$(now)
		ms "$a" "$b" >> "$T_DIR/t"
	done
	T[$name]=$(median < "$T_DIR/t")
}

echo "den box push/pull vs skopeo copy: a ${MIB} MiB box, registry on 127.0.0.1 (TLS, htpasswd), median of $RUNS ($(nproc) cores)"
# Each push into an empty registry. den: a cold push packs (zstd) and
# sends; a push to another repository of the same registry mounts; the
# same box again sends nothing.
runs den_push 'rm -f "$B/layers.json"; fresh' eval '"$DEN" -q box push bench/box "$REG_HOST/den/box:1.0.0"'
n=0
runs den_mount 'n=$((n + 1))' eval '"$DEN" -q box push bench/box "$REG_HOST/den/mount$n:1.0.0"'
runs den_again '' eval '"$DEN" -q box push bench/box "$REG_HOST/den/box:1.0.0"'
disk_layer() { # digest|size: of the box.img layer den pushed
	python3 -c '
import json, sys
rec, key = sys.argv[1:]
l = [l for l in json.load(open(rec))["layers"] if l["annotations"]["org.opencontainers.image.title"] == "box.img"][0]
print(l["digest"][7:] if key == "digest" else l["size"] >> 20)' "$B/layers.json" "$1"
}
BLOB=$(disk_layer digest)
ZSIZE=$(disk_layer size)
# The same bytes for skopeo: den's zstd blob of box.img as a layer, and the raw disk.
curl -s --cacert "$REG_CA" -u "$REG_USER:$REG_PASSWORD" -o "$T_DIR/box.img.zst" \
	"https://$REG_HOST/v2/den/box/blobs/sha256:$BLOB"
layout "$T_DIR/lz" "$T_DIR/box.img.zst" application/vnd.oci.image.layer.v1.tar+zstd
layout "$T_DIR/lr" "$B/box.img" application/vnd.oci.image.layer.v1.tar
runs sk_push_z fresh eval '"${SK[@]}" oci:"$T_DIR/lz:1" "docker://$REG_HOST/sk/z:1"'
runs sk_push_raw fresh eval '"${SK[@]}" oci:"$T_DIR/lr:1" "docker://$REG_HOST/sk/raw:1"'
# What den's push does, done with the tools: zstd on every core, then skopeo.
runs sk_push_zthen fresh eval 'zstd -q -T0 -f "$B/box.img" -o "$T_DIR/z.zst" && "${SK[@]}" oci:"$T_DIR/lz:1" "docker://$REG_HOST/sk/z:1"'
# Pulls from one registry holding all three, into a fresh store (den:
# downloaded, checked, decompressed, stored) and a fresh layout (skopeo:
# downloaded, checked, written).
"$DEN" -q box push bench/box "$REG_HOST/den/box:1.0.0" >/dev/null
"${SK[@]}" oci:"$T_DIR/lz:1" "docker://$REG_HOST/sk/z:1"
"${SK[@]}" oci:"$T_DIR/lr:1" "docker://$REG_HOST/sk/raw:1"
runs den_pull 'rm -rf "$T_DIR/home2"' eval 'DEN_HOME="$T_DIR/home2" "$DEN" -q box add "oci://$REG_HOST/den/box:1.0.0"'
runs sk_pull_z 'rm -rf "$T_DIR/out"' eval '"${SK[@]}" "docker://$REG_HOST/sk/z:1" oci:"$T_DIR/out:1"'
runs sk_pull_raw 'rm -rf "$T_DIR/out"' eval '"${SK[@]}" "docker://$REG_HOST/sk/raw:1" oci:"$T_DIR/out:1"'
# What den's pull does, done with the tools: skopeo, then zstd -d of the layer into a file.
runs sk_pull_zthen 'rm -rf "$T_DIR/out" "$T_DIR/out.img"' eval '"${SK[@]}" "docker://$REG_HOST/sk/z:1" oci:"$T_DIR/out:1" && zstd -q -d "$T_DIR/out/blobs/sha256/$BLOB" -o "$T_DIR/out.img"'

printf '%-62s %8s\n' "what" "ms"
printf '%-62s %8s\n' "den box push, cold: zstd on every core + upload (${ZSIZE} MiB sent)" "${T[den_push]}"
printf '%-62s %8s\n' "skopeo copy of den's zstd blob as a layer (${ZSIZE} MiB sent)" "${T[sk_push_z]}"
printf '%-62s %8s\n' "skopeo copy of the raw disk as a layer (${MIB} MiB sent)" "${T[sk_push_raw]}"
printf '%-62s %8s\n' "zstd -T0 of the disk, then skopeo copy of it (${ZSIZE} MiB sent)" "${T[sk_push_zthen]}"
printf '%-62s %8s\n' "den box push to another repository (mounted, nothing sent)" "${T[den_mount]}"
printf '%-62s %8s\n' "den box push of the same box again (nothing sent)" "${T[den_again]}"
printf '%-62s %8s\n' "den box add oci:// into a fresh store (${ZSIZE} MiB, unzstd, stored)" "${T[den_pull]}"
printf '%-62s %8s\n' "skopeo copy of the zstd layer into a fresh oci: layout" "${T[sk_pull_z]}"
printf '%-62s %8s\n' "skopeo copy of the raw layer into a fresh oci: layout" "${T[sk_pull_raw]}"
printf '%-62s %8s\n' "skopeo copy of the zstd layer, then zstd -d into a file" "${T[sk_pull_zthen]}"
