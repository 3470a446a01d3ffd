# host_tests/sim/socket.py: the lwIP socket module of the simulated board (see _sim.py). UDP only.
import _sim
from _sim import world

_LWIP = True     # tells microdhcp.net to take the lwIP paths (tuples, readinto) on the unix port

AF_INET = 2
SOCK_STREAM = 1
SOCK_DGRAM = 2
IPPROTO_UDP = 17
SO_REUSEADDR = 4          # lwIP SOF_REUSEADDR
SO_BROADCAST = 0x20       # lwIP SOF_BROADCAST (Linux uses 6)
if _sim.ESP32:
    SOL_SOCKET = 0xFFF
    SO_BINDTODEVICE = 0x100B   # ESP32 lwIP; rp2 (modlwip) has no SO_BINDTODEVICE
else:
    SOL_SOCKET = 1


def getaddrinfo(host, port, af=0, type=0, proto=0, flags=0):
    return [(AF_INET, SOCK_DGRAM, IPPROTO_UDP, "", (host, port))]


class socket:
    def __init__(self, af=AF_INET, type=SOCK_STREAM, proto=0):
        if type != SOCK_DGRAM:
            raise OSError(_sim.EOPNOTSUPP)    # the simulator models UDP only
        self._pcb = world.alloc("app", self)  # ENOMEM when the pcb pool is empty
        self._blocking = True

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
        elif _sim.ESP32 and opt == SO_BINDTODEVICE:
            name = value.decode() if isinstance(value, (bytes, bytearray)) else str(value)
            for nf in world.netifs.values():
                if nf.name == name:
                    self._pcb.netif = nf
                    return
            raise OSError(_sim.ENODEV)
        else:
            raise OSError(_sim.EINVAL)

    def bind(self, addr):
        self._check()
        world.bind(self._pcb, _sim.ip(addr[0]), addr[1])

    def setblocking(self, flag):
        self._blocking = bool(flag)

    def settimeout(self, t):
        self._blocking = t is None or t > 0

    def _next(self):
        self._check()
        q = self._pcb.queue
        while not q:
            if not self._blocking:
                return None
            world.idle(-1)
            self._check()
        return q.pop(0)

    def readinto(self, buf, n=-1):
        # lwIP: one datagram per call (truncated to the buffer); None when nothing is queued.
        d = self._next()
        if d is None:
            return None
        data = d[0]
        k = min(len(data), len(buf) if n < 0 else n)
        buf[0:k] = data[0:k]
        return k

    def recv(self, n):
        d = self._next()
        if d is None:
            raise OSError(_sim.EAGAIN)
        return d[0][:n]

    def recvfrom(self, n):
        d = self._next()
        if d is None:
            raise OSError(_sim.EAGAIN)
        return d[0][:n], d[1]

    def sendto(self, data, addr):
        return world.send(self._pcb, bytes(data), addr)

    def close(self):
        world.free(self._pcb)

    def _events(self):
        if self._pcb.closed:
            return 0x20 | 16          # NVAL | HUP, as lwIP polls a closed socket
        return (1 if self._pcb.queue else 0) | 4
