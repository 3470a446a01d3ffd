# MIT license; Copyright (c) 2026 the microdhcp authors
# microdhcp.board: what the four boards/<board>/main.py share: the Config from the user's config.py,
# the bind-first access-point start, the station filter, the EADDRINUSE fallback (keep the
# firmware's own DHCP server) and a serve loop that recreates its socket. Runs once at start-up and
# around the packet path, so it may allocate; the packet path itself stays in net/engine, and the
# per-packet parts here (station filter hit, OFFER/ACK log line) allocate nothing.
# Every line that exists because of a firmware behaviour says so and names the firmware file and
# line; docs/boards.md lists them all, with the firmware version where each changed.
import gc
import sys
import time
from microdhcp.config import Config
from microdhcp.engine import Engine
from microdhcp.net import Server, PortInUse
from microdhcp.clock import Clock, _ticks_ms, _ticks_diff
from microdhcp.ipv4 import mask_to_prefix
from microdhcp import status

# MicroPython has time.sleep_ms; CPython (which can import this module too) does not.
_sleep_ms = getattr(time, "sleep_ms", None) or (lambda ms: time.sleep(ms / 1000))
_MICROPYTHON = sys.implementation.name == "micropython"

_CHADDR = 28            # RFC 2131 section 2: client hardware address offset
_REFRESH_MS = 1000      # station list re-read at most once a second, and only on a miss
_WAIT_MS = 2000         # ESP32 start-up waits (port 67 let go, netif name), see start_ap
_STEP_MS = 250
_LIMITED = b"\xff\xff\xff\xff"
# cyw43 CYW43_AUTH_WPA2_AES_PSK (cyw43-driver src/cyw43_ll.h:172): what rp2 sets at boot
# (ports/rp2/main.c:196); cyw43 has no Python name for it (WLAN.SEC_* lists only mixed modes).
_CYW43_WPA2_AES = 0x00400004


log = print     # one line to the console (tests and the kit replace or pass it on)


# config.py names that belong to the board, not to the server (every other capitalised name is a
# server setting: Config's keyword in lower case, docs/configuration.md).
_BOARD_NAMES = ("SSID", "PASSWORD", "CHANNEL", "MAX_CLIENTS", "LEASE_FILE", "LED_PIN", "RUN_SECONDS", "BOARD",
                "PINSETS", "PINS", "DNS_HOSTS")


def make_config(c):
    """Config from the user's config.py module `c`: every capitalised name there that is not one of
    the board's own (_BOARD_NAMES) is a server setting, passed to Config in lower case (so any
    setting can be set, and a misspelt one is refused by name); None means the default. Broadcast
    replies go to 255.255.255.255 (RFC 2131 4.1) unless REPLY_BROADCAST says otherwise; a board
    whose firmware cannot route that out of the right interface switches to the subnet broadcast
    (Board.use_subnet_broadcast)."""
    kw = {}
    for name in dir(c):
        if name[0] == "_":
            continue
        v = getattr(c, name)
        up = name.upper()
        if name != up:
            # Only capitalised names are read: `password = ...` would be ignored (an open AP). Other
            # names (imports, helpers) stay allowed. Config names an unknown keyword in its
            # TypeError (in quotes, both runtimes); any other outcome means it knows the name.
            low = up.lower()
            if up not in _BOARD_NAMES:
                try:
                    Config("10.0.0.1/24", **{low: v})
                except TypeError as e:
                    if "'%s'" % low in str(e):
                        continue
                except ValueError:
                    pass
            raise ValueError("config.py: write %s as %s" % (name, up))
        if up == "LEASE_FILE" and not isinstance(v, (str, type(None))):
            raise ValueError("config.py: LEASE_FILE must be a path or None")
        if up not in _BOARD_NAMES and v is not None:
            kw[name.lower()] = v
    try:
        return Config(**kw)
    except TypeError as e:
        # ADDRESS is Config's one required argument: its absence is a TypeError in words of no use
        # on a board ("function missing required positional argument #1").
        if "address" not in kw:
            raise ValueError('config.py needs ADDRESS, e.g. "192.168.4.1/24"')
        if "keyword" not in str(e):
            raise
        # Config names the unknown keyword (in quotes, on both runtimes): name it as config.py
        # writes it, and say where the names are.
        m = str(e).split("'")
        raise ValueError("config.py: %s is neither a server setting nor one of the board's own (%s); "
                         "the settings are in docs/configuration.md" % (m[1].upper() if len(m) > 2 else e,
                                                                        ", ".join(_BOARD_NAMES)))


