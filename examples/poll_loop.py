# MIT license; Copyright (c) 2026 the microdhcp authors
# Example: the DHCP server as one step of your own loop (no asyncio, no threads).
# server.poll() handles whatever datagrams are waiting and the leases that are due, then returns;
# the rest of the loop is yours (here: a counter standing in for reading a sensor or blinking).
#   On a board: copy to the board as main.py (microdhcp installed, the interface up; see boards/).
#   On a host: sudo env MICROPYPATH=firmware micropython examples/poll_loop.py
#   (host_tests/test_examples.py runs it on both runtimes on an unprivileged port.)
import time

from microdhcp.config import Config
from microdhcp.engine import Engine
from microdhcp.net import Server

SETTINGS = dict(address="192.168.4.1/24", pool="192.168.4.2-192.168.4.99", routers=["192.168.4.1"],
                dns=["192.168.4.1"], lease_time=3600)


def run(settings=SETTINGS, sock=None, seconds=None, out=print):
    server = Server(Engine(Config(**settings)), sock=sock)
    start = time.time()
    ticks = 0
    while seconds is None or time.time() - start < seconds:
        server.poll(100)        # waits at most 100 ms for a datagram, then returns
        ticks += 1              # your own work goes here
    out("loop ran %d times; %d replies sent" % (ticks, server.sent))
    server.close()


if __name__ == "__main__":
    run()
