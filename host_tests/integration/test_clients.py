# Real DHCP clients (busybox udhcpc, ISC dhclient, dhcpcd, nmap, perfdhcp) against microdhcp in a
# namespace lab, on both server runtimes. What each exchange must show is in each test's docstring.
import ipaddress
import os
import re
import signal
import subprocess

import lab as labmod  # tools/ is on sys.path (conftest.py)

ROUTER = "192.168.4.1"
DNS = ["192.168.4.1", "9.9.9.9"]
DOMAIN = "lab.test"
LEASE = 120
POOL = "192.168.4.2-192.168.4.249"


def server_args(lab, pool=POOL, lease=LEASE, extra=()):
    return ["--iface", lab.bridge, "--address", lab.server_address, "--pool", pool,
            "--lease", str(lease), "--router", ROUTER, "--dns", ",".join(DNS),
            "--domain", DOMAIN, "--offer-hold", "10", *extra]


def in_pool(ip, pool=POOL):
    first, last = (ipaddress.ip_address(a) for a in pool.split("-"))
    return ip is not None and first <= ipaddress.ip_address(ip) <= last


def assert_lease(res, srv, client, pool=POOL):
    """The client got an address of the pool with every configured option, and the server
    logged the binding (DHCPACK line for that address and MAC)."""
    assert res.ok, "%s got no lease:\n%s\n--- server ---\n%s" % (res.tool, res.output, srv.output())
    assert in_pool(res.ip, pool), res.ip
    assert res.subnet in ("255.255.255.0", "24"), res.subnet
    assert res.router == ROUTER
    assert res.dns == DNS
    assert res.domain == DOMAIN
    assert res.lease_time == LEASE
    assert res.server_id == ROUTER
    assert srv.wait_for(r"DHCPACK\(br0\) %s %s" % (re.escape(res.ip), client.mac), 5), srv.output()


def captured(lab, display_filter, *fields):
    """Rows (tuples of field strings) tshark decodes from the test's capture so far."""
    argv = ["tshark", "-n", "-r", str(lab.pcap), "-Y", display_filter, "-T", "fields"]
    for f in fields:
        argv += ["-e", f]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout
    return [tuple(line.split("\t")) for line in out.splitlines() if line.strip()]


wait_until = labmod.wait_until


def udhcpc_running(lab, client, extra=(), timeout=10):
    """udhcpc left running (udhcpc_spawn) until its script saw `bound`: (proc, LeaseResult)."""
    proc = lab.udhcpc_spawn(client, extra)
    ev = wait_until(lambda: [e for e in lab.dump_events(proc.dump) if e[0] == "bound"], timeout)
    assert ev, proc.output()
    return proc, lab.udhcpc_lease(*ev[0])


def udhcpc_release(lab, srv, client, pool=POOL):
    """udhcpc -R, bound, then SIGTERM: it unicasts a RELEASE on the way out (busybox quits
    -q before it is BOUND, so `-q -R` never releases). Returns the LeaseResult."""
    proc, res = udhcpc_running(lab, client, ["-R"])
    assert_lease(res, srv, client, pool)
    proc.stop(signal.SIGTERM)
    assert "unicasting a release" in proc.output(), proc.output()
    return res


# ------------------------------------------------------------------ a lease, every client

def test_udhcpc_lease(lab, server):
    """busybox udhcpc: DORA; router, DNS list, domain, lease time, server id as configured."""
    srv = server(server_args(lab))
    c = lab.add_client()
    res = lab.udhcpc(c)
    assert_lease(res, srv, c)
    assert res.ip + "/24" in lab.client_addresses(c)


def test_dhclient_lease(lab, server):
    """ISC dhclient: DORA (BOUND) with every option; then `dhclient -r` releases."""
    srv = server(server_args(lab))
    c = lab.add_client()
    res = lab.dhclient(c)
    assert res.reason == "BOUND"
    assert_lease(res, srv, c)


def test_dhcpcd_lease(lab, server):
    """dhcpcd 9 (oneshot, full DORA, own config with clientid): leased and configured."""
    srv = server(server_args(lab))
    c = lab.add_client()
    res = lab.dhcpcd_lease(c)
    assert res.reason == "BOUND", res.output
    assert_lease(res, srv, c)
    assert "leased %s for %d seconds" % (res.ip, LEASE) in res.output
    assert res.ip + "/24" in lab.client_addresses(c)
    srv.stop()
    assert srv.table[res.ip]["state"] == "bound"
    assert srv.table[res.ip]["client-id"] == "01:" + c.mac   # dhcpcd `clientid`: 01 + MAC


