# MIT license; Copyright (c) 2026 the microdhcp authors
# microdhcp.engine: RFC 2131 server decisions, sans-IO. handle() takes a datagram and the time
# in seconds and writes the reply into a caller-owned buffer; it touches no socket, file or clock.
# After construction nothing on this path allocates (proved under micropython.heap_lock() in
# host_tests), and no value reaches 2**30, so it stays in small ints on 32-bit boards.
try:
    from micropython import const
except ImportError:
    def const(x):
        return x

from array import array
from struct import pack_into
from microdhcp.packet import Request, HOSTNAME, REQ_ADDR, LEASE, SERVER_ID, PRL, MAX_SIZE, CLIENT_ID, RAPID, RELAY
from microdhcp.leases import (LeaseTable, h24, cells_for, FREE, OFFERED, BOUND, RELEASED, EXPIRED, DECLINED,
                              RESERVED, F_RESERVED, KEY_SIZE, MAX_ID, HW_SIZE, HW_ROOM, NEVER)

# The machine-code twins (microdhcp.fast, viper) of _identify's key and look-up, _put_params,
# _reply's header, clear_key's index work, Request.parse and set_timer (the last two called from
# here: a Python call less each), where MicroPython's native emitter compiles them;
# else None and the plain code runs (CPython, a port without the emitter, the portable .mpy
# build). One module global, not one per twin: each global name is heap on a board, and the
# 32-bit frozen build's budget (test_firmware.py) had no room for four. Tests may set it to None
# (host_tests/core/test_viper.py, mp_runner.py --plain).
try:
    import microdhcp.fast as _fast
except (ImportError, SyntaxError, NameError):   # see fast.py's header
    _fast = None  # type: ignore[assignment]  # (mypy: None where a module was imported)

# RFC 2131 section 2 header offsets.
_OP = const(0)
_HTYPE = const(1)
_HLEN = const(2)
_HOPS = const(3)
_XID = const(4)
_SECS = const(8)
_FLAGS = const(10)
_CIADDR = const(12)
_YIADDR = const(16)
_SIADDR = const(20)
_GIADDR = const(24)
_CHADDR = const(28)
_COOKIE = const(236)
_OPTIONS = const(240)
_BOOTREPLY = const(2)
_FLAG_BROADCAST = const(0x80)   # high bit of the flags field (RFC 2131 section 2, figure 2)

# RFC 2132 section 9.6 message types.
DHCPDISCOVER = const(1)
DHCPOFFER = const(2)
DHCPREQUEST = const(3)
DHCPDECLINE = const(4)
DHCPACK = const(5)
DHCPNAK = const(6)
DHCPRELEASE = const(7)
DHCPINFORM = const(8)

# RFC 2132 option codes the engine writes.
_OPT_END = const(255)
_OPT_LEASE_TIME = const(51)
_OPT_MSG_TYPE = const(53)
_OPT_SERVER_ID = const(54)
_OPT_MESSAGE = const(56)
_OPT_RENEWAL_T1 = const(58)
_OPT_REBINDING_T2 = const(59)
_OPT_CLIENT_ID = const(61)
_OPT_RAPID_COMMIT = const(80)    # RFC 4039
_OPT_RELAY_AGENT = const(82)     # RFC 3046

_SERVER_PORT = const(67)
_CLIENT_PORT = const(68)
_MIN_REPLY = const(300)          # RFC 1542 section 2.1: BOOTP minimum message size
TX_SIZE = const(1500)            # engine.tx at most: an Ethernet-sized reply (net.Server sends from it)
# The longest reply engine.tx must hold beside the configured options (see Engine.__init__): the
# header and cookie (240), 53 (3), 54 (6), 61 and 82 echoed (RFC 6842, RFC 3046 2.2: one instance
# of at most 255 bytes each, 257 with code and length), END (1); then the larger of a NAK's option
# 56 (the longest _NAK_ text, 28 + 2) and an ACK's 51, 58, 59 (18) + 80 (2) + the options.
_REPLY_BASE = const(764)
_NAK_ROOM = const(30)
_LEASE_ROOM = const(20)
_DEFAULT_MAX = const(548)        # RFC 2131 section 2: 576-byte datagram minus IP and UDP headers
_IP_UDP = const(28)
_RX_MAX = const(1500)            # packet.RX_MAX, as a constant here (a module attribute costs a lookup)
_F_KEY_HW = const(2)             # leases._F_KEY_HW: the slot's key is its hw field (a private constant there)
_F_KEYED = const(6)              # leases._F_KEYED: the slot has a key
_HLEN_SHIFT = const(3)           # leases._HLEN_SHIFT: hlen in the flags' bits 3-7

# Counters: index -> name in status.COUNTER_NAMES. 1..8 are the parser's drop reasons.
C_RECEIVED = const(0)
C_REPLIED = const(9)
C_OFFER = const(10)
C_ACK = const(11)
C_NAK = const(12)
C_DECLINE = const(13)
C_RELEASE = const(14)
C_INFORM = const(15)
C_EXHAUSTED = const(16)
C_UNKNOWN_CLIENT = const(17)
C_OTHER_SERVER = const(18)
C_IGNORED = const(19)        # well formed but changes nothing (e.g. RELEASE of someone else's address)
C_WRONG_RELAY = const(20)
C_NOT_CLIENT_MSG = const(21)  # OFFER/ACK/NAK seen from another server
C_BAD_REQUEST = const(22)
C_OVERSIZE = const(23)
C_EXPIRED = const(24)
C_OFFER_CAP = const(25)      # DISCOVER from a new client while max_offers offers are outstanding
C_RATE_LIMITED = const(26)   # DISCOVER repeated within offer_interval of the last OFFER
C_ID_MISMATCH = const(27)    # mac_pinning: as C_ID_PINNED, but that htype + chaddr is the pinned lease's own id
C_ID_TOO_LONG = const(28)    # client identity longer than leases.MAX_ID bytes: not kept, not served
C_ID_ARENA_FULL = const(29)  # a new long client id found no arena room (every cell held by a live lease)
C_ID_PINNED = const(30)      # mac_pinning: a pinned lease's client id from another hardware address, served as that address
_NCOUNT = const(31)           # status.COUNTER_NAMES names them, status.DROP_COUNTERS lists the drops

