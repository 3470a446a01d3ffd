# MIT license; Copyright (c) 2026 the microdhcp authors
"""floor_responder: the least a DHCP server on the MicroPython unix port can do per message.

    micropython tools/floor_responder.py SERVER_IP FIRST_ADDRESS COUNT

A measuring stick for tools/bench_cpu.py and tools/bench.py ("mpy-floor"), not a server: it
keeps no table, checks nothing but op and option 53, and gives every client the address
FIRST + (last chaddr octet % COUNT). It reads datagrams exactly as microdhcp.net does on this
port (poll, then ipoll(0) before each recv(1500), which allocates the datagram), builds a
300-byte OFFER or ACK in one preallocated buffer with a viper function, and sends it with one
sendto to giaddr:67 (relays, as perfdhcp is in the lab) or to 255.255.255.255:68. Whatever CPU
time it takes per DORA is taken by the runtime and the kernel, not by DHCP logic: what is left
of a server's figure above it is the price of the server's own work (docs/performance.md, 1d).
"""
import sys
import socket
import select
import micropython


@micropython.viper
def answer(rx: ptr8, n: int, tx: ptr8, sid: ptr8, first: int, count: int) -> int:
    # -> 300 (bytes to send) or 0 (not a DISCOVER or REQUEST)
    if n < 244 or rx[0] != 1:
        return 0
    i = 240          # options, after the 236-byte header and the magic cookie
    kind = 0
    while i + 2 < n:
        c = rx[i]
        if c == 255:
            break
        if c == 0:
            i += 1
            continue
        if c == 53:
            kind = rx[i + 2]
            break
        i += 2 + rx[i + 1]
    if kind == 1:
        kind = 2     # DISCOVER -> OFFER
    elif kind == 3:
        kind = 5     # REQUEST -> ACK
    else:
        return 0
    tx[0] = 2
    j = 1
    while j < 16:    # htype, hlen, hops, xid, secs, flags, ciaddr
        tx[j] = rx[j]
        j += 1
    tx[16] = sid[0]
    tx[17] = sid[1]
    tx[18] = sid[2]
    tx[19] = first + int(rx[33]) % count
    j = 24
    while j < 44:    # giaddr, chaddr
        tx[j] = rx[j]
        j += 1
    o = 236          # the magic cookie, then the options
    tx[o] = 99
    tx[o + 1] = 130
    tx[o + 2] = 83
    tx[o + 3] = 99
    tx[o + 4] = 53
    tx[o + 5] = 1
    tx[o + 6] = kind
    tx[o + 7] = 54
    tx[o + 8] = 4
    tx[o + 9] = sid[0]
    tx[o + 10] = sid[1]
    tx[o + 11] = sid[2]
    tx[o + 12] = sid[3]
    tx[o + 13] = 51
    tx[o + 14] = 4
    tx[o + 15] = 0
    tx[o + 16] = 0
    tx[o + 17] = 14
    tx[o + 18] = 16          # 3600 s
    tx[o + 19] = 1
    tx[o + 20] = 4
    tx[o + 21] = 255
    tx[o + 22] = 255
    tx[o + 23] = 255
    tx[o + 24] = 0
    tx[o + 25] = 255
    return 300


def main(argv):
    sid = bytes(int(x) for x in argv[1].split("."))
    first_ip = [int(x) for x in argv[2].split(".")]
    count = int(argv[3])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.bind(socket.getaddrinfo("0.0.0.0", 67)[0][-1])
    s.setblocking(False)
    p = select.poll()
    p.register(s, select.POLLIN)
    ipoll = p.ipoll
    ipoll(0)
    tx = bytearray(300)
    view = memoryview(tx)
    bcast = socket.getaddrinfo("255.255.255.255", 68)[0][-1]
    relay = bytearray(socket.getaddrinfo("0.0.0.0", 67)[0][-1])
    first = first_ip[3]
    print("floor responder on %s" % argv[1])
    while True:
        for _ in ipoll(1000):
            break
        else:
            continue
        while True:
            for _ in ipoll(0):
                break
            else:
                break
            rx = s.recv(1500)    # read where it lies, as the server does (no copy)
            n = len(rx)
            if not answer(rx, n, tx, sid, first, count):
                continue
            if rx[24] or rx[25] or rx[26] or rx[27]:
                relay[4] = rx[24]
                relay[5] = rx[25]
                relay[6] = rx[26]
                relay[7] = rx[27]
                s.sendto(view, relay)
            else:
                s.sendto(view, bcast)


if __name__ == "__main__":
    try:
        main(sys.argv)
    except KeyboardInterrupt:
        pass
