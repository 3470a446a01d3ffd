# Introspection (issue 2 item 9): lease events with their slot, counters, slot_info.
import dhcpkit as k
from microdhcp import status
import harness as h
from microdhcp.codes import EV_OFFER, EV_BOUND, EV_RENEWED, EV_RELEASED, EV_DECLINED, EV_EXPIRED
from microdhcp.codes import NCOUNT, C_RESTARTS


def test_events_lifecycle_slots_and_counters():
    """RFC 2131 4.3.1-4.3.4 transitions reported as offered, bound, renewed, released, declined
    and expired events, each with the slot of the address concerned."""
    e = h.engine(lease_time=100, min_lease=10, decline_hold=50)
    off = h.discover(e, 1, 0, options=((12, b"sensor-1"),))
    ack = h.request_selecting(e, 1, off["yiaddr"], 1)
    h.renew(e, 1, ack["yiaddr"], 50)
    h.release(e, 1, ack["yiaddr"], 60)
    y = h.dora(e, 2, 61)["yiaddr"]
    h.decline(e, 2, y, 62)
    z = h.dora(e, 3, 63)["yiaddr"]
    e.tick(164)             # bound at 63 for 100 s: through second 163 (leases.next_due)
    want = [(EV_OFFER, off["yiaddr"]), (EV_BOUND, off["yiaddr"]), (EV_RENEWED, off["yiaddr"]),
            (EV_RELEASED, off["yiaddr"]), (EV_OFFER, y), (EV_BOUND, y), (EV_DECLINED, y),
            (EV_OFFER, z), (EV_BOUND, z), (EV_EXPIRED, z)]
    got = [(kind, h.addr_of(e, slot)) for kind, slot in e.log]
    assert got == want, got
    s = status.stats(e)
    assert (s["received"], s["offer"], s["ack"], s["release"], s["decline"], s["expired"]) == (9, 3, 4, 1, 1, 1), s
    assert s["replied"] == 7 and status.dropped(e) == 0


def test_events_slot_info_mac_and_hostname():
    """RFC 2132 3.14: the hostname (option 12) and chaddr are kept per lease for listings."""
    e = h.engine(lease_time=600)
    ack = h.dora(e, 0x0a0b, 10, options=((12, b"thermostat"),))
    slot = e.log[-1][1]
    ip, mac, cid, host, state, left = status.slot_info(e, slot, 110)
    assert ip == k.ipstr(ack["yiaddr"])
    assert mac == "02:00:00:00:0a:0b"
    assert host == "thermostat" and state == "bound" and left == 500
    assert cid == "01:02:00:00:00:0a:0b"     # identity: htype 1 + chaddr (section 4.2)
    # A long hostname is cut to hostname_len (15) for the table; a new client's is not inherited.
    h.release(e, 0x0a0b, ack["yiaddr"], 120)
    h.dora(e, 0x0a0b, 121, options=((12, b"a-very-long-hostname-indeed"),))
    assert status.slot_info(e, e.log[-1][1], 121)[3] == "a-very-long-hos"


def test_rfc2132_s3_14_hostname_bytes_never_break_listings():
    """RFC 2132 3.14: option 12 is client-supplied; a non-ASCII name, or one cut inside a UTF-8
    character by hostname_len, is listed with "?" instead of making leases() raise."""
    e = h.engine()
    h.dora(e, 1, 0, options=((12, b"\xff\xfe"),))                       # not UTF-8 at all
    h.dora(e, 2, 0, options=((12, b"kitchen-sensor\xc3\xa9"),))       # 15 bytes end inside "\xc3\xa9"
    names = sorted(l[3] for l in status.leases(e, 1))
    assert names == ["??", "kitchen-sensor?"], names


class _Sink:
    # write(buf, n) as status.EventLog calls it; keeps what was written and how many writes
    def __init__(self):
        self.data = bytearray()
        self.writes = 0

    def write(self, b, n):
        self.data.extend(bytes(b[:n]))
        self.writes += 1
        return n


