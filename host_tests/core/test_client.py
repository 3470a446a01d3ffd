# microdhcp.client (issue 15): the sans-IO client against the project's own Engine (bytes in,
# bytes out, time passed in, no sockets) and against hand-altered replies. Runs under pytest and
# micropython host_tests/mp_runner.py.
import sys
from array import array
import dhcpkit as k
from microdhcp import status
from microdhcp.config import Config
from microdhcp.engine import Engine
from microdhcp import client as cl
from microdhcp.client import Client

SRV_A = k.ip("192.168.4.1")
SRV_B = k.ip("192.168.4.2")
MAC = k.mac(0x51)


def engine(address="192.168.4.1/24", pool=("192.168.4.10", "192.168.4.19"), **kw):
    kw.setdefault("routers", ["192.168.4.1"])
    kw.setdefault("dns", ["192.168.4.1", "9.9.9.9"])
    kw.setdefault("lease_time", 1000)
    return Engine(Config(address, pool=pool, **kw))


class Seq:
    # Deterministic rand(): the given values in turn (then repeated), so jitter is known.
    def __init__(self, values=(0,)):
        self.v = values
        self.i = 0

    def __call__(self):
        x = self.v[self.i % len(self.v)]
        self.i += 1
        return x


def client(**kw):
    kw.setdefault("rand", Seq((0x1234, 0x5678, 7, 9)))
    kw.setdefault("jitter", 0)
    ev = []
    kw.setdefault("on_event", ev.append)
    c = Client(MAC, **kw)
    c.events = ev
    c.tx = bytearray(1500)
    return c


class Net:
    """A segment: every client message reaches every engine (unless dropped); replies come back
    in engine order. `sent` records (time, parsed message, dst_kind, dst)."""

    def __init__(self, c, *engines):
        self.c = c
        self.engines = engines
        self.sent = []
        self.drop = 0          # drop the next N client messages
        self.drop_all = False
        self.etx = bytearray(1500)

    def step(self, now):
        # Poll the client once at `now`, deliver, feed replies back. Returns the replies' types.
        c = self.c
        n = c.poll(now, c.tx)
        got = []
        if not n:
            return got
        m = k.parse(c.tx, n)
        self.sent.append((now, m, c.dst_kind, bytes(c.dst)))
        if self.drop_all:
            return got
        if self.drop:
            self.drop -= 1
            return got
        data = bytes(c.tx[:n])
        for e in self.engines:
            r = e.handle(data, now, self.etx)
            if r:
                got.append(self.etx[242])
                c.handle(bytes(self.etx[:r]), now)
        return got

    def run(self, start, end):
        t = start
        while t <= end:
            self.step(t)
            t += 1

    def types(self):
        return [m["type"] for _, m, _, _ in self.sent]


def bind(c, net, now=0):
    c.start(now)
    net.step(now)          # DISCOVER -> OFFER
    net.step(now + c.offer_window)   # REQUEST -> ACK
    assert c.state == cl.BOUND, (cl.STATE_NAMES[c.state], c.events, c.counters)


def bound(**kw):
    # A client made with kw, bound through a default engine: (engine, client, net).
    e = engine()
    c = client(**kw)
    net = Net(c, e)
    bind(c, net)
    return e, c, net


def test_client_dora_against_engine():
    e, c, net = bound(hostname=b"sensor-1")
    assert c.events == [cl.EV_OFFER, cl.EV_BOUND]
    addr = bytes(c.addr)
    assert e.table.state[e.table.slot_of(e.cfg.offset(addr))] != 0
    info = c.lease_info(0)
    assert info["server"] == "192.168.4.1" and info["mask"] == "255.255.255.0"
    assert info["router"] == "192.168.4.1" and info["dns"] == ["192.168.4.1", "9.9.9.9"]
    assert (c.lease, c.t1, c.t2) == (1000, 500, 875)
    assert c.configured and c.ignored() == 0
    # The engine saw the hostname: its lease listing names the client.
    # The engine bound it and saw the hostname: (address, mac, client id, hostname, state, left).
    assert [(l[0], l[3], l[4]) for l in status.leases(e, 0)] == [(k.ipstr(addr), "sensor-1", "bound")], status.leases(e, 0)


def test_client_message_fields():
    """RFC 2131 table 5: DISCOVER and SELECTING REQUEST fields and options."""
    e = engine()
    c = client(hostname=b"h1", broadcast=True, client_id=b"\x00abc", offer_window=3)
    net = Net(c, e)
    c.start(100)
    net.drop = 1
    net.step(100)                 # DISCOVER, dropped
    net.step(104)                 # retransmitted 4 s later, answered
    net.step(107)                 # REQUEST at the end of the offer window
    d0, d1, rq = (s[1] for s in net.sent[:3])
    assert [d0["type"], d1["type"], rq["type"]] == [k.DISCOVER, k.DISCOVER, k.REQUEST]
    for m in (d0, d1, rq):
        assert m["op"] == 1 and m["htype"] == 1 and m["hlen"] == 6 and m["len"] >= 300
        assert m["chaddr"] == MAC + bytes(10)
        assert m["flags"] == 0x8000                 # broadcast=True: cannot take unicast yet
        assert m["ciaddr"] == bytes(4)
        assert m["options"][61] == b"\x00abc"
        assert m["options"][12] == b"h1"
        assert m["options"][55] == cl.DEFAULT_PRL
        assert m["order"][0] == 53
    assert d0["xid"] == d1["xid"] == rq["xid"]     # one exchange, one xid (4.4.1, table 5)
    # 4.4.1: the REQUEST repeats the secs of the DISCOVER it answers (4, although sent at 7 s).
    assert d0["secs"] == 0 and d1["secs"] == 4 and rq["secs"] == 4 and net.sent[2][0] == 107
    assert 50 not in d0["options"] and 54 not in d0["options"]
    assert rq["options"][54] == SRV_A and rq["options"][50] == bytes(c.addr)
    assert all(s[2] == cl.DST_BROADCAST for s in net.sent)
    # Default client id: type 1 + MAC (RFC 2132 9.14); no hostname option when none is set.
    c2 = client()
    c2.start(0)
    n = c2.poll(0, c2.tx)
    m = k.parse(c2.tx, n)
    assert m["options"][61] == b"\x01" + MAC and 12 not in m["options"] and m["flags"] == 0


