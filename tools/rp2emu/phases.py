# phases: where a DISCOVER and a REQUEST spend their time, phase by phase, on MicroPython (the
# emulated RP2040 through tools/rp2_profile.py --phases, a board with `mpremote run`, or the unix
# port with MICROPYPATH=firmware). A capacity-254 engine is filled as tools/bench_board.py does;
# then each phase of the engine's path for a new client's DISCOVER, and for its REQUEST, is run
# REPS times on its own and timed with ticks_us (minus an empty loop), in microseconds per call.
# The phases call the engine's internal steps in the order handle() does; they do not add up to
# a whole message (decisions, counters and calls between them are left out): tools/bench_board.py
# gives the whole-message figures.
import time
from struct import pack_into
from microdhcp.config import Config
from microdhcp import engine, packet
from microdhcp.engine import Engine
from microdhcp.codes import DHCPOFFER, DHCPACK

REPS = 40
_t = time.ticks_us
_d = time.ticks_diff


def msg(mtype, i, o50=None):
    b = bytearray(300)
    b[0] = 1
    b[1] = 1
    b[2] = 6
    b[4] = 0x5a
    b[6] = i >> 8
    b[7] = i & 255
    b[28] = 2
    b[32] = i >> 8
    b[33] = i & 255
    b[236:240] = b"\x63\x82\x53\x63"
    p = 240
    for v in (53, 1, mtype, 61, 7, 1, 2, 0, 0, 0, i >> 8, i & 255, 55, 4, 1, 3, 6, 15):
        b[p] = v
        p += 1
    if o50 is not None:
        for v in (50, 4, o50[0], o50[1], o50[2], o50[3], 54, 4, 10, 0, 0, 1):
            b[p] = v
            p += 1
    b[p] = 255
    return b


def empty():
    t0 = _t()
    for _ in range(REPS):
        pass
    return _d(_t(), t0)


def report(name, dt, base):
    print("phase %-28s %8.1f us" % (name, (dt - base) / REPS))


def main():
    cap = 254
    eng = Engine(Config(address="10.0.0.1/23", pool="10.0.0.2-10.0.1.0", lease_time=3600,
                        routers="10.0.0.1", dns="10.0.0.1"))
    tx = bytearray(1500)
    now = 1000
    for i in range(cap - 1):
        eng.handle(msg(1, i), now, tx)
        eng.handle(msg(3, i, tx[16:20]), now, tx)
    base = empty()
    print("engine paths:", "viper (microdhcp.fast)" if packet.vparse is not None else "plain")
    req = eng.req
    new = cap + 7
    d = msg(1, new)
    n = len(d)
    print("phases of a new client's DISCOVER at capacity %d (us per call, %d calls each):" % (cap, REPS))
    # (the datagram is parsed where it lies: no copy into a receive buffer)
    t0 = _t()
    for _ in range(REPS):
        req.parse(n, d)
    report("parse", _d(_t(), t0), base)
    eng.rx = d          # what handle() sets: the message the helpers below read
    t0 = _t()
    for _ in range(REPS):
        eng.tick(now)
    report("tick (nothing due)", _d(_t(), t0), base)
    t0 = _t()
    for _ in range(REPS):
        eng._identify()
    report("identify (unknown client)", _d(_t(), t0), base)
    s = eng.table.first_free()
    t0 = _t()
    for _ in range(REPS):
        eng._take(s, -1)
    report("take slot (key, hw, hostname)", _d(_t(), t0), base)
    t0 = _t()
    for _ in range(REPS):
        eng._reply(tx, DHCPOFFER, s, 0)
    report("reply OFFER (all)", _d(_t(), t0), base)
    # The clear as _reply does it: one zero-filling pack_into of the dirty length rounded up to
    # 64 bytes (engine._ZFMT); _clear is only the fallback for a buffer of another size.
    zf = engine._ZFMT[(eng._dirty + 63) >> 6]
    t0 = _t()
    for _ in range(REPS):
        pack_into(zf, tx, 0, b"")
    report("  of which clear (%s)" % zf, _d(_t(), t0), base)
    t0 = _t()
    for _ in range(REPS):
        eng._put_params(tx, 250, 548)
    report("  of which options 55/always", _d(_t(), t0), base)
    # its REQUEST: a client that holds the offer (the message from tools/bench_board.py's shape)
    eng._take(s, -1)
    eng.handle(d, now, tx)
    # REQUEST of the last client, which now holds an offer
    r = msg(3, new, tx[16:20])
    n = len(r)
    print("phases of its REQUEST (selecting):")
    t0 = _t()
    for _ in range(REPS):
        req.parse(n, r)
    report("parse", _d(_t(), t0), base)
    eng.rx = r
    t0 = _t()
    for _ in range(REPS):
        eng._identify()
    report("identify (offered client)", _d(_t(), t0), base)
    cl = eng._identify()
    t0 = _t()
    for _ in range(REPS):
        eng._off_at(req.off[1])
    report("address -> offset", _d(_t(), t0), base)
    eng.lease = 3600
    t0 = _t()
    for _ in range(REPS):
        eng._reply(tx, DHCPACK, cl, 1)
    report("reply ACK (all)", _d(_t(), t0), base)
    t0 = _t()
    for _ in range(REPS):
        eng.table.set_timer(cl, now + 3600)
    report("expiry heap update", _d(_t(), t0), base)
    from microdhcp import status
    print("acks", status.counter(eng, "ack"), "drops", status.dropped(eng))


main()
