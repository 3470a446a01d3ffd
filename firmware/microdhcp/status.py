# MIT license; Copyright (c) 2026 the microdhcp authors
# microdhcp.status: the engine's state for people: lease events and the lease table as lines
# (dnsmasq-like), counters by name, one lease as a tuple. Shared by the host command, the boards
# and the web page. Everything here runs off the packet path and allocates, except EventLog, which
# writes the packet-rate lines (OFFER, ACK) without allocating; the engine itself (engine.py) keeps
# only what serving needs, so an engine-only run (the memory budgets) never imports this.
from struct import pack_into
from microdhcp.codes import (EV_OFFER, EV_BOUND, EV_RENEWED, EV_NOADDR, EV_NAK, EV_INFORM, C_EXHAUSTED,
                              C_UNKNOWN_CLIENT, C_OTHER_SERVER, C_IGNORED, C_WRONG_RELAY, C_NOT_CLIENT_MSG,
                              C_BAD_REQUEST, C_OVERSIZE, C_OFFER_CAP, C_RATE_LIMITED, C_ID_MISMATCH,
                              C_ID_TOO_LONG, C_ID_ARENA_FULL)
from microdhcp.codes import (REQ_ADDR, HDR_HLEN, HDR_CIADDR, HDR_CHADDR, E_SHORT, E_NOT_REQUEST, E_HLEN, E_COOKIE,
                              E_OPTION, E_NO_TYPE, E_BAD_LEN, E_TOO_LONG)
from microdhcp.codes import FREE, NEVER, HW_SIZE, HW_ROOM, KEY_SIZE, STATE_NAMES
from microdhcp.ipv4 import fmt_ip, fmt_hex

_HEX = b"0123456789abcdef"

# engine.counters, index -> name (codes.C_* and, for 1..8, the parse results codes.E_*; the last,
# C_RESTARTS, the times the others started again from 0: shown so that a drop is not read as a loss).
COUNTER_NAMES = ("received", "short", "not_request", "bad_hlen", "bad_cookie", "bad_option", "no_msg_type",
                 "bad_option_len", "options_too_long", "replied", "offer", "ack", "nak", "decline", "release",
                 "inform", "pool_exhausted", "unknown_client", "other_server", "ignored", "wrong_relay",
                 "not_client_msg", "bad_request", "oversize", "expired", "offer_cap", "rate_limited",
                 "id_mismatch", "id_too_long", "id_arena_full", "id_pinned", "counter_restarts")
# The counters of messages that got no answer: the parser's E_* and the engine's refusals.
DROP_COUNTERS = (E_SHORT, E_NOT_REQUEST, E_HLEN, E_COOKIE, E_OPTION, E_NO_TYPE, E_BAD_LEN, E_TOO_LONG,
                 C_EXHAUSTED, C_UNKNOWN_CLIENT, C_OTHER_SERVER, C_IGNORED, C_WRONG_RELAY, C_NOT_CLIENT_MSG,
                 C_BAD_REQUEST, C_OVERSIZE, C_OFFER_CAP, C_RATE_LIMITED, C_ID_MISMATCH, C_ID_TOO_LONG,
                 C_ID_ARENA_FULL)
# codes.EV_* -> the log tag of its line (dnsmasq's names).
EVENT_TAGS = ("", "DHCPOFFER", "DHCPACK", "DHCPACK", "DHCPRELEASE", "DHCPDECLINE", "DHCPEXPIRE", "DHCPNAK",
               "DHCPDISCOVER", "DHCPINFORM")


# --- counters ------------------------------------------------------------------------------------
def counter(engine, name):
    """One engine counter by name (COUNTER_NAMES)."""
    return engine.counters[COUNTER_NAMES.index(name)]


def stats(engine):
    """Every engine counter, {name: value}."""
    c = engine.counters
    return dict(zip(COUNTER_NAMES, c))


def dropped(engine):
    """Messages that got no answer (DROP_COUNTERS summed)."""
    c = engine.counters
    return sum(c[i] for i in DROP_COUNTERS)