def test_dhcpcd_test_mode_offer(lab, server):
    """dhcpcd -T (test mode, DISCOVER/OFFER only): the OFFER carries every option."""
    srv = server(server_args(lab))
    c = lab.add_client()
    res = lab.dhcpcd(c)
    assert res.reason == "TEST", res.output
    assert in_pool(res.ip) and res.router == ROUTER and res.dns == DNS
    assert res.domain == DOMAIN and res.lease_time == LEASE and res.server_id == ROUTER
    assert srv.wait_for(r"DHCPOFFER\(br0\) %s %s" % (re.escape(res.ip), c.mac), 5)


def test_nmap_discover_reports_offer(lab, server):
    """nmap broadcast-dhcp-discover: one OFFER with router, DNS, domain, lease time, server id."""
    srv = server(server_args(lab))
    c = lab.add_client()
    res = lab.nmap_discover(c, probe_timeout=2)
    assert res.reason == "DHCPOFFER", res.output
    assert in_pool(res.ip), res.output
    assert res.subnet == "255.255.255.0"
    assert res.router == ROUTER and res.dns == DNS and res.domain == DOMAIN
    assert res.lease_time == LEASE and res.server_id == ROUTER
    assert "Response 1 of 1" in res.output, res.output   # one server, one answer
    assert srv.wait_for(r"DHCPOFFER\(br0\) %s %s" % (re.escape(res.ip), c.mac), 5)


# ------------------------------------------------------------------ renew, reboot, release

def last_frame(lab):
    rows = captured(lab, "frame", "frame.number")
    return int(rows[-1][0]) if rows else 0


def test_udhcpc_renew_on_sigusr1(lab, server):
    """udhcpc bound and running; SIGUSR1 makes it RENEW: a unicast REQUEST from ciaddr, no
    DISCOVER, and the server ACKs the same address again (no new OFFER)."""
    srv = server(server_args(lab))
    c = lab.add_client()
    proc, first = udhcpc_running(lab, c)
    assert_lease(first, srv, c)

    def event(name):
        return [e for e in lab.dump_events(proc.dump) if e[0] == name]

    assert wait_until(lambda: first.ip + "/24" in lab.client_addresses(c), 5)
    # Counted from here on: a loaded machine may make a client retransmit during the DORA.
    acks, offers = len(srv.events("DHCPACK", c.mac)), len(srv.events("DHCPOFFER", c.mac))
    mark = wait_until(lambda: last_frame(lab) if len(captured(
        lab, "dhcp.option.dhcp == 5", "frame.number")) >= acks else 0, 5)
    assert mark, "the capture does not show the ACKs so far"
    os.kill(proc.pid, signal.SIGUSR1)
    assert wait_until(lambda: event("renew"), 10), proc.output()
    renewed = lab.udhcpc_lease(*event("renew")[0])
    assert renewed.ip == first.ip and renewed.lease_time == LEASE
    assert wait_until(lambda: len(srv.events("DHCPACK", c.mac)) > acks, 5), srv.output()
    assert {f[0] for _, f in srv.events("DHCPACK", c.mac)} == {first.ip}, srv.output()
    assert len(srv.events("DHCPOFFER", c.mac)) == offers, srv.output()
    # On the wire after SIGUSR1: no DISCOVER; the REQUEST is unicast to the server from ciaddr,
    # with no requested-address and no server-id option (RFC 2131 4.3.2 RENEWING); an ACK of
    # the same address. If that ACK is later than udhcpc's -T 1 s (a loaded machine), udhcpc
    # goes on REBINDING: the same REQUEST broadcast, which the server ACKs as well.
    after = "frame.number > %d && " % mark
    fields = ("ip.src", "ip.dst", "dhcp.ip.client", "dhcp.option.requested_ip_address",
              "dhcp.option.dhcp_server_id")
    acked = wait_until(lambda: captured(lab, after + "dhcp.option.dhcp == 5", "dhcp.ip.your"), 5)
    assert acked and set(acked) == {(first.ip,)}, acked
    assert not captured(lab, after + "dhcp.option.dhcp == 1", "frame.number")
    requests = captured(lab, after + "dhcp.option.dhcp == 3", *fields)
    renewing, rebinding = (first.ip, ROUTER, first.ip, "", ""), \
        (first.ip, "255.255.255.255", first.ip, "", "")
    assert requests and requests[0] == renewing, requests
    assert set(requests) <= {renewing, rebinding}, requests
    proc.stop(signal.SIGTERM)
    srv.stop()
    assert srv.table[first.ip]["state"] == "bound"
    assert srv.counters.get("ack", 0) > acks and srv.counters.get("offer") == offers


