#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Burst driver for bench/burst.sh: starts the burst command and watches the pool grow.

Every --interval seconds the pool is sampled, either from fcgimux's stats (--stats HOST:PORT:
pool.size, pool.size - pool.starting as "ready", and the queue length) or by counting the child
processes of a php-fpm master (--children PID). With --nginx-status HOST:PORT (an nginx stub_status
URL's host) the burst's start is the first sample at which nginx has accepted a connection that is not
one of these samples' own; without it, the moment the command started. Sampling stops when the
command (after --) exits. Prints the timeline on stderr and one line on stdout:
  POOL start=N target=N launch_ms=X reached_ms=X ready_ms=X served_ms=X peak=N peak_ms=X samples=N
served_ms (fcgimux only): until --target workers had each completed a request since the burst began;
for a php-fpm pool it equals reached_ms (a forked child of the warm master serves at once).
launch_ms: from starting the command until the first burst connection reached nginx (the load
generator's own start-up, excluded from the other times). reached_ms / ready_ms are "-" when the
target was never reached.
"""

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request


def fetch(url):
    with urllib.request.urlopen(url, timeout=2) as r:
        return r.read()


def fcgimux_sampler(addr):
    url = f"http://{addr}/stats?full"
    before = None  # requests per worker pid at the first sample, before the burst

    def sample():
        nonlocal before
        j = json.loads(fetch(url))
        p = j["pool"]
        done = {w["pid"]: w["requests"] for w in j.get("workers", [])}
        if before is None:
            before = done
        # A worker past exec may still be initialising (php-cgi takes tens of ms): only one that has
        # finished a request since the burst began has shown it can serve.
        served = sum(1 for pid, n in done.items() if n > before.get(pid, 0))
        return {"size": p["size"], "ready": p["size"] - p["starting"], "served": served, "busy": p["busy"],
                "queue": j["queue"]["length"]}
    return sample


def children_sampler(pid):
    direct = f"/proc/{pid}/task/{pid}/children"

    def count_by_scan():
        n = 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == str(pid) and fields[0] != "Z":
                n += 1
        return n

    def sample():
        try:
            with open(direct) as f:
                n = len(f.read().split())
        except OSError:
            n = count_by_scan()
        # A forked php-fpm child serves as soon as it exists: there is no separate start phase to see.
        return {"size": n, "ready": n}
    return sample


def nginx_accepts(addr):
    # stub_status: "Active connections: N \nserver accepts handled requests\n A H R \n..."
    text = fetch(f"http://{addr}/nginx_status").decode()
    return int(text.splitlines()[2].split()[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--stats", help="fcgimux stats HOST:PORT")
    src.add_argument("--children", type=int, help="pid whose child processes are the pool")
    ap.add_argument("--nginx-status", help="HOST:PORT serving nginx stub_status at /nginx_status")
    ap.add_argument("--target", type=int, required=True, help="pool size that can serve the burst")
    ap.add_argument("--interval", type=float, default=0.01)
    ap.add_argument("--limit", type=float, default=60.0, help="seconds before the command is killed")
    ap.add_argument("cmd", nargs=argparse.REMAINDER, help="-- the burst command")
    args = ap.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        ap.error("no burst command after --")

    sample = fcgimux_sampler(args.stats) if args.stats else children_sampler(args.children)
    start_size = sample()["size"]
    accepts0 = nginx_accepts(args.nginx_status) if args.nginx_status else None
    own = 0  # stub_status connections made by this script since accepts0

    samples = []  # (seconds since launch, dict or None)
    burst_at = None if args.nginx_status else 0.0
    quiet_at = 0.0  # when nginx was last seen without a burst connection
    n = 0
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd)
    try:
        while True:
            now = time.monotonic() - t0
            try:
                s = sample()
            except Exception as e:  # a stats request that fails is a finding, not a crash
                s = {"error": str(e)}
            # A slow answer from fcgimux's stats server is itself a sign of a busy event loop.
            s["took_ms"] = round((time.monotonic() - t0 - now) * 1000, 1)
            if burst_at is None:
                try:
                    own += 1
                    checked = time.monotonic() - t0
                    if nginx_accepts(args.nginx_status) - accepts0 - own > 0:
                        # The burst began after the previous check found none: taking that moment as its
                        # start makes every time below an upper bound.
                        burst_at = quiet_at
                    quiet_at = checked
                except Exception:
                    pass
            samples.append((now, s))
            n += 1
            if proc.poll() is not None:
                break
            if now > args.limit:
                proc.kill()
                print(f"pool_watch: burst command still running after {args.limit}s, killed", file=sys.stderr)
                break
            delay = t0 + n * args.interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()

    if burst_at is None:
        burst_at = 0.0
        print("pool_watch: nginx never saw the burst; times are from the command's start", file=sys.stderr)
    reached = ready = served = None
    peak, peak_at = start_size, 0.0
    last = None
    for t, s in samples:
        rel = t - burst_at
        if "error" in s:
            print(f"#   {rel * 1000:8.1f} ms  sample failed: {s['error']}", file=sys.stderr)
            continue
        shown = {k: v for k, v in s.items() if k != "took_ms"}
        # Every sample of the first 300 ms, then only size changes and slow samples.
        key = (shown["size"], shown["ready"], shown.get("served"))
        if rel < 0.3 or key != last or s["took_ms"] > 50:
            shown["took_ms"] = s["took_ms"]
            print(f"#   {rel * 1000:8.1f} ms  " + " ".join(f"{k} {v}" for k, v in shown.items()), file=sys.stderr)
            last = key
        if rel < 0:
            continue
        if s["size"] > peak:
            peak, peak_at = s["size"], rel
        if reached is None and s["size"] >= args.target:
            reached = rel
        if ready is None and s["ready"] >= args.target:
            ready = rel
        if served is None and s.get("served", s["size"]) >= args.target:
            served = rel
    ms = lambda v: "-" if v is None else f"{v * 1000:.1f}"
    print(f"POOL start={start_size} target={args.target} launch_ms={ms(burst_at)} reached_ms={ms(reached)} "
          f"ready_ms={ms(ready)} served_ms={ms(served)} peak={peak} peak_ms={ms(peak_at)} samples={n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
