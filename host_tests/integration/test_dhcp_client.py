# microdhcp's own client side (issue 15) in the namespace lab: `python3 -m microdhcp probe`,
# `client --once` and `swarm` (raw-socket shell, tools/dhcpclient.py) against microdhcp, dnsmasq
# and Kea. What each exchange must show is in each test's docstring.
import json
import os
import re
import signal
import sys
import time

import benchlab  # tools/ is on sys.path (conftest.py)
import lab as labmod

FIRMWARE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "firmware")
POOL = "192.168.4.2-192.168.4.249"


def srv_args(lab, pool=POOL, dns="192.168.4.1", extra=()):
    return ["--iface", lab.bridge, "--address", lab.server_address, "--pool", pool, "--lease", "120",
            "--router", "192.168.4.1", "--dns", dns, "--offer-hold", "10", *extra]


def cmd(lab, client, *argv, timeout=40):
    """Runs `python3 -m microdhcp ARGV` in the client's namespace (CPython: the raw shell)."""
    env = dict(os.environ, PYTHONPATH=FIRMWARE, PYTHONUNBUFFERED="1")
    return lab.run(client.ns, [sys.executable, "-m", "microdhcp", *argv], env=env, timeout=timeout)


def probe_json(lab, client, *extra):
    cp = cmd(lab, client, "probe", "--iface", client.ifname, "--json", "--wait", "2", *extra)
    assert cp.stdout.strip(), cp.stderr
    return cp.returncode, json.loads(cp.stdout)


def second_server(lab, server, pool="192.168.4.200-192.168.4.220", dns="9.9.9.9"):
    host = lab.add_server_host("192.168.4.254/24")
    return server(["--iface", host.ifname, "--address", "192.168.4.254/24", "--pool", pool, "--lease", "120",
                   "--router", "192.168.4.1", "--dns", dns, "--offer-hold", "10"], ns=host.ns)


def test_probe_one_server_exit_0(lab, server):
    """One server: exit 0, its id, source MAC/IP, the offered address and decoded options; no
    warning (the engine echoes 61 and pads to 300 bytes)."""
    server(srv_args(lab))
    c = lab.add_client()
    code, r = probe_json(lab, c)
    assert code == 0 and r["exit"] == 0, r
    (s,) = r["servers"]
    assert s["server_id"] == "192.168.4.1" and s["source_ip"] == "192.168.4.1"
    assert s["source_mac"] == "02:6d:64:00:00:01"          # the lab bridge's fixed MAC
    assert s["offered"].startswith("192.168.4.") and s["length"] >= 300
    assert s["options"]["3"]["value"] == ["192.168.4.1"] and s["options"]["51"]["value"] == 120
    assert r["warnings"] == [], r["warnings"]


def test_probe_two_servers_exit_3_and_warnings(lab, server):
    """Two servers on one segment: both reported, exit 3, a rogue warning, and the DNS option
    that differs between them named."""
    server(srv_args(lab))
    second_server(lab, server)
    c = lab.add_client()
    code, r = probe_json(lab, c)
    assert code == 3, r
    assert sorted(s["server_id"] for s in r["servers"]) == ["192.168.4.1", "192.168.4.254"]
    assert any("possible rogue" in w for w in r["warnings"]), r["warnings"]
    assert any(w.startswith("option 6 (dns) differs") for w in r["warnings"]), r["warnings"]
    # Text output says the same.
    cp = cmd(lab, c, "probe", "--iface", c.ifname, "--wait", "2")
    assert cp.returncode == 3 and "2 servers answered" in cp.stdout, cp.stdout


def test_probe_no_server_exit_2(lab):
    """Nobody answers: exit 2 after the offer window."""
    c = lab.add_client()
    code, r = probe_json(lab, c)
    assert code == 2 and r["servers"] == [], r


