# MIT license; Copyright (c) 2026 the microdhcp authors
# microdhcp.clientmsg: the client's messages on the wire (RFC 2131 section 2, RFC 2132). write()
# lays out a request whose contents microdhcp.client has chosen (table 5); Reply parses a server's
# OFFER/ACK/NAK into offsets. Neither allocates after construction (proved with the client's
# poll() and handle() under micropython.heap_lock() in host_tests/core/test_client.py).
try:
    from micropython import const
except ImportError:
    def const(x):  # type: ignore[misc]  # CPython fallback; the stubs' const is generic
        return x

from array import array
from microdhcp import packet

# RFC 2131 section 2 header offsets and limits.
_OP = const(0)
_HTYPE = const(1)
_HLEN = const(2)
_XID = const(4)
_SECS = const(8)
_FLAGS = const(10)
_CIADDR = const(12)
_CHADDR = const(28)
_SNAME = const(44)
_FILE = const(108)
_COOKIE = const(236)
_OPTIONS = const(240)
_CHADDR_LEN = const(16)
_BOOTREQUEST = const(1)
_BOOTREPLY = const(2)
_HTYPE_ETHER = const(1)       # RFC 1700 hardware type 1 = Ethernet (10 Mb)

# RFC 2132 option codes the writer puts in.
_OPT_HOSTNAME = const(12)
_OPT_REQ_ADDR = const(50)
_OPT_MSG_TYPE = const(53)
_OPT_SERVER_ID = const(54)
_OPT_PRL = const(55)
_OPT_CLIENT_ID = const(61)
_OPT_END = const(255)
_MIN_MSG = const(300)         # RFC 1542 section 2.1: a shorter message is padded to 300 bytes

_MAX_TIME = const(0x0FFFFFFF)   # longer times (RFC 2132 9.2: 0xffffffff = infinite) are capped
TX_MIN = const(1152)            # longest message: header 240 + 53, 61, 50, 54, 12, 55 at most + END, in 64-byte steps
_Z64 = bytes(64)


def _put(tx, p, code, value):
    # One option (RFC 2132 section 2: code, length, value) at p; returns the offset after it.
    n = len(value)
    tx[p] = code
    tx[p + 1] = n
    p += 2
    i = 0
    while i < n:
        tx[p + i] = value[i]
        i += 1
    return p + n


def _put4(buf, pos, src):
    buf[pos] = src[0]
    buf[pos + 1] = src[1]
    buf[pos + 2] = src[2]
    buf[pos + 3] = src[3]


def same4(a, ao, b, bo):
    # Whether a[ao:ao+4] == b[bo:bo+4], without the slices (they would allocate).
    i = 0
    while i < 4:
        if a[ao + i] != b[bo + i]:
            return False
        i += 1
    return True


def write(tx, dirty, mtype, xid, secs, broadcast, ciaddr, mac, client_id, req_addr, server_id,
          hostname, prl):
    """A BOOTREQUEST in tx: op, htype 1, hlen 6, xid, secs, the broadcast flag, ciaddr (4 bytes
    or None: zero), chaddr = mac, the cookie, option 53 = mtype first, then 61 (client_id, if
    non-empty), 50 (req_addr), 54 (server_id), 12 (hostname), 55 (prl), each left out when None
    or empty, and END. Zeroed first: the first `dirty` bytes (what this client's last message
    wrote) and at least the 300 a short message is sent padded to, so the padding is zeros
    whatever the buffer held (another client's longer message on a shared tx, as in
    clientnet.ClientSocket with a list; RFC 2131 section 2). Bytes past both are never sent.
    Returns the offset after END (the caller pads to the RFC 1542 minimum)."""
    if len(tx) < TX_MIN:
        raise ValueError("tx buffer shorter than TX_MIN")
    z = _Z64
    a = 0
    while a < dirty or a < _MIN_MSG:
        tx[a:a + 64] = z
        a += 64
    tx[_OP] = _BOOTREQUEST
    tx[_HTYPE] = _HTYPE_ETHER
    tx[_HLEN] = 6
    _put4(tx, _XID, xid)
    tx[_SECS] = secs >> 8
    tx[_SECS + 1] = secs & 255
    if broadcast:
        tx[_FLAGS] = 0x80          # RFC 2131 section 2: the B flag, leftmost bit of 'flags'
    if ciaddr is not None:
        _put4(tx, _CIADDR, ciaddr)
    i = 0
    while i < 6:
        tx[_CHADDR + i] = mac[i]
        i += 1
    tx[_COOKIE] = 99               # RFC 2131 section 3: magic cookie 99.130.83.99
    tx[_COOKIE + 1] = 130
    tx[_COOKIE + 2] = 83
    tx[_COOKIE + 3] = 99
    p = _OPTIONS
    tx[p] = _OPT_MSG_TYPE
    tx[p + 1] = 1
    tx[p + 2] = mtype
    p += 3
    if client_id:
        p = _put(tx, p, _OPT_CLIENT_ID, client_id)
    if req_addr is not None:
        p = _put(tx, p, _OPT_REQ_ADDR, req_addr)
    if server_id is not None:
        p = _put(tx, p, _OPT_SERVER_ID, server_id)
    if hostname:
        p = _put(tx, p, _OPT_HOSTNAME, hostname)
    if prl:
        p = _put(tx, p, _OPT_PRL, prl)
    tx[p] = _OPT_END
    return p + 1


