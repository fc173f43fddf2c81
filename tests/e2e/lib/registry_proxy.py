#!/usr/bin/env python3
"""A misbehaving front for the test registry, on 127.0.0.1 in plain HTTP.

usage: registry_proxy.py PORT_FILE LOG UPSTREAM CA USER PASSWORD

It forwards every request to the real registry (UPSTREAM, HOST:PORT over
TLS with CA, logged in as USER) and does to the answers what its mode says.
The mode is set with GET /_mode?m=MODE (and read back with GET /_mode):

  pass      forwards as it is
  corrupt   a layer's bytes with one byte changed (its length kept)
  cut       a layer's first answer cut after half its bytes (then as pass)
  cutall    every layer answer cut after half its bytes
            (a layer: a blob of more than 4 KiB; configs pass as they are)
  cutup     the first blob upload PATCH: half its bytes go to the registry,
            and the connection is closed with no answer (then as pass)
  busy      the next two requests answered 503 with Retry-After: 1
  bearer    asks for Bearer tokens of its own: a 401 naming /token as the
            realm, which gives one for USER:PASSWORD (Basic) and answers 401
            to anything else; requests are forwarded only with its token

Each request is a line in LOG: METHOD PATH RANGE-HEADER STATUS.
"""
import base64
import http.client
import http.server
import os
import secrets
import ssl
import sys
import threading
import urllib.parse

port_file, log_path, upstream, ca, user, password = sys.argv[1:7]
state = {"mode": "pass", "cut": set(), "busy": 0}
tokens = set()
lock = threading.Lock()
ctx = ssl.create_default_context(cafile=ca)
upstream_auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def log(line):
    with lock, open(log_path, "a") as f:
        f.write(line + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, headers=(), body=b""):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        log(f"{self.command} {self.path} {self.headers.get('Range', '-')} {status}")

    def control(self):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        with lock:
            if "m" in q:
                state["mode"] = q["m"][0]
                state["cut"] = set()
                state["busy"] = 2 if state["mode"] == "busy" else 0
            mode = state["mode"]
        self.reply(200, [("Content-Type", "text/plain")], mode.encode())

    def token(self):
        want = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        if self.headers.get("Authorization") != want:
            self.reply(401, [("Content-Type", "application/json")],
                       b'{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}')
            return
        t = secrets.token_hex(16)
        with lock:
            tokens.add(t)
        self.reply(200, [("Content-Type", "application/json")],
                   ('{"token":"%s","expires_in":300}' % t).encode())

    def handle_any(self):
        if self.path.startswith("/_mode"):
            return self.control()
        with lock:
            mode = state["mode"]
        if mode == "bearer":
            if self.path.startswith("/token"):
                return self.token()
            got = self.headers.get("Authorization", "")
            if not (got.startswith("Bearer ") and got[7:] in tokens):
                host = self.headers.get("Host")
                self.reply(401, [("WWW-Authenticate",
                                  f'Bearer realm="http://{host}/token",service="den-test",'
                                  f'scope="repository:x:pull"'),
                                 ("Content-Type", "application/json")],
                           b'{"errors":[{"code":"UNAUTHORIZED","message":"token needed"}]}')
                return
        if mode == "busy":
            with lock:
                busy = state["busy"] > 0
                state["busy"] -= 1 if busy else 0
            if busy:
                self.reply(503, [("Retry-After", "1")], b"busy")
                return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if mode == "cutup" and self.command == "PATCH" and body and len(body) > 4096:
            with lock:
                first = state["busy"] == 0
                state["busy"] = 1
            if first:
                return self.cut_upload(body)
        conn = http.client.HTTPSConnection(upstream, context=ctx, timeout=60)
        conn.putrequest(self.command, self.path, skip_accept_encoding=True)
        for k, v in self.headers.items():  # each Accept of several kept
            if k.lower() not in ("host", "authorization", "connection", "content-length"):
                conn.putheader(k, v)
        conn.putheader("Authorization", upstream_auth)
        conn.putheader("Content-Length", str(len(body or b"")))
        conn.endheaders(body)
        r = conn.getresponse()
        data = r.read() if self.command != "HEAD" else b""
        # A blob: a layer (more than 4 KiB), not a config.
        blob = (self.command == "GET" and "/blobs/sha256:" in self.path
                and r.status in (200, 206) and len(data) > 4096)
        cut = False
        if blob and mode == "corrupt" and data:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        if blob and mode in ("cut", "cutall") and len(data) > 1:
            with lock:
                cut = mode == "cutall" or self.path not in state["cut"]
                state["cut"].add(self.path)
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() in ("connection", "transfer-encoding", "content-length"):
                continue
            if k.lower() == "location" and v.startswith("https://" + upstream):
                v = v[len("https://" + upstream):]
            self.send_header(k, v)
        self.send_header("Content-Length", str(r.getheader("Content-Length") or len(data))
                         if self.command == "HEAD" else str(len(data)))
        if cut:
            self.send_header("Connection", "close")
        self.end_headers()
        log(f"{self.command} {self.path} {self.headers.get('Range', '-')} {r.status}"
            f"{' cut' if cut else ''}")
        if self.command == "HEAD":
            return
        if cut:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(data)

    def cut_upload(self, body):
        """Half of the chunk to the registry, then the client's connection closed unanswered."""
        start = int(self.headers.get("Content-Range", "0-0").split("-")[0])
        half = body[: len(body) // 2]
        conn = http.client.HTTPSConnection(upstream, context=ctx, timeout=60)
        conn.request("PATCH", self.path, body=half, headers={
            "Authorization": upstream_auth, "Content-Type": "application/octet-stream",
            "Content-Range": f"{start}-{start + len(half) - 1}"})
        r = conn.getresponse()
        r.read()
        log(f"PATCH {self.path} - {r.status} cut")
        self.close_connection = True
        self.connection.shutdown(2)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = handle_any


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".part", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".part", port_file)
server.serve_forever()