def set_address(nic, cfg):
    """The board's own address on `nic`: cfg.server/prefix, gateway itself. The board's DNS server
    is left alone: ifconfig((a, m, g, dns)) also sets it, and it is the board's own resolver
    (rp2: lwIP's global DNS server, extmod/network_lwip.c:110-112, read back at :73-79; ESP32:
    the netif's main DNS, ports/esp32/network_common.c:129-144), not the DNS we hand to clients.
    So nic.ipconfig(addr4=, gw4=) where the firmware has it (rp2 v1.23+, ESP32 v1.24+), which
    does not touch DNS; else ifconfig with the current DNS passed through unchanged. Only when
    the address differs: on the ESP32 AP either call restarts the ESP-IDF DHCP server
    (network_common.c:139-145, :316-322); harmless while we hold port 67, pointless otherwise."""
    ip = Server._ip_text(cfg.server)
    m = cfg.mask
    mask = "%d.%d.%d.%d" % (m[0], m[1], m[2], m[3])
    if hasattr(nic, "ipconfig"):
        if tuple(nic.ipconfig("addr4")) != (ip, mask) or nic.ipconfig("gw4") != ip:
            nic.ipconfig(addr4="%s/%d" % (ip, mask_to_prefix(m)), gw4=ip)
        return
    cur = tuple(nic.ifconfig())
    want = (ip, mask, ip, cur[3])
    if cur != want:
        nic.ifconfig(want)


def ap_settings(network, c, pico):
    """Keyword arguments for ap.config(), or a string saying why the AP must not come up.
    Security is always passed explicitly: without it ESP32 keeps the AP as it was (open on a fresh
    board: ports/esp32/network_wlan.c:565-579 sets authmode only from security=/authmode=), and
    Pico W keeps what rp2 set at boot, WPA2 with the key "picoW123" (ports/rp2/main.c:196-197)."""
    # Counted in bytes, as the firmware stores them: a longer SSID or key is cut to fit, not refused
    # (ESP32: SSID 32 bytes, key 63, ports/esp32/network_wlan.c:555, :576; cyw43: 32 and 64,
    # cyw43-driver src/cyw43.h:431-434, :445-448), and the AP would differ from config.py.
    ssid = getattr(c, "SSID", None)
    if not isinstance(ssid, str) or not 0 < len(ssid.encode()) <= 32:
        return "SSID must be 1 to 32 bytes of text"
    kw = {"ssid": c.SSID}
    pw = getattr(c, "PASSWORD", None)
    wlan = network.WLAN
    if pw:
        if not isinstance(pw, str) or not 7 < len(pw.encode()) < 64:
            return "PASSWORD must be 8 to 63 bytes of text for WPA2 (\"\": open)"
        # Pico W: cyw43's WPA2-AES. ESP32: WLAN.SEC_WPA2 from v1.23 (ports/esp32/network_wlan.c:805);
        # before that only the module constant network.AUTH_WPA2_PSK (modnetwork_globals.h:29,
        # v1.20.0 line 25).
        sec = _CYW43_WPA2_AES if pico else getattr(wlan, "SEC_WPA2", None)
        if sec is None:
            sec = getattr(network, "AUTH_WPA2_PSK", None)
        if sec is None:
            return "this firmware names no WPA2 mode"     # (every ESP32 version has AUTH_WPA2_PSK)
        kw["key"] = pw
        kw["security"] = sec
    else:
        # Asked for an open AP: say so (cyw43 would otherwise keep WPA2 "picoW123"). WLAN.SEC_OPEN
        # from v1.23 on both ports (extmod/network_cyw43.c:587); 0 is CYW43_AUTH_OPEN
        # (cyw43_ll.h:170) and ESP-IDF's WIFI_AUTH_OPEN (network.AUTH_OPEN on ESP32).
        kw["security"] = getattr(wlan, "SEC_OPEN", getattr(network, "AUTH_OPEN", 0))
    # Both firmwares keep the channel in a byte (network_wlan.c:582: 262 is channel 6; cyw43.h:418-420)
    # and cyw43 sets it without reading the answer (cyw43-driver src/cyw43_ll.c:2233).
    ch = getattr(c, "CHANNEL", None)
    if ch is not None:
        if type(ch) is not int or not 0 < ch < 15:
            return "CHANNEL must be 1 to 14, or None"
        kw["channel"] = ch
    # ESP32: how many stations the AP admits (ports/esp32/network_wlan.c:627-630, max_clients ->
    # ESP-IDF's max_connection); left out, ESP-IDF's own default holds (10 as ESP-IDF v5.5.1
    # documents it, docs/boards.md). cyw43 has no such setting (extmod/network_cyw43.c config).
    mc = getattr(c, "MAX_CLIENTS", None)
    if mc is not None:
        if pico:
            return "MAX_CLIENTS is an ESP32 setting: remove it"
        if type(mc) is not int or mc < 1:
            return "MAX_CLIENTS must be a whole number of stations, 1 or more"
        kw["max_clients"] = mc
    return kw


