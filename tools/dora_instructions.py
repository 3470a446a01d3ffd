#!/usr/bin/env python3
"""Machine instructions per DORA of the engine on the MicroPython unix port, counted by valgrind.

  python3 tools/dora_instructions.py [--plain] [--clients N] [--micropython BINARY] [--root DIR]
  python3 tools/dora_instructions.py --release [--capacity C] [--clients N] [--plain] ...

Runs the workload below twice under `valgrind --tool=callgrind` (valgrind from Debian): a
capacity-254 engine (pool 10.0.0.2-10.0.0.255, /23, lease 3600 s, router and DNS) where N new
clients each send DISCOVER and REQUEST (selecting; options 53, 61 = 01 + MAC, 55 = 1 3 6 15, and
50 + 54 in the REQUEST), then the same with 0 clients; the difference over N is the cost of one
DORA (import, construction and start-up cancel out). --plain takes the engine's plain-Python path
(host_tests/core/harness.use_fast(False)); the default takes microdhcp.fast's viper twins where the
binary compiles them. --root DIR: the firmware/ of another checkout (an earlier commit, to compare).
Instruction counts do not depend on the machine's load, unlike wall time.

--release: instructions per RELEASE instead, on a capacity-C engine (default 254; pool C addresses
from 10.0.0.2, /24 up to 253 addresses, else the smallest prefix that holds them, as in
tools/bench_engine.py). Both runs first bind C clients, one second apart (so the expiry heap holds
C timers, oldest first); then N of them (default min(C, 64)), oldest first, send RELEASE (ciaddr,
options 53, 61 and 54) one second after the last bind; the difference over N is one RELEASE. Each
RELEASE stops the heap's least timer: the heap's last entry takes its place and sifts down through
every level (log2 C of them), the case whose cost grew with the table. With N = C (capacity 8) the
heap empties as it goes, so later RELEASEs sift through fewer levels. A collection before the
counted RELEASEs (which allocate nothing, the loop neither) keeps the GC out of the difference.
"""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCK = "--locked" in sys.argv

# A BOOTREQUEST's fixed part (RFC 2131 section 2: op 1, htype 1, hlen 6, chaddr[0] 2, the magic
# cookie), the same in both workloads; set up before the counted loop, so it cancels out.
_HEADER = r'''
def header(b):
    b[0] = 1
    b[1] = 1
    b[2] = 6
    b[28] = 2
    b[236:240] = b"\x63\x82\x53\x63"
'''

WORKLOAD = _HEADER + r'''
import sys
sys.path.insert(0, ROOT + "/firmware")
sys.path.insert(0, ROOT + "/host_tests/core")
sys.path.insert(0, ROOT + "/tools")   # dhcpkit, which the harness of --plain imports
from microdhcp.config import Config
from microdhcp.engine import Engine
if PLAIN:
    import harness
    harness.fast_available()
    harness.use_fast(False)
eng = Engine(Config(address="10.0.0.1/23", pool="10.0.0.2-10.0.0.255", lease_time=3600,
                    routers="10.0.0.1", dns="10.0.0.1"))
tx = bytearray(1500)
d = bytearray(300)
r = bytearray(300)
for b, t in ((d, 1), (r, 3)):
    header(b)
    b[240:258] = bytes((53, 1, t, 61, 7, 1, 2, 0, 0, 0, 0, 0, 55, 4, 1, 3, 6, 15))
    b[258] = 255
r[258:270] = bytes((50, 4, 0, 0, 0, 0, 54, 4, 10, 0, 0, 1))
r[270] = 255
for i in range(N):
    for b in (d, r):
        b[6] = i >> 8
        b[7] = i & 255
        b[32] = i >> 8
        b[33] = i & 255
        b[250] = i >> 8
        b[251] = i & 255
    if eng.handle(d, 1000, tx) <= 0 or tx[242] != 2:
        raise SystemExit("no OFFER")
    r[260:264] = tx[16:20]
    if eng.handle(r, 1000, tx) <= 0 or tx[242] != 5:
        raise SystemExit("no ACK")
print("ok", N, "paths:", "plain" if PLAIN else "default")
'''

