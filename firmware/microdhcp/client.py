# MIT license; Copyright (c) 2026 the microdhcp authors
# microdhcp.client: RFC 2131 client state machine, sans-IO. poll(now, tx) writes the next message
# to send (if any) into a caller-owned buffer; handle(data, now) takes a received datagram. Time
# is whole seconds passed in; nothing here touches a socket, the clock or the network module.
# After construction neither poll() nor handle() allocates (proved under micropython.heap_lock()
# in host_tests/core/test_client.py), and no value reaches 2**30.
try:
    from micropython import const
except ImportError:
    def const(x):  # type: ignore[misc]  # CPython fallback; the stubs' const is generic
        return x

from array import array
from microdhcp import clientmsg
from microdhcp.clientmsg import Reply, REPLY_TRACKED, TX_MIN  # noqa: F401  (Reply and TX_MIN: this module's API too)
from microdhcp.clientmsg import same4 as _same4

# RFC 2131 section 2 header offsets.
_HTYPE = const(1)
_HLEN = const(2)
_XID = const(4)
_YIADDR = const(16)
_CHADDR = const(28)
_HTYPE_ETHER = const(1)       # RFC 1700 hardware type 1 = Ethernet (10 Mb)
_RX_MAX = const(1500)         # codes.RX_MAX: the longest datagram taken
_MIN_MSG = const(300)         # RFC 1542 section 2.1: BOOTP minimum message size

# RFC 2132 section 9.6 message types (codes.DHCPDISCOVER ..., private here as in the server).
_DHCPDISCOVER = const(1)
_DHCPOFFER = const(2)
_DHCPREQUEST = const(3)
_DHCPDECLINE = const(4)
_DHCPACK = const(5)
_DHCPNAK = const(6)
_DHCPRELEASE = const(7)

# RFC 2132 option codes.
_OPT_SUBNET = const(1)
_OPT_ROUTER = const(3)
_OPT_DNS = const(6)
_OPT_LEASE_TIME = const(51)
_OPT_SERVER_ID = const(54)
_OPT_RENEWAL_T1 = const(58)
_OPT_REBINDING_T2 = const(59)
_OPT_CLIENT_ID = const(61)

# States (RFC 2131 figure 5). CHECKING is the address check after an ACK (4.4.1), DECLINING
# a DECLINE waiting to be sent, STOPPED after RELEASE or when the tries ran out.
INIT = const(0)
SELECTING = const(1)
REQUESTING = const(2)
CHECKING = const(3)
DECLINING = const(4)
BOUND = const(5)
RENEWING = const(6)
REBINDING = const(7)
REBOOTING = const(8)     # INIT-REBOOT's REQUEST sent, waiting for ACK/NAK
STOPPED = const(9)
STATE_NAMES = ("INIT", "SELECTING", "REQUESTING", "CHECKING", "DECLINING", "BOUND", "RENEWING",
               "REBINDING", "REBOOTING", "STOPPED")

# Events passed to on_event(kind) and returned by handle().
EV_OFFER = const(1)      # an OFFER was accepted into the offer window (rx still holds it)
EV_CHECK = const(2)      # ACK received: check the address (ARP), then call checked()
EV_BOUND = const(3)      # an address is configured (addr, server, lease, ...)
EV_RENEWED = const(4)    # lease extended (RENEWING, REBINDING or INIT-REBOOT)
EV_NAK = const(5)        # NAK: back to INIT, any address is dropped
EV_DECLINED = const(6)   # address in use: DECLINE sent, INIT after decline_wait
EV_EXPIRED = const(7)    # lease ended without renewal: address dropped, back to INIT
EV_RELEASED = const(8)   # RELEASE sent, address dropped
EV_GAVE_UP = const(9)    # DISCOVER tries exhausted (discover_tries): STOPPED
EV_REQUEST_TIMEOUT = const(10)  # no ACK/NAK to REQUEST after all retransmissions: back to INIT
EVENT_TAGS = ("", "offer", "check", "bound", "renewed", "nak", "declined", "expired", "released",
               "gave_up", "request_timeout")

