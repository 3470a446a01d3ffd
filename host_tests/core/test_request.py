# REQUEST decisions, RFC 2131 section 4.3.2 (SELECTING, INIT-REBOOT, RENEWING, REBINDING).
import dhcpkit as k
from microdhcp import status
import harness as h
from microdhcp.codes import EV_BOUND, EV_RENEWED, EV_EXPIRED, EV_NAK, DST_UNICAST, DST_BROADCAST

OTHER = k.ip("192.168.4.254")   # another server on the link


def test_rfc2131_s4_3_2_selecting_our_server_id_ack():
    """4.3.2 SELECTING: option 54 is ours, option 50 the offered address: ACK and bind."""
    e = h.engine()
    off = h.discover(e, 1)
    ack = h.request_selecting(e, 1, off["yiaddr"], 1)
    assert ack["type"] == k.ACK and ack["yiaddr"] == off["yiaddr"]
    assert h.state(e, off["yiaddr"]) == "bound"
    assert e.log[-1][0] == EV_BOUND


def test_rfc2131_s4_3_2_selecting_other_server_frees_offer():
    """4.3.2 SELECTING: a REQUEST naming another server's id means our offer was declined: no
    reply, and the offered address is free for another client at once."""
    e = h.engine(pool=("192.168.4.10", "192.168.4.10"))
    x = h.discover(e, 1)["yiaddr"]
    assert h.discover(e, 2, 1) is None                   # held for client 1
    assert h.request_selecting(e, 1, x, 2, server=OTHER) is None
    assert status.stats(e)["other_server"] == 1
    assert h.state(e, x) == "free"
    assert h.discover(e, 2, 3)["yiaddr"] == x


def test_rfc2131_s4_3_2_selecting_other_server_keeps_binding():
    """4.3.2: a REQUEST for another server does not touch a bound lease of ours (it was not an offer)."""
    e = h.engine()
    x = h.dora(e, 1)["yiaddr"]
    assert h.request_selecting(e, 1, x, 2, server=OTHER) is None
    assert h.state(e, x) == "bound"


def test_rfc2131_s4_3_2_init_reboot_correct_address_ack():
    """4.3.2 INIT-REBOOT: option 50 holds the client's address, no option 54: ACK."""
    e = h.engine()
    x = h.dora(e, 1)["yiaddr"]
    r = h.init_reboot(e, 1, x, 100)
    assert r["type"] == k.ACK and r["yiaddr"] == x
    assert 51 in r["options"]


def test_rfc2131_s4_3_2_init_reboot_after_server_restart_ack():
    """4.3.2 INIT-REBOOT: a free address the client remembers (server restarted) is confirmed."""
    e = h.engine()
    r = h.init_reboot(e, 1, k.ip("192.168.4.14"))
    assert r["type"] == k.ACK and k.ipstr(r["yiaddr"]) == "192.168.4.14"


def test_rfc2131_s4_3_2_init_reboot_wrong_network_nak():
    """4.3.2 INIT-REBOOT: "If the requested address is incorrect ... on the wrong network", NAK."""
    e = h.engine()
    r = h.init_reboot(e, 1, k.ip("10.0.0.5"))
    assert r["type"] == k.NAK
    assert r["options"][56] == b"wrong network"
    assert e.log[-1] == (EV_NAK, -1)


def test_rfc2131_s4_3_2_init_reboot_outside_pool_nak():
    """4.3.2 INIT-REBOOT: an address in our subnet that we do not hand out: NAK."""
    e = h.engine()
    r = h.init_reboot(e, 1, k.ip("192.168.4.100"))
    assert r["type"] == k.NAK


def test_rfc2131_s4_3_2_init_reboot_bound_to_another_nak():
    """4.3.2 INIT-REBOOT: the address is bound to another client: NAK, binding unchanged."""
    e = h.engine()
    x = h.dora(e, 1)["yiaddr"]
    r = h.init_reboot(e, 2, x, 5)
    assert r["type"] == k.NAK
    assert h.state(e, x) == "bound"
    assert h.renew(e, 1, x, 6)["type"] == k.ACK


