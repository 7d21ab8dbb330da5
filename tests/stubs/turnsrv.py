#!/usr/bin/env python3
# turnsrv: a turn-URL stub for the turn client's tests: checks X-Twilio-Signature on its own
# (hmac over --url-base + path and the sorted fields), logs each request, and misbehaves by path.
"""Paths: /ok /stream /status/NNN /html /broken /hang /huge /slowloris /echo-fields.

Standard library only. `--port 0` picks a free port; the first stdout line is
"listening on PORT". With --token, a request whose signature does not verify is answered
403 on every path (that is the "sigfail" behaviour). --log FILE gets one JSON line per
request: {"path", "fields": [[name, value], ...], "sig": "ok" | "bad" | "none", "url": the
URL the signature verified over}. --url-base may be repeated (a request verifies against any
of them) and may contain "{port}", replaced by the port we bound (useful with --port 0).
"""
import argparse
import base64
import hashlib
import hmac
import json
import select
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TWIML = "text/xml; charset=utf-8"
HUGE_BYTES = 100 * 1024 * 1024
MAX_BODY = 1024 * 1024     # the client never sends more; a bound keeps the stub honest
HANG_MAX_S = 120           # /hang gives up by itself so a lost client never leaks a thread


def signature(token, url, fields):
    """docs/PROTOCOL.md §3.2: URL, then name+value of each pair sorted by name then value."""
    data = url + "".join(n + v for n, v in sorted(fields))
    mac = hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, a reused connection holds
    # the body back ~40 ms for the client's delayed ACK, which would be measured as ours.
    disable_nagle_algorithm = True
    server_version = "turnsrv"

    def log_message(self, fmt, *args):  # quiet: the JSON log is the record
        pass

    def _client_gone(self, wait_s):
        """True when the client closed its side within WAIT_S seconds."""
        r, _, _ = select.select([self.connection], [], [], wait_s)
        if not r:
            return False
        try:
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _send(self, status, ctype, body, extra=None):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _start_chunked(self, ctype):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

    def _chunk(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _end_chunked(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def do_GET(self):
        self._send(405, "text/plain", "POST only\n", {"Allow": "POST"})

    def do_POST(self):
        cfg = self.server.cfg
        try:
            n = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            n = -1
        if n < 0 or n > MAX_BODY:
            self._send(413, "text/plain", "bad length\n")
            return
        raw = self.rfile.read(n).decode("utf-8", "replace")
        fields = urllib.parse.parse_qsl(raw, keep_blank_values=True)
        got = self.headers.get("X-Twilio-Signature")
        url = cfg.url_bases[0] + self.path
        sig = "none" if got is None else "bad"
        for base in cfg.url_bases if got is not None and cfg.token else []:
            if hmac.compare_digest(got, signature(cfg.token, base + self.path, fields)):
                sig, url = "ok", base + self.path
                break
        rec = {"path": self.path, "url": url, "fields": fields, "sig": sig,
               "host": self.headers.get("Host", ""),
               "user_agent": self.headers.get("User-Agent", ""),
               "accept": self.headers.get("Accept", ""),
               "content_type": self.headers.get("Content-Type", "")}
        if cfg.log:
            with self.server.log_lock, open(cfg.log, "a") as f:
                f.write(json.dumps(rec) + "\n")
        if cfg.token and sig != "ok":
            self._send(403, "text/plain", "bad signature\n")
            return
        try:
            self._route(cfg, dict(fields))
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away: the tests do that on purpose

    def _route(self, cfg, f):
        path = self.path.split("?", 1)[0]
        if path == "/ok":
            self._send(200, TWIML, "<Response><Say>Hello.</Say></Response>")
        elif path == "/stream":
            self._start_chunked(TWIML)
            self._chunk("<Response><Say>First.</Say>")
            if self._client_gone(cfg.stream_delay_ms / 1000.0):
                return
            self._chunk("<Say>Second.</Say></Response>")
            self._end_chunked()
        elif path.startswith("/status/"):
            try:
                code = int(path[len("/status/"):])
            except ValueError:
                code = 500
            self._send(code, "text/plain", "status %d\n" % code)
        elif path == "/html":
            self._send(200, "text/html", "<html><body>not TwiML</body></html>")
        elif path == "/broken":
            self._send(200, "text/xml", "<Response><Say>oops</Response>")
        elif path == "/hang":
            deadline = time.monotonic() + HANG_MAX_S
            while time.monotonic() < deadline and not self._client_gone(0.2):
                pass
            self.close_connection = True
        elif path == "/huge":
            self._start_chunked("text/xml")
            self._chunk("<Response><Say>")
            block = b"a" * 65536
            sent = 0
            while sent < HUGE_BYTES:
                self._chunk(block)
                sent += len(block)
            self._chunk("</Say></Response>")
            self._end_chunked()
        elif path == "/slowloris":
            self._start_chunked("text/xml")
            for ch in "<Response><Say>slow</Say></Response>":
                self._chunk(ch)
                if self._client_gone(1.0):
                    return
            self._end_chunked()
        elif path == "/echo-fields":
            text = "event %s digits %s" % (f.get("TurnEvent", ""), f.get("Digits", ""))
            text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            self._send(200, TWIML, "<Response><Say>%s</Say></Response>" % text)
        else:
            self._send(404, "text/plain", "no such path\n")


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """A client that aborts (timeouts, limits, cancels) is the point of most tests."""
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description="turn-URL stub server for callpipe's tests")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--token", default="")
    ap.add_argument("--url-base", action="append", default=[],
                    help="scheme://host:port the client signs over (default: our own address);"
                    " repeatable; {port} is our port")
    ap.add_argument("--log", default="")
    ap.add_argument("--stream-delay-ms", type=int, default=1500)
    cfg = ap.parse_args()

    srv = Server(("127.0.0.1", cfg.port), Handler)
    port = srv.server_address[1]
    bases = cfg.url_base or ["http://127.0.0.1:{port}"]
    cfg.url_bases = [b.replace("{port}", str(port)).rstrip("/") for b in bases]
    srv.cfg = cfg
    srv.log_lock = threading.Lock()
    print("listening on %d" % port, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
