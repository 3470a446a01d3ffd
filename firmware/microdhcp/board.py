# microdhcp.board: what the four boards/<board>/main.py share: the Config from the user's config.py,
# the bind-first access-point start, the Pico W station filter, the EADDRINUSE fallback (keep the
# firmware's own DHCP server) and a serve loop that recreates its socket. Runs once at start-up and
# around the packet path, so it may allocate; the packet path itself stays in net/engine.
# Every line that exists because of a firmware behaviour says so and names it (see DESIGN.md "Boards").
import gc
import time
from microdhcp.config import Config
from microdhcp.engine import Engine
from microdhcp.net import Server, PortInUse
from microdhcp.clock import Clock, _ticks_ms, _ticks_diff
from microdhcp import status

# MicroPython has time.sleep_ms; CPython (which can import this module too) does not.
_sleep_ms = getattr(time, "sleep_ms", None) or (lambda ms: time.sleep(ms / 1000))

_CHADDR = 28            # RFC 2131 section 2: client hardware address offset
_REFRESH_MS = 1000      # station list re-read at most once a second, and only on a miss


def log(line):
    print(line)


def make_config(c, subnet_broadcast=False):
    """Config from the user's config.py module `c` (names in boards/*/config.py). subnet_broadcast:
    broadcast replies go to the subnet broadcast (e.g. 192.168.4.255) unless REPLY_BROADCAST says."""
    cfg = Config(
        address=c.ADDRESS,
        pool=getattr(c, "POOL", None),
        lease_time=getattr(c, "LEASE_TIME", 3600),
        routers=getattr(c, "ROUTERS", None),
        dns=getattr(c, "DNS", None),
        domain=getattr(c, "DOMAIN", None),
        captive_portal=getattr(c, "CAPTIVE_PORTAL", None),
        reservations=getattr(c, "RESERVATIONS", None),
        reply_broadcast=getattr(c, "REPLY_BROADCAST", None) or "255.255.255.255",
    )
    if subnet_broadcast and not getattr(c, "REPLY_BROADCAST", None):
        # Set before the Engine copies it. Pico W (cyw43 lwIP) sends 255.255.255.255 out of the
        # default netif, which is STA when STA is up (and nowhere when no netif is default);
        # the subnet broadcast is routed by subnet, so it leaves on the AP/Ethernet netif.
        cfg.reply_broadcast = cfg.bcast
    return cfg


def ifconfig_tuple(cfg, c):
    # (address, netmask, gateway, dns) as network.*.ifconfig() takes it.
    ip = Server._ip_text(cfg.server)
    m = cfg.mask
    dns = getattr(c, "DNS", None) or [ip]
    if isinstance(dns, str):
        dns = dns.split(",")
    return (ip, "%d.%d.%d.%d" % (m[0], m[1], m[2], m[3]), ip, dns[0].strip())


def set_address(nic, want):
    # Only when it differs: on ESP32 ifconfig() on the AP restarts the ESP-IDF DHCP server
    # (dhcps stop + start); harmless while we hold port 67, pointless otherwise.
    if tuple(nic.ifconfig()) != want:
        nic.ifconfig(want)


class StationFilter:
    """Server accept hook for Pico W: answer only hardware addresses the AP reports as associated.
    Pico W (cyw43) has no SO_BINDTODEVICE, so a socket on 0.0.0.0:67 also hears DISCOVERs
    broadcast on the STA side; those clients are not our stations. The list is cached as one
    bytes object (6 bytes per MAC) and re-read only on a miss, at most once a second."""

    def __init__(self, ap, ticks_ms=_ticks_ms, ticks_diff=_ticks_diff):
        self.ap = ap
        self.macs = b""
        self.misses = 0
        self._ticks = ticks_ms
        self._diff = ticks_diff
        self._last = None

    def refresh(self):
        out = bytearray()
        # cyw43 status('stations') -> [(mac,), ...]; other ports give bare bytes: take either.
        for st in self.ap.status("stations"):
            m = st[0] if isinstance(st, tuple) else st
            out.extend(m[:6])
        self.macs = bytes(out)

    def _known(self, rx):
        m = self.macs
        for p in range(0, len(m), 6):
            if m[p] == rx[_CHADDR] and m[p + 1] == rx[_CHADDR + 1] and m[p + 2] == rx[_CHADDR + 2] and \
                    m[p + 3] == rx[_CHADDR + 3] and m[p + 4] == rx[_CHADDR + 4] and m[p + 5] == rx[_CHADDR + 5]:
                return True
        return False

    def __call__(self, engine, n):
        rx = engine.rx
        if n < _CHADDR + 6 or rx[1] != 1 or rx[2] != 6:
            return False   # not Ethernet/Wi-Fi (htype 1, hlen 6): cannot be an associated station
        if self._known(rx):
            return True
        t = self._ticks()
        if self._last is None or self._diff(t, self._last) >= _REFRESH_MS:
            self._last = t
            self.refresh()
            if self._known(rx):
                return True
        self.misses += 1
        return False