RELEASE_WORKLOAD = _HEADER + r'''
import gc
import micropython
import sys
sys.path.insert(0, ROOT + "/firmware")
sys.path.insert(0, ROOT + "/host_tests/core")
sys.path.insert(0, ROOT + "/tools")
from microdhcp.config import Config
from microdhcp.engine import Engine
from microdhcp import status
if PLAIN:
    import harness
    harness.fast_available()
    harness.use_fast(False)
prefix = 24
while CAP + 3 > (1 << (32 - prefix)):
    prefix -= 1
last = CAP + 1
eng = Engine(Config(address="10.0.0.1/%d" % prefix,
                    pool="10.0.0.2-10.0.%d.%d" % (last >> 8, last & 255), lease_time=3600,
                    routers="10.0.0.1", dns="10.0.0.1"))
tx = bytearray(1500)
d = bytearray(300)
r = bytearray(300)
q = bytearray(300)
for b, t in ((d, 1), (r, 3), (q, 7)):
    header(b)
    b[240:249] = bytes((53, 1, t, 61, 7, 1, 2, 0, 0))
r[249:258] = bytes((0, 0, 0, 55, 4, 1, 3, 6, 15))
d[249:258] = r[249:258]
d[258] = 255
r[258:270] = bytes((50, 4, 0, 0, 0, 0, 54, 4, 10, 0, 0, 1))
r[270] = 255
q[249:258] = bytes((0, 0, 0, 54, 4, 10, 0, 0, 1))
q[258] = 255
addr = bytearray(4 * CAP)
for i in range(CAP):
    for b in (d, r):
        b[6] = i >> 8
        b[7] = i & 255
        b[32] = i >> 8
        b[33] = i & 255
        b[250] = i >> 8
        b[251] = i & 255
    if eng.handle(d, 1000 + i, tx) <= 0 or tx[242] != 2:
        raise SystemExit("no OFFER")
    r[260:264] = tx[16:20]
    if eng.handle(r, 1000 + i, tx) <= 0 or tx[242] != 5:
        raise SystemExit("no ACK")
    addr[4 * i:4 * i + 4] = tx[16:20]
if eng.table.hsize != CAP:
    raise SystemExit("not full")
# No collection inside the counted loop (it allocates nothing: no slices), which would cost
# more than the RELEASEs themselves, in one run and not in the other.
gc.collect()
now = 1000 + CAP
if LOCK:
    micropython.heap_lock()
for i in range(N):
    q[6] = i >> 8
    q[7] = i & 255
    q[32] = i >> 8
    q[33] = i & 255
    q[250] = i >> 8
    q[251] = i & 255
    j = 4 * i
    q[12] = addr[j]
    q[13] = addr[j + 1]
    q[14] = addr[j + 2]
    q[15] = addr[j + 3]
    eng.handle(q, now, tx)
if LOCK:
    micropython.heap_unlock()
if status.counter(eng, "release") != N or eng.table.hsize != CAP - N:
    raise SystemExit("RELEASE ignored")
print("ok", N, "paths:", "plain" if PLAIN else "default")
'''


def count(binary, n, plain, root=ROOT, cap=0):
    # cap > 0: the RELEASE workload on a capacity-cap engine
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "w.py")
        with open(script, "w") as f:
            f.write("ROOT = %r\nN = %d\nPLAIN = %r\nCAP = %d\nLOCK = %r\n" % (root, n, plain, cap, LOCK)
                    + (RELEASE_WORKLOAD if cap else WORKLOAD))
        out = os.path.join(tmp, "cg.out")
        # PYTHONHASHSEED: the PyPI unix port runs inside a CPython process (micropython_unix), whose
        # randomized string hashing otherwise moves its own share of the count by thousands per run.
        r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, binary, script],
                           capture_output=True, text=True, timeout=900, env=dict(os.environ, PYTHONHASHSEED="0"))
        if r.returncode != 0 or "ok" not in r.stdout:
            sys.exit("dora_instructions: run failed:\n" + r.stdout + r.stderr[-2000:])
        m = re.search(r"Collected\s*:\s*(\d+)", r.stderr)
        return int(m.group(1))


def main(argv):
    plain = "--plain" in argv
    n = 250
    binary = "micropython"
    if "--clients" in argv:
        n = int(argv[argv.index("--clients") + 1])
    if "--micropython" in argv:
        binary = argv[argv.index("--micropython") + 1]
    root = argv[argv.index("--root") + 1] if "--root" in argv else ROOT
    if root != ROOT:
        print("firmware from", root)
    if "--release" in argv:
        cap = int(argv[argv.index("--capacity") + 1]) if "--capacity" in argv else 254
        n = int(argv[argv.index("--clients") + 1]) if "--clients" in argv else min(cap, 64)
        if not 0 < n <= cap:
            sys.exit("dora_instructions: --clients must be 1..capacity with --release")
        full = count(binary, n, plain, root, cap)
        empty = count(binary, 0, plain, root, cap)
        print("%s, %s path, capacity %d: %d instructions with %d RELEASEs, %d with none: %d per RELEASE"
              % (binary, "plain" if plain else "default (viper where compiled)", cap, full, n, empty,
                 (full - empty) // n))
        return 0
    full = count(binary, n, plain, root)
    empty = count(binary, 0, plain, root)
    print("%s, %s path: %d instructions for %d DORAs, %d with none: %d per DORA"
          % (binary, "plain" if plain else "default (viper where compiled)", full, n, empty, (full - empty) // n))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
