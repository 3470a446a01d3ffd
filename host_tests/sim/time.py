# host_tests/sim/time.py: the simulated board's clock. ticks_ms wraps at 2**30 as on ESP32/RP2040
# and starts just before the wrap; it moves only when the test says "advance". Sleeping hands
# control to the test (the program is waiting).
from _sim import world

_PERIOD = 1 << 30
_EPOCH = 1700000000


def ticks_ms():
    return world.ms & (_PERIOD - 1)


def ticks_us():
    return (world.ms * 1000) & (_PERIOD - 1)


def ticks_add(t, d):
    return (t + d) & (_PERIOD - 1)


def ticks_diff(a, b):
    d = (a - b) & (_PERIOD - 1)
    return d - _PERIOD if d & (_PERIOD >> 1) else d


def time():
    return _EPOCH + world.ms // 1000


def time_ns():
    return (_EPOCH * 1000 + world.ms) * 1000000


def sleep_ms(ms):
    # The board sleeps: its clock moves on by that much, then the test gets control.
    world.ms += ms
    world.idle(ms)


def sleep_us(us):
    sleep_ms(us // 1000)


def sleep(s):
    sleep_ms(int(s * 1000))
