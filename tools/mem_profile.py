#!/usr/bin/env python3
"""Where a server's heap goes, on the 32-bit unix build with microdhcp frozen (tools/build_firmware.py).

  python3 tools/mem_profile.py [--capacity N ...]

Runs, in build/firmware/micropython-32-frozen, the steps of host_tests/mem_dora.py (the budget
workload of host_tests/test_firmware.py) one at a time and prints the live heap each step adds,
measured as gc.mem_alloc() after gc.collect(): every import of the serving core, the Config, the
Engine (and inside it: the parser with its work area, the transmit buffer, the lease table,
the rest) and the server shell. Live bytes only: the smallest heap that runs the workload
(tools/heap_floor.py) is larger by the GC's own tables and by the holes that freed temporaries
leave between long-lived objects. docs/performance.md ("Memory") publishes the output.
"""
import argparse
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import build_firmware as bf   # noqa: E402

# Each step is run in the frozen build and the live heap it adds is printed. The Engine's parts
# are measured after it, by building each part once more as Engine.__init__ does (nothing is
# deleted: a freed object may stay reachable from a stale stack word of the conservative GC); its
# "rest" is the difference: key buffer, counters, option index, encoded options, marks, attribute map.
PROBE = r'''
import gc
gc.collect()
_b = [gc.mem_alloc()]
def step(name):
    gc.collect()
    a = gc.mem_alloc()
    print("STEP %s %d" % (name, a - _b[0]))
    _b[0] = a
import microdhcp
step("import microdhcp (package)")
import microdhcp.packet
step("import packet")
import microdhcp.leases
step("import leases")
import microdhcp.engine
step("import engine")
import microdhcp.config
step("import config")
import microdhcp.clock
step("import clock")
import microdhcp.net
step("import net")
from microdhcp.config import Config
last = 2 + CAP - 1
cfg = Config(address="192.168.4.1/23", pool=("192.168.4.2", "192.168.%d.%d" % (4 + last // 256, last % 256)),
             capacity=CAP, routers=["192.168.4.1"], dns=["192.168.4.1"], lease_time=3600)
step("Config")
from microdhcp.engine import Engine
e = Engine(cfg)
step("Engine (whole)")
s = microdhcp.net.Server(e, bind=False)
step("net.Server (bind=False)")
p1 = microdhcp.packet.Request()
step("engine part: Request (join work area %d B)" % len(p1.work))
p2 = bytearray(len(e.tx))
step("engine part: transmit buffer (%d B)" % len(p2))
p3 = microdhcp.leases.LeaseTable(cfg.pool_first, cfg.pool_size, cfg.extra_offsets, cfg.hostname_len, cfg.id_cells)
step("engine part: LeaseTable (%d B per lease)" % p3.bytes_per_lease())
'''


def profile(capacity):
    code = PROBE.replace("CAP", str(capacity))
    r = subprocess.run([bf.UNIX_FROZEN, "-X", "heapsize=1000000", "-c", code],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise SystemExit("mem_profile: %s" % (r.stdout + r.stderr))
    steps = []
    for line in r.stdout.splitlines():
        if line.startswith("STEP "):
            name, n = line[5:].rsplit(" ", 1)
            if name != "-":
                steps.append((name, int(n)))
    return steps


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--capacity", type=int, action="append")
    a = ap.parse_args(argv)
    if bf.main([]) != 0:
        return 1
    for cap in a.capacity or [16, 254]:
        steps = profile(cap)
        d = dict(steps)
        parts = sum(n for name, n in steps if name.startswith("engine part"))
        print("capacity %d, 32-bit unix build, microdhcp frozen: live heap per step (bytes)" % cap)
        total = 0
        for name, n in steps:
            if not name.startswith("engine part"):
                total += n
            print("  %-52s %6d" % (name, n))
        print("  %-52s %6d" % ("engine part: the rest (keys, options, attributes)",
                               d["Engine (whole)"] - parts))
        imports = sum(n for name, n in steps if name.startswith("import"))
        print("  %-52s %6d" % ("imports together", imports))
        print("  %-52s %6d" % ("total live (imports, Config, Engine, Server)", total))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