# Lease events passed to on_event(kind, slot); slot is -1 for EV_NOADDR and EV_NAK.
EV_OFFER = const(1)
EV_BOUND = const(2)
EV_RENEWED = const(3)
EV_RELEASED = const(4)
EV_DECLINED = const(5)
EV_EXPIRED = const(6)
EV_NAK = const(7)
EV_NOADDR = const(8)
EV_INFORM = const(9)          # status.EVENT_NAMES: their log tags

# Destination kinds for the socket shell.
DST_BROADCAST = const(0)   # self.reply_broadcast, port 68
DST_UNICAST = const(1)     # self.dst, port self.dst_port

# struct.pack_into(fmt, buf, off, b"") with fmt "<n>s" zero-fills n bytes in one C call. A slice
# store would do too, but a same-length slice store into a bytearray also moves the whole rest of
# the buffer onto itself (py/obj.h mp_seq_replace_slice_no_grow), ~1.4 KB per store into a
# 1500-byte reply buffer: a large share of a reply's cycles on a Cortex-M0+.
_ZFMT = ("0s", "64s", "128s", "192s", "256s", "320s", "384s", "448s", "512s", "576s", "640s", "704s",
         "768s", "832s", "896s", "960s", "1024s", "1088s", "1152s", "1216s", "1280s", "1344s", "1408s",
         "1472s", "1536s")
# MicroPython's struct.pack_into takes a view for "s" (any buffer; it copies exactly the field),
# CPython's only bytes or bytearray: there the engine copies by slice stores and loops instead.
try:
    pack_into("1s", bytearray(1), 0, memoryview(b"x"))
    _PK_VIEW = True
except Exception:   # CPython: struct.error
    _PK_VIEW = False
_MAGIC = b"\x63\x82\x53\x63"     # RFC 2131 section 3 magic cookie, 99.130.83.99

# NAK reasons (option 56 text), written only on the NAK path.
_NAK_WRONG_NET = b"wrong network"
_NAK_NOT_POOL = b"address not in pool"
_NAK_IN_USE = b"address not available"
_NAK_NOT_YOURS = b"lease is for another address"