def test_probe_full_request_ack_release(lab, server):
    """--full: REQUEST the first offer, ACK, RELEASE; the server logs the ACK and the RELEASE
    for that address and MAC."""
    srv = server(srv_args(lab))
    c = lab.add_client()
    code, r = probe_json(lab, c, "--full")
    assert code == 0 and r["full"]["result"] == "ack" and r["full"]["released"], r
    addr = r["full"]["lease"]["address"]
    assert srv.wait_for(r"DHCPACK\(br0\) %s %s" % (re.escape(addr), c.mac), 5), srv.output()
    assert srv.wait_for(r"DHCPRELEASE\(br0\) %s %s" % (re.escape(addr), c.mac), 5), srv.output()


def _client_once(lab, c, *extra, timeout=40):
    cp = cmd(lab, c, "client", "--iface", c.ifname, "--once", "--timeout", "30", *extra, timeout=timeout)
    m = re.search(r"^bound (\S+) from (\S+) lease (\d+)s", cp.stdout, re.M)
    return cp, m


def test_client_binds_against_microdhcp(lab, server):
    """client --once: DORA with the ARP check, exit 0, the lease printed; the server bound it."""
    srv = server(srv_args(lab))
    c = lab.add_client()
    cp, m = _client_once(lab, c)
    assert cp.returncode == 0 and m, cp.stdout + cp.stderr
    assert m.group(2) == "192.168.4.1" and m.group(3) == "120"
    assert srv.wait_for(r"DHCPACK\(br0\) %s %s" % (re.escape(m.group(1)), c.mac), 5), srv.output()


def test_client_binds_against_dnsmasq_and_kea(lab):
    """The same client against dnsmasq, then Kea (raw sockets), on the same segment."""
    c = lab.add_client()       # Kea needs a port on the bridge (carrier) before it starts
    d = lab.start_dnsmasq("192.168.4.10", "192.168.4.20", 300, quiet=True)
    assert d.wait_for(r"DHCP, IP range", 10), d.output()
    cp, m = _client_once(lab, c)
    assert cp.returncode == 0 and m, cp.stdout + cp.stderr + d.output()
    assert m.group(2) == "192.168.4.1" and m.group(3) == "300"
    d.stop()
    k = benchlab.start_kea(lab, "192.168.4.30", "192.168.4.40", 400)
    assert k.wait_for(r"DHCP4_STARTED", 20), k.output()
    time.sleep(0.5)
    cp, m = _client_once(lab, c)
    assert cp.returncode == 0 and m, cp.stdout + cp.stderr + k.output()
    assert m.group(1).startswith("192.168.4.") and 30 <= int(m.group(1).split(".")[3]) <= 40
    assert m.group(3) == "400"
    k.stop()


def test_client_declines_an_address_in_use(lab, server):
    """The offered address answers ARP (another host holds it): the client DECLINEs it, waits
    10 s (RFC 2131 4.4.1) and ends with another address; the server logs the DECLINE."""
    srv = server(srv_args(lab, pool="192.168.4.2-192.168.4.9"))
    c = lab.add_client()
    code, r = probe_json(lab, c)          # what the server will offer this MAC (held 10 s)
    taken = r["servers"][0]["offered"]
    squatter = lab.add_client()
    lab.add_host_address(squatter, taken + "/24")
    t0 = time.monotonic()
    cp, m = _client_once(lab, c, timeout=60)
    took = time.monotonic() - t0
    assert cp.returncode == 0 and m, cp.stdout + cp.stderr
    assert "declined %s: in use by %s" % (taken, squatter.mac) in cp.stdout, cp.stdout
    assert m.group(1) != taken
    assert took >= 10, took
    assert srv.wait_for(r"DHCPDECLINE\(br0\) %s" % re.escape(taken), 5), srv.output()


