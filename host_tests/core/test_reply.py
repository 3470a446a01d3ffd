# Reply format: RFC 2131 section 4.1, 4.3 and Table 3; RFC 6842 (61 echo), RFC 3046 (82),
# RFC 2132 9.8 (PRL order) and 9.10 (option 57), RFC 1542 (300-byte minimum).
import dhcpkit as k
import harness as h
from microdhcp.codes import DST_BROADCAST, DST_UNICAST

XID = b"\xde\xad\xbe\xef"
RELAY = k.ip("192.168.4.2")
AGENT = b"\x01\x04port\x02\x03abc"   # 82: sub-option 1 circuit id "port", 2 remote id "abc"


def replies():
    # One of each reply kind from one engine: (name, parsed reply).
    e = h.engine()
    cid = (61, b"\x00client")
    out = []
    out.append(("offer", h.discover(e, 1, options=(cid,), xid=XID, secs=9, hops=1, flags=0x8000)))
    out.append(("ack", h.request_selecting(e, 1, out[0][1]["yiaddr"], options=(cid,), xid=XID, secs=9, flags=0x8000)))
    out.append(("nak", h.init_reboot(e, 2, k.ip("10.1.1.1"), options=(cid[:1] + (b"\x00other",),), xid=XID, secs=9, flags=0x8000)))
    out.append(("inform", h.inform(e, 3, k.ip("192.168.4.60"), xid=XID, secs=9, flags=0x8000)))
    return out


def test_rfc2131_table3_header_fields():
    """Table 3: op 2, hops 0, secs 0, xid/flags/giaddr/chaddr echoed, htype/hlen echoed, siaddr
    0, ciaddr 0 in OFFER and NAK."""
    for name, r in replies():
        assert r["op"] == 2, name
        assert r["hops"] == 0 and r["secs"] == 0, name
        assert r["xid"] == XID and r["flags"] == 0x8000, name
        assert r["htype"] == 1 and r["hlen"] == 6, name
        assert r["giaddr"] == b"\0\0\0\0" and r["siaddr"] == b"\0\0\0\0", name
        client = {"offer": 1, "ack": 1, "nak": 2, "inform": 3}[name]    # whose message it answers
        assert r["chaddr"][:6] == k.mac(client) and r["chaddr"][6:] == bytes(10), name
        if name in ("offer", "nak"):
            assert r["ciaddr"] == b"\0\0\0\0", name


def test_rfc2131_table3_option53_first_and_54_always():
    """Table 3 / 4.3.1: option 53 first (clients such as MicroPython's read it there); option 54
    in every reply, NAK included (RFC 2131 4.3.2 "MUST include the server identifier")."""
    for name, r in replies():
        assert r["order"][0] == 53, name
        assert r["options"][54] == h.SERVER, name


def test_rfc2131_table3_lease_options_only_in_offer_and_ack_to_request():
    """Table 3: 51 MUST in OFFER and ACK to REQUEST, MUST NOT in ACK to INFORM and NAK; 58/59 follow."""
    for name, r in replies():
        has = [c in r["options"] for c in (51, 58, 59)]
        if name in ("offer", "ack"):
            assert has == [True, True, True], name
        else:
            assert has == [False, False, False], name


def test_rfc2131_table3_nak_options():
    """Table 3: a NAK carries 53, 54, 56 and (RFC 6842) the echoed 61, nothing else; yiaddr 0."""
    r = replies()[2][1]
    assert r["type"] == k.NAK
    assert sorted(r["options"].keys()) == [53, 54, 56, 61], r["order"]
    assert r["options"][61] == b"\x00other"
    assert r["yiaddr"] == b"\0\0\0\0"


def test_rfc3046_nak_via_relay_carries_82_and_broadcast_bit():
    """RFC 2131 4.1 / 4.3.2: a NAK through a relay goes to giaddr:67 with the broadcast bit set;
    RFC 3046 2.2: option 82 echoed, last."""
    e = h.engine()
    r = h.init_reboot(e, 1, k.ip("10.1.1.1"), options=((82, AGENT),), giaddr=RELAY, hops=1)
    assert r["type"] == k.NAK
    assert sorted(r["options"].keys()) == [53, 54, 56, 82]
    assert r["order"][-1] == 82 and r["options"][82] == AGENT
    assert r["flags"] & 0x8000
    assert e.dst_kind == DST_UNICAST and bytes(e.dst) == RELAY and e.dst_port == 67


