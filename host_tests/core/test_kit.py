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


def test_dhcp_and_dns_on_one_loop():
    e = h.engine()
    clock = h.Now()
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


class _Once:
    # A DHCP part whose serve() ends with an error the first time (a bug nobody foresaw) and
    # runs as it should after: serve_all must say so and start it again.
    def __init__(self):
        self.starts = 0
        self.beats = 0

    async def serve(self):
        self.starts += 1
        if self.starts == 1:
            raise ValueError("unforeseen")
        while True:
            self.beats += 1
            await asyncio.sleep(0.05)


def test_a_dhcp_task_that_ends_is_said_and_started_again():
    part = _Once()
    clock = h.Now()
    logged = []

    async def stopper():
        for _ in range(60):                    # bounded: at most ~3 s
            await asyncio.sleep(0.05)
            if part.starts == 2 and part.beats >= 2:
                break
        clock.t = 10

    async def main():
        t = asyncio.create_task(stopper())
        await kit.serve_all(part, None, None, until=5, clock=clock, log=logged.append)
        await t

    asyncio.run(main())
    assert part.starts == 2 and part.beats >= 2, (part.starts, part.beats)
    assert len(logged) == 1 and "DHCP task ended" in logged[0] and "ValueError" in logged[0], logged


def test_the_dhcp_task_reopens_a_socket_that_is_not_there_yet():
    # A socket reported closed, and the reopen first finds none (a Pico W's few UDP pcbs taken:
    # ENOMEM): the task tries again each second and serves once it has one; it never ends.
    e = h.engine()
    ds, dport = _bound(42300)
    dhcp = Server(e, sock=ds)
    logged = []
    dhcp.log = logged.append
    fresh, fport = _bound(42500)
    opens = [0]

    def open_later():
        opens[0] += 1
        if opens[0] < 3:
            raise OSError(12, "ENOMEM")
        dhcp.sock = fresh
        dhcp._own = False
        dhcp._setup_io()
    dhcp.open = open_later
    real_poll = dhcp.poll
    fail = [1]

    def poll_once_closed(timeout_ms=0, batch=8):
        if fail[0]:
            fail[0] = 0
            raise OSError(9, "socket reported closed")   # EBADF
        return real_poll(timeout_ms, batch)
    dhcp.poll = poll_once_closed
    cli = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    async def main():
        t = asyncio.create_task(dhcp.serve())
        for _ in range(80):                    # bounded: at most ~4 s
            await asyncio.sleep(0.05)
            if opens[0] >= 3:
                break
        cli.sendto(k.msg(k.DISCOVER, 1, ()), _addr(fport))
        for _ in range(40):
            await asyncio.sleep(0.05)
            if status.counter(e, "offer"):
                break
        done = t.done()
        t.cancel()
        return done

    try:
        ended = asyncio.run(main())
    finally:
        cli.close()
        fresh.close()
    assert not ended and opens[0] == 3 and status.counter(e, "offer") == 1, (opens, logged)
    assert sum(1 for m in logged if "reopening the socket failed" in m) == 2, logged
    # in words (errors.describe), not MicroPython's "OSError(9,)"
    assert "microdhcp: socket error (EBADF: socket reported closed); reopening" in logged, logged
    assert [m for m in logged if m.startswith("microdhcp: reopening the socket failed (ENOMEM")], logged
    assert not [m for m in logged if "Error(" in m], logged


class _NoRoomFrom:
    # The DNS socket whose recvfrom finds no memory once (the datagram's buffer, before the read).
    def __init__(self, real):
        self.real = real
        self.fails = 1

    def recvfrom(self, n):
        if self.fails:
            self.fails = 0
            raise MemoryError("memory allocation failed, allocating 513 bytes")
        return self.real.recvfrom(n)

    def sendto(self, data, addr):
        return self.real.sendto(data, addr)

    def close(self):
        self.real.close()


