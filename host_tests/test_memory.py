# test_memory: the memory budget. On the unix port, with the .mpy build, importing the package,
# building a server and a 254-lease engine and serving 254 distinct clients (DORA each, engine.handle
# with the heap locked) must run inside `micropython -X heapsize=BUDGET`. Lowest heap that passes,
# measured: 78 KiB (64-bit unix port; 67 424 B live at the end, most of it the code loaded from
# .mpy; 77 KiB and 66 656 B before the configuration's type checks and net.py's lines in words;
# 76 KiB and 66 528 B before net.Server counted a datagram lost inside recv; 95 KiB and 86 432 B
# before Config let microdhcp.configure's code go after start-up). A host figure: the 32-bit
# frozen builds' budgets are in test_firmware.py (docs/firmware.md).
# `python3 host_tests/test_memory.py` finds and prints the lowest passing heap size.
import os
import re
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MICROPYTHON = shutil.which("micropython")
MEASURED_KIB = 78        # the lowest heap that passes (`python3 host_tests/test_memory.py`)
BUDGET_KIB = 80          # a little above it

pytestmark = pytest.mark.skipif(MICROPYTHON is None, reason="micropython (unix port) not installed")


def build(out):
    subprocess.run([sys.executable, os.path.join(ROOT, "tools", "build_mpy.py"), "--out", out, "--quiet"],
                   check=True, timeout=120)


def run(mpy, kib):
    env = dict(os.environ, MICROPYPATH=mpy)
    return subprocess.run([MICROPYTHON, "-X", "heapsize=%dk" % kib, os.path.join(HERE, "mem_dora.py")],
                          env=env, capture_output=True, text=True, timeout=120)


def figures(out):
    return dict((k, int(v)) for k, v in re.findall(r"^(PEAK|BUILT|LIVE|FREE|ACKS) (\d+)$", out, re.M))


@pytest.fixture(scope="module")
def mpy(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("mpy"))
    build(d)
    return d


def test_254_clients_fit_the_heap_budget(mpy):
    r = run(mpy, BUDGET_KIB)
    f = figures(r.stdout)
    print("heap budget %d KiB: high-water (gc.mem_alloc peak) %d B, after start-up %d B, live at end %d B, "
          "free at end %d B" % (BUDGET_KIB, f.get("PEAK", -1), f.get("BUILT", -1), f.get("LIVE", -1), f.get("FREE", -1)))
    assert r.returncode == 0 and "OK" in r.stdout.split(), \
        "over the %d KiB heap budget:\n%s%s" % (BUDGET_KIB, r.stdout, r.stderr)
    assert f["ACKS"] == 254


def test_the_measured_figure_is_current(mpy):
    # The published figure passes and the KiB below it fails: a figure that went stale either way
    # (the package grew, or shrank by a KiB or more) fails here, and the failure proves the budget
    # test can fail.
    assert run(mpy, MEASURED_KIB).returncode == 0, "%d KiB no longer passes: python3 host_tests/test_memory.py" % MEASURED_KIB
    r = run(mpy, MEASURED_KIB - 1)
    assert r.returncode != 0 and "MemoryError" in r.stdout + r.stderr, \
        "%d KiB passes too: the figure is stale (python3 host_tests/test_memory.py)" % (MEASURED_KIB - 1)


def lowest(mpy, lo=16, hi=256):
    # Binary search in KiB: lo fails, hi passes.
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if run(mpy, mid).returncode == 0:
            hi = mid
        else:
            lo = mid
    return hi


if __name__ == "__main__":
    import tempfile
    d = tempfile.mkdtemp()
    build(d)
    k = lowest(d)
    print("lowest heap that passes: %d KiB" % k)
    print(run(d, k).stdout)
