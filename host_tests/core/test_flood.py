# Starvation floods on a virtual clock (both runtimes) and the protections of config.Config:
# max_offers (outstanding OFFERs to clients we hold nothing for; default half the pool) and
# offer_interval (per-client OFFER rate). 10000 random-MAC DISCOVERs leave every bound client
# bound and renewable, a reservation served, and every unrequested offer back in the pool after
# offer_hold. Under MicroPython the flood runs with micropython.heap_lock() held.
import dhcpkit as k
from microdhcp import status
import harness as h
import invariants as inv
from microdhcp.config import Config
from microdhcp.codes import BOUND, FREE, RELEASED, EXPIRED

try:
    import micropython
    _lock = micropython.heap_lock
    _unlock = micropython.heap_unlock
except (ImportError, AttributeError):
    _lock = _unlock = None

BOUND_CLIENTS = 40
RESERVED = k.ip("192.168.4.250")


def flood_engine(**cfg):
    cfg.setdefault("pool", ("192.168.4.2", "192.168.4.254"))    # 253 addresses
    cfg.setdefault("lease_time", 600)
    cfg.setdefault("offer_hold", 30)
    cfg.setdefault("reservations", [("02:00:00:00:0f:ff", "192.168.4.250")])
    e = h.engine(**cfg)
    e.on_event = None      # the test log allocates; the flood runs under heap_lock
    return e


def handle_n(e, msg, now):
    # One handle() call under heap_lock where available (the flood path must not allocate).
    if _lock is None:
        return e.handle(msg, now, e.tx)
    _lock()
    try:
        n = e.handle(msg, now, e.tx)
    finally:
        _unlock()
    return n


def flood(e, count, start, per_second, seed=1, rtype=k.DISCOVER, pool=None):
    """count DISCOVERs (or INIT-REBOOT REQUESTs for random pool addresses) from random MACs,
    per_second of them in each virtual second from `start`. Returns (replies, end time)."""
    if rtype == k.DISCOVER:
        m = k.msg(k.DISCOVER, 0, ((55, b"\x01\x03\x06"),))
    else:
        m = k.msg(k.REQUEST, 0, ((50, b"\0\0\0\0"),))
    r = k.Lcg(seed)
    replies = 0
    now = start
    for i in range(count):
        hi = r.next()
        lo = r.next()
        m[30] = 0x40 | (hi >> 8 & 0x3F)    # random MACs, never one of the test clients'
        m[31] = hi & 255
        m[32] = lo >> 8 & 255
        m[33] = lo & 255
        if pool is not None:
            m[245:249] = pool[(lo >> 5) % len(pool)]
        if i and i % per_second == 0:
            now += 1
        if handle_n(e, m, now):
            replies += 1
    return replies, now


def bound_set(e):
    return dict((s, v) for s, v in inv.live(e).items() if v[0] == BOUND)


def available(e):
    t = e.table
    return sum(1 for s in range(t.capacity) if t.state[s] in (FREE, RELEASED, EXPIRED))


def test_discover_flood_leaves_bound_clients_bound_and_the_pool_recovers():
    e = flood_engine()
    addrs = {}
    for c in range(1, BOUND_CLIENTS + 1):
        addrs[c] = h.dora(e, c, now=0)["yiaddr"]
    before = bound_set(e)
    assert len(before) == BOUND_CLIENTS
    cap = e.cfg.max_offers
    assert cap == 253 // 2
    now = 1
    total_replies = 0
    # 10000 DISCOVERs, 100 per virtual second, in 10 bursts; bound clients renew at T1 (300 s)
    # and a reserved client joins in the middle of it.
    for burst in range(10):
        r, now = flood(e, 1000, now, 100, seed=burst + 7)
        total_replies += r
        assert e.n_offered <= cap, (e.n_offered, cap)
        inv.check(e, now)
        if burst == 4:
            ack = h.dora(e, 0xfff, now=now)
            assert ack["yiaddr"] == RESERVED
        for c in range(1, BOUND_CLIENTS + 1):
            if burst % 3 == 2:
                ack = h.renew(e, c, addrs[c], now)
                assert ack is not None and ack["type"] == k.ACK and ack["yiaddr"] == addrs[c]
    after = bound_set(e)
    for s, (st, key, exp) in before.items():
        assert after[s][0] == BOUND and after[s][1] == key, "bound client lost slot %d" % s
    stats = status.stats(e)
    print("flood: 10000 DISCOVERs over %d s -> %d OFFERs, %d dropped by the offer cap (%d), "
          "%d outstanding at the end, bound clients lost 0 of %d"
          % (now, total_replies, stats["offer_cap"], cap, e.n_offered, BOUND_CLIENTS))
    assert stats["offer_cap"] > 9000 and total_replies < 1000
    assert total_replies == stats["offer"] - BOUND_CLIENTS - 1
    # Offered but never requested: back in the pool once the hold ends.
    e.tick(now + e.cfg.offer_hold)
    assert e.n_offered == 0
    inv.check(e, now + e.cfg.offer_hold)
    assert available(e) == 253 - BOUND_CLIENTS - 1   # all but the bound ones and the reserved .250
    ack = h.dora(e, 9999, now=now + 31)
    assert ack["type"] == k.ACK
    for c in range(1, BOUND_CLIENTS + 1):
        ack = h.renew(e, c, addrs[c], now + 40)
        assert ack["yiaddr"] == addrs[c]


