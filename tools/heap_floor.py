#!/usr/bin/env python3
"""The smallest heap a microdhcp server needs, measured on the firmware builds (tools/build_firmware.py).

  python3 tools/heap_floor.py [--target unix|unix-server|unix-mpy|qemu] [--capacity N] [--step B] [--span B]

Workload (host_tests/mem_dora.py, frozen into both builds): import the package, build a
capacity-N engine and the server's transmit buffer, serve N clients DISCOVER..ACK through
Engine.handle with the heap locked (`make floors` runs unix, unix-server and qemu). A heap size passes when the whole run ends with OK.
  unix: build/firmware/micropython-32-frozen -X heapsize=SIZE (32-bit, microdhcp frozen)
  unix-mpy: build/firmware/micropython-32 (same C code, package NOT frozen) with the package and
        the workload as .mpy from the same source's mpy-cross (build/firmware/mpy), for comparison
  unix-server: the same build and heap, the same DORAs through the whole server (host_tests/mem_serve.py):
        net.Server bound to port 67, each message sent to it over UDP and read by its poll() with
        recv(1500) as on a board; passes only when no datagram was dropped for want of memory.
        Runs in a network namespace of its own (unshare --net; root).
  qemu: the Cortex-M3 build relinked with MICROPY_HEAP_SIZE=SIZE (only main.o is recompiled, in
        build/firmware/qemu-heap), run under qemu-system-arm (tools/qemu_run.py)
The floor is the smallest size from which EVERY size up to floor + span passes (step apart):
a binary search finds a boundary, then every size above it is tried, because fragmentation can
make a larger heap fail where a smaller one passed (a failure found there moves the floor above
it, and the failing sizes are listed). Prints one line per capacity and the run's figures.
"""
import argparse
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import build_firmware as bf   # noqa: E402
import qemu_run               # noqa: E402

UNIX = bf.UNIX_FROZEN
QEMU_HEAP = os.path.join(bf.OUT, "qemu-heap")


def unix_passes(size, capacity, exe=UNIX, env=None):
    # From the repository's root: the unix port looks in the working directory before its frozen
    # modules (sys.path starts with ''), and host_tests/ holds mem_dora.py as source.
    r = subprocess.run([exe, "-X", "heapsize=%d" % size, "-c", "import mem_dora; mem_dora.run(%d)" % capacity],
                       capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    return r.returncode == 0 and "OK" in r.stdout.split(), r.stdout + r.stderr


def unix_server_passes(size, capacity):
    # mem_serve.serve: the whole server, its socket bound to port 67, in a network namespace of
    # its own (unshare -n: only a loopback interface, brought up here), so that nothing it sends
    # leaves it and port 67 is free. Needs root, as the namespace lab does.
    if os.geteuid() != 0:
        raise SystemExit("heap_floor: --target unix-server needs root (a network namespace of its own; "
                         "run it as root, as make test does)")
    code = "import mem_serve; mem_serve.serve(%d)" % capacity
    r = subprocess.run(["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$0" -X heapsize=%d -c "$1"' % size,
                        UNIX, code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    return r.returncode == 0 and "OK" in r.stdout.split(), r.stdout + r.stderr


def mpy_dir():
    # The package and the workload as .mpy from this source's mpy-cross, for the 32-bit build
    # WITHOUT the package frozen (same C code): code loaded into the heap, as `make deploy` does.
    d = os.path.join(bf.OUT, "mpy")
    os.makedirs(os.path.join(d, "microdhcp"), exist_ok=True)
    # Without the machine-code module (tools/build_mpy.py NATIVE_ONLY: portable .mpy cannot hold
    # viper code), as `make deploy` copies the package: it then takes its plain-Python path.
    import build_mpy
    srcs = [("microdhcp/" + n, os.path.join(ROOT, "firmware", "microdhcp", n))
            for n in sorted(os.listdir(os.path.join(ROOT, "firmware", "microdhcp")))
            if n.endswith(".py") and n not in build_mpy.NATIVE_ONLY]
    srcs.append(("mem_dora.py", os.path.join(ROOT, "host_tests", "mem_dora.py")))
    for rel, src in srcs:
        subprocess.check_call([bf.MPY_CROSS, "-o", os.path.join(d, rel[:-3] + ".mpy"), src])
    return d


def unix_mpy_passes(size, capacity):
    return unix_passes(size, capacity, bf.UNIX_PLAIN, dict(os.environ, MICROPYPATH=mpy_dir.path))


def qemu_passes(size, capacity):
    elf = bf.qemu_with_heap(size, QEMU_HEAP)
    try:
        out, err = qemu_run.run_dora(elf, capacity, 60, extra=False)
    except (TimeoutError, EOFError) as e:
        return False, str(e)
    return (not err.strip()) and "OK" in out.split(), out + err


def floor(passes, capacity, step, span, lo, hi):
    """Returns (floor, probes, failures above the binary-search boundary)."""
    probes = {}

    def ok(size):
        if size not in probes:
            probes[size] = passes(size, capacity)[0]
        return probes[size]

    if not ok(hi):
        raise SystemExit("heap_floor: capacity %d fails even with %d bytes: %s"
                         % (capacity, hi, passes(hi, capacity)[1][-400:]))
    while hi - lo > step:               # lo fails (or is untried and tiny), hi passes
        mid = (lo + hi) // 2 // step * step
        if ok(mid):
            hi = mid
        else:
            lo = mid
    boundary = hi
    fails = []
    size = boundary
    fl = boundary
    while size <= fl + span:
        if not ok(size):
            fails.append(size)
            fl = size + step
        size += step
    return fl, boundary, fails, probes


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--target", choices=("unix", "unix-server", "unix-mpy", "qemu"), default="unix")
    ap.add_argument("--capacity", type=int, action="append")
    ap.add_argument("--step", type=int, default=256)
    ap.add_argument("--span", type=int, default=16384)
    a = ap.parse_args(argv)
    if bf.main([]) != 0:
        return 1
    passes = {"unix": unix_passes, "unix-server": unix_server_passes, "unix-mpy": unix_mpy_passes,
              "qemu": qemu_passes}[a.target]
    if a.target == "unix-mpy":
        mpy_dir.path = mpy_dir()
    for cap in a.capacity or [254, 16]:
        fl, boundary, fails, probes = floor(passes, cap, a.step, a.span, 1024, 160 * 1024)
        print("%s capacity %d: floor %d bytes (%.2f KiB); every size from there to +%d passes "
              "(step %d); binary-search boundary %d; failing sizes above it: %s; %d runs"
              % (a.target, cap, fl, fl / 1024.0, a.span, a.step, boundary,
                 ", ".join(str(x) for x in fails) or "none", len(probes)))
        print(passes(fl, cap)[1].strip().replace("\n", " "))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