def test_client_xid_differs_per_exchange():
    c = client(rand=Seq((1, 2, 3, 4, 5, 6)))
    c.start(0)
    x1 = k.parse(c.tx, c.poll(0, c.tx))["xid"]
    c.start(10)
    x2 = k.parse(c.tx, c.poll(10, c.tx))["xid"]
    assert x1 != x2


def test_client_retransmission_schedule():
    """RFC 2131 4.1: 4, 8, 16, 32, 64 s (64 repeated), +-1 s randomization, configurable."""
    c = client(jitter=0)
    net = Net(c)
    c.start(0)
    net.run(0, 300)
    times = [s[0] for s in net.sent]
    assert times == [0, 4, 12, 28, 60, 124, 188, 252], times
    assert c.counter("retransmit") == 7
    # Jitter: rand() % 3 - 1 -> -1, 0, +1 in turn (xid draws take the first two values of each
    # exchange, so the sequence is fed from index 2 on).
    c = client(jitter=1, rand=Seq((0, 0, 0, 1, 2)))
    net = Net(c)
    c.start(0)
    net.run(0, 40)
    times = [s[0] for s in net.sent]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert gaps == [3, 8, 17, 31][:len(gaps)] and len(gaps) >= 3, gaps
    for g, base in zip(gaps, (4, 8, 16, 32)):
        assert base - 1 <= g <= base + 1
    # Configurable schedule and a bound on DISCOVER tries.
    c = client(backoff=(1, 2), discover_tries=4)
    net = Net(c)
    c.start(0)
    net.run(0, 30)
    assert [s[0] for s in net.sent] == [0, 1, 3, 5]
    assert c.state == cl.STOPPED and c.events == [cl.EV_GAVE_UP]


def test_client_retransmits_to_a_server_that_drops_the_first_messages():
    e = engine()
    c = client()
    net = Net(c, e)
    net.drop = 3
    c.start(0)
    net.run(0, 40)
    assert c.state == cl.BOUND
    assert net.types()[:5] == [k.DISCOVER] * 4 + [k.REQUEST]
    assert [s[0] for s in net.sent[:4]] == [0, 4, 12, 28]


def test_client_offer_window_and_choice_policy():
    """Two servers: first offer wins by default; prefer_server / prefer_addr choose another.
    The REQUEST names the chosen server, so the other withdraws its offer (RFC 2131 4.3.2)."""
    a = engine("192.168.4.1/24", ("192.168.4.10", "192.168.4.19"))
    b = engine("192.168.4.2/24", ("192.168.4.100", "192.168.4.109"))
    c = client(offer_window=2)
    net = Net(c, a, b)
    bind(c, net)
    assert bytes(c.server) == SRV_A and c.addr[3] < 20 and c.offers == 2
    req = net.sent[-1][1]
    assert req["options"][54] == SRV_A

    a = engine("192.168.4.1/24", ("192.168.4.10", "192.168.4.19"))
    b = engine("192.168.4.2/24", ("192.168.4.100", "192.168.4.109"))
    c = client(offer_window=2, prefer_server=SRV_B)
    net = Net(c, a, b)
    c.start(0)
    net.step(0)
    assert c.offers == 2 and c.state == cl.SELECTING
    net.step(1)                  # window still open: nothing sent
    assert len(net.sent) == 1
    net.step(2)
    assert c.state == cl.BOUND and bytes(c.server) == SRV_B and c.addr[3] >= 100
    assert net.sent[-1][1]["options"][54] == SRV_B
    # Server A saw the REQUEST naming B and freed its offer: nothing of A's is offered/bound.
    assert [l for l in status.leases(a, 2) if l[4] in ("offered", "bound")] == []

    a = engine("192.168.4.1/24", ("192.168.4.10", "192.168.4.19"))
    b = engine("192.168.4.2/24", ("192.168.4.100", "192.168.4.109"))
    want = bytes(k.parse(*_offer_bytes(b))["yiaddr"])
    c = client(offer_window=1, prefer_addr=want)
    net = Net(c, a, b)
    bind(c, net)
    assert bytes(c.addr) == want and bytes(c.server) == SRV_B


def _offer_bytes(e):
    # What engine e would offer MAC (a probe with a throwaway xid); returns (buf, n).
    tx = bytearray(1500)
    n = e.handle(k.msg(k.DISCOVER, chaddr=MAC), 0, tx)
    assert n
    return tx, n


