# The DNS responder (microdhcp.dns, issue 14): RFC 1035 replies in captive and names mode,
# byte for byte; malformed queries get FORMERR or no reply, never an exception; names come live
# from the lease table; handle() allocates nothing (micropython.heap_lock() on MicroPython,
# tracemalloc on CPython).
import errno
import dnskit as d
import dhcpkit as k
import harness as h
from microdhcp import dns

PORTAL = k.ip("192.168.4.1")


def captive(**kw):
    return dns.Responder(dns.CAPTIVE, PORTAL, **kw)


def names(e, **kw):
    kw.setdefault("domain", "lan")
    return dns.Responder(dns.NAMES, PORTAL, engine=e, **kw)


def ask(r, msg):
    tx = bytearray(512)
    b = r.rx
    b[0:len(msg)] = msg
    n = r.handle(b, len(msg), tx)
    return bytes(tx[:n])


def test_captive_a_reply_bytes():
    q = bytes((
        0xBE, 0xEF,              # ID
        0x01, 0x00,              # QR=0 OPCODE=0 RD=1
        0x00, 0x01,              # QDCOUNT 1
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00,   # AN NS AR 0
        0x07)) + b"example" + bytes((0x03,)) + b"com" + bytes((0x00,
        0x00, 0x01,              # QTYPE A
        0x00, 0x01))             # QCLASS IN
    want = bytes((
        0xBE, 0xEF,              # ID echoed
        0x85, 0x00,              # QR=1 AA=1 RD=1 echoed; RA=0 RCODE=0
        0x00, 0x01, 0x00, 0x01,  # QDCOUNT 1, ANCOUNT 1
        0x00, 0x00, 0x00, 0x00,
        0x07)) + b"example" + bytes((0x03,)) + b"com" + bytes((0x00,
        0x00, 0x01, 0x00, 0x01,  # the question echoed
        0xC0, 0x0C,              # answer name: pointer to offset 12 (RFC 1035 4.1.4)
        0x00, 0x01, 0x00, 0x01,  # A IN
        0x00, 0x00, 0x00, 0x05,  # TTL 5 s
        0x00, 0x04,              # RDLENGTH
        192, 168, 4, 1))         # the portal address
    assert ask(captive(), q) == want


def test_captive_every_name_and_rd_clear():
    r = captive(ttl=1)
    for qn in ("connectivitycheck.gstatic.com", "captive.apple.com", "www.msftconnecttest.com", "x", "."):
        p = d.parse(ask(r, d.query(qn, qid=0x0102, rd=False)))
        assert p["id"] == 0x0102 and p["qr"] == 1 and p["aa"] == 1 and p["rd"] == 0 and p["ra"] == 0
        assert p["rcode"] == 0 and p["question"] == [(qn.strip("."), d.A, d.IN)]
        assert [(a["type"], a["ttl"], a["data"]) for a in p["answers"]] == [(d.A, 1, PORTAL)]


def test_captive_aaaa_and_other_types_empty_noerror():
    r = captive()
    for t in (d.AAAA, d.MX, d.TXT):
        p = d.parse(ask(r, d.query("example.com", t)))
        assert p["rcode"] == 0 and p["answers"] == [] and p["question"] == [("example.com", t, d.IN)]
    p = d.parse(ask(r, d.query("example.com", d.ANY)))
    assert [a["data"] for a in p["answers"]] == [PORTAL]


def test_question_case_kept():
    p = d.parse(ask(captive(), d.query("ExAmPlE.CoM")))
    assert p["question"][0][0] == "ExAmPlE.CoM" and p["answers"][0]["name"] == "ExAmPlE.CoM"


def _leased(e, client, host):
    return h.dora(e, client, options=((12, host),))["yiaddr"]


def test_names_mode_leased_hostnames_bare_and_under_domain():
    e = h.engine()
    a1 = _leased(e, 1, b"sensor-1")
    a2 = _leased(e, 2, b"Kitchen\x00")           # a trailing NUL, as some clients send
    r = names(e)
    for qn, want in (("sensor-1", a1), ("sensor-1.lan", a1), ("SENSOR-1.LAN.", a1), ("kitchen", a2),
                     ("kitchen.lan", a2), ("microdhcp", PORTAL), ("microdhcp.lan", PORTAL)):
        p = d.parse(ask(r, d.query(qn)))
        assert p["rcode"] == 0 and p["aa"] == 1, (qn, p)
        assert [a["data"] for a in p["answers"]] == [want], (qn, p)
    for qn in ("sensor-2", "sensor-1.example", "x.sensor-1.lan", "sensor", "sensor-1x", "example.com"):
        p = d.parse(ask(r, d.query(qn)))
        assert p["rcode"] == dns.RC_NXDOMAIN and p["answers"] == [] and p["question"][0][0] == qn, (qn, p)
    # A name that exists, asked for AAAA: NODATA (NOERROR, no answer), not NXDOMAIN. The domain
    # itself ("lan") was NXDOMAIN here once; names exist below it, so it is NODATA too (RFC 8020
    # 2: NXDOMAIN would deny them all; test_names_above_ours_are_nodata_not_nxdomain).
    p = d.parse(ask(r, d.query("sensor-1.lan", d.AAAA)))
    assert p["rcode"] == 0 and p["answers"] == []
    p = d.parse(ask(r, d.query("lan")))
    assert p["rcode"] == 0 and p["answers"] == []
    s = r.stats()
    assert s["nxdomain"] == 6 and s["answered"] == 7 and s["nodata"] == 2


def test_names_follow_the_lease_table_live():
    e = h.engine()
    a1 = _leased(e, 1, b"cam")
    r = names(e, domain=None)
    assert d.parse(ask(r, d.query("cam")))["answers"][0]["data"] == a1
    assert d.parse(ask(r, d.query("cam.lan")))["rcode"] == dns.RC_NXDOMAIN    # no domain configured
    h.release(e, 1, a1)
    assert d.parse(ask(r, d.query("cam")))["rcode"] == dns.RC_NXDOMAIN
    # Another client takes the name: the answer follows it.
    a2 = _leased(e, 2, b"cam")
    assert d.parse(ask(r, d.query("cam")))["answers"][0]["data"] == a2


def test_names_one_name_on_two_leases_answers_the_latest():
    # Two bound leases with one hostname (a device back with a new MAC, two devices with a
    # vendor's default name): the lease that runs longest answers, that is the one ACKed last.
    e = h.engine()
    r = names(e)

    def answer():
        p = d.parse(ask(r, d.query("cam")))
        assert p["rcode"] == 0 and len(p["answers"]) == 1, p
        return p["answers"][0]["data"]

    a1 = h.dora(e, 1, 0, options=((12, b"cam"),))["yiaddr"]
    a2 = h.dora(e, 2, 0, options=((12, b"cam"),))["yiaddr"]
    assert a1 != a2
    assert answer() == min(a1, a2)          # equal expiries: the first slot (the lower address)
    a3 = h.dora(e, 3, 100, options=((12, b"cam"),))["yiaddr"]
    assert answer() == a3                   # the newest binding, whatever its slot
    ack = h.renew(e, 1, a1, 200)            # a renewal (no option 12: the stored name stays)
    assert ack is not None and ack["type"] == k.ACK
    assert answer() == a1
    h.release(e, 1, a1, 210)
    assert answer() == a3
    h.release(e, 3, a3, 220)
    assert answer() == a2
    h.release(e, 2, a2, 230)
    assert d.parse(ask(r, d.query("cam")))["rcode"] == dns.RC_NXDOMAIN


