# The engine's fast paths give the same results as the plain definitions they replace (issue 17:
# cycles on a Cortex-M0+): options encoded once at construction, written once per reply.
import dhcpkit as k
import harness as h
from microdhcp.engine import _encode


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
    import microdhcp.packet as pkt
    if hasattr(eng, "_RX_MAX"):          # CPython keeps private constants as module attributes
        assert eng._RX_MAX == pkt.RX_MAX
    # either way, a datagram of RX_MAX bytes is accepted and one byte more is dropped as oversize
    e = h.engine()
    d = bytearray(k.msg(k.DISCOVER, 1))
    d.extend(bytes(pkt.RX_MAX - len(d)))
    assert e.handle(bytes(d), 0, e.tx)
    assert e.handle(bytes(d) + b"\x00", 1, e.tx) == 0 and e.counter("oversize") == 1


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
        n = e.counter("bad_option_len")
        assert e.handle(k.msg(k.DISCOVER, 1, ((code, bytes(want + 1)),)), 0, e.tx) == 0, code
        assert e.counter("bad_option_len") == n + 1, code
        if want:
            assert e.handle(k.msg(k.DISCOVER, 1, ((code, bytes(want - 1)),)), 0, e.tx) == 0, code
