#!/usr/bin/env python3
"""Reference servers for the benchmarks, started in a tools/lab.py Lab's server namespace.

Kept apart from lab.py: these command lines are tuned for rate measurements (no per-packet
logging), not for the lab's functional tests. Host tooling: CPython 3.11, stdlib only, root.

    with Lab() as lab:
        p = start_kea(lab, "192.168.4.2", "192.168.4.249", lease=3600)
        p = lab.start_dnsmasq("192.168.4.2", "192.168.4.249", lease=3600, quiet=True)
        p = start_udhcpd(lab, "192.168.4.2", "192.168.4.249", lease=3600)
"""

import ipaddress
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

# Debian package that provides each binary the benchmark runs.
PACKAGES = {"perfdhcp": "kea-admin", "kea-dhcp4": "kea-dhcp4-server", "dnsmasq": "dnsmasq-base",
            "udhcpd": "udhcpd", "micropython": None}


def missing_tools():
    return [b for b in PACKAGES if shutil.which(b) is None
            and not os.path.exists("/usr/sbin/" + b)]


def ensure_packages(log=print):
    """Install the Debian packages of missing binaries, with no service started (a
    policy-rc.d that exits 101, docs/boards.md "Other facts"). Returns the binaries still missing afterwards."""
    missing = missing_tools()
    pkgs = sorted({PACKAGES[b] for b in missing if PACKAGES[b]})
    if pkgs and shutil.which("apt-get"):
        policy = Path("/usr/sbin/policy-rc.d")
        made = False
        if not policy.exists():
            policy.write_text("#!/bin/sh\nexit 101\n")
            policy.chmod(0o755)
            made = True
        try:
            log("bench: installing %s" % " ".join(pkgs))
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *pkgs],
                           env=env, timeout=600, check=False)
        finally:
            if made:
                policy.unlink()
    return missing_tools()


def _subnet(lab):
    return ipaddress.ip_interface(lab.server_address).network


def start_kea(lab, first, last, lease=3600, tag="kea"):
    """kea-dhcp4 on the lab bridge: raw sockets, memfile not persisted, no control socket,
    Kea's default threading (2.2: single-threaded), start-up lines and warnings on stdout.
    Returns a Proc; ready when its log says DHCP4_STARTED. The bridge must have carrier (a
    port attached) first, or Kea opens no socket ("interface br0 is not running")."""
    d = lab.tmp / tag
    d.mkdir(exist_ok=True)
    net = _subnet(lab)
    conf = {"Dhcp4": {
        "interfaces-config": {"interfaces": [lab.bridge], "dhcp-socket-type": "raw"},
        "lease-database": {"type": "memfile", "persist": False, "lfc-interval": 0},
        "valid-lifetime": lease,
        "renew-timer": lease // 2,
        "rebind-timer": lease * 7 // 8,
        "subnet4": [{"id": 1, "subnet": str(net),
                     "pools": [{"pool": "%s - %s" % (first, last)}],
                     "option-data": [{"name": "routers", "data": lab.server_ip},
                                     {"name": "domain-name-servers", "data": lab.server_ip}]}],
        # DHCP4_STARTED is logged at INFO: keep the dhcp4 logger at INFO (one line per
        # start-up, nothing per packet) so readiness can be seen.
        "loggers": [{"name": "kea-dhcp4", "severity": "INFO",
                     "output_options": [{"output": "stdout"}]},
                    {"name": "kea-dhcp4.packets", "severity": "WARN",
                     "output_options": [{"output": "stdout"}]},
                    {"name": "kea-dhcp4.leases", "severity": "WARN",
                     "output_options": [{"output": "stdout"}]},
                    {"name": "kea-dhcp4.dhcpsrv", "severity": "WARN",
                     "output_options": [{"output": "stdout"}]}],
    }}
    path = d / "kea-dhcp4.json"
    path.write_text(json.dumps(conf, indent=1))
    env = dict(os.environ, KEA_PIDFILE_DIR=str(d), KEA_LOCKFILE_DIR=str(d),
               KEA_LOGGER_DESTINATION="stdout")
    return lab.spawn(lab.server_ns, ["kea-dhcp4", "-c", str(path)], env=env)


