# Parsing of client messages: RFC 2131 section 2 and 3, RFC 2132 (options, 9.3 overload),
# RFC 3396 (split options). Every malformed message is dropped, counted, and the engine serves on.
import dhcpkit as k
from microdhcp import codes, packet, status
import harness as h

DISCOVER_53 = (0x35, 0x01, 0x01)  # 53 message type = DISCOVER


def served_after(e, client=77):
    # The engine still runs a full DORA after a drop.
    ack = h.dora(e, client)
    return ack["type"] == k.ACK


def dropped_as(reason, data):
    e = h.engine()
    before = status.stats(e)[reason]
    assert h.send(e, data) is None
    s = status.stats(e)
    assert s[reason] == before + 1, (reason, s)
    assert status.dropped(e) == 1, s
    assert s["replied"] == 0
    assert served_after(e)
    return e


def test_rfc2131_s4_1_option53_not_first():
    """RFC 2131 4.1 / RFC 2132 9.6: the message type may stand anywhere among the options."""
    options = bytes((
        0x0c, 0x04, 0x6e, 0x6f, 0x64, 0x65,        # 12 hostname = "node"
        0x3d, 0x07, 0x01, 0x02, 0, 0, 0, 0, 0x01,  # 61 client id = htype 1 + MAC
        0x37, 0x02, 0x01, 0x03,                    # 55 PRL = mask, router
        0x35, 0x01, 0x01,                          # 53 message type = DISCOVER (last)
        0xff,                                      # END
    ))
    e = h.engine()
    r = h.send(e, k.raw(options))
    assert r["type"] == k.OFFER
    assert r["order"][0] == 53


def test_rfc2132_s9_3_overload_file():
    """RFC 2132 9.3: option 52 = 1, options continue in the 'file' field."""
    file = bytes((
        0x35, 0x01, 0x01,                   # 53 message type = DISCOVER, carried in 'file'
        0xff,                               # END of the file field
    ))
    options = bytes((0x34, 0x01, 0x01,     # 52 overload = file
                     0xff))                 # END
    e = h.engine()
    r = h.send(e, k.raw(options, file=file))
    assert r is not None and r["type"] == k.OFFER


def test_rfc2132_s9_3_overload_sname():
    """RFC 2132 9.3: option 52 = 2, options continue in the 'sname' field."""
    sname = bytes((0x35, 0x01, 0x01,       # 53 message type = DISCOVER, carried in 'sname'
                   0xff))
    options = bytes((0x34, 0x01, 0x02,     # 52 overload = sname
                     0xff))
    e = h.engine()
    r = h.send(e, k.raw(options, sname=sname))
    assert r is not None and r["type"] == k.OFFER


def test_rfc2132_s9_3_overload_ignored_without_option52():
    """RFC 2132 9.3: without option 52, 'file' holds a boot file name, not options."""
    file = bytes((0x35, 0x01, 0x01, 0xff))  # looks like option 53, but must not be read
    e = h.engine()
    assert h.send(e, k.raw(b"\xff", file=file)) is None
    assert status.stats(e)["no_msg_type"] == 1


def test_rfc3396_s5_overload_both_file_before_sname():
    """RFC 3396 section 5 / RFC 2131 4.1: with overload 3 the options field, then 'file', then
    'sname' are read, and a split option is joined in that order (here a client id in three)."""
    options = bytes((
        0x34, 0x01, 0x03,                 # 52 overload = file and sname
        0x35, 0x01, 0x01,                 # 53 message type = DISCOVER
        0x3d, 0x02, 0xff, 0xaa,           # 61 client id, part 1: type 255 (RFC 4361), 0xaa
        0xff,                             # END
    ))
    file = bytes((0x3d, 0x02, 0xbb, 0xcc,  # 61 part 2 (file is read second)
                  0xff))
    sname = bytes((0x3d, 0x01, 0xdd,       # 61 part 3 (sname is read last)
                   0xff))
    e = h.engine()
    r = h.send(e, k.raw(options, file=file, sname=sname))
    assert r["type"] == k.OFFER
    assert r["options"][61] == b"\xff\xaa\xbb\xcc\xdd", r["options"][61]


