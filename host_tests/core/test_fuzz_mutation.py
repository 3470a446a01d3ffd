# Seeded mutation fuzzing of Engine.handle (both runtimes): thousands of malformed and hostile
# variants of valid messages (bit flips, truncation, option length lies, overload, splits,
# splices) never raise, never break a table invariant, and every reply parses cleanly. Under
# MicroPython each handle() runs with micropython.heap_lock() held. Crash fixtures saved by
# tools/fuzz_atheris.py (host_tests/fuzz_corpus/crashes/) are replayed here, after its corpus.
import os
import dhcpkit as k
from microdhcp import status
import fuzzcase as fc

try:
    import micropython
    _lock = micropython.heap_lock
    _unlock = micropython.heap_unlock
except (ImportError, AttributeError):
    _lock = _unlock = None

_HERE = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
CRASH_DIR = _HERE + "/../fuzz_corpus/crashes"
N_INPUTS = int(os.getenv("MUTATION_INPUTS") or 3000) if hasattr(os, "getenv") else 3000


_INTERESTING = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 50, 51, 52, 53, 54, 55, 57, 61, 80, 82, 127, 128, 254, 255)
_TRACKED = (12, 50, 51, 53, 54, 55, 57, 61, 80, 82, 52)


def _options(m):
    # Positions (pos, code, len) of the options in m, tolerant of garbage.
    out = []
    i = 240
    n = len(m)
    while i < n:
        c = m[i]
        if c == 0:
            i += 1
            continue
        if c == 255 or i + 1 >= n:
            break
        out.append((i, c, m[i + 1]))
        i += 2 + m[i + 1]
    return out


def mutate(r, m, pool):
    m = bytearray(m)
    n = len(m)
    op = r.below(15)
    if op == 0 and n:                                    # bit flip
        p = r.below(n)
        m[p] ^= 1 << r.below(8)
    elif op == 1 and n:                                  # interesting byte
        m[r.below(n)] = _INTERESTING[r.below(len(_INTERESTING))]
    elif op == 2:                                        # truncation
        m = m[:r.below(n + 1)]
    elif op == 3:                                        # option length lie
        opts = _options(m)
        if opts:
            pos, c, ln = opts[r.below(len(opts))]
            m[pos + 1] = (ln + 1, ln - 1 if ln else 255, 255, 0, r.below(256), 4, 1)[r.below(7)] & 255
    elif op == 4:                                        # overload: options in file and/or sname
        v = r.below(5)
        m[240:240] = bytes((52, 1, v))
        if r.below(2):
            f = r.below(2)
            start, end = (108, 236) if f == 0 else (44, 108)
            junk = bytes((53, 1, 1 + r.below(8), 61, 3, 1, 2, 3, 12, 2, 65, 66, 255))
            m[start:start + len(junk)] = junk[:end - start]
    elif op == 5:                                        # split an option (RFC 3396)
        opts = _options(m)
        if opts:
            pos, c, ln = opts[r.below(len(opts))]
            if ln >= 2 and pos + 2 + ln <= len(m):
                cut = 1 + r.below(ln - 1)
                m[pos + 2 + cut:pos + 2 + cut] = bytes((c, ln - cut))
                m[pos + 1] = cut
    elif op == 6:                                        # duplicate an option (joined by RFC 3396)
        opts = _options(m)
        if opts:
            pos, c, ln = opts[r.below(len(opts))]
            copy = m[pos:pos + 2 + ln]
            m[240:240] = copy
    elif op == 7:                                        # a new option, tracked code or random
        c = _TRACKED[r.below(len(_TRACKED))] if r.below(2) else r.below(256)
        ln = (0, 1, 2, 4, 7, r.below(256))[r.below(6)]
        val = bytes(r.below(256) for _ in range(ln))
        pos = 240 + r.below(max(1, len(m) - 240))
        m[pos:pos] = bytes((c, ln)) + val
    elif op == 8 and n >= 44:                            # another client (chaddr, htype, hlen)
        c = fc.CLIENTS[r.below(len(fc.CLIENTS))]
        m[28:34] = k.mac(c)
        if r.below(4) == 0:
            m[1] = r.below(256)
            m[2] = (6, 16, 0, 17, 255, r.below(256))[r.below(6)]
    elif op == 9 and n >= 28:                            # addresses: ciaddr, giaddr or option 50
        a = pool[r.below(len(pool))] if r.below(3) else bytes(r.below(256) for _ in range(4))
        where = r.below(3)
        if where == 0:
            m[12:16] = a
        elif where == 1:
            m[24:28] = a
        else:
            m[240:240] = bytes((50, 4)) + a
    elif op == 10:                                       # END removed, field closed by the end
        while m and m[-1] == 0:
            m = m[:-1]
        if m and m[-1] == 255:
            m = m[:-1]
    elif op == 11:                                       # grown, maybe past RX_MAX
        m.extend(bytes(r.below(256) for _ in range(r.below(64))))
        if r.below(8) == 0:
            m.extend(bytes(1500))
    elif op == 12:                                       # message type
        for pos, c, ln in _options(m):
            if c == 53 and ln >= 1 and pos + 2 < len(m):
                m[pos + 2] = r.below(10)
                break
    elif op == 13 and n > 240:                           # header garbage
        p = r.below(240)
        m[p] = r.below(256)
    elif op == 14 and n >= 240:                          # lease time, max size extremes
        c = (51, 57)[r.below(2)]
        v = (b"\xff\xff\xff\xff", b"\x3f\xff\xff\xff", b"\x00\x00\x00\x00", b"\xff\xff", b"\x02\x40", b"\x00\x01")
        m[240:240] = bytes((c, 0)) + v[r.below(len(v))]
        m[241] = 4 if c == 51 else 2
    return m


