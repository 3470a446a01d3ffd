# host_tests/sim/network.py: WLAN (STA and AP), LAN (ESP32) and WIZNET5K (W5500-EVB-Pico) of the
# simulated board, driving the netifs and the firmware's DHCP server in _sim.World.
import _sim
from _sim import world, ipstr

STA_IF = 0
AP_IF = 1
STAT_IDLE = 0
STAT_GOT_IP = 3 if _sim.ESP32 else 3


def _get_ifconfig(nf):
    return (ipstr(nf.ip), ipstr(nf.mask), ipstr(nf.gw), ipstr(nf.dns))


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

    def ipconfig(self, *args, **kw):
        nf = world.netifs[self._kind]
        if args and args[0] == "addr4":
            return (ipstr(nf.ip), ipstr(nf.mask))
        if kw.get("addr4"):
            a, p = kw["addr4"].split("/")
            n = int(p)
            m = ((0xFFFFFFFF << (32 - n)) & 0xFFFFFFFF).to_bytes(4, "big")
            world.ifconfig(self._kind, (a, ipstr(m), ipstr(nf.gw), ipstr(nf.dns)))
            return None
        raise ValueError("unknown config param")

    def isconnected(self):
        return world.netifs[self._kind].up

    def config(self, *args, **kw):
        nf = world.netifs[self._kind]
        if args:
            k = args[0]
            if k not in self._params:
                raise ValueError("unknown config param")
            if k == "mac":
                return nf.mac
            if k == "ifname":
                return nf.name
            return self._cfg.get(k)
        for k in kw:
            if k not in self._params:
                raise ValueError("unknown config param")
            self._cfg[k] = kw[k]


class WLAN(_Nic):
    SEC_OPEN = 0
    if _sim.ESP32:
        SEC_WPA2 = 3
        SEC_WPA_WPA2 = 4
        _params = ("mac", "ssid", "essid", "channel", "hidden", "security", "authmode", "key",
                   "password", "hostname", "max_clients", "txpower", "pm", "ifname", "reconnects")
    else:
        SEC_WPA_WPA2 = 4194310
        SEC_WPA2_WPA3 = 20971524
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
        return _Nic.active(self, v)

    def status(self, param=None):
        if param is None:
            return STAT_GOT_IP if world.netifs[self._kind].up else STAT_IDLE
        if param == "stations":
            if self._kind != "ap":
                raise ValueError("AP required")
            return [(m,) for m in world.stations]
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
    AUTH_OPEN = 0
    AUTH_WPA2_PSK = 3

    class LAN(_Nic):
        _params = ("mac", "ifname")

        def __init__(self, id=0, *, mdc, mdio, phy_type, phy_addr, power=None, ref_clk=None,
                     ref_clk_mode=None, spi=None, cs=None, int=None):
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
