#!/usr/bin/env python3
# openai_speech: a loopback stub of OpenAI's POST /v1/audio/speech for the tests (real speech
# from espeak-ng + sox, streamed chunked), plus a --static DIR mode serving files for <Play>.
"""Stub of OpenAI's text-to-speech endpoint, standard library only.

Request (as OpenAI documents it): POST /v1/audio/speech, Content-Type: application/json,
body {model, input, voice, [response_format], [speed]}, Authorization: Bearer KEY.
Response: the raw audio; for response_format=pcm 24 kHz 16-bit signed little-endian mono
without a header, sent with Transfer-Encoding: chunked in ~100 ms pieces. Errors are
OpenAI's JSON shape {"error": {"message", "type", "param", "code"}} with 4xx/5xx.

OpenAI's OpenAPI spec declares the speech response as application/octet-stream and does
not document a specific type for pcm, so that is what this stub sends for pcm.
"""

import argparse
import functools
import http.server
import json
import os
import subprocess
import sys
import time

FORMATS = {  # response_format -> (Content-Type, sox output arguments or None)
    "mp3": ("audio/mpeg", ["-t", "mp3"]),
    "opus": ("audio/ogg", ["-t", "opus"]),
    "aac": ("audio/aac", None),
    "flac": ("audio/flac", ["-t", "flac"]),
    "wav": ("audio/wav", ["-t", "wav", "-r", "24000", "-e", "signed-integer", "-b", "16", "-c", "1"]),
    "pcm": ("application/octet-stream",
            ["-t", "raw", "-r", "24000", "-e", "signed-integer", "-b", "16", "-c", "1", "-L"]),
}
MAX_BODY = 1 << 20          # a request body larger than this is refused (413)
MAX_INPUT_CHARS = 4096      # OpenAI: "The maximum length is 4096 characters."
CHUNK = 4800                # 100 ms of 24 kHz s16le


