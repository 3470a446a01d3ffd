# bench_engine: per-message cost of microdhcp.engine alone (no sockets), on either runtime:
#   MICROPYPATH=firmware micropython tools/bench_engine.py [--quick] [--repeat N] [--steps N]
#   PYTHONPATH=firmware python3 tools/bench_engine.py [--quick] [--repeat N] [--steps N]
# For lease-table capacities 8, 64, 254 and 1024 (pool = capacity; /24, /24, /23, /21), the
# table is kept full: capacity-1 clients bound and one address released. Each step a NEW client
# (its identity unknown to the table) does DISCOVER, REQUEST (selecting), RENEW (ciaddr, no
# option 50/54), and then the oldest bound client sends RELEASE, which frees the address the
# next new client gets. The clock advances one second per step (lease 3600 s, so nothing expires).
# Every handle() call is timed on its own (time.ticks_us/ticks_diff on
# MicroPython, time.perf_counter_ns on CPython) minus the cost of an empty timing pair; the
# figure per message type is the mean over all steps of one repeat, and the table quotes the
# median over repeats. Capacities are interleaved within each repeat to spread machine noise.
# A median at or below zero (under the clock's resolution) is no figure: the run prints no table
# and exits 1 rather than quote a 1024/8 ratio resting on it. --help lists the options.
import sys
import time

try:
    _ticks = time.ticks_us
    _diff = time.ticks_diff
    _UNIT = 1.0           # microseconds

    def _now():
        return _ticks()
except AttributeError:
    _pc = time.perf_counter_ns
    _UNIT = 1000.0        # nanoseconds -> microseconds

    def _now():
        return _pc()

    def _diff(a, b):
        return a - b


# The firmware beside this script, without os.path (MicroPython has none); as tools/churn.py.
HERE = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
sys.path.insert(0, HERE + "/../firmware")

from microdhcp.config import Config      # noqa: E402
from microdhcp.engine import Engine      # noqa: E402
from microdhcp import status            # noqa: E402
import dhcpkit                           # noqa: E402  (beside this script)

CAPACITIES = (8, 64, 254, 1024)
KINDS = ("DISCOVER", "REQUEST", "RENEW", "RELEASE")
_PREFIX = {8: 24, 64: 24, 254: 23, 1024: 21}
SERVER = bytes((10, 0, 0, 1))
_CID_MAC = 246      # the MAC inside option 61 (type 1 at 245), option 61 right after 53


def _dotted(off):
    # 10.0.0.0 + offset
    return "10.0.%d.%d" % (off >> 8, off & 255)


def _template(mtype, with_50, with_54):
    # RFC 2131 message (tools/dhcpkit): 53, 61 (client id = type 1 + MAC, set per step), 55,
    # [50], [54], END, padded to 300 bytes. Returns (buffer, offset of the option 50 value or -1).
    options = [(61, b"\x01" + bytes(6)), (55, b"\x01\x03\x06\x0f")]
    if with_50:
        options.append((50, bytes(4)))
    if with_54:
        options.append((54, SERVER))
    b = dhcpkit.msg(mtype, 0, options, xid=bytes(4))
    if dhcpkit.option_at(b, 61) + 1 != _CID_MAC:
        raise RuntimeError("option 61 is not where _ident writes it")
    return b, dhcpkit.option_at(b, 50) if with_50 else -1