class Board:
    """One board run: build the engine, open the socket (bind-first in AP mode), serve.

    start_ap(ap, ssid_cfg, down_first)   bind UDP 67, then bring the AP up (the bind-first sequence)
    start_wired(nic)                     bring a wired interface up, then bind
    serve(until)                         the loop; recreates the socket when it reports closed
    """

    def __init__(self, c, cfg, iface_name="-"):
        # Collect the imports' garbage first: the engine's buffers are a few large blocks, and a
        # fragmented heap refuses them long before it is full (measured: 101 -> 91 KiB minimum heap).
        gc.collect()
        self.c = c
        self.cfg = cfg
        self.name = iface_name
        self.clock = Clock()
        self.engine = Engine(cfg)
        self.engine.on_event = self._event
        self.server = None
        self.store = None
        self.port_error = None
        self.device = None   # SO_BINDTODEVICE name, once it has been set successfully

    def _event(self, kind, slot):
        log(status.event_line(self.engine, kind, slot, self.name, self.clock.now()))

    def open_store(self):
        path = getattr(self.c, "LEASE_FILE", None)
        if not path:
            return
        try:
            import microdhcp.store as st
        except ImportError:
            log("microdhcp: no store module on the board; leases are kept in RAM only")
            return
        now = self.clock.now()
        try:
            opener = getattr(st, "open_store", None)
            if opener is not None:
                self.store = opener(path, self.engine, now, log)
            else:
                self.store = st.LeaseStore(path, self.engine)
                log("microdhcp: leases: %s" % (self.store.load(now),))
        except OSError as e:
            log("microdhcp: lease file %s unusable (%r); leases are kept in RAM only" % (path, e))
            self.store = None

    def bind(self, accept=None):
        """Opens UDP 67. Returns False (and keeps the message) when the port is taken."""
        try:
            self.server = Server(self.engine, clock=self.clock, log=log, accept=accept)
        except PortInUse as e:
            self.port_error = e.args[1]
            return False
        except OSError as e:
            # Pico W lwIP: ENOMEM when its few UDP pcbs are all taken (mDNS, DHCP client, DNS).
            self.port_error = "cannot open UDP port 67: %r" % (e,)
            return False
        return True

    def bind_device(self, socket, ifname):
        # ESP32 (lwIP SO_BINDTODEVICE): hear and answer only this interface; a socket on ANY also
        # hears the STA side. Set after the interface is up (its lwIP netif must exist) and kept
        # in server.iface so that a recreated socket gets it before bind.
        srv = self.server
        if srv is None:
            return
        try:
            srv.sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname)
        except (OSError, AttributeError) as e:
            log("microdhcp: SO_BINDTODEVICE %s failed (%r): serving every interface" % (ifname, e))
            return
        self.device = ifname
        srv.iface = ifname

    def serve(self, until=None):
        if self.server is None:
            return self.fallback(until)
        log("microdhcp: serving %s on %s, pool %d addresses" % (self.cfg.subnet_text, self.name, self.cfg.pool_size))
        srv = self.server
        try:
            while until is None or self.clock.now() < until:
                try:
                    srv.poll(1000)
                except OSError as e:
                    # lwIP: a socket the stack closed (EBADF, poll HUP/NVAL) is recreated.
                    log("microdhcp: socket reported %r; recreating it" % (e,))
                    if not self._reopen(until):
                        return self.fallback(until)
        finally:
            self.close()

    def _reopen(self, until):
        srv = self.server
        if srv is None:
            return False
        srv.close()
        while until is None or self.clock.now() < until:
            try:
                srv.open()
                return True
            except PortInUse as e:
                self.port_error = e.args[1]
                self.server = None
                return False
            except OSError as e:
                # Pico W lwIP has ~5 UDP pcbs in all: ENOMEM until one is free again.
                log("microdhcp: cannot recreate the socket (%r); retrying" % (e,))
                _sleep_ms(1000)
        return True

    def close(self):
        if self.server is not None:
            self.server.close()
        if self.store is not None:
            self.store.close()
            self.store = None

    def fallback(self, until=None):
        """EADDRINUSE: someone else holds UDP 67 (on ESP32/Pico W the firmware's own server).
        Serve nothing, leave that server in place, and say so on the console and the LED."""
        msg = ("microdhcp: NOT SERVING. %s\nmicrodhcp: fallback: the firmware's own DHCP server (if any) "
               "keeps answering; fix the cause and reset the board." % (self.port_error,))
        log(msg)
        led = self._led()
        n = 0
        while until is None or self.clock.now() < until:
            if led is not None:
                led.value(n & 1)   # fast double blink pattern: 2 Hz toggling
            n += 1
            if n % 120 == 0:
                log(msg)          # repeated every minute for whoever opens the console late
            _sleep_ms(250)

    def _led(self):
        pin = getattr(self.c, "LED_PIN", None)
        if pin is None:
            return None
        try:
            from machine import Pin
            return Pin(pin, Pin.OUT)
        except (ImportError, ValueError, TypeError):
            return None


