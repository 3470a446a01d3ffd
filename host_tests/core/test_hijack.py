# Hijack attempts (both runtimes): REQUEST in every state of RFC 2131 4.3.2, RELEASE (4.3.4) and
# DECLINE (4.3.3) for an address bound to another client, from another MAC, from the victim's MAC
# with another client id, and with a copied client id from another MAC (config mac_pinning, on
# here: off, the default, the client id alone is the client, RFC 2131 4.2).
# The victim's binding (state, key, expiry, hardware address) never changes, the attacker gets a
# NAK or nothing, and the victim renews afterwards. Reserved addresses cannot be taken at all.
import dhcpkit as k
from microdhcp import status
import harness as h
import invariants as inv

VICTIM = 1
VICTIM_ID = 2                 # a victim that sends a client identifier
VICTIM_CID = b"\x00victim-cid"
ATTACKER = 66
RES_MAC_CLIENT = 0x63         # reserved .12 (inside the pool) by MAC
RES_ID = b"\xff\x00\x01"      # reserved .50 (outside the pool) by client id
RESERVED_IN = k.ip("192.168.4.12")
RESERVED_OUT = k.ip("192.168.4.50")


def setup(**cfg):
    cfg.setdefault("reservations", [("02:00:00:00:00:63", "192.168.4.12"), ("id:ff:00:01", "192.168.4.50")])
    cfg.setdefault("lease_time", 3600)
    cfg.setdefault("mac_pinning", True)
    e = h.engine(**cfg)
    a = h.dora(e, VICTIM, now=0)["yiaddr"]
    b = h.dora(e, VICTIM_ID, now=0, options=((61, VICTIM_CID),))["yiaddr"]
    inv.check(e, 0)
    return e, a, b


def slot(e, addr):
    return e.table.slot_of(e.cfg.offset(addr))


def attempt(e, data, now):
    """Runs one hostile message: the table's live bindings and every slot's (state, key, expiry,
    hw) are unchanged, and the reply, if any, is a NAK. Returns the reply (or None)."""
    t = e.table
    before = [inv.slot_view(e, s) for s in range(t.capacity)]
    acks = status.counter(e, "ack")
    offers = status.counter(e, "offer")
    r = h.send(e, data, now)
    assert r is None or r["type"] == k.NAK, "attacker got %r" % (r and r["type"],)
    after = [inv.slot_view(e, s) for s in range(t.capacity)]
    for s in range(t.capacity):
        assert before[s] == after[s], "slot %d changed: %r -> %r" % (s, before[s], after[s])
    assert status.counter(e, "ack") == acks and status.counter(e, "offer") == offers
    inv.check(e, now)
    return r


def renews(e, client, addr, now, options=()):
    r = h.send(e, k.msg(k.REQUEST, client, options, ciaddr=addr), now)
    assert r is not None and r["type"] == k.ACK and r["yiaddr"] == addr, r
    return r


def hostile(client, addr, options=(), server=h.SERVER):
    """Every message shape that could move a binding, aimed at addr."""
    o = tuple(options)
    return (
        ("selecting", k.msg(k.REQUEST, client, ((50, addr), (54, server)) + o)),
        ("init-reboot", k.msg(k.REQUEST, client, ((50, addr),) + o)),
        ("renewing", k.msg(k.REQUEST, client, o, ciaddr=addr)),
        ("rebinding", k.msg(k.REQUEST, client, o, ciaddr=addr, flags=0x8000)),
        ("selecting+ciaddr", k.msg(k.REQUEST, client, ((54, server),) + o, ciaddr=addr)),
        ("other-server", k.msg(k.REQUEST, client, ((50, addr), (54, k.ip("192.168.4.254"))) + o)),
        ("release", k.msg(k.RELEASE, client, ((54, server),) + o, ciaddr=addr)),
        ("release-no-sid", k.msg(k.RELEASE, client, o, ciaddr=addr)),
        ("decline", k.msg(k.DECLINE, client, ((50, addr), (54, server)) + o)),
        ("decline-no-sid", k.msg(k.DECLINE, client, ((50, addr),) + o)),
        ("relayed", k.msg(k.REQUEST, client, ((50, addr),) + o, giaddr=k.ip("192.168.4.2"))),
    )


def run_all(e, msgs, now, expect_nak=()):
    for name, data in msgs:
        r = attempt(e, data, now)
        if name in expect_nak:
            assert r is not None and r["type"] == k.NAK, "%s: expected a NAK, got %r" % (name, r)


def test_another_mac_cannot_take_a_bound_address():
    e, a, b = setup()
    for addr in (a, b):
        run_all(e, hostile(ATTACKER, addr), 100, expect_nak=("selecting", "init-reboot", "renewing", "rebinding"))
    renews(e, VICTIM, a, 1800)
    renews(e, VICTIM_ID, b, 1800, ((61, VICTIM_CID),))


def test_victim_mac_with_another_client_id_is_another_client():
    # RFC 2131 4.2: with option 61 the client id, not chaddr, names the client.
    e, a, b = setup()
    run_all(e, hostile(VICTIM, a, ((61, b"\x00someone-else"),)), 200,
            expect_nak=("selecting", "init-reboot", "renewing"))
    # The id-victim's own MAC without its id is another client too.
    run_all(e, hostile(VICTIM_ID, b), 200, expect_nak=("selecting", "init-reboot", "renewing"))
    # A client id built like a hardware key (type 1 + MAC) of a third MAC.
    run_all(e, hostile(VICTIM, a, ((61, b"\x01" + k.mac(77)),)), 200)
    renews(e, VICTIM, a, 1800)
    renews(e, VICTIM_ID, b, 1800, ((61, VICTIM_CID),))


