# Client identity (RFC 2131 section 4.2, RFC 2132 9.14), static reservations, known-clients-only,
# and rapid commit (RFC 4039).
import dhcpkit as k
from microdhcp import status
import harness as h
import invariants as inv
from microdhcp.codes import EV_BOUND


def test_rfc2131_s4_2_client_id_is_identity():
    """4.2: "the combination of 'client identifier' (option 61) ... and assigned network address
    constitute a unique identifier": the same id from another MAC is the same client."""
    e = h.engine(mac_pinning=False)
    cid = (61, b"\xff\x00\x00\x00\x01\xaa\xbb")   # RFC 4361 style id
    x = h.dora(e, 1, 0, options=(cid,))["yiaddr"]
    r = h.discover(e, 2, 1, options=(cid,))       # new NIC, same id
    assert r["yiaddr"] == x


def test_rfc2131_s4_2_client_id_from_another_mac_is_the_same_client_by_default():
    """4.2 by default (mac_pinning off): a laptop that keeps its client id and comes back on a
    dock's adapter is the same client: it renews and rebinds its lease from the new MAC."""
    e = h.engine()
    cid = (61, b"\x01" + k.mac(1))              # the id its first adapter's MAC made
    x = h.dora(e, 1, 0, options=(cid,))["yiaddr"]
    r = h.send(e, k.msg(k.REQUEST, 2, (cid,), ciaddr=x), 10)     # RENEWING from the dock
    assert r["type"] == k.ACK and r["yiaddr"] == x
    r = h.discover(e, 3, 20, options=(cid,))                     # and again from a third adapter
    assert r["type"] == k.OFFER and r["yiaddr"] == x
    assert status.counter(e, "id_pinned") == 0 and status.counter(e, "id_mismatch") == 0


def test_mac_pinning_serves_another_mac_as_another_client():
    """mac_pinning on: the same client id from another MAC while the lease lives is a distinct
    client with its own address (never silence), and the pinned lease is never touched."""
    e = h.engine(mac_pinning=True)
    cid = (61, b"\x00laptop")
    x = h.dora(e, 1, 0, options=(cid,))["yiaddr"]
    s = h.slot_of(e, x)
    view = inv.slot_view(e, s)
    y = h.dora(e, 2, 10, options=(cid,))["yiaddr"]      # the dock's adapter, same client id
    assert y != x
    assert h.state(e, y) == "bound" and inv.slot_view(e, s) == view
    assert status.counter(e, "id_pinned") == 2 and status.counter(e, "id_mismatch") == 0
    # It renews and releases its own address, and a RELEASE of the pinned one is ignored.
    assert h.send(e, k.msg(k.REQUEST, 2, (cid,), ciaddr=y), 20)["yiaddr"] == y
    assert h.send(e, k.msg(k.REQUEST, 2, (cid,), ciaddr=x), 20)["type"] == k.NAK
    h.send(e, k.msg(k.RELEASE, 2, ((54, h.SERVER), cid), ciaddr=x), 21)
    assert inv.slot_view(e, s) == view
    h.send(e, k.msg(k.RELEASE, 2, ((54, h.SERVER), cid), ciaddr=y), 22)
    assert h.state(e, y) == "released"
    # The first MAC still holds x.
    r = h.send(e, k.msg(k.REQUEST, 1, (cid,), ciaddr=x), 30)
    assert r["type"] == k.ACK and r["yiaddr"] == x
    inv.check(e, 30)


def test_mac_pinning_id_equal_to_own_hardware_key_held_elsewhere():
    """mac_pinning on: when the other MAC's own htype + chaddr is the pinned lease's client id
    (the holder sent 01 + this MAC from elsewhere), no second name exists: that message alone
    is dropped (id_mismatch), and the lease is untouched."""
    e = h.engine(mac_pinning=True)
    cid = (61, b"\x01" + k.mac(2))
    x = h.dora(e, 1, 0, options=(cid,))["yiaddr"]
    view = inv.slot_view(e, h.slot_of(e, x))
    assert h.discover(e, 2, 10, options=(cid,)) is None
    assert status.counter(e, "id_mismatch") == 1
    assert inv.slot_view(e, h.slot_of(e, x)) == view


def test_rfc2131_s4_2_chaddr_identity_without_client_id():
    """4.2: without option 61 the client is htype + chaddr."""
    e = h.engine()
    x = h.dora(e, 1)["yiaddr"]
    assert h.discover(e, 1, 1)["yiaddr"] == x
    r = h.discover(e, 1, 2, htype=6)     # same chaddr, other hardware type: another client
    assert r["yiaddr"] != x


