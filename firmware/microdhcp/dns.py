# MIT license; Copyright (c) 2026 the microdhcp authors
# microdhcp.dns: a sans-IO DNS responder for the clients of the DHCP server (RFC 1035). Bytes of
# one query in, bytes of one reply out, into a caller-owned buffer; no sockets, no clock.
# Captive mode answers every A question with the portal address (a catch-all, so that a phone's
# portal probe reaches our HTTP server); names mode answers the hostnames (option 12) of the
# bound leases, read live from the engine's lease table, under the domain and bare, plus the
# server's own name, and NXDOMAIN for everything else. Names set in the configuration (hosts)
# answer in both modes, before any lease's. Reverse lookups (PTR, RFC 1035 3.5 in-addr.arpa) of
# those addresses answer their names. In both modes localhost names answer the loopback address
# and invalid names NXDOMAIN (RFC 6761 6.3, 6.4). handle() allocates nothing after
# construction (host_tests/core/test_dns.py proves it under micropython.heap_lock()).
try:
    from micropython import const
except ImportError:
    def const(x):
        return x


_BOUND = const(2)          # codes.BOUND: a slot's state when its client holds the address
CAPTIVE = const(0)
NAMES = const(1)

# RFC 1035 4.1.1 header: ID(2) FLAGS(2) QDCOUNT ANCOUNT NSCOUNT ARCOUNT (2 each)
_HDR = const(12)
_FLAGS1 = const(2)        # QR(1) OPCODE(4) AA(1) TC(1) RD(1)
_FLAGS2 = const(3)        # RA(1) Z(3) RCODE(4)
_QDCOUNT = const(4)
_ANCOUNT = const(6)
_NSCOUNT = const(8)
_ARCOUNT = const(10)
_QR = const(0x80)
_AA = const(0x04)
_TC = const(0x02)
_RD = const(0x01)
_OPCODE_MASK = const(0x78)    # OPCODE 0 = standard QUERY (RFC 1035 4.1.1)
# RCODEs (RFC 1035 4.1.1)
RC_NOERROR = const(0)
RC_FORMERR = const(1)
RC_NXDOMAIN = const(3)
RC_NOTIMP = const(4)
RC_REFUSED = const(5)
# TYPE / CLASS values (RFC 1035 3.2.2-3.2.5, RFC 3596 for AAAA, RFC 6891 for OPT)
_T_A = const(1)
_T_PTR = const(12)
_T_AAAA = const(28)
_T_OPT = const(41)
_T_ANY = const(255)
_C_IN = const(1)
_C_ANY = const(255)
# RFC 1035 2.3.4 size limits: labels 63 octets, names 255 octets, UDP messages 512 octets.
_MAX_LABEL = const(63)
_MAX_NAME = const(255)
UDP_MAX = const(512)
RX_SIZE = const(UDP_MAX + 1)   # one byte more, so that the shell can tell an oversized datagram
_PTR = const(0xC0)             # RFC 1035 4.1.4: the top two bits set mark a compression pointer
_ARPA = b"\x07in-addr\x04arpa"   # RFC 1035 3.5: the reverse domain, wire form (a literal: no heap)
_LOCALHOST = b"\x09localhost"   # RFC 6761 6.3: this name and every name below it are the loopback
_LOOPBACK = b"\x7f\x00\x00\x01"   # 127.0.0.1, the address those names answer
_INVALID = b"\x07invalid"       # RFC 6761 6.4: this name and every name below it do not exist
_MAX_HOPS = const(32)          # pointers followed per name: more is a loop (or an attack)
_EDNS_SIZE = const(512)        # the UDP payload size we advertise (RFC 6891 6.2.3): no bigger replies
_TTL_MAX = const(1 << 29)      # below 2**30: TTLs stay small ints on 32-bit boards

# Counters (one array, no allocation when counted)
COUNTER_NAMES = ("queries", "answered", "nxdomain", "nodata", "formerr", "notimp", "refused",
                 "dropped", "oversized", "bad_port")
_C_QUERIES = const(0)
_COUNT_RESTART = const(0x20000000)   # 2**29: see restart
_C_ANSWERED = const(1)
_C_NXDOMAIN = const(2)
_C_NODATA = const(3)
_C_FORMERR = const(4)
_C_NOTIMP = const(5)
_C_REFUSED = const(6)
_C_DROPPED = const(7)
_C_OVERSIZED = const(8)
_C_BAD_PORT = const(9)
_KPASSWD = const(464)         # a source port never answered: see handle


