# The lease table's client-id arena (issue 11): identities are kept whole (RFC 2131 4.2), the
# usual ones (no option 61, or option 61 = htype 1 + the MAC) in the hardware field at no cost,
# the rest in shared 20-byte cells; what happens when the cells run out.
import dhcpkit as k
from microdhcp import status
import harness as h
import invariants as inv
from microdhcp.codes import MAX_ID


def rfc4361(n, tail=b""):
    # 0xff + IAID + DUID-LLT (RFC 4361 section 6.1): 19 bytes, one arena cell.
    return b"\xff" + bytes((0, 0, 0, n)) + b"\x00\x01\x00\x01" + bytes((1, 2, 3, 4)) + k.mac(n) + tail


def cid(v):
    return ((61, v),)


def dora_id(e, c, v, now=0):
    return h.dora(e, c, now, options=cid(v))


def release_id(e, c, v, addr, now=0):
    return h.send(e, k.msg(k.RELEASE, c, ((54, h.SERVER), (61, v)), ciaddr=addr), now)


def renew_id(e, c, v, addr, now):
    return h.send(e, k.msg(k.REQUEST, c, ((61, v),), ciaddr=addr), now)


def test_usual_identities_take_no_arena_cells():
    """No option 61, and option 61 = htype 1 + chaddr (RFC 2132 9.14), are kept in the 7-byte
    hardware field: the arena stays untouched."""
    e = h.engine()
    t = e.table
    free = t.nfree
    h.dora(e, 1)
    h.dora(e, 2, 1, options=cid(b"\x01" + k.mac(2)))
    assert t.nfree == free
    assert inv.key_of(t, h.slot_of(e, h.dora(e, 2, 2, options=cid(b"\x01" + k.mac(2)))["yiaddr"])) == \
        b"\x07\x01" + k.mac(2)
    h.dora(e, 3, 3, options=cid(rfc4361(3)))
    assert t.nfree == free - 1
    inv.check(e, 3)


def test_long_ids_sharing_a_prefix_are_two_clients():
    """RFC 2131 4.2: ids are compared whole. Two 39-byte ids that differ only in their last byte
    (the old layout kept 16 bytes and a 24-bit hash of longer ids) get two addresses and each
    renews only its own."""
    a = b"\x00" + b"x" * 37 + b"a"
    b = b"\x00" + b"x" * 37 + b"b"
    e = h.engine(mac_pinning=False)
    xa = dora_id(e, 1, a)["yiaddr"]
    xb = dora_id(e, 2, b, 1)["yiaddr"]
    assert xa != xb
    assert renew_id(e, 2, b, xb, 5)["type"] == k.ACK
    assert renew_id(e, 1, a, xb, 6)["type"] == k.NAK        # a's lease is xa, not xb
    assert renew_id(e, 1, a, xa, 7)["type"] == k.ACK
    assert e.table.nfree == e.table.ncells - 2 * 2          # 39 bytes: two cells each (19 + 20)
    inv.check(e, 7)


def test_ids_whose_old_short_form_collided_are_two_clients():
    """RFC 2131 4.2: two 24-byte ids with the same first 16 bytes and the same 24-bit hash
    (h24 of ...00000021 and ...00000100 are equal) were one key in the old 20-byte form, so
    the second client renewed the first one's lease. Kept whole, they are two clients."""
    pre = b"\x00" + b"x" * 19
    a = pre + b"\x00\x00\x00\x21"
    b = pre + b"\x00\x00\x01\x00"
    e = h.engine(mac_pinning=False)
    xa = dora_id(e, 1, a)["yiaddr"]
    r = h.discover(e, 2, 1, options=cid(b))
    assert r["yiaddr"] != xa
    assert renew_id(e, 2, b, xa, 2)["type"] == k.NAK
    assert h.state(e, xa) == "bound"
    inv.check(e, 2)


