#!/usr/bin/env python3
"""Where the cycles go on the emulated RP2040: maps the PC/LR samples of tools/rp2emu/run.mjs
(--pc-samples) to the firmware's symbols.

  python3 tools/rp2_profile.py [--top N] [--callers SYMBOL ...] [SCRIPT]

Runs SCRIPT (default tools/bench_board.py) on build/rp2/firmware.bin (tools/build_rp2.py) with a
sample every 97 instructions, then prints the share of samples per C function of the firmware
(MicroPython's interpreter, runtime and libraries: bytecode is not a symbol, its cost shows as
mp_execute_bytecode and the runtime functions it calls) and, for each --callers SYMBOL, the
functions that called it (from the LR register at the sample, exact for leaf functions).
"""
import bisect
import collections
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import build_rp2  # noqa: E402


def symbols(elf):
    out = subprocess.run(["arm-none-eabi-nm", "-n", "--defined-only", elf], capture_output=True, text=True,
                         check=True).stdout
    syms = []
    for line in out.splitlines():
        p = line.split()
        if len(p) == 3 and p[1] in "tTwW":
            syms.append((int(p[0], 16) & ~1, p[2]))
    syms.sort()
    return [a for a, _ in syms], [n for _, n in syms]


def main(argv):
    top = 30
    callers = []
    script = os.path.join(ROOT, "tools", "bench_board.py")
    i = 0
    while i < len(argv):
        if argv[i] == "--top":
            top = int(argv[i + 1])
            i += 2
        elif argv[i] == "--callers":
            callers.append(argv[i + 1])
            i += 2
        else:
            script = argv[i]
            i += 1
    build_rp2.build()
    out = os.path.join(ROOT, "build", "rp2")
    samples = os.path.join(out, "pc_samples.txt")
    subprocess.run(["node", os.path.join(ROOT, "tools", "rp2emu", "run.mjs"), "--firmware",
                    os.path.join(out, "firmware.bin"), "--bootrom", build_rp2.BOOTROM, "--max-seconds", "120",
                    "--pc-samples", samples, "--pc-every", "97", script], check=True)
    addrs, names = symbols(os.path.join(out, "firmware.elf"))

    def name_of(a):
        j = bisect.bisect_right(addrs, a & ~1) - 1
        return names[j] if j >= 0 else "?"
    flat = collections.Counter()
    by_caller = collections.defaultdict(collections.Counter)
    total = 0
    with open(samples) as f:
        for line in f:
            pc, lr, n = line.split()
            n = int(n)
            fn = name_of(int(pc, 16))
            flat[fn] += n
            total += n
            if fn in callers:
                by_caller[fn][name_of(int(lr, 16))] += n
    print("%d samples (one per 97 instructions)" % total)
    for fn, n in flat.most_common(top):
        print("%6.2f%%  %s" % (100.0 * n / total, fn))
    for fn in callers:
        print("callers of %s (%.2f%% of all samples):" % (fn, 100.0 * flat[fn] / total))
        for c, n in by_caller[fn].most_common(10):
            print("   %6.2f%%  %s" % (100.0 * n / total, c))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
