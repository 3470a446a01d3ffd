# MIT license; Copyright (c) 2026 the microdhcp authors
# microdhcp.net: the socket shell around the engine. One UDP socket on 0.0.0.0:67; datagrams go to
# Engine.handle, replies go where the engine says. Works on CPython, the MicroPython unix port and
# lwIP boards (ESP32, Pico W); everything that differs between them is chosen once, here.
import gc
import sys
import socket
import errno

try:
    from micropython import const
except ImportError:
    def const(x):
        return x

try:
    import select
except ImportError:  # pragma: no cover - every supported runtime has it
    select = None  # type: ignore[assignment]  # a runtime without select: poll() then never waits

try:
    from micropython import heap_lock as _lock, heap_unlock as _unlock
except ImportError:     # CPython: frames never come from a heap the server could lock
    def _lock():
        return 0

    def _unlock():
        return 0

from microdhcp.clock import Clock

_SERVER_PORT = const(67)
_CLIENT_PORT = const(68)
_DST_BROADCAST = const(0)      # codes.DST_BROADCAST: Engine.dst_kind of a broadcast reply
# lwIP boards; the board simulator (host_tests/sim) stands in for one on the unix port and says so
# with socket._LWIP, so that the shell below takes the board paths (tuples, recv) there too.
_LWIP = sys.platform in ("esp32", "rp2") or getattr(socket, "_LWIP", False)
# Linux value of SO_BINDTODEVICE (25): the unix port does not export the name (its socket module
# lists no SO_BINDTODEVICE, ports/unix/modsocket.c), CPython and ESP32 (v1.21+) do. Only used where
# the platform is Linux (not lwIP) or the runtime names it.
_SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25 if sys.platform == "linux" and not _LWIP else None)
_MICROPYTHON = sys.implementation.name == "micropython"
_PAD_STEP = const(32)          # replies are zero-padded to these steps so sendto never slices (no allocation)
_MIN_REPLY = const(300)
_BATCH = const(6)              # a UDP socket queues 4 datagrams on rp2, 6 on ESP32 (docs/boards.md): drain them per poll
_SERVE_BATCH = const(32)       # serve_forever() owns the loop, so it may drain a longer burst
# poll() events that mean the socket is gone: HUP, or NVAL (0x20) as lwIP reports a closed socket.
# Not POLLERR: Linux may raise it for a UDP socket that is still usable.
_CLOSED = getattr(select, "POLLHUP", 16) | 0x20
_C_RECEIVED = const(0)         # codes.C_RECEIVED: engine.counters[_C_RECEIVED], every datagram handled
_COUNT_RESTART = const(0x20000000)   # engine._COUNT_RESTART: counters start again from 0 at 2**29


# Looked up once: getattr with a default, where the name is missing (the unix port's errno has no
# EWOULDBLOCK), raises and catches an AttributeError inside, which allocates.
_EWOULDBLOCK = getattr(errno, "EWOULDBLOCK", errno.EAGAIN)


def _would_block(e):
    # An OSError of a read that found nothing queued. Runs with the heap locked inside a locked
    # batch (_receive's finally locks it again before its except): so compared one by one, as a
    # tuple of the codes would be allocated there, and against a code looked up at import.
    a = e.args[0] if e.args else 0
    return a == errno.EAGAIN or a == _EWOULDBLOCK


def _said(e):
    # An exception in words for the console lines below. An OSError through errors.describe, as
    # board.py's lines: MicroPython's repr is a bare "OSError(113,)". Any other (a bug, a
    # MemoryError) by its type and text: describe would read a KeyError(5)'s 5 as an errno.
    # errors is imported at the first OSError said, not with net: no heap for it until then.
    if isinstance(e, OSError):
        from microdhcp.errors import describe
        return describe(e)
    t = str(e)
    return e.__class__.__name__ + (": " + t if t else "")


class PortInUse(OSError):
    pass


