#!/usr/bin/env python3
"""A box server for den's tests, on 127.0.0.1 only.

Serves a folder like any static web server, with byte ranges (so den can
resume), and a few misbehaviours the tests ask for by path prefix:
  /status/N/...     answers HTTP N
  /cut/N/PATH       sends the first N bytes of PATH, then drops the connection
  /redirect/PATH    302 to /PATH
  /norange/PATH     ignores Range and sends the whole file
  /slow/PATH        sends 64 KiB every 50 ms (for killing mid-download)
  /stall/PATH       sends the headers and 1 KiB, then nothing for 30 s
Usage: boxserver.py FOLDER [PORT]. Prints the port it listens on, then
serves until killed.
"""
import http.server
import os
import re
import socketserver
import sys
import time

ROOT = os.path.abspath(sys.argv[1])


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send_file(self, rel, cut=None, ranges=True, slow=False):
        path = os.path.realpath(os.path.join(ROOT, rel.lstrip("/")))
        if not path.startswith(ROOT + os.sep) or not os.path.isfile(path):
            self.send_error(404)
            return
        size = os.path.getsize(path)
        start = 0
        m = re.match(r"bytes=(\d+)-$", self.headers.get("Range", ""))
        if ranges and m:
            start = int(m.group(1))
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % size)
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, size - 1, size))
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(size - start))
        self.end_headers()
        with open(path, "rb") as f:
            f.seek(start)
            left = size - start if cut is None else max(0, cut - start)
            while left > 0:
                chunk = f.read(min(left, 1 << 16))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)
                if slow:
                    self.wfile.flush()
                    time.sleep(0.05)
        if cut is not None:
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)

    def do_GET(self):
        p = self.path.split("?")[0]
        m = re.match(r"/status/(\d+)/", p)
        if m:
            self.send_error(int(m.group(1)))
            return
        m = re.match(r"/cut/(\d+)(/.*)", p)
        if m:
            self.send_file(m.group(2), cut=int(m.group(1)))
            return
        if p.startswith("/redirect/"):
            self.send_response(302)
            self.send_header("Location", p[len("/redirect"):])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if p.startswith("/stall/"):
            self.send_response(200)
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            self.wfile.write(b"x" * 1024)
            self.wfile.flush()
            time.sleep(30)
            return
        if p.startswith("/slow/"):
            self.send_file(p[len("/slow"):], slow=True)
            return
        if p.startswith("/norange/"):
            self.send_file(p[len("/norange"):], ranges=False)
            return
        self.send_file(p)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


srv = Server(("127.0.0.1", int(sys.argv[2]) if len(sys.argv) > 2 else 0), Handler)
print(srv.server_address[1], flush=True)
srv.serve_forever()
