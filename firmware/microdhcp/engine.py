# MIT license; Copyright (c) 2026 the microdhcp authors
# microdhcp.engine: RFC 2131 server decisions, sans-IO. handle() takes a datagram and the time
# in seconds and writes the reply into a caller-owned buffer; it touches no socket, file or clock.
# After construction nothing on this path allocates (proved under micropython.heap_lock() in
# host_tests), and no value reaches 2**30 (the counters start again from 0 at 2**29 datagrams, in
# tick), so it stays in small ints on 32-bit boards.
try:
    from micropython import const
except ImportError:
    def const(x):
        return x

from array import array
from microdhcp.packet import Request
from microdhcp.leases import LeaseTable, cells_for
import microdhcp.identity as _id
import microdhcp.reply as _rp

# The machine-code twins (microdhcp.fast, viper) where MicroPython's native emitter compiles them:
# here Request.parse, set_timer and clear_timer (called from here: a Python call less each) and
# clear_key's index work (_take); identity.py and reply.py import the same module for the key
# look-up, the option writer and _reply's header. Else None and the plain code runs (CPython, a port without the
# emitter, the portable .mpy build). One module global, not one per twin: each global name is heap
# on a board, and the 32-bit frozen build's budget (test_firmware.py) had no room for four. Tests
# may set it to None (host_tests/core/harness.use_fast: test_viper.py, mp_runner.py --plain).
try:
    import microdhcp.fast as _fast
except (ImportError, SyntaxError, NameError):   # see fast.py's header
    _fast = None  # type: ignore[assignment]  # (mypy: None where a module was imported)

# RFC 2131 section 2 header offsets the engine reads (identity.py and reply.py keep their own).
_CIADDR = const(12)
_GIADDR = const(24)
_CHADDR = const(28)

# Public numbers (microdhcp.codes) as constants here: an imported name is a global looked up
# at run time and a slot in this module's dict (heap on a board); these compile into the code.
# host_tests/core/test_fastpaths.py checks every such copy against its public twin.
_HOSTNAME = const(0)             # codes.HOSTNAME .. codes.RAPID: Request's option indexes
_REQ_ADDR = const(1)
_LEASE = const(2)
_SERVER_ID = const(4)
_RAPID = const(8)
_FREE = const(0)                 # codes.FREE .. codes.DECLINED: slot states
_OFFERED = const(1)
_BOUND = const(2)
_RELEASED = const(3)
_EXPIRED = const(4)
_DECLINED = const(5)
_F_RESERVED = const(1)           # codes.F_RESERVED
_KEY_SIZE = const(65)            # codes.KEY_SIZE
_NEVER = const(0x3FFFFFFF)        # codes.NEVER

# The engine's own public numbers, private here (see above); microdhcp.codes is where they are
# public and documented: message types (RFC 2132 section 9.6), counters, events, destinations.
_DHCPDISCOVER = const(1)
_DHCPOFFER = const(2)
_DHCPREQUEST = const(3)
_DHCPDECLINE = const(4)
_DHCPACK = const(5)
_DHCPNAK = const(6)
_DHCPRELEASE = const(7)
_DHCPINFORM = const(8)

_CLIENT_PORT = const(68)         # RFC 2131 section 4.1: where a reply goes unless the reply builder says otherwise
_DEFAULT_MAX = const(548)        # RFC 2131 section 2: 576-byte datagram minus IP and UDP headers
_RX_MAX = const(1500)            # codes.RX_MAX
_F_KEY_HW = const(2)             # leases._F_KEY_HW: the slot's key is its hw field (a private constant there)
_F_KEYED = const(6)              # leases._F_KEYED: the slot has a key

_C_RECEIVED = const(0)
_C_OFFER = const(10)
_C_ACK = const(11)
_C_NAK = const(12)
_C_DECLINE = const(13)
_C_RELEASE = const(14)
_C_INFORM = const(15)
_C_EXHAUSTED = const(16)
_C_UNKNOWN_CLIENT = const(17)
_C_OTHER_SERVER = const(18)
_C_IGNORED = const(19)
_C_WRONG_RELAY = const(20)
_C_NOT_CLIENT_MSG = const(21)
_C_BAD_REQUEST = const(22)
_C_OVERSIZE = const(23)
_C_EXPIRED = const(24)
_C_OFFER_CAP = const(25)
_C_RATE_LIMITED = const(26)
_C_ID_MISMATCH = const(27)
_C_ID_TOO_LONG = const(28)
_C_ID_ARENA_FULL = const(29)
_NCOUNT = const(31)           # codes.NCOUNT
_C_RESTARTS = const(31)       # codes.C_RESTARTS: the element after them
# Counters start again from 0 when `received` (the largest: every datagram) reaches this, in tick:
# a value of 2**30 or more is a heap object on a 32-bit board (a read of it allocates, and raises
# under heap_lock), and CPython's array("I") refuses 2**32. 2**29 leaves room for any burst
# between two ticks.
_COUNT_RESTART = const(0x20000000)

