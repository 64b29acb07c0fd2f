"""An HTTP upstream for the relay tests, on the standard library's threading HTTP server (a real
server the gateway's authors did not write). Every answer says which instance served it and what
arrived: method, path with query, headers, and how many body bytes (counted while streaming, never
held whole). `/status/NNN` answers with that status; `/health` with 200; `/mirror...` answers with the
request's body and content type, as received.

Usage: http_upstream.py --name a [--host 127.0.0.2] --port 0   (prints `LISTENING <port>` once it accepts)
"""

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", default="upstream")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1", help="the address to bind (any of 127.0.0.0/8)")
    parser.add_argument("--fail-status", type=int, default=0,
                        help="answer every request but /health with this status (a failing instance)")
    args = parser.parse_args()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def handle_any(self):
            received = 0
            mirror = self.path.startswith("/mirror")
            kept = []
            length = self.headers.get("Content-Length")
            if length is not None:
                left = int(length)
                while left > 0:
                    chunk = self.rfile.read(min(left, 1 << 16))
                    if not chunk:
                        break
                    if mirror:
                        kept.append(chunk)
                    received += len(chunk)
                    left -= len(chunk)
            elif self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                while True:
                    size = int(self.rfile.readline().strip().split(b";")[0], 16)
                    if size == 0:
                        self.rfile.readline()
                        break
                    left = size
                    while left > 0:
                        chunk = self.rfile.read(min(left, 1 << 16))
                        if mirror:
                            kept.append(chunk)
                        received += len(chunk)
                        left -= len(chunk)
                    self.rfile.readline()
            status = 200
            if args.fail_status and not self.path.startswith("/health"):
                status = args.fail_status
            elif self.path.startswith("/status/"):
                status = int(self.path.split("/")[2].split("?")[0])
            body = json.dumps({
                "name": args.name,
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "forwarded_for": self.headers.get_all("X-Forwarded-For") or [],
                "body_bytes": received,
            }).encode()
            content_type = "application/json"
            if mirror:
                body = b"".join(kept)
                content_type = self.headers.get("Content-Type", "application/octet-stream")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("X-Received-Length", str(received))
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Served-By", args.name)
            self.send_header("Connection", "keep-alive, x-upstream-hop")
            self.send_header("X-Upstream-Hop", "must not reach the client")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any

    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    print(f"LISTENING {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
