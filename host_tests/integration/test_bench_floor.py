# The measuring stick of the benchmarks (tools/floor_responder.py, "mpy-floor" in tools/bench.py and
# tools/bench_cpu.py) in the namespace lab: its figure bounds what any server on the MicroPython
# unix port can reach there, so it must really complete DORAs for perfdhcp, and answer nothing
# that is not a DISCOVER or a REQUEST. Runs once (it is not microdhcp: the runtime fixture's
# second run would repeat the same thing).
import sys

import benchlab  # tools/ is on sys.path (conftest.py)

import pytest


@pytest.fixture
def runtime():
    return "micropython"      # the responder exists only on the unix port (viper)


def test_floor_responder_completes_dora_for_perfdhcp(lab):
    """perfdhcp as a relay, 20 clients at 20/s for 3 s: every DISCOVER gets an OFFER and every
    REQUEST an ACK from the responder, each with an address of the pool."""
    proc = benchlab.start_floor(lab, "192.168.4.2", "192.168.4.249")
    assert proc.wait_for(r"floor responder on 192\.168\.4\.1", 10), proc.output()
    res = lab.perfdhcp(rate=20, duration=3, num_clients=20, timeout=30)
    do, ra = res.stats["DO"], res.stats["RA"]
    assert do["sent_packets"] >= 40, res.stats
    assert do["received_packets"] == do["sent_packets"], res.stats
    assert ra["sent_packets"] == do["received_packets"], res.stats
    assert ra["received_packets"] == ra["sent_packets"], res.stats
    assert proc.alive(), proc.output()


def test_floor_responder_answers_only_discover_and_request(lab):
    """A relayed INFORM (type 8) and a BOOTREPLY (an ACK) get nothing; a relayed DISCOVER that follows
    gets an OFFER (type 2) with the responder's server id and xid echoed."""
    proc = benchlab.start_floor(lab, "192.168.4.2", "192.168.4.249")
    assert proc.wait_for(r"floor responder on", 10), proc.output()
    relay = lab.add_client(name="relay")
    lab.add_host_address(relay, "192.168.4.250/24")
    script = r'''
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.168.4.250", 67))
s.settimeout(1.0)
def msg(op, kind, xid):
    m = bytearray(300)
    m[0] = op; m[1] = 1; m[2] = 6; m[3] = 1
    m[4:8] = xid
    m[24:28] = bytes([192, 168, 4, 250])
    m[28:34] = bytes([2, 0, 0, 0, 0, 7])
    m[236:240] = bytes([99, 130, 83, 99])
    m[240:244] = bytes([53, 1, kind, 255])
    return m
for op, kind, xid in ((1, 8, b"INF0"), (2, 5, b"REP0"), (1, 1, b"DIS0")):
    s.sendto(msg(op, kind, xid), ("192.168.4.1", 67))
    try:
        r = s.recv(1500)
        print("reply", r[4:8].decode(), r[0], r[242], ".".join(str(x) for x in r[245:249]), r[19])
    except socket.timeout:
        print("none", xid.decode())
'''
    cp = lab.run(relay.ns, [sys.executable, "-c", script], timeout=20)
    out = cp.stdout.split("\n")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert out[0] == "none INF0" and out[1] == "none REP0", cp.stdout
    # OFFER: op 2, option 53 = 2, server id 192.168.4.1, yiaddr .2 + (7 % 248)
    assert out[2] == "reply DIS0 2 2 192.168.4.1 9", cp.stdout
