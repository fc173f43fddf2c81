# Box fixtures for den's e2e tests: small boxes, catalogs, a box server.
# Needs $T_DIR, $SRC and $SRV (the folder the server serves).

# make_box FILE PROVIDER: a small box of that provider.
make_box() {
	local d
	d=$(mktemp -d "$T_DIR/b.XXXX")
	echo "{\"provider\": \"$2\", \"architecture\": \"amd64\"}" > "$d/metadata.json"
	if [ "$2" = container ]; then
		mkdir -p "$d/rootfs/etc" "$d/rootfs/usr/bin"
		echo den-test > "$d/rootfs/etc/hostname"
		ln -s /usr/bin "$d/rootfs/bin"                # absolute: fine inside a rootfs
		printf '#!/bin/sh\n' > "$d/rootfs/usr/bin/sudo"
		chmod 4755 "$d/rootfs/usr/bin/sudo"           # setuid: fine inside a rootfs
		tar -C "$d/rootfs" -cf "$d/rootfs.tar" .
		rm -rf "$d/rootfs"
	else
		echo disk > "$d/disk.raw"
	fi
	tar -C "$d" -czf "$1" .
	rm -rf "$d"
}
sha() { sha256sum "$1" | cut -d' ' -f1; }
# catalog NAME FILE VERSION... : a catalog offering FILE at each version.
catalog() {
	local name=$1 file=$2
	shift 2
	python3 - "$name" "$file" "$(sha "$SRV/$file")" "$@" <<'PY'
import json, sys
name, file, digest, *versions = sys.argv[1:]
print(json.dumps({"name": name, "description": "test box", "versions": [
    {"version": v, "providers": [{"name": "container", "url": file.split("/")[-1],
     "checksum_type": "sha256", "checksum": digest, "architecture": "amd64",
     "default_architecture": True}]} for v in versions]}))
PY
}

# start_server: serves $SRV on 127.0.0.1; sets PORT, URL, SERVER_PID.
start_server() {
	local port_file="$T_DIR/port"
	python3 "$SRC/tests/helpers/boxserver.py" "$SRV" > "$port_file" &
	SERVER_PID=$!
	trap 'kill $SERVER_PID 2>/dev/null; rm -rf "$T_DIR"' EXIT
	for _ in $(seq 50); do [ -s "$port_file" ] && break; sleep 0.1; done
	PORT=$(cat "$port_file")
	URL="http://127.0.0.1:$PORT"
}
