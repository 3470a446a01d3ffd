# host_tests/sim/_sim.py: a simulated MicroPython board (ESP32 or RP2040) for running the boards'
# main.py unmodified on the unix port. The modules beside this one (network, socket, select, errno,
# time, machine) shadow the unix port's own (they are "extensible" built-ins, so MICROPYPATH wins)
# and all talk to the one World here, which reproduces the lwIP and firmware behaviours listed in
# docs/boards.md. Every modelled behaviour names the firmware file and line it follows: MicroPython
# v1.29.0-preview-731-g1c3c201149 unless another version is named, cyw43-driver 055d642 and
# lwIP 2.2.1 77dcd25a (its submodules). Test-side code: it may allocate freely.
#
# Environment (set by host_tests/test_boards.py):
#   MICRODHCP_SIM_BOARD  esp32 (WLAN + LAN) | pico_w (WLAN, cyw43) | w5500 (rp2 + WIZNET5K)
#   MICRODHCP_SIM_STA    "up": the STA interface is connected upstream at boot (10.0.0.50/24)
#   MICRODHCP_SIM_HOLD67 "other": another socket holds UDP 67 for good;
#                        "firmware": the firmware's DHCP server holds it and ap.active(False) does
#                        not stop it (stands for any way the built-in server keeps the port)
#   MICRODHCP_SIM_PCBS   size of the UDP pcb pool (default: esp32 16, rp2 5)
#   MICRODHCP_SIM_FW     firmware version the board runs, e.g. 1.20, 1.22 (default 1.29): the APIs
#                        that appeared later are absent (see network.py, socket.py)
#   MICRODHCP_SIM_IFNAME_MS  ESP32: config("ifname") is None for this long after active(True)
#                        ("never": it stays None), as before the netif exists
#   MICRODHCP_SIM_LINGER_MS  ESP32: the ESP-IDF DHCP server keeps UDP 67 this long after
#                        ap.active(False) returns
#   MICRODHCP_SIM_AP     "up": the AP (and the firmware's DHCP server) is already up at boot
#   MICRODHCP_SIM_QUEUE  datagrams a UDP socket queues (default: esp32 6, rp2 4)
#   MICRODHCP_SIM_HEAP   "1": account the heap the program allocates between calls into the sim
#                        (gc off; the sim's own bookkeeping excluded); "heap" prints it
#
# Protocol on stdin/stdout. Whenever the program waits (poll with nothing queued, sleep) the sim
# prints "SIM ready" and reads commands until "go" (a sleep first moves the clock by its length):
#   rx KIND HEX [DST_IP [SRC_IP [PORT]]]  a datagram from a client on netif KIND (ap, sta, eth) to
#                                   DST_IP:PORT (default 255.255.255.255, port 67), from SRC_IP
#                                   (default 0.0.0.0), port 68 (to 67) or 40000 (to another port)
#   rx0 KIND                        a zero-length datagram to port 67 (a valid UDP datagram)
#   assoc MAC / disassoc MAC        a station joins / leaves the AP (MAC as 12 hex digits)
#   advance SECONDS                 the clock moves on
#   kill                            the stack closes the program's port-67 socket under it
#   ifup KIND                       other code on the board brings that interface up
#   state                           prints "SIM state {json}"
#   heap                            prints "SIM heap BYTES RECV" (MICRODHCP_SIM_HEAP=1): bytes the
#                                   program allocated, of which RECV in what recv() returned
#   go                              back to the program;  quit: SystemExit(0)
# Every datagram leaving the board is printed as "SIM tx OWNER KIND DST PORT HEX" (OWNER: app for
# the program's sockets, fw for the firmware's DHCP server); drops as "SIM drop REASON ...".
import sys
import os
import json
import binascii
import gc

BOARD = os.getenv("MICRODHCP_SIM_BOARD") or "esp32"
if BOARD not in ("esp32", "pico_w", "w5500"):
    raise SystemExit("MICRODHCP_SIM_BOARD must be esp32, pico_w or w5500")