def test_configured_hosts_answer_in_both_modes_before_the_leases():
    # hosts=: names of the configuration (a device that sends no hostname, one with a static
    # address): one label each, bare and under the domain, any case, in names and captive mode;
    # a lease cannot take one (dnsmasq keeps a configured name from a client likewise).
    e = h.engine()
    own = _leased(e, 1, b"printer")              # a client claims the configured name
    cam = _leased(e, 2, b"cam")
    pr = k.ip("192.168.4.20")
    hosts = [("printer", "192.168.4.20"), ("NAS", k.ip("10.0.0.5"))]
    r = names(e, hosts=hosts)
    for qn, want in (("printer", pr), ("printer.lan", pr), ("PRINTER.LAN.", pr), ("nas", k.ip("10.0.0.5")),
                     ("Nas.lan", k.ip("10.0.0.5")), ("cam", cam), ("microdhcp", PORTAL)):
        p = d.parse(ask(r, d.query(qn)))
        assert p["rcode"] == 0 and p["aa"] == 1, (qn, p)
        assert [a["data"] for a in p["answers"]] == [want], (qn, p)
    assert own != pr
    p = d.parse(ask(r, d.query("printer.lan", d.AAAA)))
    assert p["rcode"] == 0 and p["answers"] == []                      # NODATA, as for a lease's name
    for qn in ("printer.example", "x.printer.lan", "printers", "nas1"):
        assert d.parse(ask(r, d.query(qn)))["rcode"] == dns.RC_NXDOMAIN, qn
    # Captive mode: the configured names answer their own addresses, every other name the portal.
    c = captive(hosts=hosts, domain="lan")
    for qn, want in (("printer", pr), ("printer.lan", pr), ("NAS", k.ip("10.0.0.5")), ("cam", PORTAL),
                     ("example.com", PORTAL), ("printer.example", PORTAL)):
        p = d.parse(ask(c, d.query(qn)))
        assert p["rcode"] == 0 and [a["data"] for a in p["answers"]] == [want], (qn, p)
    # Without hosts captive mode is what it was: every name the portal.
    assert d.parse(ask(captive(), d.query("printer")))["answers"][0]["data"] == PORTAL


def test_configured_hosts_checked_at_construction():
    for hosts, words in (([("a.b", "192.168.4.2")], "one label"), ([("-x", "192.168.4.2")], "hyphen"),
                         ([("x_y", "192.168.4.2")], "letters, digits and hyphens"), ([("a" * 64, "192.168.4.2")], "up to 63"),
                         ([("", "192.168.4.2")], "one label"), ([("x", "192.168.4.300")], "0-255"),
                         ([("x", b"\x01\x02")], "4 bytes"), ([("microdhcp", "192.168.4.2")], "own name"),
                         ([("x", "192.168.4.2"), ("X", "192.168.4.3")], "twice"), (["x"], "pairs")):
        try:
            captive(hosts=hosts)
        except ValueError as e:
            assert words in str(e), (hosts, str(e))
            continue
        raise AssertionError("accepted %r" % (hosts,))
    # The server's own name is checked as a host name too.
    for bad in ("a.b", "-a", "a b"):
        try:
            captive(own_name=bad)
        except ValueError as e:
            assert "own_name" in str(e), str(e)
            continue
        raise AssertionError("accepted own_name %r" % bad)


def test_special_use_names_are_refused_at_construction():
    # localhost and invalid always answer the loopback address and NXDOMAIN (RFC 6761 6.3, 6.4):
    # a configured host, an own name or a domain of that name could never answer, so each is
    # refused with a message that says why, in any case.
    for kw, what in (({"hosts": [("localhost", "192.168.4.2")]}, "DNS host name"),
                     ({"hosts": [("Invalid", "192.168.4.2")]}, "DNS host name"),
                     ({"own_name": "LOCALHOST"}, "own_name"),
                     ({"domain": "invalid"}, "domain"), ({"domain": "home.localhost."}, "domain")):
        try:
            captive(**kw)
        except ValueError as e:
            assert what in str(e) and "RFC 6761" in str(e), (kw, str(e))
            continue
        raise AssertionError("accepted %r" % (kw,))
    # Names that only hold those words are fine.
    captive(hosts=[("localhost2", "192.168.4.2")], own_name="invalids", domain="localhost.lan")


def test_reverse_lookups_answer_the_names_of_their_addresses():
    # PTR for d.c.b.a.in-addr.arpa (RFC 1035 3.5): a bound lease's hostname (names mode), the
    # server's own name, a configured name; under the domain when there is one. Names mode:
    # NXDOMAIN for any other address; captive mode keeps NODATA for every type but A, except
    # the server's own and the configured addresses.
    e = h.engine()
    a1 = _leased(e, 1, b"Sensor-1")
    a2 = h.dora(e, 2)["yiaddr"]                     # bound, no hostname
    hosts = [("printer", "192.168.4.20")]

    def rev(ip):
        return ".".join(str(x) for x in reversed(ip)) + ".in-addr.arpa"

    def ptr(r, ip, case=False):
        n = rev(ip)
        p = d.parse(ask(r, d.query(n.upper() if case else n, d.PTR)))
        if p["rcode"] or not p["answers"]:
            return p["rcode"], None
        a = p["answers"][0]
        assert a["type"] == d.PTR and a["name"].lower() == n and a["ttl"] == 5, p
        return 0, a["data"]

    r = names(e, hosts=hosts)
    assert ptr(r, a1) == (0, b"\x08Sensor-1\x03lan\x00")
    assert ptr(r, a1, case=True) == (0, b"\x08Sensor-1\x03lan\x00")
    assert ptr(r, PORTAL) == (0, b"\x09microdhcp\x03lan\x00")
    assert ptr(r, k.ip("192.168.4.20")) == (0, b"\x07printer\x03lan\x00")
    for ip in (a2, k.ip("192.168.4.99"), k.ip("10.0.0.1"), k.ip("192.168.4.0")):
        assert ptr(r, ip) == (dns.RC_NXDOMAIN, None), ip
    assert ptr(names(e, domain=None), a1) == (0, b"\x08Sensor-1\x00")
    h.release(e, 1, a1)
    assert ptr(r, a1) == (dns.RC_NXDOMAIN, None)                 # released: no name
    # Not reverse names: the usual rules (a forward name that exists is NODATA for PTR). The
    # subnet's reverse zone (4.168.192.in-addr.arpa) was NXDOMAIN here once; the names of its
    # addresses lie below it, so it is NODATA (RFC 8020 2), as dnsmasq answers it.
    for qn, rcode in (("printer.lan", 0), ("x.4.168.192.in-addr.arpa", dns.RC_NXDOMAIN),
                      ("256.4.168.192.in-addr.arpa", dns.RC_NXDOMAIN), ("4.168.192.in-addr.arpa", 0),
                      ("1.4.168.192.in-addr.arpa.example", dns.RC_NXDOMAIN)):
        p = d.parse(ask(r, d.query(qn, d.PTR)))
        assert p["rcode"] == rcode and p["answers"] == [], (qn, p)
    # No own name: the server's address has none. A name that would pass 255 bytes with the
    # domain is not answered (RFC 1035 2.3.4).
    assert ptr(names(e, own_name=None), PORTAL) == (dns.RC_NXDOMAIN, None)
    a3 = _leased(e, 3, b"cam")
    long_domain = ".".join(["a" * 63] * 3 + ["a" * 60])        # 253 bytes in wire form
    assert ptr(names(e, domain=long_domain), a3) == (dns.RC_NXDOMAIN, None)
    assert ptr(names(e, domain="lan"), a3) == (0, b"\x03cam\x03lan\x00")
    c = captive(hosts=hosts, domain="lan")
    assert ptr(c, PORTAL) == (0, b"\x09microdhcp\x03lan\x00")
    assert ptr(c, k.ip("192.168.4.20")) == (0, b"\x07printer\x03lan\x00")
    assert ptr(c, k.ip("192.168.4.77")) == (0, None)             # NODATA, as before
    s = r.stats()
    assert s["answered"] >= 4 and s["nxdomain"] >= 5, s


