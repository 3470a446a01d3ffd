#!/usr/bin/env python3
"""`make demo`, second part: the captive-portal kit (issue 14) on the MicroPython unix port in a
namespace lab. A phone-like client gets a lease (busybox udhcpc, hostname "phone"), resolves a
name through the kit's DNS and gets the portal address, follows Android's probe to the portal
page, and fetches the live status page, which lists its lease. Exits 0 only if every step was
seen. Run as root. `--runtime cpython` runs it on CPython.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as labmod  # noqa: E402
import pylib  # noqa: E402


def step(msg):
    print("\n== " + msg, flush=True)


def fail(what, detail=""):
    raise SystemExit("demo_portal: FAILED: %s\n%s" % (what, detail))


def main(argv):
    runtime = "cpython" if "--runtime" in argv and argv[argv.index("--runtime") + 1] == "cpython" else "micropython"
    if os.geteuid() != 0:
        raise SystemExit("demo_portal: needs root (network namespaces); run it with sudo")
    path = pylib.ensure()
    env = dict(os.environ, MICROPYPATH=path, PYTHONPATH=path)
    with labmod.Lab(tag="d") as lab:
        ip = lab.server_ip
        args = ["--iface", lab.bridge, "--address", lab.server_address, "--pool", "192.168.4.20-192.168.4.80",
                "--router", ip, "--domain", "lan", "--portal"]
        step("captive-portal kit: DHCP + DNS + HTTP on one loop")
        print("   %s -m microdhcp %s" % (runtime, " ".join(args)))
        srv = lab.start_server(args, runtime=runtime, env=env)
        if not srv.wait_for(r"microdhcp: kit:[^\n]*", 20):
            fail("server start", srv.output())
        c = lab.add_client()
        step("a phone joins (udhcpc, hostname phone)")
        r = lab.udhcpc(c, ["-x", "hostname:phone", "-O", "114"])
        if not r.ok:
            fail("no lease", r.output)
        portal_api = bytes.fromhex(r.env.get("opt114", "")).decode()
        print("   lease %s, DNS %s, captive-portal API (option 114) %s" % (r.ip, ",".join(r.dns), portal_api))
        step("it resolves connectivitycheck.gstatic.com through the kit's DNS")
        ans = lab.run(c.ns, ["dig", "+short", "@" + ip, "connectivitycheck.gstatic.com"], timeout=10).stdout.strip()
        print("   dig: " + ans)
        if ans != ip:
            fail("DNS did not answer the portal address", ans)
        step("Android's probe is sent to the portal page")
        cp = lab.run(c.ns, ["curl", "-s", "-m", "5", "-L", "--resolve", "connectivitycheck.gstatic.com:80:" + ip,
                            "-o", "/dev/null", "-w", "%{http_code} %{url_effective}",
                            "http://connectivitycheck.gstatic.com/generate_204"], timeout=10)
        print("   curl -L generate_204 -> " + cp.stdout)
        if not cp.stdout.startswith("200 http://%s/portal" % ip):
            fail("probe not redirected to the portal", cp.stdout)
        step("the live status page lists the lease")
        page = lab.run(c.ns, ["curl", "-s", "-m", "5", "http://%s/status" % ip], timeout=10).stdout
        rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", page)
        for row in rows:
            print("   " + "  ".join(row))
        if not any(row[0] == r.ip and row[2] == "phone" for row in rows):
            fail("status page does not list the lease", page)
        srv.stop()
        print("\ndemo_portal: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