def _lower(c):
    # ASCII case folding for name comparison (RFC 4343: DNS names compare case-insensitively).
    if 65 <= c <= 90:
        return c + 32
    return c


def one_label(name, what):
    # A name of one label, checked as a host name (RFC 1123 2.1, RFC 952: letters, digits and
    # hyphens, no hyphen at either end, 1-63 of them), in wire form: b"\x0athermostat".
    # Construction only; the ValueError says which setting is wrong and what a name may hold.
    ok = isinstance(name, str) and 0 < len(name) <= _MAX_LABEL and name[0] != "-" and name[-1] != "-"
    if ok:
        for c in name:
            if not (c.isalpha() or c.isdigit() or c == "-") or ord(c) > 127:
                ok = False
                break
    if not ok:
        raise ValueError("%s %r is not a host name: give one label of letters, digits and hyphens (up to 63, "
                         "no hyphen at either end); it answers as NAME and NAME.DOMAIN" % (what, name))
    not_special(name, what)
    return bytes([len(name)]) + name.encode()


def not_special(name, what):
    # handle() answers localhost names with 127.0.0.1 and invalid names NXDOMAIN before any of
    # ours (RFC 6761 6.3, 6.4): a name or a domain ending so could never answer. Construction only.
    if name.strip(".").rsplit(".", 1)[-1].lower() in ("localhost", "invalid"):
        raise ValueError("%s %r ends in a special-use name (RFC 6761: localhost is the loopback address, "
                         "invalid does not exist); pick another" % (what, name))


def host_table(hosts, own):
    # The configuration's names: (name, address) pairs -> (names, addresses): the names in wire
    # form, lower case, one label each (one_label), and their addresses, 4 bytes each in one
    # bytes object. `own`: the server's own name in wire form, which no host may take. A
    # ValueError says what is wrong; the host command checks its --dns-host flags with it at
    # start-up, before it serves.
    names = []
    addrs = bytearray()
    for item in hosts:
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise ValueError("DNS hosts are (name, address) pairs, e.g. (\"printer\", \"192.168.4.20\"): not %r"
                             % (item,))
        name, addr = item
        low = one_label(name, "DNS host name").lower()
        if low == own.lower():
            raise ValueError("DNS host name %r is the server's own name; pick another" % (name,))
        if low in names:
            raise ValueError("DNS host name %r is given twice; keep one" % (name,))
        if isinstance(addr, str):
            from microdhcp.ipv4 import parse_ip
            addr = parse_ip(addr, "DNS host %s's address" % name)
        if len(addr) != 4:
            raise ValueError("DNS host %s's address must be a.b.c.d or 4 bytes" % name)
        names.append(low)
        addrs.extend(addr)
    return tuple(names), bytes(addrs)


def _encode_labels(name):
    # "a.b" -> b"\x01a\x01b" (no root byte); used at construction only.
    out = bytearray()
    for part in name.strip(".").split("."):
        if not part:
            continue
        b = part.encode()
        if len(b) > _MAX_LABEL:
            raise ValueError("DNS label %r is longer than 63 bytes" % part)
        out.append(len(b))
        out.extend(b)
    if len(out) + 1 > _MAX_NAME:
        raise ValueError("DNS name %r is longer than 255 bytes" % name)
    return bytes(out)


