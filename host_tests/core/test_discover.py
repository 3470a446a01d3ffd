# DISCOVER decisions, RFC 2131 section 4.3.1: which address is offered, and the offer hold.
import dhcpkit as k
from microdhcp import status
import harness as h
from microdhcp.codes import EV_OFFER, EV_NOADDR


def test_rfc2131_s4_3_1_current_binding_offered_again():
    """4.3.1: "The client's current address as recorded in the client's current binding"."""
    e = h.engine()
    ack = h.dora(e, 1)
    h.dora(e, 2)
    r = h.discover(e, 1, 10, options=((50, k.ip("192.168.4.18")),))  # asks for another: binding wins
    assert r["yiaddr"] == ack["yiaddr"]


def test_rfc2131_s4_3_1_previous_address_after_release():
    """4.3.1: "the client's previous address as recorded in the client's (now expired or
    released) binding, if that address is in the server's pool ... and not already allocated"."""
    e = h.engine()
    ack = h.dora(e, 1)
    h.release(e, 1, ack["yiaddr"], 5)
    for c in range(2, 6):          # other clients come and go meanwhile
        h.dora(e, c, 6)
    r = h.discover(e, 1, 7)
    assert r["yiaddr"] == ack["yiaddr"]


def test_rfc2131_s4_3_1_previous_address_after_expiry():
    """4.3.1: previous address of an expired binding is offered again."""
    e = h.engine(lease_time=100, min_lease=10)
    ack = h.dora(e, 1)
    e.tick(150)
    assert h.state(e, ack["yiaddr"]) == "expired"
    h.dora(e, 2, 151)
    r = h.discover(e, 1, 152)
    assert r["yiaddr"] == ack["yiaddr"]


def test_rfc2131_s4_3_1_requested_address_honoured():
    """4.3.1: "The address requested in the 'Requested IP Address' option, if that address is
    valid and not already allocated"."""
    e = h.engine()
    r = h.discover(e, 1, options=((50, k.ip("192.168.4.15")),))   # 50 requested address
    assert k.ipstr(r["yiaddr"]) == "192.168.4.15"


def test_rfc2131_s4_3_1_invalid_requested_address_ignored():
    """4.3.1: an option 50 outside the subnet, outside the pool, the server's own address or
    another client's address is not valid: an address from the pool is offered, no NAK."""
    e = h.engine()
    taken = h.dora(e, 9)["yiaddr"]
    for i, bad in enumerate((k.ip("10.0.0.5"), k.ip("192.168.4.1"), k.ip("192.168.4.200"), k.ip("192.168.4.255"), taken)):
        # a new client each time: a client that holds an offer is offered it again, whatever it asks
        r = h.discover(e, 20 + i, options=((50, bad),))
        assert r["type"] == k.OFFER
        assert r["yiaddr"] != bad
        assert 10 <= r["yiaddr"][3] <= 19


def test_rfc2131_s4_3_1_stable_hash_pick():
    """4.3.1 ("a new address ... from the server's pool"): the pick is a hash of the identity,
    so the same client gets the same address from a freshly started server."""
    picks = {}
    for c in range(1, 6):
        a = h.discover(h.engine(), c)["yiaddr"]
        b = h.discover(h.engine(), c, 99)["yiaddr"]
        assert a == b
        picks[a] = 1
    assert len(picks) > 1   # the hash spreads clients over the pool


def test_rfc2131_s4_3_1_any_free_when_hash_slot_taken():
    """4.3.1: when the hashed address is taken, any free address is offered."""
    e = h.engine()
    want = h.discover(h.engine(), 1)["yiaddr"]
    h.discover(e, 2, options=((50, want),))             # client 2 holds it (offer)
    r = h.discover(e, 1)
    assert r["type"] == k.OFFER and r["yiaddr"] != want


def test_rfc2131_s4_3_1_pool_full_longest_released_first():
    """4.3.1: with no never-used address left, the address released (or expired) longest ago
    is reused before more recent ones."""
    e = h.engine(pool=("192.168.4.10", "192.168.4.12"), lease_time=1000, min_lease=10)
    a1 = h.dora(e, 1)["yiaddr"]
    a2 = h.dora(e, 2)["yiaddr"]
    a3 = h.dora(e, 3)["yiaddr"]
    h.release(e, 2, a2, 10)       # released first
    h.release(e, 3, a3, 20)
    r = h.discover(e, 4, 30)
    assert r["yiaddr"] == a2
    h.request_selecting(e, 4, a2, 30)
    r = h.discover(e, 5, 31)
    assert r["yiaddr"] == a3
    h.request_selecting(e, 5, a3, 31)
    # Expired works the same way: client 1's lease ends at 1000.
    r = h.discover(e, 6, 1001)
    assert r["yiaddr"] == a1