def test_reverse_octets_with_leading_zeros_are_names_we_do_not_have():
    # RFC 1035 3.5 writes each octet of an in-addr.arpa name as a decimal number: 1, never "001"
    # or "01". Such labels were read as the number ("001.4.168.192.in-addr.arpa" answered the name
    # of 192.168.4.1); they are a name of another spelling, which we do not have: the answer any
    # other unknown reverse name gets (names mode NXDOMAIN; captive mode NODATA, for every type
    # but A). "0" itself is an octet.
    e = h.engine()
    a1 = _leased(e, 1, b"sensor-1")
    hosts = [("printer", "192.168.4.20")]
    r = names(e, hosts=hosts)
    c = captive(hosts=hosts, domain="lan")
    s1 = "%d.4.168.192.in-addr.arpa" % a1[3]
    for qn in ("01.4.168.192.in-addr.arpa", "001.4.168.192.in-addr.arpa", "020.4.168.192.in-addr.arpa",
               "0" + s1, "1.04.168.192.in-addr.arpa", "20.4.0168.192.in-addr.arpa", "1.4.168.0192.in-addr.arpa",
               "00.4.168.192.in-addr.arpa", "04.168.192.in-addr.arpa", "0168.192.in-addr.arpa", "00.in-addr.arpa"):
        for qt in (d.PTR, d.A, 6):
            p = d.parse(ask(r, d.query(qn, qt)))
            assert p["rcode"] == dns.RC_NXDOMAIN and p["answers"] == [], (qn, qt, p)
        p = d.parse(ask(c, d.query(qn, d.PTR)))
        assert p["rcode"] == 0 and p["answers"] == [], (qn, p)           # NODATA, as 77.4.168.192
    # The same addresses written as RFC 1035 3.5 writes them still answer; "0" is an octet.
    for qn, data in (("1.4.168.192.in-addr.arpa", b"\x09microdhcp\x03lan\x00"),
                     ("20.4.168.192.in-addr.arpa", b"\x07printer\x03lan\x00"), (s1, b"\x08sensor-1\x03lan\x00")):
        assert d.parse(ask(r, d.query(qn, d.PTR)))["answers"][0]["data"] == data, qn
    assert d.parse(ask(r, d.query("0.4.168.192.in-addr.arpa", d.PTR)))["rcode"] == dns.RC_NXDOMAIN
    p = d.parse(ask(names(e, hosts=[("zero", "192.168.4.0")]), d.query("0.4.168.192.in-addr.arpa", d.PTR)))
    assert p["answers"][0]["data"] == b"\x04zero\x03lan\x00", p


def test_malformed_queries_formerr_or_silence():
    r = captive()
    good = d.query("example.com", qid=0x4242)
    # Too short for a header, or a response (QR=1): no reply.
    assert ask(r, good[:11]) == b""
    assert ask(r, b"") == b""
    resp = bytearray(good)
    resp[2] |= 0x80
    assert ask(r, bytes(resp)) == b""

    def formerr(msg, with_question=False):
        p = d.parse(ask(r, msg))
        assert p["id"] == 0x4242 and p["qr"] == 1 and p["rcode"] == dns.RC_FORMERR, p
        assert p["answers"] == []
        assert (len(p["question"]) == 1) == with_question, p
    # QDCOUNT 0 and 2 (RFC 1035 4.1.2 allows more, no resolver sends them)
    formerr(good[:4] + b"\x00\x00" + good[6:])
    formerr(good[:4] + b"\x00\x02" + good[6:] + good[12:])
    # Truncated anywhere in the question
    for cut in range(12, len(good)):
        formerr(good[:cut])
    # A label longer than 63 (0x40, 0x80: reserved label types), a name over 255 bytes
    formerr(good[:12] + b"\x40" + b"a" * 64 + b"\x00\x00\x01\x00\x01")
    formerr(good[:12] + (b"\x3f" + b"a" * 63) * 4 + b"\x00\x00\x01\x00\x01")
    # Compression pointers in the question: to itself, forward, into the header, a loop of two
    formerr(good[:12] + b"\xc0\x0c\x00\x01\x00\x01")
    formerr(good[:12] + b"\xc0\x20\x00\x01\x00\x01" + bytes(32))
    formerr(good[:12] + b"\xc0\x02\x00\x01\x00\x01")
    formerr(good[:12] + b"\x01a\xc0\x0c\x00\x01\x00\x01")
    formerr(good[:12] + b"\x01a\xc0")                       # a pointer cut in half
    # Oversized (RFC 1035 4.2.1: 512 bytes over UDP): header only
    formerr(good + bytes(600 - len(good)))
    # Additional records that do not parse
    bad_ar = bytearray(good + b"\x00\x00\x01\x00\x01\x00\x00\x00\x05\x00\x09\x01")   # RDLENGTH past the end
    bad_ar[11] = 1
    formerr(bytes(bad_ar), True)
    s = r.stats()
    assert s["dropped"] == 3 and s["oversized"] == 1 and s["formerr"] >= len(good) - 12 + 11


def test_compression_pointer_in_additional_record_followed():
    # An additional record named by a pointer to the question (0xC00C) is walked over to reach
    # the OPT record behind it: the reply carries our OPT back.
    q = bytearray(d.query("example.com", edns=True))
    q[11] = 2                                            # ARCOUNT 2
    extra = bytes((0xC0, 0x0C,                           # name -> offset 12
                   0x00, 0x01, 0x00, 0x01,               # A IN
                   0, 0, 0, 0, 0x00, 0x04, 10, 0, 0, 1))  # TTL 0, RDLENGTH 4, 10.0.0.1
    i = len(q) - 11
    msg = bytes(q[:i]) + extra + bytes(q[i:])
    p = d.parse(ask(captive(), msg))
    assert p["rcode"] == 0 and [a["data"] for a in p["answers"]] == [PORTAL]
    assert [(a["type"], a["cls"]) for a in p["additional"]] == [(d.OPT, 512)]
    # The same pointer made to point at itself: a loop, FORMERR.
    loop = bytes(q[:i]) + bytes((0xC0, i)) + extra[2:] + bytes(q[i:])
    assert d.parse(ask(captive(), loop))["rcode"] == dns.RC_FORMERR


def test_edns_opt_answered_and_badvers():
    r = captive()
    p = d.parse(ask(r, d.query("example.com", edns=True)))
    assert p["rcode"] == 0 and len(p["answers"]) == 1
    opt = p["additional"]
    assert len(opt) == 1 and opt[0]["name"] == "" and opt[0]["type"] == d.OPT
    assert opt[0]["cls"] == 512 and opt[0]["ttl"] == 0 and opt[0]["data"] == b""
    # RFC 6891 6.1.3: VERSION 1 -> BADVERS (extended RCODE 1 in the OPT TTL), no answer
    p = d.parse(ask(r, d.query("example.com", edns=True, edns_version=1)))
    assert p["rcode"] == 0 and p["answers"] == [] and p["additional"][0]["ttl"] >> 24 == 1


def test_edns_do_bit_copied():
    # RFC 3225 section 3: "The DO bit of the query MUST be copied in the response" (dig +dnssec,
    # validating stubs); clear when the query's is, on BADVERS too.
    r = captive()
    for do, version in ((True, 0), (False, 0), (True, 1)):
        p = d.parse(ask(r, d.query("example.com", edns=True, edns_version=version, edns_do=do)))
        opt = p["additional"]
        assert len(opt) == 1 and opt[0]["ttl"] & 0xFFFF == (0x8000 if do else 0), (do, version, p)
        assert opt[0]["ttl"] >> 24 == version


