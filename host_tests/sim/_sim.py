# host_tests/sim/_sim.py: a simulated MicroPython board (ESP32 or RP2040) for running the boards'
# main.py unmodified on the unix port. The modules beside this one (network, socket, select, errno,
# time, machine) shadow the unix port's own (they are "extensible" built-ins, so MICROPYPATH wins)
# and all talk to the one World here, which reproduces the lwIP and firmware behaviours that
# DESIGN.md "Boards" lists. Test-side code: it may allocate freely.
#
# Environment (set by host_tests/test_boards.py):
#   MICRODHCP_SIM_BOARD  esp32 (WLAN + LAN) | pico_w (WLAN, cyw43) | w5500 (rp2 + WIZNET5K)
#   MICRODHCP_SIM_STA    "up": the STA interface is connected upstream at boot (10.0.0.50/24)
#   MICRODHCP_SIM_HOLD67 "other": another socket holds UDP 67 for good;
#                        "firmware": the firmware's DHCP server holds it and ap.active(False) does
#                        not stop it (stands for any way the built-in server keeps the port)
#   MICRODHCP_SIM_PCBS   size of the UDP pcb pool (default: esp32 16, rp2 5)
#
# Protocol on stdin/stdout. Whenever the program waits (poll with nothing queued, sleep) the sim
# prints "SIM ready" and reads commands until "go":
#   rx KIND HEX [DST_IP [SRC_IP]]   a datagram from a client on netif KIND (ap, sta, eth) to DST_IP:67
#                                   (default 255.255.255.255, from SRC_IP:68, default 0.0.0.0)
#   rx0 KIND                        a zero-length datagram to port 67 (seen from ESP32 lwIP)
#   assoc MAC / disassoc MAC        a station joins / leaves the AP (MAC as 12 hex digits)
#   advance SECONDS                 the clock moves on
#   kill                            the stack closes the program's port-67 socket under it
#   state                           prints "SIM state {json}"
#   go                              back to the program;  quit: SystemExit(0)
# Every datagram leaving the board is printed as "SIM tx OWNER KIND DST PORT HEX" (OWNER: app for
# the program's sockets, fw for the firmware's DHCP server); drops as "SIM drop REASON ...".
import sys
import os
import json
import binascii

BOARD = os.getenv("MICRODHCP_SIM_BOARD") or "esp32"
if BOARD not in ("esp32", "pico_w", "w5500"):
    raise SystemExit("MICRODHCP_SIM_BOARD must be esp32, pico_w or w5500")
ESP32 = BOARD == "esp32"

# errno values as MicroPython on lwIP boards raises them (py/mperrno.h: newlib numbering).
EBADF = 9
EAGAIN = 11
ENOMEM = 12
ENODEV = 19
EINVAL = 22
EOPNOTSUPP = 95
EADDRINUSE = 112
EHOSTUNREACH = 118

QUEUE = 4                 # modlwip/ESP32 lwIP: 4 datagrams per UDP socket, the rest dropped
PCBS = int(os.getenv("MICRODHCP_SIM_PCBS") or (16 if ESP32 else 5))   # lwIP MEMP_NUM_UDP_PCB
ANY = b"\0\0\0\0"
BCAST = b"\xff\xff\xff\xff"


def ip(text):
    return bytes(int(p) for p in text.split("."))


def ipstr(b):
    return "%d.%d.%d.%d" % (b[0], b[1], b[2], b[3])


def out(line):
    sys.stdout.write(line + "\n")


class Netif:
    def __init__(self, kind, name, addr, mask, mac):
        self.kind = kind
        self.name = name      # lwIP name + number, as ESP32 config("ifname") reports it
        self.up = False
        self.ip = ip(addr)
        self.mask = ip(mask)
        self.gw = self.ip
        self.dns = self.ip
        self.mac = mac

    def holds(self, dst):
        return all(dst[i] & self.mask[i] == self.ip[i] & self.mask[i] for i in range(4))


class Pcb:
    def __init__(self, owner, sock=None):
        self.owner = owner     # "app" (a Python socket), "fw-dhcp", "sta-dhcpc", "mdns", "other"
        self.sock = sock
        self.port = 0
        self.addr = ANY
        self.reuse = False
        self.netif = None      # SO_BINDTODEVICE
        self.queue = []
        self.closed = False


