#!/usr/bin/env python3
"""Instructions per DORA of the engine on the Cortex-M3 firmware, counted by qemu (icount).

  python3 tools/qemu_dora.py [--plain] [--clients N] [--elf FILE]

The nearest figure to a board that a deterministic count gives: the workload of
tools/dora_instructions.py (a capacity-254 engine, N new clients each sending DISCOVER and
REQUEST with options 53, 61, 55, and 50 + 54 in the REQUEST) runs in the qemu MPS2_AN385 build with
microdhcp frozen (tools/build_firmware.py), once with N clients and once with none, in two fresh
boots. qemu runs with `-icount shift=0`: the guest's virtual clock then advances exactly 1 ns per
executed instruction, so the firmware's time.ticks_us() (SysTick at the board's 25 MHz,
ports/qemu/mcu/arm/ticks.c:30-31 and :70-82) counts 1000 instructions per microsecond. The
difference of the two runs over N is the engine's instructions per DORA, Thumb-2 instructions of
a Cortex-M3 (not cycles: loads, branches and multi-register moves take more than one cycle on a
real core). --plain switches the viper twins off first (what a board without the native emitter,
or the portable .mpy set, runs).
"""
import ast
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import dora_instructions   # noqa: E402
import qemu_run            # noqa: E402

ICOUNT = ["-icount", "shift=0,align=off,sleep=off"]


def _fast_names():
    # The module attributes that hold the viper twins, as the test harness switches them
    # (host_tests/core/harness.py _FAST_NAMES): one list, read from its source.
    src = open(os.path.join(ROOT, "host_tests", "core", "harness.py")).read()
    for node in ast.parse(src).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "_FAST_NAMES":
            return ast.literal_eval(node.value)
    raise SystemExit("qemu_dora: _FAST_NAMES not found in host_tests/core/harness.py")


def board_code(n, plain):
    # dora_instructions' workload without its host-only lines (sys.path, the harness), timed.
    body = dora_instructions.WORKLOAD
    body = "\n".join(line for line in body.splitlines()
                     if not line.startswith(("sys.path", "import sys", "if PLAIN", "    import harness",
                                             "    harness.")))
    pre = "import time\n_t0 = time.ticks_us()\nN = %d\nPLAIN = %r\n" % (n, plain)
    if plain:
        for mod, name in _fast_names():
            pre += "import microdhcp.%s\nmicrodhcp.%s.%s = None\n" % (mod, mod, name)
    return pre + body + "\nprint('US', time.ticks_diff(time.ticks_us(), _t0))\n"


def run(elf, n, plain, timeout=300):
    b = qemu_run.Board(elf, timeout, ICOUNT)
    try:
        out, err = b.exec(board_code(n, plain), timeout)
    finally:
        b.close()
    m = re.search(r"^US (\d+)\r?$", out, re.M)
    if err.strip() or not m or "ok %d" % n not in out:
        raise SystemExit("qemu_dora: the run failed:\n" + out + err)
    return int(m.group(1)) * 1000


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--plain", action="store_true", help="the plain-Python path (viper twins off)")
    ap.add_argument("--clients", type=int, default=250)
    ap.add_argument("--elf", default=qemu_run.ELF)
    a = ap.parse_args(argv)
    if not os.path.exists(a.elf):
        raise SystemExit("qemu_dora: %s is missing: run `make firmware` first" % a.elf)
    full = run(a.elf, a.clients, a.plain)
    empty = run(a.elf, 0, a.plain)
    print("Cortex-M3 (qemu icount), %s path: %d instructions for %d DORAs, %d with none: %d per DORA"
          % ("plain" if a.plain else "default (viper twins)", full, a.clients, empty, (full - empty) // a.clients))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