ESP32 = BOARD == "esp32"

FW = tuple(int(x) for x in (os.getenv("MICRODHCP_SIM_FW") or "1.29").split("."))


def fw_at_least(*v):
    return FW >= v


# errno values as the board raises them. ESP32 uses the toolchain's newlib errno.h
# (ports/esp32/mpconfigport.h:71 MICROPY_USE_INTERNAL_ERRNO 0); rp2 uses MicroPython's own table
# (ports/rp2/mpconfigport.h:134 MICROPY_USE_INTERNAL_ERRNO 1 -> py/mperrno.h:73 EADDRINUSE 98).
EBADF = 9
EAGAIN = 11
ENOMEM = 12
ENODEV = 19
EINVAL = 22
EOPNOTSUPP = 95
if ESP32:
    EADDRINUSE = 112
    EHOSTUNREACH = 118
    ENOTCONN = 128
    ETIMEDOUT = 116
else:
    EADDRINUSE = 98        # py/mperrno.h:73
    EHOSTUNREACH = 113     # py/mperrno.h
    ENOTCONN = 107
    ETIMEDOUT = 110

# Datagrams queued per UDP socket before lwIP drops the rest. rp2: modlwip's own ring of
# LWIP_INCOMING_PACKET_QUEUE_LEN 4 (extmod/modlwip.c:299, full ring drops at :458-460). ESP32: the
# socket is an lwIP netconn whose receive mailbox holds CONFIG_LWIP_UDP_RECVMBOX_SIZE datagrams:
# ESP-IDF's Kconfig default 6 (components/lwip/Kconfig, read at esp-idf 00096a34, an older release),
# not changed for ESP32_GENERIC (the P4 boards set 64: ports/esp32/boards/sdkconfig.p4_wifi_common:15).
QUEUE = int(os.getenv("MICRODHCP_SIM_QUEUE") or (6 if ESP32 else 4))
# lwIP MEMP_NUM_UDP_PCB. rp2: 4 + LWIP_MDNS_RESPONDER = 5 (extmod/lwip-include/lwipopts_common.h:70).
# ESP32: ESP-IDF's CONFIG_LWIP_MAX_UDP_PCBS, default 16 (same Kconfig).
PCBS = int(os.getenv("MICRODHCP_SIM_PCBS") or (16 if ESP32 else 5))
IFNAME_MS = os.getenv("MICRODHCP_SIM_IFNAME_MS") or "0"
LINGER_MS = int(os.getenv("MICRODHCP_SIM_LINGER_MS") or 0)
HEAP = os.getenv("MICRODHCP_SIM_HEAP") == "1"
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
        self.up_at = 0        # world.ms when it last came up (ESP32 ifname timing)
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
        # ESP32: a read that returned 0 bytes latches SOCKET_STATE_PEER_CLOSED; every later read
        # returns 0 without reading (ports/esp32/modsocket.c:631-633, set at :655-657) until
        # bind() sets the state back to CONNECTED (:316).
        self.peer_closed = False


