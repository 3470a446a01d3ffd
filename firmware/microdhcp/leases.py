# MIT license; Copyright (c) 2026 the microdhcp authors
# microdhcp.leases: the lease table. One slot per pool address (plus one per reservation outside
# the pool), every field in a preallocated bytearray or array; no per-lease objects, nothing
# grows while serving. A client is found through an open-addressing hash index, an address by
# arithmetic, the next free address from a linked list and the next expiry from a binary heap,
# so no operation scans the table (the one walk, when the client-id arena is full, is bounded
# by the free list and happens only on that path).
#
# Client identity (RFC 2131 4.2: option 61 if present, else htype + chaddr) is kept whole, never
# as a hash, so two clients are never confused. Most identities equal the hardware address the
# slot keeps anyway (no option 61, or option 61 = htype 1 + the 6-byte chaddr, RFC 2132 9.14):
# those cost nothing beyond the 7-byte hardware field (flag _F_KEY_HW). Any other identity lives
# in a shared arena of _CELL-byte cells, chained (flag _F_KEY_ARENA, aref = first cell + 1).
try:
    from micropython import const
except ImportError:
    def const(x):
        return x

from array import array

# The table's public numbers (slot states, F_RESERVED, HW_SIZE, HW_ROOM, MAX_ID, KEY_SIZE, NEVER)
# are in microdhcp.codes; this module compiles private copies of those it uses
# (host_tests/core/test_fastpaths.py checks each against its twin), and __getattr__ below still answers `leases.BOUND`.
# Slot states. FREE, RELEASED and EXPIRED slots are available (in the free list); a FREE slot
# with a key remembers an offer that lapsed, RELEASED/EXPIRED remember the last client.
_FREE = const(0)
_RELEASED = const(3)
_EXPIRED = const(4)
_RESERVED = const(6)

# flags byte: bit 0 reservation, bits 1-2 where the key is, bits 3-7 hlen of the kept chaddr.
_F_RESERVED = const(1)    # a static reservation owns this slot for good
_F_KEY_HW = const(2)      # the identity is hw[0] (htype) + hw[1:1 + hlen]: no arena cells
_F_KEY_ARENA = const(4)   # the identity is in the arena, chain from cell aref[s] - 1
_F_KEYED = const(6)
_HLEN_SHIFT = const(3)
_HW_SIZE = const(7)       # htype + the first 6 bytes of chaddr (Ethernet and Wi-Fi use 6)
_HW_ROOM = const(6)
_CELL = const(20)         # arena cell: first cell = length byte + 19 bytes, then 20 bytes a cell
_CELL_HEAD = const(19)
# h24's start for a client key: every key hash begins here (identity.py, fast.py: written out)
H24_SEED = const(5381)
_COPY = const(0)    # _arena_walk's three uses of one chain walk
_SAME = const(1)
_HASH = const(2)


def __getattr__(name):
    # `from microdhcp.leases import BOUND` (0.1 code) still works: the public numbers are looked
    # up in microdhcp.codes when asked for, not kept in this module's dict (as engine.py does).
    import microdhcp.codes
    return getattr(microdhcp.codes, name)


def h24(b, pos, n, h):
    # Bernstein-style hash kept below 2**24 so that it never leaves the small-int range.
    for i in range(pos, pos + n):
        h = ((h * 33) ^ b[i]) & 0xFFFFFF
    return h


def key_hash(kb):
    # The index hash of a key in the engine's form (length byte, then the identity).
    return h24(kb, 1, kb[0], H24_SEED)


def home(h, shift):
    # Index bucket of hash h: the top bits of h * 0x9E3779 mod 2**24 (Fibonacci hashing), the
    # product taken in 12-bit halves so that no step reaches 2**30. h24's low bits follow the
    # last byte of the identity, so consecutive MACs would take consecutive buckets and one
    # long run would make every miss probe through it (a per-packet cost growing with the table).
    lo = h & 0xFFF
    p = lo * 0x779 + ((((lo * 0x9E3) + ((h >> 12) * 0x779)) & 0xFFF) << 12)
    return (p & 0xFFFFFF) >> shift