def _event_logger(e, iface, sink, batch):
    # (log, event callback, host?): the host command's HostEventLog where the host command is
    # installed; the frozen builds carry no host command (tools/units.py), and there the board's
    # way is checked: status.EventLog builds the OFFER/ACK lines, a rare line is written after
    # what it holds (board.py prints it).
    try:
        from microdhcp.__main__ import HostEventLog
    except ImportError:
        log = status.EventLog(e, iface, sink.write, batch)

        def event(kind, slot):
            if not log.write(kind, slot):
                log.flush()
                data = (status.event_line(e, kind, slot, iface, 0) + "\n").encode()
                sink.write(data, len(data))
        return log, event, False
    log = HostEventLog(e, iface, sink.write, batch)
    return log, log.event, True


def _event_log_run(batch):
    # Every kind of event (offer, bound, renewed, released, declined, expired, NAK, no address,
    # INFORM), hostnames plain, non-ASCII and cut, chaddr of 6, 16 and 0 bytes, an iface name:
    # each line of status.EventLog beside the line status.event_line makes of the same event.
    from microdhcp.status import event_line
    e = h.engine(lease_time=100, min_lease=10, decline_hold=50, pool="192.168.4.100-192.168.4.102")
    sink = _Sink()
    log, event, host = _event_logger(e, "wlan0", sink, batch)
    want = []

    def on_event(kind, slot):
        want.append(event_line(e, kind, slot, "wlan0", 0))
        event(kind, slot)
    e.on_event = on_event
    a = h.dora(e, 1, 0, options=((12, b"sensor-\x013"),))["yiaddr"]
    h.renew(e, 1, a, 50)
    o = h.discover(e, 2, 0, options=((12, b"kitchen-sensor\xc3\xa9"),), hlen=16)["yiaddr"]
    h.request_selecting(e, 2, o, 0, hlen=16)
    h.send(e, k.msg(k.DISCOVER, 3, hlen=0), 1)
    h.release(e, 1, a, 60)
    c = h.dora(e, 4, 63)["yiaddr"]
    h.decline(e, 4, c, 63)
    h.dora(e, 5, 63)
    h.discover(e, 6, 64)                                    # pool of 3: no address left
    h.init_reboot(e, 7, b"\x0a\x09\x08\x07", 65)          # another network: NAK
    h.inform(e, 8, b"\xc0\xa8\x04\x07", 66)
    e.tick(200)                                             # expiries
    log.flush()
    return sink, want, host


def test_event_log_lines_read_as_event_line():
    """status.EventLog (the host command's and the boards' event lines) writes every event exactly
    as status.event_line formats it, in order; held lines are all written by flush()."""
    for batch in (0, 4096):
        sink, want, host = _event_log_run(batch)
        got = sink.data.decode().split("\n")
        assert got[-1] == "" and got[:-1] == want, (batch, got, want)
        names = " ".join(l.split("(")[0] for l in want)
        for name in ("DHCPOFFER", "DHCPACK", "DHCPRELEASE", "DHCPDECLINE", "DHCPNAK", "DHCPINFORM", "DHCPEXPIRE", "DHCPDISCOVER"):
            assert name in names, (name, names)
        assert "sensor-?3" in want[0] and "kitchen-sensor?" in sink.data.decode(), want
        # batch 0: one write per line; batch 4096: the whole run fits, one write at flush() (a
        # board's rare lines are written apart, so there fewer writes than lines)
        if host or batch == 0:
            assert sink.writes == (len(want) if batch == 0 else 1), (batch, sink.writes, len(want))
        else:
            assert sink.writes < len(want), (batch, sink.writes, len(want))


def test_event_log_offer_and_ack_allocate_nothing():
    """The OFFER/ACK lines are built without allocating (MicroPython: under heap_lock), so that the
    default event lines keep a DORA's 0 bytes on a board; 40 lines, in one held batch."""
    import sys
    from microdhcp.status import EventLog
    from microdhcp.codes import EV_OFFER, EV_BOUND
    e = h.engine(lease_time=100)
    h.dora(e, 0x1ab, 0, options=((12, b"sensor-3"),))
    slot = e.log[-1][1]
    seen = [0, 0]

    def write(b, n):
        seen[0] += 1
        seen[1] += n
    log = EventLog(e, "ap", write, 4096)
    log.write(EV_OFFER, slot)          # warm: first calls may intern or cache
    log.flush()
    if sys.implementation.name == "micropython":
        import micropython
        micropython.heap_lock()
        try:
            for _ in range(20):
                log.write(EV_OFFER, slot)
                log.write(EV_BOUND, slot)
            log.flush()
        finally:
            micropython.heap_unlock()
    else:
        for _ in range(20):     # CPython allocates ints and frames anyway: the output is checked
            log.write(EV_OFFER, slot)
            log.write(EV_BOUND, slot)
        log.flush()
    from microdhcp.status import event_line
    pair = len(event_line(e, EV_OFFER, slot, "ap", 0)) + len(event_line(e, EV_BOUND, slot, "ap", 0)) + 2
    assert seen == [2, 21 * pair - len(event_line(e, EV_BOUND, slot, "ap", 0)) - 1], (seen, pair)