def ifname(nic):
    """ESP32: the lwIP netif name of `nic` (for SO_BINDTODEVICE), or None. config('ifname') exists
    from v1.21 (v1.20 raises ValueError) and is None until ESP-IDF has made the netif
    (ports/esp32/network_common.c:329-335): asked again for up to ~2 s."""
    t0 = _ticks_ms()
    while True:
        try:
            name = nic.config("ifname")
        except ValueError:
            return None
        if name:
            return name
        if _ticks_diff(_ticks_ms(), t0) >= _WAIT_MS:
            return None
        _sleep_ms(_STEP_MS)


def _no_room(cfg):
    # A pool too large for this board's heap is a configuration error: said as one.
    from microdhcp.errors import no_room
    return MemoryError(no_room(cfg.capacity, "serve a smaller pool (POOL in config.py), or freeze the "
                                             "package into the firmware: as .mpy it takes far more heap"))


class StationFilter:
    """Server accept hook: answer only hardware addresses the AP reports as associated. Pico W
    (modlwip) has no SO_BINDTODEVICE, nor has ESP32 before v1.21, so a socket on 0.0.0.0:67 also
    hears DISCOVERs broadcast on the STA side; those clients are not our stations. The list is cached as one
    bytes object (6 bytes per MAC) and re-read only on a miss, at most once a second."""

    def __init__(self, ap, ticks_ms=_ticks_ms, ticks_diff=_ticks_diff):
        self.ap = ap
        self.macs = b""
        self._ticks = ticks_ms
        self._diff = ticks_diff
        self._last = None

    def refresh(self):
        out = bytearray()
        # cyw43 status('stations') -> [(mac,), ...] (extmod/network_cyw43.c:371-386); ESP32
        # [(mac, ip or None), ...] (ports/esp32/network_wlan.c:415-441); bare bytes taken too.
        for st in self.ap.status("stations"):
            m = st[0] if isinstance(st, tuple) else st
            out.extend(m[:6])
        self.macs = bytes(out)

    def _known(self, rx):
        # byte by byte: a slice compare would allocate two bytes objects per station and packet
        m = self.macs
        for p in range(0, len(m), 6):
            i = 0
            while m[p + i] == rx[_CHADDR + i]:
                i += 1
                if i == 6:
                    return True
        return False

    def __call__(self, engine, rx, n):
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
        return False


