#!/usr/bin/env python3
"""Rate ladder: perfdhcp against microdhcp (MicroPython unix port and CPython, each with its
default event lines and with --quiet), busybox udhcpd, Kea and dnsmasq, in one run, in the
namespace lab (tools/lab.py). Run as root: `make bench` or

    python3 tools/bench.py [--quick] [--repeat N] [--period S] [--servers a,b] [--precision P] [--out DIR]

Each rung starts the server fresh (so no earlier rung's leases fill the pool), runs
`perfdhcp -4 -r RATE -R 240 -p PERIOD` from a relay address outside the pool (.250), and
stops the server. A rung passes when both DISCOVER-OFFER and REQUEST-ACK drops are <= 2.5 %
(ISC's criterion). The ladder climbs from 400/s until the first failing rung (or steps down
from 400 when that fails), then bisects between the last pass and the first failure until they
are within --precision (5 %) of each other. Server order rotates per repeat; the table quotes
the median over repeats and the spread (lowest-highest, and its width against the median).
A repeat in which the server did not start (or could not serve) measured nothing: it is left out
of the figures, a row resting on fewer repeats says "k of N repeats", and no ratio is given
between two servers unless every repeat of both ran.
Writes OUT/bench.csv (every rung) and OUT/bench.svg (achieved rate and drops vs offered).
A full run (7 servers, 3 repeats, 3 s rungs) takes about 10 minutes (587 s measured).
"""

import argparse
import csv
import os
import signal
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lab import Lab, REPO  # noqa: E402
import benchlab  # noqa: E402

POOL = ("192.168.4.2", "192.168.4.249")   # 248 addresses
CLIENTS = 240
RELAY = "192.168.4.250/24"                # perfdhcp's own address: giaddr, outside the pool
LEASE = 3600                              # no lease expires during a run
MAX_DROPS = 2.5                           # percent, per exchange (DO and RA)
REF_RATE = 400                            # delays are also quoted at this rate, which all pass
LADDER = (400, 800, 1600, 2400, 3200, 4800, 6400, 9600, 12800, 16000, 19200)
DOWN = (200, 100, 50)                     # tried in turn when the ladder's first rung fails
PRECISION = 0.05                          # bisect until first failure - last pass <= 5 % of last pass
MAX_BISECT = 6
# Servers rated on DISCOVER-OFFER drops only. busybox udhcpd sends each reply to a relay from a
# new socket bound to its own address:67 and connected to giaddr:67 (udhcp_send_kernel_packet,
# networking/udhcp/packet.c), closed after the write: a REQUEST the relay sends back before that
# close is delivered to the more specific, connected socket and thrown away with it. perfdhcp
# answers an OFFER within ~0.1 ms, so udhcpd loses 3-18 % of REQUESTs at any rate, even 20/s (seen
# in a capture: the REQUEST arrives, no ACK or NAK leaves). Its REQUEST-ACK drops are still
# recorded; its figure is a DISCOVER-OFFER rate, which flatters it (a REQUEST costs work too).
DO_ONLY = ("udhcpd",)
QUICK_LADDER = (100, 400)
ORDER = ("microdhcp-mpy", "microdhcp-mpy-quiet", "microdhcp-cpy", "microdhcp-cpy-quiet",
         "udhcpd", "kea", "dnsmasq", "mpy-floor")
FIELDS = ("repeat", "server", "offered", "achieved", "pass",
          "do_sent", "do_recv", "do_drops_pct", "do_avg_ms", "ra_sent", "ra_recv", "ra_drops_pct",
          "ra_avg_ms", "note")


def log(msg):
    print(msg, flush=True)


def drops_pct(s):
    if not s or not s.get("sent_packets"):
        return 100.0
    return 100.0 * (s["sent_packets"] - s.get("received_packets", 0)) / s["sent_packets"]


