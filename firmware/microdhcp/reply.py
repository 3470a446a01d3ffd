# MIT license; Copyright (c) 2026 the microdhcp authors
# microdhcp.reply: the engine's reply builder (RFC 2131 sections 4.1 and 4.3, Table 3; RFC 2132,
# RFC 3396, RFC 4039, RFC 6842, RFC 3046). The engine decides; these functions only write what it
# decided into the caller's tx buffer and set the destination. They are methods of engine.Engine
# (bound into its class dict there, so `self._reply(...)` costs the one class look-up it always
# did): `self` is the engine. Allocation-free after prepare(), like the rest of the hot path.
try:
    from micropython import const
except ImportError:
    def const(x):
        return x

from struct import pack_into

# The machine-code twins (microdhcp.fast) of put_params (options) and reply's header, else None (see
# engine.py, where the same module is imported for the key twins; tests set both to None).
try:
    import microdhcp.fast as _fast
except (ImportError, SyntaxError, NameError):   # see fast.py's header
    _fast = None  # type: ignore[assignment]  # (mypy: None where a module was imported)

# RFC 2131 section 2 header offsets (the ones a reply writes; engine.py keeps those it reads).
_OP = const(0)
_HOPS = const(3)
_SECS = const(8)
_FLAGS = const(10)
_CIADDR = const(12)
_YIADDR = const(16)
_GIADDR = const(24)
_CHADDR = const(28)
_COOKIE = const(236)
_OPTIONS = const(240)
_BOOTREPLY = const(2)
_FLAG_BROADCAST = const(0x80)   # high bit of the flags field (RFC 2131 section 2, figure 2)

# RFC 2132 section 9.6 message types a reply tells apart (codes.DHCPDISCOVER, ...).
_DHCPDISCOVER = const(1)
_DHCPOFFER = const(2)
_DHCPNAK = const(6)

# RFC 2132 option codes a reply writes.
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
_TX_SIZE = const(1500)            # engine.tx at most: an Ethernet-sized reply (net.Server sends from it)
# The longest reply engine.tx must hold beside the configured options (see tx_size): the
# header and cookie (240), 53 (3), 54 (6), 61 echoed (RFC 6842: a client id over codes.MAX_ID
# = 64 bytes is refused, so 66 with code and length), 82 echoed (RFC 3046 2.2: one instance of at
# most 255 bytes, 257), END (1); then the larger of a NAK's option 56 (the longest _NAK_ text,
# 28 + 2) and an ACK's 51, 58, 59 (18) + 80 (2) + the options. (A longer 61 is echoed only in
# replies to INFORM and to a client whose MAC is reserved, which identity does not refuse: it
# fits beside everything but a long 82, and is left out where it does not, as any option.)
_REPLY_BASE = const(573)
_NAK_ROOM = const(30)
_LEASE_ROOM = const(20)
_DEFAULT_MAX = const(548)        # RFC 2131 section 2: 576-byte datagram minus IP and UDP headers
_IP_UDP = const(28)
_C_REPLIED = const(9)            # codes.C_REPLIED: the counter of replies built
# packet.Request's option indexes a reply reads, as constants here: an imported name would be a
# global looked up per use (about eight per reply); test_fastpaths checks them against codes.py.
_PRL = const(5)                  # codes.PRL, option 55
_MAX_SIZE = const(6)             # codes.MAX_SIZE, option 57
_CLIENT_ID = const(7)            # codes.CLIENT_ID, option 61
_RELAY = const(9)                # codes.RELAY, option 82

# Destination kinds for the socket shell (codes.DST_BROADCAST, codes.DST_UNICAST).
_DST_BROADCAST = const(0)   # self.reply_broadcast, port 68
_DST_UNICAST = const(1)     # self.dst, port self.dst_port

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
    PK_VIEW = True
except Exception:   # CPython: struct.error
    PK_VIEW = False
_MAGIC = b"\x63\x82\x53\x63"     # RFC 2131 section 3 magic cookie, 99.130.83.99


def encode(code, v):
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


