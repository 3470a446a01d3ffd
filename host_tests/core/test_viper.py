# Differential fuzz of the engine's two paths: the machine-code twins of microdhcp.fast (viper,
# chosen at import on MicroPython) against the plain-Python code they stand in for (what CPython
# runs, and what `mp_runner.py --plain` runs everywhere). Random and mutated messages go through
# two engines of the same set-up, one per path: every reply must have the same bytes and
# destination, and after every message the counters and the whole lease table must be equal.
# The fast engine runs under micropython.heap_lock() (viper code allocates nothing either).
# On CPython there is one path only: the tests check that the plain one is chosen there.
import sys
import dhcpkit as k
import fuzzcase as fc
import harness as h
from test_fuzz_mutation import mutate
from microdhcp.config import Config
from microdhcp.engine import Engine

try:
    import micropython
    _lock = micropython.heap_lock
    _unlock = micropython.heap_unlock
except (ImportError, AttributeError):
    _lock = _unlock = None

_MP = sys.implementation.name == "micropython"
# Inputs per differential run: fewer on a board (the emulated RP2040 runs the frozen tests at
# about 1/100 of the host's speed, tools/test_rp2.py).
_N = 1200 if getattr(sys, "platform", "") in ("linux", "darwin") else 60
# Every array and counter of the lease table (leases.LeaseTable), compared after each message.
_TABLE = ("state", "flags", "expiry", "hw", "host", "extra", "cells", "cnext", "aref", "index", "nxt", "prv",
          "heap", "hpos")
_TABLE_INTS = ("head", "tail", "hsize", "cfree", "nfree", "spare", "evicted")
_ENGINE_INTS = ("n_offered", "dst_kind", "dst_port", "reply_max", "lease", "khash", "_gen")


def _only_cpython():
    # CPython has no viper: the plain path must be the one in use there.
    assert not _MP
    assert not h.fast_available()


def _state(e):
    t = e.table
    out = [bytes(getattr(t, a)) for a in _TABLE]
    out += [getattr(t, a) for a in _TABLE_INTS]
    out += [getattr(e, a) for a in _ENGINE_INTS]
    out.append(bytes(e.counters))
    out.append(bytes(e.dst))
    out.append(bytes(e._mark))     # the options written per reply (fast.options keeps them too)
    return out


def _req_state(req):
    # What the engine reads of a parse: the result fields and each counted option's place.
    out = [req.n, req.tail, req.msg_type, req.overload, bytes(req.cnt)]
    for i in range(len(req.cnt)):
        if req.cnt[i]:
            out.append((i, req.off[i], req.ln[i], bytes(req.buf[req.off[i]:req.off[i] + req.ln[i]])))
    return out


def _handle(e, data, now, fast):
    was = h.fast_on()
    h.use_fast(fast)
    try:
        if fast and _lock is not None:
            _lock()
            try:
                n = e.handle(data, now, e.tx)
            finally:
                _unlock()
        else:
            n = e.handle(data, now, e.tx)
    finally:
        h.use_fast(was)
    return n


def _same(ef, ep, data, now, where):
    nf = _handle(ef, data, now, True)
    np_ = _handle(ep, data, now, False)
    if nf != np_ or bytes(ef.tx[:nf]) != bytes(ep.tx[:np_]) or _req_state(ef.req) != _req_state(ep.req) \
            or _state(ef) != _state(ep):
        print("viper/plain differ at %s: reply lengths %d / %d" % (where, nf, np_))
        print("input:", bytes(data[:400]), len(data))
        raise AssertionError("viper and plain paths differ at " + where)
    return nf


def _differential(seed, count, variant):
    r = k.Lcg(seed)
    ef = fc.make_engine(variant)
    ep = fc.make_engine(variant)
    base = fc.seeds()
    pool = fc.POOL + [k.ip("192.168.4.50"), k.ip("192.168.4.51"), k.ip("192.168.4.12")]
    now = 0
    replies = 0
    for i in range(count):
        m = base[r.below(len(base))]
        if r.below(8) == 0:
            other = base[r.below(len(base))]
            cut = r.below(len(m))
            m = m[:cut] + other[cut:]
        for _ in range(r.below(3) + (1 if r.below(4) else 0)):
            m = mutate(r, m, pool)
        if r.below(16) == 0:                              # a random datagram, no seed at all
            m = bytes(r.below(256) for _ in range(r.below(600)))
        now += (0, 0, 1, 1, 2, 5, 30, 200)[r.below(8)]
        if _same(ef, ep, bytes(m), now, "input %d (seed %d, variant %d)" % (i, seed, variant)):
            replies += 1
        if r.below(4) == 0:
            _same(ef, ep, bytes(base[r.below(len(base))]), now, "seed after input %d" % i)
    return replies


