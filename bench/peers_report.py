#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The tables of bench/peers.sh from its results file (one line per run: T throughput, B burst,
O overload; wrk's and the probe's columns as lib.sh's load_columns writes them)."""

import statistics
import sys

LOAD = ("rps", "p50", "p99", "max", "non2xx", "sockerr", "timeouts", "probe_max", "probe_p99", "probe_bad")
ERRORS = ("non2xx", "sockerr", "timeouts", "probe_bad")
NAMES = {"fpm": "php-fpm static", "fpm-ka": "php-fpm static + ka", "mux": "fcgimux", "mux-ka": "fcgimux + ka",
         "fpm-ondemand": "php-fpm ondemand", "fpm-dynamic": "php-fpm dynamic"}


def num(s):
    return float("nan") if s in ("", "-") else float(s)


def load(fields):
    r = {k: num(v) for k, v in zip(LOAD, fields)}
    for k in ("p50", "p99", "max"):
        r[k] /= 1000  # wrk reports microseconds
    return r


def g(r, k, fmt):
    v = r.get(k, float("nan"))
    return "-" if v != v else format(v, fmt)


def load_cells(r):
    return (f"{g(r, 'rps', '.0f'):>7} {g(r, 'p50', '.1f'):>7} {g(r, 'p99', '.1f'):>8} {g(r, 'max', '.0f'):>6} "
            f"{g(r, 'non2xx', '.0f'):>6} {g(r, 'sockerr', '.0f'):>7} {g(r, 'timeouts', '.0f'):>8} "
            f"{g(r, 'probe_p99', '.1f'):>9} {g(r, 'probe_bad', '.0f'):>9}")


LOAD_HDR = (f"{'req/s':>7} {'p50 ms':>7} {'p99 ms':>8} {'max ms':>6} {'non2xx':>6} {'sockerr':>7} {'timeouts':>8} "
            f"{'probe p99':>9} {'probe bad':>9}")


def median_row(rows, keys):
    m = {}
    for k in keys:
        vals = [r[k] for r in rows if r[k] == r[k]]
        m[k] = statistics.median(vals) if vals else float("nan")
    for k in ERRORS:
        if k in keys:
            m[k] = sum(r[k] for r in rows if r[k] == r[k])  # totals over all repeats
    return m


def main():
    path, n = sys.argv[1], sys.argv[2]
    tput, burst, over = [], [], []
    for line in open(path):
        f = line.split()
        if f[0] == "T" and len(f) >= 15:
            tput.append(dict(rep=f[1], page=f[2], setup=f[3], extra=f[14], **load(f[4:14])))
        elif f[0] == "B" and len(f) >= 18:
            burst.append(dict(rep=f[1], setup=f[2], start=num(f[3]), reached=num(f[4]), served=num(f[5]),
                              peak=num(f[6]), extra=f[17], **load(f[7:17])))
        elif f[0] == "O" and len(f) >= 14:
            over.append(dict(rep=f[1], setup=f[2], extra=f[13], **load(f[3:13])))

    if tput:
        print("\n== throughput (pm = static against fcgimux -n N)")
        print(f"{'run':>3} {'page':<6} {'setup':<20} {LOAD_HDR}")
        for r in tput:
            print(f"{r['rep']:>3} {r['page']:<6} {NAMES[r['setup']]:<20} {load_cells(r)}")
        print("median over runs (error columns: totals)")
        med = {}
        for page in ("hello", "work"):
            for s in ("fpm", "mux", "fpm-ka", "mux-ka"):
                rs = [r for r in tput if r["page"] == page and r["setup"] == s]
                if rs:
                    med[page, s] = median_row(rs, LOAD)
                    print(f"med {page:<6} {NAMES[s]:<20} {load_cells(med[page, s])}")
        print()
        for page in ("hello", "work"):
            for ka in ("", "-ka"):
                a, b = med.get((page, "mux" + ka)), med.get((page, "fpm" + ka))
                if not a or not b:
                    continue
                per = [x["rps"] / y["rps"] for x in tput for y in tput if x["page"] == y["page"] == page and
                       x["setup"] == "mux" + ka and y["setup"] == "fpm" + ka and x["rep"] == y["rep"]]
                label = "with keep-alive" if ka else "without keep-alive"
                print(f"{page}.php {label}: fcgimux / php-fpm req/s {a['rps'] / b['rps']:.2f}x "
                      f"(per run: {', '.join(f'{p:.2f}' for p in per)}); p99 {a['p99']:.1f} against {b['p99']:.1f} ms")

    if burst:
        print(f"\n== burst (idle pool, then all clients at once; 'to {n} ms': until the pool counted {n} processes,"
              f" 'serving ms': until {n} had each served a request; '>run': never within the run)")
        hdr = f"{'run':>3} {'setup':<18} {'start':>5} {'to ' + n + ' ms':>8} {'serving ms':>10} {'peak':>4} {LOAD_HDR}"
        print(hdr)

        def bline(run, r):
            t = lambda k: ">run" if r[k] != r[k] else f"{r[k]:.0f}"
            return (f"{run:>3} {NAMES[r['setup']]:<18} {g(r, 'start', '.0f'):>5} {t('reached'):>8} {t('served'):>10} "
                    f"{g(r, 'peak', '.0f'):>4} {load_cells(r)}")

        for r in burst:
            print(bline(r["rep"], r))
            if r["extra"] != "-":
                print(f"{'':>7}fcgimux: {r['extra'].replace(',', ' ')}")
        print("median over runs (a run that never got there counts as slowest; error columns: totals)")
        for s in ("mux", "fpm-ondemand", "fpm-dynamic"):
            rs = [r for r in burst if r["setup"] == s]
            if not rs:
                continue
            m = median_row(rs, LOAD + ("start", "peak"))
            for k in ("reached", "served"):
                v = statistics.median([float("inf") if r[k] != r[k] else r[k] for r in rs])
                m[k] = float("nan") if v == float("inf") else v
            m["setup"] = s
            print(bline("med", m))

    if over:
        print("\n== overload (far more clients than N workers; fcgimux answers 503 beyond its queue limit,"
              " php-fpm's clients wait in its listen backlog)")
        print(f"{'run':>3} {'setup':<18} {LOAD_HDR}")
        for r in over:
            print(f"{r['rep']:>3} {NAMES[r['setup']]:<18} {load_cells(r)}")
            if r["extra"] != "-":
                print(f"{'':>7}fcgimux: {r['extra'].replace(',', ' ')}")
        print("median over runs (error columns: totals)")
        for s in ("mux", "fpm"):
            rs = [r for r in over if r["setup"] == s]
            if rs:
                print(f"med {NAMES[s]:<18} {load_cells(median_row(rs, LOAD))}")


main()
