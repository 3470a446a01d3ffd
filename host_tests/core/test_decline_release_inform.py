# DECLINE (RFC 2131 4.3.3), RELEASE (4.3.4) and INFORM (4.3.5).
import dhcpkit as k
from microdhcp import status
import harness as h
from microdhcp.codes import EV_DECLINED, EV_RELEASED, EV_INFORM, DST_UNICAST


def test_rfc2131_s4_3_3_decline_quarantines_address():
    """4.3.3: "the server MUST mark the network address as not available"; reported as an event;
    back in the pool after decline_hold."""
    e = h.engine(pool=("192.168.4.10", "192.168.4.11"), decline_hold=600)
    x = h.dora(e, 1)["yiaddr"]
    assert h.decline(e, 1, x, 10) is None           # no reply to a DECLINE
    kind, slot = e.log[-1]
    assert kind == EV_DECLINED and h.addr_of(e, slot) == x
    assert h.state(e, x) == "declined"
    assert status.stats(e)["decline"] == 1
    y = h.dora(e, 1, 11)["yiaddr"]                   # the decliner gets another address
    assert y != x
    assert h.discover(e, 2, 12, options=((50, x),)) is None  # nobody gets x (pool: only x left)
    assert h.init_reboot(e, 2, x, 13)["type"] == k.NAK
    assert h.discover(e, 2, 610) is None             # through second 10 + 600 (leases.next_due)
    r = h.discover(e, 2, 611)                        # quarantine over
    assert r["yiaddr"] == x


def test_decline_hold_past_never_is_held_at_never_with_the_heap_locked():
    """The quarantine's end, now + decline_hold, stays at or below codes.NEVER (2**30 - 1), as a
    lease's does (engine._bind): from 2**30 it is a heap int on a 32-bit board, which handle() may
    not make (its heap is locked here). decline_hold may be up to 2**30 - 1 (configure.py): past
    NEVER the address stays out of the pool at NEVER, a timer that never fires (leases.next_due)."""
    from microdhcp.codes import NEVER
    for hold, now in ((600, NEVER - 100), (NEVER, 5)):
        e = h.engine(pool=("192.168.4.10", "192.168.4.11"), decline_hold=hold)
        x = h.dora(e, 1, now)["yiaddr"]
        e.on_event = None
        assert h.send_locked(e, k.msg(k.DECLINE, 1, ((50, x), (54, h.SERVER))), now + 1) is None
        s = h.slot_of(e, x)
        assert h.state(e, x) == "declined" and e.table.expiry[s] == NEVER, (hold, e.table.expiry[s])
        e.tick(NEVER)                                               # never due
        assert h.state(e, x) == "declined"
        assert h.send_locked(e, k.msg(k.DISCOVER, 2, ((50, x),)), now + 2)["yiaddr"] != x
        assert max(e.table.expiry) <= NEVER


def test_rfc2131_s4_3_3_decline_of_offer():
    """4.3.3: a DECLINE of an offered (not yet bound) address also quarantines it."""
    e = h.engine(decline_hold=100)
    x = h.discover(e, 1)["yiaddr"]
    h.decline(e, 1, x, 1)
    assert h.state(e, x) == "declined"


def test_rfc2131_s4_3_3_decline_from_non_holder_ignored():
    """4.3.3: a DECLINE for an address the sender does not hold changes nothing."""
    e = h.engine()
    x = h.dora(e, 1)["yiaddr"]
    n = len(e.log)
    h.decline(e, 2, x, 5)
    h.decline(e, 1, k.ip("192.168.4.19") if x[3] != 19 else k.ip("192.168.4.18"), 5)
    assert h.state(e, x) == "bound"
    assert len(e.log) == n
    assert status.stats(e)["decline"] == 0 and status.stats(e)["ignored"] == 2
    assert h.renew(e, 1, x, 6)["type"] == k.ACK


def test_rfc2131_s4_3_3_decline_for_other_server_ignored():
    """4.3.3: a DECLINE naming another server's id is not ours."""
    e = h.engine()
    x = h.dora(e, 1)["yiaddr"]
    h.send(e, k.msg(k.DECLINE, 1, ((50, x), (54, k.ip("192.168.4.254")))), 1)
    assert h.state(e, x) == "bound"