# OFFER and ACK lines without allocating (status.EventLog); each line is written at once here,
# as print() would: a board's console has no reader to batch for.
EventLog = status.EventLog


class Board:
    """One board run: the engine, its socket, the lease store, the serve loop.

    Board(c, cfg, iface_name)  c: the user's config.py module, cfg: make_config(c)
    b.bind(accept, retry_ms)   open UDP 67 (False, with port_error set, when it is taken)
    b.serve(until)             the loop; recreates the socket when it reports closed
    The start-up sequences are module functions taking the Board: start_ap(b, network, socket,
    ap, down_first, pico) (bind first, then bring the AP up), start_wired(b, nic, socket, device),
    and run(b) (store, serve or fall back, then the lease table).
    """

    def __init__(self, c, cfg, iface_name="-"):
        # Collect the imports' garbage first: the engine's buffers are a few large blocks, and a
        # fragmented heap refuses them long before it is full (measured: 101 -> 91 KiB minimum heap).
        gc.collect()
        self.c = c
        self.cfg = cfg
        self.name = iface_name
        self.clock = Clock()
        try:
            self.engine = Engine(cfg)
        except MemoryError:
            raise _no_room(cfg) from None
        self.engine.on_event = self._event
        self.server = None
        self.store = None
        self.port_error = None
        self.device = None   # SO_BINDTODEVICE name, once it has been set successfully
        self.led = None      # LED_PIN's Pin, made by check_led at start-up
        self.events = EventLog(self.engine, iface_name, getattr(sys.stdout, "write", None) if _MICROPYTHON else None)

    def _event(self, kind, slot):
        if not self.events.write(kind, slot):
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
            self.store = st.open_store(path, self.engine, now, log)
        except OSError as e:
            from microdhcp.errors import describe
            log("microdhcp: lease file %s unusable (%s); leases are kept in RAM only" % (path, describe(e, path=path)))
            self.store = None
        self._store_trouble()

    def _store_trouble(self):
        # A board keeps serving when its lease file cannot be written (availability first), but
        # says so: once on the console here, and on the LED while serving (serve()).
        st = self.store
        if st is not None and not st.persistent:
            log("microdhcp: WARNING: leases will NOT survive a reset: %s" % (st.problem,))
            return True
        return False

    def bind(self, accept=None, retry_ms=0):
        """Opens UDP 67. Returns False (and keeps the message) when the port is taken; EADDRINUSE
        is retried for retry_ms first."""
        t0 = _ticks_ms()
        while True:
            try:
                self.server = Server(self.engine, clock=self.clock, log=log, accept=accept)
            except PortInUse as e:
                if _ticks_diff(_ticks_ms(), t0) < retry_ms:
                    _sleep_ms(_STEP_MS)
                    continue
                self.port_error = e.args[1]
                return False
            except MemoryError:
                raise _no_room(self.cfg) from None
            except OSError as e:
                # rp2 lwIP: ENOMEM when its 5 UDP pcbs are all taken (mDNS holds one from
                # power-up, DHCP client, DNS; extmod/lwip-include/lwipopts_common.h:70). In words,
                # not MicroPython's "OSError(12,)".
                from microdhcp.errors import describe
                self.port_error = "cannot open UDP port 67: " + describe(e)
                return False
            self.port_error = None
            return True

    def bind_device(self, socket, name):
        """ESP32 (lwIP SO_BINDTODEVICE, v1.21+): hear and answer only this interface; a socket on
        ANY also hears the STA side, and sends 255.255.255.255 out of the default netif (lwIP
        src/core/udp.c:546-547 vs :584). Set after the interface is up (its netif must exist) and
        kept in server.iface so that a recreated socket gets it before bind. Returns success."""
        srv = self.server
        if srv is None:
            return False
        if not name:
            why = "the firmware gives no interface name (config('ifname') needs v1.21)"
        else:
            try:
                srv.sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, name)
                self.device = name
                srv.iface = name
                return True
            except (OSError, AttributeError, TypeError, ValueError) as e:
                from microdhcp.errors import describe
                why = "SO_BINDTODEVICE %s failed (%s)" % (name, describe(e))
        self.use_subnet_broadcast(why)
        return False

    def use_subnet_broadcast(self, why):
        """Without SO_BINDTODEVICE, lwIP sends 255.255.255.255 out of the default netif (the STA
        when it is up); the subnet broadcast is routed by subnet (lwIP ipv4/ip4.c:170-176), so it
        leaves on our interface. Logged once, here."""
        cfg = self.cfg
        if self.engine.reply_broadcast == _LIMITED:
            self.engine.reply_broadcast = cfg.bcast
            if self.server is not None:
                self.server.set_reply_broadcast(cfg.bcast)
        b = self.engine.reply_broadcast
        log("microdhcp: %s: serving every interface; broadcast replies go to %d.%d.%d.%d"
            % (why, b[0], b[1], b[2], b[3]))

    def serve(self, until=None):
        if self.server is None:
            return self.fallback(until)
        log("microdhcp: serving %s on %s, pool %d addresses" % (self.cfg.subnet_text, self.name, self.cfg.pool_size))
        srv = self.server
        # The trouble pattern of fallback() (2 Hz toggling) while the lease store cannot write:
        # poll at most 250 ms at a time then, and toggle on the ticks, not per packet.
        led = None
        wait = 1000
        t_led = _ticks_ms()
        try:
            while until is None or self.clock.now() < until:
                st = self.store
                if st is not None and not st.persistent:
                    if led is None:
                        led = self.led
                        wait = 250
                    if led is not None and _ticks_diff(_ticks_ms(), t_led) >= 250:
                        t_led = _ticks_ms()
                        led.value(1 - led.value())
                try:
                    srv.poll(wait)
                except OSError as e:
                    # lwIP: a socket the stack closed (EBADF, poll HUP/NVAL) is recreated.
                    from microdhcp.errors import describe
                    log("microdhcp: socket reported %s; recreating it" % describe(e))
                    if not self._reopen(until):
                        return self.fallback(until)
                except MemoryError:
                    # A fragmented heap refused poll's own small allocation (the poll list where
                    # there is no ipoll): collect and serve on; the failures are counted.
                    srv.internal_errors += 1
                    gc.collect()
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
                from microdhcp.errors import describe
                log("microdhcp: cannot recreate the socket (%s); retrying" % describe(e))
                _sleep_ms(1000)
        return True

    def close(self):
        if self.server is not None:
            self.server.close()
        st = self.store
        if st is not None:
            # write_errors: commits the flash refused while serving (the lease was granted anyway)
            log("store: persistent=%d write_errors=%d" % (st.persistent, st.write_errors))
            st.close()
            self.store = None

    def fallback(self, until=None):
        """EADDRINUSE: someone else holds UDP 67 (on ESP32/Pico W the firmware's own server).
        Serve nothing, leave that server in place, and say so on the console and the LED."""
        msg = ("microdhcp: NOT SERVING. %s\nmicrodhcp: fallback: the firmware's own DHCP server (if any) "
               "answers; fix the cause and reset the board." % (self.port_error,))
        log(msg)
        led = self.led
        n = 0
        while until is None or self.clock.now() < until:
            if led is not None:
                led.value(n & 1)   # fast double blink pattern: 2 Hz toggling
            n += 1
            if n % 120 == 0:
                log(msg)          # repeated every minute for whoever opens the console late
            _sleep_ms(250)

    def check_led(self, taken=(), what=""):
        """config.py LED_PIN made into the LED now, at start-up (self.led), or a sentence saying
        why it cannot be. Made only when a fault was to blink, a pin the board has not was lost
        silently. Both ports raise ValueError for it: ESP32 a number outside its GPIO table or
        a name (ports/esp32/machine_pin.c:98-122), an input-only GPIO set as output (:229-232);
        rp2 an unknown name or a number outside 0-29 (ports/rp2/machine_pin.c:165-191).
        `taken`: GPIOs the firmware lets a script drive but the board's own chips use (`what`);
        made an output at start-up, one would cut the board off from them."""
        pin = getattr(self.c, "LED_PIN", None)
        if pin is None:
            return None
        if pin in taken:
            return "config.py: LED_PIN %d is wired to %s; give an LED's pin, or None" % (pin, what)
        try:
            from machine import Pin
        except ImportError:
            return None         # no board (CPython, the unix port): no LED to light
        try:
            self.led = Pin(pin, Pin.OUT)
        except (ValueError, TypeError, OverflowError) as e:
            return "config.py: LED_PIN %r: no such output pin on this board (%s); give an LED's pin, or None" % (pin, e)
        return None