def test_client_decline_waits_then_gets_another_address():
    """RFC 2131 4.4.1: address in use -> DECLINE (50, 54, broadcast), wait >= 10 s, INIT."""
    e = engine()
    c = client(check=True)
    net = Net(c, e)
    c.start(0)
    net.step(0)
    net.step(0)
    assert c.state == cl.CHECKING and c.events[-1] == cl.EV_CHECK and not c.configured
    assert c.wake_at() == -1 and c.poll(1, c.tx) == 0
    first = bytes(c.addr)
    c.checked(1, True)
    net.step(1)
    dec = net.sent[-1][1]
    assert dec["type"] == k.DECLINE and dec["options"][50] == first and dec["options"][54] == SRV_A
    assert dec["ciaddr"] == bytes(4) and net.sent[-1][2] == cl.DST_BROADCAST
    assert 55 not in dec["options"] and 12 not in dec["options"]   # table 5: MUST NOT
    assert c.state == cl.INIT and c.events[-1] == cl.EV_DECLINED and not c.configured
    net.run(2, 10)
    assert len(net.sent) == 3                # nothing during the 10 s wait
    net.step(11)
    net.step(11)
    assert c.state == cl.CHECKING and bytes(c.addr) != first
    c.checked(11, False)
    assert c.state == cl.BOUND and c.configured and c.events[-1] == cl.EV_BOUND
    assert net.types() == [k.DISCOVER, k.REQUEST, k.DECLINE, k.DISCOVER, k.REQUEST]


def test_client_renews_at_t1_unicast_then_rebinds_at_t2_then_expires():
    e, c, net = bound()
    addr = bytes(c.addr)
    net.run(1, 499)
    assert len(net.sent) == 2
    net.step(500)                       # T1: unicast REQUEST to the server, ciaddr, no 50/54
    t, m, kind, dst = net.sent[-1]
    assert m["type"] == k.REQUEST and kind == cl.DST_UNICAST and dst == SRV_A
    assert m["ciaddr"] == addr and 50 not in m["options"] and 54 not in m["options"]
    assert m["flags"] == 0
    assert c.state == cl.BOUND and c.events[-1] == cl.EV_RENEWED and c.bound_at == 500
    # The server goes silent: RENEWING at T1 (1000), REBINDING at T2 (1375), end at 1500.
    net.drop_all = True
    net.run(501, 1600)
    sends = net.sent[3:]
    renew = [s for s in sends if s[2] == cl.DST_UNICAST]
    rebind = [s for s in sends if s[2] == cl.DST_BROADCAST and s[1]["type"] == k.REQUEST]
    assert renew[0][0] == 1000 and all(s[0] < 1375 for s in renew)
    # 4.4.5: half the time left to T2, at least 60 s, never past T2: 1000, +187, +94, +60
    # (47 < 60), then 1401 would pass T2 (1375) where REBINDING takes over.
    assert [s[0] for s in renew] == [1000, 1187, 1281, 1341], [s[0] for s in renew]
    assert rebind[0][0] == 1375 and rebind[0][1]["ciaddr"] == addr and 54 not in rebind[0][1]["options"]
    # Half the time left to the end (1500), at least 60 s, never past the end: +62, +60.
    assert [s[0] for s in rebind] == [1375, 1437, 1497], [s[0] for s in rebind]
    assert cl.EV_EXPIRED in c.events and not c.configured
    exp_at = [s for s in sends if s[1]["type"] == k.DISCOVER][0][0]
    assert exp_at == 1500 and bytes(c.addr) == bytes(4)


def test_client_renew_now():
    e = engine()
    c = client()
    net = Net(c, e)
    assert not c.renew_now(0)
    bind(c, net)
    net.step(10)
    assert len(net.sent) == 2
    assert c.renew_now(10)
    net.step(10)
    assert net.sent[-1][2] == cl.DST_UNICAST and net.sent[-1][1]["ciaddr"] == bytes(c.addr)
    assert c.events[-1] == cl.EV_RENEWED and c.bound_at == 10 and c.state == cl.BOUND
    net.run(11, 509)
    assert len(net.sent) == 3          # next renewal at the new T1 (510), not before


def test_client_rebinding_accepts_another_server():
    e, c, net = bound()
    net.drop_all = True
    net.run(1, 875)
    assert c.state == cl.REBINDING
    # A second server on the segment with the same subnet and pool answers the broadcast.
    e2 = engine("192.168.4.2/24", ("192.168.4.10", "192.168.4.19"))
    net.engines = (e2,)
    net.drop_all = False
    net.run(876, 940)
    assert c.state == cl.BOUND and bytes(c.server) == SRV_B and c.events[-1] == cl.EV_RENEWED


def test_client_init_reboot():
    """RFC 2131 3.2 / 4.3.2: REQUEST with 50, no 54, ciaddr 0; ACK binds, NAK goes to INIT."""
    e, c, net = bound()
    addr = bytes(c.addr)
    c2 = client()
    net2 = Net(c2, e)
    c2.start(10, addr)
    net2.step(10)
    m = net2.sent[0][1]
    assert m["type"] == k.REQUEST and m["options"][50] == addr and 54 not in m["options"]
    assert m["ciaddr"] == bytes(4) and net2.sent[0][2] == cl.DST_BROADCAST
    assert c2.state == cl.BOUND and bytes(c2.addr) == addr and c2.events == [cl.EV_BOUND]
    # A remembered address from another network: NAK -> INIT -> DISCOVER -> bound in the pool.
    c3 = client()
    net3 = Net(c3, e)
    c3.start(20, k.ip("10.0.0.7"))
    net3.run(20, 22)
    assert net3.types()[:3] == [k.REQUEST, k.DISCOVER, k.REQUEST]
    assert c3.events[0] == cl.EV_NAK and c3.state == cl.BOUND and c3.addr[0] == 192
    # No answer at all: after reboot_tries, INIT.
    c4 = client(reboot_tries=2)
    net4 = Net(c4)
    c4.start(0, addr)
    net4.run(0, 20)
    assert net4.types()[:3] == [k.REQUEST, k.REQUEST, k.DISCOVER]
    assert cl.EV_REQUEST_TIMEOUT in c4.events and not c4.configured