def test_dns_goes_on_after_a_read_that_found_no_memory():
    ns, nport = _bound(43300)
    dnss = DnsServer(dns.Responder(dns.CAPTIVE, k.ip("192.168.4.1")), sock=ns)
    dnss.sock = _NoRoomFrom(ns)      # the poller still watches the real socket
    dnss._into = False
    cli = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        cli.sendto(d.query("example.com", qid=0x0303), _addr(nport))
        got = 0
        for _ in range(100):                   # bounded: the datagram is on loopback at once
            got += dnss.poll()
            if dnss.sent:
                break
        assert dnss.recv_nomem == 1 and dnss.sent == 1 and dnss.internal_errors == 0
        cli.settimeout(2)
        assert d.parse(cli.recv(600))["id"] == 0x0303
    finally:
        cli.close()
        dnss.close()


def test_a_board_kit_whose_dns_or_web_part_finds_no_heap_still_serves_dhcp():
    # kit.run_board: "a part that cannot start is said on the console and left out; DHCP is served
    # whatever happens to the others". The web part takes ~64 KB of heap loaded from source
    # (docs/portal.md), more than an ESP32 without PSRAM may have free: a MemoryError from it (or
    # from the DNS shell's buffers) ended the board's start-up with DHCP already bound, unserved.

    def no_heap(*args, **kwargs):
        raise MemoryError("memory allocation failed, allocating 4096 bytes")

    class FakeWeb:          # stands for microdhcp.web: its import (microdot) or its Portal
        Portal = no_heap

    board = _FakeBoard()
    text = _run_board(board, no_heap, FakeWeb)
    assert board.serves == 1 and board.closed == 1, (board.serves, text)
    assert "no DNS (memory allocation failed" in text and "no HTTP (MemoryError" in text, text
    assert "kit serving 192.168.4.0/24: dns off, http off" in text, text
    assert "frozen if the heap is short" in text, text


def test_a_board_kit_whose_dns_port_is_taken_says_it_in_words():
    # kit.run_board: UDP 53 already held is said through errors.describe ("EADDRINUSE: ..."), as
    # the board's other start-up messages are; it read "OSError(112,)" on an ESP32.
    import errno

    def taken(*args, **kwargs):
        raise OSError(errno.EADDRINUSE)

    text = _run_board(_FakeBoard(), taken, None)     # web None: no microdot, an ImportError, said too
    assert "microdhcp: no DNS (EADDRINUSE" in text and "OSError" not in text, text


def _run_board(fake, dns_server, web):
    # kit.run_board(fake) with DnsServer replaced by dns_server and microdhcp.web by web (None: an
    # ImportError); returns what it logged, one line each.
    import microdhcp.dnsserver as dnsserver
    import microdhcp.board as board
    lines = []
    real_log, real_dns, real_web = board.log, dnsserver.DnsServer, sys.modules.get("microdhcp.web")
    board.log = lines.append
    dnsserver.DnsServer = dns_server
    sys.modules["microdhcp.web"] = web
    try:
        kit.run_board(fake)
    finally:
        board.log = real_log
        dnsserver.DnsServer = real_dns
        if real_web is None:
            del sys.modules["microdhcp.web"]
        else:
            sys.modules["microdhcp.web"] = real_web
    return "\n".join(lines)


class _FakeBoard:
    # What kit.run_board uses of a board.Board: the user's config (a 5-second run), the engine,
    # a DHCP server whose serve() moves the clock past the run's end, the store and close(),
    # counted in serves and closed.
    class c:
        RUN_SECONDS = 5

    device = None

    def __init__(self):
        from microdhcp.config import Config
        self.cfg = Config("192.168.4.1/24", pool=("192.168.4.10", "192.168.4.19"))
        self.engine = h.engine()
        self.clock = h.Now()
        self.serves = self.closed = 0
        self.server = self

    async def serve(self):
        self.serves += 1
        self.clock.t = 10           # the run ends at the supervisor's next look

    def open_store(self):
        pass

    def close(self):
        self.closed += 1