def test_rfc3396_split_client_id_is_one_identity():
    """RFC 3396: a client id split in two instances, interleaved with other options, is the
    same client as the unsplit id (a reservation by id matches it)."""
    cid = b"\x01\x02\x00\x00\x00\x00\x63"
    e = h.engine(reservations=[("id:01:02:00:00:00:00:63", "192.168.4.17")])
    options = bytes((
        0x3d, 0x03, 0x01, 0x02, 0x00,     # 61 client id, part 1 of 2
        0x0c, 0x02, 0x61, 0x62,           # 12 hostname = "ab" (interleaved)
        0x35, 0x01, 0x01,                 # 53 message type = DISCOVER
        0x3d, 0x04, 0x00, 0x00, 0x00, 0x63,  # 61 client id, part 2 of 2
        0xff,
    ))
    r = h.send(e, k.raw(options, client=5))
    assert k.ipstr(r["yiaddr"]) == "192.168.4.17"
    assert r["options"][61] == cid
    assert k.instances(e.tx, r["len"], 61) == 1   # echoed joined


def test_rfc3396_split_prl_three_instances():
    """RFC 3396: a parameter request list split in three instances is read as one list; the
    reply follows its order (RFC 2132 9.8)."""
    options = bytes((
        0x37, 0x01, 0x2a,                 # 55 PRL part 1: 42 NTP
        0x35, 0x01, 0x01,                 # 53 message type = DISCOVER
        0x37, 0x02, 0x0f, 0x06,           # 55 PRL part 2: 15 domain, 6 DNS
        0x0c, 0x01, 0x78,                 # 12 hostname = "x"
        0x37, 0x02, 0x03, 0x01,           # 55 PRL part 3: 3 router, 1 mask
        0xff,
    ))
    e = h.engine(ntp=["192.168.4.1"], domain="lan")
    r = h.send(e, k.raw(options))
    params = [c for c in r["order"] if c not in (53, 54, 51, 58, 59)]
    assert params == [42, 15, 6, 3, 1], r["order"]


def test_rfc3396_split_options_are_joined_in_the_work_area():
    """RFC 3396: a message with an option in several instances is parsed again into the parser's
    work area (packet.py): the header up to chaddr, then every tracked value, instances joined in
    order; the caller's datagram is never written. A DISCOVER with a 220-byte parameter request
    list in two instances is served, padded to 1500 bytes too; tracked values past the work
    area's 512 bytes are dropped as options_too_long."""
    prl = bytes(range(1, 111))            # 110 codes, sent twice: 220 bytes joined
    options = bytes((0x35, 0x01, 0x01)) + bytes((0x37, 110)) + prl + bytes((0x37, 110)) + prl + b"\xff"
    e = h.engine()
    m = k.raw(options)
    sent = bytes(m)
    r = h.send(e, m)
    assert r["op"] == 2 and r["options"][53] == bytes((k.OFFER,)), r
    assert bytes(m) == sent, "the datagram was written"
    req = e.req
    assert e.rx is req.work and req.cnt[codes.PRL] == 2 and req.ln[codes.PRL] == 220
    o = req.off[codes.PRL]
    assert bytes(e.rx[o:o + 220]) == prl + prl and bytes(e.rx[0:44]) == sent[0:44]
    big = bytearray(m)
    big.extend(bytes(1500 - len(big)))   # zero padding after END: a 1500-byte datagram
    r = h.send(e, bytes(big), 1)
    assert r["op"] == 2 and r["options"][53] == bytes((k.OFFER,)), r
    # 3 x 180 codes joined: 540 bytes of values, past the 512-byte room
    prl = bytes(range(1, 181))
    dropped_as("options_too_long", k.raw(bytes((0x35, 0x01, 0x01)) + (bytes((0x37, 180)) + prl) * 3 + b"\xff"))


def test_rfc3396_joined_values_keep_their_order_beside_other_options():
    """Instances of one option interleaved with other tracked options (RFC 3396 section 7: in
    order of appearance): a hostname split in two around a client id and a PRL is joined whole,
    and the options between keep their values."""
    options = (bytes((0x35, 0x01, 0x01)) + bytes((0x0c, 3)) + b"abc" + bytes((0x3d, 7, 1, 2, 0, 0, 0, 0, 9))
               + bytes((0x37, 3, 1, 3, 6)) + bytes((0x0c, 3)) + b"def" + bytes((0x37, 1, 15)) + b"\xff")
    e = h.engine()
    h.send(e, k.raw(options))
    req = e.req
    assert e.rx is req.work
    got = {}
    for i in (codes.HOSTNAME, codes.CLIENT_ID, codes.PRL):
        got[i] = bytes(e.rx[req.off[i]:req.off[i] + req.ln[i]])
    assert got == {codes.HOSTNAME: b"abcdef", codes.CLIENT_ID: bytes((1, 2, 0, 0, 0, 0, 9)),
                   codes.PRL: bytes((1, 3, 6, 15))}, got