def test_client_request_timeout_back_to_init():
    e = engine()
    c = client(backoff=(1, 2), request_tries=2)
    net = Net(c, e)
    c.start(0)
    net.step(0)       # DISCOVER -> OFFER
    net.drop_all = True
    net.run(0, 6)
    assert net.types()[:4] == [k.DISCOVER, k.REQUEST, k.REQUEST, k.DISCOVER], net.types()
    assert c.events == [cl.EV_OFFER, cl.EV_REQUEST_TIMEOUT] and not c.configured


def test_client_release():
    e, c, net = bound()
    addr = bytes(c.addr)
    n = c.release(5, c.tx)
    m = k.parse(c.tx, n)
    assert m["type"] == k.RELEASE and m["ciaddr"] == addr and m["options"][54] == SRV_A
    assert 50 not in m["options"] and 55 not in m["options"] and m["xid"] != net.sent[0][1]["xid"]
    assert c.dst_kind == cl.DST_UNICAST and bytes(c.dst) == SRV_A
    assert c.state == cl.STOPPED and not c.configured and c.events[-1] == cl.EV_RELEASED
    e.handle(bytes(c.tx[:n]), 5, bytearray(1500))
    assert [l[4] for l in status.leases(e, 5) if l[0] == k.ipstr(addr)] == ["released"]
    assert c.poll(100, c.tx) == 0 and c.release(6, c.tx) == 0


def _reply_to(c, e, now=0):
    # Client c's next message through e; returns the reply bytes (bytearray).
    n = c.poll(now, c.tx)
    tx = bytearray(1500)
    r = e.handle(bytes(c.tx[:n]), now, tx)
    assert r
    return tx[:r]


def _opt_at(buf, code):
    # Where option `code` starts in buf's options.
    i = 240
    while buf[i] != 255:
        if buf[i] == code:
            return i
        i += 1 if buf[i] == 0 else 2 + buf[i + 1]
    raise AssertionError("option %d not present" % code)


def _set_opt(buf, code, value):
    # Rewrites the value of an option present in buf (same length).
    i = 240
    while buf[i] != 255:
        if buf[i] == 0:
            i += 1
            continue
        if buf[i] == code:
            assert buf[i + 1] == len(value)
            buf[i + 2:i + 2 + len(value)] = value
            return buf
        i += 2 + buf[i + 1]
    raise AssertionError("option %d not present" % code)


def test_client_ignores_mismatched_and_malformed_replies():
    """Bad input: wrong xid, chaddr, client id, server; malformed; wrong type for the state.
    Each is counted; none changes state or configures an address."""
    e = engine()
    c = client()
    c.start(0)
    offer = _reply_to(c, e)

    def alt(fn):
        b = bytearray(offer)
        fn(b)
        return b

    def poke(i, v):
        def f(b):
            b[i] = v(b[i]) if callable(v) else v
        return f
    bad = [
        ("wrong_xid", alt(poke(4, lambda x: x ^ 1))),
        ("wrong_chaddr", alt(poke(33, lambda x: x ^ 1))),
        ("wrong_chaddr", alt(poke(2, 8))),
        ("wrong_client_id", alt(lambda b: _set_opt(b, 61, b"\x01" + k.mac(9)))),
        ("short", offer[:200]),
        ("not_reply", alt(poke(0, 1))),
        ("bad_cookie", alt(poke(237, 0))),
        ("bad_option", offer[:243] + b"\x36\x09\x01"),
        ("unexpected", alt(lambda b: _set_opt(b, 53, b"\x05"))),       # an ACK while SELECTING
        ("bad_reply", offer[:16] + bytes(4) + offer[20:]),   # OFFER without yiaddr
        ("bad_option_len", offer[:240] + bytes((53, 1, 2, 54, 3, 1, 2, 3, 255))),
        ("oversize", bytes(1600)),
    ]
    for name, data in bad:
        before = c.counter(name)
        assert c.handle(data, 0) == 0, name
        assert c.counter(name) == before + 1, name
        assert c.state == cl.SELECTING and c.offers == 0 and not c.configured, name
    assert c.handle(offer, 0) == cl.EV_OFFER
    # REQUESTING: an ACK from another server (option 54 not the chosen one) is ignored, as is a
    # NAK from it; the ACK for an address not asked for is ignored too.
    ack = _reply_to(c, e)
    assert c.state == cl.REQUESTING
    for name, data in (("wrong_server", _set_opt(bytearray(ack), 54, SRV_B)),
                       ("wrong_server", _set_opt(_set_opt(bytearray(ack), 53, b"\x06"), 54, SRV_B)),
                       ("bad_reply", bytearray(ack[:16]) + k.ip("192.168.4.99") + ack[20:]),
                       ("unexpected", _set_opt(bytearray(ack), 53, b"\x02"))):
        before = c.counter(name)
        assert c.handle(data, 0) == 0, name
        assert c.counter(name) == before + 1, name
        assert c.state == cl.REQUESTING and not c.configured, name
    assert c.handle(ack, 0) == cl.EV_BOUND and c.configured
    # BOUND: replies are not expected at all (a replayed ACK changes nothing).
    assert c.handle(ack, 1) == 0 and c.counter("unexpected") == 3 and c.state == cl.BOUND
    assert c.ignored() == len(bad) + 5