def _locked_handle(e, data, now, tx):
    _lock()
    try:
        n = e.handle(data, now, tx)
    finally:
        _unlock()
    return n


def fuzz(seed, count, variant):
    r = k.Lcg(seed)
    e = fc.make_engine(variant)
    base = fc.seeds()
    # Warm-up outside the lock: the first reply sizes the zero-fill buffer (construction-time work).
    e.handle(k.msg(k.INFORM, 1, ()), 0, e.tx)
    handle = _locked_handle if _lock is not None else None
    pool = fc.POOL + [k.ip("192.168.4.50"), k.ip("192.168.4.51"), k.ip("192.168.4.12")]
    replies = 0
    for i in range(count):
        m = base[r.below(len(base))]
        if r.below(8) == 0:                               # splice two seeds
            other = base[r.below(len(base))]
            cut = r.below(len(m))
            m = m[:cut] + other[cut:]
        for _ in range(r.below(3) + (1 if r.below(4) else 0)):
            m = mutate(r, m, pool)
        step = (0, 0, 1, 1, 2, 5, 30, 200)[r.below(8)]
        try:
            n = fc.run_one(e, bytes(m), step, handle)
        except Exception as exc:
            print("mutation fuzz: input %d (seed %d, variant %d) failed: %r" % (i, seed, variant, exc))
            print("input:", bytes(m[:400]), len(m))
            raise
        if n:
            replies += 1
        # Now and then, let the valid seeds through so that the table fills and empties.
        if r.below(4) == 0:
            fc.run_one(e, bytes(base[r.below(len(base))]), 0, handle)
    return e, replies


def test_mutation_fuzz_persistent_engine():
    e, replies = fuzz(12345, N_INPUTS, 0)
    assert replies > N_INPUTS // 20, replies      # mutants still reach the reply paths
    s = status.stats(e)
    assert s["offer"] and s["ack"] and s["nak"]
    assert s["bad_option"] + s["bad_option_len"] + s["short"] + s["no_msg_type"] > 0


def test_mutation_fuzz_other_variants():
    fuzz(777, N_INPUTS // 3, 1)
    fuzz(4242, N_INPUTS // 3, 2)


CORPUS_DIR = _HERE + "/../fuzz_corpus"


def _crash_files(d=CRASH_DIR, suffix=""):
    try:
        names = os.listdir(d)
    except OSError:
        return []
    return sorted(d + "/" + f for f in names if not f.startswith(".") and not f.endswith(".md") and f.endswith(suffix))


def test_replay_seed_corpus():
    # The atheris corpus (tools/fuzz_atheris.py --make-corpus: whole conversations, each variant)
    # replays through the same path as the crash fixtures below, invariants checked after every
    # message, and each conversation gets its replies: the replay path works before it meets a
    # crash file (there may be none). A lone seed message may rightly get none (a RELEASE, a
    # REQUEST for a lease this fresh engine never gave); the seeds together get many.
    files = _crash_files(CORPUS_DIR, ".bin")
    assert len(files) >= 100, files[:3]
    seed_replies = 0
    for path in files:
        f = open(path, "rb")
        data = f.read()
        f.close()
        e = fc.run_input(data)
        if "/conv-" in path:
            assert e.replies > 0, path
        else:
            seed_replies += e.replies
    assert seed_replies > len(files) // 4, seed_replies


def test_replay_crash_fixtures():
    # Every input that once broke the engine (saved by tools/fuzz_atheris.py) stays fixed: on a
    # fresh engine of its variant and on each variant after the valid seeds ran.
    handle = _locked_handle if _lock is not None else None
    for path in _crash_files():
        f = open(path, "rb")
        data = f.read()
        f.close()
        fc.run_input(data)
        for v in range(len(fc.VARIANTS)):
            e = fc.make_engine(v)
            e.handle(k.msg(k.INFORM, 1, ()), 0, e.tx)
            for m in fc.seeds():
                fc.run_one(e, m, 1)
            fc.run_input(data, e, handle)
