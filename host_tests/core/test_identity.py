# Client identity (RFC 2131 section 4.2, RFC 2132 9.14), static reservations, known-clients-only,
# and rapid commit (RFC 4039).
import dhcpkit as k
from microdhcp import status
import harness as h
from microdhcp.engine import EV_BOUND


def test_rfc2131_s4_2_client_id_is_identity():
    """4.2: "the combination of 'client identifier' (option 61) ... and assigned network address
    constitute a unique identifier": the same id from another MAC is the same client."""
    e = h.engine(mac_pinning=False)
    cid = (61, b"\xff\x00\x00\x00\x01\xaa\xbb")   # RFC 4361 style id
    x = h.dora(e, 1, 0, options=(cid,))["yiaddr"]
    r = h.discover(e, 2, 1, options=(cid,))       # new NIC, same id
    assert r["yiaddr"] == x


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