def test_client_retransmits_until_a_server_starts(lab):
    """No server for the first DISCOVERs: they go out 4 s and 8 s apart (+-1 s, RFC 2131 4.1,
    read from the capture), and the client binds once a server appears."""
    c = lab.add_client()
    env = dict(os.environ, PYTHONPATH=FIRMWARE, PYTHONUNBUFFERED="1")
    proc = lab.spawn(c.ns, [sys.executable, "-m", "microdhcp", "client", "--iface", c.ifname, "--once",
                            "--no-check", "--timeout", "40"], env=env)
    time.sleep(6)
    srv = lab.start_server(srv_args(lab), runtime="micropython")
    assert srv.wait_for("serving", 10)
    assert proc.wait_for(r"^bound ", 30), proc.output()
    proc.stop()
    rows = labmod._cmd(["tshark", "-n", "-r", str(lab.pcap), "-Y", "dhcp.option.dhcp == 1",
                        "-T", "fields", "-e", "frame.time_relative"], timeout=30).stdout.split()
    times = [float(t) for t in rows]
    assert len(times) >= 3, times
    gaps = [b - a for a, b in zip(times, times[1:])]
    # (whole-second client timers: a 4 +- 1 s wait is 3..5 s, give or take scheduling)
    assert 2.9 <= gaps[0] <= 5.5 and 6.9 <= gaps[1] <= 9.5, gaps
    srv.stop(timeout=5)


def test_client_init_reboot_nak_back_to_init(lab, server):
    """A remembered address from another network: INIT-REBOOT REQUEST, NAK, INIT, then a lease."""
    srv = server(srv_args(lab))
    c = lab.add_client()
    cp, m = _client_once(lab, c, "--address", "10.9.9.9", "--no-check")
    assert cp.returncode == 0 and m, cp.stdout + cp.stderr
    assert cp.stdout.index("nak") < cp.stdout.index("bound "), cp.stdout
    assert srv.wait_for(r"DHCPNAK\(br0\) 10\.9\.9\.9 %s" % c.mac, 5), srv.output()


def test_swarm_dora_renew_release(lab, server):
    """swarm -n 8 --renew: eight MACs bound to eight addresses, each renewed and released."""
    srv = server(srv_args(lab))
    c = lab.add_client()
    cp = cmd(lab, c, "swarm", "--iface", c.ifname, "-n", "8", "--renew", "--json", "--timeout", "30")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    s = json.loads(cp.stdout)["summary"]
    assert s["bound"] == 8 and s["renewed"] == 8 and s["released"] == 8 and s["distinct_addresses"] == 8, s
    assert wait_release(srv, 8), srv.output()
    assert len(srv.events("DHCPRELEASE")) == 8, srv.output()


def test_unix_port_client_over_udp_68(lab, server):
    """The MicroPython unix port's shell (microdhcp.clientnet, UDP socket on 68, broadcast flag):
    with a route on the bare interface it sends from 0.0.0.0 and binds."""
    srv = server(srv_args(lab))
    c = lab.add_client()
    lab.run(c.ns, ["ip", "route", "add", "default", "dev", c.ifname], check=True)
    env = dict(os.environ, MICROPYPATH=FIRMWARE)
    cp = lab.run(c.ns, ["micropython", "-m", "microdhcp", "client", "--iface", c.ifname, "--once",
                        "--timeout", "20"], env=env, timeout=40)
    m = re.search(r"^bound (\S+) from 192\.168\.4\.1 lease 120s", cp.stdout, re.M)
    assert cp.returncode == 0 and m, cp.stdout + cp.stderr
    assert srv.wait_for(r"DHCPACK\(br0\) %s %s" % (re.escape(m.group(1)), c.mac), 5), srv.output()


