#!/usr/bin/env python3
"""BGSAVE memory and SAVE/load speed of ember-server against redis-server, side by side.

For each server: DEBUG POPULATE N keys, then
  * SAVE, timed (wall clock of the command);
  * BGSAVE while a writer overwrites random keys as fast as it can over pipelined
    RESP; the memory of the server (Redis: parent plus the fork child) is sampled
    every few ms until the save ends: peak PSS (proportional set size, so pages the
    child still shares with the parent are not counted twice) and peak used_memory;
  * a restart on the saved dump, timed from spawn until it answers DBSIZE = N with
    loading:0.

    cargo build --release -p ember-runtime-tokio
    python3 bench/bgsave.py --keys 1000000
"""
import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE_INTERVAL_S = 0.005
WRITE_BATCH = 500


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


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b":"):
            return rest.decode()
        if kind == b"-":
            return "ERR:" + rest.decode()
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.sock.recv(1 << 16)
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data.decode(errors="replace")
        if kind == b"*":
            return [self.reply() for _ in range(int(rest))]
        raise ValueError(line)

    def cmd(self, *args):
        self.sock.sendall(encode(*args))
        return self.reply()


def info(conn, section):
    text = conn.cmd("INFO", section)
    return dict(l.split(":", 1) for l in text.splitlines() if ":" in l)


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def pss_bytes(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def rss_bytes(pid):
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


class Server:
    def __init__(self, name, binary, directory):
        self.name, self.binary, self.dir = name, binary, directory
        self.start()

    def start(self):
        self.port = free_port()
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, "--enable-debug-command", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(20000):
            try:
                self.conn = Conn(self.port)
                break
            except OSError:
                time.sleep(0.002)
        else:
            sys.exit(f"{self.name} did not start")
        while info(self.conn, "persistence").get("loading") != "0":
            time.sleep(0.002)
        return time.monotonic() - t0

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def writer(port, keys, stop, counter):
    conn = Conn(port)
    rng = random.Random(7)
    while not stop.is_set():
        batch = b"".join(encode("SET", f"key:{rng.randrange(keys)}", "x" * 10)
                         for _ in range(WRITE_BATCH))
        conn.sock.sendall(batch)
        for _ in range(WRITE_BATCH):
            conn.reply()
        counter[0] += WRITE_BATCH


def measure(name, binary, keys):
    directory = tempfile.mkdtemp(prefix=f"bgsave-{name}-")
    try:
        s = Server(name, binary, directory)
        empty = int(info(s.conn, "memory")["used_memory"])
        s.conn.cmd("DEBUG", "POPULATE", keys)
        mem = info(s.conn, "memory")
        dataset_used = int(mem["used_memory"]) - empty
        base_pss, base_rss = pss_bytes(s.proc.pid), rss_bytes(s.proc.pid)

        t0 = time.monotonic()
        assert s.conn.cmd("SAVE") == "OK"
        save_s = time.monotonic() - t0
        dump_bytes = os.path.getsize(os.path.join(directory, "dump.rdb"))

        stop, counter = threading.Event(), [0]
        w = threading.Thread(target=writer, args=(s.port, keys, stop, counter))
        w.start()
        time.sleep(0.3)  # the write load is running before the save starts
        probe = Conn(s.port)
        peak_pss = peak_rss = peak_used = 0
        writes_before = counter[0]
        t0 = time.monotonic()
        reply = probe.cmd("BGSAVE")
        assert reply.startswith("Background saving"), reply
        while True:
            pids = [s.proc.pid] + children(s.proc.pid)
            peak_pss = max(peak_pss, sum(pss_bytes(p) for p in pids))
            peak_rss = max(peak_rss, sum(rss_bytes(p) for p in pids))
            i = info(probe, "all")
            peak_used = max(peak_used, int(i["used_memory"]))
            if i["rdb_bgsave_in_progress"] == "0":
                break
            time.sleep(SAMPLE_INTERVAL_S)
        bgsave_s = time.monotonic() - t0
        writes = counter[0] - writes_before
        stop.set()
        w.join()
        last_cow = int(i.get("rdb_last_cow_size", 0))
        status = i["rdb_last_bgsave_status"]
        s.conn.cmd("SAVE")
        s.stop()

        load_s = s.start()
        assert int(s.conn.cmd("DBSIZE")) == keys
        s.stop()
        return dict(dataset_used=dataset_used, base_pss=base_pss, base_rss=base_rss,
                    save_s=save_s, dump_bytes=dump_bytes, bgsave_s=bgsave_s, writes=writes,
                    peak_pss=peak_pss, peak_rss=peak_rss, peak_used=peak_used,
                    last_cow=last_cow, status=status, load_s=load_s)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--ember", default=os.path.join(ROOT, "target/release/ember-server"))
    ap.add_argument("--redis", default="redis-server")
    args = ap.parse_args()
    rows = {}
    for name, binary in (("ember", args.ember), ("redis", args.redis)):
        rows[name] = measure(name, binary, args.keys)
    mib = lambda b: f"{b / 1048576:.1f} MiB"
    print(f"keys: {args.keys}")
    print("| | Ember | Redis | Ember/Redis |")
    print("|---|---|---|---|")
    e, r = rows["ember"], rows["redis"]
    for label, key, fmt in [
        ("dataset used_memory", "dataset_used", mib),
        ("RSS before BGSAVE", "base_rss", mib),
        ("PSS before BGSAVE", "base_pss", mib),
        ("peak PSS during BGSAVE (all processes)", "peak_pss", mib),
        ("peak RSS during BGSAVE (sum of processes)", "peak_rss", mib),
        ("peak used_memory during BGSAVE", "peak_used", mib),
        ("rdb_last_cow_size", "last_cow", mib),
        ("writes during BGSAVE", "writes", str),
        ("BGSAVE seconds", "bgsave_s", lambda v: f"{v:.2f}"),
        ("SAVE seconds", "save_s", lambda v: f"{v:.2f}"),
        ("load seconds (spawn to loaded)", "load_s", lambda v: f"{v:.2f}"),
        ("dump.rdb bytes", "dump_bytes", str),
    ]:
        ratio = e[key] / r[key] if r[key] else float("nan")
        print(f"| {label} | {fmt(e[key])} | {fmt(r[key])} | {ratio:.2f} |")
    for name in ("ember", "redis"):
        x = rows[name]
        print(f"{name}: peak PSS / PSS before = {x['peak_pss'] / x['base_pss']:.2f}, "
              f"peak PSS / dataset used_memory = {x['peak_pss'] / x['dataset_used']:.2f}, "
              f"status {x['status']}, save {args.keys / x['save_s']:,.0f} keys/s, "
              f"load {args.keys / x['load_s']:,.0f} keys/s")


if __name__ == "__main__":
    main()
