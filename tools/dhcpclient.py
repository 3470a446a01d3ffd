# dhcpclient: the Linux shell around microdhcp.client (CPython only: raw AF_PACKET sockets, so it
# works before the interface has an address and sees each reply's source MAC). Kept out of
# firmware/ on purpose: a board has no AF_PACKET, and nothing here may end up in a deploy.
# Commands (through `python3 -m microdhcp probe|client|swarm ...`, or run this file directly):
#   probe  --iface IF [--wait S] [--mac MAC] [--client-id HEX] [--hostname H] [--option C=HEX]
#          [--full] [--json]        every server on the segment; exit 0 one, 3 several, 2 none
#   client --iface IF [--once] [--mac MAC] [--hostname H] [--no-check] [--timeout S]
#   swarm  --iface IF -n N [--renew] [--timeout S] [--json]
import argparse
import json
import os
import select
import signal
import socket
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FIRMWARE = os.path.join(os.path.dirname(HERE), "firmware")
if FIRMWARE not in sys.path:
    sys.path.insert(0, FIRMWARE)

from microdhcp import client as cl  # noqa: E402
from microdhcp.client import Reply  # noqa: E402

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
ETH_P_ARP = 0x0806
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_PROMISC = 1
PACKET_OUTGOING = 4
BROADCAST_MAC = b"\xff" * 6
ANY = b"\0\0\0\0"
BCAST_IP = b"\xff\xff\xff\xff"

# Option names and formats for display (RFC 2132 and later).
_IPS = "ips"
_U32 = "u32"
_TEXT = "text"
_U16 = "u16"
OPTION_INFO = {
    1: ("subnet_mask", _IPS), 2: ("time_offset", _U32), 3: ("router", _IPS), 6: ("dns", _IPS),
    12: ("hostname", _TEXT), 15: ("domain", _TEXT), 26: ("mtu", _U16), 28: ("broadcast", _IPS),
    42: ("ntp", _IPS), 44: ("netbios_ns", _IPS), 51: ("lease_time", _U32), 53: ("message_type", "u8"),
    54: ("server_id", _IPS), 56: ("message", _TEXT), 58: ("renewal_t1", _U32), 59: ("rebinding_t2", _U32),
    61: ("client_id", "hex"), 114: ("captive_portal", _TEXT), 119: ("domain_search", "hex"),
    121: ("classless_routes", "hex"), 108: ("ipv6_only_wait", _U32), 80: ("rapid_commit", "hex"),
    82: ("relay_agent", "hex"),
}
ALL_CODES = tuple(c for c in range(1, 255) if c != 52)   # 52 (overload) is handled by the walk


def ipstr(b):
    return "%d.%d.%d.%d" % tuple(b[:4])


def macstr(b):
    return ":".join("%02x" % x for x in b[:6])


def parse_mac(text):
    p = text.split(":")
    if len(p) != 6:
        raise ValueError("MAC %r: six hex octets, colon separated" % text)
    return bytes(int(x, 16) for x in p)


def parse_ip(text):
    return socket.inet_aton(text)


def decode_option(code, v):
    name, fmt = OPTION_INFO.get(code, ("option_%d" % code, "hex"))
    if fmt == _IPS and len(v) % 4 == 0 and v:
        val = [ipstr(v[i:i + 4]) for i in range(0, len(v), 4)]
        if code in (1, 54, 28) and len(val) == 1:
            val = val[0]
    elif fmt == _U32 and len(v) == 4:
        val = struct.unpack("!I", v)[0]
    elif fmt == _U16 and len(v) == 2:
        val = struct.unpack("!H", v)[0]
    elif fmt == "u8" and len(v) == 1:
        val = v[0]
    elif fmt == _TEXT:
        val = v.decode("ascii", "replace")
    else:
        val = v.hex()
    return name, val


