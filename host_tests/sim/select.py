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

    def _wait(self, timeout):
        world.heap.enter()
        try:
            r = self._ready()
            if not r and timeout != 0:
                world.idle(timeout)
                r = self._ready()
            return r
        finally:
            world.heap.leave()

    def poll(self, timeout=-1):
        # extmod/modselect.c:564-576: a new list and one new 2-tuple per ready object, every call.
        # Built here after heap.leave(), so the simulator counts them as the program's.
        return [(o, ev) for o, ev in self._wait(timeout)]

    def ipoll(self, timeout=-1, flags=0):
        # modselect.c:583-594: returns the poll object itself and reuses one tuple (made on the
        # first call): nothing allocated per call. The iterator is built inside the bracket.
        r = self._wait(timeout)
        world.heap.enter()
        it = iter(r)
        world.heap.leave()
        return it


def poll():
    return _Poll()