class Bench:
    def __init__(self, cap):
        self.cap = cap
        prefix = _PREFIX[cap]
        cfg = Config(address="10.0.0.1/%d" % prefix, pool="%s-%s" % (_dotted(2), _dotted(cap + 1)),
                     lease_time=3600, routers="10.0.0.1", dns="10.0.0.1")
        self.eng = Engine(cfg)
        self.tx = bytearray(1500)
        self.ring = 2 * cap                  # identities; one is reused only after its slot moved on
        self.addr = bytearray(4 * self.ring)
        self.k = 0
        self.disc, _ = _template(1, False, False)
        self.req, self.req50 = _template(3, True, True)
        self.ren, _ = _template(3, False, False)
        self.rel, _ = _template(7, False, True)
        self.now = 1000
        self.sums = [0, 0, 0, 0]
        self.n = 0

    def _ident(self, b, i):
        # chaddr 02:00:00:00:hi:lo and client id 01 + the same MAC; xid = i
        hi = (i >> 8) & 255
        lo = i & 255
        b[4] = 0x5a
        b[5] = (i >> 16) & 255
        b[6] = hi
        b[7] = lo
        b[28] = 2
        b[29] = b[30] = b[31] = 0
        b[32] = hi
        b[33] = lo
        # option 61's MAC, after its type byte
        b[_CID_MAC] = 2
        b[_CID_MAC + 1] = b[_CID_MAC + 2] = b[_CID_MAC + 3] = 0
        b[_CID_MAC + 4] = hi
        b[_CID_MAC + 5] = lo

    def _timed(self, kind, msg):
        eng = self.eng
        t0 = _now()
        n = eng.handle(msg, self.now, self.tx)
        dt = _diff(_now(), t0)
        self.sums[kind] += dt
        return n

    def step(self, timed=True):
        # One new client's DISCOVER, REQUEST, RENEW; then the oldest bound client's RELEASE.
        cap = self.cap
        ring = self.ring
        k = self.k
        i = k % ring
        tx = self.tx
        a = self.addr
        d = self.disc
        self._ident(d, i)
        n = self._timed(0, d) if timed else self.eng.handle(d, self.now, tx)
        if n == 0 or tx[242] != 2:
            raise RuntimeError("no OFFER at capacity %d step %d: %r" % (cap, k, status.stats(self.eng)))
        a[4 * i:4 * i + 4] = tx[16:20]
        r = self.req
        self._ident(r, i)
        r[self.req50:self.req50 + 4] = tx[16:20]
        n = self._timed(1, r) if timed else self.eng.handle(r, self.now, tx)
        if n == 0 or tx[242] != 5:
            raise RuntimeError("no ACK at capacity %d step %d" % (cap, k))
        w = self.ren
        self._ident(w, i)
        w[12:16] = a[4 * i:4 * i + 4]
        n = self._timed(2, w) if timed else self.eng.handle(w, self.now, tx)
        if n == 0 or tx[242] != 5:
            raise RuntimeError("no renewal ACK at capacity %d step %d" % (cap, k))
        if k >= cap - 1:
            j = (k - (cap - 1)) % ring
            q = self.rel
            self._ident(q, j)
            q[12:16] = a[4 * j:4 * j + 4]
            before = status.counter(self.eng, "release")
            self._timed(3, q) if timed else self.eng.handle(q, self.now, tx)
            if status.counter(self.eng, "release") != before + 1:
                raise RuntimeError("RELEASE ignored at capacity %d step %d" % (cap, k))
        self.k = k + 1
        self.now += 1       # one second per step: leases and the expiry heap age as in service
        if timed:
            self.n += 1

    def take(self):
        # Mean microseconds per message of each kind since the last take().
        n = self.n or 1
        out = [s / _UNIT / n for s in self.sums]
        self.sums = [0, 0, 0, 0]
        self.n = 0
        return out


def _overhead():
    # Cost of an empty timing pair, subtracted from every message.
    best = None
    for _ in range(5):
        s = 0
        for _ in range(2000):
            t0 = _now()
            s += _diff(_now(), t0)
        v = s / _UNIT / 2000
        best = v if best is None or v < best else best
    return best


