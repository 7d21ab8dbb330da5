#!/usr/bin/env python3
# wsraw: a raw-socket WebSocket client for the abuse tests (ws_edges.sh, memory_bound.sh):
# handshakes and frames no well-behaved client would send, a reader that stops reading.
import argparse
import base64
import json
import os
import socket
import struct
import sys
import time
import urllib.request

SID_MZ = "MZ" + "0" * 32


def connect(port, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return s


def upgrade(port, sig=None, key="dGhlIHNhbXBsZSBub25jZQ==", version="13", extra=(),
            path="/ws/twilio-media", timeout=10):
    """Send an upgrade; return (status or None when the connection was dropped, head, sock)."""
    s = connect(port, timeout)
    lines = ["GET %s HTTP/1.1" % path, "Host: 127.0.0.1:%d" % port, "Upgrade: websocket",
             "Connection: Upgrade"]
    if key is not None:
        lines.append("Sec-WebSocket-Key: " + key)
    if version is not None:
        lines.append("Sec-WebSocket-Version: " + version)
    if sig is not None:
        lines.append("X-Twilio-Signature: " + sig)
    lines.extend(extra)
    s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = b""
    try:
        while b"\r\n\r\n" not in head:
            d = s.recv(65536)
            if not d:
                break
            head += d
    except (ConnectionResetError, socket.timeout):
        pass
    if not head.startswith(b"HTTP/1."):
        return None, head, s
    end = head.find(b"\r\n\r\n")
    rest = head[end + 4:] if end >= 0 else b""
    return int(head.split(b" ")[1]), head, (s, rest)


def frame(opcode, payload, mask=True, fin=True, rsv=0):
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload)
    if n < 126:
        hdr = struct.pack("!BB", b0, (0x80 if mask else 0) | n)
    elif n < 65536:
        hdr = struct.pack("!BBH", b0, (0x80 if mask else 0) | 126, n)
    else:
        hdr = struct.pack("!BBQ", b0, (0x80 if mask else 0) | 127, n)
    if not mask:
        return hdr + payload
    k = os.urandom(4)
    return hdr + k + bytes(c ^ k[i & 3] for i, c in enumerate(payload))


class Reader:
    def __init__(self, sock, rest=b""):
        self.s, self.buf = sock, rest

    def need(self, n, deadline):
        while len(self.buf) < n:
            self.s.settimeout(max(0.01, deadline - time.time()))
            d = self.s.recv(65536)
            if not d:
                raise EOFError
            self.buf += d
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def next(self, deadline):
        b0, b1 = self.need(2, deadline)
        n = b1 & 0x7f
        if n == 126:
            n = struct.unpack("!H", self.need(2, deadline))[0]
        elif n == 127:
            n = struct.unpack("!Q", self.need(8, deadline))[0]
        return b0 & 0x0f, self.need(n, deadline)


def text(obj):
    return frame(1, json.dumps(obj).encode())


def start_msg(call_sid, token=None):
    """A start for CALL_SID (AccountSid AC1), carrying TOKEN as customParameters.callpipe_token
    when given (the stream binding: make it with `callpipe-sim stream-token --account-sid AC1`)."""
    params = {"callpipe_token": token} if token else {}
    return {"event": "start", "sequenceNumber": "1", "streamSid": SID_MZ,
            "start": {"accountSid": "AC1", "streamSid": SID_MZ, "callSid": call_sid,
                      "tracks": ["inbound"], "customParameters": params,
                      "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000,
                                      "channels": 1}}}


def media_msg(seq):
    return {"event": "media", "sequenceNumber": str(seq), "streamSid": SID_MZ,
            "media": {"track": "inbound", "chunk": str(seq), "timestamp": "0",
                      "payload": base64.b64encode(bytes([seq & 0xff]) * 160).decode()}}


def wait_close(rd, seconds):
    """The close code the server sent (0 when it had none), or 'eof' / 'timeout'."""
    deadline = time.time() + seconds
    try:
        while True:
            op, p = rd.next(deadline)
            if op == 8:
                return str(struct.unpack("!H", p[:2])[0]) if len(p) >= 2 else "0"
    except EOFError:
        return "eof"
    except (socket.timeout, TimeoutError):
        return "timeout"
    except ConnectionResetError:
        return "reset"


BAD = {
    # lws 4.1.6 does not check the mask bit: the frame is taken, then a normal close
    "unmasked": lambda: frame(1, b'{"event":"connected"}', mask=False)
    + frame(8, struct.pack("!H", 1000)),
    "rsv": lambda: frame(1, b'{"event":"connected"}', rsv=4),
    "opcode": lambda: frame(3, b"x"),
    "continuation": lambda: frame(0, b"x"),
    "close999": lambda: frame(8, struct.pack("!H", 999)),
    "close1005": lambda: frame(8, struct.pack("!H", 1005)),
    "close5000": lambda: frame(8, struct.pack("!H", 5000)),
    "close1000": lambda: frame(8, struct.pack("!H", 1000) + b"bye"),
    # a DTMF digit no keypad has, then a normal close
    "dtmf": lambda: text({"event": "dtmf", "sequenceNumber": "2", "streamSid": SID_MZ,
                          "dtmf": {"track": "inbound_track", "digit": "X\u202e"}})
    + frame(8, struct.pack("!H", 1000)),
}


def cmd_upgrade(a):
    extra = list(a.header or [])
    st, head, _ = upgrade(a.port, a.sig, None if a.no_key else a.key, a.version, extra)
    out = str(st) if st is not None else "dropped"
    if a.show:   # the value of that response header, after the status
        for line in head.split(b"\r\n\r\n")[0].split(b"\r\n")[1:]:
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == a.show.lower():
                out += " " + value.strip()
    print(out)


