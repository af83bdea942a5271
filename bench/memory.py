#!/usr/bin/env python3
"""Memory comparison of ember-server against redis-server, side by side.

For each dataset, starts a fresh pair of servers, loads the same data into both over
pipelined RESP, and prints INFO memory's used_memory growth over the empty server and
the process RSS, with Ember/Redis ratios.

    cargo build --release -p ember-runtime-tokio
    python3 bench/memory.py                         # every dataset
    python3 bench/memory.py --datasets hash,zset-big

Datasets: strings (DEBUG POPULATE-like keys), list, hash, set, intset, zset (each 100,000
keys of 10 small members), zset-big (one 1,000,000-member zset).
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEYS = 100_000
MEMBERS = 10


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Server:
    def __init__(self, name, binary):
        self.name, self.port = name, free_port()
        self.dir = tempfile.mkdtemp(prefix=f"mem-{name}-")
        self.proc = subprocess.Popen([binary, "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no", "--dir", self.dir],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                self.sock = socket.create_connection(("127.0.0.1", self.port))
                return
            except OSError:
                time.sleep(0.05)
        sys.exit(f"{name} did not start")

    def pipeline(self, commands):
        """Sends commands in batches and reads (and discards) one reply per command."""
        batch = []
        for cmd in commands:
            batch.append(cmd)
            if len(batch) == 1000:
                self._send_batch(batch)
                batch = []
        if batch:
            self._send_batch(batch)

    def _send_batch(self, batch):
        self.sock.sendall(b"".join(batch))
        pending, buf = len(batch), b""
        while pending:
            buf += self.sock.recv(1 << 20)
            # Every reply here is a one-line reply (+OK, :n) or an error.
            lines = buf.split(b"\r\n")
            buf = lines.pop()
            for line in lines:
                if line.startswith(b"-"):
                    sys.exit(f"{self.name}: {line.decode()}")
                pending -= 1

    def info_memory(self):
        out = subprocess.run(["redis-cli", "-p", str(self.port), "INFO", "memory"],
                             capture_output=True, text=True).stdout
        return next(int(l.split(":")[1]) for l in out.splitlines() if l.startswith("used_memory:"))

    def rss(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            return next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmRSS:"))

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def dataset(name):
    m = range(MEMBERS)
    if name == "strings":
        return (encode("SET", f"key:{i}", f"value:{i}") for i in range(1_000_000))
    if name == "list":
        return (encode("RPUSH", f"list:{i}", *[f"member:{j}" for j in m]) for i in range(KEYS))
    if name == "hash":
        return (encode("HSET", f"hash:{i}", *[x for j in m for x in (f"field:{j}", f"value:{j}")])
                for i in range(KEYS))
    if name == "set":
        return (encode("SADD", f"set:{i}", *[f"member:{j}" for j in m]) for i in range(KEYS))
    if name == "intset":
        return (encode("SADD", f"intset:{i}", *[j * 1000 for j in m]) for i in range(KEYS))
    if name == "zset":
        return (encode("ZADD", f"zset:{i}", *[x for j in m for x in (j * 1.5, f"member:{j}")])
                for i in range(KEYS))
    if name == "zset-big":
        return (encode("ZADD", "bigzset", *[x for j in range(b, b + 1000) for x in (j * 0.5, f"member:{j}")])
                for b in range(0, 1_000_000, 1000))
    sys.exit(f"unknown dataset {name}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ember", default=os.path.join(ROOT, "target/release/ember-server"))
    p.add_argument("--redis", default=shutil.which("redis-server") or "redis-server")
    p.add_argument("--datasets", default="strings,list,hash,set,intset,zset,zset-big")
    a = p.parse_args()
    print(f"{'dataset':<10}{'ember growth':>14}{'redis growth':>14}{'ratio':>7}"
          f"{'ember rss':>12}{'redis rss':>12}{'ratio':>7}")
    for name in a.datasets.split(","):
        servers = [Server("ember", a.ember), Server("redis", a.redis)]
        try:
            growth, rss = {}, {}
            for s in servers:
                base = s.info_memory()
                s.pipeline(dataset(name))
                growth[s.name], rss[s.name] = s.info_memory() - base, s.rss()
            print(f"{name:<10}{growth['ember']:>14}{growth['redis']:>14}"
                  f"{growth['ember'] / growth['redis']:>7.2f}{rss['ember']:>12}{rss['redis']:>12}"
                  f"{rss['ember'] / rss['redis']:>7.2f}", flush=True)
        finally:
            for s in servers:
                s.stop()


if __name__ == "__main__":
    main()
