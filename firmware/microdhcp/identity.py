# MIT license; Copyright (c) 2026 the microdhcp authors
# microdhcp.identity: who sent this message (RFC 2131 section 4.2: option 61 if present, else
# htype + chaddr), built into the engine's key buffer and looked up in the lease table; the
# client's hardware address and hostname kept in its slot; static reservations keyed at start.
# These functions are methods of engine.Engine (bound into its class dict there, so a call costs
# the one class look-up it always did): `self` is the engine. Nothing here allocates per message.
try:
    from micropython import const
except ImportError:
    def const(x):
        return x

from struct import pack_into
from microdhcp.leases import key_hash

# The machine-code twin (microdhcp.fast.ident) of the key and look-up, else None (see engine.py;
# tests set it to None with the others: host_tests/core/harness.use_fast).
try:
    import microdhcp.fast as _fast
except (ImportError, SyntaxError, NameError):   # see fast.py's header
    _fast = None  # type: ignore[assignment]  # (mypy: None where a module was imported)

# RFC 2131 section 2 header offsets read here.
_HTYPE = const(1)
_HLEN = const(2)
_CHADDR = const(28)
_F_KEY_HW = const(2)             # leases._F_KEY_HW: the slot's key is its hw field (a private constant there)
_HLEN_SHIFT = const(3)           # leases._HLEN_SHIFT: hlen in the flags' bits 3-7
_C_ID_PINNED = const(30)         # codes.C_ID_PINNED
_H24_SEED = const(5381)          # leases.H24_SEED: h24's start, here in the key's hash written out
# Public numbers of codes.py as constants here (an imported name is a dict slot
# and a look-up; test_fastpaths checks each copy against its twin).
_HOSTNAME = const(0)             # codes.HOSTNAME, option 12's index
_CLIENT_ID = const(7)            # codes.CLIENT_ID, option 61's index
_OFFERED = const(1)              # codes.OFFERED, .BOUND, .RESERVED: slot states
_BOUND = const(2)
_RESERVED = const(6)
_F_RESERVED = const(1)           # codes.F_RESERVED
_KEY_SIZE = const(65)            # codes.KEY_SIZE, .MAX_ID, .HW_SIZE, .HW_ROOM, .NEVER
_MAX_ID = const(64)
_HW_SIZE = const(7)
_HW_ROOM = const(6)
_NEVER = const(0x3FFFFFFF)


def reserve(self, cfg):
    t = self.table
    kb = bytearray(_KEY_SIZE)
    for key, off in cfg.reservations:
        s = t.slot_of(off)
        if t.in_list(s):
            t.unlink(s)
        n = len(key)
        if n > _MAX_ID:
            raise ValueError("reservation client id longer than %d bytes" % _MAX_ID)
        kb[0] = n
        kb[1:1 + n] = key
        mac = n == 7 and key[0] == 1
        if mac:
            self.has_mac_reservations = True
            # Keep the MAC for listings before the client ever shows up; it is the key too.
            t.set_hw(s, 1, 6, key, 1)
        t.flags[s] |= _F_RESERVED
        if not t.set_key(s, kb, key_hash(kb), mac):
            raise ValueError("no room for the reservations' client ids: raise id_cells")
        t.state[s] = _RESERVED
        t.expiry[s] = _NEVER


# --- identity (RFC 2131 section 4.2) -------------------------------------------------
def hw_key(self):
    # htype followed by chaddr[:hlen], written straight into kbuf: the same bytes as an
    # RFC 2132 9.14 client id of type htype.
    b = self.rx
    kb = self.kbuf
    n = b[_HLEN]
    kb[0] = n + 1
    v = b[_HTYPE]
    kb[1] = v
    h = ((_H24_SEED * 33) ^ v) & 0xFFFFFF
    c = _CHADDR - 2
    for i in range(2, n + 2):
        v = b[c + i]
        kb[i] = v
        h = ((h * 33) ^ v) & 0xFFFFFF   # h24's step, written out (no call per message)
    self.khash = h
    self.hwform = n <= _HW_ROOM



