# MIT license; Copyright (c) 2026 the microdhcp authors
# Example: the DHCP server as one asyncio task beside others (a web server, a sensor reader).
# server.serve() polls without blocking and yields to the other tasks between datagrams.
#   On a board: copy to the board as main.py (microdhcp installed, the interface up; see boards/).
#   On a host: sudo env MICROPYPATH=firmware micropython examples/asyncio_tasks.py
import asyncio

from microdhcp.config import Config
from microdhcp.engine import Engine
from microdhcp.net import Server

SETTINGS = dict(address="192.168.4.1/24", pool="192.168.4.2-192.168.4.99", routers=["192.168.4.1"],
                dns=["192.168.4.1"])


async def heartbeat(state):
    # Another task: it keeps running while the server serves.
    while True:
        state["beats"] += 1
        await asyncio.sleep(0.1)


async def main(settings, sock, seconds, out):
    server = Server(Engine(Config(**settings)), sock=sock)
    state = {"beats": 0}
    tasks = [asyncio.create_task(server.serve()), asyncio.create_task(heartbeat(state))]
    if seconds is None:
        await asyncio.gather(*tasks)
    await asyncio.sleep(seconds)
    for t in tasks:
        t.cancel()
    out("heartbeat ran %d times; %d replies sent" % (state["beats"], server.sent))
    server.close()


def run(settings=SETTINGS, sock=None, seconds=None, out=print):
    asyncio.run(main(settings, sock, seconds, out))


if __name__ == "__main__":
    run()