# --- server replies (the client's parser) ------------------------------------------------------
# The parser's parse results (codes.E_*), the same numbers (the client's counters 1..8 follow them).
_E_SHORT = const(1)
_E_NOT_REQUEST = const(2)
_E_HLEN = const(3)
_E_COOKIE = const(4)
_E_NO_TYPE = const(6)
_E_BAD_LEN = const(7)
_RX_MAX = const(1500)            # codes.RX_MAX: the longest datagram
_SCRATCH = const(1024)           # codes.SCRATCH: room for RFC 3396 joins in a reply

# Options a client reads from an OFFER/ACK/NAK (RFC 2132), and their fixed lengths (-1: any,
# -4: a non-empty multiple of 4, i.e. a list of addresses).
REPLY_TRACKED = (1, 3, 6, 12, 15, 28, 42, 51, 53, 54, 56, 58, 59, 61)
_REPLY_FIXED = (4, -4, -4, -1, -1, 4, -4, 4, 1, 4, -1, 4, 4, -1)


class Reply(packet.Request):
    """View of a parsed server message (op BOOTREPLY), same storage and option walk as Request.
    `codes` chooses the tracked options (a host tool may track them all); slot(code) gives the
    index for cnt/off/ln, or -1. Nothing allocates after construction."""

    def __init__(self, codes=REPLY_TRACKED, fixed=None):
        nt = len(codes)
        self.buf = bytearray(_RX_MAX + _SCRATCH)
        self.work = self.buf    # where Request._add joins: here always the one buffer
        self.n = 0
        self.off = array("H", [0] * nt)
        self.ln = array("H", [0] * nt)
        self.cnt = bytearray(nt)
        self._zero = bytes(nt)
        self._nt = nt
        # Built here (the client's own codes); the server's Request keeps a bytes literal in flash.
        track = bytearray(256)
        self.codes = codes
        fx = bytearray(nt)   # 0: any, 4: exactly 4, 1: exactly 1, 255: multiple of 4
        for i in range(nt):
            track[codes[i]] = i + 1
            c = codes[i]
            if c in REPLY_TRACKED:
                f = _REPLY_FIXED[REPLY_TRACKED.index(c)]
                fx[i] = 255 if f == -4 else (0 if f < 0 else f)
        self._fx = fx
        self._track = track  # type: ignore[assignment]  # a bytearray where Request keeps bytes: read-only after this
        self._type_slot = track[53] - 1
        self.tail = _RX_MAX
        self.msg_type = 0
        self.overload = 0

    def slot(self, code):
        return self._track[code] - 1

    def parse(self, n, data=None):
        # Returns 0 or a drop reason (packet's E_ codes; E_NOT_REQUEST here means "not a
        # BOOTREPLY"). Never raises for any content of buf[:n]. The client receives into buf
        # and parses it there (data: Request.parse's argument, None or buf itself here).
        if data is not None and data is not self.buf:
            raise ValueError("Reply parses its own buffer")
        b = self.buf
        self.n = n
        self.cnt[0:self._nt] = self._zero
        self.tail = n
        self.msg_type = 0
        self.overload = 0
        if n < _OPTIONS:
            return _E_SHORT
        if b[_OP] != _BOOTREPLY:
            return _E_NOT_REQUEST
        if b[_HLEN] < 1 or b[_HLEN] > _CHADDR_LEN:
            return _E_HLEN
        if b[_COOKIE] != 99 or b[_COOKIE + 1] != 130 or b[_COOKIE + 2] != 83 or b[_COOKIE + 3] != 99:
            return _E_COOKIE
        err = self._walk(b, _OPTIONS, n, 1)
        ov = self.overload
        if not err and ov & 1:
            err = self._walk(b, _FILE, _COOKIE, 0)
        if not err and ov & 2:
            err = self._walk(b, _SNAME, _FILE, 0)
        if err:
            return err
        fx = self._fx
        ts = self._type_slot
        for i in range(self._nt):
            if self.cnt[i]:
                f = fx[i]
                ln = self.ln[i]
                if (f == 255 and (ln == 0 or ln & 3)) or (f and f != 255 and ln != f):
                    return _E_NO_TYPE if i == ts else _E_BAD_LEN
        if ts < 0 or not self.cnt[ts]:
            return _E_NO_TYPE
        t = b[self.off[ts]]
        if t < 1 or t > 8:
            return _E_NO_TYPE
        self.msg_type = t
        return 0

    def seconds(self, pos):
        # The 32-bit time at buf[pos] (RFC 2132 9.2, 9.11, 9.12), capped at _MAX_TIME so that it
        # never reaches 2**30.
        b = self.buf
        if b[pos] >= 0x10:
            return _MAX_TIME
        return (b[pos] << 24) | (b[pos + 1] << 16) | (b[pos + 2] << 8) | b[pos + 3]

    def copy4(self, dst, pos):
        # buf[pos:pos+4] into dst without a slice; zeros when pos < 0 (the option was absent).
        b = self.buf
        i = 0
        while i < 4:
            dst[i] = b[pos + i] if pos >= 0 else 0
            i += 1