def identify(self):
    # Builds the client's key in self.kbuf and returns its slot or -1 (-2: a copied client
    # id, -3: an identity longer than _MAX_ID).
    req = self.req
    t = self.table
    s = -1
    vi = _fast
    if self.has_mac_reservations or not req.cnt[_CLIENT_ID]:
        if vi is not None:
            # _hw_key and t.find in one machine-code call (-2: an arena key met, plain find)
            r = req.res
            vi.ident(self.rx, 0, 0, self.kbuf, t, r)
            self.khash = r[3]
            self.hwform = self.rx[_HLEN] <= _HW_ROOM
            s = r[5]
            if s == -2:
                s = t.find(self.kbuf, self.khash)
        else:
            self._hw_key()
            s = t.find(self.kbuf, self.khash)
        # A MAC reservation wins over the client id the client may also send.
        if not req.cnt[_CLIENT_ID] or (s >= 0 and t.flags[s] & _F_RESERVED):
            return s
    n = req.ln[_CLIENT_ID]
    if n > _MAX_ID:
        return -3
    kb = self.kbuf
    b = self.rx
    if vi is not None:
        r = req.res
        vi.ident(b, req.off[_CLIENT_ID], n, kb, t, r)   # key, hash, chaddr compare and find
        h = r[3]
        x = r[4]
    else:
        o = req.off[_CLIENT_ID] - 1
        kb[0] = n
        v = b[o + 1]
        kb[1] = v
        h = ((_H24_SEED * 33) ^ v) & 0xFFFFFF
        # One pass copies the id into kbuf, hashes it (h24's steps, written out: a call and a
        # loop of its own cost more on a board) and ORs its differences from chaddr into x.
        x = 0
        c = _CHADDR - 2
        for i in range(2, n + 1):
            v = b[o + i]
            kb[i] = v
            h = ((h * 33) ^ v) & 0xFFFFFF
            x |= v ^ b[c + i]
    self.khash = h
    # Option 61 = htype + chaddr (the usual 01 + MAC) is kept in the hardware field only.
    hw = not x and n == b[_HLEN] + 1 and n <= _HW_ROOM + 1 and kb[1] == b[_HTYPE]
    self.hwform = hw
    self.kid = True
    if vi is not None:
        s = r[5]
        if s == -2:
            s = t.find(kb, h)
    else:
        s = t.find(kb, h)
    # RFC 2131 4.2: the client id names the client, from any hardware address. With
    # config mac_pinning (a choice beyond the RFC) a live lease found by client id belongs
    # to the hardware address that obtained it, and a message with that id from another
    # hardware address is another client, named by its htype + chaddr: it gets its own
    # address and never touches the pinned lease (a copied id takes nothing; an honest
    # client on a new adapter is served instead of retrying into silence). A key kept in
    # the hw field that equals this message's htype + chaddr is that address.
    if s >= 0 and self.cfg.mac_pinning and (t.state[s] == _OFFERED or t.state[s] == _BOUND) \
            and not (hw and t.flags[s] & _F_KEY_HW) and not self._same_hw(s):
        self.counters[_C_ID_PINNED] += 1
        self.kid = False    # kbuf now holds htype + chaddr, not option 61
        self._hw_key()
        s2 = t.find(self.kbuf, self.khash)
        if s2 == s:
            # This htype + chaddr is itself the pinned lease's client id (the holder sent
            # it from another address): no other name is left for this client.
            return -2
        return s2
    return s


def same_hw(self, s):
    # True when slot s recorded this message's htype/hlen/chaddr (or recorded none).
    b = self.rx
    return self.table.same_hw(s, b[_HTYPE], b[_HLEN], b, _CHADDR)


def save_client(self, s, hw=True):
    # hardware address and hostname (option 12) for listings and events.
    t = self.table
    b = self.rx
    if hw:
        n = b[_HLEN]
        if n >= _HW_ROOM and self._pk_view:
            # t.set_hw(s, htype, hlen, b, _CHADDR) in one C call (a byte loop costs ~10 us a
            # byte on a board): htype and the first 6 bytes of chaddr as four small ints (16-bit
            # halves: no big int on a 32-bit board), hlen in the flags' top bits.
            pack_into(">BHHH", t.hw, s * _HW_SIZE, b[_HTYPE], b[_CHADDR] << 8 | b[_CHADDR + 1],
                      b[_CHADDR + 2] << 8 | b[_CHADDR + 3], b[_CHADDR + 4] << 8 | b[_CHADDR + 5])
            t.flags[s] = (t.flags[s] & 7) | (n << _HLEN_SHIFT)
        else:
            t.set_hw(s, b[_HTYPE], n, b, _CHADDR)
    req = self.req
    if req.cnt[_HOSTNAME]:
        hl = t.host_len
        q = s * hl
        m = req.ln[_HOSTNAME]
        if m > hl - 1:
            m = hl - 1
        host = t.host
        host[q] = m
        o = req.off[_HOSTNAME]
        for i in range(m):
            host[q + 1 + i] = b[o + i]
