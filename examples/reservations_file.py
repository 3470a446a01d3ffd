# MIT license; Copyright (c) 2026 the microdhcp authors
# Example: static leases read from a text file, one per line: "MAC address" or "id:HEX address";
# blank lines and lines starting with # are skipped. A bad line stops the start with its number.
#   reservations.txt:
#     # printer and camera
#     02:00:00:00:00:07 192.168.4.20
#     id:01:02:03:04 192.168.4.21
#   On a host: sudo env MICROPYPATH=firmware micropython examples/reservations_file.py reservations.txt
import sys

from microdhcp.config import Config
from microdhcp.engine import Engine
from microdhcp.net import Server

SETTINGS = dict(address="192.168.4.1/24", pool="192.168.4.2-192.168.4.99", routers=["192.168.4.1"])


def read_reservations(path):
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) != 2:
                raise ValueError("%s line %d: write 'MAC address' or 'id:HEX address', got %r" % (path, n, line))
            out.append((parts[0], parts[1]))
    return out


def run(path, settings=SETTINGS, sock=None, seconds=None, out=print):
    kw = dict(settings)
    kw["reservations"] = read_reservations(path)    # Config checks each (address in the subnet, ...)
    server = Server(Engine(Config(**kw)), sock=sock)
    out("%d reservations from %s" % (len(kw["reservations"]), path))
    server.serve_forever(None if seconds is None else server.clock.now() + seconds)
    server.close()


if __name__ == "__main__":
    run(sys.argv[1] if len(sys.argv) > 1 else "reservations.txt")