def test_the_join_copy_format_is_the_header():
    """packet.Request.parse copies the header into the work area with one pack_into("44s"): the
    literal must be _HEAD (op .. chaddr, RFC 2131 section 2), the bytes read of the header after
    a parse."""
    from microdhcp.packet import Request
    r = Request()
    assert len(r.work) == 44 + 512
    if hasattr(packet, "_HEAD"):   # CPython keeps private constants as module attributes
        assert packet._HEAD == 44 and packet._REQ_SCRATCH == 512


def test_rfc2132_s2_truncated_option_dropped():
    """RFC 2132 section 2: an option whose length runs past the end of the packet is malformed."""
    options = bytes((
        0x35, 0x01, 0x01,                 # 53 message type = DISCOVER
        0x0c, 0x08, 0x61, 0x62,           # 12 hostname claims 8 bytes, only 2 follow
    ))
    dropped_as("bad_option", k.raw(options, pad=False))


def test_rfc2132_s2_option_code_without_length_dropped():
    """RFC 2132 section 2: a code byte as the last byte of the packet, no length."""
    dropped_as("bad_option", k.raw(bytes((0x35, 0x01, 0x01,  # 53 = DISCOVER
                                          0x0c))              # 12, length missing
                                   , pad=False))


def test_rfc2132_s2_truncated_in_file_field_dropped():
    """RFC 2132 9.3: an overloaded 'file' option must end inside the 128-byte field."""
    file = bytearray(128)
    file[124:128] = bytes((0x0c, 0x09, 0x61, 0x62))  # 12 hostname runs past 'file' into the cookie
    options = bytes((0x34, 0x01, 0x01,  # 52 overload = file
                     0x35, 0x01, 0x01,  # 53 = DISCOVER
                     0xff))
    dropped_as("bad_option", k.raw(options, file=bytes(file)))


def test_rfc2131_s2_hlen_0_without_client_id_dropped():
    """hlen 0 leaves htype alone to name the client (RFC 2131 4.2): without option 61 every such
    client would be one, so the message is dropped (RFC 4390 2.1 makes 61 a MUST with hlen 0)."""
    dropped_as("bad_hlen", k.msg(k.DISCOVER, 1, hlen=0))


def test_rfc4390_s2_1_infiniband_hlen_0_with_client_id_served():
    """RFC 4390 2.1 (DHCP over InfiniBand; RFC 2855 for IEEE 1394 alike): 'htype' 32, 'hlen' 0,
    'chaddr' zeroed, the 'client-identifier' option MUST be used. The client id names the client
    (RFC 2131 4.2): OFFER and ACK, hlen 0 and the zero chaddr echoed, the reply broadcast (RFC
    4390 2.2: the client sets the BROADCAST flag; IPoIB has no chaddr to unicast to)."""
    cid = bytes((0xff, 0, 0, 0, 1,                         # RFC 4361: type 255, IAID 1,
                 0, 4)) + bytes(range(1, 17))              # DUID-UUID (type 4), 16 bytes
    head = dict(htype=32, hlen=0, chaddr=bytes(16), flags=0x8000)
    options = bytes((0x35, 0x01, 0x01,                     # 53 message type = DISCOVER
                     0x3d, len(cid))) + cid + bytes((      # 61 client id (23 bytes)
                     0xff,))                               # END
    e = h.engine()
    r = h.send(e, k.raw(options, **head))
    assert r is not None and r["type"] == k.OFFER, status.stats(e)
    assert r["htype"] == 32 and r["hlen"] == 0 and r["chaddr"] == bytes(16)
    assert r["flags"] == 0x8000 and r["options"][61] == cid
    assert e.dst_kind == codes.DST_BROADCAST
    y = r["yiaddr"]
    options = bytes((0x35, 0x01, 0x03,                     # 53 message type = REQUEST
                     0x32, 0x04)) + y + bytes((            # 50 requested address = the offer
                     0x36, 0x04)) + h.SERVER + bytes((     # 54 server id = us (SELECTING)
                     0x3d, len(cid))) + cid + bytes((      # 61 client id
                     0xff,))                               # END
    r = h.send(e, k.raw(options, **head))
    assert r["type"] == k.ACK and r["yiaddr"] == y and r["hlen"] == 0
    assert h.state(e, y) == "bound"
    # another IPoIB client (its own client id, the same zero chaddr) is another client
    cid2 = cid[:-1] + b"\x99"
    options = bytes((0x35, 0x01, 0x01, 0x3d, len(cid2))) + cid2 + b"\xff"
    r = h.send(e, k.raw(options, **head))
    assert r["type"] == k.OFFER and r["yiaddr"] != y


