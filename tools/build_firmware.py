#!/usr/bin/env python3
"""Builds MicroPython from the vendored source tarball, with microdhcp frozen, into build/firmware/.

  python3 tools/build_firmware.py [--force] [--kit] [--print-paths]

Targets (`make firmware` runs this):
  build/firmware/mpy-cross              mpy-cross built from the same source
  build/firmware/micropython-32-frozen  unix port, 32-bit (i386), microdhcp + asyncio frozen
  build/firmware/micropython-32         the same C code, asyncio frozen, microdhcp NOT frozen
  build/firmware/qemu-an385.elf         qemu port, MPS2_AN385 (Cortex-M3), microdhcp frozen
  build/firmware/micropython-32-kit     with --kit only: the 32-bit unix port with asyncio,
                                        microdhcp and microdot frozen (the captive-portal kit's
                                        heap figure, tools/kit_memory.py; microdot from PyPI
                                        through tools/pylib.py)
Each has its own object folder under build/firmware/ so make rebuilds only what changed; a
stamp per target (a hash of the inputs) skips make altogether when nothing changed.

The source tarball is taken from $MICRODHCP_VENDOR (default: shared/vendor inside the folder that
holds this repository). It needs Debian's gcc-multilib, gcc-arm-none-eabi and
libnewlib-arm-none-eabi (tools/setup.sh installs them). Build notes: docs/firmware.md.
"""
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENDOR = os.environ.get("MICRODHCP_VENDOR") or os.path.join(os.path.dirname(ROOT), "shared", "vendor")
BUILD = os.path.join(ROOT, "build")
SRC = os.path.join(BUILD, "micropython")
OUT = os.path.join(BUILD, "firmware")
MANIFESTS = os.path.join(ROOT, "tools", "firmware")
JOBS = os.environ.get("FIRMWARE_JOBS", "2")

MPY_CROSS = os.path.join(OUT, "mpy-cross")
UNIX_FROZEN = os.path.join(OUT, "micropython-32-frozen")
UNIX_PLAIN = os.path.join(OUT, "micropython-32")
QEMU_ELF = os.path.join(OUT, "qemu-an385.elf")
UNIX_KIT = os.path.join(OUT, "micropython-32-kit")
QEMU_BUILD = os.path.join(OUT, "qemu-an385")    # object folder (firmware.map, frozen_content.o)

# The unix port without the C libraries whose submodules are not in the tarball (vendor README).
# MPY_CROSS_FLAGS: the frozen modules are compiled for the port's own architecture, so that
# microdhcp.fast (viper) freezes as x86 machine code (py/manifest.mk passes the flags to
# mpy-cross; without -march mpy-cross refuses native code). The qemu board sets -march=armv7m
# itself (ports/qemu/boards/MPS2_AN385/mpconfigboard.mk).
UNIX_ARGS = ["VARIANT=standard", "CFLAGS_EXTRA=-m32", "LDFLAGS_EXTRA=-m32", "MICROPY_PY_BTREE=0",
             "MICROPY_PY_SSL=0", "MICROPY_SSL_AXTLS=0", "MICROPY_SSL_MBEDTLS=0", "MICROPY_PY_FFI=0",
             "MPY_CROSS_FLAGS=-march=x86"]


# The qemu port for MPS2_AN385 with our manifest and linker script (data, heap and stack at
# 0x20000000, see tools/firmware/mps2_an385_sram.ld).
QEMU_LD = os.path.join(MANIFESTS, "mps2_an385_sram.ld")
QEMU_ARGS = ["BOARD=MPS2_AN385", "FROZEN_MANIFEST=" + os.path.join(MANIFESTS, "qemu_frozen.py"),
             "LDSCRIPT=" + QEMU_LD]


def tarball():
    found = sorted(glob.glob(os.path.join(VENDOR, "micropython-v*.tar.gz")))
    if not found:
        sys.exit("build_firmware: no micropython-v*.tar.gz in %s (set MICRODHCP_VENDOR)" % VENDOR)
    return found[-1]