def test_client_nak_without_server_id_is_taken_and_nak_in_renewing():
    e = engine()
    c = client()
    c.start(0)
    offer = _reply_to(c, e)
    c.handle(offer, 0)
    ack = _reply_to(c, e)
    # A NAK without option 54 (as ESP-IDF's server sends): matched on xid and chaddr.
    nak = bytearray(ack[:240]) + bytes((53, 1, 6, 255))
    nak[16:20] = bytes(4)
    assert c.handle(nak, 0) == cl.EV_NAK and c.state == cl.INIT and not c.configured
    # RENEWING: the server now serves another pool (reconfigured) -> NAK -> INIT.
    c = client()
    net = Net(c, e)
    bind(c, net)
    net.engines = (engine(pool=("192.168.4.100", "192.168.4.109")),)
    net.step(500)
    assert c.events[-1] == cl.EV_NAK and c.state == cl.INIT and not c.configured
    assert bytes(c.addr) == bytes(4)


def test_client_backs_off_from_a_server_that_naks_everything():
    """The first NAK restarts at once; NAKs in a row wait 4, 8, 16 s (the retransmission
    schedule) before the next DISCOVER, so a broken server cannot make a storm."""
    c = client()
    c.start(0)
    sent = []
    t = 0
    while t < 60:
        n = c.poll(t, c.tx)
        if n:
            m = k.parse(c.tx, n)
            sent.append((t, m["type"]))
            # A broken server: OFFERs .50, NAKs every REQUEST (hand-built replies, 300 bytes).
            if m["type"] == k.DISCOVER:
                r = k.header(op=2, xid=m["xid"], chaddr=MAC, yiaddr=k.ip("192.168.4.50")) + k.MAGIC \
                    + bytes((53, 1, 2, 54, 4)) + SRV_A + bytes((51, 4, 0, 0, 1, 0, 255))
                assert c.handle(bytes(r) + bytes(40), t) == cl.EV_OFFER
            elif m["type"] == k.REQUEST:
                r = k.header(op=2, xid=m["xid"], chaddr=MAC) + k.MAGIC + bytes((53, 1, 6, 54, 4)) + SRV_A + b"\xff"
                assert c.handle(bytes(r) + bytes(50), t) == cl.EV_NAK
            continue
        t += 1
    discovers = [x for x, ty in sent if ty == k.DISCOVER]
    assert discovers == [0, 0, 4, 12, 28], sent
    assert c.counter("naks") == 5 and not c.configured
    # An ACK resets the count.
    e = engine()
    c2 = client()
    net = Net(c2, e)
    c2._naks = 3
    bind(c2, net)
    assert c2._naks == 0


def test_client_mutated_replies_never_configure_an_unasked_address():
    """Random byte mutations of a valid ACK: the client either binds the address it asked for,
    from the server it asked, or ignores the reply; it never raises."""
    rng = k.Lcg(15)
    e = engine()
    base = client()
    base.start(0)
    base.handle(_reply_to(base, e), 0)
    ack = bytes(_reply_to(base, e))
    want = bytes(base.addr)
    bound = 0
    for i in range(300):
        c = client()
        c.start(0)
        c.poll(0, c.tx)
        c.handle(_offer_for(e, c), 0)
        c.poll(0, c.tx)
        if bytes(c.addr) != want:
            continue
        m = bytearray(ack)
        for j in range(1 + rng.below(4)):
            m[rng.below(len(m))] = rng.below(256)
        c.handle(m, 0)
        if c.configured:
            bound += 1
            assert bytes(c.addr) == want and bytes(c.server) == SRV_A
    assert bound > 0


def _in_state(target):
    """A client in `target` with its last message answered by a fresh engine: (client, the
    reply bytes, the address it asked for or None)."""
    e = engine()
    c = client()
    c.start(0)
    t = 0
    if target == cl.SELECTING:
        pass
    elif target == cl.REQUESTING:
        c.handle(_reply_to(c, e), 0)
    else:
        bind(c, Net(c, e))
        t = 500 if target == cl.RENEWING else 875
    n = c.poll(t, c.tx)
    assert c.state == target, (cl.STATE_NAMES[c.state], target)
    tx = bytearray(1500)
    r = e.handle(bytes(c.tx[:n]), t, tx)
    assert r
    return c, bytes(tx[:r]), (None if target == cl.SELECTING else bytes(c.addr))


def test_client_survives_garbage_in_every_state():
    """Mutated, truncated and option-garbled replies in SELECTING, REQUESTING, RENEWING and
    REBINDING: handle() never raises, and an address is only ever configured if it is the one
    the client asked for, from the server it asked (REBINDING: from any server)."""
    rng = k.Lcg(1502)
    took = 0
    for target in (cl.SELECTING, cl.REQUESTING, cl.RENEWING, cl.REBINDING):
        for i in range(60):
            c, reply, want = _in_state(target)
            m = bytearray(reply)
            kind = rng.below(3)
            if kind == 0:
                for j in range(1 + rng.below(6)):
                    m[rng.below(len(m))] = rng.below(256)
            elif kind == 1:
                m = m[:rng.below(len(m))]
            else:
                p = 240 + rng.below(len(m) - 240)
                for j in range(p, min(len(m), p + 1 + rng.below(12))):
                    m[j] = rng.below(256)
            was = bytes(c.server)
            ev = c.handle(bytes(m), 1000)
            if ev:
                took += 1
            if want is not None and c.configured:
                assert bytes(c.addr) == want
                if target != cl.REBINDING:
                    assert bytes(c.server) == was
    assert took > 0     # some mutations leave a valid reply (e.g. a changed padding byte)


