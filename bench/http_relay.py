#!/usr/bin/env python3
"""Benchmark: HTTP -> HTTP relay (a JSON POST), the gateway beside nginx `proxy_pass` in the same run,
both against calling the backend directly.

The backend is nginx answering a fixed JSON body (`return 200`), so its cost never changes. Layout as
../shared/docs/benchmarks.md describes: backend and the proxy under test pinned to CPU0 (the gateway
with one worker; nginx with one process, keep-alive to the backend), h2load pinned to CPU1 with one
thread and 64 connections; release build; 1,000 APIs loaded in the gateway. Per run, interleaved:
  - CPU per request of each proxy (utime+stime from /proc/PID/stat over a saturation run / requests),
  - throughput direct, via nginx, via the gateway,
  - p50/p99 at a fixed 2,000 req/s over 16 connections, and what each proxy adds to direct.
Then, once: the gateway's RSS while a 1 GiB download and a 1 GiB upload stream through it (the node's
own buffering limit is 1 MiB, so neither can be held whole).
Usage: python3 bench/http_relay.py [--runs 3] [--seconds 8] [--no-build]
"""

import argparse
import os
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request

from measure import (CLK_TCK, ROOT, TARGET, busy_fraction, cpu_ticks, free_port, h2load, paced_h2load, percentiles,
                     spread, status_kb, wait_ready)

BODY = '{"message":"hello","number":42,"tags":["a","b"]}'
BIG = 1 << 30