def tx_size(config):
    # The length of engine.tx for this configuration: the longest reply it can build
    # (_REPLY_BASE), at least the 548 bytes of a 576-octet datagram every client takes (RFC 2131
    # section 2; more only for a client's option 57, RFC 2132 9.10), rounded up to 64 for reply()'s
    # one-call zeroing, at most _TX_SIZE. A longer reply cannot happen but through a 61 over
    # codes.MAX_ID (see _REPLY_BASE) or a 61 or 82 split past 255 bytes (RFC 3396) in a reply to a
    # client whose option 57 allows more: that echo is then left out, as every option that does
    # not fit (docs/performance.md, "Memory").
    need = _LEASE_ROOM
    for v in config.options.values():
        k = len(v)
        need += k + 2 * ((k + 254) // 255 if k else 1)
    need = _REPLY_BASE + (need if need > _NAK_ROOM else _NAK_ROOM)
    need = (need + 63) & ~63
    return need if need < _TX_SIZE else _TX_SIZE


def prepare(self, config):
    # The reply's parts that never change, made once by Engine.__init__ (self is the engine).
    # Configured options encoded once (RFC 3396 split included) with the pack_into format that
    # copies each: a reply writes one with one C call. _oix[code] = index + 1 in _enc/_efmt
    # (0: not configured), up to the highest configured code (a code past its end is not
    # configured); _mark[index + 1] == _gen: written already in this reply (one byte per
    # configured option, not per code: only those are ever written).
    opts = config.options
    top = 0
    for code in opts:
        if code > top:
            top = code
    self._oix = bytearray(top + 1)
    self._enc = [None] * len(opts)    # made at their size: lists grown by appends leave holes
    self._efmt = [""] * len(opts)
    j = 0
    for code in opts:
        e = encode(code, opts[code])
        self._enc[j] = e
        self._efmt[j] = "%ds" % len(e)
        j += 1
        self._oix[code] = j
    self._mark = bytearray(len(opts) + 1)
    self._gen = 0
    # What starts every OFFER and ACK with the configured lease, written with one pack_into:
    # the cookie, option 53 (its value set per reply), 54, then 51, 58 and 59; its first 13
    # bytes (cookie, 53, 54) start every other reply.
    h = bytearray(31)
    pack_into("4sBBB", h, 0, _MAGIC, _OPT_MSG_TYPE, 1, 0)
    s = self.server
    pack_into("BBBBBB", h, 7, _OPT_SERVER_ID, 4, s[0], s[1], s[2], s[3])
    put_u32(self, h, 13, 31, _OPT_LEASE_TIME, config.lease_time)
    put_u32(self, h, 19, 31, _OPT_RENEWAL_T1, config.renew_time)
    put_u32(self, h, 25, 31, _OPT_REBINDING_T2, config.rebind_time)
    self._head_lease = h
    # yiaddr in two 16-bit halves: (network's high half, host bits of it, low half, host bits)
    net = self.network
    m = self.mask
    self._yi = (net[0] << 8 | net[1], (~m[0] & 255) << 8 | (~m[1] & 255),
                net[2] << 8 | net[3], (~m[2] & 255) << 8 | (~m[3] & 255))


def reply(self, tx, mtype, s, lease_opts):
    """Writes the reply into tx. s is the slot whose address goes in yiaddr (-1: none).
    lease_opts: 1 = ACK to REQUEST or OFFER (51, 58, 59), 2 = ACK via rapid commit."""
    rx = self.rx
    req = self.req
    cnt = req.cnt
    cfg = self.cfg
    pk = pack_into      # a global looked up once, not per field
    if mtype == _DHCPOFFER:
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
    ciaddr = mtype != _DHCPNAK and req.msg_type != _DHCPDISCOVER
    vh = _fast
    if vh is not None and tl >= _CHADDR + 16:
        # the header fields below in one machine-code call (it does not check tx's length:
        # a buffer too short for the header takes the plain path, which raises)
        vh.head(rx, tx, ciaddr)
    else:
        # op .. chaddr copied whole (one C call: "44s" copies the first 44 bytes; CPython's
        # pack_into takes only bytes, so a slice there), then what is not echoed is set: op,
        # hops 0, secs 0, and ciaddr (echoed in ACKs to REQUEST and INFORM only), yiaddr and
        # siaddr zeroed ("Ns" with b"" writes N zeros; MicroPython's pack_into writes nothing
        # for a format of pad bytes alone, py/modstruct.c:189).
        if self._pk_view:
            pk("44s", tx, 0, rx)
        else:
            tx[0:_CHADDR + 16] = rx[0:_CHADDR + 16]
        tx[_OP] = _BOOTREPLY
        tx[_HOPS] = 0
        tx[_SECS] = 0
        tx[_SECS + 1] = 0
        if ciaddr:
            pk("8s", tx, _YIADDR, b"")
        else:
            pk("12s", tx, _CIADDR, b"")
    if s >= 0:
        # yiaddr: network | host offset (offsets stay below 2**24); table.offset_of written out
        t = self.table
        off = t.pool_first + s if s < t.pool_size else t.offset_of(s)
        y = self._yi
        pk(">HH", tx, _YIADDR, y[0] | ((off >> 16) & y[1]), y[2] | (off & y[3]))

    # Room: RFC 2132 9.10 option 57 (never below 576), else 576; minus IP+UDP headers.
    limit = _DEFAULT_MAX
    if cnt[_MAX_SIZE]:
        o = req.off[_MAX_SIZE]
        v = (rx[o] << 8) | rx[o + 1]
        if v > _DEFAULT_MAX + _IP_UDP:
            limit = v - _IP_UDP
    if limit > tl:
        limit = tl
    self.reply_max = limit   # the shell may zero-pad a reply up to this length
    # Keep room for the relay agent option (echoed last, RFC 3046 2.2) and END.
    if cnt[_RELAY]:
        limit -= 2 + req.ln[_RELAY]
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
        # cookie, 53 and, where it fits, 54: the first 13 (or 7) bytes of _head_lease
        if _OPTIONS + 9 <= limit:
            pk("13s", tx, _COOKIE, self._head_lease)
            pos = _OPTIONS + 9
        else:
            pk("7s", tx, _COOKIE, self._head_lease)
            pos = _OPTIONS + 3
        tx[_OPTIONS + 2] = mtype
    if mtype == _DHCPNAK:
        pos = self._put_opt(tx, pos, limit, _OPT_MESSAGE, self.nak_text, 0, len(self.nak_text))
    # (the configured lease that did not fit with the head above cannot fit here either: 54
    # came before it, so the lines below take the lease one option at a time, each where it fits)
    if lease_opts & 4:
        lease_opts &= 3
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
    if cnt[_CLIENT_ID]:
        # RFC 6842: echo the client identifier, NAK included.
        n = req.ln[_CLIENT_ID]
        o = req.off[_CLIENT_ID]
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
    if mtype != _DHCPNAK:
        if vh is not None:
            vh.options(self, tx, pos, limit, req)   # put_params' twin, called from here
            pos = req.res[6]
        else:
            pos = self._put_params(tx, pos, limit)
    if cnt[_RELAY]:
        pos = self._put_opt(tx, pos, limit + 2 + req.ln[_RELAY], _OPT_RELAY_AGENT, rx, req.off[_RELAY], req.ln[_RELAY])
    tx[pos] = _OPT_END
    pos += 1
    self._dirty = pos
    if pos < _MIN_REPLY:
        pos = _MIN_REPLY
    # RFC 2131 section 4.1: relay -> giaddr:67; a NAK without relay is broadcast; ciaddr set
    # -> ciaddr:68; otherwise broadcast (unicast to yiaddr would need an ARP entry we cannot add).
    dst = self.dst
    if rx[_GIADDR] | rx[_GIADDR + 1] | rx[_GIADDR + 2] | rx[_GIADDR + 3]:
        dst[0] = rx[_GIADDR]
        dst[1] = rx[_GIADDR + 1]
        dst[2] = rx[_GIADDR + 2]
        dst[3] = rx[_GIADDR + 3]
        self.dst_port = _SERVER_PORT
        self.dst_kind = _DST_UNICAST
        if mtype == _DHCPNAK:
            tx[_FLAGS] |= _FLAG_BROADCAST   # RFC 2131 4.3.2: relay must broadcast the NAK
    else:
        self.dst_port = _CLIENT_PORT
        if mtype != _DHCPNAK and (rx[_CIADDR] | rx[_CIADDR + 1] | rx[_CIADDR + 2] | rx[_CIADDR + 3]):
            dst[0] = rx[_CIADDR]
            dst[1] = rx[_CIADDR + 1]
            dst[2] = rx[_CIADDR + 2]
            dst[3] = rx[_CIADDR + 3]
            self.dst_kind = _DST_UNICAST
        else:
            dst[0:4] = self.reply_broadcast
            self.dst_kind = _DST_BROADCAST
    self.counters[_C_REPLIED] += 1
    return pos

def clear(self, tx, d):
    # The first d bytes of tx zeroed 64 at a time, when _reply's one pack_into cannot (a
    # buffer of another size than _TX_SIZE).
    a = 0
    while a + 64 <= d:
        pack_into("64s", tx, a, b"")   # zero-fills 64 bytes (see _ZFMT)
        a += 64
    while a < d:
        tx[a] = 0
        a += 1

def put_params(self, tx, pos, limit):
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
        for i in range(len(mark)):     # once in 255 replies (a counted loop: no range object)
            mark[i] = 0
        g = 1
    self._gen = g
    if req.cnt[_PRL]:
        o = req.off[_PRL]
        top = len(oix)
        for i in range(o, o + req.ln[_PRL]):
            c = rx[i]
            j = oix[c] if c < top else 0
            # A code listed twice is written once; a listed always-sent one only here.
            if j and mark[j] != g:
                mark[j] = g
                e = enc[j - 1]
                k = len(e)
                if pos + k <= limit:
                    pk(fmt[j - 1], tx, pos, e)
                    pos += k
    for code in self.always:
        j = oix[code]
        if mark[j] != g:
            e = enc[j - 1]
            k = len(e)
            if pos + k <= limit:
                pk(fmt[j - 1], tx, pos, e)
                pos += k
    return pos

def put_opt(self, tx, pos, limit, code, src, so, n):
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

def put_u32(self, tx, pos, limit, code, v):
    if pos + 6 > limit:
        return pos
    tx[pos] = code
    tx[pos + 1] = 4
    tx[pos + 2] = (v >> 24) & 255
    tx[pos + 3] = (v >> 16) & 255
    tx[pos + 4] = (v >> 8) & 255
    tx[pos + 5] = v & 255
    return pos + 6
