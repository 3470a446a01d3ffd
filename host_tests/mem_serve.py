# mem_serve: host_tests/mem_dora.py's run through the whole server, on the unix port. net.Server is
# bound to port 67 as a board's is; each client's DISCOVER and REQUEST are sent to it over UDP from
# a second socket and read by Server.poll() as a board reads them: ipoll, recv(1500) (its 1.5 KB
# buffer, then the datagram kept until the next one: what mem_dora.run leaves out), the engine with
# the heap locked, sendto. Frozen into the 32-bit unix build (tools/firmware/unix_frozen.py) as
# `import mem_serve; mem_serve.serve(254)`, for tools/heap_floor.py --target unix-server, which runs
# it in a network namespace of its own: it binds port 67 and sends to 127.0.0.1. A module of its own
# so that mem_dora's figures stay those of the same code (its module's objects are in its heap).
# Passes (prints OK) when every client is ACKed and no datagram was dropped for want of memory.
import gc
import socket


def serve(capacity=254):
    gc.collect()
    peak = gc.mem_alloc()
    from microdhcp.config import Config
    from microdhcp.engine import Engine
    from microdhcp.net import Server
    gc.collect()   # as a board's main.py does between imports and the big start-up buffers
    last = 2 + capacity - 1        # mem_dora's pool and options
    cfg = Config(address="192.168.4.1/23", pool=("192.168.4.2", "192.168.%d.%d" % (4 + last // 256, last % 256)),
                 capacity=capacity, routers=["192.168.4.1"], dns=["192.168.4.1"], lease_time=3600)
    gc.collect()
    eng = Engine(cfg)
    srv = Server(eng)                    # opens and binds 0.0.0.0:67 itself (net.Server.open), as on a board
    # Broadcast replies to 127.0.0.1:68, where nothing listens: the reply is read from tx.
    srv.set_reply_broadcast(b"\x7f\x00\x00\x01")
    tx = srv.tx
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    to = socket.getaddrinfo("127.0.0.1", 67)[0][-1]
    gc.collect()
    built = gc.mem_alloc()
    # The client's two messages, as mem_dora builds them, patched per client.
    disc = bytearray(300)
    req = bytearray(300)
    for m in (disc, req):
        m[0:3] = b"\x01\x01\x06"             # BOOTREQUEST, htype Ethernet, hlen 6
        m[28] = 2                            # chaddr 02:00:00:00:hh:ll
        m[236:240] = b"\x63\x82\x53\x63"      # magic cookie
    disc[240:248] = b"\x35\x01\x01\x37\x02\x01\x03\xff"       # 53 DISCOVER, 55 [1, 3], end
    req[240:256] = b"\x35\x01\x03\x32\x04\0\0\0\0\x36\x04\xc0\xa8\x04\x01\xff"   # 53 REQUEST, 50, 54, end
    top = [peak]

    def one(m, want, i):
        # One message to the server, polled until its reply is sent (bounded: on loopback the
        # datagram is there at the first poll).
        sent = srv.sent
        c.sendto(m, to)
        for _ in range(100):
            srv.poll(50)
            a = gc.mem_alloc()
            if a > top[0]:
                top[0] = a
            if srv.sent != sent or srv.recv_nomem:   # a datagram dropped: failed already
                break
        if srv.sent == sent or tx[242] != want:
            raise SystemExit("no reply of type %d for client %d (datagrams dropped for memory: %d)"
                             % (want, i, srv.recv_nomem))

    acks = 0
    for i in range(capacity):            # allocation-free on the workload's side
        for m in (disc, req):
            m[4] = 0x5A                  # xid
            m[5] = i >> 8
            m[6] = i & 255
            m[32] = i >> 8
            m[33] = i & 255
        one(disc, 2, i)
        req[245:249] = tx[16:20]         # option 50: the address offered
        one(req, 5, i)
        acks += 1
    peak = top[0]
    bad = (srv.recv_nomem, srv.recv_errors, srv.send_errors, srv.internal_errors)
    srv.close()
    c.close()
    gc.collect()
    print("CAPACITY %d" % capacity)
    print("PEAK %d" % peak)
    print("BUILT %d" % built)
    print("LIVE %d" % gc.mem_alloc())
    print("FREE %d" % gc.mem_free())
    print("SENT %d" % srv.sent)
    print("ACKS %d" % acks)
    if bad != (0, 0, 0, 0):
        raise SystemExit("dropped for memory %d, receive errors %d, send errors %d, internal errors %d" % bad)
    print("OK")


if __name__ == "__main__":
    import sys
    serve(int(sys.argv[1]) if len(sys.argv) > 1 else 254)
