# MIT license; Copyright (c) 2026 the microdhcp authors
# microdhcp.packet: parses a client message in place over the receive buffer (RFC 2131 section 2,
# RFC 2132, RFC 3396). No allocation: every result is a small int stored in a preallocated slot.
# (The client's parser of server replies, Reply, builds on Request in client.py: a server never
# loads it.)
try:
    from micropython import const
except ImportError:
    def const(x):
        return x

from array import array

# RFC 2131 section 2, figure 1: fixed header offsets.
_OP = const(0)
_HTYPE = const(1)
_HLEN = const(2)
_CHADDR = const(28)
_SNAME = const(44)
_FILE = const(108)
_COOKIE = const(236)
_OPTIONS = const(240)
_BOOTREQUEST = const(1)
_CHADDR_LEN = const(16)

# RFC 2132 codes the parser cares about.
_OPT_PAD = const(0)
_OPT_END = const(255)
_OPT_OVERLOAD = const(52)   # RFC 2132 9.3: 1 = file, 2 = sname, 3 = both

# Indexes of the options the engine reads; the order is the order of TRACKED.
HOSTNAME = const(0)      # 12
REQ_ADDR = const(1)      # 50
LEASE = const(2)         # 51
MSG_TYPE = const(3)      # 53
SERVER_ID = const(4)     # 54
PRL = const(5)           # 55
MAX_SIZE = const(6)      # 57
CLIENT_ID = const(7)     # 61
RAPID = const(8)         # 80, RFC 4039
RELAY = const(9)         # 82, RFC 3046
TRACKED = (12, 50, 51, 53, 54, 55, 57, 61, 80, 82)
# code -> index + 1 in TRACKED (0: not read): 12 -> 1, 50 -> 2, 51 -> 3, 53 -> 4, 54 -> 5, 55 -> 6,
# 57 -> 7, 61 -> 8, 80 -> 9, 82 -> 10. A bytes literal: frozen into a board's flash it costs no RAM
# (the bytearray built at start-up before took 272 bytes of heap); test_fastpaths checks it.
_TRACK = (b"\0\0\0\0\0\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
          b"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x02\x03\0\x04\x05\x06\0\x07\0\0\0\x08\0\0"
          b"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x09\0\x0a\0\0\0\0\0\0\0\0\0\0\0\0\0"
          b"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
          b"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
          b"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
          b"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
          b"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0")
_NTRACK = const(10)
_ZTRACK = b"\0\0\0\0\0\0\0\0\0\0"   # _NTRACK zeros (a literal: no heap)

# Parse results; nonzero values are drop reasons, and each is also the index of its own counter in
# engine.counters (named in status.COUNTER_NAMES; the engine's C_* start after E_TOO_LONG):
# host_tests/core/test_parse.py checks the names against these values.
OK = const(0)
E_SHORT = const(1)       # shorter than the fixed header and cookie
E_NOT_REQUEST = const(2) # op is not BOOTREQUEST
E_HLEN = const(3)        # hlen outside 1..16
E_COOKIE = const(4)      # magic cookie missing (a BOOTP client, or garbage)
E_OPTION = const(5)      # an option runs past the end of its field
E_NO_TYPE = const(6)     # no usable option 53
E_BAD_LEN = const(7)     # an option we read has an impossible length
E_TOO_LONG = const(8)    # split options longer than the room behind the datagram

# Header fields read off the packet path (status.event_line) from a parsed message's buffer.
HDR_HLEN = const(2)      # RFC 2131 section 2: hlen, 1..16 once parsed (E_HLEN otherwise)
HDR_CIADDR = const(12)
HDR_CHADDR = const(28)

RX_MAX = const(1500)     # one Ethernet-sized datagram
# Split options (RFC 3396) are joined behind the datagram: from its end to the end of the buffer,
# so a 300-byte request has 1456 bytes for them, a 1500-byte one at least _REQ_SCRATCH. The server
# reads nothing long from a request (a client id over leases.MAX_ID bytes is refused, a hostname
# is kept to 63), so a small floor is enough; a client (Reply) keeps SCRATCH for long server options.
SCRATCH = const(1024)
_REQ_SCRATCH = const(256)

# Expected lengths of fixed-size options, -1 = variable (checked by the engine); parse() checks
# them written out, in this order.
_FIXED = (-1, 4, 4, 1, 4, -1, 2, -1, 0, -1)

# The machine-code twin of parse() (microdhcp.fast, viper) where MicroPython's native emitter
# compiles it; None on CPython and wherever it does not import: then the plain parse below runs.
# A test may set it to None to take the plain path (host_tests/core/test_viper.py, mp_runner --plain).
try:
    from microdhcp.fast import parse as vparse
except (ImportError, SyntaxError, NameError):   # see fast.py's header
    vparse = None


