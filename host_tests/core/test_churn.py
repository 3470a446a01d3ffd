# 90 simulated days of churn (both runtimes): 254 clients on a /24 (253 pool addresses) join,
# renew at T1, leave silently, release and decline, on a virtual ticks_ms that wraps every 2**30 ms
# (crossed 7 times) read through microdhcp.clock.Clock. At every checkpoint every table invariant
# holds and the model agrees with the table; each expiry fires within 1 s of its due time; under
# MicroPython the heap (gc.mem_alloc after gc.collect) is the same from hour 1 to day 90.
# Default: lease 1 day (about 50k messages, well under 30 s per runtime). Longer:
# CHURN_DAYS=90 CHURN_LEASE=3600 python3 -m pytest host_tests/core/test_churn.py -s, or tools/churn.py.
import os
import gc
import heapq
from array import array
import dhcpkit as k
import invariants as inv
from microdhcp.config import Config
from microdhcp.engine import Engine
from microdhcp.codes import EV_EXPIRED, EV_RELEASED, EV_DECLINED
from microdhcp.clock import Clock
from microdhcp.codes import BOUND

_WRAP = 0x40000000      # ticks_ms period on 32-bit ports (2**30 ms, ~12.4 days)
_HALF = 0x20000000
DAY = 86400


def _env(name, default):
    v = os.getenv(name) if hasattr(os, "getenv") else None
    return int(v) if v else default


def ticks_diff(a, b):
    # time.ticks_diff of a board: signed distance modulo 2**30.
    d = (a - b) & (_WRAP - 1)
    return d - _WRAP if d & _HALF else d


# Client states in the model.
_OFF = 0
_ON = 1
_LEFT = 2      # stopped renewing: its lease must expire at exactly bound_at + lease
_NEVER = -1