def options_of(rx):
    """{code: bytes} of a parsed Reply that tracks ALL_CODES (split options joined)."""
    out = {}
    for i, code in enumerate(rx.codes):
        if rx.cnt[i]:
            o, n = rx.off[i], rx.ln[i]
            out[code] = bytes(rx.buf[o:o + n])
    return out


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_frame(payload, src_mac, dst_mac, src_ip, dst_ip, ip_id=0, sport=68, dport=67):
    """Ethernet + IPv4 + UDP around a DHCP payload, both checksums computed (a raw socket gets
    no offload; RFC 768 / RFC 791)."""
    ulen = 8 + len(payload)
    pseudo = src_ip + dst_ip + struct.pack("!BBH", 0, 17, ulen)
    udp = struct.pack("!HHHH", sport, dport, ulen, 0) + payload
    uc = checksum(pseudo + udp) or 0xFFFF       # RFC 768: a computed 0 is sent as all ones
    udp = udp[:6] + struct.pack("!H", uc) + udp[8:]
    iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0x10, 20 + ulen, ip_id, 0, 64, 17, 0, src_ip, dst_ip)
    iph = iph[:10] + struct.pack("!H", checksum(iph)) + iph[12:]
    return dst_mac + src_mac + struct.pack("!H", ETH_P_IP) + iph + udp


def arp_frame(op, src_mac, src_ip, dst_mac, target_mac, target_ip):
    # RFC 826 over Ethernet, padded to the 60-byte minimum frame.
    arp = struct.pack("!HHBBH6s4s6s4s", 1, ETH_P_IP, 6, 4, op, src_mac, src_ip, target_mac, target_ip)
    return dst_mac + src_mac + struct.pack("!H", ETH_P_ARP) + arp + bytes(18)


def parse_frame(frame):
    """("dhcp", payload, src_mac, src_ip, dst_mac) for UDP 67 -> 68 with a good IPv4 header
    checksum, ("arp", op, sender_mac, sender_ip, target_ip), or ("other",)."""
    if len(frame) < 42:
        return ("other",)
    etype = struct.unpack_from("!H", frame, 12)[0]
    if etype == ETH_P_ARP:
        op = struct.unpack_from("!H", frame, 20)[0]
        return ("arp", op, frame[22:28], frame[28:32], frame[38:42])
    if etype != ETH_P_IP or frame[14] >> 4 != 4 or frame[23] != 17:
        return ("other",)
    ihl = (frame[14] & 15) * 4
    u = 14 + ihl
    if ihl < 20 or len(frame) < u + 8 or checksum(frame[14:u]) != 0:
        return ("other",)
    sport, dport, ulen = struct.unpack_from("!HHH", frame, u)
    if dport != 68 or sport != 67 or ulen < 8 or u + ulen > len(frame):
        return ("other",)
    return ("dhcp", frame[u + 8:u + ulen], frame[6:12], frame[26:30], frame[0:6])


class Link:
    """One raw socket on an interface: DHCP frames out (Ethernet/IPv4/UDP built here), DHCP
    and ARP frames in. promisc: receive frames to other MACs too (swarm clients)."""

    def __init__(self, iface, promisc=False):
        self.iface = iface
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.bind((iface, ETH_P_ALL))
        self.mac = self.sock.getsockname()[4][:6]
        if promisc:
            ifindex = socket.if_nametoindex(iface)
            mreq = struct.pack("iHH8s", ifindex, PACKET_MR_PROMISC, 0, b"")
            self.sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq)
        self.sock.setblocking(False)
        self.ip_id = os.getpid() & 0xFFFF

    def close(self):
        self.sock.close()

    def send_udp(self, payload, src_mac, dst_mac, src_ip, dst_ip):
        self.ip_id = (self.ip_id + 1) & 0xFFFF
        self.sock.send(udp_frame(payload, src_mac, dst_mac, src_ip, dst_ip, self.ip_id))

    def send_arp(self, op, src_mac, src_ip, dst_mac, target_mac, target_ip):
        self.sock.send(arp_frame(op, src_mac, src_ip, dst_mac, target_mac, target_ip))

    def recv(self):
        """One frame decoded by parse_frame, or None when nothing is waiting."""
        try:
            frame, addr = self.sock.recvfrom(2048)
        except BlockingIOError:
            return None
        if addr[2] == PACKET_OUTGOING:
            return ("other",)
        return parse_frame(frame)

    def wait(self, timeout):
        if timeout > 0:
            select.select([self.sock], [], [], timeout)