def run_rung(lab, perf, name, rate, period, rep):
    """Fresh server, one perfdhcp run, server stopped. Returns a CSV row (dict)."""
    start, ready = benchlab.SERVERS[name]
    row = dict(repeat=rep, server=name, offered=rate, achieved=0.0, note="")
    proc = start(lab, POOL[0], POOL[1], LEASE)
    try:
        if not proc.wait_for(ready, 15):
            row.update(note="did not start: " + proc.output().strip()[-300:].replace("\n", " | "))
            return _fail(row)
        bad = benchlab.FAILED.get(name)
        if bad and proc.wait_for(bad, 0.2):
            row.update(note="cannot serve: " + proc.wait_for(bad, 0).group(0))
            return _fail(row)
        res = lab.perfdhcp(rate=rate, duration=period, num_clients=CLIENTS, client=perf,
                           timeout=period + 30)
        do, ra = res.stats.get("DO", {}), res.stats.get("RA", {})
        row.update(achieved=res.rate or 0.0,
                   do_sent=do.get("sent_packets", 0), do_recv=do.get("received_packets", 0),
                   do_drops_pct=round(drops_pct(do), 3), do_avg_ms=do.get("avg_delay", ""),
                   ra_sent=ra.get("sent_packets", 0), ra_recv=ra.get("received_packets", 0),
                   ra_drops_pct=round(drops_pct(ra), 3), ra_avg_ms=ra.get("avg_delay", ""))
        if res.returncode is None:
            row["note"] = "perfdhcp timed out"
        if not proc.alive():
            row["note"] = (row["note"] + " server died").strip()
        row["pass"] = int(row["do_drops_pct"] <= MAX_DROPS
                          and (row["ra_drops_pct"] <= MAX_DROPS or name in DO_ONLY)
                          and row["do_recv"] > 0 and row["ra_recv"] > 0 and proc.alive())
        return row
    finally:
        # SIGINT: microdhcp prints its table and exits (the unix port has no SIGTERM handler);
        # dnsmasq and kea end on SIGTERM. Proc.stop signals only this pid, SIGKILL after 5 s.
        proc.stop(signal.SIGINT if name.startswith("microdhcp") else signal.SIGTERM, timeout=5)
        lab.procs.remove(proc)


def _fail(row):
    row.update(achieved=0.0, do_drops_pct=100.0, ra_drops_pct=100.0)
    row["pass"] = 0
    return row


# The notes run_rung gives a rung whose server never came up to serve. Such a rung measured
# nothing, so its zeros must not pass for a rate: the whole repeat leaves the figures (a ladder
# cut short by a start failure would lower the median just the same). Read from the note so that
# --report applies the same rule to a CSV written earlier.
START_FAILURES = ("did not start", "cannot serve")


def start_failed(row):
    return str(row.get("note") or "").startswith(START_FAILURES)


def _rung(lab, perf, name, rate, period, rep, rows, note=""):
    row = run_rung(lab, perf, name, rate, period, rep)
    if note:
        row["note"] = (row["note"] + " " + note).strip()
    rows.append(row)
    if start_failed(row):     # no measurement: no figures in the log either
        log("  %-19s r=%-6d %s" % (name, rate, row["note"]))
        return row["pass"]
    log("  %-19s r=%-6d achieved=%8.1f DO drops %6.2f%% RA drops %6.2f%% DO %s ms RA %s ms %s%s"
        % (name, rate, row["achieved"], row["do_drops_pct"], row["ra_drops_pct"],
           row.get("do_avg_ms", "-"), row.get("ra_avg_ms", "-"),
           "pass" if row["pass"] else "FAIL", (" (" + row["note"] + ")") if row["note"] else ""))
    return row["pass"]


def ladder(lab, perf, name, rungs, period, rep, bisect, rows, precision=PRECISION, down=DOWN):
    """Climb until the first failure (step down through `down` when the first rung fails), then
    bisect between the last pass and the first failure until fail - pass <= precision * pass
    (at most `bisect` steps). Returns the highest passing offered rate (0 if none) and whether
    the top rung passed."""
    best, fail = 0, None
    for rate in rungs:
        if not _rung(lab, perf, name, rate, period, rep, rows):
            fail = rate
            break
        best = rate
    if fail is not None and not best and bisect:
        for rate in down:
            if rate >= fail:
                continue
            if _rung(lab, perf, name, rate, period, rep, rows, "down"):
                best = rate
                break
            fail = rate
    steps = 0
    while fail is not None and best and steps < bisect and fail - best > precision * best:
        mid = int(round((best + fail) / 2.0 / 10.0)) * 10
        if mid <= best or mid >= fail:
            break
        steps += 1
        if _rung(lab, perf, name, mid, period, rep, rows, "bisect"):
            best = mid
        else:
            fail = mid
    return best, fail is None