def start_udhcpd(lab, first, last, lease=3600, tag="udhcpd"):
    """busybox udhcpd (Debian's udhcpd package) in the foreground (-f), no ARP probe before an
    offer (-a 0: busybox waits 2 s for an ARP reply by default), on the bridge, lease file in the
    lab's temp dir. Returns a Proc; ready when its log says 'started'."""
    d = lab.tmp / tag
    d.mkdir(exist_ok=True)
    net = _subnet(lab)
    n = int(ipaddress.ip_address(last)) - int(ipaddress.ip_address(first)) + 1
    conf = d / "udhcpd.conf"
    conf.write_text("\n".join([
        "start %s" % first, "end %s" % last, "interface %s" % lab.bridge, "max_leases %d" % n,
        "lease_file %s" % (d / "udhcpd.leases"), "pidfile %s" % (d / "udhcpd.pid"),
        "option subnet %s" % net.netmask, "option router %s" % lab.server_ip,
        "option dns %s" % lab.server_ip, "option lease %d" % lease, ""]))
    (d / "udhcpd.leases").write_bytes(b"")
    return lab.spawn(lab.server_ns, ["udhcpd", "-f", "-a", "0", str(conf)])


def start_microdhcp(lab, first, last, lease=3600, runtime="micropython", quiet=True):
    """microdhcp as the host command runs it: with its default event lines (one per OFFER and
    ACK, to stdout, here the lab's log file) or with --quiet. Ready on 'serving on'."""
    argv = ["--iface", lab.bridge, "--address", lab.server_address, "--pool", "%s-%s" % (first, last),
            "--lease", str(lease), "--router", lab.server_ip, "--dns", lab.server_ip]
    if quiet:
        argv.append("--quiet")
    return lab.start_server(argv, runtime=runtime)


def start_floor(lab, first, last, lease=3600):
    """tools/floor_responder.py on the unix port: the runtime's and the kernel's share of a DORA,
    with no DHCP logic (a measuring stick, not a server). Ready on 'floor responder on'."""
    n = int(ipaddress.ip_address(last)) - int(ipaddress.ip_address(first)) + 1
    exe = shutil.which("micropython")
    return lab.spawn(lab.server_ns, [exe, str(Path(__file__).resolve().parent / "floor_responder.py"),
                                     lab.server_ip, first, str(n)])


def _micro(runtime, quiet):
    return lambda lab, a, b, t: start_microdhcp(lab, a, b, t, runtime, quiet)


# name -> (starter, readiness regex). microdhcp twice per runtime: as shipped (default event
# lines) and --quiet.
SERVERS = {
    "microdhcp-mpy": (_micro("micropython", False), r"serving on"),
    "microdhcp-mpy-quiet": (_micro("micropython", True), r"serving on"),
    "microdhcp-cpy": (_micro("cpython", False), r"serving on"),
    "microdhcp-cpy-quiet": (_micro("cpython", True), r"serving on"),
    "dnsmasq": (lambda lab, first, last, lease=3600: lab.start_dnsmasq(first, last, lease, quiet=True),
                r"DHCP, IP range"),
    "kea": (start_kea, r"DHCP4_STARTED"),
    "udhcpd": (start_udhcpd, r"udhcpd: started"),
    "mpy-floor": (start_floor, r"floor responder on"),
}


def server_names(text):
    """The servers of a --servers comma list; SystemExit(2) naming the choices for an unknown one."""
    names = [s for s in text.split(",") if s]
    for s in names:
        if s not in SERVERS:
            print("unknown server %r (one of %s)" % (s, ", ".join(SERVERS)), file=sys.stderr)
            raise SystemExit(2)
    return names


# Log lines that mean "started but cannot serve".
FAILED = {
    "kea": r"DHCPSRV_NO_SOCKETS_OPEN|DHCPSRV_OPEN_SOCKET_FAIL",
}