class Host:
    """Runs Clients over a Link. Time for the clients is whole seconds since start (int)."""

    def __init__(self, link, arp_wait=1.0, log=None):
        self.link = link
        self.t0 = time.monotonic()
        self.clients = {}          # chaddr -> Client
        self.server_macs = {}      # server ip bytes -> MAC (learned from replies)
        self.arp_wait = arp_wait
        self.log = log
        self.on_reply = None       # on_reply(client, event, frame tuple) after each handled reply

    def now(self):
        return int(time.monotonic() - self.t0)

    def add(self, c):
        c.tx = bytearray(1500)
        self.clients[bytes(c.mac)] = c
        return c

    def send(self, c, n):
        payload = bytes(c.tx[:n])
        if c.dst_kind == cl.DST_UNICAST:
            dst_ip = bytes(c.dst)
            dst_mac = self.server_macs.get(dst_ip, BROADCAST_MAC)
        else:
            dst_ip = BCAST_IP
            dst_mac = BROADCAST_MAC
        src_ip = bytes(c.tx[12:16])        # ciaddr: our address when we have one, else 0.0.0.0
        self.link.send_udp(payload, bytes(c.mac), dst_mac, src_ip, dst_ip)

    def poll_all(self):
        now = self.now()
        for c in self.clients.values():
            n = c.poll(now, c.tx)
            if n:
                self.send(c, n)

    def next_wake(self):
        now = self.now()
        w = [c.wake_at() for c in self.clients.values() if c.wake_at() >= 0]
        if not w:
            return 1.0
        # int-second client timers: wake at the start of that second
        return max(0.0, min(w) - (time.monotonic() - self.t0)) if min(w) > now else 0.0

    def step(self, max_wait=0.2):
        """Timers, then wait for and handle frames (up to max_wait seconds)."""
        self.poll_all()
        self.link.wait(min(self.next_wake(), max_wait))
        while True:
            f = self.link.recv()
            if f is None:
                break
            self.frame(f)

    def frame(self, f):
        if f[0] == "arp":
            self.arp(f)
            return
        if f[0] != "dhcp":
            return
        payload = f[1]
        chaddr = bytes(payload[28:34]) if len(payload) >= 34 else b""
        c = self.clients.get(chaddr)
        if c is None:
            return
        ev = c.handle(payload, self.now())
        if ev in (cl.EV_BOUND, cl.EV_RENEWED, cl.EV_CHECK):
            self.server_macs[bytes(c.server)] = bytes(f[2])
        if ev == cl.EV_CHECK:
            addr = bytes(c.addr)
            in_use = self.arp_probe(c, addr)
            if in_use:
                c.declined = (ipstr(addr), in_use)
            c.checked(self.now(), in_use)
        if self.on_reply is not None:
            self.on_reply(c, ev, f)

    def arp(self, f):
        # Answer ARP requests for our clients' addresses, so that a server can unicast to them
        # (RENEWING ACKs go to ciaddr) without the address being configured on the interface.
        op, smac, sip, tip = f[1], f[2], f[3], f[4]
        if op != 1:
            return
        for c in self.clients.values():
            if c.configured and bytes(c.addr) == tip:
                self.link.send_arp(2, bytes(c.mac), tip, smac, smac, sip)

    def arp_probe(self, c, addr):
        """RFC 5227 probe: ARP requests from 0.0.0.0 for addr; returns the MAC string of
        whoever answers or probes for it (address in use), or None."""
        mac = bytes(c.mac)
        end = time.monotonic() + self.arp_wait
        sent = 0
        while True:
            left = end - time.monotonic()
            if sent < 2 and left <= self.arp_wait * (1 - sent / 2.0):
                self.link.send_arp(1, mac, ANY, BROADCAST_MAC, bytes(6), addr)
                sent += 1
            if left <= 0:
                return None
            self.link.wait(min(left, 0.1))
            while True:
                f = self.link.recv()
                if f is None:
                    break
                if f[0] == "arp" and f[3] == addr and f[2] != mac:
                    return macstr(f[2])
                if f[0] == "arp" and f[1] == 1 and f[4] == addr and f[3] == ANY and f[2] != mac:
                    return macstr(f[2])      # another host probing for the same address


# ------------------------------------------------------------------------------- probe

def _client_from(args, mac, **kw):
    cid = bytes.fromhex(args.client_id) if getattr(args, "client_id", None) else None
    host = args.hostname.encode() if getattr(args, "hostname", None) else None
    return cl.Client(mac, client_id=cid, hostname=host, **kw)


