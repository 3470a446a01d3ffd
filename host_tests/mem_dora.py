# mem_dora: the memory-budget workload, run by test_memory.py under `micropython -X heapsize=N` with
# MICROPYPATH at the .mpy build. Imports the package, builds a server (no socket) and an engine for
# 254 leases, and serves 254 distinct clients a DISCOVER/OFFER/REQUEST/ACK each through
# engine.handle, with the heap locked around every call. Prints PEAK/LIVE figures and OK.
import gc
import micropython

gc.collect()
_peak = [gc.mem_alloc()]


def sample():
    a = gc.mem_alloc()
    if a > _peak[0]:
        _peak[0] = a


from microdhcp.config import Config
from microdhcp.engine import Engine
from microdhcp.net import Server
sample()
gc.collect()   # as a board's main.py does between imports and the big start-up buffers

cfg = Config(address="192.168.4.1/23", pool=("192.168.4.2", "192.168.4.255"), capacity=254,
             routers=["192.168.4.1"], dns=["192.168.4.1"], lease_time=3600)
eng = Engine(cfg)
srv = Server(eng, bind=False)       # the server's buffers, no socket
tx = srv.tx
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


def serve(m, want, what, i):
    # One engine.handle with the heap locked; the reply must be of type `want`.
    micropython.heap_lock()
    n = eng.handle(m, 10, tx)
    micropython.heap_unlock()
    sample()
    if not n or tx[242] != want:
        raise SystemExit("no %s for client %d" % (what, i))


acks = 0
for i in range(254):
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
print("PEAK %d" % _peak[0])
print("BUILT %d" % built)
print("LIVE %d" % gc.mem_alloc())
print("FREE %d" % gc.mem_free())
print("ACKS %d" % acks)
print("OK")