def _repeat_high(mine):
    """One repeat's rows of one server -> (highest passing offered rate, 0 if none; whether every
    rung passed, i.e. that rate is the top of the ladder)."""
    passed = [r for r in mine if r["pass"]]
    hi = max((r["offered"] for r in passed), default=0)
    return hi, bool(passed) and all(r["pass"] for r in mine)


def _median_of(rows, key):
    return statistics.median(float(r[key]) for r in rows) if rows else None


def _server_summary(rows, name, repeats):
    by_rep, topped, failed, at_max, kept = {}, set(), {}, [], []
    for rep in range(repeats):
        mine = [r for r in rows if r["server"] == name and r["repeat"] == rep]
        bad = [r for r in mine if start_failed(r)]
        if bad:
            failed[rep] = bad[0]["note"]
        if bad or not mine:
            continue
        hi, top = _repeat_high(mine)
        by_rep[rep] = hi
        if top:
            topped.add(rep)
        kept += mine
        at_max += [r for r in mine if r["pass"] and r["offered"] == hi]
    highs = list(by_rep.values())      # in repeat order
    high = statistics.median(highs) if highs else None
    ref = [r for r in kept if r["offered"] == REF_RATE and r["pass"]]
    return dict(high=high, highs=highs, by_rep=by_rep, repeats=repeats, failed=failed,
                # '+' belongs to the median: it is the top rung only if a repeat that topped the
                # ladder has that very figure (a repeat that did not top out stays below it)
                top=high is not None and any(by_rep[r] == high for r in topped),
                spread=(max(highs) - min(highs)) / high if high else None,
                do_ms=_median_of(at_max, "do_avg_ms"), ra_ms=_median_of(at_max, "ra_avg_ms"),
                do_ref=_median_of(ref, "do_avg_ms"), ra_ref=_median_of(ref, "ra_avg_ms"))


def summarize(rows, servers, repeats):
    """Per server: median over the repeats it started in of the highest passing rate, the
    median avg delays at that rate and at REF_RATE; repeats with a start failure are left out
    (high is None when none is left). Returns {server: dict}."""
    return {name: _server_summary(rows, name, repeats) for name in servers}


def complete(s):
    return len(s["by_rep"]) == s["repeats"]


def ratio(summary, a, b):
    """(a's figure / b's, "") or (None, a word why there is none). Only between two servers whose
    every repeat ran: a median over fewer repeats is not the figure the other side's is."""
    sa, sb = summary.get(a), summary.get(b)
    if not sa or not sb:
        return None, ""
    if sa["failed"] or sb["failed"]:
        return None, "start"
    if not complete(sa) or not complete(sb):
        return None, "partial"
    if not sb["high"]:
        return None, "zero"
    return sa["high"] / sb["high"], ""


def ratio_cell(summary, a, b):
    v, why = ratio(summary, a, b)
    return "%.2fx" % v if v is not None else ("- " + why).strip()


def paired(a, b):
    # The two servers' ratio repeat by repeat (each repeat runs every server once, close in time,
    # so a slow spell of the machine touches both), and its median: steadier than the ratio of
    # the two medians when the machine drifts between repeats.
    reps = sorted(set(a["by_rep"]) & set(b["by_rep"]))
    rs = [a["by_rep"][r] / b["by_rep"][r] for r in reps if b["by_rep"][r]]
    if not rs:
        return ""
    return " (repeat by repeat: %s; median %.2fx)" % (", ".join("%.2fx" % r for r in rs), statistics.median(rs))


def ratio_line(summary, a, b, label):
    v, why = ratio(summary, a, b)
    if v is None:
        return "%s: - (%s)" % (label, WHY.get(why, "not in this run"))
    return "%s: %.2fx%s" % (label, v, paired(summary[a], summary[b]))


WHY = {"start": "no ratio: a repeat of one side did not start",
       "partial": "no ratio: one side has fewer repeats than the run",
       "zero": "no ratio: the divisor passed no rung"}


