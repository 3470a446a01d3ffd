# One asyncio loop (microdhcp.kit.serve_all), both runtimes: the DHCP server and the DNS shell run
# as tasks side by side on loopback sockets; a client task sends a DHCP DISCOVER and DNS queries
# (one good, one malformed) and gets its DNS answers while the engine sees the DHCP message.
import sys
import socket
import dhcpkit as k
from microdhcp import status
import dnskit as d
import harness as h
from microdhcp import dns, kit
from microdhcp.net import Server
from microdhcp.dnsserver import DnsServer

try:
    import asyncio
except ImportError:
    import uasyncio as asyncio

_MP = sys.implementation.name == "micropython"


def _addr(port):
    if _MP:
        return socket.getaddrinfo("127.0.0.1", port)[0][-1]
    return ("127.0.0.1", port)


def _bound(base):
    # A UDP socket on 127.0.0.1 and a free port near base (the unix port has no getsockname).
    for port in range(base, base + 200):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind(_addr(port))
            return s, port
        except OSError:
            s.close()
    raise OSError("no free port")


class _Clock:
    def __init__(self):
        self.t = 0

    def now(self):
        return self.t


def test_dhcp_and_dns_on_one_loop():
    e = h.engine()
    clock = _Clock()
    ds, dport = _bound(42000)
    ns, nport = _bound(43000)
    dhcp = Server(e, clock=clock, sock=ds)
    r = dns.Responder(dns.CAPTIVE, k.ip("192.168.4.1"))
    dnss = DnsServer(r, sock=ns)
    cli = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    cli.setblocking(False)
    got = []

    async def client():
        cli.sendto(k.msg(k.DISCOVER, 1, ()), _addr(dport))
        cli.sendto(d.query("example.com", qid=0x0101), _addr(nport))
        cli.sendto(b"\x01\x02\x01\x00\x00\x02" + bytes(6), _addr(nport))   # QDCOUNT 2, no questions
        for _ in range(200):                   # bounded: at most ~2 s
            try:
                got.append(cli.recv(600))
            except OSError:
                pass
            if len(got) == 2 and status.counter(e, "received"):
                break
            await asyncio.sleep(0.01)
        clock.t = 10                           # ends serve_all at its next check

    async def main():
        t = asyncio.create_task(client())
        await kit.serve_all(dhcp, dnss, None, until=5, clock=clock)
        await t

    try:
        asyncio.run(main())
    finally:
        cli.close()
        dhcp.close()
        dnss.close()
    assert status.counter(e, "received") == 1 and status.counter(e, "offer") == 1
    replies = sorted([d.parse(m) for m in got], key=lambda p: p["id"])
    assert [p["id"] for p in replies] == [0x0101, 0x0102]
    assert replies[0]["answers"][0]["data"] == k.ip("192.168.4.1")
    assert replies[1]["rcode"] == dns.RC_FORMERR
    assert dnss.sent == 2 and dnss.internal_errors == 0
