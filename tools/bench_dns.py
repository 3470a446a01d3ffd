#!/usr/bin/env python3
"""DNS queries per second: the kit's DNS (captive mode; MicroPython unix port and CPython) against
dnsmasq's DNS (address=/#/ catch-all, the same answer) in the same run, in a namespace lab. A
client keeps WINDOW queries outstanding on one UDP socket for SECONDS and counts the replies.
Each server is measured only once it answers a query (bounded wait); then the ratio kit/dnsmasq
per window. A server that never answers or dies, or a query client that fails, ends the run with
a message (exit 1), never a figure. Bounded; run as root:  python3 tools/bench_dns.py [--seconds 5]
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as labmod  # noqa: E402
import pylib  # noqa: E402

_CLIENT = r"""
import socket, sys, time, select
srv, secs, window = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
q = bytes.fromhex("abcd01000001000000000000076578616d706c6503636f6d0000010001")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((srv, 53))
for _ in range(window):
    s.send(q)
got = 0
end = time.time() + secs
while time.time() < end:
    r, _, _ = select.select([s], [], [], 0.2)
    if not r:
        for _ in range(window):      # lost ones: top the window up again
            s.send(q)
        continue
    s.recv(600)
    got += 1
    s.send(q)
print(got / secs)
"""


# Ready means answering: one query every 0.2 s until a reply with its id comes back, at most
# SECS seconds (a log line or a fixed sleep says nothing about the socket being served).
_PROBE = r"""
import socket, sys, time
srv, secs = sys.argv[1], float(sys.argv[2])
q = bytes.fromhex("abcd01000001000000000000076578616d706c6503636f6d0000010001")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.2)
end = time.time() + secs
while time.time() < end:
    try:
        s.sendto(q, (srv, 53))
        if s.recv(600)[:2] == q[:2]:
            sys.exit(0)
    except OSError:       # no reply yet (timeout) or nothing listening yet
        pass
sys.exit("no DNS answer from %s within %g s" % (srv, secs))
"""
READY_S = 10


class Failed(Exception):
    """A run that measured nothing: reported as such, never as a figure."""


def _tail(text, n=300):
    return text.strip()[-n:].replace("\n", " | ")


def start(lab, who, env):
    # The server under test in the lab's server namespace; the kit must also print its start line.
    if who == "dnsmasq":
        return lab.spawn(lab.server_ns, ["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--no-resolv",
                                         "--no-hosts", "--address=/#/" + lab.server_ip, "--interface=" + lab.bridge,
                                         "--bind-interfaces", "--pid-file=" + str(lab.tmp / "d.pid")])
    srv = lab.start_server(["--iface", lab.bridge, "--address", lab.server_address, "--portal",
                            "--http", "8080", "--quiet"], runtime=who, env=env)
    if not srv.wait_for(r"microdhcp: kit:", 20):
        raise Failed("%s: the kit did not start: %s" % (who, _tail(srv.output())))
    return srv


def wait_ready(lab, who, srv, c):
    cp = lab.run(c.ns, ["python3", "-c", _PROBE, lab.server_ip, str(READY_S)], timeout=READY_S + 10)
    if cp.returncode != 0:
        raise Failed("%s: not answering DNS (%s); server %s: %s"
                     % (who, _tail(cp.stderr, 200), "running" if srv.alive() else "exited", _tail(srv.output())))


def window_qps(lab, who, srv, c, secs, window):
    # One client run; its figure only when it exited cleanly, got replies and the server lived.
    cp = lab.run(c.ns, ["python3", "-c", _CLIENT, lab.server_ip, str(secs), str(window)], timeout=secs + 20)
    if cp.returncode != 0:
        raise Failed("%s window %d: the query client failed (exit %s): %s" % (who, window, cp.returncode, _tail(cp.stderr)))
    qps = float(cp.stdout.strip())
    if qps <= 0:
        raise Failed("%s window %d: no reply in %g s" % (who, window, secs))
    if not srv.alive():
        raise Failed("%s window %d: the server exited during the run: %s" % (who, window, _tail(srv.output())))
    return qps


def dnsperf_qps(lab, who, c, secs):
    # dnsperf's rate and lost count; a run it did not finish (or did not report) is a failure.
    qf = lab.tmp / "queries.txt"
    qf.write_text("example.com A\nconnectivitycheck.gstatic.com A\ncaptive.apple.com AAAA\n")
    cp = lab.run(c.ns, ["dnsperf", "-s", lab.server_ip, "-d", str(qf), "-l", str(int(secs)), "-q", "20", "-t", "2"],
                 timeout=secs + 30)
    m = re.search(r"Queries per second:\s+([\d.]+)", cp.stdout)
    if cp.returncode != 0 or not m or float(m.group(1)) <= 0:
        raise Failed("%s: dnsperf gave no rate (exit %s): %s" % (who, cp.returncode, _tail(cp.stdout + cp.stderr)))
    lost = re.search(r"Queries lost:\s+(\d+)", cp.stdout)
    return float(m.group(1)), lost.group(1) if lost else "?"


def measure(who, secs, env, results):
    # One server in a lab of its own: ready check, the two windows, dnsperf when installed.
    with labmod.Lab(tag="b") as lab:
        srv = start(lab, who, env)
        c = lab.add_client()
        lab.add_host_address(c, "192.168.4.200/24")
        wait_ready(lab, who, srv, c)
        for window in (1, 8):
            qps = window_qps(lab, who, srv, c, secs, window)
            results.append((who, window, qps))
            print("%-12s window %d: %8.0f queries/s" % (who, window, qps), flush=True)
        if labmod.missing_prerequisites(("dnsperf",)) == []:
            qps, lost = dnsperf_qps(lab, who, c, secs)
            results.append((who, "dnsperf", qps))
            print("%-12s dnsperf -q 20: %8.0f queries/s (lost %s)" % (who, qps, lost), flush=True)
        srv.stop()


def ratio_lines(results):
    # kit / dnsmasq per window from this run's figures only: speed is quoted against the peer
    # measured in the same session, not as absolute rates compared across runs.
    qps = {(who, w): v for who, w, v in results}
    lines = []
    for w in dict.fromkeys(w for _, w, _ in results):
        base = qps.get(("dnsmasq", w))
        parts = ["%s %.2fx" % (who, qps[(who, w)] / base)
                 for who in ("micropython", "cpython") if base and (who, w) in qps]
        if parts:
            label = "dnsperf -q 20" if w == "dnsperf" else "window %d" % w
            lines.append("kit / dnsmasq, %s: %s" % (label, ", ".join(parts)))
    return lines


def main(argv):
    secs = float(argv[argv.index("--seconds") + 1]) if "--seconds" in argv else 5.0
    path = pylib.ensure()
    env = dict(os.environ, MICROPYPATH=path, PYTHONPATH=path)
    results = []
    for who in ("micropython", "cpython", "dnsmasq"):
        measure(who, secs, env, results)
    for line in ratio_lines(results):
        print(line, flush=True)
    return results


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except Failed as e:
        sys.exit("bench_dns: %s" % e)