def test_copied_client_id_from_another_mac_changes_nothing():
    # mac_pinning: a live lease found by client id belongs to the MAC that got it; the same id
    # from another MAC is another client (named by its MAC), which cannot move the lease.
    e, a, b = setup()
    before = status.counter(e, "id_pinned")
    run_all(e, hostile(ATTACKER, b, ((61, VICTIM_CID),)), 300)
    assert status.counter(e, "id_pinned") - before == len(hostile(ATTACKER, b))
    # A DISCOVER with the copied id asking for the victim's address is offered another one,
    # and the victim's slot is untouched.
    vs = slot(e, b)
    view = inv.slot_view(e, vs)
    r = h.discover(e, ATTACKER, 300, options=((61, VICTIM_CID), (50, b)))
    assert r["type"] == k.OFFER and r["yiaddr"] not in (a, b)
    assert inv.slot_view(e, vs) == view
    inv.check(e, 300)
    renews(e, VICTIM_ID, b, 1800, ((61, VICTIM_CID),))


def test_copied_client_id_after_the_lease_ends_is_the_client():
    # Pinning lasts as long as the lease: once it ends, the id (its owner on a new MAC) gets it.
    e, a, b = setup(lease_time=600)
    r = h.discover(e, ATTACKER, now=700, options=((61, VICTIM_CID),))
    assert r is not None and r["yiaddr"] == b
    inv.check(e, 700)


def test_without_mac_pinning_a_client_id_is_the_client():
    # RFC 2131 4.2 strictly: the client id alone names the client, whatever chaddr says. A
    # copied id then renews the lease (the victim keeps the same address; DHCP cannot tell).
    e, a, b = setup(mac_pinning=False)
    r = h.send(e, k.msg(k.REQUEST, ATTACKER, ((61, VICTIM_CID),), ciaddr=b), 300)
    assert r["type"] == k.ACK and r["yiaddr"] == b
    # Another MAC with no id, or another id, is still refused.
    run_all(e, hostile(ATTACKER, a), 300, expect_nak=("renewing",))


def test_hijack_attempts_at_t1_and_near_expiry():
    e, a, b = setup(lease_time=600)
    for now in (300, 599):
        run_all(e, hostile(ATTACKER, a), now)
        run_all(e, hostile(ATTACKER, b, ((61, VICTIM_CID),)), now)
    renews(e, VICTIM, a, 599)


def test_offered_address_cannot_be_taken():
    e, a, b = setup()
    off = h.discover(e, 5, now=10)
    c = off["yiaddr"]
    assert e.table.state[slot(e, c)] == 1    # OFFERED
    run_all(e, hostile(ATTACKER, c), 11, expect_nak=("selecting", "init-reboot"))
    ack = h.request_selecting(e, 5, c, now=12)
    assert ack["type"] == k.ACK and ack["yiaddr"] == c


def test_reserved_addresses_cannot_be_taken_before_their_client_comes():
    e, a, b = setup()
    for addr in (RESERVED_IN, RESERVED_OUT):
        run_all(e, hostile(ATTACKER, addr), 50, expect_nak=("selecting", "init-reboot", "renewing"))
        # A DISCOVER asking for it gets another address (another attacker: this one now holds an offer).
        r = h.discover(e, ATTACKER + 1, now=50, options=((50, addr),))
        assert r is not None and r["yiaddr"] != addr
        inv.check(e, 50)
    # A forged client id of the wrong type, or the id reservation's bytes as a MAC, do not match.
    run_all(e, hostile(ATTACKER, RESERVED_OUT, ((61, b"\xfe\x00\x01"),)), 60)
    r = h.discover(e, 0x63, now=60)
    assert r["yiaddr"] == RESERVED_IN
    r = h.discover(e, 9, now=60, options=((61, RES_ID),))
    assert r["yiaddr"] == RESERVED_OUT


def test_reserved_addresses_cannot_be_taken_while_bound():
    e, a, b = setup()
    ack = h.dora(e, RES_MAC_CLIENT, now=10)
    assert ack["yiaddr"] == RESERVED_IN
    ack = h.dora(e, 9, now=10, options=((61, RES_ID),))
    assert ack["yiaddr"] == RESERVED_OUT
    run_all(e, hostile(ATTACKER, RESERVED_IN), 20)
    run_all(e, hostile(ATTACKER, RESERVED_OUT), 20)
    # The id reservation's id from another MAC (pinned while bound).
    run_all(e, hostile(ATTACKER, RESERVED_OUT, ((61, RES_ID),)), 20)
    renews(e, RES_MAC_CLIENT, RESERVED_IN, 1800)
    renews(e, 9, RESERVED_OUT, 1800, ((61, RES_ID),))


def test_not_authoritative_attacker_gets_nothing_or_nak():
    e, a, b = setup(authoritative=False)
    run_all(e, hostile(ATTACKER, a), 100)
    run_all(e, hostile(ATTACKER, b, ((61, VICTIM_CID),)), 100)
    renews(e, VICTIM, a, 1800)


def test_hijack_from_outside_relay_is_dropped():
    e, a, b = setup()
    data = k.msg(k.REQUEST, ATTACKER, ((50, a),), giaddr=k.ip("10.9.9.9"))
    assert attempt(e, data, 100) is None
    assert status.counter(e, "wrong_relay") == 1