def test_without_the_cap_a_flood_holds_the_whole_pool_but_no_bound_address():
    # max_offers = table size turns the cap off: the flood then holds every free address for
    # offer_hold (new clients starve meanwhile), yet it still cannot touch a bound one.
    e = flood_engine(max_offers=253)
    addrs = dict((c, h.dora(e, c, now=0)["yiaddr"]) for c in range(1, 11))
    r, now = flood(e, 2000, 1, 500)
    assert e.n_offered == 253 - 10 - 1            # everything but the bound and the reserved .250
    assert h.discover(e, 5000, now=now) is None
    for c in addrs:
        assert h.renew(e, c, addrs[c], now)["yiaddr"] == addrs[c]
    inv.check(e, now)


def test_returning_and_reserved_clients_are_served_above_the_cap():
    e = flood_engine(pool=("192.168.4.10", "192.168.4.19"), reservations=[("02:00:00:00:0f:ff", "192.168.4.50")])
    assert e.cfg.max_offers == 5
    a = h.dora(e, 1, now=0)["yiaddr"]
    h.release(e, 1, a, now=1)
    flood(e, 200, 2, 50)
    assert e.n_offered == 5
    assert h.discover(e, 2, now=6) is None               # a new client: capped
    assert status.counter(e, "offer_cap") >= 196
    r = h.discover(e, 1, now=6)                          # came back: its released address
    assert r is not None and r["yiaddr"] == a
    r = h.discover(e, 0xfff, now=6)                      # reservation
    assert r is not None and r["yiaddr"] == k.ip("192.168.4.50")
    inv.check(e, 6)


def test_request_flood_takes_only_free_addresses():
    # INIT-REBOOT REQUESTs from random MACs for pool addresses: an authoritative server adopts
    # free ones (RFC 2131 allows it, lease stores may be lost), but a bound address only NAKs.
    # Mitigations are in docs/security.md (known_clients_only, the station filter, short leases).
    e = flood_engine()
    addrs = dict((c, h.dora(e, c, now=0)["yiaddr"]) for c in range(1, 21))
    before = bound_set(e)
    pool = [k.ip("192.168.4.%d" % i) for i in range(2, 255)]
    r, now = flood(e, 5000, 1, 100, rtype=k.REQUEST, pool=pool)
    after = bound_set(e)
    for s, v in before.items():
        assert after[s][1] == v[1]
    for c in addrs:
        assert h.renew(e, c, addrs[c], now)["yiaddr"] == addrs[c]
    assert h.dora(e, 0xfff, now=now)["yiaddr"] == RESERVED
    inv.check(e, now)
    print("request flood: 5000 INIT-REBOOT REQUESTs -> %d bound by the flood, %d NAKs, bound clients lost 0"
          % (len(after) - len(before), status.counter(e, "nak")))


def test_offer_interval_limits_offers_to_one_client():
    e = h.engine(offer_interval=2, offer_hold=30)
    assert h.discover(e, 1, now=100) is not None
    assert h.discover(e, 1, now=100) is None
    assert h.discover(e, 1, now=101) is None
    assert status.counter(e, "rate_limited") == 2
    r = h.discover(e, 1, now=102)
    assert r is not None
    # The limit does not hold back the REQUEST, nor another client.
    assert h.discover(e, 2, now=102) is not None
    assert h.request_selecting(e, 1, r["yiaddr"], now=102)["type"] == k.ACK
    inv.check(e, 102)


def test_offer_interval_off_by_default_and_repeat_discover_answered():
    e = h.engine()
    assert e.cfg.offer_interval == 0
    a = h.discover(e, 1, now=0)["yiaddr"]
    assert h.discover(e, 1, now=0)["yiaddr"] == a
    assert e.n_offered == 1


def test_protection_settings_are_validated():
    base = dict(address="192.168.4.1/24", pool=("192.168.4.10", "192.168.4.19"))
    assert Config(**base).max_offers == 5
    assert Config(max_offers=10, **base).max_offers == 10
    assert Config(offer_interval=29, **base).offer_interval == 29
    assert Config(mac_pinning=False, **base).mac_pinning is False
    for bad in (0, -1, 11, "5", 2.5, True):
        e = k.raises(ValueError, Config, max_offers=bad, **base)
        assert "max_offers" in str(e)
    for bad in (-1, 30, 31, 1.0, "1"):
        e = k.raises(ValueError, Config, offer_interval=bad, **base)
        assert "offer_interval" in str(e)
    # One-address pool: the cap is one offer.
    assert Config(address="192.168.4.1/24", pool=("192.168.4.10", "192.168.4.10")).max_offers == 1
