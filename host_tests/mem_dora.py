# mem_dora: the memory-budget workload. Imports the package, builds a server (no socket) and an
# engine for CAPACITY leases, and serves CAPACITY distinct clients a DISCOVER/OFFER/REQUEST/ACK each
# through engine.handle, with the heap locked around every call. Prints PEAK/LIVE figures and OK.
# Run as a script (test_memory.py: `micropython -X heapsize=N mem_dora.py [capacity]`, MICROPYPATH at
# the .mpy build), or frozen into the firmware builds (tools/firmware/*.py) as `import mem_dora;
# mem_dora.run(254)`: tools/heap_floor.py and tools/qemu_run.py, where no compiled script sits in the
# heap. Where there are no sockets (the qemu Cortex-M3 build) there is no server: the reply goes
# into engine.tx, the buffer net.Server sends from.
import gc
import micropython

_peak = [0]


def sample():
    a = gc.mem_alloc()
    if a > _peak[0]:
        _peak[0] = a


def run(capacity=254):
    gc.collect()
    _peak[0] = gc.mem_alloc()
    from microdhcp.config import Config
    from microdhcp.engine import Engine
    try:
        from microdhcp.net import Server
    except ImportError:            # no socket module (qemu port)
        Server = None
    sample()
    gc.collect()   # as a board's main.py does between imports and the big start-up buffers
    last = 2 + capacity - 1        # the pool 192.168.4.2 .. (a /23 holds up to 509)
    cfg = Config(address="192.168.4.1/23", pool=("192.168.4.2", "192.168.%d.%d" % (4 + last // 256, last % 256)),
                 capacity=capacity, routers=["192.168.4.1"], dns=["192.168.4.1"], lease_time=3600)
    gc.collect()   # the configuration's garbage, as board.Board does before it makes the engine
    eng = Engine(cfg)
    if Server is not None:
        srv = Server(eng, bind=False)       # the server's buffers, no socket
        tx = srv.tx
    else:
        tx = eng.tx                         # what net.Server sends from (it takes engine.tx)
    sample()
    gc.collect()
    built = gc.mem_alloc()

    # Client messages built once and patched in place per client (test-side; allocation-free loop).
    disc = bytearray(300)
    req = bytearray(300)
    for m in (disc, req):
        m[0] = 1                         # BOOTREQUEST
        m[1] = 1                         # htype Ethernet
        m[2] = 6                         # hlen
        m[28] = 2                        # chaddr 02:00:00:00:hh:ll
        m[236:240] = b"\x63\x82\x53\x63"  # magic cookie
    disc[240:247] = b"\x35\x01\x01\x37\x02\x01\x03"   # 53 DISCOVER, 55 [1, 3]
    disc[247] = 255
    req[240:243] = b"\x35\x01\x03"                    # 53 REQUEST
    req[243:245] = b"\x32\x04"                        # 50 requested address (filled per client)
    req[249:255] = b"\x36\x04\xc0\xa8\x04\x01"        # 54 server identifier 192.168.4.1
    req[255] = 255
    locked = [0]                         # heap-locked handle() calls that allocated nothing

    def serve(m, want, what, i):
        # One engine.handle with the heap locked; the reply must be of type `want`.
        micropython.heap_lock()
        try:
            n = eng.handle(m, 10, tx)
        finally:
            micropython.heap_unlock()
        sample()
        if not n or tx[242] != want:
            raise SystemExit("no %s for client %d" % (what, i))
        locked[0] += 1

    acks = 0
    for i in range(capacity):
        for m in (disc, req):
            m[4] = 0x5A
            m[5] = i >> 8
            m[6] = i & 255
            m[32] = i >> 8
            m[33] = i & 255
        serve(disc, 2, "OFFER", i)
        req[245:249] = tx[16:20]
        serve(req, 5, "ACK", i)
        acks += 1

    gc.collect()
    print("CAPACITY %d" % capacity)
    print("PEAK %d" % _peak[0])
    print("BUILT %d" % built)
    print("LIVE %d" % gc.mem_alloc())
    print("FREE %d" % gc.mem_free())
    print("LOCKED %d" % locked[0])
    print("ACKS %d" % acks)
    print("OK")
    return eng, tx


if __name__ == "__main__":
    import sys
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 254)