def figure(s):
    # The median with '+' when it is the top rung; "-" when no repeat started.
    if s["high"] is None:
        return "-"
    return ("%g" % s["high"]) + ("+" if s["top"] else "")


def basis(s):
    # Said beside a figure that rests on fewer repeats than the run had.
    return "" if complete(s) else "%d of %d repeats" % (len(s["by_rep"]), s["repeats"])


def per_repeat(s):
    # Each repeat's figure in repeat order, "-" for one left out.
    return ",".join("%g" % s["by_rep"][r] if r in s["by_rep"] else "-" for r in range(s["repeats"]))


def table(summary, servers):
    def ms(v):
        return "%.2f" % v if v is not None else "-"
    fmt = "%-19s %9s %-14s %-20s %7s %13s %13s %9s %9s %9s"
    lines = [fmt % ("server", "max req/s", "repeats", "per repeat", "spread", "DO/RA ms @max",
                    "DO/RA ms @%d" % REF_RATE, "vs Kea", "udhcpd", "dnsmasq")]
    for name in servers:
        s = summary[name]
        lines.append(fmt % (
            name, figure(s), basis(s), per_repeat(s),
            "%.0f%%" % (100 * s["spread"]) if s.get("spread") is not None else "-",
            ms(s["do_ms"]) + "/" + ms(s["ra_ms"]), ms(s["do_ref"]) + "/" + ms(s["ra_ref"]),
            ratio_cell(summary, name, "kea"), ratio_cell(summary, name, "udhcpd"),
            ratio_cell(summary, name, "dnsmasq")))
    lines += left_out(summary, servers)
    for name in servers:
        if name in DO_ONLY:
            lines.append("%s: rated on DISCOVER-OFFER drops only (it loses REQUESTs from a fast relay, "
                         "see DO_ONLY in tools/bench.py)" % name)
    for rt in ("mpy", "cpy"):
        d, q = "microdhcp-" + rt, "microdhcp-%s-quiet" % rt
        if d in summary and q in summary:
            lines.append(ratio_line(summary, d, q, "%s default event lines / --quiet" % d))
        if q in summary:
            for peer in ("kea", "udhcpd"):
                if peer in summary:
                    lines.append(ratio_line(summary, q, peer, "%s / %s" % (q, peer)))
    if "mpy-floor" in summary:
        # tools/floor_responder.py: no DHCP logic, the same socket path on the same runtime
        v, why = ratio(summary, "microdhcp-mpy-quiet", "mpy-floor")
        lines.append("mpy-floor (the unix port's ceiling here, no DHCP logic): %s"
                     % ("microdhcp-mpy-quiet at %.2fx of it" % v if v is not None
                        else "- (%s)" % WHY.get(why, "microdhcp-mpy-quiet not in this run")))
    return lines


def left_out(summary, servers):
    # Why a repeat is missing from a row, and what the ratio columns' words mean.
    lines = []
    for name in servers:
        for rep, note in sorted(summary[name]["failed"].items()):
            lines.append("%s: repeat %d left out: %s" % (name, rep + 1, note[:160]))
    if lines:
        lines.append("ratio '- start': a repeat of either side did not start, so no ratio; "
                     "'- partial': fewer repeats than the run; '- zero': the divisor passed no rung")
    return lines


# ---------------------------------------------------------------- SVG plot (no dependency)

COLORS = {"microdhcp-mpy": "#d62728", "microdhcp-mpy-quiet": "#8c1a1a", "microdhcp-cpy": "#ff7f0e",
          "microdhcp-cpy-quiet": "#a65c00", "dnsmasq": "#1f77b4", "kea": "#2ca02c", "udhcpd": "#9467bd",
          "mpy-floor": "#7f7f7f"}


