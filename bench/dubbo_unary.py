#!/usr/bin/env python3
"""Benchmark: HTTP/JSON -> Dubbo2 unary through the gateway, against the same call made directly over Dubbo2.

Measured as ../shared/docs/benchmarks.md describes: gateway and mock provider pinned to CPU0 (one gateway
worker, single-threaded provider answering one pre-encoded User), the load pinned to CPU1 with one thread and
64 connections: h2load --h1 through the gateway, dubbo-load (our own Dubbo2 client, no off-the-shelf tool
speaks Dubbo2) directly; release build; 1,000 Dubbo APIs loaded. Reports, as the median of three runs with
min..max:
  - gateway CPU per request (utime+stime from /proc/PID/stat over a saturation run / requests served),
  - throughput direct vs through the gateway, and their ratio,
  - added latency p50/p99 at a fixed 2,000 req/s (per-request logs from h2load, dubbo-load's own histogram,
    both with 16 connections),
  - gateway RSS idle, under load, and peak (VmRSS / VmHWM).
Usage: python3 bench/dubbo_unary.py [--runs 3] [--seconds 10] [--apis 1000]
"""

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
import urllib.request

from measure import (CLK_TCK, ROOT, TARGET, busy_fraction, cpu_ticks, free_port, h2load, paced_h2load, percentiles,
                     spread, status_kb, wait_ready)

SERVICE = "org.apache.dubbo.demo.UserService"


def write_config(path, provider_port, apis):
    def api(name, rule):
        return [
            f"  - name: {name}",
            "    backend: users",
            "    dubbo:",
            f"      interface: {SERVICE}",
            "      version: 1.0.0",
            "      method: getUser",
            "      params: [{ name: id, type: long, from: path.id }]",
            f"    http: {{ get: \"{rule}\" }}",
        ]
    lines = [
        "backends:",
        f'  - {{ name: users, protocol: dubbo, endpoints: ["127.0.0.1:{provider_port}"] }}',
        "apis:",
    ] + api("bench", "/v1/users/{id}")
    for i in range(apis - 1):
        lines += api(f"filler-{i}", f"/v1/filler/{i}/{{id}}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def dubbo_load(target, args):
    """dubbo-load on CPU1; its JSON line as a dict."""
    cmd = ["taskset", "-c", "1", os.path.join(TARGET, "dubbo-load"), "--target", target] + args
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


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
    work = tempfile.mkdtemp(prefix="gw-bench-dubbo-")
    pport, gport = free_port(), free_port()
    config = os.path.join(work, "gateway.yaml")
    write_config(config, pport, a.apis)

    provider = subprocess.Popen(["taskset", "-c", "0", os.path.join(TARGET, "dubbo-mock-provider"), "--listen", f"127.0.0.1:{pport}"])
    time.sleep(0.5)
    gateway = subprocess.Popen(
        ["taskset", "-c", "0", os.path.join(TARGET, "gateway-web"), "--config", config,
         "--listen", f"127.0.0.1:{gport}", "--workers", "1"],
        env={**os.environ, "RUST_LOG": "warn"})
    try:
        wait_ready(f"http://127.0.0.1:{gport}/readyz")
        direct = f"127.0.0.1:{pport}"
        gw_url = f"http://127.0.0.1:{gport}/v1/users/42"
        # A sample reply through the gateway, checked by hand: h2load only sees HTTP statuses. The gateway
        # connects to the provider in the background, so the first calls may find it not yet connected.
        sample = None
        for _ in range(50):
            try:
                sample = json.loads(urllib.request.urlopen(gw_url, timeout=2).read())
                break
            except Exception:
                time.sleep(0.1)
        assert sample and sample["id"] == 42 and sample["name"] == "user-42" and sample["role"] == "MEMBER", sample
        rss_idle = status_kb(gateway.pid, "VmRSS")

        # Warm up both paths.
        dubbo_load(direct, ["--connections", "64", "--duration", "2s", "--warmup", "0s"])
        h2load(["--h1", "-c", "64", "-D", "2", gw_url])

        results = []
        for run in range(a.runs):
            background = busy_fraction(2.0, exclude=(gateway.pid, provider.pid))
            d = dubbo_load(direct, ["--connections", "64", "--duration", f"{a.seconds}s", "--warmup", "0s"])
            c0 = cpu_ticks(gateway.pid)
            _, g_ok, g_rps, out = h2load(["--h1", "-c", "64", "-D", str(a.seconds), gw_url])
            c1 = cpu_ticks(gateway.pid)
            rss_load = status_kb(gateway.pid, "VmRSS")
            cpu_us = (c1 - c0) / CLK_TCK * 1e6 / max(1, g_ok)

            glog = os.path.join(work, f"gw{run}.log")
            # Both clients time a request from when it is written, with connections at unrelated phases.
            dl = dubbo_load(direct, ["--connections", str(a.latency_connections), "--rate", str(a.rate),
                                     "--from-send", "--duration", f"{a.seconds}s", "--warmup", "0s"])
            paced_h2load(["--h1"], gw_url, a.latency_connections, a.rate, a.seconds, glog)
            d50, d99 = dl["p50_us"], dl["p99_us"]
            g50, g99 = percentiles(glog)
            d_rps = d["rps"]
            r = dict(background=background, direct_rps=d_rps, gateway_rps=g_rps, ratio=g_rps / d_rps if d_rps else 0,
                     cpu_us=cpu_us, direct_p50=d50, direct_p99=d99, gateway_p50=g50, gateway_p99=g99,
                     added_p50=g50 - d50, added_p99=g99 - d99, rss_load_kb=rss_load,
                     failed=g_ok == 0 or d["ok"] == 0 or d["errors"] + dl["errors"] > 0)
            results.append(r)
            print(f"run {run + 1}: " + ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()), flush=True)

        peak = status_kb(gateway.pid, "VmHWM")
        summary = lambda key, unit="", digits=1: spread(results, key, unit, digits)
        print()
        print(f"APIs loaded: {a.apis}; runs: {a.runs} x {a.seconds}s; 64 connections (saturation), {a.rate} req/s over {a.latency_connections} connections (latency)")
        print(f"| gateway CPU per request | {summary('cpu_us', ' µs')} |")
        print(f"| direct Dubbo req/s | {summary('direct_rps')} |")
        print(f"| via gateway req/s | {summary('gateway_rps')} |")
        print(f"| throughput ratio | {summary('ratio', digits=2)} |")
        print(f"| added p50 at {a.rate} req/s | {summary('added_p50', ' µs')} (direct p50 {summary('direct_p50', ' µs')}) |")
        print(f"| added p99 at {a.rate} req/s | {summary('added_p99', ' µs')} (direct p99 {summary('direct_p99', ' µs')}) |")
        print(f"| RSS idle / under load / peak | {rss_idle / 1024:.1f} / {statistics.median([r['rss_load_kb'] for r in results]) / 1024:.1f} / {peak / 1024:.1f} MiB |")
        print(f"| other load before runs | {summary('background')} (share of all CPU) |")
    finally:
        # The gateway first: a provider gone first would only make it log a reconnect.
        gateway.terminate(); gateway.wait()
        provider.terminate(); provider.wait()


if __name__ == "__main__":
    main()
