#!/usr/bin/env python3
"""DNS queries per second: the kit's DNS (captive mode; MicroPython unix port and CPython) against
dnsmasq's DNS (address=/#/ catch-all, the same answer) in the same run, in a namespace lab. A
client keeps WINDOW queries outstanding on one UDP socket for SECONDS and counts the replies.
Bounded; run as root:  python3 tools/bench_dns.py [--seconds 5]
"""
import os
import re
import sys
import time

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


def main(argv):
    secs = float(argv[argv.index("--seconds") + 1]) if "--seconds" in argv else 5.0
    path = pylib.ensure()
    env = dict(os.environ, MICROPYPATH=path, PYTHONPATH=path)
    results = []
    for who in ("micropython", "cpython", "dnsmasq"):
        with labmod.Lab(tag="b") as lab:
            ip = lab.server_ip
            if who == "dnsmasq":
                srv = lab.spawn(lab.server_ns, ["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--no-resolv",
                                                "--no-hosts", "--address=/#/" + ip, "--interface=" + lab.bridge,
                                                "--bind-interfaces", "--pid-file=" + str(lab.tmp / "d.pid")])
                time.sleep(1)
            else:
                srv = lab.start_server(["--iface", lab.bridge, "--address", lab.server_address, "--portal",
                                        "--http", "8080", "--quiet"], runtime=who, env=env)
                srv.wait_for(r"microdhcp: kit:", 20)
            c = lab.add_client()
            lab.add_host_address(c, "192.168.4.200/24")
            for window in (1, 8):
                cp = lab.run(c.ns, ["python3", "-c", _CLIENT, ip, str(secs), str(window)], timeout=secs + 20)
                qps = float(cp.stdout.strip() or 0)
                results.append((who, window, qps))
                print("%-12s window %d: %8.0f queries/s" % (who, window, qps), flush=True)
            if labmod.missing_prerequisites(("dnsperf",)) == []:
                qf = lab.tmp / "queries.txt"
                qf.write_text("example.com A\nconnectivitycheck.gstatic.com A\ncaptive.apple.com AAAA\n")
                cp = lab.run(c.ns, ["dnsperf", "-s", ip, "-d", str(qf), "-l", str(int(secs)), "-q", "20", "-t", "2"],
                             timeout=secs + 30)
                m = re.search(r"Queries per second:\s+([\d.]+)", cp.stdout)
                lost = re.search(r"Queries lost:\s+(\d+)", cp.stdout)
                qps = float(m.group(1)) if m else 0.0
                results.append((who, "dnsperf", qps))
                print("%-12s dnsperf -q 20: %8.0f queries/s (lost %s)" % (who, qps, lost.group(1) if lost else "?"),
                      flush=True)
            srv.stop()
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