def test_unix_port_client_releases_on_ctrl_c(lab, server):
    """The unix-port client left running: bound, then SIGINT sends a RELEASE (broadcast, naming
    the server in 54, since the host does not hold the address) that the server takes."""
    srv = server(srv_args(lab))
    c = lab.add_client()
    lab.run(c.ns, ["ip", "route", "add", "default", "dev", c.ifname], check=True)
    env = dict(os.environ, MICROPYPATH=FIRMWARE)
    proc = lab.spawn(c.ns, ["micropython", "-m", "microdhcp", "client", "--iface", c.ifname], env=env)
    m = proc.wait_for(r"(?m)^bound (\S+) from 192\.168\.4\.1", 15)
    assert m, proc.output()
    assert proc.stop(signal.SIGINT, timeout=5) == 0, proc.output()
    assert proc.output().count("released") == 1, proc.output()
    assert srv.wait_for(r"DHCPRELEASE\(br0\) %s %s" % (re.escape(m.group(1)), c.mac), 5), srv.output()
    # On the wire: one RELEASE, broadcast, naming this server (54), for the leased address (ciaddr).
    rel = captured(lab, "dhcp.option.dhcp == 7", "ip.dst", "dhcp.option.dhcp_server_id", "dhcp.ip.client")
    assert rel == [("255.255.255.255", "192.168.4.1", m.group(1))], rel


def test_unix_port_swarm_over_udp_68(lab, server):
    """`micropython -m microdhcp swarm -n 4` (clientnet, several clients on one UDP socket, as a
    board could run it): four MACs bound to four addresses, then released."""
    srv = server(srv_args(lab))
    c = lab.add_client()
    lab.run(c.ns, ["ip", "route", "add", "default", "dev", c.ifname], check=True)
    env = dict(os.environ, MICROPYPATH=FIRMWARE)
    cp = lab.run(c.ns, ["micropython", "-m", "microdhcp", "swarm", "--iface", c.ifname, "-n", "4",
                        "--timeout", "20"], env=env, timeout=40)
    assert cp.returncode == 0 and "bound 4/4, distinct addresses 4, released 4" in cp.stdout, cp.stdout + cp.stderr
    assert wait_release(srv, 4), srv.output()


def wait_release(srv, n, timeout=5):
    return labmod.wait_until(lambda: len(srv.events("DHCPRELEASE")) >= n, timeout)


def test_client_renews_then_releases_on_ctrl_c(lab):
    """client (no --once) against Kea with a 10 s lease (T1 5 s): bound, renewed at T1 with a
    unicast REQUEST from the leased address (RFC 2131 4.4.5; the raw shell answers ARP for it),
    then SIGINT (Ctrl-C) sends a RELEASE. (microdhcp grants at least 60 s, so Kea keeps this short.)"""
    c = lab.add_client()       # Kea needs a port on the bridge (carrier) before it starts
    k = benchlab.start_kea(lab, "192.168.4.30", "192.168.4.40", 10)
    assert k.wait_for(r"DHCP4_STARTED", 20), k.output()
    time.sleep(0.5)
    env = dict(os.environ, PYTHONPATH=FIRMWARE, PYTHONUNBUFFERED="1")
    proc = lab.spawn(c.ns, [sys.executable, "-m", "microdhcp", "client", "--iface", c.ifname, "--no-check"],
                     env=env)
    m = proc.wait_for(r"(?m)^bound (\S+) from 192\.168\.4\.1 lease 10s T1 5s", 15)
    assert m, proc.output()
    addr = m.group(1)
    assert proc.wait_for(r"(?m)^renewed %s from 192\.168\.4\.1" % re.escape(addr), 15), proc.output()
    assert proc.stop(signal.SIGINT, timeout=5) == 0, proc.output()
    assert "released %s" % addr in proc.output(), proc.output()
    k.stop()
    renew = captured(lab, "dhcp.option.dhcp == 3 && ip.dst == 192.168.4.1", "ip.src", "dhcp.ip.client")
    assert (addr, addr) in renew, renew
    rel = captured(lab, "dhcp.option.dhcp == 7", "ip.src", "ip.dst", "dhcp.ip.client")
    assert rel == [(addr, "192.168.4.1", addr)], rel


def captured(lab, display_filter, *fields):
    argv = ["tshark", "-n", "-r", str(lab.pcap), "-Y", display_filter, "-T", "fields"]
    for f in fields:
        argv += ["-e", f]
    out = labmod._cmd(argv, timeout=30, check=False).stdout
    return [tuple(line.split("\t")) for line in out.splitlines() if line.strip()]
