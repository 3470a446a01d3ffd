# MIT license; Copyright (c) 2026 the microdhcp authors
# microdhcp.clock: a seconds counter that survives the wrap of time.ticks_ms(). On 32-bit ports
# ticks_ms wraps every 2**30 ms (~12.4 days) and ticks_diff is only valid within half of that,
# so now() must be called at least every ~6 days (any serve loop calls it far more often).
try:
    from time import ticks_ms as _ticks_ms, ticks_diff as _ticks_diff
except ImportError:
    # CPython: the same interface over a monotonic clock, wrapped like a board's.
    import time as _time

    def _ticks_ms():
        return int(_time.monotonic() * 1000) & 0x3FFFFFFF  # type: ignore[attr-defined]  # CPython only; not in MicroPython stubs

    def _ticks_diff(a, b):  # type: ignore[no-redef]  # CPython fallback for the MicroPython function
        d = (a - b) & 0x3FFFFFFF
        return d - 0x40000000 if d & 0x20000000 else d


class Clock:
    """now() -> whole seconds since construction. Keeps the sub-second remainder so that
    rounding never drifts, and only ever holds small ints (no allocation on a board)."""

    def __init__(self, ticks_ms=None, ticks_diff=None, start=0):
        self._ticks = ticks_ms or _ticks_ms
        self._diff = ticks_diff or _ticks_diff
        self._last = self._ticks()
        self._ms = 0      # milliseconds not yet counted into _secs (0..999)
        self._secs = start

    def now(self):
        t = self._ticks()
        d = self._diff(t, self._last)
        if d > 0:
            self._last = t
            ms = self._ms + d
            # d < 2**29 ms, so this stays a small int; fold whole seconds out.
            s = ms // 1000
            self._secs += s
            self._ms = ms - s * 1000
        return self._secs
