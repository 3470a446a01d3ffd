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
from struct import pack_into

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

# The parser's public numbers are in microdhcp.codes (option indexes HOSTNAME .. RELAY, parse
# results OK and E_*, HDR_*, RX_MAX, SCRATCH); this module compiles private copies of those it
# uses, as the engine does (host_tests/core/test_fastpaths.py checks each against its twin).
# Indexes (into off, ln, cnt) of the options parse() checks; the order is the order of TRACKED.
_REQ_ADDR = const(1)      # 50
_LEASE = const(2)         # 51
_MSG_TYPE = const(3)      # 53
_SERVER_ID = const(4)     # 54
_MAX_SIZE = const(6)      # 57
_CLIENT_ID = const(7)     # 61
_RAPID = const(8)         # 80, RFC 4039
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

# Parse results (codes.OK, codes.E_*).
_OK = const(0)
_E_SHORT = const(1)       # shorter than the fixed header and cookie
_E_NOT_REQUEST = const(2) # op is not BOOTREQUEST
_E_HLEN = const(3)        # hlen over 16, or 0 without option 61
_E_COOKIE = const(4)      # magic cookie missing (a BOOTP client, or garbage)
_E_OPTION = const(5)      # an option runs past the end of its field
_E_NO_TYPE = const(6)     # no usable option 53
_E_BAD_LEN = const(7)     # an option we read has an impossible length
_E_TOO_LONG = const(8)    # joined options (RFC 3396) past the room of the work area