def test_dhclient_init_reboot_keeps_address(lab, server):
    """dhclient bound, stopped without release, started again with its lease file: INIT-REBOOT
    (REQUEST for the old address, no DISCOVER) and the server ACKs the same address."""
    srv = server(server_args(lab))
    c = lab.add_client()
    first = lab.dhclient(c, release=False)
    assert_lease(first, srv, c)
    first.proc.stop(signal.SIGTERM)
    assert not srv.events("DHCPRELEASE"), srv.output()
    acks, offers = len(srv.events("DHCPACK", c.mac)), len(srv.events("DHCPOFFER", c.mac))
    mark = wait_until(lambda: last_frame(lab) if len(captured(
        lab, "dhcp.option.dhcp == 5", "frame.number")) >= acks else 0, 5)
    assert mark, "the capture does not show the ACKs so far"
    again = lab.dhclient(c, release=False)
    try:
        assert again.reason == "REBOOT", again.output
        assert again.ip == first.ip
        assert wait_until(lambda: len(srv.events("DHCPACK", c.mac)) > acks, 5), srv.output()
        assert {f[0] for _, f in srv.events("DHCPACK", c.mac)} == {first.ip}, srv.output()
        assert len(srv.events("DHCPOFFER", c.mac)) == offers, srv.output()
        # On the wire after the restart: no DISCOVER; REQUESTs in INIT-REBOOT form (RFC 2131
        # 4.3.2): broadcast, ciaddr 0, requested address = the old lease, no server id.
        after = "frame.number > %d && " % mark
        fields = ("ip.dst", "dhcp.ip.client", "dhcp.option.requested_ip_address",
                  "dhcp.option.dhcp_server_id")
        assert not captured(lab, after + "dhcp.option.dhcp == 1", "frame.number")
        requests = captured(lab, after + "dhcp.option.dhcp == 3", *fields)
        assert requests and set(requests) == {("255.255.255.255", "0.0.0.0", first.ip, "")}, \
            requests
    finally:
        again.proc.stop(signal.SIGTERM)
    srv.stop()
    assert srv.table[first.ip]["state"] == "bound"


def test_udhcpc_release(lab, server):
    """udhcpc -R: RELEASE on exit; the server logs it and its table shows the address released."""
    srv = server(server_args(lab))
    c = lab.add_client()
    res = udhcpc_release(lab, srv, c)
    assert srv.wait_for(r"DHCPRELEASE\(br0\) %s %s" % (re.escape(res.ip), c.mac), 5), srv.output()
    srv.stop()
    assert srv.table[res.ip]["state"] == "released"
    assert srv.counters.get("release") == 1


def test_dhclient_release(lab, server):
    """dhclient -r: RELEASE; the server's table shows the address released."""
    srv = server(server_args(lab))
    c = lab.add_client()
    res = lab.dhclient(c)   # release=True: runs `dhclient -r` after BOUND
    assert_lease(res, srv, c)
    assert srv.wait_for(r"DHCPRELEASE\(br0\) %s %s" % (re.escape(res.ip), c.mac), 5), srv.output()
    srv.stop()
    assert srv.table[res.ip]["state"] == "released"


# ------------------------------------------------------------------ decline, NAK

