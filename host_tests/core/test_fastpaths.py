# The engine's fast paths give the same results as the plain definitions they replace (issue 17:
# cycles on a Cortex-M0+): options encoded once at construction, written once per reply.
import dhcpkit as k
from microdhcp import status
import harness as h
from microdhcp.reply import encode as _encode


def test_encode_splits_per_rfc3396():
    assert _encode(3, b"\x0a\x00\x00\x01") == bytes((3, 4, 10, 0, 0, 1))
    assert _encode(80, b"") == bytes((80, 0))
    v = bytes(range(256)) + bytes(44)        # 300 bytes: instances of 255 and 45
    e = _encode(224, v)
    assert len(e) == 304
    assert e[0] == 224 and e[1] == 255 and e[2:257] == v[:255]
    assert e[257] == 224 and e[258] == 45 and e[259:] == v[255:]


def test_requested_options_written_once_always_sent_once():
    # 6 and 3 listed twice, 1 once; router and DNS are also always-sent: each goes out once.
    e = h.engine()
    n = e.handle(k.msg(k.DISCOVER, 1, ((55, bytes((6, 3, 6, 1, 3))),)), 0, e.tx)
    assert n
    for code in (1, 3, 6, 54):
        assert k.instances(e.tx, n, code) == 1, code
    r = k.parse(e.tx, n)["options"]
    assert r[6] == k.ip("192.168.4.1") + k.ip("9.9.9.9")
    assert r[3] == k.ip("192.168.4.1")
    # many replies: the written-once marks wrap (256 generations) without losing an option
    for i in range(300):
        n = e.handle(k.msg(k.DISCOVER, 1, ((55, bytes((6, 3, 6))),)), i, e.tx)
        assert n and k.instances(e.tx, n, 6) == 1 and k.instances(e.tx, n, 3) == 1


def test_engine_constants_match_the_parser():
    # The engine keeps the parser's RX_MAX as its own const (no module lookup per message).
    import microdhcp.engine as eng
    import microdhcp.codes as codes
    if hasattr(eng, "_RX_MAX"):          # CPython keeps private constants as module attributes
        assert eng._RX_MAX == codes.RX_MAX
    # either way, a datagram of RX_MAX bytes is accepted and one byte more is dropped as oversize
    e = h.engine()
    d = bytearray(k.msg(k.DISCOVER, 1))
    d.extend(bytes(codes.RX_MAX - len(d)))
    assert e.handle(bytes(d), 0, e.tx)
    assert e.handle(bytes(d) + b"\x00", 1, e.tx) == 0 and status.counter(e, "oversize") == 1


def test_parser_track_table_matches_tracked():
    # packet._TRACK is a bytes literal (no heap on a board): code -> index + 1 in TRACKED.
    import microdhcp.packet as pkt
    want = bytearray(256)
    for i in range(len(pkt.TRACKED)):
        want[pkt.TRACKED[i]] = i + 1
    assert bytes(pkt._TRACK) == bytes(want)
    assert bytes(pkt._ZTRACK) == bytes(len(pkt.TRACKED))


def test_lease_options_encoded_once_match_the_configured_times():
    e = h.engine(lease_time=7200, renew_time=3000, rebind_time=6000)
    n = e.handle(k.msg(k.DISCOVER, 1), 0, e.tx)
    r = k.parse(e.tx, n)["options"]
    assert r[51] == k.u32(7200) and r[58] == k.u32(3000) and r[59] == k.u32(6000)
    # a shorter requested lease scales T1/T2 instead
    n = e.handle(k.msg(k.DISCOVER, 2, ((51, k.u32(1024)),)), 0, e.tx)
    r = k.parse(e.tx, n)["options"]
    assert r[51] == k.u32(1024) and k.be32(r[58]) < 1024 and k.be32(r[59]) < 1024


def test_parser_checks_every_fixed_length_of_the_table():
    # parse() writes the fixed-length checks out; the table _FIXED says what they must be.
    from microdhcp import packet as pkt
    e = h.engine()
    for i in range(len(pkt.TRACKED)):
        want = pkt._FIXED[i]
        code = pkt.TRACKED[i]
        if want < 0 or code == 53:
            continue
        n = status.counter(e, "bad_option_len")
        assert e.handle(k.msg(k.DISCOVER, 1, ((code, bytes(want + 1)),)), 0, e.tx) == 0, code
        assert status.counter(e, "bad_option_len") == n + 1, code
        if want:
            assert e.handle(k.msg(k.DISCOVER, 1, ((code, bytes(want - 1)),)), 0, e.tx) == 0, code