def test_rfc6842_client_id_echoed():
    """RFC 6842 section 3: the server MUST echo option 61 in OFFER, ACK and NAK."""
    for name, r in replies():
        if name != "inform":
            assert 61 in r["options"], name
    r = replies()[0][1]
    assert r["options"][61] == b"\x00client"
    assert 61 not in replies()[3][1]["options"]     # not sent, not echoed


def test_rfc3046_s2_2_relay_option_echoed_last():
    """RFC 3046 2.2: the server copies option 82 into its reply, as the last option (before END),
    and the reply goes to giaddr:67 (RFC 2131 4.1)."""
    e = h.engine(ntp=["192.168.4.1"])
    prl = (55, b"\x2a\x01\x03\x06")
    off = h.discover(e, 1, options=(prl, (82, AGENT)), giaddr=RELAY, hops=1)
    assert off["order"][-1] == 82 and off["options"][82] == AGENT
    assert off["giaddr"] == RELAY and off["hops"] == 0
    assert e.dst_kind == DST_UNICAST and bytes(e.dst) == RELAY and e.dst_port == 67
    assert not off["flags"] & 0x8000
    ack = h.request_selecting(e, 1, off["yiaddr"], options=(prl, (82, AGENT)), giaddr=RELAY)
    assert ack["order"][-1] == 82 and bytes(e.dst) == RELAY and e.dst_port == 67


def test_rfc2132_s9_8_prl_order():
    """RFC 2132 9.8: "The client MAY list the options in order of preference"; the reply lists
    the requested options in that order, then the always-sent mask/router/DNS it did not name."""
    e = h.engine(ntp=["192.168.4.1"], domain="lan", mtu=1400)
    r = h.discover(e, 1, options=((55, bytes((42, 6, 99, 15, 26, 42))),))   # 99 unknown, 42 twice
    params = [c for c in r["order"] if c not in (53, 54, 51, 58, 59)]
    assert params == [42, 6, 15, 26, 1, 3], params


def test_rfc2132_s9_10_max_size_honoured_options_left_out_not_cut():
    """RFC 2132 9.10: a reply fits option 57 (minimum 576); an option that does not fit is left
    out whole, never cut; with a larger 57 it is sent."""
    big = bytes(range(200)) + bytes(range(100))     # 300 bytes: split in 2 instances
    small = b"\x11" * 40
    e = h.engine(raw_options={224: big, 225: small})
    prl = (55, bytes((1, 3, 6, 224, 225)))
    r = h.discover(e, 1, options=(prl, (57, b"\x02\x40")))      # 57 = 576
    assert r["len"] <= 576 - 28
    assert 224 not in r["options"]
    assert r["options"][225] == small
    for code in (1, 3, 6):
        assert code in r["options"]
    r = h.discover(e, 1, 1, options=(prl, (57, b"\x01\x00")))   # 57 = 256, below 576: treated as 576
    assert r["len"] <= 576 - 28 and 224 not in r["options"] and r["options"][225] == small
    r = h.discover(e, 1, 2)                                    # no 57: 576
    assert r["len"] <= 576 - 28
    r = h.discover(e, 1, 3, options=(prl, (57, b"\x05\xdc")))   # 57 = 1500
    assert r["options"][224] == big and r["options"][225] == small
    assert r["len"] <= 1500 - 28


def test_rfc2132_s9_10_max_size_small_tx_buffer():
    """A tx buffer smaller than option 57 bounds the reply too (whole options only)."""
    e = h.engine(tx_size=576, raw_options={224: b"\x22" * 250, 225: b"\x33" * 250})
    r = h.discover(e, 1, options=((55, bytes((224, 225))), (57, b"\x05\xdc")))
    assert r["len"] <= 576
    assert r["options"].get(224, b"\x22" * 250) == b"\x22" * 250
    assert r["options"].get(225, b"\x33" * 250) == b"\x33" * 250