def test_identity_longer_than_max_id_is_refused_and_counted():
    """An id over codes.MAX_ID bytes (RFC 2132 allows 255; real ids are far shorter) is not
    served and is counted as id_too_long; one of MAX_ID bytes is served."""
    e = h.engine()
    assert h.discover(e, 1, options=cid(b"\x00" + b"y" * MAX_ID)) is None
    assert status.stats(e)["id_too_long"] == 1
    assert h.discover(e, 2, options=cid(b"\x00" + b"y" * (MAX_ID - 1)))["type"] == k.OFFER
    inv.check(e, 0)


def test_full_arena_refuses_new_long_ids_and_keeps_live_ones():
    """Arena full of live leases: a new client with a long id gets no answer (counted as
    id_arena_full), the live clients keep their addresses and renew, and clients whose identity
    is their MAC are still served."""
    e = h.engine(id_cells=2, lease_time=600, min_lease=60)
    x1 = dora_id(e, 1, rfc4361(1))["yiaddr"]
    x2 = dora_id(e, 2, rfc4361(2), 1)["yiaddr"]
    assert e.table.nfree == 0
    assert h.discover(e, 3, 2, options=cid(rfc4361(3))) is None
    assert h.send(e, k.msg(k.REQUEST, 3, ((50, k.ip("192.168.4.19")),) + cid(rfc4361(3))), 3) is None
    assert status.stats(e)["id_arena_full"] == 2
    assert renew_id(e, 1, rfc4361(1), x1, 10)["type"] == k.ACK
    assert renew_id(e, 2, rfc4361(2), x2, 10)["type"] == k.ACK
    assert h.dora(e, 4, 11)["type"] == k.ACK                                  # MAC identity
    assert dora_id(e, 5, b"\x01" + k.mac(5), 12)["type"] == k.ACK            # 01 + MAC
    assert e.table.evicted == 0
    inv.check(e, 12)


def test_full_arena_reclaims_remembered_ids_oldest_first():
    """A released client's id is only memory (its previous address): when the arena is full a
    new long id takes those cells, the oldest released first, and the client that lost its
    memory is a new client next time, never confused with the one that took its cells."""
    e = h.engine(id_cells=2, lease_time=600, min_lease=60)
    x1 = dora_id(e, 1, rfc4361(1))["yiaddr"]
    x2 = dora_id(e, 2, rfc4361(2), 1)["yiaddr"]
    release_id(e, 1, rfc4361(1), x1, 2)
    release_id(e, 2, rfc4361(2), x2, 3)
    assert e.table.nfree == 0 and e.table.spare == 2
    x3 = dora_id(e, 3, rfc4361(3), 4)["yiaddr"]
    assert e.table.evicted == 1 and e.table.spare == 1
    assert h.state(e, x1) == "free" or x3 == x1    # client 1 (released first) was forgotten
    assert h.state(e, x2) == "released"            # client 2 still remembered
    assert dora_id(e, 2, rfc4361(2), 5)["yiaddr"] == x2   # and gets its address back
    inv.check(e, 5)
    # Client 1 comes back: no memory left to reclaim (2 and 3 are live), so it waits.
    assert h.discover(e, 1, 6, options=cid(rfc4361(1))) is None
    assert status.stats(e)["id_arena_full"] == 1
    release_id(e, 3, rfc4361(3), x3, 7)
    r = dora_id(e, 1, rfc4361(1), 8)
    assert r["yiaddr"] != x2
    inv.check(e, 8)


