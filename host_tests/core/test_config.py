# Configuration errors (issue 2 item 8): ValueError naming what is wrong and how to fix it.
import dhcpkit as k
from microdhcp.config import Config


def err(**kw):
    kw.setdefault("address", "192.168.4.1/24")
    return str(k.raises(ValueError, Config, **kw))


def has(msg, *words):
    for w in words:
        assert w in msg, "%r lacks %r" % (msg, w)


def test_config_pool_outside_subnet():
    has(err(pool=("192.168.5.10", "192.168.5.20")), "192.168.5.10", "outside the subnet 192.168.4.0/24", "inside")


def test_config_server_address_in_pool():
    has(err(pool="192.168.4.1-192.168.4.50"), "contains the server address 192.168.4.1", "move the pool")
    has(err(address="192.168.4.100/24"), "192.168.4.100", "pool=")


def test_config_network_or_broadcast_address_in_pool():
    has(err(pool=("192.168.4.0", "192.168.4.20")), "192.168.4.0", "network or broadcast",
        "use a host address from 192.168.4.1 to 192.168.4.254")
    has(err(pool=("192.168.4.10", "192.168.4.255")), "192.168.4.255", "network or broadcast", "use")
    has(err(address="192.168.4.0/24"), "network or broadcast", "pick a host address")


def test_config_reservation_outside_subnet():
    has(err(reservations=[("02:00:00:00:00:01", "10.0.0.5")]), "reservation address 10.0.0.5", "outside", "inside")
    has(err(reservations=[("02:00:00:00:00:01", "192.168.4.1")]), "server's own address", "pick another")


def test_config_pool_larger_than_capacity():
    has(err(pool=("192.168.4.10", "192.168.4.50"), capacity=20), "41 addresses", "capacity is 20",
        "set capacity to 41, change the pool")
    has(err(pool=("192.168.4.10", "192.168.4.50"), capacity=41,
            reservations=[("02:00:00:00:00:01", "192.168.4.200")]), "1 reservations lie outside", "set capacity to 42")


def test_config_duplicate_reservation():
    has(err(reservations=[("02:00:00:00:00:01", "192.168.4.20"), ("02:00:00:00:00:02", "192.168.4.20")]),
        "reserved twice", "give each client its own")
    has(err(reservations=[("02:00:00:00:00:01", "192.168.4.20"), ("02-00-00-00-00-01", "192.168.4.21")]),
        "two reservations", "keep one")


def test_config_bad_t1_t2():
    """RFC 2131 4.4.5: 0 < T1 < T2 < lease."""
    has(err(renew_time=3000, rebind_time=2000), "0 < T1 < T2 < lease_time 3600")
    has(err(renew_time=3600), "0 < T1 < T2")
    has(err(lease_time=100, min_lease=200), "min_lease", "lower min_lease")
    has(err(lease_time=0), "lease_time", "whole number")


def test_config_bad_captive_portal():
    """RFC 8910: the captive-portal option holds an http(s) URI."""
    has(err(captive_portal="ftp://portal"), "captive_portal", "http(s) URI")
    has(err(captive_portal="https://" + "a" * 300), "at most 255 bytes")


def test_config_other_errors():
    has(err(address="192.168.4.1/31"), "/8 to /30")
    # Not a number at all, or a negative one: the same range, not "is not a number" for -5.
    for p in ("-5", "x", ""):
        m = err(address="192.168.4.1/" + p)
        has(m, repr(p), "/8 to /30", "192.168.4.1/24")
        assert "not a number" not in m, m
    has(err(address="192.168.4.300/24"), "0-255")
    has(err(reservations=[("02:00:00:00:01", "192.168.4.20")]), "not a MAC address", "02:00:00:00:00:01")
    has(err(routers=["10.0.0.1"]), "router 10.0.0.1", "not in 192.168.4.0/24")
    has(err(raw_options={53: "01"}), "raw option 53")
    has(err(ipv6_only_wait=10), "at least 300")
    has(err(mtu=20), "68-65535")
    has(err(routes=[("10.0.0.0", "192.168.4.2")]), "prefix length")
    has(err(routes=[("10.0.0.0/33", "192.168.4.2")]), "route destination", "0-32")
    has(err(domain_search=["lan", " "]), "domain_search", "empty")
    has(err(domain_search="lan,a..b"), "search domain 'a..b'", "empty label")
    has(err(domain_search=["x" * 64 + ".lan"]), "longer than 63 bytes")
    has(err(pool="192.168.4.50-192.168.4.10"), "swap them")


def test_config_valid_defaults():
    c = Config("192.168.4.1/24")
    assert (c.pool_first, c.pool_last, c.capacity) == (2, 254, 253)
    c = Config("10.0.0.1", netmask="255.255.0.0", pool="10.0.1.0-10.0.1.255")
    assert c.prefix == 16 and c.pool_size == 256


