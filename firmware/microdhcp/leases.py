# microdhcp.leases: the lease table. One slot per pool address (plus one per reservation outside
# the pool), every field in a preallocated bytearray or array; no per-lease objects, nothing
# grows while serving. A client is found through an open-addressing hash index, an address by
# arithmetic, the next free address from a linked list and the next expiry from a binary heap,
# so no operation scans the table.
try:
    from micropython import const
except ImportError:
    def const(x):
        return x

from array import array

# Slot states. FREE, RELEASED and EXPIRED slots are available (in the free list); a FREE slot
# with a key remembers an offer that lapsed, RELEASED/EXPIRED remember the last client.
FREE = const(0)
OFFERED = const(1)
BOUND = const(2)
RELEASED = const(3)
EXPIRED = const(4)
DECLINED = const(5)
RESERVED = const(6)
STATE_NAMES = ("free", "offered", "bound", "released", "expired", "declined", "reserved")

F_RESERVED = const(1)    # flags bit: a static reservation owns this slot for good

KEY_SIZE = const(20)     # length byte + 19 bytes of identity (section 4.2 client identity)
_KEY_ROOM = const(19)
_KEY_HEAD = const(16)    # a longer identity keeps 16 bytes and a 24-bit hash of the whole
HW_SIZE = const(18)      # htype, hlen, chaddr[16]
NEVER = const(0x3FFFFFFF)  # "no expiry", the largest small int on 32-bit ports
_NIL = const(0xFFFF)
_ZKEY = bytes(KEY_SIZE)


def h24(b, pos, n, h):
    # Bernstein-style hash kept below 2**24 so that it never leaves the small-int range.
    for i in range(pos, pos + n):
        h = ((h * 33) ^ b[i]) & 0xFFFFFF
    return h