def _encode(code, v):
    # One option as it goes on the wire, split into 255-byte instances when longer (RFC 3396);
    # an empty value is one instance of length 0. Construction time only: allocates its result
    # once, at its size (a bytearray grown by appends would leave a hole per growth in the heap).
    n = len(v)
    out = bytearray(n + 2 * ((n + 254) // 255 if n else 1))
    so = 0
    pos = 0
    while True:
        k = n if n < 255 else 255
        out[pos] = code
        out[pos + 1] = k
        for i in range(k):
            out[pos + 2 + i] = v[so + i]
        pos += 2 + k
        so += k
        n -= k
        if n <= 0:
            return out


class Engine:
    """The RFC 2131 server, sans-IO: bytes and time in, a reply in your buffer out.

    :param config: A :class:`microdhcp.config.Config`.
    :param on_event: Optional ``on_event(kind, slot)``, called as leases change (``EV_OFFER``,
                     ``EV_BOUND``, ``EV_RENEWED``, ``EV_RELEASED``, ``EV_DECLINED``, ``EV_EXPIRED``;
                     ``EV_NAK``, ``EV_NOADDR``, ``EV_INFORM`` with slot -1). It runs on the packet
                     path: keep it short (it may allocate; the engine itself does not).
    :param on_commit: Optional ``on_commit(slot)``, called before a reply that depends on a lease
                      change is returned (a new binding, a RELEASE, a DECLINE): persistence
                      (``store.LeaseStore.commit``).

    ``handle(data, now, tx)`` serves one datagram; ``tick(now)`` ends what is due when idle;
    ``table`` is the lease table, ``counters`` the counters named by ``status.COUNTER_NAMES``.
    """
    _pk_view = _PK_VIEW   # a class attribute (an instance may set its own: the tests take both paths)

    def __init__(self, config, on_event=None, on_commit=None):
        self.cfg = config
        self.server = config.server
        self.mask = config.mask
        self.network = config.network
        self.req = Request()
        self.rx = self.req.buf
        # The reply buffer the socket shell (net.Server) sends from, made here, right after the
        # receive buffer: big blocks first, while the heap is still one piece. Made later (after
        # the table's temporaries) it may find no 1500-byte hole in a heap with room to spare.
        # Sized to the longest reply this configuration can build (_REPLY_BASE), at least the 548
        # bytes of a 576-octet datagram every client takes (RFC 2131 section 2; more only for a
        # client's option 57, RFC 2132 9.10), rounded up to 64 for _reply's one-call zeroing, at
        # most TX_SIZE. A longer reply cannot happen but through a 61 or 82 split past 255 bytes
        # (RFC 3396) in a reply to a client whose option 57 allows more: that echo is then left
        # out, as every option that does not fit (docs/performance.md, "Memory").
        need = _LEASE_ROOM
        for v in config.options.values():
            k = len(v)
            need += k + 2 * ((k + 254) // 255 if k else 1)
        need = _REPLY_BASE + (need if need > _NAK_ROOM else _NAK_ROOM)
        need = (need + 63) & ~63
        self.tx = bytearray(need if need < TX_SIZE else TX_SIZE)
        # Views of fixed header fields, made once: a slice store from a view copies without
        # allocating (slicing a view per message would allocate one each time).
        rxv = memoryview(self.rx)
        self._rx_xid = rxv[_XID:_XID + 4]
        self._rx_flags = rxv[_FLAGS:_FLAGS + 2]
        self._rx_ciaddr = rxv[_CIADDR:_CIADDR + 4]
        self._rx_giaddr = rxv[_GIADDR:_GIADDR + 4]
        self._rx_relay_hw = rxv[_GIADDR:_CHADDR + 16]   # giaddr and chaddr are adjacent
        self._rx_chaddr6 = rxv[_CHADDR:_CHADDR + HW_ROOM]
        self.kbuf = bytearray(KEY_SIZE)   # identity of the current client: length byte, then the bytes
        self._kb7 = memoryview(self.kbuf)[1:8]   # a 7-byte id (type 1 + MAC, the usual one) in kbuf
        self.kid = False        # kbuf holds this message's option 61 (set by _identify, cleared by handle)
        self.table = LeaseTable(config.pool_first, config.pool_size, config.extra_offsets, config.hostname_len,
                                config.id_cells)
        self.always = config.always
        self.counters = array("I", [0] * _NCOUNT)
        self.on_event = on_event      # called as on_event(kind, slot); may allocate (application code)
        self.on_commit = on_commit    # called before an ACK/RELEASE/DECLINE takes effect on the wire (persistence)
        self.khash = 0
        self.hwform = False     # kbuf is htype + chaddr of this message, short enough for the hw field
        self.dst = bytearray(4)
        self.dst_port = _CLIENT_PORT
        self.dst_kind = DST_BROADCAST
        self.reply_broadcast = config.reply_broadcast
        self.lease = 0          # seconds granted in the reply being built
        self.reply_max = _DEFAULT_MAX
        self.nak_text = b""
        self.has_mac_reservations = False
        self.n_offered = 0      # slots in state OFFERED (bounded by cfg.max_offers for new clients)
        self._dirty = -1        # bytes of a tx buffer that may hold an earlier reply (-1: unknown)
        self._dirty_tx = None
        # Configured options encoded once (RFC 3396 split included) with the pack_into format that
        # copies each: a reply writes one with one C call. _oix[code] = index + 1 in _enc/_efmt
        # (0: not configured); _mark[code] == _gen: written already in this reply.
        self._oix = bytearray(256)
        opts = config.options
        self._enc = [None] * len(opts)    # made at their size: lists grown by appends leave holes
        self._efmt = [""] * len(opts)
        j = 0
        for code in opts:
            e = _encode(code, opts[code])
            self._enc[j] = e
            self._efmt[j] = "%ds" % len(e)
            j += 1
            self._oix[code] = j
        self._sid = _encode(_OPT_SERVER_ID, self.server)
        lt = bytearray(18)
        for i, (code, v) in enumerate(((_OPT_LEASE_TIME, config.lease_time), (_OPT_RENEWAL_T1, config.renew_time),
                                       (_OPT_REBINDING_T2, config.rebind_time))):
            self._put_u32(lt, 6 * i, 18, code, v)
        self._lease_tlv = bytes(lt)
        self._mark = bytearray(256)
        self._gen = 0
        # (The order of the attributes matters to the heap budgets: the attribute map grows, in
        # one block, at the 38th; this order passes test_memory's and test_firmware's budgets,
        # some others leave no hole for it at 96 KiB / 32 KiB.)
        # What starts every OFFER and ACK with the configured lease, written with one pack_into:
        # the cookie, option 53 (its value set per reply), 54, then 51, 58 and 59.
        self._head_lease = _MAGIC + bytes((_OPT_MSG_TYPE, 1, 0)) + self._sid + self._lease_tlv
        # yiaddr in two 16-bit halves: (network's high half, host bits of it, low half, host bits)
        net = self.network
        m = self.mask
        self._yi = (net[0] << 8 | net[1], (~m[0] & 255) << 8 | (~m[1] & 255),
                    net[2] << 8 | net[3], (~m[2] & 255) << 8 | (~m[3] & 255))
        self._reserve(config)

    def _reserve(self, cfg):
        t = self.table
        kb = bytearray(KEY_SIZE)
        for key, off in cfg.reservations:
            s = t.slot_of(off)
            if t.in_list(s):
                t.unlink(s)
            n = len(key)
            if n > MAX_ID:
                raise ValueError("reservation client id longer than %d bytes" % MAX_ID)
            kb[0] = n
            kb[1:1 + n] = key
            mac = n == 7 and key[0] == 1
            if mac:
                self.has_mac_reservations = True
                # Keep the MAC for listings before the client ever shows up; it is the key too.
                t.set_hw(s, 1, 6, key, 1)
            t.flags[s] |= F_RESERVED
            if not t.set_key(s, kb, h24(kb, 1, n, 5381), mac):
                raise ValueError("no room for the reservations' client ids: raise id_cells")
            t.state[s] = RESERVED
            t.expiry[s] = NEVER

    # --- identity (RFC 2131 section 4.2) -------------------------------------------------
    def _hw_key(self):
        # htype followed by chaddr[:hlen], written straight into kbuf: the same bytes as an
        # RFC 2132 9.14 client id of type htype.
        b = self.rx
        kb = self.kbuf
        n = b[_HLEN]
        kb[0] = n + 1
        v = b[_HTYPE]
        kb[1] = v
        h = ((5381 * 33) ^ v) & 0xFFFFFF
        c = _CHADDR - 2
        for i in range(2, n + 2):
            v = b[c + i]
            kb[i] = v
            h = ((h * 33) ^ v) & 0xFFFFFF   # h24's step, written out (no call per message)
        self.khash = h
        self.hwform = n <= HW_ROOM

    def _identify(self):
        # Builds the client's key in self.kbuf and returns its slot or -1 (-2: a copied client
        # id, -3: an identity longer than MAX_ID).
        req = self.req
        t = self.table
        s = -1
        vi = _fast
        if self.has_mac_reservations or not req.cnt[CLIENT_ID]:
            if vi is not None:
                # _hw_key and t.find in one machine-code call (-2: an arena key met, plain find)
                r = req.res
                vi.ident(self.rx, 0, 0, self.kbuf, t, r)
                self.khash = r[3]
                self.hwform = self.rx[_HLEN] <= HW_ROOM
                s = r[5]
                if s == -2:
                    s = t.find(self.kbuf, self.khash)
            else:
                self._hw_key()
                s = t.find(self.kbuf, self.khash)
            # A MAC reservation wins over the client id the client may also send.
            if not req.cnt[CLIENT_ID] or (s >= 0 and t.flags[s] & F_RESERVED):
                return s
        n = req.ln[CLIENT_ID]
        if n > MAX_ID:
            return -3
        kb = self.kbuf
        b = self.rx
        if vi is not None:
            r = req.res
            vi.ident(b, req.off[CLIENT_ID], n, kb, t, r)   # key, hash, chaddr compare and find
            h = r[3]
            x = r[4]
        else:
            o = req.off[CLIENT_ID] - 1
            kb[0] = n
            v = b[o + 1]
            kb[1] = v
            h = ((5381 * 33) ^ v) & 0xFFFFFF
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
        hw = not x and n == b[_HLEN] + 1 and n <= HW_ROOM + 1 and kb[1] == b[_HTYPE]
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
        if s >= 0 and self.cfg.mac_pinning and (t.state[s] == OFFERED or t.state[s] == BOUND) \
                and not (hw and t.flags[s] & _F_KEY_HW) and not self._same_hw(s):
            self.counters[C_ID_PINNED] += 1
            self.kid = False    # kbuf now holds htype + chaddr, not option 61
            self._hw_key()
            s2 = t.find(self.kbuf, self.khash)
            if s2 == s:
                # This htype + chaddr is itself the pinned lease's client id (the holder sent
                # it from another address): no other name is left for this client.
                return -2
            return s2
        return s

    def _refuse(self, cl):
        # The count for _identify's -2 and -3.
        return self._count(C_ID_MISMATCH if cl == -2 else C_ID_TOO_LONG)

    def _same_hw(self, s):
        # True when slot s recorded this message's htype/hlen/chaddr (or recorded none).
        b = self.rx
        return self.table.same_hw(s, b[_HTYPE], b[_HLEN], b, _CHADDR)

    # --- helpers on the received message ---------------------------------------------------
    def _off_at(self, pos):
        # Host offset of the address at rx[pos:pos+4] in our subnet, or -1.
        b = self.rx
        m = self.mask
        net = self.network
        # written out: a four-step loop costs a third more on a board's interpreter
        v = b[pos]
        if v & m[0] != net[0]:
            return -1
        off = v & ~m[0] & 255
        v = b[pos + 1]
        if v & m[1] != net[1]:
            return -1
        off = (off << 8) | (v & ~m[1] & 255)
        v = b[pos + 2]
        if v & m[2] != net[2]:
            return -1
        off = (off << 8) | (v & ~m[2] & 255)
        v = b[pos + 3]
        if v & m[3] != net[3]:
            return -1
        return (off << 8) | (v & ~m[3] & 255)

    def _is_zero(self, pos):
        b = self.rx
        return b[pos] == 0 and b[pos + 1] == 0 and b[pos + 2] == 0 and b[pos + 3] == 0

    def _is_ours(self, pos):
        b = self.rx
        s = self.server
        return b[pos] == s[0] and b[pos + 1] == s[1] and b[pos + 2] == s[2] and b[pos + 3] == s[3]

    def _count(self, i):
        # Counts message outcome i and returns 0, the reply length of "no reply": callers end
        # with `return self._count(C_...)` where the message is dropped.
        self.counters[i] += 1
        return 0

    def _event(self, kind, slot):
        cb = self.on_event
        if cb is not None:
            cb(kind, slot)

    def _commit(self, slot):
        cb = self.on_commit
        if cb is not None:
            cb(slot)

    # --- entry points --------------------------------------------------------------------
    def handle(self, data, now, tx, n=-1):
        """Process one datagram received at `now` (seconds). `data` is self.rx (filled with
        readinto, pass n) or any bytes-like object (copied in). Returns the reply length to
        send from tx (0: no reply); the destination is in dst_kind, dst and dst_port."""
        c = self.counters
        c[C_RECEIVED] += 1
        self.kid = False
        # First: even a dropped datagram moves time (expiries stay timely). (table.next_due
        # written out: a method call per message costs more than the test.)
        tb = self.table
        if tb.hsize and tb.expiry[tb.heap[0]] <= now:
            self.tick(now)
        rx = self.rx
        if data is not rx:
            n = len(data)
            if n > _RX_MAX:
                return self._count(C_OVERSIZE)
            rx[0:n] = data
        elif n < 0 or n > _RX_MAX:
            return self._count(C_OVERSIZE)
        req = self.req
        vp = _fast
        if vp is not None:
            # Request.parse's machine-code twin called from here (one Python call less per
            # message); res[0] == 255: what only the plain parser does, so it parses again.
            r = req.res
            vp.parse(rx, n, req._track, req.cnt, req.off, req.ln, r)
            err = r[0]
            if err == 255:
                err = req.parse(n)
            else:
                req.n = n
                req.tail = n        # as the plain parse leaves them
                req.msg_type = r[1]
                req.overload = r[2]
        else:
            err = req.parse(n)
        if err:
            return self._count(err)
        # A relayed message must come from a relay on our subnet: we serve only that one.
        if (rx[_GIADDR] | rx[_GIADDR + 1] | rx[_GIADDR + 2] | rx[_GIADDR + 3]) and self._off_at(_GIADDR) < 0:
            return self._count(C_WRONG_RELAY)
        t = req.msg_type
        if t == DHCPDISCOVER:
            return self._discover(now, tx)
        if t == DHCPREQUEST:
            return self._request(now, tx)
        if t == DHCPDECLINE:
            return self._decline(now)
        if t == DHCPRELEASE:
            return self._release(now)
        if t == DHCPINFORM:
            return self._inform(tx)
        return self._count(C_NOT_CLIENT_MSG)

    def tick(self, now):
        # Ends offers, leases and quarantines whose time has come. Call it now and then when
        # idle too, so that expiry events are timely; cost is per expiry, not per slot.
        t = self.table
        while True:
            s = t.next_due(now)
            if s < 0:
                return
            t.clear_timer(s)
            st = t.state[s]
            reserved = t.flags[s] & F_RESERVED
            if st == BOUND:
                self.counters[C_EXPIRED] += 1
                self._event(EV_EXPIRED, s)
                if reserved:
                    t.state[s] = RESERVED
                else:
                    t.state[s] = EXPIRED
                    t.push_tail(s)
            elif st == OFFERED or st == DECLINED:
                if st == OFFERED:
                    self.n_offered -= 1
                # A lapsed offer keeps the client's key (its "previous address" next time);
                # a quarantine ends with the address free for anyone.
                if reserved:
                    t.state[s] = RESERVED
                else:
                    if st == DECLINED:
                        t.clear_key(s)
                    t.state[s] = FREE
                    t.push_tail(s)

    # --- DISCOVER: RFC 2131 section 4.3.1 ------------------------------------------------
    def _discover(self, now, tx):
        t = self.table
        req = self.req
        cfg = self.cfg
        cl = self._identify()
        if cl < -1:
            return self._refuse(cl)
        reserved = cl >= 0 and t.flags[cl] & F_RESERVED
        if cfg.known_clients_only and not reserved:
            return self._count(C_UNKNOWN_CLIENT)
        s = -1
        if cl >= 0:
            # The client's current binding or reservation, else its previous address, which
            # stays in the free list under its key until someone else needs it. Only a
            # reservation can be DECLINED and still keyed: that client waits out the quarantine.
            if t.state[cl] == DECLINED:
                self._event(EV_NOADDR, -1)
                return self._count(C_EXHAUSTED)
            # Per-client rate limit: an OFFERED slot's expiry is its last OFFER + offer_hold.
            if cfg.offer_interval and t.state[cl] == OFFERED and \
                    now - (t.expiry[cl] - cfg.offer_hold) < cfg.offer_interval:
                return self._count(C_RATE_LIMITED)
            s = cl
        elif self.n_offered >= cfg.max_offers and not (cfg.rapid_commit and req.cnt[RAPID]):
            # A client we hold nothing for needs a new slot: during a DISCOVER flood the cap keeps
            # the rest of the pool (and remembered addresses) for clients that come back.
            return self._count(C_OFFER_CAP)
        if s < 0 and req.cnt[REQ_ADDR]:
            r = t.slot_of(self._off_at(req.off[REQ_ADDR]))
            if r >= 0 and self._available_to(r):
                s = r
        if s < 0:
            r = self.khash % t.pool_size
            if t.state[r] == FREE and not t.flags[r] & _F_KEYED:   # not t.has_key(r)
                s = r
        if s < 0 and t.head != t.nil:   # t.first_free(), written out
            s = t.head
        if s < 0:
            self._event(EV_NOADDR, -1)
            return self._count(C_EXHAUSTED)
        if not self._take(s, cl):
            return self._count(C_ID_ARENA_FULL)
        self.lease = self._lease_for() if req.cnt[LEASE] else cfg.lease_time
        # RFC 4039 section 4: with rapid commit both enabled and asked for, bind at once.
        if cfg.rapid_commit and req.cnt[RAPID]:
            return self._bind(s, now, tx, 0)
        st = t.state[s]
        if st != BOUND:
            if st != OFFERED:
                self.n_offered += 1
            t.state[s] = OFFERED
            vt = _fast
            if vt is not None:
                vt.timer(t, s, now + cfg.offer_hold)   # set_timer's twin (no Python call)
            else:
                t.set_timer(s, now + cfg.offer_hold)
        if self.on_event is not None:
            self.on_event(EV_OFFER, s)
        self.counters[C_OFFER] += 1
        return self._reply(tx, DHCPOFFER, s, 0)

    def _available_to(self, s):
        # Free for the current client: in the free list (so not reserved), or already its own.
        t = self.table
        st = t.state[s]
        if st == FREE or st == RELEASED or st == EXPIRED:
            return True
        return t.key_equals(s, self.kbuf) and (st == OFFERED or st == BOUND)

    def _take(self, s, cl):
        # Gives slot s to the current client: one client holds at most one slot, so its
        # memory elsewhere is dropped, and another client's memory of s is overwritten.
        # Returns False, changing nothing, when its identity needs arena cells that no one can
        # give back (every cell held by a live, offered, declined or reserved slot).
        t = self.table
        kb = self.kbuf
        # cl == s: the client was found in s by this very key, so the keys are equal; a slot
        # with no key equals none (key_equals' answer, without the call).
        eq = cl == s or (t.flags[s] & _F_KEYED != 0 and t.key_equals(s, kb))
        hwf = self.hwform
        khw = t.flags[s] & _F_KEY_HW != 0
        # the same client from another chaddr: its id moves to/from the arena
        same = eq and khw == hwf
        if not same and not hwf and not t.room(cells_for(kb[0]), s, cl):
            return False
        if cl >= 0 and cl != s:
            if t.flags[cl] & F_RESERVED:
                return True
            st = t.state[cl]
            if st == OFFERED or st == BOUND:
                # Moving a live client (it asked for another address): free its old slot.
                if st == OFFERED:
                    self.n_offered -= 1
                t.clear_timer(cl)
                t.state[cl] = FREE
                t.push_tail(cl)
            t.clear_key(cl)
        if t.prv[s] != t.nil or t.head == s:   # t.unlink(s) when in the list (written out)
            t.unlink(s)
        if not same:
            if not eq:
                t.host[s * t.host_len] = 0   # the previous client's hostname is not this one's
            vu = _fast
            if vu is not None:
                # clear_key's index work in machine code when the chain's keys are all in hw
                # fields (it clears the key flags then, and clear_key returns at once)
                vu.unkey(t, s)
            if t.flags[s] & _F_KEYED:   # (clear_key returns at once otherwise: no call)
                t.clear_key(s)   # before set_hw: a key kept in the hw field goes with it
        # A key kept in the hw field that stays is this message's htype + chaddr: set_hw would
        # write the same bytes again (and without a hostname _save_client has nothing to do).
        hw = not (same and hwf)
        if hw or self.req.cnt[HOSTNAME]:
            self._save_client(s, hw)
        if not same:
            t.set_key(s, kb, self.khash, hwf)
        return True

    def _save_client(self, s, hw=True):
        # hardware address and hostname (option 12) for listings and events.
        t = self.table
        b = self.rx
        if hw:
            n = b[_HLEN]
            if n >= HW_ROOM and self._pk_view:
                # t.set_hw(s, htype, hlen, b, _CHADDR) in one C copy (a byte loop costs ~10 us a
                # byte on a board): htype, the first 6 bytes of chaddr, hlen in the flags' top bits.
                p = s * HW_SIZE
                hwf = t.hw
                hwf[p] = b[_HTYPE]
                pack_into("6s", hwf, p + 1, self._rx_chaddr6)
                t.flags[s] = (t.flags[s] & 7) | (n << _HLEN_SHIFT)
            else:
                t.set_hw(s, b[_HTYPE], n, b, _CHADDR)
        req = self.req
        if req.cnt[HOSTNAME]:
            hl = t.host_len
            q = s * hl
            m = req.ln[HOSTNAME]
            if m > hl - 1:
                m = hl - 1
            host = t.host
            host[q] = m
            o = req.off[HOSTNAME]
            for i in range(m):
                host[q + 1 + i] = b[o + i]

    def _lease_for(self):
        # RFC 2131 4.3.1: the client may ask for a lease time (option 51); the server may grant
        # less. We grant between min_lease and lease_time.
        cfg = self.cfg
        req = self.req
        lt = cfg.lease_time
        if req.cnt[LEASE]:
            o = req.off[LEASE]
            b = self.rx
            if b[o] < 0x40:  # below 2**30: safe to build as a small int
                v = (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]
                if v < lt:
                    lt = v if v > cfg.min_lease else cfg.min_lease
        return lt

    # --- REQUEST: RFC 2131 section 4.3.2 -------------------------------------------------
    def _request(self, now, tx):
        req = self.req
        t = self.table
        cl = self._identify()
        if cl < -1:
            return self._refuse(cl)
        if req.cnt[SERVER_ID]:
            b = self.rx
            o = req.off[SERVER_ID]
            v = self.server
            if b[o] != v[0] or b[o + 1] != v[1] or b[o + 2] != v[2] or b[o + 3] != v[3]:   # not _is_ours(o)
                # SELECTING, another server chosen: our offer was declined, so free it.
                if cl >= 0 and t.state[cl] == OFFERED:
                    self._unoffer(cl)
                return self._count(C_OTHER_SERVER)
            # SELECTING, us chosen: option 50 MUST hold the offered address and ciaddr be 0.
            if req.cnt[REQ_ADDR]:
                pos = req.off[REQ_ADDR]
            elif not self._is_zero(_CIADDR):
                pos = _CIADDR   # tolerated: some clients fill ciaddr instead
            else:
                return self._count(C_BAD_REQUEST)
            return self._grant(cl, pos, now, tx, 1)
        if req.cnt[REQ_ADDR]:
            # INIT-REBOOT: verify a remembered address.
            return self._grant(cl, req.off[REQ_ADDR], now, tx, 0)
        if not self._is_zero(_CIADDR):
            # RENEWING (unicast) or REBINDING (broadcast): extend the lease on ciaddr.
            return self._grant(cl, _CIADDR, now, tx, 0)
        return self._count(C_BAD_REQUEST)

    def _unoffer(self, s):
        t = self.table
        self.n_offered -= 1
        t.clear_timer(s)
        if t.flags[s] & F_RESERVED:
            t.state[s] = RESERVED
        else:
            t.state[s] = FREE
            t.push_tail(s)

    def _grant(self, cl, pos, now, tx, selecting):
        t = self.table
        cfg = self.cfg
        reserved = cl >= 0 and t.flags[cl] & F_RESERVED
        if cfg.known_clients_only and not reserved:
            return self._count(C_UNKNOWN_CLIENT)
        # Without authority (another server may own this client) we answer only clients we
        # know or that chose us; RFC 2131 4.3.2 "MUST remain silent" for unknown clients.
        speak = selecting or cfg.authoritative or cl >= 0
        off = self._off_at(pos)
        if off < 0:
            return self._nak(tx, _NAK_WRONG_NET) if speak else self._count(C_IGNORED)
        s = off - t.pool_first   # t.slot_of(off), the pool case written out
        if s < 0 or s >= t.pool_size:
            s = t.slot_of(off)
        if s < 0:
            return self._nak(tx, _NAK_NOT_POOL) if speak else self._count(C_IGNORED)
        if cl >= 0 and cl != s:
            st = t.state[cl]
            if reserved or st == OFFERED or st == BOUND:
                # The client holds another address with us (or a reservation): make it restart.
                return self._nak(tx, _NAK_NOT_YOURS)
        # cl == s: the client was found in s by this very key, so the keys are equal.
        if cl == s or t.key_equals(s, self.kbuf):
            if t.state[s] == DECLINED:
                return self._nak(tx, _NAK_IN_USE)
        else:
            if not self._available_to(s) or t.flags[s] & F_RESERVED:
                return self._nak(tx, _NAK_IN_USE) if speak else self._count(C_IGNORED)
            if not speak:
                return self._count(C_IGNORED)
        self.lease = self._lease_for() if self.req.cnt[LEASE] else cfg.lease_time
        renewing = t.state[s] == BOUND and s == cl
        if not self._take(s, cl):
            return self._count(C_ID_ARENA_FULL)
        return self._bind(s, now, tx, renewing)

    def _bind(self, s, now, tx, renewing):
        t = self.table
        if t.state[s] == OFFERED:
            self.n_offered -= 1
        t.state[s] = BOUND
        vt = _fast
        if vt is not None:
            vt.timer(t, s, now + self.lease)   # set_timer's twin (no Python call)
        else:
            t.set_timer(s, now + self.lease)
        if not renewing and self.on_commit is not None:
            # A new binding reaches the lease store before its ACK leaves (crash safety).
            self.on_commit(s)
        if self.on_event is not None:
            self.on_event(EV_RENEWED if renewing else EV_BOUND, s)
        self.counters[C_ACK] += 1
        return self._reply(tx, DHCPACK, s, 1 if self.req.msg_type == DHCPREQUEST else 2)

    # --- DECLINE and RELEASE: sections 4.3.3 and 4.3.4 -----------------------------------
    def _decline(self, now):
        req = self.req
        t = self.table
        if req.cnt[SERVER_ID] and not self._is_ours(req.off[SERVER_ID]):
            return self._count(C_OTHER_SERVER)
        if not req.cnt[REQ_ADDR]:
            return self._count(C_BAD_REQUEST)
        s = t.slot_of(self._off_at(req.off[REQ_ADDR]))
        cl = self._identify()
        if cl < -1:
            return self._refuse(cl)
        # Only the client holding the address may decline it (no hijacking by forged DECLINEs).
        if s < 0 or cl != s or not (t.state[s] == OFFERED or t.state[s] == BOUND):
            return self._count(C_IGNORED)
        if t.state[s] == OFFERED:
            self.n_offered -= 1
        self.counters[C_DECLINE] += 1
        self._event(EV_DECLINED, s)
        t.state[s] = DECLINED
        t.set_timer(s, now + self.cfg.decline_hold)
        if not t.flags[s] & F_RESERVED:
            t.clear_key(s)
        self._commit(s)
        return 0

    def _release(self, now):
        req = self.req
        t = self.table
        if req.cnt[SERVER_ID] and not self._is_ours(req.off[SERVER_ID]):
            return self._count(C_OTHER_SERVER)
        s = t.slot_of(self._off_at(_CIADDR))
        cl = self._identify()
        if cl < -1:
            return self._refuse(cl)
        if s < 0 or cl != s or t.state[s] != BOUND:
            return self._count(C_IGNORED)
        self.counters[C_RELEASE] += 1
        self._event(EV_RELEASED, s)
        t.clear_timer(s)
        if t.flags[s] & F_RESERVED:
            t.state[s] = RESERVED
        else:
            # Freed, but the key stays: the client gets this address back if it is still free.
            t.state[s] = RELEASED
            t.push_tail(s)
        self._commit(s)
        return 0

    # --- INFORM: section 4.3.5 --------------------------------------------------------------
    def _inform(self, tx):
        self.counters[C_INFORM] += 1
        self._event(EV_INFORM, -1)
        return self._reply(tx, DHCPACK, -1, 0)

    # --- replies: section 4.1, 4.3 and Table 3 -------------------------------------------
    def _nak(self, tx, text):
        self.counters[C_NAK] += 1
        self.nak_text = text
        self._event(EV_NAK, -1)
        return self._reply(tx, DHCPNAK, -1, 0)

    def _reply(self, tx, mtype, s, lease_opts):
        """Writes the reply into tx. s is the slot whose address goes in yiaddr (-1: none).
        lease_opts: 1 = ACK to REQUEST or OFFER (51, 58, 59), 2 = ACK via rapid commit."""
        rx = self.rx
        req = self.req
        cnt = req.cnt
        cfg = self.cfg
        pk = pack_into      # a global looked up once, not per field
        if mtype == DHCPOFFER:
            lease_opts = 1
        tl = len(tx)
        # Zero what an earlier reply wrote (all of a buffer seen for the first time): the
        # padding the shell may send must be zeros (RFC 2131 section 2). One zero-filling
        # pack_into of the dirty length rounded up to 64 bytes (zeroing past it is harmless).
        d = self._dirty
        if tx is not self._dirty_tx or d < 0 or d > tl:
            d = tl
            self._dirty_tx = tx
        k = (d + 63) >> 6
        if k < len(_ZFMT) and k << 6 <= tl:
            pk(_ZFMT[k], tx, 0, b"")
        else:
            self._clear(tx, d)
        # Header, Table 3: op, htype, hlen echoed, hops 0, xid, secs 0, flags and giaddr echoed.
        # (pack_into copies exactly the field; a slice store would also move the rest of tx.)
        ciaddr = mtype != DHCPNAK and req.msg_type != DHCPDISCOVER
        vh = _fast
        if vh is not None and tl >= _CHADDR + 16:
            # the header fields below in one machine-code call (it does not check tx's length:
            # a buffer too short for the header takes the plain path, which raises)
            vh.head(rx, tx, ciaddr)
        elif self._pk_view:
            tx[_OP] = _BOOTREPLY
            tx[_HTYPE] = rx[_HTYPE]
            tx[_HLEN] = rx[_HLEN]
            pk("4s", tx, _XID, self._rx_xid)
            pk("2s", tx, _FLAGS, self._rx_flags)
            pk("20s", tx, _GIADDR, self._rx_relay_hw)
            if ciaddr:
                # ciaddr echoed in ACKs (REQUEST and INFORM); 0 in OFFER and NAK.
                pk("4s", tx, _CIADDR, self._rx_ciaddr)
        else:
            tx[_OP] = _BOOTREPLY
            tx[_HTYPE] = rx[_HTYPE]
            tx[_HLEN] = rx[_HLEN]
            tx[_XID:_XID + 4] = self._rx_xid
            tx[_FLAGS:_FLAGS + 2] = self._rx_flags
            tx[_GIADDR:_CHADDR + 16] = self._rx_relay_hw
            if ciaddr:
                tx[_CIADDR:_CIADDR + 4] = self._rx_ciaddr
        if s >= 0:
            # yiaddr: network | host offset (offsets stay below 2**24); table.offset_of written out
            t = self.table
            off = t.pool_first + s if s < t.pool_size else t.offset_of(s)
            y = self._yi
            pk(">HH", tx, _YIADDR, y[0] | ((off >> 16) & y[1]), y[2] | (off & y[3]))

        # Room: RFC 2132 9.10 option 57 (never below 576), else 576; minus IP+UDP headers.
        limit = _DEFAULT_MAX
        if cnt[MAX_SIZE]:
            o = req.off[MAX_SIZE]
            v = (rx[o] << 8) | rx[o + 1]
            if v > _DEFAULT_MAX + _IP_UDP:
                limit = v - _IP_UDP
        if limit > tl:
            limit = tl
        self.reply_max = limit   # the shell may zero-pad a reply up to this length
        # Keep room for the relay agent option (echoed last, RFC 3046 2.2) and END.
        if cnt[RELAY]:
            limit -= 2 + req.ln[RELAY]
        limit -= 1

        # RFC 2131 Table 3 lists option 53 first; clients like MicroPython's need it first.
        if lease_opts and self.lease == cfg.lease_time and _OPTIONS + 27 <= limit:
            # The common case in one copy: cookie, 53, 54, and the configured lease with its
            # T1/T2 (51, 58, 59), as the lines below would write them one by one.
            pk("31s", tx, _COOKIE, self._head_lease)
            tx[_OPTIONS + 2] = mtype
            pos = _OPTIONS + 27
            lease_opts |= 4   # written
        else:
            pk("4s", tx, _COOKIE, _MAGIC)
            pos = _OPTIONS
            tx[pos] = _OPT_MSG_TYPE
            tx[pos + 1] = 1
            tx[pos + 2] = mtype
            pos += 3
            if pos + 6 <= limit:
                pk("6s", tx, pos, self._sid)
                pos += 6
        if mtype == DHCPNAK:
            pos = self._put_opt(tx, pos, limit, _OPT_MESSAGE, self.nak_text, 0, len(self.nak_text))
        if lease_opts & 4:
            lease_opts &= 3
        elif lease_opts and self.lease == cfg.lease_time and pos + 18 <= limit:
            # The configured lease with its T1/T2: options 51, 58, 59 encoded once (_lease_tlv).
            pk("18s", tx, pos, self._lease_tlv)
            pos += 18
        elif lease_opts:
            lt = self.lease
            pos = self._put_u32(tx, pos, limit, _OPT_LEASE_TIME, lt)
            if lt == cfg.lease_time:
                t1 = cfg.renew_time
                t2 = cfg.rebind_time
            else:
                # A shorter granted lease scales T1/T2 (fractions of 1/1024, small ints only).
                t1 = (lt >> 10) * cfg.t1_frac + (((lt & 1023) * cfg.t1_frac) >> 10)
                t2 = (lt >> 10) * cfg.t2_frac + (((lt & 1023) * cfg.t2_frac) >> 10)
            pos = self._put_u32(tx, pos, limit, _OPT_RENEWAL_T1, t1)
            pos = self._put_u32(tx, pos, limit, _OPT_REBINDING_T2, t2)
        if lease_opts == 2:
            tx[pos] = _OPT_RAPID_COMMIT   # RFC 4039 section 4: ACK carries an empty option 80
            tx[pos + 1] = 0
            pos += 2
        if cnt[CLIENT_ID]:
            # RFC 6842: echo the client identifier, NAK included.
            n = req.ln[CLIENT_ID]
            o = req.off[CLIENT_ID]
            if n < 255 and pos + 2 + n <= limit:
                # one instance (the common case, inlined)
                tx[pos] = _OPT_CLIENT_ID
                tx[pos + 1] = n
                pos += 2
                if n == 7 and self.kid and self._pk_view:
                    # the usual 01 + MAC, already copied into kbuf by _identify: one C copy
                    pk("7s", tx, pos, self._kb7)
                else:
                    for i in range(n):
                        tx[pos + i] = rx[o + i]
                pos += n
            else:
                pos = self._put_opt(tx, pos, limit, _OPT_CLIENT_ID, rx, o, n)
        if mtype != DHCPNAK:
            if vh is not None:
                vh.options(self, tx, pos, limit, req)   # _put_params' twin, called from here
                pos = req.res[6]
            else:
                pos = self._put_params(tx, pos, limit)
        if cnt[RELAY]:
            pos = self._put_opt(tx, pos, limit + 2 + req.ln[RELAY], _OPT_RELAY_AGENT, rx, req.off[RELAY], req.ln[RELAY])
        tx[pos] = _OPT_END
        pos += 1
        self._dirty = pos
        if pos < _MIN_REPLY:
            pos = _MIN_REPLY
        # RFC 2131 section 4.1: relay -> giaddr:67; a NAK without relay is broadcast; ciaddr set
        # -> ciaddr:68; otherwise broadcast (unicast to yiaddr would need an ARP entry we cannot add).
        dst = self.dst
        if rx[_GIADDR] | rx[_GIADDR + 1] | rx[_GIADDR + 2] | rx[_GIADDR + 3]:
            dst[0:4] = self._rx_giaddr
            self.dst_port = _SERVER_PORT
            self.dst_kind = DST_UNICAST
            if mtype == DHCPNAK:
                tx[_FLAGS] |= _FLAG_BROADCAST   # RFC 2131 4.3.2: relay must broadcast the NAK
        else:
            self.dst_port = _CLIENT_PORT
            if mtype != DHCPNAK and (rx[_CIADDR] | rx[_CIADDR + 1] | rx[_CIADDR + 2] | rx[_CIADDR + 3]):
                dst[0:4] = self._rx_ciaddr
                self.dst_kind = DST_UNICAST
            else:
                dst[0:4] = self.reply_broadcast
                self.dst_kind = DST_BROADCAST
        self.counters[C_REPLIED] += 1
        return pos

    def _clear(self, tx, d):
        # The first d bytes of tx zeroed 64 at a time, when _reply's one pack_into cannot (a
        # buffer of another size than TX_SIZE).
        a = 0
        while a + 64 <= d:
            pack_into("64s", tx, a, b"")   # zero-fills 64 bytes (see _ZFMT)
            a += 64
        while a < d:
            tx[a] = 0
            a += 1

    def _put_params(self, tx, pos, limit):
        # RFC 2132 9.8: requested options in the order of the parameter request list; then
        # the always-sent ones the list did not name. Options 108 only when requested (RFC 8925).
        # An option that does not fit whole is left out, never cut.
        rx = self.rx
        req = self.req
        oix = self._oix
        enc = self._enc
        fmt = self._efmt
        mark = self._mark
        pk = pack_into      # a global looked up once, not per option
        vp = _fast
        if vp is not None:
            vp.options(self, tx, pos, limit, req)   # all of it, the generation below included
            return req.res[6]
        g = self._gen + 1
        if g > 255:
            pack_into("256s", mark, 0, b"")   # zero-fills (see _ZFMT)
            g = 1
        self._gen = g
        if req.cnt[PRL]:
            o = req.off[PRL]
            for i in range(o, o + req.ln[PRL]):
                code = rx[i]
                j = oix[code]
                # A code listed twice is written once; a listed always-sent one only here.
                if j and mark[code] != g:
                    mark[code] = g
                    e = enc[j - 1]
                    k = len(e)
                    if pos + k <= limit:
                        pk(fmt[j - 1], tx, pos, e)
                        pos += k
        for code in self.always:
            if mark[code] != g:
                j = oix[code] - 1
                e = enc[j]
                k = len(e)
                if pos + k <= limit:
                    pk(fmt[j], tx, pos, e)
                    pos += k
        return pos

    def _put_opt(self, tx, pos, limit, code, src, so, n):
        # Writes one option, split into 255-byte instances when longer (RFC 3396). An option
        # that does not fit whole is left out, never cut.
        need = n + 2 * ((n + 254) // 255 if n else 1)
        if pos + need > limit:
            return pos
        if so == 0 and n == len(src) and n < 256:
            # A whole value (configured options, server id, NAK text): one slice store.
            tx[pos] = code
            tx[pos + 1] = n
            tx[pos + 2:pos + 2 + n] = src
            return pos + 2 + n
        while True:
            k = n if n < 255 else 255
            tx[pos] = code
            tx[pos + 1] = k
            pos += 2
            for i in range(k):
                tx[pos + i] = src[so + i]
            pos += k
            so += k
            n -= k
            if n <= 0:
                return pos

    def _put_u32(self, tx, pos, limit, code, v):
        if pos + 6 > limit:
            return pos
        tx[pos] = code
        tx[pos + 1] = 4
        tx[pos + 2] = (v >> 24) & 255
        tx[pos + 3] = (v >> 16) & 255
        tx[pos + 4] = (v >> 8) & 255
        tx[pos + 5] = v & 255
        return pos + 6
