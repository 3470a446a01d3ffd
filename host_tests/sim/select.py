# host_tests/sim/select.py: select.poll over the simulated sockets; waiting hands over to the test.
from _sim import world

POLLIN = 1
POLLOUT = 4
POLLERR = 8
POLLHUP = 16


class _Poll:
    def __init__(self):
        self._objs = []

    def register(self, obj, mask=POLLIN | POLLOUT):
        self.unregister(obj)
        self._objs.append((obj, mask))

    def unregister(self, obj):
        self._objs = [(o, m) for o, m in self._objs if o is not obj]

    def modify(self, obj, mask):
        self.register(obj, mask)

    def _ready(self):
        r = []
        for o, m in self._objs:
            ev = o._events() & (m | POLLERR | POLLHUP | 0x20)
            if ev:
                r.append((o, ev))
        return r

    def poll(self, timeout=-1):
        r = self._ready()
        if r or timeout == 0:
            return r
        world.idle(timeout)
        return self._ready()

    def ipoll(self, timeout=-1, flags=0):
        return iter(self.poll(timeout))


def poll():
    return _Poll()