def simulate(days=90, lease=DAY, clients=254, seed=2024, heap=False, log=None):
    """Runs the churn and returns figures; asserts on any broken invariant."""
    cfg = Config(address="192.168.4.1/24", pool=("192.168.4.2", "192.168.4.254"), lease_time=lease,
                 min_lease=60, offer_hold=30, decline_hold=600, routers=["192.168.4.1"], dns=["192.168.4.1"])
    cap = cfg.capacity
    # Per-slot expectations checked inside the event callback (no growing structures).
    expect = array("i", [_NEVER] * cap)     # due time of a lease we expect to expire, else -1
    late = array("i", [0, 0, 0, 0, 1 << 29])  # max lateness, expiries, releases, declines, min lateness
    box = array("i", [0])                    # the current time, for the callback
    bad = array("i", [0, -1, 0])             # unexpected expiry count, slot, time

    def on_event(kind, slot):
        if kind == EV_EXPIRED:
            due = expect[slot]
            if due < 0:
                bad[0] += 1
                bad[1] = slot
                bad[2] = box[0]
            else:
                d = box[0] - due      # seconds after its due time (negative: early)
                if d > late[0]:
                    late[0] = d
                if d < late[4]:
                    late[4] = d
                expect[slot] = _NEVER
                late[1] += 1
        elif kind == EV_RELEASED:
            late[2] += 1
        elif kind == EV_DECLINED:
            late[3] += 1

    e = Engine(cfg, on_event=on_event)
    tx = bytearray(1500)
    r = k.Lcg(seed)
    # Virtual ticks start just before a wrap; the clock must count straight through.
    ticks = array("i", [_WRAP - 7777])
    clock = Clock(ticks_ms=lambda: ticks[0], ticks_diff=ticks_diff)
    ms = 0                    # virtual milliseconds since the start

    # Model per client (1-based client numbers -> index c-1).
    state = bytearray(clients)
    addr = [None] * clients
    slot = array("i", [-1] * clients)
    bound_at = array("i", [0] * clients)
    granted = array("i", [0] * clients)
    use_cid = bytearray(clients)
    for i in range(clients):
        use_cid[i] = 1 if i % 3 == 0 else 0
    events = []      # heap of (time, client): the next action of each client
    for i in range(clients):
        heapq.heappush(events, (r.below(3600), i))

    now = 0
    end = days * DAY
    stats = {"joins": 0, "renewals": 0, "silent": 0, "released": 0, "declined": 0, "no_address": 0,
             "wraps": 0, "checkpoints": 0, "messages": 0}
    mem = array("i", [0, 0, 0])     # min, max of gc.mem_alloc() at checkpoints, started?
    next_check = 3600

    def opts(i):
        o = ((12, ("host-%d" % i).encode()),)
        if use_cid[i]:
            o += ((61, ("\x00cid-%d" % i).encode()),)
        return o

    def send(m):
        stats["messages"] += 1
        n = e.handle(m, now, tx)
        return k.parse(tx, n) if n else None

    def join(i):
        o = opts(i)
        off = send(k.msg(k.DISCOVER, i + 1, o))
        if off is None:
            stats["no_address"] += 1
            return False
        a = off["yiaddr"]
        ack = send(k.msg(k.REQUEST, i + 1, ((50, a), (54, cfg.server)) + o))
        assert ack is not None and ack["type"] == k.ACK and ack["yiaddr"] == a, (i, ack)
        s = e.table.slot_of(cfg.offset(a))
        assert expect[s] == _NEVER or expect[s] < now, "slot %d reused before its expiry" % s
        state[i] = _ON
        addr[i] = a
        slot[i] = s
        bound_at[i] = now
        granted[i] = k.be32(ack["options"][51])
        stats["joins"] += 1
        return True

    while True:
        t_next = events[0][0]
        t = e.table
        if t.hsize:
            due = t.expiry[t.heap[0]] + 1   # due once its second is past (leases.next_due)
            if due < t_next:
                t_next = due
        if next_check < t_next:
            t_next = next_check
        if t_next > end:
            t_next = end
        if t_next - now > 6 * 3600:
            t_next = now + 6 * 3600          # a serve loop reads the clock far more often
        if t_next < now:
            t_next = now
        # Advance the virtual ticks to the middle of second t_next, wrapping like a board.
        target = t_next * 1000 + r.below(1000)     # anywhere inside that second
        if target < ms:
            target = ms
        step = target - ms
        ms = target
        old = ticks[0]
        ticks[0] = (ticks[0] + step) & (_WRAP - 1)
        if ticks[0] < old:
            stats["wraps"] += 1
        now = clock.now()
        assert now == t_next, "clock says %d, virtual time is %d" % (now, t_next)
        box[0] = now
        e.tick(now)
        while events[0][0] <= now:
            _, i = heapq.heappop(events)
            st = state[i]
            if st == _OFF or st == _LEFT:
                state[i] = _OFF
                if join(i):
                    # RFC 2131 4.4.1: a client may DECLINE right after the ACK (ARP conflict).
                    if r.below(100) < 2:
                        s = slot[i]
                        n = e.handle(k.msg(k.DECLINE, i + 1, ((50, addr[i]), (54, cfg.server)) + opts(i)), now, tx)
                        assert n == 0 and e.table.state[s] == 5, "decline not taken"
                        state[i] = _OFF
                        stats["declined"] += 1
                        heapq.heappush(events, (now + 10, i))
                    else:
                        heapq.heappush(events, (now + granted[i] // 2, i))
                else:
                    heapq.heappush(events, (now + 60 + r.below(600), i))
                continue
            # ON: at T1, renew (mostly), leave silently, or release.
            p = r.below(100)
            if p < 90:
                ack = send(k.msg(k.REQUEST, i + 1, opts(i), ciaddr=addr[i]))
                assert ack is not None and ack["type"] == k.ACK and ack["yiaddr"] == addr[i], \
                    "client %d lost %r at %d: %r" % (i, addr[i], now, ack)
                bound_at[i] = now
                granted[i] = k.be32(ack["options"][51])
                stats["renewals"] += 1
                heapq.heappush(events, (now + granted[i] // 2, i))
            elif p < 95:
                s = slot[i]
                expect[s] = bound_at[i] + granted[i]
                state[i] = _LEFT
                stats["silent"] += 1
                heapq.heappush(events, (expect[s] + 600 + r.below(3 * DAY), i))
            else:
                n = e.handle(k.msg(k.RELEASE, i + 1, ((54, cfg.server),) + opts(i), ciaddr=addr[i]), now, tx)
                assert n == 0 and e.table.state[slot[i]] == 3, "release not taken"
                state[i] = _OFF
                stats["released"] += 1
                heapq.heappush(events, (now + r.below(2 * DAY), i))
        if now >= next_check:
            # Checkpoint: the table's invariants, and the model and the table agree.
            inv.check(e, now)
            on = 0
            for i in range(clients):
                if state[i] == _ON:
                    on += 1
                    s = slot[i]
                    assert e.table.state[s] == BOUND, "client %d's slot %d is not bound" % (i, s)
                    assert e.table.expiry[s] == bound_at[i] + granted[i]
            nb = sum(1 for s in range(cap) if e.table.state[s] == BOUND)
            pending = sum(1 for s in range(cap) if expect[s] >= 0)    # silent leavers not yet expired
            assert nb == on + pending, "bound slots %d, clients holding one %d + %d left" % (nb, on, pending)
            assert bad[0] == 0, "unexpected expiry of slot %d at %d" % (bad[1], bad[2])
            stats["checkpoints"] += 1
            if heap:
                ack = None                        # drop the last reply (a conservative GC sees locals)
                # This function's frame is on the heap (more than 11 words) and the collector
                # scans all of it, stale slots of its value stack too: the last message or
                # tuple evaluated at each depth, which depends on the last path taken. A call
                # with 16 arguments overwrites the slots that deep with None.
                _wipe(None, None, None, None, None, None, None, None,
                      None, None, None, None, None, None, None, None)
                gc.collect()
                m = gc.mem_alloc()
                if now >= 3600:                   # from hour 1 on
                    if mem[2] == 0:
                        mem[0] = mem[1] = m
                        mem[2] = 1
                    mem[0] = min(mem[0], m)
                    mem[1] = max(mem[1], m)
            if log:
                log("day %d: %d bound, %r" % (now // DAY, on, stats))
            next_check = now + (3600 if now < DAY else DAY)
        if now >= end:
            break
    stats["expired"] = late[1]
    stats["max_expiry_lateness"] = late[0]
    stats["min_expiry_lateness"] = late[4] if late[1] else 0
    stats["released_events"] = late[2]
    stats["declined_events"] = late[3]
    stats["heap"] = (mem[0], mem[1]) if mem[2] else None
    assert late[0] <= 1, "an expiry fired %d s late" % late[0]
    assert not late[1] or late[4] >= 0, "an expiry fired %d s early" % -late[4]
    assert bad[0] == 0
    assert late[2] == stats["released"] and late[3] == stats["declined"]
    # Every silent leaver whose lease has ended has expired, and only those.
    pending = sum(1 for s in range(cap) if expect[s] >= 0)
    assert late[1] + pending == stats["silent"], (late[1], pending, stats["silent"])
    return stats


def _wipe(*args):
    # see simulate's checkpoint
    return len(args)


def _heap_check():
    return hasattr(gc, "mem_alloc")


def test_churn_90_days_254_clients():
    days = _env("CHURN_DAYS", 90)
    lease = _env("CHURN_LEASE", DAY)
    st = simulate(days=days, lease=lease, heap=_heap_check())
    print("churn:", st)
    assert st["wraps"] >= days * DAY * 1000 // _WRAP
    assert st["wraps"] >= 7 or days < 90
    assert st["silent"] and st["released"] and st["declined"] and st["expired"]
    assert st["renewals"] > 20 * st["joins"] // 10
    if st["heap"] is not None:
        lo, hi = st["heap"]
        # Same heap from hour 1 to day 90, up to a few small objects of the test itself.
        assert hi - lo <= 256, "heap moved between %d and %d bytes" % (lo, hi)


def test_churn_short_lease_many_wraps():
    # 30-minute leases for 3 days (T1 every 15 min): many more renewals and expiries per wrap.
    st = simulate(days=3, lease=1800, clients=254, seed=99, heap=_heap_check())
    assert st["expired"] > 0 and st["max_expiry_lateness"] <= 1
    if st["heap"] is not None:
        assert st["heap"][1] - st["heap"][0] <= 256, st["heap"]