def test_rfc2131_s4_3_1_pool_exhausted_no_offer():
    """4.3.1: "If no address is available, the server may choose to report the problem to the
    system administrator" (counted and reported as EV_NOADDR), and sends nothing."""
    e = h.engine(pool=("192.168.4.10", "192.168.4.11"))
    h.dora(e, 1)
    h.dora(e, 2)
    assert h.discover(e, 3) is None
    assert status.stats(e)["pool_exhausted"] == 1
    assert h.kinds(e)[-1] == EV_NOADDR


def test_rfc2131_s4_3_1_offer_hold():
    """4.3.1: "the server SHOULD NOT reuse the selected network address until the client responds
    ... or until the offer times out"; then the address is returned to the pool."""
    e = h.engine(pool=("192.168.4.10", "192.168.4.10"), offer_hold=30)
    r = h.discover(e, 1, 100)
    x = r["yiaddr"]
    assert h.state(e, x) == "offered"
    assert h.discover(e, 2, 101, options=((50, x),)) is None     # not to another client
    assert h.discover(e, 2, 130) is None                           # held through 100 + 30
    nak = h.init_reboot(e, 2, x, 130)                              # nor by a REQUEST
    assert nak["type"] == k.NAK
    r = h.discover(e, 2, 131)                                      # hold over: returned
    assert r["yiaddr"] == x
    assert h.kinds(e).count(EV_OFFER) == 2


def test_offer_to_a_bound_client_carries_the_lease_its_ack_grants():
    """4.3.1's first rule would offer a bound client that asks for no lease time what is left of
    its lease; 3.1 step 5 wants the ACK's parameters not to conflict with the OFFER's, and the ACK
    grants lease_time from its REQUEST (not shortened), so the OFFER says lease_time, as dnsmasq's
    does (docs/architecture.md)."""
    e = h.engine(lease_time=3600)
    x = h.dora(e, 1, 0)["yiaddr"]
    offer = h.discover(e, 1, 3000)                          # 600 s left
    assert offer["yiaddr"] == x and k.be32(offer["options"][51]) == 3600
    ack = h.request_selecting(e, 1, x, 3001)
    assert k.be32(ack["options"][51]) == 3600 and e.table.expiry[h.slot_of(e, x)] == 3001 + 3600


def test_offer_hold_past_never_is_held_at_never_with_the_heap_locked():
    """The offer's expiry, now + offer_hold, stays at or below codes.NEVER (2**30 - 1), as a lease's
    does (engine._bind): from 2**30 it is a heap int on a 32-bit board, which handle() may not make
    (its heap is locked here) and which every later handle() would read (the heap's first timer).
    offer_hold may be up to 2**30 - 1 (configure.py), and `now` grows with uptime: past NEVER the
    offer is held at NEVER, a timer that never fires (leases.next_due: due at a `now` past it, and
    `now` stays below 2**30), and the client is still served."""
    from microdhcp.codes import NEVER
    for hold, now in ((30, NEVER - 10), (NEVER, 5), (NEVER - 5, 5)):
        e = h.engine(offer_hold=hold)
        e.on_event = None
        r = h.send_locked(e, k.msg(k.DISCOVER, 1, ()), now)
        assert r is not None and r["type"] == k.OFFER, (hold, now)
        x = r["yiaddr"]
        assert e.table.expiry[h.slot_of(e, x)] == NEVER, (hold, now, e.table.expiry[h.slot_of(e, x)])
        e.tick(NEVER)                                               # never due
        assert h.state(e, x) == "offered"
        r = h.send_locked(e, k.msg(k.DISCOVER, 1, ()), now + 1)      # offered again: held again
        assert r["yiaddr"] == x and e.table.expiry[h.slot_of(e, x)] == NEVER
        r = h.send_locked(e, k.msg(k.REQUEST, 1, ((50, x), (54, h.SERVER))), now + 2)
        assert r["type"] == k.ACK and h.state(e, x) == "bound"
        assert max(e.table.expiry) <= NEVER


def test_rfc2131_s4_3_1_offer_event_and_slot():
    """4.3.1: the offer is reported with the slot of the offered address."""
    e = h.engine()
    r = h.discover(e, 1)
    kind, slot = e.log[-1]
    assert kind == EV_OFFER and h.addr_of(e, slot) == r["yiaddr"]
    assert status.stats(e)["offer"] == 1


def test_rfc2131_s4_3_1_offer_does_not_move_another_client():
    """4.3.1: a repeated DISCOVER gets the same offer; no second address is held."""
    e = h.engine(pool=("192.168.4.10", "192.168.4.11"), max_offers=2)
    a = h.discover(e, 1)["yiaddr"]
    b = h.discover(e, 1, 1)["yiaddr"]
    assert a == b
    assert h.discover(e, 2, 2)["yiaddr"] != a