def _chain_has(t, h, s):
    # True when slot s sits in the probe chain that starts at home(h): what find/set_key/clear_key
    # compute written out must be leases.home's bucket.
    from microdhcp.leases import home
    i = home(h, t.ishift)
    while t.index[i]:
        if t.index[i] == s + 1:
            return True
        i = (i + 1) & t.imask
    return False


def test_written_out_key_hash_and_home_match_h24_and_home():
    # _identify/_hw_key hash the identity inline and the table probes from an inline home():
    # both must give h24's value and home's bucket, for every kind of identity.
    from microdhcp.leases import h24
    e = h.engine(pool=("192.168.4.10", "192.168.4.40"))
    cases = (
        (1, ()),                                              # no option 61: htype + chaddr
        (2, ((61, b"\x01" + k.mac(2)),)),                     # 01 + the MAC: kept in the hw field
        (3, ((61, b"\x01" + k.mac(99)),)),                    # 01 + another MAC: arena
        (4, ((61, b"\xff" + bytes(range(1, 19))),)),          # RFC 4361 id, 19 bytes: arena
        (5, ((61, bytes(range(40, 104))),)),                  # 64 bytes: the longest kept
    )
    for client, options in cases:
        r = h.discover(e, client, options=options)
        assert r and r["type"] == k.OFFER, client
        kb = e.kbuf
        assert e.khash == h24(kb, 1, kb[0], 5381), client
        s = h.slot_of(e, r["yiaddr"])
        assert e.table.key_hash(s) == e.khash, client
        assert _chain_has(e.table, e.khash, s), client
        assert e.table.find(kb, e.khash) == s, client
    # a chaddr of 16 bytes (hlen 16) without option 61
    r = h.discover(e, 6, hlen=16, chaddr=bytes(range(100, 116)))
    assert r and e.khash == h24(e.kbuf, 1, e.kbuf[0], 5381) and e.kbuf[0] == 17


def test_private_copies_of_public_numbers_match_their_twins():
    # The serving core compiles the public numbers it uses (codes.C_*, codes.REQ_ADDR,
    # codes.BOUND, ...) as private consts of its own: `_NAME` in a core module must equal `NAME`
    # wherever that is public. CPython keeps private constants as module attributes, so the rule
    # is checked there (MicroPython compiles them away), for every copy, present and future.
    import microdhcp.engine as eng
    import microdhcp.codes as codes
    # Either runtime: the public numbers take no slot in the engine module's dict, and
    # `engine.NAME` (0.1 code) still finds them in codes through the module's __getattr__.
    public = [n for n in dir(codes) if n[:1] != "_" and type(getattr(codes, n)) is int and n != "const"]
    assert len(public) > 40
    for n in public:
        assert n not in eng.__dict__, n
        assert getattr(eng, n) == getattr(codes, n), n
    if not hasattr(eng, "_C_ACK"):
        return   # MicroPython compiles the private copies away (the qemu build has no net.py either)
    import microdhcp.packet as pk
    import microdhcp.leases as ls
    import microdhcp.identity as ident
    import microdhcp.reply as rp
    import microdhcp.net as net
    checked = 0
    import microdhcp.client as cl
    import microdhcp.clientmsg as cm
    import microdhcp.store as st
    import microdhcp.configure as cf     # the checks keep codes.MAX_ID as _MAX_ID (config.py has none now)
    import microdhcp.dns as dn
    import microdhcp.__main__ as host
    for mod in (eng, ident, rp, net, pk, ls, cl, cm, st, cf, dn, host):
        for name in dir(mod):
            v = getattr(mod, name)
            if name[:1] != "_" or name[:2] == "__" or type(v) is not int:
                continue
            for pub in (codes, pk, ls):
                if pub is not mod and hasattr(pub, name[1:]):
                    assert getattr(pub, name[1:]) == v, (mod.__name__, name, pub.__name__)
                    checked += 1
    assert checked >= 60, checked   # engine's and identity's copies at least


