#!/usr/bin/env python3
# MIT license; Copyright (c) 2026 the microdhcp authors
"""bench_cpu: CPU time each DHCP server spends per DORA at one fixed offered rate.

    sudo python3 tools/bench_cpu.py [--rate 8000] [--period 5] [--repeat 3] [--servers a,b,...]

The ladder (tools/bench.py) finds the highest rate a server sustains; on a shared 2-core machine
that figure moves by 10-40 % between repeats. This asks a steadier question: at a rate every
server sustains, how much CPU does it burn per exchange? Same lab, perfdhcp and servers as the
ladder (tools/benchlab.py); a fresh server per measurement; its user and system time are read from
/proc/PID/stat before and after one perfdhcp run (kernel clock ticks, 10 ms: a 5 s run at 8000/s
resolves ~0.25 us per DORA); per DORA means per ACK that perfdhcp received. Prints, per server, the
median over its kept runs of user, system and total us per DORA, how many of the repeats it kept
(a run that did not start, died or did not sustain the rate is left out), each run's total, and
the ratio of Kea's total to each server's (higher = cheaper than Kea), only when both kept every
repeat.
"""
import argparse
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlab  # noqa: E402
from bench import CLIENTS, LEASE, POOL, RELAY, log  # noqa: E402
from lab import Lab  # noqa: E402

DEFAULT = ("microdhcp-mpy", "microdhcp-mpy-quiet", "kea", "udhcpd", "mpy-floor")
_TICK = os.sysconf("SC_CLK_TCK")


def cpu_times(pid):
    """(user, system) seconds of pid, from /proc/PID/stat fields 14 and 15."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / _TICK, int(fields[12]) / _TICK


def measure(lab, perf, name, rate, period):
    """One fresh server, one perfdhcp run; returns (acks, user s, system s), or a word why there
    is no measurement."""
    start, ready = benchlab.SERVERS[name]
    proc = start(lab, POOL[0], POOL[1], LEASE)
    try:
        if not proc.wait_for(ready, 15):
            log("  %s did not start: %s" % (name, proc.output().strip()[-300:]))
            return "did not start"
        time.sleep(0.3)        # start-up work done
        u0, s0 = cpu_times(proc.pid)
        res = lab.perfdhcp(rate=rate, duration=period, num_clients=CLIENTS, client=perf,
                           timeout=period + 30)
        u1, s1 = cpu_times(proc.pid)
        acks = res.stats.get("RA", {}).get("received_packets", 0)
        if not proc.alive():
            log("  %s died during the run" % name)
            return "died"
        return acks, u1 - u0, s1 - s0
    finally:
        proc.stop(signal.SIGINT if name.startswith("microdhcp") else signal.SIGTERM, timeout=5)
        lab.procs.remove(proc)


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def kea_ratio(got, name, repeat):
    """Kea's median total / name's as "%.2fx", or a dash and why: only when both kept every
    repeat, so neither median rests on fewer runs than the other."""
    if "kea" not in got:
        return "-"
    short = [s for s in ("kea", name) if len(got[s]) < repeat]
    if short:
        return "- (%s: %d of %d runs)" % (short[0], len(got[short[0]]), repeat)
    mine = median([u + k for u, k in got[name]])
    if mine <= 0:            # below the 10 ms tick: no figure to divide by
        return "- (no CPU time read)"
    return "%.2fx" % (median([u + k for u, k in got["kea"]]) / mine)


def summary_lines(got, left, servers, repeat, rate, period):
    """The table: per server the medians over its kept runs, how many of `repeat` it kept, each
    run's total and the Kea ratio; then why runs were left out."""
    lines = ["CPU per DORA at %d/s offered (%d s runs, %d repeats): us user / system / total (median of "
             "the runs kept), runs kept, each run's total, Kea's total / this server's" % (rate, period, repeat)]
    for name in servers:
        runs = got[name]
        if not runs:
            lines.append("  %-20s no sustained run (0 of %d)" % (name, repeat))
            continue
        lines.append("  %-20s %6.1f / %5.1f / %6.1f   %d of %d   %-22s %s"
                     % (name, median([u for u, _ in runs]), median([k for _, k in runs]),
                        median([u + k for u, k in runs]), len(runs), repeat,
                        ",".join("%.1f" % (u + k) for u, k in runs), kea_ratio(got, name, repeat)))
    for name in servers:
        if left[name]:
            lines.append("  %s: left out: %s" % (name, ", ".join(left[name])))
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rate", type=int, default=8000, help="offered DORA/s (default 8000)")
    ap.add_argument("--period", type=int, default=5, help="seconds per run (default 5)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--servers", default=",".join(DEFAULT))
    a = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("bench_cpu.py needs root (network namespaces)", file=sys.stderr)
        return 2
    servers = benchlab.server_names(a.servers)
    missing = benchlab.ensure_packages(log)
    if missing:
        print("bench_cpu: missing %s; install them (see docs/performance.md)" % ", ".join(missing),
              file=sys.stderr)
        return 2
    got = {s: [] for s in servers}
    left = {s: [] for s in servers}       # per server, why each left-out run is missing
    with Lab() as lab:
        perf = lab.add_client(name="perfdhcp")
        lab.add_host_address(perf, RELAY)
        for rep in range(a.repeat):
            order = servers[rep % len(servers):] + servers[:rep % len(servers)]
            for name in order:
                r = measure(lab, perf, name, a.rate, a.period)
                if isinstance(r, str):
                    left[name].append("repeat %d %s" % (rep + 1, r))
                    continue
                acks, u, k = r
                if acks < 0.9 * a.rate * a.period:
                    log("  %-20s %d ACKs of %d offered: not sustained at this rate, left out"
                        % (name, acks, a.rate * a.period))
                    left[name].append("repeat %d not sustained (%d ACKs)" % (rep + 1, acks))
                    continue
                got[name].append((1e6 * u / acks, 1e6 * k / acks))
                log("  %-20s repeat %d: %d ACKs, user %.2f s, system %.2f s -> %.1f us/DORA"
                    % (name, rep + 1, acks, u, k, 1e6 * (u + k) / acks))
    log("")
    for line in summary_lines(got, left, servers, a.repeat, a.rate, a.period):
        log(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
