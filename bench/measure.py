"""Measurement helpers shared by the benchmark drivers: free ports, process CPU and memory from /proc,
machine load, readiness, h2load runs, per-request latency percentiles and the summary of several runs."""

import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.path.join(ROOT, "target", "release")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def busy_fraction(seconds=2.0, exclude=()):
    """CPU share used by processes other than `exclude` over `seconds`, from /proc/stat and our pids."""
    def total():
        with open("/proc/stat") as f:
            parts = [int(x) for x in f.readline().split()[1:]]
        return sum(parts), parts[3] + parts[4]
    own = lambda: sum(cpu_ticks(p) for p in exclude)
    t0, i0 = total(); o0 = own()
    time.sleep(seconds)
    t1, i1 = total(); o1 = own()
    used = (t1 - t0) - (i1 - i0) - (o1 - o0)
    return max(0.0, used / max(1, t1 - t0))


def wait_ready(url, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except Exception:
            time.sleep(0.1)
    sys.exit(f"not ready: {url}")


def h2load(args, log=None):
    cmd = ["taskset", "-c", "1", "h2load", "-t1"] + args
    if log:
        cmd += ["--log-file", log]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    succeeded = total = 0
    rps = 0.0
    for line in out.splitlines():
        if line.startswith("requests:"):
            words = line.split()
            total = int(words[1]); succeeded = int(words[7])
        if line.startswith("finished in"):
            rps = float(line.split(",")[1].split()[0])
    return total, succeeded, rps, out


def paced_h2load(args, url, connections, rate, seconds, log):
    """A fixed total rate over `connections`, each its own single-connection h2load process.

    One h2load paces all its connections on timers started together, so N connections fire in bursts of
    N and the latency measured is mostly queueing behind the burst. Separate processes started one after
    another have unrelated phases, as independent clients do. All stay pinned to CPU1; per-request logs
    are merged into `log`."""
    per_connection = rate / connections
    procs, parts = [], []
    for i in range(connections):
        part = f"{log}.{i}"
        cmd = ["taskset", "-c", "1", "h2load", "-t1", "-c", "1", "--rps", str(per_connection),
               "-D", str(seconds), "--log-file", part] + args + [url]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        parts.append(part)
        time.sleep(1.0 / per_connection / connections)
    for proc in procs:
        if proc.wait() != 0:
            raise RuntimeError(f"h2load failed: {' '.join(proc.args)}")
    with open(log, "w") as out:
        for part in parts:
            with open(part) as f:
                out.write(f.read())
            os.remove(part)


def percentiles(log):
    durations = []
    with open(log) as f:
        for line in f:
            parts = line.split("\t")
            if len(parts) >= 3 and parts[1] == "200":
                durations.append(int(parts[2]))
    durations.sort()
    if not durations:
        return 0, 0
    pick = lambda q: durations[min(len(durations) - 1, int(q * len(durations)))]
    return pick(0.50), pick(0.99)


def spread(results, key, unit="", digits=1):
    """`median (min..max)` of one figure over the runs."""
    values = [r[key] for r in results]
    fmt = lambda v: f"{v:.{digits}f}"
    return f"{fmt(statistics.median(values))}{unit} ({fmt(min(values))}..{fmt(max(values))})"
