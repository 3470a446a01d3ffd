# dnskit: DNS queries and a strict reply parser for the core tests (both runtimes). Test-side,
# written apart from microdhcp.dns so that the responder is checked against RFC 1035 and not
# against itself. Allocates freely.
A = 1
SOA = 6
PTR = 12
AAAA = 28
MX = 15
TXT = 16
OPT = 41
ANY = 255
IN = 1
CH = 3


def name(text):
    """"a.b" -> b"\\x01a\\x01b\\x00" (RFC 1035 3.1 wire form)."""
    out = b""
    for part in text.strip(".").split("."):
        if part:
            out += bytes((len(part),)) + part.encode()
    return out + b"\x00"


def query(qname, qtype=A, qclass=IN, qid=0x1234, rd=True, edns=False, edns_version=0, opcode=0, edns_do=False):
    """One standard query; with edns an OPT record (RFC 6891) asking for 1232-byte replies, its
    DO bit (RFC 3225) set with edns_do."""
    flags1 = (opcode << 3) | (1 if rd else 0)
    ar = 1 if edns else 0
    msg = bytes((qid >> 8, qid & 255, flags1, 0, 0, 1, 0, 0, 0, 0, 0, ar))
    msg += name(qname) + bytes((qtype >> 8, qtype & 255, qclass >> 8, qclass & 255))
    if edns:
        msg += bytes((0, 0, OPT, 0x04, 0xD0, 0, edns_version, 0x80 if edns_do else 0, 0, 0, 0))
    return msg


def _name_at(m, pos, hops=0):
    # -> (text, position after the name); follows pointers, raises on anything malformed.
    labels = []
    end = None
    while True:
        c = m[pos]
        if c & 0xC0 == 0xC0:
            assert hops < 16, "pointer loop in a reply"
            target = ((c & 0x3F) << 8) | m[pos + 1]
            assert target < pos, "forward pointer in a reply"
            if end is None:
                end = pos + 2
            pos = target
            hops += 1
            continue
        assert c & 0xC0 == 0, "reserved label type in a reply"
        if c == 0:
            if end is None:
                end = pos + 1
            return ".".join(labels), end
        labels.append("".join([chr(x) for x in m[pos + 1:pos + 1 + c]]))   # any octets (RFC 2181 11)
        pos += 1 + c


def _soa(m, pos, ln):
    # SOA RDATA (RFC 1035 3.3.13): MNAME, RNAME (names, maybe compressed), then SERIAL, REFRESH,
    # RETRY, EXPIRE, MINIMUM (32 bits each), filling RDLENGTH exactly.
    end = pos + ln
    mname, pos = _name_at(m, pos)
    rname, pos = _name_at(m, pos)
    assert pos + 20 == end, "SOA RDATA is not two names and 20 bytes"
    nums = [(m[i] << 24) | (m[i + 1] << 16) | (m[i + 2] << 8) | m[i + 3] for i in range(pos, end, 4)]
    return [mname, rname] + nums


def parse(m):
    """A reply -> dict(id, qr, opcode, aa, tc, rd, ra, rcode, question, answers, authority,
    additional), each record a dict(name, type, cls, ttl, data), an SOA's with "soa": [mname,
    rname, serial, refresh, retry, expire, minimum]. Asserts that every count matches and no byte
    is left over."""
    m = bytes(m)
    assert len(m) >= 12, "short reply"
    assert len(m) <= 512, "reply over 512 bytes"
    r = dict(id=m[0] << 8 | m[1], qr=m[2] >> 7, opcode=(m[2] >> 3) & 15, aa=(m[2] >> 2) & 1,
             tc=(m[2] >> 1) & 1, rd=m[2] & 1, ra=m[3] >> 7, z=(m[3] >> 4) & 7, rcode=m[3] & 15)
    qd, an, ns, ar = [(m[i] << 8) | m[i + 1] for i in (4, 6, 8, 10)]
    pos = 12
    r["question"] = []
    for _ in range(qd):
        n, pos = _name_at(m, pos)
        r["question"].append((n, m[pos] << 8 | m[pos + 1], m[pos + 2] << 8 | m[pos + 3]))
        pos += 4
    for sec, count in (("answers", an), ("authority", ns), ("additional", ar)):
        rrs = []
        for _ in range(count):
            n, pos = _name_at(m, pos)
            t = m[pos] << 8 | m[pos + 1]
            c = m[pos + 2] << 8 | m[pos + 3]
            ttl = (m[pos + 4] << 24) | (m[pos + 5] << 16) | (m[pos + 6] << 8) | m[pos + 7]
            ln = m[pos + 8] << 8 | m[pos + 9]
            data = m[pos + 10:pos + 10 + ln]
            assert len(data) == ln, "record data cut off"
            rr = dict(name=n, type=t, cls=c, ttl=ttl, data=data)
            if t == SOA:
                rr["soa"] = _soa(m, pos + 10, ln)
            rrs.append(rr)
            pos += 10 + ln
        r[sec] = rrs
    assert pos == len(m), "%d bytes after the last record" % (len(m) - pos)
    return r


def check_reply(q, rep):
    """What every reply to query bytes q must satisfy, whatever q was (both fuzzers use it):
    it parses strictly, echoes ID and RD, has QR=1, RA=0, AA=1 on NOERROR and NXDOMAIN only (not
    on FORMERR, NOTIMP, REFUSED: no authority for what we did not answer, RFC 1035 4.1.1), at
    most one question and, for a reply with a question, the question of the query; a negative
    answer (NXDOMAIN, or NOERROR without an answer: NODATA; not BADVERS) carries one SOA in the
    authority section (RFC 2308 3), and no other reply has one."""
    if not rep:
        return None
    p = parse(rep)
    assert p["id"] == (q[0] << 8 | q[1]), "ID not echoed"
    assert p["qr"] == 1 and p["ra"] == 0 and p["tc"] == 0 and p["z"] == 0
    assert p["aa"] == (p["rcode"] in (0, 3)), "AA on an error reply, or not on an answer"
    assert p["rd"] == q[2] & 1, "RD not echoed"
    assert len(p["question"]) <= 1
    assert len(p["answers"]) <= 1 and len(p["additional"]) <= 1
    badvers = [a for a in p["additional"] if a["type"] == OPT and a["ttl"] >> 24]
    negative = p["aa"] and not p["answers"] and not badvers and p["rcode"] in (0, 3) and p["question"]
    assert len(p["authority"]) == (1 if negative else 0), "an SOA missing from a negative answer, or one elsewhere"
    for a in p["authority"]:
        assert a["type"] == SOA and a["cls"] == IN and a["ttl"] == a["soa"][6], a
        qn = p["question"][0][0].lower()
        assert a["name"] == "" or qn == a["name"].lower() or qn.endswith("." + a["name"].lower()), \
            "the SOA's zone is not the question's name or above it"
    for a in p["answers"]:
        assert a["cls"] == IN and p["rcode"] == 0
        if a["type"] == PTR:
            # a reverse question's answer: one name, uncompressed labels of 1-63 bytes, the root
            # last, 255 bytes at most (RFC 1035 3.1, 3.3.12)
            assert p["question"] and p["question"][0][1] == PTR, "PTR answer to a non-PTR question"
            data = a["data"]
            i = 0
            while data[i]:
                assert data[i] <= 63, "label over 63 bytes in PTR data"
                i += 1 + data[i]
                assert i < len(data), "PTR name runs past its data"
            assert i == len(data) - 1 and len(data) <= 255, "PTR data is not one name"
        else:
            assert a["type"] == A and len(a["data"]) == 4
    return p
