# Seeded mutation fuzzing of the DNS responder (issue 14), both runtimes, in the manner of
# test_fuzz_mutation.py for the DHCP engine: valid queries bit-flipped, cut, grown, given lying
# counts, pointers and label lengths. handle() never raises, every reply passes
# dnskit.check_reply, and under MicroPython each handle() runs with micropython.heap_lock() held.
# Crash fixtures saved by tools/fuzz_dns_atheris.py (host_tests/fuzz_corpus/dns_crashes/) are replayed.
import os
import dnskit as d
import harness as h
# The DHCP mutation fuzzer's plumbing: the heap-lock pair, the folder and the input count.
from dhcpkit import Lcg
from test_fuzz_mutation import _lock, _unlock, _HERE, N_INPUTS
from microdhcp import dns

CRASH_DIR = _HERE + "/../fuzz_corpus/dns_crashes"
_INTERESTING = (0, 1, 2, 3, 12, 13, 41, 63, 64, 127, 128, 191, 192, 193, 254, 255)


def seeds():
    q = d.query
    return [q("example.com"), q("sensor-1.lan", d.AAAA), q("sensor-1"), q("microdhcp.lan", edns=True),
            q("a.b.c.d.e.f", d.ANY, qid=7, rd=False), q("version.bind", d.TXT, d.CH),
            q("x", edns=True, edns_version=1), q("1.4.168.192.in-addr.arpa", d.PTR),
            q("20.4.168.192.IN-ADDR.ARPA", d.PTR), q("10.4.168.192.in-addr.arpa", d.PTR), q("printer.lan"),
            q("app.localhost"), q("x.invalid", d.AAAA), q("arpa", 6)]


def mutate(r, m):
    m = bytearray(m)
    n = len(m)
    op = r.below(9)
    if op == 0 and n:                                   # bit flip
        m[r.below(n)] ^= 1 << r.below(8)
    elif op == 1 and n:                                 # interesting byte
        m[r.below(n)] = _INTERESTING[r.below(len(_INTERESTING))]
    elif op == 2:                                       # truncation
        m = m[:r.below(n + 1)]
    elif op == 3 and n >= 12:                           # lying counts
        i = 4 + 2 * r.below(4)
        m[i] = (0, 0, 0, 255, r.below(256))[r.below(5)]
        m[i + 1] = (0, 1, 2, 255, r.below(256))[r.below(5)]
    elif op == 4 and n > 12:                            # a compression pointer somewhere
        p = 12 + r.below(n - 12)
        m[p:p] = bytes((0xC0 | r.below(4), (12, 13, p, p + 2, r.below(256))[r.below(5)] & 255))
    elif op == 5:                                       # grown, maybe past 512
        m.extend(bytes(r.below(256) for _ in range(r.below(40))))
        if r.below(8) == 0:
            m.extend(bytes(600))
    elif op == 6 and n > 12:                            # label length lie
        p = 12 + r.below(n - 12)
        m[p] = (0, 1, 63, 64, 200, r.below(256))[r.below(6)]
    elif op == 7 and n >= 4:                            # flags: QR, opcode, Z, RCODE
        m[2] = r.below(256)
        if r.below(2):
            m[3] = r.below(256)
    elif op == 8 and n > 12:                            # an extra record appended, counted or not
        rec = bytes((0xC0, 12, 0, (1, 41, 28)[r.below(3)], 0, 1, 0, 0, 0, 0, 0, r.below(8))) + bytes(r.below(8))
        m.extend(rec)
        if r.below(2):
            m[11] = (m[11] + 1) & 255
    return m


def run_one(r, tx, m):
    n = len(m)
    if n > dns.RX_SIZE:
        n = dns.RX_SIZE      # what the socket shell's receive buffer keeps of a longer datagram
    b = r.rx
    b[0:n] = m[:n]
    if _lock is not None:
        _lock()
        try:
            k = r.handle(b, n, tx)
        finally:
            _unlock()
    else:
        k = r.handle(b, n, tx)
    return d.check_reply(m, bytes(tx[:k]))


def responders():
    e = h.engine()
    h.dora(e, 1, options=((12, b"sensor-1"),))
    hosts = [("printer", "192.168.4.20")]
    return [dns.Responder(dns.CAPTIVE, h.SERVER, hosts=hosts),
            dns.Responder(dns.NAMES, h.SERVER, engine=e, domain="lan", hosts=hosts)]


def fuzz(seed, count):
    rng = Lcg(seed)
    base = seeds()
    tx = bytearray(512)
    out = []
    for r in responders():
        replies = 0
        for i in range(count):
            m = base[rng.below(len(base))]
            for _ in range(1 + rng.below(3)):
                m = mutate(rng, m)
            try:
                p = run_one(r, tx, bytes(m))
            except Exception as exc:
                print("dns mutation fuzz: input %d (seed %d) failed: %r" % (i, seed, exc))
                print("input:", bytes(m), len(m))
                raise
            if p is not None:
                replies += 1
        out.append((r, replies))
    return out


def test_dns_mutation_fuzz():
    for r, replies in fuzz(2024, N_INPUTS // 2):
        s = r.stats()
        assert replies > N_INPUTS // 8, replies            # mutants still reach the reply paths
        assert s["answered"] and s["formerr"] and s["dropped"], s


def test_dns_replay_crash_fixtures():
    # Every input saved by tools/fuzz_dns_atheris.py, on both modes; the seeds first, which must
    # each get a reply that passes the checks (so the replay path itself is known to work).
    tx = bytearray(512)
    for r in responders():
        for q in seeds():
            assert run_one(r, tx, q) is not None, q
    try:
        names = sorted(os.listdir(CRASH_DIR))
    except OSError:
        names = []
    for f in names:
        if f.startswith(".") or f.endswith(".md"):
            continue
        fh = open(CRASH_DIR + "/" + f, "rb")
        data = fh.read()
        fh.close()
        for r in responders():
            run_one(r, tx, data)
