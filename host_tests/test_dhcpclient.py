# tools/dhcpclient.py without sockets (CPython): frames built and parsed, and the probe report
# (servers, warnings, exit status) from replies the Engine writes, some altered.
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, os.path.join(ROOT, "firmware"))

import dhcpclient as dc  # noqa: E402
import dhcpkit as k  # noqa: E402
from microdhcp.config import Config  # noqa: E402
from microdhcp.engine import Engine  # noqa: E402
from microdhcp.client import Reply  # noqa: E402
from microdhcp import client as cl  # noqa: E402

MAC = k.mac(0x77)
SRV_MAC = bytes.fromhex("026d64000001")


def test_udp_frame_checksums_and_parse_round_trip():
    payload = bytes(range(256)) + bytes(50)
    f = dc.udp_frame(payload, MAC, b"\xff" * 6, bytes(4), b"\xff" * 4, ip_id=7)
    assert f[12:14] == b"\x08\x00" and f[14] == 0x45 and f[23] == 17
    assert dc.checksum(f[14:34]) == 0                       # IPv4 header checksum (RFC 791)
    ulen = struct.unpack_from("!H", f, 38)[0]
    pseudo = f[26:34] + struct.pack("!BBH", 0, 17, ulen)
    assert ulen == 8 + len(payload) and dc.checksum(pseudo + f[34:34 + ulen]) == 0   # RFC 768
    # A reply: the same frame with the ports swapped parses back to the payload.
    r = dc.udp_frame(payload, SRV_MAC, MAC, k.ip("192.168.4.1"), k.ip("192.168.4.9"), sport=67, dport=68)
    kind, got, smac, sip, dmac = dc.parse_frame(r)
    assert (kind, got, smac, sip, dmac) == ("dhcp", payload, SRV_MAC, k.ip("192.168.4.1"), MAC)
    assert dc.parse_frame(f) == ("other",)                  # 68 -> 67 is not for a client
    bad = bytearray(r)
    bad[22] ^= 1                                            # TTL changed: header checksum fails
    assert dc.parse_frame(bytes(bad)) == ("other",)
    assert dc.parse_frame(r[:40]) == ("other",)
    cut = bytearray(r[:100])                                # UDP length beyond the frame
    assert dc.parse_frame(bytes(cut)) == ("other",)


def test_arp_frame_parse():
    f = dc.arp_frame(1, MAC, bytes(4), b"\xff" * 6, bytes(6), k.ip("192.168.4.5"))
    assert len(f) == 60
    assert dc.parse_frame(f) == ("arp", 1, MAC, bytes(4), k.ip("192.168.4.5"))


def _engine(address, pool, dns):
    return Engine(Config(address, pool=pool, routers=["192.168.4.1"], dns=[dns], lease_time=600))


def _offer(e, client_id=True, xid=b"\x01\x02\x03\x04"):
    opts = ((61, b"\x01" + MAC),) if client_id else ()
    tx = bytearray(1500)
    n = e.handle(k.msg(k.DISCOVER, options=opts, chaddr=MAC, xid=xid), 0, tx)
    assert n
    return bytes(tx[:n])


def _entries(replies, client_id=b"\x01" + MAC):
    """Runs replies through a Client in SELECTING (as probe does) and describes the accepted ones."""
    c = cl.Client(MAC, client_id=client_id, rand=lambda: 0)
    c.start(0)
    c.poll(0, bytearray(1500))
    rx = Reply(dc.ALL_CODES)
    out = []
    for data, smac, sip in replies:
        # The probe's xid is the client's: rewrite the engine's reply to it.
        b = bytearray(data)
        b[4:8] = c.xid
        if c.handle(bytes(b), 0) == cl.EV_OFFER:
            out.append(dc.describe_reply(rx, bytes(b), smac, sip, MAC))
    return out


def test_probe_report_one_server():
    a = _engine("192.168.4.1/24", ("192.168.4.10", "192.168.4.19"), "192.168.4.1")
    entries = _entries([(_offer(a), SRV_MAC, k.ip("192.168.4.1"))])
    servers, warn, code = dc.analyse(entries, b"\x01" + MAC)
    assert code == 0 and warn == [], warn
    (s,) = servers
    assert s["server_id"] == "192.168.4.1" and s["source_mac"] == "02:6d:64:00:00:01"
    assert s["options"]["6"] == {"name": "dns", "value": ["192.168.4.1"]}
    assert s["options"]["51"]["value"] == 600 and s["offered"].startswith("192.168.4.1")


def test_probe_report_two_servers_rogue_and_differences():
    a = _engine("192.168.4.1/24", ("192.168.4.10", "192.168.4.19"), "192.168.4.1")
    b = _engine("192.168.4.2/24", ("192.168.4.100", "192.168.4.109"), "8.8.8.8")
    entries = _entries([(_offer(a), SRV_MAC, k.ip("192.168.4.1")),
                        (_offer(b), bytes.fromhex("020000000099"), k.ip("192.168.4.2"))])
    servers, warn, code = dc.analyse(entries, b"\x01" + MAC)
    assert code == 3 and len(servers) == 2
    assert warn[0].startswith("2 DHCP servers answered (192.168.4.1, 192.168.4.2): possible rogue")
    assert any(w.startswith("option 6 (dns) differs between servers: 192.168.4.1=['192.168.4.1']; "
                            "192.168.4.2=['8.8.8.8']") for w in warn), warn
    assert not any("option 1 " in w or "option 51 " in w for w in warn), warn   # same mask, same lease