def test_rfc2131_s4_3_2_non_authoritative_silent_for_unknown_client():
    """4.3.2 INIT-REBOOT: "If the DHCP server has no record of this client, then it MUST remain
    silent" (authoritative=False); a client we know is still NAKed."""
    e = h.engine(authoritative=False)
    assert h.init_reboot(e, 1, k.ip("10.0.0.5")) is None
    assert h.init_reboot(e, 1, k.ip("192.168.4.100")) is None
    x = h.dora(e, 2)["yiaddr"]
    assert h.init_reboot(e, 1, x) is None               # someone else's: still silent
    assert status.stats(e)["nak"] == 0
    assert h.init_reboot(e, 2, k.ip("10.0.0.5"))["type"] == k.NAK


def test_rfc2131_s4_3_2_renewing_ack_unicast_and_extended():
    """4.3.2 RENEWING: ciaddr filled, no 50/54, unicast: ACK to ciaddr:68 and the lease is
    extended: the expiry no longer fires at the old time."""
    e = h.engine(lease_time=1000, min_lease=10)
    x = h.dora(e, 1)["yiaddr"]
    r = h.renew(e, 1, x, 600)
    assert r["type"] == k.ACK and r["yiaddr"] == x and r["ciaddr"] == x
    assert k.be32(r["options"][51]) == 1000
    assert e.dst_kind == DST_UNICAST and bytes(e.dst) == x and e.dst_port == 68
    assert e.log[-1][0] == EV_RENEWED
    e.tick(1000)
    e.tick(1600)     # the lease's last second (RFC 2131 2.2, test below)
    assert EV_EXPIRED not in h.kinds(e)
    assert h.state(e, x) == "bound"
    e.tick(1601)
    assert h.kinds(e)[-1] == EV_EXPIRED and h.state(e, x) == "expired"


def test_rfc2131_s4_3_2_rebinding_ack_and_extended():
    """4.3.2 REBINDING: ciaddr filled, broadcast: ACK and extend."""
    e = h.engine(lease_time=1000, min_lease=10)
    x = h.dora(e, 1)["yiaddr"]
    r = h.send(e, k.msg(k.REQUEST, 1, (), ciaddr=x, flags=0x8000), 900)
    assert r["type"] == k.ACK and r["yiaddr"] == x
    e.tick(1000)
    assert h.state(e, x) == "bound"
    e.tick(1901)
    assert h.state(e, x) == "expired"


def test_rfc2131_s2_2_lease_held_through_its_last_second():
    """2.2: the server "guarantees not to reallocate that address within the requested time".
    `now` is whole seconds (clock.py floors): a REQUEST read in second 0 may have left the client
    at 0.9, and the client counts its 100 s from then (4.4.5), so the lease runs into second 100.
    Through second 100 the address stays the client's: another client asking for it (option 50)
    gets another one, and a renewal then is a renewal (EV_RENEWED), not an expiry and a new
    binding. From second 101 it has ended."""
    e = h.engine(lease_time=100, min_lease=10)
    x = h.dora(e, 1, 0)["yiaddr"]
    r = h.discover(e, 2, 100, options=((50, x),))      # 50 = the bound address, in its last second
    assert r["type"] == k.OFFER and r["yiaddr"] != x
    assert h.state(e, x) == "bound" and EV_EXPIRED not in h.kinds(e)
    assert h.renew(e, 1, x, 100)["type"] == k.ACK      # renewed at second 100 ...
    assert h.kinds(e)[-1] == EV_RENEWED                # ... as a renewal
    e.tick(200)
    assert h.state(e, x) == "bound"
    e.tick(201)
    assert h.state(e, x) == "expired"


