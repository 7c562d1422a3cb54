#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Client side of bench/idle-conns.sh: fcgimux's memory with many idle front connections.

Phases, each followed by a reading of VmRSS / VmHWM from /proc/PID/status:
  baseline    nothing connected
  idle        --conns TCP connections open, nothing sent
  keep-conn   every connection has sent one complete FastCGI request with FCGI_KEEP_CONN (at most
              --window in flight at once), read the whole answer, and stays open
  closed      all connections closed again
Prints a table and a final line
  IDLE baseline_kb=N idle_kb=N keepconn_kb=N closed_kb=N hwm_kb=N ok=N failed=N
"""

import argparse
import json
import resource
import selectors
import socket
import struct
import sys
import time
import urllib.request

FCGI_BEGIN_REQUEST, FCGI_END_REQUEST, FCGI_PARAMS, FCGI_STDIN, FCGI_STDOUT, FCGI_STDERR = 1, 3, 4, 5, 6, 7
FCGI_RESPONDER, FCGI_KEEP_CONN = 1, 1


def record(rtype, req_id, content=b""):
    pad = (8 - len(content) % 8) % 8
    return struct.pack(">BBHHBB", 1, rtype, req_id, len(content), pad, 0) + content + b"\0" * pad


def name_value(name, value):
    out = b""
    for s in (name, value):
        out += bytes([len(s)]) if len(s) < 128 else struct.pack(">I", len(s) | 0x80000000)
    return out + name + value


def keep_conn_request():
    params = b"".join(name_value(k.encode(), v.encode()) for k, v in [
        ("REQUEST_METHOD", "GET"), ("SCRIPT_NAME", "/idle"), ("REQUEST_URI", "/idle"),
        ("DOCUMENT_URI", "/idle"), ("QUERY_STRING", ""), ("SERVER_PROTOCOL", "HTTP/1.1"),
        ("GATEWAY_INTERFACE", "CGI/1.1"), ("REMOTE_ADDR", "127.0.0.1"), ("CONTENT_LENGTH", "")])
    return (record(FCGI_BEGIN_REQUEST, 1, struct.pack(">HB5x", FCGI_RESPONDER, FCGI_KEEP_CONN)) +
            record(FCGI_PARAMS, 1, params) + record(FCGI_PARAMS, 1) + record(FCGI_STDIN, 1))


def memory_kb(pid):
    vals = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                vals[k] = int(v.split()[0])
    return vals["VmRSS"], vals["VmHWM"]


def stats(addr):
    if not addr:
        return None
    try:
        with urllib.request.urlopen(f"http://{addr}/stats", timeout=5) as r:
            return json.load(r)
    except Exception:
        return None


def wait_active(addr, want, limit=20.0):
    """Waits until fcgimux reports `want` active front connections (its accept loop is asynchronous)."""
    deadline = time.monotonic() + limit
    j = None
    while time.monotonic() < deadline:
        j = stats(addr)
        if j is None:
            return None
        if j["connections"]["active"] == want:
            return want
        time.sleep(0.1)
    return j["connections"]["active"] if j else None


class reply:
    """Collects one FastCGI answer until END_REQUEST."""

    def __init__(self):
        self.buf = b""
        self.stdout = b""
        self.done = False
        self.app_status = None
        self.protocol_status = None

    def feed(self, data):
        self.buf += data
        while len(self.buf) >= 8:
            _, rtype, _, clen, pad, _ = struct.unpack(">BBHHBB", self.buf[:8])
            if len(self.buf) < 8 + clen + pad:
                return
            content = self.buf[8:8 + clen]
            self.buf = self.buf[8 + clen + pad:]
            if rtype == FCGI_STDOUT:
                self.stdout += content
            elif rtype == FCGI_END_REQUEST:
                self.app_status, self.protocol_status = struct.unpack(">IB3x", content)
                self.done = True
                return

    def ok(self):
        if not self.done or self.protocol_status != 0:
            return False
        head = self.stdout.split(b"\r\n\r\n", 1)[0]
        return b"Status:" not in head or b"Status: 200" in head


def send_requests(conns, window, limit):
    """One KEEP_CONN request per connection, `window` in flight at once; returns (ok, failed)."""
    req = keep_conn_request()
    sel = selectors.DefaultSelector()
    pending = list(range(len(conns)))
    pending.reverse()
    replies = {}
    ok = failed = 0
    deadline = time.monotonic() + limit
    while (pending or replies) and time.monotonic() < deadline:
        while pending and len(replies) < window:
            i = pending.pop()
            try:
                conns[i].sendall(req)
            except OSError:
                failed += 1
                continue
            replies[i] = reply()
            sel.register(conns[i], selectors.EVENT_READ, i)
        for key, _ in sel.select(timeout=1.0):
            i = key.data
            try:
                data = conns[i].recv(65536)
            except OSError:
                data = b""
            if data:
                replies[i].feed(data)
            if not data or replies[i].done:
                if replies[i].ok():
                    ok += 1
                else:
                    failed += 1
                sel.unregister(conns[i])
                del replies[i]
    failed += len(pending) + len(replies)
    sel.close()
    return ok, failed


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--addr", required=True, help="fcgimux front HOST:PORT")
    ap.add_argument("--pid", type=int, required=True, help="fcgimux's pid")
    ap.add_argument("--stats", default="", help="fcgimux stats HOST:PORT, to confirm the connection count")
    ap.add_argument("--conns", type=int, default=10000)
    ap.add_argument("--window", type=int, default=256, help="requests in flight at once in the keep-conn phase")
    ap.add_argument("--settle", type=float, default=1.0, help="seconds to wait before each reading")
    ap.add_argument("--limit-mb", type=float, default=100.0, help="goal for fcgimux's RSS")
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = args.conns + 100
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))

    host, port = args.addr.rsplit(":", 1)
    rows = []

    def reading(phase, note=""):
        time.sleep(args.settle)
        rss, hwm = memory_kb(args.pid)
        rows.append((phase, rss, hwm, note))
        print(f"# {phase}: VmRSS {rss} kB, VmHWM {hwm} kB {note}", file=sys.stderr, flush=True)
        return rss

    baseline = reading("baseline", "(pool started, nothing connected)")

    conns = []
    t0 = time.monotonic()
    for _ in range(args.conns):
        try:
            s = socket.create_connection((host, int(port)), timeout=10)
        except OSError as e:
            print(f"# connect {len(conns) + 1} failed: {e}", file=sys.stderr)
            break
        conns.append(s)
    opened = time.monotonic() - t0
    active = wait_active(args.stats, len(conns))
    idle = reading("idle", f"({len(conns)} open in {opened:.1f}s; fcgimux counts {active} active)")

    t0 = time.monotonic()
    ok, failed = send_requests(conns, args.window, limit=120)
    took = time.monotonic() - t0
    active = wait_active(args.stats, len(conns))
    keep = reading("keep-conn", f"({ok} answered ok, {failed} failed in {took:.1f}s; fcgimux counts {active} active)")

    for s in conns:
        s.close()
    active = wait_active(args.stats, 0)
    closed = reading("closed", f"(all closed; fcgimux counts {active} active)")
    hwm = max(r[2] for r in rows)

    print()
    print(f"idle-conns: fcgimux memory with {len(conns)} front connections (goal: < {args.limit_mb:.0f} MB)")
    print(f"{'phase':<10} {'VmRSS MB':>9} {'VmHWM MB':>9} {'per conn':>9}  note")
    for phase, rss, h, note in rows:
        per = ""
        if phase in ("idle", "keep-conn") and conns:
            per = f"{(rss - baseline) * 1024 / len(conns):.0f} B"
        print(f"{phase:<10} {rss / 1024:>9.1f} {h / 1024:>9.1f} {per:>9}  {note}")
    worst = max(idle, keep) / 1024
    verdict = "PASS" if worst < args.limit_mb and len(conns) == args.conns and failed == 0 else "FAIL"
    print(f"largest RSS with {len(conns)} connections open: {worst:.1f} MB (goal < {args.limit_mb:.0f} MB, "
          f"all {args.conns} connected and answered: {verdict})")
    print(f"IDLE baseline_kb={baseline} idle_kb={idle} keepconn_kb={keep} closed_kb={closed} hwm_kb={hwm} ok={ok} failed={failed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
