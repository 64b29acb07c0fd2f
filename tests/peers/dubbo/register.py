"""Writes (or removes) a Dubbo provider URL in ZooKeeper the way Java Dubbo 2.7's ZookeeperRegistry does:
a node named by the URL-encoded provider URL under /dubbo/<interface>/providers.

Usage:
  register.py --zk 127.0.0.1:2181 --port 20880 [--host 127.0.0.1] [--interface I] [--version V] [--group G]
              [--methods a,b] [--param key=value ...] [--ephemeral] [--delete]

Prints the node path it wrote. The node is persistent unless --ephemeral is given; then the script keeps its
session open until stdin closes or it gets SIGTERM, as a live provider would. Needs kazoo (requirements.txt
beside this file).
"""

import argparse
import os
import signal
import sys
import threading
import time
import urllib.parse

from kazoo.client import KazooClient

INTERFACE = "org.apache.dubbo.demo.UserService"
VERSION = "1.0.0"
METHODS = "createUser,echoBytes,echoDate,echoDecimal,echoMap,getUser,greet,nullResult,ping,slow,sum"


def provider_url(args):
    params = {
        "anyhost": "false",
        "application": "gateway-test-provider",
        "deprecated": "false",
        "dubbo": "2.0.2",
        "dynamic": "true",
        "generic": "false",
        "interface": args.interface,
        "methods": args.methods,
        "pid": str(os.getpid()),
        "release": "2.7.23",
        "revision": args.version,
        "serialization": "hessian2",
        "side": "provider",
        "timestamp": str(int(time.time() * 1000)),
        "version": args.version,
    }
    if args.group:
        params["group"] = args.group
    for extra in args.param:
        key, _, value = extra.partition("=")
        params[key] = value
    query = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    return f"{args.protocol}://{args.host}:{args.port}/{args.interface}?{query}"


def java_url_encode(text):
    """java.net.URLEncoder.encode(text, "UTF-8"), which Dubbo's URL.encode uses: space -> '+', '*' kept."""
    return urllib.parse.quote_plus(text, safe="*")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zk", required=True, help="ZooKeeper host:port")
    parser.add_argument("--port", type=int, required=True, help="the provider's port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--interface", default=INTERFACE)
    parser.add_argument("--version", default=VERSION)
    parser.add_argument("--group", default="")
    parser.add_argument("--protocol", default="dubbo")
    parser.add_argument("--methods", default=METHODS)
    parser.add_argument("--root", default="/dubbo")
    parser.add_argument("--param", action="append", default=[], help="extra URL parameter key=value")
    parser.add_argument("--ephemeral", action="store_true")
    parser.add_argument("--delete", action="store_true", help="remove every provider node of this host:port")
    args = parser.parse_args()

    zk = KazooClient(hosts=args.zk, timeout=10)
    zk.start(timeout=15)
    providers = f"{args.root}/{args.interface}/providers"
    try:
        zk.ensure_path(providers)
        prefix = java_url_encode(f"{args.protocol}://{args.host}:{args.port}/")
        if args.delete:
            for child in zk.get_children(providers):
                if child.startswith(prefix):
                    zk.delete(f"{providers}/{child}")
                    print(f"deleted {providers}/{child}", flush=True)
            return
        path = f"{providers}/{java_url_encode(provider_url(args))}"
        zk.create(path, b"", ephemeral=args.ephemeral)
        print(path, flush=True)
        if args.ephemeral:
            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
            while not stop.wait(0.5):
                pass
    finally:
        zk.stop()
        zk.close()


if __name__ == "__main__":
    main()