def test_event_log_address_in_a_larger_subnet():
    """Beyond a /24 the address's upper octets vary with the slot: EventLog writes them all (in a
    /24 they come with the line's prefix); the lines still read as event_line's."""
    from microdhcp.status import event_line
    e = h.engine(address="10.1.0.1/22", pool="10.1.1.254-10.1.2.3", routers="10.1.0.1", dns="10.1.0.1")
    sink = _Sink()
    log, event, _ = _event_logger(e, None, sink, 4096)
    want = []

    def on_event(kind, slot):
        want.append(event_line(e, kind, slot, None, 0))
        event(kind, slot)
    e.on_event = on_event
    for c in range(1, 7):       # 6 clients bound on 6 addresses, then one too many
        y = h.discover(e, c, 0)["yiaddr"]
        h.request_selecting(e, c, y, 0, server=k.ip("10.1.0.1"))
    h.discover(e, 7, 0)
    log.flush()
    got = sink.data.decode().split("\n")[:-1]
    assert got == want and len(got) == 13, (got, want)
    assert got[0].startswith("DHCPOFFER(-) 10.1.") and "10.1.2.3 " in sink.data.decode(), got


def _fast_line():
    # microdhcp.fastlog.line (viper) where it compiles, else None
    try:
        from microdhcp.fastlog import line
    except (ImportError, NameError, SyntaxError):
        return None
    return line


def _host_event_log():
    try:
        from microdhcp.__main__ import HostEventLog
    except ImportError:
        return None
    return HostEventLog


def test_host_lines_take_the_viper_line_where_it_compiles():
    """The host command's OFFER/ACK/renewal lines are fastlog.line's on MicroPython (the unix port
    has the native emitter) and EventLog.write's on CPython; fast=False keeps write. The frozen
    builds carry neither the host command nor fastlog (tools/units.py: host unit)."""
    import sys
    line = _fast_line()
    host = _host_event_log()
    if sys.implementation.name != "micropython":
        assert line is None
    elif host is not None:
        assert line is not None
    else:
        assert line is None, "fastlog frozen without the host command that uses it"
    if host is not None:
        e = h.engine()
        assert host(e, "ap", _Sink().write, 0).line is line
        assert host(e, "ap", _Sink().write, 0, fast=False).line is None


def _random_clients(e, count, seed):
    # `count` clients DORA'd with random hardware addresses (0, 1, 6, 7 or 16 bytes) and random
    # hostnames (any bytes, 0-40 long, cut to the table's room); returns their slots
    x = [seed]

    def rnd(n):
        x[0] = (1103515245 * x[0] + 12345) & 0x7fffffff
        return (x[0] >> 8) % n
    slots = []
    for c in range(1, count + 1):
        hlen = (0, 1, 6, 6, 6, 7, 16)[rnd(7)]
        chaddr = bytes(rnd(256) for _ in range(16))
        m = rnd(41)
        opts = ((12, bytes(rnd(256) for _ in range(m))),) if m else ()
        o = h.discover(e, c, 0, options=opts, hlen=hlen, chaddr=chaddr)
        if o is None or o["type"] != k.OFFER:
            continue
        a = h.request_selecting(e, c, o["yiaddr"], 0, options=opts, hlen=hlen, chaddr=chaddr, server=bytes(e.cfg.server))
        if a is not None and a["type"] == k.ACK:
            slots.append(e.log[-1][1])
    return slots