def _offer_for(e, c):
    # The OFFER engine e sends for client c's last message (c.tx holds a DISCOVER).
    tx = bytearray(1500)
    n = e.handle(bytes(c.tx[:300]), 0, tx)
    return tx[:n]


def test_client_lease_times_capped_and_defaults():
    # An infinite lease (RFC 2132 9.2: 0xffffffff) stays a small int; T1 > T2 is corrected.
    e = engine()
    c = client()
    c.start(0)
    c.handle(_reply_to(c, e), 0)
    ack = _reply_to(c, e)
    ack = _set_opt(bytearray(ack), 51, b"\xff\xff\xff\xff")
    c.handle(ack, 0)
    assert c.state == cl.BOUND and c.lease == 0x0FFFFFFF and c.lease < 2 ** 30
    # RFC 2131 4.4.5: T1 and T2 default to 0.5 and 0.875 of the lease; a T2 past the lease or a T1
    # past T2 is not kept (T2 back to its default, T1 to half the lease when that is below T2).
    for t1, t2, want in ((900, 800, (500, 800)), (900, 2000, (500, 875)), (100, 2000, (100, 875)),
                         (None, None, (500, 875)), (300, None, (300, 875)), (None, 400, (400, 400))):
        c = client()
        c.start(0)
        c.handle(_reply_to(c, e), 0)
        ack = _set_opt(bytearray(_reply_to(c, e)), 51, b"\0\0\x03\xe8")    # a 1000-second lease
        for code, v in ((58, t1), (59, t2)):
            if v is None:
                _set_opt(ack, code, b"\0\0\0\0")
                ack[_opt_at(ack, code)] = 250      # renamed to an option the client does not read
            else:
                _set_opt(ack, code, bytes((0, 0, v >> 8, v & 255)))
        c.handle(ack, 0)
        assert c.state == cl.BOUND and (c.lease, c.t1, c.t2) == (1000,) + want, (t1, t2, c.lease, c.t1, c.t2)


def test_client_allocates_nothing():
    """poll() and handle() through DORA, renew, rebind, NAK, decline and release do not
    allocate (MicroPython: heap_lock; CPython: tracemalloc)."""
    e = engine()
    ev = array("I", [0] * 16)

    def on_event(kind):
        ev[kind] += 1
    c = Client(MAC, hostname=b"dev", check=True, rand=Seq((3, 4, 5)), on_event=on_event)
    tx = bytearray(1500)
    etx = bytearray(1500)
    replies = []

    def cycle(now, lock, unlock):
        # One full life: INIT-REBOOT with a foreign address (NAK), DORA (with a decline first),
        # renew, release. Replies are copied into preallocated buffers outside the lock (the
        # engine is not under test here).
        fails = 0
        c.start(now, b"\x0a\x00\x00\x07")
        t = now
        rounds = 0
        while rounds < 12 and c.state != cl.STOPPED:
            lock()
            try:
                n = c.poll(t, tx)
            except MemoryError:
                n = -1
            unlock()
            if n < 0:
                return 100
            if n:
                r = e.handle(bytes(tx[:n]), t, etx)
                if r:
                    rb = replies[rounds]
                    rb[0:r] = etx[0:r]
                    lock()
                    try:
                        c.handle(rb, t)
                    except MemoryError:
                        fails += 1
                    unlock()
            lock()
            try:
                if c.state == cl.CHECKING:
                    c.checked(t, ev[cl.EV_DECLINED] <= ev[cl.EV_RELEASED])
                elif c.state == cl.BOUND and c.configured and ev[cl.EV_RENEWED] > ev[cl.EV_RELEASED]:
                    c.release(t, tx)
            except MemoryError:
                fails += 1
            unlock()
            t = c.wake_at() if c.wake_at() > t else t
            rounds += 1
        return fails
    for i in range(12):
        replies.append(bytearray(548))
    def noop():
        pass
    assert cycle(0, noop, noop) == 0
    assert ev[cl.EV_DECLINED] == 1 and ev[cl.EV_RENEWED] == 1 and ev[cl.EV_RELEASED] == 1, list(ev)
    assert ev[cl.EV_NAK] == 1, list(ev)
    # replies carry their length: handle() reads the padded buffer (zeros after END are PAD)
    if sys.implementation.name == "micropython":
        import micropython
        for r in range(1, 3):
            assert cycle(100000 * r, micropython.heap_lock, micropython.heap_unlock) == 0
    else:
        import tracemalloc
        tracemalloc.start()
        try:
            cycle(100000, noop, noop)
            s1 = tracemalloc.take_snapshot()
            assert cycle(200000, noop, noop) == 0
            s2 = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
        flt = [tracemalloc.Filter(True, "*client.py"), tracemalloc.Filter(True, "*packet.py")]
        diff = s2.filter_traces(flt).compare_to(s1.filter_traces(flt), "lineno")
        kept = sum(d.size_diff for d in diff if d.size_diff > 0)
        assert kept <= 128, [str(d) for d in diff if d.size_diff > 0]
    assert ev[cl.EV_RELEASED] == 3 and ev[cl.EV_BOUND] == 3 and ev[cl.EV_NAK] == 3 and ev[cl.EV_DECLINED] == 3