class Responder:
    """handle(buf, n, tx) -> length of the reply written to tx, or 0 for no reply.

    mode      CAPTIVE or NAMES
    address   4 bytes: the portal address (captive) and the server's own address (both modes)
    engine    the DHCP engine whose lease table names mode reads (names mode only)
    domain    e.g. "lan": leased names answer as NAME and NAME.lan
    own_name  the server's own name (default "microdhcp")
    ttl       seconds in every answer; short, since leases come and go
    hosts     names of the configuration: (name, address) pairs, one label each, the address as
              "a.b.c.d" or 4 bytes; answered in both modes, before the leases' names
    """

    def __init__(self, mode, address, engine=None, domain=None, own_name="microdhcp", ttl=5, hosts=()):
        if mode not in (CAPTIVE, NAMES):
            raise ValueError("mode must be CAPTIVE or NAMES")
        if mode == NAMES and engine is None:
            raise ValueError("names mode needs the DHCP engine (its lease table)")
        if len(address) != 4:
            raise ValueError("address must be 4 bytes")
        if not 0 <= ttl < _TTL_MAX:
            raise ValueError("ttl out of range")
        self.mode = mode
        self.address = bytes(address)
        self.engine = engine
        if domain:
            not_special(domain, "domain")
        self.domain = _encode_labels(domain) if domain else b""
        self.own = one_label(own_name, "own_name") if own_name else b""
        # The configuration's names (host_table): they answer before a lease's name (a client
        # cannot take a name the configuration gives, as in dnsmasq, src/lease.c
        # lease_set_hostname) and in captive mode too, so that a device stays reachable by name
        # while the portal catches every other name.
        self.hosts, self.host_addrs = host_table(hosts, self.own)
        self.ttl = ttl
        # The SOA of our negative answers (RFC 2308 3: an authoritative server MUST put the zone's
        # SOA in the authority section of NXDOMAIN and NODATA; without it resolvers cache nothing,
        # RFC 2308 5, and ask again at once). Built here once, from TYPE to the end of RDATA;
        # _soa writes its owner, the zone. MNAME: the server's own name (RFC 1035 3.3.13, the
        # primary server), under the domain; RNAME: hostmaster.DOMAIN, the mailbox RFC 2142 4
        # names, one for every zone we serve. SERIAL 1: the data lives in the lease table and
        # no secondary copies it (no zone transfer), so nothing reads the serial; REFRESH an
        # hour, RETRY 10 minutes, EXPIRE two weeks, within RFC 1912 2.2's advice (20 minutes to 12
        # hours, a fraction of REFRESH, 2-4 weeks) and read by secondaries only. The SOA's TTL
        # and MINIMUM are the ttl of our answers: a resolver caches a negative answer for
        # min(the two) (RFC 2308 5), no longer than an answer, as a lease's name comes and goes.
        # An MNAME or RNAME over 255 bytes (RFC 1035 2.3.4: a domain of 191 to 244 bytes or more,
        # by the own name's length) makes no SOA: negative answers go without it, as before.
        mname = self.own + self.domain + b"\x00"
        rname = b"\x0ahostmaster" + self.domain + b"\x00"
        t = ttl.to_bytes(4, "big")
        # RDATA: MNAME, RNAME, SERIAL, REFRESH, RETRY, EXPIRE, MINIMUM (RFC 1035 3.3.13)
        r = mname + rname + b"\x00\x00\x00\x01\x00\x00\x0e\x10\x00\x00\x02\x58\x00\x12\x75\x00" + t
        self.soa = b""
        if len(mname) <= _MAX_NAME and len(rname) <= _MAX_NAME:
            self.soa = b"\x00\x06\x00\x01" + t + len(r).to_bytes(2, "big") + r   # TYPE 6 (SOA), IN, TTL, RDLENGTH
        self.rx = bytearray(RX_SIZE)
        # The question name, decompressed, in wire form with its case kept (echoed in the reply).
        self.qname = bytearray(_MAX_NAME + 1)
        self.qlen = 0
        self.qtype = 0
        self.qclass = 0
        self.edns = False         # the query carried an OPT record (RFC 6891): ours goes back (1 | its DO bit)
        self.edns_version = 0
        self.counters = _counter_array()
        self.counter_restarts = 0
        self.on_restart = None      # called by restart(): the shell (dnsserver) restarts its counters
        self.raddr = bytearray(4)   # the address of a reverse (in-addr.arpa) question

    # --- parsing ---------------------------------------------------------------------------
    def _read_name(self, b, n, pos, store):
        # Name at pos: follow pointers (RFC 1035 4.1.4) with a hop limit and bounds checks.
        # store: copy the labels into self.qname. Returns the offset just after the name in
        # the message (after the first pointer if any), or -1 when the name is malformed.
        q = self.qname
        ql = 0
        end = -1
        hops = 0
        total = 1
        while True:
            if pos >= n:
                return -1
            c = b[pos]
            if c & _PTR == _PTR:
                if pos + 1 >= n:
                    return -1
                hops += 1
                if hops > _MAX_HOPS:
                    return -1
                if end < 0:
                    end = pos + 2
                target = ((c & 0x3F) << 8) | b[pos + 1]
                # A pointer must go back to an earlier place (RFC 1035 4.1.4: "a prior
                # occurrence"): forward pointers are refused, which also bounds the walk.
                if target >= pos or target < _HDR:
                    return -1
                pos = target
                continue
            if c & _PTR:                 # 0x40 and 0x80: reserved label types (RFC 6891 5)
                return -1
            if c == 0:
                if end < 0:
                    end = pos + 1
                break
            total += c + 1
            if total > _MAX_NAME or pos + 1 + c > n:
                return -1
            if store:
                q[ql] = c
                for i in range(c):
                    q[ql + 1 + i] = b[pos + 1 + i]
                ql += c + 1
            pos += c + 1
        if store:
            q[ql] = 0                    # the root: a name of no label leaves none of the last one
            self.qlen = ql
        return end

    def _find_opt(self, b, n, pos, qd):
        # From pos: skip qd questions, the answer and the authority records, look for OPT among
        # the additional ones (RFC 6891 6.1.1). -1 on a malformed question or record; an OPT found
        # stays found (RFC 6891 7: a FORMERR about the OPT itself carries ours).
        records = qd + (b[_ANCOUNT] << 8 | b[_ANCOUNT + 1]) + (b[_NSCOUNT] << 8 | b[_NSCOUNT + 1])
        ar = b[_ARCOUNT] << 8 | b[_ARCOUNT + 1]
        for i in range(records + ar):
            start = pos
            pos = self._read_name(b, n, pos, False)
            if pos < 0 or pos + 10 > n and i >= qd:
                return -1
            if i < qd:
                pos += 4                     # a question: QTYPE, QCLASS (RFC 1035 4.1.2)
                continue
            rtype = b[pos] << 8 | b[pos + 1]
            rdlen = b[pos + 8] << 8 | b[pos + 9]
            if i >= records and rtype == _T_OPT:
                if self.edns:                # one OPT only
                    return -1
                self.edns = 1 | b[pos + 6] & 0x80    # true, with the DO bit (RFC 3225 3) for our OPT
                self.edns_version = b[pos + 5]
                if b[start] != 0:            # its name is the root
                    return -1
            pos += 10 + rdlen
            if pos > n:
                return -1
        return pos

    # --- names -----------------------------------------------------------------------------
    def _label_eq(self, a, ap, b, bp, ln):
        for i in range(ln):
            if _lower(a[ap + i]) != _lower(b[bp + i]):
                return False
        return True

    def _host_len(self, host, q, hl):
        # The name's length in a stored option 12: up to a NUL (some clients send one at the end)
        # or the first dot, since option 12 "may or may not be qualified with the local domain
        # name" (RFC 2132 3.14): "laptop.lan" is laptop (dnsmasq keeps the part before the dot).
        m = host[q]
        if m > hl - 1:
            m = hl - 1
        for i in range(m):
            c = host[q + 1 + i]
            if c == 0 or c == 46:
                return i
        return m

    def _lookup(self):
        # Returns a lease's slot (>= 0; names mode only), -2 for the server's own name, -3 - i for
        # the configuration's name i, -1 for no such name.
        q = self.qname
        ql = self.qlen
        if ql == 0:
            return -1
        first = q[0]
        rest = ql - 1 - first
        d = self.domain
        if rest:
            # NAME.domain: the rest must be exactly the domain.
            if rest != len(d) or not self._label_eq(q, first + 1, d, 0, rest):
                return -1
        own = self.own
        if own and own[0] == first and self._label_eq(q, 1, own, 1, first):
            return -2
        hosts = self.hosts
        for i in range(len(hosts)):
            h = hosts[i]
            if h[0] == first and self._label_eq(q, 1, h, 1, first):
                return -3 - i
        if self.mode != NAMES:
            return -1
        t = self.engine.table
        host = t.host
        hl = t.host_len
        state = t.state
        ex = t.expiry
        best = -1
        for s in range(t.capacity):
            if state[s] != _BOUND:
                continue
            p = s * hl
            # (the stored length first: it is never above hl - 1, so the label stays in the slot)
            if host[p] >= first and self._label_eq(q, 1, host, p + 1, first) and \
                    self._host_len(host, p, hl) == first:
                # Several bound leases with one name (two devices with a vendor's default name, a
                # phone back with a new random MAC while its old lease runs on): the lease that
                # runs longest answers, which with one lease time for all is the one ACKed last
                # (a renewal counts), as in dnsmasq, where a client that asks for a name held by
                # another lease takes it (src/lease.c, lease_set_hostname). A device gone without
                # a RELEASE keeps its address to the end of its lease, but not the name. Equal
                # expiries: the first slot.
                if best < 0 or ex[s] > ex[best]:
                    best = s
        return best

    def _reverse(self):
        # The question's octets under in-addr.arpa (RFC 1035 3.5): d.c.b.a.in-addr.arpa gives 4,
        # its address a.b.c.d in self.raddr; a name above it (c.b.a.in-addr.arpa, ...) gives its
        # k octets, the last k bytes of self.raddr; "arpa" gives 0, as in-addr.arpa. -1 for
        # another name. Octets of 1-3 digits up to 255; "in-addr" and "arpa" in any case. An octet
        # is written as a decimal number (RFC 1035 3.5: "1", never "01" or "001"): a leading zero
        # makes it another name, one we do not have.
        q = self.qname
        ql = self.qlen
        pos = 0
        k = 0
        while k < 4 and pos < ql and q[pos] < 4:
            n = q[pos]
            if n > 1 and q[pos + 1] == 48:
                return -1
            v = 0
            for i in range(n):
                c = q[pos + 1 + i]
                if c < 48 or c > 57:
                    return -1
                v = v * 10 + c - 48
            if v > 255:
                return -1
            self.raddr[3 - k] = v
            pos += n + 1
            k += 1
        n = ql - pos
        if (n == 13 or n == 5 and not k) and self._label_eq(q, pos, _ARPA, 13 - n, n):
            return k
        return -1

    def _has_below(self):
        # Names mode, a name not ours: True when names of ours lie below it, so that NXDOMAIN
        # would deny them (RFC 8020 2) and NODATA is the answer: the domain and its ancestors
        # (the root too, over the bare names), arpa, in-addr.arpa and the reverse names above the
        # subnet's addresses (4.168.192.in-addr.arpa for 192.168.4.0/24; dnsmasq answers them
        # so; the server's own address is among them: configure.py:104 derives the network from
        # it) and above the configured names' addresses, or an address with a name asked for
        # another type than PTR.
        k = self._reverse()
        if k == 4:
            return self._reverse_target() != -1
        if k >= 0:
            e = self.engine
            if self._leads(e.network, 0, e.mask, k):
                return True
            h = self.host_addrs
            for j in range(0, len(h), 4):
                if self._leads(h, j, b"\xff\xff\xff", k):
                    return True
            return False
        d = self.domain
        ql = self.qlen
        j = 0
        while len(d) - j > ql:               # the domain's labels from the left, until no longer
            j += d[j] + 1
        return len(d) - j == ql and self._label_eq(self.qname, 0, d, j, ql)

    def _leads(self, a, j, m, k):
        # True when the reverse name's k octets (the last k bytes of self.raddr) are the first k
        # of the address at a[j], under the mask m.
        r = self.raddr
        for i in range(k):
            if (a[j + i] ^ r[4 - k + i]) & m[i]:
                return False
        return True

    def _reverse_target(self):
        # Whose address self.raddr is: -2 the server, -3 - i the configuration's name i, a lease's
        # slot (names mode: bound, with a hostname), -1 none.
        a = self.raddr
        if a == self.address and self.own:
            return -2
        h = self.host_addrs
        for i in range(len(self.hosts)):
            j = 4 * i
            if h[j] == a[0] and h[j + 1] == a[1] and h[j + 2] == a[2] and h[j + 3] == a[3]:
                return -3 - i
        if self.mode != NAMES:
            return -1
        e = self.engine
        t = e.table
        s = t.slot_of(e.cfg.offset(a))
        if s < 0 or t.state[s] != _BOUND or self._host_len(t.host, s * t.host_len, t.host_len) == 0:
            return -1
        return s

    def _label_len(self, s):
        # Bytes of target s's label in wire form (its length byte included).
        if s >= 0:
            t = self.engine.table
            return 1 + self._host_len(t.host, s * t.host_len, t.host_len)
        return len(self.own if s == -2 else self.hosts[-3 - s])

    def _put_name(self, tx, pos, s):
        # The name of target s (as _reverse_target returns it) in wire form at tx[pos]: its label,
        # the domain's labels, the root. Returns the end.
        if s >= 0:
            t = self.engine.table
            p = s * t.host_len
            src = t.host
        else:
            src = self.own if s == -2 else self.hosts[-3 - s]
            p = 0
        m = self._label_len(s) - 1
        tx[pos] = m
        for i in range(m):
            tx[pos + 1 + i] = src[p + 1 + i]
        pos += m + 1
        d = self.domain
        for i in range(len(d)):
            tx[pos + i] = d[i]
        pos += len(d)
        tx[pos] = 0
        return pos + 1

    def _put_slot_addr(self, tx, pos, s):
        # The slot's address from its host offset, without building an address object.
        e = self.engine
        off = e.table.offset_of(s)
        net = e.network
        m = e.mask
        for i in range(4):
            tx[pos + i] = net[i] | ((off >> (24 - 8 * i)) & 255 & ~m[i])

    # --- reply -----------------------------------------------------------------------------
    def _count(self, i):
        c = self.counters
        c[i] += 1

    def _header(self, b, tx, rcode):
        tx[0] = b[0]
        tx[1] = b[1]
        # AA (RFC 1035 4.1.1: an authority for the name asked) on answers from our names only,
        # NOERROR and NXDOMAIN: not on FORMERR, NOTIMP or REFUSED, which BIND and dnsmasq send
        # without it (lib/ns/client.c ns_client_error; src/rfc1035.c setup_reply).
        # (9 >> rcode & 1: 1 for RCODE 0, NOERROR, and 3, NXDOMAIN)
        tx[_FLAGS1] = _QR | (b[_FLAGS1] & _OPCODE_MASK) | (b[_FLAGS1] & _RD) | (9 >> rcode & 1) * _AA
        tx[_FLAGS2] = rcode      # RA = 0: we do not recurse
        for i in range(4, _HDR):
            tx[i] = 0

    def _error(self, b, tx, rcode, with_question):
        # FORMERR/NOTIMP/REFUSED/BADVERS/NXDOMAIN: the header, the question when it parsed (RFC
        # 1035 4.1.1), NXDOMAIN's SOA (_soa), and our OPT when the query's was found (RFC 6891 7).
        self._header(b, tx, rcode)
        pos = self._question(tx) if with_question else _HDR
        if rcode == RC_NXDOMAIN:
            pos = self._soa(tx, pos)
        return self._opt(tx, pos)

    def _question(self, tx):
        tx[_QDCOUNT + 1] = 1
        pos = _HDR
        q = self.qname
        for i in range(self.qlen):
            tx[pos + i] = q[i]
        pos += self.qlen
        tx[pos] = 0
        tx[pos + 1] = self.qtype >> 8
        tx[pos + 2] = self.qtype & 255
        tx[pos + 3] = self.qclass >> 8
        tx[pos + 4] = self.qclass & 255
        return pos + 5

    def _soa(self, tx, pos):
        # The SOA record (see __init__) at tx[pos], in the authority section (NSCOUNT 1), before
        # any OPT in the additional one (RFC 1035 4.1). Its owner is the zone of the question:
        # the domain when the name is it or below it, in-addr.arpa for the names under it (we
        # answer for all of them: PTR, NXDOMAIN or NODATA), the root for every other name (bare
        # names are the root's children; captive mode answers every name, names mode denies every
        # name not ours). The domain and in-addr.arpa are a pointer to them in the question (RFC
        # 1035 4.1.4). An SOA that would take the reply past 512 bytes (RFC 1035 4.2.1, room
        # kept for the OPT) is left out, the answer as complete without it (no TC: we serve no TCP
        # to retry on, and nothing asked for is cut). It fits after any question (255 + 4 bytes at
        # most) while the own name's label and twice the domain take 185 bytes or less in wire
        # form: with "microdhcp", a domain of up to 87 bytes; "microdhcp" and "lan" make an SOA of
        # 63 bytes and a reply of 345 at most.
        s = self.soa
        if not s or pos + 13 + len(s) > UDP_MAX:
            return pos
        q = self.qname
        ql = self.qlen
        d = self.domain
        z = 0                                # the labels from the left: the first zone found
        while z < ql:
            n = ql - z
            if n == len(d) and self._label_eq(q, z, d, 0, n) or n == 13 and self._label_eq(q, z, _ARPA, 0, 13):
                break
            z += q[z] + 1
        if z < ql:
            z += _HDR
            tx[pos] = _PTR | z >> 8
            tx[pos + 1] = z & 255
            pos += 1
        else:
            tx[pos] = 0                      # the root
        pos += 1
        for i in range(len(s)):
            tx[pos + i] = s[i]
        tx[_NSCOUNT + 1] = 1
        return pos + len(s)

    def _opt(self, tx, pos):
        # RFC 6891 6.1.2: root name, TYPE 41, CLASS = our UDP payload size, TTL = extended
        # RCODE(8) VERSION(8) DO+Z(16), RDLEN 0. VERSION above 0 gets BADVERS (extended RCODE 1,
        # 6.1.3). The query's DO bit is copied (RFC 3225 3: "MUST be copied in the response").
        if not self.edns:
            return pos
        tx[_ARCOUNT + 1] = 1
        tx[pos] = 0
        tx[pos + 1] = 0
        tx[pos + 2] = _T_OPT
        tx[pos + 3] = _EDNS_SIZE >> 8
        tx[pos + 4] = _EDNS_SIZE & 255
        # (an error met before the version is looked at keeps its RCODE: no extended one on it)
        tx[pos + 5] = 1 if self.edns_version and not tx[_FLAGS2] else 0
        for i in range(6, 11):
            tx[pos + i] = 0
        tx[pos + 7] = self.edns & 0x80
        return pos + 11

    def restart(self):
        # Every counter from 0 again, as the engine's (engine._COUNT_RESTART): none reaches 2**30
        # (a heap object on a 32-bit board) nor 2**32 (CPython's array refuses it). handle calls
        # it at 2**29 queries; on_restart restarts the shell's (dnsserver) at the same moment.
        c = self.counters
        for i in range(len(c)):
            c[i] = 0
        self.counter_restarts += 1
        if self.on_restart:
            self.on_restart()

    def handle(self, b, n, tx, port=53):
        """One query of n bytes in b -> reply length in tx (a buffer of >= 512 bytes), 0 for none.
        port: the query's source port (the shell gives it)."""
        c = self.counters
        if c[_C_QUERIES] >= _COUNT_RESTART:
            self.restart()
        c[_C_QUERIES] += 1
        if port < 38 and port in b"\x00\x07\x0d\x13\x25" or port == _KPASSWD:
            # Source ports 7, 13, 19, 37 (echo, daytime, chargen, time) and 464 (kpasswd): a
            # query spoofed from one makes our reply and that service's answers loop
            # (CVE-2024-2169; BIND drops them, lib/ns/client.c ns_client_dropport). Port 0 is
            # "not used" (RFC 768 "Fields"): no reply can go there.
            self._count(_C_BAD_PORT)
            return 0
        if n < _HDR:
            self._count(_C_DROPPED)          # not even a header: nothing to echo
            return 0
        if b[_FLAGS1] & _QR:
            self._count(_C_DROPPED)          # a response: answering it could start a loop
            return 0
        self.edns = False
        rc = 0
        if n > UDP_MAX:
            # Oversized (RFC 1035 4.2.1 limits UDP messages to 512 octets): the header only.
            self._count(_C_OVERSIZED)
            rc = RC_FORMERR
        elif b[_FLAGS1] & _OPCODE_MASK:
            rc = RC_NOTIMP                   # IQUERY, STATUS, NOTIFY, UPDATE: not ours
        elif b[_QDCOUNT] != 0 or b[_QDCOUNT + 1] != 1:
            rc = RC_FORMERR                  # one question per query, as every resolver sends
        if rc:
            # The header only, with our OPT when the query's is found behind its questions and
            # records (RFC 6891 7). It is not when a question or record before it does not parse,
            # nor when it lies past the RX_SIZE bytes the shell reads.
            self._count(_C_NOTIMP if rc == RC_NOTIMP else _C_FORMERR)
            self._find_opt(b, n, _HDR, b[_QDCOUNT] << 8 | b[_QDCOUNT + 1])
            return self._error(b, tx, rc, False)
        pos = self._read_name(b, n, _HDR, True)
        if pos < 0 or pos + 4 > n:
            self._count(_C_FORMERR)          # the OPT behind a question that does not parse: unknown
            return self._error(b, tx, RC_FORMERR, False)
        self.qtype = b[pos] << 8 | b[pos + 1]
        self.qclass = b[pos + 2] << 8 | b[pos + 3]
        if self._find_opt(b, n, pos + 4, 0) < 0:
            self._count(_C_FORMERR)
            return self._error(b, tx, RC_FORMERR, True)
        if self.edns and self.edns_version:
            self._count(_C_FORMERR)          # BADVERS, counted with the format errors
            return self._error(b, tx, RC_NOERROR, True)
        qc = self.qclass
        if qc != _C_IN and qc != _C_ANY:
            self._count(_C_REFUSED)          # CHAOS, HESIOD: no data of ours
            return self._error(b, tx, RC_REFUSED, True)
        qt = self.qtype
        q = self.qname
        t = 0                                # the last label's offset (the root's: 0, a 0 there)
        while t + q[t] + 1 < self.qlen:
            t += q[t] + 1
        a = self.address
        slot = -2
        if self._label_eq(q, t, _INVALID, 0, 8):
            # RFC 6761 6.4 items 4 and 5: "invalid." and the names below it are NXDOMAIN, in
            # both modes (captive mode's catch-all gave them the portal).
            self._count(_C_NXDOMAIN)
            return self._error(b, tx, RC_NXDOMAIN, True)
        if self._label_eq(q, t, _LOCALHOST, 0, 10):
            # RFC 6761 6.3 items 4 and 5: "localhost." and the names below it answer an address
            # query with the loopback address and every other type negatively (NODATA: we serve
            # no AAAA), before any portal, lease or configured name.
            a = _LOOPBACK
        elif qt == _T_PTR and self._reverse() == 4:
            return self._ptr(b, tx)
        elif self.mode == NAMES or self.hosts:
            slot = self._lookup()
            if slot == -1:
                if self.mode != NAMES:
                    slot = -2                # captive: every other name is the portal
                elif not self._has_below():
                    self._count(_C_NXDOMAIN)
                    return self._error(b, tx, RC_NXDOMAIN, True)
        self._header(b, tx, RC_NOERROR)
        pos = self._question(tx)
        if qt != _T_A and qt != _T_ANY or slot == -1:
            # AAAA and the rest: the name exists, with no data of that type (RFC 2308 2.2
            # NODATA). An empty AAAA answer sends the client to its IPv4 answer at once.
            self._count(_C_NODATA)
            return self._opt(tx, self._soa(tx, pos))
        self._answer(tx, pos, _T_A, 4)
        if slot >= 0:
            self._put_slot_addr(tx, pos + 12, slot)
        else:
            j = 0
            if slot < -2:
                a = self.host_addrs
                j = 4 * (-3 - slot)
            for i in range(4):
                tx[pos + 12 + i] = a[j + i]
        self._count(_C_ANSWERED)
        return self._opt(tx, pos + 16)

    def _answer(self, tx, pos, rtype, rdlen):
        # The one answer record's fixed part at tx[pos] (RFC 1035 4.1.3): the question's name by
        # a pointer, TYPE, CLASS IN, the TTL, RDLENGTH; its RDATA follows at pos + 12.
        tx[_ANCOUNT + 1] = 1
        tx[pos] = _PTR                       # the name: a pointer to the question's
        tx[pos + 1] = _HDR
        tx[pos + 2] = 0
        tx[pos + 3] = rtype
        tx[pos + 4] = 0
        tx[pos + 5] = _C_IN
        ttl = self.ttl
        tx[pos + 6] = ttl >> 24
        tx[pos + 7] = (ttl >> 16) & 255
        tx[pos + 8] = (ttl >> 8) & 255
        tx[pos + 9] = ttl & 255
        tx[pos + 10] = rdlen >> 8
        tx[pos + 11] = rdlen & 255

    def _ptr(self, b, tx):
        # A reverse question (PTR): the target's name, or NXDOMAIN in names mode (no such name);
        # captive mode answers NODATA as it does for every type but A.
        s = self._reverse_target()
        if s != -1 and self._label_len(s) + len(self.domain) + 1 > _MAX_NAME:
            s = -1                           # no name of 255 bytes or less (RFC 1035 2.3.4)
        if s == -1 and self.mode == NAMES:
            self._count(_C_NXDOMAIN)
            return self._error(b, tx, RC_NXDOMAIN, True)
        self._header(b, tx, RC_NOERROR)
        pos = self._question(tx)
        if s == -1:
            self._count(_C_NODATA)
            return self._opt(tx, self._soa(tx, pos))
        end = self._put_name(tx, pos + 12, s)
        self._answer(tx, pos, _T_PTR, end - pos - 12)
        self._count(_C_ANSWERED)
        return self._opt(tx, end)

    # --- introspection (allocates) -----------------------------------------------------------
    def stats(self):
        return dict(zip(COUNTER_NAMES, self.counters))


def _counter_array():
    from array import array
    return array("I", [0] * len(COUNTER_NAMES))
