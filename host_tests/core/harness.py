# harness: a server engine and a tiny scripted client for the core tests (both runtimes).
from microdhcp.config import Config
from microdhcp.engine import Engine
import dhcpkit as k

SERVER = k.ip("192.168.4.1")


class Now:
    """A clock that says what t holds (seconds); tests set t to move time."""

    def __init__(self, t=0):
        self.t = t

    def now(self):
        return self.t


def engine(events=None, tx_size=1500, **cfg):
    cfg.setdefault("address", "192.168.4.1/24")
    cfg.setdefault("pool", ("192.168.4.10", "192.168.4.19"))
    cfg.setdefault("routers", ["192.168.4.1"])
    cfg.setdefault("dns", ["192.168.4.1", "9.9.9.9"])
    log = events
    if log is None:
        # Room for the 513 entries it ever holds, made at once: a list grown by appends is
        # reallocated (to 4 KB on a 32-bit build), which a long run's fragmented heap may not
        # have in one piece (test_table failed so on the Cortex-M3 build, tools/qemu_run.py).
        log = [None] * 520
        del log[:]          # empties the list but keeps its room (py/objlist.c does not shrink)
    keep = events is None   # the default log keeps the last events only (long runs stay small)

    def on_event(kind, slot):
        log.append((kind, slot))
        if keep and len(log) > 512:
            del log[:256]
    e = Engine(Config(**cfg), on_event=on_event)
    e.tx = bytearray(tx_size)
    e.log = log
    return e


def send(e, data, now=0):
    """Runs one message; returns the parsed reply or None."""
    n = e.handle(data, now, e.tx)
    if not n:
        return None
    return k.parse(e.tx, n)


def send_locked(e, data, now=0):
    """send() with handle() under micropython.heap_lock() where there is one (MicroPython): a
    handle() that makes a heap object raises MemoryError, as on a board's locked serve path
    (net.Server._batch). Set e.on_event = None first: the harness's event log appends."""
    try:
        from micropython import heap_lock, heap_unlock
    except ImportError:
        heap_lock = heap_unlock = None
    if heap_lock is None:
        n = e.handle(data, now, e.tx)
    else:
        heap_lock()
        try:
            n = e.handle(data, now, e.tx)
        finally:
            heap_unlock()
    return k.parse(e.tx, n) if n else None


def discover(e, client=1, now=0, options=(), **kw):
    return send(e, k.msg(k.DISCOVER, client, options, **kw), now)


def request_selecting(e, client, addr, now=0, server=SERVER, options=(), **kw):
    return send(e, k.msg(k.REQUEST, client, ((50, addr), (54, server)) + tuple(options), **kw), now)


def dora(e, client=1, now=0, options=()):
    """DISCOVER then REQUEST for the offered address; returns the ACK (parsed)."""
    offer = discover(e, client, now, options)
    assert offer is not None and offer["type"] == k.OFFER, "no OFFER"
    ack = request_selecting(e, client, offer["yiaddr"], now, options=options)
    assert ack is not None and ack["type"] == k.ACK, "no ACK: %r" % (ack,)
    return ack


def renew(e, client, addr, now):
    return send(e, k.msg(k.REQUEST, client, (), ciaddr=addr), now)


def release(e, client, addr, now=0):
    return send(e, k.msg(k.RELEASE, client, ((54, SERVER),), ciaddr=addr), now)


def decline(e, client, addr, now=0):
    return send(e, k.msg(k.DECLINE, client, ((50, addr), (54, SERVER))), now)


def addr_of(e, slot):
    # Slot -> 4-byte address.
    return e.cfg.addr(e.table.offset_of(slot))


def slot_of(e, addr):
    return e.table.slot_of(e.cfg.offset(addr))


def state(e, addr):
    # State name of the slot holding `addr` ("free", "offered", "bound", ...).
    from microdhcp.codes import STATE_NAMES
    return STATE_NAMES[e.table.state[slot_of(e, addr)]]


def init_reboot(e, client, addr, now=0, options=(), **kw):
    # RFC 2131 4.3.2 INIT-REBOOT: option 50 filled, no option 54, ciaddr 0.
    return send(e, k.msg(k.REQUEST, client, ((50, addr),) + tuple(options), **kw), now)


def inform(e, client, ciaddr, now=0, options=(), **kw):
    return send(e, k.msg(k.INFORM, client, options, ciaddr=ciaddr, **kw), now)


def kinds(e):
    # Event kinds seen so far, in order.
    return [ev[0] for ev in e.log]


# The machine-code twins (microdhcp.fast, viper) as imported by packet.py, engine.py, identity.py and reply.py: None on
# CPython or where they do not compile. use_fast(False) makes the engine take its plain-Python
# code everywhere (mp_runner --plain, test_viper's differential runs); use_fast(True) restores.
_FAST_NAMES = (("packet", "vparse"), ("engine", "_fast"), ("identity", "_fast"), ("reply", "_fast"))
_FAST = {}


def _fast_modules():
    import microdhcp.packet
    import microdhcp.engine
    import microdhcp.identity
    import microdhcp.reply
    return {"packet": microdhcp.packet, "engine": microdhcp.engine, "identity": microdhcp.identity,
            "reply": microdhcp.reply}


def fast_available():
    mods = _fast_modules()
    if not _FAST:
        for m, name in _FAST_NAMES:
            _FAST[(m, name)] = getattr(mods[m], name)
    return all(v is not None for v in _FAST.values())


def use_fast(on):
    fast_available()
    mods = _fast_modules()
    for m, name in _FAST_NAMES:
        setattr(mods[m], name, _FAST[(m, name)] if on else None)


def fast_on():
    # True while the twins are in use (not switched off by use_fast(False)).
    import microdhcp.packet
    return microdhcp.packet.vparse is not None


def fast_twin(name):
    # One twin of microdhcp.fast as imported (None where it did not compile), whatever use_fast set.
    fast_available()
    m = _FAST[("engine", "_fast")]
    return getattr(m, name) if m is not None else None