_RX_MAX = const(1500)     # one Ethernet-sized datagram
_JOIN = const(255)        # parse's internal "join needed" (fast.parse's PLAIN): never returned
# The datagram is parsed where it lies (the caller's buffer: the socket's bytes, a test's
# bytearray), never written. Only a message whose options must be joined (an option in several
# instances, RFC 3396) is parsed again into the work area: the fixed header up to chaddr (what is
# read of it after the parse), then every tracked option's value, instances of one option joined
# in order. The server reads nothing long from a request (a client id over codes.MAX_ID bytes is
# refused, a hostname is kept to 63), so _REQ_SCRATCH bytes of values are plenty; a message whose
# tracked values take more is dropped as E_TOO_LONG. A client (clientmsg.Reply) joins in its own
# larger buffer, behind the datagram, for long server options.
_HEAD = const(44)         # op .. chaddr (RFC 2131 section 2): the header copied into the work area
_REQ_SCRATCH = const(512)

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
    """View of the last parsed message: buf is the buffer it was parsed in (the datagram itself,
    or the work area when options were joined); off/ln hold each tracked option's value position
    in buf and its length."""

    def __init__(self):
        self.work = bytearray(_HEAD + _REQ_SCRATCH)
        self.buf = self.work
        self.n = 0
        self.off = array("H", [0] * _NTRACK)
        self.ln = array("H", [0] * _NTRACK)
        self.cnt = bytearray(_NTRACK)
        # code -> index + 1, so one lookup decides whether an option is read.
        self._track = _TRACK
        self.tail = 0
        self.msg_type = 0
        self.overload = 0
        # Results of the machine-code twins (microdhcp.fast): parse writes [0..2] (error, message
        # type, overload), the engine's key and find [3..5] (hash, chaddr difference, slot).
        self.res = array("i", bytes(32))

    def parse(self, n, data=None):
        # Parses data[:n] in place (None: the work area, where the caller wrote the datagram);
        # n <= len(data) (Engine.handle makes sure). Returns OK (0) or a drop reason. Never
        # raises, nor writes into data, for any content.
        if data is None:
            data = self.work
        self.buf = data
        vp = vparse
        if vp is not None:
            r = self.res
            vp(data, n, self._track, self.cnt, self.off, self.ln, r)
            err = r[0]
            if err != 255:   # fast.PLAIN: what only the plain parser does (RFC 3396 joining)
                self.n = n
                self.tail = n        # as the plain parser leaves it, parsing in place
                self.msg_type = r[1]
                self.overload = r[2]
                return err
        err = self._parse(n, data)
        if err == _JOIN and data is not self.work:
            # A second instance of an option (RFC 3396): parsed again, from the datagram into
            # the work area (header, then the values; _append). "44s" copies op .. chaddr in one C
            # call, nothing allocated (test_parse checks the literal against _HEAD).
            w = self.work
            pack_into("44s", w, 0, data)
            self.buf = w
            err = self._parse(n, data)
        return err

    def _parse(self, n, b):
        # b: the datagram. Parses in place when self.buf is b; into the work area (every
        # tracked value copied behind the header) when self.buf is the work area and b is not.
        self.n = n
        self.cnt[0:_NTRACK] = _ZTRACK
        self.tail = n if b is self.buf else _HEAD
        self.msg_type = 0
        self.overload = 0
        if n < _OPTIONS:
            return _E_SHORT
        if b[_OP] != _BOOTREQUEST:
            return _E_NOT_REQUEST
        if b[_HLEN] > _CHADDR_LEN:
            return _E_HLEN
        # RFC 2131 section 3: the first four octets of options are 99.130.83.99.
        if b[_COOKIE] != 99 or b[_COOKIE + 1] != 130 or b[_COOKIE + 2] != 83 or b[_COOKIE + 3] != 99:
            return _E_COOKIE
        err = self._walk(b, _OPTIONS, n, 1)
        # RFC 2131 4.1 / RFC 2132 9.3: with overload, 'file' is read before 'sname'.
        ov = self.overload
        if not err and ov & 1:
            err = self._walk(b, _FILE, _COOKIE, 0)
        if not err and ov & 2:
            err = self._walk(b, _SNAME, _FILE, 0)
        if err:
            return err
        # Fixed-size options (_FIXED), checked in TRACKED order, written out: a loop over the
        # table costs several times more on a board's interpreter.
        cnt = self.cnt
        ln = self.ln
        if (cnt[_REQ_ADDR] and ln[_REQ_ADDR] != 4) or (cnt[_LEASE] and ln[_LEASE] != 4):
            return _E_BAD_LEN
        if cnt[_MSG_TYPE] and ln[_MSG_TYPE] != 1:
            return _E_NO_TYPE
        if (cnt[_SERVER_ID] and ln[_SERVER_ID] != 4) or (cnt[_MAX_SIZE] and ln[_MAX_SIZE] != 2) or \
                (cnt[_RAPID] and ln[_RAPID] != 0):
            return _E_BAD_LEN
        # RFC 2132 9.14: a client identifier has a type and at least one octet.
        if cnt[_CLIENT_ID] and ln[_CLIENT_ID] < 2:
            return _E_BAD_LEN
        # hlen 0, no chaddr (RFC 4390 2.1, IPoIB; RFC 2855, IEEE 1394): the client identifier, a
        # MUST there, names the client; without it htype alone would name every such client.
        elif not cnt[_CLIENT_ID] and not b[_HLEN]:
            return _E_HLEN
        if not cnt[_MSG_TYPE]:
            return _E_NO_TYPE
        t = self.buf[self.off[_MSG_TYPE]]
        if t < 1 or t > 8:
            return _E_NO_TYPE
        self.msg_type = t
        return _OK

    def _walk(self, b, pos, end, top):
        # One options field of the datagram b. A missing END is accepted when every option
        # fits (the field's end closes it); an option running past the end is malformed.
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
                return _OK
            if pos + 1 >= end:
                return _E_OPTION
            ln = b[pos + 1]
            v = pos + 2
            if v + ln > end:
                return _E_OPTION
            if c == _OPT_OVERLOAD:
                # Only meaningful in the options field proper (RFC 2132 9.3).
                if top:
                    if ln != 1 or b[v] < 1 or b[v] > 3:
                        return _E_BAD_LEN
                    self.overload = b[v]
            else:
                t = track[c]
                if t:
                    t -= 1
                    if b is not self.buf:
                        t = self._append(t, b, v, ln)     # into the work area
                        if t:
                            return t
                    elif not cnt[t]:
                        # first instance, used in place (the common case, inlined)
                        off[t] = v
                        lns[t] = ln
                        cnt[t] = 1
                    else:
                        t = self._add(t, v, ln)
                        if t:
                            return t
            pos = v + ln
        return _OK

    def _append(self, i, src, v, ln):
        # Joining into self.buf (RFC 3396: instances in order): the value src[v:v + ln] goes at
        # the tail, appended to this option's value when that ends there, else after a copy of
        # it moved to the end. src is the datagram (the work area's parse) or self.buf itself
        # (_add). Returns 0 or E_TOO_LONG.
        b = self.buf
        off = self.off
        lns = self.ln
        s = self.tail
        c = self.cnt[i]
        cur = s
        curlen = 0
        if c:
            cur = off[i]
            curlen = lns[i]
            if cur + curlen != s:
                if s + curlen + ln > len(b):
                    return _E_TOO_LONG
                for k in range(curlen):
                    b[s + k] = b[cur + k]
                cur = s
                s += curlen
        if s + ln > len(b):
            return _E_TOO_LONG
        for k in range(ln):
            b[s + k] = src[v + k]
        off[i] = cur
        lns[i] = curlen + ln
        self.tail = s + ln
        if c < 255:
            self.cnt[i] = c + 1
        return 0

    def _add(self, i, v, ln):
        # A second instance of a tracked option found parsing in place (RFC 3396). In the
        # caller's datagram: _JOIN (it is never written; parse() parses again into the work
        # area). In a buffer of our own (the work area, a client's Reply): joined behind the
        # datagram there, as _append does. Returns 0, _JOIN or E_TOO_LONG.
        b = self.buf
        if b is not self.work:
            return _JOIN
        return self._append(i, b, v, ln)