def test_names_hostname_with_domain_answers_by_its_first_label():
    # Option 12 "may or may not be qualified with the local domain name" (RFC 2132 3.14): a
    # client that sends "laptop.lan" is "laptop", answered as laptop and laptop.lan, and its
    # reverse name is laptop.lan, never a label holding a dot (dnsmasq keeps the part before
    # the first dot likewise).
    e = h.engine()
    a1 = _leased(e, 1, b"laptop.lan")
    a2 = _leased(e, 2, b"Cam.example.")
    r = names(e)
    for qn, want in (("laptop", a1), ("laptop.lan", a1), ("LAPTOP.lan", a1), ("cam", a2), ("cam.lan", a2)):
        p = d.parse(ask(r, d.query(qn)))
        assert p["rcode"] == 0 and [a["data"] for a in p["answers"]] == [want], (qn, p)
    rev = ".".join(str(x) for x in reversed(a1)) + ".in-addr.arpa"
    p = d.parse(ask(r, d.query(rev, d.PTR)))
    assert p["rcode"] == 0 and p["answers"][0]["data"] == b"\x06laptop\x03lan\x00", p
    assert d.parse(ask(r, d.query("laptop.lan.lan")))["rcode"] == dns.RC_NXDOMAIN


def _opt_rr(version=0, do=True, rdlen=0, name=b"\x00"):
    # An OPT record (RFC 6891 6.1.2) asking for 1232-byte replies; RDATA follows apart.
    return name + bytes((0, d.OPT, 0x04, 0xD0, 0, version, 0x80 if do else 0, 0, rdlen >> 8, rdlen & 255))


def test_every_reply_to_a_query_with_opt_carries_ours():
    # RFC 6891 7: without OPT in the reply the client takes the server for one that knows no EDNS
    # (and a FORMERR about the OPT itself "MUST include an OPT record"). Error replies whose
    # query's OPT can be found carry ours: past every question and record, as for an answer.
    r = captive()
    q = d.query("example.com", qid=0x4242, edns=True, edns_do=True)
    body = q[12:-11]                                  # the question alone
    opt = _opt_rr()

    def check(msg, rcode, questions=0, back=True):
        p = d.parse(ask(r, msg))
        assert p["id"] == 0x4242 and p["rcode"] == rcode and len(p["question"]) == questions, p
        want = [(d.OPT, 512, 0x8000)] if back else []     # version 0, no extended RCODE, DO copied
        assert [(a["type"], a["cls"], a["ttl"]) for a in p["additional"]] == want, p
    # NOTIMP (an opcode other than QUERY): its sections are walked as a query's
    for opcode in (1, 2, 4, 5):
        check(bytes((0x42, 0x42, opcode << 3, 0)) + q[4:], dns.RC_NOTIMP)
    # QDCOUNT 0 (the header and the OPT) and 2 (both questions walked over): FORMERR
    check(q[:4] + b"\x00\x00\x00\x00\x00\x00\x00\x01" + opt, dns.RC_FORMERR)
    check(q[:4] + b"\x00\x02" + q[6:12] + body + body + opt, dns.RC_FORMERR)
    # Oversized: the shell keeps RX_SIZE bytes; an OPT in them is found though its RDATA (here
    # a 600-byte padding option, RFC 7830) runs on past them.
    big = q[:-11] + _opt_rr(rdlen=604) + b"\x00\x0c\x02\x58" + bytes(600)
    check(big[:dns.RX_SIZE], dns.RC_FORMERR)
    # A malformed OPT: a second one, its RDATA cut off, a name that is not the root: FORMERR
    # (with the question, which parsed) and our OPT.
    check(q[:11] + b"\x02" + body + opt + opt, dns.RC_FORMERR, 1)
    check(q[:-11] + _opt_rr(rdlen=4), dns.RC_FORMERR, 1)
    check(q[:-11] + _opt_rr(name=b"\x01a\x00"), dns.RC_FORMERR, 1)
    # VERSION 1 behind an error found first: that error, with our OPT of version 0 and no
    # extended RCODE (BADVERS is for a query that parsed, as before).
    check(bytes((0x42, 0x42, 2 << 3, 0)) + q[4:-11] + _opt_rr(version=1), dns.RC_NOTIMP)
    check(q[:11] + b"\x02" + body + _opt_rr(version=1) + opt, dns.RC_FORMERR, 1)
    # Where the OPT cannot be found, no OPT: a question that does not parse hides what follows it,
    # and an oversized query's OPT past the RX_SIZE bytes kept is not there.
    check(q[:12] + b"\x01a\xc0\x0c\x00\x01\x00\x01" + opt, dns.RC_FORMERR, 0, False)
    txt = b"\xc0\x0c\x00\x10\x00\x01\x00\x00\x00\x00\x02\x58" + bytes(600)
    check((q[:11] + b"\x02" + body + txt + opt)[:dns.RX_SIZE], dns.RC_FORMERR, 0, False)
    # A query without OPT still gets none, errors included.
    check(d.query("x", qid=0x4242, opcode=2), dns.RC_NOTIMP, 0, False)
    check(d.query("x", qid=0x4242)[:4] + b"\x00\x00" + bytes(6), dns.RC_FORMERR, 0, False)


def _ask_from(r, msg, port):
    tx = bytearray(512)
    b = r.rx
    b[0:len(msg)] = msg
    return r.handle(b, len(msg), tx, port)


def test_queries_from_loop_ports_get_no_reply():
    # CVE-2024-2169: a query spoofed "from" a UDP echo, daytime, chargen or time service (or
    # kpasswd) would make our reply answer it, and theirs us, without end: BIND drops these source
    # ports (lib/ns/client.c, ns_client_dropport). Port 0 is no port a reply can go to (RFC 768).
    r = captive()
    q = d.query("example.com")
    for port in (0, 7, 13, 19, 37, 464):
        assert _ask_from(r, q, port) == 0, port
    for port in (1, 6, 8, 12, 14, 20, 36, 38, 53, 463, 465, 1024, 5353, 65535):
        assert _ask_from(r, q, port) > 0, port
    s = r.stats()
    assert s["bad_port"] == 6 and s["answered"] == 14 and s["queries"] == 20 and s["dropped"] == 0, s
    assert ask(r, q) and r.stats()["answered"] == 15        # no port given (sans-IO callers): answered


class _Sock:
    # The shell's socket, sans IO: recvfrom gives the queued (datagram, sender) pairs (the sender
    # as the runtime gives it: (host, port) on CPython and lwIP, the raw 16-byte sockaddr_in on
    # the unix port; an exception is raised), then EAGAIN; sendto keeps what it is given.
    def __init__(self, queue):
        self.queue = list(queue)
        self.out = []

    def setblocking(self, flag):
        pass

    def recvfrom(self, n):
        if not self.queue:
            raise OSError(errno.EAGAIN, "empty")
        m, a = self.queue.pop(0)
        if a is None:
            raise m
        return m[:n], a

    def sendto(self, data, addr):
        self.out.append((bytes(data), addr))

    def close(self):
        pass


def _shell(r, queue=()):
    from microdhcp import dnsserver   # here: it imports socket, which the qemu port has not
    sel = dnsserver.select
    dnsserver.select = None           # no poller: every step reads, until the queue says EAGAIN
    try:
        return dnsserver.DnsServer(r, sock=_Sock(queue))
    finally:
        dnsserver.select = sel


def _raw(port):
    # struct sockaddr_in as the unix port's recvfrom returns it: family (host order), port and
    # address (network order), 8 zero bytes.
    return bytes((2, 0, port >> 8, port & 255, 10, 0, 0, 2)) + bytes(8)


def test_shell_drops_queries_from_loop_ports():
    r = captive()
    q = d.query("example.com")
    queue = [(q, ("10.0.0.2", 7)), (q, _raw(19)), (q, ("10.0.0.2", 0)), (q, _raw(464)),
             (q, ("10.0.0.2", 40000)), (q, _raw(53000))]
    srv = _shell(r, queue)
    assert srv.poll() == 6
    assert [a for _, a in srv.sock.out] == [("10.0.0.2", 40000), _raw(53000)]
    assert srv.sent == 2 and r.stats()["bad_port"] == 4 and r.stats()["answered"] == 2


