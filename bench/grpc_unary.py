#!/usr/bin/env python3
"""Benchmark: HTTP/JSON -> gRPC unary through the gateway, against the same call made directly over gRPC.

Measured as ../shared/docs/benchmarks.md describes: gateway and backend pinned to CPU0 (one gateway
worker, single-threaded backend), h2load pinned to CPU1 with one thread and 64 connections; release build;
1,000 APIs loaded. Reports, as the median of three runs with min..max:
  - gateway CPU per request (utime+stime from /proc/PID/stat over a saturation run / requests served),
  - throughput direct vs through the gateway, and their ratio,
  - added latency p50/p99 at a fixed 2,000 req/s (per-request logs from h2load),
  - gateway RSS idle, under load, and peak (VmRSS / VmHWM).
Usage: python3 bench/grpc_unary.py [--runs 3] [--seconds 10] [--apis 1000]
"""

import argparse
import json
import os
import statistics
import struct
import subprocess
import tempfile
import time
import urllib.request

from measure import (CLK_TCK, ROOT, TARGET, busy_fraction, cpu_ticks, free_port, h2load, paced_h2load, percentiles,
                     spread, status_kb, wait_ready)


def write_config(path, backend_port, apis):
    lines = [
        "backends:",
        f'  - {{ name: bench, protocol: grpc, endpoints: ["127.0.0.1:{backend_port}"] }}',
        "schemas:",
        "  - name: demo",
        "    proto:",
        "      files: [demo/echo/v1/echo.proto]",
        f'      import_paths: ["{os.path.join(ROOT, "demo", "proto")}"]',
        "apis:",
        "  - name: bench",
        "    backend: bench",
        "    grpc: { service: demo.echo.v1.Echo, method: Echo }",
        '    http: { post: /v1/bench, body: "*" }',
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


def grpc_body(path):
    message = b"\x0a\x05hello" + b"\x10\x2a"  # EchoRequest{message: "hello", number: 42}
    with open(path, "wb") as f:
        f.write(b"\x00" + struct.pack(">I", len(message)) + message)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--apis", type=int, default=1000)
    ap.add_argument("--rate", type=int, default=2000)
    ap.add_argument("--latency-connections", type=int, default=16)
    ap.add_argument("--no-build", action="store_true")
    a = ap.parse_args()

    if not a.no_build:
        subprocess.run(["cargo", "build", "--release", "-p", "gateway-web", "-p", "gateway-demo"], cwd=ROOT, check=True)
    work = tempfile.mkdtemp(prefix="gw-bench-")
    bport, gport = free_port(), free_port()
    config = os.path.join(work, "gateway.yaml")
    write_config(config, bport, a.apis)
    body_grpc = os.path.join(work, "body.bin"); grpc_body(body_grpc)
    body_json = os.path.join(work, "body.json")
    with open(body_json, "w") as f:
        f.write('{"message":"hello","number":"42"}')

    backend = subprocess.Popen(["taskset", "-c", "0", os.path.join(TARGET, "demo-backend"), "--listen", f"127.0.0.1:{bport}"])
    time.sleep(0.5)
    gateway = subprocess.Popen(
        ["taskset", "-c", "0", os.path.join(TARGET, "gateway-web"), "--config", config,
         "--listen", f"127.0.0.1:{gport}", "--workers", "1"],
        env={**os.environ, "RUST_LOG": "warn"})
    try:
        wait_ready(f"http://127.0.0.1:{gport}/readyz")
        direct_url = f"http://127.0.0.1:{bport}/demo.echo.v1.Echo/Echo"
        gw_url = f"http://127.0.0.1:{gport}/v1/bench"
        grpc_args = ["-H", "content-type: application/grpc", "-H", "te: trailers", "-d", body_grpc]
        json_args = ["--h1", "-H", "content-type: application/json", "-d", body_json]
        # A sample reply through the gateway, checked by hand: h2load only sees HTTP statuses.
        req = urllib.request.Request(gw_url, data=open(body_json, "rb").read(), headers={"content-type": "application/json"})
        sample = json.loads(urllib.request.urlopen(req).read())
        assert sample["request"]["message"] == "hello", sample
        rss_idle = status_kb(gateway.pid, "VmRSS")

        # Warm up both paths.
        h2load(["-c", "64", "-D", "2"] + grpc_args + [direct_url])
        h2load(["-c", "64", "-D", "2"] + json_args + [gw_url])

        results = []
        for run in range(a.runs):
            background = busy_fraction(2.0, exclude=(gateway.pid, backend.pid))
            _, d_ok, d_rps, _ = h2load(["-c", "64", "-D", str(a.seconds)] + grpc_args + [direct_url])
            c0 = cpu_ticks(gateway.pid)
            _, g_ok, g_rps, out = h2load(["-c", "64", "-D", str(a.seconds)] + json_args + [gw_url])
            c1 = cpu_ticks(gateway.pid)
            rss_load = status_kb(gateway.pid, "VmRSS")
            cpu_us = (c1 - c0) / CLK_TCK * 1e6 / max(1, g_ok)

            dlog, glog = os.path.join(work, f"direct{run}.log"), os.path.join(work, f"gw{run}.log")
            paced_h2load(grpc_args, direct_url, a.latency_connections, a.rate, a.seconds, dlog)
            paced_h2load(json_args, gw_url, a.latency_connections, a.rate, a.seconds, glog)
            d50, d99 = percentiles(dlog)
            g50, g99 = percentiles(glog)
            r = dict(background=background, direct_rps=d_rps, gateway_rps=g_rps, ratio=g_rps / d_rps if d_rps else 0,
                     cpu_us=cpu_us, direct_p50=d50, direct_p99=d99, gateway_p50=g50, gateway_p99=g99,
                     added_p50=g50 - d50, added_p99=g99 - d99, rss_load_kb=rss_load, failed=(64 and g_ok == 0))
            results.append(r)
            print(f"run {run + 1}: " + ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()), flush=True)

        peak = status_kb(gateway.pid, "VmHWM")
        summary = lambda key, unit="", digits=1: spread(results, key, unit, digits)
        print()
        print(f"APIs loaded: {a.apis}; runs: {a.runs} x {a.seconds}s; 64 connections (saturation), {a.rate} req/s over {a.latency_connections} connections (latency)")
        print(f"| gateway CPU per request | {summary('cpu_us', ' µs')} |")
        print(f"| direct gRPC req/s | {summary('direct_rps')} |")
        print(f"| via gateway req/s | {summary('gateway_rps')} |")
        print(f"| throughput ratio | {summary('ratio', digits=2)} |")
        print(f"| added p50 at {a.rate} req/s | {summary('added_p50', ' µs')} (direct p50 {summary('direct_p50', ' µs')}) |")
        print(f"| added p99 at {a.rate} req/s | {summary('added_p99', ' µs')} (direct p99 {summary('direct_p99', ' µs')}) |")
        print(f"| RSS idle / under load / peak | {rss_idle / 1024:.1f} / {statistics.median([r['rss_load_kb'] for r in results]) / 1024:.1f} / {peak / 1024:.1f} MiB |")
        print(f"| other load before runs | {summary('background')} (share of all CPU) |")
    finally:
        gateway.terminate(); backend.terminate()
        gateway.wait(); backend.wait()


if __name__ == "__main__":
    main()