def test_rfc2131_s4_3_4_release_frees_and_remembers():
    """4.3.4: "the server marks the network address as not allocated" and "SHOULD retain a record
    of the client's initialization parameters for possible reuse"."""
    e = h.engine()
    x = h.dora(e, 1, 0, options=((12, b"cam"),))["yiaddr"]
    assert h.release(e, 1, x, 5) is None
    kind, slot = e.log[-1]
    assert kind == EV_RELEASED and h.addr_of(e, slot) == x
    assert h.state(e, x) == "released"
    assert status.stats(e)["release"] == 1
    info = status.slot_info(e, slot, 6)
    assert info[3] == "cam" and info[4] == "released"
    for c in range(2, 8):
        h.dora(e, c, 7)
    ack = h.dora(e, 1, 8)
    assert ack["yiaddr"] == x


def test_rfc2131_s4_3_4_release_by_another_client_ignored():
    """4.3.4: only the client holding the binding releases it (ciaddr + identity)."""
    e = h.engine()
    x = h.dora(e, 1)["yiaddr"]
    h.release(e, 2, x, 5)
    assert h.state(e, x) == "bound"
    assert status.stats(e)["release"] == 0 and status.stats(e)["ignored"] == 1
    assert h.discover(e, 3, 6, options=((50, x),))["yiaddr"] != x


def test_rfc2131_s4_3_4_released_address_reused_when_needed():
    """4.3.4: a released address is free: another client gets it when nothing else is left."""
    e = h.engine(pool=("192.168.4.10", "192.168.4.10"))
    x = h.dora(e, 1)["yiaddr"]
    h.release(e, 1, x, 1)
    assert h.dora(e, 2, 2)["yiaddr"] == x


def test_rfc2131_s4_3_5_inform():
    """4.3.5: DHCPACK with the configuration, no lease time (51, 58, 59), yiaddr 0, ciaddr
    echoed, sent to ciaddr:68; no binding is made."""
    e = h.engine(ntp=["192.168.4.1"])
    c = k.ip("192.168.4.50")   # configured by hand, outside the pool
    r = h.inform(e, 1, c, options=((55, b"\x01\x03\x06\x2a"),))
    assert r["type"] == k.ACK
    for code in (51, 58, 59):
        assert code not in r["options"]
    assert r["yiaddr"] == b"\0\0\0\0" and r["ciaddr"] == c
    assert r["options"][54] == h.SERVER and r["options"][42] == k.ip("192.168.4.1")
    assert e.dst_kind == DST_UNICAST and bytes(e.dst) == c and e.dst_port == 68
    assert e.log[-1] == (EV_INFORM, -1)
    assert status.stats(e)["inform"] == 1
    assert all(st == 0 for st in e.table.state)   # nothing bound or offered


def test_known_clients_only_drops_unknown_discover_but_answers_inform():
    """known_clients_only (docs/security.md): an unknown client gets no address (DISCOVER
    dropped, counted in unknown_client), but its INFORM, which asks options for an address it
    configured itself (4.3.5), is answered; no slot changes."""
    e = h.engine(known_clients_only=True)
    assert h.discover(e, 1, 1) is None and status.stats(e)["unknown_client"] == 1
    c = k.ip("192.168.4.50")
    r = h.inform(e, 1, c, 2)
    assert r["type"] == k.ACK and r["yiaddr"] == b"\0\0\0\0" and 51 not in r["options"]
    assert all(st == 0 for st in e.table.state)


def test_rfc2131_s4_3_5_inform_from_pool_address_keeps_binding():
    """4.3.5: an INFORM from a bound client leaves its lease alone."""
    e = h.engine(lease_time=1000, min_lease=10)
    x = h.dora(e, 1)["yiaddr"]
    r = h.inform(e, 1, x, 500)
    assert r["type"] == k.ACK and 51 not in r["options"]
    e.tick(1000)                                     # the lease's last second (RFC 2131 2.2)
    assert h.state(e, x) == "bound"
    e.tick(1001)
    assert h.state(e, x) == "expired"
