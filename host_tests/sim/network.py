# host_tests/sim/network.py: WLAN (STA and AP), LAN (ESP32) and WIZNET5K (W5500-EVB-Pico) of the
# simulated board, driving the netifs and the firmware's DHCP server in _sim.World.
import _sim
from _sim import world, ipstr

STA_IF = 0
AP_IF = 1
# status() values: ESP32 ports/esp32/modnetwork.h:65, :67 (exported by modnetwork_globals.h:79-81),
# rp2 extmod/modnetwork.c:197, :202 (CYW43_LINK_DOWN 0, CYW43_LINK_UP 3: cyw43-driver src/cyw43.h:98, :101).
STAT_IDLE = 1000 if _sim.ESP32 else 0
STAT_GOT_IP = 1010 if _sim.ESP32 else 3


def _get_ifconfig(nf):
    # The 4th item is the board's DNS server: rp2 dns_getserver(0) (extmod/network_lwip.c:73-79),
    # ESP32 the netif's main DNS (ports/esp32/network_common.c:102).
    return (ipstr(nf.ip), ipstr(nf.mask), ipstr(nf.gw), ipstr(world.dns))


# nic.ipconfig(): ESP32 from v1.24 (ports/esp32/network_common.c esp_nic_ipconfig, absent in
# v1.23.0), rp2 from v1.23 (extmod/network_lwip.c mod_network_nic_ipconfig, absent in v1.22.0).
_HAS_IPCONFIG = _sim.fw_at_least(1, 24) if _sim.ESP32 else _sim.fw_at_least(1, 23)
# Wired link: autonegotiation takes a while after active(True); isconnected() is False until then.
_LINK_MS = 2000


class _Nic:
    _kind = "eth"
    _params = ("mac",)

    def active(self, v=None):
        if v is None:
            return world.netifs[self._kind].up
        if v:
            world.if_up(self._kind)
        else:
            world.if_down(self._kind)

    def ifconfig(self, t=None):
        nf = world.netifs[self._kind]
        if t is None:
            return _get_ifconfig(nf)
        if not isinstance(t, tuple) or len(t) != 4:
            raise TypeError("ifconfig takes a 4-tuple")
        world.ifconfig(self._kind, t)

    def _ipconfig(self, *args, **kw):
        # addr4="a.b.c.d/n" and gw4 set the netif only; the DNS server is untouched
        # (network_common.c:273-297 ESP32, network_lwip.c:302-392 rp2).
        nf = world.netifs[self._kind]
        if args and args[0] == "addr4":
            return (ipstr(nf.ip), ipstr(nf.mask))
        if args and args[0] == "gw4":
            return ipstr(nf.gw)
        if not kw:
            raise ValueError("unknown config param")
        for k in kw:
            if k not in ("addr4", "gw4"):
                raise ValueError("unexpected key")
        a, m, g = nf.ip, nf.mask, nf.gw
        if kw.get("addr4"):
            t, p = kw["addr4"].split("/")
            n = int(p)
            a = _sim.ip(t)
            m = ((0xFFFFFFFF << (32 - n)) & 0xFFFFFFFF).to_bytes(4, "big")
        if kw.get("gw4"):
            g = _sim.ip(kw["gw4"])
        dns = world.dns
        world.ifconfig(self._kind, (ipstr(a), ipstr(m), ipstr(g), ipstr(dns)))
        world.dns = dns
        return None

    if _HAS_IPCONFIG:
        ipconfig = _ipconfig

    def isconnected(self):
        # Wired: ESP32 LAN is connected once ESP-IDF reports ETH_GOT_IP (ports/esp32/network_lan.c:
        # 485-488); WIZNET5K once the PHY has link and the netif an address (extmod/
        # network_wiznet5k.c:824-831). Neither holds right after active(True).
        nf = world.netifs[self._kind]
        return nf.up and world.ms - nf.up_at >= _LINK_MS and nf.ip != b"\0\0\0\0"

    def config(self, *args, **kw):
        nf = world.netifs[self._kind]
        if args:
            k = args[0]
            if k not in self._params:
                raise ValueError("unknown config param")
            if k == "mac":
                return nf.mac
            if k == "ifname":
                # ESP32 (v1.21+): esp_ifname() is None until ESP-IDF has made the lwIP netif
                # (ports/esp32/network_common.c:329-335).
                if _sim.IFNAME_MS == "never" or not nf.up or world.ms - nf.up_at < int(_sim.IFNAME_MS):
                    return None
                return nf.name
            return self._cfg.get(k)
        for k in kw:
            if k not in self._params:
                raise ValueError("unknown config param")
            self._cfg[k] = kw[k]
            if self._kind == "ap":
                key = {"authmode": "security", "password": "key"}.get(k, k)
                world.ap_cfg[key] = kw[k]


