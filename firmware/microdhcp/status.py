# MIT license; Copyright (c) 2026 the microdhcp authors
# microdhcp.status: the engine's state for people: lease events and the lease table as lines
# (dnsmasq-like), counters by name, one lease as a tuple. Shared by the host command, the boards
# and the web page. Everything here allocates and runs off the packet path; the engine itself
# (engine.py) keeps only what serving needs, so a server that never lists leases never imports this.
from microdhcp.engine import (EV_NOADDR, EV_NAK, EV_INFORM, C_EXHAUSTED, C_UNKNOWN_CLIENT, C_OTHER_SERVER,
                              C_IGNORED, C_WRONG_RELAY, C_NOT_CLIENT_MSG, C_BAD_REQUEST, C_OVERSIZE, C_OFFER_CAP,
                              C_RATE_LIMITED, C_ID_MISMATCH, C_ID_TOO_LONG, C_ID_ARENA_FULL)
from microdhcp.packet import REQ_ADDR
from microdhcp.leases import FREE, NEVER, HW_SIZE, HW_ROOM, KEY_SIZE, STATE_NAMES
from microdhcp.ipv4 import fmt_ip, fmt_hex

# engine.counters, index -> name (engine.C_* and, for 1..8, packet.py's parse results E_*).
COUNTER_NAMES = ("received", "short", "not_request", "bad_hlen", "bad_cookie", "bad_option", "no_msg_type",
                 "bad_option_len", "options_too_long", "replied", "offer", "ack", "nak", "decline", "release",
                 "inform", "pool_exhausted", "unknown_client", "other_server", "ignored", "wrong_relay",
                 "not_client_msg", "bad_request", "oversize", "expired", "offer_cap", "rate_limited",
                 "id_mismatch", "id_too_long", "id_arena_full", "id_pinned")
# The counters of messages that got no answer: the parser's 1..8 and the engine's refusals.
DROP_COUNTERS = (1, 2, 3, 4, 5, 6, 7, 8, C_EXHAUSTED, C_UNKNOWN_CLIENT, C_OTHER_SERVER, C_IGNORED,
                 C_WRONG_RELAY, C_NOT_CLIENT_MSG, C_BAD_REQUEST, C_OVERSIZE, C_OFFER_CAP, C_RATE_LIMITED,
                 C_ID_MISMATCH, C_ID_TOO_LONG, C_ID_ARENA_FULL)
# engine.EV_* -> the log tag of its line (dnsmasq's names).
EVENT_NAMES = ("", "DHCPOFFER", "DHCPACK", "DHCPACK", "DHCPRELEASE", "DHCPDECLINE", "DHCPEXPIRE", "DHCPNAK",
               "DHCPDISCOVER", "DHCPINFORM")


# --- counters ------------------------------------------------------------------------------------
def counter(engine, name):
    """One engine counter by name (COUNTER_NAMES)."""
    return engine.counters[COUNTER_NAMES.index(name)]


def stats(engine):
    """Every engine counter, {name: value}."""
    c = engine.counters
    return dict((COUNTER_NAMES[i], c[i]) for i in range(len(COUNTER_NAMES)))


def dropped(engine):
    """Messages that got no answer (DROP_COUNTERS summed)."""
    c = engine.counters
    return sum(c[i] for i in DROP_COUNTERS)


# --- leases --------------------------------------------------------------------------------------
def slot_info(engine, s, now):
    """(address, hw address, client id hex or "", hostname, state, seconds left or -1) of slot s."""
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
    left = -1
    if t.hpos[s] and t.expiry[s] != NEVER:
        left = t.expiry[s] - now
    return (fmt_ip(engine.cfg.addr(t.offset_of(s))), mac, cid, host, STATE_NAMES[t.state[s]], left)


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
    return fmt_hex(rx, 28, rx[2] if 0 < rx[2] <= 16 else 6)


def event_line(engine, kind, slot, iface, now):
    """One line per event, e.g. `DHCPACK(br0) 192.168.4.23 02:00:00:00:00:01 sensor-3`."""
    name = "%s(%s)" % (EVENT_NAMES[kind], iface or "-")
    if kind == EV_NOADDR:
        return "%s %s no address available" % (name, _request_mac(engine))
    if kind == EV_NAK:
        req = engine.req
        asked = fmt_ip(engine.rx, req.off[REQ_ADDR]) if req.cnt[REQ_ADDR] else fmt_ip(engine.rx, 12)
        return "%s %s %s %s" % (name, asked, _request_mac(engine), engine.nak_text.decode())
    if kind == EV_INFORM:
        return "%s %s %s" % (name, fmt_ip(engine.rx, 12), _request_mac(engine))
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
                                                   "never" if left < 0 else str(left))


def counters_line(engine):
    c = engine.counters
    parts = ["%s=%d" % (COUNTER_NAMES[i], c[i]) for i in range(len(COUNTER_NAMES)) if c[i]]
    return "counters: dropped=%d %s" % (dropped(engine), " ".join(parts))