def _median(xs):
    xs = sorted(xs)
    m = len(xs)
    return xs[m // 2] if m % 2 else (xs[m // 2 - 1] + xs[m // 2]) / 2


# The options, written once: (flag, int for a value or None for a switch, help). argparse reads
# them where the runtime has it (CPython; the unix port's standard variant freezes
# micropython-lib's); _read_args reads the same table on a MicroPython built without it (the
# 32-bit builds of tools/build_firmware.py), so `--help` never starts the benchmark on either.
OPTIONS = (("--quick", None, "3 repeats x 256 steps (CI) unless --repeat/--steps say otherwise"),
           ("--repeat", int, "repeats, each timing every capacity (default 5, quick 3)"),
           ("--steps", int, "steps per capacity per repeat (default 2048, quick 256)"))
USAGE = "bench_engine.py " + " ".join("[%s%s]" % (f, " N" if k else "") for f, k, _ in OPTIONS)


def _read_args(argv):
    kinds = dict((f, k) for f, k, _ in OPTIONS)
    got = {}
    i = 0
    while i < len(argv):
        flag = argv[i]
        if flag not in kinds or (kinds[flag] and i + 1 >= len(argv)):
            print("usage: " + USAGE)
            sys.exit(0 if flag in ("-h", "--help") else 2)
        got[flag[2:]] = kinds[flag](argv[i + 1]) if kinds[flag] else True
        i += 2 if kinds[flag] else 1
    return got


def parse(argv):
    """argv -> {"quick": bool, "repeat": int or None, "steps": int or None}."""
    try:
        import argparse
    except ImportError:
        got = _read_args(argv)
    else:
        ap = argparse.ArgumentParser(description="per-message cost of microdhcp.engine alone, by table size")
        for flag, kind, text in OPTIONS:
            if kind:
                ap.add_argument(flag, type=kind, default=None, help=text)
            else:
                ap.add_argument(flag, action="store_true", help=text)
        a = ap.parse_args(argv)
        got = dict((f[2:], getattr(a, f[2:])) for f, _, _ in OPTIONS)
    return dict((f[2:], got.get(f[2:], False if k is None else None)) for f, k, _ in OPTIONS)


def settings(opts):
    # (repeats, steps): --quick's smaller defaults, then whatever --repeat and --steps say.
    repeat, steps = (3, 256) if opts["quick"] else (5, 2048)
    repeat = repeat if opts["repeat"] is None else opts["repeat"]
    steps = steps if opts["steps"] is None else opts["steps"]
    if repeat < 1 or steps < 1:
        print("bench_engine: --repeat and --steps must be at least 1", file=sys.stderr)
        sys.exit(2)
    return repeat, steps


def medians(res, ov):
    # Per kind, per capacity: the median over repeats minus the timer overhead.
    return [[_median([rep[k] for rep in res[c]]) - ov for c in CAPACITIES] for k in range(len(KINDS))]


def unmeasured(meds):
    # Costs at or below zero: below the clock's resolution, or the overhead estimate overshot.
    # Such a figure is no measurement, and a ratio resting on it (the 1024/8 one divides by
    # capacity 8) would read as 0x, i.e. "ok": the run fails instead.
    return [(KINDS[k], c, m) for k, row in enumerate(meds) for c, m in zip(CAPACITIES, row) if m <= 0]


def main(argv):
    repeat, steps = settings(parse(argv))
    runtime = sys.implementation.name
    benches = [Bench(c) for c in CAPACITIES]
    for b in benches:
        # Fill the table (cap-1 bound), then one full turn of the ring so every identity and
        # slot has been through the cycle once: the steady state being measured.
        for _ in range(b.cap - 1 + b.ring):
            b.step(False)
    ov = _overhead()
    res = {}
    for r in range(repeat):
        for b in benches:
            for _ in range(steps):
                b.step(True)
            res.setdefault(b.cap, []).append(b.take())
    for b in benches:
        if status.dropped(b.eng):
            raise RuntimeError("capacity %d: engine dropped %d messages" % (b.cap, status.dropped(b.eng)))
    meds = medians(res, ov)
    bad = unmeasured(meds)
    if bad:
        print("bench_engine: no figure: %s after the timer overhead (%.3f us); try more --steps"
              % ("; ".join("%s at capacity %d came out %.3f us" % x for x in bad), ov), file=sys.stderr)
        return 1
    print("engine cost per message (us), %s %s, median of %d repeats x %d steps, timer overhead %.3f us subtracted"
          % (runtime, ".".join(str(v) for v in sys.implementation.version[:3]), repeat, steps, ov))
    print("%-9s" % "message" + "".join("%10s" % ("cap %d" % c) for c in CAPACITIES) + "%14s" % "1024/8")
    ratios = []
    for name, row in zip(KINDS, meds):
        ratios.append(row[-1] / row[0])
        print("%-9s" % name + "".join("%10.2f" % m for m in row) + "%13.2fx" % ratios[-1])
    worst = max(ratios)
    print("worst 1024/8 ratio %.2fx (aim <= 1.20x): %s" % (worst, "ok" if worst <= 1.2 else "ABOVE AIM"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
