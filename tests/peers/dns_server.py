"""A DNS server for the discovery tests, on `dnslib` (a DNS implementation the gateway's authors did
not write). It answers A queries from a JSON zone file, read again on every query so a test can change
the answers: `{"users.test.": ["127.0.0.2", "127.0.0.3"]}`; a name not in the file is NXDOMAIN; other
query types get an empty answer. Every record's TTL is `--ttl` seconds.

Usage: dns_server.py --zone zone.json --ttl 1 --port 0   (UDP; prints `LISTENING <port>`, exits when
stdin closes)
"""

import argparse
import json
import sys

from dnslib import QTYPE, RCODE, RR, A
from dnslib.server import BaseResolver, DNSLogger, DNSServer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--zone", required=True)
    parser.add_argument("--ttl", type=int, default=1)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    class ZoneFile(BaseResolver):
        def resolve(self, request, handler):
            reply = request.reply()
            name = str(request.q.qname).lower()
            try:
                with open(args.zone) as f:
                    zone = json.load(f)
            except (OSError, ValueError):
                reply.header.rcode = RCODE.SERVFAIL
                return reply
            addresses = zone.get(name)
            if addresses is None:
                reply.header.rcode = RCODE.NXDOMAIN
                return reply
            if request.q.qtype == QTYPE.A:
                for address in addresses:
                    reply.add_answer(RR(name, QTYPE.A, rdata=A(address), ttl=args.ttl))
            return reply

    quiet = DNSLogger(log="-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False)
    server = DNSServer(ZoneFile(), address="127.0.0.1", port=args.port, logger=quiet)
    server.start_thread()
    print(f"LISTENING {server.server.server_address[1]}", flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    main()