def test_rfc2131_s4_2_same_mac_two_client_ids_are_two_clients():
    """4.2 / RFC 2132 9.14: two client ids on one MAC (e.g. two OS images) are two clients."""
    e = h.engine()
    a = h.dora(e, 1, 0, options=((61, b"\x00os-one"),))["yiaddr"]
    b = h.dora(e, 1, 1, options=((61, b"\x00os-two"),))["yiaddr"]
    assert a != b
    assert h.state(e, a) == "bound" and h.state(e, b) == "bound"


def test_rfc2131_s4_3_1_reservation_by_mac():
    """4.3.1 ("static" allocation): a MAC reservation always gets its address, even with an
    option 61 present, and nobody else ever does."""
    e = h.engine(reservations=[("02:00:00:00:00:07", "192.168.4.15")])
    r = h.discover(e, 1, options=((50, k.ip("192.168.4.15")),))   # another client asks for it
    assert k.ipstr(r["yiaddr"]) != "192.168.4.15"
    assert h.init_reboot(e, 1, k.ip("192.168.4.15"), 1)["type"] == k.NAK
    ack = h.dora(e, 7, 2, options=((61, b"\x01\x02\x00\x00\x00\x00\x07"),))
    assert k.ipstr(ack["yiaddr"]) == "192.168.4.15"
    ack = h.dora(e, 7, 3)
    assert k.ipstr(ack["yiaddr"]) == "192.168.4.15"
    # an option 61 that is not 01 + its MAC: the reservation by MAC still decides
    ack = h.dora(e, 7, 4, options=((61, b"\x00other-id"),))
    assert k.ipstr(ack["yiaddr"]) == "192.168.4.15"


def test_rfc2131_s4_3_1_reservation_by_client_id_outside_pool():
    """4.3.1: a reservation by client id ("id:..."), here outside the dynamic pool."""
    e = h.engine(reservations=[("id:ff:00:00:00:01:aa", "192.168.4.100")])
    ack = h.dora(e, 3, 0, options=((61, b"\xff\x00\x00\x00\x01\xaa"),))
    assert k.ipstr(ack["yiaddr"]) == "192.168.4.100"
    r = h.discover(e, 3, 1)                # same MAC without the id: another client
    assert k.ipstr(r["yiaddr"]) != "192.168.4.100"
    assert h.init_reboot(e, 4, k.ip("192.168.4.100"), 2)["type"] == k.NAK


def test_rfc2131_s4_3_1_reserved_address_never_given_away():
    """4.3.1: a reserved address stays out of the pool even when the pool runs dry, and after
    its client's lease expires or is released."""
    e = h.engine(pool=("192.168.4.10", "192.168.4.11"), lease_time=100, min_lease=10, max_offers=2,
                 reservations=[("02:00:00:00:00:09", "192.168.4.11")])
    x = h.dora(e, 9)["yiaddr"]
    assert k.ipstr(x) == "192.168.4.11"
    h.release(e, 9, x, 1)
    assert h.dora(e, 1, 2)["yiaddr"] != x
    assert h.discover(e, 2, 3) is None           # pool exhausted; .11 stays reserved
    assert h.state(e, x) == "reserved"
    e.tick(500)
    assert h.discover(e, 2, 500, options=((50, x),))["yiaddr"] != x


def test_known_clients_only():
    """known_clients_only: only reserved clients get answers (RFC 2131 4.3.1 leaves the policy
    to the server); others are counted as unknown_client."""
    e = h.engine(known_clients_only=True, reservations=[("02:00:00:00:00:05", "192.168.4.12")])
    assert h.discover(e, 1) is None
    assert h.init_reboot(e, 1, k.ip("192.168.4.13")) is None
    assert status.stats(e)["unknown_client"] == 2
    assert k.ipstr(h.dora(e, 5)["yiaddr"]) == "192.168.4.12"


def test_rfc4039_rapid_commit_enabled():
    """RFC 4039 section 4: with rapid commit enabled and option 80 in the DISCOVER, the server
    answers with an ACK carrying option 80 and binds at once."""
    e = h.engine(rapid_commit=True)
    r = h.discover(e, 1, options=((80, b""),))      # 80 rapid commit, length 0
    assert r["type"] == k.ACK and r["options"][80] == b""
    assert 51 in r["options"]
    assert h.state(e, r["yiaddr"]) == "bound"
    assert e.log[-1][0] == EV_BOUND
    assert h.renew(e, 1, r["yiaddr"], 10)["type"] == k.ACK


def test_rfc4039_rapid_commit_disabled_or_not_asked():
    """RFC 4039 section 4: disabled (the default), or not asked for: a normal OFFER without 80."""
    e = h.engine()
    r = h.discover(e, 1, options=((80, b""),))
    assert r["type"] == k.OFFER and 80 not in r["options"]
    assert h.state(e, r["yiaddr"]) == "offered"
    e = h.engine(rapid_commit=True)
    r = h.discover(e, 1)
    assert r["type"] == k.OFFER and 80 not in r["options"]
