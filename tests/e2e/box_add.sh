#!/bin/bash
# `den box add/list/remove` against a real HTTP server on 127.0.0.1:
# catalogs, URLs, files, checksums, resumption, HTTP errors, hostile
# archives. After every refusal the store is byte-for-byte as it was.
. "$(dirname "$0")/lib/assert.sh"
export DEN_HOME="$T_DIR/home"
SRV="$T_DIR/srv"
mkdir -p "$SRV/den" "$T_DIR/work"
cd "$T_DIR/work"

. "$(dirname "$0")/lib/boxes.sh"

make_box "$SRV/den/test-1.box" container
catalog den/test den/test-1.box 1.0.0 1.1.0 2.0.0 > "$SRV/den/test"

start_server
export DEN_BOX_SERVER="$URL"

store_snapshot() {
	(cd "$DEN_HOME" 2>/dev/null && find boxes -printf '%p %s %m %l\n' 2>/dev/null | sort &&
		find boxes -type f -exec sha256sum {} + 2>/dev/null | sort)
}

# --- by name, through the catalog ----------------------------------------
run box add den/test --box-version "~> 1.0"
expect_rc 0 "add by name"
expect_err "den/test 1.1.0 (container, amd64) added" "the newest 1.x is chosen"
B="$DEN_HOME/boxes/den/test/1.1.0/container-amd64"
expect_true '[ "$(cat "$B/rootfs/etc/hostname")" = den-test ]' "the rootfs is unpacked"
expect_true '[ -u "$B/rootfs/usr/bin/sudo" ]' "setuid survives inside a rootfs"
expect_true '[ "$(readlink "$B/rootfs/bin")" = /usr/bin ]' "absolute symlinks survive inside a rootfs"
expect_true '[ ! -e "$B/rootfs.tar" ]' "rootfs.tar is not kept"
expect_true 'python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"checksum\"] and d[\"url\"].endswith(\"test-1.box\")" "$B/box.json"' "box.json records the origin"
expect_true '[ -z "$(ls -A "$DEN_HOME/cache")" ]' "the download is gone from the cache"

run box add den/test --box-version "~> 1.0"
expect_rc 0 "adding again"
expect_err "is already added" "says it is there"

run box add den/test
expect_rc 0 "add the newest"
expect_err "den/test 2.0.0" "2.0.0 is the newest"

run box add den/test --box-version "> 5"
expect_rc 1 "no matching version"
expect_err "has no version matching '> 5'" "says so"
run box add den/test --provider qemu
expect_rc 1 "no matching provider"
expect_err "for provider libvirt" "names the box provider (qemu runs libvirt boxes)"

run box list
expect_rc 0 "box list"
expect_true '[ "$(printf "%s\n" "$OUT" | grep -c "den/test")" -eq 2 ]' "two versions listed"
expect_true 'printf "%s\n" "$OUT" | sed -n 2p | grep -q "2.0.0"' "newest first"
run box list --json
expect_true 'printf "%s" "$OUT" | python3 -c "import json,sys; d=json.load(sys.stdin); assert [b[\"version\"] for b in d] == [\"2.0.0\", \"1.1.0\"]"' "box list --json"

# --- by URL and by file ----------------------------------------------------
run box add "$URL/redirect/den/test" --box-version 1.0.0
expect_rc 0 "add from a catalog URL, through a redirect"
expect_err "den/test 1.0.0" "1.0.0 from the URL"

make_box "$SRV/den/raw.box" qemu
expect_true '[ -z "$(ls -A "$DEN_HOME/cache")" ]' "the cache is empty after successful adds"
run box add "$URL/den/raw.box"
expect_rc 2 "a box file URL without --name"
expect_err "give it a name with --name" "asks for --name"
run box add "$URL/den/raw.box" --name acme/raw --box-version 3.1
expect_rc 0 "a box file URL with --name"
expect_true '[ -f "$DEN_HOME/boxes/acme/raw/3.1/qemu-amd64/disk.raw" ]' "stored under its provider"
run box add "$SRV/den/raw.box" --name local --force
expect_rc 0 "a local box file"
expect_true '[ -f "$DEN_HOME/boxes/_/local/0/qemu-amd64/metadata.json" ]' "a name without org, version 0"
run box add "file://$SRV/den/test" --box-version 1.0.0 --force
expect_rc 0 "a file:// catalog, --force"
run box add "$SRV/den/raw.box" --name acme/sum --checksum "$(sha "$SRV/den/raw.box")" --checksum-type sha256
expect_rc 0 "a matching --checksum"

