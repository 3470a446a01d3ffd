# MIT license; Copyright (c) 2026 the microdhcp authors
# dhcpkit: builds DHCP client messages and reads replies, for the tests (host_tests/, core tests on
# every runtime) and the host tools (bench_engine, bench_memory, fuzz_atheris, ...): the one
# builder both use. Runs on CPython and MicroPython (struct only). Not server code, so it may
# allocate freely; a tool that times the engine builds its messages once, before timing.
import struct

MAGIC = b"\x63\x82\x53\x63"  # RFC 2131 section 3: 99.130.83.99
DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE, INFORM = 1, 2, 3, 4, 5, 6, 7, 8


def ip(text):
    return bytes(int(p) for p in text.split("."))


def ipstr(b):
    return "%d.%d.%d.%d" % (b[0], b[1], b[2], b[3])


def mac(n):
    # A locally administered MAC from a number: 02:00:00:00:hh:ll
    return bytes((2, 0, 0, (n >> 16) & 255, (n >> 8) & 255, n & 255))


def header(op=1, htype=1, hlen=6, hops=0, xid=b"\x12\x34\x56\x78", secs=0, flags=0,
           ciaddr=b"\0\0\0\0", yiaddr=b"\0\0\0\0", siaddr=b"\0\0\0\0", giaddr=b"\0\0\0\0",
           chaddr=b"", sname=b"", file=b""):
    b = bytearray(236)
    b[0], b[1], b[2], b[3] = op, htype, hlen, hops
    b[4:8] = xid
    struct.pack_into("!HH", b, 8, secs, flags)
    b[12:16] = ciaddr
    b[16:20] = yiaddr
    b[20:24] = siaddr
    b[24:28] = giaddr
    b[28:28 + len(chaddr)] = chaddr
    b[44:44 + len(sname)] = sname
    b[108:108 + len(file)] = file
    return b


def opts(*pairs):
    # (code, value) pairs -> option bytes, END appended.
    out = bytearray()
    for code, value in pairs:
        out.append(code)
        out.append(len(value))
        out.extend(value)
    out.append(255)
    return out


def msg(mtype, client=1, options=(), xid=b"\x12\x34\x56\x78", end=True, **kw):
    """A client message: header + cookie + option 53 (first) + options + END, padded to 300."""
    kw.setdefault("chaddr", mac(client))
    b = header(xid=xid, **kw)
    b.extend(MAGIC)
    o = opts((53, bytes((mtype,))), *options)
    if not end:
        o = o[:-1]
    b.extend(o)
    if end and len(b) < 300:
        b.extend(bytes(300 - len(b)))
    return b


def parse(buf, n=None):
    """Reply -> dict: header fields plus 'options' {code: bytes} (split options joined) and
    'order' [codes in order of appearance]."""
    if n is None:
        n = len(buf)
    b = bytes(buf[:n])
    r = {"op": b[0], "htype": b[1], "hlen": b[2], "hops": b[3], "xid": b[4:8],
         "secs": struct.unpack_from("!H", b, 8)[0], "flags": struct.unpack_from("!H", b, 10)[0],
         "ciaddr": b[12:16], "yiaddr": b[16:20], "siaddr": b[20:24], "giaddr": b[24:28],
         "chaddr": b[28:44], "len": n}
    assert b[236:240] == MAGIC, "reply without magic cookie"
    o = {}
    order = []
    i = 240
    ended = False
    while i < n:
        c = b[i]
        if c == 0:
            i += 1
            continue
        if c == 255:
            ended = True
            break
        ln = b[i + 1]
        assert i + 2 + ln <= n, "reply option %d runs past the end" % c
        o[c] = o.get(c, b"") + b[i + 2:i + 2 + ln]
        order.append(c)
        i += 2 + ln
    assert ended, "reply without END"
    r["options"] = o
    r["order"] = order
    r["type"] = o[53][0]
    return r


def u32(v):
    return struct.pack("!I", v)


def be32(b):
    return struct.unpack("!I", b)[0]


def raises(exc, fn, *args, **kw):
    """Calls fn and returns the exception it raised; fails if it raised nothing or another type."""
    try:
        fn(*args, **kw)
    except exc as e:
        return e
    raise AssertionError("%s was not raised" % exc.__name__)


def opt(code, value):
    # One option instance: code, length, value (RFC 2132 section 2).
    return bytes((code, len(value))) + bytes(value)


def raw(options, pad=True, chaddr=None, client=1, **kw):
    """Header + cookie + `options` exactly as given (no option 53 or END added), for fixtures
    that put options in odd places. Padded with zeros (PAD options) to 300 bytes unless pad=False."""
    b = header(chaddr=mac(client) if chaddr is None else chaddr, **kw)
    b.extend(MAGIC)
    b.extend(options)
    if pad and len(b) < 300:
        b.extend(bytes(300 - len(b)))
    return b


def instances(buf, n, code):
    # Number of instances of `code` in a reply's options field (RFC 3396 splitting).
    b = bytes(buf[:n])
    i = 240
    count = 0
    while i < n and b[i] != 255:
        if b[i] == 0:
            i += 1
            continue
        if b[i] == code:
            count += 1
        i += 2 + b[i + 1]
    return count


def option_at(buf, code):
    # Offset of the value of the first option `code` in a message built here, or -1: for tools
    # that rewrite one option in place between calls (e.g. option 50 of a REQUEST).
    i = 240
    n = len(buf)
    while i + 1 < n and buf[i] != 255:
        if buf[i] == 0:
            i += 1
            continue
        if buf[i] == code:
            return i + 2
        i += 2 + buf[i + 1]
    return -1


class Lcg:
    # The one seeded generator of the tests and tools: a linear congruential generator with
    # 31-bit state (the constants of the C standard's example rand()), so every runtime draws
    # the same sequence without `random`.
    def __init__(self, seed):
        self.x = seed & 0x7FFFFFFF

    def next(self):
        # 23 bits: the low bits of an LCG modulo a power of two repeat with short periods.
        self.x = (self.x * 1103515245 + 12345) & 0x7FFFFFFF
        return self.x >> 8

    def below(self, n):
        # An integer in [0, n); 0 when n <= 0 (an empty range to pick from).
        return self.next() % n if n > 0 else 0