class Heap:
    """Bytes the program allocates between calls into the simulator (gc.mem_alloc deltas with the
    collector off). Sim calls bracket their own bookkeeping with enter()/leave(); what a firmware
    call returns (recv's bytes, poll's list) is built after leave(), so it counts, as on a board."""

    def __init__(self):
        self.bytes = 0
        self.recv = 0         # of which: the bytes objects recv() returned
        self.mark = None
        if HEAP:
            gc.collect()
            gc.disable()

    def enter(self):
        if self.mark is not None:
            self.bytes += gc.mem_alloc() - self.mark
            self.mark = None

    def leave(self):
        if HEAP:
            self.mark = gc.mem_alloc()


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
        self.fw_release_at = None   # ESP32: the ESP-IDF server still holds 67 until then (ms)
        self.default = None         # rp2: lwIP netif_default, as cyw43/WIZNET5K set it
        self.ap_cfg = {}            # what the program configured on the AP (ssid, key, security)
        # Pico W (cyw43): what WLAN.active() reports, network_cyw43.c's if_active[] (set by
        # active(v) whatever the driver did, extmod/network_cyw43.c:140-153), and the driver's
        # itf_state bit per interface: its TCP/IP side (netif, and the C DHCP server on the AP)
        # is up (cyw43-driver src/cyw43_ctrl.c cyw43_wifi_set_up). See cyw43_active.
        self.if_active = {"ap": False, "sta": False}
        self.itf = {"ap": False, "sta": False}
        self.ap_security = None     # the AP's security while up: (auth mode, key)
        self.heap = Heap()
        self.drops = {"queue-full": 0, "no-listener": 0, "netif-down": 0}
        self.led = []
        self.sent = 0
        self.ifconfig_calls = 0
        self.dns = ip("10.0.0.1")    # the board's resolver (the STA's DHCP server gave it)
        hold = os.getenv("MICRODHCP_SIM_HOLD67")
        if not ESP32:
            # rp2 runs lwIP's mDNS responder from power-up: ports/rp2/main.c:175 mdns_resp_init(),
            # which takes a UDP pcb and binds 5353 (lwIP src/apps/mdns/mdns.c:2820-2827): one of the 5.
            self.alloc("mdns").port = 5353
        if os.getenv("MICRODHCP_SIM_STA") == "up":
            self.netifs["sta"].up = True
            self.default = self.netifs["sta"]
            # lwIP's DHCP client holds one pcb (port 68) while it runs on any netif.
            self.alloc("sta-dhcpc").port = 68
        if hold == "other":
            self.bind(self.alloc("other"), ANY, 67)
        elif hold == "firmware":
            self.if_up("ap")
            self.fw_sticky = True
        if os.getenv("MICRODHCP_SIM_AP") == "up" and not self.netifs["ap"].up:
            self.if_up("ap")          # the AP already up at boot (e.g. from boot.py), its server too

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
        self.fw_expire()
        # lwIP udp_bind: a pcb may re-bind itself (src/core/udp.c:957-962); another pcb on the
        # same port is ERR_USE unless both set SO_REUSEADDR (udp.c:990-1010).
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
            # Both built-in servers ignore the result of their bind: MicroPython's C server
            # (shared/netutils/dhcpserver.c:304, started by cyw43-driver src/cyw43_lwip.c:238);
            # ESP-IDF's dhcpserver likewise (ESP-IDF v5.5.1, which MicroPython v1.29 builds with:
            # components/lwip/apps/dhcpserver/dhcpserver.c:1387 in dhcps_start).
            self.bind(p, ANY, 67)
            self.fw_status = "serving"
        except OSError:
            self.fw_status = "bind-failed"

    def fw_stop(self):
        if self.fw is not None and not self.fw_sticky:
            if ESP32 and LINGER_MS:
                # ESP32: ap.active(False) returns before the ESP-IDF DHCP server has let go of its
                # pcb: MicroPython returns after esp_wifi_stop / esp_wifi_set_mode (network_wlan.c:293-301),
                # the stop runs in ESP-IDF's event task (v5.5.1 wifi_default.c:153-158 ->
                # esp_netif_lwip.c:1245-1271). The delay stands for that race; hardware decides
                # how long it is.
                self.fw_release_at = self.ms + LINGER_MS
                self.fw_status = "stopping"
                return
            self.free(self.fw)
            self.fw = None
            self.fw_status = "off"

    def fw_expire(self):
        if self.fw_release_at is not None and self.ms >= self.fw_release_at:
            self.fw_release_at = None
            if self.fw is not None:
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
            # ESP-IDF picks the default netif by route priority: STA 100, Ethernet 50, AP 10
            # (esp_netif defaults; ESP-IDF's, not MicroPython's source).
            for k in ("sta", "eth", "ap"):
                if n[k].up:
                    return n[k]
            return None
        # rp2: cyw43 makes every interface it brings up the default netif (cyw43-driver
        # src/cyw43_lwip.c:212 netif_set_default in cyw43_cb_tcpip_init, run by active(True):
        # cyw43_ctrl.c cyw43_wifi_set_up); WIZNET5K does the same for its netif
        # (extmod/network_wiznet5k.c:334). Removing the default netif leaves none (lwIP
        # src/core/netif.c:810). lwIP routes by the default only while it is up (ipv4/ip4.c:216).
        d = self.default
        return d if d is not None and d.up else None

    def route(self, p, dst):
        # lwIP udp_sendto: a pcb bound to a netif (SO_BINDTODEVICE) sends there (src/core/udp.c:
        # 546-547); otherwise ip4_route: the netif whose subnet holds dst (ipv4/ip4.c:170-176),
        # else the default netif (ip4.c:216-227). 255.255.255.255 is in no subnet: the default.
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
                if self.fw_status != "stopping":
                    self.fw_reply(nf, data)
            elif p.owner == "app":
                if len(p.queue) >= QUEUE:
                    self.drops["queue-full"] += 1
                    out("SIM drop queue-full %s" % kind)
                else:
                    p.queue.append((bytearray(data), (ipstr(src), 68 if port == 67 else 40000)))
            # lwIP udp_input hands a datagram to one matching pcb (src/core/udp.c:263-310); the
            # copy-to-all of SO_REUSE_RXTOALL (:377) needs SO_REUSEADDR on the other pcb too, which
            # the built-in servers do not set.
            return
        self.drops["no-listener"] += 1
        out("SIM drop no-listener %s" % kind)

    # --- interfaces ------------------------------------------------------------------------
    def if_up(self, kind):
        nf = self.netifs[kind]
        if nf.up:
            return
        nf.up = True
        nf.up_at = self.ms
        if not ESP32:
            self.default = nf         # cyw43_lwip.c:212 / network_wiznet5k.c:334
            if kind in self.itf:
                self.itf[kind] = True         # brought up by active(True) (here or by other code)
                self.if_active[kind] = True
        if kind == "ap":
            self.ap_security = self.ap_auth()
            self.fw_expire()
            if self.fw is None:
                self.fw_start()       # the built-in DHCP server starts with the AP

    def ap_auth(self):
        c = self.ap_cfg
        if ESP32:
            # ESP32: config(security=/authmode=) sets cfg.ap.authmode and key= the password
            # (ports/esp32/network_wlan.c:565-579); nothing else changes the mode, so an AP
            # configured with a key but no security stays as ESP-IDF starts it: open
            # (WIFI_AUTH_OPEN; ESP-IDF's default, not MicroPython's source).
            return (c.get("security", 0), c.get("key", ""))
        # Pico W: rp2 sets the AP to WPA2-AES with the key "picoW123" at boot
        # (ports/rp2/main.c:196-197); config(security=) / key= replace them
        # (extmod/network_cyw43.c:514-523).
        return (c.get("security", 0x00400004), c.get("key", "picoW123"))

    def cyw43_active(self, kind, up):
        # Pico W: WLAN.active(v) on the AP: cyw43_wifi_set_up (extmod/network_cyw43.c:140-153).
        # Up: the TCP/IP side is (re)made only when the interface's itf_state bit is clear: its
        # deinit, then its init (netif, default netif, the C DHCP server), cyw43_ctrl.c:566-570.
        # Down: the AP's link goes down (cyw43_ctrl.c:576-578: its stations leave); then it
        # depends on the driver (MicroPython pins cyw43-driver 36144f94 in v1.20, 2ab0db6e in
        # v1.21-v1.22, 9f6405f0 in v1.23-v1.24, dd756822 in v1.25-v1.27, 055d642 from v1.28):
        #   from v1.28 (055d642, cyw43_ctrl.c:579-582): the TCP/IP side is taken down: netif
        #     removed, the C DHCP server stopped (cyw43_lwip.c:246-268), port 67 free;
        #   v1.23-v1.27 (9f6405f0 :567-571, dd756822 :575-579): only the itf_state bit is
        #     cleared: the netif stays, and the C DHCP server keeps port 67 until the next
        #     active(True) remakes it;
        #   v1.20-v1.22: nothing more (the bit stays set, so active(True) remakes nothing).
        self.if_active[kind] = up
        if up:
            if not self.itf[kind]:
                self.if_down(kind)
                self.if_up(kind)
            return
        self.stations = []
        if fw_at_least(1, 28):
            if self.itf[kind]:
                self.if_down(kind)
        elif fw_at_least(1, 23):
            self.itf[kind] = False

    def cyw43_deinit(self):
        # Pico W: WLAN.deinit() is cyw43_deinit (extmod/network_cyw43.c:133-137; cyw43-driver
        # src/cyw43_ctrl.c:118-146, the same from v1.20): the TCP/IP side of both interfaces
        # taken down (the C DHCP server stopped, port 67 free), the chip powered off and the
        # driver's state reset (cyw43_init :100-108: itf_state 0, the AP's SSID and key
        # emptied; its auth mode kept). What active() reports is left as it was.
        for kind in ("sta", "ap"):
            if self.netifs[kind].up:
                self.if_down(kind)
            self.itf[kind] = False
        self.ap_cfg["ssid"] = ""
        self.ap_cfg["key"] = ""

    def if_down(self, kind):
        nf = self.netifs[kind]
        if kind in self.itf:
            self.itf[kind] = False
        nf.up = False
        if self.default is nf:
            self.default = None       # netif_remove of the default (lwIP netif.c:810)
        if kind == "ap":
            self.fw_stop()
            self.stations = []
            self.ap_security = None

    def ifconfig(self, kind, t):
        nf = self.netifs[kind]
        nf.ip = ip(t[0])
        nf.mask = ip(t[1])
        nf.gw = ip(t[2])
        self.set_dns(kind, t[3])
        self.ifconfig_calls += 1
        if kind == "ap" and ESP32 and nf.up:
            # ESP32 ifconfig on the AP: dhcps stop, set address, dhcps start, a new bind
            # (ports/esp32/network_common.c:139-145; ipconfig the same at :316-322).
            self.fw_expire()
            if self.fw is not None and not self.fw_sticky:
                self.free(self.fw)
                self.fw = None
            if self.fw is None:
                self.fw_start()

    def set_dns(self, kind, addr):
        # rp2: ifconfig((a, m, g, dns)) sets lwIP's global DNS server 0 (extmod/network_lwip.c:
        # 110-112); ESP32: esp_netif_set_dns_info(ESP_NETIF_DNS_MAIN) (network_common.c:137, 144).
        # Either way the board's own resolver changes, so it is one value for the whole board here.
        self.dns = ip(addr)

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
                "stations": [binascii.hexlify(m).decode() for m in self.stations], "ms": self.ms,
                "ap_security": list(self.ap_security) if self.ap_security else None,
                "ap_max_clients": self.ap_cfg.get("max_clients"),
                "dns": ipstr(self.dns), "ifconfig_calls": self.ifconfig_calls,
                "app_peer_closed": [p.peer_closed for p in app], "fw_version": ".".join(str(v) for v in FW)}

    def idle(self, timeout_ms):
        """The program waits: hand control to the test until it says go."""
        self.heap.enter()
        try:
            self._idle()
        finally:
            if HEAP:
                gc.collect()
            self.heap.leave()

    def _idle(self):
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
                self.deliver(w[1], binascii.unhexlify(w[2]), dst, src, int(w[5]) if len(w) > 5 else 67)
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
            elif c == "ifup":
                self.if_up(w[1])          # an interface brought up by other code on the board
            elif c == "heap":
                out("SIM heap %d %d" % (self.heap.bytes, self.heap.recv))
            else:
                out("SIM error unknown command %r" % c)


world = World()
