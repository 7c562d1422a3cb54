#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Sampler and worker killer for bench/soak.sh.

Every --interval seconds, one JSON line on --samples: fcgimux's VmRSS (kB, /proc/PID/status), its
open descriptors (/proc/PID/fd), and from its /stats the pool (size, busy, idle, starting) and the
counters (completed, failed, 5xx, spawned, exited, crashed), plus how long /stats took to answer.
RSS and descriptors are also read every --read-interval seconds in between: rss_min_kb/rss_max_kb
and fds_min/fds_max are the extremes over the readings since the previous sample. Under load one
reading swings by megabytes with the large requests in flight at that instant (each holds up to
--body-buffer), so the interval's minimum, the floor, is the steadier figure for growth.
Every --kill-every seconds (0: never), SIGKILL to a random live child of fcgimux (a worker: with
PHP_FCGI_CHILDREN=0 each php-cgi is a single process, fcgimux's direct child), one line on --kills:
the time, the pid and what /stats?full said the worker was doing just before (busy/idle/starting),
since only a busy worker's request can fail.

Runs until SIGTERM/SIGINT or --limit seconds; each line is flushed at once, so whatever was sampled
survives a stop. --once prints a single sample on stdout and exits (soak.sh's sample after the drain).
Times are seconds since --t0 (a time.time() value; default: start of this process).
"""

import argparse
import json
import os
import random
import signal
import sys
import time
import urllib.request


def fetch_json(url, timeout=2.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


def proc_sample(pid):
    rss = None
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None, None
    return rss, fds


def sample(pid, stats, t0):
    s = {"t": round(time.time() - t0, 2)}
    s["rss_kb"], s["fds"] = proc_sample(pid)
    start = time.monotonic()
    try:
        j = fetch_json(f"http://{stats}/stats")
        s["stats_ms"] = round((time.monotonic() - start) * 1000, 1)
        p, r = j["pool"], j["requests"]
        s.update(size=p["size"], busy=p["busy"], idle=p["idle"], starting=p["starting"],
                 queue=j["queue"]["length"], active=r["active"], completed=r["completed"],
                 failed=r["failed"], aborted=r["aborted"], rx5=j["responses"]["5xx"],
                 spawned=j["workers_spawned"], exited=j["workers_exited"], crashed=j["workers_crashed"],
                 conns=j["connections"]["active"])
    except Exception as e:  # a slow or dead stats endpoint is itself a finding: record it
        s["stats_error"] = f"{type(e).__name__}: {e}"
        s["stats_ms"] = round((time.monotonic() - start) * 1000, 1)
    return s


def children(pid):
    """Live (not zombie) direct children of pid, from /proc/*/stat."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # After the comm: state, ppid, ...
        if int(rest[1]) == pid and rest[0] != "Z":
            out.append(int(d))
    return out


def kill_one(pid, stats, t0):
    kids = children(pid)
    if not kids:
        return {"t": round(time.time() - t0, 2), "pid": None, "state": "no-child"}
    victim = random.choice(kids)
    state, served = "unknown", None
    try:
        for w in fetch_json(f"http://{stats}/stats?full").get("workers", []):
            if w["pid"] == victim:
                state, served = w["state"], w["requests"]
    except Exception:
        pass
    try:
        os.kill(victim, signal.SIGKILL)
        ok = True
    except ProcessLookupError:  # it exited (recycled) between the scan and the kill
        ok = False
    return {"t": round(time.time() - t0, 2), "pid": victim, "state": state, "served": served, "killed": ok}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pid", type=int, required=True, help="fcgimux's pid")
    ap.add_argument("--stats", required=True, help="fcgimux's --stats HOST:PORT")
    ap.add_argument("--interval", type=float, default=5.0)
    ap.add_argument("--read-interval", type=float, default=0.5)
    ap.add_argument("--kill-every", type=float, default=5.0)
    ap.add_argument("--samples", help="JSON lines file for the samples")
    ap.add_argument("--kills", help="JSON lines file for the kills")
    ap.add_argument("--limit", type=float, default=3600.0)
    ap.add_argument("--t0", type=float, default=None)
    ap.add_argument("--once", action="store_true")
    a = ap.parse_args()
    t0 = a.t0 if a.t0 is not None else time.time()

    if a.once:
        print(json.dumps(sample(a.pid, a.stats, t0)))
        return

    stop = False

    def on_signal(*_):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    samples = open(a.samples, "a")
    kills = open(a.kills, "a")
    now = time.monotonic()
    end = now + a.limit
    next_sample = next_read = now
    next_kill = now + a.kill_every if a.kill_every > 0 else float("inf")
    nkills = 0
    readings = []  # (rss_kb, fds) since the last sample
    while not stop and time.monotonic() < end:
        now = time.monotonic()
        if now >= next_read:
            r = proc_sample(a.pid)
            if r[0] is not None:
                readings.append(r)
            next_read += a.read_interval
        if now >= next_sample:
            s = sample(a.pid, a.stats, t0)
            s["kills"] = nkills
            if s["rss_kb"] is not None:
                readings.append((s["rss_kb"], s["fds"]))
            if readings:
                s["rss_min_kb"], s["rss_max_kb"] = min(r[0] for r in readings), max(r[0] for r in readings)
                s["fds_min"], s["fds_max"] = min(r[1] for r in readings), max(r[1] for r in readings)
            readings = []
            samples.write(json.dumps(s) + "\n")
            samples.flush()
            # Progress for whoever watches the run (the report comes from the files).
            print(f"# soak t={s['t']:.0f}s completed={s.get('completed', '?')} rss={s['rss_kb']}kB "
                  f"(floor {s.get('rss_min_kb')}kB) "
                  f"fds={s['fds']} pool={s.get('size', '?')} busy={s.get('busy', '?')} kills={nkills}",
                  file=sys.stderr, flush=True)
            next_sample += a.interval
        if now >= next_kill:
            k = kill_one(a.pid, a.stats, t0)
            if k.get("killed"):
                nkills += 1
            kills.write(json.dumps(k) + "\n")
            kills.flush()
            next_kill += a.kill_every
        # Short naps: a signal only sets the flag, and a stop must not wait out a whole interval.
        time.sleep(min(0.2, max(0.0, min(next_sample, next_read, next_kill, end) - time.monotonic())))
    samples.close()
    kills.close()


if __name__ == "__main__":
    main()
