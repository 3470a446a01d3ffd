# example_driver: runs one of examples/*.py on either runtime for host_tests/test_examples.py, on
# 127.0.0.1 and unprivileged ports: the example's own run() with the test's settings, a socket
# bound to SERVER_PORT, and replies sent to CLIENT_PORT instead of 68 (microdhcp.net's port).
#   python3|micropython host_tests/example_driver.py NAME SERVER_PORT CLIENT_PORT SECONDS [FILE]
import sys
import socket

HERE = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
sys.path.insert(0, HERE + "/../examples")
sys.path.insert(0, HERE + "/../firmware")

import microdhcp.net as net     # noqa: E402


def main(argv):
    name, sport, cport, seconds = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    # Broadcast replies go to CLIENT_PORT instead of 68. net's port is a const() (inlined by
    # MicroPython's compiler, so it cannot be patched): the address is rewritten after set-up.
    setup = net.Server._setup_io

    def setup_io(srv):
        setup(srv)
        srv._bcast = srv._addr(srv._ip_text(srv.engine.reply_broadcast), cport)
    net.Server._setup_io = setup_io
    mod = __import__(name)
    settings = dict(address="127.0.0.1/24", pool="127.0.0.10-127.0.0.20", routers=["127.0.0.1"],
                    reply_broadcast="127.0.0.1", lease_time=600)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(socket.getaddrinfo("127.0.0.1", sport)[0][-1])
    print("ready")
    if name == "reservations_file":
        mod.run(argv[4], settings=settings, sock=s, seconds=seconds)
    else:
        mod.run(settings=settings, sock=s, seconds=seconds)
    print("done")


main(sys.argv[1:])