_ESP32_FLASH = (6, 7, 8, 9, 10, 11)


def start_ap(b, network, socket, ap, down_first, pico):
    """The bind-first access-point start (docs/boards.md).

    ESP32 and Pico W start their own DHCP server when the AP comes up, no Python API stops it, and
    both ignore the result of their own bind. So UDP 67 is bound while the AP is down; the built-in
    server's bind then fails silently and it never receives. Returns whether we serve."""
    c = b.c
    # Pico W (and Pico 2 W): GP23, 24, 25 and 29 are the CYW43's power, data, chip select and
    # clock (pico-sdk boards/pico_w.h:129-156, pico2_w.h the same); GP25 is the plain Pico's LED,
    # the Pico W's is "LED". ESP32 modules: GPIO6-11 are the SPI flash's (Espressif on esp32.com,
    # viewtopic.php?p=23530; docs/configuration.md); the firmware makes either as an output (rp2 machine_pin.c:184-191,
    # esp32 machine_pin.h:42-47).
    kw = (b.check_led((23, 24, 25, 29), "the Wi-Fi chip on a Pico W (GP23-25, GP29; its LED is \"LED\")") if pico
          else b.check_led(_ESP32_FLASH, "the flash on an ESP32 module (GPIO6-11)")) or ap_settings(network, c, pico)
    if isinstance(kw, str):
        # Never an open AP in place of the protected one the user asked for: no AP at all (one
        # left up by boot.py is taken down too).
        if ap.active():
            ap.active(False)
        b.port_error = "access point not started: %s" % kw
        return False
    was_up = down_first or ap.active()
    if was_up:
        # ESP32: ap.active(False) always (ESP-IDF dhcps stops with the AP and frees port 67).
        # Pico W: only if it is up. From v1.28 that takes the AP's TCP/IP side down, the C
        # dhcpserver's pcb with it (cyw43-driver src/cyw43_ctrl.c:579-582 -> src/cyw43_lwip.c:
        # 246-268, synchronously); before, the server keeps port 67 (see _pico_free_port).
        ap.active(False)
    accept = StationFilter(ap) if pico else None
    # Before ap.active(True): the built-in server then fails its bind. ESP32: active(False) returns
    # before ESP-IDF's DHCP server has let go of port 67, so EADDRINUSE is retried for ~2 s.
    bound = b.bind(accept, 0 if pico else _WAIT_MS)
    if not bound and pico and was_up:
        bound = _pico_free_port(b, network, ap, accept)
    ap.config(**kw)
    # The firmware's DHCP server starts here (and fails to bind if we hold 67). Pico W: cyw43 makes
    # the AP the default netif (cyw43-driver src/cyw43_lwip.c:212), so 255.255.255.255 leaves on
    # the AP (lwIP ipv4/ip4.c:216-227) and so does the board's own traffic to the internet if the
    # STA was up before: its default route now points at the AP (docs/hardware.md).
    ap.active(True)
    set_address(ap, b.cfg)
    if bound and not pico:
        # ESP32: answer only the AP netif. Without it (firmware before v1.21, no name), hear
        # every interface: answer associated stations only, as on Pico W, and use the subnet
        # broadcast, since 255.255.255.255 would leave on the default netif (the STA when up).
        if not b.bind_device(socket, ifname(ap)):
            b.server.accept = StationFilter(ap)
    log("microdhcp: access point %r up at %s (%s)" % (c.SSID, Server._ip_text(b.cfg.server),
                                                       "WPA2" if "key" in kw else "open"))
    return bound


