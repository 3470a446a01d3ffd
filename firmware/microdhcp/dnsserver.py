# MIT license; Copyright (c) 2026 the microdhcp authors
# microdhcp.dnsserver: the socket shell around the DNS responder (microdhcp.dns): one UDP socket
# on port 53 of the server's own address, queries to Responder.handle, replies back to whoever
# asked. CPython, the MicroPython unix port and lwIP boards. Unlike the DHCP shell it must learn
# each sender's address, so every query costs the runtime's recvfrom allocation (the address, and
# on MicroPython the datagram) and a sendto view; the responder itself allocates nothing.
import gc
import sys
import socket
import errno

try:
    import select
except ImportError:  # pragma: no cover - every supported runtime has it
    select = None  # type: ignore[assignment]

from microdhcp.dns import RX_SIZE, UDP_MAX
from microdhcp.ipv4 import fmt_ip

_LWIP = sys.platform in ("esp32", "rp2") or getattr(socket, "_LWIP", False)
_SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25 if sys.platform == "linux" and not _LWIP else None)
_MICROPYTHON = sys.implementation.name == "micropython"
_BATCH = 8      # queries answered per step before yielding to DHCP and HTTP


class DnsServer:
    """poll(batch)  answers the queries waiting, without blocking; returns how many were read
    serve()        coroutine for asyncio, beside the DHCP server and the web server"""

    def __init__(self, responder, port=53, iface=None, log=None, sock=None, bind=True, host=None):
        self.responder = responder
        self.port = port
        self.host = host        # the address to bind: None for the responder's (see open)
        self.iface = iface
        self.log = log
        self.tx = bytearray(UDP_MAX)
        self._txv = memoryview(self.tx)
        self.sent = 0
        self.send_errors = 0
        self.recv_errors = 0
        self.recv_nomem = 0
        self.internal_errors = 0
        responder.on_restart = self._restart
        self.sock = sock
        self.poller = None
        if sock is None and bind:
            self.open()
        elif sock is not None:
            self._setup_io()

    def open(self):
        # Bound to the server's own address (the responder's: the DHCP server's, the AP's on a
        # board), not 0.0.0.0: a query to another address of ours (the station side of an ESP32
        # running AP + STA) is not answered, and a reply leaves from the address its query went
        # to (RFC 2181 4.1). lwIP hands a unicast datagram to a pcb bound to its destination
        # address (src/core/udp.c:173, udp_input_local_match; lwIP 3d896ba) and sends from that
        # address (udp.c:681-686); extmod/modlwip.c:1027-1040 binds the address given (ESP32:
        # ports/esp32/modsocket.c:312-317, lwip_bind). `host` binds elsewhere ("0.0.0.0": every
        # address, as before).
        host = self.host or fmt_ip(self.responder.address)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            if self.iface and _SO_BINDTODEVICE is not None:
                s.setsockopt(socket.SOL_SOCKET, _SO_BINDTODEVICE, self.iface.encode())
            if _MICROPYTHON and not _LWIP:
                addr = socket.getaddrinfo(host, self.port)[0][-1]
            else:
                addr = (host, self.port)
            s.bind(addr)
        except OSError as e:
            s.close()
            if e.args and e.args[0] == errno.EADDRINUSE:
                raise OSError(errno.EADDRINUSE, "UDP port %d is already in use (another DNS server, e.g. "
                              "dnsmasq or systemd-resolved, holds it)" % self.port)
            raise     # EADDRNOTAVAIL (Linux): host is on no interface; the host command says which
        self.sock = s
        self._setup_io()

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _setup_io(self):
        s = self.sock
        s.setblocking(False)
        self._into = hasattr(s, "recvfrom_into")
        self._rxview = memoryview(self.responder.rx)
        if select is not None:
            self.poller = select.poll()
            self.poller.register(s, select.POLLIN)
        self._ipoll = getattr(self.poller, "ipoll", None)

    def _restart(self):
        # Our counters start again from 0 with the responder's (Responder.restart calls this, at
        # 2**29 queries), at the same moment, so that the figures stay consistent (sent <=
        # queries) and none becomes a heap int on a 32-bit board (2**30).
        self.sent = self.send_errors = self.recv_errors = self.recv_nomem = self.internal_errors = 0

    def _ready(self):
        # Ask before reading: a read on an empty socket raises, and an exception allocates.
        if self._ipoll is not None:
            for _ in self._ipoll(0):
                return True
            return False
        if self.poller is not None:
            return bool(self.poller.poll(0))
        return True

    def _step(self):
        # -> True when a datagram was read (answered or not), False when none was waiting.
        if not self._ready():
            return False
        s = self.sock
        r = self.responder
        try:
            if self._into:
                n, addr = s.recvfrom_into(self._rxview)
            else:
                data, addr = s.recvfrom(RX_SIZE)
                n = len(data)
                r.rx[0:n] = data
        except OSError as e:
            if e.args and e.args[0] in (errno.EAGAIN, getattr(errno, "EWOULDBLOCK", errno.EAGAIN)):
                return False
            if e.args and e.args[0] == errno.EBADF:
                raise
            self.recv_errors += 1
            return True
        except MemoryError:
            # recvfrom allocates the datagram's buffer before the read and the sender's address
            # after it (lwIP: extmod/modlwip.c:1324, :1362): on a heap the web server has
            # fragmented either can fail. The query is still queued or lost (the client asks
            # again); collect, count, and end this batch: DNS goes on.
            self.recv_nomem += 1
            gc.collect()
            return False
        # The sender's port (loop check): (host, port) on CPython and lwIP, the unix port's raw
        # sockaddr_in (ports/unix/modsocket.c:82, :323): the port at bytes 2-3, network order.
        port = addr[1] if len(addr) == 2 else addr[2] << 8 | addr[3]
        try:
            m = r.handle(r.rx, n, self.tx, port)
        except Exception as e:  # a bug must not stop DNS, let alone DHCP beside it: count, go on
            self.internal_errors += 1
            if self.log:
                self.log("microdhcp: dns internal error %r" % (e,))
            return True
        if m:
            try:
                s.sendto(self._txv[:m], addr)   # the view allocates (32 B): MemoryError too
                self.sent += 1
            except (OSError, MemoryError):
                self.send_errors += 1
        return True

    def poll(self, batch=_BATCH):
        if self.recv_errors | self.recv_nomem | self.internal_errors >= 0x20000000:
            # Errors grow without queries (a socket that keeps failing): at 2**29 (as
            # dns._COUNT_RESTART) they restart every counter themselves, the responder's too.
            self.responder.restart()
        done = 0
        while done < batch and self._step():
            done += 1
        return done

    async def serve(self, idle_ms=1000):
        # Waits until the socket is readable (MicroPython: asyncio's own poller, as its
        # StreamReader does; CPython: loop.add_reader), so a query is answered at once rather
        # than at the next poll; idle_ms bounds each wait, so that a socket replaced after an
        # error is picked up.
        try:
            import asyncio
        except ImportError:
            import uasyncio as asyncio  # type: ignore[no-redef]
        while True:
            got = 0
            if self.sock is None:
                try:
                    self.open()
                except OSError:
                    pass
            if self.sock is not None:
                try:
                    got = self.poll()
                except OSError as e:   # the socket went bad: reopen it next round, never end the loop
                    if self.log:
                        self.log("microdhcp: dns socket error %r; reopening" % (e,))
                    self.close()
                except MemoryError:    # poll's own small allocations (no ipoll): collect, go on
                    self.internal_errors += 1
                    gc.collect()
            if got:
                await asyncio.sleep(0)     # a burst: let DHCP and HTTP run between batches
            elif self.sock is not None:
                await _readable(asyncio, self.sock, idle_ms)
            else:
                await asyncio.sleep(idle_ms / 1000)


async def _readable(asyncio, sock, idle_ms):
    core = getattr(asyncio, "core", None)
    if core is not None and hasattr(core, "_io_queue"):
        # MicroPython: the scheduler's poller wakes the task when the socket is readable
        # (extmod/asyncio/core.py IOQueue.queue_read, what asyncio.StreamReader.read uses).
        # wait_for bounds it; a cancelled wait is taken off the poller by the scheduler.
        try:
            await asyncio.wait_for_ms(_mp_wait(core, sock), idle_ms)
        except asyncio.TimeoutError:
            pass
        return
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    fd = sock.fileno()
    loop.add_reader(fd, _wake, fut)
    try:
        await asyncio.wait_for(fut, idle_ms / 1000)
    except asyncio.TimeoutError:
        pass
    finally:
        loop.remove_reader(fd)


def _wake(fut):
    if not fut.done():
        fut.set_result(None)


def _mp_wait(core, sock):
    # A plain generator: MicroPython awaits it like a coroutine (CPython never calls this).
    yield core._io_queue.queue_read(sock)