def digest(paths, extra=""):
    h = hashlib.sha256(extra.encode())
    for p in sorted(paths):
        h.update(p.encode())
        with open(p, "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def stamp_ok(name, value, outputs):
    p = os.path.join(OUT, name + ".stamp")
    if not all(os.path.exists(o) for o in outputs) or not os.path.exists(p):
        return False
    with open(p) as f:
        return f.read() == value


def write_stamp(name, value):
    with open(os.path.join(OUT, name + ".stamp"), "w") as f:
        f.write(value)


def make(args, cwd, log):
    # The version header comes from `git describe`: the ceiling keeps git from finding this
    # repository around build/, so the firmware reports MicroPython's own version.
    env = dict(os.environ, GIT_CEILING_DIRECTORIES=BUILD)
    t0 = time.time()
    with open(log, "w") as f:
        rc = subprocess.call(["make", "-j" + JOBS] + args, cwd=cwd, env=env, stdout=f, stderr=subprocess.STDOUT)
    if rc != 0:
        with open(log) as f:
            sys.stdout.write("".join(f.readlines()[-30:]))
        sys.exit("build_firmware: make failed in %s (log %s)" % (cwd, log))
    return time.time() - t0


def extract(tar, force):
    value = "%s %d" % (os.path.basename(tar), os.path.getsize(tar))
    if not force and stamp_ok("source", value, [os.path.join(SRC, "py", "mpconfig.h")]):
        return False
    # A new source tree: the object folders of the old one would look newer than it.
    for d in [SRC] + glob.glob(os.path.join(OUT, "unix32-*")) + [QEMU_BUILD]:
        if os.path.isdir(d):
            shutil.rmtree(d)
    os.makedirs(SRC)
    # The archive has no top-level folder.
    subprocess.check_call(["tar", "-xzf", tar, "-C", SRC])
    write_stamp("source", value)
    return True


def qemu_copy(folder):
    """Makes folder a copy of the qemu object folder, copied again whenever the qemu build
    changed, so that a variant recompiles only the objects it changes. Run main() first."""
    stamp = os.path.join(OUT, "qemu-an385.stamp")
    mark = os.path.join(folder, "from.stamp")
    with open(stamp) as f:
        src = f.read()
    if not os.path.exists(mark) or open(mark).read() != src:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(QEMU_BUILD, folder, symlinks=True)
        with open(mark, "w") as f:
            f.write(src)


def fresh_frozen(build):
    """Starts a port build's frozen modules afresh. makemanifest.py rewrites frozen_content.c, and
    compiles a module's .mpy, only when the module is newer than it (tools/makemanifest.py:208-210,
    :237-239 of the MicroPython source): a module dropped from a manifest would stay frozen, and a
    manifest change alone (metadata(version=...) appends __version__ to each module it compiles,
    tools/manifestfile.py:644-656) would not reach the .mpy already there."""
    path = os.path.join(build, "frozen_content.c")
    if os.path.exists(path):
        os.remove(path)
    shutil.rmtree(os.path.join(build, "frozen_mpy"), ignore_errors=True)


def qemu_with_heap(size, folder):
    """The qemu firmware relinked with MICROPY_HEAP_SIZE=size (a compile-time constant of
    ports/qemu/main.c) in folder, a copy of the qemu object folder: only main.o is recompiled.
    Returns the ELF's path. Run main() first."""
    qemu_copy(folder)
    main_o = os.path.join(folder, "main.o")
    if os.path.exists(main_o):
        os.remove(main_o)
    args = QEMU_ARGS + ["BUILD=" + folder, "MICROPY_HEAP_SIZE=%d" % size,
            "MPY_LIB_DIR=" + os.path.join(OUT, "mpylib"),
            "MICROPY_MPYCROSS=" + os.path.join(SRC, "mpy-cross", "build", "mpy-cross")]
    make(args, os.path.join(SRC, "ports", "qemu"), folder + ".log")
    return os.path.join(folder, "firmware.elf")


def main(argv):
    force = "--force" in argv
    if "--print-paths" in argv:
        for p in (MPY_CROSS, UNIX_FROZEN, UNIX_PLAIN, QEMU_ELF) + ((UNIX_KIT,) if "--kit" in argv else ()):
            print(p)
        return 0
    os.makedirs(OUT, exist_ok=True)
    tar = tarball()
    fresh = extract(tar, force)
    # Freezing insists on $(MPY_LIB_DIR)/README.md although nothing from micropython-lib is used.
    lib = os.path.join(OUT, "mpylib")
    os.makedirs(lib, exist_ok=True)
    with open(os.path.join(lib, "README.md"), "w") as f:
        f.write("Empty stand-in for micropython-lib: nothing from it is frozen.\n")
    base = "%s %s" % (os.path.basename(tar), digest([os.path.abspath(__file__)]))
    microdhcp = sorted(glob.glob(os.path.join(ROOT, "firmware", "microdhcp", "*.py")))
    microdhcp.append(os.path.join(ROOT, "firmware", "manifest.py"))
    microdhcp += sorted(glob.glob(os.path.join(ROOT, "firmware", "units", "*", "manifest.py")))
    package = microdhcp + [os.path.join(ROOT, "host_tests", "mem_dora.py")]
    common = ["MPY_LIB_DIR=" + lib, "MICROPY_MPYCROSS=" + os.path.join(SRC, "mpy-cross", "build", "mpy-cross")]
    targets = [
        ("mpy-cross", [MPY_CROSS], [], os.path.join(SRC, "mpy-cross"), [],
         os.path.join(SRC, "mpy-cross", "build", "mpy-cross")),
        ("unix32-plain", [UNIX_PLAIN], [os.path.join(MANIFESTS, "unix_plain.py")],
         os.path.join(SRC, "ports", "unix"),
         UNIX_ARGS + common + ["BUILD=" + os.path.join(OUT, "unix32-plain"),
                               "FROZEN_MANIFEST=" + os.path.join(MANIFESTS, "unix_plain.py")],
         os.path.join(OUT, "unix32-plain", "micropython")),
        ("unix32-frozen", [UNIX_FROZEN], package + [os.path.join(ROOT, "host_tests", "mem_serve.py"),
                                                    os.path.join(MANIFESTS, "unix_frozen.py")],
         os.path.join(SRC, "ports", "unix"),
         UNIX_ARGS + common + ["BUILD=" + os.path.join(OUT, "unix32-frozen"),
                               "FROZEN_MANIFEST=" + os.path.join(MANIFESTS, "unix_frozen.py")],
         os.path.join(OUT, "unix32-frozen", "micropython")),
        ("qemu-an385", [QEMU_ELF], package + [os.path.join(MANIFESTS, "qemu_frozen.py"), QEMU_LD],
         os.path.join(SRC, "ports", "qemu"),
         QEMU_ARGS + ["BUILD=" + QEMU_BUILD] + common,
         os.path.join(QEMU_BUILD, "firmware.elf")),
    ]
    if "--kit" in argv:
        sys.path.insert(0, os.path.join(ROOT, "tools"))
        import pylib
        # unix_kit.py takes microdot.py from build/pylib, where pylib.ensure() installs it.
        microdot = os.path.join(pylib.ensure(), "microdot", "microdot.py")
        kit = os.path.join(MANIFESTS, "unix_kit.py")
        targets.append(
            ("unix32-kit", [UNIX_KIT], microdhcp + [microdot, kit],
             os.path.join(SRC, "ports", "unix"),
             UNIX_ARGS + common + ["BUILD=" + os.path.join(OUT, "unix32-kit"), "FROZEN_MANIFEST=" + kit],
             os.path.join(OUT, "unix32-kit", "micropython")))
    t0 = time.time()
    for name, outputs, inputs, cwd, args, product in targets:
        value = base + " " + digest(inputs, " ".join(args))
        if not fresh and not force and stamp_ok(name, value, outputs):
            print("firmware: %-14s up to date" % name)
            continue
        for a in args:
            if a.startswith("BUILD="):
                fresh_frozen(a[6:])
        s = make(args, cwd, os.path.join(OUT, name + ".log"))
        shutil.copy2(product, outputs[0])
        write_stamp(name, value)
        print("firmware: %-14s built in %.0f s -> %s" % (name, s, os.path.relpath(outputs[0], ROOT)))
    print("firmware: done in %.0f s" % (time.time() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
