# MIT license; Copyright (c) 2026 the microdhcp authors
# microdhcp.clientnet: a UDP shell around microdhcp.client, for the MicroPython unix port and a
# board's station interface (docs/client.md says where a board's own client can be switched off).
# One UDP socket on 0.0.0.0:68. Unlike the raw-socket shell (tools/dhcpclient.py, CPython on
# Linux) it cannot see source MACs, cannot ARP-probe (no address check: check=False), and needs
# a stack that sends from 0.0.0.0 before the address is set (on Linux: a route on the
# interface, e.g. `ip route add default dev IF`). Replies are asked to be broadcast (flags).
import sys
import socket
import errno

try:
    import select
except ImportError:  # pragma: no cover
    select = None  # type: ignore[assignment]

from microdhcp import client as cl
from microdhcp.clock import Clock

_SERVER_PORT = 67
_CLIENT_PORT = 68
_LWIP = sys.platform in ("esp32", "rp2")
_MICROPYTHON = sys.implementation.name == "micropython"
_SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25 if sys.platform == "linux" and not _LWIP else None)


def _addr(host, port):
    if _MICROPYTHON and not _LWIP:
        return socket.getaddrinfo(host, port)[0][-1]
    return (host, port)


def _ip(b):
    return "%d.%d.%d.%d" % (b[0], b[1], b[2], b[3])


class ClientSocket:
    """Runs one Client, or a list of them (a small swarm: replies are told apart by chaddr),
    over one UDP socket. step(max_ms) does timers, sends and receives."""

    def __init__(self, client, iface=None, clock=None, unicast=False):
        # unicast=False: RENEWING requests and RELEASEs go to 255.255.255.255 too. This shell
        # does not put the address on the interface, so it sends from 0.0.0.0, and a unicast
        # from 0.0.0.0 is a martian that Linux drops (broadcast from 0.0.0.0 is allowed for
        # DHCP). Pass unicast=True once the leased address is configured (ifconfig on a board).
        self.unicast = unicast
        self.clients = client if isinstance(client, list) else [client]
        self.client = self.clients[0]
        self.clock = clock or Clock()
        self.tx = bytearray(1500)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            if hasattr(socket, "SO_BROADCAST"):
                s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            if iface and _SO_BINDTODEVICE is not None:
                s.setsockopt(socket.SOL_SOCKET, _SO_BINDTODEVICE, iface.encode())
            s.bind(_addr("0.0.0.0", _CLIENT_PORT))
        except OSError:
            s.close()
            raise
        s.setblocking(False)
        self.sock = s
        self.poller = select.poll() if select is not None else None
        if self.poller is not None:
            self.poller.register(s, select.POLLIN)
        self._bcast = _addr("255.255.255.255", _SERVER_PORT)
        self.send_errors = 0

    def close(self):
        self.sock.close()

    def send(self, n, c=None):
        c = c or self.client
        if c.dst_kind == cl.DST_UNICAST and self.unicast:
            to = _addr(_ip(c.dst), _SERVER_PORT)
        else:
            to = self._bcast
        try:
            self.sock.sendto(self.tx[:n], to)
        except OSError:
            self.send_errors += 1     # e.g. ENETUNREACH before the interface has a route

    def step(self, max_ms=200):
        now = self.clock.now()
        ms = max_ms
        for c in self.clients:
            n = c.poll(now, self.tx)
            if n:
                self.send(n, c)
            wake = c.wake_at()
            if wake >= 0 and wake <= now:
                ms = 0
        if self.poller is not None:
            self.poller.poll(ms)
        while True:
            try:
                data = self.sock.recv(1500)
            except OSError as e:
                if e.args and e.args[0] in (errno.EAGAIN, getattr(errno, "EWOULDBLOCK", errno.EAGAIN)):
                    return
                raise
            if len(data) >= 34:
                for c in self.clients:
                    m = c.mac
                    if data[28] == m[0] and data[29] == m[1] and data[30] == m[2] and data[31] == m[3] \
                            and data[32] == m[4] and data[33] == m[5]:
                        c.handle(data, self.clock.now())
                        break


USAGE = """usage: micropython -m microdhcp client --iface IF [--once] [--mac MAC] [--hostname NAME] [--timeout S]
       micropython -m microdhcp swarm --iface IF -n N [--timeout S]
(the MicroPython unix port: UDP port 68, no ARP check, swarm without renewals; probe needs
CPython on Linux: python3 -m microdhcp probe ...)"""


def _mac_of(iface):
    with open("/sys/class/net/%s/address" % iface) as f:
        return bytes(int(x, 16) for x in f.read().strip().split(":"))