def test_lease_time_at_its_largest_keeps_expiry_a_small_int():
    """lease_time may be up to 2**30 - 1 (configure.py: a small int on a 32-bit board). The
    expiry, now + lease, must stay at or below codes.NEVER: from 2**30 it is a heap int on a
    32-bit board, made by every bind and read by every handle() after (the heap's first timer
    is checked per message), against the engine's allocation-free contract (test_alloc). It is
    held at NEVER, as the lease store holds a restored lease (store.LeaseStore._hold)."""
    from microdhcp.codes import NEVER
    e = h.engine(lease_time=NEVER, min_lease=10)
    ack = h.dora(e, 1, 5)
    assert k.be32(ack["options"][51]) == NEVER
    x = ack["yiaddr"]
    s = h.slot_of(e, x)
    assert e.table.expiry[s] == NEVER
    assert h.renew(e, 1, x, 1000)["type"] == k.ACK
    assert e.table.expiry[s] == NEVER and h.state(e, x) == "bound"
    assert max(e.table.expiry) <= NEVER


def test_rfc2131_s4_3_2_renew_after_expiry_rebinds():
    """4.3.2: a client renewing an address that expired but is still free gets it back."""
    e = h.engine(lease_time=100, min_lease=10)
    x = h.dora(e, 1)["yiaddr"]
    r = h.renew(e, 1, x, 500)
    assert r["type"] == k.ACK and r["yiaddr"] == x
    assert h.state(e, x) == "bound"


def test_rfc2131_s4_3_2_request_other_than_own_binding_nak():
    """4.3.2: a client bound to one address asking for another (INIT-REBOOT or RENEWING) gets a
    NAK so that it restarts; its binding stays."""
    e = h.engine()
    x = h.dora(e, 1)["yiaddr"]
    y = k.ip("192.168.4.19") if x != k.ip("192.168.4.19") else k.ip("192.168.4.18")
    r = h.init_reboot(e, 1, y, 1)
    assert r["type"] == k.NAK and r["options"][56] == b"lease is for another address"
    r = h.renew(e, 1, y, 2)
    assert r["type"] == k.NAK
    assert h.state(e, x) == "bound" and h.state(e, y) == "free"


def test_rfc2131_s4_3_2_renewing_someone_elses_address_nak():
    """4.3.2: RENEWING with a ciaddr bound to another client: NAK, never an ACK."""
    e = h.engine()
    x = h.dora(e, 1)["yiaddr"]
    r = h.renew(e, 2, x, 3)
    assert r["type"] == k.NAK
    assert e.dst_kind == DST_BROADCAST   # 4.1: NAKs are broadcast when giaddr is 0


def test_rfc2131_s4_3_2_selecting_lapsed_offer_taken_nak():
    """4.3.2 SELECTING: the offer lapsed and the address went to another client: NAK."""
    e = h.engine(pool=("192.168.4.10", "192.168.4.10"), offer_hold=10)
    x = h.discover(e, 1)["yiaddr"]
    h.dora(e, 2, 20)
    r = h.request_selecting(e, 1, x, 21)
    assert r["type"] == k.NAK


def test_rfc2131_s4_3_2_request_without_address_dropped():
    """4.3.2: a REQUEST with neither option 50 nor ciaddr cannot be answered."""
    e = h.engine()
    assert h.send(e, k.msg(k.REQUEST, 1)) is None
    assert status.stats(e)["bad_request"] == 1


def test_rfc2131_s4_3_2_requested_lease_time():
    """4.3.2 / 4.3.1: option 51 from the client is honoured down to min_lease, capped at lease_time."""
    e = h.engine(lease_time=3600, min_lease=60)
    off = h.discover(e, 1)
    ack = h.request_selecting(e, 1, off["yiaddr"], options=((51, k.u32(600)),))
    assert k.be32(ack["options"][51]) == 600
    assert k.be32(ack["options"][58]) == 300 and k.be32(ack["options"][59]) == 525
    ack = h.renew(e, 1, off["yiaddr"], 1)
    ack = h.send(e, k.msg(k.REQUEST, 1, ((51, k.u32(5)),), ciaddr=off["yiaddr"]), 2)
    assert k.be32(ack["options"][51]) == 60
    ack = h.send(e, k.msg(k.REQUEST, 1, ((51, b"\xff\xff\xff\xff"),), ciaddr=off["yiaddr"]), 3)
    assert k.be32(ack["options"][51]) == 3600