def test_shell_counters_start_again_with_the_responders():
    # The shell's counters start again from 0 when the responder's do (at 2**29 queries), at
    # the same moment: none becomes a heap int on a 32-bit board, and sent stays at most queries.
    r = captive()
    q = d.query("example.com")
    srv = _shell(r, [(q, ("10.0.0.2", 40000))] * 2)
    srv.send_errors, srv.recv_errors, srv.recv_nomem, srv.internal_errors = 1, 2, 3, 4
    srv.sent = (1 << 29) - 2
    r.counters[0] = (1 << 29) - 1
    assert srv.poll(1) == 1 and r.counter_restarts == 0 and srv.sent == (1 << 29) - 1
    assert srv.poll(1) == 1 and r.counter_restarts == 1 and list(r.counters)[:2] == [1, 1]
    assert (srv.sent, srv.send_errors, srv.recv_errors, srv.recv_nomem, srv.internal_errors) == (1, 0, 0, 0, 0)
    # An error counter that grows without queries (a socket that keeps failing) starts every
    # counter again itself, at the next poll.
    for name, exc in (("recv_errors", OSError(errno.EIO, "io")), ("recv_nomem", MemoryError("no room")),
                      ("internal_errors", None)):
        srv.sock.queue = [] if exc is None else [(exc, None)]
        setattr(srv, name, (1 << 29) - 1)
        restarts = r.counter_restarts
        srv.poll()                       # recv_errors, recv_nomem: the error makes it 2**29
        if exc is None:
            srv.internal_errors += 1     # as serve counts a MemoryError in poll
        assert r.counter_restarts == restarts and getattr(srv, name) == 1 << 29, name
        srv.sock.queue = [(q, ("10.0.0.2", 40000))]
        srv.poll()
        assert r.counter_restarts == restarts + 1 and getattr(srv, name) == 0, (name, getattr(srv, name))
        assert srv.sent == r.counters[0] == 1 and r.counters[1] == 1, (name, srv.sent, list(r.counters))


def _loop_addr(host, port):
    # A socket address as bind/sendto take it: the unix port's raw sockaddr from getaddrinfo.
    import socket
    import sys
    if sys.implementation.name == "micropython":
        return socket.getaddrinfo(host, port)[0][-1]
    return (host, port)


def _shell_on_loopback(address, **kw):
    # A DnsServer on a free port of loopback for a captive responder whose address is `address`
    # (127.0.0.2: on Linux the whole of 127.0.0.0/8 is the loopback interface's, RFC 1122
    # 3.2.1.3(g)). The port is free on every address first (a probe on 0.0.0.0), so that nothing
    # else answers on it. -> (server, port)
    import socket
    from microdhcp.dnsserver import DnsServer
    for port in range(45300, 45500):
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            probe.bind(_loop_addr("0.0.0.0", port))
        except OSError:
            continue
        finally:
            probe.close()
        return DnsServer(dns.Responder(dns.CAPTIVE, k.ip(address)), port=port, **kw), port
    raise OSError("no free port")


def _ask_on_loopback(srv, port, to):
    # One query from a fresh socket on loopback to to:port; the server polled a bounded number of
    # times. -> the reply's source address (a.b.c.d), or None when no reply came.
    import socket
    import time
    cli = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    cli.setblocking(False)
    try:
        cli.sendto(d.query("example.com", qid=0x4545), _loop_addr(to, port))
        for _ in range(50):                    # bounded: ~0.5 s, loopback delivers at once
            srv.poll()
            try:
                data, frm = cli.recvfrom(600)
            except OSError:
                time.sleep(0.01)
                continue
            assert d.parse(data)["id"] == 0x4545
            return frm[0] if len(frm) == 2 else "%d.%d.%d.%d" % tuple(frm[4:8])
        return None
    finally:
        cli.close()


def test_shell_binds_the_servers_own_address():
    # The shell listens on the responder's address (the DHCP server's, the AP's on a board), not
    # on 0.0.0.0: a query to another address of the host (the station side of an ESP32 running
    # AP + STA) is not answered, and a reply leaves from the address the query went to (RFC 2181
    # 4.1). Loopback only: the server is on 127.0.0.2, the other address is 127.0.0.1.
    srv, port = _shell_on_loopback("127.0.0.2")
    try:
        assert _ask_on_loopback(srv, port, "127.0.0.1") is None
        assert _ask_on_loopback(srv, port, "127.0.0.2") == "127.0.0.2"
        assert srv.responder.stats()["queries"] == 1 and srv.sent == 1
    finally:
        srv.close()
    # host= binds elsewhere (e.g. "0.0.0.0": every address of the host, as before).
    srv, port = _shell_on_loopback("127.0.0.2", host="127.0.0.1")
    try:
        assert _ask_on_loopback(srv, port, "127.0.0.2") is None
        assert _ask_on_loopback(srv, port, "127.0.0.1") == "127.0.0.1"
    finally:
        srv.close()


def test_shell_says_when_the_servers_address_is_not_this_hosts():
    # The host command's --address given to no interface: bind fails (EADDRNOTAVAIL), which the
    # host command reports with the address ("no DNS: cannot open UDP port 53 on 192.0.2.1"), and
    # serves DHCP; it does not quietly listen elsewhere. 192.0.2.1 (TEST-NET-1, RFC 5737) is on
    # no interface here; nothing is sent.
    from microdhcp.dnsserver import DnsServer
    try:
        with open("/proc/sys/net/ipv4/ip_nonlocal_bind") as f:
            anywhere = f.read().strip() != "0"       # then Linux lets any address be bound
    except OSError:
        anywhere = False
    try:
        DnsServer(dns.Responder(dns.CAPTIVE, k.ip("192.0.2.1")), port=45299).close()
    except OSError as x:
        assert x.args[0] == 99, x.args          # EADDRNOTAVAIL on Linux
        return
    assert anywhere, "bound 192.0.2.1, an address of no interface"


def test_opcode_class_refusals():
    r = captive()
    p = d.parse(ask(r, d.query("example.com", opcode=2)))          # STATUS
    assert p["rcode"] == dns.RC_NOTIMP and p["opcode"] == 2
    p = d.parse(ask(r, d.query("version.bind", d.TXT, qclass=d.CH)))
    assert p["rcode"] == dns.RC_REFUSED and p["question"] == [("version.bind", d.TXT, d.CH)]


def test_constructor_checks():
    for bad in (dict(mode=7, address=PORTAL), dict(mode=dns.NAMES, address=PORTAL),
                dict(mode=dns.CAPTIVE, address=b"\x01\x02"), dict(mode=dns.CAPTIVE, address=PORTAL, ttl=-1),
                dict(mode=dns.CAPTIVE, address=PORTAL, own_name="a.b")):
        try:
            dns.Responder(**bad)
        except ValueError:
            continue
        raise AssertionError("accepted %r" % (bad,))


def _queries():
    q = d.query
    out = [q("example.com"), q("example.com", d.AAAA), q("sensor-1.lan"), q("SENSOR-1"), q("nope.lan"),
           q("microdhcp"), q("example.com", edns=True), q("x", edns=True, edns_version=3), q("x", opcode=4),
           q("v.bind", d.TXT, d.CH), q("a" * 63 + ".lan", d.MX), b"\x00" * 11, b"\x12\x34\x81" + bytes(9),
           q("example.com")[:20], q("example.com") + bytes(600)]
    loop = bytearray(q("example.com")[:12] + b"\x01a\xc0\x0c\x00\x01\x00\x01")
    out.append(bytes(loop))
    return out


