"""An HTTP upstream served by uvicorn (an ASGI server the gateway's authors did not write, with the
`websockets` library doing its WebSocket handshake and framing), for the relay tests:

- `GET /events?count=N&gap_ms=M`: N server-sent events, M ms apart, each flushed as it is written.
- WebSocket `/ws`: every text message comes back as `<name>:<message>`; the message `bye` makes the
  server close with code 1000.
- anything else: a JSON echo of what arrived (name, method, path, query, headers).

Usage: asgi_upstream.py --name a --port 0   (prints `LISTENING <port>` once it accepts; exits when
stdin closes)
"""

import argparse
import asyncio
import json
import socket
import sys
import threading
import urllib.parse

import uvicorn


def app_for(name):
    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] == "websocket":
            await websocket(scope, receive, send)
            return
        query = urllib.parse.parse_qs(scope["query_string"].decode())
        if scope["path"] == "/events":
            await events(send, int(query.get("count", ["3"])[0]), int(query.get("gap_ms", ["100"])[0]))
            return
        while (await receive()).get("more_body"):
            pass
        body = json.dumps({
            "name": name,
            "method": scope["method"],
            "path": scope["path"],
            "query": scope["query_string"].decode(),
            "headers": {k.decode(): v.decode() for k, v in scope["headers"]},
        }).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    async def events(send, count, gap_ms):
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]})
        for i in range(count):
            if i:
                await asyncio.sleep(gap_ms / 1000)
            chunk = f"id: {i}\ndata: {{\"tick\": {i}, \"name\": \"{name}\"}}\n\n".encode()
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def websocket(scope, receive, send):
        if scope["path"] != "/ws":
            await send({"type": "websocket.close", "code": 1008})
            return
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text == "bye":
                await send({"type": "websocket.close", "code": 1000})
                return
            if text is not None:
                await send({"type": "websocket.send", "text": f"{name}:{text}"})
            else:
                await send({"type": "websocket.send", "bytes": message.get("bytes") or b""})

    return app


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", default="upstream")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(128)
    config = uvicorn.Config(app_for(args.name), log_level="warning", ws="websockets-sansio", lifespan="on")
    server = uvicorn.Server(config)

    def watch_stdin():
        sys.stdin.read()
        server.should_exit = True

    threading.Thread(target=watch_stdin, daemon=True).start()
    print(f"LISTENING {sock.getsockname()[1]}", flush=True)
    server.run(sockets=[sock])


if __name__ == "__main__":
    main()
