#!/usr/bin/env python3
# badinput_ws.py: raw HTTP and WebSocket clients for the bad-input matrix (badinput.inc), for the cases
# callpipe-sim and curl cannot express: broken frames, half-open upgrades, floods, RST, slow peers.
#
# usage: wsraw.py CASE [options]; prints one JSON object (what happened) on stdout.
# Every socket has a deadline: nothing here can hang the suite.
import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import socket
import struct
import sys
import time
import urllib.parse

OP_CONT, OP_TEXT, OP_BIN, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


def frame(opcode, payload=b"", fin=True, mask=True, rsv=0, fake_len=None):
    """One client frame (RFC 6455 5.2); fake_len puts a length in the header that is not
    the payload's."""
    n = len(payload) if fake_len is None else fake_len
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    mbit = 0x80 if mask else 0
    if n < 126:
        hdr = struct.pack("!BB", b0, mbit | n)
    elif n < 65536:
        hdr = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        hdr = struct.pack("!BBQ", b0, mbit | 127, n)
    if not mask:
        return hdr + payload
    key = os.urandom(4)
    body = bytes(c ^ key[i % 4] for i, c in enumerate(payload))
    return hdr + key + body


class Peer:
    """A connection to the front end (or the helper) with a deadline on every read."""

    def __init__(self, port, timeout=10.0, rcvbuf=None):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.settimeout(timeout)
        self.s.connect(("127.0.0.1", port))
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def fill(self, n):
        while len(self.buf) < n:
            d = self.s.recv(65536)
            if not d:
                raise EOFError
            self.buf += d

    def http_head(self):
        """The status code of an HTTP answer, and its headers (lower-case names)."""
        while b"\r\n\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise EOFError
            self.buf += d
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        code = int(lines[0].split()[1])
        hdrs = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        return code, hdrs

    def read_frame(self):
        self.fill(2)
        b0, b1 = self.buf[0], self.buf[1]
        n, off = b1 & 0x7F, 2
        if n == 126:
            self.fill(4)
            n, off = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            self.fill(10)
            n, off = struct.unpack("!Q", self.buf[2:10])[0], 10
        self.fill(off + n)
        payload = self.buf[off:off + n]
        self.buf = self.buf[off + n:]
        return b0 & 0x0F, payload

    def until_close(self, deadline_s=10.0, want_pongs=False):
        """Read frames until the server's close: (close code or 1006 on EOF / 'timeout',
        texts seen, pongs seen)."""
        end = time.time() + deadline_s
        texts, pongs = [], 0
        try:
            while True:
                self.s.settimeout(max(0.05, end - time.time()))
                op, p = self.read_frame()
                if op == OP_CLOSE:
                    code = struct.unpack("!H", p[:2])[0] if len(p) >= 2 else 1005
                    try:  # answer it, as a client should
                        self.send(frame(OP_CLOSE, p[:2]))
                    except OSError:
                        pass
                    return code, texts, pongs
                if op == OP_TEXT:
                    texts.append(p)
                elif op == OP_PONG:
                    pongs += 1
                    if want_pongs and pongs >= want_pongs:
                        return None, texts, pongs
        except (EOFError, ConnectionResetError, BrokenPipeError):
            return 1006, texts, pongs
        except socket.timeout:
            return "timeout", texts, pongs

    def rst(self):
        """Close with RST instead of FIN (SO_LINGER 0)."""
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.s.close()

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def upgrade_request(host, path, sig, key=True, version="13", extra=""):
    h = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         f"Sec-WebSocket-Version: {version}\r\nSec-WebSocket-Protocol: audio.twilio.com\r\n")
    if key:
        h += "Sec-WebSocket-Key: " + base64.b64encode(os.urandom(16)).decode() + "\r\n"
    if sig:
        h += f"X-Twilio-Signature: {sig}\r\n"
    return (h + extra + "\r\n").encode()


