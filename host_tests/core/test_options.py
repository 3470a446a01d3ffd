# Configured options: RFC 2132 (1, 3, 6, 15, 26, 28, 42, 51, 58, 59), RFC 3397 (119),
# RFC 3442 (121), RFC 8910 (114), RFC 8925 (108), raw options, RFC 3396 (long options split).
import dhcpkit as k
import harness as h

ALL = bytes((1, 3, 6, 15, 26, 28, 42, 108, 114, 119, 121, 224))


def offer(e, prl=ALL, client=1):
    return h.discover(e, client, options=((55, prl), (57, b"\x05\xdc")))


def test_rfc2132_s3_basic_options():
    """RFC 2132 3.3 mask, 3.5 routers, 3.8 DNS, 3.17 domain (15), 5.3 broadcast (28), 5.1 MTU
    (26), 8.3 NTP (42): exact values."""
    e = h.engine(routers=["192.168.4.1", "192.168.4.2"], dns="192.168.4.1, 9.9.9.9", domain="iot.lan",
                 mtu=1400, ntp=["192.168.4.1"])
    o = offer(e)["options"]
    assert o[1] == bytes((0xff, 0xff, 0xff, 0x00))                       # 1 mask /24
    assert o[3] == bytes((192, 168, 4, 1, 192, 168, 4, 2))                # 3 routers
    assert o[6] == bytes((192, 168, 4, 1, 9, 9, 9, 9))                    # 6 DNS
    assert o[15] == b"iot.lan"                                            # 15 domain
    assert o[28] == bytes((192, 168, 4, 255))                             # 28 broadcast (default)
    assert o[26] == bytes((0x05, 0x78))                                   # 26 MTU 1400
    assert o[42] == bytes((192, 168, 4, 1))                               # 42 NTP
    e = h.engine(broadcast="192.168.4.127", address="192.168.4.1/25", pool="192.168.4.10-192.168.4.20")
    o = offer(e)["options"]
    assert o[28] == bytes((192, 168, 4, 127)) and o[1] == bytes((255, 255, 255, 128))


def test_rfc2132_s9_2_lease_time_and_t1_t2_defaults():
    """RFC 2132 9.2, 9.11, 9.12 and RFC 2131 4.4.5: T1 defaults to 0.5, T2 to 0.875 of the lease."""
    e = h.engine(lease_time=7200)
    o = h.dora(e, 1)["options"]
    assert (k.be32(o[51]), k.be32(o[58]), k.be32(o[59])) == (7200, 3600, 6300)
    e = h.engine(lease_time=1000)
    o = h.discover(e, 1)["options"]
    assert (k.be32(o[51]), k.be32(o[58]), k.be32(o[59])) == (1000, 500, 875)


def test_rfc2132_s9_11_configured_t1_t2():
    """RFC 2132 9.11/9.12: configured T1/T2 are sent as configured for a full lease."""
    e = h.engine(lease_time=3600, renew_time=1000, rebind_time=2000)
    o = h.dora(e, 1)["options"]
    assert (k.be32(o[51]), k.be32(o[58]), k.be32(o[59])) == (3600, 1000, 2000)
    # A shorter granted lease scales them and keeps 0 < T1 < T2 < lease.
    o = h.dora(e, 2, 0, options=((51, k.u32(360)),))["options"]
    t1, t2 = k.be32(o[58]), k.be32(o[59])
    assert k.be32(o[51]) == 360 and 0 < t1 < t2 < 360 and 98 <= t1 <= 100 and 198 <= t2 <= 200


def test_rfc3397_domain_search_encoding():
    """RFC 3397 section 2: option 119 is a list of RFC 1035 names (length-prefixed labels, root)."""
    e = h.engine(domain_search=["example.com", "lab.local."])
    o = offer(e)["options"]
    assert o[119] == bytes((
        0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65,  # 7 "example"
        0x03, 0x63, 0x6f, 0x6d,                          # 3 "com"
        0x00,                                            # root
        0x03, 0x6c, 0x61, 0x62,                          # 3 "lab"
        0x05, 0x6c, 0x6f, 0x63, 0x61, 0x6c,              # 5 "local"
        0x00,                                            # root
    ))


def test_rfc3442_classless_routes_encoding():
    """RFC 3442 section 2: width, significant destination octets, router; the default route is
    added from option 3 because a client that gets 121 ignores 3."""
    e = h.engine(routes=[("10.0.0.0/8", "192.168.4.2"), ("172.16.5.128/25", "192.168.4.3"),
                         ("192.168.10.0/24", "192.168.4.2")])
    o = offer(e)["options"]
    assert o[121] == bytes((
        0x08, 10, 192, 168, 4, 2,                     # 10.0.0.0/8 via .2
        0x19, 172, 16, 5, 128, 192, 168, 4, 3,        # 172.16.5.128/25 via .3 (4 octets for /25)
        0x18, 192, 168, 10, 192, 168, 4, 2,           # 192.168.10.0/24 via .2
        0x00, 192, 168, 4, 1,                         # 0.0.0.0/0 via the router (option 3)
    ))
    e = h.engine(routes=[("0.0.0.0/0", "192.168.4.9")])
    assert offer(e)["options"][121] == bytes((0x00, 192, 168, 4, 9))   # given default kept, not doubled


def test_rfc8910_captive_portal():
    """RFC 8910 section 2.1: option 114 is the URI of the captive-portal API."""
    e = h.engine(captive_portal="https://192.168.4.1/portal")
    assert offer(e)["options"][114] == b"https://192.168.4.1/portal"


def test_rfc8925_ipv6_only_only_when_requested():
    """RFC 8925 section 3.3: option 108 (V6ONLY_WAIT, 4 bytes) only to clients that request it."""
    e = h.engine(ipv6_only_wait=1800)
    assert offer(e)["options"][108] == bytes((0x00, 0x00, 0x07, 0x08))   # 1800 s
    r = offer(e, bytes((1, 3, 6)), 2)
    assert 108 not in r["options"]
    r = h.discover(e, 3)                      # no PRL at all
    assert 108 not in r["options"]


def test_rfc2132_raw_options():
    """RFC 2132 section 2: raw options by code, from hex text or bytes; sent when requested."""
    e = h.engine(raw_options={224: "01:02:0a", 43: b"\x01\x01\x07"})
    r = offer(e, bytes((224, 43, 1)))
    assert r["options"][224] == b"\x01\x02\x0a" and r["options"][43] == b"\x01\x01\x07"
    assert offer(e, bytes((1,)), 2)["options"].get(224) is None


def test_rfc3396_long_option_split_into_instances():
    """RFC 3396 section 7: a server sends an option longer than 255 bytes as consecutive
    instances that the client concatenates."""
    value = bytes([i & 255 for i in range(600)])
    e = h.engine(raw_options={224: value})
    n = e.handle(k.msg(k.DISCOVER, 1, ((55, b"\xe0"), (57, b"\x05\xdc"))), 0, e.tx)
    r = k.parse(e.tx, n)
    assert r["options"][224] == value
    assert k.instances(e.tx, n, 224) == 3           # 255 + 255 + 90
    i = r["order"].index(224)
    assert r["order"][i:i + 3] == [224, 224, 224]