def test_viper_and_plain_give_the_same_replies_and_tables_under_mutation():
    if not _MP:
        return _only_cpython()
    assert h.fast_available(), "microdhcp.fast did not compile on this MicroPython"
    n = _N
    replies = _differential(2024, n, 0)
    assert replies > n // 20, replies        # mutants still reach the reply paths
    _differential(99, n // 3, 1)
    _differential(31337, n // 3, 2)


def test_viper_and_plain_parse_the_same_fields():
    # Request.parse alone on random option fields (second instances, overload, garbage lengths):
    # the same result code, message type, overload and option places.
    if not _MP:
        return _only_cpython()
    import microdhcp.packet as pkt
    from microdhcp.codes import RX_MAX
    r = k.Lcg(7)
    a = pkt.Request()
    b = pkt.Request()
    codes = (0, 255, 52, 12, 50, 51, 53, 54, 55, 57, 61, 80, 82, 1, 3, 200)
    for i in range(_N):
        m = bytearray(k.msg(k.DISCOVER, 1 + r.below(5)))
        m = m[:240]
        for _ in range(r.below(12)):
            c = codes[r.below(len(codes))]
            ln = (0, 1, 2, 4, r.below(20), r.below(256))[r.below(6)]
            m.extend(bytes((c, ln)) + bytes(r.below(256) for _ in range(ln if r.below(8) else ln // 2)))
        if r.below(3):
            m.append(255)
        if r.below(4) == 0:                     # options in file and sname too (RFC 2132 9.3)
            m[44 + r.below(60)] = 53
            m[108 + r.below(100)] = (52, 53, 61, 0, 255)[r.below(5)]
        n = len(m) if r.below(6) else r.below(len(m) + 1)
        if n > RX_MAX:
            n = RX_MAX
        a.buf[0:n] = m[:n]
        b.buf[0:n] = m[:n]
        was = h.fast_on()
        h.use_fast(True)
        ea = a.parse(n)
        h.use_fast(False)
        eb = b.parse(n)
        h.use_fast(was)
        assert ea == eb and _req_state(a) == _req_state(b), (i, ea, eb, bytes(m))


def test_viper_and_plain_agree_on_a_wide_table_with_long_client_ids():
    # Capacity above 254 (16-bit index and lists) and clients with long ids kept in the arena:
    # the fast find hands those probes to the plain one; both engines must stay equal.
    if not _MP:
        return _only_cpython()
    cfg = dict(address="10.0.0.1/23", pool=("10.0.0.2", "10.0.1.44"), routers=["10.0.0.1"], dns=["10.0.0.1"],
               lease_time=600, offer_hold=20)
    ef = Engine(Config(**cfg))
    ep = Engine(Config(**cfg))
    ef.tx = bytearray(1500)
    ep.tx = bytearray(1500)
    r = k.Lcg(5)
    now = 0
    acks = 0
    for i in range(700 if _N > 150 else 150):
        c = r.below(320)
        if c % 3 == 0:
            opts = ((61, bytes((255, 0, c >> 8, c & 255)) + bytes(16)),)   # RFC 4361-like, arena-kept
        elif c % 3 == 1:
            opts = ((61, bytes((1,)) + k.mac(c)),)                         # htype + MAC: hw-kept
        else:
            opts = ()
        d = k.msg(k.DISCOVER, c, opts)
        n = _same(ef, ep, d, now, "DISCOVER %d" % i)
        if n and r.below(4):
            y = bytes(ef.tx[16:20])
            if _same(ef, ep, k.msg(k.REQUEST, c, ((50, y), (54, k.ip("10.0.0.1"))) + opts), now, "REQUEST %d" % i):
                acks += 1
            if r.below(5) == 0:
                _same(ef, ep, k.msg(k.RELEASE, c, opts, ciaddr=y), now, "RELEASE %d" % i)
        now += r.below(3)
    assert acks > (100 if _N > 150 else 25), acks
    assert ef.table.wide


def test_viper_and_plain_remove_index_entries_the_same():
    # LeaseTable.clear_key on dense tables (index up to 2/3 full, colliding chains): fast.unkey's
    # backward-shift deletion, then clear_key (what Engine._take runs), must leave the same index
    # and flags as clear_key alone after every removal, for
    # keys in the hw field, long ids in the arena, and both widths of the index.
    if not _MP:
        return _only_cpython()
    from microdhcp.leases import LeaseTable, h24
    assert h.fast_available()
    vunkey = h.fast_twin("unkey")   # as imported, also under mp_runner --plain
    r = k.Lcg(11)
    for cap, rounds in ((21, 400 if _N > 150 else 150), (300, 1500 if _N > 150 else 80)):
        ta = LeaseTable(0, cap, [], 8)
        tb = LeaseTable(0, cap, [], 8)
        kb = bytearray(65)
        keyed = []
        moved = 0
        for i in range(rounds):
            if len(keyed) < cap - 1 and (r.below(3) or not keyed):
                s = r.below(cap)
                if s in keyed:
                    continue
                if r.below(5):
                    mac = bytes((2, 0, r.below(4), r.below(256), r.below(256), r.below(256)))
                    kb[0] = 7
                    kb[1] = 1
                    kb[2:8] = mac
                    for t in (ta, tb):
                        t.set_hw(s, 1, 6, mac, 0)
                        assert t.set_key(s, kb, h24(kb, 1, 7, 5381), True)
                else:
                    n = 3 + r.below(30)
                    kb[0] = n
                    for q in range(n):
                        kb[1 + q] = r.below(256)
                    for t in (ta, tb):
                        assert t.set_key(s, kb, h24(kb, 1, n, 5381), False)
                keyed.append(s)
            else:
                s = keyed.pop(r.below(len(keyed)))
                before = bytes(ta.index)
                vunkey(ta, s)              # as Engine._take does: the twin first, then clear_key
                ta.clear_key(s)
                tb.clear_key(s)
                after = bytes(ta.index)
                moved += sum(1 for q in range(len(after)) if after[q] != before[q]) > (2 if ta.wide else 1)
                assert after == bytes(tb.index) and bytes(ta.flags) == bytes(tb.flags), (cap, i, s)
                assert bytes(ta.cells) == bytes(tb.cells) and bytes(ta.cnext) == bytes(tb.cnext), (cap, i, s)
        # removals that shifted entries back did happen (the board's short run of the wide table
        # may see none)
        assert moved > (3 if _N > 150 or cap < 255 else -1), (cap, moved)


def test_viper_and_plain_keep_the_same_expiry_heap():
    # LeaseTable.set_timer (with its _up / _down sifts) against fast.timer on random timers, as
    # Engine._discover and _bind set them: new timers, earlier, later and equal times, NEVER,
    # timers cleared in between, on a table of each index width; expiry, heap, hpos and hsize
    # must stay equal after every step. A negative time (never from the engine's clock) and a
    # heap holding one take the plain set_timer inside the twin.
    if not _MP:
        return _only_cpython()
    from microdhcp.leases import LeaseTable
    from microdhcp.codes import NEVER
    assert h.fast_available()
    vtimer = h.fast_twin("timer")   # as imported, also under mp_runner --plain
    r = k.Lcg(23)
    for cap, rounds in ((21, 600 if _N > 150 else 150), (300, 2500 if _N > 150 else 150)):
        ta = LeaseTable(0, cap, [], 8)
        tb = LeaseTable(0, cap, [], 8)
        sifts = 0
        for i in range(rounds):
            s = r.below(cap)
            c = r.below(10)
            t = 0
            if c == 0:
                ta.clear_timer(s)
                tb.clear_timer(s)
            else:
                if c == 1:
                    t = NEVER
                elif c == 2 and tb.hpos[s]:
                    t = tb.expiry[s]                      # the same time again
                elif c == 3 and i > rounds // 2 and r.below(8) == 0:
                    t = -1 - r.below(50)                  # plain fallback inside the twin
                else:
                    t = r.below(1000 if r.below(2) else 20)
                before = bytes(ta.heap)
                vtimer(ta, s, t)
                tb.set_timer(s, t)
                sifts += bytes(ta.heap) != before
            assert bytes(ta.expiry) == bytes(tb.expiry) and bytes(ta.heap) == bytes(tb.heap), (cap, i, s)
            assert bytes(ta.hpos) == bytes(tb.hpos) and ta.hsize == tb.hsize, (cap, i, s)
            if t < 0 and r.below(2):
                # take the negative timer out again (the heap's least) so the twin works on
                for t2 in (ta, tb):
                    t2.clear_timer(s)
        assert sifts > rounds // 4, (cap, sifts)
        assert tb.wide == (cap >= 255)


def test_viper_and_plain_stop_timers_the_same():
    # LeaseTable.clear_timer (the hole filled by the heap's last entry, then _up and _down)
    # against fast.timer with a negative slot (-1 - s: stop slot s's timer, as Engine._release,
    # _take and tick call it), mixed with timers set through each path's own setter, on a table of
    # each index width: expiry, heap (its stale tail too), hpos and hsize equal after every
    # step. Timers are cleared at the root, at the last place, in between and where none runs;
    # the last entry must go up, down and nowhere. A negative time on the heap (never from the
    # engine's clock) sends the stop to the plain clear_timer inside the twin.
    if not _MP:
        return _only_cpython()
    from microdhcp.leases import LeaseTable
    from microdhcp.codes import NEVER
    assert h.fast_available()
    vtimer = h.fast_twin("timer")   # as imported, also under mp_runner --plain
    r = k.Lcg(29)
    for cap, rounds in ((21, 800 if _N > 150 else 400), (300, 3000 if _N > 150 else 200)):
        ta = LeaseTable(0, cap, [], 8)
        tb = LeaseTable(0, cap, [], 8)
        ups = downs = stays = idle = 0
        neg = -1
        for i in range(rounds):
            c = r.below(10)
            if c < 6 or tb.hsize == 0:
                # set a timer (new, earlier, later or NEVER), each path its own way
                s = r.below(cap)
                t = NEVER if c == 0 else r.below(1000 if r.below(2) else 20)
                if neg < 0 and i > rounds // 2 and r.below(40) == 0:
                    t = -1 - r.below(50)      # the plain fallback inside the twin from now on
                    neg = s
                if t >= 0 and neg >= 0 and r.below(3) == 0:
                    vtimer(ta, -1 - neg, 0)   # take it out again (plain clear_timer inside)
                    tb.clear_timer(neg)
                    neg = -1
                    continue
                if neg == s and t >= 0:
                    neg = -1
                vtimer(ta, s, t)
                tb.set_timer(s, t)
            else:
                if c == 6:
                    s = tb.heap[0]                  # the root (next due)
                elif c == 7:
                    s = tb.heap[tb.hsize - 1]       # the last place: no entry moves
                else:
                    s = r.below(cap)                # anywhere, or a slot with no timer
                if s == neg:
                    neg = -1
                p = tb.hpos[s]
                if p:
                    last = tb.heap[tb.hsize - 1]
                    before = tb.hpos[last]
                vtimer(ta, -1 - s, 0)
                tb.clear_timer(s)
                if not p:
                    idle += 1
                elif s != last:
                    after = tb.hpos[last]
                    if after < p:
                        ups += 1
                    elif after > p:
                        downs += 1
                    else:
                        stays += 1
                    assert before == tb.hsize + 1
            assert bytes(ta.expiry) == bytes(tb.expiry) and bytes(ta.heap) == bytes(tb.heap), (cap, i)
            assert bytes(ta.hpos) == bytes(tb.hpos) and ta.hsize == tb.hsize, (cap, i)
        # every way a stop can go was taken (the board's short run of the wide table may miss some)
        # every way a stop can go was taken (the board's short runs need not take every one)
        full = _N > 150
        assert ups > (3 if full else (0 if cap < 255 else -1)) and downs > (10 if full else 0), (cap, ups, downs)
        assert stays > (3 if full else -1) and idle > (3 if full else 0), (cap, stays, idle)
        assert tb.wide == (cap >= 255)