def start_ap(b, network, socket, ap, down_first, pico):
    """The bind-first access-point start (DESIGN.md "Boards").

    ESP32 and Pico W start their own DHCP server when the AP comes up, no Python API stops it, and
    both ignore the result of their own bind. So UDP 67 is bound while the AP is down; the built-in
    server's bind then fails silently and it never receives."""
    c = b.c
    if down_first or ap.active():
        # ESP32: ap.active(False) always (ESP-IDF dhcps stops with the AP and frees port 67).
        # Pico W: only if it is up (cyw43 deinit removes the C dhcpserver's pcb).
        ap.active(False)
    accept = StationFilter(ap) if pico else None
    bound = b.bind(accept)   # before ap.active(True): the built-in server then fails its bind
    kw = {"ssid": c.SSID}
    if getattr(c, "PASSWORD", None):
        kw["key"] = c.PASSWORD
        # ESP32 leaves a new AP open unless a security mode is given; cyw43 picks WPA2 for a key.
        sec = None if pico else getattr(network.WLAN, "SEC_WPA2", None)
        if sec is not None:
            kw["security"] = sec
    if getattr(c, "CHANNEL", None):
        kw["channel"] = c.CHANNEL
    ap.config(**kw)
    ap.active(True)      # the firmware's DHCP server starts here (and fails to bind if we hold 67)
    set_address(ap, ifconfig_tuple(b.cfg, c))
    if bound and not pico:
        b.bind_device(socket, ap.config("ifname"))   # ESP32: answer only the AP netif
    log("microdhcp: access point %r up at %s" % (c.SSID, ap.ifconfig()[0]))
    return bound


def start_wired(b, nic, socket, device):
    # Wired boards (ESP32 network.LAN, WIZNET5K in lwIP mode) start no DHCP server: port 67 is free.
    set_address(nic, ifconfig_tuple(b.cfg, b.c))
    bound = b.bind()
    if bound and device:
        b.bind_device(socket, nic.config("ifname"))   # ESP32: only the Ethernet netif
    log("microdhcp: wired interface up at %s, link %s" % (nic.ifconfig()[0], "up" if nic.isconnected() else "down"))
    return bound


def run(b):
    """Store, serve (or fall back), then print the lease table; bounded by config RUN_SECONDS."""
    until = getattr(b.c, "RUN_SECONDS", None)
    if until is not None:
        until = b.clock.now() + until
    if b.server is not None:
        b.open_store()
    try:
        b.serve(until)
    finally:
        now = b.clock.now()
        for line in status.lease_table(b.engine, now):
            log(line)
        log(status.counters_line(b.engine))