# --- leases --------------------------------------------------------------------------------------
def slot_info(engine, s, now):
    """(address, hw address, client id hex or "", hostname, state, seconds left) of slot s. Seconds
    left: on the slot's timer (0 once due, before the engine's tick ends it); -1 when it never
    ends (a reservation waiting for its client, a lease of no expiry); None when no timer runs
    (released, expired, free: nothing counts down)."""
    t = engine.table
    p = s * HW_SIZE
    hlen = t.hlen(s)
    # A chaddr longer than 6 bytes is kept (and listed) as its first 6 bytes.
    mac = fmt_hex(t.hw, p + 1, hlen if hlen <= HW_ROOM else HW_ROOM) if hlen else ""
    kb = bytearray(KEY_SIZE)
    kn = t.key_into(s, kb)
    cid = fmt_hex(kb, 1, kn) if kn else ""
    q = s * t.host_len
    # Option 12 is client-supplied bytes (RFC 2132 3.14 allows only ASCII names): anything else
    # is shown as "?" so that a listing never raises on a bad or cut-off name.
    host = "".join([chr(c) if 32 <= c < 127 else "?" for c in t.host[q + 1:q + 1 + t.host[q]]])
    st = t.state[s]
    left = -1 if st == 6 else None      # codes.RESERVED: a reservation waiting for its client
    if t.hpos[s]:
        x = t.expiry[s]
        left = -1 if x == NEVER else max(x - now, 0)
    return (fmt_ip(engine.cfg.addr(t.offset_of(s))), mac, cid, host, STATE_NAMES[st], left)


def iter_leases(engine, now, all_slots=False):
    """slot_info of every slot with a client (or a reservation): bound, offered, released, expired,
    declined, reserved; one tuple at a time, so that a big table can be listed on a small heap."""
    t = engine.table
    for s in range(t.capacity):
        if all_slots or t.state[s] != FREE:
            yield slot_info(engine, s, now)


def leases(engine, now, all_slots=False):
    """iter_leases as a list."""
    return list(iter_leases(engine, now, all_slots))


# --- lines ---------------------------------------------------------------------------------------
def _request_mac(engine):
    rx = engine.rx
    n = rx[HDR_HLEN]
    return fmt_hex(rx, HDR_CHADDR, n if 0 < n <= 16 else 6)


def event_line(engine, kind, slot, iface, now):
    """One line per event, e.g. `DHCPACK(br0) 192.168.4.23 02:00:00:00:00:01 sensor-3`."""
    name = "%s(%s)" % (EVENT_TAGS[kind], iface or "-")
    if kind == EV_NOADDR:
        return "%s %s no address available" % (name, _request_mac(engine))
    if kind == EV_NAK:
        req = engine.req
        asked = fmt_ip(engine.rx, req.off[REQ_ADDR]) if req.cnt[REQ_ADDR] else fmt_ip(engine.rx, HDR_CIADDR)
        return "%s %s %s %s" % (name, asked, _request_mac(engine), engine.nak_text.decode())
    if kind == EV_INFORM:
        return "%s %s %s" % (name, fmt_ip(engine.rx, HDR_CIADDR), _request_mac(engine))
    ip, mac, cid, host, state, left = slot_info(engine, slot, now)
    line = "%s %s %s" % (name, ip, mac)
    if host:
        line += " " + host
    return line


def lease_table(engine, now):
    """The table, line by line (a generator): address, MAC, client id, hostname, state, seconds left."""
    yield "%-15s %-17s %-22s %-15s %-9s %s" % ("address", "mac", "client-id", "hostname", "state", "left")
    for ip, mac, cid, host, state, left in iter_leases(engine, now):
        if len(cid) > 22:
            cid = cid[:21] + "+"
        yield "%-15s %-17s %-22s %-15s %-9s %s" % (ip, mac or "-", cid or "-", host or "-", state,
                                                   "-" if left is None else "never" if left < 0 else str(left))


def counters_line(engine):
    c = engine.counters
    parts = ["%s=%d" % kv for kv in zip(COUNTER_NAMES, c) if kv[1]]
    return "counters: dropped=%d %s" % (dropped(engine), " ".join(parts))


