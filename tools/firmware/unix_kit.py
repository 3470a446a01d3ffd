# Frozen modules of the 32-bit unix build for the captive-portal kit (tools/build_firmware.py
# --kit): asyncio, microdhcp and microdot, so that tools/kit_memory.py measures the kit's heap
# with its code in "flash" as on a board with a frozen firmware. microdot.py is installed from
# PyPI into build/pylib by tools/pylib.py (build_firmware.py runs it first).
include("$(MPY_DIR)/extmod/asyncio")
include("../../firmware/manifest.py")
module("microdot.py", base_path="../../build/pylib/microdot")