def test_config_capacity_is_never_silently_ignored():
    # One slot per address served: a capacity above that is refused, not dropped.
    has(err(pool=("192.168.4.10", "192.168.4.50"), capacity=300), "capacity is 300", "41 addresses",
        "set capacity to 41", "drop capacity")
    assert Config("192.168.4.1/24", pool=("192.168.4.10", "192.168.4.50"), capacity=41).capacity == 41


def test_config_unknown_setting_is_refused_by_name():
    e = k.raises(TypeError, Config, "192.168.4.1/24", lease_tiem=60)
    has(str(e), "'lease_tiem'")


def test_config_lets_its_checking_code_go():
    # configure (the checks and encoders) is loaded to build a Config and let go after, with ipv4
    # when nothing else had loaded it: a board keeps neither in RAM while it serves. After an
    # error too. A second Config loads it again.
    # (A suite that builds many Configs may keep it loaded: release_checks, conftest.py.)
    import sys
    import microdhcp
    import microdhcp.config as config
    was = config.release_checks
    config.release_checks = True
    try:
        Config("192.168.4.1/24")         # lets go what the suite kept loaded before it
        held = "microdhcp.ipv4" in sys.modules
        for kw in ({}, {"pool": "192.168.5.1-192.168.4.9"}):
            try:
                c = Config("192.168.4.1/24", routers=["192.168.4.1"], **kw)
            except ValueError:
                c = None
            assert "microdhcp.configure" not in sys.modules
            assert not hasattr(microdhcp, "configure")
            assert ("microdhcp.ipv4" in sys.modules) == held
        assert c is None
    finally:
        config.release_checks = was
    c = Config("192.168.4.1/24", routers=["192.168.4.1"])
    assert c.options[3] == b"\xc0\xa8\x04\x01" and c.addr(7) == b"\xc0\xa8\x04\x07" and c.offset(c.addr(7)) == 7


def test_config_reservations_single_pair_says_the_shape():
    # RESERVATIONS = ("02:...", "192.168.4.20") in a board's config.py: one pair, not a list of them.
    for bad in (("02:00:00:00:00:01", "192.168.4.20"), [("02:00:00:00:00:01", "192.168.4.20", "x")], [5],
                {"02:00:00:00:00:01": "192.168.4.20"}, 5, "02:00:00:00:00:01=192.168.4.20"):
        has(err(reservations=bad), "reservations", "pairs", "[(\"02:00:00:00:00:01\", \"192.168.4.20\")]")
    for bad in (("10.0.0.0/8", "192.168.4.2"), 5):
        has(err(routes=bad), "routes", "pairs", "[(\"10.0.0.0/8\", \"192.168.4.2\")]")


def test_config_text_settings_refuse_other_types_by_name():
    # a ValueError naming the setting, not a TypeError or AttributeError from deep inside
    for name, bad in (("domain", 5), ("domain", b"lan"), ("domain_search", 5), ("domain_search", [5]),
                      ("captive_portal", 5), ("captive_portal", 1.5), ("captive_portal", [104])):
        has(err(**{name: bad}), name)
    # the address lists: one address alone is taken, anything else is named
    assert Config("192.168.4.1/24", dns="9.9.9.9").options[6] == k.ip("9.9.9.9")
    for name, what in (("routers", "router"), ("dns", "DNS server"), ("ntp", "NTP server")):
        has(err(**{name: 5}), what, "not an IPv4 address")


def test_config_reply_broadcast_is_a_broadcast():
    """RFC 2131 4.1: broadcast replies go to 0xffffffff; a board may use the subnet's broadcast
    (board.use_subnet_broadcast). A netmask or an address off the subnet is a mistake."""
    for bad in ("255.255.255.0", "10.0.0.255", "192.168.4.0"):
        has(err(reply_broadcast=bad), "reply_broadcast", bad, "255.255.255.255", "subnet's broadcast")
    # a host of the subnet too: a test on loopback sends them to its client (host_tests/example_driver.py)
    for good in ("255.255.255.255", "192.168.4.255", "192.168.4.7"):
        assert Config("192.168.4.1/24", reply_broadcast=good).reply_broadcast == k.ip(good)


def test_config_whole_numbers_refuse_bool():
    # True is an int in Python: refused with the setting's range, not taken as 1.
    for name in ("lease_time", "min_lease", "offer_hold", "decline_hold", "mtu", "hostname_len",
                 "ipv6_only_wait", "renew_time", "rebind_time", "max_offers", "offer_interval", "id_cells"):
        for v in (True, False):
            m = err(**{name: v})
            has(m, name)
            assert "min_lease" not in m or name == "min_lease", m
    # capacity is compared with the table size: True would pass for a pool of one address
    has(err(pool="192.168.4.2-192.168.4.2", capacity=True), "capacity is", "drop capacity")
    assert Config("192.168.4.1/24", pool="192.168.4.2-192.168.4.2", capacity=1).capacity == 1
