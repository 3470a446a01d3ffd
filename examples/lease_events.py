# MIT license; Copyright (c) 2026 the microdhcp authors
# Example: lease events sent to your own callback, e.g. to log them, light an LED per client or
# tell another service. on_event(kind, slot) is called by the engine while it serves; slot is the
# lease table slot (-1 for events with no address). It runs on the packet path, so keep it short.
#   On a host: sudo env MICROPYPATH=firmware micropython examples/lease_events.py
from microdhcp.config import Config
from microdhcp.engine import Engine
from microdhcp.codes import EV_OFFER, EV_BOUND, EV_RENEWED, EV_RELEASED, EV_EXPIRED
from microdhcp.net import Server
from microdhcp.ipv4 import fmt_ip, fmt_hex
from microdhcp.codes import HW_SIZE

SETTINGS = dict(address="192.168.4.1/24", pool="192.168.4.2-192.168.4.99", routers=["192.168.4.1"])
WHAT = {EV_OFFER: "offered", EV_BOUND: "bound", EV_RENEWED: "renewed", EV_RELEASED: "released",
        EV_EXPIRED: "expired"}


def make_server(settings=SETTINGS, sock=None, out=print):
    engine = Engine(Config(**settings))
    t = engine.table

    def on_event(kind, slot):
        what = WHAT.get(kind)
        if what is None or slot < 0:
            return
        addr = engine.cfg.addr(t.offset_of(slot))          # the lease's address
        mac = fmt_hex(t.hw, slot * HW_SIZE + 1, 6)          # the client's hardware address
        out("%s %s %s" % (what, fmt_ip(addr), mac))
    engine.on_event = on_event
    return Server(engine, sock=sock)


def run(settings=SETTINGS, sock=None, seconds=None, out=print):
    server = make_server(settings, sock, out)
    server.serve_forever(None if seconds is None else server.clock.now() + seconds)
    server.close()


if __name__ == "__main__":
    run()