class EventLog:
    """The lines of event_line, written cheaply. OFFER, ACK and renewal lines (the packet-rate events,
    `DHCPACK(ap) 192.168.4.23 02:00:00:00:00:01 sensor-3`) are built byte by byte in one buffer made
    here, from the lease table (as event_line reads it): no string, no allocation. The rare events
    (NAK, RELEASE, DECLINE, EXPIRE, INFORM, no address) are event_line's: a board prints them, the
    host command copies them into the same buffer (microdhcp.__main__.HostEventLog).

    write_out(buf, n) writes the first n bytes of buf: on MicroPython the stream write's length
    argument (py/stream.c:275-303; sys.stdout is that stream on ESP32 and rp2,
    shared/runtime/sys_stdio_mphal.c:108, and on unix, extmod/vfs_posix_file.c:261, :351),
    which allocates nothing. batch: bytes held before they are written (0: each line at once, as
    on a board's console); flush() writes what is held. The
    host command holds up to 4 KB and flushes after each Server.poll(), once that poll's replies
    are sent (net.Server.idle): a line never delays a reply, and one write(2) carries a burst.
    Kept small: this class is frozen into every board's firmware (the flash budget counts it)."""

    def __init__(self, engine, iface, write_out, batch=0, clock=None):
        self.engine = engine
        self.iface = iface
        self.clock = clock
        self.write_out = write_out
        # Each kind's "NAME(iface) ", and in a /24 or smaller subnet (every offset < 256) the first
        # three octets of every address too, "192.168.4.": one copy writes both.
        cfg = engine.cfg
        net = cfg.network
        self.net3 = cfg.prefix >= 24
        self.net_last = net[3]
        head = ("%d.%d.%d." % (net[0], net[1], net[2])) if self.net3 else ""
        pre = []
        for tag in EVENT_TAGS:
            pre.append(("%s(%s) %s" % (tag, iface or "-", head)).encode())
        self.prefix = pre
        # struct.pack_into("<ks") copies exactly k bytes (py/modstruct.c, the 's' case); a slice
        # store would move the buffer's whole tail onto itself (docs/performance.md, section 4).
        self.pfmt = ["%ds" % len(p) for p in pre]
        # the longest built line: prefix, address (15), " " + MAC (18), " " + hostname, newline
        self.room = max(len(p) for p in pre) + 15 + 18 + engine.table.host_len + 2
        self.batch = batch
        self.buf = bytearray(self.room + batch)
        self.n = 0          # bytes held

    def write(self, kind, slot):
        # OFFER, ACK, renewal: built in place. Returns False for the other kinds (and when there
        # is no byte writer, e.g. a board module imported by CPython), which event_line formats.
        out = self.write_out
        if out is None or not (kind == EV_OFFER or kind == EV_BOUND or kind == EV_RENEWED):
            return False
        t = self.engine.table
        b = self.buf
        n = self.n
        pre = self.prefix[kind]
        pack_into(self.pfmt[kind], b, n, pre)
        n += len(pre)
        # the lease's address: network | host offset, byte by byte (no 32-bit int)
        off = t.pool_first + slot if slot < t.pool_size else t.extra[slot - t.pool_size]  # offset_of
        if not self.net3:
            net = self.engine.cfg.network
            n = _dec(b, n, net[0] | ((off >> 24) & 255))
            b[n] = 46
            n = _dec(b, n + 1, net[1] | ((off >> 16) & 255))
            b[n] = 46
            n = _dec(b, n + 1, net[2] | ((off >> 8) & 255))
            b[n] = 46
            n += 1
            v = net[3] | (off & 255)
        else:
            v = off | self.net_last
        # the hardware address the slot keeps (its first 6 bytes, as slot_info lists it)
        h = t.hlen(slot)
        if h > HW_ROOM:
            h = HW_ROOM
        # the last octet (_dec written out: a call costs more than these lines)
        if v >= 100:
            b[n] = 48 + v // 100
            n += 1
        if v >= 10:
            b[n] = 48 + (v // 10) % 10
            n += 1
        b[n] = 48 + v % 10
        n += 1
        hw = t.hw
        hx = _HEX
        p = slot * HW_SIZE + 1
        b[n] = 32
        for p in range(p, p + h):
            v = hw[p]
            b[n + 1] = hx[v >> 4]
            b[n + 2] = hx[v & 15]
            b[n + 3] = 58
            n += 3
        if h:
            n += 1      # the last ":" becomes the separator before the hostname, or the newline
        else:
            n += 2      # no MAC: event_line's empty field between two spaces
        q = slot * t.host_len
        host = t.host
        m = host[q]
        if m:
            b[n - 1] = 32
            for i in range(m):
                c = host[q + 1 + i]
                b[n] = c if 32 <= c < 127 else 63   # "?" as event_line shows it
                n += 1
            n += 1
        b[n - 1] = 10
        if n > self.batch:
            out(b, n)
            n = 0
        self.n = n
        return True

    def flush(self):
        n = self.n
        if n:
            self.n = 0
            self.write_out(self.buf, n)


def _dec(b, n, v):
    # v (0-255) in decimal at b[n]; returns the new end.
    if v >= 100:
        b[n] = 48 + v // 100
        n += 1
    if v >= 10:
        b[n] = 48 + (v // 10) % 10
        n += 1
    b[n] = 48 + v % 10
    return n + 1