class Server:
    """Serves one engine on one UDP socket (port 67), on CPython, the unix port and lwIP boards.

    :param engine: The :class:`microdhcp.engine.Engine` to serve.
    :param iface: Serve only this interface (``SO_BINDTODEVICE``, Linux and ESP32 v1.21+).
    :param clock: The seconds clock (default a new :class:`microdhcp.clock.Clock`).
    :param log: Optional ``log(line)`` for socket trouble.
    :param sock: An already bound UDP socket to use instead of opening port 67.
    :param accept: Optional ``accept(engine, data, n) -> bool`` run on each datagram (data[:n])
                   before the engine,
                   e.g. the Pico W station filter (``board.StationFilter``).
    :param bind: False: make the buffers but no socket (memory measurements).

    Three ways to run it: ``serve_forever(until=None)``, a blocking loop (``until`` in seconds of
    the server clock); ``poll(timeout_ms=0)``, one step of an application's own loop; ``serve()``,
    a coroutine for asyncio beside other tasks (examples/).
    """

    def __init__(self, engine, iface=None, clock=None, log=None, sock=None, accept=None, bind=True):
        self.engine = engine
        self.iface = iface
        self.clock = clock or Clock()
        self.log = log
        self.accept = accept        # optional accept(engine, data, n) -> bool, e.g. Pico W station filter
        self.idle = None            # optional idle(): called at the end of each poll(), its replies
        #                             sent (the host command writes its held event lines there)
        self.tx = getattr(engine, "tx", None) or bytearray(1500)   # made early by Engine (fragmentation)
        self.sent = 0
        self.send_errors = 0
        self.recv_errors = 0
        self.recv_nomem = 0     # datagrams dropped because recv() found no room for its buffer
        self.internal_errors = 0
        self.empty = 0          # 0-byte datagrams read
        self.rebinds = 0        # ... after each of which an lwIP socket was re-bound (ESP32 latch)
        # MicroPython's VM takes a call's frame from the heap when it is over 11 words and falls
        # back to the C stack only when that allocation fails (py/objfun.c:202, 273-286), which
        # it does at once while the heap is locked (py/gc.c:902). Serving a batch with the heap
        # locked therefore keeps every frame of the serve path off the heap: measured on the
        # unix port at 8000 DORA/s, 62.8 -> 50.2 us of user CPU per DORA (docs/performance.md).
        # The engine allocates nothing per message; the recv, the send, logging and the engine's
        # callbacks (application code) run unlocked; with an accept hook nothing is locked. Off
        # on lwIP boards: there a callback the application scheduled (micropython.schedule, pin
        # IRQs) could run inside the batch and would fail to allocate.
        self.lock_heap = _MICROPYTHON and not _LWIP
        self._locked = False
        # True: the engine's on_event allocates nothing, or unlocks the heap itself for what does
        # (the host command's HostEventLog), so a locked batch calls it as it is. Through the
        # unlocking trampoline each call's frame would come from the heap again (py/objfun.c:
        # 273-286): the host command's lines measured ~71k instructions per DORA that way, ~64k
        # called locked (docs/performance.md, "Serving on the unix port").
        self.events_locked = False
        self._user_event = None
        self._user_commit = None
        if self.lock_heap:      # bound once (no allocation per poll); boards never need them
            self._unlocked_event = self._event_unlocked
            self._unlocked_commit = self._commit_unlocked
        self._views = []
        self.data = None        # the last datagram received (a bytes object, or _rxbuf)
        self._rxbuf = None      # recv_into's buffer (CPython), made by _setup_io
        self._bcast = None
        self._ucast = None
        self.sock = sock
        self.poller = None
        self._own = False       # True once open() made the socket (and may re-bind it)
        if sock is None and bind:
            self.open()
        elif sock is not None:
            self._setup_io()

    # --- socket ------------------------------------------------------------------------------
    def open(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            if _LWIP:
                # lwIP shares a port only when both sockets set SO_REUSEADDR (udp_bind), and
                # the firmware's own DHCP server does not, so this never lets the two share 67.
                # Not on Linux: there SO_REUSEADDR on both lets two UDP servers bind 0.0.0.0:67
                # and both answer every DISCOVER. Without it a second server gets EADDRINUSE
                # and refuses to start, as dnsmasq and Kea do.
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if hasattr(socket, "SO_BROADCAST"):
                # By name: 6 on Linux, 0x20 on lwIP (which needs none, but accepts it).
                s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            if self.iface and _SO_BINDTODEVICE is not None:
                # Hear and answer only this interface (a socket on ANY also hears the STA side).
                s.setsockopt(socket.SOL_SOCKET, _SO_BINDTODEVICE, self.iface.encode())
            s.bind(self._addr("0.0.0.0", _SERVER_PORT))
        except OSError as e:
            s.close()
            if e.args and e.args[0] == errno.EADDRINUSE:
                raise PortInUse(errno.EADDRINUSE, "UDP port 67 is already in use%s. Another DHCP server holds it: "
                                "on ESP32 and Pico W that is the firmware's own server, started when the access point "
                                "comes up. Bind before ap.active(True) (see boards/), or stop the other server (on "
                                "Linux: dnsmasq, dhcpd, kea, NetworkManager's shared mode)."
                                % ((" on " + self.iface) if self.iface else ""))
            if e.args and e.args[0] in (errno.EACCES, getattr(errno, "EPERM", 1)):
                raise OSError(e.args[0], "binding UDP port 67 needs root (or CAP_NET_BIND_SERVICE)")
            raise
        self.sock = s
        self._own = True
        self._setup_io()

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _setup_io(self):
        s = self.sock
        s.setblocking(False)
        if select is not None:
            self.poller = select.poll()
            self.poller.register(s, select.POLLIN)
        # Receive strategy, chosen once. CPython: recv_into, one datagram, no copy. MicroPython
        # sockets have no recv_into, and their readinto is the stream readinto, which loops until
        # the buffer is full or the socket would block (py/stream.c:57-82, :310-313), each inner
        # read taking one datagram (extmod/modlwip.c:1554-1564 -> :688-727; ESP32
        # ports/esp32/modsocket.c:797-799 -> :617-671; the unix port likewise): datagrams queued
        # together come back joined. So recv(1500) there, one datagram per call. It allocates the
        # datagram: a 1501-byte buffer shrunk to its length + 1, plus the 16-byte bytes object on a
        # 32-bit board (modlwip.c:1324 vstr_init_len, :1349 -> py/objstr.c:2423-2441), i.e. ~320 B
        # kept per 300-byte request until the next collection. recvfrom would add the address
        # tuple and its string (modlwip.c:1357-1363): not needed, the engine reads giaddr/ciaddr.
        # The engine parses that bytes object where it is (no copy, no receive buffer of its own);
        # only recv_into needs one, made here.
        self._mode = 0 if hasattr(s, "recv_into") else 1
        if self._mode == 0 and self._rxbuf is None:
            self._rxbuf = bytearray(1500)
        self.data = self._rxbuf
        # recv() on an empty socket allocates its 1500-byte buffer and the OSError anyway
        # (~1.6 KB per wake-up, tools/bench_memory.py): ipoll(0) asks first, allocating nothing
        # (extmod/modselect.c:583-594 returns the poll object and reuses one tuple).
        self._ipoll = getattr(self.poller, "ipoll", None)
        if self._ipoll is not None:
            # its one result tuple is made at the first call (extmod/modselect.c:586-588): now,
            # not inside a batch with the heap locked
            self._ipoll(0)
        # Zero-padded send views, created once (sendto of a slice would allocate each time).
        tx = self.tx
        mv = memoryview(tx)
        self._views = [mv[:n] for n in range(_MIN_REPLY, len(tx) + 1, _PAD_STEP)]
        self._bcast = self._addr(self._ip_text(self.engine.reply_broadcast), _CLIENT_PORT)
        if _MICROPYTHON and not _LWIP:
            # The unix port takes a raw sockaddr: one buffer, rewritten in place per unicast.
            # (The unix port returns a raw sockaddr, bytes; the board stubs say a tuple: hence the ignore.)
            self._ucast = bytearray(socket.getaddrinfo("0.0.0.0", _CLIENT_PORT)[0][-1])  # type: ignore[arg-type]

    def set_reply_broadcast(self, b4):
        # Where broadcast replies go from now on (e.g. the subnet broadcast when the socket could
        # not be bound to its interface); the engine copies it into each reply's destination.
        self.engine.reply_broadcast = bytes(b4)
        self._bcast = self._addr(self._ip_text(b4), _CLIENT_PORT)

    @staticmethod
    def _ip_text(b):
        return "%d.%d.%d.%d" % (b[0], b[1], b[2], b[3])

    @staticmethod
    def _addr(host, port):
        if _MICROPYTHON and not _LWIP:
            return socket.getaddrinfo(host, port)[0][-1]
        return (host, port)

    # --- one datagram ------------------------------------------------------------------------
    def _receive(self):
        # -> datagram length (the datagram in self.data), 0 for an empty datagram, -1 when the
        # socket would block, -2 when a datagram was dropped for want of memory (_recv_short),
        # -3 when the read failed otherwise (counted in recv_errors).
        s = self.sock
        try:
            if self._mode == 0:
                return s.recv_into(self._rxbuf)
            if self._ipoll is not None:
                for _ in self._ipoll(0):
                    break
                else:
                    return -1
            if self._locked:
                _unlock()
                try:
                    try:
                        data = s.recv(1500)   # allocates the datagram: the floor on MicroPython
                    except MemoryError:
                        data = self._recv_short(s)
                finally:
                    _lock()
            else:
                try:
                    data = s.recv(1500)
                except MemoryError:
                    data = self._recv_short(s)
        except OSError as e:
            if _would_block(e):
                return -1
            if e.args and e.args[0] == errno.EBADF:
                raise   # the socket is closed: the loops recreate it
            self.recv_errors += 1
            return -3
        if data is None:
            return -2
        self.data = data
        return len(data)

    def _recv_short(self, s):
        # recv(1500) allocates its whole buffer before it reads (extmod/modlwip.c:1324; the unix
        # port's modsocket.c:293): on a fragmented heap that fails with room to spare in total,
        # and the MemoryError would end the serve loop. A collection, a second try; failing
        # still, recv(1) takes the datagram off the queue (a UDP read drops what does not fit:
        # modlwip.c:719-723 copies that much and frees the pbuf; a socket's recv does the same)
        # and it is counted, not served: the client retransmits, the server goes on. Returns
        # the datagram or None.
        # A recv can also fail AFTER it read the datagram, making the object it returns: the
        # unix port's bytes at modsocket.c:296 after the read at :295, lwIP's 16-byte bytes
        # object (py/objstr.c:2437, from modlwip.c:1349) after the read at modlwip.c:1339. That
        # datagram is gone, and the next read finds the queue empty (EAGAIN): counted the same.
        gc.collect()
        try:
            return s.recv(1500)
        except MemoryError:
            pass
        except OSError as e:
            if not _would_block(e):
                raise
            self.recv_nomem += 1
            return None
        self.recv_nomem += 1
        try:
            s.recv(1)
        except MemoryError:
            pass    # not even 2 bytes: the datagram stays queued for the next poll
        except OSError as e:
            if not _would_block(e):     # empty: the second try had read it before it failed
                raise
        return None

    def _step(self, now):
        n = self._receive()
        if n < 0:
            if n == -3:
                # A read error the loops do not know (counted): on lwIP the socket is bound
                # again, as after an empty read below, in case its state is what failed.
                if _LWIP:
                    self._recover()
                return True
            return n == -2      # -2: one datagram taken and dropped (counted): go on
        if n == 0:
            # An empty UDP datagram is valid and lwIP hands it over as a 0-byte read. On ESP32 that
            # read latches the socket as peer-closed: every later read returns 0 without reading
            # (ports/esp32/modsocket.c:631-633, set at :655-657), and poll keeps reporting the
            # queued datagrams, so the server would spin answering nothing. bind() resets the
            # state (modsocket.c:316) and lwIP lets a pcb re-bind its own port (udp.c:957-962),
            # keeping the queue and SO_BINDTODEVICE; if that fails, a new socket.
            self.empty += 1
            if _LWIP:
                self._recover()
            return True
        eng = self.engine
        if self.accept is not None and not self.accept(eng, self.data, n):
            return True
        try:
            m = eng.handle(self.data, now, self.tx, n)
        except Exception as e:  # a bug must not stop the server: count, log, go on
            # (raised with the heap locked, the exception has its type but not its arguments:
            # py/objexcept.c:211-240)
            self.internal_errors += 1
            if self.log:
                self._report("internal error", e)
            return True
        if m:
            if self._locked:
                self._send_unlocked(m)
            else:
                self._send(m)   # boards: one call per reply, as before the locked batch
        return True

    def _report(self, what, e):
        # The line is best effort: after a MemoryError it may find no room either (the error is
        # counted by the caller all the same).
        if self._locked:
            _unlock()
        try:
            self.log("microdhcp: %s (%s)" % (what, _said(e)))
        except MemoryError:
            pass
        finally:
            if self._locked:
                _lock()

    # The engine's callbacks, as installed for a locked batch: the application's own, unlocked.
    def _event_unlocked(self, kind, slot):
        _unlock()
        try:
            self._user_event(kind, slot)
        finally:
            _lock()

    def _commit_unlocked(self, slot, now):
        _unlock()
        try:
            self._user_commit(slot, now)
        finally:
            _lock()

    def _batch(self, now, batch):
        # Up to `batch` datagrams; with the heap locked where lock_heap says (see __init__).
        done = 0
        if not self.lock_heap or self.accept is not None:   # the accept hook may allocate
            while done < batch and self._step(now):
                done += 1
            return done
        eng = self.engine
        ev = eng.on_event
        cm = eng.on_commit
        if ev is not None and not self.events_locked:
            self._user_event = ev
            eng.on_event = self._unlocked_event
        if cm is not None:
            self._user_commit = cm
            eng.on_commit = self._unlocked_commit
        self._locked = True
        _lock()
        try:
            while done < batch and self._step(now):
                done += 1
        finally:
            _unlock()
            self._locked = False
            eng.on_event = ev
            eng.on_commit = cm
        return done

    def _recover(self):
        if not self._own:
            return              # the application's socket: its bind is not ours to repeat
        self.rebinds += 1
        try:
            self.sock.bind(self._addr("0.0.0.0", _SERVER_PORT))
        except OSError as e:
            if self.log:
                self.log("microdhcp: re-bind after an empty datagram failed (%s); new socket" % _said(e))
            self.close()
            self.open()

    def _send_unlocked(self, m):
        # From a locked batch (see __init__): a reply too long for the padded views slices a
        # memoryview, a send error keeps its errno, the log line allocates.
        _unlock()
        try:
            self._send(m)
        finally:
            _lock()

    def _send(self, m):
        eng = self.engine
        # Pad to the next step if that still fits what the client accepts (option 57).
        k = (m - _MIN_REPLY + _PAD_STEP - 1) // _PAD_STEP
        if _MIN_REPLY + k * _PAD_STEP <= eng.reply_max and k < len(self._views):
            data = self._views[k]
        else:
            data = memoryview(self.tx)[:m]
        if eng.dst_kind == _DST_BROADCAST:
            addr = self._bcast
        else:
            d = eng.dst
            u = self._ucast
            if u is not None:
                # struct sockaddr_in: family(2) port(2, big endian) address(4)
                u[2] = eng.dst_port >> 8
                u[3] = eng.dst_port & 255
                u[4] = d[0]
                u[5] = d[1]
                u[6] = d[2]
                u[7] = d[3]
                addr = u
            else:
                # lwIP's sendto takes the host as a str (shared/netutils/netutils.c:59
                # mp_obj_str_get_data: str or bytes, both immutable), so a unicast reply
                # allocates the format tuple, its text and the address tuple (192 B on the 64-bit
                # unix port, about half on a 32-bit board); broadcasts do not.
                addr = (self._ip_text(d), eng.dst_port)
        try:
            self.sock.sendto(data, addr)
            self.sent += 1
        except OSError as e:
            self.send_errors += 1
            if self.log:
                self.log("microdhcp: send failed: " + _said(e))

    # --- loops -------------------------------------------------------------------------------
    def poll(self, timeout_ms=0, batch=_BATCH):
        """Handles the datagrams waiting (up to `batch`) and due expiries. Returns how many
        datagrams were read. Waits up to timeout_ms for the first one."""
        now = self.clock.now()
        c = self.engine.counters
        # Every counter starts again from 0 when one reaches 2**29, as the engine's do when
        # `received` does (from 2**30 a board's ints are heap objects): the engine's in the tick
        # below (counted in its counters[codes.C_RESTARTS]) and ours here, at the same moment.
        # `received` is taken one early: else handle()'s own tick (for a timer due at the batch's
        # first datagram) could restart the engine's without ours. Ours are checked too: errors
        # grow without datagrams (a socket that keeps failing), and sent would go on after a
        # restart in a tick of the application's own.
        if c[_C_RECEIVED] + 1 | self.sent | self.send_errors | self.recv_errors | self.recv_nomem | \
                self.empty | self.rebinds | self.internal_errors >= _COUNT_RESTART:
            c[_C_RECEIVED] = _COUNT_RESTART
            self.sent = self.send_errors = self.recv_errors = self.recv_nomem = self.empty = self.rebinds = \
                self.internal_errors = 0
        try:
            self.engine.tick(now)
        except Exception as e:  # an expiry's on_event that raised: as in _step, count, log, go on
            self.internal_errors += 1
            if self.log:
                self._report("internal error", e)
        if self.poller is not None and timeout_ms:
            ip = self._ipoll
            if ip is not None:
                # MicroPython: ipoll allocates nothing; poll() makes a list and a tuple per call
                # (extmod/modselect.c:564-576).
                ev = 0
                for _, ev in ip(timeout_ms):
                    break
            else:
                r = self.poller.poll(timeout_ms)
                ev = r[0][1] if r else 0
            if not ev:
                if self.idle is not None:
                    self.idle()
                return 0
            if ev & _CLOSED:
                raise OSError(errno.EBADF, "socket reported closed")
            now = self.clock.now()
        done = self._batch(now, batch)
        if self.idle is not None:
            self.idle()
        return done

    def serve_forever(self, until=None):
        # `until`: stop when the server clock reaches it (tests and --exit-after). A step that
        # raises (a socket gone bad) is logged and the socket reopened, never fatal.
        while until is None or self.clock.now() < until:
            try:
                # Drain more per wake-up than poll()'s default: each wake-up costs a poll
                # syscall (and on MicroPython a small list), a datagram costs one recv.
                self.poll(1000, _SERVE_BATCH)
            except OSError as e:
                if self.log:
                    self.log("microdhcp: socket error (%s); reopening" % _said(e))
                self.close()
                self.open()
            except MemoryError as e:    # a collection, and serving goes on (poll counts its own)
                self.internal_errors += 1
                gc.collect()
                if self.log:
                    self._report("out of memory", e)

    async def serve(self, idle_ms=20):
        # asyncio has no datagram API on MicroPython: poll without blocking, then yield to the
        # other tasks. 20 ms of latency is nothing next to DHCP's own timers.
        try:
            import asyncio
        except ImportError:
            import uasyncio as asyncio  # type: ignore[no-redef]  # MicroPython before 1.21
        sleep_ms = getattr(asyncio, "sleep_ms", None)
        while True:
            try:
                got = self.poll(0)
            except OSError as e:   # a socket gone bad is reopened, as in serve_forever
                if self.log:
                    self.log("microdhcp: socket error (%s); reopening" % _said(e))
                self.close()
                # Beside the other tasks of a loop (DNS, HTTP) the reopen may find no socket for
                # a while (a Pico W's few UDP pcbs, ENOMEM): try again each second, never end
                # the task (nothing would serve DHCP while the rest of the loop ran on).
                while True:
                    try:
                        self.open()
                        break
                    except OSError as again:
                        if self.log:
                            self.log("microdhcp: reopening the socket failed (%s); trying again" % _said(again))
                        await asyncio.sleep(1)
                got = 0
            except MemoryError as e:    # as in serve_forever
                self.internal_errors += 1
                gc.collect()
                if self.log:
                    self._report("out of memory", e)
                got = 0
            if got:
                await asyncio.sleep(0)
            elif sleep_ms is not None:
                await sleep_ms(idle_ms)
            else:
                await asyncio.sleep(idle_ms / 1000)
