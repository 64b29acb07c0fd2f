#!/usr/bin/env python3
"""Benchmark: what each policy adds to HTTP/JSON -> gRPC unary, the chain measured, not an empty path.
One gateway per variant on the same 1,000-API config, the bench API behind:

    none           no policy (the reference, measured in the same run)
    api_key        an API key in x-api-key
    jwt            an HS256 bearer token (inline secret)
    signature      the partner scheme, every request signed afresh, nonces recorded in Redis (127.0.0.1:6379)
    limit_exact    api_key + a per-consumer minute limit counted in Redis per request + a circuit breaker
    limit_batched  the same limit in batched mode (a Redis call per 100 requests) + the breaker
    resilience     request rules, a bulkhead, a timeout, retries and a fallback (no Redis)
(the limit variants' reference is api_key: a per-consumer limit needs the consumer)

Layout as ../shared/docs/benchmarks.md describes: gateway (--workers 1) and the tonic backend on CPU0,
the load generator on CPU1 (`http-load`, the project's own: a signature needs a fresh timestamp and nonce
per request, which no stock tool here makes). Per variant and run: gateway CPU per request over a
saturation run (64 connections), and p50/p99 at a fixed 2,000 req/s over 16 connections. The variants
are interleaved within each run, so a slow minute on this shared host hits all of them.
Usage: python3 bench/policies.py [--runs 3] [--seconds 8] [--no-build]
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import tempfile
import time

from measure import CLK_TCK, ROOT, TARGET, busy_fraction, cpu_ticks, free_port, wait_ready

API_KEY = "bench-api-key-0123456789abcdef"
SECRET = "bench-shared-secret-0123456789"
JWT_SECRET = "bench-jwt-secret-0123456789abcdef"
VARIANTS = ["none", "api_key", "jwt", "signature", "limit_exact", "limit_batched", "resilience"]
# High enough never to refuse a bench request; a fresh name per process, so runs never share a count.
LIMIT = "{ name: bench-%d, limit: 1000000000, every: 1m, per: [consumer] }" % os.getpid()
BREAKER = "{ kind: circuit_breaker, failures: [unavailable, timeout] }"
POLICIES = {
    "none": "[]",
    "api_key": "[{ kind: api_key }]",
    "jwt": "[{ kind: jwt, keys: [{ alg: HS256, secret: '%s' }] }]" % JWT_SECRET,
    # A generous window: a run signs its requests as it sends them, but the host's clock is the same.
    "signature": "[{ kind: signature, signed_headers: [content-type], clock_skew: 5m }]",
    "limit_exact": "[{ kind: api_key }, { kind: rate_limit, limits: [%s] }, %s]" % (LIMIT, BREAKER),
    "limit_batched": "[{ kind: api_key }, { kind: rate_limit, mode: batched, batch: 100, limits: [%s] }, %s]" % (LIMIT, BREAKER),
    "resilience": "[{ kind: request_rules, deny_user_agents: ['*sqlmap*'] }, { kind: concurrency, max_in_flight: 256 },"
    " { kind: timeout, limit: 5s }, { kind: retry, attempts: 2 }, { kind: fallback, on: [circuit_open, unavailable] }]",
}
REFERENCE = {"limit_exact": "api_key", "limit_batched": "api_key"}


def write_config(path, backend_port, apis, variant):
    key_hash = hashlib.sha256(API_KEY.encode()).hexdigest()
    lines = [
        "backends:",
        f'  - {{ name: bench, protocol: grpc, endpoints: ["127.0.0.1:{backend_port}"] }}',
        "schemas:",
        "  - name: demo",
        "    proto:",
        "      files: [demo/echo/v1/echo.proto]",
        f'      import_paths: ["{os.path.join(ROOT, "demo", "proto")}"]',
        "consumers:",
        "  - name: bench-partner",
        "    grants: [bench]",
        "    credentials:",
        f'      - {{ kind: api_key, id: k, sha256: "{key_hash}" }}',
        f'      - {{ kind: hmac, id: s, secret: "{SECRET}" }}',
        "apis:",
        "  - name: bench",
        "    backend: bench",
        "    grpc: { service: demo.echo.v1.Echo, method: Echo }",
        '    http: { post: /v1/bench, body: "*" }',
        f"    policies: {POLICIES[variant]}",
    ]
    for i in range(apis - 1):
        lines += [
            f"  - name: filler-{i}",
            "    backend: bench",
            "    grpc: { service: demo.echo.v1.Echo, method: Echo }",
            f'    http: {{ post: "/v1/filler/{i}/{{message}}", body: "*" }}',
        ]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def jwt_token():
    b64 = lambda data: base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = b64(json.dumps({"sub": "bench-partner", "exp": int(time.time()) + 86400}).encode())
    mac = hmac.new(JWT_SECRET.encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}.{b64(mac)}"


def load_args(variant):
    """The http-load flags that make a request of this variant."""
    args = ["--body", '{"message":"hello","number":"42"}', "--header", "content-type: application/json"]
    if variant in ("api_key", "limit_exact", "limit_batched"):
        args += ["--header", f"x-api-key: {API_KEY}"]
    elif variant == "jwt":
        args += ["--header", f"authorization: Bearer {jwt_token()}"]
    elif variant == "signature":
        args += ["--sign", f"bench-partner:{SECRET}"]
    return args


def http_load(url, variant, extra):
    cmd = ["taskset", "-c", "1", os.path.join(TARGET, "http-load"), "--url", url] + load_args(variant) + extra
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def start(variant, apis, backend_port, work):
    config = os.path.join(work, f"{variant}.yaml")
    write_config(config, backend_port, apis, variant)
    port = free_port()
    gateway = subprocess.Popen(
        ["taskset", "-c", "0", os.path.join(TARGET, "gateway-web"), "--config", config,
         "--listen", f"127.0.0.1:{port}", "--workers", "1", "--redis-url", "redis://127.0.0.1:6379"],
        env={**os.environ, "RUST_LOG": "warn"})
    wait_ready(f"http://127.0.0.1:{port}/readyz")
    return gateway, f"http://127.0.0.1:{port}/v1/bench"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--apis", type=int, default=1000)
    ap.add_argument("--rate", type=int, default=2000)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated; none is always run")
    a = ap.parse_args()
    chosen = ["none"] + [v for v in a.variants.split(",") if v in VARIANTS and v != "none"]
    for v in chosen:
        if REFERENCE.get(v) and REFERENCE[v] not in chosen:
            chosen.insert(1, REFERENCE[v])
    if not a.no_build:
        subprocess.run(["cargo", "build", "--release", "-p", "gateway-web", "-p", "gateway-demo"], cwd=ROOT, check=True)
    work = tempfile.mkdtemp(prefix="gw-policies-")
    bport = free_port()
    backend = subprocess.Popen(["taskset", "-c", "0", os.path.join(TARGET, "demo-backend"), "--listen", f"127.0.0.1:{bport}"])
    time.sleep(0.5)
    gateways = {}
    try:
        for variant in chosen:
            gateways[variant] = start(variant, a.apis, bport, work)
        for variant, (_, url) in gateways.items():
            # Every variant answers 200 before anything is measured (a refused credential would be fast).
            check = http_load(url, variant, ["--connections", "1", "--requests", "20"])
            assert check["ok"] == 20, (variant, check)
            http_load(url, variant, ["--connections", "64", "--duration", "2s", "--warmup", "0s"])
        results = {v: [] for v in chosen}
        for run in range(a.runs):
            for variant in chosen:
                gateway, url = gateways[variant]
                background = busy_fraction(1.0, exclude=[g.pid for g, _ in gateways.values()] + [backend.pid])
                c0 = cpu_ticks(gateway.pid)
                saturated = http_load(url, variant, ["--connections", "64", "--duration", f"{a.seconds}s", "--warmup", "0s"])
                c1 = cpu_ticks(gateway.pid)
                paced = http_load(url, variant, ["--connections", "16", "--rate", str(a.rate), "--duration", f"{a.seconds}s"])
                r = dict(cpu_us=(c1 - c0) / CLK_TCK * 1e6 / max(1, saturated["ok"]), rps=saturated["rps"],
                         failed=saturated["failed"] + paced["failed"], p50=paced["p50_us"], p99=paced["p99_us"],
                         background=background)
                results[variant].append(r)
                print(f"run {run + 1} {variant}: " + ", ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()), flush=True)
        med = lambda v, k: statistics.median(r[k] for r in results[v])
        rng = lambda v, k: f"{min(r[k] for r in results[v]):.1f}..{max(r[k] for r in results[v]):.1f}"
        print()
        print(f"APIs loaded: {a.apis}; runs: {a.runs} x {a.seconds}s; saturation 64 connections; latency at {a.rate} req/s over 16")
        print("| policy | gateway CPU µs/req | added CPU | req/s | p50 / p99 at 2,000 req/s | added p50 | vs |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for v in chosen:
            ref = REFERENCE.get(v, "none")
            print(f"| {v} | {med(v, 'cpu_us'):.1f} ({rng(v, 'cpu_us')}) | {med(v, 'cpu_us') - med(ref, 'cpu_us'):+.1f} µs "
                  f"| {med(v, 'rps'):.0f} | {med(v, 'p50'):.0f} / {med(v, 'p99'):.0f} µs | {med(v, 'p50') - med(ref, 'p50'):+.0f} µs | {ref} |")
        print(f"| other load before runs | {statistics.median(r['background'] for v in chosen for r in results[v]) * 100:.1f} % | | | | | |")
    finally:
        for gateway, _ in gateways.values():
            gateway.terminate()
            gateway.wait()
        backend.terminate()
        backend.wait()


if __name__ == "__main__":
    main()