def test_fastlog_line_writes_the_plain_lines_bytes():
    """Differential: clients with random hardware addresses and hostnames, in a /24 (1-3 digit last
    octets) and in a /22 whose pool crosses an octet, plus a reservation outside the pool (a slot
    past the pool's); every OFFER, ACK and renewal line written by the host command's viper path
    (HostEventLog.event -> fastlog.line, under heap_lock on MicroPython) must be the bytes that
    status.EventLog.write's plain code writes. Where fastlog does not compile, the previous test
    says why, and the plain code is the only one."""
    line = _fast_line()
    if line is None:
        assert _host_event_log() is None or not _mp(), "MicroPython host command without fastlog"
        return
    from microdhcp.status import EventLog
    from microdhcp.codes import EV_OFFER, EV_BOUND, EV_RENEWED
    host = _host_event_log()
    cases = (
        (h.engine(lease_time=100, pool="192.168.4.2-192.168.4.200"), 150, (b".4.2 ", b".4.42 ", b".4.142 ")),
        (h.engine(lease_time=100, address="10.1.0.1/22", pool="10.1.1.200-10.1.2.60", routers="10.1.0.1",
                  dns="10.1.0.1", reservations=[("02:00:00:00:00:63", "10.1.3.250")], capacity=118),
         120, (b"10.1.1.200 ", b"10.1.2.6 ", b"10.1.2.60 ")),
    )
    for e, count, digits in cases:
        slots = _random_clients(e, count, 12345 + count)
        assert len(slots) >= count * 3 // 4, len(slots)    # (clients without a hardware address share one key)
        if e.cfg.prefix < 24:
            # the reserved client, outside the pool: its slot indexes table.extra
            o = h.discover(e, 500, 0, chaddr=b"\x02\x00\x00\x00\x00\x63" + bytes(10))
            assert o["yiaddr"] == k.ip("10.1.3.250"), o
            h.request_selecting(e, 500, o["yiaddr"], 0, chaddr=b"\x02\x00\x00\x00\x00\x63" + bytes(10),
                                server=bytes(e.cfg.server))
            slots.append(e.log[-1][1])
            assert slots[-1] >= e.table.pool_size, slots[-1]
            digits = digits + (b"10.1.3.250 02:00:00:00:00:63\n",)
        plain_sink = _Sink()
        fast_sink = _Sink()
        plain = EventLog(e, "wlan0", plain_sink.write, 8192)
        fast = host(e, "wlan0", fast_sink.write, 8192)
        assert fast.line is line
        checked = 0
        found = set()       # which of `digits` and b"?" the lines showed
        for s in slots:
            for kind in (EV_OFFER, EV_BOUND, EV_RENEWED):
                plain.write(kind, s)
                plain.flush()
                _lock()
                try:
                    fast.event(kind, s)     # held (batch 8192): the sink's copy is not under the lock
                finally:
                    _unlock()
                fast.flush()
                got = bytes(plain_sink.data)
                assert fast_sink.data == got, (s, kind, bytes(fast_sink.data), got)
                assert got.count(b"\n") == 1 and got[-1:] == b"\n", got
                for d in digits + (b"?",):
                    if d in got:
                        found.add(d)
                plain_sink.data = bytearray()   # one line at a time: the runner's heap stays small
                fast_sink.data = bytearray()
                checked += 1
        assert checked == 3 * len(slots), checked
        assert b"?" in found, "no hostname byte outside printable ASCII was drawn"
        for d in digits:  # the address forms the case is there for were written
            assert d in found, (d, found)


def _mp():
    import sys
    return sys.implementation.name == "micropython"


def _lock():
    # heap_lock on MicroPython (nothing may allocate until _unlock), nothing elsewhere
    if _mp():
        import micropython
        micropython.heap_lock()


def _unlock():
    # returns the depth left (heap_unlock's result), 0 elsewhere
    if _mp():
        import micropython
        return micropython.heap_unlock()
    return 0