def describe_reply(rx, payload, src_mac, src_ip, dst_mac):
    """One received reply as a dict for the report: source, length and, if it parses
    (rx: a Reply tracking ALL_CODES), yiaddr, type and every option decoded (and raw, in _raw)."""
    n = len(payload)
    entry = {"source_mac": macstr(src_mac), "source_ip": ipstr(src_ip), "to_mac": macstr(dst_mac), "length": n}
    if n > len(rx.buf):
        return entry
    rx.buf[0:n] = payload
    if rx.parse(n):
        return entry
    opts = options_of(rx)
    entry["yiaddr"] = ipstr(rx.buf[16:20])
    entry["type"] = rx.msg_type
    entry["options"] = {str(k): dict(zip(("name", "value"), decode_option(k, v))) for k, v in sorted(opts.items())}
    entry["_raw"] = opts
    return entry


def analyse(offers, client_id):
    """OFFER entries (describe_reply, each already accepted by the client core, so each has
    option 54) -> (servers, warnings, exit status: 0 one server, 3 several, 2 none)."""
    servers = {}
    for o in offers:
        servers.setdefault(o["options"]["54"]["value"], []).append(o)
    out = []
    for sid, os_ in servers.items():
        o = os_[0]
        out.append({"server_id": sid, "source_mac": o["source_mac"], "source_ip": o["source_ip"],
                    "offered": o["yiaddr"], "length": o["length"], "offers": len(os_), "options": o["options"]})
    warn = []
    if len(servers) > 1:
        warn.append("%d DHCP servers answered (%s): possible rogue server"
                    % (len(servers), ", ".join(sorted(servers))))
    for sid, os_ in servers.items():
        o = os_[0]
        if o["length"] < 300:
            warn.append("%s: reply of %d bytes, under the BOOTP minimum of 300 (RFC 1542 2.1)" % (sid, o["length"]))
        if 61 not in o["_raw"] and client_id:
            warn.append("%s: client identifier (61) not echoed (RFC 6842)" % sid)
        macs = sorted(set(x["source_mac"] for x in os_))
        if len(macs) > 1:
            warn.append("%s: offers from several MACs (%s)" % (sid, ", ".join(macs)))
    if len(servers) > 1:
        firsts = [os_[0] for os_ in servers.values()]
        codes = set()
        for o in firsts:
            codes |= set(o["_raw"])
        # 53/54/61 differ by nature; the lease timers are compared through 51.
        for code in sorted(codes - {53, 54, 58, 59, 61}):
            vals = set(o["_raw"].get(code) for o in firsts)
            if len(vals) > 1:
                warn.append("option %d (%s) differs between servers: %s" % (
                    code, OPTION_INFO.get(code, ("option_%d" % code,))[0],
                    "; ".join("%s=%s" % (o["options"]["54"]["value"],
                                         o["options"].get(str(code), {}).get("value", "absent")) for o in firsts)))
    code = 2 if not servers else (0 if len(servers) == 1 else 3)
    return out, warn, code


def nak_warnings(nak_entries):
    """Warnings for NAKs (describe_reply entries of type 6): one without option 54."""
    return ["NAK without server identifier (54), from %s (RFC 2131 table 3: MUST)" % e["source_mac"]
            for e in nak_entries if e.get("type") == 6 and 54 not in e["_raw"]]


def probe(args):
    link = Link(args.iface)
    mac = parse_mac(args.mac) if args.mac else link.mac
    host = Host(link, arp_wait=0)
    # offer_window 0: the window is kept here (poll() is not called until it ends), and --full
    # then REQUESTs the first offer at once.
    c = host.add(_client_from(args, mac, offer_window=0, broadcast=args.broadcast,
                              discover_tries=1, jitter=0))
    extra = []
    for item in args.option or []:
        code, _, hexv = item.partition("=")
        extra.append((int(code), bytes.fromhex(hexv)))
    full_rx = Reply(ALL_CODES)
    offers = []
    result = {"iface": args.iface, "mac": macstr(mac), "servers": [], "warnings": [], "ignored": {}}

    def record(cc, ev, f):
        entry = describe_reply(full_rx, f[1], f[2], f[3], f[4])
        if ev == cl.EV_OFFER:
            offers.append(entry)
    host.on_reply = record
    c.start(host.now())
    n = c.poll(host.now(), c.tx)
    if extra:
        n = _add_options(c.tx, n, extra)
    host.send(c, n)
    end = time.monotonic() + args.wait
    while time.monotonic() < end:
        link.wait(min(0.1, end - time.monotonic()))
        while True:
            f = link.recv()
            if f is None:
                break
            host.frame(f)
    result["servers"], warn, code = analyse(offers, c.client_id)
    result["warnings"] = warn
    if args.full and offers:
        result["full"] = _full(host, c, args, warn)
    result["ignored"] = {name: c.counters[i] for i, name in enumerate(cl.COUNTER_NAMES)
                         if i in cl.IGNORED_COUNTERS and c.counters[i]}
    link.close()
    result["exit"] = code
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        _print_probe(result)
    return code


