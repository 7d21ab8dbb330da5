#!/usr/bin/env python3
# openai_transcribe: a loopback stub of OpenAI's POST /v1/audio/transcriptions for the tests,
# backed by a real recognizer (pocketsphinx_continuous on the uploaded WAV), recording requests.
"""Stub of OpenAI's speech-to-text endpoint, standard library only.

Request (as OpenAI documents it): POST /v1/audio/transcriptions, multipart/form-data with
`file` (the audio file, with a file name), `model` (required), and the optional `language`
(ISO-639-1), `prompt`, `response_format` (json, text, srt, verbose_json, vtt) and
`temperature`; Authorization: Bearer KEY. Response for json: 200 {"text": "..."}; for text:
the text itself. Errors are OpenAI's JSON shape {"error": {"message", "type", "param",
"code"}} with 4xx/5xx.

The transcript comes from `pocketsphinx_continuous -infile` on the upload (converted with sox
to 16 kHz 16-bit mono). With --grammar-from-prompt the prompt's comma-separated phrases
become a JSGF phrase grammar (what callpipe's own engine does with hints); otherwise the
en-us language model is used (poor on telephone audio). --record FILE appends one JSON line
per request with what arrived, for the tests to check field by field.
"""

import argparse
import email.parser
import email.policy
import http.server
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import time

MAX_BODY = 25 * 1024 * 1024          # OpenAI: "File uploads are currently limited to 25 MB"
FORMATS = ("json", "text", "srt", "verbose_json", "vtt")


