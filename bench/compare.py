#!/usr/bin/env python3
"""Side-by-side benchmark of ember-server against redis-server on this machine.

Starts both servers on free loopback ports, runs the same redis-benchmark workloads
against each, interleaved (ember, redis, ember, redis ...) so machine noise hits both
alike, and prints per test: throughput, server CPU time per request (user+sys from
/proc/PID/stat before and after the run), and Ember/Redis ratios. Optionally compares
memory after DEBUG POPULATE.

    cargo build --release -p ember-runtime-tokio
    python3 bench/compare.py                       # set,get,incr,mset at -P 1 and -P 16
    python3 bench/compare.py --tests set,get --pipelines 1 --rounds 3
    python3 bench/compare.py --memory 1000000      # used_memory after DEBUG POPULATE

Not a test: figures go into BENCHMARKS.md with the exact command used.
"""
import argparse
import csv
import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, name, binary):
        self.name = name
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix=f"bench-{name}-")
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", self.dir, "--enable-debug-command", "yes"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        sys.exit(f"{name} did not start")

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        # utime and stime are fields 14 and 15 of the whole line.
        return (int(fields[11]) + int(fields[12])) / TICKS

    def cli(self, *args):
        return subprocess.run(["redis-cli", "-p", str(self.port), *args], capture_output=True,
                              text=True, check=True).stdout

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def run_benchmark(server, test, pipeline, requests, clients):
    server.cli("FLUSHALL")
    before = server.cpu_seconds()
    out = subprocess.run(["redis-benchmark", "-p", str(server.port), "-t", test,
                          "-n", str(requests), "-c", str(clients), "-P", str(pipeline), "--csv"],
                         capture_output=True, text=True, check=True).stdout
    cpu = server.cpu_seconds() - before
    rows = [r for r in csv.reader(io.StringIO(out)) if r and r[0] != "test"]
    rps = float(rows[0][1])
    return rps, cpu / requests * 1e6


def used_memory(server):
    for line in server.cli("INFO", "memory").splitlines():
        if line.startswith("used_memory:"):
            return int(line.split(":")[1])
    return 0


def rss_bytes(server):
    with open(f"/proc/{server.proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ember", default=os.path.join(ROOT, "target/release/ember-server"))
    p.add_argument("--redis", default=shutil.which("redis-server") or "redis-server")
    p.add_argument("--tests", default="set,get,incr,mset")
    p.add_argument("--pipelines", default="1,16")
    p.add_argument("-n", "--requests", type=int, default=200000)
    p.add_argument("-c", "--clients", type=int, default=50)
    p.add_argument("--rounds", type=int, default=3, help="runs per server per test; the median is kept")
    p.add_argument("--memory", type=int, default=0, help="keys for the DEBUG POPULATE memory comparison")
    a = p.parse_args()

    ember, redis = Server("ember", a.ember), Server("redis", a.redis)
    try:
        print(f"# redis-benchmark -n {a.requests} -c {a.clients}, {a.rounds} interleaved rounds, median")
        print(f"{'test':<8}{'P':>4}{'ember rps':>12}{'redis rps':>12}{'rps ratio':>10}"
              f"{'ember us/req':>14}{'redis us/req':>14}{'cpu ratio':>10}")
        for pipeline in [int(x) for x in a.pipelines.split(",")]:
            for test in a.tests.split(","):
                results = {"ember": [], "redis": []}
                for _ in range(a.rounds):
                    for s in (ember, redis):
                        results[s.name].append(run_benchmark(s, test, pipeline, a.requests, a.clients))
                med = {k: (sorted(r[0] for r in v)[len(v) // 2], sorted(r[1] for r in v)[len(v) // 2])
                       for k, v in results.items()}
                (er, ec), (rr, rc) = med["ember"], med["redis"]
                print(f"{test:<8}{pipeline:>4}{er:>12.0f}{rr:>12.0f}{er / rr:>10.2f}"
                      f"{ec:>14.3f}{rc:>14.3f}{ec / rc if rc else float('nan'):>10.2f}", flush=True)
        if a.memory:
            for s in (ember, redis):
                s.cli("FLUSHALL")
            base = {s.name: used_memory(s) for s in (ember, redis)}
            for s in (ember, redis):
                s.cli("DEBUG", "POPULATE", str(a.memory))
            mem = {s.name: used_memory(s) for s in (ember, redis)}
            rss = {s.name: rss_bytes(s) for s in (ember, redis)}
            print(f"# DEBUG POPULATE {a.memory}: used_memory (and growth over empty), RSS")
            for name in ("ember", "redis"):
                print(f"{name:<8} used_memory={mem[name]:>12} growth={mem[name] - base[name]:>12} rss={rss[name]:>12}")
            print(f"ratio    used_memory={mem['ember'] / mem['redis']:.3f} "
                  f"growth={(mem['ember'] - base['ember']) / (mem['redis'] - base['redis']):.3f} "
                  f"rss={rss['ember'] / rss['redis']:.3f}")
    finally:
        ember.stop()
        redis.stop()


if __name__ == "__main__":
    main()