def test_freed_cells_are_reused_without_growth():
    """Cells go back to the arena when a long-id client leaves for good (DECLINE clears the id,
    a MAC client takes a remembered slot, a moved client frees its old slot): 300 rounds of 5
    long-id clients through a 3-cell arena end with every cell accounted for and nothing grown."""
    e = h.engine(id_cells=3, lease_time=100, min_lease=10, decline_hold=20, offer_hold=5,
                 pool=("192.168.4.10", "192.168.4.14"))
    before = inv.sizes(e)
    now = 0
    served = 0
    for r in range(300):
        c = 1 + r % 5
        now += 7
        v = rfc4361(c, b"" if c % 2 else b"more-than-nineteen!")   # 1 or 2 cells
        o = h.discover(e, c, now, options=cid(v))
        if o is not None:
            a = h.request_selecting(e, c, o["yiaddr"], now, options=cid(v))
            if a is not None and a["type"] == k.ACK:
                served += 1
                if r % 3 == 0:
                    h.send(e, k.msg(k.DECLINE, c, ((50, a["yiaddr"]), (54, h.SERVER)) + cid(v)), now)
                elif r % 3 == 1:
                    release_id(e, c, v, a["yiaddr"], now)
        if r % 4 == 0:
            m = 100 + r % 3             # MAC clients take remembered slots too, then leave
            a = h.discover(e, m, now)
            if a is not None:
                a = h.request_selecting(e, m, a["yiaddr"], now)
                if a is not None and a["type"] == k.ACK:
                    h.release(e, m, a["yiaddr"], now)
        inv.check(e, now, before)
    assert served > 100, served
    assert e.table.evicted > 0
    e.tick(now + 1000)
    t = e.table
    assert t.nfree + t.spare == t.ncells      # nothing live: every cell free or reclaimable
    inv.check(e, now + 1000, before)


def test_same_id_from_a_new_chaddr_moves_into_the_arena():
    """mac_pinning off: a client id equal to 01 + its first MAC is kept in the hardware field;
    sent later from another chaddr it moves to the arena whole, and the slot lists the new MAC."""
    e = h.engine(mac_pinning=False)
    v = b"\x01" + k.mac(1)
    x = dora_id(e, 1, v)["yiaddr"]
    free = e.table.nfree
    r = h.send(e, k.msg(k.REQUEST, 9, ((61, v),), ciaddr=x), 5)    # same id, chaddr of client 9
    assert r["type"] == k.ACK and r["yiaddr"] == x
    s = h.slot_of(e, x)
    assert e.table.nfree == free - 1 and inv.key_of(e.table, s) == bytes([7]) + v
    assert status.slot_info(e, s, 5)[1] == "02:00:00:00:00:09"
    assert h.discover(e, 2, 6)["yiaddr"] != x
    inv.check(e, 6)


def test_long_chaddr_identity_is_kept_whole():
    """RFC 2131 4.2 without option 61: htype + chaddr[:hlen]. With hlen 16 (only the first 6
    bytes fit the hw field) the identity goes whole to the arena: two clients whose chaddr
    differ only in byte 16 are two clients, and each renews its own lease."""
    e = h.engine()
    a = bytes(range(1, 16)) + b"\x01"
    b = bytes(range(1, 16)) + b"\x02"
    ra = h.send(e, k.msg(k.DISCOVER, 1, hlen=16, chaddr=a), 0)
    xa = h.send(e, k.msg(k.REQUEST, 1, ((50, ra["yiaddr"]), (54, h.SERVER)), hlen=16, chaddr=a), 0)["yiaddr"]
    rb = h.send(e, k.msg(k.DISCOVER, 2, hlen=16, chaddr=b), 1)
    assert rb["yiaddr"] != xa
    assert h.send(e, k.msg(k.REQUEST, 1, (), ciaddr=xa, hlen=16, chaddr=a), 2)["type"] == k.ACK
    assert h.send(e, k.msg(k.REQUEST, 2, (), ciaddr=xa, hlen=16, chaddr=b), 3)["type"] == k.NAK
    s = h.slot_of(e, xa)
    assert inv.key_of(e.table, s) == bytes([17, 1]) + a
    assert status.slot_info(e, s, 3)[1] == "01:02:03:04:05:06"    # listed by its first 6 bytes
    inv.check(e, 3)