def _run_all(r, tx, msgs, lock):
    # msgs: queries, or (query, source port) pairs
    b = r.rx
    total = 0
    for m in msgs:
        port = 53
        if isinstance(m, tuple):
            m, port = m
        n = len(m)
        b[0:n] = m
        if lock is not None:
            lock[0]()
            try:
                total += r.handle(b, n, tx, port)
            finally:
                lock[1]()
        else:
            total += r.handle(b, n, tx, port)
    return total


def test_handle_allocates_nothing():
    e = h.engine()
    _leased(e, 1, b"sensor-1")
    _leased(e, 2, b"laptop.lan")                 # a name qualified with the domain
    tx = bytearray(512)
    msgs = [m[:dns.RX_SIZE] for m in _queries()]
    msgs += [d.query("laptop.lan"), d.query("example.com", edns=True, edns_do=True)]
    # Error replies that carry our OPT (RFC 6891 7): NOTIMP, QDCOUNT 0 and 2, oversized, a
    # second OPT; and queries from loop ports (dropped) and from others (answered).
    q = d.query("example.com", edns=True, edns_do=True)
    body = q[12:-11]
    msgs += [bytes((0x12, 0x34, 4 << 3, 0)) + q[4:], q[:4] + b"\x00\x00" + q[6:12] + q[-11:],
             q[:4] + b"\x00\x02" + q[6:12] + body + body + q[-11:], q[:11] + b"\x02" + body + q[-11:] + q[-11:],
             (q[:-11] + _opt_rr(rdlen=604) + b"\x00\x0c\x02\x58" + bytes(600))[:dns.RX_SIZE],
             (q, 7), (q, 464), (q, 0), (q, 53), (q, 40000)]
    try:
        import micropython
        lock = (micropython.heap_lock, micropython.heap_unlock)
    except (ImportError, AttributeError):
        lock = None
    msgs += [d.query("printer"), d.query("PRINTER.lan"), d.query("printer", d.AAAA),
             d.query("20.4.168.192.in-addr.arpa", d.PTR), d.query("1.4.168.192.in-addr.arpa", d.PTR),
             d.query("77.4.168.192.in-addr.arpa", d.PTR), d.query("x.4.168.192.in-addr.arpa", d.PTR)]
    msgs += [d.query("%d.4.168.192.in-addr.arpa" % i, d.PTR) for i in range(10, 20)]   # the pool
    # names with ours below them (NODATA, RFC 8020 2), and names beside them (NXDOMAIN)
    msgs += [d.query("lan", 6), d.query("."), d.query("in-addr.arpa"), d.query("4.168.192.in-addr.arpa", d.PTR),
             d.query("168.192.in-addr.arpa", 6), d.query("5.168.192.in-addr.arpa", d.PTR),
             d.query("20.4.168.192.in-addr.arpa"), d.query("1.2.3.4.5.in-addr.arpa", d.PTR),
             d.query("001.4.168.192.in-addr.arpa", d.PTR), d.query("04.168.192.in-addr.arpa", 6),
             d.query("arpa", 6), d.query("x.arpa"), d.query("0.10.in-addr.arpa", d.PTR), d.query("11.in-addr.arpa")]
    # RFC 6761: localhost names (the loopback; NODATA for other types) and invalid ones (NXDOMAIN)
    msgs += [d.query("localhost"), d.query("app.LOCALHOST", d.AAAA), d.query("x.invalid"), d.query("invalid", d.PTR)]
    # negative answers with the zone's SOA (RFC 2308 3), with and without our OPT, and one too long
    # for it beside a domain of 99 bytes (the last responder: the SOA left out)
    msgs += [d.query("nothere.lan", edns=True), d.query("X.LAN", d.AAAA, edns=True, edns_do=True),
             d.query("5.168.192.in-addr.arpa", d.PTR, edns=True), d.query("nothere"),
             d.query("x." + ".".join(["q" * 60] * 4), edns=True)]
    hosts = [("printer", "192.168.4.20"), ("nas", "192.168.4.21"), ("far", "10.0.0.5")]
    for r in (captive(), names(e), captive(hosts=hosts), names(e, hosts=hosts),
              names(e, domain=".".join(["d" * 32] * 3))):
        _run_all(r, tx, msgs, None)                        # warm-up (nothing to warm, but fair)
        if lock is not None:
            # MicroPython: any allocation inside handle() raises MemoryError under the lock.
            assert _run_all(r, tx, msgs, lock) > 0
            continue
        import tracemalloc
        import os
        tracemalloc.start()
        try:
            before = tracemalloc.take_snapshot()
            for _ in range(20):
                assert _run_all(r, tx, msgs, None) > 0
            after = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
        f = tracemalloc.Filter(True, os.path.abspath(dns.__file__))
        grown = [s for s in after.filter_traces([f]).compare_to(before.filter_traces([f]), "lineno")
                 if s.size_diff > 0]
        assert grown == [], grown


def test_dns_counters_start_again_before_they_leave_small_ints():
    # As the engine's (test_events): at 2**29 queries every counter starts again from 0.
    r = dns.Responder(dns.CAPTIVE, k.ip("192.168.4.1"))
    tx = bytearray(512)
    q = d.query("example.com", qid=7)
    r.counters[0] = 1 << 29
    r.counters[1] = 5
    n = r.handle(q, len(q), tx)
    assert n and r.counter_restarts == 1
    assert r.counters[0] == 1 and r.counters[1] == 1, list(r.counters)


def test_names_above_ours_are_nodata_not_nxdomain():
    # RFC 8020 2: NXDOMAIN says nothing exists at or below the name (a resolver may drop the whole
    # subtree from its cache). The domain, its ancestors (the root too: bare names live under it),
    # in-addr.arpa and the reverse names above the subnet's addresses have names below them:
    # NOERROR with no answer (NODATA, RFC 2308 2.2), for any type, as dnsmasq answers them; so
    # has an address with a name asked for another type than PTR. Names below them that are not
    # ours stay NXDOMAIN. ("arpa" and the parents of a configured address outside the subnet:
    # test_arpa_and_reverse_parents_of_configured_addresses_are_nodata.)
    e = h.engine()
    _leased(e, 1, b"sensor-1")
    r = names(e, hosts=[("printer", "192.168.4.20")])
    for qn, qt in (("lan", d.A), ("LAN.", d.AAAA), ("lan", 6), (".", 2), ("in-addr.arpa", d.PTR),
                   ("192.in-addr.arpa", 6), ("168.192.in-addr.arpa", d.PTR), ("4.168.192.In-Addr.Arpa", d.PTR),
                   ("4.168.192.in-addr.arpa", 6), ("20.4.168.192.in-addr.arpa", d.A)):
        p = d.parse(ask(r, d.query(qn, qt)))
        assert p["rcode"] == 0 and p["answers"] == [] and p["aa"] == 1, (qn, p)
    for qn, qt in (("x.lan", d.A), ("lan.example", d.A), ("5.168.192.in-addr.arpa", d.PTR), ("10.in-addr.arpa", 6),
                   ("99.4.168.192.in-addr.arpa", d.A), ("x.in-addr.arpa", d.PTR), ("1.2.3.4.5.in-addr.arpa", d.PTR)):
        p = d.parse(ask(r, d.query(qn, qt)))
        assert p["rcode"] == dns.RC_NXDOMAIN and p["answers"] == [], (qn, p)
    s = r.stats()
    assert s["nodata"] == 10 and s["nxdomain"] == 7, s
    # A domain of two labels: its parent too. A /22: the third octet is partly the subnet's.
    e = h.engine(address="10.1.0.1/22", pool=("10.1.0.10", "10.1.0.19"), routers=["10.1.0.1"], dns=["10.1.0.1"])
    r = dns.Responder(dns.NAMES, k.ip("10.1.0.1"), engine=e, domain="home.lan")
    for qn, rcode in (("home.lan", 0), ("lan", 0), ("x.lan", dns.RC_NXDOMAIN), ("1.10.in-addr.arpa", 0),
                      ("3.1.10.in-addr.arpa", 0), ("4.1.10.in-addr.arpa", dns.RC_NXDOMAIN),
                      ("2.10.in-addr.arpa", dns.RC_NXDOMAIN), ("11.in-addr.arpa", dns.RC_NXDOMAIN)):
        p = d.parse(ask(r, d.query(qn, 6)))
        assert p["rcode"] == rcode and p["answers"] == [], (qn, p)
    # Captive mode is unchanged: A answers the portal, other types NODATA.
    c = captive(domain="lan")
    assert [a["data"] for a in d.parse(ask(c, d.query("lan")))["answers"]] == [PORTAL]
    assert d.parse(ask(c, d.query("4.168.192.in-addr.arpa", d.PTR)))["rcode"] == 0