class World:
    def __init__(self):
        self.ms = (1 << 30) - 3000     # ticks_ms starts 3 s before the 2**30 wrap
        self.netifs = {
            "sta": Netif("sta", "st1", "10.0.0.50", "255.255.255.0", b"\x02\x51\x00\x00\x00\x01"),
            "ap": Netif("ap", "ap1", "192.168.4.1", "255.255.255.0", b"\x02\x51\x00\x00\x00\x02"),
            "eth": Netif("eth", "en1", "192.168.0.100", "255.255.255.0", b"\x02\x51\x00\x00\x00\x03"),
        }
        self.pcbs = []
        self.stations = []
        self.fw = None            # the firmware's DHCP server pcb while the AP is up
        self.fw_status = "off"
        self.fw_sticky = False
        self.drops = {"queue-full": 0, "no-listener": 0, "netif-down": 0}
        self.led = []
        self.sent = 0
        self.ready_count = 0
        hold = os.getenv("MICRODHCP_SIM_HOLD67")
        if os.getenv("MICRODHCP_SIM_STA") == "up":
            self.netifs["sta"].up = True
            self.alloc("sta-dhcpc").port = 68      # the STA's DHCP client keeps its pcb
            if not ESP32:
                self.alloc("mdns").port = 5353     # cyw43 builds run mDNS on the STA netif
        if hold == "other":
            self.bind(self.alloc("other"), ANY, 67)
        elif hold == "firmware":
            self.netifs["ap"].up = True
            self.fw_sticky = True
            self.fw_start()

    # --- pcbs ----------------------------------------------------------------------------
    def alloc(self, owner, sock=None):
        if len(self.pcbs) >= PCBS:
            raise OSError(ENOMEM)         # udp_new() returned NULL
        p = Pcb(owner, sock)
        self.pcbs.append(p)
        return p

    def free(self, p):
        if p in self.pcbs:
            self.pcbs.remove(p)
        p.closed = True

    def bind(self, p, addr, port):
        for o in self.pcbs:
            if o is not p and o.port == port and (o.addr == ANY or addr == ANY or o.addr == addr):
                if not (p.reuse and o.reuse):   # lwIP udp_bind: ERR_USE unless both SO_REUSEADDR
                    raise OSError(EADDRINUSE)
        p.port = port
        p.addr = addr

    # --- the firmware's own DHCP server (ESP-IDF dhcpserver / MicroPython's C dhcpserver) -----
    def fw_start(self):
        try:
            p = self.alloc("fw-dhcp")
        except OSError:
            self.fw_status = "no-pcb"
            return
        self.fw = p
        try:
            self.bind(p, ANY, 67)         # both built-in servers ignore the result of their bind
            self.fw_status = "serving"
        except OSError:
            self.fw_status = "bind-failed"

    def fw_stop(self):
        if self.fw is not None and not self.fw_sticky:
            self.free(self.fw)
            self.fw = None
            self.fw_status = "off"

    def fw_reply(self, netif, data):
        # A minimal OFFER/ACK as the built-in server would send (address .16, like the C server).
        if len(data) < 244 or data[0] != 1:
            return
        mtype = 0
        i = 240
        while i + 1 < len(data) and data[i] != 255:
            if data[i] == 0:
                i += 1
                continue
            if data[i] == 53:
                mtype = data[i + 2]
            i += 2 + data[i + 1]
        r = bytearray(300)
        r[0] = 2
        r[1] = 1
        r[2] = 6
        r[4:8] = data[4:8]
        r[16:20] = netif.ip[:3] + b"\x10"
        r[28:44] = data[28:44]
        r[236:240] = b"\x63\x82\x53\x63"
        r[240:249] = bytes((53, 1, 2 if mtype == 1 else 5, 54, 4)) + netif.ip
        r[249:255] = b"\x33\x04\x00\x00\x0e\x10"
        r[255] = 255
        self.emit("fw", netif, BCAST, 68, r)

    # --- the wire ------------------------------------------------------------------------
    def default_netif(self):
        n = self.netifs
        if ESP32:
            # ESP-IDF: the STA has the highest route priority, then the AP, then Ethernet.
            for k in ("sta", "ap", "eth"):
                if n[k].up:
                    return n[k]
            return None
        # cyw43 makes the STA netif the default when it comes up; the AP never is.
        if n["sta"].up:
            return n["sta"]
        if n["eth"].up:
            return n["eth"]
        return None

    def route(self, p, dst):
        if p.netif is not None:
            return p.netif if p.netif.up else None
        if dst != BCAST:
            for k in ("ap", "eth", "sta"):
                nf = self.netifs[k]
                if nf.up and nf.holds(dst):
                    return nf
        return self.default_netif()

    def emit(self, owner, netif, dst, port, data):
        self.sent += 1
        out("SIM tx %s %s %s %d %s" % (owner, netif.kind, ipstr(dst), port, binascii.hexlify(data).decode()))

    def send(self, p, data, addr):
        if p.closed:
            raise OSError(EBADF)
        host, port = addr
        dst = ip(host)
        nf = self.route(p, dst)
        if nf is None:
            raise OSError(EHOSTUNREACH)   # lwIP ERR_RTE: no route (no default netif)
        self.emit("app" if p.owner == "app" else p.owner, nf, dst, port, data)
        return len(data)

    def deliver(self, kind, data, dst=BCAST, src=ANY, port=67):
        nf = self.netifs[kind]
        if not nf.up:
            self.drops["netif-down"] += 1
            out("SIM drop netif-down %s" % kind)
            return
        for p in self.pcbs:
            if p.port != port or p.closed:
                continue
            if p.addr != ANY and p.addr != nf.ip:
                continue
            if p.netif is not None and p.netif is not nf:
                continue              # SO_BINDTODEVICE: another netif's traffic never reaches it
            if p.owner == "fw-dhcp":
                self.fw_reply(nf, data)
            elif p.owner == "app":
                if len(p.queue) >= QUEUE:
                    self.drops["queue-full"] += 1
                    out("SIM drop queue-full %s" % kind)
                else:
                    p.queue.append((bytes(data), (ipstr(src), 68)))
            return                    # lwIP hands a datagram to the first matching pcb only
        self.drops["no-listener"] += 1
        out("SIM drop no-listener %s" % kind)

    # --- interfaces ------------------------------------------------------------------------
    def if_up(self, kind):
        nf = self.netifs[kind]
        if nf.up:
            return
        nf.up = True
        if kind == "ap":
            self.fw_start()           # the built-in DHCP server starts with the AP

    def if_down(self, kind):
        nf = self.netifs[kind]
        nf.up = False
        if kind == "ap":
            self.fw_stop()
            self.stations = []

    def ifconfig(self, kind, t):
        nf = self.netifs[kind]
        nf.ip = ip(t[0])
        nf.mask = ip(t[1])
        nf.gw = ip(t[2])
        nf.dns = ip(t[3])
        if kind == "ap" and ESP32 and nf.up:
            # ESP32 esp_ifconfig on the AP: dhcps stop, set address, dhcps start (a new bind).
            self.fw_stop()
            self.fw_start()

    # --- control -----------------------------------------------------------------------------
    def state(self):
        holder = [p.owner for p in self.pcbs if p.port == 67]
        app = [p for p in self.pcbs if p.owner == "app"]
        d = self.default_netif()
        return {"board": BOARD, "pcbs": len(self.pcbs), "pcb_owners": [p.owner for p in self.pcbs],
                "port67": holder, "fw": self.fw_status, "drops": self.drops, "sent": self.sent,
                "app_sockets": len(app), "app_device": [p.netif.kind if p.netif else None for p in app],
                "default_netif": d.kind if d else None, "ap_up": self.netifs["ap"].up,
                "ap_ip": ipstr(self.netifs["ap"].ip), "led_changes": len(self.led),
                "stations": [binascii.hexlify(m).decode() for m in self.stations], "ms": self.ms}

    def idle(self, timeout_ms):
        """The program waits: hand control to the test until it says go."""
        self.ready_count += 1
        out("SIM ready")
        while True:
            line = sys.stdin.readline()
            if not line:
                out("SIM exit eof")
                raise SystemExit(0)
            w = line.split()
            if not w:
                continue
            c = w[0]
            if c == "go":
                return
            if c == "quit":
                out("SIM exit quit")
                raise SystemExit(0)
            if c == "rx":
                dst = ip(w[3]) if len(w) > 3 else BCAST
                src = ip(w[4]) if len(w) > 4 else ANY
                self.deliver(w[1], binascii.unhexlify(w[2]), dst, src)
            elif c == "rx0":
                self.deliver(w[1], b"")
            elif c == "assoc":
                self.stations.append(binascii.unhexlify(w[1]))
            elif c == "disassoc":
                m = binascii.unhexlify(w[1])
                self.stations = [s for s in self.stations if s != m]
            elif c == "advance":
                self.ms += int(float(w[1]) * 1000)
            elif c == "kill":
                for p in self.pcbs:
                    if p.owner == "app" and p.port == 67:
                        self.free(p)
                        break
            elif c == "state":
                out("SIM state " + json.dumps(self.state()))
            else:
                out("SIM error unknown command %r" % c)


world = World()