# Counters (index -> COUNTER_NAMES). 1..8 are packet's parse error codes.
C_RECEIVED = const(0)
C_OVERSIZE = const(9)
C_WRONG_XID = const(10)
C_WRONG_CHADDR = const(11)
C_WRONG_SERVER = const(12)
C_WRONG_CLIENT_ID = const(13)
C_UNEXPECTED = const(14)      # well formed, ours, but not what this state waits for
C_BAD_OFFER = const(15)       # OFFER/ACK without what RFC 2131 table 3 makes mandatory
C_SENT = const(16)
C_RETRANSMIT = const(17)
C_OFFERS = const(18)
C_ACKS = const(19)
C_NAKS = const(20)
C_DECLINES = const(21)
_NCLIENT_COUNT = const(22)   # len(COUNTER_NAMES) of the client (codes.NCOUNT is the server's)
_COUNT_RESTART = const(0x20000000)   # 2**29, as engine._COUNT_RESTART: see _restart_counters
COUNTER_NAMES = ("received", "short", "not_reply", "bad_hlen", "bad_cookie", "bad_option", "no_msg_type",
                 "bad_option_len", "options_too_long", "oversize", "wrong_xid", "wrong_chaddr",
                 "wrong_server", "wrong_client_id", "unexpected", "bad_reply", "sent", "retransmit",
                 "offers", "acks", "naks", "declines")
IGNORED_COUNTERS = (1, 2, 3, 4, 5, 6, 7, 8, C_OVERSIZE, C_WRONG_XID, C_WRONG_CHADDR, C_WRONG_SERVER,
                    C_WRONG_CLIENT_ID, C_UNEXPECTED, C_BAD_OFFER)

DST_BROADCAST = const(0)   # to 255.255.255.255:67
DST_UNICAST = const(1)     # to dst:67 (RENEWING, RELEASE)

# RFC 2132 9.8: subnet mask, router, DNS, hostname, domain name, broadcast, NTP, lease, T1, T2.
DEFAULT_PRL = bytes((1, 3, 6, 12, 15, 28, 42, 51, 58, 59))
_ZERO4 = bytes(4)


_ARG_MAX = const(65535)   # the largest count or time Client() takes: no sum with one reaches 2**30


def _rand16():
    import random
    return random.getrandbits(16)


def _whole(name, v, lo):
    # A count or a time (seconds) given to Client(): a whole number from lo to _ARG_MAX, else a
    # ValueError that names it (a negative count ended an exchange before its first message).
    if not isinstance(v, int) or v < lo or v > _ARG_MAX:
        raise ValueError("%s=%r must be a whole number from %d to %d" % (name, v, lo, _ARG_MAX))
    return v