class LeaseTable:
    def __init__(self, pool_first, pool_size, extra_offsets, hostname_len):
        cap = pool_size + len(extra_offsets)
        self.capacity = cap
        self.pool_first = pool_first
        self.pool_size = pool_size
        self.extra = array("i", extra_offsets)   # sorted host offsets of reservations outside the pool
        self.state = bytearray(cap)
        self.flags = bytearray(cap)
        self.expiry = array("i", [0] * cap)
        self.keys = bytearray(cap * KEY_SIZE)
        self.khash = array("H", [0] * cap)
        self.hw = bytearray(cap * HW_SIZE)
        self.host_len = hostname_len + 1
        self.host = bytearray(cap * self.host_len)
        # Client index: open addressing, linear probing, at most half full; entries are slot + 1.
        m = 8
        while m < 2 * cap:
            m <<= 1
        self.imask = m - 1
        self.index = array("H", [0] * m)
        # Free list (doubly linked, oldest first) and expiry heap (min by expiry).
        self.nxt = array("H", [_NIL] * cap)
        self.prv = array("H", [_NIL] * cap)
        self.head = _NIL
        self.tail = _NIL
        self.heap = array("H", [0] * cap)
        self.hpos = array("H", [0] * cap)       # heap position + 1, 0 = not timed
        self.hsize = 0
        for s in range(cap):
            self.state[s] = FREE
        for s in range(pool_size):
            self.push_tail(s)

    def bytes_per_lease(self):
        # Everything allocated per slot, index included (the index is 2-4 bytes per slot).
        total = (len(self.state) + len(self.flags) + 4 * len(self.expiry) + len(self.keys)
                 + 2 * len(self.khash) + len(self.hw) + len(self.host) + 2 * len(self.index)
                 + 2 * (len(self.nxt) + len(self.prv) + len(self.heap) + len(self.hpos)))
        return total // self.capacity

    # --- addresses -------------------------------------------------------------------------
    def slot_of(self, off):
        # Host offset -> slot, or -1 when the address is neither in the pool nor reserved.
        if off < 0:
            return -1
        k = off - self.pool_first
        if 0 <= k < self.pool_size:
            return k
        ex = self.extra
        lo = 0
        hi = len(ex) - 1
        while lo <= hi:
            mid = (lo + hi) >> 1
            v = ex[mid]
            if v == off:
                return self.pool_size + mid
            if v < off:
                lo = mid + 1
            else:
                hi = mid - 1
        return -1

    def offset_of(self, s):
        if s < self.pool_size:
            return self.pool_first + s
        return self.extra[s - self.pool_size]

    # --- client keys -----------------------------------------------------------------------
    def has_key(self, s):
        return self.keys[s * KEY_SIZE] != 0

    def key_equals(self, s, kb):
        # kb is a KEY_SIZE bytearray in the same form as stored.
        keys = self.keys
        p = s * KEY_SIZE
        n = kb[0]
        if keys[p] != n:
            return False
        if n > _KEY_ROOM:
            n = _KEY_ROOM
        for i in range(1, n + 1):
            if keys[p + i] != kb[i]:
                return False
        return True

    def find(self, kb, h):
        # Slot whose key equals kb (hash h), or -1.
        idx = self.index
        m = self.imask
        i = h & m
        h16 = h & 0xFFFF
        while True:
            e = idx[i]
            if e == 0:
                return -1
            s = e - 1
            if self.khash[s] == h16 and self.key_equals(s, kb):
                return s
            i = (i + 1) & m

    def set_key(self, s, kb, h):
        if self.keys[s * KEY_SIZE]:
            self.clear_key(s)
        p = s * KEY_SIZE
        self.keys[p:p + KEY_SIZE] = kb      # slice store: one copy, no allocation
        self.khash[s] = h & 0xFFFF
        idx = self.index
        m = self.imask
        i = h & m
        while idx[i]:
            i = (i + 1) & m
        idx[i] = s + 1

    def clear_key(self, s):
        # Backward-shift deletion keeps every probe chain unbroken without tombstones.
        keys = self.keys
        p = s * KEY_SIZE
        if keys[p] == 0:
            return
        keys[p:p + KEY_SIZE] = _ZKEY
        idx = self.index
        m = self.imask
        i = self.khash[s] & m
        while idx[i] != s + 1:
            i = (i + 1) & m
        j = i
        while True:
            j = (j + 1) & m
            e = idx[j]
            if e == 0:
                break
            home = self.khash[e - 1] & m
            # Move e back into hole i unless its home lies cyclically in (i, j].
            if (j > i and (home <= i or home > j)) or (j < i and (home <= i and home > j)):
                idx[i] = e
                i = j
        idx[i] = 0
        self.khash[s] = 0

    # --- free list -------------------------------------------------------------------------
    def in_list(self, s):
        return self.prv[s] != _NIL or self.head == s

    def push_tail(self, s):
        self.prv[s] = self.tail
        self.nxt[s] = _NIL
        if self.tail == _NIL:
            self.head = s
        else:
            self.nxt[self.tail] = s
        self.tail = s

    def unlink(self, s):
        if not self.in_list(s):
            return
        p = self.prv[s]
        n = self.nxt[s]
        if p == _NIL:
            self.head = n
        else:
            self.nxt[p] = n
        if n == _NIL:
            self.tail = p
        else:
            self.prv[n] = p
        self.prv[s] = _NIL
        self.nxt[s] = _NIL

    def first_free(self):
        h = self.head
        return -1 if h == _NIL else h

    # --- expiry heap -----------------------------------------------------------------------
    def set_timer(self, s, t):
        self.expiry[s] = t
        hp = self.hpos
        if hp[s]:
            i = hp[s] - 1
            self._up(i)
            self._down(hp[s] - 1)
        else:
            i = self.hsize
            self.hsize = i + 1
            self.heap[i] = s
            hp[s] = i + 1
            self._up(i)

    def clear_timer(self, s):
        hp = self.hpos
        if not hp[s]:
            return
        i = hp[s] - 1
        hp[s] = 0
        last = self.hsize - 1
        self.hsize = last
        if i != last:
            m = self.heap[last]
            self.heap[i] = m
            hp[m] = i + 1
            self._up(i)
            self._down(hp[m] - 1)

    def next_due(self, now):
        # Slot whose timer is due at `now`, or -1.
        if self.hsize and self.expiry[self.heap[0]] <= now:
            return self.heap[0]
        return -1

    def _up(self, i):
        heap = self.heap
        hp = self.hpos
        ex = self.expiry
        s = heap[i]
        t = ex[s]
        while i:
            p = (i - 1) >> 1
            ps = heap[p]
            if ex[ps] <= t:
                break
            heap[i] = ps
            hp[ps] = i + 1
            i = p
        heap[i] = s
        hp[s] = i + 1

    def _down(self, i):
        heap = self.heap
        hp = self.hpos
        ex = self.expiry
        n = self.hsize
        s = heap[i]
        t = ex[s]
        while True:
            c = 2 * i + 1
            if c >= n:
                break
            if c + 1 < n and ex[heap[c + 1]] < ex[heap[c]]:
                c += 1
            cs = heap[c]
            if ex[cs] >= t:
                break
            heap[i] = cs
            hp[cs] = i + 1
            i = c
        heap[i] = s
        hp[s] = i + 1