def cmd_frame(a):
    st, head, conn = upgrade(a.port, a.sig)
    if st != 101:
        print("handshake %s" % st)
        return
    s, rest = conn
    s.sendall(text({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
    s.sendall(text(start_msg(a.call_sid, a.stream_token)))
    s.sendall(BAD[a.kind]())
    print(wait_close(Reader(s, rest), 10))


def metric(port, name):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return int(line.split()[1])
    return -1


def cmd_stall(a):
    """Send media fast, never read: until the helper holds at least --until bytes (its
    /metrics), then pause and say so; after a line on stdin, send again until the helper
    counts a memory close (or the connection breaks)."""
    st, head, conn = upgrade(a.port, a.sig)
    if st != 101:
        print(json.dumps({"phase": "held", "handshake": st}), flush=True)
        return
    s, _ = conn
    # (no SO_RCVBUF shrinking: set after connect it makes the kernel drop segments, and TCP's
    # retransmit backoff then stalls both directions for seconds)
    s.sendall(text({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
    s.sendall(text(start_msg(a.call_sid, a.stream_token)))
    state = {"seq": 2, "peak": 0, "broken": False, "blocked": False}
    deadline = time.time() + 60

    def burst_until(cond):
        try:
            while time.time() < deadline:
                for _ in range(a.burst):
                    s.sendall(text(media_msg(state["seq"])))
                    state["seq"] += 1
                held = metric(a.metrics_port, "callpipe_ws_memory_bytes")
                state["peak"] = max(state["peak"], held)
                if cond(held):
                    return True
        except (BrokenPipeError, ConnectionResetError):
            state["broken"] = True
        except (socket.timeout, TimeoutError):
            state["blocked"] = True   # the other end stopped reading from us
        return False

    ok = burst_until(lambda held: held >= a.until)
    print(json.dumps({"phase": "held", "reached": ok, "bytes": state["peak"],
                      "sent": state["seq"] - 2, "broken": state["broken"],
                      "blocked": state["blocked"]}), flush=True)
    sys.stdin.readline()
    closed = burst_until(lambda held: metric(
        a.metrics_port, 'callpipe_ws_protocol_errors_total{kind="memory"}') > 0)
    print(json.dumps({"phase": "done", "peak": state["peak"], "closed": closed,
                      "broken": state["broken"], "blocked": state["blocked"],
                      "sent": state["seq"] - 2}), flush=True)
    sys.stdin.readline()   # keep the socket until told (the helper's close is checked)


def cmd_idle(a):
    """N upgrades that send 'connected' every 2 s and never start: the close codes."""
    socks = []
    for _ in range(a.count):
        st, head, conn = upgrade(a.port, a.sig)
        if st != 101:
            print("handshake %s" % st)
            return
        socks.append(Reader(conn[0], conn[1]))
    print("up", flush=True)
    codes = {}
    deadline = time.time() + a.seconds
    pending = list(socks)
    while pending and time.time() < deadline:
        for rd in list(pending):
            try:
                rd.s.sendall(text({"event": "connected", "protocol": "Call",
                                   "version": "1.0.0"}))
            except OSError:
                pass
            c = wait_close(rd, 0.05)
            if c != "timeout":
                codes[c] = codes.get(c, 0) + 1
                pending.remove(rd)
        time.sleep(2 if pending else 0)
    print(json.dumps(codes, sort_keys=True))


def cmd_flood(a):
    """N TCP connections that send nothing, held for --seconds."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, a.count + 256) if hard != resource.RLIM_INFINITY else a.count + 256
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    socks = []
    for _ in range(a.count):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", a.port))
        except BlockingIOError:
            pass
        socks.append(s)
    print("up", flush=True)
    time.sleep(a.seconds)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    u = sub.add_parser("upgrade")
    u.add_argument("--port", type=int, required=True)
    u.add_argument("--sig")
    u.add_argument("--key", default="dGhlIHNhbXBsZSBub25jZQ==")
    u.add_argument("--no-key", action="store_true")
    u.add_argument("--version", default="13")
    u.add_argument("--header", action="append")
    u.add_argument("--show")
    f = sub.add_parser("frame")
    f.add_argument("--port", type=int, required=True)
    f.add_argument("--sig")
    f.add_argument("--call-sid", required=True)
    f.add_argument("--stream-token")
    f.add_argument("--kind", choices=sorted(BAD), required=True)
    st = sub.add_parser("stall")
    st.add_argument("--port", type=int, required=True)
    st.add_argument("--metrics-port", type=int, required=True)
    st.add_argument("--sig")
    st.add_argument("--call-sid", required=True)
    st.add_argument("--stream-token")
    st.add_argument("--burst", type=int, default=20)
    st.add_argument("--until", type=int, required=True)
    i = sub.add_parser("idle")
    i.add_argument("--port", type=int, required=True)
    i.add_argument("--sig")
    i.add_argument("--count", type=int, default=20)
    i.add_argument("--seconds", type=float, default=20)
    fl = sub.add_parser("flood")
    fl.add_argument("--port", type=int, required=True)
    fl.add_argument("--count", type=int, default=300)
    fl.add_argument("--seconds", type=float, default=15)
    a = p.parse_args()
    {"upgrade": cmd_upgrade, "frame": cmd_frame, "stall": cmd_stall, "idle": cmd_idle,
     "flood": cmd_flood}[a.cmd](a)


if __name__ == "__main__":
    main()
