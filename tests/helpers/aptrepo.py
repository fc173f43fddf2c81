#!/usr/bin/env python3
"""A flat apt repository over a folder of .debs, for tests.

    aptrepo.py DEBS OUT   writes OUT/Packages and OUT/Release, with OUT/pool
                          a link to DEBS; serve OUT over HTTP and use
                          "deb [trusted=yes] http://HOST:PORT/ ./"
"""
import hashlib
import os
import subprocess
import sys
import time

debs, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
if not os.path.exists(os.path.join(out, "pool")):
    os.symlink(os.path.abspath(debs), os.path.join(out, "pool"))
paragraphs = []
for name in sorted(os.listdir(debs)):
    if not name.endswith(".deb"):
        continue
    path = os.path.join(debs, name)
    control = subprocess.run(["dpkg-deb", "-f", path], check=True, capture_output=True,
                             text=True).stdout.rstrip("\n")
    data = open(path, "rb").read()
    paragraphs.append(control + "\nFilename: pool/%s\nSize: %d\nMD5sum: %s\nSHA256: %s\n" % (
        name, len(data), hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()))
packages = "\n".join(paragraphs).encode()
open(os.path.join(out, "Packages"), "wb").write(packages)
open(os.path.join(out, "Release"), "w").write(
    "Date: %s\nSHA256:\n %s %d Packages\n" % (
        time.strftime("%a, %d %b %Y %H:%M:%S UTC", time.gmtime()),
        hashlib.sha256(packages).hexdigest(), len(packages)))
