#!/usr/bin/env python3
"""Flash taken by frozen microdhcp on the Cortex-M3 build (qemu MPS2_AN385; tools/build_firmware.py).

  python3 tools/firmware_size.py

Frozen modules become one C file (frozen_content.c: bytecode, constants, the qstrs they add);
its object's text + data is the flash the modules take. For each set below the object is
recompiled in a copy of the qemu object folder (build/firmware/qemu-size-NAME) with a manifest
holding only that set, so every figure includes the set's own qstrs and nothing else:
  package   firmware/manifest.py (the whole microdhcp package: server, client, captive-portal kit)
  server    the DHCP server as a board runs it: serving + status, store, errors, board (no host
            command, no client, no DNS/web kit)
  serving   what a board imports to serve: the engine core + net (socket shell) + clock
  core      the sans-IO engine core: __init__, config, configure, ipv4, packet, leases, identity, reply, engine, fast (its
            machine-code twins: a board freezes and runs them)
  empty     no module (the fixed cost of the frozen-module tables), subtracted from the others
Also prints the 32-bit unix binaries' sizes (with and without microdhcp frozen, same C code).
"""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import build_firmware as bf   # noqa: E402

PKG = os.path.join(ROOT, "firmware")
CORE = ["__init__", "config", "configure", "ipv4", "packet", "leases", "identity", "reply", "engine", "fast"]
SERVER = CORE + ["net", "clock", "codes", "status", "store", "errors", "board"]


def _modules(names):
    return "".join('module("microdhcp/%s.py", base_path="%s")\n' % (m, PKG) for m in names)


SETS = [
    ("package", 'include("%s/manifest.py")\n' % PKG),
    ("server", _modules(SERVER)),
    ("serving", _modules(CORE + ["net", "clock"])),
    ("core", _modules(CORE)),
    ("empty", ""),
]


def size(obj, tool="arm-none-eabi-size"):
    out = subprocess.check_output([tool, obj], text=True).splitlines()[1].split()
    return int(out[0]) + int(out[1])      # text + data: what goes to flash


def frozen_object(name, manifest_text):
    d = os.path.join(bf.OUT, "qemu-size-" + name)
    bf.qemu_copy(d)
    man = os.path.join(d, "size_manifest.py")
    with open(man, "w") as f:
        f.write(manifest_text)
    obj = os.path.join(d, "frozen_content.o")
    # makemanifest.py regenerates the C file only when a module is newer than it: remove both.
    for p in (obj, os.path.join(d, "frozen_content.c")):
        if os.path.exists(p):
            os.remove(p)
    args = ["BOARD=MPS2_AN385", "BUILD=" + d, "FROZEN_MANIFEST=" + man,
            "MPY_LIB_DIR=" + os.path.join(bf.OUT, "mpylib"),
            "MICROPY_MPYCROSS=" + os.path.join(bf.SRC, "mpy-cross", "build", "mpy-cross"), obj]
    bf.make(args, os.path.join(bf.SRC, "ports", "qemu"), os.path.join(bf.OUT, "qemu-size.log"))
    return size(obj)


def main(argv):
    if bf.main([]) != 0:
        return 1
    got = {}
    for name, text in SETS:
        got[name] = frozen_object(name, text)
    base = got["empty"]
    print("flash on Cortex-M3 (arm-none-eabi, -march=armv7m bytecode), frozen_content.o text+data, "
          "minus %d bytes of an empty frozen set:" % base)
    for name, _ in SETS[:-1]:
        print("  %-8s %6d bytes (%.1f KiB)" % (name, got[name] - base, (got[name] - base) / 1024.0))
    built = size(os.path.join(bf.QEMU_BUILD, "frozen_content.o"))
    print("  (the qemu-an385 build freezes the package + host_tests/mem_dora.py: %d bytes)" % (built - base))
    fz = subprocess.check_output(["size", bf.UNIX_FROZEN], text=True).splitlines()[1].split()
    pl = subprocess.check_output(["size", bf.UNIX_PLAIN], text=True).splitlines()[1].split()
    print("32-bit unix binaries, text+data: frozen %d, plain %d, difference %d bytes "
          "(package + mem_dora + mem_serve, i386)" % (int(fz[0]) + int(fz[1]), int(pl[0]) + int(pl[1]),
                                          int(fz[0]) + int(fz[1]) - int(pl[0]) - int(pl[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