def test_engine_tx_holds_the_longest_reply_it_builds():
    """The engine's own transmit buffer (reply.tx_size) holds its longest reply whole: a relayed
    client allowing 1500 bytes (option 57) with the longest client id kept (codes.MAX_ID, RFC
    6842 echo) and a 255-byte relay option (RFC 3046 echo), asking for every configured option,
    gets all of them, in OFFER and ACK."""
    from microdhcp.codes import MAX_ID
    from microdhcp.reply import tx_size
    e = h.engine(ntp=["192.168.4.1"], domain="lab.example", raw_options={224: b"\x22" * 100})
    e.tx = bytearray(tx_size(e.cfg))     # the size Engine makes it (the harness gives 1500)
    codes = sorted(e.cfg.options)
    cid = b"\x00" + bytes(range(1, MAX_ID))
    agent = b"\x01\xfd" + bytes(range(253))
    assert len(cid) == MAX_ID and len(agent) == 255
    opts = ((55, bytes(codes)), (57, b"\x05\xdc"), (61, cid), (82, agent))
    off = h.discover(e, 1, options=opts, giaddr=RELAY, hops=1)
    ack = h.request_selecting(e, 1, off["yiaddr"], options=opts, giaddr=RELAY)
    for r in (off, ack):
        assert r["options"][61] == cid and r["options"][82] == agent, r["order"]
        for code in codes + [51, 58, 59]:
            assert code in r["options"], (code, r["order"])
        assert r["len"] <= len(e.tx)


def test_rfc1542_s2_1_reply_at_least_300_bytes():
    """RFC 1542 2.1 / RFC 2131 section 2: replies are at least 300 bytes (BOOTP minimum), zero
    padded after END."""
    e = h.engine()
    n = e.handle(k.msg(k.DISCOVER, 1), 0, e.tx)
    assert n >= 300
    r = k.parse(e.tx, n)
    assert all(b == 0 for b in e.tx[n:])
    for name, r in replies():
        assert r["len"] >= 300, name


def test_rfc2131_s4_1_destination_broadcast_default_and_configured():
    """4.1: giaddr 0 and ciaddr 0: broadcast (reply_broadcast, e.g. the subnet broadcast for a
    Pico W), port 68."""
    e = h.engine()
    h.discover(e, 1)
    assert e.dst_kind == DST_BROADCAST and bytes(e.dst) == b"\xff\xff\xff\xff" and e.dst_port == 68
    e = h.engine(reply_broadcast="192.168.4.255")
    h.discover(e, 1)
    assert e.dst_kind == DST_BROADCAST and k.ipstr(e.dst) == "192.168.4.255" and e.dst_port == 68
    assert bytes(e.reply_broadcast) == k.ip("192.168.4.255")


def test_rfc2131_s4_1_destination_ciaddr_and_relay():
    """4.1: ciaddr set -> unicast ciaddr:68 (ACK to RENEWING, INFORM); giaddr set -> giaddr:67."""
    e = h.engine()
    x = h.dora(e, 1)["yiaddr"]
    h.renew(e, 1, x, 1)
    assert e.dst_kind == DST_UNICAST and bytes(e.dst) == x and e.dst_port == 68
    h.inform(e, 2, k.ip("192.168.4.70"), 2)
    assert e.dst_kind == DST_UNICAST and k.ipstr(e.dst) == "192.168.4.70" and e.dst_port == 68
    h.inform(e, 2, k.ip("192.168.4.70"), 2, giaddr=RELAY)
    assert e.dst_kind == DST_UNICAST and bytes(e.dst) == RELAY and e.dst_port == 67


def test_rfc2131_s4_1_nak_broadcast_even_with_ciaddr():
    """4.1: "In all cases, when 'giaddr' is zero, the server broadcasts any DHCPNAK messages"."""
    e = h.engine()
    x = h.dora(e, 3)["yiaddr"]
    r = h.renew(e, 1, x, 2)      # ciaddr is another client's address
    assert r["type"] == k.NAK
    assert e.dst_kind == DST_BROADCAST and e.dst_port == 68
