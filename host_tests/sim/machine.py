# host_tests/sim/machine.py: the few machine classes the boards use; LED changes are recorded.
import _sim
from _sim import world


_RP2_NAMES = ["LED"] + ["GPIO%d" % i for i in range(30)]
if _sim.BOARD == "pico_w":
    _RP2_NAMES += ["GP%d" % i for i in list(range(23)) + [26, 27, 28]]
    _RP2_NAMES += ["WL_GPIO%d" % i for i in range(3)] + ["EXT_GPIO%d" % i for i in range(3)]


class Pin:
    IN = 0
    OUT = 1
    PULL_UP = 1
    PULL_DOWN = 2

    def __init__(self, id, mode=-1, pull=-1, value=None):
        # Which pins the firmware makes (MicroPython v1.29). A bool is no int there (not a small
        # int, not of the int type: py/obj.h mp_obj_is_int), hence type() below.
        if _sim.ESP32:
            # ESP32_GENERIC: a number indexes the GPIO table, whose holes (24, 28-31: no such GPIO;
            # ports/esp32/machine_pin.h:34-72) and out-of-range numbers raise (ports/esp32/
            # machine_pin.c:104-111, :122); a name is looked up in the board's named pins, and that
            # board has none (ports/esp32/machine_pin.c:114-122).
            # GPIO34-39 are inputs only (machine_pin.c:55, :229-232).
            if type(id) is not int or not 0 <= id < 40 or id == 24 or 28 <= id <= 31:
                raise ValueError("invalid pin")
            if mode == Pin.OUT and id >= 34:
                raise ValueError("pin can only be input")
        elif type(id) is str:
            # rp2: the board's names (boards/RPI_PICO_W/pins.csv, boards/W5500_EVB_PICO/pins.csv),
            # then the CPU's (GPIO0-29, and the Pico W's cyw43 EXT_GPIO0-2), else ValueError
            # (ports/rp2/machine_pin.c:165-183).
            if id not in _RP2_NAMES:
                raise ValueError('unknown named pin "%s"' % id)
        elif type(id) is not int or not 0 <= id < 30:
            # rp2: 0 to NUM_BANK0_GPIOS-1 (30 on the RP2040; machine_pin.c:184-191)
            raise ValueError("invalid pin")
        self.id = id
        self._v = 0 if value is None else value

    def value(self, v=None):
        if v is None:
            return self._v
        if v != self._v:
            world.led.append(v)
        self._v = v

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)


class SPI:
    def __init__(self, id, baudrate=1000000, **kw):
        self.id = id


def reset():
    print("SIM reset")
    raise SystemExit(0)


def unique_id():
    return b"\x51\x51\x51\x51\x51\x51"
