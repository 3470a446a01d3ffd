# The clock helper (issue 2 item 6): ticks_ms wraps every 2**30 ms on 32-bit ports (~12.4 days);
# lease time must come from a seconds count that survives the wrap.
import sys
import harness as h
from microdhcp.clock import Clock

PERIOD = 1 << 30          # MicroPython's ticks period on 32-bit ports
MASK = PERIOD - 1
HALF = PERIOD >> 1


def board_diff(a, b):
    # time.ticks_diff as on a 32-bit board: signed difference modulo 2**30.
    d = (a - b) & MASK
    return d - PERIOD if d >= HALF else d


def fake(start):
    st = [start & MASK]

    def ticks():
        return st[0]

    def advance(ms):
        st[0] = (st[0] + ms) & MASK
    return ticks, advance


def test_clock_counts_seconds_across_several_wraps():
    """Issue 2 item 6 (ticks_ms wraps at 2**30 ms on the boards, docs/boards.md): whole seconds, no drift
    from sub-second steps, correct across
    four wraps of the 2**30 ms tick counter."""
    ticks, advance = fake(PERIOD - 1500)     # 1.5 s before the first wrap
    c = Clock(ticks, board_diff)
    total = 0
    assert c.now() == 0
    steps = [999] * 7 + [1, 1, 1] + [(1 << 28) + 321] * 17 + [250] * 9 + [(1 << 29) - 1] * 3
    wraps = 0
    t_prev = ticks()
    for ms in steps:
        advance(ms)
        total += ms
        if ticks() < t_prev:
            wraps += 1
        t_prev = ticks()
        assert c.now() == total // 1000, (total, c.now())
    assert wraps >= 4, wraps
    assert c.now() == total // 1000


def test_clock_start_and_no_change_without_ticks():
    """Clock(start=...) offsets the count; repeated calls without time passing do not move it."""
    ticks, advance = fake(123)
    c = Clock(ticks, board_diff, start=1000)
    assert c.now() == 1000
    advance(1999)
    assert c.now() == 1001
    assert c.now() == 1001
    advance(1)
    assert c.now() == 1002


def test_clock_default_ticks_source():
    """Without injected functions the clock uses time.ticks_ms/ticks_diff (MicroPython) or the
    monotonic fallback (CPython): it starts at 0 and never goes back."""
    c = Clock()
    a = c.now()
    b = c.now()
    assert a == 0 and b >= a


def test_clock_lease_expiry_across_wraps():
    """RFC 2131 4.3.2 lease expiry timed with the clock: a 40-day lease (three tick wraps) stays
    bound until its end and expires right after."""
    ticks, advance = fake(PERIOD - 10)
    c = Clock(ticks, board_diff)
    lease = 40 * 86400
    e = h.engine(lease_time=lease)
    x = h.dora(e, 1, c.now())["yiaddr"]
    step = (1 << 28)                      # ~3.1 days, well within ticks_diff's range
    elapsed = 0
    while elapsed + step < lease * 1000:
        advance(step)
        elapsed += step
        e.tick(c.now())
        assert h.state(e, x) == "bound", elapsed
    advance(lease * 1000 - elapsed)   # its last second (RFC 2131 2.2, leases.next_due): still bound
    e.tick(c.now())
    assert h.state(e, x) == "bound"
    advance(1000)
    e.tick(c.now())
    assert h.state(e, x) == "expired"


def test_clock_now_allocates_nothing():
    """now() is on the serve loop's hot path and allocates nothing (heap_lock on
    MicroPython); on CPython, it returns only ints and keeps its state small ints."""
    ticks, advance = fake(PERIOD - 5)
    c = Clock(ticks, board_diff)
    if sys.implementation.name == "micropython":
        import micropython
        out = bytearray(4)
        advance(2000)
        micropython.heap_lock()
        try:
            v = c.now()
            out[0] = v
            out[1] = 1
        except MemoryError:
            out[1] = 2
        micropython.heap_unlock()
        assert out[1] == 1 and out[0] == 2, out
    else:
        for i in range(100):
            advance(777)
            v = c.now()
            assert isinstance(v, int)
        assert v == 77700 // 1000
        assert 0 <= c._ms < 1000 and 0 <= c._last < PERIOD