def synthesize(text, speed, sox_out):
    """espeak-ng's WAV on stdout, converted by sox to the requested format."""
    rate = max(80, min(450, int(175 * speed)))   # espeak-ng's default is 175 words/minute
    tts = subprocess.run(["espeak-ng", "--stdout", "-s", str(rate), "--stdin"],
                         input=text.encode("utf-8"), capture_output=True, timeout=60, check=True)
    conv = subprocess.run(["sox", "-t", "wav", "-", *sox_out, "-"], input=tts.stdout,
                          capture_output=True, timeout=60, check=True)
    return conv.stdout


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"    # keep-alive and chunked transfer
    opts = None

    def log_message(self, fmt, *args):
        if self.opts.verbose:
            sys.stderr.write("stub: " + (fmt % args) + "\n")

    def send_error_json(self, status, message, etype="invalid_request_error", param=None,
                        code=None):
        body = json.dumps({"error": {"message": message, "type": etype, "param": param,
                                     "code": code}}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        try:
            n = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            n = -1
        if n < 0 or n > MAX_BODY or "chunked" in self.headers.get("Transfer-Encoding", ""):
            self.close_connection = True
            return None
        return self.rfile.read(n)

    def do_GET(self):
        self.send_error_json(405, "Method GET not allowed; use POST /v1/audio/speech.")

    def do_POST(self):
        body = self.read_body()
        if body is None:
            self.send_error_json(413, "Request body too large or without Content-Length.")
            return
        if self.opts.delay_ms:
            time.sleep(self.opts.delay_ms / 1000.0)
        if self.path.split("?", 1)[0] != "/v1/audio/speech":
            self.send_error_json(404, "Invalid URL (POST %s)" % self.path[:200])
            return
        if self.opts.fail_status:
            self.send_error_json(self.opts.fail_status,
                                 "The stub was told to fail with %d." % self.opts.fail_status,
                                 etype="server_error" if self.opts.fail_status >= 500
                                 else "invalid_request_error")
            return
        if self.opts.key is not None:
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or not auth[7:].strip():
                self.send_error_json(401, "You didn't provide an API key. You need to provide "
                                     "your API key in an Authorization header using Bearer "
                                     "auth (i.e. Authorization: Bearer YOUR_KEY).")
                return
            if auth[7:].strip() != self.opts.key:
                shown = auth[7:].strip()
                shown = shown[:3] + "*" * 8 + shown[-4:] if len(shown) > 8 else "*" * len(shown)
                self.send_error_json(401, "Incorrect API key provided: %s." % shown,
                                     code="invalid_api_key")
                return
        ctype = self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        if ctype != "application/json":
            self.send_error_json(400, "Content-Type must be application/json, not '%s'."
                                 % ctype[:100])
            return
        try:
            req = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            self.send_error_json(400, "We could not parse the JSON body of your request. (%s)"
                                 % str(e)[:100])
            return
        if not isinstance(req, dict):
            self.send_error_json(400, "The request body must be a JSON object.")
            return
        for field in ("model", "input", "voice"):
            if field not in req:
                self.send_error_json(400, "Missing required parameter: '%s'." % field,
                                     param=field, code="missing_required_parameter")
                return
            if not isinstance(req[field], str) or not req[field]:
                self.send_error_json(400, "Invalid type for '%s': expected a non-empty string."
                                     % field, param=field, code="invalid_type")
                return
        if len(req["input"]) > MAX_INPUT_CHARS:
            self.send_error_json(400, "'input' is longer than %d characters." % MAX_INPUT_CHARS,
                                 param="input", code="string_above_max_length")
            return
        fmt = req.get("response_format", "mp3")
        if fmt not in FORMATS:
            self.send_error_json(400, "Invalid value: '%s'. Supported values are: 'mp3', "
                                 "'opus', 'aac', 'flac', 'wav', and 'pcm'." % str(fmt)[:50],
                                 param="response_format", code="invalid_value")
            return
        speed = req.get("speed", 1.0)
        if isinstance(speed, bool) or not isinstance(speed, (int, float)) \
                or not 0.25 <= speed <= 4.0:
            self.send_error_json(400, "Invalid 'speed': expected a number from 0.25 to 4.0.",
                                 param="speed", code="invalid_value")
            return
        content_type, sox_out = FORMATS[fmt]
        if self.opts.content_type:
            content_type = self.opts.content_type
        if sox_out is None:
            self.send_error_json(500, "This stub cannot encode %s." % fmt, etype="server_error")
            return
        try:
            audio = synthesize(req["input"], float(speed), sox_out)
        except (subprocess.SubprocessError, OSError) as e:
            self.send_error_json(500, "Synthesis failed: %s" % str(e)[:200], etype="server_error")
            return
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        delay = self.opts.chunk_delay_ms / 1000.0
        try:
            for off in range(0, len(audio), CHUNK):
                piece = audio[off:off + CHUNK]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
                if delay and off + CHUNK < len(audio):
                    time.sleep(delay)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True    # the client stopped reading: normal for a stop


class StaticHandler(http.server.SimpleHTTPRequestHandler):
    """GET/HEAD of the files under DIR, HTTP/1.1; /redirect/N/PATH answers 302 to
    /redirect/N-1/PATH (to /PATH at 0), for the redirect limit."""
    protocol_version = "HTTP/1.1"
    opts = None

    def log_message(self, fmt, *args):
        if self.opts.verbose:
            sys.stderr.write("stub: " + (fmt % args) + "\n")

    def do_GET(self):
        parts = self.path.split("/", 3)
        if len(parts) == 4 and parts[1] == "redirect" and parts[2].isdigit():
            n = int(parts[2])
            where = "/" + parts[3] if n == 0 else "/redirect/%d/%s" % (n - 1, parts[3])
            self.send_response(302)
            self.send_header("Location", where)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)   # a client hanging up is normal


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--port", type=int, default=0, help="0: pick a free port")
    ap.add_argument("--key", help="require Authorization: Bearer KEY")
    ap.add_argument("--fail-status", type=int, default=0, help="always answer this status")
    ap.add_argument("--chunk-delay-ms", type=int, default=0, help="pause between 100 ms chunks")
    ap.add_argument("--delay-ms", type=int, default=0, help="pause before answering")
    ap.add_argument("--content-type", help="send this Content-Type with the audio instead")
    ap.add_argument("--static", metavar="DIR", help="serve the files of DIR instead (GET)")
    ap.add_argument("--verbose", action="store_true")
    opts = ap.parse_args()

    if opts.static:
        handler = functools.partial(type("H", (StaticHandler,), {"opts": opts}),
                                    directory=opts.static)
    else:
        handler = type("H", (Handler,), {"opts": opts})
    srv = Server(("127.0.0.1", opts.port), handler)
    print("listening on %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