def _add_options(tx, n, extra):
    # Insert extra options before END of the DISCOVER in tx (probe --option).
    end = tx.index(255, 240)
    blob = b"".join(bytes((code, len(v))) + v for code, v in extra)
    tx[end:end] = blob
    n = max(end + len(blob) + 1, 300)
    del tx[n:]
    tx.extend(bytes(1500 - len(tx)))
    return n


def _full(host, c, args, warn):
    # --full: REQUEST the first offer, then RELEASE the ACKed address.
    out = {"requested": ipstr(c.addr), "server": ipstr(c.server)}
    got = []
    host.on_reply = lambda cc, ev, f: got.append((ev, f))
    end = time.monotonic() + max(args.wait, 4) + 4
    while time.monotonic() < end and c.state in (cl.SELECTING, cl.REQUESTING):
        host.step(0.1)
    rx = Reply(ALL_CODES)
    naks = [describe_reply(rx, f[1], f[2], f[3], f[4]) for ev, f in got if ev == cl.EV_NAK]
    if naks:
        out["nak_message"] = naks[0]["_raw"].get(56, b"").decode("ascii", "replace")
        warn.extend(nak_warnings(naks))
        out["result"] = "nak"
        return out
    if c.state != cl.BOUND:
        out["result"] = "no answer to REQUEST"
        warn.append("%s offered %s but did not answer the REQUEST" % (out["server"], out["requested"]))
        return out
    out["result"] = "ack"
    out["lease"] = c.lease_info(host.now())
    n = c.release(host.now(), c.tx)
    host.send(c, n)
    out["released"] = True
    return out


def _print_probe(r):
    print("probe on %s as %s" % (r["iface"], r["mac"]))
    for s in r["servers"]:
        print("server %s (from %s, %s): offers %s, %d bytes%s" % (
            s["server_id"], s["source_mac"], s["source_ip"], s["offered"], s["length"],
            " (%d offers)" % s["offers"] if s["offers"] > 1 else ""))
        for code, o in s["options"].items():
            v = o["value"]
            print("  %3s %-16s %s" % (code, o["name"], ", ".join(map(str, v)) if isinstance(v, list) else v))
    if "full" in r:
        f = r["full"]
        print("full exchange with %s: REQUEST %s -> %s" % (f["server"], f["requested"], f["result"]))
        if "lease" in f:
            print("  lease %(lease)s s, T1 %(t1)s, T2 %(t2)s, mask %(mask)s, router %(router)s" % f["lease"])
            print("  released")
    for w in r["warnings"]:
        print("warning: " + w)
    if r["ignored"]:
        print("ignored: " + ", ".join("%s %d" % kv for kv in sorted(r["ignored"].items())))
    print("%d server%s answered" % (len(r["servers"]), "" if len(r["servers"]) == 1 else "s"))


# ------------------------------------------------------------------------------- client

