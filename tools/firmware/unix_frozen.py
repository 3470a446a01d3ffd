# Frozen modules of the 32-bit unix build with microdhcp frozen (tools/build_firmware.py).
# The port's own manifest require()s micropython-lib packages that are not vendored: only asyncio
# (a board firmware freezes it too) and the package are listed.
include("$(MPY_DIR)/extmod/asyncio")
include("../../firmware/manifest.py")
# The memory workload (host_tests/mem_dora.py), frozen so that measuring the heap compiles no
# script into it; it is test code, counted apart from the package in every flash figure.
module("mem_dora.py", base_path="../../host_tests")
# The same run through the whole server and its socket (tools/heap_floor.py --target unix-server).
module("mem_serve.py", base_path="../../host_tests")
