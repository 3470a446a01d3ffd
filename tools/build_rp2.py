#!/usr/bin/env python3
"""Builds MicroPython's rp2 port for the plain Pico (BOARD=RPI_PICO) with microdhcp frozen, from
the vendored rp2 source archive, into build/rp2/ (firmware.bin, .elf, .uf2).

  python3 tools/build_rp2.py [--force]

Also frozen, as top-level modules, are the engine-level core tests the emulator runs
(tools/test_rp2.py; they live in flash and cost no RAM until imported). The build is cached:
build/rp2/stamp holds a hash of everything frozen and of the build settings, and nothing is
rebuilt while it matches; cmake's own build tree (build/rp2-RPI_PICO) is incremental too.

The archive is found in $MICRODHCP_VENDOR (default: shared/vendor in the folder that holds this
repository). About 75-100 s from scratch on 2 cores.
"""
import glob
import hashlib
import os
import shutil
import subprocess
import sys

import build_firmware   # tools/: fresh_frozen, shared with the 32-bit and qemu builds

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENDOR = os.environ.get("MICRODHCP_VENDOR") or os.path.join(os.path.dirname(ROOT), "shared", "vendor")
ARCHIVE = "rp2-micropython-af47daf3b0-picosdk-2.2.0.tar.xz"
BUILD = os.path.join(ROOT, "build")
SRC = os.path.join(BUILD, "rp2src")
CMAKE_BUILD = os.path.join(BUILD, "rp2-RPI_PICO")
OUT = os.path.join(BUILD, "rp2")
BOOTROM = os.path.join(SRC, "rp2emu", "bootrom.ts")

# Core test modules that need no socket and no file (test_store writes files, the mutation fuzzer
# reads its corpus from disk, the churn test is sized for a host), and the helpers they import.
DEVICE_TESTS = ("test_alloc", "test_clock", "test_config", "test_decline_release_inform", "test_discover",
                "test_events", "test_fastpaths", "test_flood", "test_hijack", "test_identity", "test_options", "test_parse",
                "test_reply", "test_request", "test_table", "test_viper")
TEST_HELPERS = ("harness", "invariants", "fuzzcase", "test_fuzz_mutation")


def frozen_inputs():
    pkg = sorted(glob.glob(os.path.join(ROOT, "firmware", "microdhcp", "*.py")))
    pkg.append(os.path.join(ROOT, "firmware", "manifest.py"))
    pkg += sorted(glob.glob(os.path.join(ROOT, "firmware", "units", "*", "manifest.py")))
    core = os.path.join(ROOT, "host_tests", "core")
    tests = [os.path.join(core, n + ".py") for n in TEST_HELPERS + DEVICE_TESTS]
    tests.insert(0, os.path.join(ROOT, "tools", "dhcpkit.py"))    # the message builder, shared with the tools
    return pkg, [t for t in tests if os.path.exists(t)]


def manifest_text(tests):
    lines = ['# Written by tools/build_rp2.py: the port\'s own manifest, microdhcp, and the device tests.',
             'include("$(PORT_DIR)/boards/manifest.py")',
             'include("%s")' % os.path.join(ROOT, "firmware", "manifest.py")]
    for t in tests:
        lines.append('module("%s", base_path="%s")' % (os.path.basename(t), os.path.dirname(t)))
    return "\n".join(lines) + "\n"


def stamp_of(files, manifest):
    h = hashlib.sha256()
    h.update(ARCHIVE.encode())
    h.update(manifest.encode())
    for f in files:
        h.update(f.encode())
        with open(f, "rb") as fh:
            h.update(fh.read())
    return h.hexdigest()


def run(cmd, **kw):
    print("+ " + " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, **kw)


def extract():
    if os.path.exists(os.path.join(SRC, "ports", "rp2", "Makefile")) and os.path.exists(BOOTROM):
        return
    archive = os.path.join(VENDOR, ARCHIVE)
    if not os.path.exists(archive):
        sys.exit("build_rp2: %s not found (set MICRODHCP_VENDOR to the folder holding it)" % archive)
    shutil.rmtree(SRC, ignore_errors=True)
    os.makedirs(SRC)
    run(["tar", "-xJf", archive, "-C", SRC])


def build(force=False):
    pkg, tests = frozen_inputs()
    manifest = manifest_text(tests)
    stamp = stamp_of(pkg + tests, manifest)
    stamp_file = os.path.join(OUT, "stamp")
    if not force and os.path.exists(stamp_file) and os.path.exists(os.path.join(OUT, "firmware.bin")):
        with open(stamp_file) as f:
            if f.read().strip() == stamp:
                print("build_rp2: build/rp2/firmware.bin is up to date")
                return
    extract()
    os.makedirs(OUT, exist_ok=True)
    man = os.path.join(OUT, "manifest.py")
    with open(man, "w") as f:
        f.write(manifest)
    port = os.path.join(SRC, "ports", "rp2")
    # Configured every time (seconds): the manifest path lives in cmake's cache. pico-sdk 2.x
    # would download and build picotool; the .uf2 is made with uf2conv.py below.
    run(["cmake", "-S", port, "-B", CMAKE_BUILD, "-DPICO_BUILD_DOCS=0", "-DMICROPY_BOARD=RPI_PICO",
         "-DMICROPY_BOARD_DIR=" + os.path.join(port, "boards", "RPI_PICO"),
         "-DMICROPY_FROZEN_MANIFEST=" + man, "-Dpicotool_FOUND=OFF"])
    build_firmware.fresh_frozen(CMAKE_BUILD)
    run(["make", "-j2", "-C", CMAKE_BUILD])
    for ext in ("bin", "elf"):
        shutil.copy(os.path.join(CMAKE_BUILD, "firmware." + ext), os.path.join(OUT, "firmware." + ext))
    run([sys.executable, os.path.join(SRC, "tools", "uf2conv.py"), "--family", "RP2040", "--base", "0x10000000",
         "--convert", "--output", os.path.join(OUT, "firmware.uf2"), os.path.join(OUT, "firmware.bin")],
        stdout=subprocess.DEVNULL)
    with open(stamp_file, "w") as f:
        f.write(stamp + "\n")
    print("build_rp2: build/rp2/firmware.bin, firmware.uf2 (%d bytes of flash image)"
          % os.path.getsize(os.path.join(OUT, "firmware.bin")))


if __name__ == "__main__":
    build("--force" in sys.argv[1:])