def test_client_init_reboot_checks_the_address_and_declines():
    """RFC 2131 3.2 (step 4): the INIT-REBOOT ACK gets the final check of section 3.1 too, and an
    address in use is DECLINEd (50, 54 of the ACK), then INIT after the 10 s wait."""
    e, c0, net0 = bound()
    addr = bytes(c0.addr)
    c = client(check=True)
    net = Net(c, e)
    c.start(10, addr)
    net.step(10)
    assert net.sent[0][1]["type"] == k.REQUEST and 54 not in net.sent[0][1]["options"]
    assert c.state == cl.CHECKING and c.events == [cl.EV_CHECK] and not c.configured, (cl.STATE_NAMES[c.state], c.events)
    c.checked(11, True)
    net.step(11)
    dec = net.sent[-1][1]
    assert dec["type"] == k.DECLINE and dec["options"][50] == addr and dec["options"][54] == SRV_A
    assert c.state == cl.INIT and c.events[-1] == cl.EV_DECLINED and not c.configured
    net.run(12, 20)
    assert len(net.sent) == 2            # the 10 s wait (4.4.1)
    net.step(21)
    assert net.sent[-1][1]["type"] == k.DISCOVER
    # Not in use (the client rebooting into the address it holds, on a server that has it bound).
    e, c0, net0 = bound()
    addr = bytes(c0.addr)
    c2 = client(check=True)
    net2 = Net(c2, e)
    c2.start(30, addr)
    net2.step(30)
    assert c2.state == cl.CHECKING and not c2.configured
    assert c2.checked(30, False) == cl.EV_BOUND and c2.state == cl.BOUND and c2.configured
    assert bytes(c2.addr) == addr and bytes(c2.server) == SRV_A


def test_client_holds_its_offer_through_the_window():
    """RFC 2131 4.4.1: DISCOVER is retransmitted only while no acceptable offer came. With an
    offer in hand the client waits for the end of the offer window (here longer than the first
    4 s retransmission) and then REQUESTs it; it neither retransmits nor gives up."""
    e = engine()
    c = client(offer_window=6, discover_tries=1)
    net = Net(c, e)
    c.start(0)
    net.run(0, 10)
    assert net.types() == [k.DISCOVER, k.REQUEST], net.types()
    assert net.sent[1][0] == 6 and net.sent[1][1]["secs"] == 0
    assert c.state == cl.BOUND and cl.EV_GAVE_UP not in c.events and c.counter("retransmit") == 0
    c = client(offer_window=6)
    c.start(0)
    Net(c, e).step(0)
    assert c.wake_at() == 6


def _assert_clean(tx, n):
    # A message of n bytes carries nothing but what it wrote: zeros after END (RFC 2131 section
    # 2 / RFC 1542 2.1 padding) and in the header fields a client leaves empty.
    m = k.parse(tx, n)
    end = 240
    while tx[end] != 255:
        end += 2 + tx[end + 1]
    assert n >= 300 and bytes(tx[end + 1:n]) == bytes(n - end - 1), (m["type"], end, bytes(tx[end + 1:n]))
    assert bytes(tx[16:28]) == bytes(12) and bytes(tx[34:236]) == bytes(202), m["type"]
    return m


def test_client_shared_tx_carries_no_stale_bytes():
    """Clients sharing one tx (clientnet.ClientSocket with a list of clients) or a caller
    switching buffers: a short message written after a longer one (another client's, or whatever
    the buffer held) is zeros past its END up to the 300 bytes sent (RFC 1542 2.1)."""
    e = engine()
    shared = bytearray(1500)
    b = client(client_id=b"", check=True)     # no 61, no 12: its DECLINE and DISCOVER end at 256
    b.tx = shared
    net = Net(b, e)
    b.start(0)
    net.step(0)
    net.step(0)
    assert b.state == cl.CHECKING
    b.checked(1, True)
    net.step(1)
    assert net.types()[-1] == k.DECLINE
    a = client(hostname=b"a" * 200)           # a long DISCOVER in the same buffer
    a.start(2)
    na = a.poll(2, shared)
    assert na > 400 and _assert_clean(shared, na)["options"][12] == b"a" * 200
    nb = b.poll(11, shared)
    assert _assert_clean(shared, nb)["type"] == k.DISCOVER and nb == 300
    # The same client, another buffer: RELEASE (250 bytes) into its own, then a DISCOVER into
    # a buffer full of 0xff.
    e, c, net = bound(client_id=b"")
    n = c.release(5, c.tx)
    _assert_clean(c.tx, n)
    c.start(6)
    junk = bytearray(b"\xff" * 1500)
    n = c.poll(6, junk)
    assert _assert_clean(junk, n)["type"] == k.DISCOVER


def test_client_counters_restart_before_2_30():
    """As the server's and the DNS responder's (docs/architecture.md), the client's counters
    start again from 0 when received or sent reaches 2**29, counted in counter_restarts: none
    becomes a heap int at 2**30 on a 32-bit board."""
    e, c, net = bound()
    assert c.counter_restarts == 0
    c.counters[cl.C_RECEIVED] = 2 ** 29 - 1
    c.counters[cl.C_ACKS] = 7
    c.handle(b"\0" * 10, 1)                    # short: counted, 2**29 received
    assert c.counter("received") == 2 ** 29 and c.counter("short") == 1 and c.counter_restarts == 0
    c.handle(b"\0" * 10, 1)
    assert c.counter_restarts == 1 and c.counter("received") == 1 and c.counter("short") == 1
    assert c.counter("acks") == 0 and c.counter("sent") == 0 and max(c.counters) == 1
    # sent: a client that only sends (no server answers) restarts too.
    c.counters[cl.C_SENT] = 2 ** 29
    assert c.renew_now(2) and c.poll(2, c.tx)
    assert c.counter_restarts == 2 and c.counter("sent") == 1 and c.counter("received") == 0
    assert c.state == cl.RENEWING and c.configured
    if sys.implementation.name == "micropython":      # the restart allocates nothing either
        import micropython
        short = b"\0" * 10
        c.counters[cl.C_RECEIVED] = 2 ** 29
        micropython.heap_lock()
        try:
            c.handle(short, 3)
        finally:
            micropython.heap_unlock()
        assert c.counter_restarts == 3 and c.counter("received") == 1


