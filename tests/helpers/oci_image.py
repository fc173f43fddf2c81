#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes a small OCI image layout, whole or with one thing wrong, for den's
image tests (tests/e2e/box_image.sh). Real tools make the good images there;
this makes the ones no real tool would.

    oci_image.py DIR KIND

KIND: good | digest-mismatch | diff-id-mismatch | dotdot-layer | bad-digest |
      blob-link-out | size-lie | arm64 | docker-config-outside | multi-arch |
      through-link
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def layer_tar(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def put(d, data):
    os.makedirs(os.path.join(d, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(d, "blobs", "sha256", sha(data)[7:]), "wb") as f:
        f.write(data)
    return sha(data)


def image(d, arch, layers):
    """A manifest (and its config) of these layer tars: its descriptor."""
    descs, diff_ids = [], []
    for tar in layers:
        blob = gzip.compress(tar, mtime=0)
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                      "digest": put(d, blob), "size": len(blob)})
        diff_ids.append(sha(tar))
    cbytes = json.dumps({"architecture": arch, "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    mbytes = json.dumps({"schemaVersion": 2,
                         "mediaType": "application/vnd.oci.image.manifest.v1+json",
                         "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                    "digest": put(d, cbytes), "size": len(cbytes)},
                         "layers": descs}).encode()
    return {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": put(d, mbytes),
            "size": len(mbytes), "platform": {"architecture": arch, "os": "linux"}}


def layout(d, top):
    with open(os.path.join(d, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [top]}, f)
    with open(os.path.join(d, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)


def symlink_tar(name, target):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        info = tarfile.TarInfo(name)
        info.type = tarfile.SYMTYPE
        info.linkname = target
        t.addfile(info)
    return buf.getvalue()


def main():
    d, kind = sys.argv[1], sys.argv[2]
    os.makedirs(d, exist_ok=True)
    if kind == "multi-arch":
        # An index in the index, arm64 first: amd64's image is the one to take.
        arm = image(d, "arm64", [layer_tar([("etc/arch", b"arm64\n")])])
        amd = image(d, "amd64", [layer_tar([("etc/arch", b"amd64\n")])])
        nested = json.dumps({"schemaVersion": 2, "manifests": [arm, amd]}).encode()
        layout(d, {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": put(d, nested),
                   "size": len(nested),
                   "annotations": {"org.opencontainers.image.ref.name": "test/multi:2.0"}})
        return
    if kind == "hardlink-through-link":
        # A hard link whose target is reached through a lower layer's link to the host's /etc.
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
            info = tarfile.TarInfo("stolen")
            info.type = tarfile.LNKTYPE
            info.linkname = "hostetc/hostname"
            t.addfile(info)
        layout(d, image(d, "amd64", [symlink_tar("hostetc", "/etc"), buf.getvalue()]))
        return
    if kind == "through-link":
        # A lower layer's link to the host's /etc, and a layer writing through it.
        layout(d, image(d, "amd64", [symlink_tar("hostetc", "/etc"),
                                     layer_tar([("hostetc/den-escaped", b"out\n")])]))
        return
    members = [("etc/hello", b"hello\n")]
    if kind == "big":
        members.append(("etc/big", bytes(64 << 10)))
    if kind == "dotdot-layer":
        members.append(("../escaped", b"out\n"))
    tar = layer_tar(members)
    blob = gzip.compress(tar, mtime=0)
    layer_digest = put(d, blob)
    if kind == "digest-mismatch":
        # The bytes under the layer's name are another layer's.
        with open(os.path.join(d, "blobs", "sha256", layer_digest[7:]), "wb") as f:
            f.write(gzip.compress(layer_tar([("etc/evil", b"evil\n")]), mtime=0))
    if kind == "blob-link-out":
        p = os.path.join(d, "blobs", "sha256", layer_digest[7:])
        os.unlink(p)
        os.symlink("/etc/passwd", p)
    diff_id = sha(tar) if kind != "diff-id-mismatch" else sha(b"another")
    config = {"architecture": "arm64" if kind == "arm64" else "amd64", "os": "linux",
              "config": {"Env": ["A=1"], "Cmd": ["/bin/sh"]},
              "rootfs": {"type": "layers", "diff_ids": [diff_id]}}
    cbytes = json.dumps(config).encode()
    cdigest = put(d, cbytes)
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": cdigest, "size": len(cbytes)},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                            "digest": layer_digest, "size": len(blob)}]}
    if kind == "size-lie":
        manifest["config"]["size"] = len(cbytes) + 1
    mbytes = json.dumps(manifest).encode()
    mdigest = put(d, mbytes)
    if kind == "bad-digest":
        mdigest = "sha256:../../../../../../etc/passwd"
    index = {"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": mdigest,
         "size": len(mbytes), "annotations": {"org.opencontainers.image.ref.name": "test/made:1.0"}}]}
    with open(os.path.join(d, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(d, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    if kind == "docker-config-outside":
        # A docker-archive's manifest.json naming a config outside the archive.
        for name in ("index.json", "oci-layout"):
            os.unlink(os.path.join(d, name))
        with open(os.path.join(d, "manifest.json"), "w") as f:
            json.dump([{"Config": "../../../../../../etc/passwd", "RepoTags": ["test/made:1.0"],
                        "Layers": ["blobs/sha256/" + layer_digest[7:]]}], f)


if __name__ == "__main__":
    main()