def _pico_free_port(b, network, ap, accept):
    # Pico W firmware before v1.28 (cyw43-driver before 055d642): ap.active(False) takes the AP's
    # link down and leaves its netif and the C DHCP server, which keeps UDP 67 when it had it (an
    # AP brought up by boot.py, or by a run that fell back), so the bind fails. WLAN.deinit()
    # (every version from v1.20: extmod/network_cyw43.c:133-137 -> cyw43-driver src/cyw43_ctrl.c
    # cyw43_deinit, :118-146) takes both interfaces' TCP/IP side down, that server with it, and
    # powers the chip off; ap.config() and ap.active(True) then bring it back. It ends the
    # station link too: never done while the STA is active; that case is said instead.
    try:
        sta = network.WLAN(network.STA_IF).active()
    except (AttributeError, OSError, ValueError):
        sta = False
    held = "UDP port 67 still held after ap.active(False) (the firmware's DHCP server keeps it there before v1.28)"
    if sta:
        b.port_error = ("the AP was up before main.py: %s; WLAN.deinit() would free it but end the station "
                        "link: start the AP from main.py only, power-cycle, or use firmware v1.28+" % held)
        return False
    log("microdhcp: %s: WLAN.deinit()" % held)
    ap.deinit()
    return b.bind(accept, 0)


