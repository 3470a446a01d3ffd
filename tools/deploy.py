#!/usr/bin/env python3
# deploy: puts microdhcp on a board with mpremote: the package as .mpy files in :lib/microdhcp/, the
# board's config.py and main.py in the root, then a reset (main.py runs at boot).
#   python3 tools/deploy.py --board esp32_ap --port /dev/ttyUSB0 [--dry-run] [--keep-config] [--no-build]
# (`make deploy BOARD=esp32_ap PORT=/dev/ttyUSB0`). --dry-run prints the exact mpremote commands.
import argparse
import os
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "firmware", "microdhcp")
BOARDS = os.path.join(ROOT, "boards")
MPY = os.path.join("build", "mpy", "microdhcp")
# The captive-portal boards (*_captive) also need microdot (docs/portal.md): installed from PyPI into
# build/pylib (tools/pylib.py), compiled here to build/mpy/microdot.mpy, copied to :lib/microdot.mpy.
MICRODOT_MPY = os.path.join("build", "mpy", "microdot.mpy")

# Runs on the board first: create lib/microdhcp, and remove the .py/.mpy files of an earlier install
# there (MicroPython imports name.py before name.mpy, so a stale .py would shadow the new .mpy).
_PREPARE = ('import os; "lib" in os.listdir() or os.mkdir("lib"); '
            '"microdhcp" in os.listdir("lib") or os.mkdir("lib/microdhcp"); '
            '[os.remove("lib/microdhcp/" + f) for f in os.listdir("lib/microdhcp") if f.endswith("py")]')


def boards():
    return sorted(d for d in os.listdir(BOARDS) if os.path.isfile(os.path.join(BOARDS, d, "main.py")))


def modules():
    # What a board runs (tools/units.py BOARD_UNITS): not the host command's modules, and not the
    # machine-code module (tools/build_mpy.py NATIVE_ONLY): the portable .mpy files run the plain path.
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import units
    return sorted(m for m in units.modules(units.BOARD_UNITS) if m != "fast")


def commands(board, port, keep_config=False):
    """The mpremote invocations, in order, as argument lists (paths relative to the repo root)."""
    base = ["mpremote", "connect", port]
    cps = []
    for m in modules():
        if cps:
            cps.append("+")
        cps += ["cp", "%s/%s.mpy" % (MPY, m), ":lib/microdhcp/%s.mpy" % m]
    files = ["main.py"] if keep_config else ["config.py", "main.py"]
    bf = []
    for f in files:
        if bf:
            bf.append("+")
        bf += ["cp", "boards/%s/%s" % (board, f), ":" + f]
    extra = [base + ["cp", MICRODOT_MPY, ":lib/microdot.mpy"]] if needs_microdot(board) else []
    return [base + ["exec", _PREPARE], base + cps] + extra + [base + bf, base + ["reset"]]


def needs_microdot(board):
    return board.endswith("_captive")


def build_microdot():
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import pylib
    import build_mpy
    src = os.path.join(pylib.ensure(), "microdot", "microdot.py")
    subprocess.run(build_mpy.mpy_cross() + ["-o", os.path.join(ROOT, MICRODOT_MPY), src], check=True, timeout=120)


def main(argv=None):
    ap = argparse.ArgumentParser(description="copy microdhcp and a board's files to a board with mpremote")
    ap.add_argument("--board", required=True, help="one of: " + ", ".join(boards()))
    ap.add_argument("--port", required=True, help="serial port, e.g. /dev/ttyUSB0 or /dev/ttyACM0")
    ap.add_argument("--dry-run", action="store_true", help="print the mpremote commands, run nothing")
    ap.add_argument("--keep-config", action="store_true", help="leave the board's config.py as it is")
    ap.add_argument("--no-build", action="store_true", help="use build/mpy as it is")
    a = ap.parse_args(argv)
    if a.board not in boards():
        ap.error("unknown board %r; choose one of: %s" % (a.board, ", ".join(boards())))
    cmds = commands(a.board, a.port, a.keep_config)
    if a.dry_run:
        for c in cmds:
            print(shlex.join(c))
        return 0
    if not a.no_build:
        sys.path.insert(0, os.path.join(ROOT, "tools"))
        import build_mpy
        build_mpy.build(os.path.join(ROOT, "build", "mpy"))
        if needs_microdot(a.board):
            build_microdot()
    for c in cmds:
        print("+ " + shlex.join(c), flush=True)
        r = subprocess.run(c, cwd=ROOT)
        if r.returncode != 0:
            print("deploy: mpremote failed (exit %d); is the board on %s and no other program "
                  "(screen, Thonny) holding the port?" % (r.returncode, a.port), file=sys.stderr)
            return r.returncode
    print("deploy: done; watch the console with: mpremote connect %s repl" % a.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