def twilio_sign(token, url, pairs):
    """X-Twilio-Signature (docs/PROTOCOL.md §3.2): URL, then name+value of each pair
    sorted by name."""
    data = url + "".join(k + v for k, v in sorted(pairs, key=lambda kv: (kv[0], kv[1])))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def signed_call(a):
    """A signed incoming_call through the front end, then the stream it names, upgraded and
    started with the TwiML's Parameters (whatever they are: a token binding the stream to
    its call travels that way). Returns (peer, call_sid, stream_sid)."""
    sid = "CA" + os.urandom(16).hex()
    acc = "AC" + os.urandom(16).hex()
    pairs = [("CallSid", sid), ("AccountSid", acc), ("From", "+15551234567"),
             ("To", "+15557654321"), ("CallStatus", "ringing"), ("Direction", "inbound")]
    body = urllib.parse.urlencode(pairs)
    pub = a.public_url.rstrip("/")
    sig = twilio_sign(a.token, pub + "/webhook/incoming_call", pairs)
    p = Peer(a.port)
    p.send((f"POST /webhook/incoming_call HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
            f"X-Twilio-Signature: {sig}\r\n\r\n{body}").encode())
    code, _ = p.http_head()
    twiml = p.buf
    try:
        while True:
            d = p.s.recv(65536)
            if not d:
                break
            twiml += d
    except socket.timeout:
        pass
    p.close()
    if code != 200:
        raise RuntimeError(f"incoming_call answered {code}")
    params = dict(re.findall(rb'<Parameter name="([^"]*)" value="([^"]*)"', twiml))
    params = {k.decode(): v.decode().replace("&amp;", "&") for k, v in params.items()}
    ws_pub = pub.replace("https://", "wss://").replace("http://", "ws://") + "/ws/twilio-media"
    ws = Peer(a.port, rcvbuf=a.rcvbuf)
    ws.send(upgrade_request("127.0.0.1", "/ws/twilio-media", twilio_sign(a.token, ws_pub, [])))
    code, _ = ws.http_head()
    if code != 101:
        raise RuntimeError(f"upgrade answered {code}")
    msid = "MZ" + os.urandom(16).hex()
    ws.send(frame(OP_TEXT, json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}).encode()))
    ws.send(frame(OP_TEXT, json.dumps({
        "event": "start", "sequenceNumber": "1", "streamSid": msid,
        "start": {"accountSid": acc, "streamSid": msid, "callSid": sid,
                  "tracks": ["inbound"], "customParameters": params,
                  "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}).encode()))
    return ws, sid, msid


def media(msid, seq):
    return frame(OP_TEXT, json.dumps({
        "event": "media", "sequenceNumber": str(seq), "streamSid": msid,
        "media": {"track": "inbound", "chunk": str(seq - 1), "timestamp": str(seq * 20),
                  "payload": base64.b64encode(bytes([0xFF]) * 160).decode()}}).encode())


def out(**kw):
    print(json.dumps(kw))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("case")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--sig", default="")          # the upgrade's X-Twilio-Signature
    ap.add_argument("--token", default="")
    ap.add_argument("--public-url", default="")
    ap.add_argument("--path", default="/ws/twilio-media")
    ap.add_argument("--n", type=int, default=0)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--rcvbuf", type=int, default=0)
    a = ap.parse_args()
    c = a.case

    def ws_open():
        p = Peer(a.port)
        p.send(upgrade_request("127.0.0.1", a.path, a.sig))
        code, _ = p.http_head()
        if code != 101:
            raise RuntimeError(f"upgrade answered {code}")
        return p

    try:
        # --- upgrades ---------------------------------------------------------------------
        if c in ("upgrade", "no-key", "version-8", "big-header", "big-key", "big-sig"):
            p = Peer(a.port)
            extra = ""
            if c == "big-header":
                extra = "X-Filler: " + "a" * (a.n or 6000) + "\r\n"
            if c == "big-key":
                extra = "Sec-WebSocket-Extensions: " + "x" * 3000 + "\r\n"
            sig = "A" * (a.n or 6000) if c == "big-sig" else a.sig
            p.send(upgrade_request("127.0.0.1", a.path, sig, key=(c != "no-key"),
                                   version=("8" if c == "version-8" else "13"), extra=extra))
            try:
                code, h = p.http_head()
            except (EOFError, ConnectionResetError):
                code, h = 0, {}
            out(status=code, version=h.get("sec-websocket-version", ""))
        elif c == "half-upgrade":
            # The first half of an upgrade request, then silence for --seconds, then FIN.
            p = Peer(a.port)
            req = upgrade_request("127.0.0.1", a.path, a.sig)
            p.send(req[:len(req) // 2])
            time.sleep(a.seconds)
            p.close()
            out(sent=len(req) // 2)
        elif c == "silent":
            # Upgraded, then never a message: who closes, with what, how soon.
            p = ws_open()
            t0 = time.time()
            code, _, _ = p.until_close(a.seconds)
            out(close_code=code, after_s=round(time.time() - t0, 1))
        elif c == "abandon":
            # --n upgraded connections left open for --seconds, then dropped with RST.
            ps = [ws_open() for _ in range(a.n)]
            time.sleep(a.seconds)
            for p in ps:
                p.rst()
            out(opened=len(ps))
        # --- frames before start --------------------------------------------------------------
        elif c in ("unmasked", "reserved-opcode", "rsv-bits", "huge-length", "big-ping",
                   "fragmented-ping", "bad-close-code", "continuation-first", "too-big-fragments"):
            p = ws_open()
            if c == "unmasked":
                p.send(frame(OP_TEXT, b'{"event":"connected"}', mask=False))
            elif c == "reserved-opcode":
                p.send(frame(3, b"x"))
            elif c == "rsv-bits":
                p.send(frame(OP_TEXT, b'{"event":"connected"}', rsv=4))
            elif c == "huge-length":
                # A header claiming 2^62 bytes, then 70 KB of them: over max_message.
                p.send(frame(OP_TEXT, b"x" * 70000, fake_len=1 << 62))
            elif c == "big-ping":
                p.send(frame(OP_PING, b"p" * 126))
            elif c == "fragmented-ping":
                p.send(frame(OP_PING, b"p", fin=False))
            elif c == "bad-close-code":
                p.send(frame(OP_CLOSE, struct.pack("!H", 999)))
            elif c == "continuation-first":
                p.send(frame(OP_CONT, b"orphan"))
            elif c == "too-big-fragments":
                # 100 fragments of 1 KiB: one message over max_message (64 KiB).
                p.send(frame(OP_TEXT, b"[" * 1024, fin=False))
                for _ in range(98):
                    p.send(frame(OP_CONT, b"[" * 1024, fin=False))
                p.send(frame(OP_CONT, b"]" * 1024))
            code, _, _ = p.until_close(5)
            out(close_code=code)
        elif c in ("bad-utf8", "nul-json", "deep-json", "deep-object", "json-garbage"):
            # Bad text messages before start: counted and ignored; the stream stays open
            # (a ping still gets its pong).
            p = ws_open()
            msg = {"bad-utf8": b'{"event":"\xff\xfe\xc3\x28"}',
                   "nul-json": b'{"event":"conn\x00ected"}\x00',
                   "deep-json": b"[" * 60000,
                   "deep-object": b'{"event":"connected","x":' + b'{"a":' * 900 + b"1" + b"}" * 900 + b"}",
                   "json-garbage": os.urandom(2000)}[c]
            p.send(frame(OP_TEXT, msg))
            p.send(frame(OP_PING, b"still there?"))
            code, _, pongs = p.until_close(3, want_pongs=1)
            out(close_code=code, pongs=pongs)
        elif c == "ping-flood":
            # --n pings as fast as the socket takes them, then count the pongs within 10 s.
            p = ws_open()
            blob = b"".join(frame(OP_PING, b"%d" % i) for i in range(a.n))
            p.send(blob)
            code, _, pongs = p.until_close(10, want_pongs=a.n)
            out(close_code=code, pongs=pongs, sent=a.n)
        # --- a started call (signed webhook first: the stream carries what the TwiML gave) ---
        elif c == "stop-reading":
            # Sends media as fast as it can and never reads the echo: the helper's outbound
            # queue for this call fills up; the helper must end this call, not grow.
            a.rcvbuf = a.rcvbuf or 4096
            ws, sid, msid = signed_call(a)
            ws.s.settimeout(0.5)
            end, seq, blocked = time.time() + a.seconds, 2, 0
            while time.time() < end and seq < a.n:
                try:
                    ws.s.sendall(media(msid, seq))
                    seq += 1
                except socket.timeout:
                    blocked += 1   # the helper stopped reading us: also an answer
                    if blocked > 4:
                        break
                except (BrokenPipeError, ConnectionResetError):
                    break
            code, _, _ = ws.until_close(15)
            out(call_sid=sid, sent=seq - 2, close_code=code)
        elif c == "unbound-start":
            # Upgraded with the (replayable) upgrade signature, then a start for a CallSid no
            # signed incoming_call ever named, and no token: must be refused.
            p = ws_open()
            sid, msid = "CA" + os.urandom(16).hex(), "MZ" + os.urandom(16).hex()
            p.send(frame(OP_TEXT, json.dumps({
                "event": "start", "sequenceNumber": "1", "streamSid": msid,
                "start": {"accountSid": "AC" + "0" * 32, "streamSid": msid, "callSid": sid,
                          "tracks": ["inbound"], "customParameters": {},
                          "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}).encode()))
            code, _, _ = p.until_close(5)
            out(call_sid=sid, close_code=code)
        elif c == "rst-mid-message":
            # Started, a few frames, then half a frame and RST.
            ws, sid, msid = signed_call(a)
            for seq in range(2, 12):
                ws.send(media(msid, seq))
            half = media(msid, 12)
            ws.send(half[:len(half) // 2])
            time.sleep(0.2)
            ws.rst()
            out(call_sid=sid)
        elif c == "call-then-close":
            # A good started call, for cases that only need one to exist.
            ws, sid, msid = signed_call(a)
            for seq in range(2, 7):
                ws.send(media(msid, seq))
            ws.send(frame(OP_TEXT, json.dumps({"event": "stop", "sequenceNumber": "7", "streamSid": msid,
                                               "stop": {"accountSid": "AC", "callSid": sid}}).encode()))
            code, texts, _ = ws.until_close(5)
            out(call_sid=sid, close_code=code, texts=len(texts))
        # --- webhooks, raw ----------------------------------------------------------------------
        elif c in ("slow-headers", "slow-body"):
            # A request dribbled one byte every 100 ms for --seconds, then completed.
            p = Peer(a.port, timeout=a.seconds + 20)
            body = b"CallSid=CA" + b"0" * 32 + b"&From=%2B1555"
            req = (b"POST /webhook/call_status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                   b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n" % len(body))
            slow, fast = (req, body) if c == "slow-headers" else (body, b"")
            if c == "slow-body":
                p.send(req)
            steps = int(a.seconds * 10)
            for i in range(min(steps, len(slow) - 1)):
                p.send(slow[i:i + 1])
                time.sleep(0.1)
            p.send(slow[min(steps, len(slow) - 1):] + fast)
            code, _ = p.http_head()
            out(status=code)
        elif c == "short-body":
            # Content-Length 1000, 20 bytes, then our half of the connection shut.
            p = Peer(a.port)
            p.send(b"POST /webhook/call_status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                   b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
                   b"CallSid=CA0000000000")
            p.s.shutdown(socket.SHUT_WR)
            try:
                code, _ = p.http_head()
            except (EOFError, ConnectionResetError):
                code = 0
            out(status=code)
        elif c == "raw":
            # stdin is sent as it is; the answer's status.
            p = Peer(a.port)
            p.send(sys.stdin.buffer.read())
            try:
                code, _ = p.http_head()
            except (EOFError, ConnectionResetError):
                code = 0
            out(status=code)
        else:
            print(f"wsraw.py: unknown case {c}", file=sys.stderr)
            return 64
    except (RuntimeError, OSError, EOFError) as e:
        out(error=str(e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