def test_udhcpc_arp_check_declines_address_in_use(lab, server):
    """nmap shows which address the server offers client A; that address is put on host B.
    udhcpc -a on A: the ARP check finds B, A sends DECLINE; the server quarantines the
    address and A ends up with another one."""
    srv = server(server_args(lab))
    a, b = lab.add_client(), lab.add_client()
    offer = lab.nmap_discover(a, probe_timeout=2)
    taken = offer.ip
    assert in_pool(taken), offer.output
    lab.add_host_address(b, taken + "/24")
    # -C: no client id, so A's identity is its chaddr as in nmap's DISCOVER and the held offer
    # is what A is offered again. -a1000: ARP check, 1 s for an answer. -A 1: retry 1 s
    # after the decline (default 20).
    res = lab.udhcpc(a, ["-C", "-a1000", "-A", "1"], timeout=25)
    assert "in use" in res.output, res.output
    assert srv.wait_for(r"DHCPDECLINE\(br0\) %s %s" % (re.escape(taken), a.mac), 5), srv.output()
    assert res.ok and res.ip != taken, res.output
    declines = captured(lab, "dhcp.option.dhcp == 4", "dhcp.option.requested_ip_address",
                        "dhcp.option.dhcp_server_id")
    assert declines == [(taken, ROUTER)], declines
    assert srv.wait_for(r"DHCPACK\(br0\) %s %s" % (re.escape(res.ip), a.mac), 5), srv.output()
    srv.stop()
    assert srv.table[taken]["state"] == "declined"
    assert srv.table[res.ip]["state"] == "bound"


def test_dhclient_foreign_lease_gets_nak_then_lease(lab, server):
    """dhclient holding a lease for 10.9.9.9 from 10.9.9.1: its INIT-REBOOT REQUEST gets a NAK
    (wrong network), then it starts over and gets a lease here."""
    srv = server(server_args(lab))
    c = lab.add_client()
    lab.dhclient_write_lease(c, "10.9.9.9", "10.9.9.1", router="10.9.9.1")
    res = lab.dhclient(c, timeout=25)
    assert srv.wait_for(r"DHCPNAK\(br0\) 10\.9\.9\.9 %s" % c.mac, 5), srv.output()
    assert res.reason == "BOUND", res.output
    assert_lease(res, srv, c)
    assert "DHCPNAK from 192.168.4.1" in res.output, res.output
    # On the wire: the NAK is broadcast (no giaddr) and names this server (option 54).
    naks = captured(lab, "dhcp.option.dhcp == 6", "ip.dst", "dhcp.option.dhcp_server_id",
                    "dhcp.ip.your")
    assert naks == [("255.255.255.255", ROUTER, "0.0.0.0")], naks
    srv.stop()
    assert srv.counters.get("nak") == 1


# ------------------------------------------------------------------ the segment

def test_two_servers_disjoint_pools(lab, server):
    """Two servers on one bridge (the second on its own host, .254, pool .200-.220) both offer;
    the client takes one offer, and the other server frees its offer on seeing the REQUEST
    name the winner (counter other_server, no offered row left in its table)."""
    pool1, pool2 = "192.168.4.2-192.168.4.100", "192.168.4.200-192.168.4.220"
    s1 = server(server_args(lab, pool=pool1))
    host = lab.add_server_host("192.168.4.254/24")
    s2 = server(["--iface", host.ifname, "--address", "192.168.4.254/24", "--pool", pool2,
                 "--lease", str(LEASE), "--router", ROUTER, "--dns", ",".join(DNS),
                 "--domain", DOMAIN, "--offer-hold", "10"], ns=host.ns)
    c = lab.add_client()
    res = lab.udhcpc(c)
    assert res.ok, res.output
    for s in (s1, s2):   # both answered the DISCOVER
        assert s.wait_for(r"DHCPOFFER\(\S+\) \S+ %s" % c.mac, 5), s.output()
    if res.server_id == "192.168.4.1":
        winner, loser, wpool = s1, s2, pool1
    else:
        winner, loser, wpool = s2, s1, pool2
    assert res.server_id in ("192.168.4.1", "192.168.4.254")
    offers = captured(lab, "dhcp.option.dhcp == 2", "ip.src", "dhcp.option.dhcp_server_id")
    assert set(offers) == {("192.168.4.1",) * 2, ("192.168.4.254",) * 2}, offers
    assert in_pool(res.ip, wpool)
    assert winner.wait_for(r"DHCPACK\(\S+\) %s %s" % (re.escape(res.ip), c.mac), 5)
    lost_offer = loser.events("DHCPOFFER", c.mac)[0][1][0]
    s1.stop()
    s2.stop()
    assert loser.counters.get("other_server", 0) >= 1, loser.output()
    assert not loser.events("DHCPACK"), loser.output()
    assert loser.table.get(lost_offer, {}).get("state") in (None, "free"), loser.output()
    assert not [r for r in loser.table.values() if r["state"] == "offered"], loser.output()
    assert winner.table[res.ip]["state"] == "bound"