class Request:
    """View of the last parsed message. off/ln hold each tracked option's value position in
    buf and its length (options split per RFC 3396 are joined in the scratch area first)."""

    def __init__(self):
        self.buf = bytearray(RX_MAX + _REQ_SCRATCH)
        self.n = 0
        self.off = array("H", [0] * _NTRACK)
        self.ln = array("H", [0] * _NTRACK)
        self.cnt = bytearray(_NTRACK)
        # code -> index + 1, so one lookup decides whether an option is read.
        self._track = _TRACK
        self.tail = RX_MAX
        self.msg_type = 0
        self.overload = 0
        # Results of the machine-code twins (microdhcp.fast): parse writes [0..2] (error, message
        # type, overload), the engine's key and find [3..5] (hash, chaddr difference, slot).
        self.res = array("i", bytes(32))

    def parse(self, n):
        # Returns OK or a drop reason. Never raises for any content of buf[:n].
        vp = vparse
        if vp is not None:
            r = self.res
            vp(self.buf, n, self._track, self.cnt, self.off, self.ln, r)
            err = r[0]
            if err != 255:   # fast.PLAIN: what only the plain parser does (RFC 3396 joining)
                self.n = n
                self.tail = n        # as the plain parser leaves it (joins go behind the datagram)
                self.msg_type = r[1]
                self.overload = r[2]
                return err
        b = self.buf
        self.n = n
        self.cnt[0:_NTRACK] = _ZTRACK
        self.tail = n
        self.msg_type = 0
        self.overload = 0
        if n < _OPTIONS:
            return E_SHORT
        if b[_OP] != _BOOTREQUEST:
            return E_NOT_REQUEST
        if b[_HLEN] < 1 or b[_HLEN] > _CHADDR_LEN:
            return E_HLEN
        # RFC 2131 section 3: the first four octets of options are 99.130.83.99.
        if b[_COOKIE] != 99 or b[_COOKIE + 1] != 130 or b[_COOKIE + 2] != 83 or b[_COOKIE + 3] != 99:
            return E_COOKIE
        err = self._walk(_OPTIONS, n, 1)
        # RFC 2131 4.1 / RFC 2132 9.3: with overload, 'file' is read before 'sname'.
        ov = self.overload
        if not err and ov & 1:
            err = self._walk(_FILE, _COOKIE, 0)
        if not err and ov & 2:
            err = self._walk(_SNAME, _FILE, 0)
        if err:
            return err
        # Fixed-size options (_FIXED), checked in TRACKED order, written out: a loop over the
        # table costs several times more on a board's interpreter.
        cnt = self.cnt
        ln = self.ln
        if (cnt[REQ_ADDR] and ln[REQ_ADDR] != 4) or (cnt[LEASE] and ln[LEASE] != 4):
            return E_BAD_LEN
        if cnt[MSG_TYPE] and ln[MSG_TYPE] != 1:
            return E_NO_TYPE
        if (cnt[SERVER_ID] and ln[SERVER_ID] != 4) or (cnt[MAX_SIZE] and ln[MAX_SIZE] != 2) or \
                (cnt[RAPID] and ln[RAPID] != 0):
            return E_BAD_LEN
        # RFC 2132 9.14: a client identifier has a type and at least one octet.
        if cnt[CLIENT_ID] and ln[CLIENT_ID] < 2:
            return E_BAD_LEN
        if not cnt[MSG_TYPE]:
            return E_NO_TYPE
        t = b[self.off[MSG_TYPE]]
        if t < 1 or t > 8:
            return E_NO_TYPE
        self.msg_type = t
        return OK

    def _walk(self, pos, end, top):
        # One options field. A missing END is accepted when every option fits (the field's
        # end closes it); an option running past the end is malformed.
        b = self.buf
        track = self._track
        cnt = self.cnt
        off = self.off
        lns = self.ln
        while pos < end:
            c = b[pos]
            if c == _OPT_PAD:
                pos += 1
                continue
            if c == _OPT_END:
                return OK
            if pos + 1 >= end:
                return E_OPTION
            ln = b[pos + 1]
            v = pos + 2
            if v + ln > end:
                return E_OPTION
            if c == _OPT_OVERLOAD:
                # Only meaningful in the options field proper (RFC 2132 9.3).
                if top:
                    if ln != 1 or b[v] < 1 or b[v] > 3:
                        return E_BAD_LEN
                    self.overload = b[v]
            else:
                t = track[c]
                if t:
                    t -= 1
                    if not cnt[t]:
                        # first instance, used in place (the common case, inlined)
                        off[t] = v
                        lns[t] = ln
                        cnt[t] = 1
                    elif self._add(t, v, ln):
                        return E_TOO_LONG
            pos = v + ln
        return OK

    def _add(self, i, v, ln):
        # RFC 3396: instances of one option are joined in order. The first instance is used in
        # place; a second one moves the value to the scratch tail and appends.
        off = self.off
        lns = self.ln
        c = self.cnt[i]
        if c == 0:
            off[i] = v
            lns[i] = ln
            self.cnt[i] = 1
            return 0
        b = self.buf
        s = self.tail
        cur = off[i]
        curlen = lns[i]
        if cur < self.n or cur + curlen != s:
            if s + curlen + ln > len(b):
                return 1
            for k in range(curlen):
                b[s + k] = b[cur + k]
            off[i] = s
            s += curlen
        if s + ln > len(b):
            return 1
        for k in range(ln):
            b[s + k] = b[v + k]
        s += ln
        lns[i] = curlen + ln
        self.tail = s
        if c < 255:
            self.cnt[i] = c + 1
        return 0