def test_rfc2131_s2_hlen_17_dropped():
    """RFC 2131 section 2: hlen 17 would read past chaddr into sname."""
    dropped_as("bad_hlen", k.msg(k.DISCOVER, 1, hlen=17))


def test_rfc2131_s2_hlen_16_accepted():
    """RFC 2131 section 2: hlen 16 fills chaddr exactly and is valid."""
    e = h.engine()
    r = h.send(e, k.msg(k.DISCOVER, 1, hlen=16, htype=32, chaddr=bytes(range(1, 17))))
    assert r["type"] == k.OFFER and r["hlen"] == 16 and r["chaddr"] == bytes(range(1, 17))


def test_rfc2131_s3_no_end_option_accepted():
    """RFC 2131 section 3 / RFC 2132 3.2: a packet without END whose options fit is accepted."""
    options = bytes((
        0x35, 0x01, 0x01,                 # 53 message type = DISCOVER
        0x0c, 0x02, 0x61, 0x62,           # 12 hostname = "ab", last byte of the packet
    ))
    e = h.engine()
    r = h.send(e, k.raw(options, pad=False))
    assert r is not None and r["type"] == k.OFFER


def test_rfc2132_s9_8_prl_of_255_codes():
    """RFC 2132 9.8: a PRL naming codes 1-255 (255 bytes, the most one instance holds)."""
    prl = bytes(range(1, 256))
    e = h.engine(ntp=["192.168.4.1"], domain="lan", mtu=1400)
    r = h.send(e, k.msg(k.DISCOVER, 1, ((55, prl),)))
    assert r["type"] == k.OFFER
    params = [c for c in r["order"] if c not in (53, 54, 51, 58, 59)]
    assert params == [1, 3, 6, 15, 26, 28, 42], params


def test_rfc2131_s3_bad_cookie_dropped():
    """RFC 2131 section 3: options start with the magic cookie 99.130.83.99 (else BOOTP/garbage)."""
    m = k.msg(k.DISCOVER, 1)
    m[236:240] = bytes((0x63, 0x82, 0x53, 0x64))  # last cookie byte wrong
    dropped_as("bad_cookie", m)


def test_rfc2131_s2_short_packet_dropped():
    """RFC 2131 section 2: shorter than the 236-byte header plus the 4-byte cookie."""
    dropped_as("short", k.msg(k.DISCOVER, 1)[:239])
    dropped_as("short", b"")
    dropped_as("short", b"\x01")


def test_rfc2131_s4_1_bootreply_dropped():
    """RFC 2131 4.1: a server handles only op = BOOTREQUEST (1); op 2 is another server's reply."""
    dropped_as("not_request", k.msg(k.DISCOVER, 1, op=2))


def test_rfc2132_fixed_length_options_wrong_length_dropped():
    """RFC 2132 9.1 (50: 4), 9.2 (51: 4), 9.6 (53: 1), 9.7 (54: 4), 9.10 (57: 2), 9.14 (61: >= 2),
    RFC 4039 (80: 0): a wrong length makes the message malformed."""
    cases = (
        ("bad_option_len", ((50, b"\xc0\xa8\x04"),)),        # 50 requested address, 3 bytes
        ("bad_option_len", ((51, b"\x00\x00\x0e"),)),        # 51 lease time, 3 bytes
        ("bad_option_len", ((54, b"\xc0\xa8\x04\x01\x00"),)),  # 54 server id, 5 bytes
        ("bad_option_len", ((57, b"\x05"),)),                # 57 max size, 1 byte
        ("bad_option_len", ((61, b"\x01"),)),                # 61 client id, type only
        ("bad_option_len", ((80, b"\x01"),)),                # 80 rapid commit carries no data
    )
    for reason, options in cases:
        dropped_as(reason, k.msg(k.DISCOVER, 1, options))
    # 53 itself with length 2: no usable message type.
    dropped_as("no_msg_type", k.raw(bytes((0x35, 0x02, 0x01, 0x00,  # 53 length 2
                                           0xff))))