def test_engine_copies_of_table_constants_match_the_table():
    # The engine, identity.py and reply.py keep leases' private flag layout and each other's
    # numbers as their own consts (no module lookup per message): the copies must agree.
    import microdhcp.engine as eng
    import microdhcp.identity as ident
    import microdhcp.reply as rp
    import microdhcp.leases as ls
    if hasattr(eng, "_F_KEY_HW"):        # CPython keeps private constants as module attributes
        assert (eng._F_KEY_HW, eng._F_KEYED) == (ls._F_KEY_HW, ls._F_KEYED)
        assert (ident._F_KEY_HW, ident._HLEN_SHIFT) == (ls._F_KEY_HW, ls._HLEN_SHIFT)
        assert (eng._CLIENT_PORT, eng._DEFAULT_MAX) == (rp._CLIENT_PORT, rp._DEFAULT_MAX)
        assert (eng._CHADDR, ident._CHADDR, ident._HTYPE, ident._HLEN) == (rp._CHADDR, rp._CHADDR, 1, 2)
        assert (rp._HOPS, rp._SECS, rp._FLAGS, rp._CIADDR, rp._YIADDR, rp._GIADDR) == (3, 8, 10, 12, 16, 24)
    if hasattr(ident, "_H24_SEED"):
        assert ident._H24_SEED == ls.H24_SEED
    kb = bytearray(b"\x07\x01\x02\x00\x00\x00\x00\x09")
    assert ls.key_hash(kb) == ls.h24(kb, 1, 7, ls.H24_SEED)
    # either way: the hw field and flags the engine writes are what set_hw writes
    e = h.engine()
    r = h.dora(e, 7)
    s = h.slot_of(e, r["yiaddr"])
    t = e.table
    assert t.hlen(s) == 6 and t.key_is_hw(s)
    assert bytes(t.hw[7 * s:7 * s + 7]) == b"\x01" + k.mac(7)
    t2 = ls.LeaseTable(0, 4, (), 8)
    t2.set_hw(1, 1, 6, k.mac(7), 0)
    assert t2.flags[1] == t.flags[s] & ~7 & 255 and t2.hw[7:14] == t.hw[7 * s:7 * s + 7]


def _step(e, f, m):
    # One message through both engines: the same reply bytes and destination.
    n = e.handle(m, 100, e.tx)
    assert f.handle(m, 100, f.tx) == n
    assert e.tx[:n] == f.tx[:n] and e.dst == f.dst and (e.dst_kind, e.dst_port) == (f.dst_kind, f.dst_port)
    return n


def test_header_and_hw_copies_by_view_match_the_slice_copies():
    # Where struct.pack_into takes a memoryview (MicroPython), the header fields and the hw field
    # are copied with it; elsewhere (CPython) by slice stores and set_hw. Both give the same bytes.
    e = h.engine()
    if not e._pk_view:
        import struct
        assert k.raises(Exception, struct.pack_into, "1s", bytearray(1), 0, memoryview(b"x"))
        return
    f = h.engine()
    f._pk_view = False
    for c in range(1, 6):
        gi = k.ip("192.168.4.7") if c == 3 else b"\0\0\0\0"
        m = k.msg(k.DISCOVER, c, ((61, b"\x01" + k.mac(c)),), xid=bytes((c, 2, 3, 4)), flags=0x8000, giaddr=gi)
        assert _step(e, f, m)
        yi = bytes(e.tx[16:20])
        assert _step(e, f, k.msg(k.REQUEST, c, ((50, yi), (54, k.ip("192.168.4.1"))), giaddr=gi))
        assert _step(e, f, k.msg(k.INFORM, c, ciaddr=yi))
        # INFORM does not identify the client: its option 61 is echoed from the message, not
        # from the identity buffer the REQUEST before it left
        assert _step(e, f, k.msg(k.INFORM, c, ((61, b"\x01" + k.mac(c + 50)),), ciaddr=yi))
        assert k.parse(e.tx)["options"][61] == b"\x01" + k.mac(c + 50)
        assert _step(e, f, k.msg(k.REQUEST, c, ((50, k.ip("192.168.4.250")),)))   # a NAK
    assert bytes(e.table.hw) == bytes(f.table.hw) and bytes(e.table.flags) == bytes(f.table.flags)
    assert [status.counter(e, x) for x in ("offer", "ack", "inform", "nak")] == [5, 5, 10, 5]


def test_off_at_is_config_offset():
    # engine._off_at is config.offset written out for the packet path: the same answer for
    # addresses inside and outside the subnet, at any position of the buffer.
    e = h.engine()
    for ip in (b"\xc0\xa8\x04\x17", b"\xc0\xa8\x05\x17", b"\x0a\x00\x00\x01", b"\xc0\xa8\x04\xff"):
        e.rx[12:16] = ip
        assert e._off_at(12) == e.cfg.offset(ip) == e.cfg.offset(e.rx, 12)
