# invariants: whole-table consistency checks and reply checks shared by the fuzzers, the hijack,
# flood and churn tests (both runtimes) and tools/fuzz_atheris.py. Test-side: allocates freely.
import dhcpkit as k
from microdhcp.codes import (FREE, OFFERED, BOUND, RELEASED, EXPIRED, DECLINED, RESERVED,
                              F_RESERVED, HW_SIZE, NEVER)

# The table layout (leases.py), restated here: flags bits, arena cell size.
_F_KEY_HW = 2
_F_KEY_ARENA = 4
_CELL = 20


def h24(b, pos, n, h):
    # leases.h24, repeated here so that checks do not run (and count as coverage of) engine code.
    for i in range(pos, pos + n):
        h = ((h * 33) ^ b[i]) & 0xFFFFFF
    return h


def chain(t, s):
    # Arena cells of slot s's key, in order ([] when its key is not in the arena).
    if not t.flags[s] & _F_KEY_ARENA:
        return []
    out = [t.aref[s] - 1]
    while t.cnext[out[-1]] != t.cnil:
        assert len(out) <= t.ncells, "arena chain of slot %d cycles" % s
        out.append(t.cnext[out[-1]])
    return out


def key_of(t, s):
    # Slot s's identity as length byte + bytes (b"\0": none), read from the layout directly.
    f = t.flags[s]
    if f & _F_KEY_HW:
        n = (f >> 3) + 1
        return bytes([n]) + bytes(t.hw[s * HW_SIZE:s * HW_SIZE + n])
    if not f & _F_KEY_ARENA:
        return b"\0"
    data = b"".join(bytes(t.cells[c * _CELL:(c + 1) * _CELL]) for c in chain(t, s))
    return data[:1 + data[0]]


def home(h, shift):
    # leases.home, repeated: Fibonacci hashing of the 24-bit hash in 12-bit halves.
    p = (h * 0x9E3779) & 0xFFFFFF
    return p >> shift


def find(t, key, h):
    # leases.LeaseTable.find, repeated for the same reason: slot holding `key` or -1.
    i = home(h, t.ishift)
    while True:
        e = t.index[i]
        if e == 0:
            return -1
        s = e - 1
        if key_of(t, s) == key:
            return s
        i = (i + 1) & t.imask


def kbuf_key(e):
    # The engine's current identity buffer, cut to its length.
    return bytes(e.kbuf[:1 + e.kbuf[0]])
_AVAILABLE = (FREE, RELEASED, EXPIRED)


def key_form(key):
    # A configured reservation key as key_of reads it.
    return bytes([len(key)]) + bytes(key)


def sizes(e):
    # Lengths of every table array (they must never change while serving).
    t = e.table
    return (len(t.state), len(t.flags), len(t.expiry), len(t.cells), len(t.cnext), len(t.aref), len(t.hw), len(t.host),
            len(t.index), len(t.nxt), len(t.prv), len(t.heap), len(t.hpos), len(e.req.work), len(e.counters))