# Every archive format libarchive reads: tar, tar.gz, tar.xz, tar.zst, zip.
python3 - "$SRV/den" <<'PY'
import io, os, sys, tarfile, zipfile
out = sys.argv[1]
meta = b'{"provider": "qemu", "architecture": "amd64"}'
for mode, ext in (("w", "tar"), ("w:xz", "tar.xz")):
    with tarfile.open(os.path.join(out, "fmt." + ext), mode) as t:
        i = tarfile.TarInfo("metadata.json"); i.size = len(meta); t.addfile(i, io.BytesIO(meta))
        i = tarfile.TarInfo("disk.raw"); i.size = 4; t.addfile(i, io.BytesIO(b"disk"))
with zipfile.ZipFile(os.path.join(out, "fmt.zip"), "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("metadata.json", meta)
    z.writestr("disk.raw", b"disk")
PY
(d=$(mktemp -d) && echo '{"provider": "qemu", "architecture": "amd64"}' > "$d/metadata.json" &&
	echo -n disk > "$d/disk.raw" && tar -C "$d" --zstd -cf "$SRV/den/fmt.tar.zst" . && rm -rf "$d")
for f in fmt.tar fmt.tar.xz fmt.tar.zst fmt.zip; do
	run box add "$SRV/den/$f" --name "fmt/${f//./-}"
	expect_rc 0 "a box as $f"
	expect_true '[ "$(cat "$DEN_HOME/boxes/fmt/${f//./-}/0/qemu-amd64/disk.raw")" = disk ]' "$f unpacked"
done

# --- refusals leave the store as it was ------------------------------------
before=$(store_snapshot)
refused() { # WHAT EXIT FRAGMENT ARGS...
	local what=$1 rc=$2 frag=$3
	shift 3
	run box add "$@"
	expect_rc "$rc" "$what"
	expect_err "$frag" "$what: message"
	expect_true '[ "$(store_snapshot)" = "$before" ]' "$what: the store is unchanged"
}

refused "wrong --checksum" 1 "checksum mismatch" "$SRV/den/raw.box" --name acme/bad \
	--checksum 0000 --checksum-type sha256
python3 - "$SRV/den/test" "$SRV/den/badsum" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["name"] = "den/badsum"
for v in d["versions"]:
    for p in v["providers"]:
        p["checksum"] = "ab" * 32
json.dump(d, open(sys.argv[2], "w"))
PY
refused "a catalog checksum that does not match" 1 "checksum mismatch" den/badsum
expect_true '[ -z "$(ls -A "$DEN_HOME/cache")" ]' "a bad download is not kept for resuming"
refused "404" 1 "HTTP 404" den/nosuch
refused "500" 1 "HTTP 500" "$URL/status/500/x" --name a/b
DEN_DOWNLOAD_STALL_SECONDS=2 run box add "$URL/stall/x.box" --name a/b
expect_rc 1 "a server that stops sending"
expect_err "timed out (no data for 2 s); run the command again to resume" "says it timed out"
rm -f "$DEN_HOME"/cache/*.box
refused "nothing listening" 1 "connection refused" "http://127.0.0.1:1/x.box" --name a/b
refused "unknown checksum type" 2 "unknown checksum type" "$SRV/den/raw.box" --name a/b \
	--checksum 00 --checksum-type crc32
DEN_BOX_SERVER= run box add den/other
expect_rc 1 "no box server"
expect_err "DEN_BOX_SERVER" "says how to name one"

head -c 200 "$SRV/den/test-1.box" > "$SRV/den/trunc.box"
refused "truncated archive" 1 "damaged or truncated" "$SRV/den/trunc.box" --name a/trunc
echo "not an archive at all" > "$SRV/den/junk.box"
refused "not an archive" 1 "not a box archive" "$SRV/den/junk.box" --name a/junk
(cd "$T_DIR" && mkdir -p nometa && echo x > nometa/disk.raw && tar -C nometa -czf "$SRV/den/nometa.box" .)
refused "no metadata.json" 1 "no metadata.json" "$SRV/den/nometa.box" --name a/nometa

# Hostile archives, made with Python's tarfile as an attacker would.
python3 - "$SRV/den" <<'PY'
import gzip, io, os, sys, tarfile
out = sys.argv[1]
meta = b'{"provider": "qemu"}'
def box(name, members):
    with tarfile.open(os.path.join(out, name), "w:gz") as t:
        info = tarfile.TarInfo("metadata.json"); info.size = len(meta)
        t.addfile(info, io.BytesIO(meta))
        for m, data in members:
            t.addfile(m, io.BytesIO(data) if data is not None else None)
def reg(name, data=b"x", mode=0o644):
    i = tarfile.TarInfo(name); i.size = len(data); i.mode = mode; return (i, data)
def link(name, target, kind):
    i = tarfile.TarInfo(name); i.type = kind; i.linkname = target; return (i, None)
def dev(name):
    i = tarfile.TarInfo(name); i.type = tarfile.CHRTYPE; i.devmajor = 1; i.devminor = 3; return (i, None)
box("traversal.box", [reg("../../evil")])
box("absolute.box", [reg("/tmp/den-evil-absolute")])
box("symlink.box", [link("escape", "../../../etc", tarfile.SYMTYPE), reg("escape/passwd")])
box("symlink-abs.box", [link("escape", "/etc/passwd", tarfile.SYMTYPE)])
box("hardlink.box", [link("hard", "../outside", tarfile.LNKTYPE)])
box("hardlink-abs.box", [link("hard", "/etc/shadow", tarfile.LNKTYPE)])
box("device.box", [dev("null")])
box("setuid.box", [reg("sh", b"#!/bin/sh\n", 0o4755)])
# Symlinks that each look tame, but chain out of the box.
box("chain.box", [link("c", ".", tarfile.SYMTYPE), link("up", "c/c/c/../../..", tarfile.SYMTYPE)])
# A tame deep symlink, then a hard link to it at the top: its target climbs out.
box("hardsym.box", [link("a/b/c/l", "../../../x", tarfile.SYMTYPE), link("l2", "a/b/c/l", tarfile.LNKTYPE)])
# A zip bomb of sorts: 64 MiB of zeros, a few KiB gzipped.
i = tarfile.TarInfo("zeros"); i.size = 64 << 20
with tarfile.open(os.path.join(out, "bomb.box"), "w:gz") as t:
    m = tarfile.TarInfo("metadata.json"); m.size = len(meta); t.addfile(m, io.BytesIO(meta))
    t.addfile(i, io.BytesIO(bytes(64 << 20)))
PY
refused "path traversal" 1 "absolute path or '..'" "$SRV/den/traversal.box" --name a/x
refused "absolute path" 1 "absolute path or '..'" "$SRV/den/absolute.box" --name a/x
expect_true '[ ! -e /tmp/den-evil-absolute ]' "nothing written at the absolute path"
refused "symlink escape" 1 "points outside the box" "$SRV/den/symlink.box" --name a/x
refused "absolute symlink" 1 "points outside the box" "$SRV/den/symlink-abs.box" --name a/x
refused "hardlink escape" 1 "hard link 'hard' points outside" "$SRV/den/hardlink.box" --name a/x
refused "absolute hardlink" 1 "hard link 'hard' points outside" "$SRV/den/hardlink-abs.box" --name a/x
refused "device node" 1 "is a device node" "$SRV/den/device.box" --name a/x
refused "setuid file" 1 "is setuid or setgid" "$SRV/den/setuid.box" --name a/x
refused "a chain of symlinks" 1 "leads outside the box" "$SRV/den/chain.box" --name a/x
refused "a hard link to a symlink" 1 "is to a symlink" "$SRV/den/hardsym.box" --name a/x
(d=$(mktemp -d) && cd "$d" && echo '{"provider": "qemu"}' > metadata.json && truncate -s 64M hole &&
	tar -S -cf "$SRV/den/sparse.box" metadata.json hole && cd / && rm -rf "$d")
refused "a sparse member" 1 "is a sparse file" "$SRV/den/sparse.box" --name a/x
# A catalog that steers the store path, and one that points at local files.
python3 - "$SRV/den" "$(sha "$SRV/den/test-1.box")" <<'PY'
import json, sys
out, digest = sys.argv[1:]
def cat(name, url, arch):
    return {"name": name, "versions": [{"version": "1.0.0", "providers": [{"name": "container",
        "url": url, "checksum_type": "sha256", "checksum": digest, "architecture": arch,
        "default_architecture": True}]}]}
json.dump(cat("den/steer", "test-1.box", "x/../../../../../../../../tmp/den-escaped"), open(out + "/steer", "w"))
json.dump(cat("den/local", "file:///etc/hostname", "amd64"), open(out + "/local", "w"))
PY
refused "an architecture that is a path" 1 "not a plain name" den/steer
expect_true '[ ! -e /tmp/den-escaped ]' "nothing was written outside the store"
refused "a remote catalog pointing at a local file" 1 "points at a local file" den/local
DEN_BOX_MAX_SIZE=16M run box add "$SRV/den/bomb.box" --name a/bomb
expect_rc 1 "an archive that unpacks past the cap"
expect_err "unpacks to more than 16M" "names the cap"
expect_true '[ "$(store_snapshot)" = "$before" ]' "bomb: the store is unchanged"
expect_true '[ -z "$(ls -A "$DEN_HOME/tmp")" ]' "no half-unpacked box is left in tmp"

# --- resuming -------------------------------------------------------------
head -c $((4 << 20)) /dev/urandom > "$T_DIR/payload"
(d=$(mktemp -d) && echo '{"provider": "qemu"}' > "$d/metadata.json" && cp "$T_DIR/payload" "$d/disk.raw" &&
	tar -C "$d" -cf "$SRV/den/big.box" . && rm -rf "$d")
# The connection drops after 1 MiB: den says how to go on, and keeps the bytes.
run box add "$URL/cut/1048576/den/big.box" --name acme/big
expect_rc 1 "a dropped connection"
expect_err "run the command again to resume" "says it can resume"
part=$(ls "$DEN_HOME"/cache/*.box)
expect_true '[ "$(stat -c %s "$part")" -eq 1048576 ]' "the first MiB is kept in the cache"
# Serve the rest at the same URL: a second server replaces the cutting one.
cp "$part" "$T_DIR/part.keep"
kill $SERVER_PID; wait $SERVER_PID 2>/dev/null
python3 - "$SRV" "$PORT" "$SRC/tests/helpers/boxserver.py" > "$T_DIR/port2" <<'PY' &
import os, sys, runpy
# Same port, but /cut/N/ serves everything: the "fixed" server.
src = open(sys.argv[3]).read().replace('m = re.match(r"/cut/(\\d+)(/.*)", p)', 'm = re.match(r"/cut/(\\d+)(/.*)", p)\n        if m:\n            self.send_file(m.group(2))\n            return')
sys.argv = [sys.argv[3], sys.argv[1], sys.argv[2]]
exec(compile(src, "boxserver", "exec"))
PY
SERVER_PID=$!
for _ in $(seq 50); do [ -s "$T_DIR/port2" ] && break; sleep 0.1; done
run -v box add "$URL/cut/1048576/den/big.box" --name acme/big
expect_rc 0 "resumed download"
expect_err "resumed after 1048576 bytes" "it resumed, not restarted"
expect_true 'cmp -s "$DEN_HOME/boxes/acme/big/0/qemu-unknown/disk.raw" "$T_DIR/payload"' "the resumed box is whole"

# A server that ignores Range: den starts over and still gets it right.
cp "$T_DIR/part.keep" "$DEN_HOME/cache/$(printf %s "$URL/norange/den/big.box" | sha256sum | cut -c1-32).box"
rm -rf "$DEN_HOME/boxes/acme/big"
run -v box add "$URL/norange/den/big.box" --name acme/big2
expect_rc 0 "a server without Range support"
expect_no_err "resumed after" "it started over instead of resuming"
expect_true 'cmp -s "$DEN_HOME/boxes/acme/big2/0/qemu-unknown/disk.raw" "$T_DIR/payload"' "whole after a restart"

# --- progress: a bar on a terminal, nothing otherwise -------------------------
if command -v script >/dev/null; then
	tty_out=$(DEN_HOME="$DEN_HOME" script -qec "$DEN box add $URL/slow/den/big.box --name acme/prog" /dev/null 2>&1)
	expect_true 'printf "%s" "$tty_out" | grep -q "MiB of 4.0 MiB"' "a progress bar with bytes on a terminal"
	expect_true 'printf "%s" "$tty_out" | grep -q "MiB/s"' "and the rate"
else
	expect_true false "script(1) (bsdutils, part of every Debian) is missing: no terminal to check the progress bar on"
fi
run box add "$URL/slow/den/big.box" --name acme/noprog
expect_true '! printf "%s" "$ERR" | grep -q $'"'"'\r'"'"'' "no progress bar when stderr is not a terminal"

# --- two dens at once -----------------------------------------------------
catalog den/slow den/big.box 1.0.0 | sed 's#"url": "big.box"#"url": "/slow/den/big.box"#' > "$SRV/den/slow"
python3 - "$SRV/den/slow" "$(sha "$SRV/den/big.box")" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for v in d["versions"]:
    for p in v["providers"]:
        p["name"] = "qemu"; p["checksum"] = sys.argv[2]
json.dump(d, open(sys.argv[1], "w"))
PY
"$DEN" box add den/slow > "$T_DIR/a.out" 2>&1 &
A=$!
sleep 0.3
"$DEN" box add den/slow > "$T_DIR/b.out" 2>&1 &
B=$!
wait $A; RA=$?
wait $B; RB=$?
OUT="$(cat "$T_DIR/a.out")" ERR="$(cat "$T_DIR/b.out")" RC=$RA
expect_rc 0 "first of two concurrent adds"
RC=$RB
expect_rc 0 "second of two concurrent adds"
expect_true 'cat "$T_DIR/a.out" "$T_DIR/b.out" | grep -q "waiting for another den"' "one of them waits"
expect_true 'cat "$T_DIR/a.out" "$T_DIR/b.out" | grep -q "is already added"' "and reuses the box"
expect_true '[ "$(cat "$T_DIR/a.out" "$T_DIR/b.out" | grep -c downloading)" -eq 1 ]' "one download in all"

# --- remove ----------------------------------------------------------------
# A machine of a known project uses den/test 1.1.0: remove refuses, --force goes on.
mkdir -p "$T_DIR/other/.den/machines/web"
echo '{"version": 1, "provider": "container", "box": "den/test", "box_version": "1.1.0"}' \
	> "$T_DIR/other/.den/machines/web/state.json"
echo "{\"projects\": [{\"root\": \"$T_DIR/other\"}]}" > "$DEN_HOME/index.json"
run box remove den/test --box-version 1.1.0
expect_rc 1 "remove a box a machine uses"
expect_err "is used by $T_DIR/other: machine web" "names the machine"
expect_true '[ -d "$DEN_HOME/boxes/den/test/1.1.0" ]' "the box stays"
run box remove den/test --box-version 1.1.0 --force
expect_rc 0 "remove --force"

run box remove den/test
expect_rc 2 "remove with several versions"
expect_err "--all" "asks which"
run box remove den/test --box-version 1.0.0
expect_rc 0 "remove one version"
expect_true '[ ! -e "$DEN_HOME/boxes/den/test/1.0.0" ]' "its folder is gone"
run box remove den/test --all
expect_rc 0 "remove all versions"
expect_true '[ ! -e "$DEN_HOME/boxes/den/test" ]' "empty folders are gone too"
run box remove den/nothing
expect_rc 1 "remove a box that is not there"

t_done
