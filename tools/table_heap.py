# table_heap: the smallest MicroPython heap in which import + Engine construction + N DORAs
# (heap locked around every engine.handle) succeed, for the lease-table size targets of issue 11.
#   python3 tools/table_heap.py BINARY N [N ...]         scans -X heapsize for each N (256-byte steps)
#   python3 tools/table_heap.py --print N               prints the workload (for BINARY -c ...)
#   python3 tools/table_heap.py --per-lease BINARY      heap bytes per lease (254 vs 16 slots)
# BINARY is a MicroPython unix build with the package frozen into it (FROZEN_MANIFEST including
# firmware/manifest.py); it runs without MICROPYPATH, from /, so that the frozen modules are used.
import sys


# The workload, run by the MicroPython binary with -c (so that only this code is compiled into
# its heap, not the bisection below). N is substituted.
WORKLOAD = """
import micropython
from microdhcp.config import Config
from microdhcp.engine import Engine
n = %d
last = 1 + n
cfg = Config(address="192.168.4.1/23", pool=("192.168.4.2", "192.168.%%d.%%d" %% (4 + (last >> 8), last & 255)),
             capacity=n, routers=["192.168.4.1"], dns=["192.168.4.1"], lease_time=3600)
eng = Engine(cfg)
tx = bytearray(548)
disc = bytearray(300)
req = bytearray(300)
for m in (disc, req):
    m[0] = 1
    m[1] = 1
    m[2] = 6
    m[28] = 2
    m[236:240] = b"\\x63\\x82\\x53\\x63"
disc[240:247] = b"\\x35\\x01\\x01\\x37\\x02\\x01\\x03"
disc[247] = 255
req[240:243] = b"\\x35\\x01\\x03"
req[243:245] = b"\\x32\\x04"
req[249:255] = b"\\x36\\x04\\xc0\\xa8\\x04\\x01"
req[255] = 255
bad = 0
for i in range(n):
    for m in (disc, req):
        m[4] = 0x5A
        m[5] = i >> 8
        m[6] = i & 255
        m[32] = i >> 8
        m[33] = i & 255
    micropython.heap_lock()
    r = eng.handle(disc, 10, tx)
    micropython.heap_unlock()
    if not r or tx[242] != 2:
        bad += 1
    req[245:249] = tx[16:20]
    micropython.heap_lock()
    r = eng.handle(req, 10, tx)
    micropython.heap_unlock()
    if not r or tx[242] != 5:
        bad += 1
print("OK" if not bad else "FAIL", n, eng.table.bytes_per_lease())
"""
# Messages: DISCOVER (53=1, 55=[1, 3]) and REQUEST (53=3, 50 = the offered address, 54 = server)
# from chaddr 02:00:00:00:hh:ll, xid 5a:hh:ll:00.


def ok(binary, heap, n):
    import os
    import subprocess
    env = dict(os.environ)
    env.pop("MICROPYPATH", None)
    try:
        p = subprocess.run([binary, "-X", "heapsize=%d" % heap, "-c", WORKLOAD % n], env=env, cwd="/",
                           capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return False
    return p.stdout.startswith("OK")


def search(binary, n):
    # Heap fragmentation makes success non-monotonic in the heap size (a 548-byte buffer may find
    # no gap at one size and one at a smaller one), so this scans in 256-byte steps: returns
    # (first heap that works, heap from which every size up to 8 KiB more works), or (-1, -1).
    first = last_fail = -1
    h = 2048
    while h <= (1 << 19):
        if ok(binary, h, n):
            if first < 0:
                first = h
            if h - last_fail > 8192:
                return first, last_fail + 256
        else:
            last_fail = h
        h += 256
    return -1, -1


# Heap per lease as the runtime sees it: live bytes of a 254-slot table minus a 16-slot one, / 238.
PER_LEASE = """
import gc
from microdhcp.leases import LeaseTable
gc.collect()
a = gc.mem_alloc()
t = LeaseTable(2, 16, [], 15)
gc.collect()
b = gc.mem_alloc()
u = LeaseTable(2, 254, [], 15)
gc.collect()
c = gc.mem_alloc()
print("bytes_per_lease() %d, heap per lease %d.%d (16 slots: %d bytes, 254 slots: %d bytes)" % (
    u.bytes_per_lease(), (c - b - (b - a)) // 238, (c - b - (b - a)) * 10 // 238 % 10, b - a, c - b))
"""


def main(argv):
    if len(argv) == 2 and argv[0] == "--print":
        print(WORKLOAD % int(argv[1]))
        return 0
    if len(argv) == 2 and argv[0] == "--per-lease":
        # BINARY runs with MICROPYPATH as set by the caller (frozen build: leave it unset).
        import subprocess
        p = subprocess.run([argv[1], "-c", PER_LEASE], capture_output=True, text=True, timeout=120)
        print((p.stdout + p.stderr).strip())
        return p.returncode
    if len(argv) < 2:
        print("usage: python3 tools/table_heap.py BINARY N [N ...]")
        return 2
    import os
    binary = os.path.abspath(argv[0])
    for a in argv[1:]:
        first, steady = search(binary, int(a))
        if first < 0:
            print("capacity %s: fails up to 512 KiB" % a)
        else:
            print("capacity %s: works from %d bytes of heap, at every size (256-byte steps) from %d"
                  % (a, first, steady))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
