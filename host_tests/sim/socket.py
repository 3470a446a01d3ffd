# host_tests/sim/socket.py: the lwIP socket module of the simulated board (see _sim.py). UDP only.
# ESP32: ports/esp32/modsocket.c (lwIP socket API); rp2: extmod/modlwip.c (lwIP raw API).
import gc
import _sim
from _sim import world

_LWIP = True     # tells microdhcp.net to take the lwIP paths (tuples, recv) on the unix port

AF_INET = 2
SOCK_STREAM = 1
SOCK_DGRAM = 2
IPPROTO_UDP = 17
# lwIP's values (src/include/lwip/sockets.h:204-206; rp2 exports SOF_* from ip.h:110-112 at
# extmod/modlwip.c:1933-1934); Linux's SO_BROADCAST is 6.
SO_REUSEADDR = 4
SO_BROADCAST = 0x20
if _sim.ESP32:
    SOL_SOCKET = 0xFFF        # lwIP sockets.h, exported by ports/esp32/modsocket.c
    if _sim.fw_at_least(1, 21):
        # SO_BINDTODEVICE is exported from v1.21 on (ports/esp32/modsocket.c, v1.21.0 line 875;
        # 1c3c201149 line 1016); v1.20 has no such name.
        SO_BINDTODEVICE = 0x100B   # lwIP sockets.h:230
else:
    SOL_SOCKET = 1            # modlwip.c:1932; rp2 (modlwip) has no SO_BINDTODEVICE at all


def getaddrinfo(host, port, af=0, type=0, proto=0, flags=0):
    return [(AF_INET, SOCK_DGRAM, IPPROTO_UDP, "", (host, port))]


class socket:
    def __init__(self, af=AF_INET, type=SOCK_STREAM, proto=0):
        if type != SOCK_DGRAM:
            raise OSError(_sim.EOPNOTSUPP)    # the simulator models UDP only
        self._pcb = world.alloc("app", self)  # ENOMEM when the pcb pool is empty
        self._blocking = True
        self._from = ("0.0.0.0", 68)          # the last datagram's sender (recvfrom)

    def _check(self):
        if self._pcb.closed:
            raise OSError(_sim.EBADF)

    def setsockopt(self, level, opt, value):
        self._check()
        if level != SOL_SOCKET:
            raise OSError(_sim.EINVAL)
        if opt == SO_REUSEADDR:
            self._pcb.reuse = bool(value)
        elif opt == SO_BROADCAST:
            pass                      # lwIP sends broadcasts without it, and accepts it
        elif _sim.ESP32 and opt == 0x100B and _sim.fw_at_least(1, 21):
            # modsocket.c:507-516: the value goes through mp_obj_str_get_data (str or bytes; None
            # raises TypeError), then lwip_setsockopt looks the name up (ENODEV if no such netif).
            if not isinstance(value, (str, bytes)):
                raise TypeError("can't convert '%s' object to str implicitly" % type(value).__name__)
            name = value.decode() if isinstance(value, bytes) else value
            for nf in world.netifs.values():
                if nf.name == name and (nf.up or nf.kind == "sta"):
                    self._pcb.netif = nf
                    return
            raise OSError(_sim.ENODEV)
        else:
            raise OSError(_sim.EINVAL)

    def bind(self, addr):
        self._check()
        if _sim.ESP32:
            self._pcb.peer_closed = False   # modsocket.c:316: state = CONNECTED before lwip_bind
        world.bind(self._pcb, _sim.ip(addr[0]), addr[1])

    def setblocking(self, flag):
        self._blocking = bool(flag)

    def settimeout(self, t):
        self._blocking = t is None or t > 0

    def _read1(self):
        """One inner read, as the firmware's stream read takes it: one datagram (modlwip.c:688-727
        lwip_raw_udp_receive; ESP32 modsocket.c:617-671 _socket_read_data -> lwip_recvfrom).
        Returns the datagram, b"" for a 0-byte read, None when it would block."""
        self._check()
        p = self._pcb
        if _sim.ESP32 and p.peer_closed:
            return b""                 # modsocket.c:631-633: 0 without reading
        q = p.queue
        while not q:
            if not self._blocking:
                return None
            world.idle(-1)
            self._check()
        d, self._from = q.pop(0)
        if _sim.ESP32 and not d:
            p.peer_closed = True       # modsocket.c:655-657
        return d

    def readinto(self, buf, n=-1):
        # Stream readinto (py/stream.c:310-313 -> mp_stream_rw :46-82): inner reads until the
        # buffer is full, a read returns 0 (EOF) or would block. On a UDP socket each inner read
        # takes one datagram, so datagrams queued together come back joined in one buffer.
        world.heap.enter()
        try:
            size = len(buf) if n < 0 else min(n, len(buf))
            done = 0
            d = None
            while done < size:
                d = self._read1()
                if d is None:
                    break
                if not d:
                    break
                k = min(len(d), size - done)
                buf[done:done + k] = d[:k]
                done += k
            return None if done == 0 and d is None else done
        finally:
            world.heap.leave()

    def _recv(self, n):
        world.heap.enter()
        try:
            d = self._read1()
            if d is None:
                # modlwip.c:693-696 / modsocket.c:666-670: a non-blocking read raises EAGAIN
                raise OSError(_sim.EAGAIN)
            if len(d) > n:
                d = d[:n]
        finally:
            world.heap.leave()
        return d

    def _buffer(self, n):
        # recv and recvfrom take an n + 1-byte buffer BEFORE they read (extmod/modlwip.c:1324;
        # ESP32 modsocket.c:679, read at :682): with no hole that big, MemoryError, and the
        # datagram stays queued (and on an empty socket the buffer is taken before the EAGAIN).
        # Inside the simulator's own bracket, not counted: the firmware shrinks it to the datagram
        # in place (py/objstr.c:2424-2428) and what it keeps is counted by recv below. In the
        # accounting mode the collector is off: collected here, so the probes leave no garbage.
        world.heap.enter()
        try:
            bytearray(n + 1)
            if _sim.HEAP:
                gc.collect()
        finally:
            world.heap.leave()

    def recv(self, n):
        # One datagram as a new bytes object (modlwip.c:1316-1349; ESP32 modsocket.c:672-694):
        # built after heap.leave(), so the simulator counts it as the board's allocation. A
        # MemoryError there comes after the read: that datagram is gone (objstr.c:2437).
        self._buffer(n)
        d = self._recv(n)
        if not d:
            return b""
        h = world.heap
        m = gc.mem_alloc()
        r = bytes(d)           # one bytes object of the datagram's length, as the firmware's
        if h.mark is not None:
            h.recv += gc.mem_alloc() - m
        return r

    def recvfrom(self, n):
        self._buffer(n)
        d = self._recv(n)
        # The datagram and its sender's (address, port) (modlwip.c:1357-1363), as queued.
        return (bytes(d) if d else b""), self._from

    def sendto(self, data, addr):
        world.heap.enter()
        try:
            return world.send(self._pcb, bytes(data), addr)
        finally:
            world.heap.leave()

    def close(self):
        world.free(self._pcb)

    def _events(self):
        if self._pcb.closed:
            return 0x20 | 16          # NVAL | HUP, as lwIP polls a closed socket
        return (1 if self._pcb.queue else 0) | 4