def check(e, now=None, base_sizes=None):
    """Asserts every table invariant; `now`: the time of the last handle/tick (no timer is due)."""
    t = e.table
    cap = t.capacity
    if base_sizes is not None:
        assert sizes(e) == base_sizes, "table arrays changed length: %r -> %r" % (base_sizes, sizes(e))
    assert len(t.state) == cap and len(t.aref) == cap and len(t.hw) == cap * HW_SIZE
    # Keys: unique across slots (one client, one slot; one live address per client), each one
    # findable through the index, and the index holds exactly the keyed slots.
    seen = {}
    offered = 0
    for s in range(cap):
        st = t.state[s]
        assert st <= RESERVED, "slot %d bad state %d" % (s, st)
        if st == OFFERED:
            offered += 1
        key = key_of(t, s)
        assert t.flags[s] & 6 != 6, "slot %d key both in hw and arena" % s
        assert (t.aref[s] != 0) == (t.flags[s] & _F_KEY_ARENA != 0), "slot %d arena ref" % s
        if key[0]:
            assert key not in seen, "slots %d and %d hold one client key %r (states %d, %d)" % (
                seen[key], s, key, t.state[seen[key]], st)
            seen[key] = s
            h = h24(key, 1, key[0], 5381)
            assert find(t, key, h) == s, "slot %d key not found through the index" % s
        if st == OFFERED or st == BOUND:
            assert key[0], "slot %d is %d without a client key" % (s, st)
        if t.flags[s] & F_RESERVED:
            assert st in (RESERVED, OFFERED, BOUND, DECLINED), "reserved slot %d in state %d" % (s, st)
        else:
            assert st != RESERVED, "slot %d reserved without a reservation" % s
        if s >= t.pool_size:
            assert t.flags[s] & F_RESERVED, "slot %d outside the pool without a reservation" % s
    used = sum(1 for v in t.index if v)
    assert used == len(seen), "index holds %d entries for %d keyed slots" % (used, len(seen))
    # Arena: every cell either free (once) or in exactly one key's chain; spare = cells of keys
    # of slots in the free list.
    owner = {}
    for s in range(cap):
        for c in chain(t, s):
            assert c not in owner, "arena cell %d in the keys of slots %d and %d" % (c, owner[c], s)
            owner[c] = s
    c = t.cfree
    nfree = 0
    while c != t.cnil:
        assert c not in owner, "arena cell %d both free and used by slot %s" % (c, owner.get(c))
        owner[c] = -1
        nfree += 1
        c = t.cnext[c]
    assert nfree == t.nfree, "free cells %d, counted %d" % (nfree, t.nfree)
    assert len(owner) == t.ncells, "arena cells lost: %d of %d accounted" % (len(owner), t.ncells)
    assert e.n_offered == offered, "n_offered %d but %d slots offered" % (e.n_offered, offered)
    # Reservations: the slot keeps the configured client for good.
    for key, off in e.cfg.reservations:
        s = off - t.pool_first if 0 <= off - t.pool_first < t.pool_size else t.pool_size + list(t.extra).index(off)
        assert t.flags[s] & F_RESERVED
        assert key_of(t, s) == key_form(key), \
            "reserved address %d went to another client" % off
    # Free list: exactly the available, unreserved slots, each once, prv/nxt consistent.
    fl = []
    s = t.head
    prev = t.nil
    while s != t.nil:
        assert len(fl) <= cap, "free list cycles"
        assert t.prv[s] == prev, "free list prv broken at %d" % s
        fl.append(s)
        prev = s
        s = t.nxt[s]
    assert t.tail == prev, "free list tail"
    want = [s for s in range(cap) if t.state[s] in _AVAILABLE]
    assert sorted(fl) == want, "free list %r != available slots %r" % (sorted(fl), want)
    spare = sum(len(chain(t, s)) for s in fl)
    assert spare == t.spare, "spare cells %d, counted %d" % (spare, t.spare)
    assert len(set(fl)) == len(fl)
    # Timers: a heap over exactly the offered, bound and declined slots.
    assert 0 <= t.hsize <= cap
    timed = []
    for i in range(t.hsize):
        s = t.heap[i]
        assert t.hpos[s] == i + 1, "heap position of slot %d" % s
        if i:
            assert t.expiry[t.heap[(i - 1) >> 1]] <= t.expiry[s], "heap order at %d" % i
        timed.append(s)
    for s in range(cap):
        if t.hpos[s]:
            assert t.heap[t.hpos[s] - 1] == s
    want = [s for s in range(cap) if t.state[s] in (OFFERED, BOUND, DECLINED)]
    assert sorted(timed) == want, "timed slots %r != live slots %r" % (sorted(timed), want)
    for s in timed:
        # At most NEVER: a hold or a lease that would end past it is held at NEVER (engine
        # _discover, _decline, _bind), a timer that never fires; beyond it a board's int is heap.
        assert t.expiry[s] <= NEVER, "slot %d timed at %d, past NEVER" % (s, t.expiry[s])
        if now is not None:
            # due once its second is past (leases.next_due): live through second expiry
            assert t.expiry[s] >= now, "slot %d due at %d still live at %d" % (s, t.expiry[s], now)
    return True


def _slot_of(e, addr):
    # Slot of a 4-byte address of our subnet, or -1 (without running engine code).
    cfg = e.cfg
    t = e.table
    off = 0
    for i in range(4):
        if addr[i] & cfg.mask[i] != cfg.network[i]:
            return -1
        off = (off << 8) | (addr[i] & ~cfg.mask[i] & 255)
    if 0 <= off - t.pool_first < t.pool_size:
        return off - t.pool_first
    ex = list(t.extra)
    return t.pool_size + ex.index(off) if off in ex else -1


def live(e):
    # {slot: (state, key, expiry)} of offered and bound slots: what a victim would lose.
    t = e.table
    out = {}
    for s in range(t.capacity):
        if t.state[s] in (OFFERED, BOUND):
            out[s] = (t.state[s], key_of(t, s), t.expiry[s])
    return out


def slot_view(e, s):
    t = e.table
    return (t.state[s], key_of(t, s), t.expiry[s],
            bytes(t.hw[s * HW_SIZE:(s + 1) * HW_SIZE]), t.flags[s] >> 3)


def check_reply(e, data, n, tx):
    """A reply of n bytes in tx to the request `data`: well formed for our own parser, built
    as RFC 2131 Table 3 says. Returns the parsed reply."""
    assert 300 <= n <= len(tx), "reply length %d" % n
    assert tx[n:] == bytes(len(tx) - n), "bytes past the reply are not zero"
    r = k.parse(tx, n)
    assert r["op"] == 2
    assert r["type"] in (k.OFFER, k.ACK, k.NAK), r["type"]
    assert r["order"][0] == 53, "option 53 not first"
    assert r["options"][54] == e.server, "server id"
    rx = e.rx
    assert r["xid"] == bytes(rx[4:8]) and r["htype"] == rx[1] and r["hlen"] == rx[2]
    assert r["chaddr"] == bytes(rx[28:44]) and r["giaddr"] == bytes(rx[24:28])
    if r["type"] != k.NAK and r["yiaddr"] != b"\0\0\0\0":
        s = _slot_of(e, r["yiaddr"])
        assert s >= 0, "yiaddr outside the table"
        assert e.table.state[s] in (OFFERED, BOUND), "yiaddr %r in state %d" % (r["yiaddr"], e.table.state[s])
        # The address handed out is keyed to the client that asked (so never another's reservation).
        assert key_of(e.table, s) == kbuf_key(e), "yiaddr %r is keyed to another client" % (r["yiaddr"],)
    lim = 576 - 28
    # Sizes: never more than the client may take (RFC 2131 2, RFC 2132 9.10).
    if e.req.cnt[6]:
        o = e.req.off[6]
        v = (rx[o] << 8) | rx[o + 1]
        if v > 576:
            lim = v - 28
    assert n <= max(300, min(lim, len(tx))), "reply %d bytes over the client's limit %d" % (n, lim)
    return r