def test_host_rare_lines_unlock_the_heap_themselves():
    """net.Server calls HostEventLog.event with the heap locked (Server.events_locked): an
    OFFER line is built under the lock; a NAK's line, formatted by event_line (it allocates), is
    made with the heap unlocked, and the lock is put back at the depth it had (here 2)."""
    from microdhcp.status import event_line
    host = _host_event_log()
    if host is None:
        # a frozen build: no host command; its lines are a board's (the tests above)
        assert _fast_line() is None
        return
    e = h.engine()
    sink = _Sink()
    log = host(e, "ap", sink.write, 4096)
    want = []
    e2 = h.engine()     # the same two messages on a twin engine, each line as event_line makes it then

    def record(kind, slot):
        want.append(event_line(e2, kind, slot, "ap", 0))
    nak = k.msg(k.REQUEST, 7, ((50, b"\x0a\x09\x08\x07"),))    # INIT-REBOOT on another network
    disc = k.msg(k.DISCOVER, 8)
    tx = bytearray(1500)
    e.on_event = log.event
    _lock()
    _lock()
    try:
        m1 = e.handle(nak, 1, tx, len(nak))
        m2 = e.handle(disc, 1, tx, len(disc))
        _lock()
        depth = _unlock()
    finally:
        _unlock()
        _unlock()
    log.flush()
    assert m1 and m2
    assert depth == (2 if _mp() else 0), depth
    e2.on_event = record
    e2.handle(nak, 1, tx, len(nak))
    e2.handle(disc, 1, tx, len(disc))
    got = sink.data.decode().split("\n")
    assert got[-1] == "" and got[:-1] == want and want[0].startswith("DHCPNAK"), (got, want)


def test_an_expiry_callback_that_raises_still_ends_the_lease():
    """on_event raising on EV_EXPIRED (a board's EXPIRE line that finds no memory) reaches the
    caller of tick(), but the lease ends all the same: the slot is not left bound with its timer
    stopped (it would never be free again), and the next tick has nothing left to redo."""
    e = h.engine(lease_time=600)
    x = h.dora(e, 1, 0)["yiaddr"]

    def failing(kind, slot):
        if kind == EV_EXPIRED:
            raise MemoryError("no room for the line")
    e.on_event = failing
    try:
        e.tick(601)
        raise AssertionError("the callback's error was swallowed")
    except MemoryError:
        pass
    assert h.state(e, x) == "expired" and status.counter(e, "expired") == 1
    e.tick(602)                      # nothing due: no second expiry, no second error
    assert status.counter(e, "expired") == 1
    e.on_event = None
    assert h.dora(e, 2, 603)["type"] == k.ACK     # the table still serves


def test_counters_start_again_before_they_leave_small_ints():
    """A counter of 2**30 or more is a heap int on a 32-bit board (each increment allocates, and
    raises under heap_lock); CPython's array refuses 2**32. When `received` reaches 2**29, tick()
    starts every counter again from 0 and counts it; serving goes on with the heap locked."""
    e = h.engine()
    h.dora(e, 1, 0)
    c = e.counters
    c[0] = (1 << 29) - 1                      # received, one short
    e.tick(1)
    assert c[0] == (1 << 29) - 1 and c[C_RESTARTS] == 0
    h.discover(e, 2, 1)
    e.tick(2)
    assert c[C_RESTARTS] == 1 and all(c[i] == 0 for i in range(NCOUNT))
    m = k.msg(k.DISCOVER, 3, ())
    e.on_event = None                         # the harness's log appends: not under the lock
    try:
        import micropython
        micropython.heap_lock()
    except (ImportError, AttributeError):
        micropython = None
    try:
        n = e.handle(m, 3, e.tx)
    finally:
        if micropython is not None:
            micropython.heap_unlock()
    assert n and status.counter(e, "received") == 1 and status.counter(e, "offer") == 1


def test_counter_restarts_shown_for_people():
    """The restarts count is where people read the counters (stats, hence /status.json; the
    status line), so that counters that went down are not read as lost: absent from the line at 0."""
    e = h.engine()
    h.dora(e, 1, 0)
    assert status.stats(e)["counter_restarts"] == 0 and "counter_restarts" not in status.counters_line(e)
    e.counters[0] = 1 << 29
    e.tick(1)
    assert status.stats(e)["counter_restarts"] == 1 == status.counter(e, "counter_restarts")
    assert "counter_restarts=1" in status.counters_line(e), status.counters_line(e)
    assert status.dropped(e) == 0
