#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Side probe: times one HTTP request every --interval seconds for --duration seconds.

wrk does not count requests still unanswered when its run ends, so a stall can hide from it; this
probe waits for every request it sends (up to --timeout) and reports the slowest. Each request uses
a fresh connection with "Connection: close" and counts as ok only with a 2xx status.
Prints one line:
  PROBE n=N ok=N errors=N timeouts=N p50_ms=X p99_ms=X max_ms=X
"""

import argparse
import math
import socket
import sys
import time
from urllib.parse import urlsplit


def one_request(host, port, target, timeout):
    """Returns (seconds, outcome) with outcome 'ok', 'error' or 'timeout'."""
    start = time.monotonic()
    deadline = start + timeout
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise socket.timeout()
                s.settimeout(left)
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        elapsed = time.monotonic() - start
        status = data.split(b" ", 2)[1] if data.startswith(b"HTTP/") else b""
        return elapsed, "ok" if status.startswith(b"2") else "error"
    except socket.timeout:
        return time.monotonic() - start, "timeout"
    except OSError:
        return time.monotonic() - start, "error"


def percentile(sorted_values, p):
    if not sorted_values:
        return 0.0
    # Nearest rank: the smallest value with at least p% of the samples at or below it.
    k = max(0, min(len(sorted_values) - 1, math.ceil(p / 100.0 * len(sorted_values)) - 1))
    return sorted_values[k]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True)
    ap.add_argument("--duration", type=float, required=True, help="seconds during which requests start")
    ap.add_argument("--interval", type=float, default=0.1)
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds one request may take")
    args = ap.parse_args()

    u = urlsplit(args.url)
    target = u.path or "/"
    if u.query:
        target += "?" + u.query
    host, port = u.hostname, u.port or 80

    times, errors, timeouts = [], 0, 0
    start = time.monotonic()
    next_at = start
    while next_at - start < args.duration:
        now = time.monotonic()
        if now < next_at:
            time.sleep(next_at - now)
        elapsed, outcome = one_request(host, port, target, args.timeout)
        times.append(elapsed)
        if outcome == "error":
            errors += 1
        elif outcome == "timeout":
            timeouts += 1
        # A slow request delays the next one instead of piling requests up.
        next_at = max(next_at + args.interval, time.monotonic())

    times.sort()
    ms = [t * 1000.0 for t in times]
    print(f"PROBE n={len(ms)} ok={len(ms) - errors - timeouts} errors={errors} timeouts={timeouts} "
          f"p50_ms={percentile(ms, 50):.1f} p99_ms={percentile(ms, 99):.1f} max_ms={(ms[-1] if ms else 0):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