def svg_plot(rows, servers, path):
    import math
    rows = [r for r in rows if not start_failed(r)]     # measured nothing: no point on the plot
    offered = sorted({r["offered"] for r in rows if r["offered"]})
    if not offered:
        return
    W, H, L, R, T, B, GAP = 900, 380, 70, 150, 40, 50, 90
    pw = (W - L - R - GAP) // 2
    ph = H - T - B
    xmin, xmax = math.log10(min(offered)), math.log10(max(offered))
    if xmax <= xmin:
        xmax = xmin + 1
    # median per (server, offered) over repeats
    pts = {}
    for name in servers:
        for o in offered:
            rs = [r for r in rows if r["server"] == name and r["offered"] == o]
            if rs:
                pts.setdefault(name, []).append((o, statistics.median(r["achieved"] for r in rs),
                                                 statistics.median(max(r["do_drops_pct"], r["ra_drops_pct"]) for r in rs)))
    ymax_rate = max(offered)
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">' % (W, H),
           '<rect width="100%" height="100%" fill="white"/>']

    def panel(x0, title, ylabel, ymax, yget, logy):
        def X(v):
            return x0 + (math.log10(v) - xmin) / (xmax - xmin) * pw

        def Y(v):
            if logy:
                v = max(v, 10)
                return T + ph - (math.log10(v) - 1) / (math.log10(ymax) - 1) * ph
            return T + ph - min(v, ymax) / ymax * ph
        out.append('<text x="%d" y="%d" font-size="13" font-weight="bold">%s</text>' % (x0, T - 15, title))
        out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#444"/>' % (x0, T, pw, ph))
        for o in offered:
            out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>' % (X(o), T, X(o), T + ph))
            out.append('<text x="%.1f" y="%d" text-anchor="end" transform="rotate(-45 %.1f %d)">%d</text>'
                       % (X(o), T + ph + 12, X(o), T + ph + 12, o))
        ticks = [v for v in offered if v <= ymax] if logy else [ymax * i / 5 for i in range(6)]
        for v in ticks:
            out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/>' % (x0, Y(v), x0 + pw, Y(v)))
            out.append('<text x="%d" y="%.1f" text-anchor="end">%g</text>' % (x0 - 4, Y(v) + 4, round(v, 1)))
        out.append('<text x="%d" y="%d" text-anchor="middle">offered rate (4-way exchanges/s, log)</text>'
                   % (x0 + pw // 2, H - 5))
        out.append('<text x="%d" y="%d" text-anchor="middle" transform="rotate(-90 %d %d)">%s</text>'
                   % (x0 - 50, T + ph // 2, x0 - 50, T + ph // 2, ylabel))
        if logy:   # ideal: achieved == offered
            out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#999" stroke-dasharray="4 3"/>'
                       % (X(offered[0]), Y(offered[0]), X(offered[-1]), Y(offered[-1])))
        else:      # the 2.5 % criterion
            out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#999" stroke-dasharray="4 3"/>'
                       % (x0, Y(MAX_DROPS), x0 + pw, Y(MAX_DROPS)))
        for name, p in pts.items():
            c = COLORS.get(name, "#000")
            poly = " ".join("%.1f,%.1f" % (X(o), Y(yget(a, d))) for o, a, d in p)
            out.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>' % (poly, c))
            for o, a, d in p:
                out.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>' % (X(o), Y(yget(a, d)), c))

    panel(L, "achieved rate (median)", "achieved exchanges/s (log)", ymax_rate, lambda a, d: a, True)
    panel(L + pw + GAP, "drops, worse of DO and RA (median)", "drops % (clipped at 20)", 20.0,
          lambda a, d: d, False)
    for i, name in enumerate(pts):
        y = T + 10 + 18 * i
        out.append('<rect x="%d" y="%d" width="12" height="12" fill="%s"/>' % (W - R + 15, y, COLORS.get(name, "#000")))
        out.append('<text x="%d" y="%d">%s</text>' % (W - R + 32, y + 10, name))
    out.append('<text x="%d" y="%d" fill="#666">dashed: ideal / 2.5%% limit</text>' % (W - R + 15, T + 10 + 18 * len(pts) + 10))
    out.append("</svg>")
    Path(path).write_text("\n".join(out) + "\n")


def report(csv_path, servers=None):
    """Table from a CSV written earlier (--report FILE)."""
    rows = []
    with open(csv_path) as f:
        for r in csv.DictReader(f):
            for k in ("repeat", "offered", "pass", "do_sent", "do_recv", "ra_sent", "ra_recv"):
                r[k] = int(r[k] or 0)
            for k in ("achieved", "do_drops_pct", "ra_drops_pct"):
                r[k] = float(r[k] or 0)
            rows.append(r)
    servers = servers or [s for s in ORDER if any(r["server"] == s for r in rows)]
    repeats = 1 + max(r["repeat"] for r in rows)
    return table(summarize(rows, servers, repeats), servers)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="CI: 2 rungs (%s), 1 repeat, 2 s each" % (QUICK_LADDER,))
    ap.add_argument("--repeat", type=int, default=None, help="ladders per server (default 3, quick 1)")
    ap.add_argument("--period", type=int, default=None, help="seconds per rung (default 3, quick 2)")
    ap.add_argument("--bisect", type=int, default=MAX_BISECT, help="most bisection steps after the first failure")
    ap.add_argument("--precision", type=float, default=PRECISION,
                    help="bisect until first failure - last pass <= this share of last pass")
    ap.add_argument("--servers", default=",".join(ORDER),
                    help="comma list from %s (a microdhcp one brings its -quiet twin or the reverse)" % ",".join(ORDER))
    ap.add_argument("--rates", default=None, help="comma list of offered rates (overrides the ladder)")
    ap.add_argument("--out", default=str(REPO / "out" / "bench"))
    ap.add_argument("--report", metavar="CSV", help="print the table of an earlier run and exit")
    a = ap.parse_args(argv)
    if a.report:
        print("\n".join(report(a.report)))
        return 0
    if os.geteuid() != 0:
        print("bench.py needs root (network namespaces)", file=sys.stderr)
        return 2
    servers = benchlab.server_names(a.servers)
    # microdhcp is always measured both ways, default event lines and --quiet (issue 13 item 5)
    for s in list(servers):
        if s.startswith("microdhcp-"):
            twin = s[:-len("-quiet")] if s.endswith("-quiet") else s + "-quiet"
            if twin not in servers:
                servers.insert(servers.index(s) + (0 if s.endswith("-quiet") else 1), twin)
    missing = benchlab.ensure_packages(log)
    if missing:
        print("bench: missing %s; install them (see docs/performance.md)" % ", ".join(missing), file=sys.stderr)
        return 2
    repeats = a.repeat or (1 if a.quick else 3)
    period = a.period or (2 if a.quick else 3)
    rungs = tuple(int(x) for x in a.rates.split(",")) if a.rates else (QUICK_LADDER if a.quick else LADDER)
    bisect = 0 if a.quick else a.bisect
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    t0 = time.monotonic()
    log("bench: %d repeat(s), %d s per rung, ladder %s, pool %s-%s, %d clients, relay %s"
        % (repeats, period, ",".join(map(str, rungs)), POOL[0], POOL[1], CLIENTS, RELAY))
    with Lab() as lab:
        perf = lab.add_client(name="perfdhcp")   # also gives the bridge carrier (Kea needs it)
        lab.add_host_address(perf, RELAY)
        for rep in range(repeats):
            order = servers[rep % len(servers):] + servers[:rep % len(servers)]
            log("repeat %d/%d (order %s)" % (rep + 1, repeats, ", ".join(order)))
            for name in order:
                best, top = ladder(lab, perf, name, rungs, period, rep, bisect, rows, a.precision)
                if any(start_failed(r) for r in rows if r["server"] == name and r["repeat"] == rep):
                    log("  %-19s a rung did not start: this repeat is left out of the figures" % name)
                else:
                    log("  %-19s highest passing rate %d%s" % (name, best, "+ (top of ladder)" if top else ""))
    with open(out / "bench.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(r)
    svg_plot(rows, servers, out / "bench.svg")
    summary = summarize(rows, servers, repeats)
    log("")
    log("highest offered rate with DO and RA drops <= %.1f %% (median of %d repeats, or of those a row "
        "names when a start failed; bisected to %.0f %%; '+' = the median is the top of the ladder); "
        "spread = (highest - lowest repeat) / median; delays: perfdhcp's "
        "average DISCOVER-OFFER/REQUEST-ACK ms at that rate and at %d/s"
        % (MAX_DROPS, repeats, 100 * a.precision, REF_RATE))
    for line in table(summary, servers):
        log(line)
    log("wrote %s and %s (%.0f s)" % (out / "bench.csv", out / "bench.svg", time.monotonic() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