def _out(line):
    sys.stdout.write(line + "\n")


def swarm(iface, n, timeout, out):
    """n clients (MACs 02:5d:00:TT:hi:lo) over one socket: DORA, then RELEASE; a table and a
    summary line. Over UDP a RENEWING ACK is unicast to an address this host does not hold, so
    there is no renewal here (the raw-socket swarm renews). Returns 0 when all were bound."""
    clock = Clock()
    import time
    t = time.time() if hasattr(time, "time") else 0
    tag = int(t) & 255
    clients = []
    for i in range(n):
        mac = bytes((2, 0x5d, 0, tag, (i >> 8) & 255, i & 255))
        clients.append(cl.Client(mac, broadcast=True, discover_tries=4))
    link = ClientSocket(clients, iface, clock)
    for c in clients:
        c.start(clock.now())
    while clock.now() < timeout:
        link.step(100)
        if all(c.configured or c.state == cl.STOPPED for c in clients):
            break
    bound = 0
    addrs = []
    out("%-17s %-15s %-15s %s" % ("mac", "address", "server", "state"))
    for c in clients:
        mtext = ":".join(["%02x" % x for x in c.mac])
        state = cl.STATE_NAMES[c.state]
        if c.configured:
            bound += 1
            addrs.append(_ip(c.addr))
            out("%-17s %-15s %-15s %s" % (mtext, _ip(c.addr), _ip(c.server), state))
            m = c.release(clock.now(), link.tx)
            if m:
                link.send(m, c)
        else:
            out("%-17s %-15s %-15s %s" % (mtext, "-", "-", state))
    out("bound %d/%d, distinct addresses %d, released %d, ignored replies %d" % (
        bound, n, len(set(addrs)), bound, sum([c.ignored() for c in clients])))
    link.close()
    return 0 if bound == n else 2


def main(cmd, argv):
    if cmd == "swarm":
        iface = None
        n = 0
        timeout = 30
        i = 0
        while i + 1 < len(argv):
            if argv[i] == "--iface":
                iface = argv[i + 1]
            elif argv[i] == "-n":
                n = int(argv[i + 1])
            elif argv[i] == "--timeout":
                timeout = int(argv[i + 1])
            i += 2
        if not iface or n < 1 or i != len(argv):
            sys.stderr.write(USAGE + "\n")
            return 2
        return swarm(iface, n, timeout, _out)
    if cmd != "client":
        sys.stderr.write("microdhcp %s: needs CPython on Linux (raw sockets): python3 -m microdhcp %s ...\n"
                         % (cmd, cmd))
        return 2
    opts = {}
    once = False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--once":
            once = True
        elif a in ("--iface", "--mac", "--hostname", "--timeout") and i + 1 < len(argv):
            i += 1
            opts[a] = argv[i]
        else:
            sys.stderr.write("microdhcp client: unknown argument %r\n%s\n" % (a, USAGE))
            return 2
        i += 1
    iface = opts.get("--iface")
    if not iface:
        sys.stderr.write(USAGE + "\n")
        return 2
    if "--mac" in opts:
        mac = bytes(int(x, 16) for x in opts["--mac"].split(":"))
    else:
        mac = _mac_of(iface)
    state = {"code": -1}

    out = _out

    def on_event(kind):
        if kind == cl.EV_BOUND or kind == cl.EV_RENEWED:
            info = c.lease_info(clock.now())
            out("%s %s from %s lease %ds T1 %ds T2 %ds mask %s router %s dns %s" % (
                cl.EVENT_TAGS[kind], info["address"], info["server"], info["lease"], info["t1"], info["t2"],
                info["mask"], info["router"], ",".join(info["dns"]) or "-"))
            if once:
                state["code"] = 0
        elif kind != cl.EV_OFFER:
            out(cl.EVENT_TAGS[kind])
    host = opts.get("--hostname")
    c = cl.Client(mac, hostname=host.encode() if host else None, broadcast=True, on_event=on_event)
    clock = Clock()
    try:
        link = ClientSocket(c, iface, clock)
    except OSError as e:
        sys.stderr.write("microdhcp client: cannot open UDP port 68 on %s: %s\n" % (iface, e))
        return 2
    timeout = int(opts.get("--timeout", "0"))
    c.start(clock.now())
    try:
        while state["code"] < 0:
            link.step(200)
            if timeout and clock.now() >= timeout and not c.configured:
                out("no lease within %ds" % timeout)
                state["code"] = 2
    except KeyboardInterrupt:
        state["code"] = 0
    if not once and c.configured:
        n = c.release(clock.now(), link.tx)
        if n:
            link.send(n)          # on_event has said "released"
    link.close()
    return state["code"]
