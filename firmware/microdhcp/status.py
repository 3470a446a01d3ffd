# MIT license; Copyright (c) 2026 the microdhcp authors
# microdhcp.status: human-readable lines for lease events and the lease table (dnsmasq-like), shared
# by the host command and the boards. Allocates; called outside the packet path.
from microdhcp.engine import (EVENT_NAMES, EV_NOADDR, EV_NAK, EV_INFORM, COUNTER_NAMES, DROP_COUNTERS)
from microdhcp.packet import REQ_ADDR
from microdhcp.ipv4 import fmt_ip, fmt_hex


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
    ip, mac, cid, host, state, left = engine.slot_info(slot, now)
    line = "%s %s %s" % (name, ip, mac)
    if host:
        line += " " + host
    return line


def lease_table(engine, now):
    """The table, line by line (a generator): address, MAC, client id, hostname, state, seconds left."""
    yield "%-15s %-17s %-22s %-15s %-9s %s" % ("address", "mac", "client-id", "hostname", "state", "left")
    for ip, mac, cid, host, state, left in engine.iter_leases(now):
        if len(cid) > 22:
            cid = cid[:21] + "+"
        yield "%-15s %-17s %-22s %-15s %-9s %s" % (ip, mac or "-", cid or "-", host or "-", state,
                                                   "never" if left < 0 else str(left))


def counters_line(engine):
    c = engine.counters
    parts = ["%s=%d" % (COUNTER_NAMES[i], c[i]) for i in range(len(COUNTER_NAMES)) if c[i]]
    return "counters: dropped=%d %s" % (sum(c[i] for i in DROP_COUNTERS), " ".join(parts))