_EV_OFFER = const(1)
_EV_BOUND = const(2)
_EV_RENEWED = const(3)
_EV_RELEASED = const(4)
_EV_DECLINED = const(5)
_EV_EXPIRED = const(6)
_EV_NAK = const(7)
_EV_NOADDR = const(8)
_EV_INFORM = const(9)

_DST_BROADCAST = const(0)

# NAK reasons (option 56 text), written only on the NAK path.
_NAK_WRONG_NET = b"wrong network"
_NAK_NOT_POOL = b"address not in pool"
_NAK_IN_USE = b"address not available"
_NAK_NOT_YOURS = b"lease is for another address"


def __getattr__(name):
    # `from microdhcp.engine import EV_OFFER` (0.1 code) still works: the public numbers are
    # looked up in microdhcp.codes when asked for (PEP 562; on MicroPython py/objmodule.c:73-78
    # calls a module's __getattr__ the same way), not kept in this module's dict.
    import microdhcp.codes
    return getattr(microdhcp.codes, name)


class Engine:
    """The RFC 2131 server, sans-IO: bytes and time in, a reply in your buffer out.

    :param config: A :class:`microdhcp.config.Config`.
    :param on_event: Optional ``on_event(kind, slot)``, called as leases change (``EV_OFFER``,
                     ``EV_BOUND``, ``EV_RENEWED``, ``EV_RELEASED``, ``EV_DECLINED``, ``EV_EXPIRED``;
                     ``EV_NAK``, ``EV_NOADDR``, ``EV_INFORM`` with slot -1). It runs on the packet
                     path: keep it short (it may allocate; the engine itself does not).
    :param on_commit: Optional ``on_commit(slot, now)``, called before a reply that depends on a
                      lease change is returned (a new binding, a RELEASE, a DECLINE) with the time
                      of the change: persistence (``store.LeaseStore.commit``).

    ``handle(data, now, tx)`` serves one datagram; ``tick(now)`` ends what is due when idle;
    ``table`` is the lease table, ``counters`` the counters named by ``status.COUNTER_NAMES``.
    """
    _pk_view = _rp.PK_VIEW   # a class attribute (an instance may set its own: the tests take both paths)

    def __init__(self, config, on_event=None, on_commit=None):
        self.cfg = config
        self.server = config.server
        self.mask = config.mask
        self.network = config.network
        self.req = Request()
        # The buffer the last message was parsed in (the datagram, read in place, or the
        # parser's work area when its options were joined): what the reply and the event lines
        # read. Until a message arrives, the work area.
        self.rx = self.req.work
        # The reply buffer the socket shell (net.Server) sends from, made here, right after the
        # parser's work area: big blocks first, while the heap is still one piece. Made later
        # (after the table's temporaries) it may find no hole for it in a heap with room to spare.
        # Sized to the longest reply this configuration can build (reply.tx_size says how).
        self.tx = bytearray(_rp.tx_size(config))
        self.kbuf = bytearray(_KEY_SIZE)   # identity of the current client: length byte, then the bytes
        self._kb7 = memoryview(self.kbuf)[1:8]   # a 7-byte id (type 1 + MAC, the usual one) in kbuf
        self.kid = False        # kbuf holds this message's option 61 (set by _identify, cleared by handle)
        self.table = LeaseTable(config.pool_first, config.pool_size, config.extra_offsets, config.hostname_len,
                                config.id_cells)
        self.always = config.always
        # The named counters, then one more: how many times they started again from 0 (see tick).
        # An element, not an attribute: the instance map keeps its free slots (test_net_datagrams).
        self.counters = array("I", [0] * (_NCOUNT + 1))
        self.on_event = on_event      # called as on_event(kind, slot); may allocate (application code)
        self.on_commit = on_commit    # called before an ACK/RELEASE/DECLINE takes effect on the wire (persistence)
        self.khash = 0
        self.hwform = False     # kbuf is htype + chaddr of this message, short enough for the hw field
        self.dst = bytearray(4)
        self.dst_port = _CLIENT_PORT
        self.dst_kind = _DST_BROADCAST
        self.reply_broadcast = config.reply_broadcast
        self.lease = 0          # seconds granted in the reply being built
        self.reply_max = _DEFAULT_MAX
        self.nak_text = b""
        self.has_mac_reservations = False
        self.n_offered = 0      # slots in state OFFERED (bounded by cfg.max_offers for new clients)
        self._dirty = -1        # bytes of a tx buffer that may hold an earlier reply (-1: unknown)
        self._dirty_tx = None
        _rp.prepare(self, config)
        self._reserve(config)

    # Identity (RFC 2131 section 4.2), in microdhcp.identity: its functions are this class's
    # methods (self is the engine), so a call costs the one class look-up it cost when they were
    # written here.
    _reserve = _id.reserve
    _hw_key = _id.hw_key
    _identify = _id.identify
    _same_hw = _id.same_hw
    _save_client = _id.save_client

    def _refuse(self, cl):
        # The count for _identify's -2 and -3.
        return self._drop(_C_ID_MISMATCH if cl == -2 else _C_ID_TOO_LONG)

    # --- helpers on the received message ---------------------------------------------------
    def _off_at(self, pos):
        # Host offset of the address at rx[pos:pos+4] in our subnet, or -1 (config.offset, written out).
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

    def _drop(self, i):
        # Counts message outcome i and returns 0, the reply length of "no reply": callers end
        # with `return self._drop(C_...)` where the message is dropped.
        self.counters[i] += 1
        return 0

    def _event(self, kind, slot):
        cb = self.on_event
        if cb is not None:
            cb(kind, slot)

    def _commit(self, slot, now):
        cb = self.on_commit
        if cb is not None:
            cb(slot, now)

    # --- entry points --------------------------------------------------------------------
    def handle(self, data, now, tx, n=-1):
        """Process one datagram received at `now` (seconds): data[:n] (n < 0: all of data), any
        bytes-like object, read in place and never written. Returns the reply length to send
        from tx (0: no reply); the destination is in dst_kind, dst and dst_port."""
        c = self.counters
        c[_C_RECEIVED] += 1
        self.kid = False
        # First: even a dropped datagram moves time (expiries stay timely). (table.next_due
        # written out: a method call per message costs more than the test; due once past.)
        tb = self.table
        if tb.hsize and tb.expiry[tb.heap[0]] < now:
            self.tick(now)
        k = len(data)
        if n < 0 or n > k:
            n = k
        if n > _RX_MAX:
            return self._drop(_C_OVERSIZE)
        req = self.req
        vp = _fast
        if vp is not None:
            # Request.parse's machine-code twin called from here (one Python call less per
            # message); res[0] == 255: what only the plain parser does, so it parses again.
            r = req.res
            vp.parse(data, n, req._track, req.cnt, req.off, req.ln, r)
            err = r[0]
            if err == 255:
                err = req.parse(n, data)
            else:
                req.buf = data
                req.n = n
                req.tail = n        # as the plain parse leaves them
                req.msg_type = r[1]
                req.overload = r[2]
        else:
            err = req.parse(n, data)
        rx = req.buf            # the datagram, or the work area when options were joined
        self.rx = rx
        if err:
            return self._drop(err)
        # A relayed message must come from a relay on our subnet: we serve only that one.
        if (rx[_GIADDR] | rx[_GIADDR + 1] | rx[_GIADDR + 2] | rx[_GIADDR + 3]) and self._off_at(_GIADDR) < 0:
            return self._drop(_C_WRONG_RELAY)
        t = req.msg_type
        if t == _DHCPDISCOVER:
            return self._discover(now, tx)
        if t == _DHCPREQUEST:
            return self._request(now, tx)
        if t == _DHCPDECLINE:
            return self._decline(now)
        if t == _DHCPRELEASE:
            return self._release(now)
        if t == _DHCPINFORM:
            return self._inform(tx)
        return self._drop(_C_NOT_CLIENT_MSG)

    def tick(self, now):
        # Ends offers, leases and quarantines whose time has come. Call it now and then when
        # idle too, so that expiry events are timely; cost is per expiry, not per slot.
        t = self.table
        c = self.counters
        if c[_C_RECEIVED] >= _COUNT_RESTART:
            for i in range(_NCOUNT):
                c[i] = 0
            c[_C_RESTARTS] += 1
        vt = _fast
        while True:
            s = t.next_due(now)
            if s < 0:
                return
            if vt is not None:
                vt.timer(t, ~s, 0)   # clear_timer's twin (slot ~s: stop s's timer; no Python sift)
            else:
                t.clear_timer(s)
            st = t.state[s]
            if st == _BOUND:
                self.counters[_C_EXPIRED] += 1
                # The event reads the lease (its line names address, MAC, host) before it goes;
                # a callback that raises (a log line that finds no memory) must not leave the
                # slot bound with its timer already stopped: it would never be free again.
                try:
                    self._event(_EV_EXPIRED, s)
                finally:
                    t.vacate(s, _EXPIRED)
            elif st == _OFFERED or st == _DECLINED:
                if st == _OFFERED:
                    self.n_offered -= 1
                # A lapsed offer keeps the client's key (its "previous address" next time);
                # a quarantine ends with the address free for anyone (a reservation keeps its own).
                if st == _DECLINED and not t.flags[s] & _F_RESERVED:
                    t.clear_key(s)
                t.vacate(s, _FREE)

    # --- DISCOVER: RFC 2131 section 4.3.1 ------------------------------------------------
    def _discover(self, now, tx):
        t = self.table
        req = self.req
        cfg = self.cfg
        cl = self._identify()
        if cl < -1:
            return self._refuse(cl)
        reserved = cl >= 0 and t.flags[cl] & _F_RESERVED
        if cfg.known_clients_only and not reserved:
            return self._drop(_C_UNKNOWN_CLIENT)
        s = -1
        if cl >= 0:
            # The client's current binding or reservation, else its previous address, which
            # stays in the free list under its key until someone else needs it. Only a
            # reservation can be DECLINED and still keyed: that client waits out the quarantine.
            if t.state[cl] == _DECLINED:
                self._event(_EV_NOADDR, -1)
                return self._drop(_C_EXHAUSTED)
            # Per-client rate limit: an OFFERED slot's expiry is its last OFFER + offer_hold
            # (held at NEVER, that OFFER looks older than it is: a hold near 2**30, or ~34 years up).
            if cfg.offer_interval and t.state[cl] == _OFFERED and \
                    now - (t.expiry[cl] - cfg.offer_hold) < cfg.offer_interval:
                return self._drop(_C_RATE_LIMITED)
            s = cl
        elif self.n_offered >= cfg.max_offers and not (cfg.rapid_commit and req.cnt[_RAPID]):
            # A client we hold nothing for needs a new slot: during a DISCOVER flood the cap keeps
            # the rest of the pool (and remembered addresses) for clients that come back.
            return self._drop(_C_OFFER_CAP)
        if s < 0 and req.cnt[_REQ_ADDR]:
            r = t.slot_of(self._off_at(req.off[_REQ_ADDR]))
            if r >= 0 and self._available_to(r):
                s = r
        if s < 0:
            r = self.khash % t.pool_size
            if t.state[r] == _FREE and not t.flags[r] & _F_KEYED:   # not t.has_key(r)
                s = r
        if s < 0 and t.head != t.nil:   # t.first_free(), written out
            s = t.head
        if s < 0:
            self._event(_EV_NOADDR, -1)
            return self._drop(_C_EXHAUSTED)
        if not self._take(s, cl):
            return self._drop(_C_ID_ARENA_FULL)
        # A client that holds a lease and asks for none is offered lease_time too, not what is left
        # of its lease (RFC 2131 4.3.1's first rule): the ACK that follows grants lease_time from
        # then, and 3.1 step 5 wants the two not to conflict (docs/architecture.md; dnsmasq alike).
        self.lease = self._lease_for() if req.cnt[_LEASE] else cfg.lease_time
        # RFC 4039 section 4: with rapid commit both enabled and asked for, bind at once.
        if cfg.rapid_commit and req.cnt[_RAPID]:
            return self._bind(s, now, tx, 0)
        st = t.state[s]
        if st != _BOUND:
            if st != _OFFERED:
                self.n_offered += 1
            t.state[s] = _OFFERED
            # Held through second now + offer_hold, at most NEVER (offer_hold may be 2**30 - 1, and
            # `now` grows), as _bind holds a lease: from 2**30 a board's ints are heap objects.
            x = _NEVER - now
            if cfg.offer_hold < x:
                x = cfg.offer_hold
            vt = _fast
            if vt is not None:
                vt.timer(t, s, now + x)   # set_timer's twin (no Python call)
            else:
                t.set_timer(s, now + x)
        if self.on_event is not None:
            self.on_event(_EV_OFFER, s)
        self.counters[_C_OFFER] += 1
        return self._reply(tx, _DHCPOFFER, s, 0)

    def _available_to(self, s):
        # Free for the current client: in the free list (so not reserved), or already its own.
        t = self.table
        st = t.state[s]
        if st == _FREE or st == _RELEASED or st == _EXPIRED:
            return True
        return t.key_equals(s, self.kbuf) and (st == _OFFERED or st == _BOUND)

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
            if t.flags[cl] & _F_RESERVED:
                return True
            st = t.state[cl]
            if st == _OFFERED or st == _BOUND:
                # Moving a live client (it asked for another address): free its old slot.
                if st == _OFFERED:
                    self.n_offered -= 1
                vt = _fast
                if vt is not None:
                    vt.timer(t, ~cl, 0)   # vacate's clear_timer in machine code (it returns at once then)
                t.vacate(cl, _FREE)   # cl is no reservation (returned above)
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
        if hw or self.req.cnt[_HOSTNAME]:
            self._save_client(s, hw)
        if not same:
            t.set_key(s, kb, self.khash, hwf)
        return True

    def _lease_for(self):
        # RFC 2131 4.3.1: the client may ask for a lease time (option 51); the server may grant
        # less. We grant between min_lease and lease_time.
        cfg = self.cfg
        req = self.req
        lt = cfg.lease_time
        if req.cnt[_LEASE]:
            o = req.off[_LEASE]
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
        if req.cnt[_SERVER_ID]:
            b = self.rx
            o = req.off[_SERVER_ID]
            v = self.server
            if b[o] != v[0] or b[o + 1] != v[1] or b[o + 2] != v[2] or b[o + 3] != v[3]:   # not _is_ours(o)
                # SELECTING, another server chosen: our offer was declined, so free it.
                if cl >= 0 and t.state[cl] == _OFFERED:
                    self._unoffer(cl)
                return self._drop(_C_OTHER_SERVER)
            # SELECTING, us chosen: option 50 MUST hold the offered address and ciaddr be 0.
            if req.cnt[_REQ_ADDR]:
                pos = req.off[_REQ_ADDR]
            elif not self._is_zero(_CIADDR):
                pos = _CIADDR   # tolerated: some clients fill ciaddr instead
            else:
                return self._drop(_C_BAD_REQUEST)
            return self._grant(cl, pos, now, tx, 1)
        if req.cnt[_REQ_ADDR]:
            # INIT-REBOOT: verify a remembered address.
            return self._grant(cl, req.off[_REQ_ADDR], now, tx, 0)
        if not self._is_zero(_CIADDR):
            # RENEWING (unicast) or REBINDING (broadcast): extend the lease on ciaddr.
            return self._grant(cl, _CIADDR, now, tx, 0)
        return self._drop(_C_BAD_REQUEST)

    def _unoffer(self, s):
        self.n_offered -= 1
        self.table.vacate(s, _FREE)

    def _grant(self, cl, pos, now, tx, selecting):
        t = self.table
        cfg = self.cfg
        reserved = cl >= 0 and t.flags[cl] & _F_RESERVED
        if cfg.known_clients_only and not reserved:
            return self._drop(_C_UNKNOWN_CLIENT)
        # Without authority (another server may own this client) we answer only clients we
        # know or that chose us; RFC 2131 4.3.2 "MUST remain silent" for unknown clients.
        speak = selecting or cfg.authoritative or cl >= 0
        off = self._off_at(pos)
        if off < 0:
            return self._nak(tx, _NAK_WRONG_NET) if speak else self._drop(_C_IGNORED)
        s = off - t.pool_first   # t.slot_of(off), the pool case written out
        if s < 0 or s >= t.pool_size:
            s = t.slot_of(off)
        if s < 0:
            return self._nak(tx, _NAK_NOT_POOL) if speak else self._drop(_C_IGNORED)
        if cl >= 0 and cl != s:
            st = t.state[cl]
            if reserved or st == _OFFERED or st == _BOUND:
                # The client holds another address with us (or a reservation): make it restart.
                return self._nak(tx, _NAK_NOT_YOURS)
        # cl == s: the client was found in s by this very key, so the keys are equal.
        if cl == s or t.key_equals(s, self.kbuf):
            if t.state[s] == _DECLINED:
                return self._nak(tx, _NAK_IN_USE)
        else:
            if not self._available_to(s) or t.flags[s] & _F_RESERVED:
                return self._nak(tx, _NAK_IN_USE) if speak else self._drop(_C_IGNORED)
            if not speak:
                return self._drop(_C_IGNORED)
        self.lease = self._lease_for() if self.req.cnt[_LEASE] else cfg.lease_time
        renewing = t.state[s] == _BOUND and s == cl
        if not self._take(s, cl):
            return self._drop(_C_ID_ARENA_FULL)
        return self._bind(s, now, tx, renewing)

    def _bind(self, s, now, tx, renewing):
        t = self.table
        if t.state[s] == _OFFERED:
            self.n_offered -= 1
        t.state[s] = _BOUND
        # The lease ends after second now + lease (tick: a timer fires once its second is past),
        # held at NEVER (lease_time may be 2**30 - 1): from 2**30 a board's ints are heap objects.
        x = self.lease
        x = now + x if x < _NEVER - now else _NEVER
        vt = _fast
        if vt is not None:
            vt.timer(t, s, x)   # set_timer's twin (no Python call)
        else:
            t.set_timer(s, x)
        if not renewing and self.on_commit is not None:
            # A new binding reaches the lease store before its ACK leaves (crash safety).
            self.on_commit(s, now)
        if self.on_event is not None:
            self.on_event(_EV_RENEWED if renewing else _EV_BOUND, s)
        self.counters[_C_ACK] += 1
        return self._reply(tx, _DHCPACK, s, 1 if self.req.msg_type == _DHCPREQUEST else 2)

    # --- DECLINE and RELEASE: sections 4.3.3 and 4.3.4 -----------------------------------
    def _decline(self, now):
        req = self.req
        t = self.table
        if req.cnt[_SERVER_ID] and not self._is_ours(req.off[_SERVER_ID]):
            return self._drop(_C_OTHER_SERVER)
        if not req.cnt[_REQ_ADDR]:
            return self._drop(_C_BAD_REQUEST)
        s = t.slot_of(self._off_at(req.off[_REQ_ADDR]))
        cl = self._identify()
        if cl < -1:
            return self._refuse(cl)
        # Only the client holding the address may decline it (no hijacking by forged DECLINEs).
        if s < 0 or cl != s or not (t.state[s] == _OFFERED or t.state[s] == _BOUND):
            return self._drop(_C_IGNORED)
        if t.state[s] == _OFFERED:
            self.n_offered -= 1
        self.counters[_C_DECLINE] += 1
        self._event(_EV_DECLINED, s)
        t.state[s] = _DECLINED
        x = _NEVER - now            # the quarantine ends at most at NEVER, as in _discover
        if self.cfg.decline_hold < x:
            x = self.cfg.decline_hold
        t.set_timer(s, now + x)
        if not t.flags[s] & _F_RESERVED:
            t.clear_key(s)
        self._commit(s, now)
        return 0

    def _release(self, now):
        req = self.req
        t = self.table
        if req.cnt[_SERVER_ID] and not self._is_ours(req.off[_SERVER_ID]):
            return self._drop(_C_OTHER_SERVER)
        s = t.slot_of(self._off_at(_CIADDR))
        cl = self._identify()
        if cl < -1:
            return self._refuse(cl)
        if s < 0 or cl != s or t.state[s] != _BOUND:
            return self._drop(_C_IGNORED)
        self.counters[_C_RELEASE] += 1
        self._event(_EV_RELEASED, s)
        # Freed, but the key stays: the client gets this address back if it is still free.
        vt = _fast
        if vt is not None:
            # vacate's clear_timer in machine code (fast.timer, slot ~s: stop s's timer): the
            # heap's sift in Python was the one step of a RELEASE that grew with the table.
            vt.timer(t, ~s, 0)
        t.vacate(s, _RELEASED)
        self._commit(s, now)
        return 0

    # --- INFORM: section 4.3.5 --------------------------------------------------------------
    def _inform(self, tx):
        self.counters[_C_INFORM] += 1
        self._event(_EV_INFORM, -1)
        return self._reply(tx, _DHCPACK, -1, 0)

    # --- replies: section 4.1, 4.3 and Table 3 -------------------------------------------
    def _nak(self, tx, text):
        self.counters[_C_NAK] += 1
        self.nak_text = text
        self._event(_EV_NAK, -1)
        return self._reply(tx, _DHCPNAK, -1, 0)

    # The reply builder, in microdhcp.reply: its functions are this class's methods (self is the
    # engine), so a call costs the one class look-up it cost when they were written here.
    _reply = _rp.reply
    _clear = _rp.clear
    _put_params = _rp.put_params
    _put_opt = _rp.put_opt
    _put_u32 = _rp.put_u32
