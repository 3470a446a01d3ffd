# Frozen modules of the 32-bit unix build with microdhcp frozen (tools/build_firmware.py).
# The port's own manifest require()s micropython-lib packages that are not vendored: only asyncio
# (a board firmware freezes it too) and the package are listed.
include("$(MPY_DIR)/extmod/asyncio")
include("../../firmware/manifest.py")