def test_client_reboot_tries_zero_means_the_default():
    """reboot_tries=0 is the default (2), as request_tries=0 is len(backoff): INIT-REBOOT sends
    its REQUEST, retransmits it once, then goes to INIT (RFC 2131 3.2)."""
    c = client(reboot_tries=0)
    assert c.reboot_tries == 2
    net = Net(c)
    c.start(0, k.ip("192.168.4.12"))
    net.run(0, 20)
    assert net.types()[:3] == [k.REQUEST, k.REQUEST, k.DISCOVER], net.types()
    assert c.events[0] == cl.EV_REQUEST_TIMEOUT


def test_client_zero_t1_t2_are_the_defaults():
    """An ACK with T1 (58) or T2 (59) of 0 would renew (rebind) at once after every ACK, an
    exchange per round trip: 0 is taken as not given, 0.5 / 0.875 of the lease, as dhcpcd
    (src/dhcp.c dhcp_bind) and ISC dhclient (client/dhclient.c dhcpack) do; udhcpc reads
    neither option (networking/udhcp/dhcpc.c: renews at half the lease)."""
    e = engine()
    for t1, t2 in ((0, 0), (0, 800), (300, 0)):
        c = client()
        net = Net(c, e)
        c.start(0)
        c.handle(_reply_to(c, e), 0)
        ack = _set_opt(bytearray(_reply_to(c, e)), 51, b"\0\0\x03\xe8")    # a 1000-second lease
        _set_opt(ack, 58, bytes((0, 0, t1 >> 8, t1 & 255)))
        _set_opt(ack, 59, bytes((0, 0, t2 >> 8, t2 & 255)))
        c.handle(ack, 0)
        want = (t1 or 500, t2 or 875)
        assert c.state == cl.BOUND and (c.t1, c.t2) == want, (t1, t2, c.t1, c.t2)
        net.run(0, 10)
        assert net.sent == [] and c.state == cl.BOUND and c.wake_at() == want[0]


def _refused(kw, value, words):
    # Client(**{kw: value}) raises ValueError whose text holds each of `words`.
    try:
        client(**{kw: value})
    except ValueError as e:
        for w in words:
            assert w in str(e), (kw, value, str(e))
        return
    raise AssertionError("%s=%r accepted" % (kw, value))


def test_client_renewal_retransmits_at_most_once_a_second():
    """RFC 2131 4.4.5: without an answer in RENEWING (REBINDING) the client waits half the time
    left until T2 (the lease's end), down to a minimum of 60 seconds, before it retransmits.
    renew_min lowers that minimum, but below 1 s the wait was 0 in the last second before T2 or
    the end: a REQUEST on every poll (ClientSocket.step polls at once while wake_at() <= now).
    renew_min < 1 is refused; with 1, polling 20 times a second from T1 to the lease's end sends
    at most one REQUEST per second, and few in all."""
    _refused("renew_min", 0, ("renew_min=0", "from 1 to"))
    for rm in (1, 60):
        e, c, net = bound(renew_min=rm)           # bound at 0: T1 500, T2 875, end 1000
        net.drop_all = True
        for t in range(c.t1, c.lease + 1):
            for _ in range(20):
                net.step(t)
        times = [t for t, m, _, _ in net.sent if m["type"] == k.REQUEST and t >= c.t1]
        assert len(times) == len(set(times)), (rm, times)
        assert times[0] == c.t1 and c.t2 in times and 874 >= max(t for t in times if t < c.t2), (rm, times)
        # halving 375 s (to T2) and 125 s (to the end) down to 1 s: at most 10 and 8 REQUESTs
        assert len(times) <= 18, (rm, times)
        assert c.events[-1] == cl.EV_EXPIRED, (rm, c.events)


def test_client_refuses_counts_and_times_out_of_range():
    """A negative count made an exchange end without a message (reboot_tries=-1: INIT-REBOOT
    went to INIT at once), a negative time went back in time; now each is refused at
    construction, naming the argument, the value and the range."""
    for kw, lo in (("offer_window", 0), ("jitter", 0), ("discover_tries", 0), ("request_tries", 0),
                   ("reboot_tries", 0), ("decline_wait", 0), ("renew_min", 1)):
        for bad in (lo - 1, -5, 65536, 2.5):
            _refused(kw, bad, ("%s=%r" % (kw, bad), "whole number from %d to 65535" % lo))
        for good in (lo, 65535):
            assert getattr(client(**{kw: good}), kw) == good or good == 0, (kw, good)
    for bo, words in (((), "backoff=()"), ((4, 0), "backoff=0"), ((-4,), "backoff=-4"),
                      ((4, 70000), "backoff=70000"), ((4, 2.5), "backoff=2.5")):
        _refused("backoff", bo, (words, "from 1 to 65535"))
    assert client(backoff=(1, 65535)).backoff == (1, 65535)