def run_client(args):
    link = Link(args.iface)
    mac = parse_mac(args.mac) if args.mac else link.mac
    host = Host(link, arp_wait=args.arp_wait)
    c = host.add(_client_from(args, mac, broadcast=args.broadcast, check=not args.no_check,
                              offer_window=args.offer_window))
    state = {"code": None}

    def say(line):
        print(line, flush=True)

    def on_event(kind):
        now = host.now()
        info = c.lease_info(now)
        if kind in (cl.EV_BOUND, cl.EV_RENEWED):
            say("%s %s from %s lease %ds T1 %ds T2 %ds mask %s router %s dns %s" % (
                cl.EVENT_TAGS[kind], info["address"], info["server"], info["lease"], info["t1"],
                info["t2"], info["mask"], info["router"], ",".join(info["dns"]) or "-"))
            if args.once:
                state["code"] = 0
        elif kind == cl.EV_DECLINED:
            addr, who = getattr(c, "declined", ("?", "?"))
            say("declined %s: in use by %s" % (addr, who))
        elif kind == cl.EV_OFFER:
            return
        elif kind == cl.EV_CHECK:
            say("checking %s (ARP probe, %.1f s)" % (info["address"], args.arp_wait))
        else:
            say(cl.EVENT_TAGS[kind])
            if kind == cl.EV_GAVE_UP:
                state["code"] = 2
    c.on_event = on_event
    stop = {"flag": False}

    def on_term(signum, frame):
        stop["flag"] = True
    signal.signal(signal.SIGTERM, on_term)
    c.start(host.now(), parse_ip(args.address) if args.address else None)
    deadline = time.monotonic() + args.timeout if args.timeout else None
    try:
        while state["code"] is None and not stop["flag"]:
            host.step(0.2)
            if deadline and time.monotonic() > deadline and not c.configured:
                say("no lease within %ss" % args.timeout)
                state["code"] = 2
    except KeyboardInterrupt:
        pass
    if not args.once and c.configured:
        n = c.release(host.now(), c.tx)
        if n:
            host.send(c, n)
            say("released %s" % ipstr(c.tx[12:16]))
    say("counters: " + " ".join("%s=%d" % (name, c.counters[i]) for i, name in enumerate(cl.COUNTER_NAMES)
                                if c.counters[i]))
    link.close()
    return state["code"] if state["code"] is not None else 0


# ------------------------------------------------------------------------------- swarm