def test_perfdhcp_relay_500_dora_no_drops(lab, server):
    """perfdhcp as a relay (giaddr .250, replies to giaddr:67): 500 DORA exchanges at 50/s from
    200 simulated clients; all 500 OFFERs and 500 ACKs arrive, no drops.

    -d 2: a reply later than 2 s counts as a drop (default 1 s; real clients wait 4 s before
    retransmitting, and this machine may be busy with other labs). -W: wait 0.5 s at the end
    for the last replies."""
    srv = server(server_args(lab, extra=["--quiet"]))
    perf = lab.perfdhcp(rate=50, duration=20, num_clients=200,
                        extra_args=["-n", "500", "-d", "2", "-W", "500000"], timeout=45)
    do, ra = perf.stats.get("DO", {}), perf.stats.get("RA", {})
    assert do.get("sent_packets") == 500 and do.get("received_packets") == 500, perf.output
    assert ra.get("sent_packets") == 500 and ra.get("received_packets") == 500, perf.output
    assert do.get("drops") == 0 and ra.get("drops") == 0, perf.output
    srv.stop()
    assert srv.counters.get("offer") == 500 and srv.counters.get("ack") == 500, srv.output()
    assert srv.counters.get("dropped") == 0, srv.output()


def test_perfdhcp_burst_every_event_line_written(lab, server):
    """Default event lines under load: lines are held and written in batches after each poll
    (status.EventLog); a burst of 600 DORAs at 600/s, then SIGINT: one DHCPOFFER line per OFFER
    and one DHCPACK line per ACK the server counted, none lost at exit, none doubled, each
    address and MAC well formed, and all of them before the lease table."""
    srv = server(server_args(lab))
    lab.perfdhcp(rate=600, duration=5, num_clients=200, extra_args=["-n", "600", "-W", "500000"],
                 timeout=40)
    srv.stop()
    offers, acks = srv.events("DHCPOFFER"), srv.events("DHCPACK")
    assert srv.counters.get("offer", 0) > 100, srv.counters
    assert len(offers) == srv.counters.get("offer") and len(acks) == srv.counters.get("ack"), \
        (len(offers), len(acks), srv.counters)
    for _, f in offers + acks:
        assert re.match(r"^192\.168\.4\.\d{1,3}$", f[0]) and re.match(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$", f[1]), f
    lines = srv.output().splitlines()
    table = max(i for i, l in enumerate(lines) if l.startswith("address "))
    assert all(not l.startswith("DHCP") for l in lines[table:]), lines[table:table + 5]


# ------------------------------------------------------------------ exhaustion

def test_pool_exhaustion_then_release(lab, server):
    """Pool of 4, five clients: four lease, the fifth gets nothing and the server says
    `no address available`; after one releases (udhcpc -R) the fifth gets that address."""
    pool = "192.168.4.10-192.168.4.13"
    srv = server(server_args(lab, pool=pool))
    clients = [lab.add_client() for _ in range(5)]
    got = [lab.udhcpc(c) for c in clients[:4]]
    for c, r in zip(clients, got):
        assert_lease(r, srv, c, pool)
    assert sorted(r.ip for r in got) == ["192.168.4.%d" % i for i in range(10, 14)]
    fifth = clients[4]
    none = lab.udhcpc(fifth, ["-t", "2"])
    assert not none.ok, none.output
    assert srv.wait_for(r"DHCPDISCOVER\(br0\) %s no address available" % fifth.mac, 5), \
        srv.output()
    rel = udhcpc_release(lab, srv, clients[0], pool)
    assert rel.ip == got[0].ip
    assert srv.wait_for(r"DHCPRELEASE\(br0\) %s %s" % (re.escape(rel.ip), clients[0].mac), 5)
    res = lab.udhcpc(fifth)
    assert_lease(res, srv, fifth, pool)
    assert res.ip == got[0].ip
    srv.stop()
    assert srv.counters.get("pool_exhausted", 0) >= 1
    assert srv.table[res.ip]["mac"] == fifth.mac and srv.table[res.ip]["state"] == "bound"
