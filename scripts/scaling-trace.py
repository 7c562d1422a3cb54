#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Records how fcgimux's pool follows a load step: idle, a burst of C concurrent clients whose
requests take SLEEP ms, then idle again. Prints pool size, busy workers and queue length from
/stats every STEP seconds. Traffic goes to 127.0.0.1 only; the run is bounded in time.

  scripts/scaling-trace.py [--build build] [--clients 32] [--sleep-ms 20] [--burst 3] [--tail 6]
"""
import argparse, json, os, socket, struct, subprocess, sys, threading, time, urllib.request


def record(t, rid, content=b""):
    pad = (8 - len(content) % 8) % 8
    return struct.pack(">BBHHBB", 1, t, rid, len(content), pad, 0) + content + b"\0" * pad


def name_value(n, v):
    return bytes([len(n), len(v)]) + n + v


def one_request(port, query):
    params = (name_value(b"REQUEST_METHOD", b"GET") + name_value(b"SCRIPT_NAME", b"/x")
              + name_value(b"REQUEST_URI", b"/x?" + query) + name_value(b"QUERY_STRING", query))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(record(1, 1, struct.pack(">HB5x", 1, 0)) + record(4, 1, params) + record(4, 1) + record(5, 1))
        data = b""
        while True:
            d = s.recv(65536)
            if not d:
                return data
            data += d


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--sleep-ms", type=int, default=20)
    ap.add_argument("--burst", type=float, default=3.0)
    ap.add_argument("--tail", type=float, default=6.0)
    ap.add_argument("--step", type=float, default=0.25)
    ap.add_argument("--idle-timeout", type=float, default=2.0)
    a = ap.parse_args()
    port, stats = free_port(), free_port()
    proc = subprocess.Popen([f"{a.build}/src/fcgimux", "--listen", f"127.0.0.1:{port}", "--stats", f"127.0.0.1:{stats}",
                             "-n", "2", "-N", "16", "-w", str(a.idle_timeout), "--",
                             f"{a.build}/src/demo/fcgimux-demo"], stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        stop = threading.Event()
        done = [0]

        def client():
            while not stop.is_set():
                one_request(port, b"sleep_ms=%d" % a.sleep_ms)
                done[0] += 1

        t0 = time.monotonic()
        burst_at, burst_end = 1.0, 1.0 + a.burst
        threads = []
        print(f"{'t (s)':>6} {'phase':>6} {'size':>5} {'busy':>5} {'queue':>6} {'done':>6}")
        while (now := time.monotonic() - t0) < burst_end + a.tail:
            if now >= burst_at and not threads:
                threads = [threading.Thread(target=client) for _ in range(a.clients)]
                for t in threads:
                    t.start()
            if now >= burst_end and not stop.is_set():
                stop.set()
            s = json.load(urllib.request.urlopen(f"http://127.0.0.1:{stats}/stats", timeout=5))
            phase = "burst" if burst_at <= now < burst_end else "idle"
            print(f"{now:6.2f} {phase:>6} {s['pool']['size']:5d} {s['pool']['busy']:5d} {s['queue']['length']:6d} {done[0]:6d}")
            time.sleep(a.step)
        for t in threads:
            t.join()
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
