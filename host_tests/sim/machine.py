# host_tests/sim/machine.py: the few machine classes the boards use; LED changes are recorded.
import _sim
from _sim import world


class Pin:
    IN = 0
    OUT = 1
    PULL_UP = 1
    PULL_DOWN = 2

    def __init__(self, id, mode=-1, pull=-1, value=None):
        if _sim.ESP32 and not isinstance(id, int):
            # ESP32_GENERIC: a name is looked up in the board's named pins, and that board has
            # none (ports/esp32/machine_pin.c:114-122). rp2 also takes "LED".
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
