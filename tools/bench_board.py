# bench_board: per-message cost of microdhcp's engine on a board (or the emulated RP2040, or the
# unix port), with the heap locked around every message. Runs as is with
#   mpremote run tools/bench_board.py          (a board with microdhcp frozen or copied to /lib)
#   micropython tools/bench_board.py           (unix port, MICROPYPATH=firmware)
# For capacities 8 and 254 (pool = capacity, /24 and /23) the table is first filled (capacity-1
# clients bound, one address free); then each step a NEW client (identity unknown to the table)
# sends DISCOVER and REQUEST (selecting), and the oldest bound client sends RELEASE, which frees
# the address the next new client gets. Each handle() is timed on its own with ticks_us (1 us
# resolution) and run under micropython.heap_lock(), so an allocation would raise MemoryError.
# Prints one "result" line per capacity and message type (median and max in us) and the heap the
# engine took (gc.mem_alloc difference around Engine() and its 1500-byte reply buffer).
import gc
import sys
import time
from array import array

try:
    import micropython
    _lock = micropython.heap_lock
    _unlock = micropython.heap_unlock
except (ImportError, AttributeError):
    micropython = None

    def _lock():
        pass

    def _unlock():
        pass

try:
    _ticks = time.ticks_us
    _diff = time.ticks_diff
except AttributeError:       # CPython: nanoseconds -> microseconds, for a dry run of the script
    def _ticks():
        return time.perf_counter_ns() // 1000

    def _diff(a, b):
        return a - b

try:
    # Run as a file on a host: the firmware beside this script. Pasted (mpremote run, raw REPL)
    # there is no __file__ and microdhcp comes from the board (frozen or /lib).
    if "/" in __file__:
        sys.path.insert(0, __file__.rsplit("/", 1)[0] + "/../firmware")
except NameError:
    pass

from microdhcp.config import Config      # noqa: E402
from microdhcp.engine import Engine      # noqa: E402

CAPACITIES = (8, 254)
STEPS = 64            # timed steps per capacity
_PREFIX = {8: 24, 254: 23}
SERVER = bytes((10, 0, 0, 1))


def _dotted(off):
    return "10.0.%d.%d" % (off >> 8, off & 255)


def _template(mtype, with_50, with_54):
    # RFC 2131 message: header, cookie, 53, 61 (client id = type 1 + MAC), 55, [50], [54], END,
    # padded to 300 bytes. Returns (buffer, offset of the option 50 value or -1).
    b = bytearray(300)
    b[0] = 1
    b[1] = 1
    b[2] = 6
    b[236:240] = b"\x63\x82\x53\x63"
    p = 240
    for v in (53, 1, mtype, 61, 7, 1, 0, 0, 0, 0, 0, 0, 55, 4, 1, 3, 6, 15):
        b[p] = v
        p += 1
    o50 = -1
    if with_50:
        b[p] = 50
        b[p + 1] = 4
        o50 = p + 2
        p += 6
    if with_54:
        b[p] = 54
        b[p + 1] = 4
        b[p + 2:p + 6] = SERVER
        p += 6
    b[p] = 255
    return b, o50


def _ident(b, i):
    # chaddr 02:00:00:00:hi:lo, client id 01 + the same MAC, xid from i
    hi = (i >> 8) & 255
    lo = i & 255
    b[4] = 0x5a
    b[6] = hi
    b[7] = lo
    b[28] = 2
    b[32] = hi
    b[33] = lo
    b[246] = 2
    b[250] = hi
    b[251] = lo


def _one(eng, msg, now, tx, times, k):
    # One message under the heap lock; its microseconds go to times[k]. Locals only.
    _lock()
    try:
        t0 = _ticks()
        n = eng.handle(msg, now, tx)
        dt = _diff(_ticks(), t0)
    except MemoryError:
        n = -1
        dt = 0
    _unlock()
    times[k] = dt
    return n


def _median(a):
    s = sorted(a)
    m = len(s)
    return s[m // 2] if m % 2 else (s[m // 2 - 1] + s[m // 2]) // 2


def run(cap, steps):
    gc.collect()
    before = gc.mem_alloc() if hasattr(gc, "mem_alloc") else 0
    cfg = Config(address="10.0.0.1/%d" % _PREFIX[cap], pool="%s-%s" % (_dotted(2), _dotted(cap + 1)),
                 lease_time=3600, routers="10.0.0.1", dns="10.0.0.1")
    eng = Engine(cfg)
    tx = bytearray(1500)
    gc.collect()
    heap = (gc.mem_alloc() - before) if hasattr(gc, "mem_alloc") else 0
    disc, _ = _template(1, False, False)
    req, o50 = _template(3, True, True)
    rel, _ = _template(7, False, True)
    ring = 2 * cap
    addr = bytearray(4 * ring)
    td = array("i", [0] * steps)
    tr = array("i", [0] * steps)
    tz = array("i", [0] * steps)
    scratch = array("i", [0])
    now = 1000
    bad = 0
    # fill (untimed) then `steps` timed steps; every message is handled under the lock
    total = cap - 1 + steps
    for k in range(total):
        i = k % ring
        timed = k >= cap - 1
        j = k - (cap - 1)
        _ident(disc, i)
        if _one(eng, disc, now, tx, td if timed else scratch, j if timed else 0) <= 0 or tx[242] != 2:
            bad += 1
        a = 4 * i
        addr[a:a + 4] = tx[16:20]
        _ident(req, i)
        req[o50:o50 + 4] = tx[16:20]
        if _one(eng, req, now, tx, tr if timed else scratch, j if timed else 0) <= 0 or tx[242] != 5:
            bad += 1
        if timed:
            # the oldest bound client leaves: its address is the next new client's
            r = (k - (cap - 1)) % ring
            _ident(rel, r)
            rel[12:16] = addr[4 * r:4 * r + 4]
            if _one(eng, rel, now, tx, tz, j) != 0:
                bad += 1
        now += 1
    from microdhcp import status   # after the measured run: its import costs heap
    if status.dropped(eng) or status.counter(eng, "ack") != total or status.counter(eng, "release") != steps:
        bad += 1
    return heap, td, tr, tz, bad, eng


def main():
    impl = sys.implementation
    try:
        import machine
        freq = " at %d MHz" % (machine.freq() // 1000000)
    except (ImportError, AttributeError):
        freq = ""
    print("bench_board: %s %s on %s%s, heap_lock %s" % (impl.name, ".".join(str(v) for v in impl.version[:3]),
          getattr(sys, "platform", "?"), freq, "held" if micropython else "absent"))
    failed = 0
    for cap in CAPACITIES:
        heap, td, tr, tz, bad, eng = run(cap, STEPS)
        for name, t in (("DISCOVER", td), ("REQUEST", tr), ("RELEASE", tz)):
            print("result cap=%d %s median_us=%d max_us=%d min_us=%d" % (cap, name, _median(t), max(t), min(t)))
        print("result cap=%d heap_bytes=%d errors=%d" % (cap, heap, bad))
        failed += bad
        del eng
        gc.collect()
    print("bench_board: %s" % ("ok" if not failed else "FAILED (%d errors)" % failed))


main()