def start_wired(b, nic, socket, device):
    # Wired boards (ESP32 network.LAN, WIZNET5K in lwIP mode) start no DHCP server: port 67 is free.
    why = b.check_led(_ESP32_FLASH if device else (), "the flash on an ESP32 module (GPIO6-11)")   # device: ESP32 (see start_ap)
    if why:
        b.port_error = why
        return False
    set_address(nic, b.cfg)
    bound = b.bind()
    if bound and device:
        b.bind_device(socket, ifname(nic))   # ESP32: only the Ethernet netif
    # Right after active(True) neither board reports a link yet: ESP32 LAN's isconnected() waits
    # for ESP-IDF's ETH_GOT_IP (ports/esp32/network_lan.c:485-488), WIZNET5K's for PHY link and a
    # non-zero address (extmod/network_wiznet5k.c:824-831); autonegotiation takes seconds.
    log("microdhcp: wired interface up at %s, %s" % (
        Server._ip_text(b.cfg.server),
        "link up" if nic.isconnected() else "link not reported yet (normal for a few seconds after start)"))
    return bound


def run(b):
    """Store, serve (or fall back), then print the lease table; bounded by config RUN_SECONDS."""
    if getattr(b.c, "DNS_HOSTS", None):
        log("microdhcp: DNS_HOSTS is not used: no DNS runs here (the captive kit's DNS does, while microdhcp serves)")
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
        srv = b.server
        if srv is not None:
            # empty: 0-byte datagrams; rebinds: the ESP32 latch they set, cleared (net.Server._recover)
            log("socket: sent=%d send_errors=%d recv_errors=%d recv_nomem=%d empty=%d rebinds=%d internal_errors=%d"
                % (srv.sent, srv.send_errors, srv.recv_errors, srv.recv_nomem, srv.empty, srv.rebinds, srv.internal_errors))