def test_rfc2132_s9_6_missing_or_unknown_message_type_dropped():
    """RFC 2132 9.6: option 53 is required and 1-8 are the defined types."""
    dropped_as("no_msg_type", k.raw(bytes((0x0c, 0x01, 0x61, 0xff))))  # 12 only
    dropped_as("no_msg_type", k.raw(bytes((0x35, 0x01, 0x09, 0xff))))  # 53 = 9 (undefined)
    dropped_as("no_msg_type", k.raw(bytes((0x35, 0x01, 0x00, 0xff))))  # 53 = 0


def test_rfc2131_s4_3_server_messages_from_clients_dropped():
    """RFC 2131 4.3: OFFER, ACK and NAK are server messages; a server ignores them."""
    for t in (k.OFFER, k.ACK, k.NAK):
        dropped_as("not_client_msg", k.msg(t, 1))


def test_rfc2131_s4_3_oversize_dropped():
    """A datagram larger than the receive buffer (1500 bytes) is dropped, not truncated."""
    m = k.msg(k.DISCOVER, 1)
    m.extend(bytes(1600))
    dropped_as("oversize", m)


def test_rfc2131_s4_1_relay_from_other_subnet_dropped():
    """RFC 2131 4.1 / 4.3.1: giaddr names the client's subnet; we serve only our own."""
    dropped_as("wrong_relay", k.msg(k.DISCOVER, 1, giaddr=k.ip("10.9.9.1")))


def test_rfc2131_s2_fuzz_never_raises():
    """RFC 2131 section 2: any content is either served or dropped; nothing raises, and the
    counters add up (received = replied + dropped + DECLINE + RELEASE)."""
    rng = k.Lcg(2024)
    e = h.engine()
    base = (k.msg(k.DISCOVER, 3, ((55, b"\x01\x03\x06"), (61, b"\x01abcdef"), (12, b"host"))),
            k.raw(bytes((0x34, 0x01, 0x03, 0x35, 0x01, 0x03, 0x32, 0x04, 192, 168, 4, 12, 0xff)),
                  file=bytes((0x3d, 0x03, 1, 2, 3, 0xff)), sname=bytes((0x37, 0x01, 0x01, 0xff))))
    for i in range(400):
        m = bytearray(base[i & 1])
        for j in range(1 + rng.below(6)):
            p = 236 + rng.below(len(m) - 236) if rng.below(4) else rng.below(len(m))
            m[p] = rng.below(256)
        if rng.below(5) == 0:
            m = m[:rng.below(len(m))]
        h.send(e, m, i)
    s = status.stats(e)
    assert s["received"] == 400
    assert s["received"] == s["replied"] + status.dropped(e) + s["decline"] + s["release"], s
    assert served_after(e)


def test_parse_results_are_the_engine_counters_of_their_names():
    # packet.parse()'s drop reasons are counted at their own value (engine.handle: counters[err]),
    # so each E_* must be the index of its name in status.COUNTER_NAMES, and the engine's own
    # counters must start after the last of them.
    from microdhcp import codes
    names = {codes.E_SHORT: "short", codes.E_NOT_REQUEST: "not_request", codes.E_HLEN: "bad_hlen",
             codes.E_COOKIE: "bad_cookie", codes.E_OPTION: "bad_option", codes.E_NO_TYPE: "no_msg_type",
             codes.E_BAD_LEN: "bad_option_len", codes.E_TOO_LONG: "options_too_long"}
    for code, name in names.items():
        assert status.COUNTER_NAMES[code] == name, (code, name)
        assert code in status.DROP_COUNTERS
    assert sorted(names) == list(range(1, codes.C_REPLIED)) and codes.C_RECEIVED == 0
    # and a message cut short is counted there
    e = h.engine()
    assert e.handle(bytes(100), 0, e.tx) == 0 and status.counter(e, "short") == 1