class Client:
    """One DHCP client. mac: 6 bytes. client_id: bytes for option 61 (default: type 1 + mac,
    RFC 2132 9.14); b"" sends none. Choice policy: the first OFFER wins, unless prefer_server /
    prefer_addr (4 bytes) name one; offers are collected for offer_window seconds after the
    first. backoff: retransmission delays (RFC 2131 4.1: 4, 8, 16, 32, 64 s), each randomized by
    +-jitter seconds. check=True stops at CHECKING after the ACK until checked() is called.
    Counts and times are whole numbers up to 65535 (backoff's delays and renew_min from 1, the
    others from 0); anything else is a ValueError naming the argument."""

    def __init__(self, mac, client_id=None, hostname=None, prl=DEFAULT_PRL, broadcast=False,
                 offer_window=0, prefer_server=None, prefer_addr=None, backoff=(4, 8, 16, 32, 64),
                 jitter=1, discover_tries=0, request_tries=0, reboot_tries=2, check=False,
                 decline_wait=10, renew_min=60, rand=None, on_event=None):
        self.mac = bytes(mac)
        if len(self.mac) != 6:
            raise ValueError("mac must be 6 bytes")
        self.client_id = (b"\x01" + self.mac) if client_id is None else bytes(client_id)
        self.hostname = bytes(hostname) if hostname else b""
        self.prl = bytes(prl)
        if len(self.client_id) == 1 or len(self.client_id) > 255 or len(self.hostname) > 255 or len(self.prl) > 255:
            raise ValueError("option too long (or client id of one byte)")
        self.broadcast = broadcast
        self.offer_window = _whole("offer_window", offer_window, 0)
        self.prefer_server = bytes(prefer_server) if prefer_server else None
        self.prefer_addr = bytes(prefer_addr) if prefer_addr else None
        bo = self.backoff = tuple(backoff)
        for d in bo or (bo,):           # each delay; () itself when there is none
            _whole("backoff", d, 1)
        self.jitter = _whole("jitter", jitter, 0)
        self.discover_tries = _whole("discover_tries", discover_tries, 0)   # 0: DISCOVER for ever
        self.request_tries = _whole("request_tries", request_tries, 0) or len(bo)
        self.reboot_tries = _whole("reboot_tries", reboot_tries, 0) or 2   # 0: the default, as request_tries
        self.check = check
        self.decline_wait = _whole("decline_wait", decline_wait, 0)   # RFC 2131 4.4.1: at least 10 s after DECLINE
        # RFC 2131 4.4.5: retransmit no sooner than 60 s. At least 1: time is whole seconds, and a
        # wait of 0 in the last second before T2 or the end sent a REQUEST on every poll.
        self.renew_min = _whole("renew_min", renew_min, 1)
        self.rand = rand or _rand16
        self.on_event = on_event
        self.rx = Reply()
        rv = memoryview(self.rx.buf)
        self._rx_yiaddr = rv[_YIADDR:_YIADDR + 4]
        self.counters = array("I", [0] * _NCLIENT_COUNT)
        self.counter_restarts = 0
        self.state = STOPPED
        self.xid = bytearray(4)
        self.addr = bytearray(4)        # configured (BOUND..REBINDING) or wanted address
        self.server = bytearray(4)      # server id of the lease, or of the chosen offer
        self.dst = bytearray(4)
        self.dst_kind = DST_BROADCAST
        self.mask = bytearray(4)
        self.router = bytearray(4)
        self.dns = bytearray(12)        # up to three DNS servers
        self.dns_n = 0
        self.lease = 0
        self.t1 = 0
        self.t2 = 0
        self.bound_at = 0               # lease start: when the acknowledged REQUEST was first sent
        self.offers = 0                 # OFFERs accepted in this SELECTING round
        self._score = -1
        self._win_end = 0
        self._start = 0                 # start of this exchange (secs field)
        self._sent0 = 0                 # first send of the current message
        self.due = 0                    # next (re)transmission or timer
        self.tries = 0
        self.configured = False         # addr is in use by the host
        self._force = False             # renew_now() asked for a renewal before T1
        self._naks = 0                  # NAKs since the last ACK
        self._disc_secs = 0             # 'secs' of the last DISCOVER
        self._dirty = _MIN_MSG

    # --- helpers -------------------------------------------------------------------------
    def _discard(self, i):   # counts why a message is ignored; 0: nothing to send
        self.counters[i] += 1
        return 0

    def _restart_counters(self):
        # Every counter from 0 again when received or sent reaches 2**29 (every other counter
        # counts some of those), as the server's and the DNS responder's do: none becomes a heap
        # int at 2**30 on a 32-bit board nor passes 2**32 (CPython's array refuses it).
        c = self.counters
        for i in range(_NCLIENT_COUNT):
            c[i] = 0
        self.counter_restarts += 1

    def _event(self, kind):
        cb = self.on_event
        if cb is not None:
            cb(kind)
        return kind

    def _new_xid(self):
        # RFC 2131 4.1: a random xid per exchange; the MAC is mixed in so that clients seeded
        # alike still differ. Two 16-bit halves: never an int >= 2**30.
        a = self.rand()
        b = self.rand()
        m = self.mac
        x = self.xid
        x[0] = ((a >> 8) ^ m[2]) & 255
        x[1] = (a ^ m[3]) & 255
        x[2] = ((b >> 8) ^ m[4]) & 255
        x[3] = (b ^ m[5]) & 255

    def _delay(self, tries):
        # RFC 2131 4.1: the n-th retransmission waits backoff[n] (last value repeated) +- jitter.
        bo = self.backoff
        d = bo[tries - 1] if tries <= len(bo) else bo[len(bo) - 1]
        j = self.jitter
        if j:
            d += self.rand() % (2 * j + 1) - j
        return d if d > 0 else 1

    def _drop(self):
        # The address must no longer be used (NAK, expiry, RELEASE).
        self.configured = False
        self.addr[0:4] = _ZERO4

    def wake_at(self):
        """When poll() next has something to do (seconds); -1 while waiting for checked()."""
        st = self.state
        if st == STOPPED or st == CHECKING:
            return -1
        if st == SELECTING and self.offers:
            return self._win_end
        return self.due

    # --- entry points --------------------------------------------------------------------
    def start(self, now, addr=None):
        """Begin: INIT, or INIT-REBOOT (RFC 2131 3.2) when a remembered address is given."""
        self._drop()
        self.offers = 0
        self.tries = 0
        self.due = now
        self._start = now
        if addr is not None:
            self.addr[0:4] = addr
            self._new_xid()
            self.state = REBOOTING
        else:
            self.state = INIT

    def poll(self, now, tx):
        """Timers and (re)transmissions. Returns the length of a message in tx to send now
        (0: none); it goes to dst_kind/dst, UDP port 67. Call it again before wake_at()."""
        i = 0
        while i < 4:       # a timer may change state without sending (expiry -> INIT -> DISCOVER)
            n = self._step(now, tx)
            if n >= 0:
                return n
            i += 1
        return 0

    def _step(self, now, tx):
        # One state's timers; -1 means "state changed, look again".
        st = self.state
        if st == STOPPED or st == CHECKING:
            return 0
        if st == INIT:
            if now < self.due:
                return 0            # the wait after a DECLINE (4.4.1)
            self._new_xid()
            self._start = now
            self.offers = 0
            self._score = -1
            self.state = SELECTING
            return self._send(now, tx, _DHCPDISCOVER, True)
        if st == SELECTING:
            if self.offers:
                # RFC 2131 4.4.1: DISCOVER is retransmitted only while no offer came; with one in
                # hand, REQUEST it at the window's end, naming its server, same xid as the OFFER.
                if now < self._win_end:
                    return 0
                self.state = REQUESTING
                return self._send(now, tx, _DHCPREQUEST, True)
            if now < self.due:
                return 0
            if self.discover_tries and self.tries >= self.discover_tries:
                self.state = STOPPED
                self._event(EV_GAVE_UP)
                return 0
            return self._send(now, tx, _DHCPDISCOVER, False)
        if st == REQUESTING or st == REBOOTING:
            if now < self.due:
                return 0
            limit = self.request_tries if st == REQUESTING else self.reboot_tries
            if self.tries >= limit:
                # RFC 2131 4.4.1 (REQUESTING) / 3.2 (INIT-REBOOT): no answer, start over.
                self._drop()
                self.state = INIT
                self.due = now
                self._event(EV_REQUEST_TIMEOUT)
                return -1
            return self._send(now, tx, _DHCPREQUEST, self.tries == 0)
        if st == DECLINING:
            self._new_xid()         # table 5: a DECLINE's xid is the client's own choice
            n = self._send(now, tx, _DHCPDECLINE, True)
            self._drop()
            self.state = INIT
            self.due = now + self.decline_wait
            self._event(EV_DECLINED)
            return n
        # BOUND, RENEWING, REBINDING: RFC 2131 4.4.5.
        end = self.bound_at + self.lease
        t2 = self.bound_at + self.t2
        if now >= end:
            self._drop()
            self.state = INIT
            self.due = now
            self._event(EV_EXPIRED)
            return -1
        if st != REBINDING and now >= t2:
            self._new_xid()
            self._start = now
            self.state = REBINDING
            return self._send(now, tx, _DHCPREQUEST, True)
        if st == BOUND:
            if now < self.bound_at + self.t1 and not self._force:
                return 0
            self._force = False
            self._new_xid()
            self._start = now
            self.state = RENEWING
            return self._send(now, tx, _DHCPREQUEST, True)
        if now < self.due:
            return 0
        return self._send(now, tx, _DHCPREQUEST, False)

    def _schedule(self, now):
        st = self.state
        if st == RENEWING or st == REBINDING:
            # RFC 2131 4.4.5: half the time left until T2 (RENEWING) or lease end (REBINDING),
            # but not less than renew_min; the T2 / end timers take over at their time.
            lim = self.bound_at + (self.t2 if st == RENEWING else self.lease)
            d = (lim - now) // 2
            if d < self.renew_min:
                d = self.renew_min
            self.due = now + d if now + d < lim else lim
        else:
            self.due = now + self._delay(self.tries)

    def handle(self, data, now, n=-1):
        """One received datagram (bytes-like, or self.rx.buf with n). Returns the event it caused
        (EV_*) or 0; anything that is not a well-formed answer to this client's own message in
        this state is dropped and counted."""
        c = self.counters
        if c[C_RECEIVED] >= _COUNT_RESTART:
            self._restart_counters()
        c[C_RECEIVED] += 1
        rx = self.rx
        b = rx.buf
        if data is not b:
            n = len(data)
            if n > _RX_MAX:
                return self._discard(C_OVERSIZE)
            b[0:n] = data
        elif n < 0 or n > _RX_MAX:
            return self._discard(C_OVERSIZE)
        err = rx.parse(n)
        if err:
            return self._discard(err)
        # Ours? chaddr, then xid (RFC 2131 4.4.1: replies are matched on xid and chaddr).
        m = self.mac
        if b[_HTYPE] != _HTYPE_ETHER or b[_HLEN] != 6:
            return self._discard(C_WRONG_CHADDR)
        i = 0
        while i < 6:
            if b[_CHADDR + i] != m[i]:
                return self._discard(C_WRONG_CHADDR)
            i += 1
        if not _same4(b, _XID, self.xid, 0):
            return self._discard(C_WRONG_XID)
        # RFC 6842: a server that echoes option 61 must echo ours.
        cs = rx.slot(_OPT_CLIENT_ID)
        if rx.cnt[cs]:
            cid = self.client_id
            ln = rx.ln[cs]
            if ln != len(cid):
                return self._discard(C_WRONG_CLIENT_ID)
            o = rx.off[cs]
            i = 0
            while i < ln:
                if b[o + i] != cid[i]:
                    return self._discard(C_WRONG_CLIENT_ID)
                i += 1
        t = rx.msg_type
        st = self.state
        ss = rx.slot(_OPT_SERVER_ID)
        has_sid = rx.cnt[ss] != 0
        so = rx.off[ss]
        if st == SELECTING:
            if t != _DHCPOFFER:
                return self._discard(C_UNEXPECTED)
            return self._offer(now, has_sid, so)
        if st != REQUESTING and st != REBOOTING and st != RENEWING and st != REBINDING:
            return self._discard(C_UNEXPECTED)
        if t != _DHCPACK and t != _DHCPNAK:
            return self._discard(C_UNEXPECTED)
        # REQUESTING named a server and RENEWING unicast to one: only that one may answer.
        # (A NAK without option 54, as some servers send, is taken on xid and chaddr.)
        if (st == REQUESTING or st == RENEWING) and has_sid and not _same4(b, so, self.server, 0):
            return self._discard(C_WRONG_SERVER)
        if t == _DHCPNAK:
            c[C_NAKS] += 1
            # RFC 2131 4.4.1 / 3.2: a NAK means start again from INIT, address dropped. The
            # first at once; after NAKs in a row (a server that NAKs everything) the restart
            # waits like a retransmission (4, 8, ... s), so a broken server cannot cause a storm.
            self._drop()
            self.state = INIT
            n = self._naks
            self.due = now + (self._delay(n) if n else 0)
            if n < 255:
                self._naks = n + 1
            return self._event(EV_NAK)
        return self._ack(now, has_sid, so)

    def _offer(self, now, has_sid, so):
        rx = self.rx
        b = rx.buf
        # RFC 2131 table 3: an OFFER carries yiaddr and option 54.
        if not has_sid or _same4(b, _YIADDR, _ZERO4, 0):
            return self._discard(C_BAD_OFFER)
        self.counters[C_OFFERS] += 1
        score = 0
        ps = self.prefer_server
        if ps is not None and _same4(b, so, ps, 0):
            score += 2
        pa = self.prefer_addr
        if pa is not None and _same4(b, _YIADDR, pa, 0):
            score += 1
        if score > self._score:
            # The first of the best offers wins (RFC 2131 4.4.1 leaves the choice to the client).
            self._score = score
            self.addr[0:4] = self._rx_yiaddr
            i = 0
            while i < 4:
                self.server[i] = b[so + i]
                i += 1
        if self.offers == 0:
            self._win_end = now + self.offer_window
        self.offers += 1
        return self._event(EV_OFFER)

    def _ack(self, now, has_sid, so):
        rx = self.rx
        b = rx.buf
        st = self.state
        # The address must be the one asked for (REQUESTING/REBOOTING: option 50; RENEWING and
        # REBINDING: ciaddr), and the lease time must be given (RFC 2131 table 3).
        ls = rx.slot(_OPT_LEASE_TIME)
        if not _same4(b, _YIADDR, self.addr, 0) or not rx.cnt[ls]:
            return self._discard(C_BAD_OFFER)
        if st == REBOOTING or st == REBINDING:
            if not has_sid:
                return self._discard(C_BAD_OFFER)
            i = 0
            while i < 4:
                self.server[i] = b[so + i]      # the lease now belongs to whoever answered
                i += 1
        self.counters[C_ACKS] += 1
        self._naks = 0
        lease = rx.seconds(rx.off[ls])
        s1 = rx.slot(_OPT_RENEWAL_T1)
        s2 = rx.slot(_OPT_REBINDING_T2)
        # RFC 2131 4.4.5: T1 defaults to 0.5 and T2 to 0.875 of the lease. A T1 or T2 of 0 would
        # renew (rebind) at once after each ACK, an exchange per round trip: taken as not given,
        # as dhcpcd (src/dhcp.c dhcp_bind) and ISC dhclient (client/dhclient.c dhcpack) do.
        t1 = rx.seconds(rx.off[s1]) if rx.cnt[s1] else 0
        t2 = rx.seconds(rx.off[s2]) if rx.cnt[s2] else 0
        if t2 == 0 or t2 > lease:
            t2 = lease - lease // 8
        if t1 == 0 or t1 > t2:
            t1 = lease // 2 if lease // 2 <= t2 else t2
        self.lease = lease
        self.t1 = t1
        self.t2 = t2
        self.bound_at = self._sent0
        self._save_params()
        renewed = self.configured
        if self.check and not renewed:
            # RFC 2131 3.1 step 5 and 3.2 step 4: an address not yet in use (REQUESTING, and
            # INIT-REBOOT too) gets the final check before it is used.
            self.state = CHECKING
            return self._event(EV_CHECK)
        self.configured = True
        self.state = BOUND
        self.due = self.bound_at + t1
        return self._event(EV_RENEWED if renewed else EV_BOUND)

    def _save_params(self):
        rx = self.rx
        b = rx.buf
        s = rx.slot(_OPT_SUBNET)
        rx.copy4(self.mask, rx.off[s] if rx.cnt[s] else -1)
        s = rx.slot(_OPT_ROUTER)
        rx.copy4(self.router, rx.off[s] if rx.cnt[s] else -1)
        s = rx.slot(_OPT_DNS)
        n = 0
        if rx.cnt[s]:
            n = rx.ln[s] >> 2
            if n > 3:
                n = 3
            o = rx.off[s]
            d = self.dns
            i = 0
            while i < 4 * n:
                d[i] = b[o + i]
                i += 1
        self.dns_n = n

    def checked(self, now, in_use):
        """Result of the address check after the ACK (RFC 2131 4.4.1): in_use=True sends a
        DECLINE (on the next poll) and restarts after decline_wait; False binds."""
        if self.state != CHECKING:
            return 0
        if in_use:
            self.counters[C_DECLINES] += 1
            self.state = DECLINING
            self.due = now
            return 0
        self.configured = True
        self.state = BOUND
        self.due = self.bound_at + self.t1
        return self._event(EV_BOUND)

    def renew_now(self, now):
        """Renew before T1 (RFC 2131 4.4.5 lets a client extend its lease at any time): the
        next poll() sends the RENEWING REQUEST. False when there is no lease."""
        if self.state != BOUND:
            return False
        self._force = True
        self.due = now
        return True

    def release(self, now, tx):
        """RFC 2131 4.4.6: RELEASE to the server, address dropped, STOPPED. Returns the length
        of the message in tx (0 when there is no lease to release)."""
        st = self.state
        if st != BOUND and st != RENEWING and st != REBINDING:
            self.state = STOPPED
            return 0
        self._new_xid()
        self._start = now
        n = self._send(now, tx, _DHCPRELEASE, True)
        self._drop()
        self.state = STOPPED
        self._event(EV_RELEASED)
        return n

    # --- messages (RFC 2131 table 5) ------------------------------------------------------
    def _send(self, now, tx, mtype, first):
        c = self.counters
        if c[C_SENT] >= _COUNT_RESTART:
            self._restart_counters()
        if first:
            self.tries = 0
            self._sent0 = now
        else:
            c[C_RETRANSMIT] += 1
        self.tries += 1
        c[C_SENT] += 1
        n = self._build(now, tx, mtype)
        if mtype != _DHCPRELEASE and mtype != _DHCPDECLINE:
            self._schedule(now)
        return n

    def _build(self, now, tx, mtype):
        # RFC 2131 table 5: which fields and options this message carries in this state; the
        # bytes are written by clientmsg.write.
        st = self.state
        secs = now - self._start
        if secs > 65535:
            secs = 65535
        elif secs < 0:
            secs = 0
        if mtype == _DHCPDISCOVER:
            self._disc_secs = secs
        elif st == REQUESTING:
            # RFC 2131 4.4.1: the REQUEST repeats the 'secs' of the DISCOVER it answers.
            secs = self._disc_secs
        if mtype == _DHCPDECLINE or mtype == _DHCPRELEASE:    # table 5: 0 there
            secs = 0
        # A client that cannot receive unicast before it has an address asks for broadcast
        # replies (RFC 2131 4.1); once configured (RENEWING...) it needs none.
        in_use = st == BOUND or st == RENEWING or st == REBINDING or mtype == _DHCPRELEASE
        bcast = self.broadcast and not in_use and mtype != _DHCPDECLINE
        # Table 5: ciaddr in RENEWING/REBINDING/RELEASE; option 50 in SELECTING/INIT-REBOOT
        # REQUEST and DECLINE; 54 in SELECTING REQUEST, DECLINE and RELEASE; never in
        # RENEWING/REBINDING; hostname and parameter list in DISCOVER and REQUEST.
        req = (mtype == _DHCPREQUEST and not in_use) or mtype == _DHCPDECLINE
        sid = (mtype == _DHCPREQUEST and st == REQUESTING) or mtype == _DHCPDECLINE or mtype == _DHCPRELEASE
        asks = mtype == _DHCPDISCOVER or mtype == _DHCPREQUEST
        p = clientmsg.write(tx, self._dirty, mtype, self.xid, secs, bcast, self.addr if in_use else None,
                            self.mac, self.client_id, self.addr if req else None,
                            self.server if sid else None, self.hostname if asks else None,
                            self.prl if asks else None)
        self._dirty = p
        if mtype == _DHCPRELEASE or st == RENEWING:
            self.dst_kind = DST_UNICAST
            d = self.dst
            v = self.server
            d[0] = v[0]
            d[1] = v[1]
            d[2] = v[2]
            d[3] = v[3]
        else:
            self.dst_kind = DST_BROADCAST
        return p if p > _MIN_MSG else _MIN_MSG

    # --- reading ---------------------------------------------------------------------------
    def counter(self, name):
        return self.counters[COUNTER_NAMES.index(name)]

    def ignored(self):
        c = self.counters
        return sum(c[i] for i in IGNORED_COUNTERS)

    def lease_info(self, now):
        """Dict for printing (allocates; not for the per-message path)."""
        def ip(b, o=0):
            return "%d.%d.%d.%d" % (b[o], b[o + 1], b[o + 2], b[o + 3])
        return {"state": STATE_NAMES[self.state], "address": ip(self.addr), "server": ip(self.server),
                "mask": ip(self.mask), "router": ip(self.router),
                "dns": [ip(self.dns, 4 * i) for i in range(self.dns_n)],
                "lease": self.lease, "t1": self.t1, "t2": self.t2,
                "left": self.bound_at + self.lease - now if self.configured else 0}