def test_aa_only_on_answers_from_our_data():
    # RFC 1035 4.1.1: AA says the responder is an authority for the name in the question. A
    # REFUSED (a class we hold nothing for), a NOTIMP (an opcode we do not serve) or a FORMERR
    # (a query we could not read) is no such answer: BIND (ns_client_error resets the flags) and
    # dnsmasq (setup_reply clears AA) leave it clear. NOERROR and NXDOMAIN from our names keep it.
    e = h.engine()
    for r in (captive(), names(e)):
        for q, rcode, aa in ((d.query("microdhcp"), 0, 1), (d.query("microdhcp", d.AAAA), 0, 1),
                             (d.query("example.com", opcode=2), dns.RC_NOTIMP, 0),
                             (d.query("version.bind", d.TXT, qclass=d.CH), dns.RC_REFUSED, 0),
                             (d.query("example.com")[:4] + b"\x00\x02" + d.query("example.com")[6:], dns.RC_FORMERR, 0),
                             (d.query("x", edns=True, edns_version=1), 0, 1)):
            p = d.parse(ask(r, q))
            assert p["rcode"] == rcode and p["aa"] == aa, (r.mode, q, p)
    p = d.parse(ask(names(e), d.query("nothere")))
    assert p["rcode"] == dns.RC_NXDOMAIN and p["aa"] == 1, p


LOOPBACK = k.ip("127.0.0.1")


def test_localhost_names_answer_the_loopback_address():
    # RFC 6761 6.3 (items 4 and 5): a DNS server answers an address query for "localhost." or a
    # name under it with the loopback address, and every other type negatively, in both modes:
    # captive mode gave the portal's address, names mode a lease's (clients that send
    # "localhost" as their hostname are common) or NXDOMAIN. The responder serves no AAAA
    # record, so AAAA is NODATA, as for every other name. "localhost.lan" is no localhost
    # name: the usual rules.
    e = h.engine()
    cam = _leased(e, 1, b"localhost")
    hosts = [("printer", "192.168.4.20")]
    for r in (captive(hosts=hosts, domain="lan"), names(e, hosts=hosts)):
        for qn in ("localhost", "LocalHost.", "app.localhost", "printer.localhost", "a.b.LOCALHOST"):
            for qt in (d.A, d.ANY):
                p = d.parse(ask(r, d.query(qn, qt)))
                assert p["rcode"] == 0 and p["aa"] == 1, (r.mode, qn, p)
                assert [(a["type"], a["data"]) for a in p["answers"]] == [(d.A, LOOPBACK)], (r.mode, qn, p)
            for qt in (d.AAAA, d.MX, d.PTR):
                p = d.parse(ask(r, d.query(qn, qt)))
                assert p["rcode"] == 0 and p["answers"] == [], (r.mode, qn, qt, p)
        # the root after a localhost name: no trace of the name before
        p = d.parse(ask(r, d.query(".", d.AAAA)))
        assert p["rcode"] == 0 and p["answers"] == [], (r.mode, p)
    c = captive(domain="lan")
    for qn in ("localhost.lan", "localhostx", "xlocalhost", "localhost.example"):
        assert [a["data"] for a in d.parse(ask(c, d.query(qn)))["answers"]] == [PORTAL], qn
    r = names(e)
    assert [a["data"] for a in d.parse(ask(r, d.query("localhost.lan")))["answers"]] == [cam]
    assert d.parse(ask(r, d.query("localhostx")))["rcode"] == dns.RC_NXDOMAIN


def test_invalid_names_are_nxdomain():
    # RFC 6761 6.4 item 4: DNS servers answer "invalid." and every name under it with NXDOMAIN.
    # Captive mode gave them the portal's address; names mode a lease's or a configured name's
    # for the bare label. "invalid.lan" is no such name: the usual rules.
    e = h.engine()
    _leased(e, 1, b"invalid")
    hosts = [("printer", "192.168.4.20")]
    for r in (captive(hosts=hosts, domain="lan"), names(e, hosts=hosts)):
        for qn in ("invalid", "INVALID.", "x.invalid", "printer.invalid", "microdhcp.Invalid"):
            for qt in (d.A, d.AAAA, d.ANY, d.PTR):
                p = d.parse(ask(r, d.query(qn, qt)))
                assert p["rcode"] == dns.RC_NXDOMAIN and p["aa"] == 1 and p["answers"] == [], (r.mode, qn, p)
    c = captive(domain="lan")
    for qn in ("invalid.lan", "invalidx", "x.invalid.example"):
        assert [a["data"] for a in d.parse(ask(c, d.query(qn)))["answers"]] == [PORTAL], qn


def test_arpa_and_reverse_parents_of_configured_addresses_are_nodata():
    # RFC 8020 2: NXDOMAIN says nothing exists below the name. "arpa" has in-addr.arpa below it,
    # and a configured name's address outside the subnet (--dns-host nas=10.0.0.5) has its reverse
    # name 5.0.0.10.in-addr.arpa answered, so 10.in-addr.arpa, 0.10... and 0.0.10... are NODATA
    # in names mode, as the subnet's reverse names are. Names beside them stay NXDOMAIN.
    e = h.engine()
    r = names(e, hosts=[("nas", "10.0.0.5"), ("printer", "192.168.4.20")])
    for qn, qt in (("arpa", d.A), ("ARPA.", 6), ("arpa", d.PTR), ("10.in-addr.arpa", d.PTR),
                   ("0.10.in-addr.arpa", 6), ("0.0.10.In-Addr.Arpa", d.PTR), ("5.0.0.10.in-addr.arpa", d.A)):
        p = d.parse(ask(r, d.query(qn, qt)))
        assert p["rcode"] == 0 and p["answers"] == [] and p["aa"] == 1, (qn, p)
    p = d.parse(ask(r, d.query("5.0.0.10.in-addr.arpa", d.PTR)))
    assert p["rcode"] == 0 and p["answers"][0]["data"] == b"\x03nas\x03lan\x00", p
    for qn, qt in (("x.arpa", d.A), ("11.in-addr.arpa", d.PTR), ("1.10.in-addr.arpa", 6),
                   ("1.0.10.in-addr.arpa", d.PTR), ("6.0.0.10.in-addr.arpa", d.PTR), ("arpa.lan", d.A),
                   ("1.arpa", d.A)):
        p = d.parse(ask(r, d.query(qn, qt)))
        assert p["rcode"] == dns.RC_NXDOMAIN and p["answers"] == [], (qn, p)
    # Without configured names "arpa" is NODATA too (in-addr.arpa is below it, and the subnet's).
    assert d.parse(ask(names(e), d.query("arpa", 6)))["rcode"] == 0
    # Captive mode never said NXDOMAIN for these: A is the portal, other types NODATA.
    c = captive(hosts=[("nas", "10.0.0.5")])
    for qn in ("arpa", "10.in-addr.arpa", "0.0.10.in-addr.arpa"):
        assert [a["data"] for a in d.parse(ask(c, d.query(qn)))["answers"]] == [PORTAL], qn
        p = d.parse(ask(c, d.query(qn, d.PTR)))
        assert p["rcode"] == 0 and p["answers"] == [], (qn, p)