class WLAN(_Nic):
    # WLAN.SEC_* appeared in v1.23 on both ports (ESP32 ports/esp32/network_wlan.c, v1.23.0
    # line 736; cyw43 extmod/network_cyw43.c, commit 7753045a8f, first in v1.23.0). Before that
    # ESP32 has network.AUTH_* (modnetwork_globals.h, v1.20.0 line 25) and cyw43 no names at all.
    if _sim.fw_at_least(1, 23):
        SEC_OPEN = 0
        if _sim.ESP32:
            SEC_WPA2 = 3
            SEC_WPA_WPA2 = 4
        else:
            SEC_WPA_WPA2 = 4194310
            SEC_WPA2_WPA3 = 20971524
    if _sim.ESP32:
        # config("ifname") from v1.21 on (network_wlan.c, v1.21.0 line 620; 1c3c201149 line 725).
        _params = ("mac", "ssid", "essid", "channel", "hidden", "security", "authmode", "key",
                   "password", "hostname", "max_clients", "txpower", "pm", "reconnects") + \
            (("ifname",) if _sim.fw_at_least(1, 21) else ())
    else:
        # cyw43: no "ifname" parameter
        _params = ("mac", "ssid", "essid", "channel", "hidden", "security", "key", "password",
                   "hostname", "txpower", "pm")

    def __init__(self, interface_id=STA_IF):
        if _sim.BOARD == "w5500":
            raise ValueError("no WLAN on this board")
        self._kind = "ap" if interface_id == AP_IF else "sta"
        self._cfg = {}

    def active(self, v=None):
        if v and self._kind == "ap" and not self._cfg.get("ssid") and not self._cfg.get("essid"):
            self._cfg["ssid"] = "MPY-SIM"
        if not _sim.ESP32 and self._kind == "ap":
            # cyw43: the AP's up/down as the driver of the firmware's version does it (_sim.World.
            # cyw43_active); active() reports the last value given (network_cyw43.c:142-143).
            if v is None:
                return world.if_active["ap"]
            world.cyw43_active("ap", bool(v))
            return None
        return _Nic.active(self, v)

    if not _sim.ESP32:
        def deinit(self):
            # cyw43: the whole driver, both interfaces (_sim.World.cyw43_deinit).
            world.cyw43_deinit()

    def status(self, param=None):
        if param is None:
            return STAT_GOT_IP if world.netifs[self._kind].up else STAT_IDLE
        if param == "stations":
            if self._kind != "ap":
                raise ValueError("AP required")
            if _sim.ESP32:
                # (mac, ip or None) per station (ports/esp32/network_wlan.c:434-441); the ip comes
                # from ESP-IDF's DHCP server's table, which is empty while microdhcp serves.
                return [(m, None) for m in world.stations]
            return [(m,) for m in world.stations]   # extmod/network_cyw43.c:383-386
        if param == "rssi":
            return -40
        raise ValueError("unknown status param")

    def isconnected(self):
        if self._kind == "ap":
            return bool(world.stations)
        return world.netifs["sta"].up


if _sim.ESP32:
    PHY_LAN8720 = 1
    PHY_IP101 = 2
    PHY_RTL8201 = 3
    PHY_DP83848 = 4
    PHY_KSZ8041 = 5
    AUTH_OPEN = 0              # ports/esp32/modnetwork_globals.h (every version)
    AUTH_WPA2_PSK = 3

    class LAN(_Nic):
        _params = ("mac",)

        def __init__(self, id=0, *, mdc, mdio, phy_type, phy_addr, power=None, ref_clk=None,
                     ref_clk_mode=None, spi=None, cs=None, int=None):
            if _sim.fw_at_least(1, 21):
                self._params = ("mac", "ifname")
            if phy_type not in (PHY_LAN8720, PHY_IP101, PHY_RTL8201, PHY_DP83848, PHY_KSZ8041):
                raise ValueError("invalid phy type")
            if not 0 <= phy_addr <= 31:
                raise ValueError("invalid phy address")
            self._kind = "eth"
            self._cfg = {}
            self.pins = (mdc, mdio, power, ref_clk, ref_clk_mode)

        def status(self, param=None):
            return 3 if world.netifs["eth"].up else 0

if _sim.BOARD == "w5500":
    class WIZNET5K(_Nic):
        _params = ("mac",)

        def __init__(self, *args):
            if len(args) not in (0, 3, 4):
                raise TypeError("WIZNET5K(spi, pin_cs, pin_rst[, pin_intn]) or no arguments")
            self._kind = "eth"
            self._cfg = {}

        def status(self, param=None):
            return 3 if world.netifs["eth"].up else 0


def hostname(name=None):
    return "mpy-sim" if name is None else None


def country(code=None):
    return "XX" if code is None else None


def ipconfig(*args, **kw):
    return None