def swarm(args):
    link = Link(args.iface, promisc=True)
    host = Host(link, arp_wait=0)
    base = os.getpid() & 0xFFFF
    rows = {}
    for i in range(args.n):
        mac = bytes((0x02, 0x5d, base >> 8, base & 255, (i >> 8) & 255, i & 255))
        c = host.add(cl.Client(mac, broadcast=True, offer_window=0, discover_tries=args.tries))
        rows[mac] = {"mac": macstr(mac), "address": "-", "server": "-", "dora_ms": None, "renew": "-",
                     "release": "-", "state": "INIT"}
    t_start = {}

    def on_reply(c, ev, f):
        r = rows[bytes(c.mac)]
        if ev == cl.EV_BOUND:
            r["address"] = ipstr(c.addr)
            r["server"] = ipstr(c.server)
            r["dora_ms"] = int((time.monotonic() - t_start[bytes(c.mac)]) * 1000)
            if args.renew:
                c.renew_now(host.now())
                r["renew"] = "sent"
        elif ev == cl.EV_RENEWED:
            r["renew"] = "ok"
        elif ev == cl.EV_NAK:
            r["renew"] = "nak" if r["renew"] == "sent" else r["renew"]
    host.on_reply = on_reply
    now = host.now()
    for c in host.clients.values():
        t_start[bytes(c.mac)] = time.monotonic()
        c.start(now)
    deadline = time.monotonic() + args.timeout

    def done():
        for c in host.clients.values():
            r = rows[bytes(c.mac)]
            if c.state == cl.STOPPED:
                continue
            if not c.configured or (args.renew and r["renew"] == "sent"):
                return False
        return True
    try:
        while time.monotonic() < deadline and not done():
            host.step(0.05)
    except KeyboardInterrupt:
        pass
    for c in host.clients.values():
        r = rows[bytes(c.mac)]
        r["state"] = cl.STATE_NAMES[c.state]
        if c.configured:
            n = c.release(host.now(), c.tx)
            host.send(c, n)
            r["release"] = "sent"
    link.close()
    bound = sum(1 for r in rows.values() if r["dora_ms"] is not None)
    times = sorted(r["dora_ms"] for r in rows.values() if r["dora_ms"] is not None)
    summary = {"clients": args.n, "bound": bound,
               "renewed": sum(1 for r in rows.values() if r["renew"] == "ok"),
               "released": sum(1 for r in rows.values() if r["release"] == "sent"),
               "distinct_addresses": len(set(r["address"] for r in rows.values() if r["address"] != "-")),
               "dora_ms_median": times[len(times) // 2] if times else None,
               "dora_ms_max": times[-1] if times else None,
               "ignored": sum(c.ignored() for c in host.clients.values())}
    if args.json:
        print(json.dumps({"summary": summary, "clients": list(rows.values())}, indent=1))
    else:
        print("%-17s %-15s %-15s %8s %-6s %-7s %s" % ("mac", "address", "server", "dora_ms", "renew",
                                                       "release", "state"))
        for r in rows.values():
            print("%-17s %-15s %-15s %8s %-6s %-7s %s" % (r["mac"], r["address"], r["server"],
                                                           r["dora_ms"] if r["dora_ms"] is not None else "-",
                                                           r["renew"], r["release"], r["state"]))
        print("bound %(bound)d/%(clients)d, renewed %(renewed)d, released %(released)d, "
              "distinct addresses %(distinct_addresses)d, DORA median %(dora_ms_median)s ms, "
              "max %(dora_ms_max)s ms, ignored replies %(ignored)d" % summary)
    return 0 if bound == args.n else 2


def _count(text):
    # A count or a time in seconds: the range Client() takes for its own (offer_window,
    # discover_tries), used for every count and time of the command line.
    try:
        n = int(text)
    except ValueError:
        n = -1
    if not 0 <= n <= 65535:
        raise argparse.ArgumentTypeError("must be a whole number from 0 to 65535, not %r" % text)
    return n


def build_parser():
    p = argparse.ArgumentParser(prog="microdhcp")
    sub = p.add_subparsers(dest="cmd", required=True)
    pr = sub.add_parser("probe", help="list every DHCP server on the segment")
    pr.add_argument("--iface", required=True)
    pr.add_argument("--wait", type=_count, default=3, help="offer window, seconds (default 3)")
    pr.add_argument("--mac", help="chaddr (default: the interface's MAC)")
    pr.add_argument("--client-id", help="option 61 as hex (default: 01 + MAC)")
    pr.add_argument("--hostname")
    pr.add_argument("--option", action="append", help="extra DISCOVER option CODE=HEX, repeatable")
    pr.add_argument("--broadcast", action="store_true", help="set the broadcast flag")
    pr.add_argument("--full", action="store_true", help="go on through REQUEST/ACK and RELEASE")
    pr.add_argument("--json", action="store_true")
    cp = sub.add_parser("client", help="a DHCP client: prints the lease, renews, releases on Ctrl-C")
    cp.add_argument("--iface", required=True)
    cp.add_argument("--once", action="store_true", help="exit after the ACK (no RELEASE)")
    cp.add_argument("--mac")
    cp.add_argument("--client-id")
    cp.add_argument("--hostname")
    cp.add_argument("--broadcast", action="store_true")
    cp.add_argument("--no-check", action="store_true", help="no ARP check of the offered address")
    cp.add_argument("--arp-wait", type=float, default=1.0, help="ARP probe time, seconds (default 1)")
    cp.add_argument("--offer-window", type=_count, default=0)
    cp.add_argument("--address", help="remembered address: start in INIT-REBOOT (RFC 2131 3.2)")
    cp.add_argument("--timeout", type=_count, default=0, help="give up (exit 2) without a lease after S s")
    sw = sub.add_parser("swarm", help="N clients with distinct MACs: DORA, renew, release")
    sw.add_argument("--iface", required=True)
    sw.add_argument("-n", type=_count, required=True)
    sw.add_argument("--renew", action="store_true", help="renew once bound (before T1)")
    sw.add_argument("--tries", type=_count, default=4, help="DISCOVER tries per client (0: no limit)")
    sw.add_argument("--timeout", type=_count, default=60)
    sw.add_argument("--json", action="store_true")
    return p


def main(argv):
    args = build_parser().parse_args(argv)
    try:
        if args.cmd == "probe":
            return probe(args)
        if args.cmd == "client":
            return run_client(args)
        return swarm(args)
    except PermissionError:
        sys.stderr.write("microdhcp %s: raw sockets need root (CAP_NET_RAW)\n" % args.cmd)
        return 2
    except OSError as e:
        sys.stderr.write("microdhcp %s: %s: %s\n" % (args.cmd, args.iface, e))
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