def nginx_conf(work, name, server):
    """A one-process nginx (no master, no daemon) with its files under `work`."""
    temp = os.path.join(work, f"{name}-temp")
    os.makedirs(temp, exist_ok=True)
    paths = " ".join(f"{kind}_temp_path {temp}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = os.path.join(work, f"{name}.conf")
    with open(conf, "w") as f:
        f.write(f"""
worker_processes 1;
master_process off;
daemon off;
error_log stderr warn;
pid {work}/{name}.pid;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    {paths}
    {server}
}}
""")
    return conf


def backend_server(port, big):
    return f"""
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        keepalive_requests 1000000;
        client_max_body_size 0;
        location / {{ default_type application/json; return 200 '{{"ok":true,"message":"hello"}}'; }}
        location = /big {{ alias {big}; }}
    }}"""


def proxy_server(port, backend_port):
    return f"""
    upstream backend {{ server 127.0.0.1:{backend_port}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        keepalive_requests 1000000;
        location / {{
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}"""


def write_config(path, backend_port, apis):
    lines = [
        "backends:",
        f'  - {{ name: bench, protocol: http, endpoints: ["http://127.0.0.1:{backend_port}"] }}',
        "apis:",
        "  - { name: bench, backend: bench, http: { post: /v1/bench }, upstream: {} }",
        "  - { name: big, backend: bench, http: { get: /big }, upstream: { max_response_body: 2147483648 } }",
        "  - { name: upload, backend: bench, http: { put: /upload }, upstream: { max_request_body: 2147483648 } }",
    ]
    for i in range(apis - 3):
        lines.append(f'  - {{ name: filler-{i}, backend: bench, http: {{ post: "/v1/filler/{i}/{{x}}" }}, upstream: {{}} }}')
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def peak_during(pid, command):
    """Runs `command` while sampling the process's RSS; the highest sample in KiB."""
    highest = [status_kb(pid, "VmRSS")]
    done = threading.Event()

    def sample():
        while not done.is_set():
            highest[0] = max(highest[0], status_kb(pid, "VmRSS"))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.time()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    elapsed = time.time() - started
    done.set()
    sampler.join()
    return highest[0], elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--apis", type=int, default=1000)
    ap.add_argument("--rate", type=int, default=2000)
    ap.add_argument("--latency-connections", type=int, default=16)
    ap.add_argument("--no-build", action="store_true")
    a = ap.parse_args()

    if not a.no_build:
        subprocess.run(["cargo", "build", "--release", "-p", "gateway-web"], cwd=ROOT, check=True)
    work = tempfile.mkdtemp(prefix="gw-relay-")
    bport, nport, gport = free_port(), free_port(), free_port()
    big = os.path.join(work, "big.bin")
    with open(big, "wb") as f:
        f.truncate(BIG)
    config = os.path.join(work, "gateway.yaml")
    write_config(config, bport, a.apis)
    body = os.path.join(work, "body.json")
    with open(body, "w") as f:
        f.write(BODY)

    backend = subprocess.Popen(["taskset", "-c", "0", "nginx", "-p", work, "-c",
                                nginx_conf(work, "backend", backend_server(bport, big))])
    proxy = subprocess.Popen(["taskset", "-c", "0", "nginx", "-p", work, "-c",
                              nginx_conf(work, "proxy", proxy_server(nport, bport))])
    gateway = subprocess.Popen(
        ["taskset", "-c", "0", os.path.join(TARGET, "gateway-web"), "--config", config,
         "--listen", f"127.0.0.1:{gport}", "--workers", "1", "--max-body-bytes", str(1 << 20)],
        env={**os.environ, "RUST_LOG": "warn"})
    try:
        wait_ready(f"http://127.0.0.1:{gport}/readyz")
        urls = {
            "direct": f"http://127.0.0.1:{bport}/v1/bench",
            "nginx": f"http://127.0.0.1:{nport}/v1/bench",
            "gateway": f"http://127.0.0.1:{gport}/v1/bench",
        }
        pids = {"nginx": proxy.pid, "gateway": gateway.pid}
        args = ["--h1", "-H", "content-type: application/json", "-d", body]
        for name, url in urls.items():
            request = urllib.request.Request(url, data=BODY.encode(), headers={"content-type": "application/json"})
            reply = urllib.request.urlopen(request).read()
            assert b'"ok":true' in reply, (name, reply)
            h2load(["-c", "64", "-D", "2"] + args + [url])  # warm-up
        rss_idle = status_kb(gateway.pid, "VmRSS")

        results = []
        for run in range(a.runs):
            r = dict(background=busy_fraction(2.0, exclude=(backend.pid, proxy.pid, gateway.pid)))
            for name, url in urls.items():
                c0 = cpu_ticks(pids[name]) if name in pids else 0
                _, ok, rps, _ = h2load(["-c", "64", "-D", str(a.seconds)] + args + [url])
                c1 = cpu_ticks(pids[name]) if name in pids else 0
                r[f"{name}_rps"] = rps
                if name in pids:
                    r[f"{name}_cpu_us"] = (c1 - c0) / CLK_TCK * 1e6 / max(1, ok)
                log = os.path.join(work, f"{name}{run}.log")
                paced_h2load(args, url, a.latency_connections, a.rate, a.seconds, log)
                r[f"{name}_p50"], r[f"{name}_p99"] = percentiles(log)
            for name in pids:
                r[f"{name}_ratio"] = r[f"{name}_rps"] / r["direct_rps"] if r["direct_rps"] else 0
                r[f"{name}_added_p50"] = r[f"{name}_p50"] - r["direct_p50"]
                r[f"{name}_added_p99"] = r[f"{name}_p99"] - r["direct_p99"]
            r["rss_load_kb"] = status_kb(gateway.pid, "VmRSS")
            results.append(r)
            print(f"run {run + 1}: " + ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()), flush=True)

        # 1 GiB each way, streamed: the RSS the gateway reaches while it passes.
        base = f"http://127.0.0.1:{gport}"
        before = status_kb(gateway.pid, "VmRSS")
        down_peak, down_s = peak_during(gateway.pid, ["curl", "-sf", "-o", "/dev/null", f"{base}/big"])
        up_peak, up_s = peak_during(gateway.pid, ["curl", "-sf", "-o", "/dev/null", "-T", big, f"{base}/upload"])

        summary = lambda key, unit="", digits=1: spread(results, key, unit, digits)
        print()
        print(f"APIs loaded: {a.apis}; runs: {a.runs} x {a.seconds}s; 64 connections (saturation), "
              f"{a.rate} req/s over {a.latency_connections} connections (latency)")
        print("| | direct | nginx proxy_pass | gateway |")
        print("| --- | --- | --- | --- |")
        print(f"| CPU per request | | {summary('nginx_cpu_us', ' µs')} | {summary('gateway_cpu_us', ' µs')} |")
        print(f"| req/s (64 connections) | {summary('direct_rps', digits=0)} | {summary('nginx_rps', digits=0)} | {summary('gateway_rps', digits=0)} |")
        print(f"| throughput ratio to direct | | {summary('nginx_ratio', digits=2)} | {summary('gateway_ratio', digits=2)} |")
        print(f"| p50 at {a.rate} req/s | {summary('direct_p50', ' µs', 0)} | {summary('nginx_p50', ' µs', 0)} | {summary('gateway_p50', ' µs', 0)} |")
        print(f"| added p50 | | {summary('nginx_added_p50', ' µs', 0)} | {summary('gateway_added_p50', ' µs', 0)} |")
        print(f"| p99 at {a.rate} req/s | {summary('direct_p99', ' µs', 0)} | {summary('nginx_p99', ' µs', 0)} | {summary('gateway_p99', ' µs', 0)} |")
        print(f"| added p99 | | {summary('nginx_added_p99', ' µs', 0)} | {summary('gateway_added_p99', ' µs', 0)} |")
        print(f"| gateway RSS idle / under load | {rss_idle / 1024:.1f} / {statistics.median([r['rss_load_kb'] for r in results]) / 1024:.1f} MiB | | |")
        print(f"| gateway RSS streaming 1 GiB down / up | from {before / 1024:.1f} MiB: peak {down_peak / 1024:.1f} MiB ({BIG / down_s / 2**20:.0f} MiB/s) / "
              f"{up_peak / 1024:.1f} MiB ({BIG / up_s / 2**20:.0f} MiB/s) | | |")
        print(f"| other load before runs | {summary('background')} (share of all CPU) | | |")
    finally:
        for process in (gateway, proxy, backend):
            process.terminate()
        for process in (gateway, proxy, backend):
            process.wait()


if __name__ == "__main__":
    main()
