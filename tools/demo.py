#!/usr/bin/env python3
"""`make demo`: microdhcp on the MicroPython unix port serving real clients in a namespace lab.

Builds the lab (tools/lab.py), starts the server, brings up six clients (busybox udhcpc,
ISC dhclient, dhcpcd), shows them getting addresses, one renewing (udhcpc SIGUSR1: a unicast
REQUEST from RENEWING state), one releasing (udhcpc SIGUSR2), prints the server's lease table,
tears everything down. Exits 0 only if every step was seen on both sides: the client's and the
server's event lines. Run as root. `--runtime cpython` runs the same demo on CPython.
"""
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as labmod  # noqa: E402


def step(msg):
    print("\n== " + msg, flush=True)


def wait_line(proc, regex, timeout, what):
    m = proc.wait_for(regex, timeout)
    if not m:
        raise SystemExit("demo: FAILED: %s (no line matching %r)" % (what, regex))
    print("   server: " + m.group(0).strip(), flush=True)
    return m


def count(proc, regex):
    return len(re.findall(regex, proc.output()))


def main(argv):
    runtime = "cpython" if "--runtime" in argv and argv[argv.index("--runtime") + 1] == "cpython" else "micropython"
    if os.geteuid() != 0:
        raise SystemExit("demo: needs root (network namespaces); run it with sudo")
    with labmod.Lab() as lab:
        step("lab: server namespace %s, bridge %s, server %s" % (lab.server_ns, lab.bridge, lab.server_address))
        args = lab.default_server_args(lease=120, extra=("--domain", "demo.lab"))
        print("   %s -m microdhcp %s" % (runtime, " ".join(args)))
        srv = lab.start_server(args, runtime=runtime)
        wait_line(srv, r"microdhcp: serving[^\n]*", 15, "server start")

        step("six clients join: 2 x udhcpc, 2 x dhclient, 2 x dhcpcd")
        got = []
        for tool in ("udhcpc", "udhcpc", "dhclient", "dhclient", "dhcpcd", "dhcpcd"):
            c = lab.add_client()
            if tool == "udhcpc":
                r = lab.udhcpc(c, ["-x", "hostname:sensor-%d" % (len(got) + 1)])
            elif tool == "dhclient":
                r = lab.dhclient(c, release=False)
            else:
                r = lab.dhcpcd_lease(c)
            if not r.ok:
                print(r.output[-2000:])
                raise SystemExit("demo: FAILED: %s on %s got no address" % (tool, c.mac))
            print("   %-8s %s -> %s router=%s dns=%s domain=%s lease=%s" % (
                tool, c.mac, r.ip, r.router, ",".join(r.dns), r.domain, r.lease_time), flush=True)
            got.append((tool, c, r))
            wait_line(srv, r"DHCPACK\([^)]*\) %s %s[^\n]*" % (re.escape(r.ip), re.escape(c.mac)), 5,
                      "DHCPACK for %s" % c.mac)
        ips = [r.ip for _, _, r in got]
        if len(set(ips)) != len(ips):
            raise SystemExit("demo: FAILED: duplicate addresses handed out: %s" % ips)

        step("a udhcpc client renews (SIGUSR1) and then releases (SIGUSR2)")
        c = lab.add_client(name="renewer")
        script, dump = lab._script("udhcpc")
        p = lab.spawn(c.ns, ["busybox", "udhcpc", "-f", "-i", c.ifname, "-t", "3", "-T", "1", "-s", str(script)])
        m = wait_line(srv, r"DHCPACK\([^)]*\) (\S+) %s[^\n]*" % re.escape(c.mac), 15, "renewer bound")
        ip = m.group(1)
        before = count(srv, r"DHCPACK\([^)]*\) %s %s" % (re.escape(ip), re.escape(c.mac)))
        discovers = count(srv, r"DHCPOFFER\([^)]*\) \S+ %s" % re.escape(c.mac))
        time.sleep(0.3)
        os.kill(p.pid, signal.SIGUSR1)
        deadline = time.monotonic() + 10
        while count(srv, r"DHCPACK\([^)]*\) %s %s" % (re.escape(ip), re.escape(c.mac))) <= before:
            if time.monotonic() > deadline:
                raise SystemExit("demo: FAILED: no renewal ACK for %s" % ip)
            time.sleep(0.05)
        if count(srv, r"DHCPOFFER\([^)]*\) \S+ %s" % re.escape(c.mac)) != discovers:
            raise SystemExit("demo: FAILED: the renewal went through DISCOVER instead of RENEWING")
        print("   renewed %s without a new DISCOVER" % ip)
        os.kill(p.pid, signal.SIGUSR2)
        wait_line(srv, r"DHCPRELEASE\([^)]*\) %s %s[^\n]*" % (re.escape(ip), re.escape(c.mac)), 10, "release")
        p.stop(signal.SIGTERM, 3)

        step("the server's lease table (SIGINT)")
        rc = srv.stop(signal.SIGINT, 10)
        out = srv.output()
        table = out[out.find("address "):] if "address " in out else ""
        print("\n".join("   " + l for l in table.splitlines()))
        if rc != 0 or not table:
            raise SystemExit("demo: FAILED: server exit %r, table %s" % (rc, "missing" if not table else "ok"))
        released = [l for l in table.splitlines() if l.startswith(ip + " ")]
        if not released or "released" not in released[0]:
            raise SystemExit("demo: FAILED: %s is not shown released in the table" % ip)
        bound = [l for l in table.splitlines() if " bound " in l]
        step("done: %d clients bound, 1 renewed, 1 released, on %s; lab torn down" % (len(bound), runtime))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