def wav_info(data):
    """(rate, channels, bits, data bytes) of a RIFF WAVE file, or None."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    off, fmt = 12, None
    while off + 8 <= len(data):
        cid, size = data[off:off + 4], struct.unpack("<I", data[off + 4:off + 8])[0]
        if cid == b"fmt " and size >= 16:
            tag, ch, rate, _, _, bits = struct.unpack("<HHIIHH", data[off + 8:off + 24])
            fmt = (tag, ch, rate, bits)
        elif cid == b"data" and fmt:
            return {"format": fmt[0], "channels": fmt[1], "rate": fmt[2], "bits": fmt[3],
                    "data_bytes": size}
        off += 8 + size + (size & 1)
    return None


def transcribe(audio, prompt, from_prompt):
    with tempfile.TemporaryDirectory() as d:
        src, wav = os.path.join(d, "in.wav"), os.path.join(d, "16k.wav")
        with open(src, "wb") as f:
            f.write(audio)
        subprocess.run(["sox", "-q", src, "-r", "16000", "-b", "16", "-c", "1",
                        "-e", "signed-integer", wav], check=True, timeout=60,
                       capture_output=True)
        cmd = ["pocketsphinx_continuous", "-infile", wav]
        if from_prompt and prompt:
            phrases = [re.sub(r"[^a-z' ]", "", p.lower()).strip() for p in prompt.split(",")]
            phrases = [p for p in phrases if p]
            if phrases:
                g = os.path.join(d, "p.gram")
                with open(g, "w") as f:
                    f.write("#JSGF V1.0;\ngrammar p;\npublic <p> = %s;\n"
                            % " | ".join("( %s )" % p for p in phrases))
                cmd += ["-jsgf", g]
        out = subprocess.run(cmd, capture_output=True, timeout=120, check=True)
        return " ".join(l.strip() for l in out.stdout.decode().splitlines() if l.strip())


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    opts = None

    def log_message(self, fmt, *args):
        if self.opts.verbose:
            sys.stderr.write("stub: " + (fmt % args) + "\n")

    def send_body(self, status, body, ctype):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_error_json(self, status, message, etype="invalid_request_error", param=None,
                        code=None):
        body = json.dumps({"error": {"message": message, "type": etype, "param": param,
                                     "code": code}}).encode()
        self.send_body(status, body, "application/json")

    def record(self, rec):
        if self.opts.record:
            with open(self.opts.record, "a") as f:
                f.write(json.dumps(rec) + "\n")

    def do_POST(self):
        try:
            n = int(self.headers.get("Content-Length", "-1"))
        except ValueError:
            n = -1
        if n < 0 or n > MAX_BODY:
            self.close_connection = True
            self.send_error_json(413, "Request body too large or without Content-Length.")
            return
        body = self.rfile.read(n)
        rec = {"path": self.path, "authorization": self.headers.get("Authorization"),
               "content_type": self.headers.get("Content-Type", ""), "fields": {}}
        ctype = rec["content_type"]
        if ctype.split(";", 1)[0].strip().lower() == "multipart/form-data":
            msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                data = part.get_payload(decode=True) or b""
                if part.get_filename() is not None:
                    rec["fields"][name] = {"filename": part.get_filename(),
                                           "content_type": part.get_content_type(),
                                           "size": len(data), "wav": wav_info(data)}
                    rec.setdefault("files", {})[name] = data
                else:
                    rec["fields"][name] = data.decode("utf-8", "replace")
        files = rec.pop("files", {})
        self.record(rec)
        if self.opts.delay_ms:
            time.sleep(self.opts.delay_ms / 1000.0)
        if self.path.split("?", 1)[0] != "/v1/audio/transcriptions":
            self.send_error_json(404, "Invalid URL (POST %s)" % self.path[:200])
            return
        if self.opts.key is not None:
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or not auth[7:].strip():
                self.send_error_json(401, "You didn't provide an API key. You need to provide "
                                     "your API key in an Authorization header using Bearer "
                                     "auth (i.e. Authorization: Bearer YOUR_KEY).")
                return
            if auth[7:].strip() != self.opts.key:
                self.send_error_json(401, "Incorrect API key provided.", code="invalid_api_key")
                return
        if self.opts.fail_status:
            self.send_error_json(self.opts.fail_status,
                                 "The stub was told to fail with %d." % self.opts.fail_status,
                                 etype="server_error" if self.opts.fail_status >= 500
                                 else "invalid_request_error")
            return
        if not ctype.lower().startswith("multipart/form-data"):
            self.send_error_json(400, "Content-Type must be multipart/form-data.")
            return
        f = rec["fields"]
        for name in ("file", "model"):
            if name not in f:
                self.send_error_json(400, "Missing required parameter: '%s'." % name,
                                     param=name, code="missing_required_parameter")
                return
        if not isinstance(f["file"], dict):
            self.send_error_json(400, "'file' must be a file upload.", param="file")
            return
        fmt = f.get("response_format", "json")
        if fmt not in FORMATS:
            self.send_error_json(400, "Invalid value for 'response_format': '%s'." % fmt[:50],
                                 param="response_format", code="invalid_value")
            return
        if "language" in f and not re.fullmatch(r"[a-z]{2}", f["language"]):
            self.send_error_json(400, "Invalid language '%s': ISO-639-1 expected."
                                 % f["language"][:20], param="language", code="invalid_value")
            return
        if f["file"]["wav"] is None:
            self.send_error_json(400, "Invalid file format. Supported formats: ['flac', 'm4a', "
                                 "'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']")
            return
        if self.opts.bad_json:
            self.send_body(200, b"<html>not json</html>", "application/json")
            return
        if self.opts.no_text:
            self.send_body(200, b'{"task": "transcribe"}', "application/json")
            return
        try:
            text = transcribe(files["file"], f.get("prompt", ""), self.opts.grammar_from_prompt)
        except (subprocess.SubprocessError, OSError) as e:
            self.send_error_json(500, "Recognition failed: %s" % str(e)[:200],
                                 etype="server_error")
            return
        if fmt == "text":
            self.send_body(200, (text + "\n").encode(), "text/plain; charset=utf-8")
        else:
            self.send_body(200, json.dumps({"text": text}).encode(), "application/json")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--port", type=int, default=0, help="0: pick a free port")
    ap.add_argument("--key", help="require Authorization: Bearer KEY")
    ap.add_argument("--fail-status", type=int, default=0, help="always answer this status")
    ap.add_argument("--delay-ms", type=int, default=0, help="pause before answering")
    ap.add_argument("--bad-json", action="store_true", help="answer 200 with a non-JSON body")
    ap.add_argument("--no-text", action="store_true", help="answer 200 JSON without \"text\"")
    ap.add_argument("--grammar-from-prompt", action="store_true",
                    help="recognize with the prompt's phrases as a grammar")
    ap.add_argument("--record", metavar="FILE", help="append each request's fields to FILE")
    ap.add_argument("--verbose", action="store_true")
    opts = ap.parse_args()
    srv = Server(("127.0.0.1", opts.port), type("H", (Handler,), {"opts": opts}))
    print("listening on %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