def test_probe_report_short_reply_and_61_not_echoed():
    a = _engine("192.168.4.1/24", ("192.168.4.10", "192.168.4.19"), "192.168.4.1")
    offer = _offer(a, client_id=False)               # the engine echoes 61 only when sent one
    end = 240
    while offer[end] != 255:                         # walk to END (255 also occurs in values)
        end += 1 if offer[end] == 0 else 2 + offer[end + 1]
    end += 1
    short = offer[:end]
    assert end < 300
    entries = _entries([(short, SRV_MAC, k.ip("192.168.4.1"))])
    servers, warn, code = dc.analyse(entries, b"\x01" + MAC)
    assert code == 0
    assert "192.168.4.1: reply of %d bytes, under the BOOTP minimum of 300 (RFC 1542 2.1)" % end in warn
    assert "192.168.4.1: client identifier (61) not echoed (RFC 6842)" in warn
    # Without a client id of our own there is nothing to echo.
    servers, warn, code = dc.analyse(_entries([(short, SRV_MAC, k.ip("192.168.4.1"))], client_id=b""), b"")
    assert not any("not echoed" in w for w in warn)


def test_probe_report_none_and_nak_without_server_id():
    assert dc.analyse([], b"\x01" + MAC) == ([], [], 2)
    hdr = k.header(op=2, chaddr=MAC)
    nak = bytes(hdr) + k.MAGIC + bytes((53, 1, 6, 56, 2)) + b"no" + b"\xff" + bytes(40)
    rx = Reply(dc.ALL_CODES)
    e = dc.describe_reply(rx, nak, SRV_MAC, k.ip("192.168.4.1"), MAC)
    assert e["type"] == 6 and e["_raw"][56] == b"no"
    assert dc.nak_warnings([e]) == ["NAK without server identifier (54), from 02:6d:64:00:00:01 "
                                    "(RFC 2131 table 3: MUST)"]
    with54 = dc.describe_reply(rx, bytes(hdr) + k.MAGIC + bytes((53, 1, 6, 54, 4, 192, 168, 4, 1, 255)) + bytes(40),
                               SRV_MAC, k.ip("192.168.4.1"), MAC)
    assert dc.nak_warnings([with54]) == []
    # A reply that does not parse is described without options (and is never an offer).
    junk = dc.describe_reply(rx, b"\x02" + bytes(100), SRV_MAC, k.ip("192.168.4.1"), MAC)
    assert "type" not in junk and junk["length"] == 101


def test_decode_option_formats():
    assert dc.decode_option(3, k.ip("10.0.0.1") + k.ip("10.0.0.2")) == ("router", ["10.0.0.1", "10.0.0.2"])
    assert dc.decode_option(1, k.ip("255.255.255.0")) == ("subnet_mask", "255.255.255.0")
    assert dc.decode_option(51, b"\x00\x00\x0e\x10") == ("lease_time", 3600)
    assert dc.decode_option(15, b"lab.test") == ("domain", "lab.test")
    assert dc.decode_option(250, b"\x01\x02") == ("option_250", "0102")
    assert dc.decode_option(3, b"\x01\x02\x03") == ("router", "010203")   # not a list of addresses


def test_probe_extra_options_inserted_before_end():
    c = cl.Client(MAC, rand=lambda: 0)
    c.start(0)
    tx = bytearray(1500)
    n = c.poll(0, tx)
    n2 = dc._add_options(tx, n, [(60, b"probe"), (77, b"\x01")])
    m = k.parse(tx, n2)
    assert m["options"][60] == b"probe" and m["options"][77] == b"\x01"
    assert m["order"][:2] == [53, 61] and m["order"][-2:] == [60, 77]
    assert m["options"][55] == cl.DEFAULT_PRL and n2 >= 300 and len(tx) == 1500


def test_client_counts_from_the_command_line_are_checked_by_argparse(capsys):
    # --offer-window and --tries reach Client(), which refuses a negative value (ValueError): the
    # command says so as a usage error (exit 2, the flag named) before any socket is opened,
    # not as a traceback after.
    import pytest
    p = dc.build_parser()
    for argv, flag in ((["client", "--iface", "lo", "--offer-window", "-1"], "--offer-window"),
                       (["swarm", "--iface", "lo", "-n", "2", "--tries", "-1"], "--tries"),
                       (["swarm", "--iface", "lo", "-n", "2", "--tries", "x"], "--tries"),
                       # the same range for the other counts and times (a negative --wait or
                       # --timeout was taken as given, a negative -n made no client and no error)
                       (["probe", "--iface", "lo", "--wait", "-1"], "--wait"),
                       (["client", "--iface", "lo", "--timeout", "-5"], "--timeout"),
                       (["swarm", "--iface", "lo", "-n", "-2"], "-n"),
                       (["swarm", "--iface", "lo", "-n", "2", "--timeout", "-1"], "--timeout")):
        with pytest.raises(SystemExit) as e:
            p.parse_args(argv)
        err = capsys.readouterr().err
        assert e.value.code == 2 and "argument %s: must be a whole number from 0 to 65535" % flag in err, err
    assert p.parse_args(["swarm", "--iface", "lo", "-n", "2", "--tries", "0"]).tries == 0