def _soa_of(r, qn, qt=d.A, **kw):
    # -> (rcode, the authority section as (owner, type, class, TTL, SOA fields)), checked strictly
    q = d.query(qn, qt, **kw)
    p = d.check_reply(q, ask(r, q))
    return p["rcode"], [(a["name"].lower(), a["type"], a["cls"], a["ttl"], a["soa"]) for a in p["authority"]]


SOA_LAN = ["microdhcp.lan", "hostmaster.lan", 1, 3600, 600, 1209600]


def test_negative_answers_carry_the_zones_soa():
    # RFC 2308 3: an authoritative server puts the zone's SOA in the authority section of a
    # negative answer (NXDOMAIN, and NODATA: NOERROR with no answer), for resolvers to cache it
    # (RFC 2308 5: for min(the SOA's TTL, its MINIMUM)). The zone: the domain for names at or
    # below it, in-addr.arpa for reverse names, the root for the rest (bare names live there).
    e = h.engine()
    _leased(e, 1, b"sensor-1")
    r = names(e, ttl=7)
    soa = SOA_LAN + [7]
    for qn, qt, rcode, zone in (("x.lan", d.A, 3, "lan"), ("X.LAN", d.PTR, 3, "lan"), ("sensor-1.lan", d.AAAA, 0, "lan"),
                                ("sensor-1", d.AAAA, 0, ""), ("lan", d.SOA, 0, "lan"), ("microdhcp.lan", d.MX, 0, "lan"),
                                ("a.b.c.lan", d.A, 3, "lan"), ("nothere", d.A, 3, ""), (".", d.A, 0, ""),
                                ("example.com", d.AAAA, 3, ""), ("5.168.192.in-addr.arpa", d.PTR, 3, "in-addr.arpa"),
                                ("99.4.168.192.In-Addr.Arpa", d.PTR, 3, "in-addr.arpa"),
                                ("4.168.192.in-addr.arpa", d.PTR, 0, "in-addr.arpa"), ("in-addr.arpa", 2, 0, "in-addr.arpa"),
                                ("arpa", d.A, 0, ""), ("x.invalid", d.A, 3, ""), ("app.localhost", d.AAAA, 0, ""),
                                ("in-addr.arpa.lan", d.A, 3, "lan")):
        assert _soa_of(r, qn, qt) == (rcode, [(zone, d.SOA, d.IN, 7, soa)]), (qn, qt)
    # With EDNS: the SOA in the authority section, our OPT after it in the additional one
    q = d.query("x.lan", edns=True)
    p = d.check_reply(q, ask(r, q))
    assert [a["type"] for a in p["authority"]] == [d.SOA] and [a["type"] for a in p["additional"]] == [d.OPT], p
    # Answers and errors carry none (check_reply: no SOA where the answer is not negative)
    for q in (d.query("sensor-1.lan"), d.query("1.4.168.192.in-addr.arpa", d.PTR), d.query("x", opcode=2),
              d.query("x", qclass=d.CH), d.query("x", edns=True, edns_version=1), d.query("x")[:-2]):
        p = d.check_reply(q, ask(r, q))
        assert p["authority"] == [], (q, p)
    # Captive mode: negative answers too (NODATA for other types than A, NXDOMAIN for invalid names)
    c = captive(domain="lan")
    assert _soa_of(c, "example.com", d.AAAA) == (0, [("", d.SOA, d.IN, 5, SOA_LAN + [5])])
    assert _soa_of(c, "portal.lan", d.AAAA) == (0, [("lan", d.SOA, d.IN, 5, SOA_LAN + [5])])
    assert _soa_of(c, "1.2.3.4.in-addr.arpa", d.PTR) == (0, [("in-addr.arpa", d.SOA, d.IN, 5, SOA_LAN + [5])])
    assert _soa_of(c, "x.invalid") == (3, [("", d.SOA, d.IN, 5, SOA_LAN + [5])])
    # No domain: the server's bare name and hostmaster. at the root; no own name: the root as MNAME
    assert _soa_of(names(e, domain=None), "x") == \
        (3, [("", d.SOA, d.IN, 5, ["microdhcp", "hostmaster", 1, 3600, 600, 1209600, 5])])
    assert _soa_of(captive(own_name=None), "x", d.AAAA)[1][0][4][:2] == ["", "hostmaster"]


def test_nxdomain_soa_bytes():
    # One negative answer byte for byte: the SOA's owner is a pointer to the domain inside the
    # question (RFC 1035 4.1.4), its names are written out.
    e = h.engine()
    rep = ask(names(e), d.query("x.lan", qid=0xBEEF))
    want = bytes((
        0xBE, 0xEF,              # ID
        0x85, 0x03,              # QR=1 AA=1 RD=1; RA=0 RCODE=3 (NXDOMAIN)
        0x00, 0x01, 0x00, 0x00,  # QDCOUNT 1, ANCOUNT 0
        0x00, 0x01, 0x00, 0x00,  # NSCOUNT 1, ARCOUNT 0
        0x01)) + b"x" + bytes((0x03,)) + b"lan" + bytes((0x00,
        0x00, 0x01, 0x00, 0x01,  # the question: x.lan A IN
        0xC0, 0x0E,              # the SOA's owner: a pointer to "lan" in the question (offset 14)
        0x00, 0x06, 0x00, 0x01,  # SOA IN
        0x00, 0x00, 0x00, 0x05,  # TTL 5 s (the responder's ttl)
        0x00, 0x33,              # RDLENGTH 51
        0x09)) + b"microdhcp" + bytes((0x03,)) + b"lan" + bytes((0x00,   # MNAME microdhcp.lan
        0x0A)) + b"hostmaster" + bytes((0x03,)) + b"lan" + bytes((0x00,  # RNAME hostmaster.lan
        0x00, 0x00, 0x00, 0x01,  # SERIAL 1
        0x00, 0x00, 0x0E, 0x10,  # REFRESH 3600
        0x00, 0x00, 0x02, 0x58,  # RETRY 600
        0x00, 0x12, 0x75, 0x00,  # EXPIRE 1209600 (two weeks)
        0x00, 0x00, 0x00, 0x05))  # MINIMUM 5: the negative-cache TTL (RFC 2308 4, 5)
    assert rep == want, rep


def test_soa_left_out_when_it_would_not_fit():
    # A reply stays within 512 bytes (RFC 1035 4.2.1; our OPT advertises 512 too). With the
    # default names an SOA always fits (a question of 255 bytes: 12 + 259 + SOA 63 + OPT 11 = 345).
    # A domain of 99 bytes makes the SOA 253 bytes: after a long question it is left out, the
    # answer as without it (no TC: nothing is cut from what was asked; we serve no TCP).
    e = h.engine()
    long_dom = ".".join(["d" * 32] * 3)
    r = names(e, domain=long_dom)
    labels = ".".join(["q" * 60] * 4)              # "x." and these: 247 bytes in wire form
    for qn, edns in (("x." + labels, False), ("x." + labels, True), ("nothere", True)):
        q = d.query(qn, edns=edns)
        rep = ask(r, q)
        assert len(rep) <= 512
        p = d.parse(rep)
        assert p["rcode"] == dns.RC_NXDOMAIN and len(p["additional"]) == edns, p
        assert len(p["authority"]) == (qn == "nothere"), (qn, p)
    # A server's name over 255 bytes (RFC 1035 2.3.4) cannot be an MNAME: no SOA at all.
    r = names(e, domain=".".join(["d" * 62] * 4)[:250], own_name="m" * 20)
    p = d.parse(ask(r, d.query("x")))
    assert p["rcode"] == dns.RC_NXDOMAIN and p["authority"] == [], p
