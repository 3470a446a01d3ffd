# Introspection (issue 2 item 9): lease events with their slot, counters, slot_info.
import dhcpkit as k
from microdhcp import status
import harness as h
from microdhcp.engine import EV_OFFER, EV_BOUND, EV_RENEWED, EV_RELEASED, EV_DECLINED, EV_EXPIRED


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
    e.tick(163)
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