def cells_for(n):
    # Arena cells an identity of n bytes takes.
    if n <= _CELL_HEAD:
        return 1
    return 1 + (n - _CELL_HEAD + _CELL - 1) // _CELL


def default_id_cells(cap):
    # One cell for every second slot: room for half the clients to use a long RFC 4361 id
    # (0xff + IAID + DUID, 15-19 bytes for DUID-LL/-LLT/-EN: one cell each) while live.
    return (cap + 1) // 2


def _slots(n, wide, ff):
    # n slot numbers (or cell numbers), all 0 or all 0xFF ("none"): a bytearray when they fit a
    # byte (made at its size, no temporary), else an array "H" made from a bytes object of its
    # size. Construction only.
    if not wide:
        a = bytearray(n)
        if ff:
            for i in range(n):
                a[i] = 255
        return a
    return array("H", (b"\xff" if ff else b"\0") * (2 * n))


class LeaseTable:
    def __init__(self, pool_first, pool_size, extra_offsets, hostname_len, id_cells=None):
        cap = pool_size + len(extra_offsets)
        self.capacity = cap
        self.pool_first = pool_first
        self.pool_size = pool_size
        # Slot numbers fit a byte below 255 slots (255 is the list end): half the index and lists.
        self.wide = cap >= 255
        nil = 0xFFFF if self.wide else 255
        self.nil = nil
        self.extra = array("i", extra_offsets)   # sorted host offsets of reservations outside the pool
        self.state = bytearray(cap)
        self.flags = bytearray(cap)
        # An array made from a zero bytes object of its own size: less garbage than a list of
        # ints (4-8 bytes an item) and the same contents on both runtimes.
        self.expiry = array("i", bytes(4 * cap))
        self.hw = bytearray(cap * _HW_SIZE)
        self.host_len = hostname_len + 1
        self.host = bytearray(cap * self.host_len)
        # Client-id arena: cells chained by cnext, which also links the free cells.
        if id_cells is None:
            id_cells = default_id_cells(cap)
        self.ncells = id_cells
        self.cwide = id_cells >= 255
        self.cnil = 0xFFFF if self.cwide else 255
        self.cells = bytearray(id_cells * _CELL)
        self.cnext = _slots(id_cells, self.cwide, True)
        for c in range(id_cells - 1):
            self.cnext[c] = c + 1
        self.cfree = 0 if id_cells else self.cnil
        self.nfree = id_cells     # cells in the free chain
        self.spare = 0            # cells held by keys of slots in the free list (can be reclaimed)
        self.evicted = 0          # remembered ids dropped to make room (see reclaim)
        self.aref = _slots(cap, self.cwide, False)
        # Client index: open addressing, linear probing, at most 2/3 full (about 5 probes for a
        # miss at worst, 2 at half full); entries are slot + 1.
        m = 8
        shift = 21
        while m < cap + (cap >> 1):
            m <<= 1
            shift -= 1
        self.imask = m - 1
        self.ishift = shift
        self.index = _slots(m, self.wide, False)
        # Free list (doubly linked, oldest first) and expiry heap (min by expiry).
        self.nxt = _slots(cap, self.wide, True)
        self.prv = _slots(cap, self.wide, True)
        self.head = nil
        self.tail = nil
        self.heap = _slots(cap, self.wide, False)
        self.hpos = _slots(cap, self.wide, False)    # heap position + 1, 0 = not timed
        self.hsize = 0
        for s in range(pool_size):
            self.push_tail(s)

    def bytes_per_lease(self):
        # Everything whose size follows the capacity (index, lists, heap and arena included),
        # rounded up; the fixed attributes of the object are not counted.
        w = 2 if self.wide else 1
        wc = 2 if self.cwide else 1
        total = (len(self.state) + len(self.flags) + 4 * len(self.expiry) + len(self.hw) + len(self.host)
                 + 4 * len(self.extra) + w * (len(self.index) + len(self.nxt) + len(self.prv) + len(self.heap)
                                              + len(self.hpos))
                 + wc * (len(self.aref) + len(self.cnext)) + len(self.cells))
        return (total + self.capacity - 1) // self.capacity

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

    # --- hardware address ------------------------------------------------------------------
    def set_hw(self, s, htype, hlen, src, pos):
        # Keeps htype, hlen and chaddr (src[pos:pos + hlen], the first 6 bytes of it). Never call
        # it on a slot whose key is _F_KEY_HW for another address (set_key after, not before).
        hw = self.hw
        p = s * _HW_SIZE
        hw[p] = htype
        n = hlen if hlen < _HW_ROOM else _HW_ROOM
        for i in range(n):
            hw[p + 1 + i] = src[pos + i]
        self.flags[s] = (self.flags[s] & 7) | (hlen << _HLEN_SHIFT)

    def hlen(self, s):
        return self.flags[s] >> _HLEN_SHIFT

    def same_hw(self, s, htype, hlen, src, pos):
        # True when slot s keeps this hardware address, or none. A chaddr longer than 6 bytes
        # is compared on htype, hlen and its first 6 bytes (only those are kept).
        n = self.flags[s] >> _HLEN_SHIFT
        if n == 0:
            return True
        hw = self.hw
        p = s * _HW_SIZE
        if hw[p] != htype or n != hlen:
            return False
        if n > _HW_ROOM:
            n = _HW_ROOM
        for i in range(n):
            if hw[p + 1 + i] != src[pos + i]:
                return False
        return True

    # --- client keys -----------------------------------------------------------------------
    def has_key(self, s):
        return self.flags[s] & _F_KEYED != 0

    def key_is_hw(self, s):
        return self.flags[s] & _F_KEY_HW != 0

    def key_cells(self, s):
        # Arena cells held by slot s's key.
        if self.flags[s] & _F_KEY_ARENA:
            return cells_for(self.cells[(self.aref[s] - 1) * _CELL])
        return 0

    def key_equals(self, s, kb):
        # kb: length byte, then the identity (the engine's kbuf form).
        f = self.flags[s]
        n = kb[0]
        if f & _F_KEY_HW:
            hw = self.hw
            p = s * _HW_SIZE - 1
            # the last byte first: consecutive MACs differ there
            if n != (f >> _HLEN_SHIFT) + 1 or hw[p + n] != kb[n]:
                return False
            for i in range(1, n):
                if hw[p + i] != kb[i]:
                    return False
            return True
        if not f & _F_KEY_ARENA:
            return False
        return self._arena_walk(s, kb, _SAME)

    def key_into(self, s, kb):
        # Copies slot s's identity into kb (length byte first); returns its length (0: none).
        f = self.flags[s]
        if f & _F_KEY_HW:
            n = (f >> _HLEN_SHIFT) + 1
            p = s * _HW_SIZE
            kb[0] = n
            for i in range(n):
                kb[1 + i] = self.hw[p + i]
            return n
        if not f & _F_KEY_ARENA:
            kb[0] = 0
            return 0
        return self._arena_walk(s, kb, _COPY)

    def key_hash(self, s):
        # h24 of slot s's identity bytes: the same value the engine computes from a message.
        f = self.flags[s]
        if f & _F_KEY_HW:
            # h24 written out (no call: clear_key hashes every key it moves)
            hw = self.hw
            h = H24_SEED
            p = s * _HW_SIZE
            for i in range(p, p + (f >> _HLEN_SHIFT) + 1):
                h = ((h * 33) ^ hw[i]) & 0xFFFFFF
            return h
        return self._arena_walk(s, None, _HASH)

    def _arena_walk(self, s, kb, op):
        # Slot s's arena identity along its chain of cells: _COPY copies it into kb (length byte
        # first) and returns its length, _SAME returns whether kb holds it, _HASH its h24.
        c = self.aref[s] - 1
        cells = self.cells
        q = c * _CELL
        n = cells[q]
        if op == _SAME and kb[0] != n:
            return False
        if op == _COPY:
            kb[0] = n
        h = H24_SEED
        end = q + _CELL
        q += 1
        for i in range(1, n + 1):
            if q == end:
                c = self.cnext[c]
                q = c * _CELL
                end = q + _CELL
            v = cells[q]
            if op == _HASH:
                h = ((h * 33) ^ v) & 0xFFFFFF
            elif op == _COPY:
                kb[i] = v
            elif kb[i] != v:
                return False
            q += 1
        return h if op == _HASH else (n if op == _COPY else True)

    def find(self, kb, h):
        # Slot whose key equals kb (hash h), or -1.
        idx = self.index
        m = self.imask
        fl = self.flags
        hw = self.hw
        n = kb[0]
        last = kb[n]
        # home(h, ishift) written out: a call per message costs more than the arithmetic
        lo = h & 0xFFF
        i = ((lo * 0x779 + ((((lo * 0x9E3) + ((h >> 12) * 0x779)) & 0xFFF) << 12)) & 0xFFFFFF) >> self.ishift
        while True:
            e = idx[i]
            if e == 0:
                return -1
            s = e - 1
            f = fl[s]
            # A key in the hw field is rejected on its length and last byte (where consecutive
            # MACs differ), then compared in place (key_equals written out: a method call per
            # probe costs more).
            if f & _F_KEY_HW:
                if (f >> _HLEN_SHIFT) + 1 == n and hw[s * _HW_SIZE + n - 1] == last:
                    p = s * _HW_SIZE - 1
                    j = 1
                    while j < n and hw[p + j] == kb[j]:
                        j += 1
                    if j >= n:
                        return s
            elif self.key_equals(s, kb):
                return s
            i = (i + 1) & m

    def room(self, need, a, b):
        # True when `need` arena cells can be had for a key that will belong to slot a, counting
        # the cells that the keys of slots a and b (the same client's old slot, -1: none) give back.
        have = self.nfree + self.spare
        if have >= need:
            return True
        if a >= 0 and not self.in_list(a):
            have += self.key_cells(a)
        if b >= 0 and b != a and not self.in_list(b):
            have += self.key_cells(b)
        return have >= need

    def set_key(self, s, kb, h, hwform):
        # Gives slot s the identity kb (hash h). hwform: kb equals the slot's kept hardware key
        # (set_hw first), so no arena cells are needed. Returns False, changing nothing else,
        # when the arena has no room even after reclaim (callers check room() first).
        if self.flags[s] & _F_KEYED:
            self.clear_key(s)
        if hwform:
            self.flags[s] |= _F_KEY_HW
        else:
            n = kb[0]
            need = cells_for(n)
            if self.nfree < need and not self.reclaim(need):
                return False
            c = self.cfree
            self.aref[s] = c + 1
            cells = self.cells
            nxt = self.cnext
            q = c * _CELL
            cells[q] = n
            end = q + _CELL
            q += 1
            for i in range(1, n + 1):
                if q == end:
                    c = nxt[c]
                    q = c * _CELL
                    end = q + _CELL
                cells[q] = kb[i]
                q += 1
            self.cfree = nxt[c]
            nxt[c] = self.cnil
            self.nfree -= need
            self.flags[s] |= _F_KEY_ARENA
            if self.in_list(s):
                self.spare += need
        idx = self.index
        m = self.imask
        lo = h & 0xFFF   # home(h, ishift) written out
        i = ((lo * 0x779 + ((((lo * 0x9E3) + ((h >> 12) * 0x779)) & 0xFFF) << 12)) & 0xFFFFFF) >> self.ishift
        while idx[i]:
            i = (i + 1) & m
        idx[i] = s + 1
        return True

    def clear_key(self, s):
        # Backward-shift deletion keeps every probe chain unbroken without tombstones.
        f = self.flags[s]
        if not f & _F_KEYED:
            return
        idx = self.index
        m = self.imask
        sh = self.ishift
        # home(key_hash(...), sh) written out here and below: calls per moved entry cost more
        h = self.key_hash(s)
        lo = h & 0xFFF
        i = ((lo * 0x779 + ((((lo * 0x9E3) + ((h >> 12) * 0x779)) & 0xFFF) << 12)) & 0xFFFFFF) >> sh
        while idx[i] != s + 1:
            i = (i + 1) & m
        j = i
        while True:
            j = (j + 1) & m
            e = idx[j]
            if e == 0:
                break
            h = self.key_hash(e - 1)
            lo = h & 0xFFF
            k = ((lo * 0x779 + ((((lo * 0x9E3) + ((h >> 12) * 0x779)) & 0xFFF) << 12)) & 0xFFFFFF) >> sh
            # Move e back into hole i unless its home k lies cyclically in (i, j].
            if (j > i and (k <= i or k > j)) or (j < i and (k <= i and k > j)):
                idx[i] = e
                i = j
        idx[i] = 0
        if f & _F_KEY_ARENA:
            # The chain goes back to the front of the free cells.
            c = self.aref[s] - 1
            first = c
            nxt = self.cnext
            k = 1
            while nxt[c] != self.cnil:
                c = nxt[c]
                k += 1
            nxt[c] = self.cfree
            self.cfree = first
            self.nfree += k
            if self.in_list(s):
                self.spare -= k
            self.aref[s] = 0
        self.flags[s] = f & ~_F_KEYED & 255

    def reclaim(self, need):
        # Arena full: forget the remembered ids of available slots (free list, oldest first)
        # until `need` cells are free. A live, offered, declined or reserved slot's id is never
        # dropped. Walks the free list, so it runs only when the arena is full.
        nil = self.nil
        s = self.head
        while s != nil and self.nfree < need:
            n = self.nxt[s]
            if self.flags[s] & _F_KEY_ARENA:
                self.forget(s)
                self.evicted += 1
            s = n
        return self.nfree >= need

    def forget(self, s):
        # An available slot no longer remembers its last client.
        self.clear_key(s)
        self.host[s * self.host_len] = 0
        st = self.state[s]
        if st == _RELEASED or st == _EXPIRED:
            self.state[s] = _FREE

    # --- slot transitions ------------------------------------------------------------------
    def vacate(self, s, st):
        # Ends slot s's offer, lease or quarantine: its timer stops, a reservation is RESERVED again,
        # another slot takes state st (FREE, RELEASED, EXPIRED), at the free list's tail if not in it.
        if self.hpos[s]:    # (clear_timer returns at once otherwise: no call; the engine's
            self.clear_timer(s)     # message paths stop the timer first, in machine code)
        if self.flags[s] & _F_RESERVED:
            self.state[s] = _RESERVED
        else:
            self.state[s] = st
            if not self.in_list(s):
                self.push_tail(s)

    # --- free list -------------------------------------------------------------------------
    def in_list(self, s):
        return self.prv[s] != self.nil or self.head == s

    def push_tail(self, s):
        nil = self.nil
        if self.flags[s] & _F_KEY_ARENA:
            self.spare += self.key_cells(s)
        self.prv[s] = self.tail
        self.nxt[s] = nil
        if self.tail == nil:
            self.head = s
        else:
            self.nxt[self.tail] = s
        self.tail = s

    def unlink(self, s):
        nil = self.nil
        p = self.prv[s]
        if p == nil and self.head != s:   # not in_list(s), written out
            return
        if self.flags[s] & _F_KEY_ARENA:
            self.spare -= self.key_cells(s)
        n = self.nxt[s]
        if p == nil:
            self.head = n
        else:
            self.nxt[p] = n
        if n == nil:
            self.tail = p
        else:
            self.prv[n] = p
        self.prv[s] = nil
        self.nxt[s] = nil

    def first_free(self):
        h = self.head
        return -1 if h == self.nil else h

    # --- expiry heap -----------------------------------------------------------------------
    def set_timer(self, s, t):
        ex = self.expiry
        hp = self.hpos
        if hp[s]:
            # An earlier time can only move up, a later one only down: one sift, not both.
            old = ex[s]
            ex[s] = t
            if t < old:
                self._up(hp[s] - 1)
            elif t > old:
                self._down(hp[s] - 1)
        else:
            ex[s] = t
            i = self.hsize
            self.hsize = i + 1
            heap = self.heap
            heap[i] = s
            hp[s] = i + 1
            if i and ex[heap[(i - 1) >> 1]] > t:
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
        # Slot whose timer is due at `now`, or -1. A timer set to second E is due once E is past
        # (now > E): RFC 2131 2.2, no reuse "within the requested time", and `now` is whole
        # seconds (floored) while the client counts its lease from when it sent the request
        # (4.4.5), maybe late in the second that became the engine's `now`: a lease granted at
        # `now` for L seconds may run into second now + L, so it is held through that second.
        if self.hsize and self.expiry[self.heap[0]] < now:
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
